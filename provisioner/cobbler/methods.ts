// The Cobbler 3.3 remote surface, generated from a type × verb table plus the generic calls.
// Each entry: a Python-style signature (arity, defaults, TypeError texts), who may call it,
// and a handler on the ApiContext. The same table feeds system.listMethods and docs/api.md.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RackforgeError } from '../../lib/errors.ts';
import { authenticateUser } from '../auth/authenticate.ts';
import { ITEM_TYPES, isItemType, type ItemRecord, type ItemType, type Value } from '../inventory/types.ts';
import { toWire, redactSecrets } from '../inventory/record.ts';
import { flatten } from '../inventory/blend.ts';
import { setOwn } from '../inventory/convert.ts';
import { SECRET_SETTINGS } from '../inventory/settings.ts';
import { ARCHS, BREEDS, BOOT_LOADERS, FIELDS, secretFields } from '../inventory/fields.ts';
import { XmlRpcDouble, XmlRpcEncoded, encodeValue } from '../protocol/xmlrpc.ts';
import type { ApiContext } from './api-context.ts';
import { parseSignature, type Signature } from './signature.ts';
import { truthy, NONE, stripNone } from './python-values.ts';
import { DIRECT_USER } from './sessions.ts';
import { xapiObjectEdit } from './xapi-object-edit.ts';
import { deriveInstallStatus } from '../boot/install-status.ts';
import type { BootEvent } from '../boot/boot-events.ts';

export const COBBLER_VERSION = [3, 3, 7] as const;

/** open: anyone; read: open unless the read-auth setting closes it; write: a valid token. */
export type Access = 'open' | 'read' | 'write';

export interface Call {
  ctx: ApiContext;
  /** The user behind the token argument, when one was given and is valid. */
  user?: string;
  /** Any argument that is a live token (clients put tokens in odd positions). */
  privileged: boolean;
  encoded: EncodedRecordCache;
}

export interface MethodSpec {
  signature: Signature;
  access: Access;
  help: string;
  handler: (call: Call, args: unknown[]) => unknown | Promise<unknown>;
}

const plural = (t: ItemType) => `${t}s`;

function def(table: Map<string, MethodSpec>, name: string, params: string, access: Access, help: string,
  handler: MethodSpec['handler']): void {
  table.set(name, { signature: parseSignature(name, params), access, help, handler });
}

// ----- argument checks: wrong types are faults that name the argument -----

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new RackforgeError('API_ARGUMENTS', `${what} must be a string, got ${describe(v)}`);
  return v;
}

function itemType(v: unknown): ItemType {
  if (!isItemType(v)) throw new RackforgeError('API_ARGUMENTS', `internal error, collection name ${typeof v === 'string' ? v : describe(v)} not supported`);
  return v;
}

function dictArg(v: unknown, what: string): Record<string, Value> {
  if (v === null || v === undefined || v === '' || v === NONE) return {};
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date || Buffer.isBuffer(v)) {
    throw new RackforgeError('API_ARGUMENTS', `${what} must be a struct, got ${describe(v)}`);
  }
  return v as Record<string, Value>;
}

function numArg(v: unknown, what: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'bigint') return Number(n);
  if (typeof n !== 'number' || Number.isNaN(n)) throw new RackforgeError('API_ARGUMENTS', `${what} must be a number, got ${describe(v)}`);
  return n;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return 'an array';
  if (Buffer.isBuffer(v)) return 'base64 data';
  if (v instanceof Date) return 'a dateTime';
  return typeof v === 'object' ? 'a struct' : `${typeof v} ${JSON.stringify(v)}`;
}

/** A value as written through modify_*: XML-RPC types reduced to the stored JSON vocabulary. */
function toValue(v: unknown): Value {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) throw new RackforgeError('API_ARGUMENTS', 'base64 values are not accepted for object fields');
  if (Array.isArray(v)) return v.map(toValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, k, toValue(x));
    return out;
  }
  return (v === NONE ? null : v) as Value;
}

