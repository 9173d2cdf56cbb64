// TFTP transfers followed through a capture. A read request goes to port 69; the server answers
// from a new port (its transfer id), so a transfer is keyed by the client's endpoint and the
// server's address, and every later datagram is matched by the client port first (a number, no
// string building on the DATA/ACK path). Per transfer only counters are kept — distinct blocks,
// bytes, retransmissions, duplicate ACKs — never per-block history: the highest block number
// seen decides whether a DATA block is new or sent again, counted across the 16-bit wrap (to 0
// or, as some servers do, to 1).
import { decodeTftp, parseOptionValue, type TftpOption, type TftpPacket } from '../../provisioner/protocol/tftp.ts';
import { classifyBootPath, detectBootFileContent, type BootArtifact, type BootFileContent } from './boot-artifacts.ts';
import type { TftpResult, TftpTransferReport } from './capture-report.ts';
import { durationSeconds, secondsSince } from './packet-decoding.ts';
import { formatBytes, formatRate, formatSeconds } from './summary-text.ts';

/** A transfer with no packet for this long while the capture goes on has stalled (clients retry within 1-4 s). */
export const TFTP_STALL_SECONDS = 5;
const STALL_NS = BigInt(TFTP_STALL_SECONDS) * 1_000_000_000n;
const REQUEST_FRAMES_KEPT = 10;

const ERROR_NAMES: readonly string[] = [
  'not defined', 'file not found', 'access violation', 'disk full', 'illegal operation',
  'unknown transfer id', 'file exists', 'no such user', 'option negotiation refused',
];

type Phase = 'requested' | 'transferring' | 'complete' | 'error' | 'aborted';

/** A transfer being followed: the report's counters as they stand, plus what following needs. */
export interface TftpTransferState extends Pick<TftpTransferReport,
  'mac' | 'clientIp' | 'clientPort' | 'serverIp' | 'op' | 'filename' | 'mode' | 'optionsIgnored' | 'blksize' | 'windowsize' | 'tsize'
  | 'bytes' | 'blocks' | 'blocksMissing' | 'retransmittedBlocks' | 'retransmittedBytes' | 'duplicateAcks'> {
  /** -1 until the server answers. */
  serverPort: number;
  requested: readonly TftpOption[];
  oack: readonly TftpOption[] | null;
  phase: Phase;
  error: { code: number; message: string; by: 'server' | 'client'; frame: number } | null;
  /** Highest DATA block number seen (16-bit), -1 before the first. */
  lastBlock: number;
  lastAck: number;
  requests: number;
  requestFrames: number[];
  firstNs: bigint;
  lastNs: bigint;
  /** The last time the transfer moved on: the request, the OACK, a new block, an ACK of a new block. */
  progressNs: bigint;
  firstFrame: number;
  lastFrame: number;
  oackFrame: number;
  firstDataFrame: number;
  lastDataFrame: number;
  /** The frame that ended it (last block, ERROR, or a new request that replaced it); 0 while open. */
  endFrame: number;
  /** The client sent a new request from the same port before this one ended. */
  replaced: boolean;
  artifact: BootArtifact;
  content: BootFileContent | null;
  /** Position in the capture's list of transfers. */
  index: number;
}

export interface TftpRequestResult {
  transfer: TftpTransferState;
  /** false for a retransmitted request. */
  started: boolean;
  /** A transfer on the same client port that this request ended. */
  closed: TftpTransferState | null;
}

function latest<T>(list: readonly T[] | undefined, match: (t: T) => boolean): T | undefined {
  if (!list) return undefined;
  for (let i = list.length - 1; i >= 0; i--) if (match(list[i]!)) return list[i];
  return undefined;
}

const isOpen = (t: TftpTransferState): boolean => t.phase === 'requested' || t.phase === 'transferring';
const NEGOTIATED = new Set(['blksize', 'windowsize', 'tsize', 'timeout']);

export class TftpTransfers {
  private readonly byClientPort = new Map<number, TftpTransferState[]>();
  private readonly all: TftpTransferState[] = [];

