// XML-RPC values on the wire, as Python's xmlrpc.client (Cobbler's server and its clients)
// writes and reads them. Pure: text in, values out, or a DecodeError naming element and offset.
//
// Decoding streams through sax in strict mode; attributes are ignored (Apache's client declares
// xmlns:ex on the root for <ex:i8> and <ex:nil/>). sax never expands DTD entities; on top of that
// any DOCTYPE and every entity other than the five XML ones and character references is
// refused (XMLRPC_ENTITY), so billion-laughs and XXE bodies fail instead of being echoed.
// Nesting is counted while streaming, so 100k nested arrays fail at depth maxDepth + 1.
//
// Encoding builds strings in Python's exact layout (newlines included), so a response is
// byte-identical to what Cobbler sends for the same values, except that "\r" is written as
// &#13; (Python writes it raw and the receiving parser turns it into "\n").
import sax from 'sax';
import type { SAXOptions } from 'sax';
import { DecodeError } from '../../lib/errors.ts';

export type XmlRpcValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Buffer
  | XmlRpcDouble
  | XmlRpcEncoded
  | XmlRpcValue[]
  | { [k: string]: XmlRpcValue };

/**
 * A value already encoded by encodeValue(), written out verbatim. Lets a server keep the XML
 * of unchanged objects instead of encoding 10,000 systems again on every listing.
 */
export class XmlRpcEncoded {
  /** UTF-8 bytes: kept instead of the string, so a response can be sent without re-encoding. */
  readonly bytes: Buffer;
  constructor(xml: string) {
    this.bytes = Buffer.from(xml, 'utf8');
  }
  get xml(): string {
    return this.bytes.toString('utf8');
  }
}

/** Forces <double> for a number that happens to be integral (a float timestamp like 1700000000.0). */
export class XmlRpcDouble {
  constructor(readonly value: number) {}
}

export interface MethodCall {
  methodName: string;
  params: XmlRpcValue[];
}

export interface Fault {
  faultCode: number;
  faultString: string;
}

export interface DecodeLimits {
  /** Default 32 MiB, checked on the byte length before parsing. */
  maxBytes?: number;
  /** Default 64 nested arrays/structs. */
  maxDepth?: number;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;
// Python 3.11 refuses to convert longer decimal strings too (sys.get_int_max_str_digits);
// it also keeps BigInt parsing, which is quadratic, away from megabyte-long digit runs.
const MAX_INT_DIGITS = 4300;
// Deep enough for any real value, shallow enough to turn a cyclic object into an error.
const MAX_ENCODE_DEPTH = 1000;

const METHOD_NAME = /^[A-Za-z0-9_.:/]+$/;
const XML_SPACE = /^[ \t\n\r]*$/;
// Characters outside XML 1.0's Char production: C0 controls other than tab/LF/CR, U+FFFE,
// U+FFFF, and surrogates that are not part of a pair. Written without the u flag, which
// makes the scan of a large body about twice as fast.
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// ---------------------------------------------------------------------------------------------
// Decoding

/** Element kinds. Bit values so a frame can remember which single-use children it has seen. */
const K = {
  methodCall: 1,
  methodResponse: 2,
  methodName: 4,
  params: 8,
  param: 16,
  fault: 32,
  value: 64,
  array: 128,
  data: 256,
  struct: 512,
  member: 1024,
  name: 2048,
  scalar: 4096,
  nil: 8192,
} as const;
type Kind = (typeof K)[keyof typeof K];

interface ScalarType {
  parse(text: string): XmlRpcValue | undefined;
  /** Completes "<tag> value '…' is not …". */
  expected: string;
}

const INTEGER: ScalarType = { parse: parseInteger, expected: 'an integer' };
const SCALARS: ReadonlyMap<string, ScalarType> = new Map([
  ['int', INTEGER],
  ['i4', INTEGER],
  ['i8', INTEGER],
  ['ex:i8', INTEGER],
  ['boolean', { parse: parseBoolean, expected: 'a boolean (0 or 1)' }],
  ['double', { parse: parseDouble, expected: 'a number' }],
  ['string', { parse: (text: string) => text, expected: 'a string' }],
  ['dateTime.iso8601', { parse: parseDateTime, expected: 'a date and time (YYYYMMDDTHH:MM:SS)' }],
  ['base64', { parse: parseBase64, expected: 'base64' }],
]);

const ELEMENTS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['methodCall', K.methodCall],
  ['methodResponse', K.methodResponse],
  ['methodName', K.methodName],
  ['params', K.params],
  ['param', K.param],
  ['fault', K.fault],
  ['value', K.value],
  ['array', K.array],
  ['data', K.data],
  ['struct', K.struct],
  ['member', K.member],
  ['name', K.name],
  ['nil', K.nil],
  ['ex:nil', K.nil],
  ...[...SCALARS.keys()].map((tag): [string, Kind] => [tag, K.scalar]),
]);