// ----- how records leave the server -----

/**
 * Encoded raw records, per record object: stores hand out the same frozen object until the
 * record changes, so the object itself is the cache key and a changed record misses.
 * One per dispatcher. A record with no secret set looks the same to every caller and is kept
 * once; one with a secret is kept twice, masked for callers without a token.
 */
export interface EncodedRecordCache { shared: WeakMap<ItemRecord, XmlRpcEncoded>; privileged: WeakMap<ItemRecord, XmlRpcEncoded>; public: WeakMap<ItemRecord, XmlRpcEncoded> }

export function newEncodedRecordCache(): EncodedRecordCache {
  return { shared: new WeakMap(), privileged: new WeakMap(), public: new WeakMap() };
}

function holdsSecret(type: ItemType, record: ItemRecord): boolean {
  return secretFields(type).some((f) => record[f] !== '' && record[f] !== undefined && record[f] !== null);
}

/** The encoded raw view of a stored record, from the cache or encoded now and kept. */
export function encodedRecord(cache: EncodedRecordCache, call: Pick<Call, 'ctx' | 'privileged'>, type: ItemType, record: ItemRecord): XmlRpcEncoded {
  const map = !holdsSecret(type, record) ? cache.shared : call.privileged ? cache.privileged : cache.public;
  let hit = map.get(record);
  if (!hit) {
    hit = new XmlRpcEncoded(encodeValue(stripNone(presentFresh(call, type, record, {}))));
    map.set(record, hit);
  }
  return hit;
}

function present(call: Call, type: ItemType, record: ItemRecord, opts: { flatten?: boolean; resolved?: boolean } = {}): unknown {
  if (!opts.flatten && !opts.resolved && Object.isFrozen(record)) return encodedRecord(call.encoded, call, type, record);
  return presentFresh(call, type, record, opts);
}

function presentFresh(call: Pick<Call, 'ctx' | 'privileged'>, type: ItemType, record: ItemRecord, opts: { flatten?: boolean; resolved?: boolean }): Record<string, unknown> {
  const r: ItemRecord = opts.resolved ? call.ctx.inventory.resolved(type, record) : record;
  const wire = call.privileged ? toWire(type, r) : redactSecrets(type, toWire(type, r));
  const out: Record<string, unknown> = opts.flatten ? flatten(wire) : wire;
  // Python sends float fields (ctime, mtime, …) as <double> even when whole.
  for (const f of FLOAT_FIELDS[type]) if (typeof out[f] === 'number') out[f] = new XmlRpcDouble(out[f] as number);
  return out;
}

const FLOAT_FIELDS = Object.fromEntries(ITEM_TYPES.map((t) => [t, FIELDS[t].filter((f) => f.kind === 'float').map((f) => f.name)])) as Record<ItemType, string[]>;

function settingsFor(call: Call): Record<string, Value> {
  const all = call.ctx.inventory.settings();
  if (call.privileged) return all;
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(all)) out[k] = SECRET_SETTINGS.includes(k) ? '********' : v;
  return out;
}

function findExpanded(call: Call, type: ItemType, criteria: unknown, sortField: unknown, expand: boolean): unknown[] {
  const items = call.ctx.inventory.find(type, dictArg(toValue(criteria), 'criteria'), typeof sortField === 'string' && sortField ? sortField : 'name');
  return expand ? items.map((r) => present(call, type, r)) : items.map((r) => r.name);
}

