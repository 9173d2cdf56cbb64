// Whole frames, layer on layer: the userspace PXE stack builds its replies here and the capture
// code decodes what it sees. Pure, like the codecs it stacks.
//
// The encoders write every layer into one buffer, so the payload is copied once. They build IPv6
// instead of IPv4 when given IPv6 addresses. decodeFrame goes as deep as the bytes allow: only a
// bad Ethernet header throws; a layer above that fails is left out and its DecodeError is kept in
// `problem`, with the offset counted from the start of the frame. IP fragments carry no udp/tcp
// (the transport header is only in the first one and its checksum covers the whole datagram);
// reassembly belongs to whoever keeps state.
//
// A frame cut by a capture's snaplen (originalLength above the bytes present) decodes every
// header that is whole, with payloads cut to the bytes present, checksums that need missing bytes
// left unverified (null), and `truncated: true`; a header that is itself cut off is a `problem`.
import { DecodeError } from '../../lib/errors.ts';
import { ARP_LENGTH, decodeArp, encodeArpInto, type ArpPacket } from './arp.ts';
import { ETHERNET_MIN_FRAME, ETHERTYPE, decodeEthernet, decodeVlanTag, encodeEthernetHeaderInto, ethernetHeaderLength, type EthernetFrame, type VlanTag } from './ethernet.ts';
import { IP_PROTOCOL, IPV4_MAX_TOTAL_LENGTH, IPV4_MIN_HEADER, decodeIpv4, encodeIpv4HeaderInto, type Ipv4Packet } from './ipv4.ts';
import { IPV6_HEADER_LENGTH, IPV6_MAX_PAYLOAD_LENGTH, decodeIpv6, encodeIpv6HeaderInto, type Ipv6Packet } from './ipv6.ts';
import { decodeLinuxSll, decodeLinuxSll2, type LinuxCookedHeader } from './linux-cooked.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './pcap.ts';
import { decodeTcp, encodeTcpInto, tcpHeaderLength, type TcpSegment, type TcpSegmentInput } from './tcp.ts';
import { UDP_HEADER_LENGTH, decodeUdp, encodeUdpInto, type UdpDatagram } from './udp.ts';

/** The codes decodeLinkFrame throws in DecodeError.code, besides the link-layer codecs' own. */
export const FRAME_DECODE_ERRORS = {
  FRAME_UNKNOWN_LINKTYPE: 'the link type is not Ethernet (1), Linux SLL (113) or Linux SLL2 (276)',
} as const;
export type FrameDecodeErrorCode = keyof typeof FRAME_DECODE_ERRORS;

/**
 * Fields of the IP header the frame encoders let a caller set; the rest follow the payload. Over
 * IPv6, ttl is the hop limit, tos the traffic class, and id and dontFragment are not used.
 */
export interface Ipv4HeaderChoices {
  /** Default 64. */
  ttl?: number;
  /** Default 0. */
  id?: number;
  /** Default 0. */
  tos?: number;
  /** Default false. */
  dontFragment?: boolean;
}