/** Which children each element may hold; `once` children may appear a single time. */
const CHILDREN: ReadonlyMap<Kind, { once: number; many: number }> = new Map<Kind, { once: number; many: number }>([
  [K.methodCall, { once: K.methodName | K.params, many: 0 }],
  [K.methodResponse, { once: K.params | K.fault, many: 0 }],
  [K.params, { once: 0, many: K.param }],
  [K.param, { once: K.value, many: 0 }],
  [K.fault, { once: K.value, many: 0 }],
  [K.value, { once: K.scalar | K.nil | K.array | K.struct, many: 0 }],
  [K.array, { once: K.data, many: 0 }],
  [K.data, { once: 0, many: K.value }],
  [K.struct, { once: 0, many: K.member }],
  [K.member, { once: K.name | K.value, many: 0 }],
]);

/** Elements whose character data is content; elsewhere only whitespace may appear. */
const TEXT_KINDS = K.value | K.scalar | K.nil | K.name | K.methodName;

interface Frame {
  kind: Kind;
  tag: string;
  /** Offset of the element's '<'. */
  start: number;
  text: string;
  /** Kinds of the children seen so far. */
  seen: number;
  /** The decoded child value (value, param, fault, member) or the element's own result. */
  value: XmlRpcValue;
  hasValue: boolean;
  /** Struct member name or method name. */
  name: string | undefined;
  /** Items of data and params; for array, the data element's items. */
  items: XmlRpcValue[] | undefined;
  struct: { [k: string]: XmlRpcValue } | undefined;
}

type Root = typeof K.methodCall | typeof K.methodResponse;

interface Decoded {
  name: string | undefined;
  items: XmlRpcValue[] | undefined;
  fault: XmlRpcValue;
  hasFault: boolean;
}

export function decodeMethodCall(body: string | Buffer, limits?: DecodeLimits): MethodCall {
  const root = decode(body, K.methodCall, limits);
  // decode() has already insisted on a <methodName>.
  return { methodName: root.name ?? '', params: root.items ?? [] };
}

export function decodeMethodResponse(body: string | Buffer, limits?: DecodeLimits): { value: XmlRpcValue } | { fault: Fault } {
  const root = decode(body, K.methodResponse, limits);
  if (root.hasFault) return { fault: toFault(root.fault) };
  const items = root.items ?? [];
  const [value] = items;
  if (items.length !== 1 || value === undefined) {
    throw new DecodeError('XMLRPC_MALFORMED', 'params', 0, `a methodResponse must hold exactly one <param>, not ${items.length}`);
  }
  return { value };
}

function toFault(v: XmlRpcValue): Fault {
  const isStruct = typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
  const code = isStruct ? (v as { [k: string]: XmlRpcValue })['faultCode'] : undefined;
  const text = isStruct ? (v as { [k: string]: XmlRpcValue })['faultString'] : undefined;
  if (typeof code !== 'number' || !Number.isInteger(code) || typeof text !== 'string') {
    throw new DecodeError('XMLRPC_BAD_VALUE', 'fault', 0, 'a fault must be a struct with an integer faultCode and a string faultString');
  }
  return { faultCode: code, faultString: text };
}

