import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  blockRange,
  initialTransferState,
  lastBlock,
  planTransfer,
  stepTransfer,
  TRANSFER_DEFAULTS,
  wireBlock,
  type TransferAction,
  type TransferEvent,
  type TransferPlan,
  type TransferState,
} from './tftp-transfer.ts';

const plan = (over: Partial<TransferPlan> = {}): TransferPlan => ({
  size: 1000,
  blksize: 512,
  windowsize: 1,
  oack: [],
  initialTimeoutMs: 1000,
  maxTimeoutMs: 8000,
  maxRetries: 5,
  ...over,
});

/** Runs events through the machine, returning each step's actions. */
function run(p: TransferPlan, events: TransferEvent[]): { state: TransferState; steps: TransferAction[][] } {
  let state = initialTransferState(p);
  const steps: TransferAction[][] = [];
  for (const e of events) {
    const r = stepTransfer(state, e);
    state = r.state;
    steps.push(r.actions);
  }
  return { state, steps };
}

const data = (first: number, count: number, retransmit = false): TransferAction => ({ type: 'send-data', first, count, retransmit });
const arm = (delayMs: number): TransferAction => ({ type: 'arm-timer', delayMs });
const ack = (block: number): TransferEvent => ({ type: 'ack', block });
const START: TransferEvent = { type: 'start' };
const TIMEOUT: TransferEvent = { type: 'timeout' };
const DONE: TransferAction[] = [{ type: 'cancel-timer' }, { type: 'finish', status: 'complete' }];

