// The DHCP server's decisions (RFC 2131 §4.3), as one pure function per message: given a
// decoded request and the lease table, what to answer, which leases change and what to record.
// The serving loop persists the changed leases before it sends the reply, so an address is
// never promised to a client unless the store already says it is that client's.
import { intToIpv4, ipv4ToInt } from '../../lib/ids.ts';
import type { BootEvent, BootEventKind } from '../boot/boot-events.ts';
import type { SendTarget } from '../net/datagram.ts';
import { BOOTREPLY, type DhcpMessage, type DhcpMessageType, type DhcpOptions, userClasses } from '../protocol/dhcp.ts';
import type { LeaseRecord } from '../store/store.ts';
import { isIpxe, selectBootChoice, type BootChoice, type BootRequest, type MachineBoot } from './boot-choice.ts';
import { subnetContains, subnetMask, type DhcpServerConfig, type DhcpSubnet } from './dhcp-config.ts';
import { inPool, isActive, type LeaseTable } from './lease-table.ts';
import { PXE_PROXY_PORT, selectReplyDestination, type Received } from './reply-destination.ts';

const ZERO = '0.0.0.0';

/** What the inventory knows about a MAC. */
export interface MachineInfo extends MachineBoot {
  /** The interface's static address, when it has one. */
  ip?: string;
  hostname?: string;
}

export interface DhcpDeps {
  config: DhcpServerConfig;
  leases: LeaseTable;
  machine(mac: string): MachineInfo | null;
  /** The MAC of the system whose interface has this address, if any (static reservations). */
  reservedFor(ip: string): string | undefined;
}

export interface DhcpDecision {
  reply?: { message: DhcpMessage; to: SendTarget };
  /** Leases to persist (in order) before the reply is sent. */
  leases: LeaseRecord[];
  event?: BootEvent;
  /** Why nothing was sent, or a problem worth a log line. */
  note?: { level: 'debug' | 'info' | 'warn'; msg: string };
}

const nothing = (level: 'debug' | 'info' | 'warn', msg: string, leases: LeaseRecord[] = [], event?: BootEvent): DhcpDecision =>
  ({ leases, note: { level, msg }, ...(event ? { event } : {}) });

/** Lease identity: option 61 unless it is just the MAC again (udhcpc), so PXE ROM, dhclient and udhcpc agree. */
export function clientKeyOf(req: DhcpMessage): string {
  const id = req.options.clientId;
  if (id && id.length > 0) {
    const hex = id.toString('hex');
    const macHex = req.chaddr.replace(/:/g, '');
    if (!(id[0] === req.htype && hex.slice(2) === macHex)) return `id:${hex}`;
  }
  return `mac:${req.chaddr}`;
}

function selectSubnet(rx: Received, cfg: DhcpServerConfig): DhcpSubnet | undefined {
  const req = rx.request;
  if (req.giaddr !== ZERO) return cfg.subnets.find((s) => subnetContains(s, req.giaddr));
  const local = cfg.subnets.filter((s) => s.interface === undefined || rx.ifname === undefined || s.interface === rx.ifname);
  if (req.ciaddr !== ZERO) return local.find((s) => subnetContains(s, req.ciaddr)) ?? local[0];
  return local.find((s) => s.interface !== undefined && s.interface === rx.ifname) ?? local[0];
}

function hostnameOption(name: string | undefined): DhcpOptions['other'] {
  if (!name) return [];
  const bytes = Buffer.from(name, 'latin1').subarray(0, 255);
  return [{ code: 12, data: bytes }];
}

function baseReply(req: DhcpMessage, type: DhcpMessageType, cfg: DhcpServerConfig): DhcpMessage {
  return {
    op: BOOTREPLY, htype: req.htype, hlen: req.hlen, hops: 0, xid: req.xid, secs: 0, flags: req.flags,
    ciaddr: type === 'ACK' && req.ciaddr !== ZERO ? req.ciaddr : ZERO,
    yiaddr: ZERO, siaddr: ZERO, giaddr: req.giaddr, chaddr: req.chaddr, sname: '', file: '',
    options: {
      messageType: type, serverId: cfg.serverIp, other: [],
      // Echo what RFC 4578 §2.3 and RFC 3046 §2.2 say must come back.
      ...(req.options.clientUuid ? { clientUuid: req.options.clientUuid } : {}),
      ...(req.options.relayAgentInfo ? { relayAgentInfo: req.options.relayAgentInfo } : {}),
    },
  };
}

