import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachedStore } from './cached-store.ts';
import { MemoryStore } from './memory-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import { describeStoreContract } from './store-contract.ts';
import { makeItem } from './store-fixtures.ts';

describeStoreContract('CachedStore over MemoryStore', async (limits) => ({ store: new CachedStore(new MemoryStore(limits)), cleanup: async () => {} }));

describeStoreContract('CachedStore over SqliteStore', async (limits) => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-cached-'));
  const opened: CachedStore[] = [];
  const open = () => { const s = new CachedStore(SqliteStore.open(dir, limits)); opened.push(s); return s; };
  return {
    store: open(),
    reopen: async () => { opened[0]?.close(); return open(); },
    cleanup: async () => { for (const s of opened) { try { s.close(); } catch { /* closed already */ } } rmSync(dir, { recursive: true, force: true }); },
  };
}, { persistent: true });

describe('CachedStore memory', () => {
  it('serves repeated reads without asking the underlying store again', () => {
    const inner = new MemoryStore();
    inner.putItem('distro', makeItem('d1'));
    let lists = 0;
    const counting = new Proxy(inner, { get: (t, p) => (p === 'listItems' ? (...a: unknown[]) => { lists++; return (t.listItems as (...x: unknown[]) => unknown)(...a); } : (t as any)[p]) });
    const s = new CachedStore(counting);
    s.getItem('distro', 'd1'); s.listItems('distro'); s.getItem('distro', 'nope');
    assert.equal(lists, 1);
  });
  it('forgets what a rolled-back transaction wrote', () => {
    const s = new CachedStore(new MemoryStore());
    s.putItem('distro', makeItem('keep'));
    assert.throws(() => s.transaction(() => { s.putItem('distro', makeItem('gone')); throw new Error('boom'); }), /boom/);
    assert.deepEqual(s.listNames('distro'), ['keep']);
    assert.equal(s.getItem('distro', 'gone'), undefined);
  });
});
