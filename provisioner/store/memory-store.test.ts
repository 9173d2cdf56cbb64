import assert from 'node:assert/strict';
import { ManualClock } from '../../lib/clock.ts';
import { MemoryStore } from './memory-store.ts';
import { describeStoreContract } from './store-contract.ts';
import { makeItem } from './store-fixtures.ts';

describeStoreContract('MemoryStore', async (limits) => ({ store: new MemoryStore(limits), cleanup: async () => {} }));

describe('MemoryStore', () => {
  it('uses the injected clock for deletes', () => {
    const clock = new ManualClock(2_000_000_000);
    const store = new MemoryStore({ clock });
    store.putItem('distro', makeItem('d', { mtime: 1_000 }));
    clock.advance(5);
    store.deleteItem('distro', 'd');
    assert.equal(store.lastModified(), 2_000_000_005);
  });
});
