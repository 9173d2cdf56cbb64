// HTTP/1.x exchanges followed through TCP, as far as a boot needs: request heads from the
// client side, response heads from the server side, matched in order (pipelining-safe), and
// body lengths counted in TCP sequence space (Content-Length, chunked framing, or until the
// server closes). Bodies are never buffered: on the bulk path a segment costs a lookup and a
// few additions. Only an unfinished head is buffered (up to HTTP_MAX_HEAD_BYTES, beyond which
// it is a decode problem), plus a few out-of-order segments per direction; a retransmitted
// segment (same sequence space) is counted once.
import { decodeHttpHead, httpContentLength, httpHeader, startsLikeHttp, type HttpHead } from '../../provisioner/protocol/http1.ts';
import type { TcpSegment } from '../../provisioner/protocol/tcp.ts';
import { redactTokens } from '../../provisioner/boot/svc-urls.ts';
import { classifyBootPath, ROLE_NAMES, type BootArtifact } from './boot-artifacts.ts';
import type { HttpExchangeReport, HttpResult } from './capture-report.ts';
import { durationSeconds, secondsSince } from './packet-decoding.ts';
import { formatBytes, formatRate, formatSeconds } from './summary-text.ts';

/** An exchange with no packet for this long while the capture goes on is not coming back. */
export const HTTP_STALL_SECONDS = 10;
const STALL_NS = BigInt(HTTP_STALL_SECONDS) * 1_000_000_000n;
/** Connections followed at once; the oldest is dropped beyond this (its exchanges keep their summaries). */
export const HTTP_MAX_CONNECTIONS = 4096;
/** Out-of-order segments held per direction, and their bytes, before the gap is given up on. */
const HOLD_SEGMENTS = 16;
const HOLD_BYTES = 64 * 1024;
const CHUNK_LINE_LIMIT = 1024;

type Mode = 'head' | 'body' | 'chunked' | 'close' | 'resync' | 'ignore';
type Phase = 'request' | 'response' | 'complete' | 'incomplete' | 'reset' | 'no-response';

/** An exchange being followed: the report's fields as they stand, plus what following needs. */
export interface HttpExchangeState extends Pick<HttpExchangeReport,
  'mac' | 'clientIp' | 'clientPort' | 'serverIp' | 'serverPort' | 'method' | 'target' | 'host' | 'status' | 'reason'
  | 'contentLength' | 'chunked' | 'bodyBytes' | 'requestBodyBytes' | 'retransmittedBytes'> {
  phase: Phase;
  firstNs: bigint;
  lastNs: bigint;
  requestFrame: number;
  responseFrame: number;
  lastFrame: number;
  /** The frame that finished it; 0 while open. */
  endFrame: number;
  artifact: BootArtifact;
}

interface Held {
  seq: number;
  data: Buffer;
}

interface Direction {
  /** Next expected sequence number; -1 before the first segment. */
  nextSeq: number;
  mode: Mode;
  /** body: bytes left; chunked data: bytes left in the chunk. */
  remaining: number;
  /** An unfinished head (a copy). */
  head: Buffer | null;
  /** chunked: 0 size line, 1 data, 2 CRLF after data, 3 trailer lines. */
  chunkPhase: number;
  chunkLine: string;
  fin: boolean;
  held: Held[];
  heldBytes: number;
  /** The message whose body is being read. */
  exchange: HttpExchangeState | null;
}

interface Connection {
  key: number;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  mac: string;
  c: Direction;
  s: Direction;
  /** Requests whose response has not ended, oldest first. */
  pending: HttpExchangeState[];
  /** A head was decoded on it (its segments count as HTTP). */
  http: boolean;
  ignored: boolean;
}

export interface HttpProblem {
  frame: number;
  error: unknown;
  /** Where in the segment's payload the problem starts. */
  payloadOffset: number;
}

/** What one segment did, for the analyzer to turn into timeline entries. Reset by every call. */
export interface HttpSegmentEvents {
  started: HttpExchangeState[];
  finished: HttpExchangeState[];
  problems: HttpProblem[];
}

/** The machine behind a client address, with the frame's own MAC as the fallback. */
export type ClientMacResolver = (ip: string, frameMac: string) => string;

function newDirection(): Direction {
  return { nextSeq: -1, mode: 'head', remaining: 0, head: null, chunkPhase: 0, chunkLine: '', fin: false, held: [], heldBytes: 0, exchange: null };
}

