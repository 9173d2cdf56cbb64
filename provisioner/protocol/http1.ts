// The head of an HTTP/1.x message (RFC 9112): request line or status line, then header fields, up
// to the blank line. Pure: bytes in, an HttpHead out, null while the head is still incomplete, or
// a DecodeError naming the field and offset. Bodies are the caller's (httpContentLength says how
// long one is when a Content-Length says so).
//
// Made for reading captures, where one side of a TCP stream is fed in as it arrives: the lines
// already complete are checked on every call, so a stream that is not HTTP is refused as soon as
// its first line ends rather than after HTTP_MAX_HEAD_BYTES. Only the last, unfinished line can
// make the answer null.
//
// Strict where RFC 9112 says a recipient must refuse (obs-fold, whitespace between a field name
// and its colon, a bare CR) and lenient where common parsers are: a lone LF ends a line (§2.2),
// empty lines before the start line are skipped (§2.2), a status line may stop after the code
// when the reason is empty. Text is read as latin1, so obs-text bytes come through one to one.
import { DecodeError } from '../../lib/errors.ts';

/** A head that has not ended within this many bytes is refused (HTTP_HEAD_TOO_LONG). */
export const HTTP_MAX_HEAD_BYTES = 16384;

/** The codes decodeHttpHead throws in DecodeError.code. */
export const HTTP_DECODE_ERRORS = {
  HTTP_BAD_START_LINE: 'the first line is neither "method SP target SP HTTP/d.d" nor "HTTP/d.d SP 3DIGIT [SP reason]"',
  HTTP_BAD_HEADER: 'a header line has no colon, an empty or non-token name, whitespace before the colon, a control character in its value, or starts with whitespace (obs-fold)',
  HTTP_BARE_CR: 'a CR is not followed by LF',
  HTTP_HEAD_TOO_LONG: `the head does not end within ${HTTP_MAX_HEAD_BYTES} bytes`,
} as const;
export type HttpDecodeErrorCode = keyof typeof HTTP_DECODE_ERRORS;

/** Header fields in the order received, names lower-cased, values without surrounding whitespace. */
export type HttpHeaders = Array<[name: string, value: string]>;

export interface HttpRequestHead {
  kind: 'request';
  method: string;
  target: string;
  /** As on the wire: "HTTP/1.1". */
  version: string;
  headers: HttpHeaders;
  /** Bytes from the start of the input up to and including the blank line. */
  headLength: number;
}

export interface HttpResponseHead {
  kind: 'response';
  version: string;
  status: number;
  /** Possibly empty. */
  reason: string;
  headers: HttpHeaders;
  headLength: number;
}

