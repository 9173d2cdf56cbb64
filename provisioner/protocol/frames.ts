// Whole frames, layer on layer: the userspace PXE stack builds its replies here and the capture
// code decodes what it sees. Pure, like the codecs it stacks.
//
// The encoders write every layer into one buffer, so the payload is copied once. decodeFrame
// goes as deep as the bytes allow: only a bad Ethernet header throws; a layer above that fails
// is left out and its DecodeError is kept in `problem`, with the offset counted from the start
// of the frame. IP fragments carry no udp/tcp (the transport header is only in the first one and
// its checksum covers the whole datagram); reassembly belongs to whoever keeps state.
import { DecodeError } from '../../lib/errors.ts';
import { ARP_LENGTH, decodeArp, encodeArpInto, type ArpPacket } from './arp.ts';
import { ETHERNET_MIN_FRAME, ETHERTYPE, decodeEthernet, encodeEthernetHeaderInto, ethernetHeaderLength, type EthernetFrame, type VlanTag } from './ethernet.ts';
import { IP_PROTOCOL, IPV4_MAX_TOTAL_LENGTH, IPV4_MIN_HEADER, decodeIpv4, encodeIpv4HeaderInto, type Ipv4Packet } from './ipv4.ts';
import { decodeTcp, encodeTcpInto, tcpHeaderLength, type TcpSegment, type TcpSegmentInput } from './tcp.ts';
import { UDP_HEADER_LENGTH, decodeUdp, encodeUdpInto, type UdpDatagram } from './udp.ts';

/** Fields of the IPv4 header the frame encoders let a caller set; the rest follow the payload. */
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
  eth: EthernetFrame;
  arp?: ArpPacket;
  ip?: Ipv4Packet;
  udp?: UdpDatagram;
  tcp?: TcpSegment;
  /** Why the layer after the last one present did not decode; offset from the frame start. */
  problem?: DecodeError;
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

function checkIpLength(total: number): void {
  if (total > IPV4_MAX_TOTAL_LENGTH) throw new RangeError(`cannot encode a ${total}-byte IPv4 packet: more than ${IPV4_MAX_TOTAL_LENGTH}`);
}

/** Ethernet + IPv4 + UDP with both checksums, padded to 60 bytes. RangeError for a value with no wire form. */
export function encodeUdpFrame(f: UdpFrameInput): Buffer {
  const eth = ethernetHeaderLength(f);
  const udpLength = UDP_HEADER_LENGTH + f.payload.length;
  checkIpLength(IPV4_MIN_HEADER + udpLength);
  const out = frameBuffer(eth + IPV4_MIN_HEADER + udpLength);
  encodeEthernetHeaderInto({ dst: f.dstMac, src: f.srcMac, vlan: f.vlan, ethertype: ETHERTYPE.IPV4 }, out, 0);
  encodeIpv4HeaderInto(ipHeader(f, IP_PROTOCOL.UDP), udpLength, out, eth);
  encodeUdpInto(f, f.srcIp, f.dstIp, out, eth + IPV4_MIN_HEADER);
  return out;
}

/** Ethernet + IPv4 + TCP with both checksums, padded to 60 bytes. RangeError for a value with no wire form. */
export function encodeTcpFrame(f: TcpFrameInput): Buffer {
  const eth = ethernetHeaderLength(f);
  const tcpLength = tcpHeaderLength(f.segment) + (f.segment.payload?.length ?? 0);
  checkIpLength(IPV4_MIN_HEADER + tcpLength);
  const out = frameBuffer(eth + IPV4_MIN_HEADER + tcpLength);
  encodeEthernetHeaderInto({ dst: f.dstMac, src: f.srcMac, vlan: f.vlan, ethertype: ETHERTYPE.IPV4 }, out, 0);
  encodeIpv4HeaderInto(ipHeader(f, IP_PROTOCOL.TCP), tcpLength, out, eth);
  encodeTcpInto(f.segment, f.srcIp, f.dstIp, out, eth + IPV4_MIN_HEADER);
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
 * Decodes a frame as far as it goes: Ethernet, then ARP or IPv4, then UDP or TCP (checksums
 * verified against the IPv4 addresses). Throws DecodeError only for a bad Ethernet header.
 * The VLAN tag, if any, is in `eth.vlan`; layers above it decode as if it were not there.
 */
export function decodeFrame(b: Buffer): DecodedFrame {
  const eth = decodeEthernet(b);
  const frame: DecodedFrame = { eth };
  const base = b.length - eth.payload.length;
  if (eth.ethertype === ETHERTYPE.ARP) {
    try {
      frame.arp = decodeArp(eth.payload);
    } catch (e) {
      frame.problem = relocate(e, base);
    }
    return frame;
  }
  if (eth.ethertype !== ETHERTYPE.IPV4) return frame;
  let ip: Ipv4Packet;
  try {
    ip = decodeIpv4(eth.payload);
  } catch (e) {
    frame.problem = relocate(e, base);
    return frame;
  }
  frame.ip = ip;
  if (ip.moreFragments || ip.fragmentOffset > 0) return frame;
  const transportBase = base + IPV4_MIN_HEADER + ip.options.length;
  try {
    if (ip.protocol === IP_PROTOCOL.UDP) frame.udp = decodeUdp(ip.payload, ip.src, ip.dst);
    else if (ip.protocol === IP_PROTOCOL.TCP) frame.tcp = decodeTcp(ip.payload, ip.src, ip.dst);
  } catch (e) {
    frame.problem = relocate(e, transportBase);
  }
  return frame;
}
