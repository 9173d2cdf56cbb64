import assert from 'node:assert/strict';
import { decodeTcp, encodeTcp, seqAdd, type TcpFlags, type TcpSegment } from '../../provisioner/protocol/tcp.ts';
import { TcpClient, type TcpClientOptions, type TcpStep } from './tcp-client.ts';

const CLIENT = '10.0.0.100';
const SERVER = '10.0.0.1';
const ISN = 0xfffffff0; // wraps during the connection
const SISN = 0x10000000;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n');

/** The client's segments as the server decodes them. */
function sent(step: TcpStep): TcpSegment[] {
  return step.send.map((o) => decodeTcp(encodeTcp({ srcPort: 50000, dstPort: 80, ...o }, CLIENT, SERVER), CLIENT, SERVER));
}

/** A server segment as the client decodes it. */
function from(seq: number, ack: number, flags: Partial<TcpFlags>, payload?: string | Buffer, mss?: number): TcpSegment {
  return decodeTcp(encodeTcp({
    srcPort: 80, dstPort: 50000, seq, ack, flags, window: 29200,
    ...(payload !== undefined ? { payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload) } : {}),
    ...(mss !== undefined ? { mss } : {}),
  }, SERVER, CLIENT), SERVER, CLIENT);
}

function connect(o: Partial<TcpClientOptions> = {}): { c: TcpClient; request: TcpSegment[] } {
  const c = new TcpClient({ isn: ISN, rtoMs: 1000, retries: 3, idleMs: 8000, request: REQUEST, ...o });
  c.start();
  const step = c.receive(from(SISN, seqAdd(ISN, 1), { syn: true, ack: true }, undefined, 1460));
  return { c, request: sent(step) };
}

const text = (step: TcpStep): string => Buffer.concat(step.data).toString();

