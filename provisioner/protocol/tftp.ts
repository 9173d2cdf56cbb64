// TFTP packets on the wire: RFC 1350, option extension RFC 2347 (OACK), blksize RFC 2348,
// timeout/tsize RFC 2349, windowsize RFC 7440. Pure: bytes in, a TftpPacket out, or a
// DecodeError naming the field and the byte offset where the problem starts.
//
// Strings (filename, mode, option names and values, error messages) are decoded as latin1:
// TFTP names are bytes, not text, and latin1 maps every byte to one code unit and back, so a
// filename with UTF-8 or stray high bytes survives decode -> encode unchanged. Callers that
// want text must decide on an encoding themselves.
//
// Strict on purpose (the npm servers crash or misbehave on malformed datagrams): every field
// must be complete and NUL-terminated, nothing may follow the last field, duplicate options
// are refused. Negotiation, which is tolerant per RFC 2347 (a bad option value is ignored, not
// fatal), lives in negotiateOptions() on top of the decoded option list.
import { DecodeError } from '../../lib/errors.ts';

export const TFTP_OPCODES = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;
export type TftpOp = keyof typeof TFTP_OPCODES;

/** RFC 1350 §5 error codes, plus 8 from RFC 2347. */
export const TFTP_ERROR_CODES = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;
export type TftpErrorName = keyof typeof TFTP_ERROR_CODES;
export type TftpErrorCode = (typeof TFTP_ERROR_CODES)[TftpErrorName];

/** The codes decodeTftp throws in DecodeError.code. */
export const TFTP_DECODE_ERRORS = {
  TFTP_TRUNCATED: 'the datagram ends before a fixed-size field',
  TFTP_BAD_OPCODE: 'the opcode is not 1-6',
  TFTP_UNTERMINATED_STRING: 'a string field has no terminating NUL',
  TFTP_EMPTY_FILENAME: 'the filename is empty',
  TFTP_NAME_TOO_LONG: 'the filename is longer than the limit',
  TFTP_NUL_IN_FILENAME: 'the filename contains a NUL byte',
  TFTP_BAD_MODE: 'the mode is not netascii, octet or mail',
  TFTP_BAD_OPTION: 'an option has an empty name or no value',
  TFTP_DUPLICATE_OPTION: 'an option name occurs twice (case-insensitive)',
  TFTP_EMPTY_OACK: 'an OACK carries no options',
  TFTP_DATA_TOO_LONG: 'a DATA payload is longer than 65464 bytes',
  TFTP_BAD_ERROR_CODE: 'an ERROR code is not 0-8',
  TFTP_TRAILING_BYTES: 'bytes follow the last field',
} as const;
export type TftpDecodeErrorCode = keyof typeof TFTP_DECODE_ERRORS;

export type TftpMode = 'netascii' | 'octet' | 'mail';
/** [name, value]; decoded names are lower-case, values are kept as sent (latin1). */
export type TftpOption = readonly [name: string, value: string];

export type TftpPacket =
  | { op: 'RRQ' | 'WRQ'; filename: string; mode: TftpMode; options: TftpOption[] }
  | { op: 'DATA'; block: number; data: Buffer }
  | { op: 'ACK'; block: number }
  | { op: 'ERROR'; code: TftpErrorCode; message: string }
  | { op: 'OACK'; options: TftpOption[] };

export interface TftpDecodeLimits {
  /** Longest filename in bytes; default 255. */
  maxFilenameBytes?: number;
}

/** RFC 2348: the largest block that fits a 64 KiB IPv4 datagram. */
export const TFTP_MAX_BLKSIZE = 65464;
export const TFTP_MIN_BLKSIZE = 8;
export const TFTP_DEFAULT_BLKSIZE = 512;
export const TFTP_MAX_WINDOWSIZE = 65535;
const DEFAULT_MAX_FILENAME = 255;
const MODES: readonly string[] = ['netascii', 'octet', 'mail'];
const OPCODE_OPS: readonly (TftpOp | undefined)[] = [undefined, 'RRQ', 'WRQ', 'DATA', 'ACK', 'ERROR', 'OACK'];
// Over 15 digits a value could pass Number.MAX_SAFE_INTEGER; no TFTP option needs that many.
const MAX_OPTION_DIGITS = 15;

function fail(code: TftpDecodeErrorCode, field: string, offset: number, message: string): never {
  throw new DecodeError(code, field, offset, message);
}