  /** A read or write request to port 69. */
  request(frame: number, ns: bigint, mac: string, clientIp: string, clientPort: number, serverIp: string,
    req: Extract<TftpPacket, { op: 'RRQ' | 'WRQ' }>): TftpRequestResult {
    let list = this.byClientPort.get(clientPort);
    let closed: TftpTransferState | null = null;
    const prev = latest(list, (t) => t.clientIp === clientIp && t.serverIp === serverIp);
    if (prev && prev.phase === 'requested' && prev.serverPort === -1 && prev.filename === req.filename && prev.op === req.op) {
      prev.requests++;
      if (prev.requestFrames.length < REQUEST_FRAMES_KEPT) prev.requestFrames.push(frame);
      prev.lastNs = ns;
      prev.progressNs = ns;
      prev.lastFrame = frame;
      return { transfer: prev, started: false, closed: null };
    }
    if (prev && isOpen(prev)) {
      prev.replaced = true;
      // Asked again before any data: the first request was abandoned (a size probe, or no answer).
      if (prev.blocks === 0 && prev.oack !== null) prev.phase = 'aborted';
      prev.endFrame = frame;
      closed = prev;
    }
    if (list) list = list.filter((t) => isOpen(t) && !t.replaced);
    else list = [];
    const t: TftpTransferState = {
      mac, clientIp, clientPort, serverIp, serverPort: -1, op: req.op, filename: req.filename, mode: req.mode,
      requested: req.options, oack: null, optionsIgnored: false, blksize: 512, windowsize: 1, tsize: null,
      phase: 'requested', error: null, bytes: 0, blocks: 0, blocksMissing: 0, retransmittedBlocks: 0,
      retransmittedBytes: 0, duplicateAcks: 0, lastBlock: -1, lastAck: -1, requests: 1, requestFrames: [frame],
      firstNs: ns, lastNs: ns, progressNs: ns, firstFrame: frame, lastFrame: frame, oackFrame: 0, firstDataFrame: 0,
      lastDataFrame: 0, endFrame: 0, replaced: false, artifact: classifyBootPath(req.filename), content: null, index: this.all.length,
    };
    list.push(t);
    this.byClientPort.set(clientPort, list);
    this.all.push(t);
    return { transfer: t, started: true, closed };
  }

  /**
   * A UDP datagram that is not DHCP and not to port 69: the transfer it belongs to, or undefined
   * when it belongs to none. Throws DecodeError for a datagram of a transfer that does not
   * decode as TFTP. `wireLength` is the payload's length on the wire (more than payload.length
   * when the capture cut the frame).
   */
  datagram(frame: number, ns: bigint, srcIp: string, srcPort: number, dstIp: string, dstPort: number,
    payload: Buffer, wireLength: number): TftpTransferState | undefined {
    const toClient = this.byClientPort.get(dstPort);
    if (toClient) {
      for (let i = toClient.length - 1; i >= 0; i--) {
        const t = toClient[i]!;
        if (t.clientIp !== dstIp || t.serverIp !== srcIp) continue;
        if (t.serverPort === -1) t.serverPort = srcPort;
        else if (t.serverPort !== srcPort) return t; // a second server session (a re-sent request answered twice)
        this.fromServer(t, frame, ns, decodeTftp(payload), wireLength);
        return t;
      }
    }
    const fromClient = this.byClientPort.get(srcPort);
    if (fromClient) {
      for (let i = fromClient.length - 1; i >= 0; i--) {
        const t = fromClient[i]!;
        if (t.clientIp !== srcIp || t.serverIp !== dstIp) continue;
        if (t.serverPort !== -1 && t.serverPort !== dstPort) return t;
        this.fromClient(t, frame, ns, decodeTftp(payload), wireLength);
        return t;
      }
    }
    return undefined;
  }

  private fromServer(t: TftpTransferState, frame: number, ns: bigint, p: TftpPacket, wireLength: number): void {
    t.lastNs = ns;
    t.lastFrame = frame;
    switch (p.op) {
      case 'DATA':
        if (t.op === 'RRQ') this.data(t, frame, ns, p.block, p.data, wireLength - 4);
        return;
      case 'ACK':
        if (t.op === 'WRQ') this.ack(t, ns, p.block);
        return;
      case 'OACK':
        if (t.phase !== 'requested' || t.oack !== null) return;
        t.oack = p.options;
        t.oackFrame = frame;
        t.progressNs = ns;
        for (const [name, value] of p.options) {
          const n = parseOptionValue(value);
          if (n === null) continue;
          if (name === 'blksize') t.blksize = n;
          else if (name === 'windowsize') t.windowsize = n;
          else if (name === 'tsize') t.tsize = n;
        }
        return;
      case 'ERROR':
        if (!isOpen(t)) return;
        t.error = { code: p.code, message: p.message, by: 'server', frame };
        t.phase = 'error';
        t.endFrame = frame;
        return;
      default:
        return;
    }
  }

