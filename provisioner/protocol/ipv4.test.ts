import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertDecodeError, assertDecodesOrRefuses, hex, ipArb } from './decode-testing.ts';
import { IPV4_DECODE_ERRORS, IP_PROTOCOL, decodeIpv4, encodeIpv4, internetChecksum, type Ipv4PacketInput } from './ipv4.ts';

/** RFC 1071 the slow, obvious way, to check the fast one against. */
function referenceChecksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) + (i + 1 < b.length ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

const base: Ipv4PacketInput = {
  src: '10.0.0.1', dst: '10.0.0.5', protocol: IP_PROTOCOL.UDP, ttl: 64, id: 0x1234, tos: 0,
  dontFragment: false, moreFragments: false, fragmentOffset: 0, payload: Buffer.from('payload'),
};

describe('ipv4 codec', () => {
  describe('internetChecksum', () => {
    it('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2', () => {
      assert.equal(internetChecksum(hex('0001f203f4f5f6f7')), ~0xddf2 & 0xffff);
    });
    it('is the same over parts of odd length as over their concatenation', () => {
      const whole = hex('0001f203f4f5f6f7ab');
      assert.equal(internetChecksum(whole.subarray(0, 3), whole.subarray(3, 4), Buffer.alloc(0), whole.subarray(4)), internetChecksum(whole));
    });
    it('of nothing is 0xffff', () => assert.equal(internetChecksum(), 0xffff));
    it('matches the obvious implementation on arbitrary data and any split', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 5 }), (u, cuts) => {
          const b = Buffer.from(u);
          const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
          const parts: Buffer[] = [];
          let at = 0;
          for (const p of points) {
            parts.push(b.subarray(at, p));
            at = p;
          }
          parts.push(b.subarray(at));
          assert.equal(internetChecksum(...parts), referenceChecksum(b));
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('round-trip', () => {
    const packets: Ipv4PacketInput[] = [
      base,
      { ...base, protocol: IP_PROTOCOL.TCP, ttl: 1, id: 0, tos: 0x10, dontFragment: true, payload: Buffer.alloc(0) },
      { ...base, src: '0.0.0.0', dst: '255.255.255.255', ttl: 255, id: 0xffff, payload: Buffer.alloc(300, 9) },
      { ...base, moreFragments: true, fragmentOffset: 1480, payload: Buffer.alloc(1480, 1) },
      { ...base, fragmentOffset: 8191 * 8, payload: Buffer.alloc(8, 1) },
      { ...base, options: hex('94040000'), payload: Buffer.alloc(1) },
      { ...base, options: Buffer.alloc(40, 1), payload: Buffer.alloc(0) },
      { ...base, payload: Buffer.alloc(65535 - 20, 7) },
    ];
    for (const p of packets) {
      it(`${p.src} -> ${p.dst} proto ${p.protocol} frag ${p.fragmentOffset}${p.moreFragments ? '+' : ''}, ${p.options?.length ?? 0} option bytes, ${p.payload.length} bytes`, () => {
        const got = decodeIpv4(encodeIpv4(p));
        assert.deepEqual(got, { ...p, options: p.options ?? Buffer.alloc(0), headerChecksumOk: true });
      });
    }
  });

  describe('golden', () => {
    // Linux loopback (dumpcap -i lo): UDP 127.0.0.1:45679 -> :45678, header checksum by the kernel.
    const udp = hex('4500002c5cb240004011e00c7f0000017f000001 b26fb26e0018453d7261636b666f7267652068656c6c6f0a');
    it('a kernel-made UDP packet on loopback', () => {
      const p = decodeIpv4(udp);
      assert.deepEqual(p, {
        src: '127.0.0.1', dst: '127.0.0.1', protocol: 17, ttl: 64, id: 0x5cb2, tos: 0,
        dontFragment: true, moreFragments: false, fragmentOffset: 0,
        options: Buffer.alloc(0), payload: udp.subarray(20), headerChecksumOk: true,
      });
      assert.deepEqual(encodeIpv4(p), udp);
    });
    // Linux loopback, a socket with IP_OPTIONS = Router Alert (RFC 2113): IHL 6.
    const withOptions = hex('46000027d8c340004011cefb7f0000017f000001 94040000 b27bb27a000fd68e6f7074696f6e73');
    it('a kernel-made packet with a Router Alert option', () => {
      const p = decodeIpv4(withOptions);
      assert.deepEqual(p.options, hex('94040000'));
      assert.deepEqual(p.payload, withOptions.subarray(24));
      assert.equal(p.headerChecksumOk, true);
      assert.deepEqual(encodeIpv4(p), withOptions);
    });
    // ICMP echo request on a Docker bridge, from a published packet dump used as a test vector:
    // the IP checksum is the kernel's, the ICMP checksum ping's.
    const echo = hex('450000544d0540004001956eac140002ac1e0001 0800b6f300070001e3f18d630000000005dc0b0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637');
    it('an ICMP echo request from a Docker container', () => {
      const p = decodeIpv4(echo);
      assert.equal(p.protocol, IP_PROTOCOL.ICMP);
      assert.equal(p.src, '172.20.0.2');
      assert.equal(p.dst, '172.30.0.1');
      assert.equal(p.headerChecksumOk, true);
      assert.equal(internetChecksum(p.payload), 0, 'ICMP checksum verifies');
      assert.deepEqual(encodeIpv4(p), echo);
    });
    it('drops Ethernet padding after the total length', () => {
      // The kernel's TCP RST on loopback (40 bytes) as a 46-byte Ethernet payload.
      const rst = hex('450000280000400040063cce7f0000017f000001b270b271000000005a161c26501400 00d6af0000');
      const p = decodeIpv4(Buffer.concat([rst, Buffer.alloc(6)]));
      assert.equal(p.payload.length, 20);
      assert.equal(p.id, 0);
    });
    it('reports a bad header checksum instead of throwing', () => {
      const bad = Buffer.from(udp);
      bad[8] = 63; // TTL decremented without fixing the checksum
      assert.equal(decodeIpv4(bad).headerChecksumOk, false);
    });
  });

  describe('malformed input', () => {
    const table: [string, Buffer, string, string, number][] = [
      ['empty', Buffer.alloc(0), 'IPV4_TRUNCATED', 'version', 0],
      ['IPv6 version nibble', hex('6000000000000000'), 'IPV4_BAD_VERSION', 'version', 0],
      ['version 0', Buffer.alloc(20), 'IPV4_BAD_VERSION', 'version', 0],
      ['IHL 4', hex('440000140000000040110000 0000000000000000'), 'IPV4_BAD_IHL', 'ihl', 0],
      ['1 byte', hex('45'), 'IPV4_TRUNCATED', 'tos', 1],
      ['ends in the id', hex('4500002c5c'), 'IPV4_TRUNCATED', 'id', 4],
      ['ends in the source', hex('4500002c5cb240004011e00c7f00'), 'IPV4_TRUNCATED', 'src', 12],
      ['19 bytes', hex('4500002c5cb240004011e00c7f0000017f0000'), 'IPV4_TRUNCATED', 'dst', 16],
      ['IHL 6 with 20 bytes', hex('460000140000000040110000 0000000000000000'), 'IPV4_TRUNCATED', 'options', 20],
      ['total length 19', hex('450000130000000040110000 0000000000000000'), 'IPV4_BAD_TOTAL_LENGTH', 'totalLength', 2],
      ['total length 0 (segmentation offload)', hex('450000000000000040110000 0000000000000000'), 'IPV4_BAD_TOTAL_LENGTH', 'totalLength', 2],
      ['total length beyond the bytes', hex('450000150000000040110000 0000000000000000'), 'IPV4_BAD_TOTAL_LENGTH', 'totalLength', 2],
      ['total length shorter than the options', hex('460000160000000040110000 0000000000000000 01010101'), 'IPV4_BAD_TOTAL_LENGTH', 'totalLength', 2],
    ];
    for (const [name, bytes, code, field, offset] of table) {
      it(`${name} -> ${code}`, () => assertDecodeError(() => decodeIpv4(bytes), code, field, offset));
    }
  });

  describe('partial decoding (a capture snaplen)', () => {
    const udp = hex('4500002c5cb240004011e00c7f0000017f000001 b26fb26e0018453d7261636b666f7267652068656c6c6f0a');
    it('a total length beyond the bytes gives the bytes present and truncated', () => {
      const p = decodeIpv4(udp.subarray(0, 30), { partial: true });
      assert.equal(p.truncated, true);
      assert.deepEqual(p.payload, udp.subarray(20, 30));
      assert.equal(p.headerChecksumOk, true, 'the header is whole, so its checksum is still checked');
    });
    it('a whole packet decodes as without the option', () => {
      assert.deepEqual(decodeIpv4(udp, { partial: true }), decodeIpv4(udp));
      assert.equal(decodeIpv4(Buffer.concat([udp, Buffer.alloc(6)]), { partial: true }).truncated, undefined);
    });
    it('a header cut off is still IPV4_TRUNCATED; a total length below the header still refused', () => {
      assertDecodeError(() => decodeIpv4(udp.subarray(0, 19), { partial: true }), 'IPV4_TRUNCATED', 'dst', 16);
      assertDecodeError(() => decodeIpv4(hex('46000030 0000000040110000 0000000000000000 0101'), { partial: true }), 'IPV4_TRUNCATED', 'options', 20);
      assertDecodeError(() => decodeIpv4(hex('450000130000000040110000 0000000000000000'), { partial: true }), 'IPV4_BAD_TOTAL_LENGTH', 'totalLength', 2);
    });
    it('every prefix of a packet past its header decodes partially to the same header', () => {
      fc.assert(
        fc.property(ipArb, ipArb, fc.uint8Array({ maxLength: 60 }), fc.nat(), (src, dst, u, cut) => {
          const wire = encodeIpv4({ ...base, src, dst, payload: Buffer.from(u) });
          const n = 20 + (cut % (wire.length - 19));
          const p = decodeIpv4(wire.subarray(0, n), { partial: true });
          assert.deepEqual([p.src, p.dst, p.payload.length, p.truncated], [src, dst, n - 20, n < wire.length ? true : undefined]);
        }),
      );
    });
  });

  describe('encode refuses what has no wire form', () => {
    const table: [string, Ipv4PacketInput][] = [
      ['options not a multiple of 4', { ...base, options: Buffer.alloc(3) }],
      ['44 option bytes', { ...base, options: Buffer.alloc(44) }],
      ['a 65536-byte packet', { ...base, payload: Buffer.alloc(65516) }],
      ['ttl 256', { ...base, ttl: 256 }],
      ['id -1', { ...base, id: -1 }],
      ['tos 1.5', { ...base, tos: 1.5 }],
      ['protocol 256', { ...base, protocol: 256 }],
      ['fragment offset 7', { ...base, fragmentOffset: 7 }],
      ['fragment offset 65536', { ...base, fragmentOffset: 65536 }],
      ['bad source', { ...base, src: '10.0.0' }],
      ['bad destination', { ...base, dst: 'localhost' }],
    ];
    for (const [name, p] of table) it(name, () => assert.throws(() => encodeIpv4(p), RangeError));
  });

  describe('properties', () => {
    it('arbitrary bytes give an Ipv4Packet or a DecodeError, nothing else', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        // Mostly-plausible headers: version 4, small IHL, small total length.
        fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 90 }), fc.uint8Array({ minLength: 0, maxLength: 90 }))
          .map(([ihl, total, rest]) => Uint8Array.from([0x40 | ihl, 0, 0, total, ...rest])),
      );
      assertDecodesOrRefuses({
        bytes,
        decode: (b) => decodeIpv4(b),
        codes: IPV4_DECODE_ERRORS,
        check: (p) => {
          // Whatever decodes re-encodes to the same header (bar the reserved flag and the checksum) and payload.
          const { headerChecksumOk: _ok, ...input } = p;
          const again = decodeIpv4(encodeIpv4(input));
          assert.deepEqual({ ...again, headerChecksumOk: p.headerChecksumOk }, p);
        },
      });
    });
    it('arbitrary valid packets round-trip with a good checksum', () => {
      const packet = fc.record({
        src: ipArb, dst: ipArb, protocol: fc.integer({ min: 0, max: 255 }), ttl: fc.integer({ min: 0, max: 255 }),
        id: fc.integer({ min: 0, max: 0xffff }), tos: fc.integer({ min: 0, max: 255 }), dontFragment: fc.boolean(),
        moreFragments: fc.boolean(), fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((n) => n * 8),
        options: fc.integer({ min: 0, max: 10 }).chain((w) => fc.uint8Array({ minLength: w * 4, maxLength: w * 4 })).map((a) => Buffer.from(a)),
        payload: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      });
      fc.assert(
        fc.property(packet, (p) => {
          const wire = encodeIpv4(p);
          assert.equal(internetChecksum(wire.subarray(0, 20 + p.options.length)), 0);
          assert.deepEqual(decodeIpv4(wire), { ...p, headerChecksumOk: true });
        }),
        { numRuns: 2000 },
      );
    });
  });
});
