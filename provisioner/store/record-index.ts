// What a record contributes to the store's lookup indexes. Both implementations derive their
// index entries here, so findSystems/findReferrers mean the same thing everywhere.
import { RackforgeError } from '../../lib/errors.ts';
import { INHERIT, isItemType } from '../inventory/types.ts';
import type { ItemRecord, ItemType, RefField, SystemKey, Value } from '../inventory/types.ts';

export const REF_FIELDS: readonly RefField[] = ['distro', 'profile', 'parent', 'image', 'menu'];

/** Keys read from every interface of a system; `hostname` is read from the record itself. */
const INTERFACE_KEYS: readonly SystemKey[] = ['mac_address', 'ip_address', 'dns_name'];

export type SystemKeyEntry = readonly [key: SystemKey, value: string];
export type RefEntry = readonly [field: RefField, target: string];

/** A value worth indexing: a non-empty string that is not the inherit marker. */
function indexable(v: Value | undefined): v is string {
  return typeof v === 'string' && v !== '' && v !== INHERIT;
}

function isObject(v: Value | undefined): v is { [k: string]: Value } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Canonical form of a looked-up value: lookups are case-insensitive (MACs, DNS names). */
export function normalizeKeyValue(value: string): string {
  return value.toLowerCase();
}

/** The (key, value) pairs a system is found by: lower-cased, deduplicated, hostname first. */
export function selectSystemKeys(record: ItemRecord): SystemKeyEntry[] {
  // On the bulk-put path: plain loops, and a linear duplicate check over a handful of entries.
  const out: Array<[SystemKey, string]> = [];
  pushKey(out, 'hostname', record['hostname']);
  const interfaces = record['interfaces'];
  if (isObject(interfaces)) {
    for (const ifname in interfaces) {
      const iface = interfaces[ifname];
      if (!isObject(iface)) continue;
      for (const key of INTERFACE_KEYS) pushKey(out, key, iface[key]);
    }
  }
  return out;
}

function pushKey(out: Array<[SystemKey, string]>, key: SystemKey, v: Value | undefined): void {
  if (!indexable(v)) return;
  const value = normalizeKeyValue(v);
  for (const [k, x] of out) if (k === key && x === value) return;
  out.push([key, value]);
}

/** The references a record holds to other records (exact, case-sensitive names). */
export function selectRefs(record: ItemRecord): RefEntry[] {
  const out: RefEntry[] = [];
  for (const field of REF_FIELDS) {
    const v = record[field];
    if (indexable(v)) out.push([field, v]);
  }
  return out;
}

/**
 * Refuse records the store could not index or key: the store is the last place a malformed
 * record from the wire could slip into persistent state.
 */
export function checkStorable(type: ItemType, record: ItemRecord): void {
  const bad = (field: string, why: string): never => {
    throw new RackforgeError('ITEM_INVALID_FIELD', `cannot store ${type}: ${field} ${why}`, { type, field });
  };
  if (!isItemType(type)) bad('type', 'is not an item type');
  if (typeof record !== 'object' || record === null || Array.isArray(record)) bad('record', 'is not an object');
  if (typeof record.name !== 'string' || record.name === '') bad('name', 'must be a non-empty string');
  if (typeof record.uid !== 'string' || record.uid === '') bad('uid', 'must be a non-empty string');
  if (typeof record.mtime !== 'number' || !Number.isFinite(record.mtime)) bad('mtime', 'must be a finite number');
}

/** Byte-order comparison matching SQLite's BINARY collation for the names Cobbler allows. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
