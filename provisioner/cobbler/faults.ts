// The edge where typed errors become Cobbler's faults: faultCode is always 1 and the text
// is Python's "%s:%s" % (type(exc), exc), which clients split on the first ':'.
import { isRackforgeError } from '../../lib/errors.ts';
import { DecodeError } from '../../lib/errors.ts';
import type { Fault } from '../protocol/xmlrpc.ts';

/** Arity and type problems read as Python's TypeError, as clients that parse them expect. */
export class PythonTypeError extends Error {}

function pyRepr(s: string): string {
  // Python repr() of a str: single quotes unless the text holds one and no double quote.
  if (s.includes("'") && !s.includes('"')) return `"${s}"`;
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function toFault(err: unknown): Fault {
  if (err instanceof PythonTypeError) return { faultCode: 1, faultString: `<class 'TypeError'>:${err.message}` };
  if (isRackforgeError(err) || err instanceof DecodeError) {
    return { faultCode: 1, faultString: `<class 'cobbler.cexceptions.CX'>:${pyRepr(err.message)}` };
  }
  // Anything else is a bug on our side: say so without leaking internals.
  return { faultCode: 1, faultString: `<class 'cobbler.cexceptions.CX'>:${pyRepr('internal error: ' + (err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown failure'))}` };
}

/** What the CLI shows: the text after the class prefix, unquoted. */
export function faultMessage(faultString: string): string {
  const i = faultString.indexOf(':');
  let rest = i >= 0 && faultString.startsWith('<class') ? faultString.slice(i + 1) : faultString;
  if ((rest.startsWith("'") && rest.endsWith("'")) || (rest.startsWith('"') && rest.endsWith('"'))) rest = rest.slice(1, -1);
  return rest.replace(/\\'/g, "'").replace(/\\\\/g, '\\');
}
