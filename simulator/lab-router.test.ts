import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CAPTURED_IPV6, hex } from '../provisioner/protocol/decode-testing.ts';
import { ETHERTYPE, decodeEthernet, encodeEthernet } from '../provisioner/protocol/ethernet.ts';
import { ICMPV6_TYPE, decodeIcmpv6, decodeRouterAdvertisement } from '../provisioner/protocol/icmpv6.ts';
import { finishChecksum, sumWords } from '../provisioner/protocol/ipv4.ts';
import { decodeIpv6, encodeIpv6, ipv6PseudoHeaderSum } from '../provisioner/protocol/ipv6.ts';
import { answerRouterSolicitation, labRouterMac, linkLocalOf } from './lab-router.ts';

const ROUTER_MAC = '02:72:66:00:00:01';

/** A router solicitation as iPXE sends it: from its link-local address, with its MAC as an option. */
const IPXE_RS = CAPTURED_IPV6.ROUTER_SOLICITATION;

function decodeAnswer(frame: Buffer) {
  const eth = decodeEthernet(frame);
  const ip = decodeIpv6(eth.payload);
  const m = decodeIcmpv6(ip.payload, ip.src, ip.dst);
  return { eth, ip, m, ra: decodeRouterAdvertisement(m) };
}

describe('lab router: answering router solicitations', () => {
  it('link-local addresses from MACs, in the form decodeIpv6 gives', () => {
    assert.equal(linkLocalOf(ROUTER_MAC), 'fe80::72:66ff:fe00:1');
    assert.equal(linkLocalOf('52:54:00:12:34:56'), 'fe80::5054:ff:fe12:3456');
    assert.equal(linkLocalOf('02:00:00:00:00:00'), 'fe80::ff:fe00:0');
    assert.deepEqual([labRouterMac(0), labRouterMac(1), labRouterMac(0x1ff)], ['02:72:66:00:00:00', '02:72:66:00:00:01', '02:72:66:00:01:ff']);
  });

  it('answers a solicitation with "no IPv6 here": lifetime 0, no M/O flags, no prefix, hop limit 255, to the asker', () => {
    const reply = answerRouterSolicitation(IPXE_RS, ROUTER_MAC);
    assert.ok(reply);
    const { eth, ip, m, ra } = decodeAnswer(reply);
    assert.deepEqual([eth.src, eth.dst, eth.ethertype], [ROUTER_MAC, '52:54:00:12:34:56', ETHERTYPE.IPV6]);
    assert.deepEqual([ip.src, ip.dst, ip.hopLimit], ['fe80::72:66ff:fe00:1', 'fe80::5054:ff:fe12:3456', 255]);
    assert.equal(m.type, ICMPV6_TYPE.ROUTER_ADVERTISEMENT);
    assert.deepEqual({ ...ra, options: ra.options.map((o) => o.type) }, {
      curHopLimit: 64, managed: false, other: false, routerLifetime: 0, reachableTimeMs: 0, retransTimerMs: 0, sourceMac: ROUTER_MAC, options: [1],
    });
  });

  it('a solicitation from the unspecified address is answered to all nodes', () => {
    const icmp = Buffer.from('8500000000000000', 'hex');
    const rs = (src: string, body: Buffer) => {
      const b = Buffer.from(body);
      b.writeUInt16BE(finishChecksum(sumWords(b, 0, b.length, ipv6PseudoHeaderSum(src, 'ff02::2', 58, b.length))), 2);
      return encodeEthernet({ dst: '33:33:00:00:00:02', src: '52:54:00:aa:bb:cc', ethertype: ETHERTYPE.IPV6,
        payload: encodeIpv6({ src, dst: 'ff02::2', nextHeader: 58, hopLimit: 255, trafficClass: 0, flowLabel: 0, payload: b }) });
    };
    const reply = answerRouterSolicitation(rs('::', icmp), ROUTER_MAC);
    assert.ok(reply);
    const { eth, ip } = decodeAnswer(reply);
    assert.deepEqual([eth.dst, ip.dst], ['33:33:00:00:00:01', 'ff02::1']);
  });

  it('leaves alone: other traffic, its own frames, hop limits other than 255, bad checksums, advertisements, garbage', () => {
    assert.equal(answerRouterSolicitation(CAPTURED_IPV6.MLD_REPORT, ROUTER_MAC), undefined, 'MLD is not a solicitation');
    assert.equal(answerRouterSolicitation(CAPTURED_IPV6.UDP_OFFLOADED, ROUTER_MAC), undefined);
    assert.equal(answerRouterSolicitation(IPXE_RS, '52:54:00:12:34:56'), undefined, 'a frame from the router itself (the hub echoes it)');
    const hop64 = Buffer.from(IPXE_RS);
    hop64[14 + 7] = 64;
    assert.equal(answerRouterSolicitation(hop64, ROUTER_MAC), undefined, 'RFC 4861: hop limit must be 255');
    const badSum = Buffer.from(IPXE_RS);
    badSum[badSum.length - 1]! ^= 0xff;
    assert.equal(answerRouterSolicitation(badSum, ROUTER_MAC), undefined);
    const own = answerRouterSolicitation(IPXE_RS, ROUTER_MAC)!;
    assert.equal(answerRouterSolicitation(own, '02:72:66:00:00:02'), undefined, 'an advertisement is not answered');
    assert.equal(answerRouterSolicitation(hex('ffffffffffff 525400123456 0806 0001'), ROUTER_MAC), undefined);
    const tagged = Buffer.concat([IPXE_RS.subarray(0, 12), hex('8100 0064'), IPXE_RS.subarray(12)]);
    assert.equal(answerRouterSolicitation(tagged, ROUTER_MAC), undefined, 'a VLAN-tagged solicitation (lab networks have none)');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (u) => {
      const r = answerRouterSolicitation(Buffer.from(u), ROUTER_MAC);
      assert.ok(r === undefined || r.length > 0);
    }), { numRuns: 3000 });
  });
});
