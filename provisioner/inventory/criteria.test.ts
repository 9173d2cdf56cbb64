import assert from 'node:assert/strict';
import fc from 'fast-check';
import { globToRegExp, indexableCriterion, matchesCriteria, normaliseCriteria } from './criteria.ts';
import { modifyInterface, newRecord, setField } from './record.ts';
import type { FieldContext } from './record.ts';
import type { ItemRecord, ItemType } from './types.ts';

const CTX: FieldContext = { autoinstallTemplates: [] };

function make(type: ItemType, name: string, fields: Record<string, unknown>): ItemRecord {
  let r = setField(type, newRecord(type, 1, `uid-${name}`), 'name', name, CTX);
  for (const [k, v] of Object.entries(fields)) r = setField(type, r, k, v, CTX);
  return r;
}

function systems(): ItemRecord[] {
  const web01 = modifyInterface(make('system', 'Web01', {
    profile: 'p1', hostname: 'web01.lab', netboot_enabled: true, mgmt_classes: 'one two three', kernel_options: 'a=1 c=3 c=4 quiet', status: 'Production',
  }), {
    'macaddress-eth0': 'AA:BB:CC:00:00:01', 'ipaddress-eth0': '10.0.0.1', 'dnsname-eth0': 'web01.lab',
    'macaddress-eth1': 'aa:bb:cc:00:00:11', 'ipaddress-eth1': '10.0.1.1', 'static-eth1': true,
  });
  const web02 = modifyInterface(make('system', 'web02', { profile: 'p2', netboot_enabled: false, mgmt_classes: 'one', virt_ram: 512 }), {
    'macaddress-bond0.100': 'aa:bb:cc:00:00:02', 'ipaddress-bond0.100': '10.0.0.2',
  });
  const db01 = make('system', 'db01', { image: 'i1' });
  return [web01, web02, db01];
}

function find(criteria: Record<string, unknown>, type: ItemType = 'system', items: ItemRecord[] = systems()): string[] {
  const c = normaliseCriteria(type, criteria);
  return items.filter((r) => matchesCriteria(type, r, c)).map((r) => r.name);
}