const portKey = (a: number, b: number): number => (a < b ? a * 65536 + b : b * 65536 + a);

export class HttpExchanges {
  private readonly conns = new Map<number, Connection[]>();
  private live = 0;
  private readonly all: HttpExchangeState[] = [];
  readonly events: HttpSegmentEvents = { started: [], finished: [], problems: [] };
  private frame = 0;
  private ns = 0n;

  constructor(private readonly resolveMac: ClientMacResolver) {}

  /**
   * One TCP segment. Returns true when it belongs to a followed HTTP connection; what it
   * started and finished is in `events` until the next call. `wireLength` is the payload's
   * length on the wire (more than payload.length when the capture cut the frame).
   */
  segment(frame: number, ns: bigint, srcIp: string, dstIp: string, srcMac: string, dstMac: string, tcp: TcpSegment, wireLength: number): boolean {
    const ev = this.events;
    if (ev.started.length > 0) ev.started = [];
    if (ev.finished.length > 0) ev.finished = [];
    if (ev.problems.length > 0) ev.problems = [];
    this.frame = frame;
    this.ns = ns;
    const key = portKey(tcp.srcPort, tcp.dstPort);
    let conn = this.find(key, srcIp, tcp.srcPort, dstIp, tcp.dstPort);
    const f = tcp.flags;
    if (!conn) {
      if (f.rst) return false;
      if (f.syn) {
        conn = f.ack ? this.open(key, dstIp, tcp.dstPort, srcIp, tcp.srcPort, dstMac) : this.open(key, srcIp, tcp.srcPort, dstIp, tcp.dstPort, srcMac);
      } else {
        if (wireLength === 0 || !startsLikeHttp(tcp.payload)) return false;
        const response = tcp.payload.length >= 5 && tcp.payload.toString('latin1', 0, 5) === 'HTTP/';
        conn = response ? this.open(key, dstIp, tcp.dstPort, srcIp, tcp.srcPort, dstMac) : this.open(key, srcIp, tcp.srcPort, dstIp, tcp.dstPort, srcMac);
      }
    }
    if (conn.ignored && !f.fin && !f.rst) return false;
    const fromClient = conn.clientPort === tcp.srcPort && conn.clientIp === srcIp;
    const dir = fromClient ? conn.c : conn.s;
    if (f.syn) {
      dir.nextSeq = (tcp.seq + 1) >>> 0;
      if (wireLength === 0) return conn.http;
      return this.data(conn, dir, fromClient, dir.nextSeq, tcp.payload, wireLength);
    }
    if (f.rst) {
      this.close(conn, 'reset');
      return conn.http;
    }
    let counted = false;
    if (wireLength > 0 && !conn.ignored) counted = this.data(conn, dir, fromClient, tcp.seq, tcp.payload, wireLength);
    if (f.fin) this.fin(conn, dir, fromClient);
    return counted || (conn.http && wireLength > 0);
  }

  private find(key: number, srcIp: string, srcPort: number, dstIp: string, dstPort: number): Connection | undefined {
    const list = this.conns.get(key);
    if (!list) return undefined;
    for (const c of list) {
      if (c.clientPort === srcPort && c.serverPort === dstPort && c.clientIp === srcIp && c.serverIp === dstIp) return c;
      if (c.clientPort === dstPort && c.serverPort === srcPort && c.clientIp === dstIp && c.serverIp === srcIp) return c;
    }
    return undefined;
  }

  private open(key: number, clientIp: string, clientPort: number, serverIp: string, serverPort: number, clientFrameMac: string): Connection {
    if (this.live >= HTTP_MAX_CONNECTIONS) {
      const oldest = this.conns.values().next().value?.[0];
      if (oldest) this.drop(oldest);
    }
    const conn: Connection = {
      key, clientIp, clientPort, serverIp, serverPort, mac: this.resolveMac(clientIp, clientFrameMac),
      c: newDirection(), s: newDirection(), pending: [], http: false, ignored: false,
    };
    const list = this.conns.get(key);
    if (list) list.push(conn);
    else this.conns.set(key, [conn]);
    this.live++;
    return conn;
  }