/** Reads a NUL-terminated latin1 string at `start`; `end` is the offset after the NUL. */
function readString(b: Uint8Array, start: number, field: string): { value: string; end: number } {
  const nul = b.indexOf(0, start);
  if (nul < 0) fail('TFTP_UNTERMINATED_STRING', field, start, `${field} has no terminating NUL`);
  return { value: Buffer.from(b.buffer, b.byteOffset + start, nul - start).toString('latin1'), end: nul + 1 };
}

/**
 * Decodes one TFTP datagram. Throws DecodeError (codes in TFTP_DECODE_ERRORS) and nothing else.
 * DATA.data is a view into `bytes`, not a copy.
 */
export function decodeTftp(bytes: Uint8Array, limits: TftpDecodeLimits = {}): TftpPacket {
  if (bytes.length < 2) fail('TFTP_TRUNCATED', 'opcode', 0, `a ${bytes.length}-byte datagram has no opcode`);
  const opcode = (bytes[0]! << 8) | bytes[1]!;
  const op = OPCODE_OPS[opcode];
  if (op === undefined) fail('TFTP_BAD_OPCODE', 'opcode', 0, `opcode ${opcode} is not a TFTP opcode`);
  switch (op) {
    case 'RRQ':
    case 'WRQ':
      return decodeRequest(op, bytes, limits.maxFilenameBytes ?? DEFAULT_MAX_FILENAME);
    case 'DATA': {
      if (bytes.length < 4) fail('TFTP_TRUNCATED', 'block', 2, 'DATA ends inside the block number');
      const len = bytes.length - 4;
      if (len > TFTP_MAX_BLKSIZE) fail('TFTP_DATA_TOO_LONG', 'data', 4 + TFTP_MAX_BLKSIZE, `DATA carries ${len} bytes, more than ${TFTP_MAX_BLKSIZE}`);
      return { op, block: u16(bytes, 2), data: Buffer.from(bytes.buffer, bytes.byteOffset + 4, len) };
    }
    case 'ACK':
      if (bytes.length < 4) fail('TFTP_TRUNCATED', 'block', 2, 'ACK ends inside the block number');
      if (bytes.length > 4) fail('TFTP_TRAILING_BYTES', 'ack', 4, `${bytes.length - 4} bytes follow the ACK`);
      return { op, block: u16(bytes, 2) };
    case 'ERROR': {
      if (bytes.length < 4) fail('TFTP_TRUNCATED', 'code', 2, 'ERROR ends inside the error code');
      const code = u16(bytes, 2);
      if (code > 8) fail('TFTP_BAD_ERROR_CODE', 'code', 2, `error code ${code} is not 0-8`);
      const msg = readString(bytes, 4, 'message');
      if (msg.end !== bytes.length) fail('TFTP_TRAILING_BYTES', 'message', msg.end, `${bytes.length - msg.end} bytes follow the ERROR message`);
      return { op, code: code as TftpErrorCode, message: msg.value };
    }
    case 'OACK': {
      const options = decodeOptions(bytes, 2);
      if (options.length === 0) fail('TFTP_EMPTY_OACK', 'options', 2, 'an OACK must acknowledge at least one option');
      return { op, options };
    }
  }
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function decodeRequest(op: 'RRQ' | 'WRQ', b: Uint8Array, maxFilename: number): TftpPacket {
  const name = readString(b, 2, 'filename');
  if (name.value.length === 0) fail('TFTP_EMPTY_FILENAME', 'filename', 2, 'the filename is empty');
  if (name.value.length > maxFilename) fail('TFTP_NAME_TOO_LONG', 'filename', 2 + maxFilename, `the filename is ${name.value.length} bytes, more than ${maxFilename}`);
  const mode = readString(b, name.end, 'mode');
  const lower = mode.value.toLowerCase();
  if (!MODES.includes(lower)) {
    // "a\0b\0octet\0": the client put a NUL inside the filename. Say so rather than "bad mode b".
    const next = b.indexOf(0, mode.end);
    if (next >= 0 && MODES.includes(Buffer.from(b.subarray(mode.end, next)).toString('latin1').toLowerCase())) {
      fail('TFTP_NUL_IN_FILENAME', 'filename', name.end - 1, 'the filename contains a NUL byte');
    }
    fail('TFTP_BAD_MODE', 'mode', name.end, `mode ${JSON.stringify(mode.value)} is not netascii, octet or mail`);
  }
  return { op, filename: name.value, mode: lower as TftpMode, options: decodeOptions(b, mode.end) };
}

function decodeOptions(b: Uint8Array, start: number): TftpOption[] {
  const options: TftpOption[] = [];
  const seen = new Set<string>();
  let at = start;
  while (at < b.length) {
    const name = readString(b, at, 'option name');
    if (name.value.length === 0) fail('TFTP_BAD_OPTION', 'option name', at, 'an option name is empty');
    const lower = name.value.toLowerCase();
    if (name.end >= b.length) fail('TFTP_BAD_OPTION', `option ${lower}`, at, `option ${JSON.stringify(lower)} has no value`);
    if (seen.has(lower)) fail('TFTP_DUPLICATE_OPTION', `option ${lower}`, at, `option ${JSON.stringify(lower)} occurs twice`);
    const value = readString(b, name.end, `option ${lower} value`);
    seen.add(lower);
    options.push([lower, value.value]);
    at = value.end;
  }
  return options;
}

/**
 * Encodes a packet. Throws RangeError for a value that has no wire form (block or code out of
 * range, oversize DATA, an empty filename, a NUL or a character above U+00FF in a string,
 * duplicate or empty option names, an OACK without options). The filename length limit is the
 * receiver's policy and is not checked here. Option names are written as given.
 */
export function encodeTftp(p: TftpPacket): Buffer {
  switch (p.op) {
    case 'RRQ':
    case 'WRQ': {
      if (p.filename.length === 0) throw new RangeError('cannot encode an empty filename');
      if (!MODES.includes(p.mode)) throw new RangeError(`cannot encode mode ${JSON.stringify(p.mode)}`);
      return Buffer.concat([head(p.op), cstring(p.filename, 'filename'), cstring(p.mode, 'mode'), encodeOptions(p.options)]);
    }
    case 'DATA': {
      checkBlock(p.block);
      if (p.data.length > TFTP_MAX_BLKSIZE) throw new RangeError(`cannot encode ${p.data.length} DATA bytes: more than ${TFTP_MAX_BLKSIZE}`);
      const out = Buffer.allocUnsafe(4 + p.data.length);
      out.writeUInt16BE(TFTP_OPCODES.DATA, 0);
      out.writeUInt16BE(p.block, 2);
      out.set(p.data, 4);
      return out;
    }
    case 'ACK': {
      checkBlock(p.block);
      const out = Buffer.alloc(4);
      out.writeUInt16BE(TFTP_OPCODES.ACK, 0);
      out.writeUInt16BE(p.block, 2);
      return out;
    }
    case 'ERROR': {
      if (!Number.isInteger(p.code) || p.code < 0 || p.code > 8) throw new RangeError(`cannot encode error code ${p.code}: not 0-8`);
      const code = Buffer.alloc(2);
      code.writeUInt16BE(p.code, 0);
      return Buffer.concat([head('ERROR'), code, cstring(p.message, 'message')]);
    }
    case 'OACK':
      if (p.options.length === 0) throw new RangeError('cannot encode an OACK without options');
      return Buffer.concat([head('OACK'), encodeOptions(p.options)]);
  }
}

function head(op: TftpOp): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(TFTP_OPCODES[op], 0);
  return b;
}

