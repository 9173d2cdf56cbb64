import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CAPTURED_IPV6, assertDecodeError, assertDecodesOrRefuses, hex } from './decode-testing.ts';
import { IP_PROTOCOL, finishChecksum } from './ipv4.ts';
import {
  IPV6_DECODE_ERRORS, IPV6_NEXT_HEADER, decodeIpv6, encodeIpv6, ipv6FragmentData, ipv6FromBytes, ipv6PseudoHeaderSum, ipv6ToBytes,
  transportPseudoHeaderSum, type Ipv6Packet, type Ipv6PacketInput,
} from './ipv6.ts';
import { decodeUdp } from './udp.ts';

const LINK_LOCAL = 'fe80::5054:ff:fe12:3456';
const ALL_NODES = 'ff02::1';
const base: Ipv6PacketInput = { src: '2001:db8::5', dst: '2001:db8::1', nextHeader: IP_PROTOCOL.UDP, hopLimit: 64, trafficClass: 0, flowLabel: 0, payload: Buffer.from('payload') };
const hbh = { type: IPV6_NEXT_HEADER.HOP_BY_HOP, data: hex('05020000 0100') }; // router alert + PadN
const dstOpts = { type: IPV6_NEXT_HEADER.DESTINATION_OPTIONS, data: hex('0104 00000000') };
const routing = { type: IPV6_NEXT_HEADER.ROUTING, data: Buffer.concat([hex('0401 00000000'), ipv6ToBytes('2001:db8::9')]) }; // type 4 (SRH), 1 segment left
const fragment = (offset: number, more: boolean, id = 0x12345678) => ({ type: IPV6_NEXT_HEADER.FRAGMENT, data: ipv6FragmentData({ offset, more, id }) });

const { UDP_OFFLOADED, UDP_DSTOPTS, UDP_HOPOPTS, FRAG_1, FRAG_2, FRAG_3, MLD_REPORT, ROUTER_SOLICITATION } = CAPTURED_IPV6;

