import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isRackforgeError } from '../../lib/errors.ts';
import { describeRegistryStoreContract, makeRecord } from './registry-store-contract.ts';
import type { RegistryStore } from './registry-store.ts';
import { CONTROLLER_DB_FILE, CONTROLLER_MIGRATIONS, SqliteRegistryStore } from './sqlite-registry-store.ts';

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'rf-ctl-store-'));

describeRegistryStoreContract('SqliteRegistryStore', async () => {
  const dir = tempDir();
  const opened: RegistryStore[] = [SqliteRegistryStore.open(dir)];
  return {
    store: opened[0]!,
    reopen: async () => { const s = SqliteRegistryStore.open(dir); opened.push(s); return s; },
    cleanup: async () => {
      for (const s of opened) s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}, { persistent: true });

describe('SqliteRegistryStore', () => {
  let dir = '';
  beforeEach(() => { dir = tempDir(); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('creates controller.db in WAL mode at the latest schema version, creating the directory', () => {
    const nested = path.join(dir, 'a', 'b');
    const store = SqliteRegistryStore.open(nested);
    assert.equal(store.file, path.join(nested, CONTROLLER_DB_FILE));
    store.close();
    const db = new Database(path.join(nested, CONTROLLER_DB_FILE), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), CONTROLLER_MIGRATIONS.length);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
      assert.deepEqual(tables, ['hypervisors', 'used_tokens']);
    } finally {
      db.close();
    }
  });

  it("keeps only hashes: the token's in used_tokens, the credential's on the record", () => {
    const store = SqliteRegistryStore.open(dir);
    store.register(makeRecord('node1', { credential_hash: 'd'.repeat(64) }), 'e'.repeat(64));
    store.close();
    const db = new Database(path.join(dir, CONTROLLER_DB_FILE), { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT token_hash, system FROM used_tokens').all(), [{ token_hash: 'e'.repeat(64), system: 'node1' }]);
      assert.equal(db.prepare('SELECT credential_hash FROM hypervisors').pluck().get(), 'd'.repeat(64));
    } finally {
      db.close();
    }
  });

  it('a registration is one transaction: a failing record write leaves the token unused', () => {
    const store = SqliteRegistryStore.open(dir);
    // cpus 0 violates the CHECK after the token row was inserted in the same transaction.
    assert.throws(() => store.register(makeRecord('node1', { cpus: 0 }), 'f'.repeat(64)), /CHECK constraint/);
    assert.equal(store.get('node1'), undefined);
    assert.equal(store.register(makeRecord('node1'), 'f'.repeat(64)), true);
    store.close();
  });

  it('two connections to one file share used tokens', () => {
    const a = SqliteRegistryStore.open(dir);
    const b = SqliteRegistryStore.open(dir);
    try {
      assert.equal(a.register(makeRecord('node1'), '1'.repeat(64)), true);
      assert.equal(b.register(makeRecord('node1', { cpus: 9 }), '1'.repeat(64)), false);
      assert.equal(b.get('node1')?.cpus, 4);
    } finally {
      a.close();
      b.close();
    }
  });

  it('refuses a file that is not a database with STORE_CORRUPT', () => {
    fs.writeFileSync(path.join(dir, CONTROLLER_DB_FILE), 'this is not sqlite, just some text that is long enough to have a header. '.repeat(4));
    assert.throws(() => SqliteRegistryStore.open(dir), (e: unknown) => isRackforgeError(e, 'STORE_CORRUPT'));
  });

  it('refuses a schema newer than it knows with STORE_MIGRATION', () => {
    SqliteRegistryStore.open(dir).close();
    const db = new Database(path.join(dir, CONTROLLER_DB_FILE));
    db.pragma(`user_version = ${CONTROLLER_MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => SqliteRegistryStore.open(dir), (e: unknown) => isRackforgeError(e, 'STORE_MIGRATION'));
  });

  it('reports a row with unreadable JSON as STORE_CORRUPT naming the hypervisor', () => {
    const store = SqliteRegistryStore.open(dir);
    store.register(makeRecord('node1'), '2'.repeat(64));
    const db = new Database(path.join(dir, CONTROLLER_DB_FILE));
    db.prepare("UPDATE hypervisors SET macs = '{oops' WHERE name = 'node1'").run();
    db.close();
    assert.throws(() => store.get('node1'), (e: unknown) => isRackforgeError(e, 'STORE_CORRUPT') && /node1/.test((e as Error).message));
    store.close();
  });
});
