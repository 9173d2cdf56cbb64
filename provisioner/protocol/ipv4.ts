// IPv4 packets (RFC 791) and the Internet checksum (RFC 1071) the transport codecs share. Pure:
// bytes in, an Ipv4Packet out, or a DecodeError naming the field and offset.
//
// Decoding checks structure only. A wrong header checksum is reported in headerChecksumOk rather
// than thrown, so a capture can show the bad packet; whether to drop it is the receiver's call.
// The payload is a view trimmed to the total length, which drops Ethernet padding. Fragments are
// not reassembled. The reserved flag bit is ignored and not re-encoded.
//
// A capture taken on the sending host with segmentation offload can hold a packet whose total
// length is 0 or shorter than what follows; that is refused here as IPV4_BAD_TOTAL_LENGTH.
import { DecodeError } from '../../lib/errors.ts';
import { ipv4ToInt } from '../../lib/ids.ts';

export const IP_PROTOCOL = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** The codes decodeIpv4 throws in DecodeError.code. */
export const IPV4_DECODE_ERRORS = {
  IPV4_TRUNCATED: 'the packet ends inside the header or its options',
  IPV4_BAD_VERSION: 'the version field is not 4',
  IPV4_BAD_IHL: 'the header length is below 5 words (20 bytes)',
  IPV4_BAD_TOTAL_LENGTH: 'the total length is shorter than the header or longer than the bytes given',
} as const;
export type Ipv4DecodeErrorCode = keyof typeof IPV4_DECODE_ERRORS;

export interface Ipv4Packet {
  src: string;
  dst: string;
  protocol: number;
  ttl: number;
  id: number;
  tos: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In bytes (the field times 8). */
  fragmentOffset: number;
  /** Header options, usually empty; a view into the input. */
  options: Buffer;
  /** A view trimmed to totalLength - headerLength. */
  payload: Buffer;
  /** Decoding never throws on a bad checksum; it says so here. */
  headerChecksumOk: boolean;
  /** Only from partial decoding: the packet goes on past the bytes given, `payload` is cut short. */
  truncated?: true;
}

export interface Ipv4DecodeOptions {
  /**
   * The bytes may stop before the packet does (a capture's snaplen): a total length beyond them is
   * accepted, `payload` holds what is there and `truncated` is set. A header cut off is still
   * IPV4_TRUNCATED.
   */
  partial?: boolean;
}

export type Ipv4PacketInput = Omit<Ipv4Packet, 'headerChecksumOk' | 'options' | 'truncated'> & { options?: Buffer };

export const IPV4_MIN_HEADER = 20;
export const IPV4_MAX_HEADER = 60;
export const IPV4_MAX_TOTAL_LENGTH = 0xffff;

// Names and offsets of the fixed header fields, to say which one a short packet cuts off.
const FIXED_FIELDS: readonly (readonly [number, string])[] = [
  [0, 'version'], [1, 'tos'], [2, 'totalLength'], [4, 'id'], [6, 'flags'], [8, 'ttl'],
  [9, 'protocol'], [10, 'headerChecksum'], [12, 'src'], [16, 'dst'],
];

function truncatedField(length: number): readonly [number, string] {
  let found = FIXED_FIELDS[0]!;
  for (const f of FIXED_FIELDS) if (f[0] <= length) found = f;
  return found;
}

/**
 * Adds the big-endian 16-bit words of b[start..end) to `sum` without folding (a double stays exact
 * far beyond any Buffer's worth of 0xffff words). An odd last byte counts as a word padded with a
 * zero byte, as RFC 1071 says for the end of the data.
 */
