// ARP for IPv4 over Ethernet (RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4, nothing else.
// Pure: bytes in, an ArpPacket out, or a DecodeError naming the field and offset.
//
// Bytes after the 28-byte packet are Ethernet padding and are ignored. Any operation code
// decodes (RFC 5494 lists more than request and reply); answering only 1 and 2 is the stack's
// business.
import { DecodeError } from '../../lib/errors.ts';
import { macFromBytes, macToBytes } from './ethernet.ts';
import { ipToInt, ipv4FromBytes } from './ipv4.ts';

export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;

/** The codes decodeArp throws in DecodeError.code. */
export const ARP_DECODE_ERRORS = {
  ARP_TRUNCATED: 'the packet is shorter than the 28 bytes of Ethernet/IPv4 ARP',
  ARP_BAD_HTYPE: 'the hardware type is not 1 (Ethernet)',
  ARP_BAD_PTYPE: 'the protocol type is not 0x0800 (IPv4)',
  ARP_BAD_HLEN: 'the hardware address length is not 6',
  ARP_BAD_PLEN: 'the protocol address length is not 4',
} as const;
export type ArpDecodeErrorCode = keyof typeof ARP_DECODE_ERRORS;

export interface ArpPacket {
  /** 1 request, 2 reply. */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export const ARP_LENGTH = 28;

// Names and offsets of the fields, to say which one a short packet cuts off.
const FIELDS: readonly (readonly [number, string])[] = [
  [0, 'htype'], [2, 'ptype'], [4, 'hlen'], [5, 'plen'], [6, 'op'],
  [8, 'senderMac'], [14, 'senderIp'], [18, 'targetMac'], [24, 'targetIp'],
];

/** Decodes one packet. Throws DecodeError (codes in ARP_DECODE_ERRORS) and nothing else. */
export function decodeArp(b: Buffer): ArpPacket {
  // The header fields are checked as far as they go, so a short non-Ethernet ARP says which.
  const u16 = (at: number): number => (b[at]! << 8) | b[at + 1]!;
  if (b.length >= 2 && u16(0) !== 1) throw new DecodeError('ARP_BAD_HTYPE', 'htype', 0, `hardware type ${u16(0)} is not 1 (Ethernet)`);
  if (b.length >= 4 && u16(2) !== 0x0800) throw new DecodeError('ARP_BAD_PTYPE', 'ptype', 2, `protocol type 0x${u16(2).toString(16).padStart(4, '0')} is not 0x0800 (IPv4)`);
  if (b.length >= 5 && b[4] !== 6) throw new DecodeError('ARP_BAD_HLEN', 'hlen', 4, `hardware address length ${b[4]!} is not 6`);
  if (b.length >= 6 && b[5] !== 4) throw new DecodeError('ARP_BAD_PLEN', 'plen', 5, `protocol address length ${b[5]!} is not 4`);
  if (b.length < ARP_LENGTH) {
    let [offset, field] = FIELDS[0]!;
    for (const f of FIELDS) if (f[0] <= b.length) [offset, field] = f;
    throw new DecodeError('ARP_TRUNCATED', field, offset, `a ${b.length}-byte packet is shorter than the ${ARP_LENGTH} bytes of Ethernet/IPv4 ARP`);
  }
  return {
    op: u16(6),
    senderMac: macFromBytes(b, 8),
    senderIp: ipv4FromBytes(b, 14),
    targetMac: macFromBytes(b, 18),
    targetIp: ipv4FromBytes(b, 24),
  };
}

/** Writes the 28 bytes of `p` at `offset`. RangeError for a value with no wire form. */
export function encodeArpInto(p: ArpPacket, into: Buffer, offset: number): number {
  if (!Number.isInteger(p.op) || p.op < 0 || p.op > 0xffff) throw new RangeError(`cannot encode ARP op ${p.op}: not 0-65535`);
  const senderIp = ipToInt(p.senderIp, 'senderIp');
  const targetIp = ipToInt(p.targetIp, 'targetIp');
  if (offset < 0 || offset + ARP_LENGTH > into.length) throw new RangeError(`no room for ARP at offset ${offset}`);
  macToBytes(p.senderMac, into, offset + 8);
  macToBytes(p.targetMac, into, offset + 18);
  into.writeUInt16BE(1, offset);
  into.writeUInt16BE(0x0800, offset + 2);
  into[offset + 4] = 6;
  into[offset + 5] = 4;
  into.writeUInt16BE(p.op, offset + 6);
  into.writeUInt32BE(senderIp, offset + 14);
  into.writeUInt32BE(targetIp, offset + 24);
  return ARP_LENGTH;
}

/** The 28-byte packet, without Ethernet padding. */
export function encodeArp(p: ArpPacket): Buffer {
  const out = Buffer.allocUnsafe(ARP_LENGTH);
  encodeArpInto(p, out, 0);
  return out;
}
