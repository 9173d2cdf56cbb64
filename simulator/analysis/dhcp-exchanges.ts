// DHCP as seen on the wire: each message as a timeline event for its client, replies tied to
// the request they answer (same client, same xid) so a reply knows whether it went to a PXE ROM
// or to iPXE, and a table of every server that answered: how often, whom, with which boot
// files, and whether it was a ProxyDHCP (boot information without an address).
import type { DhcpMessage } from '../../provisioner/protocol/dhcp.ts';
import { userClasses } from '../../provisioner/protocol/dhcp.ts';
import { archFromVendorClass, clientArchName, isNetbootVendorClass } from './boot-artifacts.ts';
import type { ClientArchitecture, DhcpEventReport, DhcpMessageName, DhcpServerReport } from './capture-report.ts';

export interface DhcpObservation {
  frame: number;
  msg: DhcpMessage;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  srcMac: string;
}

/** What a client said in a request, kept so the replies to it can say whom they answered. */
interface RequestContext {
  xid: number;
  architectures: ClientArchitecture[];
  vendorClass: string | null;
  userClasses: string[];
  netboot: boolean;
  ipxe: boolean;
}

interface ServerState {
  id: string;
  sourceIps: Set<string>;
  sourceMacs: Set<string>;
  offers: number;
  acks: number;
  naks: number;
  proxyReplies: number;
  dhcpReplies: number;
  clients: Set<string>;
  bootFiles: Set<string>;
  nextServers: Set<string>;
  firstFrame: number;
  frames: number[];
}

const REQUESTS_REMEMBERED = 4;
const SERVER_FRAMES_KEPT = 20;
const SERVER_BOOT_FILES_KEPT = 20;
const ZERO = '0.0.0.0';
const OPTION_HOSTNAME = 12;

/** The client a message is about: chaddr for Ethernet, otherwise the frame's sender for requests. */
export function dhcpClientMac(o: DhcpObservation): string {
  const m = o.msg;
  if (m.htype === 1 && m.hlen === 6) return m.chaddr;
  return m.op === 1 ? o.srcMac : m.chaddr;
}

/** Option 93, or the Arch field of option 60 when the client sent no 93. */
export function requestArchitectures(m: DhcpMessage): ClientArchitecture[] {
  const codes = m.options.clientArch ?? [];
  if (codes.length > 0) return codes.map((code) => ({ code, name: clientArchName(code) }));
  const fromVendor = archFromVendorClass(m.options.vendorClass);
  return fromVendor === undefined ? [] : [{ code: fromVendor, name: clientArchName(fromVendor) }];
}

