// The subset of YAML that mgmt_parameters text uses in practice (Cobbler feeds it to
// yaml.safe_load and insists on a mapping): JSON, flow mappings/sequences, and block
// mappings with nested block mappings and "- item" sequences of scalars or mappings.
// Anything else (anchors, tags, multi-line scalars, multiple documents) is refused rather
// than guessed at: a refusal is an error naming the line, never a wrong mapping.
import type { Value } from './types.ts';

type Dict = { [k: string]: Value };

function put(obj: Dict, key: string, value: Value): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

export class YamlSubsetError extends Error {}

/** Parse text that must denote a mapping. Throws YamlSubsetError otherwise. */
export function parseYamlMapping(text: string): Dict {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const v = parseFlow(trimmed);
    if (!isDict(v)) throw new YamlSubsetError('not a mapping');
    return v;
  }
  const lines = prepareLines(text);
  if (lines.length === 0) throw new YamlSubsetError('empty document is not a mapping');
  const first = lines[0]!;
  if (first.text.startsWith('- ') || first.text === '-') throw new YamlSubsetError('a sequence is not a mapping');
  const [value, next] = parseBlockMapping(lines, 0, first.indent);
  if (next !== lines.length) throw new YamlSubsetError(`unexpected content at line ${lines[next]!.no}`);
  return value;
}

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Line { no: number; indent: number; text: string }

function prepareLines(text: string): Line[] {
  const out: Line[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    const noComment = stripComment(raw);
    if (noComment.trim() === '' || noComment.trim() === '---') return;
    if (/^\t/.test(noComment)) throw new YamlSubsetError(`tab indentation at line ${idx + 1}`);
    const indent = noComment.length - noComment.trimStart().length;
    out.push({ no: idx + 1, indent, text: noComment.trim() });
  });
  return out;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** Split "key: rest" at the first ": " (or trailing ":") outside quotes. */
function splitKey(text: string, no: number): [string, string] | null {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; continue; }
    if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ')) {
      const rawKey = text.slice(0, i).trim();
      if (rawKey === '') throw new YamlSubsetError(`empty key at line ${no}`);
      const key = parseScalar(rawKey, no);
      return [key === null ? 'null' : String(key), text.slice(i + 1).trim()];
    }
  }
  return null;
}

function parseBlockMapping(lines: Line[], start: number, indent: number): [Dict, number] {
  const out: Dict = {};
  let i = start;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) throw new YamlSubsetError(`bad indentation at line ${line.no}`);
    if (line.text.startsWith('- ') || line.text === '-') break;
    const kv = splitKey(line.text, line.no);
    if (!kv) throw new YamlSubsetError(`expected "key: value" at line ${line.no}`);
    const [key, rest] = kv;
    i++;
    if (rest !== '') {
      put(out, key, parseInline(rest, line.no));
      continue;
    }
    const child = lines[i];
    const isSeq = (l: Line): boolean => l.text.startsWith('- ') || l.text === '-';
    if (child && (child.indent > indent || (child.indent === indent && isSeq(child)))) {
      // YAML allows a block sequence at the same indentation as its key.
      const [v, n] = isSeq(child) ? parseBlockSequence(lines, i, child.indent) : parseBlockMapping(lines, i, child.indent);
      put(out, key, v);
      i = n;
    } else {
      put(out, key, null);
    }
  }
  return [out, i];
}

function parseBlockSequence(lines: Line[], start: number, indent: number): [Value[], number] {
  const out: Value[] = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.indent !== indent || !(line.text.startsWith('- ') || line.text === '-')) {
      if (line.indent > indent) throw new YamlSubsetError(`bad indentation at line ${line.no}`);
      break;
    }
    const rest = line.text === '-' ? '' : line.text.slice(2).trim();
    i++;
    if (rest === '') {
      const child = lines[i];
      if (child && child.indent > indent) {
        const [v, n] = child.text.startsWith('- ') || child.text === '-'
          ? parseBlockSequence(lines, i, child.indent)
          : parseBlockMapping(lines, i, child.indent);
        out.push(v);
        i = n;
      } else {
        out.push(null);
      }
      continue;
    }
    if (!rest.startsWith('{') && !rest.startsWith('[') && splitKey(rest, line.no)) {
      // "- key: value" opens a mapping whose further keys sit at the column after "- ".
      const inner: Line[] = [{ no: line.no, indent: indent + 2, text: rest }];
      while (i < lines.length && lines[i]!.indent >= indent + 2) inner.push(lines[i++]!);
      const [m, n] = parseBlockMapping(inner, 0, indent + 2);
      if (n !== inner.length) throw new YamlSubsetError(`unexpected content at line ${inner[n]!.no}`);
      out.push(m);
      continue;
    }
    out.push(parseInline(rest, line.no));
  }
  return [out, i];
}