function bodyText(body: string | Buffer, maxBytes: number): string {
  const bytes = typeof body === 'string' ? (body.length > maxBytes ? body.length : Buffer.byteLength(body, 'utf8')) : body.length;
  if (bytes > maxBytes) {
    throw new DecodeError('XMLRPC_TOO_LARGE', 'body', 0, `the body is over the limit of ${maxBytes} bytes`);
  }
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    // Python's client declares an encoding only when it is not UTF-8.
    const declared = /^(?:\uFEFF)?<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']/.exec(body.subarray(0, 256).toString('latin1'))?.[1];
    const encoding = (declared ?? 'utf-8').toLowerCase();
    if (encoding === 'iso-8859-1' || encoding === 'latin1' || encoding === 'latin-1') {
      text = body.toString('latin1');
    } else if (encoding === 'utf-8' || encoding === 'utf8' || encoding === 'us-ascii' || encoding === 'ascii') {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(body);
      } catch {
        throw new DecodeError('XMLRPC_MALFORMED', 'body', 0, 'the body is not valid UTF-8');
      }
    } else {
      throw new DecodeError('XMLRPC_MALFORMED', 'body', 0, `unsupported encoding '${encoding}' (only UTF-8 and ISO-8859-1)`);
    }
  }
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const cp = bad[0].codePointAt(0) ?? 0;
    throw new DecodeError('XMLRPC_MALFORMED', 'body', bad.index, `character U+${cp.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);
  }
  // XML end-of-line handling (XML 1.0 §2.11), as expat does for Cobbler: a literal CR or
  // CRLF is a newline; only &#13; yields a CR. Offsets below count the normalised text.
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

function decode(body: string | Buffer, rootKind: Root, limits: DecodeLimits | undefined): Decoded {
  const maxDepth = limits?.maxDepth ?? DEFAULT_MAX_DEPTH;
  const text = bodyText(body, limits?.maxBytes ?? DEFAULT_MAX_BYTES);
  const rootTag = rootKind === K.methodCall ? 'methodCall' : 'methodResponse';

  // strictEntities: only amp, lt, gt, quot, apos (the default table is HTML's).
  const options: SAXOptions & { strictEntities: boolean } = { strictEntities: true, position: true };
  const parser = sax.parser(true, options);
  const stack: Frame[] = [];
  let depth = 0;
  let result: Decoded | undefined;
  let sawRoot = false;

  const fail = (code: string, field: string, offset: number, message: string): never => {
    throw new DecodeError(code, field, Math.max(0, offset), message);
  };
  const here = (): number => parser.position - 1;
  const checkSpace = (frame: Frame): void => {
    if ((frame.kind & TEXT_KINDS) === 0 && !XML_SPACE.test(frame.text)) {
      fail('XMLRPC_MALFORMED', frame.tag, here(), `text ${quote(frame.text.trim())} is not allowed inside <${frame.tag}>`);
    }
    if ((frame.kind & TEXT_KINDS) === 0) frame.text = '';
  };

  parser.onerror = (err: Error): void => {
    const reason = err.message.split('\n', 1)[0] ?? 'not XML';
    if (reason === 'Invalid character entity') {
      const entity = (parser as unknown as { entity: string }).entity;
      const field = stack[stack.length - 1]?.tag ?? 'body';
      if (entity.startsWith('#')) fail('XMLRPC_ENTITY', field, here(), `character reference '&${entity};' is not an XML character`);
      fail('XMLRPC_ENTITY', field, here(), `entity '&${entity};' refused: only &amp; &lt; &gt; &quot; &apos; and character references are allowed`);
    }
    fail('XMLRPC_MALFORMED', stack[stack.length - 1]?.tag ?? 'body', here(), `not well-formed XML: ${reason}`);
  };
  parser.ondoctype = (): void => {
    fail('XMLRPC_ENTITY', 'DOCTYPE', here(), 'a DOCTYPE is not allowed in XML-RPC (entity definitions are refused)');
  };
  parser.onprocessinginstruction = (pi): void => {
    if (pi.name !== 'xml' || sawRoot) fail('XMLRPC_MALFORMED', pi.name, here(), `processing instruction <?${pi.name}?> is not allowed`);
  };
  parser.ontext = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.oncdata = parser.ontext;

  parser.onopentag = (node): void => {
    const tag = node.name;
    const start = parser.startTagPosition - 1;
    const kind = ELEMENTS.get(tag);
    if (kind === undefined) return fail('XMLRPC_MALFORMED', tag, start, `unknown element <${tag}>`);
    const parent = stack[stack.length - 1];
    if (!parent) {
      if (sawRoot) fail('XMLRPC_MALFORMED', tag, start, 'more than one root element');
      if (kind !== rootKind) fail('XMLRPC_MALFORMED', tag, start, `the root element is <${tag}>, expected <${rootTag}>`);
      sawRoot = true;
    } else {
      checkSpace(parent);
      const allowed = CHILDREN.get(parent.kind);
      if (!allowed || ((allowed.once | allowed.many) & kind) === 0) {
        fail('XMLRPC_MALFORMED', tag, start, `<${tag}> is not allowed inside <${parent.tag}>`);
      } else if ((allowed.once & kind) !== 0) {
        // value's children are alternatives; methodResponse holds params or fault, not both.
        const exclusive = parent.kind === K.value || parent.kind === K.methodResponse;
        if (exclusive ? parent.seen !== 0 : (parent.seen & kind) !== 0) {
          fail('XMLRPC_MALFORMED', tag, start, `<${parent.tag}> may hold only one ${exclusive ? 'child' : `<${tag}>`}`);
        }
      }
      parent.seen |= kind;
    }
    if (kind === K.array || kind === K.struct) {
      depth += 1;
      if (depth > maxDepth) fail('XMLRPC_TOO_DEEP', tag, start, `arrays and structs nest deeper than ${maxDepth}`);
    }
    stack.push({
      kind,
      tag,
      start,
      text: '',
      seen: 0,
      value: null,
      hasValue: false,
      name: undefined,
      items: kind === K.data || kind === K.params ? [] : undefined,
      struct: kind === K.struct ? {} : undefined,
    });
  };

  parser.onclosetag = (): void => {
    // sax has matched the tag names already.
    const frame = stack.pop();
    if (!frame) return;
    checkSpace(frame);
    const parent = stack[stack.length - 1];
    switch (frame.kind) {
      case K.scalar: {
        const type = SCALARS.get(frame.tag);
        const v = type?.parse(frame.text);
        if (type === undefined || v === undefined) {
          return fail('XMLRPC_BAD_VALUE', frame.tag, frame.start, `<${frame.tag}> value ${quote(frame.text)} is not ${type?.expected ?? 'valid'}`);
        }
        return deliver(parent, v);
      }
      case K.nil:
        if (!XML_SPACE.test(frame.text)) fail('XMLRPC_BAD_VALUE', frame.tag, frame.start, `<${frame.tag}/> must be empty, not ${quote(frame.text)}`);
        return deliver(parent, null);
      case K.array:
        depth -= 1;
        if (frame.items === undefined) fail('XMLRPC_MALFORMED', 'array', frame.start, '<array> without <data>');
        return deliver(parent, frame.items ?? []);
      case K.data:
        if (parent) parent.items = frame.items;
        return;
      case K.struct:
        depth -= 1;
        return deliver(parent, frame.struct ?? {});
      case K.name:
        if (parent) parent.name = frame.text;
        return;
      case K.member: {
        if (frame.name === undefined) return fail('XMLRPC_MALFORMED', 'member', frame.start, 'struct member without <name>');
        if (!frame.hasValue) return fail('XMLRPC_MALFORMED', 'member', frame.start, `struct member '${frame.name}' without <value>`);
        const struct = parent?.struct;
        if (struct) setMember(struct, frame.name, frame.value);
        return;
      }
      case K.value:
        if (frame.seen === 0) return deliver(parent, frame.text); // untyped text is a string, <value/> is ""
        if (!XML_SPACE.test(frame.text)) {
          return fail('XMLRPC_MALFORMED', 'value', frame.start, `text ${quote(frame.text.trim())} beside a typed value`);
        }
        return deliver(parent, frame.value);
      case K.param:
      case K.fault:
        if (!frame.hasValue) return fail('XMLRPC_MALFORMED', frame.tag, frame.start, `<${frame.tag}> without <value>`);
        if (frame.kind === K.fault) {
          if (parent) {
            parent.value = frame.value;
            parent.hasValue = true;
          }
        } else {
          parent?.items?.push(frame.value);
        }
        return;
      case K.params:
        if (parent) parent.items = frame.items;
        return;
      case K.methodName:
        if (!METHOD_NAME.test(frame.text)) {
          fail('XMLRPC_BAD_VALUE', 'methodName', frame.start, frame.text === '' ? 'the methodName is empty' : `methodName ${quote(frame.text)} may only hold letters, digits and _ . : /`);
        }
        if (parent) parent.name = frame.text;
        return;
      case K.methodCall:
        if (frame.name === undefined) fail('XMLRPC_MALFORMED', 'methodCall', frame.start, '<methodCall> without <methodName>');
        result = { name: frame.name, items: frame.items, fault: null, hasFault: false };
        return;
      case K.methodResponse:
        if (frame.seen === 0) fail('XMLRPC_MALFORMED', 'methodResponse', frame.start, '<methodResponse> without <params> or <fault>');
        result = { name: undefined, items: frame.items, fault: frame.value, hasFault: frame.hasValue };
        return;
    }
  };

  parser.write(text).close();
  if (!result) return fail('XMLRPC_MALFORMED', 'body', text.length, `no <${rootTag}> element`);
  return result;
}

function deliver(parent: Frame | undefined, v: XmlRpcValue): void {
  if (!parent) return;
  if (parent.kind === K.data) {
    parent.items?.push(v);
  } else {
    parent.value = v;
    parent.hasValue = true;
  }
}

/** Last duplicate wins, as in Python; "__proto__" becomes a plain key, never a prototype. */
function setMember(struct: { [k: string]: XmlRpcValue }, name: string, v: XmlRpcValue): void {
  if (name === '__proto__') {
    Object.defineProperty(struct, name, { value: v, enumerable: true, writable: true, configurable: true });
  } else {
    struct[name] = v;
  }
}

function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `'${shown.replace(/[\u0000-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

function parseInteger(text: string): number | bigint | undefined {
  const digits = /^[ \t\n\r]*([+-]?[0-9]+)[ \t\n\r]*$/.exec(text)?.[1];
  if (digits === undefined || digits.length > MAX_INT_DIGITS) return undefined;
  if (digits.length <= 15) return Number(digits) + 0; // + 0 turns "-0" into 0
  const big = BigInt(digits);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** String.trim() would also drop non-XML spaces such as U+00A0. */
function trimXml(text: string): string {
  return text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}

function parseBoolean(text: string): boolean | undefined {
  const t = trimXml(text);
  return t === '1' ? true : t === '0' ? false : undefined;
}

function parseDouble(text: string): number | undefined {
  const t = trimXml(text);
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t)) return Number(t);
  // Python's marshaller writes repr(float), so infinities and NaN arrive as these.
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (!special) return undefined;
  if (special[2]?.toLowerCase() === 'nan') return NaN;
  return special[1] === '-' ? -Infinity : Infinity;
}

