import assert from 'node:assert/strict';
import { DecodeError } from '../../lib/errors.ts';
import type { TcpFlags, TcpSegment } from '../../provisioner/protocol/tcp.ts';
import { HTTP_MAX_CONNECTIONS, HTTP_STALL_SECONDS, HttpExchanges, summarizeHttp } from './http-exchanges.ts';

const C = '10.0.0.51';
const S = '10.0.0.1';
const CMAC = '52:54:00:12:34:01';
const SMAC = '52:54:00:00:00:01';

function segment(srcPort: number, dstPort: number, seq: number, flags: Partial<TcpFlags>, payload: Buffer): TcpSegment {
  return {
    srcPort, dstPort, seq: seq >>> 0, ack: 0, window: 65535, urgent: 0, options: Buffer.alloc(0), payload, checksumOk: null,
    flags: { fin: false, syn: false, rst: false, psh: false, ack: true, urg: false, ece: false, cwr: false, ...flags },
  };
}

/** One TCP connection, both sides, with sequence numbers kept like a real stack. */
class Conn {
  cseq: number;
  sseq: number;
  results: boolean[] = [];
  constructor(readonly h: HttpExchanges, readonly clock: { frame: number; ns: bigint }, readonly cport = 40000, readonly sport = 80, isn = 1000) {
    this.cseq = isn;
    this.sseq = 0xfffff000 + isn; // wraps during the test
  }
  private send(fromClient: boolean, flags: Partial<TcpFlags>, payload: Buffer | string, o: { seq?: number; wire?: number } = {}): number {
    const data = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
    this.clock.frame++;
    this.clock.ns += 1_000_000n;
    const seq = o.seq ?? (fromClient ? this.cseq : this.sseq);
    const seg = fromClient ? segment(this.cport, this.sport, seq, flags, data) : segment(this.sport, this.cport, seq, flags, data);
    const wire = o.wire ?? data.length;
    this.results.push(this.h.segment(this.clock.frame, this.clock.ns, fromClient ? C : S, fromClient ? S : C, fromClient ? CMAC : SMAC, fromClient ? SMAC : CMAC, seg, wire));
    if (o.seq === undefined) {
      const advance = wire + (flags.syn || flags.fin ? 1 : 0);
      if (fromClient) this.cseq = (this.cseq + advance) >>> 0;
      else this.sseq = (this.sseq + advance) >>> 0;
    }
    return this.clock.frame;
  }
  c(payload: Buffer | string = '', flags: Partial<TcpFlags> = {}, o: { seq?: number; wire?: number } = {}): number {
    return this.send(true, flags, payload, o);
  }
  s(payload: Buffer | string = '', flags: Partial<TcpFlags> = {}, o: { seq?: number; wire?: number } = {}): number {
    return this.send(false, flags, payload, o);
  }
  open(): this {
    this.c('', { syn: true, ack: false });
    this.s('', { syn: true });
    this.c();
    return this;
  }
  close(): void {
    this.s('', { fin: true });
    this.c('', { fin: true });
    this.s();
  }
}

class World {
  readonly h = new HttpExchanges((ip, mac) => mac || `ip:${ip}`);
  readonly clock = { frame: 0, ns: 0n };
  private port = 40000;
  conn(o: { sport?: number } = {}): Conn {
    return new Conn(this.h, this.clock, this.port++, o.sport ?? 80);
  }
  report(extraSeconds = 0) {
    return this.h.report(0n, this.clock.ns + BigInt(extraSeconds) * 1_000_000_000n);
  }
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: ${S}\r\n${extra}\r\n`;
const ok = (length: number, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n${extra}\r\n`;

describe('http-exchanges', () => {
  it('follows a GET with a Content-Length body to its end', () => {
    const w = new World();
    const c = w.conn().open();
    const req = c.c(get('/cblr/links/debian12-x86_64/linux'));
    const res = c.s(ok(3000) + 'x'.repeat(1000));
    c.s(Buffer.alloc(1460));
    const last = c.s(Buffer.alloc(540));
    c.close();
    const [r] = w.report();
    assert.ok(r);
    assert.equal(r.method, 'GET');
    assert.equal(r.url, 'http://10.0.0.1/cblr/links/debian12-x86_64/linux');
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.contentLength, 3000);
    assert.equal(r.bodyBytes, 3000);
    assert.equal(r.result, 'complete');
    assert.equal(r.requestFrame, req);
    assert.equal(r.responseFrame, res);
    assert.equal(r.lastFrame, last);
    assert.equal(r.role, 'kernel');
    assert.equal(r.distro, 'debian12-x86_64');
    assert.equal(r.mac, CMAC);
    assert.deepEqual(c.results.slice(3), [true, true, true, true, false, false, false]);
  });

  it('reads heads split across segments', () => {
    const w = new World();
    const c = w.conn().open();
    const head = get('/cblr/svc/op/ipxe/mac/52:54:00:12:34:01');
    c.c(head.slice(0, 5));
    c.c(head.slice(5, 30));
    c.c(head.slice(30));
    const resp = ok(4) + 'boot';
    c.s(resp.slice(0, 10));
    c.s(resp.slice(10, 36));
    c.s(resp.slice(36));
    const [r] = w.report();
    assert.equal(r?.target, '/cblr/svc/op/ipxe/mac/52:54:00:12:34:01');
    assert.equal(r?.status, 200);
    assert.equal(r?.bodyBytes, 4);
    assert.equal(r?.result, 'complete');
    assert.equal(r?.role, 'ipxe-script');
  });

  it('matches pipelined responses to requests in order', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/a/linux') + get('/a/initrd.gz') + `HEAD /a/x HTTP/1.1\r\nHost: h\r\n\r\n`);
    c.s(ok(5) + 'AAAAA' + ok(3).replace('200 OK', '200 OK') + 'BB');
    c.s('B' + `HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n`);
    const r = w.report();
    assert.deepEqual(r.map((x) => [x.target, x.status, x.bodyBytes, x.result]), [
      ['/a/linux', 200, 5, 'complete'], ['/a/initrd.gz', 200, 3, 'complete'], ['/a/x', 200, 0, 'complete'],
    ]);
    assert.deepEqual(r.map((x) => x.role), ['kernel', 'initrd', 'other']);
  });

