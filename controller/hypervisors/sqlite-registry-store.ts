// The registry store on SQLite: `<dir>/controller.db`, WAL, its own schema steps. Kept apart
// from the provisioner's rackforge.db so the controller's heartbeat writes never queue behind
// an inventory bulk write. A registration is one transaction (token marked used + record), so
// after a kill -9 either both are there or neither.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RackforgeError, isRackforgeError } from '../../lib/errors.ts';
import { applyMigrations, type Migration } from '../../provisioner/store/sqlite-migrations.ts';
import type { Disk, HypervisorRecord } from './hypervisor.ts';
import type { RegistryStore } from './registry-store.ts';

export const CONTROLLER_DB_FILE = 'controller.db';

/** Append-only: never edit a step that has shipped, add another. */
export const CONTROLLER_MIGRATIONS: readonly Migration[] = [
  {
    description: 'hypervisors, used registration tokens',
    up: (db) => {
      db.exec(`
        CREATE TABLE hypervisors (
          name            TEXT PRIMARY KEY,
          hostname        TEXT NOT NULL,
          macs            TEXT NOT NULL,      -- JSON array of lower-case MACs
          cpus            INTEGER NOT NULL CHECK (cpus >= 1),
          memory_mb       INTEGER NOT NULL CHECK (memory_mb >= 1),
          disks           TEXT NOT NULL,      -- JSON array of {name, size_bytes}
          rack            TEXT,
          datacentre      TEXT,
          registered_at   TEXT NOT NULL,      -- ISO 8601
          last_heartbeat  TEXT NOT NULL,      -- ISO 8601
          credential_hash TEXT NOT NULL       -- hex SHA-256 of the credential; never the credential
        ) WITHOUT ROWID;

        -- Every install token that registered, by hash: the primary key is what makes a token
        -- register once, whatever the process does.
        CREATE TABLE used_tokens (
          token_hash TEXT PRIMARY KEY,
          system     TEXT NOT NULL,
          used_at    TEXT NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
];

export const SQL = {
  get: 'SELECT * FROM hypervisors WHERE name = ?',
  list: 'SELECT * FROM hypervisors ORDER BY name',
  put:
    'INSERT INTO hypervisors (name, hostname, macs, cpus, memory_mb, disks, rack, datacentre, registered_at, last_heartbeat, credential_hash) ' +
    'VALUES (@name, @hostname, @macs, @cpus, @memory_mb, @disks, @rack, @datacentre, @registered_at, @last_heartbeat, @credential_hash) ' +
    'ON CONFLICT (name) DO UPDATE SET hostname = excluded.hostname, macs = excluded.macs, cpus = excluded.cpus, ' +
    'memory_mb = excluded.memory_mb, disks = excluded.disks, rack = excluded.rack, datacentre = excluded.datacentre, ' +
    'registered_at = excluded.registered_at, last_heartbeat = excluded.last_heartbeat, credential_hash = excluded.credential_hash',
  useToken: 'INSERT INTO used_tokens (token_hash, system, used_at) VALUES (?, ?, ?) ON CONFLICT (token_hash) DO NOTHING',
  touch: 'UPDATE hypervisors SET last_heartbeat = ? WHERE name = ?',
} as const;

interface Row {
  name: string; hostname: string; macs: string; cpus: number; memory_mb: number; disks: string;
  rack: string | null; datacentre: string | null; registered_at: string; last_heartbeat: string; credential_hash: string;
}

export interface SqliteRegistryStoreOptions {
  busyTimeoutMs?: number;
  /** fsync every commit (synchronous=FULL); by default a kill -9 loses nothing, a power cut may lose the last commits. */
  durable?: boolean;
}

export class SqliteRegistryStore implements RegistryStore {
  private readonly stmt: { [K in keyof typeof SQL]: Database.Statement };
  private readonly registerTxn: Database.Transaction<(record: HypervisorRecord, tokenHash: string) => boolean>;

  /** Open (creating if needed) `<dir>/controller.db` and bring its schema up to date. */
  static open(dir: string, options: SqliteRegistryStoreOptions = {}): SqliteRegistryStore {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, CONTROLLER_DB_FILE);
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.durable ? 'FULL' : 'NORMAL'}`);
      applyMigrations(db, CONTROLLER_MIGRATIONS, file);
      return new SqliteRegistryStore(db, file);
    } catch (e) {
      db.close();
      if (isRackforgeError(e)) throw e;
      const code = (e as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new RackforgeError('STORE_CORRUPT', `${file} is not a readable rackforge controller database: ${(e as Error).message}`, { file });
      }
      throw e;
    }
  }

  private constructor(private readonly db: Database.Database, readonly file: string) {
    this.stmt = {
      get: db.prepare(SQL.get),
      list: db.prepare(SQL.list),
      put: db.prepare(SQL.put),
      useToken: db.prepare(SQL.useToken),
      touch: db.prepare(SQL.touch),
    };
    this.registerTxn = db.transaction((record: HypervisorRecord, tokenHash: string): boolean => {
      // DO NOTHING on a used token: no row changed means a replay, and nothing is written.
      if (this.stmt.useToken.run(tokenHash, record.name, record.registered_at).changes === 0) return false;
      this.stmt.put.run({ ...record, macs: JSON.stringify(record.macs), disks: JSON.stringify(record.disks) });
      return true;
    });
  }

  get(name: string): HypervisorRecord | undefined {
    const row = this.stmt.get.get(name) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  list(): HypervisorRecord[] {
    return (this.stmt.list.all() as Row[]).map(fromRow);
  }

  register(record: HypervisorRecord, tokenHash: string): boolean {
    // IMMEDIATE: take the write lock before reading, so two processes cannot both use a token.
    return this.registerTxn.immediate(record, tokenHash);
  }

  touch(name: string, at: string): boolean {
    return this.stmt.touch.run(at, name).changes > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function fromRow(row: Row): HypervisorRecord {
  return {
    name: row.name,
    hostname: row.hostname,
    macs: parseJson<string[]>(row, 'macs', Array.isArray),
    cpus: row.cpus,
    memory_mb: row.memory_mb,
    disks: parseJson<Disk[]>(row, 'disks', Array.isArray),
    rack: row.rack,
    datacentre: row.datacentre,
    registered_at: row.registered_at,
    last_heartbeat: row.last_heartbeat,
    credential_hash: row.credential_hash,
  };
}

function parseJson<T>(row: Row, column: 'macs' | 'disks', ok: (v: unknown) => boolean): T {
  let v: unknown;
  try {
    v = JSON.parse(row[column]);
  } catch {
    v = undefined;
  }
  if (!ok(v)) throw new RackforgeError('STORE_CORRUPT', `stored hypervisor ${row.name} has an unreadable ${column} column`, { name: row.name, column });
  return v as T;
}
