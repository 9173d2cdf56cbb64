// Records and their writes: a new record with Cobbler's defaults, and setField/modifyInterface
// etc. returning a NEW record with the value converted and validated exactly where Cobbler's
// property setters would convert or refuse it. No I/O: references are checked only when the
// caller injects a lookup (Cobbler checks them in the setter; validateForSave checks again).
import { RackforgeError } from '../../lib/errors.ts';
import { isIpv4, parseIpv4, parseMac } from '../../lib/ids.ts';
import { isIPv6 } from 'node:net';
import { resolveChain, resolveValue } from './blend.ts';
import type { Lookup } from './blend.ts';
import {
  inputBoolean, inputInt, inputStringOrDict, inputStringOrList, inputStringOrListNoInherit, invalid, isDict, isStrFloat, setOwn, shlexSplit, showValue,
} from './convert.ts';
import {
  BAUD_RATES, BOOT_LOADERS, BREEDS, INTERFACE_TYPES, POWER_TYPES, fieldSpec, interfaceFieldForKey, interfaceFieldSpec, storedFields,
} from './fields.ts';
import type { FieldSpec } from './fields.ts';
import { SETTINGS_DEFAULTS, supportedBootLoaders } from './settings.ts';
import type { Settings } from './settings.ts';
import { INHERIT } from './types.ts';
import type { InterfaceRecord, ItemRecord, ItemType, Value } from './types.ts';
import { newInterface } from './wire.ts';
import { parseYamlMapping } from './yaml-mapping.ts';

export { toWire, redactSecrets, newInterface, interfaceToWire, REDACTED } from './wire.ts';
export type { WireRecord } from './wire.ts';

export interface FieldContext {
  /** Template names `autoinstall` may take (relative to the templates directory, e.g. "sample.ks"). */
  readonly autoinstallTemplates: readonly string[];
  /** When given, references (profile, distro, image, menu, parent, repos) must exist and depth is derived. */
  readonly lookup?: Lookup;
  /** For resolving a parent's boot_loaders when checking a profile's or system's subset. */
  readonly settings?: Settings;
  /** Generator for mac_address "random"; without it "random" is refused. */
  readonly randomMac?: () => string;
  /** Let internal callers (copy, rename, new_subprofile) write uid/ctime/mtime/depth/is_subobject. */
  readonly allowReadonly?: boolean;
  /** Installed fence agents (power_type values); defaults to POWER_TYPES. */
  readonly powerTypes?: readonly string[];
}

type Dict = { [k: string]: Value };

/** Cobbler's RE_OBJECT_NAME, anchored at both ends. */
const NAME_RE = /^[a-zA-Z0-9_\-.:]+$/;
const HOSTNAME_RE = /^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9])(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9]))*$/;

export function newRecord(type: ItemType, now: number, uid: string, settings: Settings = SETTINGS_DEFAULTS): ItemRecord {
  const rec: Dict = {};
  for (const f of storedFields(type)) {
    const fromSettings = f.settingDefault !== undefined ? settings[f.settingDefault] : undefined;
    let v: Value = structuredClone(fromSettings !== undefined ? fromSettings : f.default);
    if (f.kind === 'enum' && typeof v === 'string') v = v.toLowerCase();
    rec[f.name] = v;
  }
  rec['uid'] = uid;
  rec['ctime'] = now;
  rec['mtime'] = now;
  return rec as ItemRecord;
}

/** Whether modify_<type>(h, field, …) names a field (aliases `kickstart`/`ks_meta` included). */
export function hasField(type: ItemType, field: string): boolean {
  return fieldSpec(type, field) !== undefined;
}

/** Legacy write names: `kickstart` → autoinstall, `ks_meta` → autoinstall_meta. */
export function canonicalField(type: ItemType, field: string): string {
  const spec = fieldSpec(type, field);
  return spec?.kind === 'alias' ? spec.aliasOf! : field;
}

interface Env { readonly type: ItemType; readonly record: ItemRecord; readonly ctx: FieldContext }

/**
 * Write one field. Returns a new record; the input is never mutated. Throws RackforgeError:
 * ITEM_UNKNOWN_FIELD (no such field: Cobbler's modify returns False), ITEM_INVALID_FIELD
 * (refused value, read-only field), ITEM_MISSING_REFERENCE (with ctx.lookup, a missing target).
 */
