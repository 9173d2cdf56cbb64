// Python-style positional signatures for remote methods: `"name, token=None"` gives the
// arity rules and defaults, and the TypeError texts Cobbler's clients have seen for years.
import { PythonTypeError } from './faults.ts';

export interface Param { name: string; optional: boolean; default: unknown }
export interface Signature { method: string; params: Param[]; required: number }

function parseDefault(text: string): unknown {
  if (text === 'None') return null;
  if (text === 'True') return true;
  if (text === 'False') return false;
  if (/^-?\d+$/.test(text)) return Number(text);
  const m = /^(['"])(.*)\1$/.exec(text);
  if (m) return m[2];
  throw new Error(`unsupported default ${text}`);
}

export function parseSignature(method: string, spec: string): Signature {
  const params: Param[] = spec.trim() === '' ? [] : spec.split(',').map((p) => {
    const [name, def] = p.split('=').map((x) => x.trim()) as [string, string | undefined];
    return def === undefined ? { name, optional: false, default: undefined } : { name, optional: true, default: parseDefault(def) };
  });
  return { method, params, required: params.filter((p) => !p.optional).length };
}

/** Positional args padded with defaults, or Python's TypeError (counting `self`, as Python does). */
export function bindArgs(sig: Signature, args: unknown[]): unknown[] {
  const max = sig.params.length;
  if (args.length > max) {
    const takes = sig.required === max ? `${max + 1}` : `from ${sig.required + 1} to ${max + 1}`;
    throw new PythonTypeError(`${sig.method}() takes ${takes} positional argument${max + 1 === 1 ? '' : 's'} but ${args.length + 1} were given`);
  }
  if (args.length < sig.required) {
    const missing = sig.params.slice(args.length, sig.required).map((p) => `'${p.name}'`);
    const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]}`;
    throw new PythonTypeError(`${sig.method}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${list}`);
  }
  return sig.params.map((p, i) => (i < args.length ? args[i] : p.default));
}