  private drop(conn: Connection): void {
    const list = this.conns.get(conn.key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.conns.delete(conn.key);
    this.live--;
    conn.c.held = [];
    conn.s.held = [];
    conn.c.head = null;
    conn.s.head = null;
  }

  /** Bytes of one direction at `seq`; returns whether the connection is HTTP. */
  private data(conn: Connection, dir: Direction, fromClient: boolean, seq: number, payload: Buffer, wire: number): boolean {
    if (dir.nextSeq === -1) dir.nextSeq = seq;
    let diff = (seq - dir.nextSeq) | 0;
    if (diff < 0) {
      const overlap = -diff;
      if (overlap >= wire) {
        this.retransmitted(conn, fromClient, wire);
        return conn.http;
      }
      this.retransmitted(conn, fromClient, overlap);
      payload = payload.subarray(Math.min(overlap, payload.length));
      wire -= overlap;
      diff = 0;
    }
    if (diff > 0) {
      if (dir.held.length < HOLD_SEGMENTS && dir.heldBytes + payload.length <= HOLD_BYTES && payload.length === wire) {
        dir.held.push({ seq, data: Buffer.from(payload) });
        dir.heldBytes += payload.length;
        return conn.http;
      }
      this.flushHeld(conn, dir, fromClient);
      const left = (((seq - dir.nextSeq) | 0));
      if (left > 0) {
        this.gap(conn, dir, fromClient, left);
        dir.nextSeq = seq;
      } else if (left < 0) {
        return this.data(conn, dir, fromClient, seq, payload, wire);
      }
    }
    this.consume(conn, dir, fromClient, payload, wire);
    dir.nextSeq = (dir.nextSeq + wire) >>> 0;
    if (dir.held.length > 0) this.drainHeld(conn, dir, fromClient);
    return conn.http;
  }

  private drainHeld(conn: Connection, dir: Direction, fromClient: boolean): void {
    for (;;) {
      const i = dir.held.findIndex((h) => ((h.seq - dir.nextSeq) | 0) <= 0);
      if (i < 0) return;
      const [h] = dir.held.splice(i, 1);
      dir.heldBytes -= h!.data.length;
      this.data(conn, dir, fromClient, h!.seq, h!.data, h!.data.length);
    }
  }

  /** Gives up on the gap before the held segments: they are consumed in order, gaps counted as lost. */
  private flushHeld(conn: Connection, dir: Direction, fromClient: boolean): void {
    const held = dir.held.sort((a, b) => ((a.seq - dir.nextSeq) | 0) - ((b.seq - dir.nextSeq) | 0));
    dir.held = [];
    dir.heldBytes = 0;
    for (const h of held) {
      const d = (h.seq - dir.nextSeq) | 0;
      if (d > 0) {
        this.gap(conn, dir, fromClient, d);
        dir.nextSeq = h.seq;
      }
      this.data(conn, dir, fromClient, h.seq, h.data, h.data.length);
    }
  }

  private retransmitted(conn: Connection, fromClient: boolean, n: number): void {
    if (fromClient) return;
    const ex = conn.s.exchange ?? conn.pending[0];
    if (ex) ex.retransmittedBytes += n;
  }

  /** Bytes the capture does not have (lost, or cut by the snapshot length). */
  private gap(conn: Connection, dir: Direction, fromClient: boolean, n: number): void {
    switch (dir.mode) {
      case 'body': {
        const k = Math.min(n, dir.remaining);
        dir.remaining -= k;
        this.bodyBytes(dir, fromClient, k);
        if (dir.remaining === 0) this.endMessage(conn, dir, fromClient);
        if (n > k) this.lostSync(dir);
        return;
      }
      case 'close':
        this.bodyBytes(dir, fromClient, n);
        return;
      case 'ignore':
        return;
      default:
        this.lostSync(dir);
    }
  }

  private lostSync(dir: Direction): void {
    dir.head = null;
    if (dir.mode !== 'ignore') dir.mode = 'resync';
  }

  private bodyBytes(dir: Direction, fromClient: boolean, n: number): void {
    const ex = dir.exchange;
    if (!ex) return;
    if (fromClient) ex.requestBodyBytes += n;
    else {
      ex.bodyBytes += n;
      ex.lastNs = this.ns;
      ex.lastFrame = this.frame;
    }
  }

  private consume(conn: Connection, dir: Direction, fromClient: boolean, data: Buffer, wire: number): void {
    let off = 0;
    const end = data.length;
    while (off < end) {
      switch (dir.mode) {
        case 'body': {
          const k = Math.min(dir.remaining, end - off);
          dir.remaining -= k;
          off += k;
          this.bodyBytes(dir, fromClient, k);
          if (dir.remaining === 0) this.endMessage(conn, dir, fromClient);
          break;
        }
        case 'close':
          this.bodyBytes(dir, fromClient, end - off);
          off = end;
          break;
        case 'chunked':
          off = this.chunked(conn, dir, fromClient, data, off);
          break;
        case 'head':
          off = this.head(conn, dir, fromClient, data, off);
          break;
        case 'resync':
          if (startsLikeHttp(data.subarray(off))) dir.mode = 'head';
          else off = end;
          break;
        case 'ignore':
          off = end;
          break;
      }
    }
    if (wire > end) this.gap(conn, dir, fromClient, wire - end);
  }

  private head(conn: Connection, dir: Direction, fromClient: boolean, data: Buffer, off: number): number {
    const chunk = off === 0 ? data : data.subarray(off);
    if (dir.head === null && !startsLikeHttp(chunk)) {
      // Not HTTP at all (TLS, SSH …): stop following rather than buffer 16 KiB of it.
      if (!conn.http) {
        dir.mode = 'ignore';
        conn.ignored = true;
        return data.length;
      }
    }
    const prior = dir.head?.length ?? 0;
    const buf = dir.head ? Buffer.concat([dir.head, chunk]) : chunk;
    let h: HttpHead | null;
    try {
      h = decodeHttpHead(buf);
    } catch (e) {
      const at = typeof (e as { offset?: unknown }).offset === 'number' ? (e as { offset: number }).offset : 0;
      this.events.problems.push({ frame: this.frame, error: e, payloadOffset: off + Math.max(0, at - prior) });
      dir.head = null;
      dir.mode = conn.http ? 'resync' : 'ignore';
      if (!conn.http) conn.ignored = true;
      return data.length;
    }
    if (h === null) {
      dir.head = dir.head ? buf : Buffer.from(chunk);
      return data.length;
    }
    dir.head = null;
    const used = h.headLength - prior;
    this.onHead(conn, dir, fromClient, h);
    return off + Math.max(used, 0);
  }

  private onHead(conn: Connection, dir: Direction, fromClient: boolean, h: HttpHead): void {
    if (fromClient !== (h.kind === 'request')) {
      // A request from the server side or a response from the client side: not a conversation we follow.
      dir.mode = 'ignore';
      return;
    }
    conn.http = true;
    const te = httpHeader(h, 'transfer-encoding');
    const chunked = te !== undefined && /chunked/i.test(te);
    const length = httpContentLength(h);
    if (h.kind === 'request') {
      const ex = this.newExchange(conn);
      ex.method = h.method;
      ex.target = h.target;
      ex.host = httpHeader(h, 'host') ?? null;
      ex.requestFrame = this.frame;
      ex.artifact = classifyBootPath(h.target, h.method);
      conn.pending.push(ex);
      this.events.started.push(ex);
      dir.exchange = ex;
      if (chunked) this.startChunked(dir);
      else if (length !== undefined && length > 0) {
        dir.mode = 'body';
        dir.remaining = length;
      } else dir.mode = 'head';
      return;
    }
    let ex = conn.pending[0];
    if (!ex) {
      // The request was before the capture started.
      ex = this.newExchange(conn);
      conn.pending.push(ex);
      this.events.started.push(ex);
    }
    if (h.status >= 100 && h.status < 200) {
      if (h.status === 101) {
        ex.status = 101;
        ex.reason = h.reason;
        ex.responseFrame = this.frame;
        this.finish(conn, ex, 'complete');
        conn.c.mode = 'ignore';
        conn.s.mode = 'ignore';
        conn.ignored = true;
      }
      return; // 100 Continue and friends: the real response follows
    }
    ex.status = h.status;
    ex.reason = h.reason;
    ex.contentLength = length ?? null;
    ex.chunked = chunked;
    ex.responseFrame = this.frame;
    ex.phase = 'response';
    ex.lastNs = this.ns;
    ex.lastFrame = this.frame;
    dir.exchange = ex;
    const noBody = ex.method === 'HEAD' || h.status === 204 || h.status === 304 || (ex.method === 'CONNECT' && h.status < 300);
    if (noBody) this.endMessage(conn, dir, false);
    else if (chunked) this.startChunked(dir);
    else if (length !== undefined) {
      if (length === 0) this.endMessage(conn, dir, false);
      else {
        dir.mode = 'body';
        dir.remaining = length;
      }
    } else dir.mode = 'close';
  }

  private startChunked(dir: Direction): void {
    dir.mode = 'chunked';
    dir.chunkPhase = 0;
    dir.chunkLine = '';
    dir.remaining = 0;
  }

  /** Chunked framing: sizes and trailers are read, chunk data only counted. */
  private chunked(conn: Connection, dir: Direction, fromClient: boolean, data: Buffer, off: number): number {
    const end = data.length;
    while (off < end && dir.mode === 'chunked') {
      if (dir.chunkPhase === 1) {
        const k = Math.min(dir.remaining, end - off);
        dir.remaining -= k;
        off += k;
        this.bodyBytes(dir, fromClient, k);
        if (dir.remaining === 0) {
          dir.chunkPhase = 2;
          dir.remaining = 2;
        }
        continue;
      }
      if (dir.chunkPhase === 2) {
        const k = Math.min(dir.remaining, end - off);
        dir.remaining -= k;
        off += k;
        if (dir.remaining === 0) dir.chunkPhase = 0;
        continue;
      }
      // A size line or a trailer line: up to LF.
      const lf = data.indexOf(0x0a, off);
      const stop = lf < 0 ? end : lf;
      dir.chunkLine += data.toString('latin1', off, stop);
      off = lf < 0 ? end : lf + 1;
      if (dir.chunkLine.length > CHUNK_LINE_LIMIT) {
        this.lostSync(dir);
        return end;
      }
      if (lf < 0) break;
      const line = dir.chunkLine.replace(/\r$/, '');
      dir.chunkLine = '';
      if (dir.chunkPhase === 3) {
        if (line === '') this.endMessage(conn, dir, fromClient);
        continue;
      }
      const size = parseInt(line.split(';')[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0) {
        this.lostSync(dir);
        return end;
      }
      if (size === 0) dir.chunkPhase = 3;
      else {
        dir.chunkPhase = 1;
        dir.remaining = size;
      }
    }
    return off;
  }

  private endMessage(conn: Connection, dir: Direction, fromClient: boolean): void {
    dir.mode = 'head';
    dir.remaining = 0;
    const ex = dir.exchange;
    dir.exchange = null;
    if (fromClient || !ex) return;
    this.finish(conn, ex, 'complete');
  }

  private finish(conn: Connection, ex: HttpExchangeState, phase: Phase): void {
    ex.phase = phase;
    ex.endFrame = this.frame;
    if (phase === 'complete') {
      ex.lastNs = this.ns;
      ex.lastFrame = this.frame;
    }
    const i = conn.pending.indexOf(ex);
    if (i >= 0) conn.pending.splice(i, 1);
    this.events.finished.push(ex);
  }

  private fin(conn: Connection, dir: Direction, fromClient: boolean): void {
    if (dir.held.length > 0) this.flushHeld(conn, dir, fromClient);
    dir.fin = true;
    if (!fromClient) {
      if (dir.mode === 'close' && dir.exchange) this.endMessage(conn, dir, false);
      // The server is done sending: whatever is still pending will not be answered (in full).
      for (const ex of [...conn.pending]) this.finish(conn, ex, ex.phase === 'response' ? 'incomplete' : 'no-response');
    }
    if (conn.c.fin && conn.s.fin) this.drop(conn);
  }

  private close(conn: Connection, phase: 'reset'): void {
    for (const ex of [...conn.pending]) this.finish(conn, ex, ex.phase === 'response' ? phase : 'no-response');
    this.drop(conn);
  }

  private newExchange(conn: Connection): HttpExchangeState {
    const ex: HttpExchangeState = {
      mac: conn.mac, clientIp: conn.clientIp, clientPort: conn.clientPort, serverIp: conn.serverIp, serverPort: conn.serverPort,
      method: null, target: null, host: null, status: null, reason: null, contentLength: null, chunked: false,
      bodyBytes: 0, requestBodyBytes: 0, retransmittedBytes: 0, phase: 'request', firstNs: this.ns, lastNs: this.ns,
      requestFrame: 0, responseFrame: 0, lastFrame: this.frame, endFrame: 0, artifact: { role: 'other' },
    };
    this.all.push(ex);
    return ex;
  }

  exchanges(): readonly HttpExchangeState[] {
    return this.all;
  }

  report(firstNs: bigint, lastNs: bigint): HttpExchangeReport[] {
    return this.all.map((ex) => httpExchangeReport(ex, firstNs, lastNs));
  }
}

function resultOf(ex: HttpExchangeState, lastNs: bigint): HttpResult {
  switch (ex.phase) {
    case 'complete':
    case 'incomplete':
    case 'reset':
    case 'no-response':
      return ex.phase;
    case 'response':
      return lastNs - ex.lastNs >= STALL_NS ? 'incomplete' : 'in-progress';
    case 'request':
      return lastNs - ex.lastNs >= STALL_NS ? 'no-response' : 'in-progress';
  }
}

export function httpExchangeReport(ex: HttpExchangeState, firstNs: bigint, lastNs: bigint): HttpExchangeReport {
  const duration = durationSeconds(ex.firstNs, ex.lastNs);
  const target = ex.target === null ? null : redactTokens(ex.target);
  const authority = ex.host ?? (ex.serverPort === 80 ? ex.serverIp : `${ex.serverIp}:${ex.serverPort}`);
  const url = target === null ? null : /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${authority}${target.startsWith('/') ? '' : '/'}${target}`;
  return {
    mac: ex.mac,
    clientIp: ex.clientIp,
    clientPort: ex.clientPort,
    serverIp: ex.serverIp,
    serverPort: ex.serverPort,
    method: ex.method,
    target,
    host: ex.host,
    url,
    status: ex.status,
    reason: ex.reason,
    contentLength: ex.contentLength,
    chunked: ex.chunked,
    bodyBytes: ex.bodyBytes,
    requestBodyBytes: ex.requestBodyBytes,
    result: resultOf(ex, lastNs),
    retransmittedBytes: ex.retransmittedBytes,
    t: secondsSince(firstNs, ex.firstNs),
    durationSeconds: duration,
    bytesPerSecond: duration > 0 ? Math.round(ex.bodyBytes / duration) : 0,
    requestFrame: ex.requestFrame || null,
    responseFrame: ex.responseFrame || null,
    lastFrame: ex.lastFrame,
    role: ex.artifact.role,
    stage: ex.artifact.stage ?? null,
    system: ex.artifact.system ?? null,
    distro: ex.artifact.distro ?? null,
  };
}

/** Evidence frames of an exchange, ascending. */
export function httpFrames(r: HttpExchangeReport): number[] {
  const f = new Set<number>([r.lastFrame]);
  if (r.requestFrame !== null) f.add(r.requestFrame);
  if (r.responseFrame !== null) f.add(r.responseFrame);
  return [...f].sort((a, b) => a - b);
}

/** "HTTP GET http://10.0.0.1/cblr/links/deb12/linux → 200 OK, 8.3 MB in 1.2 s (6.9 MB/s), kernel". */
export function summarizeHttp(r: HttpExchangeReport): string {
  const what = r.method !== null ? `HTTP ${r.method} ${r.url}` : `HTTP response on ${r.clientIp}:${r.clientPort} → ${r.serverIp}:${r.serverPort}`;
  let line = what;
  const extras: string[] = [];
  if (r.status !== null) {
    let s = ` → ${r.status}${r.reason ? ` ${r.reason}` : ''}`;
    if (r.method === 'HEAD') {
      if (r.contentLength !== null) s += `, Content-Length ${formatBytes(r.contentLength)}`;
    } else if (r.bodyBytes > 0 || r.contentLength !== null) {
      s += `, ${formatBytes(r.bodyBytes)}`;
      if (r.contentLength !== null && r.bodyBytes < r.contentLength) s += ` of ${formatBytes(r.contentLength)}`;
      s += ` in ${formatSeconds(r.durationSeconds)}`;
      if (r.bytesPerSecond > 0 && r.bodyBytes >= 100_000) s += ` (${formatRate(r.bytesPerSecond)})`;
    }
    line += s;
  }
  if (r.result !== 'complete') extras.push(r.result);
  if (r.role !== 'other') extras.push(r.stage ? `${ROLE_NAMES[r.role]} ${r.stage}` : ROLE_NAMES[r.role]);
  return [line, ...extras].join(', ');
}