/** Adds next-server/boot file to a reply (in place). */
function addBoot(reply: DhcpMessage, req: DhcpMessage, boot: BootChoice, cfg: DhcpServerConfig): void {
  const vc = req.options.vendorClass ?? '';
  if (boot.kind !== 'boot') return;
  reply.siaddr = cfg.serverIp;
  // The header's file field holds 127 bytes and a NUL; longer names (HTTP URLs) go in option 67 only.
  if (Buffer.byteLength(boot.file, 'latin1') < 128) reply.file = boot.file;
  reply.options.bootfileName = boot.file;
  if (!boot.viaHttp) reply.options.tftpServerName = cfg.serverIp;
  // UEFI HTTP boot only accepts an offer that says HTTPClient. PXEClient is NOT echoed by a full
  // server: EDK2 (OVMF, most UEFI firmware) reads "PXEClient without PXE vendor options" as a
  // BINL offer and asks port 4011 for its boot file instead of using this one (PXE-E16). A plain
  // DHCP offer with siaddr/file is what ISC dhcpd sends and every PXE ROM boots from it.
  if (boot.viaHttp && vc.startsWith('HTTPClient')) reply.options.vendorClass = 'HTTPClient';
}

function addNetwork(reply: DhcpMessage, subnet: DhcpSubnet, leaseSeconds: number | undefined, hostname: string | undefined): void {
  const o = reply.options;
  if (leaseSeconds !== undefined) {
    o.leaseTime = leaseSeconds;
    o.renewalTime = Math.floor(leaseSeconds / 2);
    o.rebindingTime = Math.floor((leaseSeconds * 7) / 8);
  }
  o.subnetMask = subnetMask(subnet);
  if (subnet.gateway) o.routers = [subnet.gateway];
  if (subnet.dnsServers.length > 0) o.dnsServers = [...subnet.dnsServers];
  if (subnet.domain) o.domainName = subnet.domain;
  o.other = hostnameOption(hostname);
}

const IPXE_ENCAPSULATED = 175;
const IPXE_NO_PXEDHCP = 176;

/**
 * iPXE waits ~3 s for ProxyDHCP offers after an offer that is not itself a PXE one, unless the
 * offer carries its encapsulated option 175 with no-pxedhcp (176) set. A full server is the
 * boot server, so it says so to every iPXE.
 */
function addIpxeNoProxyWait(reply: DhcpMessage, bootRequest: BootRequest): void {
  if (!isIpxe(bootRequest)) return;
  reply.options.other = [...reply.options.other, { code: IPXE_ENCAPSULATED, data: Buffer.from([IPXE_NO_PXEDHCP, 1, 1]) }];
}

function bootPolicy(cfg: DhcpServerConfig) {
  return { httpBase: cfg.httpBase, unknownMachines: cfg.unknownMachines, enableIpxe: cfg.enableIpxe?.() === true };
}

function bootRequestOf(req: DhcpMessage) {
  return {
    ...(req.options.clientArch?.[0] !== undefined ? { arch: req.options.clientArch[0] } : {}),
    ...(req.options.vendorClass !== undefined ? { vendorClass: req.options.vendorClass } : {}),
    userClasses: userClasses(req.options),
    mac: req.chaddr,
  };
}

function event(kind: BootEventKind, req: DhcpMessage, now: number, machine: MachineInfo | null, detail: string, ip?: string): BootEvent {
  return { at: now, kind, mac: req.chaddr, ...(machine ? { system: machine.system } : {}), ...(ip && ip !== ZERO ? { ip } : {}), detail };
}

function describeBoot(boot: BootChoice): string {
  return boot.kind === 'boot' ? `boot ${boot.file} (${boot.reason})` : `no boot file (${boot.reason})`;
}

function leaseFor(req: DhcpMessage, ip: string, subnet: DhcpSubnet, state: LeaseRecord['state'], expiresAt: number, now: number, machine: MachineInfo | null, previous: LeaseRecord | undefined): LeaseRecord {
  const relay = req.giaddr !== ZERO
    ? { relay: {
        giaddr: req.giaddr,
        ...(req.options.relayAgentInfo?.circuitId ? { circuitId: req.options.relayAgentInfo.circuitId.toString('hex') } : {}),
        ...(req.options.relayAgentInfo?.remoteId ? { remoteId: req.options.relayAgentInfo.remoteId.toString('hex') } : {}),
      } }
    : {};
  // What a client said once (its UUID, its host name) stays with its lease when later messages omit it.
  const before = previous && previous.clientKey === clientKeyOf(req) ? previous : undefined;
  const hostname = machine?.hostname ?? req.options.other.find((o) => o.code === 12)?.data.toString('latin1').replace(/\0+$/, '') ?? before?.hostname;
  const uuid = req.options.clientUuid ? req.options.clientUuid.id.toString('hex') : before?.uuid;
  return {
    ip, mac: req.chaddr, clientKey: clientKeyOf(req), state, expiresAt, updatedAt: now, subnet: subnet.cidr,
    ...(hostname ? { hostname } : {}),
    ...(uuid ? { uuid } : {}),
    ...relay,
  };
}