export type HttpHead = HttpRequestHead | HttpResponseHead;
export type HttpHeadInput = Omit<HttpRequestHead, 'headLength'> | Omit<HttpResponseHead, 'headLength'>;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR: readonly boolean[] = Array.from({ length: 256 }, (_, c) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** VCHAR, SP, HTAB or obs-text: what a field value and a reason phrase may hold. */
const isFieldByte = (c: number): boolean => c === HTAB || (c >= SP && c !== 0x7f);

/** Length of "HTTP/d.d" at `at` (8), or 0. */
function versionAt(b: Buffer, at: number, end: number): number {
  if (end - at < 8) return 0;
  if (b[at] !== 0x48 || b[at + 1] !== 0x54 || b[at + 2] !== 0x54 || b[at + 3] !== 0x50 || b[at + 4] !== 0x2f) return 0;
  return isDigit(b[at + 5]!) && b[at + 6] === 0x2e && isDigit(b[at + 7]!) ? 8 : 0;
}

type StartLine = Omit<HttpRequestHead, 'headers' | 'headLength'> | Omit<HttpResponseHead, 'headers' | 'headLength'>;

function badStart(field: string, at: number, why: string): DecodeError {
  return new DecodeError('HTTP_BAD_START_LINE', field, at, why);
}

function decodeStatusLine(b: Buffer, start: number, end: number): StartLine {
  const version = b.toString('latin1', start, start + 8);
  let at = start + 8;
  if (b[at] !== SP) throw badStart('version', start, 'a status line must be "HTTP/d.d SP 3DIGIT"');
  at++;
  if (end - at < 3 || !isDigit(b[at]!) || !isDigit(b[at + 1]!) || !isDigit(b[at + 2]!) || (at + 3 < end && b[at + 3] !== SP)) {
    throw badStart('status', at, 'the status code is not three digits followed by a space or the end of the line');
  }
  const status = Number(b.toString('latin1', at, at + 3));
  at += 3;
  const reasonStart = at < end ? at + 1 : end;
  for (let i = reasonStart; i < end; i++) if (!isFieldByte(b[i]!)) throw badStart('reason', i, `byte 0x${b[i]!.toString(16).padStart(2, '0')} in the reason phrase`);
  return { kind: 'response', version, status, reason: b.toString('latin1', reasonStart, end) };
}

function decodeRequestLine(b: Buffer, start: number, end: number): StartLine {
  let at = start;
  while (at < end && TCHAR[b[at]!]) at++;
  if (at === start || at === end || b[at] !== SP) throw badStart('method', at, at === start ? 'the line does not start with a method token' : 'the method is not a token followed by a space');
  const method = b.toString('latin1', start, at);
  const targetStart = ++at;
  while (at < end && b[at]! > SP && b[at]! < 0x7f) at++;
  if (at === targetStart || at === end || b[at] !== SP) throw badStart('target', at, at === targetStart ? 'no request target after the method' : 'the request target holds a byte outside visible ASCII or has no version after it');
  const target = b.toString('latin1', targetStart, at);
  const versionStart = ++at;
  if (versionAt(b, versionStart, end) !== 8 || versionStart + 8 !== end) throw badStart('version', versionStart, 'the request line does not end with HTTP/d.d');
  return { kind: 'request', method, target, version: b.toString('latin1', versionStart, end) };
}

function decodeHeaderLine(b: Buffer, start: number, end: number): [string, string] {
  let at = start;
  while (at < end && TCHAR[b[at]!]) at++;
  if (at === start) {
    const c = b[start]!;
    const why = c === SP || c === HTAB ? 'a line starting with whitespace continues the previous one (obs-fold), which RFC 9112 refuses' : 'the field name is empty';
    throw new DecodeError('HTTP_BAD_HEADER', 'name', start, why);
  }
  if (at === end || b[at] !== 0x3a) {
    const why = at === end ? 'the header line has no colon' : b[at] === SP || b[at] === HTAB ? 'whitespace between the field name and the colon' : 'the field name is not a token';
    throw new DecodeError('HTTP_BAD_HEADER', 'name', at, why);
  }
  const name = b.toString('latin1', start, at).toLowerCase();
  let valueStart = at + 1;
  let valueEnd = end;
  for (let i = valueStart; i < end; i++) if (!isFieldByte(b[i]!)) throw new DecodeError('HTTP_BAD_HEADER', 'value', i, `control byte 0x${b[i]!.toString(16).padStart(2, '0')} in the value of ${name}`);
  while (valueStart < valueEnd && (b[valueStart] === SP || b[valueStart] === HTAB)) valueStart++;
  while (valueEnd > valueStart && (b[valueEnd - 1] === SP || b[valueEnd - 1] === HTAB)) valueEnd--;
  return [name, b.toString('latin1', valueStart, valueEnd)];
}

/**
 * Decodes the head at the start of `b`; bytes after it (a body, the next message) are left alone.
 * null: the head has not ended yet and fewer than HTTP_MAX_HEAD_BYTES bytes are given. Throws
 * DecodeError (codes in HTTP_DECODE_ERRORS) and nothing else.
 */
export function decodeHttpHead(b: Buffer): HttpHead | null {
  const window = b.length > HTTP_MAX_HEAD_BYTES ? b.subarray(0, HTTP_MAX_HEAD_BYTES) : b;
  let start: StartLine | undefined;
  const headers: HttpHeaders = [];
  let pos = 0;
  for (;;) {
    const lf = window.indexOf(LF, pos);
    if (lf < 0) {
      if (b.length < HTTP_MAX_HEAD_BYTES) return null;
      throw new DecodeError('HTTP_HEAD_TOO_LONG', 'head', HTTP_MAX_HEAD_BYTES, `no blank line within the first ${HTTP_MAX_HEAD_BYTES} bytes`);
    }
    const end = lf > pos && b[lf - 1] === CR ? lf - 1 : lf;
    const cr = window.subarray(pos, end).indexOf(CR) + pos;
    if (cr >= pos) throw new DecodeError('HTTP_BARE_CR', start ? 'header' : 'startLine', cr, 'a CR not followed by LF');
    if (end === pos) {
      pos = lf + 1;
      if (!start) continue;
      return { ...start, headers, headLength: pos };
    }
    if (!start) start = versionAt(b, pos, end) ? decodeStatusLine(b, pos, end) : decodeRequestLine(b, pos, end);
    else headers.push(decodeHeaderLine(b, pos, end));
    pos = lf + 1;
  }
}

/** True when `b` begins the way an HTTP/1.x message does: "HTTP/" or a method token and a space. */
export function startsLikeHttp(b: Buffer): boolean {
  if (b.length >= 5 && b[0] === 0x48 && b[1] === 0x54 && b[2] === 0x54 && b[3] === 0x50 && b[4] === 0x2f) return true;
  // No registered method is longer than 17 characters (UPDATEREDIRECTREF); 32 leaves room.
  const max = Math.min(b.length, 33);
  let i = 0;
  while (i < max && TCHAR[b[i]!]) i++;
  return i > 0 && i < max && b[i] === SP;
}

/** The value of field `name` (any case); repeated fields are joined with ", " (RFC 9110 §5.3). */
export function httpHeader(head: Pick<HttpHead, 'headers'>, name: string): string | undefined {
  const want = name.toLowerCase();
  let value: string | undefined;
  for (const [n, v] of head.headers) if (n === want) value = value === undefined ? v : `${value}, ${v}`;
  return value;
}

/**
 * The body length a Content-Length field gives, or undefined: no such field, a Transfer-Encoding
 * present (it overrides, RFC 9112 §6.3), or a value that is not a number or disagrees with
 * another ("5, 5" is one length, RFC 9110 §8.6).
 */
export function httpContentLength(head: Pick<HttpHead, 'headers'>): number | undefined {
  if (httpHeader(head, 'transfer-encoding') !== undefined) return undefined;
  const value = httpHeader(head, 'content-length');
  if (value === undefined) return undefined;
  let length: string | undefined;
  for (const part of value.split(',')) {
    const p = part.trim();
    if (!/^[0-9]+$/.test(p) || (length !== undefined && Number(p) !== Number(length))) return undefined;
    length = p;
  }
  const n = Number(length);
  return Number.isSafeInteger(n) ? n : undefined;
}

function checkToken(s: string, what: string): void {
  if (s.length === 0 || ![...s].every((c) => TCHAR[c.charCodeAt(0)])) throw new RangeError(`cannot encode ${what} '${s}': not a token`);
}

function checkText(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || !isFieldByte(c)) throw new RangeError(`cannot encode ${what}: character ${c} is not allowed`);
  }
}