describe('tftp transfer', () => {
  describe('planTransfer', () => {
    const limits = { maxBlksize: 1468, maxWindowsize: 16 };
    it('no options: plain RFC 1350, default timeout', () => {
      const p = planTransfer('octet', [], 1234, limits);
      assert.deepEqual(p, { size: 1234, blksize: 512, windowsize: 1, oack: [], initialTimeoutMs: 1000, maxTimeoutMs: 8000, maxRetries: 5 });
    });
    it('octet: tsize answered with the size, blksize and windowsize capped', () => {
      const p = planTransfer('octet', [['tsize', '0'], ['blksize', '9000'], ['windowsize', '64']], 4194304, limits);
      assert.deepEqual(p.oack, [['blksize', '1468'], ['tsize', '4194304'], ['windowsize', '16']]);
      assert.equal(p.blksize, 1468);
      assert.equal(p.windowsize, 16);
    });
    it('netascii: tsize is not answered (the size on the wire is not the size on disk)', () => {
      const p = planTransfer('netascii', [['tsize', '0'], ['blksize', '1024']], 100, limits);
      assert.deepEqual(p.oack, [['blksize', '1024']]);
    });
    it('a negotiated timeout is the first retransmission delay; the cap is never below it', () => {
      const p = planTransfer('octet', [['timeout', '12']], 1, limits);
      assert.equal(p.initialTimeoutMs, 12000);
      assert.equal(p.maxTimeoutMs, 12000);
      assert.deepEqual(p.oack, [['timeout', '12']]);
    });
    it('server timeouts are configurable', () => {
      const p = planTransfer('octet', [], 1, { ...limits, initialTimeoutMs: 20, maxTimeoutMs: 50, maxRetries: 2 });
      assert.deepEqual([p.initialTimeoutMs, p.maxTimeoutMs, p.maxRetries], [20, 50, 2]);
    });
  });

  describe('block arithmetic', () => {
    const table: [number, number, number][] = [
      // size, blksize, last block
      [0, 512, 1],
      [1, 512, 1],
      [511, 512, 1],
      [512, 512, 2],
      [1000, 512, 2],
      [1024, 512, 3],
      [33554432, 512, 65537],
    ];
    for (const [size, blksize, last] of table) {
      it(`size ${size} blksize ${blksize}: last block ${last}`, () => {
        assert.equal(lastBlock({ size, blksize }), last);
        const final = blockRange({ size, blksize }, last);
        assert.ok(final.length < blksize);
        assert.equal(final.offset + final.length, size);
      });
    }
    it('wire numbers roll over from 65535 to 0', () => {
      assert.deepEqual([65534, 65535, 65536, 65537, 131072].map(wireBlock), [65534, 65535, 0, 1, 0]);
    });
  });

  describe('stepTransfer', () => {
    it('without options: DATA 1 first, then the final short block, then done', () => {
      const { steps, state } = run(plan(), [START, ack(1), ack(2)]);
      assert.deepEqual(steps, [[data(1, 1), arm(1000)], [data(2, 1), arm(1000)], DONE]);
      assert.equal(state.phase, 'done');
    });

    it('a size that is a multiple of blksize ends with a zero-length block', () => {
      const p = plan({ size: 1024 });
      const { steps } = run(p, [START, ack(1), ack(2), ack(3)]);
      assert.deepEqual(steps.slice(2), [[data(3, 1), arm(1000)], DONE]);
      assert.deepEqual(blockRange(p, 3), { offset: 1024, length: 0 });
    });

    it('an empty file is one empty block', () => {
      const { steps } = run(plan({ size: 0 }), [START, ack(1)]);
      assert.deepEqual(steps, [[data(1, 1), arm(1000)], DONE]);
    });

    it('with options: OACK, then DATA after ACK 0', () => {
      const oack = [['tsize', '1000']] as const;
      const { steps } = run(plan({ oack: [...oack] }), [START, ack(0), ack(1), ack(2)]);
      assert.deepEqual(steps, [
        [{ type: 'send-oack', options: [['tsize', '1000']], retransmit: false }, arm(1000)],
        [data(1, 1), arm(1000)],
        [data(2, 1), arm(1000)],
        DONE,
      ]);
    });

    it('during OACK, an ACK other than 0 is ignored', () => {
      const { steps, state } = run(plan({ oack: [['tsize', '1']] }), [START, ack(1), ack(7)]);
      assert.deepEqual(steps.slice(1), [[], []]);
      assert.equal(state.phase, 'oack');
    });

    it('ERROR 8 after the OACK (curl/EDK2 wanted only tsize) ends quietly as aborted-by-client', () => {
      const { steps, state } = run(plan({ oack: [['tsize', '1000']] }), [START, { type: 'error', code: 8, message: 'tsize only' }]);
      assert.deepEqual(steps[1], [{ type: 'cancel-timer' }, { type: 'finish', status: 'aborted-by-client', message: 'client sent ERROR 8: tsize only' }]);
      assert.equal(state.phase, 'done');
      assert.deepEqual(stepTransfer(state, ack(0)).actions, []);
    });

    it('a duplicate ACK never retransmits (no Sorcerer\'s Apprentice)', () => {
      const p = plan({ size: 5000 });
      const { steps } = run(p, [START, ack(1), ack(1), ack(1), ack(2), ack(2)]);
      assert.deepEqual(steps, [[data(1, 1), arm(1000)], [data(2, 1), arm(1000)], [], [], [data(3, 1), arm(1000)], []]);
    });

    it('ACKs for blocks not sent yet, and stale ACKs, are ignored', () => {
      const { steps } = run(plan({ size: 5000 }), [START, ack(5), ack(65535), ack(1)]);
      assert.deepEqual(steps.slice(1), [[], [], [data(2, 1), arm(1000)]]);
    });

    it('timeouts retransmit with doubling delay up to the cap, then give up', () => {
      const p = plan({ size: 5000, maxRetries: 5 });
      const { steps, state } = run(p, [START, TIMEOUT, TIMEOUT, TIMEOUT, TIMEOUT, TIMEOUT, TIMEOUT]);
      assert.deepEqual(steps, [
        [data(1, 1), arm(1000)],
        [data(1, 1, true), arm(2000)],
        [data(1, 1, true), arm(4000)],
        [data(1, 1, true), arm(8000)],
        [data(1, 1, true), arm(8000)],
        [data(1, 1, true), arm(8000)],
        [{ type: 'finish', status: 'timeout', message: 'no answer after 5 retransmissions' }],
      ]);
      assert.equal(state.retransmits, 5);
    });

    it('progress resets the backoff and the retry count', () => {
      const p = plan({ size: 5000, maxRetries: 2 });
      const { steps, state } = run(p, [START, TIMEOUT, TIMEOUT, ack(1), TIMEOUT, TIMEOUT, ack(2)]);
      assert.deepEqual(steps, [
        [data(1, 1), arm(1000)],
        [data(1, 1, true), arm(2000)],
        [data(1, 1, true), arm(4000)],
        [data(2, 1), arm(1000)],
        [data(2, 1, true), arm(2000)],
        [data(2, 1, true), arm(4000)],
        [data(3, 1), arm(1000)],
      ]);
      assert.equal(state.retries, 0);
      assert.equal(state.retransmits, 4);
    });

    it('the OACK is retransmitted on timeout too', () => {
      const { steps } = run(plan({ oack: [['blksize', '512']] }), [START, TIMEOUT]);
      assert.deepEqual(steps[1], [{ type: 'send-oack', options: [['blksize', '512']], retransmit: true }, arm(2000)]);
    });

    it('RFC 7440 windows: whole-window ACK advances, an ACK inside the window restarts after it', () => {
      // 10 blocks of 100 bytes + a short one: blocks 1-11.
      const p = plan({ size: 1050, blksize: 100, windowsize: 4 });
      const { steps } = run(p, [START, ack(4), ack(6), ack(6), ack(10), TIMEOUT, ack(11)]);
      assert.deepEqual(steps, [
        [data(1, 4), arm(1000)],
        [data(5, 4), arm(1000)],
        [data(7, 4), arm(1000)], // the client saw 5 and 6 only
        [], // a duplicate of that ACK
        [data(11, 1), arm(1000)], // the last window is short
        [data(11, 1, true), arm(2000)],
        DONE,
      ]);
    });

    it('a timeout retransmits the whole outstanding window', () => {
      const p = plan({ size: 10_000, blksize: 100, windowsize: 8 });
      const { steps, state } = run(p, [START, TIMEOUT, ack(3), TIMEOUT]);
      assert.deepEqual(steps, [[data(1, 8), arm(1000)], [data(1, 8, true), arm(2000)], [data(4, 8), arm(1000)], [data(4, 8, true), arm(2000)]]);
      assert.equal(state.retransmits, 16);
    });

    it('rolls the block number over past 65535 (a 32 MB file at blksize 512)', () => {
      const p = plan({ size: 65537 * 512 + 3, blksize: 512 });
      let s = initialTransferState(p);
      let acts = stepTransfer(s, START);
      s = acts.state;
      const sentWire: number[] = [];
      while (s.phase !== 'done') {
        const send = acts.actions.find((a) => a.type === 'send-data');
        assert.ok(send && send.type === 'send-data');
        sentWire.push(wireBlock(send.first));
        acts = stepTransfer(s, ack(wireBlock(send.first)));
        s = acts.state;
      }
      assert.equal(sentWire.length, 65538);
      assert.deepEqual(sentWire.slice(65533, 65538), [65534, 65535, 0, 1, 2]);
      assert.equal(s.acked, 65538);
    });

    it('events after the end do nothing', () => {
      const { state } = run(plan(), [START, ack(1), ack(2)]);
      for (const e of [START, ack(2), TIMEOUT, { type: 'error', code: 0, message: '' } as const]) assert.deepEqual(stepTransfer(state, e).actions, []);
    });

    it('defaults are a 1 s first retransmission, doubling to 8 s, 5 retries', () => {
      assert.deepEqual(TRANSFER_DEFAULTS, { initialTimeoutMs: 1000, maxTimeoutMs: 8000, maxRetries: 5 });
    });
  });

  describe('simulated lossy loop (property)', () => {
    /** xorshift32: the loss pattern comes from fast-check's seed, so failures shrink and replay. */
    function rng(seed: number): () => number {
      let x = seed | 0 || 1;
      return () => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>> 0) / 0x100000000;
      };
    }

    type Msg = { to: 'client'; block: number; data: Buffer } | { to: 'client-oack' } | { to: 'server'; event: TransferEvent };

    /**
     * Server machine + an RFC 7440 client over a FIFO link that loses DATA and ACKs and
     * duplicates ACKs. The client ACKs at the end of each window and at the last block,
     * re-ACKs its last block for an old or out-of-order one, and the server's timer fires
     * whenever the link is empty. Returns what the client assembled.
     */
    function simulate(content: Buffer, p: TransferPlan, seed: number, loss: number, dup: number): { got: Buffer; state: TransferState; dupAckSends: number } {
      const random = rng(seed);
      const q: Msg[] = [];
      let s = initialTransferState(p);
      const received: Buffer[] = [];
      let expected = 1; // next absolute block the client wants
      let sinceAck = 0;
      let clientDone = false;
      let dupAckSends = 0;
      let lastAckedWire = -1;

      const clientAck = (block: number): void => {
        const copies = random() < dup ? 2 : 1;
        for (let i = 0; i < copies; i++) if (random() >= loss) q.push({ to: 'server', event: { type: 'ack', block: wireBlock(block) } });
      };
      const serverStep = (e: TransferEvent): void => {
        const before = s;
        const r = stepTransfer(s, e);
        s = r.state;
        if (e.type === 'ack' && before.phase === 'data' && e.block === wireBlock(before.acked)) {
          // The property that matters: a duplicate ACK sends nothing.
          if (r.actions.some((a) => a.type === 'send-data')) {
            dupAckSends++;
            // Fail at once: a machine that answers duplicates would flood the simulation.
            throw new Error(`a duplicate ACK ${e.block} made the server send DATA`);
          }
        }
        for (const a of r.actions) {
          if (a.type === 'send-oack') {
            if (random() >= loss) q.push({ to: 'client-oack' });
          } else if (a.type === 'send-data') {
            for (let n = a.first; n < a.first + a.count; n++) {
              const { offset, length } = blockRange(p, n);
              if (random() >= loss) q.push({ to: 'client', block: wireBlock(n), data: content.subarray(offset, offset + length) });
            }
          }
        }
      };

      serverStep({ type: 'start' });
      let guard = 0;
      while (s.phase !== 'done') {
        if (++guard > 5_000_000) throw new Error('simulation does not terminate');
        const m = q.shift();
        if (!m) {
          // The link is idle: maybe the client's timer re-ACKs, then the server's timer fires.
          if (random() < 0.5 && lastAckedWire >= 0) clientAck(lastAckedWire);
          else serverStep({ type: 'timeout' });
          continue;
        }
        if (m.to === 'server') {
          serverStep(m.event);
          continue;
        }
        if (m.to === 'client-oack') {
          if (expected === 1) {
            lastAckedWire = 0;
            clientAck(0);
          }
          continue;
        }
        const ahead = (m.block - wireBlock(expected) + 65536) % 65536;
        if (ahead === 0 && !clientDone) {
          received.push(m.data);
          expected++;
          sinceAck++;
          if (m.data.length < p.blksize) {
            clientDone = true;
            sinceAck = 0;
            lastAckedWire = wireBlock(expected - 1);
            clientAck(expected - 1);
          } else if (sinceAck === p.windowsize) {
            sinceAck = 0;
            lastAckedWire = wireBlock(expected - 1);
            clientAck(expected - 1);
          }
        } else {
          // Old, duplicate or beyond a gap: tell the server where we are.
          sinceAck = 0;
          if (expected > 1 || p.oack.length > 0) {
            lastAckedWire = wireBlock(expected - 1);
            clientAck(expected - 1);
          }
        }
      }
      return { got: Buffer.concat(received), state: s, dupAckSends };
    }

    it('the client reassembles the exact bytes for any size, blksize, windowsize and loss', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 20_000 }),
          fc.integer({ min: 8, max: 1024 }),
          fc.integer({ min: 1, max: 16 }),
          fc.boolean(),
          fc.integer(),
          fc.double({ min: 0, max: 0.3, noNaN: true }),
          fc.double({ min: 0, max: 0.3, noNaN: true }),
          (size, blksize, windowsize, withOack, seed, loss, dup) => {
            const content = Buffer.alloc(size);
            for (let i = 0; i < size; i++) content[i] = (i * 131 + (i >> 8)) & 0xff;
            const p = plan({ size, blksize, windowsize, oack: withOack ? [['tsize', String(size)]] : [], maxRetries: 1_000_000 });
            const { got, state, dupAckSends } = simulate(content, p, seed, loss, dup);
            assert.equal(state.phase, 'done');
            assert.equal(state.acked, lastBlock(p));
            assert.equal(dupAckSends, 0);
            assert.ok(got.equals(content), `size ${size}: got ${got.length} bytes`);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('survives rollover with windows and loss (blksize 8, 66000 blocks)', () => {
      const size = 8 * 66_000 + 5;
      const content = Buffer.alloc(size);
      for (let i = 0; i < size; i++) content[i] = (i * 7 + (i >> 16)) & 0xff;
      const p = plan({ size, blksize: 8, windowsize: 7, maxRetries: 1_000_000 });
      const { got, dupAckSends } = simulate(content, p, 12345, 0.05, 0.05);
      assert.equal(dupAckSends, 0);
      assert.ok(got.equals(content));
    });
  });
});
