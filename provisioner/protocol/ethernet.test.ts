import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertDecodeError, assertDecodesOrRefuses, hex, macArb } from './decode-testing.ts';
import {
  BROADCAST_MAC,
  ETHERNET_DECODE_ERRORS,
  ETHERTYPE,
  decodeEthernet,
  encodeEthernet,
  macFromBytes,
  macToBytes,
  type EthernetFrame,
} from './ethernet.ts';

describe('ethernet codec', () => {
  describe('round-trip', () => {
    const frames: EthernetFrame[] = [
      { dst: BROADCAST_MAC, src: '52:54:00:12:34:56', ethertype: ETHERTYPE.ARP, payload: Buffer.alloc(46, 1) },
      { dst: '52:54:00:12:34:56', src: '02:00:00:00:00:01', ethertype: ETHERTYPE.IPV4, payload: Buffer.alloc(1500, 0xab) },
      { dst: '01:00:5e:00:00:fb', src: '52:54:00:ab:cd:ef', vlan: { id: 4094, pcp: 7, dei: true }, ethertype: ETHERTYPE.IPV6, payload: Buffer.alloc(42, 2) },
      { dst: '52:54:00:12:34:56', src: '52:54:00:12:34:57', vlan: { id: 0, pcp: 3, dei: false }, ethertype: ETHERTYPE.IPV4, payload: Buffer.alloc(100, 3) },
    ];
    for (const f of frames) {
      it(`${f.vlan ? `vlan ${f.vlan.id} ` : ''}ethertype 0x${f.ethertype.toString(16)}, ${f.payload.length} bytes`, () => {
        assert.deepEqual(decodeEthernet(encodeEthernet(f)), f);
      });
    }
    it('pads a short frame with zeros to 60 bytes, which then stay in the payload', () => {
      const wire = encodeEthernet({ dst: BROADCAST_MAC, src: '52:54:00:12:34:56', ethertype: ETHERTYPE.ARP, payload: Buffer.from([1, 2, 3]) });
      assert.equal(wire.length, 60);
      assert.deepEqual(decodeEthernet(wire).payload, Buffer.concat([Buffer.from([1, 2, 3]), Buffer.alloc(43)]));
    });
    it('pads a tagged frame to 60 bytes too (no FCS)', () => {
      const wire = encodeEthernet({ dst: BROADCAST_MAC, src: '52:54:00:12:34:56', vlan: { id: 10, pcp: 0, dei: false }, ethertype: ETHERTYPE.ARP, payload: Buffer.alloc(28) });
      assert.equal(wire.length, 60);
    });
    it('the payload is a view into the frame, not a copy', () => {
      const wire = encodeEthernet({ dst: BROADCAST_MAC, src: '52:54:00:12:34:56', ethertype: ETHERTYPE.IPV4, payload: Buffer.alloc(100) });
      const f = decodeEthernet(wire);
      assert.equal(f.payload.buffer, wire.buffer);
      assert.equal(f.payload.byteOffset, wire.byteOffset + 14);
    });
  });

  describe('golden', () => {
    // ARP request seen on a Docker bridge (docker0-style 02:42 MACs), from a published packet dump
    // used as a test vector; cross-checked with tshark 4.0 ("Who has 172.20.0.6? Tell 172.20.0.2").
    it('an untagged ARP broadcast from a Docker bridge', () => {
      const wire = hex('ffffffffffff 0242ac140002 0806 0001080006040001 0242ac140002 ac140002 000000000000 ac140006');
      const f = decodeEthernet(wire);
      assert.equal(f.dst, BROADCAST_MAC);
      assert.equal(f.src, '02:42:ac:14:00:02');
      assert.equal(f.ethertype, ETHERTYPE.ARP);
      assert.equal(f.vlan, undefined);
      assert.equal(f.payload.length, 28);
    });
    // Linux loopback: dumpcap -i lo, a UDP datagram from 127.0.0.1:45679 to 127.0.0.1:45678.
    it('a Linux loopback frame (all-zero MACs, IPv4)', () => {
      const wire = hex('000000000000 000000000000 0800 4500002c5cb240004011e00c7f0000017f000001b26fb26e0018453d7261636b666f7267652068656c6c6f0a');
      const f = decodeEthernet(wire);
      assert.equal(f.dst, '00:00:00:00:00:00');
      assert.equal(f.ethertype, ETHERTYPE.IPV4);
      assert.equal(f.payload.length, 44);
      // Loopback does not pad to 60 bytes; the encoder does.
      assert.deepEqual(encodeEthernet(f), Buffer.concat([wire, Buffer.alloc(2)]));
    });
    // Hand-built to IEEE 802.1Q: TCI 0xb02a = PCP 5, DEI 1, VID 42 (tshark decodes it so in pcap.test.ts).
    it('an 802.1Q-tagged frame', () => {
      const wire = hex('ffffffffffff 525400123456 8100 b02a 0806');
      const f = decodeEthernet(Buffer.concat([wire, Buffer.alloc(42)]));
      assert.deepEqual(f.vlan, { id: 42, pcp: 5, dei: true });
      assert.equal(f.ethertype, ETHERTYPE.ARP);
      assert.equal(f.payload.length, 42);
    });
    it('a QinQ frame keeps the inner tag in the payload', () => {
      const f = decodeEthernet(hex('ffffffffffff 525400123456 8100 0064 8100 000a 0800 45'));
      assert.deepEqual(f.vlan, { id: 100, pcp: 0, dei: false });
      assert.equal(f.ethertype, ETHERTYPE.VLAN);
      assert.deepEqual(f.payload, hex('000a080045'));
    });
    it('an 802.3 frame (an STP BPDU from a Linux bridge) decodes with its length as ethertype', () => {
      const f = decodeEthernet(hex('0180c2000000 525400123456 0026 424203 0000000000'));
      assert.equal(f.ethertype, 0x26);
      assert.deepEqual(f.payload, hex('4242030000000000'));
    });
  });

  describe('malformed input', () => {
    const table: [string, Buffer, string, string, number][] = [
      ['empty', Buffer.alloc(0), 'ETH_TRUNCATED', 'dst', 0],
      ['5 bytes', Buffer.alloc(5), 'ETH_TRUNCATED', 'dst', 0],
      ['6 bytes', Buffer.alloc(6), 'ETH_TRUNCATED', 'src', 6],
      ['12 bytes', Buffer.alloc(12), 'ETH_TRUNCATED', 'ethertype', 12],
      ['13 bytes', Buffer.alloc(13), 'ETH_TRUNCATED', 'ethertype', 12],
      ['tag without TCI', hex('ffffffffffff 525400123456 8100'), 'ETH_TRUNCATED', 'vlan', 14],
      ['tag without inner ethertype', hex('ffffffffffff 525400123456 8100 002a 08'), 'ETH_TRUNCATED', 'vlan', 14],
    ];
    for (const [name, bytes, code, field, offset] of table) {
      it(`${name} -> ${code}`, () => assertDecodeError(() => decodeEthernet(bytes), code, field, offset));
    }
    it('every code thrown is listed in ETHERNET_DECODE_ERRORS', () => {
      for (const [, , code] of table) assert.ok(code in ETHERNET_DECODE_ERRORS);
    });
  });

  describe('encode refuses what has no wire form', () => {
    const ok: EthernetFrame = { dst: BROADCAST_MAC, src: '52:54:00:12:34:56', ethertype: ETHERTYPE.IPV4, payload: Buffer.alloc(0) };
    const table: [string, EthernetFrame][] = [
      ['a short MAC', { ...ok, src: '52:54:00:12:34' }],
      ['a non-hex MAC', { ...ok, src: '52:54:00:12:34:5g' }],
      ['mixed separators', { ...ok, dst: '52:54-00:12:34:56' }],
      ['ethertype 0x10000', { ...ok, ethertype: 0x10000 }],
      ['ethertype -1', { ...ok, ethertype: -1 }],
      ['VLAN id 4096', { ...ok, vlan: { id: 4096, pcp: 0, dei: false } }],
      ['VLAN priority 8', { ...ok, vlan: { id: 1, pcp: 8, dei: false } }],
    ];
    for (const [name, f] of table) it(name, () => assert.throws(() => encodeEthernet(f), RangeError));
  });

  describe('MAC helpers', () => {
    it('macToBytes accepts colon, dash and bare forms in any case', () => {
      for (const s of ['52:54:00:AB:cd:Ef', '52-54-00-ab-CD-ef', '525400abcdef']) {
        assert.deepEqual(macToBytes(s), hex('525400abcdef'), s);
      }
    });
    it('macToBytes writes into a buffer at an offset and leaves it untouched on error', () => {
      const b = Buffer.alloc(10, 0xee);
      assert.equal(macToBytes('01:02:03:04:05:06', b, 2), b);
      assert.deepEqual(b, hex('eeee010203040506eeee'));
      assert.throws(() => macToBytes('01:02:03:04:05:0z', b, 2), RangeError);
      assert.deepEqual(b, hex('eeee010203040506eeee'));
      assert.throws(() => macToBytes('01:02:03:04:05:06', b, 5), RangeError);
    });
    it('macFromBytes gives lower-case colon form and refuses to read past the end', () => {
      assert.equal(macFromBytes(hex('00AABBCCDDEEFF'), 1), 'aa:bb:cc:dd:ee:ff');
      assert.throws(() => macFromBytes(Buffer.alloc(6), 1), RangeError);
    });
    it('macFromBytes and macToBytes are inverse', () => {
      fc.assert(fc.property(macArb, (mac) => assert.equal(macFromBytes(macToBytes(mac), 0), mac)));
    });
  });

  describe('properties', () => {
    it('arbitrary bytes give an EthernetFrame or a DecodeError, nothing else', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        fc.tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.constantFrom(0x81, 0x08), fc.uint8Array({ maxLength: 20 })).map(([a, t, rest]) => Uint8Array.from([...a, t, 0, ...rest])),
      );
      assertDecodesOrRefuses({
        bytes,
        decode: (b) => decodeEthernet(b),
        codes: ETHERNET_DECODE_ERRORS,
        check: (f, b) => {
          // Re-encoding gives the same bytes, plus padding when the input was short.
          const again = encodeEthernet(f);
          assert.deepEqual(again.subarray(0, b.length), b);
          assert.ok(again.subarray(b.length).every((x) => x === 0));
        },
      });
    });
    it('arbitrary valid frames of at least 60 bytes round-trip', () => {
      const frame = fc.record({
        dst: macArb,
        src: macArb,
        vlan: fc.option(fc.record({ id: fc.integer({ min: 0, max: 4095 }), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean() }), { nil: undefined }),
        ethertype: fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== ETHERTYPE.VLAN),
        payload: fc.uint8Array({ minLength: 46, maxLength: 200 }).map((a) => Buffer.from(a)),
      });
      fc.assert(
        fc.property(frame, (f) => {
          const { vlan, ...rest } = f;
          const want: EthernetFrame = vlan ? { ...rest, vlan: { ...vlan } } : rest;
          assert.deepEqual(decodeEthernet(encodeEthernet(want)), want);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
