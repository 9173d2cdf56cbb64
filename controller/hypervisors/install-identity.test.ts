import assert from 'node:assert/strict';
import { SeededRandom } from '../../lib/clock.ts';
import { InstallTokens, MemoryTokenStore } from '../../provisioner/boot/install-tokens.ts';
import { inventoryInstallIdentity, selectPlacement, selectSystemMacs, type SystemLike } from './install-identity.ts';

describe('inventoryInstallIdentity (over real InstallTokens)', () => {
  const systems: Record<string, SystemLike> = {
    node1: {
      interfaces: { eth0: { mac_address: '52:54:00:AA:00:01' }, eth1: { mac_address: '52:54:00:aa:00:02' }, eth2: { mac_address: '' } },
      mgmt_parameters: { rack: 'r1', datacentre: 'dc-east', role: 'hv' },
    },
    node2: { interfaces: { eth0: { mac_address: '52:54:00:bb:00:01' } }, mgmt_parameters: '<<inherit>>' },
    fresh: { interfaces: { eth0: { mac_address: '52:54:00:cc:00:01' } } },
  };
  function make() {
    const tokenStore = new MemoryTokenStore();
    const tokens = new InstallTokens(tokenStore, new SeededRandom(5));
    const t1 = tokens.tokenFor('node1');
    const t2 = tokens.tokenFor('node2');
    const identity = inventoryInstallIdentity({
      getSystem: (n) => systems[n],
      checkIssued: (s, t) => tokens.checkIssued(s, t),
      hasInstall: (s) => tokenStore.get(s) !== undefined,
    });
    return { tokens, t1, t2, identity };
  }

  it('accepts the system, one of its MACs (any case) and its token, with rack and datacentre', () => {
    const { identity, t1 } = make();
    assert.deepEqual(identity.systemForRegistration('node1', ['52:54:00:99:99:99', '52:54:00:aa:00:02'], t1), { ok: true, rack: 'r1', datacentre: 'dc-east' });
    assert.deepEqual(identity.systemForRegistration('node1', ['52-54-00-AA-00-01'], t1), { ok: true, rack: 'r1', datacentre: 'dc-east' });
  });

  it('accepts the token nopxe just retired (the install finished, the node boots from disk)', () => {
    const { identity, tokens, t2 } = make();
    tokens.retire('node2');
    assert.deepEqual(identity.systemForRegistration('node2', ['52:54:00:bb:00:01'], t2), { ok: true });
  });

  const table: Array<[string, (x: ReturnType<typeof make>) => [string, string[], string], string]> = [
    ['unknown system', ({ t1 }) => ['ghost', ['52:54:00:aa:00:01'], t1], 'unknown-system'],
    ['MAC of another system', ({ t1 }) => ['node1', ['52:54:00:bb:00:01'], t1], 'mac-mismatch'],
    ['no MAC of it at all', ({ t1 }) => ['node1', ['00:00:00:00:00:00'], t1], 'mac-mismatch'],
    ['system never installed', ({ t1 }) => ['fresh', ['52:54:00:cc:00:01'], t1], 'no-install'],
    ['token of another system', ({ t2 }) => ['node1', ['52:54:00:aa:00:01'], t2], 'foreign-token'],
    ['made-up token', () => ['node1', ['52:54:00:aa:00:01'], 'f'.repeat(32)], 'foreign-token'],
    ['token of an earlier install', (x) => { const old = x.t1; x.tokens.retire('node1'); x.tokens.tokenFor('node1'); return ['node1', ['52:54:00:aa:00:01'], old]; }, 'foreign-token'],
  ];
  for (const [label, args, reason] of table) {
    it(`refuses ${label}: ${reason}`, () => {
      const x = make();
      assert.deepEqual(x.identity.systemForRegistration(...args(x)), { ok: false, reason });
    });
  }

  it('without hasInstall, a never-installed system is a foreign token', () => {
    const identity = inventoryInstallIdentity({ getSystem: (n) => systems[n], checkIssued: () => false });
    assert.deepEqual(identity.systemForRegistration('fresh', ['52:54:00:cc:00:01'], 'a'.repeat(32)), { ok: false, reason: 'foreign-token' });
  });
});

describe('selectSystemMacs and selectPlacement', () => {
  it('reads interface MACs, skipping blank and malformed ones and odd shapes', () => {
    assert.deepEqual(selectSystemMacs({ interfaces: { a: { mac_address: 'AA:BB:CC:DD:EE:FF' }, b: { mac_address: 'x' }, c: null, d: [] } }), ['aa:bb:cc:dd:ee:ff']);
    assert.deepEqual(selectSystemMacs({ interfaces: '<<inherit>>' }), []);
    assert.deepEqual(selectSystemMacs({}), []);
  });
  it('reads rack and datacentre only when they are non-empty strings in a dict', () => {
    assert.deepEqual(selectPlacement({ mgmt_parameters: { rack: 'r1', datacentre: 7 } }), { rack: 'r1' });
    assert.deepEqual(selectPlacement({ mgmt_parameters: { rack: '', datacentre: 'dc' } }), { datacentre: 'dc' });
    assert.deepEqual(selectPlacement({ mgmt_parameters: 'rack: r1' }), {});
    assert.deepEqual(selectPlacement({ mgmt_parameters: ['r1'] }), {});
  });
});