function paged(call: Call, type: ItemType, criteria: unknown, sortField: unknown, page: unknown, perPage: unknown) {
  const all = findExpanded(call, type, criteria, sortField, true);
  const per = Math.max(1, Math.floor(numArg(perPage ?? 25, 'items_per_page')));
  const numPages = Math.max(1, Math.ceil(all.length / per));
  const p = Math.min(Math.max(1, Math.floor(numArg(page ?? 1, 'page'))), numPages);
  const start = (p - 1) * per;
  const items = all.slice(start, start + per);
  return {
    items,
    pageinfo: {
      // Cobbler's pageinfo counts items from 0: start_item = per * (page - 1).
      page: p, prev_page: p > 1 ? p - 1 : NONE, next_page: p < numPages ? p + 1 : NONE,
      pages: Array.from({ length: numPages }, (_, i) => i + 1), num_pages: numPages, num_items: all.length,
      start_item: start, end_item: start + items.length, items_per_page: per,
      items_per_page_list: [10, 20, 50, 100, 200, 500],
    },
  };
}

async function loginWith(call: Call, user: unknown, password: unknown): Promise<string> {
  const u = typeof user === 'string' ? user : '';
  const p = typeof password === 'string' ? password : '';
  const fail = () => new RackforgeError('API_LOGIN_FAILED', `login failed (${u})`);
  if (u === '') {
    // Cobbler's local shared secret. An unset or empty secret never matches (CVE-2024-47533).
    const secret = call.ctx.sharedSecret;
    if (!secret || Buffer.byteLength(p) !== Buffer.byteLength(secret) || !timingSafeEqual(Buffer.from(p), Buffer.from(secret))) throw fail();
    return call.ctx.sessions.issue(DIRECT_USER);
  }
  if (!(await authenticateUser(call.ctx.inventory.store, u, p))) throw fail();
  return call.ctx.sessions.issue(u);
}


