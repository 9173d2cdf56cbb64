// The TFTP serving loop: read requests on the listening port, one fresh port (a new TID) per
// transfer, a TftpSource for the bytes. Decisions live elsewhere: which name the client meant
// (tftp-paths.ts), what to send when (tftp-transfer.ts), the wire format (protocol/tftp.ts).
// This file decodes, asks, reads, sends and keeps timers; every bad datagram is a warning with
// the client address and the server carries on.
//
// Hot path, per window: one read of a read-ahead chunk (>= 256 KiB, and the next one is
// prefetched while the current one is being sent), one allocation for all the DATA packets
// of the window, one synchronous burst of sends, one timer refresh. An ACK that fits four bytes
// skips the general decoder.
import { DecodeError } from '../../lib/errors.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { Datagram, DatagramPort, Endpoint, PortOpener } from '../net/datagram.ts';
import {
  decodeTftp,
  encodeTftp,
  TFTP_DEFAULT_BLKSIZE,
  TFTP_ERROR_CODES,
  TFTP_MAX_BLKSIZE,
  TFTP_OPCODES,
  type TftpErrorCode,
  type TftpMode,
  type TftpOption,
  type TftpPacket,
} from '../protocol/tftp.ts';
import { normaliseTftpPath } from './tftp-paths.ts';
import { isTftpSourceError, netasciiContent, type TftpContent, type TftpSource } from './tftp-sources.ts';
import {
  blockRange,
  initialTransferState,
  planTransfer,
  stepTransfer,
  wireBlock,
  type TransferAction,
  type TransferEvent,
  type TransferPlan,
  type TransferState,
  type TransferStatus,
} from './tftp-transfer.ts';

export interface TransferReport {
  client: Endpoint;
  path: string;
  status: TransferStatus;
  /** Bytes the client acknowledged. */
  bytes: number;
  size: number;
  blksize: number;
  windowsize: number;
  retransmits: number;
  durationMs: number;
  error?: string;
}

export interface TftpServerOptions {
  /** The listening port (69 in production); the server owns it and closes it. */
  port: DatagramPort;
  /** Opens a transfer port; called with the listener's address and port 0. */
  openPort: PortOpener;
  source: TftpSource;
  log: Logger;
  /** Largest blksize acknowledged; default 65464 (the RFC 2348 maximum, as tftpd-hpa). */
  maxBlksize?: number;
  /** Largest windowsize acknowledged; default 32. */
  maxWindowsize?: number;
  /** Transfers in progress (including ones still opening their content); default 1000. Past it, requests go unanswered and clients retry. */
  maxTransfers?: number;
  /** Longest filename accepted; default 255 bytes. */
  maxFilenameBytes?: number;
  /** Absolute spellings of the root clients may use (see normaliseTftpPath). */
  rootAliases?: readonly string[];
  /** Retransmission delay when the client negotiated none; default 1000 ms. */
  initialTimeoutMs?: number;
  /** Cap of the doubling retransmission delay; default 8000 ms. */
  maxTimeoutMs?: number;
  /** Consecutive timeouts before giving up; default 5. */
  maxRetries?: number;
  clock?: Clock;
  onTransfer?: (r: TransferReport) => void;
  signal?: AbortSignal;
}

export interface TftpServerHandle {
  close(): Promise<void>;
  activeTransfers(): number;
}

const DEFAULT_MAX_WINDOWSIZE = 32;
const DEFAULT_MAX_TRANSFERS = 1000;
const DEFAULT_MAX_FILENAME = 255;
/** Read-ahead granularity: large enough that lock-step transfers rarely wait for the disk. */
const MIN_CHUNK_BYTES = 256 * 1024;
/** Enough passes to peel off an unterminated value, a name without value and padding. */
const MAX_OPTION_REPAIRS = 4;