  private fromClient(t: TftpTransferState, frame: number, ns: bigint, p: TftpPacket, wireLength: number): void {
    t.lastNs = ns;
    t.lastFrame = frame;
    switch (p.op) {
      case 'ACK':
        if (t.op === 'RRQ') this.ack(t, ns, p.block);
        return;
      case 'DATA':
        if (t.op === 'WRQ') this.data(t, frame, ns, p.block, p.data, wireLength - 4);
        return;
      case 'ERROR':
        if (!isOpen(t)) return;
        t.error = { code: p.code, message: p.message, by: 'client', frame };
        t.phase = 'aborted';
        t.endFrame = frame;
        return;
      default:
        return;
    }
  }

  private ack(t: TftpTransferState, ns: bigint, block: number): void {
    if (block === t.lastAck) t.duplicateAcks++;
    else t.progressNs = ns;
    t.lastAck = block;
  }

  private data(t: TftpTransferState, frame: number, ns: bigint, block: number, data: Buffer, length: number): void {
    if (t.firstDataFrame === 0) {
      t.firstDataFrame = frame;
      if (t.oack === null && t.requested.some(([name]) => NEGOTIATED.has(name))) t.optionsIgnored = true;
      // Without an OACK we still learn the block size from a full first block.
      if (length > t.blksize) t.blksize = length;
    }
    if (t.phase === 'requested') t.phase = 'transferring';
    let delta: number;
    if (t.lastBlock === -1) delta = block === 0 ? 1 : block;
    else if (t.lastBlock === 0xffff && block === 1 && t.blocks > 0) delta = 1; // wrapped to 1, skipping 0
    else delta = (block - t.lastBlock) & 0xffff;
    if (delta === 0 || delta >= 0x8000) {
      t.retransmittedBlocks++;
      t.retransmittedBytes += length;
      return;
    }
    if (t.blocks === 0 && t.content === null) t.content = detectBootFileContent(data) ?? null;
    t.progressNs = ns;
    t.blocks++;
    t.blocksMissing += delta - 1;
    t.bytes += length;
    t.lastBlock = block;
    t.lastDataFrame = frame;
    if (length < t.blksize && isOpen(t)) {
      t.phase = 'complete';
      t.endFrame = frame;
    }
  }

  /** Every transfer so far, in the order of their first request. */
  transfers(): readonly TftpTransferState[] {
    return this.all;
  }

  /** The report of one transfer (a size probe is recognised once the next request was seen). */
  reportOne(t: TftpTransferState, firstNs: bigint, lastNs: bigint): TftpTransferReport {
    let probe = false;
    if (t.phase === 'aborted' && t.blocks === 0) {
      for (let i = t.index + 1; i < this.all.length && !probe; i++) {
        const u = this.all[i]!;
        probe = u.clientIp === t.clientIp && u.filename === t.filename;
      }
    }
    return tftpTransferReport(t, firstNs, lastNs, probe);
  }

  /**
   * Reports for every transfer. `firstNs` is the capture's first timestamp, `lastNs` its latest:
   * an open transfer is 'timed-out' or 'no-response' only when the capture went on past it.
   */
  report(firstNs: bigint, lastNs: bigint): TftpTransferReport[] {
    // An aborted transfer followed by a request for the same file from the same client was a size probe.
    const lastRequest = new Map<string, number>();
    this.all.forEach((t, i) => lastRequest.set(`${t.clientIp}\0${t.filename}`, i));
    return this.all.map((t, i) => {
      const probe = t.phase === 'aborted' && t.blocks === 0 && (lastRequest.get(`${t.clientIp}\0${t.filename}`) ?? -1) > i;
      return tftpTransferReport(t, firstNs, lastNs, probe);
    });
  }
}

function resultOf(t: TftpTransferState, lastNs: bigint): TftpResult {
  switch (t.phase) {
    case 'complete': return 'complete';
    case 'error': return 'error';
    case 'aborted': return 'aborted';
    default: {
      // Packets that only repeat themselves (a server re-sending a block nobody ACKs) are no progress.
      const stalled = t.replaced || lastNs - t.progressNs >= STALL_NS;
      if (!stalled) return 'in-progress';
      return t.serverPort === -1 ? 'no-response' : 'timed-out';
    }
  }
}

function optionRecord(options: readonly TftpOption[]): Record<string, string> {
  const r: Record<string, string> = {};
  for (const [name, value] of options) r[name] = value;
  return r;
}

