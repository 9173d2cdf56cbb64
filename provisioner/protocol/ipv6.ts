// IPv6 packets (RFC 8200), their addresses in RFC 5952 text, and the pseudo-header the transport
// checksums cover. Pure: bytes in, an Ipv6Packet out, or a DecodeError naming the field and offset.
//
// The extension headers a capture needs to get past are walked to the upper-layer protocol:
// hop-by-hop options (0), routing (43), destination options (60) and fragment (44). Anything else
// (ICMPv6, TCP, UDP, 59 "no next header", AH, ESP, unknown numbers) ends the walk and is the
// packet's nextHeader. A fragment with a non-zero offset ends the walk too: the upper-layer header
// is only in the first fragment, so what follows is data (as decodeFrame treats IPv4 fragments).
// Fragments are not reassembled.
//
// Addresses are written the way tshark (and inet_ntop) writes them: RFC 5952 (the longest run of
// two or more zero groups compressed, the first on a tie, lower-case) plus the old dotted-quad tail
// for ::a.b.c.d and ::ffff:a.b.c.d, so the two agree on every address.
//
// Jumbograms (RFC 2675, payload length 0 with a hop-by-hop jumbo option) are not supported; a
// capture taken on the sending host with BIG TCP can hold a payload length of 0, which decodes as
// an empty payload.
import { DecodeError } from '../../lib/errors.ts';
import { ipv4FromBytes, pseudoHeaderSum } from './ipv4.ts';

export const IPV6_NEXT_HEADER = {
  HOP_BY_HOP: 0,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ICMPV6: 58,
  NO_NEXT_HEADER: 59,
  DESTINATION_OPTIONS: 60,
} as const;

/** The codes decodeIpv6 throws in DecodeError.code. */
export const IPV6_DECODE_ERRORS = {
  IPV6_TRUNCATED: 'the packet ends inside the 40-byte header, or (partial decoding) inside an extension header',
  IPV6_BAD_VERSION: 'the version field is not 6',
  IPV6_BAD_PAYLOAD_LENGTH: 'the payload length is longer than the bytes given',
  IPV6_BAD_EXTENSION: 'an extension header runs past the payload length',
} as const;
export type Ipv6DecodeErrorCode = keyof typeof IPV6_DECODE_ERRORS;

export interface Ipv6ExtensionHeader {
  /** The header's own type (0, 43, 44 or 60): the Next Header value that announced it. */
  type: number;
  /**
   * The header after its first two bytes (Next Header and length; in a fragment header, Next
   * Header and a reserved byte): 8n + 6 bytes, 6 for a fragment header. A view into the input.
   */
  data: Buffer;
}

export interface Ipv6Fragment {
  /** In bytes (the field times 8). */
  offset: number;
  more: boolean;
  id: number;
}

export interface Ipv6Packet {
  /** RFC 5952 text, as tshark prints it. */
  src: string;
  dst: string;
  /** The upper-layer protocol after the extension headers (17 UDP, 6 TCP, 58 ICMPv6, 59 none...). */
  nextHeader: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
  /** The field as sent: extension headers plus upper-layer bytes. */
  payloadLength: number;
  /** The extension headers walked, in order; usually empty. */
  extensionHeaders: Ipv6ExtensionHeader[];
  /** From the first fragment header, when there is one. */
  fragment?: Ipv6Fragment;
  /** The upper-layer bytes: a view after the extension headers, trimmed to the payload length. */
  payload: Buffer;
  /** Only from partial decoding: the packet goes on past the bytes given, `payload` is cut short. */
  truncated?: true;
}

export type Ipv6PacketInput = Omit<Ipv6Packet, 'payloadLength' | 'extensionHeaders' | 'fragment' | 'truncated'> & {
  /** Written in order, each one's Next Header pointing at the following one; `fragment` is not read. */
  extensionHeaders?: Ipv6ExtensionHeader[];
};

export interface Ipv6DecodeOptions {
  /**
   * The bytes may stop before the packet does (a capture's snaplen): a payload length beyond them
   * is accepted, `payload` holds what is there and `truncated` is set. An extension header cut off
   * is still an error (IPV6_TRUNCATED).
   */
  partial?: boolean;
}

export const IPV6_HEADER_LENGTH = 40;
export const IPV6_MAX_PAYLOAD_LENGTH = 0xffff;
const FRAGMENT_HEADER_LENGTH = 8;

// Names and offsets of the fixed header fields, to say which one a short packet cuts off.
const FIXED_FIELDS: readonly (readonly [number, string])[] = [
  [0, 'version'], [1, 'trafficClass'], [2, 'flowLabel'], [4, 'payloadLength'], [6, 'nextHeader'],
  [7, 'hopLimit'], [8, 'src'], [24, 'dst'],
];