export function setField(type: ItemType, record: ItemRecord, field: string, value: unknown, ctx: FieldContext): ItemRecord {
  const name = canonicalField(type, field);
  const spec = fieldSpec(type, name);
  if (!spec) throw new RackforgeError('ITEM_UNKNOWN_FIELD', `${type} has no field '${field}'`, { type, field });
  if (spec.readonly && !ctx.allowReadonly) throw new RackforgeError('ITEM_INVALID_FIELD', `${name} is read-only`, { type, field: name });
  const next: Dict = { ...record };
  if (spec.ignoreWrites) return next as ItemRecord;
  const env: Env = { type, record, ctx };
  if (spec.kind === 'interfaces') {
    next[name] = convertInterfaces(value, env);
    return next as ItemRecord;
  }
  if (spec.readonly) {
    // Internal writes keep the stored type right without Cobbler's checks.
    next[name] = structuredClone(toPlainValue(value, name));
    return next as ItemRecord;
  }
  next[name] = convertValue(spec, value, env);
  applySideEffects(type, name, next, ctx);
  return next as ItemRecord;
}

function toPlainValue(value: unknown, field: string): Value {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value) || isDict(value)) return value as Value;
  throw invalid(field, value, 'is not a storable value');
}

/** Cobbler's setter side effects: profile/image mutual exclusion, depth, computed grub paths. */
function applySideEffects(type: ItemType, field: string, next: Dict, ctx: FieldContext): void {
  const value = next[field];
  const depthFrom = (t: ItemType, name: Value | undefined): void => {
    if (!ctx.lookup || typeof name !== 'string' || name === '') return;
    const target = ctx.lookup(t, name);
    if (target && typeof target['depth'] === 'number') next['depth'] = target['depth'] + 1;
  };
  if (type === 'system' && field === 'profile' && value !== '') {
    next['image'] = '';
    depthFrom('profile', value);
  } else if (type === 'system' && field === 'image' && value !== '') {
    next['profile'] = '';
    depthFrom('image', value);
  } else if (type === 'profile' && field === 'distro' && value !== '') {
    depthFrom('distro', value);
  } else if ((type === 'profile' || type === 'menu') && field === 'parent' && value !== '') {
    depthFrom(type, value);
  } else if (type === 'distro' && field === 'remote_boot_kernel') {
    next['remote_grub_kernel'] = grubRemotePath(value);
  } else if (type === 'distro' && field === 'remote_boot_initrd') {
    next['remote_grub_initrd'] = grubRemotePath(value);
  }
}

/** grub.parse_grub_remote_file: "http://srv/p" → "(http,srv)/p" (no DNS lookup here). */
function grubRemotePath(v: Value | undefined): string {
  if (typeof v !== 'string' || v === '') return '';
  const m = /^(http|tftp):\/\/([^/]+)\/(.*)$/.exec(v);
  return m ? `(${m[1]},${m[2]})/${m[3]}` : '';
}

const SELF_INHERIT_CHECKS = new Set(['profile_filename', 'name_servers', 'name_servers_search']);

function convertValue(spec: FieldSpec, value: unknown, env: Env): Value {
  const field = spec.name;
  if (value === INHERIT && !(spec.check && SELF_INHERIT_CHECKS.has(spec.check))) {
    if (spec.inheritAs !== undefined) return structuredClone(spec.inheritAs);
    if (spec.inheritable) return INHERIT;
  }
  switch (spec.kind) {
    case 'string': return convertString(spec, value, env);
    case 'int': return convertInt(spec, value);
    case 'float': return convertFloat(spec, value);
    case 'bool': return inputBoolean(value, field);
    case 'list': return convertList(spec, value, env);
    case 'dict': return convertDict(spec, value);
    case 'enum': return convertEnum(spec, value);
    case 'ref': return convertRef(spec, value, env);
    default: throw invalid(field, value, 'cannot be written');
  }
}

function asString(field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw invalid(field, value, 'is not a string');
}

/** validate.ipv4_address: a dotted quad that is not netmask-shaped (0.0.0.0, 255.255.255.0 …). */
function hostIpv4(field: string, raw: string, value: unknown): string {
  const text = raw.trim();
  if (text === '') return '';
  if (!isIpv4(text)) throw invalid(field, value, 'is not an IPv4 address');
  const ip = parseIpv4(text);
  if (isNetmaskShaped(ip)) throw invalid(field, value, 'is a netmask, not a host address');
  return ip;
}

function isNetmaskShaped(ip: string): boolean {
  const n = ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  const inverted = (~n >>> 0) + 1;
  return (inverted & (inverted - 1)) === 0 || inverted === 0x100000000;
}

