// TCP segments over IPv4 and IPv6 (RFC 9293) and sequence-number arithmetic. Pure: bytes in, a
// TcpSegment out, or a DecodeError naming the field and offset.
//
// The options area must be well formed (every option inside it, lengths of at least 2, MSS 4
// bytes, window scale 3); it is also kept raw so nothing is lost. Only MSS and window scale are
// typed: those are what a userspace stack needs to talk to an HTTP boot server. The window scale
// is reported as sent, even above RFC 7323's limit of 14. The NS bit and the reserved bits are
// ignored and not re-encoded.
//
// The checksum covers a pseudo-header of the IP addresses, so it is only verified when the caller
// passes them, IPv4 or IPv6 by their form (checksumOk null otherwise); a bad checksum is reported, not thrown. Segments
// captured on the sending Linux host (loopback included) usually carry only the pseudo-header
// sum and report checksumOk false; kernel-made RSTs are complete.
import { DecodeError } from '../../lib/errors.ts';
import { IP_PROTOCOL, finishChecksum, sumWords } from './ipv4.ts';
import { transportPseudoHeaderSum } from './ipv6.ts';

/** The codes decodeTcp throws in DecodeError.code. */
export const TCP_DECODE_ERRORS = {
  TCP_TRUNCATED: 'the segment ends inside the 20-byte header or its options',
  TCP_BAD_DATA_OFFSET: 'the data offset is below 5 words (20 bytes)',
  TCP_BAD_OPTION: 'an option has no length byte, a length below 2, runs past the options area, or MSS/window scale has the wrong length',
} as const;
export type TcpDecodeErrorCode = keyof typeof TCP_DECODE_ERRORS;

export interface TcpFlags {
  fin: boolean;
  syn: boolean;
  rst: boolean;
  psh: boolean;
  ack: boolean;
  urg: boolean;
  ece: boolean;
  cwr: boolean;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  /** Unsigned 32-bit. */
  seq: number;
  /** Unsigned 32-bit. */
  ack: number;
  flags: TcpFlags;
  window: number;
  urgent: number;
  /** From the MSS option (kind 2), when present. */
  mss?: number;
  /** From the window scale option (kind 3), when present: the shift count as sent. */
  windowScale?: number;
  /** Raw option bytes, padding included; a view into the input. */
  options: Buffer;
  /** A view into the input. */
  payload: Buffer;
  /** null: not verified (no IP addresses given). */
  checksumOk: boolean | null;
}

export interface TcpSegmentInput {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: Partial<TcpFlags>;
  window: number;
  /** Sends an MSS option first. */
  mss?: number;
  /** Sends NOP + window scale after the MSS. */
  windowScale?: number;
  /** Raw option bytes written after MSS and window scale; the whole is zero-padded to 4 bytes. */
  options?: Buffer;
  urgent?: number;
  payload?: Buffer;
}

export const TCP_MIN_HEADER = 20;
export const TCP_MAX_OPTIONS = 40;
export const TCP_OPTION = { EOL: 0, NOP: 1, MSS: 2, WINDOW_SCALE: 3 } as const;

// Names and offsets of the fixed header fields, to say which one a short segment cuts off.
const FIXED_FIELDS: readonly (readonly [number, string])[] = [
  [0, 'srcPort'], [2, 'dstPort'], [4, 'seq'], [8, 'ack'], [12, 'dataOffset'], [13, 'flags'],
  [14, 'window'], [16, 'checksum'], [18, 'urgent'],
];
const NO_PAYLOAD = Buffer.alloc(0);

/**
 * Decodes one segment (the whole IP payload: TCP has no length field of its own). When both
 * addresses are given the checksum is verified; a malformed address is a RangeError (the caller's
 * bug). Otherwise throws DecodeError (codes in TCP_DECODE_ERRORS) and nothing else.
 */
