// Ethernet II frames as they appear on a Linux tap, a bridge or in a pcap file: no preamble and
// no FCS. Pure: bytes in, an EthernetFrame out, or a DecodeError naming the field and offset.
//
// At most one 802.1Q tag is read. A second tag (QinQ) is left in the payload and `ethertype` is
// then 0x8100, so callers that look for IPv4 or ARP simply do not match it; an 802.1ad outer tag
// (0x88a8) is not a tag to this codec either. Values below 0x0600 are IEEE 802.3 length fields
// (LLC frames such as STP BPDUs from a Linux bridge); they decode like an ethertype so a bridge
// capture never fails on them, and the payload is left as is.
//
// The payload is a view into the input, trailing padding included: Ethernet cannot say where a
// short packet ends, the layer above can (IPv4 total length, ARP's fixed size).
import { DecodeError } from '../../lib/errors.ts';

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd } as const;

/** The codes decodeEthernet throws in DecodeError.code. */
export const ETHERNET_DECODE_ERRORS = {
  ETH_TRUNCATED: 'the frame ends inside the 14-byte header or the 4-byte 802.1Q tag',
} as const;
export type EthernetDecodeErrorCode = keyof typeof ETHERNET_DECODE_ERRORS;

export interface VlanTag {
  /** VLAN identifier, 0-4095 (0: priority tag only). */
  id: number;
  /** Priority code point, 0-7. */
  pcp: number;
  /** Drop eligible indicator (formerly CFI). */
  dei: boolean;
}

export interface EthernetFrame {
  /** Lower-case "aa:bb:cc:dd:ee:ff". */
  dst: string;
  src: string;
  /** One 802.1Q tag, if the frame carries one. */
  vlan?: VlanTag;
  /** The ethertype after the tag, if any. */
  ethertype: number;
  /** A view into the decoded buffer, not a copy. */
  payload: Buffer;
}

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
/** The shortest frame on the wire without its 4-byte FCS; shorter ones are padded with zeros. */
export const ETHERNET_MIN_FRAME = 60;

