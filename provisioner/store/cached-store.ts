// A read-through, write-through memory of another Store. The provisioner is the only writer
// of its store, so it can answer getItem/listItems from memory: a listing of 10,000 systems
// costs a map walk instead of 10,000 JSON parses. Index lookups (findSystems, findReferrers,
// itemsSince) stay with the underlying store, except findSystems, which the DHCP server asks
// per packet: its keys are indexed in memory too.
// Records are the underlying store's frozen objects, so they can be shared as they are.
import type { ItemRecord, ItemType, RefField, SystemKey } from '../inventory/types.ts';
import { compareNames, normalizeKeyValue, selectSystemKeys } from './record-index.ts';
import type { BootEventQuery, LeaseRecord, Store, UserRecord } from './store.ts';
import type { BootEvent } from '../boot/boot-events.ts';

interface TypeCache { byName: Map<string, ItemRecord>; sorted: ItemRecord[] | null }

export class CachedStore implements Store {
  private readonly types = new Map<ItemType, TypeCache>();
  /**
   * The systems' MAC/IP/hostname/DNS-name keys in memory ("key\0value" → names), built on
   * first use and kept in step with every write. The DHCP server asks for each packet's MAC
   * and each candidate address, thousands of times a second, mostly for values no system has.
   */
  private keyIndex: Map<string, Set<string>> | null = null;

  private systemKeys(): Map<string, Set<string>> {
    if (!this.keyIndex) {
      this.keyIndex = new Map();
      for (const r of this.listItems('system')) this.indexKeys(r, true);
    }
    return this.keyIndex;
  }

  private indexKeys(record: ItemRecord, add: boolean): void {
    const index = this.keyIndex;
    if (!index) return;
    for (const [key, value] of selectSystemKeys(record)) {
      const k = `${key}\0${value}`;
      let names = index.get(k);
      if (add) {
        if (!names) index.set(k, (names = new Set()));
        names.add(record.name);
      } else if (names) {
        names.delete(record.name);
        if (names.size === 0) index.delete(k);
      }
    }
  }

  constructor(private readonly inner: Store) {}

  private cache(type: ItemType): TypeCache {
    let c = this.types.get(type);
    if (!c) {
      const items = this.inner.listItems(type);
      c = { byName: new Map(items.map((r) => [r.name, r])), sorted: items };
      this.types.set(type, c);
    }
    return c;
  }

  getItem(type: ItemType, name: string): ItemRecord | undefined {
    return this.cache(type).byName.get(name);
  }

  listItems(type: ItemType): ItemRecord[] {
    const c = this.cache(type);
    if (!c.sorted) c.sorted = [...c.byName.values()].sort((a, b) => compareNames(a.name, b.name));
    return [...c.sorted];
  }

  listNames(type: ItemType): string[] {
    return this.listItems(type).map((r) => r.name);
  }

  itemsSince(type: ItemType, mtime: number): ItemRecord[] { return this.inner.itemsSince(type, mtime); }
  findSystems(key: SystemKey, value: string): string[] {
    const names = this.systemKeys().get(`${key}\0${normalizeKeyValue(value)}`);
    return names ? [...names].sort(compareNames) : [];
  }
  findReferrers(type: ItemType, field: RefField, target: string): string[] { return this.inner.findReferrers(type, field, target); }
  lastModified(): number { return this.inner.lastModified(); }

  putItem(type: ItemType, record: ItemRecord): void {
    const before = type === 'system' && this.keyIndex ? this.getItem(type, record.name) : undefined;
    this.inner.putItem(type, record);
    if (type === 'system' && this.keyIndex) {
      if (before) this.indexKeys(before, false);
      const now = this.inner.getItem(type, record.name);
      if (now) this.indexKeys(now, true);
    }
    // Read back what the store kept (frozen, normalised), so the cache never differs from it.
    const stored = this.inner.getItem(type, record.name);
    const c = this.types.get(type);
    if (!c || !stored) { this.types.delete(type); return; }
    c.byName.set(record.name, stored);
    c.sorted = null; // re-sorted on the next listing (a few ms for 10,000 names)
  }

  deleteItem(type: ItemType, name: string): boolean {
    const before = type === 'system' && this.keyIndex ? this.getItem(type, name) : undefined;
    const deleted = this.inner.deleteItem(type, name);
    if (deleted && before) this.indexKeys(before, false);
    const c = this.types.get(type);
    if (deleted && c) { c.byName.delete(name); c.sorted = null; }
    return deleted;
  }

  /**
   * The underlying store decides what commits. If anything throws through any level, the
   * memory may hold writes that were rolled back: forget it all and read again on demand.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.inner.transaction(fn);
    } catch (e) {
      this.types.clear();
      this.keyIndex = null;
      throw e;
    }
  }

  getUser(name: string): UserRecord | undefined { return this.inner.getUser(name); }
  putUser(user: UserRecord): void { this.inner.putUser(user); }
  listUsers(): string[] { return this.inner.listUsers(); }
  getLease(ip: string): LeaseRecord | undefined { return this.inner.getLease(ip); }
  listLeases(): LeaseRecord[] { return this.inner.listLeases(); }
  putLease(lease: LeaseRecord): void { this.inner.putLease(lease); }
  deleteLease(ip: string): boolean { return this.inner.deleteLease(ip); }
  appendBootEvent(event: BootEvent): void { this.inner.appendBootEvent(event); }
  listBootEvents(query: BootEventQuery): BootEvent[] { return this.inner.listBootEvents(query); }
  getInstallToken(system: string): string | undefined { return this.inner.getInstallToken(system); }
  putInstallToken(system: string, token: string): void { this.inner.putInstallToken(system, token); }
  deleteInstallToken(system: string): boolean { return this.inner.deleteInstallToken(system); }
  close(): void { this.types.clear(); this.keyIndex = null; this.inner.close(); }
}
