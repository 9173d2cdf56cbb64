// UDP datagrams over IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1). Pure: bytes in, a UdpDatagram out, or a DecodeError naming
// the field and offset.
//
// The checksum covers a pseudo-header of the IP addresses, so it can only be verified when the
// caller passes them (IPv4 or IPv6, by their form); without them checksumOk is null, as it is for
// a datagram over IPv4 whose checksum field is 0 (the sender did not compute one). Over IPv6 the
// checksum is mandatory and a 0 field reports false. A bad checksum is reported, not thrown.
//
// Datagrams captured on the sending Linux host usually carry only the pseudo-header sum in the
// checksum field (the NIC, or loopback, is trusted to finish it), so they report checksumOk false.
import { DecodeError } from '../../lib/errors.ts';
import { IP_PROTOCOL, finishChecksum, sumWords } from './ipv4.ts';
import { transportPseudoHeaderSum } from './ipv6.ts';

/** The codes decodeUdp throws in DecodeError.code. */
export const UDP_DECODE_ERRORS = {
  UDP_TRUNCATED: 'the datagram is shorter than the 8-byte UDP header',
  UDP_BAD_LENGTH: 'the length field is below 8 or longer than the bytes given',
} as const;
export type UdpDecodeErrorCode = keyof typeof UDP_DECODE_ERRORS;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** A view trimmed to the length field. */
  payload: Buffer;
  /** null: not verified (no IP addresses given, or the datagram is cut short) or not computed by the sender (field 0 over IPv4). */
  checksumOk: boolean | null;
  /** Only from partial decoding: the datagram goes on past the bytes given, `payload` is cut short. */
  truncated?: true;
}

export interface UdpDecodeOptions {
  /**
   * The bytes may stop before the datagram does (a capture's snaplen): a length field beyond them
   * is accepted, `payload` holds what is there, the checksum is not verified and `truncated` is set.
   */
  partial?: boolean;
}

export interface UdpDatagramInput {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export const UDP_HEADER_LENGTH = 8;
export const UDP_MAX_PAYLOAD = 0xffff - UDP_HEADER_LENGTH;
// The four 16-bit header fields, to say which one a short datagram cuts off.
const HEADER_FIELDS: readonly string[] = ['srcPort', 'dstPort', 'length', 'checksum'];

/**
 * Decodes one datagram. When both addresses are given the checksum is verified; a malformed
 * address is a RangeError (the caller's bug). Otherwise throws DecodeError (codes in
 * UDP_DECODE_ERRORS) and nothing else.
 */
export function decodeUdp(b: Buffer, srcIp?: string, dstIp?: string, o?: UdpDecodeOptions): UdpDatagram {
  if (b.length < UDP_HEADER_LENGTH) {
    const offset = b.length & ~1;
    throw new DecodeError('UDP_TRUNCATED', HEADER_FIELDS[offset / 2]!, offset, `a ${b.length}-byte datagram is shorter than the 8-byte UDP header`);
  }
  const length = (b[4]! << 8) | b[5]!;
  if (length < UDP_HEADER_LENGTH) throw new DecodeError('UDP_BAD_LENGTH', 'length', 4, `length ${length} is below the 8-byte header`);
  const truncated = length > b.length;
  if (truncated && !o?.partial) throw new DecodeError('UDP_BAD_LENGTH', 'length', 4, `length ${length} is longer than the ${b.length} bytes given`);
  const field = (b[6]! << 8) | b[7]!;
  let checksumOk: boolean | null = null;
  if (!truncated && srcIp !== undefined && dstIp !== undefined) {
    const sum = transportPseudoHeaderSum(srcIp, dstIp, IP_PROTOCOL.UDP, length);
    if (field !== 0) checksumOk = finishChecksum(sumWords(b, 0, length, sum)) === 0;
    else if (srcIp.includes(':')) checksumOk = false;
  }
  const datagram: UdpDatagram = { srcPort: (b[0]! << 8) | b[1]!, dstPort: (b[2]! << 8) | b[3]!, payload: b.subarray(UDP_HEADER_LENGTH, truncated ? b.length : length), checksumOk };
  if (truncated) datagram.truncated = true;
  return datagram;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`cannot encode ${what} ${port}: not 0-65535`);
}

/**
 * Writes header, payload and checksum at `offset` and returns the datagram length. For encoders
 * that build a whole frame in one buffer. RangeError for a value with no wire form.
 */
export function encodeUdpInto(d: UdpDatagramInput, srcIp: string, dstIp: string, into: Buffer, offset: number): number {
  checkPort(d.srcPort, 'srcPort');
  checkPort(d.dstPort, 'dstPort');
  if (d.payload.length > UDP_MAX_PAYLOAD) throw new RangeError(`cannot encode a ${d.payload.length}-byte UDP payload: more than ${UDP_MAX_PAYLOAD}`);
  const length = UDP_HEADER_LENGTH + d.payload.length;
  const pseudo = transportPseudoHeaderSum(srcIp, dstIp, IP_PROTOCOL.UDP, length);
  if (offset < 0 || offset + length > into.length) throw new RangeError(`no room for a ${length}-byte UDP datagram at offset ${offset}`);
  into.writeUInt16BE(d.srcPort, offset);
  into.writeUInt16BE(d.dstPort, offset + 2);
  into.writeUInt16BE(length, offset + 4);
  into.writeUInt16BE(0, offset + 6);
  into.set(d.payload, offset + UDP_HEADER_LENGTH);
  const sum = finishChecksum(sumWords(into, offset, offset + length, pseudo));
  // RFC 768: a computed 0 is sent as all ones, because 0 means "no checksum".
  into.writeUInt16BE(sum === 0 ? 0xffff : sum, offset + 6);
  return length;
}

/** Encodes a datagram with its checksum. RangeError for a value with no wire form. */
export function encodeUdp(d: UdpDatagramInput, srcIp: string, dstIp: string): Buffer {
  if (d.payload.length > UDP_MAX_PAYLOAD) throw new RangeError(`cannot encode a ${d.payload.length}-byte UDP payload: more than ${UDP_MAX_PAYLOAD}`);
  const out = Buffer.allocUnsafe(UDP_HEADER_LENGTH + d.payload.length);
  encodeUdpInto(d, srcIp, dstIp, out, 0);
  return out;
}
