import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { ARP_DECODE_ERRORS } from './arp.ts';
import { decodedOrRefused, hex } from './decode-testing.ts';
import { BROADCAST_MAC, ETHERNET_DECODE_ERRORS, ETHERTYPE } from './ethernet.ts';
import { decodeFrame, encodeArpFrame, encodeTcpFrame, encodeUdpFrame, type DecodedFrame } from './frames.ts';
import { IPV4_DECODE_ERRORS, IP_PROTOCOL } from './ipv4.ts';
import { TCP_DECODE_ERRORS } from './tcp.ts';
import { UDP_DECODE_ERRORS } from './udp.ts';

const CLIENT = '52:54:00:12:34:56';
const SERVER = '52:54:00:00:00:01';

describe('frames', () => {
  describe('round-trip', () => {
    it('encodeUdpFrame -> decodeFrame: a DHCPDISCOVER-shaped broadcast', () => {
      const payload = Buffer.alloc(300, 0x5a);
      const wire = encodeUdpFrame({ srcMac: CLIENT, dstMac: BROADCAST_MAC, srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload });
      assert.equal(wire.length, 14 + 20 + 8 + 300);
      const f = decodeFrame(wire);
      assert.deepEqual(f.eth.dst, BROADCAST_MAC);
      assert.equal(f.eth.ethertype, ETHERTYPE.IPV4);
      assert.deepEqual({ ...f.ip, payload: undefined }, {
        src: '0.0.0.0', dst: '255.255.255.255', protocol: IP_PROTOCOL.UDP, ttl: 64, id: 0, tos: 0, dontFragment: false,
        moreFragments: false, fragmentOffset: 0, options: Buffer.alloc(0), payload: undefined, headerChecksumOk: true,
      });
      assert.deepEqual(f.udp, { srcPort: 68, dstPort: 67, payload, checksumOk: true });
      assert.equal(f.problem, undefined);
    });
    it('encodeUdpFrame pads a tiny datagram to 60 bytes and the padding does not reach the payload', () => {
      const wire = encodeUdpFrame({ srcMac: SERVER, dstMac: CLIENT, srcIp: '10.0.0.1', dstIp: '10.0.0.5', srcPort: 69, dstPort: 2000, payload: Buffer.from([0, 4, 0, 1]), ttl: 1, id: 77 });
      assert.equal(wire.length, 60);
      const f = decodeFrame(wire);
      assert.equal(f.ip?.ttl, 1);
      assert.equal(f.ip?.id, 77);
      assert.deepEqual(f.udp?.payload, Buffer.from([0, 4, 0, 1]));
    });
    it('a VLAN-tagged UDP frame decodes through the tag', () => {
      const wire = encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, vlan: { id: 42, pcp: 5, dei: false }, srcIp: '10.0.0.5', dstIp: '10.0.0.1', srcPort: 2000, dstPort: 69, payload: Buffer.from('x') });
      const f = decodeFrame(wire);
      assert.deepEqual(f.eth.vlan, { id: 42, pcp: 5, dei: false });
      assert.equal(f.udp?.checksumOk, true);
      assert.equal(f.udp?.dstPort, 69);
    });
    it('encodeTcpFrame -> decodeFrame: an HTTP boot SYN', () => {
      const wire = encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '10.0.0.5', dstIp: '10.0.0.1', dontFragment: true, segment: { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: { syn: true }, window: 64240, mss: 1460 } });
      const f = decodeFrame(wire);
      assert.equal(f.ip?.dontFragment, true);
      assert.equal(f.tcp?.flags.syn, true);
      assert.equal(f.tcp?.mss, 1460);
      assert.equal(f.tcp?.checksumOk, true);
    });
    it('encodeArpFrame -> decodeFrame', () => {
      const arp = { op: 2, senderMac: SERVER, senderIp: '10.0.0.1', targetMac: CLIENT, targetIp: '10.0.0.5' };
      const wire = encodeArpFrame({ srcMac: SERVER, dstMac: CLIENT, arp });
      assert.equal(wire.length, 60);
      assert.deepEqual(decodeFrame(wire), { eth: { dst: CLIENT, src: SERVER, ethertype: ETHERTYPE.ARP, payload: wire.subarray(14) }, arp });
    });
    it('encoders refuse a packet too big for IPv4', () => {
      assert.throws(() => encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '10.0.0.5', dstIp: '10.0.0.1', srcPort: 1, dstPort: 2, payload: Buffer.alloc(65508) }), RangeError);
    });
  });

  describe('golden', () => {
    // Linux loopback, dumpcap -i lo: UDP with a kernel-computed checksum.
    it('a loopback UDP frame', () => {
      const f = decodeFrame(hex('000000000000000000000000 0800 4500002c5cb240004011e00c7f0000017f000001 b26fb26e0018453d 7261636b666f7267652068656c6c6f0a'));
      assert.equal(f.ip?.headerChecksumOk, true);
      assert.deepEqual(f.udp, { srcPort: 45679, dstPort: 45678, payload: Buffer.from('rackforge hello\n'), checksumOk: true });
    });
    it('a loopback TCP SYN with an offloaded checksum', () => {
      const f = decodeFrame(hex('000000000000000000000000 0800 4500003c415c40004006fb5d7f0000017f000001 b271b2705a161c2500000000a002ffd7fe300000 0204ffd7 0402 080acf28817300000000 01 03030a'));
      assert.equal(f.tcp?.mss, 65495);
      assert.equal(f.tcp?.checksumOk, false);
      assert.equal(f.problem, undefined);
    });
    it('a Docker bridge ARP request and ICMP echo', () => {
      const arp = decodeFrame(hex('ffffffffffff0242ac14000208060001080006040001 0242ac140002ac140002000000000000ac140006'));
      assert.equal(arp.arp?.targetIp, '172.20.0.6');
      const icmp = decodeFrame(hex('0242ac1400060242ac1400020800 450000544d0540004001956eac140002ac1e0001 0800b6f300070001e3f18d630000000005dc0b0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637'));
      assert.equal(icmp.ip?.protocol, IP_PROTOCOL.ICMP);
      assert.equal(icmp.udp, undefined);
      assert.equal(icmp.tcp, undefined);
      assert.equal(icmp.problem, undefined);
    });
    it('IPv6 and other ethertypes stop at Ethernet without a problem', () => {
      const f = decodeFrame(hex('3333000000fb 525400123456 86dd 6000000000000000'));
      assert.deepEqual(Object.keys(f), ['eth']);
    });
    it('an IP fragment carries no transport layer', () => {
      const whole = encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '10.0.0.5', dstIp: '10.0.0.1', srcPort: 1, dstPort: 2, payload: Buffer.alloc(100) });
      const first = Buffer.from(whole);
      first.writeUInt16BE(0x2000, 14 + 6); // more fragments
      const f = decodeFrame(first);
      assert.equal(f.ip?.moreFragments, true);
      assert.equal(f.udp, undefined);
      assert.equal(f.problem, undefined);
    });
  });

  describe('malformed input', () => {
    const udp = encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '10.0.0.5', dstIp: '10.0.0.1', srcPort: 1, dstPort: 2, payload: Buffer.alloc(20) });
    const tagged = encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, vlan: { id: 7, pcp: 0, dei: false }, srcIp: '10.0.0.5', dstIp: '10.0.0.1', srcPort: 1, dstPort: 2, payload: Buffer.alloc(20) });
    const tcp = encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '10.0.0.5', dstIp: '10.0.0.1', segment: { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: {}, window: 0 } });
    const patch = (b: Buffer, at: number, bytes: number[]): Buffer => {
      const c = Buffer.from(b);
      c.set(bytes, at);
      return c;
    };
    // [name, frame, layers present, problem code, field, offset from the frame start]
    const table: [string, Buffer, (keyof DecodedFrame)[], string, string, number][] = [
      ['ARP with htype 6', encodeArpFrame({ srcMac: CLIENT, dstMac: BROADCAST_MAC, arp: { op: 1, senderMac: CLIENT, senderIp: '10.0.0.5', targetMac: SERVER, targetIp: '10.0.0.1' } }).fill(6, 15, 16),
        ['eth'], 'ARP_BAD_HTYPE', 'htype', 14],
      ['ARP cut short', hex('ffffffffffff 525400123456 0806 00010800060400'), ['eth'], 'ARP_TRUNCATED', 'op', 20],
      ['IPv4 with version 6', patch(udp, 14, [0x65]), ['eth'], 'IPV4_BAD_VERSION', 'version', 14],
      ['IPv4 total length too long', patch(udp, 16, [0x05, 0xdc]), ['eth'], 'IPV4_BAD_TOTAL_LENGTH', 'totalLength', 16],
      ['tagged IPv4 total length too long', patch(tagged, 20, [0x05, 0xdc]), ['eth'], 'IPV4_BAD_TOTAL_LENGTH', 'totalLength', 20],
      ['UDP length 7', patch(udp, 38, [0, 7]), ['eth', 'ip'], 'UDP_BAD_LENGTH', 'length', 38],
      ['tagged UDP length 7', patch(tagged, 42, [0, 7]), ['eth', 'ip'], 'UDP_BAD_LENGTH', 'length', 42],
      ['TCP data offset 4', patch(tcp, 46, [0x40]), ['eth', 'ip'], 'TCP_BAD_DATA_OFFSET', 'dataOffset', 46],
    ];
    for (const [name, frame, layers, code, field, offset] of table) {
      it(`${name} -> problem ${code} at ${offset}`, () => {
        const f = decodeFrame(frame);
        assert.deepEqual(Object.keys(f).filter((k) => k !== 'problem'), layers);
        assert.ok(f.problem instanceof DecodeError);
        assert.equal(f.problem.code, code, f.problem.message);
        assert.equal(f.problem.field, field);
        assert.equal(f.problem.offset, offset);
        assert.ok(f.problem.message.endsWith(`(${field} at offset ${offset})`), f.problem.message);
      });
    }
    it('a bad Ethernet header throws', () => {
      assert.throws(() => decodeFrame(Buffer.alloc(13)), (e: unknown) => e instanceof DecodeError && e.code === 'ETH_TRUNCATED');
      assert.throws(() => decodeFrame(hex('ffffffffffff 525400123456 8100 00')), (e: unknown) => e instanceof DecodeError && e.code === 'ETH_TRUNCATED');
    });
  });

  describe('properties', () => {
    const inner = { ...ARP_DECODE_ERRORS, ...IPV4_DECODE_ERRORS, ...UDP_DECODE_ERRORS, ...TCP_DECODE_ERRORS };
    it('arbitrary bytes give a DecodedFrame or an Ethernet DecodeError, nothing else', () => {
      const ethernetHeader = fc.tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.constantFrom([0x08, 0x00], [0x08, 0x06], [0x81, 0x00, 0, 1, 0x08, 0x00]));
      const ipHeader = fc.tuple(fc.integer({ min: 5, max: 7 }), fc.integer({ min: 0, max: 80 }), fc.constantFrom(1, 6, 17), fc.uint8Array({ minLength: 0, maxLength: 80 }))
        .map(([ihl, total, proto, rest]) => [0x40 | ihl, 0, 0, total, 0, 0, 0, 0, 64, proto, ...rest]);
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 100 }),
        fc.tuple(ethernetHeader, fc.oneof(ipHeader, fc.uint8Array({ maxLength: 60 }).map((a) => [...a]))).map(([[macs, type], rest]) => Uint8Array.from([...macs, ...type, ...rest])),
      );
      fc.assert(
        fc.property(bytes, (u) => {
          const b = Buffer.from(u);
          const f = decodedOrRefused(() => decodeFrame(b), { codes: ETHERNET_DECODE_ERRORS });
          if (!f) return;
          if (f.problem) {
            assert.ok(f.problem.code in inner, f.problem.code);
            assert.ok(f.problem.offset >= 0 && f.problem.offset <= b.length, `offset ${f.problem.offset} outside the frame`);
          }
          assert.ok(!(f.arp && f.ip) && !(f.udp && f.tcp));
        }),
        { numRuns: 5000 },
      );
    });
  });
});