export function decodeTcp(b: Buffer, srcIp?: string, dstIp?: string): TcpSegment {
  const hlen = b.length > 12 ? (b[12]! >>> 4) * 4 : TCP_MIN_HEADER;
  if (hlen < TCP_MIN_HEADER) throw new DecodeError('TCP_BAD_DATA_OFFSET', 'dataOffset', 12, `data offset ${hlen / 4} words is below the minimum of 5`);
  if (b.length < TCP_MIN_HEADER) {
    let [offset, field] = FIXED_FIELDS[0]!;
    for (const f of FIXED_FIELDS) if (f[0] <= b.length) [offset, field] = f;
    throw new DecodeError('TCP_TRUNCATED', field, offset, `a ${b.length}-byte segment is shorter than the 20-byte TCP header`);
  }
  if (b.length < hlen) throw new DecodeError('TCP_TRUNCATED', 'options', TCP_MIN_HEADER, `the header claims ${hlen} bytes, only ${b.length} are given`);

  let mss: number | undefined;
  let windowScale: number | undefined;
  for (let i = TCP_MIN_HEADER; i < hlen; ) {
    const kind = b[i]!;
    if (kind === TCP_OPTION.EOL) break;
    if (kind === TCP_OPTION.NOP) {
      i++;
      continue;
    }
    const field = `option.${kind}`;
    if (i + 1 >= hlen) throw new DecodeError('TCP_BAD_OPTION', field, i, `option ${kind} has no length byte before the end of the options`);
    const len = b[i + 1]!;
    if (len < 2) throw new DecodeError('TCP_BAD_OPTION', field, i, `option ${kind} has length ${len}, below 2`);
    if (i + len > hlen) throw new DecodeError('TCP_BAD_OPTION', field, i, `option ${kind} claims ${len} bytes, only ${hlen - i} remain in the options`);
    if (kind === TCP_OPTION.MSS) {
      if (len !== 4) throw new DecodeError('TCP_BAD_OPTION', field, i, `MSS option has length ${len}, not 4`);
      mss ??= (b[i + 2]! << 8) | b[i + 3]!;
    } else if (kind === TCP_OPTION.WINDOW_SCALE) {
      if (len !== 3) throw new DecodeError('TCP_BAD_OPTION', field, i, `window scale option has length ${len}, not 3`);
      windowScale ??= b[i + 2]!;
    }
    i += len;
  }

  const f = b[13]!;
  const segment: TcpSegment = {
    srcPort: (b[0]! << 8) | b[1]!,
    dstPort: (b[2]! << 8) | b[3]!,
    seq: b.readUInt32BE(4),
    ack: b.readUInt32BE(8),
    flags: {
      fin: (f & 0x01) !== 0,
      syn: (f & 0x02) !== 0,
      rst: (f & 0x04) !== 0,
      psh: (f & 0x08) !== 0,
      ack: (f & 0x10) !== 0,
      urg: (f & 0x20) !== 0,
      ece: (f & 0x40) !== 0,
      cwr: (f & 0x80) !== 0,
    },
    window: (b[14]! << 8) | b[15]!,
    urgent: (b[18]! << 8) | b[19]!,
    options: b.subarray(TCP_MIN_HEADER, hlen),
    payload: b.subarray(hlen),
    checksumOk: null,
  };
  if (mss !== undefined) segment.mss = mss;
  if (windowScale !== undefined) segment.windowScale = windowScale;
  if (srcIp !== undefined && dstIp !== undefined) {
    segment.checksumOk = finishChecksum(sumWords(b, 0, b.length, transportPseudoHeaderSum(srcIp, dstIp, IP_PROTOCOL.TCP, b.length))) === 0;
  }
  return segment;
}

function checkUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`cannot encode ${what} ${value}: not 0-${max}`);
}

/** Header length (20 + options, padded to 4) for a segment with these options. */
export function tcpHeaderLength(s: Pick<TcpSegmentInput, 'mss' | 'windowScale' | 'options'>): number {
  const raw = (s.mss !== undefined ? 4 : 0) + (s.windowScale !== undefined ? 4 : 0) + (s.options?.length ?? 0);
  return TCP_MIN_HEADER + ((raw + 3) & ~3);
}

/**
 * Writes header, payload and checksum at `offset` and returns the segment length. For encoders
 * that build a whole frame in one buffer. RangeError for a value with no wire form.
 */
