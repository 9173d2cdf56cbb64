// The embedded default Store: one SQLite file, `<dir>/rackforge.db`, through better-sqlite3.
// Records are kept whole as JSON text; the lookups the API needs (system by MAC/IP/hostname/
// dns_name, children by reference) are answered from index tables maintained in the same
// transaction as the record, so no lookup scans the systems.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RackforgeError, isRackforgeError } from '../../lib/errors.ts';
import { systemClock } from '../../lib/clock.ts';
import type { Clock } from '../../lib/clock.ts';
import type { ItemRecord, ItemType, RefField, SystemKey } from '../inventory/types.ts';
import { checkStorable, normalizeKeyValue, selectRefs, selectSystemKeys } from './record-index.ts';
import { applyMigrations } from './sqlite-migrations.ts';
import type { RefEntry, SystemKeyEntry } from './record-index.ts';
import { deepFreeze } from './deep-freeze.ts';
import { BOOT_EVENT_LIMIT, bootEventsToDrop, type BootEventQuery, type LeaseRecord, type Store, type StoreLimits, type UserRecord } from './store.ts';
import type { BootEvent } from '../boot/boot-events.ts';
import { ipv4ToInt } from '../../lib/ids.ts';
import { assertSynchronous } from './sync-only.ts';

export const DB_FILE = 'rackforge.db';

/** Every statement the store runs, exported so tests can EXPLAIN the exact text. */
export const SQL = {
  getItem: 'SELECT data FROM items WHERE type = ? AND name = ?',
  listItems: 'SELECT data FROM items WHERE type = ? ORDER BY name',
  listNames: 'SELECT name FROM items WHERE type = ? ORDER BY name',
  itemsSince: 'SELECT data FROM items WHERE type = ? AND mtime > ? ORDER BY name',
  /** Only to name the culprit when a listing meets a row it cannot parse. */
  findCorrupt: 'SELECT name, data FROM items WHERE type = ? ORDER BY name',
  findSystems: 'SELECT name FROM system_keys WHERE key = ? AND value = ? ORDER BY name',
  findReferrers: 'SELECT name FROM item_refs WHERE type = ? AND field = ? AND target = ? ORDER BY name',
  upsertItem:
    'INSERT INTO items (type, name, uid, mtime, data) VALUES (?, ?, ?, ?, ?) ' +
    'ON CONFLICT (type, name) DO UPDATE SET uid = excluded.uid, mtime = excluded.mtime, data = excluded.data',
  deleteItem: 'DELETE FROM items WHERE type = ? AND name = ?',
  currentSystemKeys: 'SELECT key, value FROM system_keys WHERE name = ?',
  insertSystemKey: 'INSERT INTO system_keys (name, key, value) VALUES (?, ?, ?)',
  deleteSystemKey: 'DELETE FROM system_keys WHERE name = ? AND key = ? AND value = ?',
  deleteSystemKeys: 'DELETE FROM system_keys WHERE name = ?',
  currentRefs: 'SELECT field, target FROM item_refs WHERE type = ? AND name = ?',
  putRef:
    'INSERT INTO item_refs (type, name, field, target) VALUES (?, ?, ?, ?) ' +
    'ON CONFLICT (type, name, field) DO UPDATE SET target = excluded.target',
  deleteRef: 'DELETE FROM item_refs WHERE type = ? AND name = ? AND field = ?',
  deleteRefs: 'DELETE FROM item_refs WHERE type = ? AND name = ?',
  getLastModified: "SELECT value FROM meta WHERE key = 'last_modified'",
  bumpLastModified: "UPDATE meta SET value = max(value, ?) WHERE key = 'last_modified'",
  getUser: 'SELECT name, password_hash AS passwordHash, created_at AS createdAt FROM users WHERE name = ?',
  putUser:
    'INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) ' +
    'ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, created_at = excluded.created_at',
  listUsers: 'SELECT name FROM users ORDER BY name',
  getLease: 'SELECT data FROM leases WHERE ip_num = ?',
  listLeases: 'SELECT data FROM leases ORDER BY ip_num',
  putLease: 'INSERT INTO leases (ip_num, data) VALUES (?, ?) ON CONFLICT (ip_num) DO UPDATE SET data = excluded.data',
  deleteLease: 'DELETE FROM leases WHERE ip_num = ?',
  appendBootEvent: 'INSERT INTO boot_events (at, kind, mac, system, ip, detail) VALUES (?, ?, ?, ?, ?, ?)',
  firstBootEventId: 'SELECT min(id) FROM boot_events',
  pruneBootEvents: 'DELETE FROM boot_events WHERE id <= ?',
  bootEventsAll: 'SELECT at, kind, mac, system, ip, detail FROM boot_events ORDER BY id DESC LIMIT ?',
  bootEventsBySystem: 'SELECT at, kind, mac, system, ip, detail FROM boot_events WHERE system = ? ORDER BY id DESC LIMIT ?',
  bootEventsByMac: 'SELECT at, kind, mac, system, ip, detail FROM boot_events WHERE mac = ? ORDER BY id DESC LIMIT ?',
  bootEventsByBoth: 'SELECT at, kind, mac, system, ip, detail FROM boot_events WHERE system = ? AND mac = ? ORDER BY id DESC LIMIT ?',
  getInstallToken: 'SELECT token FROM install_tokens WHERE system = ?',
  putInstallToken: 'INSERT INTO install_tokens (system, token) VALUES (?, ?) ON CONFLICT (system) DO UPDATE SET token = excluded.token',
  deleteInstallToken: 'DELETE FROM install_tokens WHERE system = ?',
} as const;