function parseInline(text: string, no: number): Value {
  if (text.startsWith('{') || text.startsWith('[')) return parseFlow(text);
  if (/^[&*!|>%@`]/.test(text)) throw new YamlSubsetError(`unsupported YAML construct at line ${no}`);
  return parseScalar(text, no);
}

function parseScalar(text: string, no: number): Value {
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new YamlSubsetError(`unterminated string at line ${no}`);
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new YamlSubsetError(`bad double-quoted string at line ${no}`);
    }
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new YamlSubsetError(`unterminated string at line ${no}`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  return text;
}

/** JSON first (the common case from scripts), then YAML flow collections with plain scalars. */
function parseFlow(text: string): Value {
  try {
    return JSON.parse(text) as Value;
  } catch {
    // fall through to the flow parser
  }
  const p = new FlowParser(text);
  const v = p.value();
  p.skipSpace();
  if (!p.done()) throw new YamlSubsetError('trailing content after flow collection');
  return v;
}

class FlowParser {
  private i = 0;
  constructor(private readonly s: string) {}
  done(): boolean { return this.i >= this.s.length; }
  skipSpace(): void { while (!this.done() && /\s/.test(this.s[this.i]!)) this.i++; }
  value(): Value {
    this.skipSpace();
    const c = this.s[this.i];
    if (c === '{') return this.mapping();
    if (c === '[') return this.sequence();
    return this.scalar();
  }
  private mapping(): Dict {
    const out: Dict = {};
    this.i++;
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] === '}') { this.i++; return out; }
      const key = this.scalar(true);
      this.skipSpace();
      let v: Value = null;
      if (this.s[this.i] === ':') {
        this.i++;
        v = this.value();
        this.skipSpace();
      }
      put(out, key === null ? 'null' : String(key), v);
      if (this.s[this.i] === ',') { this.i++; continue; }
      if (this.s[this.i] === '}') { this.i++; return out; }
      throw new YamlSubsetError('expected "," or "}" in flow mapping');
    }
  }
  private sequence(): Value[] {
    const out: Value[] = [];
    this.i++;
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] === ']') { this.i++; return out; }
      out.push(this.value());
      this.skipSpace();
      if (this.s[this.i] === ',') { this.i++; continue; }
      if (this.s[this.i] === ']') { this.i++; return out; }
      throw new YamlSubsetError('expected "," or "]" in flow sequence');
    }
  }
  private scalar(isKey = false): Value {
    this.skipSpace();
    const c = this.s[this.i];
    if (c === undefined) throw new YamlSubsetError('unexpected end of flow collection');
    if (c === '"' || c === "'") {
      const end = this.s.indexOf(c, this.i + 1);
      if (end < 0) throw new YamlSubsetError('unterminated string in flow collection');
      const raw = this.s.slice(this.i, end + 1);
      this.i = end + 1;
      return parseScalar(raw, 1);
    }
    const start = this.i;
    while (!this.done()) {
      const d = this.s[this.i]!;
      if (d === ',' || d === '}' || d === ']' || d === '{' || d === '[') break;
      if (isKey && d === ':' && (this.s[this.i + 1] === ' ' || this.s[this.i + 1] === undefined)) break;
      if (!isKey && d === ':' && this.s[this.i + 1] === ' ') throw new YamlSubsetError('nested mapping without braces');
      this.i++;
    }
    const raw = this.s.slice(start, this.i).trim();
    if (raw === '') throw new YamlSubsetError('empty scalar in flow collection');
    return parseScalar(raw, 1);
  }
}