export interface UdpFrameInput extends Ipv4HeaderChoices {
  srcMac: string;
  dstMac: string;
  vlan?: VlanTag;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface TcpFrameInput extends Ipv4HeaderChoices {
  srcMac: string;
  dstMac: string;
  vlan?: VlanTag;
  srcIp: string;
  dstIp: string;
  segment: TcpSegmentInput;
}

export interface ArpFrameInput {
  srcMac: string;
  dstMac: string;
  vlan?: VlanTag;
  arp: ArpPacket;
}

export interface DecodedFrame {
  /**
   * For a cooked capture (decodeLinkFrame with SLL/SLL2) the fields are taken from `cooked`:
   * src is its address, dst is '' (the header has none).
   */
  eth: EthernetFrame;
  /** The Linux cooked-capture header, for link types 113 and 276. */
  cooked?: LinuxCookedHeader;
  arp?: ArpPacket;
  ip?: Ipv4Packet;
  ip6?: Ipv6Packet;
  udp?: UdpDatagram;
  tcp?: TcpSegment;
  /** Why the layer after the last one present did not decode; offset from the frame start. */
  problem?: DecodeError;
  /** The capture kept fewer bytes than the frame had (originalLength above the bytes given). */
  truncated?: true;
}

export interface FrameDecodeOptions {
  /** The frame's length on the wire, when a capture's snaplen may have cut it (pcap orig_len). */
  originalLength?: number;
  /**
   * Verify UDP and TCP checksums (default true). Capture analysis turns it off, as Wireshark
   * does by default: a capture on the sending host holds offloaded, not-yet-computed checksums,
   * and summing every bulk segment is most of the cost of reading a large capture.
   */
  checksums?: boolean;
}

const DEFAULT_TTL = 64;

function ipHeader(f: Ipv4HeaderChoices & { srcIp: string; dstIp: string }, protocol: number) {
  return {
    src: f.srcIp,
    dst: f.dstIp,
    protocol,
    ttl: f.ttl ?? DEFAULT_TTL,
    id: f.id ?? 0,
    tos: f.tos ?? 0,
    dontFragment: f.dontFragment ?? false,
    moreFragments: false,
    fragmentOffset: 0,
  };
}

/** A buffer for a frame of `length` bytes, with the bytes past it up to 60 zeroed. */
function frameBuffer(length: number): Buffer {
  const out = Buffer.allocUnsafe(Math.max(length, ETHERNET_MIN_FRAME));
  out.fill(0, length);
  return out;
}

/** True for an IPv6 pair of addresses, false for IPv4; RangeError for one of each. */
function isIpv6Pair(f: { srcIp: string; dstIp: string }): boolean {
  const v6 = f.srcIp.includes(':');
  if (v6 !== f.dstIp.includes(':')) throw new RangeError(`addresses of two families: '${f.srcIp}' and '${f.dstIp}'`);
  return v6;
}

/** Length of the IP header for `transportLength` bytes above it; RangeError when too big for the family. */
function ipHeaderLength(v6: boolean, transportLength: number): number {
  if (v6) {
    if (transportLength > IPV6_MAX_PAYLOAD_LENGTH) throw new RangeError(`cannot encode a ${transportLength}-byte IPv6 payload: more than ${IPV6_MAX_PAYLOAD_LENGTH}`);
    return IPV6_HEADER_LENGTH;
  }
  const total = IPV4_MIN_HEADER + transportLength;
  if (total > IPV4_MAX_TOTAL_LENGTH) throw new RangeError(`cannot encode a ${total}-byte IPv4 packet: more than ${IPV4_MAX_TOTAL_LENGTH}`);
  return IPV4_MIN_HEADER;
}

/** Writes Ethernet and IP headers for a transport of `transportLength` bytes; returns where the transport starts. */
function writeLinkAndIp(f: Ipv4HeaderChoices & { srcMac: string; dstMac: string; vlan?: VlanTag; srcIp: string; dstIp: string }, v6: boolean, protocol: number, transportLength: number, out: Buffer): number {
  const eth = ethernetHeaderLength(f);
  encodeEthernetHeaderInto({ dst: f.dstMac, src: f.srcMac, vlan: f.vlan, ethertype: v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4 }, out, 0);
  if (v6) {
    const ip = { src: f.srcIp, dst: f.dstIp, nextHeader: protocol, hopLimit: f.ttl ?? DEFAULT_TTL, trafficClass: f.tos ?? 0, flowLabel: 0 };
    return eth + encodeIpv6HeaderInto(ip, transportLength, out, eth);
  }
  return eth + encodeIpv4HeaderInto(ipHeader(f, protocol), transportLength, out, eth);
}

/**
 * Ethernet + IPv4 (or IPv6, for IPv6 addresses) + UDP with all checksums, padded to 60 bytes.
 * RangeError for a value with no wire form.
 */
export function encodeUdpFrame(f: UdpFrameInput): Buffer {
  const v6 = isIpv6Pair(f);
  const udpLength = UDP_HEADER_LENGTH + f.payload.length;
  const out = frameBuffer(ethernetHeaderLength(f) + ipHeaderLength(v6, udpLength) + udpLength);
  const at = writeLinkAndIp(f, v6, IP_PROTOCOL.UDP, udpLength, out);
  encodeUdpInto(f, f.srcIp, f.dstIp, out, at);
  return out;
}

/**
 * Ethernet + IPv4 (or IPv6, for IPv6 addresses) + TCP with all checksums, padded to 60 bytes.
 * RangeError for a value with no wire form.
 */
export function encodeTcpFrame(f: TcpFrameInput): Buffer {
  const v6 = isIpv6Pair(f);
  const tcpLength = tcpHeaderLength(f.segment) + (f.segment.payload?.length ?? 0);
  const out = frameBuffer(ethernetHeaderLength(f) + ipHeaderLength(v6, tcpLength) + tcpLength);
  const at = writeLinkAndIp(f, v6, IP_PROTOCOL.TCP, tcpLength, out);
  encodeTcpInto(f.segment, f.srcIp, f.dstIp, out, at);
  return out;
}

/** Ethernet + ARP, padded to 60 bytes. RangeError for a value with no wire form. */
export function encodeArpFrame(f: ArpFrameInput): Buffer {
  const eth = ethernetHeaderLength(f);
  const out = frameBuffer(eth + ARP_LENGTH);
  encodeEthernetHeaderInto({ dst: f.dstMac, src: f.srcMac, vlan: f.vlan, ethertype: ETHERTYPE.ARP }, out, 0);
  encodeArpInto(f.arp, out, eth);
  return out;
}

/** The same error with its offset counted from the start of the frame. */
function relocate(e: unknown, base: number): DecodeError {
  if (!(e instanceof DecodeError)) throw e;
  if (base === 0) return e;
  // DecodeError appends " (field at offset N)" to the message; take it off before re-adding it.
  const suffix = ` (${e.field} at offset ${e.offset})`;
  const message = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
  return new DecodeError(e.code, e.field, e.offset + base, message);
}

/**
 * Decodes a frame as far as it goes: Ethernet, then ARP, IPv4 or IPv6, then UDP or TCP (checksums
 * verified against the IP addresses, over IPv4 or the IPv6 pseudo-header). Throws DecodeError
 * only for a bad Ethernet header. The VLAN tag, if any, is in `eth.vlan`; layers above it decode
 * as if it were not there.
 */
export function decodeFrame(b: Buffer, o?: FrameDecodeOptions): DecodedFrame {
  const eth = decodeEthernet(b);
  return decodeAboveLink({ eth }, b.length - eth.payload.length, isCut(b, o), o?.checksums !== false);
}

/**
 * Decodes a frame of a capture's link type: 1 (Ethernet) as decodeFrame; 113 and 276 (Linux
 * cooked SLL, SLL2) with `cooked` set and `eth` made from it, then the same layers above. Throws
 * DecodeError FRAME_UNKNOWN_LINKTYPE (offset 0) for another link type, and the link-layer codec's
 * error for a bad link-layer header (SLL_TRUNCATED; ETH_TRUNCATED for a cut VLAN tag); never for
 * a layer above it.
 */
export function decodeLinkFrame(linktype: number, b: Buffer, o?: FrameDecodeOptions): DecodedFrame {
  if (linktype === LINKTYPE_ETHERNET) return decodeFrame(b, o);
  let cooked: LinuxCookedHeader;
  if (linktype === LINKTYPE_LINUX_SLL) cooked = decodeLinuxSll(b);
  else if (linktype === LINKTYPE_LINUX_SLL2) cooked = decodeLinuxSll2(b);
  else throw new DecodeError('FRAME_UNKNOWN_LINKTYPE', 'linktype', 0, `link type ${linktype} is not Ethernet (1), Linux SLL (113) or Linux SLL2 (276)`);
  // libpcap puts back the 802.1Q tag the kernel stripped, between the cooked header and the packet.
  const eth: EthernetFrame = cooked.protocol === ETHERTYPE.VLAN
    ? { src: cooked.address, dst: '', ...decodeVlanTag(b, b.length - cooked.payload.length) }
    : { src: cooked.address, dst: '', ethertype: cooked.protocol, payload: cooked.payload };
  return decodeAboveLink({ eth, cooked }, b.length - eth.payload.length, isCut(b, o), o?.checksums !== false);
}

// Shared so that decoding a whole frame allocates no options object.
const PARTIAL = { partial: true } as const;

function isCut(b: Buffer, o: FrameDecodeOptions | undefined): boolean {
  return o?.originalLength !== undefined && o.originalLength > b.length;
}

/** The layers above the link header, which starts the frame and is `base` bytes long. */
function decodeAboveLink(frame: DecodedFrame, base: number, cut: boolean, checksums: boolean): DecodedFrame {
  const { eth } = frame;
  if (eth.ethertype === ETHERTYPE.ARP) {
    try {
      frame.arp = decodeArp(eth.payload);
    } catch (e) {
      frame.problem = relocate(e, base);
    }
  } else if (eth.ethertype === ETHERTYPE.IPV4) {
    try {
      frame.ip = decodeIpv4(eth.payload, cut ? PARTIAL : undefined);
    } catch (e) {
      frame.problem = relocate(e, base);
    }
    const ip = frame.ip;
    if (ip && !ip.moreFragments && ip.fragmentOffset === 0) {
      decodeTransport(frame, ip.protocol, ip.payload, checksums ? ip.src : undefined, ip.dst, cut, ip.truncated === true, base + IPV4_MIN_HEADER + ip.options.length);
    }
  } else if (eth.ethertype === ETHERTYPE.IPV6) {
    try {
      frame.ip6 = decodeIpv6(eth.payload, cut ? PARTIAL : undefined);
    } catch (e) {
      frame.problem = relocate(e, base);
    }
    const ip = frame.ip6;
    if (ip && !(ip.fragment && (ip.fragment.more || ip.fragment.offset > 0))) {
      let headers = IPV6_HEADER_LENGTH;
      for (const h of ip.extensionHeaders) headers += h.data.length + 2;
      decodeTransport(frame, ip.nextHeader, ip.payload, checksums ? ip.src : undefined, ip.dst, cut, ip.truncated === true, base + headers);
    }
  }
  if (cut) frame.truncated = true;
  return frame;
}

/**
 * UDP or TCP from an IP payload starting `base` bytes into the frame. `cut`: the frame is cut
 * short; `ipCut`: the IP packet is, so a TCP checksum (over bytes that are missing) is not checked.
 * No `src`: checksums are not verified.
 */
function decodeTransport(frame: DecodedFrame, protocol: number, payload: Buffer, src: string | undefined, dst: string, cut: boolean, ipCut: boolean, base: number): void {
  try {
    if (protocol === IP_PROTOCOL.UDP) frame.udp = src === undefined ? decodeUdp(payload, undefined, undefined, cut ? PARTIAL : undefined) : decodeUdp(payload, src, dst, cut ? PARTIAL : undefined);
    else if (protocol === IP_PROTOCOL.TCP) frame.tcp = ipCut || src === undefined ? decodeTcp(payload) : decodeTcp(payload, src, dst);
  } catch (e) {
    frame.problem = relocate(e, base);
  }
}
