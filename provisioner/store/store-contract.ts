// The behaviour every Store implementation must have. Each implementation's test file calls
// describeStoreContract once; a new implementation is done when this passes unchanged.
import assert from 'node:assert/strict';
import { isRackforgeError } from '../../lib/errors.ts';
import type { ItemRecord, ItemType, RefField, SystemKey } from '../inventory/types.ts';
import { makeInterface, makeItem, makeSystem } from './store-fixtures.ts';
import { bootEventSlack, type LeaseRecord, type Store, type StoreLimits } from './store.ts';

export function describeStoreContract(
  name: string,
  /** A fresh store, with the given limits (see StoreLimits) when asked. */
  make: (limits?: StoreLimits) => Promise<{ store: Store; reopen?: () => Promise<Store>; cleanup: () => Promise<void> }>,
  /** Whether the implementation persists (then make() must provide reopen); volatile stores don't get the test. */
  opts: { persistent: boolean } = { persistent: false },
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let reopen: (() => Promise<Store>) | undefined;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, reopen, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('items', () => {
      it('gets what was put, and undefined for an unknown name or another type', () => {
        const d = makeItem('centos9', { kernel: '/k', initrd: '/i', kernel_options: { quiet: null }, owners: ['admin'] });
        store.putItem('distro', d);
        assert.deepEqual(store.getItem('distro', 'centos9'), d);
        assert.equal(store.getItem('distro', 'nope'), undefined);
        assert.equal(store.getItem('profile', 'centos9'), undefined);
      });

      it('keeps the literal <<inherit>>, null, nested objects and floats intact', () => {
        const p = makeItem('p1', {
          distro: 'd1', owners: '<<inherit>>', proxy: null, virt_ram: 512, virt_file_size: 5.5,
          autoinstall_meta: { tree: 'http://x/y', list: ['a', 'b'], deep: { n: { m: true } } }, mtime: 1_700_000_123.456789,
        });
        store.putItem('profile', p);
        assert.deepEqual(store.getItem('profile', 'p1'), p);
      });

      it('lists items and names sorted by name, per type', () => {
        for (const n of ['b', 'c', 'a', 'B', 'a-1', 'a.1']) store.putItem('distro', makeItem(n));
        store.putItem('profile', makeItem('zz'));
        const expected = ['B', 'a', 'a-1', 'a.1', 'b', 'c'];
        assert.deepEqual(store.listNames('distro'), expected);
        assert.deepEqual(store.listItems('distro').map((r) => r.name), expected);
        assert.deepEqual(store.listNames('profile'), ['zz']);
        assert.deepEqual(store.listItems('repo'), []);
        assert.deepEqual(store.listNames('repo'), []);
      });

      it('replaces an item put again under the same name', () => {
        const d = makeItem('d', { kernel: '/old' });
        store.putItem('distro', d);
        store.putItem('distro', { ...d, kernel: '/new', mtime: d.mtime + 1 });
        assert.equal(store.getItem('distro', 'd')?.['kernel'], '/new');
        assert.deepEqual(store.listNames('distro'), ['d']);
      });

      it('deletes: true once, then false; the item is gone from get, list and names', () => {
        store.putItem('distro', makeItem('a'));
        store.putItem('distro', makeItem('b'));
        assert.equal(store.deleteItem('distro', 'a'), true);
        assert.equal(store.deleteItem('distro', 'a'), false);
        assert.equal(store.deleteItem('profile', 'b'), false);
        assert.equal(store.getItem('distro', 'a'), undefined);
        assert.deepEqual(store.listNames('distro'), ['b']);
        assert.deepEqual(store.listItems('distro').map((r) => r.name), ['b']);
      });

      it('the same name may exist under different types', () => {
        store.putItem('distro', makeItem('x', { kernel: '/k' }));
        store.putItem('profile', makeItem('x', { distro: 'x' }));
        store.deleteItem('distro', 'x');
        assert.equal(store.getItem('profile', 'x')?.['distro'], 'x');
      });

      it('refuses a second item with the same uid (STORE_CONFLICT) and keeps the first', () => {
        const a = makeItem('a');
        store.putItem('distro', a);
        assertCode(() => store.putItem('distro', { ...makeItem('b'), uid: a.uid }), 'STORE_CONFLICT');
        assertCode(() => store.putItem('profile', { ...makeItem('a'), uid: a.uid }), 'STORE_CONFLICT');
        assert.deepEqual(store.listNames('distro'), ['a']);
        assert.deepEqual(store.listNames('profile'), []);
        // Its uid is free again once the owner is gone, or changes its own uid.
        store.deleteItem('distro', 'a');
        store.putItem('distro', { ...makeItem('b'), uid: a.uid });
        store.putItem('distro', makeItem('b'));
        store.putItem('distro', { ...makeItem('c'), uid: a.uid });
        assert.deepEqual(store.listNames('distro'), ['b', 'c']);
      });

      it('refuses records it cannot key (ITEM_INVALID_FIELD)', () => {
        const bad = [{ ...makeItem('x'), name: '' }, { ...makeItem('x'), uid: 7 }, { ...makeItem('x'), mtime: 'now' }];
        for (const r of bad) assertCode(() => store.putItem('distro', r as unknown as ItemRecord), 'ITEM_INVALID_FIELD');
        assertCode(() => store.putItem('mgmtclass' as ItemType, makeItem('x')), 'ITEM_INVALID_FIELD');
        assert.deepEqual(store.listNames('distro'), []);
        assert.deepEqual(store.listNames('mgmtclass' as ItemType), []);
        assert.equal(store.getItem('mgmtclass' as ItemType, 'x'), undefined);
      });
    });

    describe('copies', () => {
      it('mutating a record after put does not change the stored one', () => {
        const s = makeSystem('s', { eth0: makeInterface('aa:bb:cc:dd:ee:01') }, { kernel_options: { a: '1' } });
        store.putItem('system', s);
        (s['interfaces'] as Record<string, Record<string, unknown>>)['eth0']!['mac_address'] = 'aa:bb:cc:dd:ee:99';
        (s['kernel_options'] as Record<string, unknown>)['a'] = '2';
        s['hostname'] = 'changed';
        const got = store.getItem('system', 's')!;
        assert.equal(ifaceField(got, 'eth0', 'mac_address'), 'aa:bb:cc:dd:ee:01');
        assert.deepEqual(got['kernel_options'], { a: '1' });
        assert.equal(got['hostname'], '');
        assert.deepEqual(store.findSystems('mac_address', 'aa:bb:cc:dd:ee:99'), []);
      });

      it('returned records are deeply frozen: changing one in place throws and stores nothing', () => {
        store.putItem('system', makeSystem('s', { eth0: makeInterface('aa:bb:cc:dd:ee:01') }, { kernel_options: { a: '1' } }));
        for (const got of [store.getItem('system', 's')!, store.listItems('system')[0]!, store.itemsSince('system', 0)[0]!]) {
          assert.throws(() => { (got['interfaces'] as Record<string, Record<string, unknown>>)['eth0']!['mac_address'] = 'mutated'; }, TypeError);
          assert.throws(() => { (got['kernel_options'] as Record<string, unknown>)['a'] = 'mutated'; }, TypeError);
          assert.throws(() => { got['comment'] = 'mutated'; }, TypeError);
        }
        const again = store.getItem('system', 's')!;
        assert.equal(ifaceField(again, 'eth0', 'mac_address'), 'aa:bb:cc:dd:ee:01');
        assert.deepEqual(again['kernel_options'], { a: '1' });
        assert.equal(again['comment'], '');
      });

      it('a copy of a returned record can be changed and put back', () => {
        store.putItem('distro', makeItem('d', { kernel_options: { a: '1' } }));
        const copy = structuredClone(store.getItem('distro', 'd')!);
        (copy['kernel_options'] as Record<string, unknown>)['a'] = '2';
        store.putItem('distro', copy);
        assert.deepEqual(store.getItem('distro', 'd')!['kernel_options'], { a: '2' });
      });

      it('users are copied too', () => {
        const u = { name: 'admin', passwordHash: 'h1', createdAt: 1 };
        store.putUser(u);
        u.passwordHash = 'mutated';
        const got = store.getUser('admin')!;
        got.passwordHash = 'mutated too';
        assert.equal(store.getUser('admin')?.passwordHash, 'h1');
      });
    });

    describe('itemsSince and lastModified', () => {
      it('itemsSince returns items of that type with mtime strictly after, sorted by name', () => {
        store.putItem('distro', makeItem('c', { mtime: 300 }));
        store.putItem('distro', makeItem('a', { mtime: 200.5 }));
        store.putItem('distro', makeItem('b', { mtime: 200 }));
        store.putItem('profile', makeItem('p', { mtime: 900 }));
        assert.deepEqual(store.itemsSince('distro', 200).map((r) => r.name), ['a', 'c']);
        assert.deepEqual(store.itemsSince('distro', 0).map((r) => r.name), ['a', 'b', 'c']);
        assert.deepEqual(store.itemsSince('distro', 300), []);
        // An overwrite moves the item's mtime.
        store.putItem('distro', { ...store.getItem('distro', 'b')!, mtime: 400 });
        assert.deepEqual(store.itemsSince('distro', 300).map((r) => r.name), ['b']);
      });

      it('starts at 0, follows the greatest mtime written and never goes back', () => {
        assert.equal(store.lastModified(), 0);
        store.putItem('distro', makeItem('a', { mtime: 1000 }));
        assert.equal(store.lastModified(), 1000);
        store.putItem('profile', makeItem('p', { mtime: 1500.25 }));
        assert.equal(store.lastModified(), 1500.25);
        store.putItem('distro', makeItem('b', { mtime: 1200 }));
        assert.equal(store.lastModified(), 1500.25);
      });

      it('a delete bumps it to at least the current time; a failed delete does not', () => {
        store.putItem('distro', makeItem('a', { mtime: 1000 }));
        assert.equal(store.deleteItem('distro', 'missing'), false);
        assert.equal(store.lastModified(), 1000);
        const before = Date.now() / 1000;
        store.deleteItem('distro', 'a');
        assert.ok(store.lastModified() >= before - 1, `lastModified ${store.lastModified()} should be about now (${before})`);
        const afterDelete = store.lastModified();
        store.putItem('distro', makeItem('b', { mtime: 1001 }));
        assert.equal(store.lastModified(), afterDelete);
      });
    });

    describe('findSystems', () => {
      function seed(): void {
        store.putItem('system', makeSystem('web1', {
          eth0: makeInterface('52:54:00:AA:00:01', '10.0.0.11', 'web1.lab.example'),
          eth1: makeInterface('52:54:00:aa:00:02', '10.1.0.11', 'web1-storage.lab.example'),
        }, { hostname: 'Web1' }));
        store.putItem('system', makeSystem('web2', {
          eth0: makeInterface('52:54:00:aa:00:03', '10.0.0.12', 'web2.lab.example'),
          bmc: makeInterface('52:54:00:aa:00:04', '10.9.0.12'),
        }, { hostname: 'web2' }));
        // Sharing an IP with web1 on purpose: the store reports, the inventory decides.
        store.putItem('system', makeSystem('db1', {
          eth0: makeInterface('52:54:00:aa:00:05', '10.1.0.11', ''),
        }, { hostname: '' }));
      }

      const cases: Array<[SystemKey, string, string[]]> = [
        ['mac_address', '52:54:00:aa:00:01', ['web1']],
        ['mac_address', '52:54:00:aa:00:02', ['web1']],
        ['mac_address', '52:54:00:aa:00:04', ['web2']],
        ['ip_address', '10.0.0.11', ['web1']],
        ['ip_address', '10.9.0.12', ['web2']],
        ['ip_address', '10.1.0.11', ['db1', 'web1']],
        ['dns_name', 'web1-storage.lab.example', ['web1']],
        ['dns_name', 'web2.lab.example', ['web2']],
        ['hostname', 'web1', ['web1']],
        ['hostname', 'web2', ['web2']],
        ['mac_address', '52:54:00:aa:00:99', []],
        ['hostname', 'web1.lab.example', []],
        ['ip_address', '52:54:00:aa:00:01', []],
      ];
      for (const [key, value, names] of cases) {
        it(`${key}=${value} → [${names.join(', ')}]`, () => {
          seed();
          assert.deepEqual(store.findSystems(key, value), names);
        });
      }

      it('matches case-insensitively whatever the case stored or asked', () => {
        seed();
        for (const mac of ['52:54:00:aa:00:01', '52:54:00:AA:00:01', '52:54:00:Aa:00:01']) {
          assert.deepEqual(store.findSystems('mac_address', mac), ['web1']);
        }
        assert.deepEqual(store.findSystems('hostname', 'WEB1'), ['web1']);
        assert.deepEqual(store.findSystems('dns_name', 'WEB2.Lab.Example'), ['web2']);
      });

      it('ignores empty, null and <<inherit>> values', () => {
        store.putItem('system', makeSystem('s', {
          eth0: { mac_address: '', ip_address: null, dns_name: '<<inherit>>' },
          eth1: { mac_address: 7, ip_address: ['10.0.0.1'] },
        }, { hostname: '<<inherit>>' }));
        for (const [key, value] of [['mac_address', ''], ['ip_address', ''], ['dns_name', '<<inherit>>'], ['hostname', '<<inherit>>'],
          ['hostname', ''], ['mac_address', '7'], ['ip_address', '10.0.0.1']] as Array<[SystemKey, string]>) {
          assert.deepEqual(store.findSystems(key, value), [], `${key}=${value}`);
        }
      });

      it('copes with a system without interfaces or with a malformed interfaces field', () => {
        store.putItem('system', makeSystem('a', {}, { hostname: 'a' }));
        store.putItem('system', { ...makeSystem('b', {}, { hostname: 'b' }), interfaces: null });
        store.putItem('system', { ...makeSystem('c', {}, { hostname: 'c' }), interfaces: ['eth0'] });
        store.putItem('system', { ...makeSystem('d', {}, { hostname: 'd' }), interfaces: { eth0: 'aa:bb' } });
        assert.deepEqual(store.findSystems('hostname', 'c'), ['c']);
        assert.deepEqual(store.findSystems('mac_address', 'aa:bb'), []);
      });

      it('only systems are indexed', () => {
        store.putItem('profile', makeItem('p', { hostname: 'h', interfaces: { eth0: makeInterface('52:54:00:aa:00:10') } }));
        assert.deepEqual(store.findSystems('hostname', 'h'), []);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:10'), []);
      });

      it('drops stale keys when an interface is removed, renamed or changed', () => {
        seed();
        const web1 = store.getItem('system', 'web1')!;
        const ifs = web1['interfaces'] as Record<string, Record<string, unknown>>;
        // eth1 removed, eth0 renamed to ens3 with a new MAC, hostname changed.
        const ens3 = { ...ifs['eth0'], mac_address: '52:54:00:aa:00:21' };
        store.putItem('system', { ...web1, hostname: 'web1-new', interfaces: { ens3 } as ItemRecord['interfaces'] });
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:01'), []);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:02'), []);
        assert.deepEqual(store.findSystems('dns_name', 'web1-storage.lab.example'), []);
        assert.deepEqual(store.findSystems('hostname', 'web1'), []);
        assert.deepEqual(store.findSystems('ip_address', '10.1.0.11'), ['db1']);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:21'), ['web1']);
        assert.deepEqual(store.findSystems('ip_address', '10.0.0.11'), ['web1']);
        assert.deepEqual(store.findSystems('dns_name', 'web1.lab.example'), ['web1']);
        assert.deepEqual(store.findSystems('hostname', 'web1-new'), ['web1']);
      });

      it('drops every key of a deleted system and re-adds them when it comes back', () => {
        seed();
        const web2 = store.getItem('system', 'web2')!;
        store.deleteItem('system', 'web2');
        for (const [key, value] of [['mac_address', '52:54:00:aa:00:03'], ['mac_address', '52:54:00:aa:00:04'],
          ['ip_address', '10.9.0.12'], ['dns_name', 'web2.lab.example'], ['hostname', 'web2']] as Array<[SystemKey, string]>) {
          assert.deepEqual(store.findSystems(key, value), [], `${key}=${value}`);
        }
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:01'), ['web1']);
        store.putItem('system', web2);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:04'), ['web2']);
      });

      it('the same value on two interfaces of one system is reported once', () => {
        store.putItem('system', makeSystem('s', {
          eth0: makeInterface('52:54:00:aa:00:31', '10.0.0.1'),
          bond0: makeInterface('52:54:00:AA:00:31', '10.0.0.1'),
        }));
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:31'), ['s']);
        assert.deepEqual(store.findSystems('ip_address', '10.0.0.1'), ['s']);
      });
    });

    describe('findReferrers', () => {
      const cases: Array<[ItemType, RefField]> = [
        ['profile', 'distro'], ['profile', 'parent'], ['profile', 'menu'],
        ['system', 'profile'], ['system', 'image'], ['image', 'menu'], ['menu', 'parent'],
      ];
      for (const [type, field] of cases) {
        it(`${type}.${field}`, () => {
          store.putItem(type, makeItem('r2', { [field]: 'target' }));
          store.putItem(type, makeItem('r1', { [field]: 'target' }));
          store.putItem(type, makeItem('other', { [field]: 'elsewhere' }));
          store.putItem(type, makeItem('inherits', { [field]: '<<inherit>>' }));
          store.putItem(type, makeItem('empty', { [field]: '' }));
          // Same name and field on a different type must not be reported.
          const otherType: ItemType = type === 'repo' ? 'distro' : 'repo';
          store.putItem(otherType, makeItem('x', { [field]: 'target' }));
          assert.deepEqual(store.findReferrers(type, field, 'target'), ['r1', 'r2']);
          assert.deepEqual(store.findReferrers(type, field, 'elsewhere'), ['other']);
          assert.deepEqual(store.findReferrers(type, field, 'TARGET'), []);
          assert.deepEqual(store.findReferrers(type, field, '<<inherit>>'), []);
          assert.deepEqual(store.findReferrers(type, field, ''), []);
        });
      }

      it('follows changes and deletes', () => {
        store.putItem('profile', makeItem('p', { distro: 'd1', parent: '', menu: 'm' }));
        store.putItem('profile', { ...store.getItem('profile', 'p')!, distro: 'd2', menu: '' });
        assert.deepEqual(store.findReferrers('profile', 'distro', 'd1'), []);
        assert.deepEqual(store.findReferrers('profile', 'distro', 'd2'), ['p']);
        assert.deepEqual(store.findReferrers('profile', 'menu', 'm'), []);
        // A sub-profile switching from distro to parent.
        store.putItem('profile', { ...store.getItem('profile', 'p')!, distro: '<<inherit>>', parent: 'base' });
        assert.deepEqual(store.findReferrers('profile', 'distro', 'd2'), []);
        assert.deepEqual(store.findReferrers('profile', 'parent', 'base'), ['p']);
        store.deleteItem('profile', 'p');
        assert.deepEqual(store.findReferrers('profile', 'parent', 'base'), []);
      });
    });

    describe('transactions', () => {
      it('commits every write together and returns the callback value', () => {
        const r = store.transaction(() => {
          store.putItem('distro', makeItem('d'));
          store.putItem('profile', makeItem('p', { distro: 'd' }));
          return 42;
        });
        assert.equal(r, 42);
        assert.deepEqual(store.findReferrers('profile', 'distro', 'd'), ['p']);
      });

      it('writes are visible inside the transaction before it commits', () => {
        store.transaction(() => {
          store.putItem('system', makeSystem('s', { eth0: makeInterface('52:54:00:aa:00:41') }));
          assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:41'), ['s']);
          assert.deepEqual(store.listNames('system'), ['s']);
        });
      });

      it('rolls back everything on throw, index rows and lastModified included', () => {
        const old = makeSystem('keep', { eth0: makeInterface('52:54:00:aa:00:51', '10.0.0.51') }, { hostname: 'keep', profile: 'p0', mtime: 100 });
        store.putItem('system', old);
        store.putUser({ name: 'u0', passwordHash: 'h', createdAt: 1 });
        const boom = new Error('boom');
        assert.throws(() => store.transaction(() => {
          store.putItem('system', makeSystem('new', { eth0: makeInterface('52:54:00:aa:00:52', '10.0.0.52') }, { hostname: 'new', profile: 'p1', mtime: 500 }));
          store.putItem('system', { ...old, hostname: 'renamed', profile: 'p2', interfaces: {}, mtime: 600 });
          store.deleteItem('system', 'keep');
          store.putItem('distro', makeItem('d', { mtime: 700 }));
          store.putUser({ name: 'u1', passwordHash: 'h', createdAt: 2 });
          throw boom;
        }), (e) => e === boom);
        assert.deepEqual(store.listNames('system'), ['keep']);
        assert.deepEqual(store.getItem('system', 'keep'), old);
        assert.deepEqual(store.listNames('distro'), []);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:52'), []);
        assert.deepEqual(store.findSystems('hostname', 'new'), []);
        assert.deepEqual(store.findSystems('hostname', 'renamed'), []);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:51'), ['keep']);
        assert.deepEqual(store.findSystems('hostname', 'keep'), ['keep']);
        assert.deepEqual(store.findReferrers('system', 'profile', 'p0'), ['keep']);
        assert.deepEqual(store.findReferrers('system', 'profile', 'p1'), []);
        assert.deepEqual(store.findReferrers('system', 'profile', 'p2'), []);
        assert.equal(store.lastModified(), 100);
        assert.deepEqual(store.listUsers(), ['u0']);
        assert.deepEqual(store.itemsSince('system', 100), []);
      });

      it('a failing put inside a transaction rolls the whole transaction back', () => {
        const a = makeItem('a');
        store.putItem('distro', a);
        assertCode(() => store.transaction(() => {
          store.putItem('distro', makeItem('b'));
          store.putItem('distro', { ...makeItem('c'), uid: a.uid });
        }), 'STORE_CONFLICT');
        assert.deepEqual(store.listNames('distro'), ['a']);
      });

      it('refuses an async callback and commits nothing', () => {
        assert.throws(() => store.transaction(() => {
          store.putItem('distro', makeItem('d'));
          return Promise.resolve(1);
        }), TypeError);
        assert.deepEqual(store.listNames('distro'), []);
      });

      it('nested transactions commit with the outer one', () => {
        store.transaction(() => {
          store.putItem('distro', makeItem('outer'));
          const v = store.transaction(() => {
            store.putItem('distro', makeItem('inner'));
            return 'v';
          });
          assert.equal(v, 'v');
        });
        assert.deepEqual(store.listNames('distro'), ['inner', 'outer']);
      });

      it('an outer throw undoes the inner transaction too', () => {
        assert.throws(() => store.transaction(() => {
          store.transaction(() => store.putItem('system', makeSystem('inner', { eth0: makeInterface('52:54:00:aa:00:61') })));
          throw new Error('outer fails');
        }), /outer fails/);
        assert.deepEqual(store.listNames('system'), []);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:61'), []);
      });

      it('an inner throw caught by the outer callback undoes only the inner writes', () => {
        store.transaction(() => {
          store.putItem('distro', makeItem('before'));
          assert.throws(() => store.transaction(() => {
            store.putItem('system', makeSystem('inner', { eth0: makeInterface('52:54:00:aa:00:71') }));
            store.deleteItem('distro', 'before');
            throw new Error('inner fails');
          }), /inner fails/);
          assert.deepEqual(store.listNames('distro'), ['before']);
          store.putItem('distro', makeItem('after'));
        });
        assert.deepEqual(store.listNames('distro'), ['after', 'before']);
        assert.deepEqual(store.listNames('system'), []);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:71'), []);
      });

      it('the store stays usable after a rollback', () => {
        assert.throws(() => store.transaction(() => {
          store.putItem('distro', makeItem('x'));
          throw new Error('no');
        }));
        store.transaction(() => store.putItem('distro', makeItem('y')));
        assert.deepEqual(store.listNames('distro'), ['y']);
      });
    });

    describe('users', () => {
      it('puts, gets, replaces and lists users sorted', () => {
        assert.equal(store.getUser('admin'), undefined);
        assert.deepEqual(store.listUsers(), []);
        store.putUser({ name: 'zed', passwordHash: 'h-z', createdAt: 2 });
        store.putUser({ name: 'admin', passwordHash: 'h-a', createdAt: 1 });
        assert.deepEqual(store.getUser('admin'), { name: 'admin', passwordHash: 'h-a', createdAt: 1 });
        store.putUser({ name: 'admin', passwordHash: 'h-a2', createdAt: 3 });
        assert.deepEqual(store.getUser('admin'), { name: 'admin', passwordHash: 'h-a2', createdAt: 3 });
        assert.deepEqual(store.listUsers(), ['admin', 'zed']);
      });
    });

    describe('leases', () => {
      const lease = (ip: string, mac: string, extra: Partial<LeaseRecord> = {}): LeaseRecord => ({
        ip, mac, clientKey: `mac:${mac}`, state: 'bound', expiresAt: 2000, updatedAt: 1000, subnet: '10.0.0.0/24', ...extra,
      });
      it('puts, gets, replaces and deletes by address; one row per address', () => {
        store.putLease(lease('10.0.0.5', '52:54:00:00:00:01', { relay: { giaddr: '10.0.1.1', circuitId: '0a0b' }, uuid: '00ff' }));
        assert.deepEqual(store.getLease('10.0.0.5'), lease('10.0.0.5', '52:54:00:00:00:01', { relay: { giaddr: '10.0.1.1', circuitId: '0a0b' }, uuid: '00ff' }));
        store.putLease(lease('10.0.0.5', '52:54:00:00:00:02', { state: 'offered' }));
        assert.equal(store.getLease('10.0.0.5')?.mac, '52:54:00:00:00:02');
        assert.equal(store.listLeases().length, 1);
        assert.equal(store.deleteLease('10.0.0.5'), true);
        assert.equal(store.deleteLease('10.0.0.5'), false);
        assert.equal(store.getLease('10.0.0.5'), undefined);
      });
      it('lists leases in numeric address order, not text order', () => {
        for (const ip of ['10.0.0.100', '10.0.0.9', '9.255.255.255', '10.0.0.10']) store.putLease(lease(ip, '52:54:00:00:00:01'));
        assert.deepEqual(store.listLeases().map((l) => l.ip), ['9.255.255.255', '10.0.0.9', '10.0.0.10', '10.0.0.100']);
      });
      it('a returned lease is a copy', () => {
        store.putLease(lease('10.0.0.7', '52:54:00:00:00:01'));
        const l = store.getLease('10.0.0.7')!;
        l.mac = 'changed';
        assert.equal(store.getLease('10.0.0.7')?.mac, '52:54:00:00:00:01');
      });
      it('lease writes roll back with the transaction', () => {
        store.putLease(lease('10.0.0.8', '52:54:00:00:00:01'));
        assert.throws(() => store.transaction(() => {
          store.putLease(lease('10.0.0.8', '52:54:00:00:00:09'));
          store.putLease(lease('10.0.0.9', '52:54:00:00:00:09'));
          throw new Error('boom');
        }), /boom/);
        assert.equal(store.getLease('10.0.0.8')?.mac, '52:54:00:00:00:01');
        assert.equal(store.getLease('10.0.0.9'), undefined);
      });
    });

    describe('boot events', () => {
      it('appends and lists by system, by MAC (any case) and both, oldest first', () => {
        store.appendBootEvent({ at: 1, kind: 'dhcp-offer', mac: '52:54:00:AA:00:01', system: 'a', ip: '10.0.0.5', detail: 'offered 10.0.0.5' });
        store.appendBootEvent({ at: 2, kind: 'tftp-file', mac: '52:54:00:aa:00:02', detail: 'pxelinux.0' });
        store.appendBootEvent({ at: 3, kind: 'tftp-file', mac: '52:54:00:aa:00:01', system: 'a', detail: 'pxelinux.cfg/01-52-54-00-aa-00-01' });
        assert.deepEqual(store.listBootEvents({ system: 'a' }).map((e) => e.at), [1, 3]);
        assert.deepEqual(store.listBootEvents({ mac: '52:54:00:aa:00:01' }).map((e) => e.at), [1, 3]);
        assert.deepEqual(store.listBootEvents({ mac: '52:54:00:AA:00:02' }), [{ at: 2, kind: 'tftp-file', mac: '52:54:00:aa:00:02', detail: 'pxelinux.0' }]);
        assert.deepEqual(store.listBootEvents({ system: 'a', mac: '52:54:00:aa:00:02' }), []);
        assert.deepEqual(store.listBootEvents({}).map((e) => e.at), [1, 2, 3]);
        assert.deepEqual(store.listBootEvents({ limit: 2 }).map((e) => e.at), [2, 3]);
        assert.deepEqual(store.listBootEvents({ system: 'a' })[0], { at: 1, kind: 'dhcp-offer', mac: '52:54:00:aa:00:01', system: 'a', ip: '10.0.0.5', detail: 'offered 10.0.0.5' });
      });

      it('keeps the newest events only: the limit, plus at most its slack', async () => {
        const limited = await make({ bootEventLimit: 20 });
        try {
          const s = limited.store;
          for (let at = 1; at <= 100; at++) {
            s.appendBootEvent({ at, kind: 'tftp-file', mac: `52:54:00:00:00:${at % 2 ? '01' : '02'}`, detail: `f${at}` });
            const all = s.listBootEvents({});
            assert.ok(all.length <= 20 + bootEventSlack(20), `${all.length} events kept after ${at}`);
            assert.deepEqual(all.map((e) => e.at), Array.from({ length: all.length }, (_, i) => at - all.length + 1 + i), 'the newest, in order');
          }
          assert.ok(s.listBootEvents({}).length >= 20);
          assert.deepEqual(s.listBootEvents({ mac: '52:54:00:00:00:02', limit: 3 }).map((e) => e.at), [96, 98, 100]);
          // A rolled-back append (and the prune it may have caused) leaves the events as they were.
          const before = s.listBootEvents({});
          assert.throws(() => s.transaction(() => {
            for (let at = 101; at <= 130; at++) s.appendBootEvent({ at, kind: 'tftp-file', detail: `f${at}` });
            throw new Error('boom');
          }), /boom/);
          assert.deepEqual(s.listBootEvents({}), before);
          for (let at = 131; at <= 200; at++) s.appendBootEvent({ at, kind: 'tftp-file', detail: `f${at}` });
          const after = s.listBootEvents({});
          assert.ok(after.length >= 20 && after.length <= 20 + bootEventSlack(20), `${after.length} events kept`);
          assert.equal(after.at(-1)?.at, 200);
        } finally {
          await limited.cleanup();
        }
      });
    });

    describe('install tokens', () => {
      it('puts, replaces, gets and deletes per system', () => {
        assert.equal(store.getInstallToken('s'), undefined);
        store.putInstallToken('s', 't1');
        store.putInstallToken('s', 't2');
        store.putInstallToken('other', 'x');
        assert.equal(store.getInstallToken('s'), 't2');
        assert.equal(store.deleteInstallToken('s'), true);
        assert.equal(store.deleteInstallToken('s'), false);
        assert.equal(store.getInstallToken('s'), undefined);
        assert.equal(store.getInstallToken('other'), 'x');
      });
    });

    describe('persistence', () => {
      (opts.persistent ? it : () => undefined)('keeps items, indexes, lastModified and users across reopen', async function () {
        assert.ok(reopen, 'a persistent store must provide reopen');
        store.putItem('distro', makeItem('d', { mtime: 1234.5 }));
        store.putItem('profile', makeItem('p', { distro: 'd', mtime: 1200 }));
        const sys = makeSystem('s', { eth0: makeInterface('52:54:00:AA:00:81', '10.0.0.81', 's.lab') }, { hostname: 's', profile: 'p', mtime: 1100 });
        store.putItem('system', sys);
        store.putItem('system', makeSystem('gone', { eth0: makeInterface('52:54:00:aa:00:82') }));
        store.deleteItem('system', 'gone');
        store.putUser({ name: 'admin', passwordHash: 'h', createdAt: 5 });
        store.putLease({ ip: '10.0.0.81', mac: '52:54:00:aa:00:81', clientKey: 'mac:52:54:00:aa:00:81', state: 'bound', expiresAt: 9, updatedAt: 8, subnet: '10.0.0.0/24' });
        store.appendBootEvent({ at: 7, kind: 'dhcp-ack', mac: '52:54:00:aa:00:81', system: 's', detail: 'acked' });
        store.putInstallToken('s', 'tok');
        const last = store.lastModified();
        store.close();
        store = await reopen!();
        assert.deepEqual(store.getItem('system', 's'), sys);
        assert.deepEqual(store.listNames('distro'), ['d']);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:81'), ['s']);
        assert.deepEqual(store.findSystems('mac_address', '52:54:00:aa:00:82'), []);
        assert.deepEqual(store.findReferrers('profile', 'distro', 'd'), ['p']);
        assert.deepEqual(store.findReferrers('system', 'profile', 'p'), ['s']);
        assert.equal(store.lastModified(), last);
        assert.deepEqual(store.getUser('admin'), { name: 'admin', passwordHash: 'h', createdAt: 5 });
        assert.equal(store.getLease('10.0.0.81')?.state, 'bound');
        assert.equal(store.listBootEvents({ system: 's' }).length, 1);
        assert.equal(store.getInstallToken('s'), 'tok');
      });
    });
  });
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRackforgeError(e), `expected RackforgeError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

function ifaceField(rec: ItemRecord, ifname: string, field: string): unknown {
  return (rec['interfaces'] as Record<string, Record<string, unknown>>)[ifname]?.[field];
}
