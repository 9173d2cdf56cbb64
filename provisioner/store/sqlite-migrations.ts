// The SQLite schema, as an ordered list of steps. The database's `PRAGMA user_version` is the
// number of steps applied. Steps are append-only: never edit one that has shipped, add another.
import type Database from 'better-sqlite3';
import { RackforgeError } from '../../lib/errors.ts';

export interface Migration {
  /** What the step does, for error messages and logs. */
  readonly description: string;
  readonly up: (db: Database.Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'items, index tables, meta, users',
    up: (db) => {
      db.exec(`
        CREATE TABLE items (
          type  TEXT NOT NULL,
          name  TEXT NOT NULL,
          uid   TEXT NOT NULL,
          mtime REAL NOT NULL,
          data  TEXT NOT NULL,            -- the record as JSON text
          PRIMARY KEY (type, name),
          UNIQUE (uid)
        );
        CREATE INDEX items_by_mtime ON items (type, mtime);

        -- Index tables: maintained by SqliteStore in the same transaction as the item row.
        -- (No declared foreign keys: they cost a fifth of put throughput and guard nothing the
        -- store's own transaction does not; the crash test checks for orphans.)
        CREATE TABLE system_keys (
          name  TEXT NOT NULL,
          -- CHECKs are OR chains: an IN list builds a temporary table for every row inserted.
          key   TEXT NOT NULL CHECK (key = 'mac_address' OR key = 'ip_address' OR key = 'hostname' OR key = 'dns_name'),
          value TEXT NOT NULL,            -- lower-cased
          PRIMARY KEY (name, key, value)
        ) WITHOUT ROWID;
        CREATE INDEX system_keys_by_value ON system_keys (key, value, name);

        CREATE TABLE item_refs (
          type   TEXT NOT NULL,
          name   TEXT NOT NULL,
          field  TEXT NOT NULL
                 CHECK (field = 'distro' OR field = 'profile' OR field = 'parent' OR field = 'image' OR field = 'menu'),
          target TEXT NOT NULL,
          PRIMARY KEY (type, name, field)
        ) WITHOUT ROWID;
        CREATE INDEX item_refs_by_target ON item_refs (type, field, target, name);

        CREATE TABLE meta (
          key   TEXT PRIMARY KEY,
          value
        ) WITHOUT ROWID;
        INSERT INTO meta (key, value) VALUES ('last_modified', 0);

        CREATE TABLE users (
          name          TEXT PRIMARY KEY,
          password_hash TEXT NOT NULL,
          created_at    REAL NOT NULL
        );
      `);
    },
  },
  {
    description: 'leases, boot events, install tokens',
    up: (db) => {
      db.exec(`
        -- One row per address: the primary key is what makes "one address, one holder" hold
        -- whatever the process does, kill -9 included.
        CREATE TABLE leases (
          ip_num     INTEGER PRIMARY KEY,   -- the address as a 32-bit number, for numeric order
          data       TEXT NOT NULL          -- the LeaseRecord as JSON text
        );

        CREATE TABLE boot_events (
          id     INTEGER PRIMARY KEY AUTOINCREMENT,
          at     REAL NOT NULL,
          kind   TEXT NOT NULL,
          mac    TEXT,                      -- lower-cased
          system TEXT,
          ip     TEXT,
          detail TEXT NOT NULL
        );
        CREATE INDEX boot_events_by_mac ON boot_events (mac, id);
        CREATE INDEX boot_events_by_system ON boot_events (system, id);

        CREATE TABLE install_tokens (
          system TEXT PRIMARY KEY,
          token  TEXT NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
];

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Bring `db` up to `migrations.length`, one step per transaction. Each step re-reads the version
 * under a write lock (BEGIN IMMEDIATE), so two processes opening the same file at once apply
 * every step exactly once. A database newer than `migrations` is refused, untouched.
 */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, file = 'database'): void {
  const step = db.transaction((): boolean => {
    const current = schemaVersion(db);
    if (current > migrations.length) throw tooNew(file, current, migrations.length);
    const next = migrations[current];
    if (!next) return false;
    try {
      next.up(db);
    } catch (e) {
      throw new RackforgeError('STORE_MIGRATION',
        `${file}: migration ${current + 1} (${next.description}) failed: ${(e as Error).message}`,
        { file, from: current, to: current + 1 });
    }
    // user_version lives in the database header, so it commits or rolls back with the step.
    db.pragma(`user_version = ${current + 1}`);
    return true;
  });
  // A read first: a newer database is refused without taking the write lock.
  const current = schemaVersion(db);
  if (current > migrations.length) throw tooNew(file, current, migrations.length);
  while (step.immediate()) { /* one step per transaction */ }
}

function tooNew(file: string, found: number, known: number): RackforgeError {
  return new RackforgeError('STORE_MIGRATION',
    `${file} has schema version ${found}, but this rackforge knows versions up to ${known}; ` +
    'it was written by a newer rackforge: upgrade rackforge (or restore a backup made by this version)',
    { file, found, known });
}
