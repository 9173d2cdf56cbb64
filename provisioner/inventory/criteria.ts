// find_<T> criteria, as Cobbler 3.3.7's Collection.find + Item.find_match decide them: keys
// are re-keyed through SEARCH_REKEY, every key must match (AND), a leading "~" negates, and
// each comparison follows __find_compare against the raw to_dict shape. A key the item type
// does not have simply matches nothing (Cobbler returns an empty list, not an error).
import { isIpv4, isMac } from '../../lib/ids.ts';
import { inputStringOrDict, inputStringOrList, isDict } from './convert.ts';
import { INTERFACE_FIELDS } from './fields.ts';
import type { ItemRecord, ItemType, SystemKey, Value } from './types.ts';
import { toWire } from './wire.ts';

/** Collection.SEARCH_REKEY (CLI option spellings → field names). */
export const SEARCH_REKEY: Readonly<Record<string, string>> = Object.freeze({
  kopts: 'kernel_options',
  kopts_post: 'kernel_options_post',
  inherit: 'parent',
  ip: 'ip_address',
  mac: 'mac_address',
  'virt-auto-boot': 'virt_auto_boot',
  'virt-file-size': 'virt_file_size',
  'virt-disk-driver': 'virt_disk_driver',
  'virt-ram': 'virt_ram',
  'virt-path': 'virt_path',
  'virt-type': 'virt_type',
  'virt-bridge': 'virt_bridge',
  'virt-cpus': 'virt_cpus',
  'virt-host': 'virt_host',
  'virt-group': 'virt_group',
  'dhcp-tag': 'dhcp_tag',
  'netboot-enabled': 'netboot_enabled',
  enable_gpxe: 'enable_ipxe',
  boot_loader: 'boot_loaders',
});

/** Keys that, for systems, are compared against every interface (plus "interface" = its name). */
export const INTERFACE_SEARCH_KEYS: ReadonlySet<string> = new Set([...INTERFACE_FIELDS.map((f) => f.name), 'interface']);

/** Search values are text in Cobbler (the CLI sends strings); null matches any present key. */
export type Criteria = { readonly [key: string]: string | null };

function searchText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map((x) => searchText(x) ?? '').join(' ');
  if (isDict(v)) return Object.entries(v).map(([k, x]) => (x === null ? k : `${k}=${searchText(x) ?? ''}`)).join(' ');
  return String(v);
}

/**
 * Re-key aliases and turn typed values (booleans from Ansible, numbers) into the text Cobbler
 * compares. Later keys win when an alias and its target are both given.
 */
export function normaliseCriteria(_type: ItemType, criteria: unknown): Criteria {
  const out: { [k: string]: string | null } = {};
  if (!isDict(criteria)) return out;
  for (const [key, value] of Object.entries(criteria)) {
    const target = Object.prototype.hasOwnProperty.call(SEARCH_REKEY, key) ? SEARCH_REKEY[key]! : key;
    Object.defineProperty(out, target, { value: searchText(value), writable: true, enumerable: true, configurable: true });
  }
  return out;
}

const GLOB_CHARS = /[*?[]/;

/**
 * fnmatch.translate: * ? [seq] [!seq], anchored; everything else literal. A character class
 * JavaScript cannot compile (an out-of-order range such as "[z-a]", which Python drops as
 * empty) makes the class match nothing rather than throw.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) {
        re += '\\[';
      } else {
        let body = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        re += compiles(`[${body}]`) ? `[${body}]` : '(?!)';
        i = j;
      }
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${re})$`, 's');
}

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

const TRUE_SEARCH = new Set(['true', '1', 'y', 'yes']);

/** Item.__find_compare(search, stored). Types Cobbler cannot compare (numbers) compare as text. */
export function compareValue(search: string, stored: Value | undefined): boolean {
  if (typeof stored === 'string') {
    const s = search.toLowerCase();
    const o = stored.toLowerCase();
    return GLOB_CHARS.test(s) ? globToRegExp(s).test(o) : o === s;
  }
  if (Array.isArray(stored)) {
    let tokens: Value[] | string;
    try {
      tokens = inputStringOrList(search);
    } catch {
      return false;
    }
    if (typeof tokens === 'string') return false;
    return tokens.every((t) => stored.some((x) => x === t));
  }
  if (isDict(stored)) {
    let wanted;
    try {
      wanted = inputStringOrDict(search, true);
    } catch {
      return false;
    }
    if (typeof wanted === 'string') return false;
    return Object.entries(wanted).every(([k, v]) => Object.prototype.hasOwnProperty.call(stored, k) && JSON.stringify(stored[k]) === JSON.stringify(v));
  }
  if (typeof stored === 'boolean') return TRUE_SEARCH.has(search.toLowerCase()) === stored;
  if (typeof stored === 'number') return String(stored) === search.trim();
  return false;
}

function matchKey(type: ItemType, data: { [k: string]: Value }, key: string, value: string | null): boolean {
  const isInterfaceKey = type === 'system' && INTERFACE_SEARCH_KEYS.has(key);
  if (isInterfaceKey) {
    const ifaces = data['interfaces'];
    if (isDict(ifaces)) {
      for (const [ifname, iface] of Object.entries(ifaces)) {
        if (value === ifname) return true;
        if (value !== null && isDict(iface) && Object.prototype.hasOwnProperty.call(iface, key) && compareValue(value, iface[key])) return true;
      }
    }
  }
  if (!Object.prototype.hasOwnProperty.call(data, key)) return isInterfaceKey && value === null;
  if (value === null) return true;
  return compareValue(value, data[key]);
}

/** AND of all keys against the raw shape; "~value" negates that key's comparison. */
export function matchesCriteria(type: ItemType, record: ItemRecord, criteria: Criteria): boolean {
  const data = toWire(type, record);
  for (const [key, value] of Object.entries(criteria)) {
    const ok = value !== null && value.startsWith('~')
      ? !matchKey(type, data, key, value.slice(1))
      : matchKey(type, data, key, value);
    if (!ok) return false;
  }
  return true;
}

export interface IndexedCriterion { readonly key: SystemKey; readonly value: string }

/**
 * An exact lookup the store's system index can answer, when the (normalised) criteria hold
 * one: mac_address/ip_address that parse as such, dns_name with a dot, or hostname — not a
 * glob, not negated. The index gives candidates; run matchesCriteria on them for the rest of
 * the criteria. (Cobbler also matches a value equal to an interface *name*; the shape checks
 * keep such values — "eth0" — away from the index.)
 */
export function indexableCriterion(type: ItemType, criteria: Criteria): IndexedCriterion | undefined {
  if (type !== 'system') return undefined;
  const usable = (v: string | null | undefined): v is string =>
    typeof v === 'string' && v.trim() !== '' && !v.startsWith('~') && !GLOB_CHARS.test(v);
  const mac = criteria['mac_address'];
  if (usable(mac) && isMac(mac)) return { key: 'mac_address', value: mac.toLowerCase() };
  const ip = criteria['ip_address'];
  if (usable(ip) && isIpv4(ip)) return { key: 'ip_address', value: ip };
  const dns = criteria['dns_name'];
  if (usable(dns) && dns.includes('.')) return { key: 'dns_name', value: dns.toLowerCase() };
  const host = criteria['hostname'];
  if (usable(host)) return { key: 'hostname', value: host.toLowerCase() };
  return undefined;
}
