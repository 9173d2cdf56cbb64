import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { ARP_DECODE_ERRORS } from './arp.ts';
import { CAPTURED_IPV6, assertDecodeError, assertDecodesOrRefuses, decodedOrRefused, hex } from './decode-testing.ts';
import { BROADCAST_MAC, ETHERNET_DECODE_ERRORS, ETHERTYPE, encodeEthernet } from './ethernet.ts';
import { FRAME_DECODE_ERRORS, decodeFrame, decodeLinkFrame, encodeArpFrame, encodeTcpFrame, encodeUdpFrame, type DecodedFrame } from './frames.ts';
import { IPV4_DECODE_ERRORS, IP_PROTOCOL } from './ipv4.ts';
import { IPV6_DECODE_ERRORS, encodeIpv6, ipv6FragmentData } from './ipv6.ts';
import { LINUX_COOKED_DECODE_ERRORS, encodeLinuxSll, encodeLinuxSll2 } from './linux-cooked.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './pcap.ts';
import { TCP_DECODE_ERRORS } from './tcp.ts';
import { UDP_DECODE_ERRORS, encodeUdp } from './udp.ts';

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
    it('other ethertypes stop at Ethernet without a problem', () => {
      const f = decodeFrame(hex('0180c2000000 525400123456 0026 424203000000000080005254001234560000000080005254'));
      assert.deepEqual(Object.keys(f), ['eth']);
      assert.deepEqual(Object.keys(decodeFrame(hex('3333000000fb 525400123456 88cc 0207045254001234560403'))), ['eth']);
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

  describe('IPv6', () => {
    const { UDP_OFFLOADED, UDP_DSTOPTS, FRAG_1, FRAG_3, MLD_REPORT } = CAPTURED_IPV6;
    it('encodeUdpFrame with IPv6 addresses -> decodeFrame: checksum over the IPv6 pseudo-header', () => {
      const payload = Buffer.from('\x01\x00\x00\x01'); // a DHCPv6 SOLICIT's first bytes
      const wire = encodeUdpFrame({ srcMac: CLIENT, dstMac: '33:33:00:01:00:02', srcIp: 'fe80::5054:ff:fe12:3456', dstIp: 'ff02::1:2', srcPort: 546, dstPort: 547, payload, ttl: 1, tos: 0x20 });
      assert.equal(wire.length, 14 + 40 + 8 + 4);
      const f = decodeFrame(wire);
      assert.equal(f.eth.ethertype, ETHERTYPE.IPV6);
      assert.deepEqual({ ...f.ip6, payload: undefined }, {
        src: 'fe80::5054:ff:fe12:3456', dst: 'ff02::1:2', nextHeader: IP_PROTOCOL.UDP, hopLimit: 1, trafficClass: 0x20, flowLabel: 0,
        payloadLength: 12, extensionHeaders: [], payload: undefined,
      });
      assert.deepEqual(f.udp, { srcPort: 546, dstPort: 547, payload, checksumOk: true });
      assert.equal(f.ip, undefined);
    });
    it('encodeTcpFrame with IPv6 addresses -> decodeFrame, VLAN-tagged', () => {
      const wire = encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, vlan: { id: 100, pcp: 0, dei: false }, srcIp: '2001:db8::5', dstIp: '2001:db8::1', segment: { srcPort: 40000, dstPort: 80, seq: 7, ack: 0, flags: { syn: true }, window: 64800, mss: 1440 } });
      const f = decodeFrame(wire);
      assert.equal(f.eth.vlan?.id, 100);
      assert.equal(f.ip6?.nextHeader, IP_PROTOCOL.TCP);
      assert.deepEqual([f.tcp?.mss, f.tcp?.checksumOk, f.tcp?.flags.syn], [1440, true, true]);
    });
    it('encoders refuse a mix of families and a payload too big for IPv6', () => {
      assert.throws(() => encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '10.0.0.5', dstIp: '2001:db8::1', srcPort: 1, dstPort: 2, payload: Buffer.alloc(0) }), RangeError);
      assert.throws(() => encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '2001:db8::5', dstIp: '2001:db8::1', segment: { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: {}, window: 0, payload: Buffer.alloc(65516) } }), RangeError);
    });
    it('captured: an offloaded UDP checksum reports false, a software one true', () => {
      assert.equal(decodeFrame(UDP_OFFLOADED).udp?.checksumOk, false);
      const f = decodeFrame(UDP_DSTOPTS);
      assert.deepEqual(f.udp, { srcPort: 40002, dstPort: 40003, payload: Buffer.from('dst'), checksumOk: true });
      assert.equal(f.ip6?.extensionHeaders.length, 1);
    });
    it('captured: fragments carry no transport layer, first or last', () => {
      for (const frag of [FRAG_1, FRAG_3]) {
        const f = decodeFrame(frag);
        assert.ok(f.ip6?.fragment);
        assert.deepEqual(Object.keys(f), ['eth', 'ip6']);
      }
    });
    it('captured: ICMPv6 after hop-by-hop options is IPv6 only, without a problem', () => {
      assert.deepEqual(Object.keys(decodeFrame(MLD_REPORT)), ['eth', 'ip6']);
    });
    it('an atomic fragment (offset 0, no more) is decoded through, as RFC 6946 says', () => {
      const ip6 = encodeIpv6({ src: '2001:db8::5', dst: '2001:db8::1', nextHeader: 17, hopLimit: 64, trafficClass: 0, flowLabel: 0, extensionHeaders: [{ type: 44, data: ipv6FragmentData({ offset: 0, more: false, id: 1 }) }], payload: encodeUdp({ srcPort: 1, dstPort: 2, payload: Buffer.from('x') }, '2001:db8::5', '2001:db8::1') });
      const f = decodeFrame(encodeEthernet({ dst: SERVER, src: CLIENT, ethertype: ETHERTYPE.IPV6, payload: ip6 }));
      assert.equal(f.udp?.checksumOk, true);
    });
  });

  describe('link types', () => {
    const ip6 = CAPTURED_IPV6.UDP_DSTOPTS.subarray(14);
    // dumpcap -i any (SLL) and -i any -y LINUX_SLL2 headers from the same capture as CAPTURED_IPV6.
    const sll = Buffer.concat([hex('0004 0001 0006 5254001234560000 86dd'), ip6]);
    const sll2 = Buffer.concat([hex('86dd 0000 00000003 0001 04 06 5254001234560000'), ip6]);
    it('1: Ethernet, as decodeFrame', () => {
      assert.deepEqual(decodeLinkFrame(LINKTYPE_ETHERNET, CAPTURED_IPV6.UDP_DSTOPTS), decodeFrame(CAPTURED_IPV6.UDP_DSTOPTS));
    });
    for (const [name, linktype, wire, version] of [['113: SLL', LINKTYPE_LINUX_SLL, sll, 1], ['276: SLL2', LINKTYPE_LINUX_SLL2, sll2, 2]] as const) {
      it(`${name}: cooked header, eth made from it, then the same layers`, () => {
        const f = decodeLinkFrame(linktype, wire);
        assert.equal(f.cooked?.version, version);
        assert.equal(f.cooked?.packetType, 4);
        assert.deepEqual(f.eth, { src: '52:54:00:12:34:56', dst: '', ethertype: ETHERTYPE.IPV6, payload: ip6 });
        assert.deepEqual(f.udp, decodeFrame(CAPTURED_IPV6.UDP_DSTOPTS).udp);
        assert.deepEqual(Object.keys(f), ['eth', 'cooked', 'ip6', 'udp']);
      });
    }
    it('cooked IPv4 with the 802.1Q tag libpcap puts back', () => {
      const eth = encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, vlan: { id: 42, pcp: 3, dei: true }, srcIp: '10.0.0.5', dstIp: '10.0.0.1', srcPort: 2000, dstPort: 69, payload: Buffer.from('x') });
      const wire = encodeLinuxSll({ packetType: 0, arphrdType: 1, address: CLIENT, protocol: ETHERTYPE.VLAN, payload: eth.subarray(14, 14 + 4 + 20 + 9) });
      const f = decodeLinkFrame(LINKTYPE_LINUX_SLL, wire);
      assert.deepEqual(f.eth.vlan, { id: 42, pcp: 3, dei: true });
      assert.equal(f.eth.ethertype, ETHERTYPE.IPV4);
      assert.deepEqual([f.udp?.dstPort, f.udp?.checksumOk], [69, true]);
    });
    it('a problem offset counts the cooked header', () => {
      const bad = Buffer.from(sll);
      bad[16] = 0x45; // IPv4 in an IPv6 ethertype
      assert.deepEqual([decodeLinkFrame(LINKTYPE_LINUX_SLL, bad).problem?.code, decodeLinkFrame(LINKTYPE_LINUX_SLL, bad).problem?.offset], ['IPV6_BAD_VERSION', 16]);
      const bad2 = Buffer.from(sll2);
      bad2.writeUInt16BE(2, 20 + 4); // payload length 2: the destination options no longer fit
      const p = decodeLinkFrame(LINKTYPE_LINUX_SLL2, bad2).problem;
      assert.deepEqual([p?.code, p?.field, p?.offset], ['IPV6_BAD_EXTENSION', 'destinationOptions', 60]);
    });
    it('throws only for an unknown link type or a bad link-layer header', () => {
      assertDecodeError(() => decodeLinkFrame(105, sll), 'FRAME_UNKNOWN_LINKTYPE', 'linktype', 0);
      assertDecodeError(() => decodeLinkFrame(0, sll), 'FRAME_UNKNOWN_LINKTYPE', 'linktype', 0);
      assertDecodeError(() => decodeLinkFrame(LINKTYPE_LINUX_SLL, sll.subarray(0, 15)), 'SLL_TRUNCATED', 'protocol', 14);
      assertDecodeError(() => decodeLinkFrame(LINKTYPE_LINUX_SLL2, sll2.subarray(0, 12)), 'SLL_TRUNCATED', 'address', 12);
      assertDecodeError(() => decodeLinkFrame(LINKTYPE_LINUX_SLL, hex('0000 0001 0006 525400123456 0000 8100 00')), 'ETH_TRUNCATED', 'vlan', 16);
      assertDecodeError(() => decodeLinkFrame(LINKTYPE_ETHERNET, Buffer.alloc(13)), 'ETH_TRUNCATED', 'ethertype', 12);
    });
  });

  describe('checksums: false', () => {
    it('leaves UDP and TCP checksums unverified (null) and decodes the same fields; the default verifies them', () => {
      const udp = encodeUdpFrame({ srcMac: '52:54:00:00:00:01', dstMac: BROADCAST_MAC, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 69, dstPort: 1024, payload: Buffer.from('abc') });
      const tcp = encodeTcpFrame({ srcMac: '52:54:00:00:00:01', dstMac: BROADCAST_MAC, srcIp: 'fd00::1', dstIp: 'fd00::2', segment: { srcPort: 80, dstPort: 5000, seq: 1, ack: 2, flags: { ack: true }, window: 100, payload: Buffer.from('HTTP/1.1 200 OK') } });
      udp[40] = udp[40]! ^ 0x55; // the UDP checksum field

      assert.equal(decodeFrame(udp).udp?.checksumOk, false);
      assert.equal(decodeFrame(tcp).tcp?.checksumOk, true);
      const a = decodeFrame(udp, { checksums: false });
      const b = decodeLinkFrame(LINKTYPE_ETHERNET, tcp, { checksums: false });
      assert.equal(a.udp?.checksumOk, null);
      assert.equal(b.tcp?.checksumOk, null);
      assert.deepEqual([a.udp?.srcPort, a.udp?.dstPort, a.udp?.payload.toString()], [69, 1024, 'abc']);
      assert.equal(b.tcp?.payload.toString(), 'HTTP/1.1 200 OK');
    });
  });

  describe('frames cut by the snaplen (originalLength)', () => {
    const http = Buffer.from('GET /boot/ubuntu/vmlinuz HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: iPXE/1.21.1\r\n\r\n' + 'x'.repeat(1000));
    const tcp4 = encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '10.0.0.5', dstIp: '10.0.0.1', segment: { srcPort: 40000, dstPort: 80, seq: 1, ack: 1, flags: { ack: true, psh: true }, window: 502, payload: http } });
    const udp4 = encodeUdpFrame({ srcMac: CLIENT, dstMac: BROADCAST_MAC, srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: Buffer.alloc(300, 1) });
    const udp6 = encodeUdpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: '2001:db8::5', dstIp: '2001:db8::1', srcPort: 40000, dstPort: 69, payload: Buffer.alloc(100, 2) });
    const tcp6 = encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, vlan: { id: 5, pcp: 0, dei: false }, srcIp: '2001:db8::5', dstIp: '2001:db8::1', segment: { srcPort: 40000, dstPort: 8080, seq: 1, ack: 1, flags: { ack: true }, window: 502, mss: 1440, payload: http } });
    const cut = (b: Buffer, n: number) => decodeFrame(b.subarray(0, n), { originalLength: b.length });
    it('tcpdump -s 96 on an HTTP request over IPv4: headers whole, payload cut, TCP checksum skipped', () => {
      const f = cut(tcp4, 96);
      assert.equal(f.truncated, true);
      assert.equal(f.ip?.truncated, true);
      assert.equal(f.ip?.payload.length, 96 - 34);
      assert.deepEqual([f.tcp?.srcPort, f.tcp?.dstPort, f.tcp?.checksumOk], [40000, 80, null]);
      assert.deepEqual(f.tcp?.payload, http.subarray(0, 96 - 54));
      assert.equal(f.problem, undefined);
    });
    it('the same over IPv6 with a VLAN tag and a TCP option', () => {
      const f = cut(tcp6, 96);
      assert.deepEqual([f.truncated, f.ip6?.truncated, f.tcp?.dstPort, f.tcp?.mss, f.tcp?.checksumOk, f.tcp?.payload.length], [true, true, 8080, 1440, null, 96 - 18 - 40 - 24]);
    });
    it('UDP over IPv4 and IPv6: payload cut, checksum null, truncated set on every layer', () => {
      for (const wire of [udp4, udp6]) {
        const f = cut(wire, 80);
        assert.equal(f.truncated, true);
        assert.deepEqual([f.udp?.truncated, f.udp?.checksumOk, f.udp?.payload.length], [true, null, 80 - (wire === udp4 ? 42 : 62)]);
      }
    });
    it('a header cut off is a problem, not a throw', () => {
      const table: [Buffer, number, string, string, number][] = [
        [tcp4, 20, 'IPV4_TRUNCATED', 'flags', 20], [tcp4, 40, 'TCP_TRUNCATED', 'seq', 38], [udp4, 40, 'UDP_TRUNCATED', 'checksum', 40],
        [udp6, 50, 'IPV6_TRUNCATED', 'dst', 38], [udp6, 58, 'UDP_TRUNCATED', 'length', 58], [tcp6, 80, 'TCP_TRUNCATED', 'options', 78],
      ];
      for (const [wire, n, code, field, offset] of table) {
        const f = cut(wire, n);
        assert.deepEqual([f.problem?.code, f.problem?.field, f.problem?.offset, f.truncated], [code, field, offset, true], `${n} bytes`);
      }
    });
    it('a frame cut only in its padding decodes whole, still marked truncated', () => {
      const f = cut(encodeArpFrame({ srcMac: SERVER, dstMac: CLIENT, arp: { op: 2, senderMac: SERVER, senderIp: '10.0.0.1', targetMac: CLIENT, targetIp: '10.0.0.5' } }), 50);
      assert.deepEqual([f.arp?.targetIp, f.truncated, f.problem], ['10.0.0.5', true, undefined]);
    });
    it('without originalLength (or with it equal) a cut frame is refused as before', () => {
      assert.equal(decodeFrame(tcp4.subarray(0, 96)).problem?.code, 'IPV4_BAD_TOTAL_LENGTH');
      assert.equal(decodeFrame(tcp4.subarray(0, 96), { originalLength: 96 }).problem?.code, 'IPV4_BAD_TOTAL_LENGTH');
      const whole = decodeFrame(tcp4, { originalLength: tcp4.length });
      assert.deepEqual(whole, decodeFrame(tcp4));
      assert.equal(whole.truncated, undefined);
    });

    // Every cut of every sample: never a throw past the link header, every layer that decodes
    // agrees with the whole frame's, and a layer that is missing says why with a *_TRUNCATED problem.
    const vlanArp = encodeArpFrame({ srcMac: CLIENT, dstMac: BROADCAST_MAC, vlan: { id: 9, pcp: 0, dei: false }, arp: { op: 1, senderMac: CLIENT, senderIp: '10.0.0.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.1' } });
    const samples: [string, number, Buffer, number][] = [
      ['IPv4 TCP HTTP', LINKTYPE_ETHERNET, tcp4.subarray(0, 200), 14],
      ['IPv4 UDP DHCP', LINKTYPE_ETHERNET, udp4, 14],
      ['VLAN ARP', LINKTYPE_ETHERNET, vlanArp, 18],
      ['IPv6 UDP', LINKTYPE_ETHERNET, udp6, 14],
      ['VLAN IPv6 TCP', LINKTYPE_ETHERNET, tcp6.subarray(0, 200), 18],
      ['captured IPv6 UDP after destination options', LINKTYPE_ETHERNET, CAPTURED_IPV6.UDP_DSTOPTS, 14],
      ['captured IPv6 first fragment', LINKTYPE_ETHERNET, CAPTURED_IPV6.FRAG_1.subarray(0, 120), 14],
      ['captured MLD report', LINKTYPE_ETHERNET, CAPTURED_IPV6.MLD_REPORT, 14],
      ['SLL IPv6 UDP', LINKTYPE_LINUX_SLL, encodeLinuxSll({ packetType: 4, arphrdType: 1, address: CLIENT, protocol: ETHERTYPE.IPV6, payload: udp6.subarray(14) }), 16],
      ['SLL2 IPv4 TCP', LINKTYPE_LINUX_SLL2, encodeLinuxSll2({ packetType: 0, arphrdType: 1, address: CLIENT, protocol: ETHERTYPE.IPV4, interfaceIndex: 2, payload: tcp4.subarray(14, 200) }), 20],
    ];
    const layers = ['arp', 'ip', 'ip6', 'udp', 'tcp'] as const;
    for (const [name, linktype, wire, linkHeader] of samples) {
      it(`${name}: cut at every byte offset`, () => {
        // The samples' own lengths stand for complete frames (some are the first 120 or 200 bytes of
        // longer ones), so their IP layers are given the length that makes them whole.
        const fix = (b: Buffer): Buffer => {
          const c = Buffer.from(b);
          const ipAt = linkHeader;
          if (c[ipAt]! >>> 4 === 4) c.writeUInt16BE(c.length - ipAt, ipAt + 2);
          if (c[ipAt]! >>> 4 === 6) c.writeUInt16BE(c.length - ipAt - 40, ipAt + 4);
          return c;
        };
        const frame = fix(wire);
        const full = decodeLinkFrame(linktype, frame);
        assert.equal(full.problem, undefined, full.problem?.message);
        for (let n = 0; n < frame.length; n++) {
          const b = frame.subarray(0, n);
          if (n < linkHeader) {
            assert.throws(() => decodeLinkFrame(linktype, b, { originalLength: frame.length }), DecodeError);
            continue;
          }
          const f = decodeLinkFrame(linktype, b, { originalLength: frame.length });
          assert.equal(f.truncated, true);
          const missing = layers.filter((l) => full[l] !== undefined && f[l] === undefined);
          for (const l of layers) if (f[l] !== undefined) assert.ok(full[l] !== undefined, `${l} appears at ${n} bytes`);
          if (missing.length > 0) {
            assert.ok(f.problem?.code.endsWith('_TRUNCATED'), `${n} bytes: ${missing.join(',')} missing with ${f.problem?.message}`);
            assert.ok(f.problem!.offset <= n);
          } else {
            assert.equal(f.problem, undefined);
          }
          if (f.ip) assert.deepEqual([f.ip.src, f.ip.dst, f.ip.protocol, f.ip.id], [full.ip!.src, full.ip!.dst, full.ip!.protocol, full.ip!.id]);
          if (f.ip6) assert.deepEqual([f.ip6.src, f.ip6.dst, f.ip6.nextHeader, f.ip6.fragment, f.ip6.extensionHeaders], [full.ip6!.src, full.ip6!.dst, full.ip6!.nextHeader, full.ip6!.fragment, full.ip6!.extensionHeaders]);
          if (f.arp) assert.deepEqual(f.arp, full.arp);
          if (f.udp) {
            assert.deepEqual([f.udp.srcPort, f.udp.dstPort], [full.udp!.srcPort, full.udp!.dstPort]);
            assert.deepEqual(f.udp.payload, full.udp!.payload.subarray(0, f.udp.payload.length));
            assert.ok(f.udp.checksumOk === null || f.udp.checksumOk === full.udp!.checksumOk);
          }
          if (f.tcp) {
            assert.deepEqual([f.tcp.srcPort, f.tcp.dstPort, f.tcp.seq, f.tcp.mss], [full.tcp!.srcPort, full.tcp!.dstPort, full.tcp!.seq, full.tcp!.mss]);
            assert.deepEqual(f.tcp.payload, full.tcp!.payload.subarray(0, f.tcp.payload.length));
            assert.equal(f.tcp.checksumOk, null);
          }
        }
        assert.deepEqual(decodeLinkFrame(linktype, frame, { originalLength: frame.length }), full);
      });
    }
  });

  describe('properties', () => {
    const inner = { ...ARP_DECODE_ERRORS, ...IPV4_DECODE_ERRORS, ...IPV6_DECODE_ERRORS, ...UDP_DECODE_ERRORS, ...TCP_DECODE_ERRORS };
    const ipHeader = fc.tuple(fc.integer({ min: 5, max: 7 }), fc.integer({ min: 0, max: 80 }), fc.constantFrom(1, 6, 17), fc.uint8Array({ minLength: 0, maxLength: 80 }))
      .map(([ihl, total, proto, rest]) => [0x40 | ihl, 0, 0, total, 0, 0, 0, 0, 64, proto, ...rest]);
    const ip6Header = fc.tuple(fc.integer({ min: 0, max: 80 }), fc.constantFrom(0, 6, 17, 43, 44, 58, 59, 60), fc.uint8Array({ minLength: 33, maxLength: 33 }),
      fc.array(fc.oneof(fc.constantFrom(0, 1, 6, 17, 44, 60), fc.integer({ min: 0, max: 255 })), { maxLength: 80 }))
      .map(([plen, next, rest, tail]) => [0x60, 0, 0, 0, 0, plen, next, ...rest, ...tail]);
    const above = fc.oneof(ipHeader, ip6Header, fc.uint8Array({ maxLength: 60 }).map((a) => [...a]));
    /** Checks what a decoded frame may hold; `b` is the whole input. */
    const wellFormed = (f: DecodedFrame, b: Buffer): void => {
      if (f.problem) {
        assert.ok(f.problem.code in inner, f.problem.code);
        assert.ok(f.problem.offset >= 0 && f.problem.offset <= b.length, `offset ${f.problem.offset} outside the frame`);
      }
      assert.ok([f.arp, f.ip, f.ip6].filter(Boolean).length <= 1 && !(f.udp && f.tcp));
    };
    it('arbitrary bytes give a DecodedFrame or an Ethernet DecodeError, nothing else', () => {
      const ethernetHeader = fc.tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.constantFrom([0x08, 0x00], [0x08, 0x06], [0x86, 0xdd], [0x81, 0x00, 0, 1, 0x08, 0x00], [0x81, 0x00, 0, 1, 0x86, 0xdd]));
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 100 }),
        fc.tuple(ethernetHeader, above).map(([[macs, type], rest]) => Uint8Array.from([...macs, ...type, ...rest])),
      );
      fc.assert(
        fc.property(bytes, fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }), (u, more) => {
          const b = Buffer.from(u);
          const f = decodedOrRefused(() => decodeFrame(b, { originalLength: more === undefined ? undefined : b.length + more }), { codes: ETHERNET_DECODE_ERRORS, input: b });
          // Past a whole Ethernet header (and tag) nothing throws.
          const tagged = b.length >= 14 && b.readUInt16BE(12) === ETHERTYPE.VLAN;
          if (!f) return assert.ok(b.length < 14 || (tagged && b.length < 18));
          wellFormed(f, b);
          assert.equal(f.truncated, more !== undefined && more > 0 ? true : undefined);
        }),
        { numRuns: 5000 },
      );
    });
    it('decodeLinkFrame: arbitrary bytes and link types give a DecodedFrame or a link-layer DecodeError, nothing else', () => {
      const linkHeader = fc.oneof(
        fc.tuple(fc.constant(LINKTYPE_ETHERNET), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.constantFrom([0x08, 0x00], [0x86, 0xdd], [0x08, 0x06], [0x81, 0x00, 0, 1, 0x86, 0xdd]))
          .map(([lt, macs, type]) => [lt, [...macs, ...type]] as const),
        fc.tuple(fc.constant(LINKTYPE_LINUX_SLL), fc.uint8Array({ minLength: 14, maxLength: 14 }), fc.constantFrom([0x08, 0x00], [0x86, 0xdd], [0x81, 0x00, 0, 1, 0x08, 0x00], [0x81, 0x00]))
          .map(([lt, head, type]) => [lt, [...head, ...type]] as const),
        fc.tuple(fc.constant(LINKTYPE_LINUX_SLL2), fc.constantFrom([0x08, 0x00], [0x86, 0xdd], [0x08, 0x06], [0x81, 0x00]), fc.uint8Array({ minLength: 18, maxLength: 18 }))
          .map(([lt, type, rest]) => [lt, [...type, ...rest]] as const),
        fc.tuple(fc.constantFrom(LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, 0, 101, 0xffff), fc.constant([] as number[])),
      );
      const link = { ...ETHERNET_DECODE_ERRORS, ...LINUX_COOKED_DECODE_ERRORS, ...FRAME_DECODE_ERRORS };
      assertDecodesOrRefuses({
        bytes: fc.tuple(linkHeader, above, fc.integer({ min: 0, max: 60 })).map(([[lt, head], rest, more]) => Uint8Array.from([lt >> 8, lt & 0xff, more, ...head, ...rest])),
        decode: (u) => {
          const linktype = u.readUInt16BE(0);
          const b = u.subarray(3);
          const f = decodeLinkFrame(linktype, b, { originalLength: b.length + u[2]! });
          return { f, b };
        },
        codes: link,
        check: ({ f, b }) => {
          wellFormed(f, b);
          assert.ok(f.cooked === undefined || f.eth.dst === '');
        },
      });
    });
  });
});
