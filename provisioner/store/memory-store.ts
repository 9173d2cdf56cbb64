// An in-process Store for unit tests. Records are kept as frozen JSON copies, so what comes
// out is exactly what SqliteStore would return (undefined fields dropped) and no caller can
// change stored state by reference.
import { RackforgeError } from '../../lib/errors.ts';
import { systemClock } from '../../lib/clock.ts';
import type { Clock } from '../../lib/clock.ts';
import { ITEM_TYPES } from '../inventory/types.ts';
import type { ItemRecord, ItemType, RefField, SystemKey } from '../inventory/types.ts';
import { checkStorable, compareNames, normalizeKeyValue, selectRefs, selectSystemKeys } from './record-index.ts';
import type { RefEntry, SystemKeyEntry } from './record-index.ts';
import { BOOT_EVENT_LIMIT, bootEventsToDrop, type BootEventQuery, type LeaseRecord, type Store, type StoreLimits, type UserRecord } from './store.ts';
import type { BootEvent } from '../boot/boot-events.ts';
import { ipv4ToInt } from '../../lib/ids.ts';
import { assertSynchronous } from './sync-only.ts';
import { deepFreeze } from './deep-freeze.ts';

/** One stored item. Immutable, so a snapshot can share entries with the live state. */
interface Entry {
  readonly record: ItemRecord;
  readonly uid: string;
  readonly mtime: number;
  readonly keys: readonly SystemKeyEntry[];
  readonly refs: readonly RefEntry[];
}

interface State {
  items: Map<ItemType, Map<string, Entry>>;
  /** uid → "type\0name" of its owner: uids are unique across the whole store, as in SqliteStore. */
  uids: Map<string, string>;
  users: Map<string, Readonly<UserRecord>>;
  lastModified: number;
  leases: Map<number, Readonly<LeaseRecord>>;
  bootEvents: Readonly<BootEvent>[];
  tokens: Map<string, string>;
}

export interface MemoryStoreOptions extends StoreLimits {
  /** Time used to bump lastModified on deletes. */
  clock?: Clock;
}

