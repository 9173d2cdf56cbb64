// The behaviour every RegistryStore must have. Each implementation's test file calls
// describeRegistryStoreContract once; a new implementation is done when this passes unchanged.
import assert from 'node:assert/strict';
import type { HypervisorRecord } from './hypervisor.ts';
import type { RegistryStore } from './registry-store.ts';

export function makeRecord(name: string, over: Partial<HypervisorRecord> = {}): HypervisorRecord {
  return {
    name,
    hostname: name,
    macs: ['52:54:00:00:00:01', '52:54:00:00:00:02'],
    cpus: 4,
    memory_mb: 8192,
    disks: [{ name: 'vda', size_bytes: 21_474_836_480 }, { name: 'vdb', size_bytes: 0 }],
    rack: 'r1',
    datacentre: 'dc1',
    registered_at: '2023-11-14T22:13:20.000Z',
    last_heartbeat: '2023-11-14T22:13:20.000Z',
    credential_hash: 'a'.repeat(64),
    ...over,
  };
}

const hashOf = (n: number): string => n.toString(16).padStart(64, '0');

export function describeRegistryStoreContract(
  name: string,
  make: () => Promise<{ store: RegistryStore; reopen?: () => Promise<RegistryStore>; cleanup: () => Promise<void> }>,
  /** Whether the implementation persists (then make() must provide reopen); volatile stores don't get that test. */
  opts: { persistent: boolean } = { persistent: false },
): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let store: RegistryStore;
    let reopen: (() => Promise<RegistryStore>) | undefined;
    let cleanup: () => Promise<void>;

    beforeEach(async () => { ({ store, reopen, cleanup } = await make()); });
    afterEach(async () => { await cleanup(); });

    it('gets what was registered, and undefined for an unknown name', () => {
      const r = makeRecord('node1');
      assert.equal(store.register(r, hashOf(1)), true);
      assert.deepEqual(store.get('node1'), r);
      assert.equal(store.get('node2'), undefined);
      assert.equal(store.get('NODE1'), undefined);
    });

    it('keeps null rack and datacentre, empty disks, and large disk sizes', () => {
      const r = makeRecord('n', { rack: null, datacentre: null, disks: [], macs: ['aa:bb:cc:dd:ee:ff'] });
      store.register(r, hashOf(1));
      assert.deepEqual(store.get('n'), r);
      const big = makeRecord('m', { disks: [{ name: 'nvme0n1', size_bytes: Number.MAX_SAFE_INTEGER }] });
      store.register(big, hashOf(2));
      assert.deepEqual(store.get('m'), big);
    });

    it('lists every record sorted by name (byte order)', () => {
      ['node10', 'node2', 'Node3', 'a-1', 'a.1', 'node1'].forEach((n, i) => store.register(makeRecord(n), hashOf(i + 1)));
      assert.deepEqual(store.list().map((r) => r.name), ['Node3', 'a-1', 'a.1', 'node1', 'node10', 'node2']);
      assert.deepEqual(store.list().find((r) => r.name === 'node2'), makeRecord('node2'));
    });

    it('lists nothing when empty', () => {
      assert.deepEqual(store.list(), []);
    });

    it('refuses a used token hash and writes nothing', () => {
      assert.equal(store.register(makeRecord('node1'), hashOf(7)), true);
      const other = makeRecord('node1', { cpus: 99, credential_hash: 'b'.repeat(64) });
      assert.equal(store.register(other, hashOf(7)), false);
      assert.deepEqual(store.get('node1'), makeRecord('node1'));
      // The token is used whatever name comes with it.
      assert.equal(store.register(makeRecord('node2'), hashOf(7)), false);
      assert.equal(store.get('node2'), undefined);
    });

    it('replaces the record of the same name under a new token', () => {
      store.register(makeRecord('node1'), hashOf(1));
      const again = makeRecord('node1', {
        hostname: 'renamed', cpus: 8, macs: ['52:54:00:00:00:09'], disks: [], rack: null,
        registered_at: '2023-11-15T00:00:00.000Z', last_heartbeat: '2023-11-15T00:00:00.000Z', credential_hash: 'c'.repeat(64),
      });
      assert.equal(store.register(again, hashOf(2)), true);
      assert.deepEqual(store.get('node1'), again);
      assert.equal(store.list().length, 1);
    });

    it('touch sets last_heartbeat only, and reports an unknown name', () => {
      store.register(makeRecord('node1'), hashOf(1));
      assert.equal(store.touch('node1', '2023-11-14T22:14:00.500Z'), true);
      assert.deepEqual(store.get('node1'), makeRecord('node1', { last_heartbeat: '2023-11-14T22:14:00.500Z' }));
      assert.equal(store.touch('ghost', '2023-11-14T22:14:00.500Z'), false);
      assert.equal(store.get('ghost'), undefined);
    });

    it('hands out copies: changing a returned record changes nothing stored', () => {
      const r = makeRecord('node1');
      store.register(r, hashOf(1));
      r.cpus = 1000;
      r.macs.push('00:00:00:00:00:00');
      const got = store.get('node1') as HypervisorRecord;
      assert.equal(got.cpus, 4);
      got.disks[0]!.size_bytes = 1;
      (store.list()[0] as HypervisorRecord).macs.length = 0;
      assert.deepEqual(store.get('node1'), makeRecord('node1'));
    });

    if (opts.persistent) it('keeps records and used tokens across a reopen', async () => {
      assert.ok(reopen, 'a persistent store must provide reopen');
      store.register(makeRecord('node1'), hashOf(1));
      store.touch('node1', '2023-11-14T22:15:00.000Z');
      store.close();
      const again = await reopen();
      assert.deepEqual(again.get('node1'), makeRecord('node1', { last_heartbeat: '2023-11-14T22:15:00.000Z' }));
      assert.equal(again.register(makeRecord('node1', { cpus: 2 }), hashOf(1)), false);
      assert.equal(again.register(makeRecord('node1', { cpus: 2 }), hashOf(2)), true);
      assert.equal(again.get('node1')?.cpus, 2);
    });
  });
}