function randomMac(): string {
  // KVM/QEMU's locally administered prefix, as Cobbler's get_random_mac for virt types.
  const b = randomBytes(3);
  return ['52', '54', '00', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** Cobbler's remove_item of a missing name is a quiet no-op ("nothing to remove"). */
function removeIfPresent(c: Call, type: ItemType, name: string, recursive: boolean): void {
  if (c.ctx.inventory.get(type, name)) c.ctx.inventory.remove(type, name, recursive);
}

function templateInUse(c: Call, name: string): boolean {
  const inv = c.ctx.inventory;
  return (['profile', 'system', 'image'] as const).some((type) => inv.list(type).some((r) => r.autoinstall === name));
}

/** Cobbler's yum config: one [section] per repo of the blended object (missing objects give ""). */
function repoConfig(c: Call, type: 'profile' | 'system', name: string): string {
  const inv = c.ctx.inventory;
  if (!inv.get(type, name)) return '';
  const blended = inv.blended(type, name);
  const repos = Array.isArray(blended.repos) ? blended.repos.map(String) : [];
  const server = String(blended.http_server ?? blended.server ?? '');
  const out: string[] = [];
  for (const repoName of repos) {
    const repo = inv.get('repo', repoName);
    if (!repo) continue;
    const baseurl = repo.mirror_locally ? `http://${server}/cobbler/repo_mirror/${repoName}` : String(repo.mirror ?? '');
    out.push(`[${repoName}]`, `name=${repoName}`, `baseurl=${baseurl}`, 'enabled=1', `priority=${String(repo.priority ?? 99)}`, 'gpgcheck=0', '');
  }
  return out.join('\n');
}

const BACKGROUND_UNSUPPORTED = ['import', 'reposync', 'buildiso', 'replicate', 'hardlink', 'aclsetup', 'signature_update', 'mkloaders', 'power_system'];

/** A system's boot events, by its name and by each of its MACs, merged, oldest first. */
function systemBootEvents(c: Call, name: string): BootEvent[] {
  const sys = c.ctx.inventory.require('system', name);
  const macs = new Set<string>();
  const ifs = sys['interfaces'];
  if (ifs && typeof ifs === 'object' && !Array.isArray(ifs)) {
    for (const i of Object.values(ifs as Record<string, unknown>)) {
      const m = (i as Record<string, unknown> | null)?.['mac_address'];
      if (typeof m === 'string' && m !== '') macs.add(m.toLowerCase());
    }
  }
  const seen = new Set<string>();
  const all = [sys.name, ...macs].flatMap((key, i) => c.ctx.inventory.store.listBootEvents(i === 0 ? { system: key } : { mac: key }));
  return all.filter((e) => { const k = JSON.stringify(e); if (seen.has(k)) return false; seen.add(k); return true; })
    .sort((a, b) => a.at - b.at);
}

export function buildMethodTable(): Map<string, MethodSpec> {
  const t = new Map<string, MethodSpec>();

  // ----- the type × verb grid -----
  for (const type of ITEM_TYPES) {
    const T = type, Ts = plural(type);
    def(t, `get_${T}`, 'name, flatten=False, resolved=False, token=None', 'read', `One ${T} as a struct, or "~".`,
      (c, [name, flatten, resolved]) => {
        const r = c.ctx.inventory.get(T, str(name, 'name'));
        return r ? present(c, T, r, { flatten: truthy(flatten), resolved: truthy(resolved) }) : NONE;
      });
    def(t, `get_${Ts}`, 'page=None, results_per_page=None, token=None', 'read', `Every ${T} (paging arguments are ignored, as in Cobbler).`,
      (c) => c.ctx.inventory.list(T).map((r) => present(c, T, r)));
    def(t, `find_${T}`, 'criteria=None, expand=False, token=None', 'read', `${Ts} matching criteria: names, or structs when expand is truthy.`,
      (c, [criteria, expand]) => findExpanded(c, T, criteria, 'name', truthy(expand)));
    def(t, `get_${T}_handle`, 'name, token=None', 'read', `Handle of an existing ${T}.`,
      (c, [name]) => c.ctx.inventory.handleFor(T, str(name, 'name')));
    def(t, `new_${T}`, 'token', 'write', `Handle for a new, unsaved ${T}.`, (c) => c.ctx.inventory.newHandle(T));
    def(t, `modify_${T}`, 'object_id, attribute, arg, token', 'write', `Set one field of the ${T} behind a handle (until save).`,
      (c, [h, attr, arg]) => c.ctx.inventory.modify(T, str(h, 'object_id'), str(attr, 'attribute'), toValue(arg)));
    def(t, `save_${T}`, 'object_id, token, editmode="bypass"', 'write', `Validate and store the ${T} behind a handle.`,
      (c, [h, , editmode]) => { c.ctx.inventory.save(T, str(h, 'object_id'), typeof editmode === 'string' ? editmode : 'bypass'); return true; });
    def(t, `copy_${T}`, 'object_id, newname, token=None', 'write', `Copy a ${T} under a new name.`,
      (c, [h, newname]) => { c.ctx.inventory.copy(T, str(h, 'object_id'), str(newname, 'newname')); return true; });
    def(t, `rename_${T}`, 'object_id, newname, token=None', 'write', `Rename a ${T}; references to it follow.`,
      (c, [h, newname]) => { c.ctx.inventory.rename(T, str(h, 'object_id'), str(newname, 'newname')); return true; });
    def(t, `remove_${T}`, 'name, token, recursive=True', 'write', `Remove a ${T} by name (children too when recursive).`,
      (c, [name, , recursive]) => { removeIfPresent(c, T, str(name, 'name'), truthy(recursive)); return true; });
    def(t, `get_${Ts}_since`, 'mtime', 'read', `${Ts} modified after mtime.`,
      (c, [mtime]) => c.ctx.inventory.since(T, numArg(mtime, 'mtime')).map((r) => present(c, T, r)));
    def(t, `get_${T}_as_rendered`, 'name, token=None', 'read', `The ${T} with inherited values resolved and flattened.`,
      (c, [name]) => {
        const rendered = c.ctx.inventory.rendered(T, str(name, 'name'));
        return c.privileged ? rendered : redactSecrets(T, rendered as ItemRecord);
      });
  }
  def(t, 'new_subprofile', 'token', 'write', 'Handle for a new sub-profile.', (c) => c.ctx.inventory.newHandle('profile', { subprofile: true }));

  // ----- the generic *_item forms -----
  def(t, 'get_item', 'what, name, flatten=False, resolved=False', 'read', 'One object as a struct, or "~".', (c, [what, name, flatten, resolved]) => {
    const T = itemType(what);
    const r = c.ctx.inventory.get(T, str(name, 'name'));
    return r ? present(c, T, r, { flatten: truthy(flatten), resolved: truthy(resolved) }) : NONE;
  });
  def(t, 'get_items', 'what', 'read', 'Every object of a type.', (c, [what]) => {
    const T = itemType(what);
    return c.ctx.inventory.list(T).map((r) => present(c, T, r));
  });
  def(t, 'get_item_names', 'what', 'read', 'Names of every object of a type, sorted.', (c, [what]) => c.ctx.inventory.names(itemType(what)));
  def(t, 'find_items', 'what, criteria=None, sort_field=None, expand=True', 'read', 'Objects matching criteria, sorted.',
    (c, [what, criteria, sortField, expand]) => findExpanded(c, itemType(what), criteria, sortField, truthy(expand)));
  def(t, 'find_items_paged', 'what, criteria=None, sort_field=None, page=1, items_per_page=25, token=None', 'read', 'One page of find_items.',
    (c, [what, criteria, sortField, page, per]) => paged(c, itemType(what), criteria, sortField, page, per));
  def(t, 'has_item', 'what, name, token=None', 'read', 'Whether an object exists.', (c, [what, name]) => c.ctx.inventory.get(itemType(what), str(name, 'name')) !== undefined);
  def(t, 'get_item_handle', 'what, name, token=None', 'read', 'Handle of an existing object.', (c, [what, name]) => c.ctx.inventory.handleFor(itemType(what), str(name, 'name')));
  def(t, 'new_item', 'what, token, is_subobject=False', 'write', 'Handle for a new object.', (c, [what, , sub]) => c.ctx.inventory.newHandle(itemType(what), { subprofile: truthy(sub) }));
  def(t, 'modify_item', 'what, object_id, attribute, arg, token', 'write', 'Set one field behind a handle.',
    (c, [what, h, attr, arg]) => c.ctx.inventory.modify(itemType(what), str(h, 'object_id'), str(attr, 'attribute'), toValue(arg)));
  def(t, 'save_item', 'what, object_id, token, editmode="bypass"', 'write', 'Validate and store the object behind a handle.',
    (c, [what, h, , editmode]) => { c.ctx.inventory.save(itemType(what), str(h, 'object_id'), typeof editmode === 'string' ? editmode : 'bypass'); return true; });
  def(t, 'copy_item', 'what, object_id, newname, token=None', 'write', 'Copy an object.',
    (c, [what, h, newname]) => { c.ctx.inventory.copy(itemType(what), str(h, 'object_id'), str(newname, 'newname')); return true; });
  def(t, 'rename_item', 'what, object_id, newname, token=None', 'write', 'Rename an object.',
    (c, [what, h, newname]) => { c.ctx.inventory.rename(itemType(what), str(h, 'object_id'), str(newname, 'newname')); return true; });
  def(t, 'remove_item', 'what, name, token, recursive=True', 'write', 'Remove an object by name.',
    (c, [what, name, , recursive]) => { removeIfPresent(c, itemType(what), str(name, 'name'), truthy(recursive)); return true; });
  def(t, 'xapi_object_edit', 'object_type, object_name, edit_type, attributes, token', 'write', "The CLI's add/edit/copy/rename/remove in one call.",
    (c, [type, name, editType, attrs]) => xapiObjectEdit(c.ctx.inventory, itemType(type), str(name, 'object_name'), str(editType, 'edit_type'), dictArg(toValue(attrs), 'attributes')));
  def(t, 'get_blended_data', 'profile=None, system=None', 'read', 'Blended variables of a system (or profile).', (c, [profile, system]) => {
    const blended = truthy(system) ? c.ctx.inventory.blended('system', str(system, 'system'))
      : truthy(profile) ? c.ctx.inventory.blended('profile', str(profile, 'profile'))
      : (() => { throw new RackforgeError('API_ARGUMENTS', 'get_blended_data needs a profile or a system name'); })();
    return c.privileged ? blended : redactSecrets(truthy(system) ? 'system' : 'profile', blended as ItemRecord);
  });
  def(t, 'last_modified_time', 'token=None', 'read', 'Time of the last change to the inventory.', (c) => c.ctx.inventory.lastModified());
  def(t, 'find_system_by_dns_name', 'dns_name', 'read', 'Rendered system whose interface has this DNS name, or {}.', (c, [dns]) => {
    const names = c.ctx.inventory.store.findSystems('dns_name', str(dns, 'dns_name'));
    if (names.length === 0) return {};
    const rendered = c.ctx.inventory.rendered('system', names[0]!);
    return c.privileged ? rendered : redactSecrets('system', rendered as ItemRecord);
  });

  // ----- sessions -----
  def(t, 'login', 'login_user, login_password', 'open', 'A 36-character token, valid for an hour after its last use.', (c, [u, p]) => loginWith(c, u, p));
  def(t, 'logout', 'token', 'open', 'Ends a session.', (c, [token]) => c.ctx.sessions.revoke(token));
  def(t, 'token_check', 'token', 'open', 'Whether a token is live.', (c, [token]) => c.ctx.sessions.validate(token) !== undefined);
  def(t, 'get_user_from_token', 'token=None', 'open', 'The user behind a token.', (c, [token]) => {
    const u = c.ctx.sessions.validate(token);
    if (!u) throw new RackforgeError('API_INVALID_TOKEN', 'invalid token');
    return u;
  });
  def(t, 'check_access', 'token, resource, arg1=None, arg2=None', 'write', 'Authorisation check (allow-all for authenticated users).', () => 1);
  def(t, 'check_access_no_fail', 'token, resource, arg1=None, arg2=None', 'open', '1 when the token may write, else 0.',
    (c, [token]) => (c.ctx.sessions.validate(token) ? 1 : 0));
  def(t, 'get_authn_module_name', 'token', 'write', 'The authentication module.', () => 'authentication.rackforge_store');

  // ----- version and settings -----
  def(t, 'version', 'token=None', 'open', 'Cobbler API version as a float (3.307).',
    () => COBBLER_VERSION[0] + 0.1 * COBBLER_VERSION[1] + 0.001 * COBBLER_VERSION[2]);
  def(t, 'extended_version', 'token=None', 'open', 'Version details.', (c) => ({
    gitdate: '?', gitstamp: '?', builddate: '?', version: COBBLER_VERSION.join('.'), version_tuple: [...COBBLER_VERSION],
    rackforge_version: c.ctx.version,
  }));
  def(t, 'ping', '', 'open', 'Liveness.', () => true);
  def(t, 'get_settings', 'token=None', 'read', 'All settings (secret values masked without a valid token).', (c) => settingsFor(c));
  def(t, 'modify_setting', 'setting_name, value, token', 'write', 'Changes a setting when allow_dynamic_settings is on (0 ok, 1 refused).', () => 1);
  def(t, 'get_valid_breeds', 'token=None', 'open', 'Known OS breeds.', () => [...BREEDS]);
  def(t, 'get_valid_archs', 'token=None', 'open', 'Known architectures.', () => [...ARCHS]);
  def(t, 'get_valid_os_versions', 'token=None', 'open', 'Known OS versions (rackforge does not restrict them).', () => []);
  def(t, 'get_valid_os_versions_for_breed', 'breed, token=None', 'open', 'Known OS versions of a breed.', () => []);
  for (const T of ['distro', 'image', 'profile', 'system'] as const) {
    def(t, `get_valid_${T}_boot_loaders`, 'name, token=None', 'open', `Boot loaders a ${T} may use.`, () => [...BOOT_LOADERS]);
  }
  def(t, 'get_random_mac', 'virt_type="xenpv", token=None', 'open', 'A random MAC that no system uses yet.', (c) => {
    for (let i = 0; i < 64; i++) {
      const mac = randomMac();
      if (c.ctx.inventory.store.findSystems('mac_address', mac).length === 0) return mac;
    }
    throw new RackforgeError('ITEM_DUPLICATE', 'could not find an unused MAC address');
  });
  def(t, 'disable_netboot', 'name, token=None', 'open', 'Install finished: stop network-booting this system (pxe_just_once).', (c, [name]) => {
    if (!truthy(c.ctx.inventory.settings().pxe_just_once)) return false;
    const inv = c.ctx.inventory;
    const handle = inv.handleFor('system', str(name, 'name'));
    inv.modify('system', handle, 'netboot_enabled', false);
    inv.save('system', handle);
    return true;
  });

  // ----- autoinstall templates and snippets (Cobbler 3.3; they became items in 4.0) -----
  for (const [kind, pick] of [['template', (c: Call) => c.ctx.templates], ['snippet', (c: Call) => c.ctx.snippets]] as const) {
    def(t, `get_autoinstall_${kind}s`, 'token=None', 'read', `Names of the autoinstall ${kind}s.`, (c) => pick(c).list());
    def(t, `read_autoinstall_${kind}`, 'file_path, token', 'write', `Text of an autoinstall ${kind}.`, (c, [path]) => {
      const text = pick(c).read(str(path, 'file_path'));
      if (text === undefined) throw new RackforgeError('ITEM_NOT_FOUND', `no such autoinstall ${kind}: ${String(path)}`);
      return text;
    });
    def(t, `write_autoinstall_${kind}`, 'file_path, data, token', 'write', `Create or replace an autoinstall ${kind}.`,
      (c, [path, data]) => { pick(c).write(str(path, 'file_path'), str(data, 'data')); return true; });
    def(t, `remove_autoinstall_${kind}`, 'file_path, token', 'write', `Remove an autoinstall ${kind}.`, (c, [path]) => {
      const name = str(path, 'file_path');
      if (kind === 'template' && templateInUse(c, name)) throw new RackforgeError('ITEM_HAS_CHILDREN', `autoinstall template ${name} is in use`);
      return pick(c).remove(name);
    });
  }
  def(t, 'is_autoinstall_in_use', 'ai, token=None', 'read', 'Whether a profile or system uses the template.', (c, [ai]) => templateInUse(c, str(ai, 'ai')));
  def(t, 'get_repo_config_for_profile', 'profile_name', 'read', 'Yum repository file for the repos of a profile.',
    (c, [name]) => repoConfig(c, 'profile', str(name, 'profile_name')));
  def(t, 'get_repo_config_for_system', 'system_name', 'read', 'Yum repository file for the repos of a system.',
    (c, [name]) => repoConfig(c, 'system', str(name, 'system_name')));

  // ----- events and tasks -----
  def(t, 'get_system_boot_events', 'name, limit=0, token=None', 'read',
    "rackforge: a system's boot events (DHCP, TFTP, HTTP, callbacks), oldest first: [{at, kind, mac, ip, detail}].", (c, [name, limit]) => {
      const n = typeof limit === 'number' && limit > 0 ? limit : undefined;
      const merged = systemBootEvents(c, str(name, 'name'));
      return (n ? merged.slice(-n) : merged).map((e) => ({ at: e.at, kind: e.kind, mac: e.mac ?? '', ip: e.ip ?? '', detail: e.detail }));
    });
  def(t, 'get_system_install_status', 'name, token=None', 'read',
    "rackforge: a system's current install, [{stage, at, detail}]: dhcp, pxe-loaded, installer-started, image-written, nopxe, rebooted, registered, or failed with the cause.",
    (c, [name]) => deriveInstallStatus(systemBootEvents(c, str(name, 'name')), c.ctx.inventory.now()).stages.map((s) => ({ ...s })));
  def(t, 'get_status', 'mode="normal", token=None', 'read',
    'Install status per address: {ip: [start, last, "system:NAME", starts, finishes, state]} (state installing, finished or failed); mode "text" gives a table.',
    (c, [mode]) => {
      const rows: Array<[string, number, number, string, number, number, string]> = [];
      for (const name of c.ctx.inventory.names('system')) {
        const events = systemBootEvents(c, name);
        const s = deriveInstallStatus(events, c.ctx.inventory.now());
        if (s.state === 'none') continue;
        const starts = events.filter((e) => e.kind === 'install' && e.detail.startsWith('installer-started')).length;
        const finishes = events.filter((e) => e.kind === 'callback' && /nopxe: netboot disabled/.test(e.detail)).length;
        const state = s.state === 'failed' ? 'failed' : s.state === 'installing' ? 'installing' : 'finished';
        rows.push([s.ip ?? '?', s.startedAt ?? 0, s.lastAt ?? 0, `system:${name}`, starts, finishes, state]);
      }
      if (mode === 'text') {
        const when = (at: number) => new Date(at * 1000).toISOString().replace('T', ' ').slice(0, 19);
        return ['ip               target                   start                stat', ...rows.map((r) => `${r[0].padEnd(16)} ${r[3].padEnd(24)} ${when(r[1])}  ${r[6]}`)].join('\n') + '\n';
      }
      return Object.fromEntries(rows.map((r) => [r[0], r]));
    });
  def(t, 'get_events', 'for_user=""', 'open', 'Events of the last week.', (c, [u]) => c.ctx.events.list(typeof u === 'string' ? u : ''));
  def(t, 'get_event_log', 'event_id', 'open', 'The log of one event, or "?".', (c, [id]) => c.ctx.events.logText(str(id, 'event_id')) ?? '?');
  def(t, 'get_task_status', 'event_id', 'open', '[statetime, name, state, read_by].', (c, [id]) => {
    const s = c.ctx.events.status(str(id, 'event_id'));
    if (!s) throw new RackforgeError('API_UNKNOWN_EVENT', 'no event with that id');
    return s;
  });
  def(t, 'sync', 'token', 'write', 'Full sync, synchronously.', async (c) => {
    const r = await c.ctx.events.run('Sync', (log) => c.ctx.sync(log, {}));
    if (!r.ok) throw r.error;
    return true;
  });
  def(t, 'sync_dhcp', 'token', 'write', 'DHCP sync, synchronously.', async (c) => {
    const r = await c.ctx.events.run('Sync DHCP', (log) => c.ctx.sync(log, {}));
    if (!r.ok) throw r.error;
    return true;
  });
  def(t, 'background_sync', 'options, token', 'write', 'Full sync as a task; returns the event id.',
    (c) => c.ctx.events.background('Sync', (log) => c.ctx.sync(log, {})));
  def(t, 'background_syncsystems', 'options, token', 'write', 'Sync of some systems as a task; returns the event id.', (c, [options]) => {
    const opts = dictArg(toValue(options), 'options');
    const systems = Array.isArray(opts.systems) ? opts.systems.map((s) => String(s)) : [];
    return c.ctx.events.background('Syncsystems', (log) => c.ctx.sync(log, { systems }));
  });
  def(t, 'background_validate_autoinstall_files', 'options, token', 'write', 'Validation of the inventory as a task.',
    (c) => c.ctx.events.background('Automated installation files validation', (log) => c.ctx.sync(log, {})));
  for (const op of BACKGROUND_UNSUPPORTED) {
    def(t, `background_${op}`, 'options, token', 'write', `Not provided by rackforge: the task fails and says why.`,
      (c) => c.ctx.events.background(op, () => {
        throw new RackforgeError('API_UNKNOWN_METHOD', `rackforge does not implement ${op}`);
      }));
  }
  return t;
}