describe('find criteria', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['exact name, case-insensitive', { name: 'web01' }, ['Web01']],
    ['exact name misses a prefix', { name: 'web' }, []],
    ['glob *', { name: 'web*' }, ['Web01', 'web02']],
    ['glob ?', { name: '?eb02' }, ['web02']],
    ['glob [..]', { name: 'web0[2-9]' }, ['web02']],
    ['glob [!..]', { name: 'web0[!2]' }, ['Web01']],
    ['stored case does not matter', { status: 'production' }, ['Web01']],
    ['any interface matches (second interface)', { mac_address: 'AA:BB:CC:00:00:11' }, ['Web01']],
    ['interface field in a dotted interface', { ip_address: '10.0.0.2' }, ['web02']],
    ['glob on interface values', { ip_address: '10.0.0.*' }, ['Web01', 'web02']],
    ['a value equal to an interface name matches', { mac_address: 'bond0.100' }, ['web02']],
    ['"interface" matches interface names', { interface: 'eth1' }, ['Web01']],
    ['interface bools', { static: 'true' }, ['Web01']],
    ['alias mac', { mac: 'aa:bb:cc:00:00:01' }, ['Web01']],
    ['alias ip', { ip: '10.0.1.1' }, ['Web01']],
    ['alias kopts (dict k=v present)', { kopts: 'a=1' }, ['Web01']],
    ['dict value mismatch', { kernel_options: 'a=2' }, []],
    ['dict repeated keys', { kernel_options: 'c=3 c=4' }, ['Web01']],
    ['dict bare key', { kernel_options: 'quiet' }, ['Web01']],
    ['list: every token present', { mgmt_classes: 'one three' }, ['Web01']],
    ['list: a missing token fails', { mgmt_classes: 'one four' }, []],
    ['list: single token', { mgmt_classes: 'one' }, ['Web01', 'web02']],
    ['bool true words', { netboot_enabled: 'yes' }, ['Web01']],
    ['bool false', { netboot_enabled: 'false' }, ['web02', 'db01']],
    ['bool typed (Ansible)', { netboot_enabled: true }, ['Web01']],
    ['alias netboot-enabled', { 'netboot-enabled': '1' }, ['Web01']],
    ['numbers compare as text', { virt_ram: 512 }, ['web02']],
    ['raw <<inherit>> is matched literally', { virt_ram: '<<inherit>>' }, ['Web01', 'db01']],
    ['AND of keys', { name: 'web*', netboot_enabled: 'true' }, ['Web01']],
    ['"~" negates', { name: '~web01' }, ['web02', 'db01']],
    ['unknown field matches nothing', { nonsense: 'x' }, []],
    ['null only asks for presence', { profile: null }, ['Web01', 'web02', 'db01']],
    ['aliases kickstart/ks_meta are searchable', { kickstart: '<<inherit>>' }, ['Web01', 'web02', 'db01']],
    ['image field', { image: 'i1' }, ['db01']],
    ['empty criteria match everything', {}, ['Web01', 'web02', 'db01']],
  ];
  for (const [what, criteria, expected] of cases) {
    it(`${what}: ${JSON.stringify(criteria)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(find(criteria), expected));
  }

  it('interface keys are ordinary fields for other types', () => {
    const p = [make('profile', 'p1', { dhcp_tag: 'vlan5' }), make('profile', 'p2', {})];
    assert.deepEqual(find({ dhcp_tag: 'VLAN5' }, 'profile', p), ['p1']);
    assert.deepEqual(find({ 'dhcp-tag': 'vlan5' }, 'profile', p), ['p1']);
    assert.deepEqual(find({ inherit: '' }, 'profile', p), ['p1', 'p2']);
  });

  it('normaliseCriteria re-keys aliases and stringifies typed values', () => {
    assert.deepEqual(normaliseCriteria('system', { mac: 'x', kopts_post: 'a', enable_gpxe: true, boot_loader: 'grub', 'virt-cpus': 2, 'virt-ram': null }), {
      mac_address: 'x', kernel_options_post: 'a', enable_ipxe: 'true', boot_loaders: 'grub', virt_cpus: '2', virt_ram: null,
    });
    assert.deepEqual(normaliseCriteria('system', 'not a mapping'), {});
    assert.deepEqual(Object.keys(normaliseCriteria('system', { constructor: 'x' })), ['constructor']);
  });

  it('globToRegExp follows fnmatch', () => {
    assert.ok(globToRegExp('a*b').test('axxb'));
    assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('axb'));
    assert.ok(globToRegExp('[').test('['));
    assert.ok(globToRegExp('x(y)+').test('x(y)+'));
    assert.ok(!globToRegExp('a[z-a]').test('ab'), 'an out-of-order range matches nothing instead of throwing');
  });

  it('never throws, whatever the criteria', () => {
    const items = systems();
    const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
    const keys = fc.oneof(fc.string(), fc.constantFrom('mac_address', 'kernel_options', 'mgmt_classes', 'netboot_enabled', 'interfaces', 'name', 'constructor', '__proto__', 'toString'));
    fc.assert(fc.property(fc.dictionary(keys, fc.oneof(fc.jsonValue(), fc.string())), (raw) => {
      const c = normaliseCriteria('system', raw);
      for (const r of items) matchesCriteria('system', r, c);
    }), { numRuns: 1000 });
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoNames);
  });
});

describe('indexableCriterion', () => {
  const cases: Array<[Record<string, unknown>, unknown]> = [
    [{ mac_address: 'AA:BB:CC:00:00:01' }, { key: 'mac_address', value: 'aa:bb:cc:00:00:01' }],
    [{ mac: 'aa:bb:cc:00:00:01', name: 'x*' }, { key: 'mac_address', value: 'aa:bb:cc:00:00:01' }],
    [{ ip_address: '10.0.0.1' }, { key: 'ip_address', value: '10.0.0.1' }],
    [{ ip: '10.0.0.1' }, { key: 'ip_address', value: '10.0.0.1' }],
    [{ dns_name: 'Web01.lab' }, { key: 'dns_name', value: 'web01.lab' }],
    [{ hostname: 'web01' }, { key: 'hostname', value: 'web01' }],
    [{ mac_address: 'aa:bb:*' }, undefined],
    [{ mac_address: '~aa:bb:cc:00:00:01' }, undefined],
    [{ mac_address: 'eth0' }, undefined],
    [{ ip_address: 'bond0' }, undefined],
    [{ dns_name: 'eth0' }, undefined],
    [{ name: 'web01' }, undefined],
    [{ hostname: '' }, undefined],
  ];
  for (const [criteria, expected] of cases) {
    it(`${JSON.stringify(criteria)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(indexableCriterion('system', normaliseCriteria('system', criteria)), expected));
  }
  it('only for systems', () => assert.equal(indexableCriterion('profile', { hostname: 'x' }), undefined));
  it('index candidates agree with a full scan', () => {
    const items = systems();
    const c = normaliseCriteria('system', { mac_address: 'aa:bb:cc:00:00:11', static: 'true' });
    const idx = indexableCriterion('system', c)!;
    const byIndex = items.filter((r) => JSON.stringify(r['interfaces']).toLowerCase().includes(idx.value)).filter((r) => matchesCriteria('system', r, c));
    assert.deepEqual(byIndex.map((r) => r.name), find({ mac_address: 'aa:bb:cc:00:00:11', static: 'true' }));
  });
});