function checkBlock(block: number): void {
  if (!Number.isInteger(block) || block < 0 || block > 0xffff) throw new RangeError(`cannot encode block ${block}: not 0-65535`);
}

function cstring(s: string, field: string): Buffer {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) throw new RangeError(`cannot encode ${field}: NUL at index ${i}`);
    if (c > 0xff) throw new RangeError(`cannot encode ${field}: U+${c.toString(16).toUpperCase().padStart(4, '0')} at index ${i} is not a latin1 byte`);
  }
  const out = Buffer.alloc(s.length + 1);
  out.write(s, 0, 'latin1');
  return out;
}

function encodeOptions(options: readonly TftpOption[]): Buffer {
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  for (const [name, value] of options) {
    const lower = name.toLowerCase();
    if (name.length === 0) throw new RangeError('cannot encode an empty option name');
    if (seen.has(lower)) throw new RangeError(`cannot encode option ${JSON.stringify(lower)} twice`);
    seen.add(lower);
    parts.push(cstring(name, 'option name'), cstring(value, `option ${lower} value`));
  }
  return Buffer.concat(parts);
}

/**
 * An option value as a non-negative integer: ASCII decimal digits only (leading zeros allowed),
 * at most 15 of them; no sign, space, "0x" or trailing text. Anything else gives null.
 */
