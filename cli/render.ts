// Pure text rendering of what the server returns, laid out as Cobbler 3.3's CLI prints it
// (values as Python's str() shows them), so scripts that read `cobbler ... report` output
// keep working against rackforge.
import { INTERFACE_FIELDS, fieldLabel, itemFields, type ObjectType } from './item-options.ts';

function pyQuote(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

/** Python repr() of a decoded XML-RPC value. */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return pyQuote(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isPlainObject(v)) return `{${Object.entries(v).map(([k, x]) => `${pyQuote(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return pyStr(v);
}

/** Python str() of a decoded XML-RPC value: strings bare, containers as repr(). */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `<binary ${v.length} bytes>`;
  return pyRepr(v);
}

const LABEL_WIDTH = 30;
const line = (label: string, value: string): string => `${label.padEnd(LABEL_WIDTH)} : ${value}`;

/** One item as `Label : value` lines: Name first, then the fields in name order, then each interface. */
export function renderItemReport(type: ObjectType, item: Record<string, unknown>): string[] {
  const lines = [line('Name', pyStr(item['name'] ?? ''))];
  for (const field of itemFields(type)) {
    if (field === 'name') continue;
    lines.push(line(fieldLabel(field), pyStr(item[field] ?? '')));
  }
  const interfaces = item['interfaces'];
  if (type === 'system' && isPlainObject(interfaces)) {
    const fields = [...INTERFACE_FIELDS].sort();
    for (const ifname of Object.keys(interfaces).sort()) {
      const nic = interfaces[ifname];
      lines.push(line('Interface =====', ifname));
      for (const field of fields) {
        lines.push(line(fieldLabel(field), pyStr(isPlainObject(nic) ? (nic[field] ?? '') : '')));
      }
    }
  }
  return lines;
}

/** Blended variables as sorted `key: value` lines (`cobbler ... dumpvars`). */
export function renderDumpvars(data: Record<string, unknown>): string[] {
  return Object.keys(data)
    .sort()
    .map((k) => `${k}: ${pyStr(data[k])}`);
}

export function renderJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

export { isPlainObject };