export function serveTftp(opts: TftpServerOptions): TftpServerHandle {
  const { port: listener, openPort, source, log } = opts;
  const clock = opts.clock ?? systemClock;
  const maxTransfers = opts.maxTransfers ?? DEFAULT_MAX_TRANSFERS;
  const maxFilenameBytes = opts.maxFilenameBytes ?? DEFAULT_MAX_FILENAME;
  const planLimits = {
    maxBlksize: opts.maxBlksize ?? TFTP_MAX_BLKSIZE,
    maxWindowsize: opts.maxWindowsize ?? DEFAULT_MAX_WINDOWSIZE,
    ...(opts.initialTimeoutMs === undefined ? {} : { initialTimeoutMs: opts.initialTimeoutMs }),
    ...(opts.maxTimeoutMs === undefined ? {} : { maxTimeoutMs: opts.maxTimeoutMs }),
    ...(opts.maxRetries === undefined ? {} : { maxRetries: opts.maxRetries }),
  };
  // Check the limits once, here, rather than on every request.
  planTransfer('octet', [], 0, planLimits);

  /** Keyed by client "address:port"; 'opening' while the source is being asked. */
  const transfers = new Map<string, Transfer | 'opening'>();
  const pending = new Set<Promise<void>>();
  let closed = false;
  let closing: Promise<void> | null = null;

  const report = (r: TransferReport): void => {
    try {
      opts.onTransfer?.(r);
    } catch (e) {
      log.error('tftp onTransfer callback threw', { error: String(e) });
    }
  };
  const nowMs = (): number => clock.now() * 1000;

  const replyError = (to: Endpoint, code: TftpErrorCode, message: string): void => {
    listener.send(encodeTftp({ op: 'ERROR', code, message }), to).catch((e: unknown) => log.debug('tftp error reply not sent', { client: fmt(to), error: String(e) }));
  };

  const refusal = (client: Endpoint, path: string, status: TransferStatus, error: string, started: number): void =>
    report({ client, path, status, bytes: 0, size: 0, blksize: TFTP_DEFAULT_BLKSIZE, windowsize: 1, retransmits: 0, durationMs: nowMs() - started, error });

  listener.onMessage((d: Datagram) => {
    if (closed) return;
    let packet: TftpPacket;
    let repaired: boolean;
    try {
      ({ packet, repaired } = decodeRequest(d.data, maxFilenameBytes));
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        log.error('tftp request decoding failed unexpectedly', { client: fmt(d.from), error: String(e) });
        return;
      }
      const reply = selectRequestErrorReply(d.data, e);
      log.warn('tftp bad request', { client: fmt(d.from), code: e.code, error: e.message, bytes: d.data.length, answered: reply !== null });
      if (reply) replyError(d.from, reply.code, reply.message);
      return;
    }
    if (repaired) log.warn('tftp request with malformed options: ignored them', { client: fmt(d.from) });
    if (packet.op === 'WRQ') {
      log.warn('tftp write request refused (read-only server)', { client: fmt(d.from), path: packet.filename });
      replyError(d.from, TFTP_ERROR_CODES.ACCESS_VIOLATION, 'read-only server: write requests are refused');
      refusal(d.from, packet.filename, 'access-violation', 'write request', nowMs());
      return;
    }
    if (packet.op !== 'RRQ') {
      // tftp-hpa's client ACKs the ERROR that refused its request, to the listening port:
      // a stray ACK or ERROR here is ordinary, DATA or OACK is not.
      const level = packet.op === 'ACK' || packet.op === 'ERROR' ? 'debug' : 'warn';
      log[level]('tftp non-request on the listening port dropped', { client: fmt(d.from), op: packet.op });
      return;
    }
    handleRead(d.from, packet.filename, packet.mode, packet.options);
  });

  function handleRead(client: Endpoint, filename: string, mode: TftpMode, options: readonly TftpOption[]): void {
    const key = fmt(client);
    // A client that retransmits its RRQ before our first packet reaches it.
    if (transfers.has(key)) {
      log.debug('tftp duplicate request ignored', { client: key, path: filename });
      return;
    }
    const started = nowMs();
    if (mode === 'mail') {
      log.warn('tftp mail mode refused', { client: key, path: filename });
      replyError(client, TFTP_ERROR_CODES.ILLEGAL_OPERATION, 'mail mode is not supported');
      refusal(client, filename, 'error', 'mail mode', started);
      return;
    }
    if (transfers.size >= maxTransfers) {
      // No ERROR: PXE ROMs give up on one, and pxelinux takes any error on a config file as
      // "not there" and moves on to the next name, so a busy answer to pxelinux.cfg/01-<mac>
      // would boot a registered machine into the default menu. Unanswered, the client
      // retransmits its RRQ (RFC 1350 §2) and is served once a transfer ends.
      log.warn('tftp server busy: request left for the client to retry', { client: key, path: filename, active: transfers.size });
      return;
    }
    const norm = normaliseTftpPath(filename, { maxBytes: maxFilenameBytes, ...(opts.rootAliases ? { rootAliases: opts.rootAliases } : {}) });
    if (!norm.ok) {
      log.warn('tftp name refused', { client: key, path: filename, reason: norm.reason });
      replyError(client, TFTP_ERROR_CODES.ACCESS_VIOLATION, `access violation: ${norm.message}`);
      refusal(client, filename, 'access-violation', norm.reason, started);
      return;
    }
    transfers.set(key, 'opening');
    const p = openTransfer(client, norm.path, mode, options, started)
      .catch((e: unknown) => {
        // A bug, not a client problem: forget the request rather than take the server down.
        if (transfers.get(key) === 'opening') transfers.delete(key);
        log.error('tftp request handling failed', { client: key, path: norm.path, error: String(e) });
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  }

  async function openTransfer(client: Endpoint, path: string, mode: TftpMode, options: readonly TftpOption[], started: number): Promise<void> {
    const key = fmt(client);
    let content: TftpContent | null = null;
    try {
      content = await source.open(path, client);
      if (content && mode === 'netascii') content = await netasciiContent(content);
    } catch (e) {
      transfers.delete(key);
      if (content) await closeQuietly(content);
      if (closed) return;
      if (isTftpSourceError(e, 'TFTP_ACCESS_VIOLATION')) {
        log.warn('tftp access violation', { client: key, path, error: e.message });
        replyError(client, TFTP_ERROR_CODES.ACCESS_VIOLATION, 'access violation');
        refusal(client, path, 'access-violation', e.message, started);
      } else if (isTftpSourceError(e, 'TFTP_NOT_FOUND')) {
        log.info('tftp file not found', { client: key, path });
        replyError(client, TFTP_ERROR_CODES.FILE_NOT_FOUND, 'file not found');
        refusal(client, path, 'not-found', e.message, started);
      } else {
        log.error('tftp source failed', { client: key, path, error: String(e) });
        replyError(client, TFTP_ERROR_CODES.NOT_DEFINED, 'internal error');
        refusal(client, path, 'error', String(e), started);
      }
      return;
    }
    if (closed) {
      transfers.delete(key);
      if (content) await closeQuietly(content);
      return;
    }
    if (!content) {
      transfers.delete(key);
      log.info('tftp file not found', { client: key, path });
      replyError(client, TFTP_ERROR_CODES.FILE_NOT_FOUND, 'file not found');
      refusal(client, path, 'not-found', 'file not found', started);
      return;
    }
    const plan = planTransfer(mode, options, content.size, planLimits);
    let tport: DatagramPort;
    try {
      tport = await openPort({ address: listener.local.address, port: 0 }, client);
    } catch (e) {
      transfers.delete(key);
      await closeQuietly(content);
      if (closed) return;
      log.error('tftp cannot open a transfer port', { client: key, path, error: String(e) });
      replyError(client, TFTP_ERROR_CODES.NOT_DEFINED, 'internal error');
      refusal(client, path, 'error', String(e), started);
      return;
    }
    if (closed) {
      transfers.delete(key);
      tport.close();
      await closeQuietly(content);
      return;
    }
    const t = new Transfer(client, path, plan, content, tport, log, started, nowMs, (r) => {
      transfers.delete(key);
      const level = r.status === 'complete' || r.status === 'aborted-by-client' ? 'info' : 'warn';
      log[level]('tftp transfer ' + r.status, {
        client: key, path, bytes: r.bytes, size: r.size, blksize: r.blksize, windowsize: r.windowsize,
        retransmits: r.retransmits, ms: Math.round(r.durationMs), ...(r.error ? { error: r.error } : {}),
      });
      report(r);
    });
    transfers.set(key, t);
    log.debug('tftp transfer started', { client: key, path, size: plan.size, blksize: plan.blksize, windowsize: plan.windowsize, mode, label: content.label });
    t.start();
  }

  function close(): Promise<void> {
    if (closing) return closing;
    closed = true;
    listener.close();
    const ends: Promise<void>[] = [...pending];
    for (const t of transfers.values()) if (t !== 'opening') ends.push(t.abort('server closed'));
    closing = Promise.all(ends).then(() => undefined);
    return closing;
  }

  if (opts.signal) {
    if (opts.signal.aborted) void close();
    else opts.signal.addEventListener('abort', () => void close(), { once: true });
  }

  return { close, activeTransfers: () => transfers.size };
}

/**
 * decodeTftp, tolerant of a request's option list as RFC 2347 asks (options a server does not
 * understand are ignored): malformed trailing options, NUL padding and repeated names are cut
 * off and the request is served with the options before them.
 */
export function decodeRequest(bytes: Buffer, maxFilenameBytes: number): { packet: TftpPacket; repaired: boolean } {
  let data = bytes;
  for (let attempt = 0; ; attempt++) {
    try {
      return { packet: decodeTftp(data, { maxFilenameBytes }), repaired: attempt > 0 };
    } catch (e) {
      const opcode = data.length >= 2 ? data.readUInt16BE(0) : -1;
      const inOptions = e instanceof DecodeError && e.field.startsWith('option') && (opcode === TFTP_OPCODES.RRQ || opcode === TFTP_OPCODES.WRQ);
      if (!inOptions || attempt >= MAX_OPTION_REPAIRS || e.offset >= data.length) throw e;
      data = data.subarray(0, e.offset);
    }
  }
}

/**
 * Which bad datagrams on the listening port get an ERROR back. A request (opcode 1 or 2)
 * that is malformed is answered, so the client stops retrying and its user sees why; anything
 * else (one byte, unknown opcode) may not be TFTP at all and is dropped without an answer, so
 * the server cannot be used to reflect traffic.
 */
export function selectRequestErrorReply(bytes: Uint8Array, e: DecodeError): { code: TftpErrorCode; message: string } | null {
  const opcode = bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : -1;
  if (opcode !== TFTP_OPCODES.RRQ && opcode !== TFTP_OPCODES.WRQ) return null;
  switch (e.code) {
    case 'TFTP_NAME_TOO_LONG':
      return { code: TFTP_ERROR_CODES.ACCESS_VIOLATION, message: 'access violation: the filename is too long' };
    case 'TFTP_NUL_IN_FILENAME':
      return { code: TFTP_ERROR_CODES.ACCESS_VIOLATION, message: 'access violation: the filename contains a NUL byte' };
    case 'TFTP_EMPTY_FILENAME':
      return { code: TFTP_ERROR_CODES.FILE_NOT_FOUND, message: 'empty filename' };
    case 'TFTP_BAD_MODE':
      return { code: TFTP_ERROR_CODES.ILLEGAL_OPERATION, message: 'unknown transfer mode' };
    default:
      return { code: TFTP_ERROR_CODES.ILLEGAL_OPERATION, message: 'malformed request' };
  }
}

function fmt(e: Endpoint): string {
  return `${e.address}:${e.port}`;
}

async function closeQuietly(c: TftpContent): Promise<void> {
  try {
    await c.close();
  } catch {
    /* the descriptor is gone either way */
  }
}

interface Chunk {
  start: number;
  buf: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * One transfer: its port (the TID), its timer, its read-ahead, its state. Events are handled
 * in arrival order; while a window waits for the disk, later events queue behind it.
 */
class Transfer {
  private state: TransferState;
  private timer: NodeJS.Timeout | null = null;
  private timerDelay = -1;
  private busy = false;
  private readonly queue: TransferEvent[] = [];
  private finished = false;
  private ended: Promise<void> | null = null;
  /** Loaded read-ahead chunks, ascending and block-aligned; at most a few. */
  private chunks: Chunk[] = [];
  private prefetch: { start: number; done: Promise<void> } | null = null;
  private readonly chunkBytes: number;
  /** The packets of the last window, kept for retransmission. */
  private window: { first: number; packets: Buffer[] } | null = null;
  private oackPacket: Buffer | null = null;

  constructor(
    private readonly client: Endpoint,
    private readonly path: string,
    private readonly plan: TransferPlan,
    private readonly content: TftpContent,
    private readonly port: DatagramPort,
    private readonly log: Logger,
    private readonly started: number,
    private readonly nowMs: () => number,
    private readonly onEnd: (r: TransferReport) => void,
  ) {
    this.state = initialTransferState(plan);
    const windowBytes = plan.blksize * plan.windowsize;
    this.chunkBytes = Math.ceil(Math.max(MIN_CHUNK_BYTES, windowBytes) / plan.blksize) * plan.blksize;
    port.onMessage(this.onMessage);
  }

  start(): void {
    try {
      this.dispatch({ type: 'start' });
    } catch (e) {
      this.crashed(e);
    }
  }

  /** Ends the transfer from outside (server shutdown). */
  abort(reason: string): Promise<void> {
    if (!this.finished) this.end('error', reason);
    return this.ended ?? Promise.resolve();
  }

  private readonly onMessage = (d: Datagram): void => {
    try {
      this.handleDatagram(d);
    } catch (e) {
      this.crashed(e);
    }
  };

  /** A bug in handling one transfer ends that transfer, never the server. */
  private crashed(e: unknown): void {
    this.log.error('tftp transfer failed unexpectedly', { client: fmt(this.client), path: this.path, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    this.busy = false;
    this.end('error', String(e));
  }

  private handleDatagram(d: Datagram): void {
    if (this.finished) return;
    const b = d.data;
    if (d.from.port !== this.client.port || d.from.address !== this.client.address) {
      // RFC 1350: a stray packet gets ERROR 5 and must not disturb the transfer.
      this.log.warn('tftp datagram from an unknown transfer ID', { client: fmt(this.client), from: fmt(d.from), bytes: b.length });
      this.port.post(encodeTftp({ op: 'ERROR', code: TFTP_ERROR_CODES.UNKNOWN_TID, message: 'unknown transfer ID' }), d.from, this.ignoreSendError);
      return;
    }
    if (b.length === 4 && b[0] === 0 && b[1] === TFTP_OPCODES.ACK) {
      this.dispatch({ type: 'ack', block: (b[2]! << 8) | b[3]! });
      return;
    }
    if (b.length >= 4 && b[0] === 0 && b[1] === TFTP_OPCODES.ERROR) {
      // Honour the client's abort even when its message is not well-formed.
      let message = '';
      try {
        const p = decodeTftp(b);
        if (p.op === 'ERROR') message = p.message;
      } catch {
        message = '(malformed ERROR packet)';
      }
      this.dispatch({ type: 'error', code: (b[2]! << 8) | b[3]!, message });
      return;
    }
    let what: string;
    try {
      what = `unexpected ${decodeTftp(b).op}`;
    } catch (e) {
      what = e instanceof DecodeError ? e.message : String(e);
    }
    this.log.warn('tftp bad datagram on a transfer port dropped', { client: fmt(this.client), error: what, bytes: b.length });
  }

  private dispatch(e: TransferEvent): void {
    if (this.finished) return;
    if (this.busy) {
      this.queue.push(e);
      return;
    }
    const step = stepTransfer(this.state, e);
    this.state = step.state;
    this.exec(step.actions, 0);
  }

  private drain(): void {
    while (!this.busy && !this.finished && this.queue.length > 0) this.dispatch(this.queue.shift()!);
  }

  private exec(actions: readonly TransferAction[], from: number): void {
    for (let i = from; i < actions.length && !this.finished; i++) {
      const a = actions[i]!;
      switch (a.type) {
        case 'send-oack':
          this.oackPacket ??= encodeTftp({ op: 'OACK', options: [...a.options] });
          this.port.post(this.oackPacket, this.client, this.ignoreSendError);
          break;
        case 'send-data':
          if (!this.sendWindow(a.first, a.count)) {
            // The disk is behind: pause the clock so the old window's timer cannot fire
            // against the new one, and continue with the remaining actions once read.
            this.cancelTimer();
            this.busy = true;
            this.load(a.first, a.count).then(
              () => {
                this.busy = false;
                if (this.finished) return;
                if (!this.sendWindow(a.first, a.count)) throw new Error('read-ahead did not cover the window');
                try {
                  this.exec(actions, i + 1);
                  this.drain();
                } catch (e) {
                  this.crashed(e);
                }
              },
            ).catch((err: unknown) => {
              this.busy = false;
              if (this.finished) return;
              this.port.post(encodeTftp({ op: 'ERROR', code: TFTP_ERROR_CODES.NOT_DEFINED, message: 'read error' }), this.client, this.ignoreSendError);
              this.end('error', err instanceof Error ? err.message : String(err));
            });
            return;
          }
          break;
        case 'arm-timer':
          this.armTimer(a.delayMs);
          break;
        case 'cancel-timer':
          this.cancelTimer();
          break;
        case 'finish':
          this.end(a.status, a.message);
          break;
      }
    }
  }

  /** Sends blocks first..first+count-1 if their bytes are at hand; false if a read is needed. */
  private sendWindow(first: number, count: number): boolean {
    const w = this.window;
    if (w && first >= w.first && first + count <= w.first + w.packets.length) {
      for (let n = first; n < first + count; n++) this.port.post(w.packets[n - w.first]!, this.client, this.ignoreSendError);
      return true;
    }
    const { blksize } = this.plan;
    const views: Buffer[] = [];
    let total = 0;
    for (let n = first; n < first + count; n++) {
      const { offset, length } = blockRange(this.plan, n);
      const v = this.view(offset, length);
      if (v === null) return false;
      views.push(v);
      total += 4 + length;
    }
    // One allocation for the window; each packet is a slice, never written again once sent.
    const slab = Buffer.allocUnsafe(total);
    const packets: Buffer[] = [];
    let at = 0;
    for (let k = 0; k < count; k++) {
      const v = views[k]!;
      const w16 = wireBlock(first + k);
      slab[at] = 0;
      slab[at + 1] = TFTP_OPCODES.DATA;
      slab[at + 2] = w16 >> 8;
      slab[at + 3] = w16 & 0xff;
      v.copy(slab, at + 4);
      packets.push(slab.subarray(at, at + 4 + v.length));
      at += 4 + v.length;
    }
    this.window = { first, packets };
    for (const p of packets) this.port.post(p, this.client, this.ignoreSendError);
    // Read the next chunk while this window is on the wire.
    const ahead = Math.min(this.plan.size, (first + count - 1 + this.plan.windowsize) * blksize);
    const last = this.chunks[this.chunks.length - 1];
    if (last && !this.prefetch && last.start + last.buf.length < this.plan.size && ahead > last.start + last.buf.length) {
      this.startRead(last.start + last.buf.length).catch(() => {
        /* reported when the window that needs it awaits it */
      });
    }
    return true;
  }

  private view(offset: number, length: number): Buffer | null {
    if (length === 0) return EMPTY;
    for (const c of this.chunks) {
      if (offset >= c.start && offset + length <= c.start + c.buf.length) return c.buf.subarray(offset - c.start, offset - c.start + length);
    }
    return null;
  }

  private async load(first: number, count: number): Promise<void> {
    for (let n = first; n < first + count; n++) {
      const { offset, length } = blockRange(this.plan, n);
      if (length === 0 || this.view(offset, length)) continue;
      if (this.prefetch && offset >= this.prefetch.start && offset < this.prefetch.start + this.chunkBytes) await this.prefetch.done;
      else await this.startRead(offset);
      if (!this.view(offset, length)) throw new Error(`${this.path} is shorter than its announced ${this.plan.size} bytes`);
    }
  }

  private startRead(start: number): Promise<void> {
    const done = this.content.read(start, this.chunkBytes).then((buf) => {
      if (this.prefetch?.done === done) this.prefetch = null;
      const expect = Math.min(this.chunkBytes, this.plan.size - start);
      if (buf.length < expect) throw new Error(`${this.path} is shorter than its announced ${this.plan.size} bytes`);
      if (this.finished) return;
      // Chunks wholly before the unacknowledged window are done with: RFC 7440 restarts
      // never go back past the last ACK. That keeps memory to the window and one chunk ahead.
      const windowStart = this.state.acked * this.plan.blksize;
      this.chunks = this.chunks.filter((c) => c.start + c.buf.length > windowStart);
      this.chunks.push({ start, buf: buf.length > expect ? buf.subarray(0, expect) : buf });
      this.chunks.sort((a, b) => a.start - b.start);
    }, (err: unknown) => {
      if (this.prefetch?.done === done) this.prefetch = null;
      throw err;
    });
    this.prefetch = { start, done };
    return done;
  }

  private armTimer(delayMs: number): void {
    if (this.timer && this.timerDelay === delayMs) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timerDelay = delayMs;
    this.timer = setTimeout(this.onTimeout, delayMs);
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly onTimeout = (): void => {
    this.timer = null;
    try {
      this.dispatch({ type: 'timeout' });
    } catch (e) {
      this.crashed(e);
    }
  };

  private readonly ignoreSendError = (e: unknown): void => {
    this.log.debug('tftp send failed', { client: fmt(this.client), error: String(e) });
  };

  private end(status: TransferStatus, error?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelTimer();
    this.port.close();
    this.queue.length = 0;
    this.chunks = [];
    this.window = null;
    const s = this.state;
    const acked = status === 'complete' ? this.plan.size : Math.min(this.plan.size, s.acked * this.plan.blksize);
    const r: TransferReport = {
      client: this.client,
      path: this.path,
      status,
      bytes: acked,
      size: this.plan.size,
      blksize: this.plan.blksize,
      windowsize: this.plan.windowsize,
      retransmits: s.retransmits,
      durationMs: this.nowMs() - this.started,
      ...(error === undefined ? {} : { error }),
    };
    this.ended = closeQuietly(this.content).then(() => this.onEnd(r));
  }
}