function parseDateTime(text: string): Date | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(trimXml(text));
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which maps years 0-99 to 19xx
  date.setUTCHours(hour, minute, second, ms);
  if (date.getUTCDate() !== day) return undefined; // 31 February rolled over
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(-2));
    if (zh > 23 || zm > 59) return undefined;
    const offset = (zh * 60 + zm) * 60_000 * (zone[0] === '-' ? -1 : 1);
    date.setTime(date.getTime() - offset);
  }
  return date;
}

function parseBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[ \t\n\r]+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

// ---------------------------------------------------------------------------------------------
// Encoding
//
// Values the wire cannot carry are bugs in the caller, so they throw: TypeError for a
// JavaScript type with no XML-RPC form (undefined, functions, symbols, Map, class instances),
// RangeError for a value out of range (NaN, Infinity, invalid Date, a year outside 0-9999,
// a character XML 1.0 forbids such as U+0000 or a lone surrogate). The message names the
// path, e.g. "cannot encode params[0].interfaces.eth0.mac: ...". Nothing is replaced silently.

const XML_HEADER = "<?xml version='1.0'?>\n";

class EncodeFailure extends Error {
  /** Path segments, innermost first, added while the failure unwinds. */
  readonly path: string[] = [];
  constructor(
    readonly range: boolean,
    readonly reason: string,
  ) {
    super(reason);
  }
}