export function sumWords(b: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  const pairsEnd = end - ((end - start) & 1);
  for (; i < pairsEnd; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

/** One's-complement fold of a running sum to 16 bits, then complemented: the checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/**
 * RFC 1071 over the concatenation of `parts`, without concatenating them: a part of odd length
 * lends its last byte to the first byte of the next. Verifying data that holds its own checksum
 * gives 0.
 */
export function internetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  let odd = false;
  for (const p of parts) {
    let start = 0;
    if (odd && p.length > 0) {
      sum += p[0]!;
      start = 1;
      odd = false;
    }
    const n = p.length - start;
    sum = sumWords(p, start, p.length, sum);
    if (n & 1) odd = true;
  }
  return finishChecksum(sum);
}

/** The RFC 768/793 pseudo-header words (addresses, protocol, transport length), unfolded. */
export function pseudoHeaderSum(srcIp: string, dstIp: string, protocol: number, length: number): number {
  const s = ipToInt(srcIp, 'srcIp');
  const d = ipToInt(dstIp, 'dstIp');
  return (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + protocol + length;
}

/** ipv4ToInt for encoders: a malformed address is the caller's bug, a RangeError. */
export function ipToInt(ip: string, field: string): number {
  try {
    return ipv4ToInt(ip);
  } catch {
    throw new RangeError(`${field}: invalid IPv4 address '${ip}'`);
  }
}

/** The 4 bytes at `offset` as a dotted quad. */
export function ipv4FromBytes(b: Uint8Array, offset: number): string {
  return `${b[offset]!}.${b[offset + 1]!}.${b[offset + 2]!}.${b[offset + 3]!}`;
}

/** Decodes one packet. Throws DecodeError (codes in IPV4_DECODE_ERRORS) and nothing else. */
export function decodeIpv4(b: Buffer, o?: Ipv4DecodeOptions): Ipv4Packet {
  if (b.length < 1) throw new DecodeError('IPV4_TRUNCATED', 'version', 0, 'an empty buffer has no IPv4 header');
  const version = b[0]! >>> 4;
  if (version !== 4) throw new DecodeError('IPV4_BAD_VERSION', 'version', 0, `version is ${version}, not 4`);
  const hlen = (b[0]! & 0x0f) * 4;
  if (hlen < IPV4_MIN_HEADER) throw new DecodeError('IPV4_BAD_IHL', 'ihl', 0, `header length ${hlen / 4} words is below the minimum of 5`);
  if (b.length < IPV4_MIN_HEADER) {
    const [offset, field] = truncatedField(b.length);
    throw new DecodeError('IPV4_TRUNCATED', field, offset, `a ${b.length}-byte packet is shorter than the 20-byte IPv4 header`);
  }
  if (b.length < hlen) throw new DecodeError('IPV4_TRUNCATED', 'options', IPV4_MIN_HEADER, `the header claims ${hlen} bytes, only ${b.length} are given`);
  const total = (b[2]! << 8) | b[3]!;
  if (total < hlen) throw new DecodeError('IPV4_BAD_TOTAL_LENGTH', 'totalLength', 2, `total length ${total} is shorter than the ${hlen}-byte header`);
  const truncated = total > b.length;
  if (truncated && !o?.partial) throw new DecodeError('IPV4_BAD_TOTAL_LENGTH', 'totalLength', 2, `total length ${total} is longer than the ${b.length} bytes given`);
  const frag = (b[6]! << 8) | b[7]!;
  const packet: Ipv4Packet = {
    src: ipv4FromBytes(b, 12),
    dst: ipv4FromBytes(b, 16),
    protocol: b[9]!,
    ttl: b[8]!,
    id: (b[4]! << 8) | b[5]!,
    tos: b[1]!,
    dontFragment: (frag & 0x4000) !== 0,
    moreFragments: (frag & 0x2000) !== 0,
    fragmentOffset: (frag & 0x1fff) * 8,
    options: b.subarray(IPV4_MIN_HEADER, hlen),
    payload: b.subarray(hlen, truncated ? b.length : total),
    headerChecksumOk: finishChecksum(sumWords(b, 0, hlen, 0)) === 0,
  };
  if (truncated) packet.truncated = true;
  return packet;
}

function checkUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`cannot encode ${what} ${value}: not 0-${max}`);
}

/** Header length for a packet with these options: 20 + options. */
export function ipv4HeaderLength(options: Buffer | undefined): number {
  return IPV4_MIN_HEADER + (options?.length ?? 0);
}

/**
 * Writes the header (checksum included) for a packet carrying `payloadLength` bytes at `offset`
 * and returns the header length; the caller writes the payload after it. For encoders that build
 * a whole frame in one buffer. RangeError for a value with no wire form.
 */
export function encodeIpv4HeaderInto(p: Omit<Ipv4PacketInput, 'payload'>, payloadLength: number, into: Buffer, offset: number): number {
  const options = p.options;
  if (options && (options.length % 4 !== 0 || options.length > IPV4_MAX_HEADER - IPV4_MIN_HEADER)) {
    throw new RangeError(`cannot encode ${options.length} option bytes: not a multiple of 4 up to 40`);
  }
  const hlen = ipv4HeaderLength(options);
  const total = hlen + payloadLength;
  if (total > IPV4_MAX_TOTAL_LENGTH) throw new RangeError(`cannot encode a ${total}-byte packet: more than ${IPV4_MAX_TOTAL_LENGTH}`);
  checkUint(p.tos, 0xff, 'tos');
  checkUint(p.id, 0xffff, 'id');
  checkUint(p.ttl, 0xff, 'ttl');
  checkUint(p.protocol, 0xff, 'protocol');
  if (!Number.isInteger(p.fragmentOffset) || p.fragmentOffset < 0 || p.fragmentOffset % 8 !== 0 || p.fragmentOffset > 0x1fff * 8) {
    throw new RangeError(`cannot encode fragment offset ${p.fragmentOffset}: not a multiple of 8 up to ${0x1fff * 8}`);
  }
  const src = ipToInt(p.src, 'src');
  const dst = ipToInt(p.dst, 'dst');
  if (offset < 0 || offset + hlen > into.length) throw new RangeError(`no room for a ${hlen}-byte IPv4 header at offset ${offset}`);
  into[offset] = 0x40 | (hlen >>> 2);
  into[offset + 1] = p.tos;
  into.writeUInt16BE(total, offset + 2);
  into.writeUInt16BE(p.id, offset + 4);
  into.writeUInt16BE((p.dontFragment ? 0x4000 : 0) | (p.moreFragments ? 0x2000 : 0) | (p.fragmentOffset / 8), offset + 6);
  into[offset + 8] = p.ttl;
  into[offset + 9] = p.protocol;
  into.writeUInt16BE(0, offset + 10);
  into.writeUInt32BE(src, offset + 12);
  into.writeUInt32BE(dst, offset + 16);
  if (options) into.set(options, offset + IPV4_MIN_HEADER);
  into.writeUInt16BE(finishChecksum(sumWords(into, offset, offset + hlen, 0)), offset + 10);
  return hlen;
}

/** Encodes a packet with its header checksum. RangeError for a value with no wire form. */
export function encodeIpv4(p: Ipv4PacketInput): Buffer {
  const hlen = ipv4HeaderLength(p.options);
  // Checked before allocating so an oversize payload cannot make a huge buffer first.
  if (hlen + p.payload.length > IPV4_MAX_TOTAL_LENGTH) throw new RangeError(`cannot encode a ${hlen + p.payload.length}-byte packet: more than ${IPV4_MAX_TOTAL_LENGTH}`);
  const out = Buffer.allocUnsafe(hlen + p.payload.length);
  encodeIpv4HeaderInto(p, p.payload.length, out, 0);
  out.set(p.payload, hlen);
  return out;
}
