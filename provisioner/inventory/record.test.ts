import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RackforgeError, isRackforgeError } from '../../lib/errors.ts';
import type { ErrorCode } from '../../lib/errors.ts';
import { FIELDS, INTERFACE_FIELDS, wireKeys } from './fields.ts';
import {
  canonicalField, deleteInterface, hasField, modifyInterface, newRecord, redactSecrets, renameInterface, setField, toWire,
} from './record.ts';
import type { FieldContext } from './record.ts';
import { SETTINGS_DEFAULTS } from './settings.ts';
import { INHERIT, ITEM_TYPES } from './types.ts';
import type { ItemRecord, ItemType } from './types.ts';

const TEMPLATES = ['default.ks', 'sample.ks', 'test.ks', 'test.xml', 'test.seed'];

/** A tiny in-memory world: testdistro0 → testprofile0, testmenu0, testrepo0, testimage0. */
function world(): { db: Record<ItemType, Record<string, ItemRecord>>; ctx: FieldContext } {
  const db: Record<ItemType, Record<string, ItemRecord>> = { distro: {}, profile: {}, system: {}, image: {}, repo: {}, menu: {} };
  const lookup = (t: ItemType, n: string): ItemRecord | undefined => db[t][n];
  const base: FieldContext = { autoinstallTemplates: TEMPLATES };
  let d = newRecord('distro', 1, 'd0');
  d = setField('distro', d, 'name', 'testdistro0', base);
  d = setField('distro', d, 'kernel', '/srv/d/vmlinuz', base);
  d = setField('distro', d, 'initrd', '/srv/d/initrd.img', base);
  db.distro['testdistro0'] = d;
  db.menu['testmenu0'] = setField('menu', newRecord('menu', 1, 'm0'), 'name', 'testmenu0', base);
  db.repo['testrepo0'] = setField('repo', newRecord('repo', 1, 'r0'), 'name', 'testrepo0', base);
  db.image['testimage0'] = setField('image', newRecord('image', 1, 'i0'), 'name', 'testimage0', base);
  const ctx: FieldContext = { autoinstallTemplates: TEMPLATES, lookup, settings: SETTINGS_DEFAULTS };
  let p = setField('profile', newRecord('profile', 1, 'p0'), 'name', 'testprofile0', ctx);
  p = setField('profile', p, 'distro', 'testdistro0', ctx);
  db.profile['testprofile0'] = p;
  return { db, ctx };
}

function newSystem(ctx: FieldContext): ItemRecord {
  let s = newRecord('system', 100, 'uid-s');
  s = setField('system', s, 'name', 'testsystem0', ctx);
  return setField('system', s, 'profile', 'testprofile0', ctx);
}

function throwsCode(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRackforgeError(e, code), `expected ${code}, got ${String(e)}`);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

describe('newRecord', () => {
  for (const type of ITEM_TYPES) {
    it(`${type}: stores every field but the aliases, with uid and times`, () => {
      const r = newRecord(type, 1234.5, 'abc');
      assert.deepEqual(Object.keys(r), wireKeys(type).filter((k) => k !== 'kickstart' && k !== 'ks_meta'));
      assert.equal(r.uid, 'abc');
      assert.equal(r.ctime, 1234.5);
      assert.equal(r.mtime, 1234.5);
      assert.equal(r.name, '');
    });
  }
  it('profile defaults follow the settings they come from', () => {
    const p = newRecord('profile', 1, 'u');
    assert.equal(p['enable_ipxe'], false);
    assert.equal(p['enable_menu'], true);
    assert.equal(p['virt_auto_boot'], true);
    assert.equal(p['virt_type'], 'kvm');
    assert.equal(p['virt_disk_driver'], 'raw');
    const q = newRecord('profile', 1, 'u', { ...SETTINGS_DEFAULTS, enable_menu: false, default_virt_type: 'QEMU' });
    assert.equal(q['enable_menu'], false);
    assert.equal(q['virt_type'], 'qemu');
  });
  it('a new system has no interfaces and netboot disabled', () => {
    const s = newRecord('system', 1, 'u');
    assert.deepEqual(s['interfaces'], {});
    assert.equal(s['netboot_enabled'], false);
    assert.equal(s['owners'], INHERIT);
  });
});