// A 10k-system get_systems answer is ~76 MB. Appending to one string builds a rope of
// millions of small pieces that all survive young-generation collections until the end,
// and garbage collection then costs more than the encoding itself. Flattening every CHUNK
// characters lets those pieces die young. Measured on 10k Cobbler 3.3 systems, 2 cores:
// about 0.75 s without, 0.3 s with; any CHUNK from 8 KiB to 1 MiB does as well.
const CHUNK = 1 << 18;

class Output {
  text = '';
  private readonly chunks: string[] = [];
  /** When collecting bytes: finished pieces, pre-encoded values among them as they are. */
  private readonly parts: Buffer[] = [];

  /** A pre-encoded value: as bytes, without copying it into the text. */
  pushEncoded(v: XmlRpcEncoded): void {
    this.chunks.push(this.text);
    this.text = '';
    this.parts.push(Buffer.from(this.chunks.join(''), 'utf8'), v.bytes);
    this.chunks.length = 0;
  }

  finishBytes(): Buffer[] {
    this.chunks.push(this.text);
    this.parts.push(Buffer.from(this.chunks.join(''), 'utf8'));
    return this.parts;
  }
  private readonly memberHeads = new Map<string, string>();

  /** "<member>\n<name>key</name>\n", escaped once per distinct key: struct keys repeat a lot. */
  memberHead(key: string): string {
    let head = this.memberHeads.get(key);
    if (head === undefined) {
      head = `<member>\n<name>${escapeText(key)}</name>\n`;
      // Bounded: free-form dicts (kernel_options, autoinstall_meta) bring keys of their own.
      if (this.memberHeads.size < 4096) this.memberHeads.set(key, head);
    }
    return head;
  }

