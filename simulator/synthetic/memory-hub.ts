// An in-memory hub for tests: FramePorts that deliver every frame to every member (the sender
// included, as multicast loopback does), after a latency on an injected clock, with optional
// loss and duplication. Lets the synthetic nodes and a fake server run in virtual time.
import type { FramePort, FramePortStats } from '../hub-port.ts';
import type { SyntheticClock } from './clock.ts';

export interface MemoryHubOptions {
  latencyMs?: number;
  /** Frames for which this returns true are lost; `n` counts every frame sent on the hub from 1. */
  drop?: (frame: Buffer, n: number) => boolean;
  /** Frames for which this returns true are delivered twice. */
  duplicate?: (frame: Buffer, n: number) => boolean;
}

export class MemoryHub {
  private readonly members: Array<{ receivers: Array<(f: Buffer) => void>; stats: FramePortStats; open: boolean }> = [];
  private n = 0;
  /** Every frame sent, in order, lost ones included. */
  readonly log: Buffer[] = [];
  dropped = 0;

  constructor(private readonly clock: SyntheticClock, private readonly o: MemoryHubOptions = {}) {}

  port(): FramePort {
    const member = { receivers: [] as Array<(f: Buffer) => void>, stats: { sent: 0, received: 0, sendErrors: 0 }, open: true };
    this.members.push(member);
    return {
      send: (frame) => {
        if (!member.open) {
          member.stats.sendErrors++;
          return;
        }
        member.stats.sent++;
        this.broadcast(Buffer.from(frame));
      },
      onFrame: (cb) => { member.receivers.push(cb); },
      close: async () => { member.open = false; },
      stats: member.stats,
    };
  }

  private broadcast(frame: Buffer): void {
    const n = ++this.n;
    this.log.push(frame);
    if (this.o.drop?.(frame, n)) {
      this.dropped++;
      return;
    }
    const copies = this.o.duplicate?.(frame, n) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      this.clock.setTimer(this.o.latencyMs ?? 1, () => {
        for (const m of this.members) {
          if (!m.open) continue;
          m.stats.received++;
          for (const r of m.receivers) r(frame);
        }
      });
    }
  }
}
