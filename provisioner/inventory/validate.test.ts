import assert from 'node:assert/strict';
import { isRackforgeError } from '../../lib/errors.ts';
import type { ErrorCode } from '../../lib/errors.ts';
import { modifyInterface, newRecord, setField } from './record.ts';
import type { FieldContext } from './record.ts';
import { SETTINGS_DEFAULTS } from './settings.ts';
import type { Settings } from './settings.ts';
import type { ItemRecord, ItemType, SystemKey } from './types.ts';
import { checkSystemUniqueness, validateForSave } from './validate.ts';
import type { ValidateDeps } from './validate.ts';

const CTX: FieldContext = { autoinstallTemplates: [] };
type Db = Record<ItemType, Record<string, ItemRecord>>;

function make(type: ItemType, name: string, fields: Record<string, unknown>): ItemRecord {
  let r = setField(type, newRecord(type, 1, `uid-${name}`), 'name', name, CTX);
  for (const [k, v] of Object.entries(fields)) r = setField(type, r, k, v, CTX);
  return r;
}

/** findSystems as the store implements it: any interface for mac/ip/dns, the record for hostname, case-insensitive. */
function deps(db: Db, settings: Settings = SETTINGS_DEFAULTS): ValidateDeps {
  return {
    lookup: (t, n) => db[t][n],
    settings,
    findSystems: (key: SystemKey, value: string) => Object.values(db.system).filter((s) => {
      const want = value.toLowerCase();
      if (key === 'hostname') return String(s['hostname']).toLowerCase() === want;
      return Object.values(s['interfaces'] as Record<string, Record<string, unknown>>).some((i) => String(i[key]).toLowerCase() === want);
    }).map((s) => s.name),
  };
}

function world(): Db {
  const db: Db = { distro: {}, profile: {}, system: {}, image: {}, repo: {}, menu: {} };
  db.distro['d1'] = make('distro', 'd1', { kernel: '/k', initrd: '/i' });
  db.profile['p1'] = make('profile', 'p1', { distro: 'd1' });
  db.menu['m1'] = make('menu', 'm1', {});
  db.repo['r1'] = make('repo', 'r1', {});
  db.image['i1'] = make('image', 'i1', {});
  db.system['other'] = modifyInterface(make('system', 'other', { profile: 'p1', hostname: 'shared' }), {
    'macaddress-eth0': 'aa:bb:cc:dd:ee:01', 'ipaddress-eth0': '10.0.0.1', 'dnsname-eth0': 'other.lab',
  });
  return db;
}

