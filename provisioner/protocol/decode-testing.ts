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

const V6_ETH = '333300000001 525400123456 86dd';
const V6_LINK_LOCAL_TO_ALL_NODES = 'fe80000000000000505400fffe123456 ff020000000000000000000000000001';
const V6_FRAGMENT_HEADER = `${V6_ETH} 600800f704d82c01 ${V6_LINK_LOCAL_TO_ALL_NODES}`;

/**
 * Real IPv6 Ethernet frames, captured with dumpcap on a veth (MTU 1280, Linux 6.x) inside a network
 * namespace made for the capture, from 52:54:00:12:34:56 / fe80::5054:ff:fe12:3456. tshark 4.0 reads
 * them as the comments say.
 */
export const CAPTURED_IPV6 = {
  /** UDP .40000 -> ff02::1.40001 "rackforge hello v6\n"; the checksum was left to offload (tshark: bad). */
  UDP_OFFLOADED: hex(`${V6_ETH} 600800f7001b1101 ${V6_LINK_LOCAL_TO_ALL_NODES} 9c409c41001b816d 7261636b666f7267652068656c6c6f2076360a`),
  /** UDP .40002 -> .40003 "dst" after destination options (IPV6_DSTOPTS, PadN); checksummed in software (tshark: good). */
  UDP_DSTOPTS: hex(`${V6_ETH} 6005463200133c01 ${V6_LINK_LOCAL_TO_ALL_NODES} 11000104 00000000 9c429c43000b6d9d 647374`),
  /** The same with hop-by-hop options (IPV6_HOPOPTS), "hbh". */
  UDP_HOPOPTS: hex(`${V6_ETH} 6005463200130001 ${V6_LINK_LOCAL_TO_ALL_NODES} 11000104 00000000 9c429c43000b75ae 686268`),
  /** A 3000-byte UDP datagram .40000 -> .40001 in three fragments, id 0x728e0dfc: offset 0 (with the UDP header), 1232, 2464. */
  FRAG_1: Buffer.concat([hex(`${V6_FRAGMENT_HEADER} 11000001728e0dfc 9c409c410bc06ae7`), Buffer.alloc(1224, 'F')]),
  FRAG_2: Buffer.concat([hex(`${V6_FRAGMENT_HEADER} 110004d1728e0dfc`), Buffer.alloc(1232, 'F')]),
  FRAG_3: Buffer.concat([hex(`${V6_ETH} 600800f702282c01 ${V6_LINK_LOCAL_TO_ALL_NODES} 110009a0728e0dfc`), Buffer.alloc(544, 'F')]),
  /** The kernel's MLDv2 report on joining ff02::1:3: a hop-by-hop router alert, then ICMPv6 type 143. */
  MLD_REPORT: hex('333300000016 525400123456 86dd 6000000000240001 fe80000000000000505400fffe123456 ff020000000000000000000000000016 3a00 05020000 0100 8f00ec4a0000000104000000ff020000000000000000000000010003'),
  /** The kernel's router solicitation to ff02::2: ICMPv6 type 133 straight after the fixed header. */
  ROUTER_SOLICITATION: hex('333300000002 525400123456 86dd 6000000000103aff fe80000000000000505400fffe123456 ff020000000000000000000000000002 850071b5000000000101525400123456'),
} as const;
