// The machines of a capture: every MAC seen acting as a boot client (DHCP, TFTP, HTTP, or ARP
// probing/announcing its address), what it said about itself, the addresses it held, and the
// order of its boot steps. Also the address book the other trackers ask "which machine is
// 10.0.0.50?": DHCP leases and ARP, latest wins.
import type { ClientArchitecture, MachineAddress, TimelineEntry } from './capture-report.ts';
import type { HttpExchangeState } from './http-exchanges.ts';
import type { TftpTransferState } from './tftp-transfers.ts';

/** Entries kept per machine; a machine looping for hours is summarised by the first ones. */
export const TIMELINE_LIMIT = 20000;
/** MACs whose ARP claims are remembered before they turn out to be boot clients. */
const ARP_HOSTS_LIMIT = 65536;

export type TimelineItem =
  | { entry: TimelineEntry }
  | { tftp: TftpTransferState }
  | { http: HttpExchangeState };

export interface MachineState {
  mac: string;
  addresses: Map<string, MachineAddress>;
  architectures: Map<number, ClientArchitecture>;
  vendorClasses: Set<string>;
  userClasses: Set<string>;
  uuid: string | null;
  hostname: string | null;
  items: TimelineItem[];
  omitted: number;
  firstFrame: number;
  firstNs: bigint;
}

export class MachineRegistry {
  private readonly byMac = new Map<string, MachineState>();
  private readonly ipToMac = new Map<string, string>();
  /** ARP sender claims of any host: mac -> ip -> first frame. */
  private readonly arpClaims = new Map<string, Map<string, number>>();

  machine(mac: string, frame: number, ns: bigint): MachineState {
    let m = this.byMac.get(mac);
    if (!m) {
      m = {
        mac, addresses: new Map(), architectures: new Map(), vendorClasses: new Set(), userClasses: new Set(),
        uuid: null, hostname: null, items: [], omitted: 0, firstFrame: frame, firstNs: ns,
      };
      this.byMac.set(mac, m);
    }
    return m;
  }

  get(mac: string): MachineState | undefined {
    return this.byMac.get(mac);
  }

  all(): MachineState[] {
    return [...this.byMac.values()].sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  addItem(m: MachineState, item: TimelineItem): void {
    if (m.items.length >= TIMELINE_LIMIT) m.omitted++;
    else m.items.push(item);
  }

  addAddress(m: MachineState, ip: string, source: MachineAddress['source'], frame: number): void {
    const had = m.addresses.get(ip);
    // A DHCP lease is the better evidence for the same address.
    if (!had || (source === 'dhcp' && had.source !== 'dhcp')) m.addresses.set(ip, { ip, source, frame: had?.frame ?? frame });
  }

  learnIp(ip: string, mac: string): void {
    if (ip !== '0.0.0.0') this.ipToMac.set(ip, mac);
  }

  macForIp(ip: string): string | undefined {
    return this.ipToMac.get(ip);
  }

  noteArpClaim(mac: string, ip: string, frame: number): void {
    if (ip === '0.0.0.0') return;
    this.ipToMac.set(ip, mac);
    let claims = this.arpClaims.get(mac);
    if (!claims) {
      if (this.arpClaims.size >= ARP_HOSTS_LIMIT) return;
      claims = new Map();
      this.arpClaims.set(mac, claims);
    }
    if (!claims.has(ip)) claims.set(ip, frame);
  }

  /** Every address the machine held, ARP claims included, in order of first frame. */
  addresses(m: MachineState): MachineAddress[] {
    const out = new Map(m.addresses);
    for (const [ip, frame] of this.arpClaims.get(m.mac) ?? []) if (!out.has(ip)) out.set(ip, { ip, source: 'arp', frame });
    return [...out.values()].sort((a, b) => a.frame - b.frame || (a.ip < b.ip ? -1 : 1));
  }
}
