// Python semantics the Cobbler wire depends on: positional truthiness, and strip_none
// (None becomes "~" at any depth, dict keys become strings) on every return value.
import type { XmlRpcValue } from '../protocol/xmlrpc.ts';

/** Python's bool(x) for values that arrive over XML-RPC. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Date || Buffer.isBuffer(v)) return Buffer.isBuffer(v) ? v.length > 0 : true;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export const NONE = '~';

export function stripNone(v: unknown): XmlRpcValue {
  if (v === null || v === undefined) return NONE;
  if (Array.isArray(v)) return v.map(stripNone);
  if (typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v) && v.constructor === Object) {
    const out: Record<string, XmlRpcValue> = {};
    // defineProperty: a "__proto__" key stays a key (keys come from clients).
    for (const [k, val] of Object.entries(v)) Object.defineProperty(out, String(k), { value: stripNone(val), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v as XmlRpcValue;
}