export function encodeTcpInto(s: TcpSegmentInput, srcIp: string, dstIp: string, into: Buffer, offset: number): number {
  checkUint(s.srcPort, 0xffff, 'srcPort');
  checkUint(s.dstPort, 0xffff, 'dstPort');
  checkUint(s.seq, 0xffffffff, 'seq');
  checkUint(s.ack, 0xffffffff, 'ack');
  checkUint(s.window, 0xffff, 'window');
  checkUint(s.urgent ?? 0, 0xffff, 'urgent');
  if (s.mss !== undefined) checkUint(s.mss, 0xffff, 'mss');
  if (s.windowScale !== undefined) checkUint(s.windowScale, 0xff, 'windowScale');
  const hlen = tcpHeaderLength(s);
  if (hlen - TCP_MIN_HEADER > TCP_MAX_OPTIONS) throw new RangeError(`cannot encode ${hlen - TCP_MIN_HEADER} option bytes: more than ${TCP_MAX_OPTIONS}`);
  const payload = s.payload ?? NO_PAYLOAD;
  const length = hlen + payload.length;
  if (length > 0xffff) throw new RangeError(`cannot encode a ${length}-byte TCP segment: more than 65535`);
  const pseudo = transportPseudoHeaderSum(srcIp, dstIp, IP_PROTOCOL.TCP, length);
  if (offset < 0 || offset + length > into.length) throw new RangeError(`no room for a ${length}-byte TCP segment at offset ${offset}`);

  const fl = s.flags;
  into.writeUInt16BE(s.srcPort, offset);
  into.writeUInt16BE(s.dstPort, offset + 2);
  into.writeUInt32BE(s.seq, offset + 4);
  into.writeUInt32BE(s.ack, offset + 8);
  into[offset + 12] = (hlen / 4) << 4;
  into[offset + 13] =
    (fl.fin ? 0x01 : 0) | (fl.syn ? 0x02 : 0) | (fl.rst ? 0x04 : 0) | (fl.psh ? 0x08 : 0) |
    (fl.ack ? 0x10 : 0) | (fl.urg ? 0x20 : 0) | (fl.ece ? 0x40 : 0) | (fl.cwr ? 0x80 : 0);
  into.writeUInt16BE(s.window, offset + 14);
  into.writeUInt16BE(0, offset + 16);
  into.writeUInt16BE(s.urgent ?? 0, offset + 18);
  let at = offset + TCP_MIN_HEADER;
  if (s.mss !== undefined) {
    into[at] = TCP_OPTION.MSS;
    into[at + 1] = 4;
    into.writeUInt16BE(s.mss, at + 2);
    at += 4;
  }
  if (s.windowScale !== undefined) {
    into[at] = TCP_OPTION.NOP;
    into[at + 1] = TCP_OPTION.WINDOW_SCALE;
    into[at + 2] = 3;
    into[at + 3] = s.windowScale;
    at += 4;
  }
  if (s.options) {
    into.set(s.options, at);
    at += s.options.length;
  }
  into.fill(0, at, offset + hlen);
  into.set(payload, offset + hlen);
  into.writeUInt16BE(finishChecksum(sumWords(into, offset, offset + length, pseudo)), offset + 16);
  return length;
}

/** Encodes a segment with its checksum. RangeError for a value with no wire form. */
export function encodeTcp(s: TcpSegmentInput, srcIp: string, dstIp: string): Buffer {
  const hlen = tcpHeaderLength(s);
  if (hlen - TCP_MIN_HEADER > TCP_MAX_OPTIONS) throw new RangeError(`cannot encode ${hlen - TCP_MIN_HEADER} option bytes: more than ${TCP_MAX_OPTIONS}`);
  const out = Buffer.allocUnsafe(hlen + (s.payload?.length ?? 0));
  encodeTcpInto(s, srcIp, dstIp, out, 0);
  return out;
}

/** a + n modulo 2^32; n may be negative. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** How far b is ahead of a, as a signed 32-bit number (RFC 1982 serial arithmetic). */
export function seqDiff(a: number, b: number): number {
  return (b - a) | 0;
}

/**
 * a is before b in sequence space (RFC 9293 §3.4: modular compare). Exactly 2^31 apart is
 * ambiguous and answers true both ways, as Linux's before() does.
 */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLeq(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
