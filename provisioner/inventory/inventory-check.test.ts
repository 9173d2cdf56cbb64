import assert from 'node:assert/strict';
import { ManualClock, SeededRandom } from '../../lib/clock.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { InventoryService } from './inventory-service.ts';
import { checkInventory } from './inventory-check.ts';
import { SETTINGS_DEFAULTS } from './settings.ts';

function service() {
  const store = new MemoryStore();
  const inv = new InventoryService({ store, clock: new ManualClock(), random: new SeededRandom(9), settings: () => SETTINGS_DEFAULTS, fieldContext: () => ({ autoinstallTemplates: [] }) });
  const save = (type: 'distro' | 'profile' | 'system', fields: Record<string, unknown>) => {
    const h = inv.newHandle(type);
    for (const [k, v] of Object.entries(fields)) assert.equal(inv.modify(type, h, k, v as never), true, k);
    inv.save(type, h);
  };
  save('distro', { name: 'd', kernel: '/k', initrd: '/i' });
  save('profile', { name: 'p', distro: 'd' });
  save('system', { name: 's1', profile: 'p' });
  return { store, inv };
}

describe('checkInventory (what sync checks)', () => {
  it('passes a consistent inventory and counts what it checked', () => {
    const { inv } = service();
    assert.deepEqual(checkInventory(inv), { checked: 2, problems: [] });
  });
  it('reports a system whose profile vanished behind the API’s back, naming both', () => {
    const { store, inv } = service();
    store.deleteItem('profile', 'p');
    const r = checkInventory(inv);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!, /system s1: .*p/);
  });
  it('checks only the named systems for a subset sync, blending them in full', () => {
    const { inv } = service();
    assert.deepEqual(checkInventory(inv, { systems: ['s1'] }), { checked: 1, problems: [] });
    assert.match(checkInventory(inv, { systems: ['ghost'] }).problems[0]!, /system ghost: .*unknown system name ghost/);
  });
});