function refuses(type: ItemType, record: ItemRecord, d: ValidateDeps, code: ErrorCode, message: RegExp): void {
  assert.throws(() => validateForSave(type, record, d), (e: unknown) => {
    assert.ok(isRackforgeError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

describe('validateForSave', () => {
  it('accepts consistent records of every type', () => {
    const db = world();
    const d = deps(db);
    validateForSave('distro', db.distro['d1']!, d);
    validateForSave('profile', db.profile['p1']!, d);
    validateForSave('profile', make('profile', 'sub', { parent: 'p1', menu: 'm1', repos: 'r1' }), d);
    validateForSave('system', db.system['other']!, d);
    validateForSave('system', make('system', 'img', { image: 'i1' }), d);
    validateForSave('image', make('image', 'i2', { menu: 'm1' }), d);
    validateForSave('menu', make('menu', 'm2', { parent: 'm1' }), d);
    validateForSave('repo', db.repo['r1']!, d);
  });

  const bad: Array<[string, ItemType, () => ItemRecord, ErrorCode, RegExp]> = [
    ['no name', 'distro', () => newRecord('distro', 1, 'u'), 'ITEM_INVALID_FIELD', /Name is required/],
    ['bad name', 'distro', () => ({ ...newRecord('distro', 1, 'u'), name: 'a/b' }), 'ITEM_INVALID_FIELD', /Invalid characters in name/],
    ['system without profile or image', 'system', () => make('system', 's', {}), 'ITEM_INVALID_FIELD', /Error with system s - profile or image is required/],
    ['system with a missing profile', 'system', () => make('system', 's', { profile: 'badprofile' }), 'ITEM_MISSING_REFERENCE', /profile 'badprofile' not found/],
    ['system with a missing image', 'system', () => make('system', 's', { image: 'ghost' }), 'ITEM_MISSING_REFERENCE', /image 'ghost' not found/],
    ['system with profile and image', 'system', () => ({ ...make('system', 's', { profile: 'p1' }), image: 'i1' }), 'ITEM_INVALID_FIELD', /mutually exclusive/],
    ['profile without distro or parent', 'profile', () => make('profile', 'p', {}), 'ITEM_INVALID_FIELD', /Error with profile p - distro is required/],
    ['profile with a missing distro', 'profile', () => make('profile', 'p', { distro: 'nodistro' }), 'ITEM_MISSING_REFERENCE', /distro 'nodistro' not found/],
    ['profile with a missing parent', 'profile', () => make('profile', 'p', { parent: 'noparent' }), 'ITEM_MISSING_REFERENCE', /profile 'noparent' not found/],
    ['profile that is its own parent', 'profile', () => ({ ...make('profile', 'p', {}), parent: 'p' }), 'ITEM_INVALID_FIELD', /own parent/],
    ['profile with a missing menu', 'profile', () => make('profile', 'p', { distro: 'd1', menu: 'nomenu' }), 'ITEM_MISSING_REFERENCE', /menu 'nomenu' not found/],
    ['profile with a missing repo', 'profile', () => make('profile', 'p', { distro: 'd1', repos: 'r1 norepo' }), 'ITEM_MISSING_REFERENCE', /repo "norepo" is not defined/],
    ['image with a missing menu', 'image', () => make('image', 'i', { menu: 'nomenu' }), 'ITEM_MISSING_REFERENCE', /menu 'nomenu' not found/],
    ['menu with a missing parent', 'menu', () => make('menu', 'm', { parent: 'nomenu' }), 'ITEM_MISSING_REFERENCE', /menu 'nomenu' not found/],
  ];
  for (const [what, type, build, code, message] of bad) {
    it(`refuses ${what} (${code})`, () => refuses(type, build(), deps(world()), code, message));
  }

  it('refuses a profile whose ancestry loops', () => {
    const db = world();
    db.profile['pa'] = { ...make('profile', 'pa', {}), parent: 'pb' };
    db.profile['pb'] = { ...make('profile', 'pb', {}), parent: 'pa' };
    refuses('profile', db.profile['pa']!, deps(db), 'ITEM_INVALID_FIELD', /loop/);
  });
});

describe('system uniqueness', () => {
  const clash: Array<[string, Record<string, unknown>, RegExp]> = [
    ['MAC', { 'macaddress-eth0': 'AA:BB:CC:DD:EE:01' }, /MAC address duplicate found "aa:bb:cc:dd:ee:01"\. Object with the conflict has the name "other"/],
    ['IP', { 'ipaddress-eth1': '10.0.0.1' }, /IP address duplicate found "10\.0\.0\.1"\. Object with the conflict has the name "other"/],
    ['DNS name', { 'dnsname-eth0': 'OTHER.lab' }, /DNS name duplicate found "OTHER\.lab"\. Object with the conflict has the name "other"/],
  ];
  for (const [what, iface, message] of clash) {
    it(`refuses a duplicate ${what} naming the other system and the value`, () => {
      const s = modifyInterface(make('system', 'new', { profile: 'p1' }), iface);
      refuses('system', s, deps(world()), 'ITEM_DUPLICATE', message);
    });
  }
  it('ignores matches on the record\'s own name (re-saving an unchanged system)', () => {
    const db = world();
    validateForSave('system', db.system['other']!, deps(db));
  });
  it('honours allow_duplicate_macs / _ips / _hostnames', () => {
    const s = modifyInterface(make('system', 'new', { profile: 'p1' }), { 'macaddress-eth0': 'aa:bb:cc:dd:ee:01', 'ipaddress-eth0': '10.0.0.1', 'dnsname-eth0': 'other.lab' });
    const allow = { ...SETTINGS_DEFAULTS, allow_duplicate_macs: true, allow_duplicate_ips: true, allow_duplicate_hostnames: true };
    validateForSave('system', s, deps(world(), allow));
    refuses('system', s, deps(world(), { ...allow, allow_duplicate_ips: false }), 'ITEM_DUPLICATE', /IP address duplicate/);
  });
  it('keeps the system hostname unique too (unlike Cobbler), unless allow_duplicate_hostnames', () => {
    const s = modifyInterface(make('system', 'new', { profile: 'p1', hostname: 'shared' }), { 'macaddress-eth0': '' });
    refuses('system', s, deps(world()), 'ITEM_DUPLICATE', /hostname duplicate found "shared".*"other"/);
    validateForSave('system', s, deps(world(), { ...SETTINGS_DEFAULTS, allow_duplicate_hostnames: true }));
  });
  it('ignores empty values', () => {
    const s = modifyInterface(make('system', 'new', { profile: 'p1', hostname: '' }), { 'macaddress-eth0': '', 'ipaddress-eth0': '' });
    validateForSave('system', s, deps(world()));
  });
  it('checkSystemUniqueness can run on its own (e.g. at modify time)', () => {
    const s = modifyInterface(make('system', 'new', {}), { 'macaddress-eth9': 'aa:bb:cc:dd:ee:01' });
    assert.throws(() => checkSystemUniqueness(s, deps(world())), (e: unknown) => isRackforgeError(e, 'ITEM_DUPLICATE'));
  });
});
