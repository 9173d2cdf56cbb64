// Linux "cooked" capture headers, what libpcap writes instead of a link-layer header when it
// captures on the "any" device (or on a link with no header of its own): SLL, link type 113, and
// SLL2, link type 276 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and
// LINKTYPE_LINUX_SLL2.html). Pure: bytes in, a LinuxCookedHeader out, or a DecodeError naming the
// field and offset.
//
// Both carry the same facts in different orders and widths: SLL starts with a 16-bit packet type
// and ends with the protocol; SLL2 starts with the protocol, adds the interface index and narrows
// the packet type and address length to a byte. All fields are big-endian. The address field
// holds 8 bytes whatever the address length says; a longer address (InfiniBand) is cut to 8, as
// the kernel does, and a length of 6 is written as a MAC address, as tshark shows sll.src.eth.
//
// The protocol is an ethertype for most link types; for others it is what the kernel put in
// skb->protocol (ETH_P_802_2 for LLC, a netlink family...). It is reported as it is.
import { DecodeError } from '../../lib/errors.ts';
import { macFromBytes, macToBytes } from './ethernet.ts';

export const LINUX_SLL_HEADER_LENGTH = 16;
export const LINUX_SLL2_HEADER_LENGTH = 20;
const ADDRESS_BYTES = 8;

/** The packet types the kernel writes (PACKET_HOST ... PACKET_OUTGOING in linux/if_packet.h). */
export const LINUX_PACKET_TYPE = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHER_HOST: 3, OUTGOING: 4 } as const;

/** The ARPHRD_ types met in captures (linux/if_arp.h). */
export const ARPHRD = { ETHER: 1, LOOPBACK: 772, IPGRE: 778, NONE: 0xfffe } as const;

/** The codes decodeLinuxSll and decodeLinuxSll2 throw in DecodeError.code. */
export const LINUX_COOKED_DECODE_ERRORS = {
  SLL_TRUNCATED: 'the packet ends inside the 16-byte SLL or the 20-byte SLL2 header',
} as const;
export type LinuxCookedDecodeErrorCode = keyof typeof LINUX_COOKED_DECODE_ERRORS;

export interface LinuxCookedHeader {
  version: 1 | 2;
  /** 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us (LINUX_PACKET_TYPE). */
  packetType: number;
  /** The link's ARPHRD_ type: 1 Ethernet, 772 loopback... */
  arphrdType: number;
  /** The sender's address: "aa:bb:cc:dd:ee:ff" when 6 bytes long, else lower-case hex ("" when none). */
  address: string;
  /** The address length field as sent; above 8 only the first 8 bytes are in the header. */
  addressLength: number;
  /** The ethertype of the payload (for most link types). */
  protocol: number;
  /** SLL2 only: the capturing interface's index. */
  interfaceIndex?: number;
  /** A view into the input after the header. */
  payload: Buffer;
}

export type LinuxCookedHeaderInput = Omit<LinuxCookedHeader, 'version' | 'addressLength'> & {
  /** Default: the length of `address` in bytes. */
  addressLength?: number;
};

// Names and offsets of the fields, to say which one a short header cuts off.
const SLL_FIELDS: readonly (readonly [number, string])[] = [
  [0, 'packetType'], [2, 'arphrdType'], [4, 'addressLength'], [6, 'address'], [14, 'protocol'],
];
const SLL2_FIELDS: readonly (readonly [number, string])[] = [
  [0, 'protocol'], [2, 'reserved'], [4, 'interfaceIndex'], [8, 'arphrdType'], [10, 'packetType'],
  [11, 'addressLength'], [12, 'address'],
];

function truncated(b: Buffer, fields: readonly (readonly [number, string])[], length: number, name: string): DecodeError {
  let [offset, field] = fields[0]!;
  for (const f of fields) if (f[0] <= b.length) [offset, field] = f;
  return new DecodeError('SLL_TRUNCATED', field, offset, `a ${b.length}-byte packet is shorter than the ${length}-byte ${name} header`);
}

function addressText(b: Buffer, at: number, length: number): string {
  const n = Math.min(length, ADDRESS_BYTES);
  return n === 6 ? macFromBytes(b, at) : b.toString('hex', at, at + n);
}

