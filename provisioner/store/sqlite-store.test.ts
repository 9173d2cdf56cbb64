import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ManualClock } from '../../lib/clock.ts';
import { isRackforgeError } from '../../lib/errors.ts';
import type { ItemRecord, ItemType } from '../inventory/types.ts';
import { ITEM_TYPES } from '../inventory/types.ts';
import { selectRefs, selectSystemKeys } from './record-index.ts';
import { COUNTER, crashExpectation, profName, sysName } from './sqlite-store.crash-writer.ts';
import { MIGRATIONS, applyMigrations, schemaVersion } from './sqlite-migrations.ts';
import type { Migration } from './sqlite-migrations.ts';
import { DB_FILE, SQL, SqliteStore } from './sqlite-store.ts';
import { describeStoreContract } from './store-contract.ts';
import { makeInterface, makeItem, makeSystem } from './store-fixtures.ts';
import type { Store } from './store.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

function tempDir(): string {
  return fs.mkdtempSync(os.tmpdir() + '/rf-store-');
}

describeStoreContract('SqliteStore', async (limits) => {
  const dir = tempDir();
  const opened: Store[] = [SqliteStore.open(dir, limits)];
  return {
    store: opened[0]!,
    reopen: async () => {
      const s = SqliteStore.open(dir, limits);
      opened.push(s);
      return s;
    },
    cleanup: async () => {
      for (const s of opened) s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}, { persistent: true });

function assertCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRackforgeError(e), `expected RackforgeError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** A second, plain connection to the store's file, for inspecting and tampering. */
function raw(dir: string): Database.Database {
  return new Database(path.join(dir, DB_FILE));
}

describe('SqliteStore', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir(); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  describe('file and settings', () => {
    it('creates the directory and leaves one file behind after close', () => {
      const nested = path.join(dir, 'a', 'b');
      const store = SqliteStore.open(nested);
      store.putItem('distro', makeItem('d'));
      store.close();
      assert.deepEqual(fs.readdirSync(nested), [DB_FILE]);
    });

    it('runs in WAL mode with synchronous=NORMAL (FULL when durable) and foreign keys on', () => {
      const durable = SqliteStore.open(dir, { durable: true });
      assert.equal((durable as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true }), 2);
      durable.close();
      const store = SqliteStore.open(dir);
      const db = (store as unknown as { db: Database.Database }).db;
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 1);
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.ok((db.pragma('busy_timeout', { simple: true }) as number) > 0);
      store.close();
    });

    it('uses the injected clock for deletes', () => {
      const clock = new ManualClock(2_000_000_000);
      const store = SqliteStore.open(dir, { clock });
      store.putItem('distro', makeItem('d', { mtime: 1_000 }));
      clock.advance(5);
      store.deleteItem('distro', 'd');
      assert.equal(store.lastModified(), 2_000_000_005);
      store.close();
    });

    it('refuses a file that is not a database (STORE_CORRUPT)', () => {
      fs.writeFileSync(path.join(dir, DB_FILE), 'this is not sqlite, just some text long enough to have a header '.repeat(100));
      assertCode(() => SqliteStore.open(dir), 'STORE_CORRUPT', /rackforge\.db/);
    });
  });

  describe('migrations', () => {
    it('brings a fresh database to the latest version', () => {
      SqliteStore.open(dir).close();
      const db = raw(dir);
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
      assert.deepEqual(tables, ['boot_events', 'install_tokens', 'item_refs', 'items', 'leases', 'meta', 'sqlite_sequence', 'system_keys', 'users']);
      db.close();
    });

    it('reopening is idempotent and keeps the data', () => {
      const s1 = SqliteStore.open(dir);
      s1.putItem('distro', makeItem('d'));
      s1.close();
      for (let i = 0; i < 3; i++) {
        const s = SqliteStore.open(dir);
        assert.deepEqual(s.listNames('distro'), ['d']);
        s.close();
      }
      const db = raw(dir);
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      db.close();
    });

    it('refuses a database newer than this code (STORE_MIGRATION) and leaves it alone', () => {
      SqliteStore.open(dir).close();
      const newer = MIGRATIONS.length + 1;
      let db = raw(dir);
      db.pragma(`user_version = ${newer}`);
      db.close();
      assertCode(() => SqliteStore.open(dir), 'STORE_MIGRATION', new RegExp(`version ${newer}.*up to ${MIGRATIONS.length}.*newer rackforge`));
      db = raw(dir);
      assert.equal(schemaVersion(db), newer);
      db.close();
    });

    it('applies each step in its own transaction; a failed step leaves the previous version intact', () => {
      const db = new Database(':memory:');
      const steps: Migration[] = [
        { description: 'one', up: (d) => d.exec('CREATE TABLE one (x)') },
        { description: 'two', up: (d) => { d.exec('CREATE TABLE two (x)'); throw new Error('step two broke'); } },
      ];
      assertCode(() => applyMigrations(db, steps), 'STORE_MIGRATION', /migration 2 \(two\) failed: step two broke/);
      assert.equal(schemaVersion(db), 1);
      const tables = () => db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
      assert.deepEqual(tables(), ['one']);
      steps[1] = { description: 'two', up: (d) => d.exec('CREATE TABLE two (x)') };
      applyMigrations(db, steps);
      assert.equal(schemaVersion(db), 2);
      assert.deepEqual(tables(), ['one', 'two']);
      applyMigrations(db, steps);
      assert.equal(schemaVersion(db), 2);
      db.close();
    });
  });

  describe('query plans', () => {
    let store: SqliteStore;
    let db: Database.Database;
    beforeEach(() => {
      store = SqliteStore.open(dir);
      store.transaction(() => {
        for (let i = 0; i < 200; i++) {
          store.putItem('system', makeSystem(`s${i}`, { eth0: makeInterface(`52:54:00:00:00:${(i % 256).toString(16)}`, `10.0.0.${i % 256}`) },
            { hostname: `s${i}`, profile: `p${i % 7}` }));
        }
        for (let i = 0; i < 20; i++) store.putItem('profile', makeItem(`p${i}`, { distro: 'd' }));
      });
      db = raw(dir);
      db.exec('ANALYZE');
    });
    afterEach(() => {
      db.close();
      store.close();
    });

    const plan = (sql: string, ...params: unknown[]): string[] =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);

    const cases: Array<[keyof typeof SQL, unknown[], RegExp]> = [
      ['getItem', ['system', 's1'], /^SEARCH items USING INDEX sqlite_autoindex_items_1 \(type=\? AND name=\?\)$/],
      ['findSystems', ['mac_address', '52:54:00:00:00:1'], /^SEARCH system_keys USING COVERING INDEX system_keys_by_value \(key=\? AND value=\?\)$/],
      ['findReferrers', ['system', 'profile', 'p1'], /^SEARCH item_refs USING COVERING INDEX item_refs_by_target \(type=\? AND field=\? AND target=\?\)$/],
    ];
    for (const [name, params, expected] of cases) {
      it(`${name} searches an index and does not sort`, () => {
        const p = plan(SQL[name], ...params);
        assert.equal(p.length, 1, p.join('\n'));
        assert.match(p[0]!, expected);
      });
    }

    it('listItems, listNames and itemsSince do not scan other types', () => {
      for (const [name, params] of [['listItems', ['system']], ['listNames', ['system']], ['itemsSince', ['system', 5]]] as const) {
        const p = plan(SQL[name], ...params);
        assert.match(p[0]!, /^SEARCH items USING (COVERING )?INDEX \w+ \(type=\?/, `${name}: ${p.join(' / ')}`);
        assert.ok(!p.some((d) => /^SCAN/.test(d)), `${name}: ${p.join(' / ')}`);
      }
      // Sorted by the primary key itself: no sort step for the big listings.
      assert.ok(!plan(SQL.listItems, 'system').some((d) => /TEMP B-TREE/.test(d)));
      assert.ok(!plan(SQL.listNames, 'system').some((d) => /TEMP B-TREE/.test(d)));
    });

    it('the write path finds index rows by key, never by scanning', () => {
      const writes: Array<[keyof typeof SQL, unknown[]]> = [
        ['upsertItem', ['system', 's1', 'u', 1, '{}']],
        ['deleteItem', ['system', 's1']],
        ['currentSystemKeys', ['s1']],
        ['deleteSystemKey', ['s1', 'hostname', 's1']],
        ['deleteSystemKeys', ['s1']],
        ['currentRefs', ['system', 's1']],
        ['deleteRef', ['system', 's1', 'profile']],
        ['deleteRefs', ['system', 's1']],
        ['bumpLastModified', [1]],
      ];
      for (const [name, params] of writes) {
        const p = plan(SQL[name], ...params);
        assert.ok(!p.some((d) => /^SCAN/.test(d)), `${name}: ${p.join(' / ')}`);
      }
    });
  });

  describe('corruption', () => {
    it('names the type and name of a row whose JSON cannot be read (STORE_CORRUPT)', () => {
      const s1 = SqliteStore.open(dir);
      s1.putItem('distro', makeItem('fine'));
      s1.putItem('system', makeSystem('broken', { eth0: makeInterface('52:54:00:00:00:01') }));
      s1.putItem('system', makeSystem('array'));
      s1.close();
      const db = raw(dir);
      db.prepare("UPDATE items SET data = ? WHERE type = 'system' AND name = 'broken'").run('{"name": "broken", "interfaces": {');
      db.prepare("UPDATE items SET data = ? WHERE type = 'system' AND name = 'array'").run('[1, 2]');
      db.close();

      const store = SqliteStore.open(dir);
      assertCode(() => store.getItem('system', 'broken'), 'STORE_CORRUPT', /system broken/);
      assertCode(() => store.getItem('system', 'array'), 'STORE_CORRUPT', /system array.*not an object/);
      assertCode(() => store.listItems('system'), 'STORE_CORRUPT', /system (array|broken)/);
      assertCode(() => store.itemsSince('system', 0), 'STORE_CORRUPT', /system (array|broken)/);
      // Everything else still reads, and the index still answers.
      assert.equal(store.getItem('distro', 'fine')?.name, 'fine');
      assert.deepEqual(store.findSystems('mac_address', '52:54:00:00:00:01'), ['broken']);
      store.close();
    });
  });

  describe('a write that fails part-way inside a transaction', () => {
    it('makes the enclosing transaction roll back even if the callback swallows the error', () => {
      const store = SqliteStore.open(dir);
      store.putItem('distro', makeItem('before'));
      // Simulate an I/O error after the item row is written but before its index rows are.
      const stmts = (store as unknown as { stmt: Record<string, { run: (...a: unknown[]) => unknown }> }).stmt;
      const insertKey = stmts['insertSystemKey']!;
      const realRun = insertKey.run;
      insertKey.run = () => { throw new Error('disk I/O error (simulated)'); };
      assert.throws(() => store.transaction(() => {
        store.putItem('distro', makeItem('inside'));
        try {
          store.putItem('system', makeSystem('half', { eth0: makeInterface('52:54:00:00:00:02') }, { hostname: 'half' }));
        } catch {
          // A careless caller carries on.
        }
        return 'done';
      }), /simulated/);
      insertKey.run = realRun;
      assert.deepEqual(store.listNames('system'), []);
      assert.deepEqual(store.listNames('distro'), ['before']);
      assert.deepEqual(store.findSystems('hostname', 'half'), []);
      // Outside a transaction the put is atomic on its own.
      insertKey.run = () => { throw new Error('disk I/O error (simulated)'); };
      assert.throws(() => store.putItem('system', makeSystem('half', { eth0: makeInterface('52:54:00:00:00:02') })), /simulated/);
      insertKey.run = realRun;
      assert.deepEqual(store.listNames('system'), []);
      // And the store carries on afterwards.
      store.putItem('system', makeSystem('whole', { eth0: makeInterface('52:54:00:00:00:03') }));
      assert.deepEqual(store.findSystems('mac_address', '52:54:00:00:00:03'), ['whole']);
      store.close();
    });
  });

  describe('kill -9 while writing', function () {
    this.timeout(120_000);

    it('recovers to exactly the committed transactions, with indexes matching records', async () => {
      const rounds = 5;
      let reported = 0;
      const log: string[] = [];
      for (let round = 1; round <= rounds; round++) {
        const delay = 200 + Math.floor(Math.random() * 600);
        const last = await runAndKill(dir, delay);
        log.push(`round ${round}: killed after ${delay} ms, last reported ${last}`);
        assert.ok(last >= reported, log.join('\n'));
        reported = Math.max(reported, last);
        const committed = checkCrashState(dir, reported, log);
        assert.ok(committed - reported <= 1, `${committed} committed but ${reported} reported\n${log.join('\n')}`);
        reported = committed;
      }
      if (process.env.RF_CRASH_LOG) console.log(log.join("\n"));
      assert.ok(reported > rounds, `too few commits to mean anything: ${reported}\n${log.join('\n')}`);
    });
  });
});

/** Start the writer, let it commit for `delayMs` after its first commit, SIGKILL it. */
async function runAndKill(dir: string, delayMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import=tsx', path.join(here, 'sqlite-store.crash-writer.ts'), dir], {
    cwd: path.resolve(here, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let firstCommit!: () => void;
  const committedOnce = new Promise<void>((resolve, reject) => {
    firstCommit = resolve;
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before committing: ${err}`)));
  });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('\n')) firstCommit();
  });
  const ended = new Promise<void>((resolve) => child.stdout.on('end', () => resolve()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await committedOnce;
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await exited;
  // Everything it wrote before dying is still in the pipe; 'exit' can precede the last 'data'.
  await ended;
  const lines = out.split('\n').filter((l) => l !== '');
  return Number(lines[lines.length - 1] ?? 0);
}

/** Reopen after a crash and check every invariant; returns the committed count. */
function checkCrashState(dir: string, reported: number, log: string[]): number {
  const store = SqliteStore.open(dir);
  const db = raw(dir);
  const ctx = (): string => log.join('\n');
  try {
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }], ctx());

    const committed = Number(store.getItem('repo', COUNTER)?.['count'] ?? 0);
    assert.ok(committed >= reported, `counter ${committed} < reported ${reported}\n${ctx()}`);

    // Exactly the systems and profiles the committed prefix implies: nothing missing, no half
    // transaction, nothing from a transaction that did not commit.
    const expected: string[] = [];
    for (let m = 1; m <= committed; m++) if (crashExpectation(m, committed)) expected.push(String(m));
    const numbers = (names: string[], prefix: string): string[] =>
      names.map((n) => n.slice(prefix.length)).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(numbers(store.listNames('system'), 'sys-'), expected, ctx());
    assert.deepEqual(numbers(store.listNames('profile'), 'prof-'), expected, ctx());
    for (const m of expected.map(Number)) {
      assert.equal(store.getItem('system', sysName(m))?.['profile'], profName(m));
      const renamed = m % 3 === 2 && m + 1 <= committed;
      assert.equal(store.getItem('system', sysName(m))?.['hostname'], renamed ? `${sysName(m)}-renamed` : sysName(m), ctx());
    }

    // Index rows equal what each record implies, and none belong to a missing item.
    const keyRows = db.prepare('SELECT name, key, value FROM system_keys ORDER BY name, key, value').all();
    const wantKeys = store.listItems('system')
      .flatMap((r) => selectSystemKeys(r).map(([key, value]) => ({ name: r.name, key, value })))
      .sort(byFields('name', 'key', 'value'));
    assert.deepEqual(keyRows, wantKeys, ctx());

    const refRows = db.prepare('SELECT type, name, field, target FROM item_refs ORDER BY type, name, field').all();
    const wantRefs = ITEM_TYPES
      .flatMap((type: ItemType) => store.listItems(type).map((r: ItemRecord) => ({ type, r })))
      .flatMap(({ type, r }) => selectRefs(r).map(([field, target]) => ({ type, name: r.name, field, target })))
      .sort(byFields('type', 'name', 'field'));
    assert.deepEqual(refRows, wantRefs, ctx());

    assert.ok(store.lastModified() >= committed, ctx());
    return committed;
  } finally {
    db.close();
    store.close();
  }
}

function byFields<T extends Record<string, string>>(...fields: Array<keyof T>): (a: T, b: T) => number {
  return (a, b) => {
    for (const f of fields) {
      const x = a[f] as string;
      const y = b[f] as string;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
}