  flushIfLarge(): void {
    if (this.text.length < CHUNK) return;
    // Number() of a rope makes V8 flatten it in place (the trick of the flatstr package).
    Number(this.text);
    this.chunks.push(this.text);
    this.text = '';
  }

  finish(): string {
    if (this.parts.length > 0) return Buffer.concat(this.finishBytes()).toString('utf8');
    this.chunks.push(this.text);
    return this.chunks.join('');
  }
}

export function encodeMethodCall(methodName: string, params: XmlRpcValue[]): string {
  if (!METHOD_NAME.test(methodName)) {
    throw new RangeError(`cannot encode methodName ${quote(methodName)}: it may only hold letters, digits and _ . : /`);
  }
  const out = new Output();
  out.text = `${XML_HEADER}<methodCall>\n<methodName>${methodName}</methodName>\n`;
  writeParams(out, params);
  out.text += '</methodCall>\n';
  return out.finish();
}

export function encodeMethodResponse(value: XmlRpcValue): string {
  const out = new Output();
  out.text = `${XML_HEADER}<methodResponse>\n`;
  writeParams(out, [value]);
  out.text += '</methodResponse>\n';
  return out.finish();
}

/** The response as UTF-8 pieces to write in order: pre-encoded values are passed through, not copied. */
export function encodeMethodResponseBytes(value: XmlRpcValue): Buffer[] {
  const out = new Output();
  out.text = `${XML_HEADER}<methodResponse>\n`;
  writeParams(out, [value]);
  out.text += '</methodResponse>\n';
  return out.finishBytes();
}