const VERSION_RE = /^HTTP\/[0-9]\.[0-9]$/;

/**
 * The head as CRLF-terminated lines, ending with the blank line (headLength is not read). Names
 * are written as given. RangeError for a value with no wire form: a method or field name that is
 * not a token, a target with a space or a non-ASCII character, a version not "HTTP/d.d", a status
 * outside 0-999, a control character in a reason or value, a value with whitespace at either end.
 */
export function encodeHttpHead(h: HttpHeadInput): Buffer {
  if (!VERSION_RE.test(h.version)) throw new RangeError(`cannot encode version '${h.version}': not HTTP/d.d`);
  let text: string;
  if (h.kind === 'request') {
    checkToken(h.method, 'method');
    if (!/^[\x21-\x7e]+$/.test(h.target)) throw new RangeError(`cannot encode request target '${h.target}': empty, or a space or non-ASCII character in it`);
    text = `${h.method} ${h.target} ${h.version}\r\n`;
  } else {
    if (!Number.isInteger(h.status) || h.status < 0 || h.status > 999) throw new RangeError(`cannot encode status ${h.status}: not three digits`);
    checkText(h.reason, 'reason');
    text = `${h.version} ${String(h.status).padStart(3, '0')} ${h.reason}\r\n`;
  }
  for (const [name, value] of h.headers) {
    checkToken(name, 'field name');
    checkText(value, `the value of ${name}`);
    if (/^[ \t]|[ \t]$/.test(value)) throw new RangeError(`cannot encode the value of ${name}: whitespace at either end would be lost`);
    text += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${text}\r\n`, 'latin1');
}
