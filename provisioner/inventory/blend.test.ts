import assert from 'node:assert/strict';
import { isRackforgeError } from '../../lib/errors.ts';
import { blend, blendedView, renderedView, resolveChain, resolveValue, resolvedRecord } from './blend.ts';
import { modifyInterface, newRecord, setField } from './record.ts';
import type { FieldContext } from './record.ts';
import { SETTINGS_DEFAULTS } from './settings.ts';
import { INHERIT } from './types.ts';
import type { ItemRecord, ItemType } from './types.ts';

type Db = Record<ItemType, Record<string, ItemRecord>>;
const CTX: FieldContext = { autoinstallTemplates: ['sample.ks', 'other.ks'] };

function make(type: ItemType, name: string, fields: Record<string, unknown>): ItemRecord {
  let r = setField(type, newRecord(type, 1, `uid-${name}`), 'name', name, CTX);
  for (const [k, v] of Object.entries(fields)) r = setField(type, r, k, v, CTX);
  return r;
}

/**
 * settings → d1 → p1 → p2 (sub-profile) → s1, plus image i1 → s2 and repos r1, r2.
 */
function world(): { db: Db; lookup: (t: ItemType, n: string) => ItemRecord | undefined } {
  const db: Db = { distro: {}, profile: {}, system: {}, image: {}, repo: {}, menu: {} };
  db.distro['d1'] = make('distro', 'd1', { kernel: '/k', initrd: '/i', kernel_options: 'a=1 b=2 quiet', autoinstall_meta: 'tree=http://x/d1 lang=en' });
  db.repo['r1'] = make('repo', 'r1', { priority: 10, mirror: 'http://m/r1' });
  db.repo['r2'] = make('repo', 'r2', { priority: 50, mirror: 'http://m/r2' });
  db.profile['p1'] = make('profile', 'p1', { distro: 'd1', kernel_options: '!b c=3', virt_ram: 1024, repos: ['r1', 'r2'], mgmt_parameters: 'role: web' });
  db.profile['p2'] = make('profile', 'p2', { parent: 'p1', kernel_options: 'd=4', autoinstall: 'sample.ks', owners: 'alice', autoinstall_meta: '!lang' });
  let s1 = make('system', 's1', { profile: 'p2', kernel_options: '!quiet e=5', hostname: 'node1' });
  s1 = modifyInterface(s1, { 'macaddress-eth0': 'aa:bb:cc:dd:ee:01', 'ipaddress-eth0': '10.0.0.5', 'virtbridge-eth0': '', 'mac_address-bond0.100': 'aa:bb:cc:dd:ee:02' });
  db.system['s1'] = s1;
  db.image['i1'] = make('image', 'i1', { file: '/images/x.iso', image_type: 'iso', virt_ram: 2048, kernel_options: 'img=1' });
  db.system['s2'] = make('system', 's2', { image: 'i1' });
  return { db, lookup: (t, n) => db[t][n] };
}

function code(e: unknown, c: Parameters<typeof isRackforgeError>[1]): boolean {
  return isRackforgeError(e, c);
}

describe('resolveChain', () => {
  it('walks distro → profile → sub-profile → system, root first', () => {
    const { db, lookup } = world();
    assert.deepEqual(resolveChain('system', db.system['s1']!, lookup).map((n) => `${n.type}:${n.record.name}`), ['distro:d1', 'profile:p1', 'profile:p2', 'system:s1']);
    assert.deepEqual(resolveChain('profile', db.profile['p2']!, lookup).map((n) => n.record.name), ['d1', 'p1', 'p2']);
    assert.deepEqual(resolveChain('distro', db.distro['d1']!, lookup).map((n) => n.record.name), ['d1']);
  });
  it('uses the image as the parent of an image-based system', () => {
    const { db, lookup } = world();
    assert.deepEqual(resolveChain('system', db.system['s2']!, lookup).map((n) => `${n.type}:${n.record.name}`), ['image:i1', 'system:s2']);
  });
  it('a missing parent is ITEM_MISSING_REFERENCE naming it', () => {
    const { lookup } = world();
    const orphan = { ...make('system', 'orphan', {}), profile: 'ghost' };
    assert.throws(() => resolveChain('system', orphan, lookup), (e: unknown) => code(e, 'ITEM_MISSING_REFERENCE') && /profile 'ghost' not found/.test((e as Error).message));
    const sub = { ...make('profile', 'sub', {}), parent: 'nope' };
    assert.throws(() => resolveChain('profile', sub, lookup), (e: unknown) => code(e, 'ITEM_MISSING_REFERENCE'));
  });
  it('detects loops', () => {
    const { db, lookup } = world();
    db.profile['pa'] = { ...make('profile', 'pa', {}), parent: 'pb' };
    db.profile['pb'] = { ...make('profile', 'pb', {}), parent: 'pa' };
    assert.throws(() => resolveChain('profile', db.profile['pa']!, lookup), (e: unknown) => code(e, 'ITEM_INVALID_FIELD') && /loop/.test((e as Error).message));
  });
  it('a system without profile or image is a chain of one', () => {
    const { lookup } = world();
    assert.equal(resolveChain('system', make('system', 'lonely', {}), lookup).length, 1);
  });
});

