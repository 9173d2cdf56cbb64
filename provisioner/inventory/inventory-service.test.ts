import assert from 'node:assert/strict';
import { ManualClock, SeededRandom } from '../../lib/clock.ts';
import { isRackforgeError } from '../../lib/errors.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { InventoryService } from './inventory-service.ts';
import { SETTINGS_DEFAULTS } from './settings.ts';
import type { ItemType, Value } from './types.ts';

function world() {
  const store = new MemoryStore();
  const clock = new ManualClock(1_700_000_000.5);
  const inv = new InventoryService({ store, clock, random: new SeededRandom(3), settings: () => SETTINGS_DEFAULTS, fieldContext: () => ({ autoinstallTemplates: [] }) });
  const add = (type: ItemType, fields: Record<string, Value>) => {
    const h = inv.newHandle(type);
    for (const [k, v] of Object.entries(fields)) assert.equal(inv.modify(type, h, k, v), true, `${type}.${k}`);
    clock.advance(1);
    return inv.save(type, h);
  };
  add('distro', { name: 'd', kernel: '/k', initrd: '/i' });
  add('repo', { name: 'r1', mirror: 'http://mirror/r1' });
  add('menu', { name: 'm' });
  add('profile', { name: 'p', distro: 'd', repos: ['r1'], menu: 'm' });
  add('profile', { name: 'sub', parent: 'p' });
  add('system', { name: 's1', profile: 'sub', hostname: 's1.lab', modify_interface: { 'macaddress-eth0': '52:54:00:00:00:01', 'ipaddress-eth0': '10.0.0.1' } });
  return { store, inv, clock, add };
}

const code = (c: string) => (e: unknown) => isRackforgeError(e) && e.code === c;

describe('InventoryService', () => {
  it('computes depth along the tree and marks sub-profiles', () => {
    const { inv } = world();
    assert.equal(inv.get('distro', 'd')!.depth, 0);
    assert.equal(inv.get('profile', 'p')!.depth, 1);
    assert.equal(inv.get('profile', 'sub')!.depth, 2);
    assert.equal(inv.get('profile', 'sub')!.is_subobject, true);
    assert.equal(inv.get('system', 's1')!.depth, 3);
  });

  it('keeps unsaved edits out of the store until save', () => {
    const { inv } = world();
    const h = inv.handleFor('system', 's1');
    inv.modify('system', h, 'comment', 'pending');
    assert.equal(inv.get('system', 's1')!.comment, '');
    inv.save('system', h);
    assert.equal(inv.get('system', 's1')!.comment, 'pending');
  });

  it('renames follow every reference: sub-profiles, systems, repos lists, menus', () => {
    const { inv } = world();
    inv.rename('profile', inv.handleFor('profile', 'p'), 'p2');
    assert.equal(inv.get('profile', 'sub')!.parent, 'p2');
    inv.rename('profile', inv.handleFor('profile', 'sub'), 'sub2');
    assert.equal(inv.get('system', 's1')!.profile, 'sub2');
    inv.rename('repo', inv.handleFor('repo', 'r1'), 'r9');
    assert.deepEqual(inv.get('profile', 'p2')!.repos, ['r9']);
    inv.rename('menu', inv.handleFor('menu', 'm'), 'm2');
    assert.equal(inv.get('profile', 'p2')!.menu, 'm2');
    inv.rename('distro', inv.handleFor('distro', 'd'), 'd2');
    assert.equal(inv.get('profile', 'p2')!.distro, 'd2');
    assert.deepEqual(inv.blended('system', 's1').distro_name, 'd2');
    assert.throws(() => inv.rename('profile', inv.handleFor('profile', 'sub2'), 'p2'), code('ITEM_EXISTS'));
  });

  it('refuses to remove a parent without recursive, and takes the whole subtree with it', () => {
    const { inv } = world();
    assert.throws(() => inv.remove('distro', 'd', false), code('ITEM_HAS_CHILDREN'));
    assert.equal(inv.get('system', 's1')!.name, 's1');
    inv.remove('distro', 'd', true);
    for (const [t, n] of [['distro', 'd'], ['profile', 'p'], ['profile', 'sub'], ['system', 's1']] as const) assert.equal(inv.get(t, n), undefined, n);
    assert.equal(inv.get('repo', 'r1')!.name, 'r1');
  });

  it('unlinks non-child references on remove (a menu from profiles, a repo from repos lists)', () => {
    const { inv } = world();
    inv.remove('menu', 'm', false);
    assert.equal(inv.get('profile', 'p')!.menu, '');
    inv.remove('repo', 'r1', false);
    assert.deepEqual(inv.get('profile', 'p')!.repos, []);
  });

  it('copies a system without the addresses that must stay unique', () => {
    const { inv } = world();
    inv.copy('system', inv.handleFor('system', 's1'), 's2');
    const c = inv.get('system', 's2')!;
    const eth0 = (c.interfaces as Record<string, Record<string, Value>>).eth0!;
    assert.equal(eth0.mac_address, '');
    assert.equal(eth0.ip_address, '');
    assert.equal(c.hostname, '');
    assert.notEqual(c.uid, inv.get('system', 's1')!.uid);
    assert.throws(() => inv.copy('system', inv.handleFor('system', 's1'), 's2'), code('ITEM_EXISTS'));
  });

  it('finds systems through the index and by criteria, case-insensitively', () => {
    const { inv } = world();
    assert.deepEqual(inv.find('system', { mac_address: '52:54:00:00:00:01'.toUpperCase() }).map((r) => r.name), ['s1']);
    assert.deepEqual(inv.find('system', { name: 'S*' }).map((r) => r.name), ['s1']);
    assert.deepEqual(inv.find('system', { name: 'S1' }).map((r) => r.name), ['s1']);
    assert.deepEqual(inv.find('system', { ip_address: '10.0.0.2' }), []);
  });

  it('a failed save leaves the store as it was', () => {
    const { inv, store, add } = world();
    const before = JSON.stringify(store.listItems('system'));
    assert.throws(() => add('system', { name: 's2', profile: 'p', modify_interface: { 'macaddress-eth0': '52:54:00:00:00:01' } }), code('ITEM_DUPLICATE'));
    assert.equal(JSON.stringify(store.listItems('system')), before);
    assert.equal(inv.get('system', 's2'), undefined);
  });
});
