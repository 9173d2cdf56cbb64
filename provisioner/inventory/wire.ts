// The raw to_dict() shape Cobbler 3.3.7 returns from get_<T>/find_<T>: exactly the table's
// keys in Cobbler's order, missing fields filled with defaults, the read-only aliases
// (`kickstart` = autoinstall, `ks_meta` = autoinstall_meta) appended, nothing else.
import { FIELDS, INTERFACE_FIELDS, secretFields } from './fields.ts';
import { isDict } from './convert.ts';
import type { InterfaceRecord, ItemRecord, ItemType, Value } from './types.ts';

export type WireRecord = { [key: string]: Value };

/** An interface with every one of the 23 fields, in order; unknown keys dropped. */
export function interfaceToWire(iface: InterfaceRecord | undefined): WireRecord {
  const out: WireRecord = {};
  for (const f of INTERFACE_FIELDS) {
    const v = iface?.[f.name];
    out[f.name] = structuredClone(v === undefined ? f.default : v);
  }
  return out;
}

/** A new interface with Cobbler's defaults. */
export function newInterface(): InterfaceRecord {
  return interfaceToWire(undefined);
}

export function toWire(type: ItemType, record: ItemRecord): WireRecord {
  const out: WireRecord = {};
  for (const f of FIELDS[type]) {
    if (f.kind === 'alias') {
      out[f.name] = structuredClone(out[f.aliasOf!] ?? null);
      continue;
    }
    const v = record[f.name];
    if (f.kind === 'interfaces') {
      const ifaces: WireRecord = {};
      if (isDict(v)) for (const [name, iface] of Object.entries(v)) ifaces[name] = interfaceToWire(isDict(iface) ? iface : undefined);
      out[f.name] = ifaces;
      continue;
    }
    out[f.name] = structuredClone(v === undefined ? f.default : v);
  }
  return out;
}

/** What a secret field shows to callers without rights: the "unset" value of its kind. */
export const REDACTED = '';

/**
 * A copy of the wire shape with secret fields (power_pass) blanked. Cobbler itself returns
 * them to anyone; the API layer decides who gets the redacted view.
 */
export function redactSecrets(type: ItemType, record: ItemRecord | WireRecord): WireRecord {
  // Secret fields are top-level scalars: a shallow copy is enough, and cheap for 10k systems.
  const out: WireRecord = { ...record };
  for (const name of secretFields(type)) {
    if (name in out && out[name] !== '') out[name] = REDACTED;
  }
  return out;
}