/** Pick the address for a client: its reservation, its previous lease, what it asked for, or the next free one. */
function chooseAddress(req: DhcpMessage, subnet: DhcpSubnet, machine: MachineInfo | null, deps: DhcpDeps, now: number): string | undefined {
  if (machine?.ip && subnetContains(subnet, machine.ip)) return machine.ip;
  const key = clientKeyOf(req);
  const usable = (n: number): boolean => {
    const ip = intToIpv4(n);
    if (ip === deps.config.serverIp || ip === subnet.gateway) return false;
    const owner = deps.reservedFor(ip);
    return owner === undefined || owner === req.chaddr;
  };
  const previous = deps.leases.forClient(key, req.chaddr);
  if (previous && previous.state !== 'declined' && inPool(subnet, previous.ip) && usable(ipv4ToInt(previous.ip))
    && deps.leases.availableTo(ipv4ToInt(previous.ip), key, req.chaddr, now)) return previous.ip;
  const asked = req.options.requestedIp;
  if (asked && inPool(subnet, asked) && usable(ipv4ToInt(asked)) && deps.leases.availableTo(ipv4ToInt(asked), key, req.chaddr, now)) return asked;
  const n = deps.leases.allocate(subnet, key, req.chaddr, now, usable);
  return n === undefined ? undefined : intToIpv4(n);
}

export function decideDhcp(rx: Received, deps: DhcpDeps, now: number): DhcpDecision {
  const req = rx.request;
  const type = req.options.messageType;
  if (req.op !== 1) return nothing('debug', 'not a BOOTREQUEST');
  if (!type) return nothing('debug', 'BOOTP request without a DHCP message type: not served');
  if (deps.config.mode === 'proxy') return decideProxy(rx, deps, now);
  const subnet = selectSubnet(rx, deps.config);
  if (!subnet) return nothing('warn', req.giaddr !== ZERO ? `no subnet configured for relay ${req.giaddr}` : `no subnet configured for interface ${rx.ifname ?? '?'}`);
  const machine = deps.machine(req.chaddr);
  switch (type) {
    case 'DISCOVER': return discover(rx, subnet, machine, deps, now);
    case 'REQUEST': return request(rx, subnet, machine, deps, now);
    case 'DECLINE': return decline(rx, machine, deps, now);
    case 'RELEASE': return release(rx, machine, deps, now);
    case 'INFORM': return inform(rx, subnet, machine, deps, now);
    default: return nothing('debug', `${type} is a server message; ignored`);
  }
}

function discover(rx: Received, subnet: DhcpSubnet, machine: MachineInfo | null, deps: DhcpDeps, now: number): DhcpDecision {
  const req = rx.request;
  const bootRequest = bootRequestOf(req);
  const boot = selectBootChoice(bootRequest, machine, bootPolicy(deps.config));
  if (boot.kind === 'ignore') return nothing('debug', boot.reason);
  const ip = chooseAddress(req, subnet, machine, deps, now);
  if (!ip) return nothing('warn', `no free address in ${subnet.cidr} for ${req.chaddr}: the pool is exhausted`);
  const current = deps.leases.get(ip);
  const key = clientKeyOf(req);
  const keep = current && (current.clientKey === key || current.mac === req.chaddr) && current.state === 'bound' && isActive(current, now);
  // The offer is held in memory only: what must survive a crash is the ACK's lease. A server
  // restarted between OFFER and REQUEST may offer the address again, but it still ACKs it to
  // one client only (the other REQUEST finds it leased and gets a NAK).
  if (!keep) deps.leases.set(leaseFor(req, ip, subnet, 'offered', now + deps.config.offerHoldSeconds, now, machine, current));
  const leases: LeaseRecord[] = [];
  const reply = baseReply(req, 'OFFER', deps.config);
  reply.yiaddr = ip;
  addNetwork(reply, subnet, subnet.leaseSeconds, machine?.hostname);
  addIpxeNoProxyWait(reply, bootRequest);
  addBoot(reply, req, boot, deps.config);
  return { reply: { message: reply, to: selectReplyDestination(rx, reply) }, leases, event: event('dhcp-offer', req, now, machine, `offered ${ip}; ${describeBoot(boot)}`, ip) };
}

