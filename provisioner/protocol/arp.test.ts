import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ARP_DECODE_ERRORS, ARP_OP, decodeArp, encodeArp, type ArpPacket } from './arp.ts';
import { assertDecodeError, assertDecodesOrRefuses, hex, ipArb, macArb } from './decode-testing.ts';

describe('arp codec', () => {
  describe('round-trip', () => {
    const packets: ArpPacket[] = [
      { op: ARP_OP.REQUEST, senderMac: '52:54:00:12:34:56', senderIp: '10.0.0.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.1' },
      { op: ARP_OP.REPLY, senderMac: '52:54:00:00:00:01', senderIp: '10.0.0.1', targetMac: '52:54:00:12:34:56', targetIp: '10.0.0.5' },
      // Gratuitous ARP: sender and target IP the same.
      { op: ARP_OP.REQUEST, senderMac: '52:54:00:12:34:56', senderIp: '192.168.122.50', targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: '192.168.122.50' },
    ];
    for (const p of packets) {
      it(`op ${p.op} ${p.senderIp} -> ${p.targetIp}`, () => {
        const wire = encodeArp(p);
        assert.equal(wire.length, 28);
        assert.deepEqual(decodeArp(wire), p);
      });
    }
  });

  describe('golden', () => {
    // ARP request on a Docker bridge, from a published packet dump used as a test vector; tshark 4.0
    // reads it as "Who has 172.20.0.6? Tell 172.20.0.2".
    const request = hex('0001 0800 06 04 0001 0242ac140002 ac140002 000000000000 ac140006');
    it('a Docker bridge ARP request', () => {
      const p = decodeArp(request);
      assert.deepEqual(p, { op: 1, senderMac: '02:42:ac:14:00:02', senderIp: '172.20.0.2', targetMac: '00:00:00:00:00:00', targetIp: '172.20.0.6' });
      assert.deepEqual(encodeArp(p), request);
    });
    it('Ethernet padding after the 28 bytes is ignored', () => {
      assert.deepEqual(decodeArp(Buffer.concat([request, Buffer.alloc(18)])).targetIp, '172.20.0.6');
    });
    // RFC 5227 §2.1.1 probe: sender IP all zeros.
    it('an RFC 5227 address probe', () => {
      const p = decodeArp(hex('0001 0800 06 04 0001 525400123456 00000000 000000000000 0a000005'));
      assert.equal(p.senderIp, '0.0.0.0');
      assert.equal(p.targetIp, '10.0.0.5');
    });
    it('any operation code decodes (RFC 5494 InARP request 8)', () => {
      assert.equal(decodeArp(hex('0001 0800 06 04 0008 525400123456 0a000005 525400000001 00000000')).op, 8);
    });
  });

  describe('malformed input', () => {
    const table: [string, Buffer, string, string, number][] = [
      ['empty', Buffer.alloc(0), 'ARP_TRUNCATED', 'htype', 0],
      ['1 byte', hex('00'), 'ARP_TRUNCATED', 'htype', 0],
      ['header only', hex('0001 0800 06 04 0001'), 'ARP_TRUNCATED', 'senderMac', 8],
      ['27 bytes', hex('0001 0800 06 04 0001 525400123456 0a000005 000000000000 0a0000'), 'ARP_TRUNCATED', 'targetIp', 24],
      ['IEEE 802 htype 6', hex('0006 0800 06 04 0001 525400123456 0a000005 000000000000 0a000001'), 'ARP_BAD_HTYPE', 'htype', 0],
      ['InfiniBand htype 32 (short)', hex('0020 0800'), 'ARP_BAD_HTYPE', 'htype', 0],
      ['IPv6 ptype', hex('0001 86dd 06 10 0001'), 'ARP_BAD_PTYPE', 'ptype', 2],
      ['hlen 8', hex('0001 0800 08 04 0001 525400123456 0a000005 000000000000 0a000001'), 'ARP_BAD_HLEN', 'hlen', 4],
      ['plen 16', hex('0001 0800 06 10 0001 525400123456 0a000005 000000000000 0a000001'), 'ARP_BAD_PLEN', 'plen', 5],
    ];
    for (const [name, bytes, code, field, offset] of table) {
      it(`${name} -> ${code}`, () => assertDecodeError(() => decodeArp(bytes), code, field, offset));
    }
  });

  describe('encode refuses what has no wire form', () => {
    const ok: ArpPacket = { op: 1, senderMac: '52:54:00:12:34:56', senderIp: '10.0.0.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.1' };
    const table: [string, ArpPacket][] = [
      ['op 65536', { ...ok, op: 65536 }],
      ['op 1.5', { ...ok, op: 1.5 }],
      ['bad sender MAC', { ...ok, senderMac: 'nope' }],
      ['bad target IP', { ...ok, targetIp: '10.0.0.256' }],
      ['IP with a leading zero', { ...ok, senderIp: '10.0.0.05' }],
    ];
    for (const [name, p] of table) it(name, () => assert.throws(() => encodeArp(p), RangeError));
  });

  describe('properties', () => {
    it('arbitrary bytes give an ArpPacket or a DecodeError, nothing else', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.tuple(fc.uint8Array({ maxLength: 2 }), fc.uint8Array({ maxLength: 30 })).map(([a, rest]) => Uint8Array.from([0, 1, 8, 0, 6, 4, ...a, ...rest])),
      );
      assertDecodesOrRefuses({
        bytes,
        decode: (b) => decodeArp(b),
        codes: ARP_DECODE_ERRORS,
        check: (p, b) => assert.deepEqual(encodeArp(p), b.subarray(0, 28)),
      });
    });
    it('arbitrary packets round-trip', () => {
      const packet = fc.record({ op: fc.integer({ min: 0, max: 0xffff }), senderMac: macArb, senderIp: ipArb, targetMac: macArb, targetIp: ipArb });
      fc.assert(fc.property(packet, (p) => assert.deepEqual(decodeArp(encodeArp(p)), { ...p })), { numRuns: 2000 });
    });
  });
});