export function parseOptionValue(value: string): number | null {
  if (value.length === 0 || value.length > MAX_OPTION_DIGITS || !/^[0-9]+$/.test(value)) return null;
  return Number(value);
}

export interface NegotiationLimits {
  /** Largest block the server will use, 8-65464. */
  maxBlksize: number;
  /** Path MTU hint in bytes; blksize is kept to mtu - 32 (IPv4 20 + UDP 8 + TFTP 4). */
  mtu?: number;
  /** Largest window the server will use, 1-65535. */
  maxWindowsize: number;
  /** Size of the file being read; without it tsize is not acknowledged. */
  fileSize?: number;
}

export interface NegotiatedOptions {
  /** Options for the OACK, sorted by name; empty means send no OACK (plain RFC 1350 transfer). */
  oack: TftpOption[];
  /** Block size to use: the acknowledged blksize, or 512. */
  blksize: number;
  /** Window size to use: the acknowledged windowsize, or 1. */
  windowsize: number;
  /** Retransmission timeout the client asked for and the server accepted, or null for the server's own. */
  timeoutSeconds: number | null;
}

/**
 * Decides which requested options a server acknowledges (RFC 2347 and friends). Unknown
 * options and invalid values are ignored, never fatal; for a repeated name the first wins.
 * - blksize 8-65464, lowered to maxBlksize and to the MTU hint;
 * - tsize: only "0" (a read request asking for the size), answered with fileSize when known;
 * - timeout 1-255, accepted as-is (RFC 2349 does not let the server change it);
 * - windowsize 1-65535, lowered to maxWindowsize.
 * Throws RangeError only for limits that are themselves out of range.
 */
export function negotiateOptions(requested: readonly TftpOption[], limits: NegotiationLimits): NegotiatedOptions {
  const { maxBlksize, mtu, maxWindowsize, fileSize } = limits;
  if (!Number.isInteger(maxBlksize) || maxBlksize < TFTP_MIN_BLKSIZE || maxBlksize > TFTP_MAX_BLKSIZE) throw new RangeError(`maxBlksize ${maxBlksize} is not 8-65464`);
  if (!Number.isInteger(maxWindowsize) || maxWindowsize < 1 || maxWindowsize > TFTP_MAX_WINDOWSIZE) throw new RangeError(`maxWindowsize ${maxWindowsize} is not 1-65535`);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68)) throw new RangeError(`mtu ${mtu} is below the IPv4 minimum of 68`);
  if (fileSize !== undefined && (!Number.isSafeInteger(fileSize) || fileSize < 0)) throw new RangeError(`fileSize ${fileSize} is not a non-negative integer`);

  const first = new Map<string, string>();
  for (const [name, value] of requested) {
    const lower = name.toLowerCase();
    if (!first.has(lower)) first.set(lower, value);
  }
  const num = (name: string): number | null => {
    const v = first.get(name);
    return v === undefined ? null : parseOptionValue(v);
  };

  const oack: TftpOption[] = [];
  let blksize = TFTP_DEFAULT_BLKSIZE;
  let windowsize = 1;
  let timeoutSeconds: number | null = null;

  const b = num('blksize');
  if (b !== null && b >= TFTP_MIN_BLKSIZE && b <= TFTP_MAX_BLKSIZE) {
    blksize = Math.min(b, maxBlksize, mtu === undefined ? TFTP_MAX_BLKSIZE : mtu - 32);
    oack.push(['blksize', String(blksize)]);
  }
  const t = num('timeout');
  if (t !== null && t >= 1 && t <= 255) {
    timeoutSeconds = t;
    oack.push(['timeout', String(t)]);
  }
  if (num('tsize') === 0 && fileSize !== undefined) oack.push(['tsize', String(fileSize)]);
  const w = num('windowsize');
  if (w !== null && w >= 1 && w <= TFTP_MAX_WINDOWSIZE) {
    windowsize = Math.min(w, maxWindowsize);
    oack.push(['windowsize', String(windowsize)]);
  }
  return { oack, blksize, windowsize, timeoutSeconds };
}