function nak(rx: Received, deps: DhcpDeps, now: number, machine: MachineInfo | null, why: string, leases: LeaseRecord[] = []): DhcpDecision {
  const reply = baseReply(rx.request, 'NAK', deps.config);
  reply.options.other = [{ code: 56, data: Buffer.from(why, 'latin1').subarray(0, 255) }];
  return { reply: { message: reply, to: selectReplyDestination(rx, reply) }, leases, event: event('dhcp-nak', rx.request, now, machine, why), note: { level: 'info', msg: `NAK: ${why}` } };
}

function request(rx: Received, subnet: DhcpSubnet, machine: MachineInfo | null, deps: DhcpDeps, now: number): DhcpDecision {
  const req = rx.request;
  const key = clientKeyOf(req);
  const selecting = req.options.serverId !== undefined;
  if (selecting && req.options.serverId !== deps.config.serverIp) {
    // The client took another server's offer: give ours back to the pool.
    const mine = deps.leases.forClient(key, req.chaddr);
    if (mine && mine.state === 'offered') deps.leases.set({ ...mine, state: 'released', expiresAt: now, updatedAt: now });
    return nothing('debug', `${req.chaddr} chose server ${req.options.serverId}`);
  }
  const wanted = req.options.requestedIp ?? (req.ciaddr !== ZERO ? req.ciaddr : undefined);
  if (!wanted) return nothing('warn', `REQUEST from ${req.chaddr} names no address (no option 50, no ciaddr)`);
  if (!subnetContains(subnet, wanted)) return nak(rx, deps, now, machine, `${wanted} is not on subnet ${subnet.cidr}`);
  if (machine?.ip && subnetContains(subnet, machine.ip) && machine.ip !== wanted) {
    return nak(rx, deps, now, machine, `${req.chaddr} is reserved ${machine.ip}, not ${wanted}`);
  }
  const owner = deps.reservedFor(wanted);
  if (owner !== undefined && owner !== req.chaddr) return nak(rx, deps, now, machine, `${wanted} is reserved for ${owner}`);
  const lease = deps.leases.get(wanted);
  const ours = lease && (lease.clientKey === key || lease.mac === req.chaddr) && lease.state !== 'declined';
  const staticAddress = machine?.ip === wanted;
  if (lease && !ours && (lease.state === 'declined' ? lease.expiresAt > now : isActive(lease, now))) {
    return nak(rx, deps, now, machine, `${wanted} is ${lease.state === 'declined' ? 'quarantined after a DECLINE' : `leased to ${lease.mac}`}`);
  }
  if (!ours && !staticAddress) {
    // Only a client answering our own offer may take an address we hold no record of it for.
    if (!selecting) return nothing('debug', `no record of ${req.chaddr} with ${wanted}: silent (RFC 2131 §4.3.2)`);
    if (!inPool(subnet, wanted) || wanted === deps.config.serverIp || wanted === subnet.gateway) {
      return nak(rx, deps, now, machine, `${wanted} was not offered to ${req.chaddr}`);
    }
  }
  const bootRequest = bootRequestOf(req);
  const boot = selectBootChoice(bootRequest, machine, bootPolicy(deps.config));
  if (boot.kind === 'ignore') return nothing('debug', boot.reason);
  // RENEWING/REBINDING (ciaddr set, RFC 2131 §4.3.2) of a lease the client holds is not a boot:
  // the lease is stored, but no boot event is recorded (installed machines renew around the
  // clock, and would bury the boots in the events).
  const renewal = req.ciaddr !== ZERO && ours && lease.state === 'bound';
  const bound = deps.leases.set(leaseFor(req, wanted, subnet, 'bound', now + subnet.leaseSeconds, now, machine, lease));
  const reply = baseReply(req, 'ACK', deps.config);
  reply.yiaddr = wanted;
  addNetwork(reply, subnet, subnet.leaseSeconds, machine?.hostname);
  addIpxeNoProxyWait(reply, bootRequest);
  addBoot(reply, req, boot, deps.config);
  return {
    reply: { message: reply, to: selectReplyDestination(rx, reply) }, leases: [bound],
    ...(renewal ? {} : { event: event('dhcp-ack', req, now, machine, `leased ${wanted} for ${subnet.leaseSeconds}s; ${describeBoot(boot)}`, wanted) }),
  };
}

