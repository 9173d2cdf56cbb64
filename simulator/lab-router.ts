// The lab network's IPv6 router, as far as booting machines need one: it answers router
// solicitations with a router advertisement that says "no IPv6 here" (router lifetime 0, no
// prefixes, no DHCPv6). A real datacentre network has a router that answers; a lab network has
// nothing, and iPXE then waits ~13 s for IPv6 configuration on every network boot, a boot with
// no boot file included (the one that falls through to the disk after an install): half the time
// `npm start` took. With the answer iPXE goes on at once. Lab networks stay IPv4-only.
//
// answerRouterSolicitation is the decision (pure, frame in, frame or nothing out);
// startLabRouter joins it to a hub port.
import type { Logger } from '../lib/log.ts';
import { ETHERTYPE, decodeEthernet, encodeEthernet, macFromBytes } from '../provisioner/protocol/ethernet.ts';
import { ICMPV6_TYPE, decodeIcmpv6, decodeRouterSolicitation, encodeRouterAdvertisement } from '../provisioner/protocol/icmpv6.ts';
import { IPV6_NEXT_HEADER, decodeIpv6, encodeIpv6, ipv6FromBytes, ipv6ToBytes } from '../provisioner/protocol/ipv6.ts';
import type { FramePort } from './hub-port.ts';

const UNSPECIFIED = '::';
const ALL_NODES = 'ff02::1';
const ALL_NODES_MAC = '33:33:00:00:00:01';
const ALL_ROUTERS = 'ff02::2';
/** RFC 4861 §6.1.1: neighbour discovery messages arrive with hop limit 255 or are not genuine. */
const ND_HOP_LIMIT = 255;

/** The router's link-local address: fe80:: with the modified EUI-64 of its MAC (RFC 4291 §2.5.1). */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const group = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  // Through bytes and back, for the RFC 5952 form decodeIpv6 gives (02:00:00:… has zero groups).
  return ipv6FromBytes(ipv6ToBytes(`fe80::${group(b[0]! ^ 0x02, b[1]!)}:${group(b[2]!, 0xff)}:${group(0xfe, b[3]!)}:${group(b[4]!, b[5]!)}`), 0);
}

/**
 * The advertisement answering `frame` when it is a valid router solicitation from another
 * host (RFC 4861 §6.1.1), else undefined; never throws. Sent to the soliciting host, or to all
 * nodes when it asked from the unspecified address (§6.2.6).
 */
export function answerRouterSolicitation(frame: Buffer, routerMac: string): Buffer | undefined {
  // Every frame on the hub comes here: most are IPv4, and need not be decoded to be passed over.
  // Untagged only: lab networks carry no VLANs, and a tagged answer would need its tag back.
  if (frame.length < 14 || frame.readUInt16BE(12) !== ETHERTYPE.IPV6) return undefined;
  try {
    const eth = decodeEthernet(frame);
    if (eth.ethertype !== ETHERTYPE.IPV6 || eth.src === routerMac) return undefined;
    const ip = decodeIpv6(eth.payload);
    if (ip.nextHeader !== IPV6_NEXT_HEADER.ICMPV6 || ip.hopLimit !== ND_HOP_LIMIT || ip.fragment) return undefined;
    if (ip.dst !== ALL_ROUTERS && ip.dst !== linkLocalOf(routerMac)) return undefined;
    const m = decodeIcmpv6(ip.payload, ip.src, ip.dst);
    if (m.type !== ICMPV6_TYPE.ROUTER_SOLICITATION || m.code !== 0) return undefined;
    const rs = decodeRouterSolicitation(m);
    // §6.1.1: a solicitation from the unspecified address carries no source link-layer option.
    if (ip.src === UNSPECIFIED && rs.sourceMac !== undefined) return undefined;
    const src = linkLocalOf(routerMac);
    const [dst, dstMac] = ip.src === UNSPECIFIED ? [ALL_NODES, ALL_NODES_MAC] : [ip.src, rs.sourceMac ?? eth.src];
    const ra = encodeRouterAdvertisement({
      curHopLimit: 64, managed: false, other: false, routerLifetime: 0, reachableTimeMs: 0, retransTimerMs: 0, sourceMac: routerMac,
    }, src, dst);
    return encodeEthernet({
      dst: dstMac, src: routerMac, ethertype: ETHERTYPE.IPV6,
      payload: encodeIpv6({ src, dst, nextHeader: IPV6_NEXT_HEADER.ICMPV6, hopLimit: ND_HOP_LIMIT, trafficClass: 0, flowLabel: 0, payload: ra }),
    });
  } catch {
    return undefined;
  }
}

/** A network's router MAC: 02:72:66 ("rf", locally administered), then the network's index. */
export function labRouterMac(networkIndex: number): string {
  return macFromBytes(Buffer.from([0x02, 0x72, 0x66, 0, (networkIndex >> 8) & 0xff, networkIndex & 0xff]), 0);
}

export interface LabRouter { readonly answered: number }

/** Answers router solicitations heard on `port` for as long as the port is open. */
export function startLabRouter(o: { port: FramePort; mac: string; network: string; log: Logger }): LabRouter {
  const state = { answered: 0 };
  o.port.onFrame((frame) => {
    const reply = answerRouterSolicitation(frame, o.mac);
    if (!reply) return;
    state.answered++;
    o.port.send(reply);
    o.log.debug('lab router: router solicitation answered', { network: o.network, mac: frame.subarray(6, 12).toString('hex') });
  });
  return state;
}