function convertString(spec: FieldSpec, value: unknown, env: Env): Value {
  const field = spec.name;
  if (spec.check === 'profile_filename') {
    const text = asString(field, value);
    const hasParentProfile = typeof env.record['parent'] === 'string' && env.record['parent'] !== '';
    if (text === INHERIT) return hasParentProfile ? INHERIT : '';
    if (text === '') return hasParentProfile ? INHERIT : '';
    return text;
  }
  if (spec.check === 'name' && typeof value !== 'string') throw invalid(field, value, 'is not a string');
  let text = asString(field, value);
  if (spec.strip) text = text.trim();
  if (text === '' && spec.emptyAs !== undefined) return structuredClone(spec.emptyAs);
  switch (spec.check) {
    case undefined: return text;
    case 'name':
      if (!NAME_RE.test(text)) throw invalid(field, value, text === '' ? 'must not be empty' : 'may only contain letters, digits and _ - . :');
      return text;
    case 'ipv4': return hostIpv4(field, text, value);
    case 'netmask': {
      const t = text.trim();
      if (t === '') return '';
      if (!isIpv4(t) || !isNetmaskShaped(parseIpv4(t))) throw invalid(field, value, 'is not an IPv4 netmask');
      return parseIpv4(t);
    }
    case 'ipv6': {
      const t = text.trim();
      if (t !== '' && !isIPv6(t)) throw invalid(field, value, 'is not an IPv6 address');
      return t;
    }
    case 'ip_any': {
      if (text !== '' && !isIpv4(text) && !isIPv6(text)) throw invalid(field, value, 'is not an IP address');
      return text;
    }
    case 'hostname': {
      const t = text.trim();
      if (t !== '' && !HOSTNAME_RE.test(t)) throw invalid(field, value, 'is not a valid host name');
      return t;
    }
    case 'mac': {
      const t = text.trim().toLowerCase();
      if (t === '') return '';
      if (t === 'random') {
        if (!env.ctx.randomMac) throw invalid(field, value, 'cannot be generated here');
        return parseMac(env.ctx.randomMac());
      }
      try {
        return parseMac(t);
      } catch {
        throw invalid(field, value, 'is not a MAC address');
      }
    }
    case 'autoinstall': {
      if (text === '') return '';
      if (text.includes('..')) throw invalid(field, value, 'must not contain ".."');
      if (!env.ctx.autoinstallTemplates.includes(text)) throw invalid(field, value, 'is not a known automatic installation template');
      return text;
    }
    case 'image_file': return checkImageFile(field, text, value);
    case 'remote_boot_file': {
      if (text === '') return '';
      if (!isRemoteBootFile(text)) throw invalid(field, value, 'needs to be a valid URL starting with tftp or http');
      return text;
    }
    case 'kernel':
      if (text === '') throw invalid(field, value, 'is not a kernel path');
      return text;
    case 'initrd':
      if (text === '') throw invalid(field, value, 'is not an initrd path');
      return text;
    case 'power_type': {
      const known: readonly string[] = env.ctx.powerTypes ?? POWER_TYPES;
      if (text !== '' && !known.includes(text)) throw invalid(field, value, 'is not a known power management type (fence agent)');
      return text;
    }
    case 'safe':
      if (text.includes('..') || text.includes(';')) throw invalid(field, value, 'contains invalid characters');
      return text;
    case 'breed': {
      if (text === '') return '';
      const lower = text.toLowerCase();
      if (!(BREEDS as readonly string[]).includes(lower)) throw invalid(field, value, `is not a breed (one of ${BREEDS.join(', ')})`);
      return lower;
    }
    case 'os_version': {
      const breed = env.record['breed'];
      if (text === '' || typeof breed !== 'string' || breed === '') return '';
      const lower = text.toLowerCase();
      if (!/^[a-z0-9][a-z0-9._+-]*$/.test(lower)) throw invalid(field, value, 'is not an OS version');
      return lower;
    }
    default:
      return text;
  }
}

