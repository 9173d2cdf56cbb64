import assert from 'node:assert/strict';
import { ManualClock, SeededRandom } from '../../lib/clock.ts';
import { isRackforgeError, type ErrorCode } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { InstallTokens, MemoryTokenStore } from '../../provisioner/boot/install-tokens.ts';
import type { RegistrationRequest } from './hypervisor.ts';
import { HypervisorRegistry, credentialMatches, hashSecret, type HypervisorRegistryDeps } from './hypervisor-registry.ts';
import { inventoryInstallIdentity, type SystemLike } from './install-identity.ts';
import { MemoryRegistryStore } from './memory-registry-store.ts';

const SYSTEMS: Record<string, SystemLike> = {
  node1: { interfaces: { eth0: { mac_address: '52:54:00:aa:00:01' } }, mgmt_parameters: { rack: 'r1', datacentre: 'dc1' } },
  node2: { interfaces: { eth0: { mac_address: '52:54:00:aa:00:02' } } },
  bare: { interfaces: { eth0: { mac_address: '52:54:00:aa:00:03' } } },
};
const MAC = { node1: '52:54:00:aa:00:01', node2: '52:54:00:aa:00:02', bare: '52:54:00:aa:00:03' } as const;

function setup(over: Partial<HypervisorRegistryDeps> = {}) {
  const clock = new ManualClock(1_700_000_000);
  const tokenStore = new MemoryTokenStore();
  const tokens = new InstallTokens(tokenStore, new SeededRandom(3));
  const store = new MemoryRegistryStore();
  const lines: string[] = [];
  const registry = new HypervisorRegistry({
    store, clock, random: new SeededRandom(9), log: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    identity: inventoryInstallIdentity({
      getSystem: (n) => SYSTEMS[n],
      checkIssued: (s, t) => tokens.checkIssued(s, t),
      hasInstall: (s) => tokenStore.get(s) !== undefined,
    }),
    ...over,
  });
  const request = (system: keyof typeof MAC, token: string, extra: Partial<RegistrationRequest> = {}): RegistrationRequest => ({
    system, hostname: system, macs: [MAC[system]], token, cpus: 8, memory_mb: 16384, disks: [{ name: 'vda', size_bytes: 10 ** 10 }], ...extra,
  });
  return { clock, tokens, store, lines, registry, request };
}

function refused(fn: () => unknown, code: ErrorCode, phrase: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRackforgeError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, phrase);
    return true;
  });
}