  it('counts a retransmitted segment once, and an overlapping one by its new bytes', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/f'));
    const headSeq = c.sseq;
    c.s(ok(3000));
    const bodySeq = c.sseq;
    c.s(Buffer.alloc(1000));
    c.s(Buffer.alloc(1000), {}, { seq: bodySeq }); // the same segment again
    c.s(Buffer.alloc(1500), {}, { seq: bodySeq + 500 }); // 500 old bytes, 1000 new
    c.sseq = bodySeq + 2000;
    c.s(ok(3000), {}, { seq: headSeq }); // a very late copy of the head
    c.s(Buffer.alloc(1000));
    const [r] = w.report();
    assert.equal(r?.bodyBytes, 3000);
    assert.equal(r?.result, 'complete');
    assert.equal(r?.retransmittedBytes, 1000 + 500 + ok(3000).length);
  });

  it('puts segments that arrive out of order back in order', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/f'));
    c.s(ok(2000));
    const first = c.sseq;
    c.s(Buffer.alloc(1000), {}, { seq: first + 1000 });
    assert.equal(w.report()[0]?.bodyBytes, 0);
    c.s(Buffer.alloc(1000), {}, { seq: first });
    const [r] = w.report();
    assert.equal(r?.bodyBytes, 2000);
    assert.equal(r?.result, 'complete');
  });

  it('out-of-order segments beyond what is held: the gap counts as missing body, nothing crashes', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/f'));
    c.s(ok(100_000));
    const first = c.sseq;
    // 40 segments of 1000 bytes arrive, the first one never does.
    for (let i = 39; i >= 1; i--) c.s(Buffer.alloc(1000), {}, { seq: first + i * 1000 });
    c.sseq = first + 40_000;
    c.s(Buffer.alloc(60_000));
    const [r] = w.report();
    assert.equal(r?.bodyBytes, 100_000);
    assert.equal(r?.result, 'complete');
  });

  it('without Content-Length the body runs until the server closes', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/preseed.cfg'));
    c.s('HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nabc');
    c.s(Buffer.alloc(997));
    assert.equal(w.report()[0]?.result, 'in-progress');
    c.close();
    const [r] = w.report();
    assert.equal(r?.bodyBytes, 1000);
    assert.equal(r?.result, 'complete');
    assert.equal(r?.role, 'autoinstall');
  });

  it('counts a chunked body by its chunks, framing split anywhere', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/cblr/svc/op/autoinstall/system/node1/token/abc'));
    const body = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1a\r\n${'z'.repeat(26)}\r\n0\r\nX-Trailer: 1\r\n\r\n`;
    for (let i = 0; i < body.length; i += 7) c.s(body.slice(i, i + 7));
    c.c(get('/next'));
    c.s(ok(0));
    const r = w.report();
    assert.equal(r[0]?.chunked, true);
    assert.equal(r[0]?.bodyBytes, 31);
    assert.equal(r[0]?.result, 'complete');
    assert.equal(r[0]?.target, '/cblr/svc/op/autoinstall/system/node1/token/***');
    assert.equal(r[1]?.result, 'complete');
  });

  it('a reset in the middle of a body', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/k/vmlinuz'));
    c.s(ok(10_000) + 'x'.repeat(100));
    c.s('', { rst: true });
    const [r] = w.report();
    assert.equal(r?.result, 'reset');
    assert.equal(r?.bodyBytes, 100);
    assert.match(summarizeHttp(r!), /100 B of 10\.0 kB/);
  });

  it('no response: the server closes, or the capture goes on', () => {
    const w = new World();
    const a = w.conn().open();
    a.c(get('/one'));
    a.close();
    const b = w.conn().open();
    b.c(get('/two'));
    let r = w.report();
    assert.deepEqual(r.map((x) => x.result), ['no-response', 'in-progress']);
    r = w.report(HTTP_STALL_SECONDS);
    assert.deepEqual(r.map((x) => x.result), ['no-response', 'no-response']);
  });

  it('a head that never ends within 16 KiB is one decode problem, then the stream is dropped', () => {
    const w = new World();
    const c = w.conn().open();
    const problems: unknown[] = [];
    c.c(`GET /x HTTP/1.1\r\nX: ${'a'.repeat(1000)}`);
    for (let i = 0; i < 40; i++) {
      c.c('b'.repeat(1000));
      problems.push(...w.h.events.problems.map((p) => p.error));
    }
    assert.equal(problems.length, 1);
    assert.deepEqual(w.report(), [], 'no exchange from a head that never ended');
    assert.ok(c.results.slice(3).every((x) => x === false));
  });

  it('reports the too-long head with its code', () => {
    const w = new World();
    const c = w.conn().open();
    const codes: string[] = [];
    c.c(`GET /x HTTP/1.1\r\nX: `);
    for (let i = 0; i < 20 && codes.length === 0; i++) {
      c.c('b'.repeat(1000));
      for (const p of w.h.events.problems) codes.push(p.error instanceof DecodeError ? p.error.code : String(p.error));
    }
    assert.deepEqual(codes, ['HTTP_HEAD_TOO_LONG']);
  });

  it('does not follow a stream that is not HTTP', () => {
    const w = new World();
    const c = w.conn({ sport: 443 }).open();
    c.c(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    c.s(Buffer.alloc(5000, 0x17));
    c.close();
    assert.deepEqual(w.report(), []);
    assert.ok(c.results.every((x) => x === false));
  });

  it('HEAD, 204 and 304 have no body; 100 Continue is not the response', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(`HEAD /k HTTP/1.1\r\nHost: h\r\n\r\n`);
    c.s(`HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n`);
    c.c(`POST /api/v1/hypervisors HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n`);
    c.s(`HTTP/1.1 100 Continue\r\n\r\n`);
    c.c('{"a"');
    c.s(`HTTP/1.1 204 No Content\r\n\r\n`);
    c.c(get('/c'));
    c.s(`HTTP/1.1 304 Not Modified\r\n\r\n`);
    const r = w.report();
    assert.deepEqual(r.map((x) => [x.method, x.status, x.bodyBytes, x.requestBodyBytes, x.result]), [
      ['HEAD', 200, 0, 0, 'complete'], ['POST', 204, 0, 4, 'complete'], ['GET', 304, 0, 0, 'complete'],
    ]);
    assert.equal(r[1]?.role, 'registration');
  });

  it('a capture that starts in the middle: a response without its request, a body without its head', () => {
    const w = new World();
    const c = w.conn();
    c.s(Buffer.alloc(1000, 0x41)); // mid-body: not followed
    assert.deepEqual(w.report(), []);
    c.s(ok(2) + 'hi');
    const [r] = w.report();
    assert.equal(r?.method, null);
    assert.equal(r?.status, 200);
    assert.equal(r?.result, 'complete');
    assert.equal(r?.mac, CMAC);
    assert.match(summarizeHttp(r!), /^HTTP response on 10\.0\.0\.51:40000 → 10\.0\.0\.1:80 → 200 OK/);
  });

  it('counts body bytes the capture cut off from the wire length', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/f'));
    c.s(ok(4000));
    c.s(Buffer.alloc(68), {}, { wire: 1460 });
    c.sseq = (c.sseq + 1392) >>> 0;
    c.s(Buffer.alloc(68), {}, { wire: 2540 });
    c.sseq = (c.sseq + 2472) >>> 0;
    const [r] = w.report();
    assert.equal(r?.bodyBytes, 4000);
    assert.equal(r?.result, 'complete');
  });

  it('keeps at most HTTP_MAX_CONNECTIONS connections; the oldest is dropped', () => {
    const w = new World();
    for (let i = 0; i <= HTTP_MAX_CONNECTIONS; i++) {
      const c = w.conn();
      c.c('', { syn: true, ack: false });
    }
    const c = w.conn().open();
    c.c(get('/x'));
    c.s(ok(0));
    assert.equal(w.report()[0]?.result, 'complete');
  });

  it('sequence numbers that wrap past 2^32 are followed', () => {
    const w = new World();
    const c = w.conn().open();
    c.c(get('/f'));
    c.s(ok(10_000));
    for (let i = 0; i < 10; i++) c.s(Buffer.alloc(1000));
    assert.ok(c.sseq < 0x10000, 'the server sequence wrapped');
    assert.equal(w.report()[0]?.bodyBytes, 10_000);
  });
});