/** image.file: [user[:pass]@]host:/path/file or /path/file, no protocol. */
function checkImageFile(field: string, text: string, value: unknown): string {
  if (text === '') return '';
  if (text.includes('://')) throw invalid(field, value, 'should not contain a protocol');
  let rest = text;
  let auth = '';
  let host = '';
  if (rest.includes('@')) {
    const parts = rest.split('@');
    if (parts.length !== 2) throw invalid(field, value, 'is not a valid image location');
    [auth, rest] = parts as [string, string];
  }
  if (rest.includes(':')) {
    const parts = rest.split(':');
    if (parts.length !== 2) throw invalid(field, value, 'is not a valid image location');
    [host, rest] = parts as [string, string];
  } else if (!rest.startsWith('/')) {
    throw invalid(field, value, 'is not a valid image location');
  }
  if (rest.length > 0 && !rest.startsWith('/')) throw invalid(field, value, 'contains an invalid path');
  const base = rest.slice(rest.lastIndexOf('/') + 1);
  if (base.length === 0) throw invalid(field, value, 'is missing a file name');
  if (auth.length > 0 && host.length === 0) throw invalid(field, value, 'needs a host name with authentication details');
  return text;
}

function isRemoteBootFile(text: string): boolean {
  const m = /^(http|tftp):\/\/([^/]*)(\/.*)?$/.exec(text);
  if (!m) return false;
  const host = m[2]!;
  if (host.startsWith('@@') && host.endsWith('server@@')) return true;
  if (isIpv4(host) || isIPv6(host.replace(/^\[|\]$/g, ''))) return true;
  return HOSTNAME_RE.test(host.replace(/:[0-9]+$/, ''));
}

function convertInt(spec: FieldSpec, value: unknown): Value {
  const field = spec.name;
  if (spec.check === 'baud_rate') {
    if (typeof value === 'string' && value.toLowerCase() === 'disabled') return -1;
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!(BAUD_RATES as readonly number[]).includes(n)) throw invalid(field, value, `is not a baud rate (one of ${BAUD_RATES.join(', ')})`);
    return n;
  }
  if (value === '' && spec.emptyAs !== undefined) return structuredClone(spec.emptyAs);
  if (value === INHERIT) throw invalid(field, value, 'is not an integer');
  const n = inputInt(value, field);
  if (spec.min !== undefined && n < spec.min) throw invalid(field, value, `must be ${spec.min} or greater`);
  if (spec.max !== undefined && n > spec.max) throw invalid(field, value, `must be ${spec.max} or less`);
  return n;
}

function convertFloat(spec: FieldSpec, value: unknown): Value {
  const field = spec.name;
  if (value === '' && spec.emptyAs !== undefined) return structuredClone(spec.emptyAs);
  let n: number;
  if (typeof value === 'number' && Number.isFinite(value)) n = value;
  else if (typeof value === 'string' && isStrFloat(value)) n = Number(value);
  else throw invalid(field, value, 'is not a number');
  if (spec.min !== undefined && n < spec.min) throw invalid(field, value, `must be ${spec.min} or greater`);
  return n;
}

function convertList(spec: FieldSpec, value: unknown, env: Env): Value {
  const field = spec.name;
  switch (spec.check) {
    case 'boot_loaders': return convertBootLoaders(value, env);
    case 'name_servers':
    case 'name_servers_search': {
      let list: Value[];
      if (typeof value === 'string') {
        const t = value.trim();
        if (t === INHERIT || t === '') return t;
        list = shlexSplit(t, field);
      } else if (Array.isArray(value)) {
        list = structuredClone(value as Value[]);
      } else {
        throw invalid(field, value, 'is not a string or a list');
      }
      for (const item of list) {
        if (typeof item !== 'string') throw invalid(field, item, 'is not a string');
        if (spec.check === 'name_servers') {
          if (!(isIpv4(item) || isIPv6(item))) throw invalid(field, item, 'is not an IP address');
        } else if (!HOSTNAME_RE.test(item.trim())) {
          throw invalid(field, item, 'is not a valid domain name');
        }
      }
      return list;
    }
    case 'repos': {
      const list = value === null ? [] : inputStringOrList(value, field);
      if (list === INHERIT) return INHERIT;
      if (env.ctx.lookup) {
        for (const repo of list) {
          if (typeof repo !== 'string' || !env.ctx.lookup('repo', repo)) {
            throw new RackforgeError('ITEM_MISSING_REFERENCE', `repo ${showValue(repo)} is not defined`, { field, type: 'repo', name: repo });
          }
        }
      }
      return list;
    }
    case 'ipv6_list': {
      const list = inputStringOrList(value, field);
      if (list === INHERIT) throw invalid(field, value, 'is not an IP address');
      for (const item of list) {
        if (item !== '' && !(typeof item === 'string' && (isIpv4(item) || isIPv6(item)))) throw invalid(field, item, 'is not an IP address');
      }
      return list;
    }
    default:
      return spec.keepsInherit === false ? inputStringOrListNoInherit(value, field) : inputStringOrList(value, field);
  }
}