describe('ipv6 codec', () => {
  describe('round-trip', () => {
    const cases: [string, Ipv6PacketInput, Partial<Ipv6Packet>][] = [
      ['UDP, no extension headers', base, {}],
      ['traffic class, flow label, hop limit at their limits', { ...base, trafficClass: 0xff, flowLabel: 0xfffff, hopLimit: 255 }, {}],
      ['hop-by-hop, routing, destination options', { ...base, nextHeader: IP_PROTOCOL.TCP, extensionHeaders: [hbh, routing, dstOpts] }, {}],
      ['first fragment', { ...base, extensionHeaders: [fragment(0, true)] }, { fragment: { offset: 0, more: true, id: 0x12345678 } }],
      ['last fragment: the walk stops at it', { ...base, nextHeader: IPV6_NEXT_HEADER.DESTINATION_OPTIONS, extensionHeaders: [hbh, fragment(65528, false, 0xffffffff)] },
        { fragment: { offset: 65528, more: false, id: 0xffffffff } }],
      ['no next header (59)', { ...base, nextHeader: IPV6_NEXT_HEADER.NO_NEXT_HEADER, payload: Buffer.alloc(0) }, {}],
      ['ICMPv6 after a 2048-byte destination options header', { ...base, nextHeader: IPV6_NEXT_HEADER.ICMPV6, extensionHeaders: [{ type: 60, data: Buffer.alloc(2046) }] }, {}],
      ['the largest payload length', { ...base, payload: Buffer.alloc(65535 - 8), extensionHeaders: [fragment(8, true)] }, { fragment: { offset: 8, more: true, id: 0x12345678 } }],
      ['IPv4-mapped and unspecified addresses', { ...base, src: '::', dst: '::ffff:10.0.0.1' }, {}],
    ];
    for (const [name, input, extra] of cases) {
      it(name, () => {
        const ext = input.extensionHeaders ?? [];
        const extLength = ext.reduce((n, h) => n + h.data.length + 2, 0);
        const wire = encodeIpv6(input);
        assert.equal(wire.length, 40 + extLength + input.payload.length);
        assert.deepEqual(decodeIpv6(wire), { ...input, extensionHeaders: ext, payloadLength: extLength + input.payload.length, ...extra });
      });
    }
  });

  describe('addresses', () => {
    // What tshark 4.0 printed for each (ipv6.src of a frame built with the address).
    const tshark: [string, string][] = [
      ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['0:0:0:0:0:ffff:102:304', '::ffff:1.2.3.4'],
      ['0:0:0:0:0:0:102:304', '::1.2.3.4'],
      ['64:ff9b:0:0:0:0:102:304', '64:ff9b::102:304'],
      ['0:0:0:0:ffff:0:102:304', '::ffff:0:102:304'],
      ['FE80:0:0:0:0:0:0:1', 'fe80::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0:0:0:0:0:0:0:2', '::2'],
      ['::ffff:0:0', '::ffff:0.0.0.0'],
      ['::2:3', '::0.2.0.3'],
      ['::ffff', '::ffff'],
      ['1:0:1:0:0:1:0:0', '1:0:1::1:0:0'],
      ['::0.0.1.0', '::100'],
      ['::ffff:0.0.0.1', '::ffff:0.0.0.1'],
      ['::fffe:1.2.3.4', '::fffe:102:304'],
      ['0:0:0:0:0:1:0:0', '::1:0:0'],
      ['0:0:0:0:1:0:0:0', '::1:0:0:0'],
      ['::ffff:ffff:1.2.3.4', '::ffff:ffff:102:304'],
      ['fe80::5054:ff:fe12:3456', 'fe80::5054:ff:fe12:3456'],
    ];
    for (const [input, printed] of tshark) {
      it(`${input} prints as ${printed}`, () => assert.equal(ipv6FromBytes(ipv6ToBytes(input), 0), printed));
    }
    const bad = ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', 'g::', '::1.2.3', '::1.2.3.256', '::01.2.3.4',
      '1.2.3.4::', 'fe80::1%eth0', '10.0.0.1', ' ::1'];
    for (const text of bad) it(`refuses '${text}'`, () => assert.throws(() => ipv6ToBytes(text), RangeError));
    it('writes into a buffer at an offset, and refuses one with no room', () => {
      const out = Buffer.alloc(20);
      ipv6ToBytes('::1', out, 4);
      assert.equal(out[19], 1);
      assert.throws(() => ipv6ToBytes('::1', out, 5), RangeError);
      assert.throws(() => ipv6FromBytes(out, 5), RangeError);
    });
  });

  describe('pseudo-header', () => {
    it('the offloaded datagram holds exactly the folded IPv6 pseudo-header sum', () => {
      const sum = ipv6PseudoHeaderSum(LINK_LOCAL, ALL_NODES, IP_PROTOCOL.UDP, 27);
      assert.equal(~finishChecksum(sum) & 0xffff, 0x816d);
    });
    it('transportPseudoHeaderSum picks the family by the addresses and refuses a mix', () => {
      assert.equal(transportPseudoHeaderSum(LINK_LOCAL, ALL_NODES, 17, 27), ipv6PseudoHeaderSum(LINK_LOCAL, ALL_NODES, 17, 27));
      assert.equal(transportPseudoHeaderSum('10.0.0.1', '10.0.0.2', 17, 8), 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 8);
      assert.throws(() => transportPseudoHeaderSum('10.0.0.1', '::1', 17, 8), RangeError);
      assert.throws(() => ipv6PseudoHeaderSum('::1', 'x', 17, 8), RangeError);
    });
    it('a length above 65535 (jumbo) counts both halves', () => {
      assert.equal(ipv6PseudoHeaderSum('::', '::', 17, 0x12345), 0x1 + 0x2345 + 17);
    });
  });

  describe('golden', () => {
    const ip = (frame: Buffer): Buffer => frame.subarray(14);
    it('a link-local UDP datagram to ff02::1 (checksum left to offload)', () => {
      const p = decodeIpv6(ip(UDP_OFFLOADED));
      assert.deepEqual(p, {
        src: LINK_LOCAL, dst: ALL_NODES, nextHeader: 17, hopLimit: 1, trafficClass: 0, flowLabel: 0x800f7, payloadLength: 27,
        extensionHeaders: [], payload: ip(UDP_OFFLOADED).subarray(40),
      });
      assert.deepEqual(encodeIpv6(p), ip(UDP_OFFLOADED));
      assert.equal(decodeUdp(p.payload, p.src, p.dst).checksumOk, false);
    });
    for (const [name, frame, type, payload] of [['destination options', UDP_DSTOPTS, 60, 'dst'], ['hop-by-hop options', UDP_HOPOPTS, 0, 'hbh']] as const) {
      it(`UDP after ${name}: walked, and the checksum over the IPv6 pseudo-header verifies`, () => {
        const p = decodeIpv6(ip(frame));
        assert.equal(p.nextHeader, IP_PROTOCOL.UDP);
        assert.deepEqual(p.extensionHeaders, [{ type, data: hex('0104 00000000') }]);
        const d = decodeUdp(p.payload, p.src, p.dst);
        assert.deepEqual(d, { srcPort: 40002, dstPort: 40003, payload: Buffer.from(payload), checksumOk: true });
        assert.deepEqual(encodeIpv6(p), ip(frame));
      });
    }
    it('three fragments of one datagram: the first holds the UDP header, the others are data', () => {
      const [a, b, c] = [FRAG_1, FRAG_2, FRAG_3].map((f) => decodeIpv6(ip(f)));
      assert.deepEqual([a!.fragment, b!.fragment, c!.fragment], [
        { offset: 0, more: true, id: 0x728e0dfc }, { offset: 1232, more: true, id: 0x728e0dfc }, { offset: 2464, more: false, id: 0x728e0dfc },
      ]);
      for (const p of [a!, b!, c!]) assert.equal(p.nextHeader, IP_PROTOCOL.UDP);
      assert.deepEqual(a!.payload.subarray(0, 8), hex('9c409c410bc06ae7'));
      assert.equal(a!.payload.length + b!.payload.length + c!.payload.length, 8 + 3000);
      for (const [p, f] of [[a!, FRAG_1], [b!, FRAG_2], [c!, FRAG_3]] as const) assert.deepEqual(encodeIpv6(p), ip(f));
    });
    it('an MLDv2 report: router alert in a hop-by-hop header, then ICMPv6', () => {
      const p = decodeIpv6(ip(MLD_REPORT));
      assert.equal(p.dst, 'ff02::16');
      assert.equal(p.nextHeader, IPV6_NEXT_HEADER.ICMPV6);
      assert.deepEqual(p.extensionHeaders, [{ type: 0, data: hex('05020000 0100') }]);
      assert.equal(p.payload[0], 143, 'ICMPv6 type 143, MLDv2 report');
      assert.deepEqual(encodeIpv6(p), ip(MLD_REPORT));
    });
    it('a router solicitation: ICMPv6 right after the fixed header', () => {
      const p = decodeIpv6(ip(ROUTER_SOLICITATION));
      assert.deepEqual([p.dst, p.nextHeader, p.hopLimit, p.payload.length, p.payload[0]], ['ff02::2', 58, 255, 16, 133]);
    });
    it('drops bytes after the payload length (Ethernet padding)', () => {
      const padded = Buffer.concat([ip(ROUTER_SOLICITATION), Buffer.alloc(10)]);
      assert.equal(decodeIpv6(padded).payload.length, 16);
    });
  });

  describe('partial decoding (a capture snaplen)', () => {
    const whole = ip(UDP_DSTOPTS);
    it('a cut payload decodes with truncated set and the bytes present', () => {
      const p = decodeIpv6(whole.subarray(0, 50), { partial: true });
      assert.equal(p.truncated, true);
      assert.equal(p.payloadLength, 19);
      assert.deepEqual(p.payload, whole.subarray(48, 50));
      assert.equal(decodeIpv6(whole, { partial: true }).truncated, undefined);
    });
    it('an extension header cut off is IPV6_TRUNCATED at its start', () => {
      assertDecodeError(() => decodeIpv6(whole.subarray(0, 41), { partial: true }), 'IPV6_TRUNCATED', 'destinationOptions', 40);
      assertDecodeError(() => decodeIpv6(whole.subarray(0, 47), { partial: true }), 'IPV6_TRUNCATED', 'destinationOptions', 40);
    });
    it('without partial, the same bytes are refused', () => {
      assertDecodeError(() => decodeIpv6(whole.subarray(0, 50)), 'IPV6_BAD_PAYLOAD_LENGTH', 'payloadLength', 4);
    });
    function ip(frame: Buffer): Buffer {
      return frame.subarray(14);
    }
  });

  describe('malformed input', () => {
    const header = (payloadLength: number, next: number): string =>
      `6000000${0} ${payloadLength.toString(16).padStart(4, '0')}${next.toString(16).padStart(2, '0')}40 ${'00'.repeat(32)}`;
    const table: [string, Buffer, string, string, number][] = [
      ['empty', Buffer.alloc(0), 'IPV6_TRUNCATED', 'version', 0],
      ['IPv4 version nibble', hex('4500'), 'IPV6_BAD_VERSION', 'version', 0],
      ['version 0', Buffer.alloc(40), 'IPV6_BAD_VERSION', 'version', 0],
      ['1 byte', hex('60'), 'IPV6_TRUNCATED', 'trafficClass', 1],
      ['3 bytes', hex('600000'), 'IPV6_TRUNCATED', 'flowLabel', 2],
      ['ends in the payload length', hex('6000000000'), 'IPV6_TRUNCATED', 'payloadLength', 4],
      ['ends at the next header', hex('600000000000'), 'IPV6_TRUNCATED', 'nextHeader', 6],
      ['ends at the hop limit', hex('60000000000011'), 'IPV6_TRUNCATED', 'hopLimit', 7],
      ['ends in the source', hex('6000000000001140 fe80'), 'IPV6_TRUNCATED', 'src', 8],
      ['39 bytes', ip(UDP_OFFLOADED).subarray(0, 39), 'IPV6_TRUNCATED', 'dst', 24],
      ['payload length beyond the bytes', hex(header(1, 59)), 'IPV6_BAD_PAYLOAD_LENGTH', 'payloadLength', 4],
      ['hop-by-hop with no room for its first two bytes', hex(`${header(1, 0)} 11`), 'IPV6_BAD_EXTENSION', 'hopByHop', 40],
      ['hop-by-hop longer than the payload length', hex(`${header(8, 0)} 1101 000000000000`), 'IPV6_BAD_EXTENSION', 'hopByHop', 40],
      ['routing header of 24 bytes in 16', hex(`${header(16, 43)} 1102 0000 00000000 ${'00'.repeat(8)}`), 'IPV6_BAD_EXTENSION', 'routing', 40],
      ['fragment header in 6 bytes of payload', hex(`${header(6, 44)} 110000000000`), 'IPV6_BAD_EXTENSION', 'fragment', 40],
      ['second header runs past the payload length', hex(`${header(12, 60)} 2c00010400000000 11000000`), 'IPV6_BAD_EXTENSION', 'fragment', 48],
    ];
    for (const [name, bytes, code, field, offset] of table) {
      it(`${name} -> ${code}`, () => assertDecodeError(() => decodeIpv6(bytes), code, field, offset));
    }
    function ip(frame: Buffer): Buffer {
      return frame.subarray(14);
    }
  });

  describe('encode refuses what has no wire form', () => {
    const table: [string, Ipv6PacketInput][] = [
      ['a payload length of 65536', { ...base, payload: Buffer.alloc(65536) }],
      ['extension headers pushing the payload length past 65535', { ...base, payload: Buffer.alloc(65535 - 7), extensionHeaders: [fragment(0, true)] }],
      ['traffic class 256', { ...base, trafficClass: 256 }],
      ['flow label 2^20', { ...base, flowLabel: 0x100000 }],
      ['hop limit -1', { ...base, hopLimit: -1 }],
      ['next header 1.5', { ...base, nextHeader: 1.5 }],
      ['a bad source', { ...base, src: '2001:db8::g' }],
      ['an IPv4 destination', { ...base, dst: '10.0.0.1' }],
      ['an extension header of 7 data bytes', { ...base, extensionHeaders: [{ type: 60, data: Buffer.alloc(7) }] }],
      ['a fragment header of 14 data bytes', { ...base, extensionHeaders: [{ type: 44, data: Buffer.alloc(14) }] }],
      ['an extension header of 2054 data bytes', { ...base, extensionHeaders: [{ type: 0, data: Buffer.alloc(2054) }] }],
      ['an extension header type the decoder does not walk (51, AH)', { ...base, extensionHeaders: [{ type: 51, data: Buffer.alloc(6) }] }],
    ];
    for (const [name, p] of table) it(name, () => assert.throws(() => encodeIpv6(p), RangeError));
    it('fragment data refuses an offset not a multiple of 8 or past 65528', () => {
      assert.throws(() => ipv6FragmentData({ offset: 4, more: false, id: 0 }), RangeError);
      assert.throws(() => ipv6FragmentData({ offset: 65536, more: false, id: 0 }), RangeError);
      assert.throws(() => ipv6FragmentData({ offset: 0, more: false, id: 2 ** 32 }), RangeError);
    });
  });

  describe('properties', () => {
    const addressBytes = fc.oneof(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      // Mostly zero groups, so every compression case comes up.
      fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xfe80), { minLength: 8, maxLength: 8 }).map((w) => {
        const b = Buffer.alloc(16);
        w.forEach((x, i) => b.writeUInt16BE(x, 2 * i));
        return new Uint8Array(b);
      }),
    );
    it('address text round-trips, and agrees with the WHATWG URL serializer wherever no dotted tail is used', () => {
      fc.assert(
        fc.property(addressBytes, (u) => {
          const b = Buffer.from(u);
          const text = ipv6FromBytes(b, 0);
          assert.deepEqual(ipv6ToBytes(text), b);
          assert.equal(text, text.toLowerCase());
          assert.ok(text.split('::').length <= 2);
          if (!text.includes('.')) assert.equal(text, new URL(`http://[${text}]/`).hostname.slice(1, -1));
        }),
        { numRuns: 5000 },
      );
    });
    it('arbitrary bytes give an Ipv6Packet or a DecodeError, nothing else (plain and partial)', () => {
      const walked = fc.constantFrom(0, 43, 44, 60, 59, 17, 6);
      const soup = fc.array(fc.oneof(walked, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })), { maxLength: 80 });
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 60 }),
        fc.tuple(fc.integer({ min: 0, max: 90 }), walked, fc.uint8Array({ minLength: 33, maxLength: 33 }), soup)
          .map(([plen, next, rest, tail]) => Uint8Array.from([0x60, 0, 0, 0, 0, plen, next, ...rest, ...tail])),
      );
      assertDecodesOrRefuses({
        bytes,
        context: fc.boolean(),
        decode: (b, partial) => decodeIpv6(b, { partial }),
        codes: IPV6_DECODE_ERRORS,
        check: (p, b, partial) => {
          if (p.truncated) {
            assert.ok(partial && 40 + p.payloadLength > b.length);
            return;
          }
          // Whatever decodes whole re-encodes to the same packet.
          const { payloadLength: _l, fragment: _f, ...input } = p;
          assert.deepEqual(decodeIpv6(encodeIpv6(input)), p);
        },
      });
    });
    it('arbitrary valid packets round-trip', () => {
      const ext = fc.oneof(
        fc.integer({ min: 0, max: 3 }).chain((n) => fc.record({ type: fc.constantFrom(0, 43, 60), data: fc.uint8Array({ minLength: 8 * n + 6, maxLength: 8 * n + 6 }).map((a) => Buffer.from(a)) }).map((h) => ({ ...h }))),
        fc.record({ offset: fc.constant(0), more: fc.boolean(), id: fc.integer({ min: 0, max: 0xffffffff }) }).map((f) => ({ type: 44, data: ipv6FragmentData(f) })),
      );
      const packet = fc.record({
        src: addressBytes.map((u) => ipv6FromBytes(u, 0)), dst: addressBytes.map((u) => ipv6FromBytes(u, 0)),
        nextHeader: fc.constantFrom(6, 17, 58, 59, 50), hopLimit: fc.integer({ min: 0, max: 255 }), trafficClass: fc.integer({ min: 0, max: 255 }),
        flowLabel: fc.integer({ min: 0, max: 0xfffff }), extensionHeaders: fc.array(ext, { maxLength: 4 }),
        payload: fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a)),
      });
      fc.assert(
        fc.property(packet, (p) => {
          const got = decodeIpv6(encodeIpv6(p));
          assert.deepEqual([got.src, got.dst, got.nextHeader, got.hopLimit, got.trafficClass, got.flowLabel], [p.src, p.dst, p.nextHeader, p.hopLimit, p.trafficClass, p.flowLabel]);
          assert.deepEqual(got.extensionHeaders, p.extensionHeaders);
          assert.deepEqual(got.payload, p.payload);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
