// Test support shared by the protocol codec tests (*.test.ts in this folder). Pure helpers: no I/O.
// Not named *.test.ts, so mocha does not load it as a suite.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { macFromBytes } from './ethernet.ts';
import { ipv4FromBytes } from './ipv4.ts';

/** Bytes from hex text; whitespace is ignored, so dumps can be split into fields. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Any MAC address, in the lower-case colon form the codecs decode to. */
export const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((a) => macFromBytes(Buffer.from(a), 0));

/** Any IPv4 address, in dotted-quad form. */
export const ipArb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => ipv4FromBytes(a, 0));

/**
 * Asserts that `decode` throws a DecodeError with `code` and, when given, `field` and `offset`.
 */
export function assertDecodeError(decode: () => unknown, code: string, field?: string, offset?: number): void {
  assert.throws(decode, (e: unknown) => {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (field !== undefined) assert.equal(e.field, field, e.message);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    return true;
  });
}

/**
 * What `decode()` returns, or undefined when it throws a DecodeError. Any other throw fails the
 * test, as does a DecodeError whose code is not a key of `codes` or whose offset lies outside
 * `input` (each checked only when given).
 */
export function decodedOrRefused<T>(decode: () => T, check: { codes?: object; input?: Uint8Array } = {}): T | undefined {
  try {
    return decode();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `not a DecodeError: ${String(e)}`);
    if (check.codes) assert.ok(e.code in check.codes, e.code);
    if (check.input) assert.ok(e.offset >= 0 && e.offset <= check.input.length, `offset ${e.offset} outside the input`);
    return undefined;
  }
}

/** The property "arbitrary bytes give a value or a DecodeError, nothing else", for one codec. */
export interface DecodeTotality<T, C> {
  /** The inputs; each is copied into a Buffer before decoding. */
  bytes: fc.Arbitrary<Uint8Array>;
  /** Extra input drawn for each run and passed on to `decode` and `check` (the IP addresses, say). */
  context?: fc.Arbitrary<C>;
  decode: (b: Buffer, context: C) => T;
  /** The codec's registry of decode error codes; every code thrown must be one of its keys. */
  codes: object;
  /** Checks a value that did decode, usually by re-encoding it. */
  check: (value: T, b: Buffer, context: C) => void;
}

/**
 * Asserts, over 5000 runs, that decoding arbitrary bytes either gives a value that passes `check`
 * or throws a DecodeError with a listed code and an offset inside the bytes, and never anything else.
 */
export function assertDecodesOrRefuses<T, C = undefined>(p: DecodeTotality<T, C>): void {
  const context = p.context ?? fc.constant(undefined as C);
  fc.assert(
    fc.property(p.bytes, context, (u, c) => {
      const b = Buffer.from(u);
      const value = decodedOrRefused(() => p.decode(b, c), { codes: p.codes, input: b });
      if (value !== undefined) p.check(value, b, c);
    }),
    { numRuns: 5000 },
  );
}