const EXTENSION_NAMES: Readonly<Record<number, string>> = {
  [IPV6_NEXT_HEADER.HOP_BY_HOP]: 'hopByHop',
  [IPV6_NEXT_HEADER.ROUTING]: 'routing',
  [IPV6_NEXT_HEADER.FRAGMENT]: 'fragment',
  [IPV6_NEXT_HEADER.DESTINATION_OPTIONS]: 'destinationOptions',
};

function isWalkedExtension(type: number): boolean {
  return type === 0 || type === 43 || type === 44 || type === 60;
}

/** The 16 bytes at `offset` as tshark prints an IPv6 address. */
export function ipv6FromBytes(b: Uint8Array, offset: number): string {
  if (offset < 0 || offset + 16 > b.length) throw new RangeError(`no IPv6 address at offset ${offset} of a ${b.length}-byte buffer`);
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[offset + 2 * i]! << 8) | b[offset + 2 * i + 1]!);
  let bestStart = -1, bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  // inet_ntop's rule (kept by tshark): IPv4-compatible ::a.b.c.d and IPv4-mapped ::ffff:a.b.c.d.
  const dottedTail = bestStart === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff));
  const hexWords = dottedTail ? 6 : 8;
  const hex = (from: number, to: number): string => words.slice(from, to).map((w) => w.toString(16)).join(':');
  const text = bestStart < 0 ? hex(0, hexWords) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, hexWords)}`;
  if (!dottedTail) return text;
  return `${text}${text.endsWith(':') ? '' : ':'}${ipv4FromBytes(b, offset + 12)}`;
}

/** Parses one group of 1-4 hex digits, or -1. */
function parseGroup(s: string): number {
  if (s.length < 1 || s.length > 4) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    n = (n << 4) | d;
  }
  return n;
}

/** The words of a dotted quad as two 16-bit groups, or undefined. */
function parseDottedQuad(s: string): [number, number] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const q: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    q.push(Number(p));
  }
  return [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!];
}

/**
 * Writes an IPv6 address in any RFC 4291 text form ("::" once at most, a dotted-quad tail allowed,
 * either case, no zone) as 16 bytes and returns the buffer written to. RangeError otherwise: an
 * address is the caller's input, not the wire's.
 */
export function ipv6ToBytes(ip: string, into?: Buffer, offset = 0): Buffer {
  const out = into ?? Buffer.allocUnsafe(16);
  if (offset < 0 || offset + 16 > out.length) throw new RangeError(`no room for an IPv6 address at offset ${offset} of a ${out.length}-byte buffer`);
  const bad = (): never => {
    throw new RangeError(`invalid IPv6 address '${ip}'`);
  };
  const halves = ip.split('::');
  if (halves.length > 2) bad();
  const groups = (text: string, last: boolean): number[] => {
    if (text === '') return [];
    const parts = text.split(':');
    const words: number[] = [];
    parts.forEach((p, i) => {
      if (last && i === parts.length - 1 && p.includes('.')) {
        const q = parseDottedQuad(p);
        if (!q) bad();
        words.push(...q!);
        return;
      }
      const g = parseGroup(p);
      if (g < 0) bad();
      words.push(g);
    });
    return words;
  };
  const compressed = halves.length === 2;
  const head = groups(halves[0]!, !compressed);
  const tail = compressed ? groups(halves[1]!, true) : [];
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) bad();
  const words = [...head, ...new Array<number>(compressed ? missing : 0).fill(0), ...tail];
  words.forEach((w, i) => out.writeUInt16BE(w, offset + 2 * i));
  return out;
}

/**
 * The RFC 8200 §8.1 pseudo-header words (addresses, upper-layer length, next header), unfolded:
 * what a UDP, TCP or ICMPv6 checksum over IPv6 starts from. RangeError for a malformed address.
 */
export function ipv6PseudoHeaderSum(srcIp: string, dstIp: string, nextHeader: number, length: number): number {
  const a = Buffer.allocUnsafe(32);
  try {
    ipv6ToBytes(srcIp, a, 0);
  } catch {
    throw new RangeError(`srcIp: invalid IPv6 address '${srcIp}'`);
  }
  try {
    ipv6ToBytes(dstIp, a, 16);
  } catch {
    throw new RangeError(`dstIp: invalid IPv6 address '${dstIp}'`);
  }
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += (a[i]! << 8) | a[i + 1]!;
  return sum + Math.floor(length / 0x10000) + (length % 0x10000) + nextHeader;
}

/**
 * The transport pseudo-header sum over IPv4 (RFC 768/793) or IPv6 (RFC 8200), chosen by the form of
 * the addresses: the one entry point udp.ts and tcp.ts use. RangeError for a malformed address or
 * for one of each family.
 */
export function transportPseudoHeaderSum(srcIp: string, dstIp: string, protocol: number, length: number): number {
  const v6 = srcIp.includes(':');
  if (v6 !== dstIp.includes(':')) throw new RangeError(`addresses of two families: '${srcIp}' and '${dstIp}'`);
  return v6 ? ipv6PseudoHeaderSum(srcIp, dstIp, protocol, length) : pseudoHeaderSum(srcIp, dstIp, protocol, length);
}

/**
 * Decodes one packet. Throws DecodeError (codes in IPV6_DECODE_ERRORS) and nothing else. Bytes
 * after the payload length (Ethernet padding) are ignored.
 */
export function decodeIpv6(b: Buffer, o?: Ipv6DecodeOptions): Ipv6Packet {
  if (b.length >= 1 && b[0]! >>> 4 !== 6) throw new DecodeError('IPV6_BAD_VERSION', 'version', 0, `version is ${b[0]! >>> 4}, not 6`);
  if (b.length < IPV6_HEADER_LENGTH) {
    let [offset, field] = FIXED_FIELDS[0]!;
    for (const f of FIXED_FIELDS) if (f[0] <= b.length) [offset, field] = f;
    throw new DecodeError('IPV6_TRUNCATED', field, offset, `a ${b.length}-byte packet is shorter than the 40-byte IPv6 header`);
  }
  const payloadLength = (b[4]! << 8) | b[5]!;
  const declaredEnd = IPV6_HEADER_LENGTH + payloadLength;
  const truncated = declaredEnd > b.length;
  if (truncated && !o?.partial) {
    throw new DecodeError('IPV6_BAD_PAYLOAD_LENGTH', 'payloadLength', 4, `payload length ${payloadLength} is longer than the ${b.length - IPV6_HEADER_LENGTH} bytes after the header`);
  }
  const end = truncated ? b.length : declaredEnd;

  const extensionHeaders: Ipv6ExtensionHeader[] = [];
  let fragment: Ipv6Fragment | undefined;
  let next = b[6]!;
  let at = IPV6_HEADER_LENGTH;
  while (isWalkedExtension(next)) {
    const field = EXTENSION_NAMES[next]!;
    // A header whose length byte is cut off is known to be at least 2 bytes long.
    const length = next === IPV6_NEXT_HEADER.FRAGMENT ? FRAGMENT_HEADER_LENGTH : at + 2 <= end ? (b[at + 1]! + 1) * 8 : 2;
    if (at + length > declaredEnd) {
      throw new DecodeError('IPV6_BAD_EXTENSION', field, at, `the ${field} header (${length} bytes) runs past the payload length (${declaredEnd - at} bytes left)`);
    }
    if (at + length > end) throw new DecodeError('IPV6_TRUNCATED', field, at, `the bytes end inside the ${field} header (${length} bytes, ${end - at} given)`);
    extensionHeaders.push({ type: next, data: b.subarray(at + 2, at + length) });
    const type = next;
    next = b[at]!;
    at += length;
    if (type === IPV6_NEXT_HEADER.FRAGMENT) {
      const word = b.readUInt16BE(at - 6);
      const f: Ipv6Fragment = { offset: word & 0xfff8, more: (word & 1) !== 0, id: b.readUInt32BE(at - 4) };
      fragment ??= f;
      // Past the first fragment there is no upper-layer header to walk to.
      if (f.offset > 0) break;
    }
  }

  const packet: Ipv6Packet = {
    src: ipv6FromBytes(b, 8),
    dst: ipv6FromBytes(b, 24),
    nextHeader: next,
    hopLimit: b[7]!,
    trafficClass: ((b[0]! & 0x0f) << 4) | (b[1]! >>> 4),
    flowLabel: ((b[1]! & 0x0f) << 16) | (b[2]! << 8) | b[3]!,
    payloadLength,
    extensionHeaders,
    payload: b.subarray(at, end),
  };
  if (fragment) packet.fragment = fragment;
  if (truncated) packet.truncated = true;
  return packet;
}

function checkUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`cannot encode ${what} ${value}: not 0-${max}`);
}

/** Length of the fixed header plus these extension headers. RangeError for one with no wire form. */
export function ipv6HeaderLength(extensionHeaders: readonly Ipv6ExtensionHeader[] | undefined): number {
  let length = IPV6_HEADER_LENGTH;
  for (const h of extensionHeaders ?? []) {
    if (!isWalkedExtension(h.type)) throw new RangeError(`cannot encode extension header ${h.type}: only 0, 43, 44 and 60`);
    const size = h.data.length + 2;
    if (h.type === IPV6_NEXT_HEADER.FRAGMENT ? size !== FRAGMENT_HEADER_LENGTH : size % 8 !== 0 || size > 256 * 8) {
      throw new RangeError(`cannot encode a ${h.type} header of ${h.data.length} data bytes: ${h.type === IPV6_NEXT_HEADER.FRAGMENT ? 'not 6' : 'not 8n + 6 up to 2046'}`);
    }
    length += size;
  }
  return length;
}

/**
 * Writes the fixed header and the extension headers for a packet carrying `payloadLength`
 * upper-layer bytes at `offset`, and returns their length; the caller writes the payload after
 * them. For encoders that build a whole frame in one buffer. RangeError for a value with no wire form.
 */
export function encodeIpv6HeaderInto(p: Omit<Ipv6PacketInput, 'payload'>, payloadLength: number, into: Buffer, offset: number): number {
  const ext = p.extensionHeaders ?? [];
  const hlen = ipv6HeaderLength(ext);
  const fieldValue = hlen - IPV6_HEADER_LENGTH + payloadLength;
  if (fieldValue > IPV6_MAX_PAYLOAD_LENGTH) throw new RangeError(`cannot encode a payload length of ${fieldValue}: more than ${IPV6_MAX_PAYLOAD_LENGTH}`);
  checkUint(p.trafficClass, 0xff, 'trafficClass');
  checkUint(p.flowLabel, 0xfffff, 'flowLabel');
  checkUint(p.hopLimit, 0xff, 'hopLimit');
  checkUint(p.nextHeader, 0xff, 'nextHeader');
  if (offset < 0 || offset + hlen > into.length) throw new RangeError(`no room for a ${hlen}-byte IPv6 header at offset ${offset}`);
  try {
    ipv6ToBytes(p.src, into, offset + 8);
  } catch {
    throw new RangeError(`src: invalid IPv6 address '${p.src}'`);
  }
  try {
    ipv6ToBytes(p.dst, into, offset + 24);
  } catch {
    throw new RangeError(`dst: invalid IPv6 address '${p.dst}'`);
  }
  into.writeUInt32BE(((6 << 28) | (p.trafficClass << 20) | p.flowLabel) >>> 0, offset);
  into.writeUInt16BE(fieldValue, offset + 4);
  into[offset + 6] = ext[0]?.type ?? p.nextHeader;
  into[offset + 7] = p.hopLimit;
  let at = offset + IPV6_HEADER_LENGTH;
  ext.forEach((h, i) => {
    into[at] = ext[i + 1]?.type ?? p.nextHeader;
    into[at + 1] = h.type === IPV6_NEXT_HEADER.FRAGMENT ? 0 : (h.data.length + 2) / 8 - 1;
    into.set(h.data, at + 2);
    at += h.data.length + 2;
  });
  return hlen;
}

/** Encodes a packet. RangeError for a value with no wire form. */
export function encodeIpv6(p: Ipv6PacketInput): Buffer {
  const hlen = ipv6HeaderLength(p.extensionHeaders);
  // Checked before allocating so an oversize payload cannot make a huge buffer first.
  if (hlen - IPV6_HEADER_LENGTH + p.payload.length > IPV6_MAX_PAYLOAD_LENGTH) {
    throw new RangeError(`cannot encode a payload length of ${hlen - IPV6_HEADER_LENGTH + p.payload.length}: more than ${IPV6_MAX_PAYLOAD_LENGTH}`);
  }
  const out = Buffer.allocUnsafe(hlen + p.payload.length);
  encodeIpv6HeaderInto(p, p.payload.length, out, 0);
  out.set(p.payload, hlen);
  return out;
}

/** The 6 data bytes of a fragment header (for extensionHeaders). RangeError for values with no wire form. */
export function ipv6FragmentData(f: Ipv6Fragment): Buffer {
  if (!Number.isInteger(f.offset) || f.offset < 0 || f.offset % 8 !== 0 || f.offset > 0xfff8) {
    throw new RangeError(`cannot encode fragment offset ${f.offset}: not a multiple of 8 up to ${0xfff8}`);
  }
  checkUint(f.id, 0xffffffff, 'fragment id');
  const data = Buffer.allocUnsafe(6);
  data.writeUInt16BE(f.offset | (f.more ? 1 : 0), 0);
  data.writeUInt32BE(f.id, 2);
  return data;
}