describe('blend (utils.blender)', () => {
  it('merges dicts top-down and applies "!key" removals at each level', () => {
    const { db, lookup } = world();
    const b = blendedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    assert.deepEqual(b['kernel_options'], { a: '1', c: '3', d: '4', e: '5' });
    assert.deepEqual(Object.keys(b['kernel_options'] as object), ['a', 'c', 'd', 'e']);
    assert.deepEqual(b['autoinstall_meta'], { tree: 'http://x/d1' });
  });
  it('resolves <<inherit>> from the nearest ancestor or settings, never overriding with it', () => {
    const { db, lookup } = world();
    const b = blendedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(b['virt_ram'], 1024);
    assert.equal(b['virt_cpus'], 1);
    assert.equal(b['virt_file_size'], 5.0);
    assert.equal(b['virt_type'], 'kvm');
    assert.equal(b['autoinstall'], 'sample.ks');
    assert.equal(b['kickstart'], 'sample.ks');
    assert.equal(b['server'], '127.0.0.1');
    assert.equal(b['next_server_v4'], '127.0.0.1');
    assert.deepEqual(b['boot_loaders'], ['grub', 'pxe', 'ipxe']);
    const left = Object.entries(b).filter(([, v]) => v === INHERIT).map(([k]) => k);
    assert.deepEqual(left, ['virt_bridge_eth0'], 'only the raw interface copies may keep <<inherit>>');
  });
  it('extends lists and keeps them unique (owners: settings default, then the sub-profile)', () => {
    const { db, lookup } = world();
    assert.deepEqual(blendedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS)['owners'], ['admin', 'alice']);
  });
  it('never overwrites `distro` with a sub-profile\'s empty value; adds the *_name keys', () => {
    const { db, lookup } = world();
    const b = blendedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(b['distro'], 'd1');
    assert.equal(b['distro_name'], 'd1');
    assert.equal(b['profile_name'], 'p2');
    assert.equal(b['system_name'], 's1');
    assert.equal(b['image_name'], undefined);
  });
  it('flattens every interface as <field>_<ifname>', () => {
    const { db, lookup } = world();
    const b = blendedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(b['mac_address_eth0'], 'aa:bb:cc:dd:ee:01');
    assert.equal(b['ip_address_eth0'], '10.0.0.5');
    assert.equal(b['mac_address_bond0.100'], 'aa:bb:cc:dd:ee:02');
    assert.equal(b['interface_type_eth0'], 'na');
    assert.equal(b['virt_bridge_eth0'], INHERIT, 'interfaces are flattened raw, as Cobbler does');
  });
  it('adds repo_data by priority, http_server, and mgmt_parameters ∪ autoinstall_meta', () => {
    const { db, lookup } = world();
    const b = blendedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    assert.deepEqual((b['repo_data'] as Array<Record<string, unknown>>).map((r) => r['name']), ['r2', 'r1']);
    assert.equal(b['http_server'], '127.0.0.1');
    assert.deepEqual(b['mgmt_parameters'], { role: 'web', tree: 'http://x/d1' });
    const b8080 = blendedView('system', db.system['s1']!, lookup, { ...SETTINGS_DEFAULTS, http_port: 8080, server: 'cobbler.lab' });
    assert.equal(b8080['http_server'], 'cobbler.lab:8080');
  });
  it('starts from the settings: every settings key is present', () => {
    const { db, lookup } = world();
    const b = blendedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    for (const k of Object.keys(SETTINGS_DEFAULTS)) assert.ok(k in b, k);
    assert.equal(b['name'], 's1');
  });
  it('an image-based system blends image then system', () => {
    const { db, lookup } = world();
    const b = blendedView('system', db.system['s2']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(b['virt_ram'], 2048);
    assert.deepEqual(b['kernel_options'], { img: '1' });
    assert.equal(b['distro_name'], 'N/A');
    assert.equal(b['image_name'], 'i1');
    assert.equal(b['profile_name'], '');
    assert.deepEqual(b['repo_data'], []);
    assert.equal(b['mac_address_eth0'], undefined);
  });
  it('profiles, distros and images get their own *_name keys', () => {
    const { db, lookup } = world();
    const p = blendedView('profile', db.profile['p2']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(p['profile_name'], 'p2');
    assert.equal(p['distro_name'], 'd1');
    assert.equal(p['kickstart'], 'sample.ks');
    const p1 = blendedView('profile', db.profile['p1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(p1['kickstart'], 'default.ks', 'a top-level profile inherits autoinstall from settings');
    const d = blendedView('distro', db.distro['d1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(d['distro_name'], 'd1');
    assert.deepEqual(d['boot_loaders'], ['grub', 'pxe', 'ipxe']);
    const i = blendedView('image', db.image['i1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(i['image_name'], 'i1');
    assert.equal(i['distro_name'], 'N/A');
  });
  it('a missing parent stops blending with ITEM_MISSING_REFERENCE', () => {
    const { lookup } = world();
    assert.throws(() => renderedView('system', { ...make('system', 'x', {}), profile: 'ghost' }, lookup, SETTINGS_DEFAULTS), (e: unknown) => code(e, 'ITEM_MISSING_REFERENCE'));
  });
  it('does not mutate records or settings', () => {
    const { db, lookup } = world();
    const before = structuredClone(db);
    const settings = structuredClone(SETTINGS_DEFAULTS);
    blendedView('system', db.system['s1']!, lookup, settings);
    renderedView('system', db.system['s1']!, lookup, settings);
    assert.deepEqual(db, before);
    assert.deepEqual(settings, SETTINGS_DEFAULTS);
  });
  it('works without a repo lookup (repo_data empty)', () => {
    const { db, lookup } = world();
    assert.deepEqual(blend(resolveChain('system', db.system['s1']!, lookup), SETTINGS_DEFAULTS)['repo_data'], []);
  });
});

describe('renderedView (get_<T>_as_rendered)', () => {
  it('flattens kernel options and file maps to kernel-args text, repos to words', () => {
    const { db, lookup } = world();
    const r = renderedView('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(r['kernel_options'], 'a=1 c=3 d=4 e=5 ');
    assert.equal(r['kernel_options_post'], '');
    assert.equal(r['autoinstall_meta'], 'tree=http://x/d1 ');
    assert.equal(r['repos'], 'r1 r2');
    assert.equal(r['template_files'], '');
    // Cobbler applies "!key" removals to autoinstall_meta only; its ks_meta alias keeps both keys.
    assert.deepEqual(r['ks_meta'], { tree: 'http://x/d1', lang: 'en', '!lang': null }, 'ks_meta stays a mapping, as in Cobbler');
    assert.deepEqual(r['mgmt_parameters'], { role: 'web', tree: 'http://x/d1' });
    assert.equal(r['system_name'], 's1');
  });
  it('repo text fields are flattened for repos too', () => {
    const { db, lookup } = world();
    db.repo['r3'] = make('repo', 'r3', { yumopts: 'gpgcheck=0 sslverify=0', environment: 'http_proxy=http://p:3128', rpm_list: 'a b' });
    const r = renderedView('repo', db.repo['r3']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(r['yumopts'], 'gpgcheck=0 sslverify=0 ');
    assert.equal(r['environment'], 'http_proxy=http://p:3128 ');
    assert.equal(r['rpm_list'], 'a b');
  });
});

describe('resolvedRecord (get_item resolved=True)', () => {
  it('keeps the raw shape with <<inherit>> replaced and dicts merged through the chain', () => {
    const { db, lookup } = world();
    const r = resolvedRecord('system', db.system['s1']!, lookup, SETTINGS_DEFAULTS);
    assert.equal(r['virt_ram'], 1024);
    assert.equal(r['virt_file_size'], 5.0);
    assert.equal(r['virt_type'], 'kvm');
    assert.deepEqual(r['owners'], ['alice'], 'the getter takes the nearest value; only blending extends lists');
    assert.deepEqual(r['kernel_options'], { a: '1', c: '3', d: '4', e: '5' });
    assert.equal(r['autoinstall'], 'sample.ks');
    assert.equal(r['kickstart'], 'sample.ks');
    assert.deepEqual(r['ks_meta'], r['autoinstall_meta']);
    assert.equal(r['next_server_v4'], '127.0.0.1');
    assert.equal(r['proxy'], '', 'system proxy falls back to settings.proxy_url_int');
    assert.equal(r['hostname'], 'node1');
    const eth0 = (r['interfaces'] as Record<string, Record<string, unknown>>)['eth0']!;
    assert.equal(eth0['virt_bridge'], 'virbr0');
    assert.ok(!JSON.stringify(r).includes(INHERIT));
  });
  it('resolves a top-level profile\'s autoinstall to settings.autoinstall', () => {
    const { db, lookup } = world();
    assert.equal(resolvedRecord('profile', db.profile['p1']!, lookup, SETTINGS_DEFAULTS)['autoinstall'], 'default.ks');
  });
  it('resolveValue: a distro\'s kernel_options merge the settings\' ones', () => {
    const { db, lookup } = world();
    const chain = resolveChain('distro', db.distro['d1']!, lookup);
    assert.deepEqual(resolveValue(chain, 0, 'kernel_options', { ...SETTINGS_DEFAULTS, kernel_options: { console: 'ttyS0', a: '0' } }), { console: 'ttyS0', a: '1', b: '2', quiet: null });
  });
});