export interface SqliteStoreOptions extends StoreLimits {
  /** Time used to bump lastModified on deletes. */
  clock?: Clock;
  /** How long a write waits for another connection's lock before failing (ms). */
  busyTimeoutMs?: number;
  /** fsync every commit (synchronous=FULL), so acknowledged writes survive power loss too. */
  durable?: boolean;
}

type Statements = { -readonly [K in keyof typeof SQL]: Database.Statement };

export class SqliteStore implements Store {
  private readonly stmt: Statements;
  private readonly txn: Database.Transaction<(fn: () => unknown) => unknown>;
  /**
   * The error of a write that failed part-way inside a caller's transaction. Writes inside a
   * transaction run without a savepoint of their own (a savepoint per put costs about a third
   * of bulk-put throughput), so a failed one may leave half its rows; the enclosing
   * transaction() then refuses to commit even if its callback caught the error.
   */
  private failedWrite: { error: unknown } | undefined;

  /** Open (creating if needed) `<dir>/rackforge.db` and bring its schema up to date. */
  static open(dir: string, options: SqliteStoreOptions = {}): SqliteStore {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, DB_FILE);
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL: every commit is in the WAL before the call returns, so a kill -9 of the
      // process loses nothing and the file stays consistent even across power loss; only a
      // power cut can drop the last commits. FULL also fsyncs each commit (about 5x slower per
      // save here, 0.33 ms vs 0.07 ms), for those who want acknowledged writes to survive that.
      db.pragma(`synchronous = ${options.durable ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      // 64 MiB of page cache (the default is 2 MiB): 10,000 systems of 2 KB fit, so listings
      // and bulk puts stay in memory. Allocated as used.
      db.pragma('cache_size = -65536');
      applyMigrations(db, undefined, file);
      return new SqliteStore(db, file, options.clock ?? systemClock, options.bootEventLimit ?? BOOT_EVENT_LIMIT);
    } catch (e) {
      db.close();
      if (isRackforgeError(e)) throw e;
      const code = (e as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new RackforgeError('STORE_CORRUPT', `${file} is not a readable rackforge database: ${(e as Error).message}`, { file });
      }
      throw e;
    }
  }

  /**
   * The oldest boot event id that may still be stored. Ids only grow, so the table holds at
   * most newest id - this + 1 events: no count(*) per append.
   */
  private firstBootEventId: number;

  private constructor(private readonly db: Database.Database, readonly file: string, private readonly clock: Clock, private readonly bootEventLimit: number) {
    const stmt: Partial<Statements> = {};
    for (const [k, sql] of Object.entries(SQL) as Array<[keyof typeof SQL, string]>) stmt[k] = db.prepare(sql);
    this.stmt = stmt as Statements;
    this.firstBootEventId = (this.stmt.firstBootEventId.pluck().get() as number | null) ?? 1;
    for (const k of ['getItem', 'listItems', 'itemsSince', 'listNames', 'findSystems', 'findReferrers', 'listUsers', 'getLastModified', 'getLease', 'listLeases', 'getInstallToken'] as const) {
      this.stmt[k].pluck();
    }
    for (const k of ['findCorrupt', 'currentSystemKeys', 'currentRefs'] as const) this.stmt[k].raw();
    // better-sqlite3 runs a nested call of a transaction function as a savepoint.
    this.txn = db.transaction((fn: () => unknown) => {
      const outer = this.failedWrite;
      this.failedWrite = undefined;
      try {
        const result = fn();
        assertSynchronous(result);
        // fn may have set it (TypeScript cannot see that through the call).
        const failed = this.failedWrite as { error: unknown } | undefined;
        if (failed) throw failed.error;
        return result;
      } finally {
        this.failedWrite = outer;
      }
    });
  }

  getItem(type: ItemType, name: string): ItemRecord | undefined {
    const data = this.stmt.getItem.get(type, name) as string | undefined;
    return data === undefined ? undefined : parseRecord(type, name, data);
  }

  listItems(type: ItemType): ItemRecord[] {
    return this.parseRows(type, this.stmt.listItems.all(type) as string[]);
  }

  listNames(type: ItemType): string[] {
    return this.stmt.listNames.all(type) as string[];
  }

  itemsSince(type: ItemType, mtime: number): ItemRecord[] {
    return this.parseRows(type, this.stmt.itemsSince.all(type, mtime) as string[]);
  }

  findSystems(key: SystemKey, value: string): string[] {
    return this.stmt.findSystems.all(key, normalizeKeyValue(value)) as string[];
  }

  findReferrers(type: ItemType, field: RefField, target: string): string[] {
    return this.stmt.findReferrers.all(type, field, target) as string[];
  }

  putItem(type: ItemType, record: ItemRecord): void {
    checkStorable(type, record);
    const json = JSON.stringify(record);
    this.write(() => {
      try {
        this.stmt.upsertItem.run(type, record.name, record.uid, record.mtime, json);
      } catch (e) {
        // The first statement: nothing of this put is written yet.
        throw uidConflict(e, type, record) ?? e;
      }
      return () => {
        if (type === 'system') this.syncSystemKeys(record.name, selectSystemKeys(record));
        this.syncRefs(type, record.name, selectRefs(record));
        this.stmt.bumpLastModified.run(record.mtime);
      };
    });
  }

  deleteItem(type: ItemType, name: string): boolean {
    let found = false;
    this.write(() => {
      found = this.stmt.deleteItem.run(type, name).changes > 0;
      if (!found) return undefined;
      return () => {
        if (type === 'system') this.stmt.deleteSystemKeys.run(name);
        this.stmt.deleteRefs.run(type, name);
        this.stmt.bumpLastModified.run(this.clock.now());
      };
    });
    return found;
  }

  transaction<T>(fn: () => T): T {
    return this.txn(fn) as T;
  }

  lastModified(): number {
    return Number(this.stmt.getLastModified.get() ?? 0);
  }

  getUser(name: string): UserRecord | undefined {
    return this.stmt.getUser.get(name) as UserRecord | undefined;
  }

  putUser(user: UserRecord): void {
    this.stmt.putUser.run(user.name, user.passwordHash, user.createdAt);
  }

  listUsers(): string[] {
    return this.stmt.listUsers.all() as string[];
  }

  getLease(ip: string): LeaseRecord | undefined {
    const data = this.stmt.getLease.get(ipv4ToInt(ip)) as string | undefined;
    return data === undefined ? undefined : parseLease(data);
  }

  listLeases(): LeaseRecord[] {
    return (this.stmt.listLeases.all() as string[]).map(parseLease);
  }

  putLease(lease: LeaseRecord): void {
    this.stmt.putLease.run(ipv4ToInt(lease.ip), JSON.stringify(lease));
  }

  deleteLease(ip: string): boolean {
    return this.stmt.deleteLease.run(ipv4ToInt(ip)).changes > 0;
  }

  appendBootEvent(e: BootEvent): void {
    const last = Number(this.stmt.appendBootEvent.run(e.at, e.kind, e.mac?.toLowerCase() ?? null, e.system ?? null, e.ip ?? null, e.detail).lastInsertRowid);
    const drop = bootEventsToDrop(last - this.firstBootEventId + 1, this.bootEventLimit);
    if (drop > 0) {
      // Inside the caller's transaction: a rollback undoes the delete too, and the id kept here
      // is then only too high, which delays the next prune a little; it never loses an event.
      this.firstBootEventId += drop;
      this.stmt.pruneBootEvents.run(this.firstBootEventId - 1);
    }
  }

  listBootEvents(q: BootEventQuery): BootEvent[] {
    const limit = q.limit ?? -1;
    const mac = q.mac?.toLowerCase();
    const rows = (q.system !== undefined && mac !== undefined ? this.stmt.bootEventsByBoth.all(q.system, mac, limit)
      : q.system !== undefined ? this.stmt.bootEventsBySystem.all(q.system, limit)
      : mac !== undefined ? this.stmt.bootEventsByMac.all(mac, limit)
      : this.stmt.bootEventsAll.all(limit)) as Array<{ at: number; kind: BootEvent['kind']; mac: string | null; system: string | null; ip: string | null; detail: string }>;
    return rows.reverse().map((r) => ({
      at: r.at, kind: r.kind, ...(r.mac !== null ? { mac: r.mac } : {}), ...(r.system !== null ? { system: r.system } : {}),
      ...(r.ip !== null ? { ip: r.ip } : {}), detail: r.detail,
    }));
  }

  getInstallToken(system: string): string | undefined {
    return this.stmt.getInstallToken.get(system) as string | undefined;
  }

  putInstallToken(system: string, token: string): void {
    this.stmt.putInstallToken.run(system, token);
  }

  deleteInstallToken(system: string): boolean {
    return this.stmt.deleteInstallToken.run(system).changes > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Run a multi-statement write atomically. `first` runs the write's first statement (which may
   * fail cleanly) and returns the rest, if any. Outside a transaction the whole write gets one;
   * inside, a failure in the rest marks the enclosing transaction as unable to commit.
   */
  private write(first: () => (() => void) | undefined): void {
    if (!this.db.inTransaction) {
      this.txn(() => first()?.());
      return;
    }
    const rest = first();
    if (!rest) return;
    try {
      rest();
    } catch (e) {
      this.failedWrite ??= { error: e };
      throw e;
    }
  }

  /** Parse a listing; the names are fetched only if a row turns out to be unreadable. */
  private parseRows(type: ItemType, rows: string[]): ItemRecord[] {
    const out = new Array<ItemRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const v = tryParse(rows[i] as string);
      if (v === undefined) this.throwCorrupt(type);
      out[i] = v;
    }
    return out;
  }

  private throwCorrupt(type: ItemType): never {
    for (const [name, data] of this.stmt.findCorrupt.iterate(type) as Iterable<[string, string]>) parseRecord(type, name, data);
    throw new RackforgeError('STORE_CORRUPT', `a stored ${type} cannot be read`, { type });
  }

  /** Bring a system's key rows to exactly `want`, touching only the rows that change. */
  private syncSystemKeys(name: string, want: readonly SystemKeyEntry[]): void {
    const have = this.stmt.currentSystemKeys.all(name) as Array<[SystemKey, string]>;
    const wanted = new Set(want.map(([k, v]) => `${k}\0${v}`));
    const had = new Set<string>();
    for (const [k, v] of have) {
      had.add(`${k}\0${v}`);
      if (!wanted.has(`${k}\0${v}`)) this.stmt.deleteSystemKey.run(name, k, v);
    }
    for (const [k, v] of want) if (!had.has(`${k}\0${v}`)) this.stmt.insertSystemKey.run(name, k, v);
  }

  /** Bring an item's reference rows to exactly `want` (at most one per field). */
  private syncRefs(type: ItemType, name: string, want: readonly RefEntry[]): void {
    const have = new Map(this.stmt.currentRefs.all(type, name) as Array<[RefField, string]>);
    for (const [field, target] of want) {
      if (have.get(field) !== target) this.stmt.putRef.run(type, name, field, target);
      have.delete(field);
    }
    for (const field of have.keys()) this.stmt.deleteRef.run(type, name, field);
  }
}

function uidConflict(e: unknown, type: ItemType, record: ItemRecord): RackforgeError | undefined {
  if ((e as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE' || !/items\.uid/.test((e as Error).message)) return undefined;
  return new RackforgeError('STORE_CONFLICT', `cannot store ${type} ${record.name}: uid ${record.uid} belongs to another item`, {
    type, name: record.name, uid: record.uid,
  });
}

/** The record, or undefined if the text is not a JSON object. */
function tryParse(data: string): ItemRecord | undefined {
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? deepFreeze(v as ItemRecord) : undefined;
  } catch {
    return undefined;
  }
}

function parseLease(data: string): LeaseRecord {
  try {
    return JSON.parse(data) as LeaseRecord;
  } catch (e) {
    throw new RackforgeError('STORE_CORRUPT', `a stored lease cannot be read: ${(e as Error).message}`);
  }
}

function parseRecord(type: ItemType, name: string, data: string): ItemRecord {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch (e) {
    throw corrupt(type, name, (e as Error).message);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt(type, name, 'the stored value is not an object');
  return deepFreeze(v as ItemRecord);
}

function corrupt(type: ItemType, name: string, why: string): RackforgeError {
  return new RackforgeError('STORE_CORRUPT', `stored ${type} ${name} cannot be read: ${why}`, { type, name });
}
