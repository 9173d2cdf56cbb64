// Cobbler 3.3's input conversions (utils.input_string_or_list/_dict, input_boolean,
// dict_to_string), reproduced so that values sent by the CLI (always strings) and by
// Ansible/cobblerclient (typed) end up stored exactly as Cobbler would store them.
// Every refusal is a RackforgeError ITEM_INVALID_FIELD; nothing else is thrown.
import { RackforgeError } from '../../lib/errors.ts';
import { INHERIT } from './types.ts';
import type { Value } from './types.ts';

export type Dict = { [k: string]: Value };

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** obj[key] = value as an own data property, even for keys like "__proto__" (keys come from clients). */
export function setOwn(obj: Dict, key: string, value: Value): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Object.assign without invoking setters (see setOwn). */
export function assignOwn(target: Dict, source: Dict): Dict {
  for (const [k, v] of Object.entries(source)) setOwn(target, k, v);
  return target;
}

/** A short, quoted rendering of a value for error messages ("virt_cpus: 'a' is not an integer"). */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 80 ? `${v.slice(0, 77)}...` : v}'`;
  if (v === undefined) return 'undefined';
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

export function invalid(field: string, value: unknown, why: string): RackforgeError {
  return new RackforgeError('ITEM_INVALID_FIELD', `${field}: ${showValue(value)} ${why}`, { field });
}

/**
 * Python's shlex.split (POSIX mode, no comments): whitespace separates words, '…' is literal,
 * "…" honours \\ \" \$ \` and backslash-newline, a bare backslash escapes the next character.
 * Unbalanced quotes or a trailing backslash are refused, as shlex raises ValueError.
 */
export function shlexSplit(text: string, field = 'value'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      if (inWord) { words.push(word); word = ''; inWord = false; }
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw invalid(field, text, 'has no closing quotation');
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= text.length) throw invalid(field, text, 'has no closing quotation');
        const d = text[i]!;
        if (d === '"') { i++; break; }
        if (d === '\\' && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1]!)) {
          if (text[i + 1] !== '\n') word += text[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw invalid(field, text, 'ends with an escape character');
      if (text[i + 1] !== '\n') word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** input_string_or_list_no_inherit: falsy or "delete" → [], list as is, string → shlex words. */
export function inputStringOrListNoInherit(value: unknown, field = 'value'): Value[] {
  if (value === undefined || value === null || value === '' || value === false || value === 0 || value === 'delete') return [];
  if (Array.isArray(value)) return structuredClone(value as Value[]);
  if (typeof value === 'string') return shlexSplit(value, field);
  throw invalid(field, value, 'is not a string or a list');
}

/** input_string_or_list: like the no-inherit form, but "<<inherit>>" is kept as the string. */
export function inputStringOrList(value: unknown, field = 'value'): Value[] | typeof INHERIT {
  if (value === INHERIT) return INHERIT;
  return inputStringOrListNoInherit(value, field);
}

/**
 * input_string_or_dict: "a=1 b=2 c=3 c=4 d" → {a:"1", b:"2", c:["3","4"], d:null}.
 * Repeated keys become lists when allowMultiples (the last one wins otherwise); a bare word
 * is a key with no value (null, "~" on the wire); the empty key is dropped.
 */
export function inputStringOrDict(value: unknown, allowMultiples = true, field = 'value'): Dict | typeof INHERIT {
  if (value === INHERIT) return INHERIT;
  if (value === undefined || value === null || value === 'delete') return {};
  if (Array.isArray(value)) throw invalid(field, value, 'is a list, not a mapping or "key=value" text');
  if (typeof value === 'string') {
    const out: Dict = {};
    for (const token of shlexSplit(value, field)) {
      const eq = token.indexOf('=');
      const key = eq < 0 ? token : token.slice(0, eq);
      const v: Value = eq < 0 ? null : token.slice(eq + 1);
      if (allowMultiples && Object.prototype.hasOwnProperty.call(out, key)) {
        const prev = out[key]!;
        setOwn(out, key, Array.isArray(prev) ? [...prev, v] : [prev, v]);
      } else {
        setOwn(out, key, v);
      }
    }
    delete out[''];
    return out;
  }
  if (isDict(value)) {
    const out = structuredClone(value);
    delete out[''];
    return out;
  }
  throw invalid(field, value, 'is not a mapping or "key=value" text');
}

const TRUE_WORDS = new Set(['true', '1', 'on', 'yes', 'y']);

/** input_boolean: strings, booleans and numbers only; true for true/1/on/yes/y, false otherwise. */
export function inputBoolean(value: unknown, field = 'value'): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(field, value, 'is not a boolean');
    return value === 1;
  }
  if (typeof value === 'string') return TRUE_WORDS.has(value.toLowerCase());
  throw invalid(field, value, 'is not a boolean');
}

/** Cobbler's utils.is_str_int: the text is exactly the decimal form of an integer. */
export function isStrInt(text: string): boolean {
  return /^-?(0|[1-9][0-9]*)$/.test(text) && text !== '-0';
}

/** utils.is_str_float: an integer text, or the text Python prints for that float. */
export function isStrFloat(text: string): boolean {
  if (isStrInt(text)) return true;
  return /^-?(0|[1-9][0-9]*)\.[0-9]+$/.test(text) && !/\.[0-9]*0$/.test(text.replace(/\.0$/, '.x'));
}

/** An integer from an integer or its decimal text ("a", "1.5", true, null are refused). */
export function inputInt(value: unknown, field = 'value'): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && isStrInt(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw invalid(field, value, 'is not an integer');
}

/** A finite number from a number or numeric text. */
export function inputFloat(value: unknown, field = 'value'): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value)) return Number(value);
  throw invalid(field, value, 'is not a number');
}

/** Python's str() of a scalar, for the few places Cobbler prints values into text. */
export function pyStr(v: Value): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'string') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
}

function pyRepr(v: Value): string {
  return typeof v === 'string' ? `'${v}'` : pyStr(v);
}

function isFalsy(v: Value): boolean {
  if (v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isDict(v)) return Object.keys(v).length === 0;
  return false;
}

/**
 * utils.dict_to_string, byte for byte: `k=v ` per entry, lists repeat the key, values containing
 * a space are single-quoted, falsy values give the bare key. The trailing space is Cobbler's.
 * A non-mapping is returned unchanged, as Cobbler does.
 */
export function dictToKernelArgs(value: Value): Value {
  if (!isDict(value)) return value;
  let out = '';
  for (const [key, v] of Object.entries(value)) {
    if (isFalsy(v)) {
      out += `${key} `;
    } else if (Array.isArray(v)) {
      for (const item of v) {
        const s = pyStr(item).trim();
        out += s.includes(' ') ? `${key}='${s}' ` : `${key}=${s} `;
      }
    } else {
      const s = pyStr(v).trim();
      out += s.includes(' ') ? `${key}='${s}' ` : `${key}=${s} `;
    }
  }
  return out;
}

/** utils.dict_annihilate: "!key" removes "key" and itself (a lone "!" is kept). Returns a copy. */
export function dictAnnihilate(d: Dict): Dict {
  const out: Dict = { ...d };
  for (const k of Object.keys(d)) {
    if (k.startsWith('!') && k !== '!') {
      delete out[k.slice(1)];
      delete out[k];
    }
  }
  return out;
}

/** utils.uniquify: first occurrence wins, order kept (deep equality for non-scalars). */
export function uniquify(list: readonly Value[]): Value[] {
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const v of list) {
    const key = JSON.stringify(v);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}
