// Injected time and randomness, so that decisions stay deterministic in tests.
import { randomBytes } from 'node:crypto';

export interface Clock {
  /** Seconds since the epoch, with fractions (Cobbler's ctime/mtime are floats). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() / 1000 };

export class ManualClock implements Clock {
  constructor(private t = 1_700_000_000) {}
  now(): number { return this.t; }
  advance(seconds: number): void { this.t += seconds; }
}

export interface Random {
  bytes(n: number): Buffer;
}

export const cryptoRandom: Random = { bytes: (n) => randomBytes(n) };

/** Deterministic bytes for tests (xorshift32). */
export class SeededRandom implements Random {
  constructor(private state = 0x2545f491) {}
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      let x = this.state;
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      this.state = x >>> 0;
      out[i] = this.state & 0xff;
    }
    return out;
  }
}