describe('toWire', () => {
  it('adds the kickstart/ks_meta aliases from the stored fields', () => {
    const { ctx } = world();
    let s = newSystem(ctx);
    s = setField('system', s, 'autoinstall', 'sample.ks', ctx);
    s = setField('system', s, 'autoinstall_meta', 'tree=http://x', ctx);
    const w = toWire('system', s);
    assert.equal(w['kickstart'], 'sample.ks');
    assert.deepEqual(w['ks_meta'], { tree: 'http://x' });
    assert.deepEqual(Object.keys(w), wireKeys('system'));
  });
  it('fills missing fields and interface fields with defaults and drops unknown keys', () => {
    const partial = { name: 'x', uid: 'u', ctime: 1, mtime: 1, junk: 1, interfaces: { eth0: { mac_address: 'aa:bb:cc:dd:ee:ff', junk: 2 } } } as unknown as ItemRecord;
    const w = toWire('system', partial);
    assert.deepEqual(Object.keys(w), wireKeys('system'));
    const eth0 = (w['interfaces'] as Record<string, Record<string, unknown>>)['eth0']!;
    assert.deepEqual(Object.keys(eth0), INTERFACE_FIELDS.map((f) => f.name));
    assert.equal(eth0['mac_address'], 'aa:bb:cc:dd:ee:ff');
    assert.equal(eth0['interface_type'], 'na');
  });
  it('does not share structure with the record', () => {
    const r = newRecord('distro', 1, 'u');
    const w = toWire('distro', r);
    (w['kernel_options'] as Record<string, unknown>)['x'] = '1';
    assert.deepEqual(r['kernel_options'], {});
  });
});

describe('redactSecrets', () => {
  it('blanks power_pass and nothing else', () => {
    const { ctx } = world();
    const s = setField('system', newSystem(ctx), 'power_pass', 'hunter2', ctx);
    const r = redactSecrets('system', toWire('system', s));
    assert.equal(r['power_pass'], '');
    assert.deepEqual({ ...r, power_pass: 'hunter2' }, toWire('system', s));
    assert.equal(toWire('system', s)['power_pass'], 'hunter2');
  });
});

// Cobbler v3.3.7 tests/xmlrpcapi/system_test.py: test_create_system_positive, verbatim values.
const POSITIVE: Array<[string, unknown]> = [
  ['comment', 'test comment'],
  ['enable_ipxe', true],
  ['enable_ipxe', false],
  ['kernel_options', 'a=1 b=2 c=3 c=4 c=5 d e'],
  ['kernel_options_post', 'a=1 b=2 c=3 c=4 c=5 d e'],
  ['autoinstall', 'test.ks'],
  ['autoinstall', 'test.xml'],
  ['autoinstall', 'test.seed'],
  ['autoinstall_meta', 'a=1 b=2 c=3 c=4 c=5 d e'],
  ['mgmt_classes', 'one two three'],
  ['mgmt_parameters', '<<inherit>>'],
  ['name', 'testsystem0'],
  ['netboot_enabled', true],
  ['netboot_enabled', false],
  ['owners', 'user1 user2 user3'],
  ['profile', 'testprofile0'],
  ['repos_enabled', true],
  ['repos_enabled', false],
  ['status', 'development'],
  ['status', 'testing'],
  ['status', 'acceptance'],
  ['status', 'production'],
  ['proxy', 'testproxy'],
  ['server', '1.1.1.1'],
  ['virt_auto_boot', true],
  ['virt_auto_boot', false],
  ['virt_auto_boot', 'yes'],
  ['virt_auto_boot', 'no'],
  ['virt_cpus', '<<inherit>>'],
  ['virt_cpus', 1],
  ['virt_cpus', 2],
  ['virt_file_size', '<<inherit>>'],
  ['virt_file_size', 5],
  ['virt_file_size', 10],
  ['virt_disk_driver', '<<inherit>>'],
  ['virt_disk_driver', 'raw'],
  ['virt_disk_driver', 'qcow2'],
  ['virt_disk_driver', 'vdmk'],
  ['virt_ram', '<<inherit>>'],
  ['virt_ram', 256],
  ['virt_ram', 1024],
  ['virt_type', '<<inherit>>'],
  ['virt_type', 'xenpv'],
  ['virt_type', 'xenfv'],
  ['virt_type', 'qemu'],
  ['virt_type', 'kvm'],
  ['virt_type', 'vmware'],
  ['virt_type', 'openvz'],
  ['virt_path', '<<inherit>>'],
  ['virt_path', '/path/to/test'],
  ['virt_pxe_boot', true],
  ['virt_pxe_boot', false],
  ['power_type', 'ipmilanplus'],
  ['power_address', '127.0.0.1'],
  ['power_id', 'pmachine:lpar1'],
  ['power_pass', 'pass'],
  ['power_user', 'user'],
];

// test_create_system_negative, verbatim values, with the error code each maps to here.
const NEGATIVE: Array<[string, unknown, ErrorCode]> = [
  ['autoinstall', '/path/to/bad/autoinstall', 'ITEM_INVALID_FIELD'],
  ['mgmt_parameters', 'badyaml', 'ITEM_INVALID_FIELD'],
  ['profile', 'badprofile', 'ITEM_MISSING_REFERENCE'],
  ['boot_loaders', 'badloader', 'ITEM_INVALID_FIELD'],
  ['virt_cpus', 'a', 'ITEM_INVALID_FIELD'],
  ['virt_file_size', 'a', 'ITEM_INVALID_FIELD'],
  ['virt_ram', 'a', 'ITEM_INVALID_FIELD'],
  ['virt_type', 'bad', 'ITEM_INVALID_FIELD'],
  ['power_type', 'bla', 'ITEM_INVALID_FIELD'],
];