/** The loaders a record's boot_loaders may name (a subset of its parent's, or of its arch's). */
function allowedBootLoaders(env: Env): readonly string[] {
  const { type, record, ctx } = env;
  if (type === 'distro' || type === 'image') return supportedBootLoaders(record['arch']);
  if (ctx.lookup) {
    try {
      const chain = resolveChain(type, record, ctx.lookup);
      if (chain.length > 1) {
        const v = resolveValue(chain, chain.length - 2, 'boot_loaders', ctx.settings ?? SETTINGS_DEFAULTS);
        if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
      }
    } catch {
      // An unresolvable parent is reported by validateForSave; fall back to the global list.
    }
  }
  return BOOT_LOADERS;
}

function convertBootLoaders(value: unknown, env: Env): Value {
  const field = 'boot_loaders';
  if (value === '' || value === null || (Array.isArray(value) && value.length === 0)) return [];
  if (typeof value !== 'string' && !Array.isArray(value)) throw invalid(field, value, 'is not a string or a list');
  const list = typeof value === 'string' ? inputStringOrListNoInherit(value, field) : (value as unknown[]);
  const allowed = allowedBootLoaders(env);
  for (const item of list) {
    if (typeof item !== 'string' || !allowed.includes(item)) {
      throw invalid(field, item, `is not a supported boot loader (supported: ${allowed.join(' ') || 'none'})`);
    }
  }
  return structuredClone(list as Value[]);
}

function convertDict(spec: FieldSpec, value: unknown): Value {
  const field = spec.name;
  if (spec.check === 'mgmt_parameters') {
    if (isDict(value)) return structuredClone(value);
    if (typeof value !== 'string') throw invalid(field, value, 'is not a mapping or YAML text');
    if (value === '') return {};
    try {
      return parseYamlMapping(value);
    } catch {
      throw invalid(field, value, 'is not YAML text of a mapping');
    }
  }
  return inputStringOrDict(value, spec.multiples !== false, field);
}

function convertEnum(spec: FieldSpec, value: unknown): Value {
  const field = spec.name;
  const choices = spec.choices ?? [];
  if (field === 'interface_type' && typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < INTERFACE_TYPES.length) {
    return INTERFACE_TYPES[value]!;
  }
  if (typeof value !== 'string') throw invalid(field, value, `is not one of ${choices.join(', ')}`);
  let lower = value.toLowerCase();
  if (field === 'image_type' && lower === 'virt_clone') lower = 'virt-clone';
  if (!choices.includes(lower)) throw invalid(field, value, `is not one of ${choices.join(', ')}`);
  return lower;
}

const CLEARING_WORDS = new Set(['', 'delete', 'None', '~']);

function convertRef(spec: FieldSpec, value: unknown, env: Env): Value {
  const field = spec.name;
  if (typeof value !== 'string') throw invalid(field, value, 'is not a name');
  const clears = env.type === 'system' && (field === 'profile' || field === 'image') ? CLEARING_WORDS.has(value) : value === '';
  if (clears) return '';
  if (field === 'parent' && value === env.record.name) throw invalid(field, value, 'is the object itself');
  if (env.ctx.lookup) {
    const types = spec.ref ?? [];
    if (!types.some((t) => env.ctx.lookup!(t, value) !== undefined)) {
      const what = types.length === 1 ? types[0]! : types.join(', ');
      throw new RackforgeError('ITEM_MISSING_REFERENCE', `${what} '${value}' not found`, { field, type: types[0], name: value });
    }
  }
  return value;
}

/** Writing `interfaces` directly: a mapping of name → field mapping (Cobbler's interfaces setter). */
function convertInterfaces(value: unknown, env: Env): Value {
  if (!isDict(value)) throw invalid('interfaces', value, 'is not a mapping of interfaces');
  const entries = Object.entries(value);
  // Cobbler's setter: an empty mapping replaces everything; otherwise each given interface is rebuilt.
  if (entries.length === 0) return {};
  const current = env.record['interfaces'];
  const out: Dict = isDict(current) ? structuredClone(current) : {};
  for (const [ifname, fields] of entries) {
    if (!isDict(fields)) throw invalid('interfaces', value, 'must map interface names to field mappings');
    const iface: InterfaceRecord = newInterface();
    for (const [k, v] of Object.entries(fields)) {
      const spec = interfaceFieldSpec(k);
      if (spec) iface[k] = convertValue(spec, v, env);
    }
    setOwn(out, ifname, iface);
  }
  return out;
}

