import assert from 'node:assert/strict';
import { isRackforgeError } from '../../lib/errors.ts';
import { bootWorld } from './boot-fixtures.ts';
import { selectBootTarget, type BootKey } from './boot-target.ts';

describe('selectBootTarget', () => {
  const w = bootWorld();
  const cases: Array<[string, BootKey, { kind: string; system?: string; profile?: string; distro?: string; netboot?: boolean; iface?: string }]> = [
    ['MAC in upper case', { mac: '52:54:00:AA:00:01' }, { kind: 'system', system: 'web01', profile: 'debian12_web', distro: 'debian12', netboot: true, iface: 'eth0' }],
    ['MAC with dashes', { mac: '52-54-00-aa-00-01' }, { kind: 'system', system: 'web01', iface: 'eth0' }],
    ['bare hex MAC', { mac: '525400aa0001' }, { kind: 'system', system: 'web01', iface: 'eth0' }],
    ['second interface', { mac: '52:54:00:aa:00:02' }, { kind: 'system', system: 'web01', iface: 'eth1' }],
    ['netboot off', { mac: '52:54:00:aa:00:03' }, { kind: 'system', system: 'db01', profile: 'rocky9-x86_64', distro: 'rocky9', netboot: false }],
    ['unknown MAC', { mac: 'de:ad:be:ef:00:01' }, { kind: 'unknown' }],
    ['malformed MAC', { mac: 'eth0' }, { kind: 'unknown' }],
    ['empty MAC', { mac: '' }, { kind: 'unknown' }],
    ['system by name', { system: 'ub01' }, { kind: 'system', system: 'ub01', distro: 'jammy', netboot: true }],
    ['unknown system', { system: 'nope' }, { kind: 'unknown' }],
    ['profile by name', { profile: 'debian12_web' }, { kind: 'profile', profile: 'debian12_web', distro: 'debian12' }],
    ['unknown profile', { profile: 'nope' }, { kind: 'unknown' }],
  ];
  for (const [label, key, want] of cases) {
    it(label, () => {
      const t = selectBootTarget(w.inv, key);
      assert.equal(t.kind, want.kind);
      if (t.kind === 'system') {
        assert.equal(t.system.name, want.system);
        if (want.profile) assert.equal(t.profile?.name, want.profile);
        if (want.distro) assert.equal(t.distro?.name, want.distro);
        if (want.netboot !== undefined) assert.equal(t.netboot, want.netboot);
        if (want.iface) assert.equal(t.interface, want.iface);
        assert.equal(t.blended['name'], t.system.name);
      } else if (t.kind === 'profile') {
        assert.equal(t.profile.name, want.profile);
        assert.equal(t.distro?.name, want.distro);
      }
    });
  }

  it('reports a broken chain instead of booting something else', () => {
    const w2 = bootWorld();
    const s = w2.inv.get('system', 'ub01')!;
    w2.store.putItem('system', { ...s, profile: 'gone' });
    assert.throws(() => selectBootTarget(w2.inv, { mac: '52:54:00:aa:00:04' }), (e: unknown) => isRackforgeError(e, 'ITEM_MISSING_REFERENCE'));
  });
});