describe("setField: Cobbler's test_create_system_positive values", () => {
  for (const [field, value] of POSITIVE) {
    it(`accepts ${field} = ${JSON.stringify(value)}`, () => {
      const { ctx } = world();
      const before = newSystem(ctx);
      const snapshot = structuredClone(before);
      const after = setField('system', before, field, value, ctx);
      assert.deepEqual(before, snapshot, 'input not mutated');
      assert.notEqual(after, before);
    });
  }
});

describe("setField: Cobbler's test_create_system_negative values", () => {
  for (const [field, value, code] of NEGATIVE) {
    it(`refuses ${field} = ${JSON.stringify(value)} with ${code}`, () => {
      const { ctx } = world();
      throwsCode(() => setField('system', newSystem(ctx), field, value, ctx), code, new RegExp(field === 'profile' ? "profile 'badprofile' not found" : `^${field}: `));
    });
  }
});

describe('setField conversions', () => {
  const stored: Array<[ItemType, string, unknown, unknown]> = [
    ['system', 'kernel_options', 'a=1 b=2 c=3 c=4 c=5 d e', { a: '1', b: '2', c: ['3', '4', '5'], d: null, e: null }],
    ['system', 'owners', 'user1 user2 user3', ['user1', 'user2', 'user3']],
    ['system', 'owners', INHERIT, INHERIT],
    ['system', 'virt_auto_boot', 'yes', true],
    ['system', 'virt_auto_boot', INHERIT, INHERIT],
    ['system', 'virt_cpus', '<<inherit>>', 0],
    ['system', 'virt_cpus', '4', 4],
    ['system', 'virt_ram', '<<inherit>>', INHERIT],
    ['system', 'virt_ram', '', 0],
    ['system', 'virt_file_size', '12.5', 12.5],
    ['system', 'virt_file_size', '', 0],
    ['system', 'virt_type', 'KVM', 'kvm'],
    ['system', 'virt_path', '', INHERIT],
    ['system', 'server', '', INHERIT],
    ['system', 'filename', '  grub/x.efi ', 'grub/x.efi'],
    ['system', 'filename', '', INHERIT],
    ['system', 'enable_ipxe', INHERIT, false],
    ['system', 'netboot_enabled', 'on', true],
    ['system', 'gateway', '10.0.0.1', '10.0.0.1'],
    ['system', 'gateway', '', ''],
    ['system', 'name_servers', '10.0.0.1 2001:db8::1', ['10.0.0.1', '2001:db8::1']],
    ['system', 'name_servers', '', ''],
    ['system', 'name_servers_search', 'example.com lab.local', ['example.com', 'lab.local']],
    ['system', 'serial_device', '0', 0],
    ['system', 'serial_baud_rate', '115200', 115200],
    ['system', 'serial_baud_rate', 'disabled', -1],
    ['system', 'mgmt_parameters', 'a: 1\nb:\n  c: [x, y]\n', { a: 1, b: { c: ['x', 'y'] } }],
    ['system', 'mgmt_parameters', '{"a": "x"}', { a: 'x' }],
    ['system', 'mgmt_parameters', '', {}],
    ['system', 'mgmt_parameters', { k: 'v' }, { k: 'v' }],
    ['system', 'status', 'anything goes', 'anything goes'],
    ['system', 'boot_loaders', 'grub pxe', ['grub', 'pxe']],
    ['system', 'boot_loaders', '', []],
    ['system', 'boot_loaders', INHERIT, INHERIT],
    ['system', 'autoinstall', '', ''],
    ['system', 'autoinstall', INHERIT, INHERIT],
    ['system', 'hostname', 'node01.lab', 'node01.lab'],
    ['system', 'comment', 42, '42'],
    ['distro', 'arch', 'AARCH64', 'aarch64'],
    ['distro', 'breed', 'RedHat', 'redhat'],
    ['distro', 'boot_loaders', 'grub ipxe', ['grub', 'ipxe']],
    ['distro', 'tree_build_time', 1700000000, 1700000000],
    ['image', 'image_type', 'ISO', 'iso'],
    ['image', 'image_type', 'virt_clone', 'virt-clone'],
    ['image', 'file', 'user@host:/images/x.iso', 'user@host:/images/x.iso'],
    ['image', 'network_count', '', 1],
    ['repo', 'breed', 'YUM', 'yum'],
    ['repo', 'mirror_type', 'metalink', 'metalink'],
    ['repo', 'priority', '99', 99],
    ['repo', 'yumopts', 'a=1 a=2', { a: '2' }],
    ['profile', 'virt_cpus', INHERIT, 0],
    ['profile', 'enable_menu', 'no', false],
    ['profile', 'filename', INHERIT, ''],
    ['profile', 'virt_bridge', 'br0', 'br0'],
    ['profile', 'repos', 'testrepo0', ['testrepo0']],
    ['menu', 'display_name', 'Main menu', 'Main menu'],
  ];
  for (const [type, field, input, expected] of stored) {
    it(`${type}.${field} ${JSON.stringify(input)} is stored as ${JSON.stringify(expected)}`, () => {
      const { ctx } = world();
      const rec = type === 'system' ? newSystem(ctx) : setField(type, newRecord(type, 1, 'u'), 'name', 'x', ctx);
      assert.deepEqual(setField(type, rec, field, input, ctx)[field], expected);
    });
  }

  const refused: Array<[ItemType, string, unknown, ErrorCode]> = [
    ['system', 'name', 'a/b', 'ITEM_INVALID_FIELD'],
    ['system', 'name', '', 'ITEM_INVALID_FIELD'],
    ['system', 'name', 'has space', 'ITEM_INVALID_FIELD'],
    ['system', 'name', 5, 'ITEM_INVALID_FIELD'],
    ['system', 'virt_cpus', -1, 'ITEM_INVALID_FIELD'],
    ['system', 'virt_cpus', 1.5, 'ITEM_INVALID_FIELD'],
    ['system', 'virt_ram', '1.5', 'ITEM_INVALID_FIELD'],
    ['system', 'virt_file_size', -2, 'ITEM_INVALID_FIELD'],
    ['system', 'virt_disk_driver', 'floppy', 'ITEM_INVALID_FIELD'],
    ['system', 'gateway', '10.0.0.256', 'ITEM_INVALID_FIELD'],
    ['system', 'gateway', '255.255.255.0', 'ITEM_INVALID_FIELD'],
    ['system', 'gateway', '10.0.0.1/24', 'ITEM_INVALID_FIELD'],
    ['system', 'next_server_v6', 'not-v6', 'ITEM_INVALID_FIELD'],
    ['system', 'name_servers', 'ns.example.com', 'ITEM_INVALID_FIELD'],
    ['system', 'name_servers_search', 'bad_domain!', 'ITEM_INVALID_FIELD'],
    ['system', 'serial_device', -2, 'ITEM_INVALID_FIELD'],
    ['system', 'serial_baud_rate', 12345, 'ITEM_INVALID_FIELD'],
    ['system', 'power_address', 'a;rm -rf /', 'ITEM_INVALID_FIELD'],
    ['system', 'autoinstall', '../etc/passwd', 'ITEM_INVALID_FIELD'],
    ['system', 'image', 'noimage', 'ITEM_MISSING_REFERENCE'],
    ['system', 'parent', 'nothing', 'ITEM_MISSING_REFERENCE'],
    ['system', 'netboot_enabled', null, 'ITEM_INVALID_FIELD'],
    ['system', 'mgmt_parameters', '- a\n- b', 'ITEM_INVALID_FIELD'],
    ['system', 'mgmt_parameters', 42, 'ITEM_INVALID_FIELD'],
    ['system', 'kernel_options', ['a=1'], 'ITEM_INVALID_FIELD'],
    ['system', 'kernel_options', "a='unterminated", 'ITEM_INVALID_FIELD'],
    ['system', 'uid', 'x', 'ITEM_INVALID_FIELD'],
    ['system', 'ctime', 5, 'ITEM_INVALID_FIELD'],
    ['system', 'depth', 5, 'ITEM_INVALID_FIELD'],
    ['system', 'is_subobject', true, 'ITEM_INVALID_FIELD'],
    ['system', 'nonsense', 'x', 'ITEM_UNKNOWN_FIELD'],
    ['system', 'distro', 'x', 'ITEM_UNKNOWN_FIELD'],
    ['distro', 'kickstart', 'x', 'ITEM_UNKNOWN_FIELD'],
    ['distro', 'arch', 'sparc', 'ITEM_INVALID_FIELD'],
    ['distro', 'breed', 'beos', 'ITEM_INVALID_FIELD'],
    ['distro', 'kernel', '', 'ITEM_INVALID_FIELD'],
    ['distro', 'initrd', '', 'ITEM_INVALID_FIELD'],
    ['distro', 'boot_loaders', 'grub yaboot', 'ITEM_INVALID_FIELD'],
    ['distro', 'remote_boot_kernel', 'ftp://h/vmlinuz', 'ITEM_INVALID_FIELD'],
    ['distro', 'remote_grub_kernel', '(http,h)/k', 'ITEM_INVALID_FIELD'],
    ['image', 'image_type', 'floppy', 'ITEM_INVALID_FIELD'],
    ['image', 'file', 'http://host/x.iso', 'ITEM_INVALID_FIELD'],
    ['image', 'file', 'relative/x.iso', 'ITEM_INVALID_FIELD'],
    ['image', 'menu', 'nomenu', 'ITEM_MISSING_REFERENCE'],
    ['repo', 'priority', 100, 'ITEM_INVALID_FIELD'],
    ['repo', 'breed', '', 'ITEM_INVALID_FIELD'],
    ['repo', 'mirror_type', 'ftp', 'ITEM_INVALID_FIELD'],
    ['profile', 'distro', 'nodistro', 'ITEM_MISSING_REFERENCE'],
    ['profile', 'parent', 'x', 'ITEM_INVALID_FIELD'],
    ['profile', 'repos', 'norepo', 'ITEM_MISSING_REFERENCE'],
    ['profile', 'menu', 'nomenu', 'ITEM_MISSING_REFERENCE'],
    ['menu', 'parent', 'nomenu', 'ITEM_MISSING_REFERENCE'],
  ];
  for (const [type, field, input, code] of refused) {
    it(`${type}.${field} ${JSON.stringify(input)} is refused with ${code}`, () => {
      const { ctx } = world();
      const rec = type === 'system' ? newSystem(ctx) : setField(type, newRecord(type, 1, 'u'), 'name', 'x', ctx);
      throwsCode(() => setField(type, rec, field, input, ctx), code);
    });
  }

  it('messages name the field and the value', () => {
    const { ctx } = world();
    throwsCode(() => setField('system', newSystem(ctx), 'virt_cpus', 'a', ctx), 'ITEM_INVALID_FIELD', /^virt_cpus: 'a' is not an integer$/);
  });
  it('writing kickstart / ks_meta writes autoinstall / autoinstall_meta (legacy clients)', () => {
    const { ctx } = world();
    const s = setField('system', setField('system', newSystem(ctx), 'kickstart', 'sample.ks', ctx), 'ks_meta', 'a=1', ctx);
    assert.equal(s['autoinstall'], 'sample.ks');
    assert.deepEqual(s['autoinstall_meta'], { a: '1' });
    assert.ok(!('kickstart' in s) && !('ks_meta' in s));
    assert.equal(canonicalField('distro', 'ks_meta'), 'autoinstall_meta');
  });
  it('hasField knows fields and aliases per type', () => {
    assert.ok(hasField('system', 'kickstart') && hasField('repo', 'ks_meta') && !hasField('repo', 'kickstart'));
    assert.ok(hasField('profile', 'virt_bridge') && !hasField('system', 'virt_bridge'));
  });
  it('parent writes on distro, image and repo are accepted and ignored', () => {
    for (const type of ['distro', 'image', 'repo'] as const) {
      const r = newRecord(type, 1, 'u');
      assert.equal(setField(type, r, 'parent', 'whatever', { autoinstallTemplates: [] })['parent'], '');
    }
  });
  it('internal callers may write read-only fields', () => {
    const r = setField('profile', newRecord('profile', 1, 'u'), 'is_subobject', true, { autoinstallTemplates: [], allowReadonly: true });
    assert.equal(r['is_subobject'], true);
  });
  it('without a lookup, references are not checked', () => {
    const r = setField('system', newRecord('system', 1, 'u'), 'profile', 'later', { autoinstallTemplates: [] });
    assert.equal(r['profile'], 'later');
  });
  it('profile and image are mutually exclusive on systems; "delete" clears', () => {
    const { ctx } = world();
    let s = newSystem(ctx);
    assert.equal(s['depth'], 2);
    s = setField('system', s, 'image', 'testimage0', ctx);
    assert.equal(s['profile'], '');
    assert.equal(s['depth'], 1);
    s = setField('system', s, 'profile', 'testprofile0', ctx);
    assert.equal(s['image'], '');
    assert.equal(setField('system', s, 'profile', 'delete', ctx)['profile'], '');
  });
  it('sub-profile filename: "" inherits under a parent profile', () => {
    const { ctx } = world();
    let sub = setField('profile', newRecord('profile', 1, 'u'), 'name', 'sub', ctx);
    sub = setField('profile', sub, 'parent', 'testprofile0', ctx);
    assert.equal(sub['depth'], 2);
    assert.equal(setField('profile', sub, 'filename', '', ctx)['filename'], INHERIT);
  });
  it('boot_loaders must be a subset of the parent\'s resolved loaders', () => {
    const { db, ctx } = world();
    db.distro['testdistro0'] = setField('distro', db.distro['testdistro0']!, 'arch', 'aarch64', ctx);
    const s = newSystem(ctx);
    assert.deepEqual(setField('system', s, 'boot_loaders', 'grub', ctx)['boot_loaders'], ['grub']);
    throwsCode(() => setField('system', s, 'boot_loaders', 'pxe', ctx), 'ITEM_INVALID_FIELD', /supported: grub\)/);
  });
  it('remote_boot_kernel computes remote_grub_kernel', () => {
    const d = setField('distro', newRecord('distro', 1, 'u'), 'remote_boot_kernel', 'http://10.0.0.1/d/vmlinuz', { autoinstallTemplates: [] });
    assert.equal(d['remote_grub_kernel'], '(http,10.0.0.1)/d/vmlinuz');
    assert.equal(setField('distro', d, 'remote_boot_kernel', '', { autoinstallTemplates: [] })['remote_grub_kernel'], '');
  });
  it('os_version is only kept once a breed is set', () => {
    let d = newRecord('distro', 1, 'u');
    const ctx = { autoinstallTemplates: [] };
    assert.equal(setField('distro', d, 'os_version', 'rhel9', ctx)['os_version'], '');
    d = setField('distro', d, 'breed', 'redhat', ctx);
    assert.equal(setField('distro', d, 'os_version', 'RHEL9', ctx)['os_version'], 'rhel9');
  });
  it('mac "random" uses the injected generator', () => {
    const s = modifyInterface(newRecord('system', 1, 'u'), { 'mac_address-eth0': 'random' }, { autoinstallTemplates: [], randomMac: () => '00:16:3E:00:00:01' });
    assert.equal((s['interfaces'] as Record<string, Record<string, unknown>>)['eth0']!['mac_address'], '00:16:3e:00:00:01');
    throwsCode(() => modifyInterface(newRecord('system', 1, 'u'), { 'mac_address-eth0': 'random' }), 'ITEM_INVALID_FIELD');
  });
  it('writing interfaces directly rebuilds the named interfaces ({} clears, like Cobbler)', () => {
    const ctx = { autoinstallTemplates: [] };
    let s = modifyInterface(newRecord('system', 1, 'u'), { 'macaddress-eth0': 'aa:bb:cc:dd:ee:01', 'macaddress-eth1': 'aa:bb:cc:dd:ee:02' });
    s = setField('system', s, 'interfaces', { eth1: { ip_address: '10.0.0.9', bogus: 1 } }, ctx);
    const ifs = s['interfaces'] as Record<string, Record<string, unknown>>;
    assert.equal(ifs['eth0']!['mac_address'], 'aa:bb:cc:dd:ee:01');
    assert.equal(ifs['eth1']!['mac_address'], '');
    assert.equal(ifs['eth1']!['ip_address'], '10.0.0.9');
    assert.deepEqual(setField('system', s, 'interfaces', {}, ctx)['interfaces'], {});
    throwsCode(() => setField('system', s, 'interfaces', { eth0: 'x' }, ctx), 'ITEM_INVALID_FIELD');
  });
});