export function tftpTransferReport(t: TftpTransferState, firstNs: bigint, lastNs: bigint, sizeProbe: boolean): TftpTransferReport {
  const duration = durationSeconds(t.firstNs, t.lastNs);
  return {
    mac: t.mac,
    clientIp: t.clientIp,
    clientPort: t.clientPort,
    serverIp: t.serverIp,
    serverPort: t.serverPort === -1 ? null : t.serverPort,
    op: t.op,
    filename: t.filename,
    mode: t.mode,
    requested: optionRecord(t.requested),
    granted: t.oack === null ? null : optionRecord(t.oack),
    optionsIgnored: t.optionsIgnored,
    blksize: t.blksize,
    windowsize: t.windowsize,
    tsize: t.tsize,
    result: resultOf(t, lastNs),
    error: t.error === null ? null : { ...t.error, name: ERROR_NAMES[t.error.code] ?? `error ${t.error.code}` },
    sizeProbe,
    bytes: t.bytes,
    blocks: t.blocks,
    blocksMissing: t.blocksMissing,
    retransmittedBlocks: t.retransmittedBlocks,
    retransmittedBytes: t.retransmittedBytes,
    duplicateAcks: t.duplicateAcks,
    requests: t.requests,
    t: secondsSince(firstNs, t.firstNs),
    durationSeconds: duration,
    bytesPerSecond: duration > 0 ? Math.round(t.bytes / duration) : 0,
    firstFrame: t.firstFrame,
    lastFrame: t.lastFrame,
    frames: {
      requests: [...t.requestFrames],
      oack: t.oackFrame || null,
      firstData: t.firstDataFrame || null,
      lastData: t.lastDataFrame || null,
      error: t.error?.frame ?? null,
    },
    role: t.artifact.role,
    firmware: t.artifact.firmware ?? null,
    content: t.content,
  };
}

/** Evidence frames of a transfer, ascending. */
export function tftpFrames(r: TftpTransferReport): number[] {
  const f = new Set<number>([...r.frames.requests, r.firstFrame, r.lastFrame]);
  for (const x of [r.frames.oack, r.frames.firstData, r.frames.lastData, r.frames.error]) if (x !== null) f.add(x);
  return [...f].sort((a, b) => a - b);
}

/** "TFTP RRQ pxelinux.0 from 10.0.0.1: 42.4 kB in 0.050 s (848 kB/s), blksize 1456, complete". */
export function summarizeTftp(r: TftpTransferReport): string {
  const head = `TFTP ${r.op} ${r.filename} ${r.op === 'RRQ' ? 'from' : 'to'} ${r.serverIp}`;
  if (r.result === 'error' && r.blocks === 0) return `${head}: ERROR ${r.error?.code} (${r.error?.name}) "${r.error?.message}"`;
  if (r.result === 'aborted' && r.blocks === 0) {
    if (r.sizeProbe) return `${head}: size probe${r.tsize !== null ? ` (tsize ${r.tsize})` : ''}, ended by the client after the OACK`;
    return `${head}: ${r.error ? `aborted by the client: ERROR ${r.error.code} "${r.error.message}"` : 'abandoned by the client before any data'}`;
  }
  if (r.result === 'no-response') return `${head}: no answer to ${r.requests} request${r.requests > 1 ? 's' : ''}`;
  const size = r.tsize !== null && r.result !== 'complete' ? `${formatBytes(r.bytes)} of ${formatBytes(r.tsize)}` : formatBytes(r.bytes);
  const parts = [`${head}: ${size} in ${formatSeconds(r.durationSeconds)}${r.bytesPerSecond > 0 && r.bytes >= 10_000 ? ` (${formatRate(r.bytesPerSecond)})` : ''}`];
  const opts = [`blksize ${r.blksize}`];
  if (r.windowsize > 1) opts.push(`windowsize ${r.windowsize}`);
  parts.push(opts.join(', '));
  if (r.retransmittedBlocks > 0) parts.push(`${r.retransmittedBlocks} blocks re-sent`);
  if (r.blocksMissing > 0) parts.push(`${r.blocksMissing} blocks not in the capture`);
  if (r.requests > 1) parts.push(`request sent ${r.requests} times`);
  if (r.result === 'error') parts.push(`ERROR ${r.error?.code} (${r.error?.name}) "${r.error?.message}"`);
  else if (r.result === 'aborted') parts.push(r.error ? `aborted by the client: ERROR ${r.error.code} "${r.error.message}"` : 'abandoned by the client');
  else parts.push(r.result);
  return parts.join(', ');
}
