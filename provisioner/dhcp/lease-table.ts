// The lease state the DHCP server decides from: every lease by address, with indexes by client.
// No I/O: the server loads it from the store at start and persists each record this table
// returns as changed before it sends the reply that depends on it.
import { intToIpv4, ipv4ToInt } from '../../lib/ids.ts';
import type { LeaseRecord } from '../store/store.ts';
import type { DhcpSubnet } from './dhcp-config.ts';

/** An address is held by `lease` for `clientKey` at `now` unless the lease has run out. */
export function isActive(lease: LeaseRecord, now: number): boolean {
  return lease.state !== 'released' && lease.expiresAt > now;
}

export class LeaseTable {
  private readonly byIp = new Map<number, LeaseRecord>();
  private readonly byClient = new Map<string, number>();
  private readonly byMac = new Map<string, number>();
  /** Next-fit cursor per subnet, so a burst of new clients costs O(1) each, not a scan from the start. */
  private readonly cursor = new Map<string, number>();

  constructor(leases: Iterable<LeaseRecord> = []) {
    for (const l of leases) this.set(l);
  }

  get size(): number {
    return this.byIp.size;
  }

  get(ip: string | number): LeaseRecord | undefined {
    return this.byIp.get(typeof ip === 'number' ? ip : ipv4ToInt(ip));
  }

  /** The client's most recent lease (by client key, else by MAC), whatever its state. */
  forClient(clientKey: string, mac: string): LeaseRecord | undefined {
    const n = this.byClient.get(clientKey) ?? this.byMac.get(mac);
    const l = n === undefined ? undefined : this.byIp.get(n);
    return l && (l.clientKey === clientKey || l.mac === mac) ? l : undefined;
  }

  /** Whether `clientKey` may be given address `n` at `now` as far as leases go. */
  availableTo(n: number, clientKey: string, mac: string, now: number): boolean {
    const l = this.byIp.get(n);
    if (!l) return true;
    if (l.state === 'declined') return l.expiresAt <= now;
    if (l.clientKey === clientKey || l.mac === mac) return true;
    return !isActive(l, now);
  }

  /** Record a lease (replacing the address's previous one) and return it. */
  set(lease: LeaseRecord): LeaseRecord {
    const n = ipv4ToInt(lease.ip);
    const prev = this.byIp.get(n);
    if (prev) {
      if (this.byClient.get(prev.clientKey) === n) this.byClient.delete(prev.clientKey);
      if (this.byMac.get(prev.mac) === n) this.byMac.delete(prev.mac);
    }
    this.byIp.set(n, lease);
    if (lease.state !== 'declined') {
      this.byClient.set(lease.clientKey, n);
      this.byMac.set(lease.mac, n);
    }
    return lease;
  }

  /**
   * Pick a free pool address for a new client: next-fit from the subnet's cursor, wrapping once.
   * `usable(n)` vetoes addresses for reasons outside the leases (reserved for another system,
   * the server's own address). Returns undefined when the pool is exhausted: never loops forever.
   */
  allocate(subnet: DhcpSubnet, clientKey: string, mac: string, now: number, usable: (n: number) => boolean): number | undefined {
    const total = subnet.ranges.reduce((acc, [a, b]) => acc + (b - a + 1), 0);
    if (total === 0) return undefined;
    let pos = this.cursor.get(subnet.cidr) ?? 0;
    for (let i = 0; i < total; i++, pos = (pos + 1) % total) {
      const n = addressAt(subnet, pos);
      if (this.availableTo(n, clientKey, mac, now) && usable(n)) {
        this.cursor.set(subnet.cidr, (pos + 1) % total);
        return n;
      }
    }
    return undefined;
  }

  all(): LeaseRecord[] {
    return [...this.byIp.entries()].sort(([a], [b]) => a - b).map(([, l]) => l);
  }
}

/** The pos-th address of the subnet's pool, ranges in order. */
function addressAt(subnet: DhcpSubnet, pos: number): number {
  let p = pos;
  for (const [a, b] of subnet.ranges) {
    const size = b - a + 1;
    if (p < size) return a + p;
    p -= size;
  }
  throw new RangeError(`pool position ${pos} is outside ${subnet.cidr}`);
}

export function inPool(subnet: DhcpSubnet, ip: string | number): boolean {
  const n = typeof ip === 'number' ? ip : ipv4ToInt(ip);
  return subnet.ranges.some(([a, b]) => n >= a && n <= b);
}

export { intToIpv4 };
