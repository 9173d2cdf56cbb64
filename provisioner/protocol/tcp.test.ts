import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertDecodeError, assertDecodesOrRefuses, hex, ipArb } from './decode-testing.ts';
import { ipv6FromBytes } from './ipv6.ts';
import { TCP_DECODE_ERRORS, decodeTcp, encodeTcp, seqAdd, seqDiff, seqLeq, seqLt, type TcpFlags, type TcpSegment, type TcpSegmentInput } from './tcp.ts';

const NO_FLAGS: TcpFlags = { fin: false, syn: false, rst: false, psh: false, ack: false, urg: false, ece: false, cwr: false };
/** A header with data offset `words` and `options`, for the malformed table. */
const header = (words: number, options = ''): Buffer => Buffer.concat([hex(`b271b270 00000000 00000000 ${(words << 4).toString(16).padStart(2, '0')}02 ffff 0000 0000`), hex(options)]);

describe('tcp codec', () => {
  describe('round-trip', () => {
    const cases: [string, TcpSegmentInput, Partial<TcpSegment>][] = [
      ['SYN with MSS and window scale', { srcPort: 40000, dstPort: 80, seq: 0xfffffff0, ack: 0, flags: { syn: true }, window: 64240, mss: 1460, windowScale: 7 },
        { mss: 1460, windowScale: 7, options: hex('020405b4 01030307') }],
      ['SYN-ACK with MSS only', { srcPort: 80, dstPort: 40000, seq: 1, ack: 0xfffffff1, flags: { syn: true, ack: true }, window: 65535, mss: 536 },
        { mss: 536, options: hex('02040218') }],
      ['data with PSH', { srcPort: 40000, dstPort: 80, seq: 123456789, ack: 987654321, flags: { psh: true, ack: true }, window: 502, payload: Buffer.from('GET /boot.ipxe HTTP/1.1\r\n\r\n') }, {}],
      ['FIN', { srcPort: 40000, dstPort: 80, seq: 5, ack: 6, flags: { fin: true, ack: true }, window: 0 }, {}],
      ['every flag, urgent pointer', { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: { fin: true, syn: true, rst: true, psh: true, ack: true, urg: true, ece: true, cwr: true }, window: 1, urgent: 3, payload: Buffer.from('abc') }, { urgent: 3 }],
      ['raw SACK-permitted option padded to 4', { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: { syn: true }, window: 1, options: hex('0402') }, { options: hex('04020000') }],
    ];
    for (const [name, input, extra] of cases) {
      it(name, () => {
        const wire = encodeTcp(input, '10.0.0.5', '10.0.0.1');
        const want: TcpSegment = {
          srcPort: input.srcPort, dstPort: input.dstPort, seq: input.seq, ack: input.ack, flags: { ...NO_FLAGS, ...input.flags },
          window: input.window, urgent: 0, options: Buffer.alloc(0), payload: input.payload ?? Buffer.alloc(0), checksumOk: true, ...extra,
        };
        assert.deepEqual(decodeTcp(wire, '10.0.0.5', '10.0.0.1'), want);
        assert.equal(decodeTcp(wire).checksumOk, null);
      });
    }
  });

  describe('golden', () => {
    // Linux loopback (dumpcap -i lo): connect() from 127.0.0.1:45681 to a closed port 45680.
    // The SYN's checksum was left to offload (the field holds the pseudo-header sum); the
    // kernel's RST is built and checksummed in software.
    const syn = hex('b271b270 5a161c25 00000000 a002 ffd7 fe30 0000 0204ffd7 0402 080acf28817300000000 01 03030a');
    it('a Linux SYN: MSS 65495, SACK permitted, timestamps, NOP, window scale 10', () => {
      const s = decodeTcp(syn, '127.0.0.1', '127.0.0.1');
      assert.equal(s.srcPort, 45681);
      assert.equal(s.dstPort, 45680);
      assert.equal(s.seq, 0x5a161c25);
      assert.deepEqual(s.flags, { ...NO_FLAGS, syn: true });
      assert.equal(s.window, 65495);
      assert.equal(s.mss, 65495);
      assert.equal(s.windowScale, 10);
      assert.equal(s.options.length, 20);
      assert.equal(s.payload.length, 0);
      assert.equal(s.checksumOk, false, 'offloaded checksum does not verify');
      assert.deepEqual(encodeTcp({ ...s, options: s.options, mss: undefined, windowScale: undefined }, '127.0.0.1', '127.0.0.1').readUInt16BE(16), 0x2445, 'the checksum tshark computed');
    });
    it('the kernel RST+ACK answering it verifies', () => {
      const rst = hex('b270b271000000005a161c265014 0000 d6af 0000');
      const s = decodeTcp(rst, '127.0.0.1', '127.0.0.1');
      assert.deepEqual(s, {
        srcPort: 45680, dstPort: 45681, seq: 0, ack: 0x5a161c26, flags: { ...NO_FLAGS, rst: true, ack: true },
        window: 0, urgent: 0, options: Buffer.alloc(0), payload: Buffer.alloc(0), checksumOk: true,
      });
      assert.deepEqual(encodeTcp(s, '127.0.0.1', '127.0.0.1'), rst);
    });
    it('an option after EOL is not parsed', () => {
      const s = decodeTcp(header(6, '00020405'));
      assert.equal(s.mss, undefined);
    });
  });

  describe('malformed input', () => {
    const table: [string, Buffer, string, string, number][] = [
      ['empty', Buffer.alloc(0), 'TCP_TRUNCATED', 'srcPort', 0],
      ['ends in the seq', hex('b271b2705a16'), 'TCP_TRUNCATED', 'seq', 4],
      ['12 bytes', header(5).subarray(0, 12), 'TCP_TRUNCATED', 'dataOffset', 12],
      ['19 bytes', header(5).subarray(0, 19), 'TCP_TRUNCATED', 'urgent', 18],
      ['data offset 4', header(4), 'TCP_BAD_DATA_OFFSET', 'dataOffset', 12],
      ['data offset 0 in a short segment', header(0).subarray(0, 14), 'TCP_BAD_DATA_OFFSET', 'dataOffset', 12],
      ['data offset 6 with no options', header(6), 'TCP_TRUNCATED', 'options', 20],
      ['option without length', header(6, '010101 02'), 'TCP_BAD_OPTION', 'option.2', 23],
      ['option length 1', header(6, '0801 0000'), 'TCP_BAD_OPTION', 'option.8', 20],
      ['option length 0', header(6, '0800 0000'), 'TCP_BAD_OPTION', 'option.8', 20],
      ['option past the options area', header(6, '080a 0000'), 'TCP_BAD_OPTION', 'option.8', 20],
      ['MSS of length 3', header(6, '020305 00'), 'TCP_BAD_OPTION', 'option.2', 20],
      ['window scale of length 4', header(6, '03040700'), 'TCP_BAD_OPTION', 'option.3', 20],
    ];
    for (const [name, bytes, code, field, offset] of table) {
      it(`${name} -> ${code}`, () => assertDecodeError(() => decodeTcp(bytes), code, field, offset));
    }
  });

  describe('encode refuses what has no wire form', () => {
    const ok: TcpSegmentInput = { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: {}, window: 0 };
    const table: [string, TcpSegmentInput][] = [
      ['seq 2^32', { ...ok, seq: 2 ** 32 }],
      ['ack -1', { ...ok, ack: -1 }],
      ['window 65536', { ...ok, window: 65536 }],
      ['port 70000', { ...ok, dstPort: 70000 }],
      ['mss 65536', { ...ok, mss: 65536 }],
      ['window scale 256', { ...ok, windowScale: 256 }],
      ['41 option bytes', { ...ok, options: Buffer.alloc(41) }],
      ['MSS + 36 raw option bytes', { ...ok, mss: 1460, options: Buffer.alloc(37) }],
    ];
    for (const [name, s] of table) it(name, () => assert.throws(() => encodeTcp(s, '10.0.0.1', '10.0.0.2'), RangeError));
  });

  describe('over IPv6', () => {
    it('the checksum covers the IPv6 pseudo-header', () => {
      const s: TcpSegmentInput = { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: { syn: true }, window: 64800, mss: 1440 };
      const wire = encodeTcp(s, '2001:db8::5', '2001:db8::1');
      assert.equal(decodeTcp(wire, '2001:db8::5', '2001:db8::1').checksumOk, true);
      assert.equal(decodeTcp(wire, '2001:db8::5', '2001:db8::2').checksumOk, false);
      assert.throws(() => decodeTcp(wire, '2001:db8::5', '10.0.0.1'), RangeError);
    });
    it('a segment tshark 4.0 verified (tcp.checksum.status 1): fe80::1.40004 -> fe80::2.80, SYN, MSS 1440, window scale 7', () => {
      const wire = hex('9c440050 00000001 00000000 7002 fd20 ed71 0000 020405a0 01030307');
      const s = decodeTcp(wire, 'fe80::1', 'fe80::2');
      assert.deepEqual([s.mss, s.windowScale, s.checksumOk], [1440, 7, true]);
    });
    it('arbitrary segments round-trip with a good checksum over IPv6', () => {
      const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => ipv6FromBytes(a, 0));
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 100 }), v6, v6, (seq, u, src, dst) => {
          const payload = Buffer.from(u);
          const s = decodeTcp(encodeTcp({ srcPort: 80, dstPort: 40000, seq, ack: 1, flags: { ack: true }, window: 502, payload }, src, dst), src, dst);
          assert.deepEqual([s.seq, s.payload, s.checksumOk], [seq, payload, true]);
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('sequence numbers', () => {
    it('seqAdd wraps modulo 2^32, forwards and backwards', () => {
      assert.equal(seqAdd(0xffffffff, 1), 0);
      assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
      assert.equal(seqAdd(5, -10), 0xfffffffb);
      assert.equal(seqAdd(0, 0), 0);
    });
    const table: [number, number, boolean][] = [
      [1, 2, true], [2, 1, false], [5, 5, false], [0xffffffff, 0, true], [0, 0xffffffff, false],
      [0xfffffff0, 0x10, true], [0x10, 0xfffffff0, false], [0, 0x7fffffff, true], [0x7fffffff, 0, false],
    ];
    for (const [a, b, want] of table) it(`seqLt(0x${a.toString(16)}, 0x${b.toString(16)}) is ${want}`, () => assert.equal(seqLt(a, b), want));
    it('seqLeq, seqDiff agree with seqLt across the wrap', () => {
      const u32 = fc.integer({ min: 0, max: 0xffffffff });
      fc.assert(
        fc.property(u32, fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), (a, n) => {
          const b = seqAdd(a, n);
          assert.equal(seqDiff(a, b), n);
          assert.equal(seqLt(a, b), n > 0);
          assert.equal(seqLeq(a, b), n >= 0);
        }),
      );
    });
  });

  describe('properties', () => {
    it('arbitrary bytes give a TcpSegment or a DecodeError, nothing else', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 70 }),
        // A fixed header with a plausible data offset and option soup after it.
        fc.tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.integer({ min: 5, max: 15 }), fc.uint8Array({ minLength: 7, maxLength: 7 }),
          fc.array(fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 8), fc.integer({ min: 0, max: 255 })), { maxLength: 50 }))
          .map(([a, words, b, rest]) => Uint8Array.from([...a, words << 4, ...b, ...rest])),
      );
      assertDecodesOrRefuses({
        bytes,
        context: fc.tuple(ipArb, ipArb),
        decode: (b, [src, dst]) => decodeTcp(b, src, dst),
        codes: TCP_DECODE_ERRORS,
        check: (s, _b, [src, dst]) => {
          // Re-encoding with the raw options (not the typed copies) gives the same segment, checksum fixed.
          const again = decodeTcp(encodeTcp({ ...s, mss: undefined, windowScale: undefined }, src, dst), src, dst);
          assert.deepEqual(again, { ...s, checksumOk: true });
        },
      });
    });
    it('arbitrary segments round-trip', () => {
      const flags = fc.record({ fin: fc.boolean(), syn: fc.boolean(), rst: fc.boolean(), psh: fc.boolean(), ack: fc.boolean(), urg: fc.boolean(), ece: fc.boolean(), cwr: fc.boolean() });
      const u32 = fc.integer({ min: 0, max: 0xffffffff });
      const u16 = fc.integer({ min: 0, max: 0xffff });
      fc.assert(
        fc.property(u16, u16, u32, u32, flags, u16, u16, fc.option(u16, { nil: undefined }), fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }), fc.uint8Array({ maxLength: 100 }), ipArb, ipArb,
          (srcPort, dstPort, seq, ack, fl, window, urgent, mss, windowScale, u, src, dst) => {
            const payload = Buffer.from(u);
            const s = decodeTcp(encodeTcp({ srcPort, dstPort, seq, ack, flags: fl, window, urgent, mss, windowScale, payload }, src, dst), src, dst);
            assert.deepEqual([s.srcPort, s.dstPort, s.seq, s.ack, s.window, s.urgent, s.mss, s.windowScale, s.checksumOk], [srcPort, dstPort, seq, ack, window, urgent, mss, windowScale, true]);
            assert.deepEqual(s.flags, { ...fl });
            assert.deepEqual(s.payload, payload);
          }),
        { numRuns: 2000 },
      );
    });
  });
});