function ifaces(r: ItemRecord): Record<string, Record<string, unknown>> {
  return r['interfaces'] as Record<string, Record<string, unknown>>;
}

describe('modifyInterface', () => {
  it('accepts the squashed (Ansible) and underscore (cobblerclient) key forms alike', () => {
    const a = modifyInterface(newRecord('system', 1, 'u'), {
      'macaddress-eth0': 'AA:BB:CC:DD:EE:FF', 'ipaddress-eth0': '10.0.0.5', 'dnsname-eth0': 'n1.lab', 'subnet-eth0': '255.255.255.0',
      'static-eth0': 'true', 'management-eth0': true, 'ifgateway-eth0': '10.0.0.1', 'cnames-eth0': 'a.lab b.lab',
      'interfacetype-eth0': 'BOND', 'connected_mode-eth0': 'yes',
    });
    const b = modifyInterface(newRecord('system', 1, 'u'), {
      'mac_address-eth0': 'aa:bb:cc:dd:ee:ff', 'ip_address-eth0': '10.0.0.5', 'dns_name-eth0': 'n1.lab', 'netmask-eth0': '255.255.255.0',
      'static-eth0': true, 'management-eth0': 'on', 'if_gateway-eth0': '10.0.0.1', 'cnames-eth0': ['a.lab', 'b.lab'],
      'interface_type-eth0': 'bond', 'connectedmode-eth0': true,
    });
    assert.deepEqual(a, b);
    const eth0 = ifaces(a)['eth0']!;
    assert.equal(eth0['mac_address'], 'aa:bb:cc:dd:ee:ff');
    assert.equal(eth0['netmask'], '255.255.255.0');
    assert.equal(eth0['static'], true);
    assert.equal(eth0['interface_type'], 'bond');
    assert.deepEqual(eth0['cnames'], ['a.lab', 'b.lab']);
    assert.equal(eth0['connected_mode'], true);
  });
  it('takes everything after the first "-" as the interface name (dashes and dots allowed)', () => {
    const s = modifyInterface(newRecord('system', 1, 'u'), {
      'mac_address-bond0.100': 'aa:bb:cc:dd:ee:01', 'macaddress-eth-mgmt-1': 'aa:bb:cc:dd:ee:02',
    });
    assert.deepEqual(Object.keys(ifaces(s)), ['bond0.100', 'eth-mgmt-1']);
    assert.equal(ifaces(s)['eth-mgmt-1']!['mac_address'], 'aa:bb:cc:dd:ee:02');
  });
  it('creates unknown interfaces with every default field, ignoring unknown field names', () => {
    const s = modifyInterface(newRecord('system', 1, 'u'), { 'bogus-eth3': 'x' });
    assert.deepEqual(Object.keys(ifaces(s)['eth3']!), INTERFACE_FIELDS.map((f) => f.name));
    assert.equal(ifaces(s)['eth3']!['virt_bridge'], '');
  });
  it('keeps other interfaces and fields, never mutates its input', () => {
    const one = modifyInterface(newRecord('system', 1, 'u'), { 'macaddress-eth0': 'aa:bb:cc:dd:ee:01', 'ipaddress-eth0': '10.0.0.1' });
    const snapshot = structuredClone(one);
    const two = modifyInterface(one, { 'ipaddress-eth0': '10.0.0.2', 'macaddress-eth1': 'aa:bb:cc:dd:ee:02' });
    assert.deepEqual(one, snapshot);
    assert.equal(ifaces(two)['eth0']!['mac_address'], 'aa:bb:cc:dd:ee:01');
    assert.equal(ifaces(two)['eth0']!['ip_address'], '10.0.0.2');
  });
  it('virt_bridge "" means inherit', () => {
    const s = modifyInterface(newRecord('system', 1, 'u'), { 'virtbridge-eth0': '' });
    assert.equal(ifaces(s)['eth0']!['virt_bridge'], INHERIT);
  });
  const bad: Array<[Record<string, unknown>, ErrorCode]> = [
    [{ macaddress: 'aa:bb:cc:dd:ee:ff' }, 'ITEM_INTERFACE'],
    [{ 'macaddress-': 'aa:bb:cc:dd:ee:ff' }, 'ITEM_INTERFACE'],
    [{ 'macaddress-eth0': 'zz:bb:cc:dd:ee:ff' }, 'ITEM_INVALID_FIELD'],
    [{ 'ipaddress-eth0': '10.0.0.5/24' }, 'ITEM_INVALID_FIELD'],
    [{ 'netmask-eth0': '255.0.255.0' }, 'ITEM_INVALID_FIELD'],
    [{ 'dnsname-eth0': 'bad_name' }, 'ITEM_INVALID_FIELD'],
    [{ 'interfacetype-eth0': 'wifi' }, 'ITEM_INVALID_FIELD'],
    [{ 'ipv6secondaries-eth0': 'nope' }, 'ITEM_INVALID_FIELD'],
    [{ 'static-eth0': null }, 'ITEM_INVALID_FIELD'],
  ];
  for (const [input, code] of bad) {
    it(`refuses ${JSON.stringify(input)} with ${code}`, () => throwsCode(() => modifyInterface(newRecord('system', 1, 'u'), input), code));
  }
  it('refuses a non-mapping', () => throwsCode(() => modifyInterface(newRecord('system', 1, 'u'), 'eth0'), 'ITEM_INTERFACE'));
  it('inherited member names are neither fields nor a way into Object.prototype', () => {
    for (const key of ['constructor-eth0', 'toString-eth0', 'mac_address-constructor', 'mac_address-__proto__']) {
      try {
        const s = modifyInterface(newRecord('system', 1, 'u'), { [key]: 'aa:bb:cc:dd:ee:ff' });
        assert.equal(Object.getPrototypeOf(s['interfaces']), Object.prototype);
      } catch (e) {
        assert.ok(e instanceof RackforgeError, String(e));
      }
      assertPrototypeClean();
    }
  });
});

