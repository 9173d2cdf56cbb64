import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CAPTURED_IPV6, assertDecodeError, assertDecodesOrRefuses, hex, ipArb } from './decode-testing.ts';
import { IP_PROTOCOL, pseudoHeaderSum } from './ipv4.ts';
import { ipv6FromBytes } from './ipv6.ts';
import { UDP_DECODE_ERRORS, decodeUdp, encodeUdp } from './udp.ts';

describe('udp codec', () => {
  describe('round-trip', () => {
    const cases: [number, number, Buffer, string, string][] = [
      [68, 67, Buffer.alloc(300, 1), '0.0.0.0', '255.255.255.255'],
      [67, 68, Buffer.alloc(301, 2), '10.0.0.1', '10.0.0.5'],
      [4011, 69, Buffer.from('\0\x01pxelinux.0\0octet\0'), '192.168.122.50', '192.168.122.1'],
      [0, 65535, Buffer.alloc(0), '127.0.0.1', '127.0.0.1'],
      [1, 2, Buffer.alloc(65507, 0xff), '10.0.0.1', '10.0.0.2'],
    ];
    for (const [srcPort, dstPort, payload, srcIp, dstIp] of cases) {
      it(`${srcIp}:${srcPort} -> ${dstIp}:${dstPort}, ${payload.length} bytes`, () => {
        const wire = encodeUdp({ srcPort, dstPort, payload }, srcIp, dstIp);
        assert.deepEqual(decodeUdp(wire, srcIp, dstIp), { srcPort, dstPort, payload, checksumOk: true });
        assert.deepEqual(decodeUdp(wire), { srcPort, dstPort, payload, checksumOk: null });
      });
    }
    it('writes a computed checksum of 0 as 0xffff (RFC 768)', () => {
      // Payload chosen so the sum comes out 0xffff: the complement would be 0, meaning "none".
      const srcIp = '10.0.0.1', dstIp = '10.0.0.2';
      const probe = encodeUdp({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(2) }, srcIp, dstIp);
      const fix = probe.readUInt16BE(6); // with a zero payload word, the word equal to the checksum zeroes it
      const wire = encodeUdp({ srcPort: 1, dstPort: 2, payload: Buffer.from([fix >> 8, fix & 0xff]) }, srcIp, dstIp);
      assert.equal(wire.readUInt16BE(6), 0xffff);
      assert.equal(decodeUdp(wire, srcIp, dstIp).checksumOk, true);
    });
  });

  describe('golden', () => {
    // Linux loopback (dumpcap -i lo). Sent with MSG_MORE then a second send, which makes the kernel
    // compute the checksum itself instead of leaving it to checksum offload.
    it('a kernel-checksummed datagram, 127.0.0.1:45679 -> :45678 "rackforge hello\\n"', () => {
      const wire = hex('b26fb26e0018453d 7261636b666f7267652068656c6c6f0a');
      const d = decodeUdp(wire, '127.0.0.1', '127.0.0.1');
      assert.deepEqual(d, { srcPort: 45679, dstPort: 45678, payload: Buffer.from('rackforge hello\n'), checksumOk: true });
      assert.deepEqual(encodeUdp(d, '127.0.0.1', '127.0.0.1'), wire);
    });
    it('a kernel-checksummed datagram of odd length (7 bytes)', () => {
      const wire = hex('b27bb27a000fd68e 6f7074696f6e73');
      const d = decodeUdp(wire, '127.0.0.1', '127.0.0.1');
      assert.equal(d.checksumOk, true);
      assert.deepEqual(encodeUdp(d, '127.0.0.1', '127.0.0.1'), wire);
    });
    // The same datagram sent plainly: the kernel left the checksum to offload, so the field holds
    // only the folded pseudo-header sum and does not verify.
    it('an offloaded datagram reports checksumOk false; its field is the pseudo-header sum', () => {
      const wire = hex('b26fb26e0018fe2b 7261636b666f7267652068656c6c6f0a');
      assert.equal(decodeUdp(wire, '127.0.0.1', '127.0.0.1').checksumOk, false);
      assert.equal(pseudoHeaderSum('127.0.0.1', '127.0.0.1', IP_PROTOCOL.UDP, 24), 0xfe2b);
    });
    it('checksum 0 means "not computed": checksumOk null even with addresses', () => {
      assert.equal(decodeUdp(hex('0044004300080000'), '0.0.0.0', '255.255.255.255').checksumOk, null);
    });
    it('trims the payload to the length field', () => {
      assert.deepEqual(decodeUdp(hex('00440043000a0000 abcd eeee')).payload, hex('abcd'));
    });
  });

  describe('over IPv6', () => {
    const src = 'fe80::5054:ff:fe12:3456', dst = 'ff02::1';
    it('the checksum covers the IPv6 pseudo-header: a captured datagram verifies and re-encodes byte for byte', () => {
      // CAPTURED_IPV6.UDP_DSTOPTS: the UDP datagram after 14 + 40 + 8 bytes of headers.
      const wire = CAPTURED_IPV6.UDP_DSTOPTS.subarray(62);
      const d = decodeUdp(wire, src, dst);
      assert.deepEqual(d, { srcPort: 40002, dstPort: 40003, payload: Buffer.from('dst'), checksumOk: true });
      assert.deepEqual(encodeUdp(d, src, dst), wire);
      assert.equal(decodeUdp(wire, '10.0.0.1', '10.0.0.2').checksumOk, false, 'the IPv4 pseudo-header gives another sum');
    });
    it('a zero checksum is not "none" over IPv6 (RFC 8200 §8.1): checksumOk false', () => {
      assert.equal(decodeUdp(hex('9c429c43000b0000 647374'), src, dst).checksumOk, false);
      assert.equal(decodeUdp(hex('9c429c43000b0000 647374'), '10.0.0.1', '10.0.0.2').checksumOk, null);
    });
    it('addresses of two families are the caller’s bug: RangeError', () => {
      assert.throws(() => decodeUdp(hex('0044004300080001'), '10.0.0.1', '::1'), RangeError);
      assert.throws(() => encodeUdp({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(0) }, '::1', '10.0.0.1'), RangeError);
    });
    it('arbitrary datagrams round-trip with a good checksum over IPv6', () => {
      const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => ipv6FromBytes(a, 0));
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 100 }), v6, v6, (port, u, s6, d6) => {
          const payload = Buffer.from(u);
          assert.deepEqual(decodeUdp(encodeUdp({ srcPort: port, dstPort: 547, payload }, s6, d6), s6, d6), { srcPort: port, dstPort: 547, payload, checksumOk: true });
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('partial decoding (a capture snaplen)', () => {
    const wire = hex('b26fb26e0018453d 7261636b666f7267652068656c6c6f0a');
    it('a length beyond the bytes gives the bytes present, truncated, and no checksum', () => {
      assert.deepEqual(decodeUdp(wire.subarray(0, 12), '127.0.0.1', '127.0.0.1', { partial: true }), {
        srcPort: 45679, dstPort: 45678, payload: wire.subarray(8, 12), checksumOk: null, truncated: true,
      });
    });
    it('a whole datagram is verified as without the option', () => {
      assert.deepEqual(decodeUdp(wire, '127.0.0.1', '127.0.0.1', { partial: true }), decodeUdp(wire, '127.0.0.1', '127.0.0.1'));
    });
    it('a header cut off, or a length below 8, is still refused', () => {
      assertDecodeError(() => decodeUdp(wire.subarray(0, 7), undefined, undefined, { partial: true }), 'UDP_TRUNCATED', 'checksum', 6);
      assertDecodeError(() => decodeUdp(hex('0044004300070000'), undefined, undefined, { partial: true }), 'UDP_BAD_LENGTH', 'length', 4);
    });
  });

  describe('malformed input', () => {
    const table: [string, Buffer, string, string, number][] = [
      ['empty', Buffer.alloc(0), 'UDP_TRUNCATED', 'srcPort', 0],
      ['1 byte', hex('00'), 'UDP_TRUNCATED', 'srcPort', 0],
      ['3 bytes', hex('004400'), 'UDP_TRUNCATED', 'dstPort', 2],
      ['5 bytes', hex('0044004300'), 'UDP_TRUNCATED', 'length', 4],
      ['7 bytes', hex('00440043000800'), 'UDP_TRUNCATED', 'checksum', 6],
      ['length 0', hex('0044004300000000'), 'UDP_BAD_LENGTH', 'length', 4],
      ['length 7', hex('0044004300070000'), 'UDP_BAD_LENGTH', 'length', 4],
      ['length beyond the bytes', hex('0044004300090000'), 'UDP_BAD_LENGTH', 'length', 4],
    ];
    for (const [name, bytes, code, field, offset] of table) {
      it(`${name} -> ${code}`, () => assertDecodeError(() => decodeUdp(bytes, '10.0.0.1', '10.0.0.2'), code, field, offset));
    }
  });

  describe('encode refuses what has no wire form', () => {
    const table: [string, () => unknown][] = [
      ['port 65536', () => encodeUdp({ srcPort: 65536, dstPort: 1, payload: Buffer.alloc(0) }, '10.0.0.1', '10.0.0.2')],
      ['port -1', () => encodeUdp({ srcPort: 1, dstPort: -1, payload: Buffer.alloc(0) }, '10.0.0.1', '10.0.0.2')],
      ['a 65528-byte payload', () => encodeUdp({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(65528) }, '10.0.0.1', '10.0.0.2')],
      ['bad source address', () => encodeUdp({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(0) }, '10.0.0.1.1', '10.0.0.2')],
    ];
    for (const [name, f] of table) it(name, () => assert.throws(f, RangeError));
    it('decode with a bad address is a RangeError too (the caller’s bug, not the packet’s)', () => {
      assert.throws(() => decodeUdp(hex('0044004300080001'), 'x', '10.0.0.2'), RangeError);
    });
  });

  describe('properties', () => {
    it('arbitrary bytes give a UdpDatagram or a DecodeError, nothing else', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 40 }))
          .map(([ports, len, rest]) => Uint8Array.from([...ports, 0, len, ...rest])),
      );
      assertDecodesOrRefuses({
        bytes,
        context: fc.tuple(ipArb, ipArb),
        decode: (b, [src, dst]) => decodeUdp(b, src, dst),
        codes: UDP_DECODE_ERRORS,
        check: (d, _b, [src, dst]) => {
          const again = decodeUdp(encodeUdp(d, src, dst), src, dst);
          assert.deepEqual(again, { ...d, checksumOk: true });
        },
      });
    });
    it('arbitrary datagrams round-trip with a good checksum, and any flipped bit is caught', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 200 }), ipArb, ipArb, fc.nat(), (srcPort, dstPort, u, src, dst, bit) => {
          const payload = Buffer.from(u);
          const wire = encodeUdp({ srcPort, dstPort, payload }, src, dst);
          assert.deepEqual(decodeUdp(wire, src, dst), { srcPort, dstPort, payload, checksumOk: true });
          // Flip one bit outside the length field (a length change is a different error).
          const at = bit % (wire.length * 8);
          if ((at >> 3) === 4 || (at >> 3) === 5) return;
          const bad = Buffer.from(wire);
          bad[at >> 3]! ^= 1 << (at & 7);
          const d = decodeUdp(bad, src, dst);
          // Corrupting the checksum field into 0 means "none"; any other single flip must fail.
          assert.ok(d.checksumOk === false || bad.readUInt16BE(6) === 0);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