describe('TcpClient (one HTTP connection)', () => {
  it('opens with a SYN carrying MSS 1460 and a 65535-byte window, without window scaling', () => {
    const c = new TcpClient({ isn: ISN, rtoMs: 1000, retries: 3, idleMs: 8000, request: REQUEST });
    const step = c.start();
    const [syn] = sent(step);
    assert.equal(syn!.flags.syn, true);
    assert.equal(syn!.flags.ack, false);
    assert.equal(syn!.seq, ISN);
    assert.equal(syn!.mss, 1460);
    assert.equal(syn!.window, 65535);
    assert.equal(syn!.windowScale, undefined);
    assert.equal(syn!.checksumOk, true);
    assert.equal(step.waitMs, 1000);
  });

  it('sends the request with the ACK of the SYN-ACK', () => {
    const { request } = connect();
    assert.equal(request.length, 1);
    assert.equal(request[0]!.seq, seqAdd(ISN, 1));
    assert.equal(request[0]!.ack, SISN + 1);
    assert.equal(request[0]!.flags.ack, true);
    assert.equal(request[0]!.flags.psh, true);
    assert.deepEqual(request[0]!.payload, REQUEST);
  });

  it('cuts the request to the server MSS', () => {
    const c = new TcpClient({ isn: 1, rtoMs: 1000, retries: 3, idleMs: 8000, request: Buffer.alloc(1200, 65) });
    c.start();
    const segs = sent(c.receive(from(SISN, 2, { syn: true, ack: true }, undefined, 536)));
    assert.deepEqual(segs.map((s) => s.payload.length), [536, 536, 128]);
    assert.deepEqual(segs.map((s) => s.seq), [2, 538, 1074]);
  });

  it('takes in-order data, ACKs it cumulatively, and closes after the server FIN', () => {
    const { c } = connect();
    const after = seqAdd(ISN, 1 + REQUEST.length);
    const a = c.receive(from(SISN + 1, after, { ack: true }, 'HTTP/1.1 200 OK\r\n'));
    assert.equal(text(a), 'HTTP/1.1 200 OK\r\n');
    assert.equal(sent(a)[0]!.ack, SISN + 1 + 17);
    const b = c.receive(from(SISN + 18, after, { ack: true, fin: true }, 'body'));
    assert.equal(text(b), 'body');
    assert.equal(b.eof, true);
    const [fin] = sent(b);
    assert.equal(fin!.flags.fin, true, 'our FIN goes with the ACK of theirs');
    assert.equal(fin!.seq, after);
    assert.equal(fin!.ack, SISN + 18 + 4 + 1);
    const last = c.receive(from(SISN + 23, seqAdd(after, 1), { ack: true }));
    assert.equal(last.closed, true);
    assert.equal(last.failed, undefined);
    assert.equal(c.phase, 'closed');
  });

  it('drops an out-of-order segment with a duplicate ACK, then takes the retransmission', () => {
    const { c } = connect();
    const after = seqAdd(ISN, 1 + REQUEST.length);
    const early = c.receive(from(SISN + 1 + 5, after, { ack: true }, 'world'));
    assert.equal(early.data.length, 0, 'nothing delivered past a hole');
    assert.equal(sent(early)[0]!.ack, SISN + 1, 'a duplicate ACK for the first missing byte');
    assert.equal(text(c.receive(from(SISN + 1, after, { ack: true }, 'hello'))), 'hello');
    const again = c.receive(from(SISN + 6, after, { ack: true }, 'world'));
    assert.equal(text(again), 'world');
    assert.equal(sent(again)[0]!.ack, SISN + 11);
  });

  it('re-ACKs a segment it already has and takes only the new part of an overlap', () => {
    const { c } = connect();
    const after = seqAdd(ISN, 1 + REQUEST.length);
    c.receive(from(SISN + 1, after, { ack: true }, 'abcd'));
    const dup = c.receive(from(SISN + 1, after, { ack: true }, 'abcd'));
    assert.equal(dup.data.length, 0);
    assert.equal(sent(dup)[0]!.ack, SISN + 5);
    assert.equal(text(c.receive(from(SISN + 3, after, { ack: true }, 'cdef'))), 'ef');
  });

  it('fails on a RST with "connection reset", and on a RST to its SYN with "connection refused"', () => {
    const { c } = connect();
    const r = c.receive(from(SISN + 1, 0, { rst: true }));
    assert.equal(r.failed, 'connection reset by peer (RST)');
    assert.equal(r.closed, true);

    const c2 = new TcpClient({ isn: ISN, rtoMs: 1000, retries: 3, idleMs: 8000, request: REQUEST });
    c2.start();
    assert.equal(c2.receive(from(0, seqAdd(ISN, 1), { rst: true, ack: true })).failed, 'connection refused (RST)');
  });

  it('ignores a RST outside its receive window', () => {
    const { c } = connect();
    assert.equal(c.receive(from(SISN + 1 + 70_000, 0, { rst: true })).failed, undefined);
    assert.equal(c.phase, 'established');
  });

  it('retransmits the SYN with exponential backoff and fails after its retries', () => {
    const c = new TcpClient({ isn: ISN, rtoMs: 1000, retries: 3, idleMs: 8000, request: REQUEST });
    c.start();
    const waits: number[] = [];
    let step: TcpStep;
    for (;;) {
      step = c.timeout();
      if (step.failed) break;
      assert.equal(sent(step)[0]!.flags.syn, true);
      waits.push(step.waitMs!);
    }
    assert.deepEqual(waits, [2000, 4000, 8000]);
    assert.equal(step.failed, 'SYN not acknowledged after 3 retransmissions');
  });

  it('retransmits an unacknowledged request, then waits for data with the idle timer', () => {
    const { c } = connect();
    const re = c.timeout();
    const segs = sent(re);
    assert.equal(segs.length, 1);
    assert.equal(segs[0]!.seq, seqAdd(ISN, 1));
    assert.deepEqual(segs[0]!.payload, REQUEST);
    assert.equal(re.waitMs, 2000);
    const acked = c.receive(from(SISN + 1, seqAdd(ISN, 1 + REQUEST.length), { ack: true }));
    assert.equal(acked.waitMs, 8000, 'nothing outstanding: the idle limit');
    assert.equal(c.timeout().failed, 'no data from the server for 8000 ms');
  });

  it('answers a repeated SYN-ACK (our ACK was lost) with an ACK', () => {
    const { c } = connect();
    const [ack] = sent(c.receive(from(SISN, seqAdd(ISN, 1), { syn: true, ack: true }, undefined, 1460)));
    assert.equal(ack!.flags.ack, true);
    assert.equal(ack!.flags.syn, false);
    assert.equal(ack!.ack, SISN + 1);
  });

  it('resets a SYN-ACK that does not acknowledge its SYN', () => {
    const c = new TcpClient({ isn: ISN, rtoMs: 1000, retries: 3, idleMs: 8000, request: REQUEST });
    c.start();
    const [rst] = sent(c.receive(from(SISN, 12345, { syn: true, ack: true })));
    assert.equal(rst!.flags.rst, true);
    assert.equal(rst!.seq, 12345);
    assert.equal(c.phase, 'syn-sent');
  });

  it('closes first when asked, and finishes on the server FIN after its ACK', () => {
    const { c } = connect();
    const after = seqAdd(ISN, 1 + REQUEST.length);
    c.receive(from(SISN + 1, after, { ack: true }, 'all'));
    const [fin] = sent(c.close());
    assert.equal(fin!.flags.fin, true);
    assert.equal(fin!.seq, after);
    c.receive(from(SISN + 4, seqAdd(after, 1), { ack: true }));
    assert.equal(c.phase, 'fin-wait-2');
    const end = c.receive(from(SISN + 4, seqAdd(after, 1), { ack: true, fin: true }));
    assert.equal(end.closed, true);
    assert.equal(sent(end)[0]!.ack, SISN + 5);
  });

  it('retransmits its FIN when the last ACK is lost', () => {
    const { c } = connect();
    const after = seqAdd(ISN, 1 + REQUEST.length);
    c.receive(from(SISN + 1, after, { ack: true, fin: true }));
    assert.equal(c.phase, 'last-ack');
    const re = sent(c.timeout());
    assert.equal(re.length, 1);
    assert.equal(re[0]!.flags.fin, true);
    assert.equal(re[0]!.seq, after);
  });
});
