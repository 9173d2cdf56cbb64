// What the DHCP server serves: its mode, its own address, and its subnets (the one on the
// provisioning interface plus any reached through relays). Parsed once at the edge.
import { RackforgeError } from '../../lib/errors.ts';
import { intToIpv4, ipv4ToInt, isIpv4 } from '../../lib/ids.ts';

export interface DhcpSubnet {
  /** network/prefix, e.g. 10.0.0.0/24 */
  cidr: string;
  network: number;
  prefix: number;
  /** Inclusive address ranges of the dynamic pool, as numbers. */
  ranges: Array<readonly [number, number]>;
  gateway?: string;
  dnsServers: string[];
  domain?: string;
  leaseSeconds: number;
  /** The provisioning interface this subnet is on; undefined for subnets behind relays. */
  interface?: string;
}

export type UnknownMachinePolicy = 'ignore' | 'menu';

export interface DhcpServerConfig {
  /** full: addresses and boot information. proxy: boot information only (another server leases). */
  mode: 'full' | 'proxy';
  /** Our address: option 54, siaddr/next-server, and the host in boot URLs. */
  serverIp: string;
  /** Base of HTTP boot URLs, e.g. http://10.0.0.1:8080 */
  httpBase: string;
  subnets: DhcpSubnet[];
  unknownMachines: UnknownMachinePolicy;
  /** Cobbler's enable_ipxe setting (read live from the settings). */
  enableIpxe?: () => boolean;
  /** How long an offered address is held for the client that was offered it. */
  offerHoldSeconds: number;
  /** How long a declined address stays out of the pool. */
  declineQuarantineSeconds: number;
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function subnetContains(s: Pick<DhcpSubnet, 'network' | 'prefix'>, ip: string | number): boolean {
  const n = typeof ip === 'number' ? ip : ipv4ToInt(ip);
  return ((n & maskOf(s.prefix)) >>> 0) === s.network;
}

export function subnetMask(s: Pick<DhcpSubnet, 'prefix'>): string {
  return intToIpv4(maskOf(s.prefix));
}

export function broadcastOf(s: Pick<DhcpSubnet, 'network' | 'prefix'>): number {
  return (s.network | (~maskOf(s.prefix) >>> 0)) >>> 0;
}

function ip(text: string, what: string): string {
  if (!isIpv4(text)) throw new RackforgeError('CONFIG_INVALID', `${what}: '${text}' is not an IPv4 address`);
  return text;
}

/** Builds and checks a subnet: the range must lie inside it and exclude its network and broadcast addresses. */
export function makeSubnet(spec: {
  cidr: string; ranges: Array<readonly [string, string]>; gateway?: string; dnsServers?: string[]; domain?: string;
  leaseSeconds?: number; interface?: string;
}): DhcpSubnet {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(spec.cidr);
  if (!m || Number(m[2]) > 32) throw new RackforgeError('CONFIG_INVALID', `subnet '${spec.cidr}' is not network/prefix (e.g. 10.0.0.0/24)`);
  const prefix = Number(m[2]);
  const network = (ipv4ToInt(ip(m[1] as string, 'subnet')) & maskOf(prefix)) >>> 0;
  const s: DhcpSubnet = {
    cidr: `${intToIpv4(network)}/${prefix}`, network, prefix, ranges: [],
    dnsServers: (spec.dnsServers ?? []).map((d) => ip(d, 'DNS server')),
    leaseSeconds: spec.leaseSeconds ?? 3600,
    ...(spec.gateway ? { gateway: ip(spec.gateway, 'gateway') } : {}),
    ...(spec.domain ? { domain: spec.domain } : {}),
    ...(spec.interface ? { interface: spec.interface } : {}),
  };
  if (!(Number.isInteger(s.leaseSeconds) && s.leaseSeconds >= 10 && s.leaseSeconds <= 0xfffffffe)) {
    throw new RackforgeError('CONFIG_INVALID', `lease time ${spec.leaseSeconds} must be a whole number of seconds, at least 10`);
  }
  for (const [a, b] of spec.ranges) {
    const first = ipv4ToInt(ip(a, 'range start')), last = ipv4ToInt(ip(b, 'range end'));
    if (first > last) throw new RackforgeError('CONFIG_INVALID', `DHCP range ${a},${b}: the first address is after the last`);
    if (!subnetContains(s, first) || !subnetContains(s, last)) {
      throw new RackforgeError('CONFIG_INVALID', `DHCP range ${a},${b} is not inside subnet ${s.cidr}`);
    }
    if (prefix < 31 && (first === network || last === broadcastOf(s))) {
      throw new RackforgeError('CONFIG_INVALID', `DHCP range ${a},${b} includes the network or broadcast address of ${s.cidr}`);
    }
    s.ranges.push([first, last]);
  }
  if (s.gateway && !subnetContains(s, s.gateway)) throw new RackforgeError('CONFIG_INVALID', `gateway ${s.gateway} is not inside subnet ${s.cidr}`);
  return s;
}

/** `--dhcp-range FIRST,LAST` */
export function parseRangeSpec(text: string): [string, string] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 2) throw new RackforgeError('CONFIG_INVALID', `--dhcp-range '${text}': expected FIRST,LAST (e.g. 10.0.0.100,10.0.0.200)`);
  return [ip(parts[0] as string, '--dhcp-range'), ip(parts[1] as string, '--dhcp-range')];
}

/** `--subnet CIDR,FIRST,LAST[,GATEWAY]`: an extra subnet reached through a relay. */
export function parseSubnetSpec(text: string, defaults: { dnsServers?: string[]; domain?: string; leaseSeconds?: number } = {}): DhcpSubnet {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length < 3 || parts.length > 4) {
    throw new RackforgeError('CONFIG_INVALID', `--subnet '${text}': expected CIDR,FIRST,LAST[,GATEWAY] (e.g. 10.1.0.0/24,10.1.0.100,10.1.0.200,10.1.0.1)`);
  }
  const [cidr, first, last, gateway] = parts as [string, string, string, string | undefined];
  return makeSubnet({ cidr, ranges: [[first, last]], ...(gateway ? { gateway } : {}), ...defaults });
}