export class MemoryStore implements Store {
  private state: State = {
    items: new Map(ITEM_TYPES.map((t) => [t, new Map<string, Entry>()])),
    uids: new Map(),
    users: new Map(),
    lastModified: 0,
    leases: new Map(),
    bootEvents: [],
    tokens: new Map(),
  };
  private readonly clock: Clock;
  private readonly bootEventLimit: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.bootEventLimit = options.bootEventLimit ?? BOOT_EVENT_LIMIT;
  }

  /** The items of a type; an unknown type reads as empty (as in SqliteStore), checkStorable refuses writes. */
  private table(type: ItemType): Map<string, Entry> {
    return this.state.items.get(type) ?? new Map<string, Entry>();
  }

  getItem(type: ItemType, name: string): ItemRecord | undefined {
    const e = this.table(type).get(name);
    return e?.record;
  }

  listItems(type: ItemType): ItemRecord[] {
    return this.sorted(this.table(type)).map(([, e]) => e.record);
  }

  listNames(type: ItemType): string[] {
    return [...this.table(type).keys()].sort(compareNames);
  }

  itemsSince(type: ItemType, mtime: number): ItemRecord[] {
    return this.sorted(this.table(type))
      .filter(([, e]) => e.mtime > mtime)
      .map(([, e]) => e.record);
  }

  findSystems(key: SystemKey, value: string): string[] {
    const v = normalizeKeyValue(value);
    const out: string[] = [];
    for (const [name, e] of this.table('system')) {
      if (e.keys.some(([k, kv]) => k === key && kv === v)) out.push(name);
    }
    return out.sort(compareNames);
  }

  findReferrers(type: ItemType, field: RefField, target: string): string[] {
    const out: string[] = [];
    for (const [name, e] of this.table(type)) {
      if (e.refs.some(([f, t]) => f === field && t === target)) out.push(name);
    }
    return out.sort(compareNames);
  }

  putItem(type: ItemType, record: ItemRecord): void {
    checkStorable(type, record);
    const table = this.table(type);
    const id = `${type}\0${record.name}`;
    const owner = this.state.uids.get(record.uid);
    if (owner !== undefined && owner !== id) {
      throw new RackforgeError('STORE_CONFLICT', `uid ${record.uid} already belongs to ${owner.replace('\0', ' ')}`, {
        type, name: record.name, uid: record.uid,
      });
    }
    // Keep a frozen JSON copy, so that readers and index entries see exactly what SQLite would give.
    const stored = deepFreeze(JSON.parse(JSON.stringify(record)) as ItemRecord);
    const previous = table.get(record.name);
    if (previous && previous.uid !== record.uid) this.state.uids.delete(previous.uid);
    table.set(record.name, {
      record: stored,
      uid: record.uid,
      mtime: record.mtime,
      keys: type === 'system' ? selectSystemKeys(stored) : [],
      refs: selectRefs(stored),
    });
    this.state.uids.set(record.uid, id);
    this.state.lastModified = Math.max(this.state.lastModified, record.mtime);
  }

  deleteItem(type: ItemType, name: string): boolean {
    const table = this.table(type);
    const e = table.get(name);
    if (!e) return false;
    table.delete(name);
    this.state.uids.delete(e.uid);
    this.state.lastModified = Math.max(this.state.lastModified, this.clock.now());
    return true;
  }

  /**
   * All-or-nothing: the state is snapshotted before fn and restored if fn throws. A nested call
   * takes its own snapshot, so it behaves like SqliteStore's savepoint: if the inner fn throws and
   * the outer fn catches, only the inner writes are undone.
   */
  transaction<T>(fn: () => T): T {
    const snapshot = this.snapshot();
    try {
      const result = fn();
      assertSynchronous(result);
      return result;
    } catch (e) {
      this.state = snapshot;
      throw e;
    }
  }

  lastModified(): number {
    return this.state.lastModified;
  }

  getUser(name: string): UserRecord | undefined {
    const u = this.state.users.get(name);
    return u ? { ...u } : undefined;
  }

  putUser(user: UserRecord): void {
    this.state.users.set(user.name, { name: user.name, passwordHash: user.passwordHash, createdAt: user.createdAt });
  }

  listUsers(): string[] {
    return [...this.state.users.keys()].sort(compareNames);
  }

  getLease(ip: string): LeaseRecord | undefined {
    const l = this.state.leases.get(ipv4ToInt(ip));
    return l ? structuredClone(l) : undefined;
  }

  listLeases(): LeaseRecord[] {
    return [...this.state.leases.entries()].sort(([a], [b]) => a - b).map(([, l]) => structuredClone(l));
  }

  putLease(lease: LeaseRecord): void {
    this.state.leases.set(ipv4ToInt(lease.ip), JSON.parse(JSON.stringify(lease)) as LeaseRecord);
  }

  deleteLease(ip: string): boolean {
    return this.state.leases.delete(ipv4ToInt(ip));
  }

  appendBootEvent(event: BootEvent): void {
    const e: BootEvent = JSON.parse(JSON.stringify(event)) as BootEvent;
    if (e.mac !== undefined) e.mac = e.mac.toLowerCase();
    const events = this.state.bootEvents;
    events.push(e);
    const drop = bootEventsToDrop(events.length, this.bootEventLimit);
    if (drop > 0) events.splice(0, drop);
  }

  listBootEvents(q: BootEventQuery): BootEvent[] {
    const mac = q.mac?.toLowerCase();
    const hits = this.state.bootEvents.filter((e) => (q.system === undefined || e.system === q.system) && (mac === undefined || e.mac === mac));
    return (q.limit !== undefined && q.limit >= 0 ? hits.slice(Math.max(0, hits.length - q.limit)) : hits).map((e) => ({ ...e }));
  }

  getInstallToken(system: string): string | undefined {
    return this.state.tokens.get(system);
  }

  putInstallToken(system: string, token: string): void {
    this.state.tokens.set(system, token);
  }

  deleteInstallToken(system: string): boolean {
    return this.state.tokens.delete(system);
  }

  close(): void {
    // Nothing to release.
  }

  private sorted(table: Map<string, Entry>): Array<[string, Entry]> {
    return [...table.entries()].sort(([a], [b]) => compareNames(a, b));
  }

  private snapshot(): State {
    return {
      items: new Map([...this.state.items].map(([t, m]) => [t, new Map(m)])),
      uids: new Map(this.state.uids),
      users: new Map(this.state.users),
      lastModified: this.state.lastModified,
      leases: new Map(this.state.leases),
      bootEvents: [...this.state.bootEvents],
      tokens: new Map(this.state.tokens),
    };
  }
}