describe('HypervisorRegistry', () => {
  describe('register', () => {
    it('accepts an installed system: a 32-byte hex credential shown once, only its hash stored', () => {
      const { registry, tokens, store, request } = setup();
      const result = registry.register(request('node1', tokens.tokenFor('node1')));
      assert.equal(result.name, 'node1');
      assert.equal(result.heartbeat_seconds, 5);
      assert.match(result.credential, /^[0-9a-f]{64}$/);
      const stored = store.get('node1')!;
      assert.equal(stored.credential_hash, hashSecret(result.credential));
      assert.equal(JSON.stringify(stored).includes(result.credential), false);
      assert.deepEqual(registry.get('node1'), {
        name: 'node1', hostname: 'node1', mac: MAC.node1, macs: [MAC.node1], state: 'registered', cpus: 8, memory_mb: 16384,
        disks: [{ name: 'vda', size_bytes: 10 ** 10 }], rack: 'r1', datacentre: 'dc1',
        registered_at: '2023-11-14T22:13:20.000Z', last_heartbeat: '2023-11-14T22:13:20.000Z',
      });
    });

    it('takes rack and datacentre from the inventory (null when the system has none)', () => {
      const { registry, tokens, request } = setup();
      registry.register(request('node2', tokens.tokenFor('node2')));
      assert.equal(registry.get('node2')?.rack, null);
      assert.equal(registry.get('node2')?.datacentre, null);
    });

    it('accepts the retired token of a finished install (checkIssued)', () => {
      const { registry, tokens, request } = setup();
      const t = tokens.tokenFor('node1');
      tokens.retire('node1');
      assert.equal(registry.register(request('node1', t)).name, 'node1');
    });

    const refusals: Array<[string, (x: ReturnType<typeof setup>) => RegistrationRequest, ErrorCode, RegExp]> = [
      ['unknown system', (x) => ({ ...x.request('node1', x.tokens.tokenFor('node1')), system: 'ghost' }), 'CONTROLLER_UNKNOWN_SYSTEM', /^unknown system 'ghost'/],
      ['MAC mismatch', (x) => x.request('node1', x.tokens.tokenFor('node1'), { macs: [MAC.node2] }), 'CONTROLLER_MAC_MISMATCH', /^MAC mismatch/],
      ['no install', (x) => x.request('bare', x.tokens.tokenFor('node1')), 'CONTROLLER_NO_INSTALL', /^no install/],
      ['foreign token', (x) => { x.tokens.tokenFor('node1'); return x.request('node1', x.tokens.tokenFor('node2')); }, 'CONTROLLER_FOREIGN_TOKEN', /^foreign token/],
      ['made-up token', (x) => { x.tokens.tokenFor('node1'); return x.request('node1', '0'.repeat(32)); }, 'CONTROLLER_FOREIGN_TOKEN', /^foreign token/],
    ];
    for (const [label, req, code, phrase] of refusals) {
      it(`refuses ${label} with ${code}, storing nothing and logging the reason`, () => {
        const x = setup();
        const r = req(x);
        refused(() => x.registry.register(r, '10.0.0.9'), code, phrase);
        assert.deepEqual(x.store.list(), []);
        const line = x.lines.find((l) => l.includes('registration refused'));
        assert.ok(line, x.lines.join('\n'));
        assert.match(line, /remote="10\.0\.0\.9"/);
        assert.equal(line.includes(r.token), false, 'the token is never logged');
      });
    }

    it('refuses a replayed token although checkIssued still accepts it, keeping the first registration', () => {
      const { registry, tokens, store, request, lines } = setup();
      const token = tokens.tokenFor('node1');
      const first = registry.register(request('node1', token));
      assert.equal(tokens.checkIssued('node1', token), true);
      const before = store.get('node1');
      refused(() => registry.register(request('node1', token, { cpus: 1 })), 'CONTROLLER_REPLAYED_TOKEN', /^replayed token/);
      assert.deepEqual(store.get('node1'), before);
      assert.doesNotThrow(() => registry.heartbeat('node1', first.credential));
      assert.ok(lines.some((l) => /registration refused.*reason="replayed-token"/.test(l)), lines.join('\n'));
    });

    it('a reinstall (new token) replaces the record and the credential; the old credential stops working', () => {
      const { registry, tokens, clock, request } = setup();
      const t1 = tokens.tokenFor('node1');
      const first = registry.register(request('node1', t1));
      tokens.retire('node1');
      clock.advance(600);
      const t2 = tokens.tokenFor('node1');
      assert.notEqual(t2, t1);
      const second = registry.register(request('node1', t2, { cpus: 16, hostname: 'node1b' }));
      assert.notEqual(second.credential, first.credential);
      const view = registry.get('node1')!;
      assert.equal(view.cpus, 16);
      assert.equal(view.hostname, 'node1b');
      assert.equal(view.registered_at, '2023-11-14T22:23:20.000Z');
      assert.equal(registry.list().length, 1);
      refused(() => registry.heartbeat('node1', first.credential), 'CONTROLLER_UNAUTHENTICATED', /heartbeat refused/);
      assert.doesNotThrow(() => registry.heartbeat('node1', second.credential));
      // The first install's token is no longer issued: a foreign token now, not a replay.
      refused(() => registry.register(request('node1', t1)), 'CONTROLLER_FOREIGN_TOKEN', /^foreign token/);
    });

    it('logs the registration without the credential or the token', () => {
      const { registry, tokens, request, lines } = setup();
      const token = tokens.tokenFor('node1');
      const { credential } = registry.register(request('node1', token));
      const line = lines.find((l) => l.includes('hypervisor registered'));
      assert.ok(line, lines.join('\n'));
      assert.match(line, /system="node1"/);
      for (const l of lines) {
        assert.equal(l.includes(credential), false);
        assert.equal(l.includes(token), false);
        assert.equal(l.includes(hashSecret(credential)), false);
      }
    });
  });

  describe('heartbeat and state', () => {
    it('refuses a wrong, missing, malformed or another node\'s credential, and an unknown name', () => {
      const { registry, tokens, request } = setup();
      const a = registry.register(request('node1', tokens.tokenFor('node1')));
      const b = registry.register(request('node2', tokens.tokenFor('node2')));
      for (const [name, cred] of [['node1', b.credential], ['node1', undefined], ['node1', a.credential.toUpperCase()], ['node1', a.credential.slice(1)],
        ['node1', hashSecret(a.credential)], ['ghost', a.credential]] as const) {
        refused(() => registry.heartbeat(name, cred), 'CONTROLLER_UNAUTHENTICATED', /heartbeat refused/);
      }
    });

    it('is down once the last heartbeat is more than 3 × 5 s old, and back on the next heartbeat', () => {
      const { registry, tokens, clock, request, lines } = setup();
      const { credential } = registry.register(request('node1', tokens.tokenFor('node1')));
      assert.equal(registry.downAfterSeconds, 15);
      clock.advance(10);
      registry.heartbeat('node1', credential);
      assert.equal(registry.get('node1')?.last_heartbeat, '2023-11-14T22:13:30.000Z');
      clock.advance(15);
      assert.equal(registry.get('node1')?.state, 'registered');
      clock.advance(0.5);
      assert.equal(registry.get('node1')?.state, 'down');
      assert.equal(registry.list()[0]?.state, 'down');
      assert.equal(lines.some((l) => l.includes('heartbeats resumed')), false);
      clock.advance(100);
      registry.heartbeat('node1', credential);
      assert.equal(registry.get('node1')?.state, 'registered');
      assert.ok(lines.some((l) => /heartbeats resumed.*name="node1"/.test(l)), lines.join('\n'));
    });

    it('only the silent node goes down', () => {
      const { registry, tokens, clock, request } = setup();
      const a = registry.register(request('node1', tokens.tokenFor('node1')));
      registry.register(request('node2', tokens.tokenFor('node2')));
      for (let i = 0; i < 6; i++) { clock.advance(5); registry.heartbeat('node1', a.credential); }
      assert.deepEqual(registry.list().map((v) => [v.name, v.state]), [['node1', 'registered'], ['node2', 'down']]);
    });

    it('follows the configured intervals', () => {
      const { registry, tokens, clock, request } = setup({ heartbeatSeconds: 2 });
      assert.equal(registry.register(request('node1', tokens.tokenFor('node1'))).heartbeat_seconds, 2);
      clock.advance(6);
      assert.equal(registry.get('node1')?.state, 'registered');
      clock.advance(1);
      assert.equal(registry.get('node1')?.state, 'down');
      const custom = setup({ downAfterSeconds: 60 });
      custom.registry.register(custom.request('node1', custom.tokens.tokenFor('node1')));
      custom.clock.advance(59);
      assert.equal(custom.registry.get('node1')?.state, 'registered');
      custom.clock.advance(2);
      assert.equal(custom.registry.get('node1')?.state, 'down');
    });

    it('refuses non-positive intervals', () => {
      assert.throws(() => setup({ heartbeatSeconds: 0 }), (e: unknown) => isRackforgeError(e, 'CONFIG_INVALID'));
      assert.throws(() => setup({ downAfterSeconds: -1 }), (e: unknown) => isRackforgeError(e, 'CONFIG_INVALID'));
    });
  });

  describe('listing', () => {
    it('is sorted by name and undefined for an unknown one', () => {
      const { registry, tokens, request } = setup();
      registry.register(request('node2', tokens.tokenFor('node2')));
      registry.register(request('node1', tokens.tokenFor('node1')));
      assert.deepEqual(registry.list().map((v) => v.name), ['node1', 'node2']);
      assert.equal(registry.get('ghost'), undefined);
    });
  });
});

describe('credential hashing', () => {
  it('hashSecret is hex SHA-256', () => {
    assert.equal(hashSecret('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('credentialMatches only the credential itself', () => {
    const cred = 'ab'.repeat(32);
    const h = hashSecret(cred);
    assert.equal(credentialMatches(h, cred), true);
    assert.equal(credentialMatches(h, 'ac'.repeat(32)), false);
    assert.equal(credentialMatches(h, h), false);
    assert.equal(credentialMatches(h, undefined), false);
    assert.equal(credentialMatches(h, ''), false);
    assert.equal(credentialMatches('not-hex', cred), false);
  });
});