/** Decodes an SLL (link type 113) header. Throws DecodeError (codes in LINUX_COOKED_DECODE_ERRORS) and nothing else. */
export function decodeLinuxSll(b: Buffer): LinuxCookedHeader {
  if (b.length < LINUX_SLL_HEADER_LENGTH) throw truncated(b, SLL_FIELDS, LINUX_SLL_HEADER_LENGTH, 'SLL');
  const addressLength = b.readUInt16BE(4);
  return {
    version: 1,
    packetType: b.readUInt16BE(0),
    arphrdType: b.readUInt16BE(2),
    address: addressText(b, 6, addressLength),
    addressLength,
    protocol: b.readUInt16BE(14),
    payload: b.subarray(LINUX_SLL_HEADER_LENGTH),
  };
}

/** Decodes an SLL2 (link type 276) header. Throws DecodeError (codes in LINUX_COOKED_DECODE_ERRORS) and nothing else. */
export function decodeLinuxSll2(b: Buffer): LinuxCookedHeader {
  if (b.length < LINUX_SLL2_HEADER_LENGTH) throw truncated(b, SLL2_FIELDS, LINUX_SLL2_HEADER_LENGTH, 'SLL2');
  const addressLength = b[11]!;
  return {
    version: 2,
    packetType: b[10]!,
    arphrdType: b.readUInt16BE(8),
    address: addressText(b, 12, addressLength),
    addressLength,
    protocol: b.readUInt16BE(0),
    interfaceIndex: b.readUInt32BE(4),
    payload: b.subarray(LINUX_SLL2_HEADER_LENGTH),
  };
}

function checkUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`cannot encode ${what} ${value}: not 0-${max}`);
}

/** The address bytes of "aa:bb:..." or bare hex, at most 8. RangeError otherwise. */
function addressBytes(address: string): Buffer {
  if (address.includes(':') || address.includes('-')) return macToBytes(address);
  if (address.length % 2 !== 0 || address.length > 2 * ADDRESS_BYTES || !/^[0-9a-fA-F]*$/.test(address)) {
    throw new RangeError(`cannot encode cooked-capture address '${address}': not a MAC address or up to 8 bytes of hex`);
  }
  return Buffer.from(address, 'hex');
}

function writeCommon(h: LinuxCookedHeaderInput, out: Buffer, addressAt: number, lengthMax: number): number {
  checkUint(h.protocol, 0xffff, 'protocol');
  checkUint(h.arphrdType, 0xffff, 'arphrdType');
  const address = addressBytes(h.address);
  const addressLength = h.addressLength ?? address.length;
  checkUint(addressLength, lengthMax, 'addressLength');
  if (addressLength < address.length || (addressLength !== address.length && address.length !== ADDRESS_BYTES)) {
    throw new RangeError(`cannot encode address length ${addressLength} with a ${address.length}-byte address`);
  }
  out.fill(0, addressAt, addressAt + ADDRESS_BYTES);
  out.set(address, addressAt);
  return addressLength;
}

/** Encodes an SLL header and the payload. RangeError for a value with no wire form. */
export function encodeLinuxSll(h: LinuxCookedHeaderInput): Buffer {
  checkUint(h.packetType, 0xffff, 'packetType');
  const out = Buffer.allocUnsafe(LINUX_SLL_HEADER_LENGTH + h.payload.length);
  const addressLength = writeCommon(h, out, 6, 0xffff);
  out.writeUInt16BE(h.packetType, 0);
  out.writeUInt16BE(h.arphrdType, 2);
  out.writeUInt16BE(addressLength, 4);
  out.writeUInt16BE(h.protocol, 14);
  out.set(h.payload, LINUX_SLL_HEADER_LENGTH);
  return out;
}

/** Encodes an SLL2 header and the payload. RangeError for a value with no wire form. */
export function encodeLinuxSll2(h: LinuxCookedHeaderInput): Buffer {
  checkUint(h.packetType, 0xff, 'packetType');
  checkUint(h.interfaceIndex ?? 0, 0xffffffff, 'interfaceIndex');
  const out = Buffer.allocUnsafe(LINUX_SLL2_HEADER_LENGTH + h.payload.length);
  const addressLength = writeCommon(h, out, 12, 0xff);
  out.writeUInt16BE(h.protocol, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt32BE(h.interfaceIndex ?? 0, 4);
  out.writeUInt16BE(h.arphrdType, 8);
  out[10] = h.packetType;
  out[11] = addressLength;
  out.set(h.payload, LINUX_SLL2_HEADER_LENGTH);
  return out;
}
