// Wires the network boot services (DHCP or ProxyDHCP, TFTP) to the inventory and the store.
// Part of the composition root: the only place that reads the host's interfaces and opens
// privileged ports for them.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Clock } from '../lib/clock.ts';
import { RackforgeError } from '../lib/errors.ts';
import { intToIpv4, ipv4ToInt } from '../lib/ids.ts';
import type { Logger } from '../lib/log.ts';
import type { BootEventSink } from '../provisioner/boot/boot-events.ts';
import type { InstallTokens } from '../provisioner/boot/install-tokens.ts';
import { makeSubnet, type DhcpServerConfig, type DhcpSubnet, type UnknownMachinePolicy } from '../provisioner/dhcp/dhcp-config.ts';
import { serveDhcp, type DhcpServer } from '../provisioner/dhcp/dhcp-server.ts';
import { selectMachine, selectReservation } from '../provisioner/dhcp/inventory-machines.ts';
import type { InventoryService } from '../provisioner/inventory/inventory-service.ts';
import type { DatagramPort } from '../provisioner/net/datagram.ts';
import { openInterfacePort, openInterfacePortFor } from '../provisioner/net/interface-port.ts';
import { openUdpPort } from '../provisioner/net/udp-port.ts';
import type { Store } from '../provisioner/store/store.ts';
import { bootTreeSource } from '../provisioner/tftp/boot-tree-source.ts';
import { serveTftp, type TftpServerHandle, type TransferReport } from '../provisioner/tftp/tftp-server.ts';

export interface BootServiceOptions {
  /** Serve DHCP on this interface (it must carry serverIp). Without it, no DHCP. */
  interface?: string;
  /** Our address: next-server, option 54, the TFTP listener and the host in boot URLs. */
  serverIp: string;
  /** The dynamic pool on the interface's subnet (full mode). */
  dhcpRange?: readonly [string, string];
  gateway?: string;
  domain?: string;
  dnsServers?: string[];
  leaseSeconds?: number;
  /** Answer PXE clients with boot information only; another DHCP server hands out addresses. */
  proxyDhcp?: boolean;
  /** Subnets behind relays. */
  extraSubnets?: DhcpSubnet[];
  unknownMachines?: UnknownMachinePolicy;
  dhcpPort?: number;
  tftpPort?: number;
  /** Extra files served over TFTP (and left alone by rackforge). */
  tftpRoot?: string;
  /** Base of the HTTP boot URLs, e.g. http://10.0.0.1:80 */
  httpBase: string;
}

export interface RunningBootServices {
  dhcp?: DhcpServer;
  tftp: TftpServerHandle;
  /** The MAC that holds a lease on an address (for naming TFTP/HTTP clients in boot events). */
  macOf(ip: string): string | undefined;
  close(): Promise<void>;
}

type InterfaceTable = Record<string, Array<{ family: string; address: string; cidr: string | null }> | undefined>;

/**
 * The host's IPv4 addresses per interface. Node's networkInterfaces() leaves out interfaces
 * without carrier (a tap no VM has opened yet), which a provisioner must serve all the same,
 * so iproute2's view comes first.
 */