describe('deleteInterface / renameInterface', () => {
  const two = (): ItemRecord => modifyInterface(newRecord('system', 1, 'u'), { 'macaddress-eth0': 'aa:bb:cc:dd:ee:01', 'macaddress-eth1': 'aa:bb:cc:dd:ee:02' });
  it('deletes by name or by {"interface": name}', () => {
    assert.deepEqual(Object.keys(ifaces(deleteInterface(two(), 'eth0'))), ['eth1']);
    assert.deepEqual(Object.keys(ifaces(deleteInterface(two(), { interface: 'eth1' }))), ['eth0']);
  });
  it('"" is a no-op; unknown names and odd values are refused', () => {
    assert.deepEqual(deleteInterface(two(), ''), two());
    throwsCode(() => deleteInterface(two(), 'eth9'), 'ITEM_INTERFACE', /Interface "eth9" does not exist/);
    throwsCode(() => deleteInterface(two(), { interface: 'eth9' }), 'ITEM_INTERFACE');
    throwsCode(() => deleteInterface(two(), 5), 'ITEM_INTERFACE');
  });
  it('renames, keeping the fields, and moves the interface last', () => {
    const r = renameInterface(two(), { interface: 'eth0', rename_interface: 'eth_new' });
    assert.deepEqual(Object.keys(ifaces(r)), ['eth1', 'eth_new']);
    assert.equal(ifaces(r)['eth_new']!['mac_address'], 'aa:bb:cc:dd:ee:01');
  });
  it('refuses renames from a missing or onto an existing interface', () => {
    throwsCode(() => renameInterface(two(), { interface: 'eth9', rename_interface: 'x' }), 'ITEM_INTERFACE', /does not exist/);
    throwsCode(() => renameInterface(two(), { interface: 'eth0', rename_interface: 'eth1' }), 'ITEM_INTERFACE', /already exists/);
    throwsCode(() => renameInterface(two(), 'eth0'), 'ITEM_INTERFACE');
  });
});

