// The inventory's vocabulary. Records are Cobbler 3.3 raw `to_dict()` shapes: plain JSON
// objects whose inheritable fields may hold the literal "<<inherit>>".

export const ITEM_TYPES = ['distro', 'profile', 'system', 'image', 'repo', 'menu'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

export function isItemType(v: unknown): v is ItemType {
  return typeof v === 'string' && (ITEM_TYPES as readonly string[]).includes(v);
}

export const INHERIT = '<<inherit>>';

/** JSON-compatible value as stored. `null` is Cobbler's None ("~" on the wire). */
export type Value = null | boolean | number | string | Value[] | { [k: string]: Value };
export type ItemRecord = { name: string; uid: string; ctime: number; mtime: number; [field: string]: Value };
export type InterfaceRecord = { [field: string]: Value };

/** Lookups the system index answers without scanning (MAC, IP, hostname, dns_name). */
export type SystemKey = 'mac_address' | 'ip_address' | 'hostname' | 'dns_name';

/** References a record holds to other records, for child lookups and rename/remove cascades. */
export type RefField = 'distro' | 'profile' | 'parent' | 'image' | 'menu';