export function readInterfaceTable(): InterfaceTable {
  try {
    const out = execFileSync('ip', ['-j', '-4', 'addr', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const table: InterfaceTable = {};
    for (const l of JSON.parse(out) as Array<{ ifname: string; addr_info?: Array<{ local: string; prefixlen: number }> }>) {
      table[l.ifname] = (l.addr_info ?? []).map((a) => ({ family: 'IPv4', address: a.local, cidr: `${a.local}/${a.prefixlen}` }));
    }
    return table;
  } catch {
    return networkInterfaces() as InterfaceTable;
  }
}

/** The subnet an interface's address belongs to, from the host's interface table. */
export function interfaceSubnet(ifname: string, serverIp: string, table: InterfaceTable = readInterfaceTable()): string {
  const addrs = table[ifname];
  if (!addrs) throw new RackforgeError('CONFIG_INVALID', `--interface ${ifname}: no such network interface (have: ${Object.keys(table).join(', ')})`);
  const a = addrs.find((x) => x.family === 'IPv4' && x.address === serverIp);
  if (!a) {
    const have = addrs.filter((x) => x.family === 'IPv4').map((x) => x.cidr).join(', ') || 'no IPv4 address';
    throw new RackforgeError('CONFIG_INVALID', `--server-ip ${serverIp} is not an address of ${ifname} (it has ${have})`);
  }
  const prefix = Number((a.cidr ?? `${a.address}/32`).split('/')[1]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${intToIpv4((ipv4ToInt(serverIp) & mask) >>> 0)}/${prefix}`;
}

export function dhcpConfigFor(o: BootServiceOptions, localCidr: string | undefined, settingsUnknown: UnknownMachinePolicy): DhcpServerConfig {
  const subnets: DhcpSubnet[] = [];
  if (localCidr) {
    if (!o.proxyDhcp && !o.dhcpRange) throw new RackforgeError('CONFIG_INVALID', '--interface needs --dhcp-range FIRST,LAST (or --proxy-dhcp when another server hands out addresses)');
    subnets.push(makeSubnet({
      cidr: localCidr, ranges: o.dhcpRange ? [o.dhcpRange] : [],
      ...(o.gateway ? { gateway: o.gateway } : {}), ...(o.domain ? { domain: o.domain } : {}),
      dnsServers: o.dnsServers ?? [], ...(o.leaseSeconds ? { leaseSeconds: o.leaseSeconds } : {}),
      ...(o.interface ? { interface: o.interface } : {}),
    }));
  }
  subnets.push(...(o.extraSubnets ?? []));
  return {
    mode: o.proxyDhcp ? 'proxy' : 'full', serverIp: o.serverIp, httpBase: o.httpBase, subnets,
    unknownMachines: o.unknownMachines ?? settingsUnknown, offerHoldSeconds: 60, declineQuarantineSeconds: 3600,
  };
}

export async function startBootServices(
  deps: { inventory: InventoryService; store: Store; log: Logger; clock: Clock; events: BootEventSink; tokens: InstallTokens },
  o: BootServiceOptions,
): Promise<RunningBootServices> {
  const { inventory, store, log, clock, events } = deps;
  const opened: DatagramPort[] = [];
  let dhcp: DhcpServer | undefined;
  try {
    if (o.interface) {
      const cidr = interfaceSubnet(o.interface, o.serverIp);
      const unknown = inventory.settings()['dhcp_unknown_machines'] === 'ignore' ? 'ignore' : 'menu';
      const config = { ...dhcpConfigFor(o, cidr, unknown), enableIpxe: () => inventory.settings()['enable_ipxe'] === true };
      const ports: DatagramPort[] = [];
      const onError = (e: Error) => log.warn('DHCP socket error', { error: e.message });
      ports.push(await openInterfacePort({ address: '0.0.0.0', port: o.dhcpPort ?? 67 }, { device: o.interface, broadcast: true, onError }));
      opened.push(...ports);
      if (o.proxyDhcp) {
        const p4011 = await openInterfacePort({ address: '0.0.0.0', port: 4011 }, { device: o.interface, broadcast: true, onError });
        ports.push(p4011);
        opened.push(p4011);
      }
      dhcp = serveDhcp({
        ports, config, store, events, clock, log,
        machine: (mac) => selectMachine(inventory, mac),
        reservedFor: (ip) => selectReservation(inventory, ip),
      });
      log.info(`DHCP${o.proxyDhcp ? ' (ProxyDHCP on 67 and 4011)' : ''} on ${o.interface}`, {
        subnets: config.subnets.map((s) => s.cidr).join(','), server: o.serverIp,
      });
    }
    const macOf = (ip: string): string | undefined => dhcp?.leases.get(ip)?.mac;
    const tftpRoot = o.tftpRoot;
    if (tftpRoot) mkdirSync(tftpRoot, { recursive: true });
    const listener = await openUdpPort({ address: o.serverIp, port: o.tftpPort ?? 69 });
    opened.push(listener);
    const tftp = serveTftp({
      port: listener,
      openPort: openInterfacePortFor,
      source: bootTreeSource({ inventory, tokenFor: (s) => deps.tokens.tokenFor(s) }, tftpRoot ? { root: tftpRoot } : {}),
      log, clock,
      onTransfer: (r: TransferReport) => {
        const mac = macOf(r.client.address);
        // The name only: an index lookup, not a blend (a boot storm fetches files by the thousand).
        const system = mac ? inventory.store.findSystems('mac_address', mac)[0] : undefined;
        const ok = r.status === 'complete';
        events.record({
          at: clock.now(), kind: ok ? 'tftp-file' : 'tftp-error', ip: r.client.address,
          ...(mac ? { mac } : {}), ...(system ? { system } : {}),
          detail: ok ? `${r.path} (${r.bytes} bytes, blksize ${r.blksize}, windowsize ${r.windowsize}, ${r.durationMs} ms)` : `${r.path}: ${r.status}${r.error ? ` (${r.error})` : ''}`,
        });
      },
    });
    log.info(`TFTP on ${o.serverIp}:${listener.local.port}`);
    return {
      ...(dhcp ? { dhcp } : {}), tftp, macOf,
      async close() {
        await tftp.close();
        await dhcp?.close();
        for (const p of opened) p.close();
      },
    };
  } catch (e) {
    await dhcp?.close();
    for (const p of opened) p.close();
    throw e;
  }
}