/** One `<value>…</value>\n` fragment, for XmlRpcEncoded. Throws as the encoders do. */
export function encodeValue(value: XmlRpcValue): string {
  const out = new Output();
  writeRoot(out, 'value', value);
  return out.finish();
}

export function encodeFault(fault: Fault): string {
  if (!Number.isSafeInteger(fault.faultCode)) throw new RangeError(`cannot encode faultCode ${fault.faultCode}: not an integer`);
  const out = new Output();
  out.text = `${XML_HEADER}<methodResponse>\n<fault>\n`;
  writeRoot(out, 'fault', { faultCode: fault.faultCode, faultString: fault.faultString });
  out.text += '</fault>\n</methodResponse>\n';
  return out.finish();
}

function writeParams(out: Output, params: XmlRpcValue[]): void {
  out.text += '<params>\n';
  for (let i = 0; i < params.length; i++) {
    out.text += '<param>\n';
    writeRoot(out, `params[${i}]`, params[i] as XmlRpcValue);
    out.text += '</param>\n';
  }
  out.text += '</params>\n';
}

/** Turns an internal failure into the public TypeError or RangeError, naming the path. */
function writeRoot(out: Output, root: string, v: XmlRpcValue): void {
  try {
    writeValue(out, v, 0);
  } catch (e) {
    if (!(e instanceof EncodeFailure)) throw e;
    const message = `cannot encode ${root}${e.path.reverse().join('')}: ${e.reason}`;
    throw e.range ? new RangeError(message) : new TypeError(message);
  }
}

function writeValue(out: Output, v: XmlRpcValue, depth: number): void {
  switch (typeof v) {
    case 'string':
      out.text += '<value><string>' + escapeText(v) + '</string></value>\n';
      return;
    case 'number':
      // Integral numbers beyond 2^53 are floats in JavaScript; as <int> they would come back as bigint.
      out.text += Number.isSafeInteger(v) ? `<value><int>${v}</int></value>\n` : `<value><double>${formatDouble(v)}</double></value>\n`;
      return;
    case 'boolean':
      out.text += v ? '<value><boolean>1</boolean></value>\n' : '<value><boolean>0</boolean></value>\n';
      return;
    case 'bigint':
      out.text += `<value><int>${v}</int></value>\n`;
      return;
    case 'object':
      break;
    default:
      throw new EncodeFailure(false, `${typeof v} has no XML-RPC form`);
  }
  if (v === null) {
    out.text += '<value><nil/></value>'; // Python writes no newline after nil
    return;
  }
  if (depth >= MAX_ENCODE_DEPTH) throw new EncodeFailure(true, `nests deeper than ${MAX_ENCODE_DEPTH} (a cycle?)`);
  if (Array.isArray(v)) {
    out.text += '<value><array><data>\n';
    for (let i = 0; i < v.length; i++) {
      try {
        writeValue(out, v[i] as XmlRpcValue, depth + 1);
      } catch (e) {
        if (e instanceof EncodeFailure) e.path.push(`[${i}]`);
        throw e;
      }
      out.flushIfLarge();
    }
    out.text += '</data></array></value>\n';
    return;
  }
  if (v instanceof Date) {
    out.text += `<value><dateTime.iso8601>${formatDateTime(v)}</dateTime.iso8601></value>\n`;
    return;
  }
  if (v instanceof Uint8Array) {
    out.text += `<value><base64>\n${formatBase64(v)}</base64></value>\n`;
    return;
  }
  if (v instanceof XmlRpcDouble) {
    out.text += `<value><double>${formatDouble(v.value)}</double></value>\n`;
    return;
  }
  if (v instanceof XmlRpcEncoded) {
    out.pushEncoded(v);
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
    throw new EncodeFailure(false, `a ${typeof name === 'string' ? name : 'non-plain object'} is not a struct`);
  }
  out.text += '<value><struct>\n';
  for (const key of Object.keys(v)) {
    const member = v[key] as XmlRpcValue;
    try {
      const head = out.memberHead(key);
      if (typeof member === 'string') {
        // Most members are strings: one append instead of three.
        out.text += head + '<value><string>' + escapeText(member) + '</string></value>\n</member>\n';
      } else {
        out.text += head;
        writeValue(out, member, depth + 1);
        out.text += '</member>\n';
      }
    } catch (e) {
      if (e instanceof EncodeFailure) e.path.push(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
      throw e;
    }
    out.flushIfLarge();
  }
  out.text += '</struct></value>\n';
}

/** Escapes & < > and CR; refuses characters XML 1.0 cannot carry. A loop, not a regex: faster on short strings. */
function escapeText(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x3f ? c === 0x26 || c === 0x3c || c === 0x3e || (c < 0x20 && c !== 0x09 && c !== 0x0a) : c >= 0xd800) {
      return escapeFrom(s, i);
    }
  }
  return s;
}