/** A client-controlled key must never write through to Object.prototype. */
function assertPrototypeClean(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_NAMES);
  assert.equal(({} as Record<string, unknown>)['mac_address'], undefined);
}
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

describe('setField property: only RackforgeError, never mutation', () => {
  afterEach(assertPrototypeClean);
  const interesting = fc.constantFrom<unknown>(
    '', ' ', INHERIT, 'delete', '~', 'None', 'a=1 b', "'", '"', '\\', 'true', '0', '-1', '1.5', 'NaN', 'grub', 'kvm',
    'aa:bb:cc:dd:ee:ff', '10.0.0.1', '::1', '__proto__', 'constructor', 'a: 1', '- x', '{a: [1, {b: 2}]}', '[', '{',
    'testprofile0', 'testdistro0', 'random', 'virt-clone', 'http://10.0.0.1/k', '(http,h)/k', null, true, false, 0, -1, 1e308,
    Number.NaN, Number.POSITIVE_INFINITY, [], [null], {}, { __proto__: null, a: 1 }, { '': 1 },
  );
  const anyValue = fc.oneof(interesting, fc.jsonValue(), fc.anything(), fc.string());
  const allFields = [...new Set(ITEM_TYPES.flatMap((t) => FIELDS[t].map((f) => f.name)))];
  const anyField = fc.oneof(fc.constantFrom(...allFields, 'modify_interface', 'nonsense', ''), fc.string());

  it('setField', () => {
    const { ctx } = world();
    const records = Object.fromEntries(ITEM_TYPES.map((t) => [t, t === 'system' ? newSystem(ctx) : newRecord(t, 1, 'u')])) as Record<ItemType, ItemRecord>;
    fc.assert(fc.property(fc.constantFrom(...ITEM_TYPES), anyField, anyValue, fc.boolean(), (type, field, value, withLookup) => {
      const rec = records[type];
      const snapshot = structuredClone(rec);
      try {
        const out = setField(type, rec, field, value, withLookup ? ctx : { autoinstallTemplates: TEMPLATES });
        assert.notEqual(out, rec);
        structuredClone(out);
      } catch (e) {
        if (!(e instanceof RackforgeError)) throw e;
      }
      assert.deepEqual(rec, snapshot);
    }), { numRuns: 3000 });
  });

  it('modifyInterface / deleteInterface / renameInterface', () => {
    const base = modifyInterface(newRecord('system', 1, 'u'), { 'macaddress-eth0': 'aa:bb:cc:dd:ee:01' });
    const keys = fc.oneof(fc.string(), fc.constantFrom(
      'macaddress-eth0', 'ip_address-eth1', 'subnet-x', '-', 'a-', '__proto__-x', 'mac_address-__proto__', 'constructor-eth0',
      'toString-eth0', 'mac_address-constructor', 'hasOwnProperty-x', 'valueOf-toString',
    ));
    fc.assert(fc.property(fc.dictionary(keys, anyValue), anyValue, (dict, other) => {
      const snapshot = structuredClone(base);
      for (const op of [() => modifyInterface(base, dict), () => deleteInterface(base, other), () => renameInterface(base, other)]) {
        try {
          const out = op();
          assert.equal(Object.getPrototypeOf(out['interfaces']), Object.prototype);
        } catch (e) {
          if (!(e instanceof RackforgeError)) throw e;
        }
      }
      assert.deepEqual(base, snapshot);
    }), { numRuns: 2000 });
  });
});
