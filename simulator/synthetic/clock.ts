// Time for the synthetic nodes: milliseconds and one-shot timers, injected so that tests run
// a whole boot (retransmissions and multi-second backoffs included) in virtual time.
// lib/clock.ts has no timers and counts seconds, hence this narrower, millisecond seam.

export interface SyntheticClock {
  /** Milliseconds; only differences and event stamps are read from it. */
  now(): number;
  /** Calls fn once, after ms; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const realClock: SyntheticClock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Virtual time: timers run in (due time, creation) order when the test advances the clock.
 * A binary heap keeps hundreds of nodes' timers cheap.
 */
export class VirtualClock implements SyntheticClock {
  private t: number;
  private seq = 0;
  private heap: VirtualTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: VirtualTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return () => { timer.cancelled = true; };
  }

  /** Runs the next due timer, advancing time to it; false when none is left. */
  step(limit = Infinity): boolean {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > limit) return false;
      this.pop();
      if (top.cancelled) continue;
      this.t = Math.max(this.t, top.at);
      top.fn();
      return true;
    }
  }

  /**
   * Runs timers until `until()` holds, no timer is left, or virtual time would pass `maxMs`
   * from now. Yields to the event loop between timers so that promise chains (the boot flow
   * awaits its transfers) make progress in between. Resolves whether `until()` held.
   */
  async run(until: () => boolean, maxMs = 3_600_000): Promise<boolean> {
    const limit = this.t + maxMs;
    for (;;) {
      await drainMicrotasks();
      if (until()) return true;
      if (!this.step(limit)) {
        await drainMicrotasks();
        return until();
      }
    }
  }

  private push(x: VirtualTimer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * One re-armable deadline over one underlying timer. Transfers re-arm their timeout on every
 * packet; moving a deadline later only records it, so a 500-node storm does not create and
 * cancel a timer per frame.
 */
export class Deadline {
  private due = Infinity;
  private firesAt = Infinity;
  private cancelTimer: (() => void) | undefined;

  constructor(private readonly clock: SyntheticClock, private readonly onExpire: () => void) {}

  arm(ms: number): void {
    this.due = this.clock.now() + ms;
    if (this.cancelTimer && this.firesAt <= this.due) return;
    this.schedule(ms);
  }

  cancel(): void {
    this.due = Infinity;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.firesAt = Infinity;
  }

  get armed(): boolean {
    return this.due !== Infinity;
  }

  private schedule(ms: number): void {
    this.cancelTimer?.();
    this.firesAt = this.clock.now() + ms;
    this.cancelTimer = this.clock.setTimer(ms, () => this.fire());
  }

  private fire(): void {
    this.cancelTimer = undefined;
    this.firesAt = Infinity;
    if (this.due === Infinity) return;
    const left = this.due - this.clock.now();
    if (left > 0) {
      this.schedule(left);
      return;
    }
    this.due = Infinity;
    this.onExpire();
  }
}

/** A uniformly random unsigned 32-bit integer from an injected byte source. */
export function randomU32(random: { bytes(n: number): Buffer }): number {
  return random.bytes(4).readUInt32BE(0);
}