function escapeFrom(s: string, start: number): string {
  let out = s.slice(0, start);
  let last = start;
  let checked = false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let entity: string;
    if (c === 0x26) entity = '&amp;';
    else if (c === 0x3c) entity = '&lt;';
    else if (c === 0x3e) entity = '&gt;';
    else if (c === 0x0d) entity = '&#13;';
    else {
      if (!checked && (c < 0x20 ? c !== 0x09 && c !== 0x0a : c >= 0xd800)) {
        const bad = NOT_XML_CHAR.exec(s);
        if (bad) {
          const cp = bad[0].codePointAt(0) ?? 0;
          throw new EncodeFailure(true, `U+${cp.toString(16).toUpperCase().padStart(4, '0')} at index ${bad.index} is not allowed in XML 1.0`);
        }
        checked = true;
      }
      continue;
    }
    out += s.slice(last, i) + entity;
    last = i + 1;
  }
  return out + s.slice(last);
}

/** Python's repr(float): shortest round-trip digits, exponent below 1e-4 and from 1e16, always a '.0' or exponent. */
function formatDouble(n: number): string {
  if (!Number.isFinite(n)) throw new EncodeFailure(true, `${n} is not representable in XML-RPC`);
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(n);
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    // Both languages write this range without an exponent; Python adds ".0" to integral values.
    const fixed = String(n);
    return fixed.includes('.') ? fixed : `${fixed}.0`;
  }
  // Outside that range Python always uses an exponent of at least two digits: 1e-05, 1.5e+16.
  // String() gives the same shortest round-trip digits; only the layout differs.
  const [mantissa = '', exponent = '0'] = String(magnitude).split('e');
  const dot = mantissa.indexOf('.');
  const whole = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const allDigits = whole + (dot < 0 ? '' : mantissa.slice(dot + 1));
  const significant = allDigits.replace(/^0+/, '');
  const digits = significant.replace(/0+$/, '');
  const e = whole.length + Number(exponent) - (allDigits.length - significant.length) - 1;
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${n < 0 ? '-' : ''}${m}e${e < 0 ? '-' : '+'}${Math.abs(e) < 10 ? '0' : ''}${Math.abs(e)}`;
}

function formatDateTime(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new EncodeFailure(true, 'the Date is invalid');
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new EncodeFailure(true, `year ${year} does not fit YYYYMMDD`);
  const two = (x: number): string => (x < 10 ? `0${x}` : `${x}`);
  return `${String(year).padStart(4, '0')}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** Python's base64.encodebytes: lines of 76 characters, each ending in a newline. */
function formatBase64(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += `${b64.slice(i, i + 76)}\n`;
  return out;
}