function decline(rx: Received, machine: MachineInfo | null, deps: DhcpDeps, now: number): DhcpDecision {
  const req = rx.request;
  const ip = req.options.requestedIp;
  if (!ip) return nothing('warn', `DECLINE from ${req.chaddr} without option 50`);
  const lease = deps.leases.get(ip);
  if (!lease || (lease.clientKey !== clientKeyOf(req) && lease.mac !== req.chaddr)) return nothing('warn', `DECLINE of ${ip} from ${req.chaddr}, which does not hold it`);
  // Someone else answers on this address: keep it out of the pool for the quarantine period.
  const q = deps.leases.set({ ...lease, state: 'declined', expiresAt: now + deps.config.declineQuarantineSeconds, updatedAt: now });
  return { leases: [q], event: event('dhcp-decline', req, now, machine, `declined ${ip}: quarantined for ${deps.config.declineQuarantineSeconds}s`, ip), note: { level: 'warn', msg: `${req.chaddr} declined ${ip}: another host may be using it` } };
}

function release(rx: Received, machine: MachineInfo | null, deps: DhcpDeps, now: number): DhcpDecision {
  const req = rx.request;
  const lease = req.ciaddr !== ZERO ? deps.leases.get(req.ciaddr) : undefined;
  if (!lease || (lease.clientKey !== clientKeyOf(req) && lease.mac !== req.chaddr) || lease.state === 'declined') {
    return nothing('debug', `RELEASE of ${req.ciaddr} from ${req.chaddr}, which does not hold it`);
  }
  const r = deps.leases.set({ ...lease, state: 'released', expiresAt: now, updatedAt: now });
  return { leases: [r], event: event('dhcp-release', req, now, machine, `released ${req.ciaddr}`, req.ciaddr) };
}

function inform(rx: Received, subnet: DhcpSubnet, machine: MachineInfo | null, deps: DhcpDeps, now: number): DhcpDecision {
  const req = rx.request;
  const reply = baseReply(req, 'ACK', deps.config);
  reply.ciaddr = ZERO;
  addNetwork(reply, subnet, undefined, machine?.hostname);
  const bootRequest = bootRequestOf(req);
  addIpxeNoProxyWait(reply, bootRequest);
  const boot = selectBootChoice(bootRequest, machine, bootPolicy(deps.config));
  addBoot(reply, req, boot, deps.config);
  return { reply: { message: reply, to: selectReplyDestination(rx, reply) }, leases: [], event: event('dhcp-inform', req, now, machine, `configuration for ${req.ciaddr}; ${describeBoot(boot)}`, req.ciaddr) };
}

/** PXE discovery control "boot from the file named here" (PXE 2.1 §2.4.4): BIOS ROMs then skip boot-server discovery. */
const PXE_BOOT_FROM_FILE = Buffer.from([6, 1, 8, 255]);

function decideProxy(rx: Received, deps: DhcpDeps, now: number): DhcpDecision {
  const req = rx.request;
  const type = req.options.messageType;
  const vc = req.options.vendorClass ?? '';
  if (!vc.startsWith('PXEClient') && !vc.startsWith('HTTPClient')) return nothing('debug', `${req.chaddr} is not a PXE client: left to the network's DHCP server`);
  const onProxyPort = rx.port === PXE_PROXY_PORT;
  const answer: DhcpMessageType | undefined =
    type === 'DISCOVER' && !onProxyPort ? 'OFFER'
    : (type === 'REQUEST' || type === 'INFORM') && (onProxyPort || req.options.serverId === deps.config.serverIp) ? 'ACK'
    : undefined;
  if (!answer) return nothing('debug', `ProxyDHCP does not answer ${type}${onProxyPort ? ' on 4011' : ''}`);
  const machine = deps.machine(req.chaddr);
  const boot = selectBootChoice(bootRequestOf(req), machine, bootPolicy(deps.config));
  if (boot.kind !== 'boot') return nothing('debug', `no ProxyDHCP answer for ${req.chaddr}: ${boot.reason}`);
  const reply = baseReply(req, answer, deps.config);
  addBoot(reply, req, boot, deps.config);
  // Every ProxyDHCP reply must say PXEClient (or HTTPClient), or the client discards it.
  reply.options.vendorClass ??= vc.startsWith('HTTPClient') ? 'HTTPClient' : 'PXEClient';
  if (boot.firmware === 'bios' && !onProxyPort) reply.options.vendorSpecific = PXE_BOOT_FROM_FILE;
  return {
    reply: { message: reply, to: selectReplyDestination(rx, reply) }, leases: [],
    event: event(answer === 'OFFER' ? 'proxy-offer' : 'proxy-ack', req, now, machine, describeBoot(boot)),
  };
}