/** Interface names as Linux and Cobbler's templates can use them (eth0, bond0.100, ib0:1). */
const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;

function interfaceError(message: string, details: Record<string, unknown> = {}): RackforgeError {
  return new RackforgeError('ITEM_INTERFACE', message, details);
}

function interfacesOf(record: ItemRecord): Dict {
  const v = record['interfaces'];
  return isDict(v) ? structuredClone(v) : {};
}

/**
 * modify_interface: keys are "<field>-<interface>"; the field part is squashed ("_"/"-"
 * removed) so "macaddress-eth0" = "mac_address-eth0"; the interface is everything after the
 * first "-" ("ip_address-bond0.100-x" → interface "bond0.100-x"). Unknown interfaces are
 * created with defaults; unknown field names are ignored (Cobbler ignores them too).
 */
export function modifyInterface(record: ItemRecord, values: unknown, ctx: FieldContext = { autoinstallTemplates: [] }): ItemRecord {
  if (!isDict(values)) throw interfaceError(`modify_interface needs a mapping of "<field>-<interface>" keys, got ${showValue(values)}`);
  const env: Env = { type: 'system', record, ctx };
  const ifaces = interfacesOf(record);
  for (const [key, value] of Object.entries(values)) {
    const dash = key.indexOf('-');
    if (dash < 0) throw interfaceError(`modify_interface key '${key}' is not of the form "<field>-<interface>"`, { key });
    const ifname = key.slice(dash + 1);
    if (ifname === '') throw interfaceError(`modify_interface key '${key}' names no interface`, { key });
    if (!IFNAME_RE.test(ifname)) throw interfaceError(`invalid interface name '${ifname}': letters, digits and . _ : @ - only, up to 64 characters`, { key });
    // Own properties only: "__proto__" or "constructor" must never reach Object.prototype.
    const existing = Object.prototype.hasOwnProperty.call(ifaces, ifname) ? ifaces[ifname] : undefined;
    const iface: Dict = isDict(existing) ? existing : newInterface();
    setOwn(ifaces, ifname, iface);
    const spec = interfaceFieldForKey(key.slice(0, dash));
    if (spec === undefined) continue;
    iface[spec.name] = convertValue(spec, value, env);
  }
  return { ...record, interfaces: ifaces };
}

/** delete_interface: a name, or {"interface": name}. "" is a no-op; an unknown name is refused. */
export function deleteInterface(record: ItemRecord, nameOrDict: unknown): ItemRecord {
  let name: unknown = nameOrDict;
  if (isDict(nameOrDict)) name = nameOrDict['interface'] ?? '';
  else if (typeof nameOrDict === 'string' && nameOrDict === '') return { ...record };
  if (typeof name !== 'string') throw interfaceError(`delete_interface needs an interface name, got ${showValue(nameOrDict)}`);
  const ifaces = interfacesOf(record);
  if (!Object.prototype.hasOwnProperty.call(ifaces, name)) {
    throw interfaceError(`Interface "${name}" does not exist`, { interface: name });
  }
  delete ifaces[name];
  return { ...record, interfaces: ifaces };
}

/** rename_interface: {"interface": old, "rename_interface": new}; the renamed one moves last. */
export function renameInterface(record: ItemRecord, arg: unknown): ItemRecord {
  if (!isDict(arg)) throw interfaceError(`rename_interface needs {"interface": old, "rename_interface": new}, got ${showValue(arg)}`);
  const from = arg['interface'] ?? '';
  const to = arg['rename_interface'] ?? '';
  if (typeof from !== 'string' || typeof to !== 'string') throw interfaceError('rename_interface names must be strings');
  const ifaces = interfacesOf(record);
  if (!Object.prototype.hasOwnProperty.call(ifaces, from)) throw interfaceError(`Interface "${from}" does not exist`, { interface: from });
  if (to === '') throw interfaceError('rename_interface needs a new interface name');
  if (!IFNAME_RE.test(to)) throw interfaceError(`invalid interface name '${to}': letters, digits and . _ : @ - only, up to 64 characters`);
  if (Object.prototype.hasOwnProperty.call(ifaces, to)) throw interfaceError(`Interface "${to}" already exists`, { interface: to });
  const moved = ifaces[from]!;
  delete ifaces[from];
  setOwn(ifaces, to, moved);
  return { ...record, interfaces: ifaces };
}