/** Option 97 as hex in byte order (8-4-4-4-12 for 16 bytes). */
export function formatUuid(id: Buffer): string {
  const h = id.toString('hex');
  if (id.length !== 16) return h;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function dhcpHostname(m: DhcpMessage): string | null {
  const o = m.options.other.find((x) => x.code === OPTION_HOSTNAME);
  return o ? o.data.toString('latin1').replace(/\0+$/, '') : null;
}

/** Option 67, else the BOOTP file field (both may carry trailing NULs from some servers). */
export function dhcpBootFile(m: DhcpMessage): string | null {
  const f = (m.options.bootfileName ?? m.file).replace(/\0+$/, '');
  return f === '' ? null : f;
}

function isProxyReply(o: DhcpObservation): boolean {
  const m = o.msg;
  if (o.srcPort === 4011 || o.dstPort === 4011) return true;
  return m.options.messageType === 'OFFER' && m.yiaddr === ZERO;
}

function contextOf(m: DhcpMessage): RequestContext {
  const vendorClass = m.options.vendorClass ?? null;
  const classes = userClasses(m.options);
  return {
    xid: m.xid,
    architectures: requestArchitectures(m),
    vendorClass,
    userClasses: classes,
    netboot: isNetbootVendorClass(vendorClass ?? undefined) || (m.options.clientArch?.length ?? 0) > 0,
    ipxe: classes.includes('iPXE'),
  };
}

const nonZero = (ip: string): string | null => (ip === ZERO ? null : ip);

/** The report line for one message; `ctx` is the request a reply answers, when it was seen. */
export function dhcpEventOf(o: DhcpObservation, ctx: RequestContext | undefined): DhcpEventReport {
  const m = o.msg;
  const reply = m.op === 2;
  const type: DhcpMessageName = m.options.messageType ?? 'BOOTP';
  const own = reply ? undefined : contextOf(m);
  const c = own ?? ctx;
  return {
    type,
    direction: reply ? 'reply' : 'request',
    xid: m.xid,
    xidHex: `0x${m.xid.toString(16).padStart(8, '0')}`,
    srcIp: o.srcIp,
    dstIp: o.dstIp,
    srcPort: o.srcPort,
    srcMac: o.srcMac,
    server: reply ? (m.options.serverId ?? o.srcIp) : (m.options.serverId ?? null),
    address: reply ? nonZero(m.yiaddr) : null,
    ciaddr: nonZero(m.ciaddr),
    requestedIp: m.options.requestedIp ?? null,
    nextServer: nonZero(m.siaddr),
    tftpServerName: m.options.tftpServerName?.replace(/\0+$/, '') ?? null,
    bootFile: dhcpBootFile(m),
    proxy: reply && isProxyReply(o),
    relay: nonZero(m.giaddr),
    architectures: c?.architectures ?? [],
    vendorClass: reply ? (c?.vendorClass ?? null) : (m.options.vendorClass ?? null),
    userClasses: c?.userClasses ?? [],
    netbootClient: c?.netboot ?? false,
    ipxeClient: c?.ipxe ?? false,
  };
}

/** One line for people: "ACK 10.0.0.50 from 10.0.0.1, next-server 10.0.0.1, boot file pxelinux.0". */
export function summarizeDhcp(e: DhcpEventReport): string {
  const parts: string[] = [];
  const name = e.proxy ? `ProxyDHCP ${e.type}` : `DHCP ${e.type}`;
  if (e.direction === 'request') {
    let s = `${name} xid ${e.xidHex}`;
    const wanted = e.requestedIp ?? e.ciaddr;
    if (wanted) s += ` for ${wanted}`;
    if (e.server) s += ` (server ${e.server})`;
    parts.push(s);
    const who: string[] = [];
    if (e.ipxeClient) who.push('iPXE');
    else if (e.vendorClass?.startsWith('HTTPClient')) who.push('HTTP boot client');
    else if (e.netbootClient) who.push('PXE client');
    if (e.architectures.length > 0) who.push(e.architectures.map((a) => `${a.name} (${a.code})`).join('/'));
    if (who.length > 0) parts.push(who.join(', '));
  } else {
    let s = name;
    if (e.address) s += ` ${e.address}`;
    s += ` from ${e.server ?? e.srcIp}`;
    parts.push(s);
    if (e.nextServer) parts.push(`next-server ${e.nextServer}`);
    if (e.tftpServerName) parts.push(`TFTP server ${e.tftpServerName}`);
    if (e.bootFile) parts.push(`boot file ${e.bootFile}`);
    else if (e.type === 'OFFER' || e.type === 'ACK') parts.push('no boot file');
  }
  if (e.relay) parts.push(`via relay ${e.relay}`);
  return parts.join(', ');
}

/** The DHCP half of the analyzer: events per client and the servers table. */
export class DhcpExchanges {
  private readonly requests = new Map<string, RequestContext[]>();
  private readonly servers = new Map<string, ServerState>();
  /** Client MAC -> the server whose last address-carrying ACK it got. */
  private readonly leases = new Map<string, string>();

  /** Records one message; returns its client and the event. */
  observe(o: DhcpObservation): { mac: string; event: DhcpEventReport } {
    const mac = dhcpClientMac(o);
    const m = o.msg;
    if (m.op !== 2) {
      const ctx = contextOf(m);
      const list = this.requests.get(mac) ?? [];
      const same = list.findIndex((c) => c.xid === m.xid);
      if (same >= 0) list.splice(same, 1);
      list.push(ctx);
      if (list.length > REQUESTS_REMEMBERED) list.shift();
      this.requests.set(mac, list);
      return { mac, event: dhcpEventOf(o, ctx) };
    }
    const ctx = this.requests.get(mac)?.find((c) => c.xid === m.xid);
    const event = dhcpEventOf(o, ctx);
    this.noteServer(o, mac, event);
    return { mac, event };
  }

  private noteServer(o: DhcpObservation, mac: string, e: DhcpEventReport): void {
    const id = e.server ?? o.srcIp;
    let s = this.servers.get(id);
    if (!s) {
      s = {
        id, sourceIps: new Set(), sourceMacs: new Set(), offers: 0, acks: 0, naks: 0, proxyReplies: 0, dhcpReplies: 0,
        clients: new Set(), bootFiles: new Set(), nextServers: new Set(), firstFrame: o.frame, frames: [],
      };
      this.servers.set(id, s);
    }
    s.sourceIps.add(o.srcIp);
    if (o.srcMac !== '') s.sourceMacs.add(o.srcMac);
    if (e.type === 'OFFER') s.offers++;
    else if (e.type === 'ACK') s.acks++;
    else if (e.type === 'NAK') s.naks++;
    if (e.proxy) s.proxyReplies++;
    else s.dhcpReplies++;
    s.clients.add(mac);
    if (e.bootFile && (s.bootFiles.size < SERVER_BOOT_FILES_KEPT || s.bootFiles.has(e.bootFile))) s.bootFiles.add(e.bootFile);
    if (e.nextServer) s.nextServers.add(e.nextServer);
    if (e.tftpServerName) s.nextServers.add(e.tftpServerName);
    if (s.frames.length < SERVER_FRAMES_KEPT) s.frames.push(o.frame);
    if (e.type === 'ACK' && !e.proxy && e.address) this.leases.set(mac, id);
  }

  /** The server the client's last address lease came from. */
  leaseFrom(mac: string): string | null {
    return this.leases.get(mac) ?? null;
  }

  report(): DhcpServerReport[] {
    const bound = new Map<string, string[]>();
    for (const [mac, id] of this.leases) bound.set(id, [...(bound.get(id) ?? []), mac]);
    return [...this.servers.values()]
      .sort((a, b) => a.firstFrame - b.firstFrame)
      .map((s) => ({
        id: s.id,
        role: s.dhcpReplies === 0 ? 'proxy' : 'dhcp',
        sourceIps: [...s.sourceIps].sort(),
        sourceMacs: [...s.sourceMacs].sort(),
        offers: s.offers,
        acks: s.acks,
        naks: s.naks,
        proxyReplies: s.proxyReplies,
        clients: [...s.clients].sort(),
        boundClients: (bound.get(s.id) ?? []).sort(),
        bootFiles: [...s.bootFiles].sort(),
        nextServers: [...s.nextServers].sort(),
        firstFrame: s.firstFrame,
        frames: [...s.frames],
      }));
  }
}