const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Value of an ASCII hex digit, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Writes a MAC address as 6 bytes and returns the buffer written to (a new 6-byte one when `into`
 * is not given). Accepts "aa:bb:cc:dd:ee:ff" and "aa-bb-…" in any case, and bare "aabbccddeeff";
 * anything else is a RangeError (a caller's bug, not bad input from the wire).
 */
export function macToBytes(mac: string, into?: Buffer, offset = 0): Buffer {
  const out = into ?? Buffer.allocUnsafe(6);
  if (offset < 0 || offset + 6 > out.length) throw new RangeError(`no room for a MAC address at offset ${offset} of a ${out.length}-byte buffer`);
  const step = mac.length === 17 ? 3 : mac.length === 12 ? 2 : 0;
  if (step === 0) throw new RangeError(`invalid MAC address '${mac}'`);
  const sep = step === 3 ? mac.charCodeAt(2) : 0;
  if (step === 3 && sep !== 58 && sep !== 45) throw new RangeError(`invalid MAC address '${mac}'`);
  // Validate everything before writing so a bad address leaves `into` untouched.
  let bad = false;
  for (let i = 0, at = 0; i < 6; i++, at += step) {
    const hi = hexDigit(mac.charCodeAt(at));
    const lo = hexDigit(mac.charCodeAt(at + 1));
    if (hi < 0 || lo < 0 || (step === 3 && i < 5 && mac.charCodeAt(at + 2) !== sep)) {
      bad = true;
      break;
    }
  }
  if (bad) throw new RangeError(`invalid MAC address '${mac}'`);
  for (let i = 0, at = 0; i < 6; i++, at += step) {
    out[offset + i] = (hexDigit(mac.charCodeAt(at)) << 4) | hexDigit(mac.charCodeAt(at + 1));
  }
  return out;
}

/** The 6 bytes at `offset` as a lower-case colon-separated MAC address. */
export function macFromBytes(b: Buffer, offset: number): string {
  if (offset < 0 || offset + 6 > b.length) throw new RangeError(`no MAC address at offset ${offset} of a ${b.length}-byte buffer`);
  return `${HEX_PAIRS[b[offset]!]}:${HEX_PAIRS[b[offset + 1]!]}:${HEX_PAIRS[b[offset + 2]!]}:${HEX_PAIRS[b[offset + 3]!]}:${HEX_PAIRS[b[offset + 4]!]}:${HEX_PAIRS[b[offset + 5]!]}`;
}

/** Decodes one frame. Throws DecodeError (codes in ETHERNET_DECODE_ERRORS) and nothing else. */
export function decodeEthernet(b: Buffer): EthernetFrame {
  if (b.length < ETHERNET_HEADER_LENGTH) {
    const field = b.length < 6 ? 'dst' : b.length < 12 ? 'src' : 'ethertype';
    const offset = b.length < 6 ? 0 : b.length < 12 ? 6 : 12;
    throw new DecodeError('ETH_TRUNCATED', field, offset, `a ${b.length}-byte frame is shorter than the ${ETHERNET_HEADER_LENGTH}-byte Ethernet header`);
  }
  const dst = macFromBytes(b, 0);
  const src = macFromBytes(b, 6);
  const type = (b[12]! << 8) | b[13]!;
  if (type !== ETHERTYPE.VLAN) return { dst, src, ethertype: type, payload: b.subarray(ETHERNET_HEADER_LENGTH) };
  return { dst, src, ...decodeVlanTag(b, ETHERNET_HEADER_LENGTH) };
}

/**
 * The 802.1Q tag at `offset` (after an ethertype 0x8100) and what follows it: the tag, the inner
 * ethertype and the payload. Also used for Linux cooked captures, where libpcap puts the tag the
 * kernel stripped back after the cooked header. DecodeError ETH_TRUNCATED for a cut tag.
 */
export function decodeVlanTag(b: Buffer, offset: number): Pick<EthernetFrame, 'ethertype' | 'payload'> & { vlan: VlanTag } {
  if (b.length < offset + VLAN_TAG_LENGTH) {
    throw new DecodeError('ETH_TRUNCATED', 'vlan', offset, `the frame ends inside its 802.1Q tag (${b.length} bytes)`);
  }
  const tci = (b[offset]! << 8) | b[offset + 1]!;
  return {
    vlan: { id: tci & 0x0fff, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0 },
    ethertype: (b[offset + 2]! << 8) | b[offset + 3]!,
    payload: b.subarray(offset + VLAN_TAG_LENGTH),
  };
}

/** 14, or 18 with a VLAN tag. */
export function ethernetHeaderLength(f: Pick<EthernetFrame, 'vlan'>): number {
  return f.vlan ? ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH : ETHERNET_HEADER_LENGTH;
}

/**
 * Writes the header of `f` (addresses, tag, ethertype) at `offset` and returns its length. For
 * encoders of the layers above that build a whole frame in one buffer. RangeError for a value
 * with no wire form.
 */
export function encodeEthernetHeaderInto(f: Omit<EthernetFrame, 'payload'>, into: Buffer, offset: number): number {
  const { ethertype, vlan } = f;
  if (!Number.isInteger(ethertype) || ethertype < 0 || ethertype > 0xffff) throw new RangeError(`cannot encode ethertype ${ethertype}: not 0-0xffff`);
  const length = ethernetHeaderLength(f);
  if (offset < 0 || offset + length > into.length) throw new RangeError(`no room for a ${length}-byte Ethernet header at offset ${offset}`);
  let tci = 0;
  if (vlan) {
    if (!Number.isInteger(vlan.id) || vlan.id < 0 || vlan.id > 0xfff) throw new RangeError(`cannot encode VLAN id ${vlan.id}: not 0-4095`);
    if (!Number.isInteger(vlan.pcp) || vlan.pcp < 0 || vlan.pcp > 7) throw new RangeError(`cannot encode VLAN priority ${vlan.pcp}: not 0-7`);
    tci = (vlan.pcp << 13) | (vlan.dei ? 0x1000 : 0) | vlan.id;
  }
  macToBytes(f.dst, into, offset);
  macToBytes(f.src, into, offset + 6);
  let at = offset + 12;
  if (vlan) {
    into.writeUInt16BE(ETHERTYPE.VLAN, at);
    into.writeUInt16BE(tci, at + 2);
    at += VLAN_TAG_LENGTH;
  }
  into.writeUInt16BE(ethertype, at);
  return length;
}

/**
 * Encodes a frame, zero-padded to the 60-byte minimum (no FCS). RangeError for a malformed MAC,
 * an ethertype, VLAN id or priority out of range.
 */
export function encodeEthernet(f: EthernetFrame): Buffer {
  const header = ethernetHeaderLength(f);
  const length = Math.max(header + f.payload.length, ETHERNET_MIN_FRAME);
  const out = Buffer.allocUnsafe(length);
  encodeEthernetHeaderInto(f, out, 0);
  out.set(f.payload, header);
  out.fill(0, header + f.payload.length);
  return out;
}
