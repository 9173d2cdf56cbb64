import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { requireTools } from '../../test/helpers/tools.ts';
import { CAPTURED_IPV6, assertDecodeError, assertDecodesOrRefuses } from './decode-testing.ts';
import { ETHERTYPE, decodeEthernet, encodeEthernet } from './ethernet.ts';
import {
  ICMPV6_DECODE_ERRORS, ICMPV6_TYPE, decodeIcmpv6, decodeRouterAdvertisement, decodeRouterSolicitation, encodeRouterAdvertisement,
} from './icmpv6.ts';
import { decodeIpv6, encodeIpv6 } from './ipv6.ts';
import { LINKTYPE_ETHERNET, encodePcapHeader, encodePcapRecord } from './pcap.ts';

const ROUTER = 'fe80::72:66ff:fe00:1';
const ALL_NODES = 'ff02::1';
const RA = { curHopLimit: 64, managed: false, other: false, routerLifetime: 0, reachableTimeMs: 0, retransTimerMs: 0, sourceMac: '02:72:66:00:00:01' };

describe('ICMPv6 codec', () => {
  it('golden: the kernel\'s router solicitation, with its source link-layer address', () => {
    const ip = decodeIpv6(decodeEthernet(CAPTURED_IPV6.ROUTER_SOLICITATION).payload);
    const m = decodeIcmpv6(ip.payload, ip.src, ip.dst);
    assert.deepEqual([m.type, m.code], [ICMPV6_TYPE.ROUTER_SOLICITATION, 0]);
    const rs = decodeRouterSolicitation(m);
    assert.equal(rs.sourceMac, '52:54:00:12:34:56');
    assert.deepEqual(rs.options.map((o) => o.type), [1]);
  });

  it('round trip: an encoded advertisement decodes to its fields and re-encodes to the same bytes', () => {
    const bytes = encodeRouterAdvertisement({ ...RA, managed: true, routerLifetime: 1800, reachableTimeMs: 30_000, retransTimerMs: 1000 }, ROUTER, ALL_NODES);
    const ra = decodeRouterAdvertisement(decodeIcmpv6(bytes, ROUTER, ALL_NODES));
    assert.deepEqual({ ...ra, options: undefined }, { ...RA, managed: true, routerLifetime: 1800, reachableTimeMs: 30_000, retransTimerMs: 1000, options: undefined });
    assert.deepEqual(encodeRouterAdvertisement(ra, ROUTER, ALL_NODES), bytes, 'the source address option is not written twice');
    fc.assert(fc.property(
      fc.record({ curHopLimit: fc.integer({ min: 0, max: 255 }), managed: fc.boolean(), other: fc.boolean(), routerLifetime: fc.integer({ min: 0, max: 0xffff }),
        reachableTimeMs: fc.nat(), retransTimerMs: fc.nat() }),
      (f) => {
        const b = encodeRouterAdvertisement(f, ROUTER, ALL_NODES);
        const back = decodeRouterAdvertisement(decodeIcmpv6(b, ROUTER, ALL_NODES));
        assert.deepEqual({ ...back, options: undefined }, { ...f, options: undefined });
      }));
  });

  it('malformed: each refused with its code, field and offset', () => {
    assertDecodeError(() => decodeIcmpv6(Buffer.from([133, 0, 0]), ROUTER, ALL_NODES), 'ICMPV6_TRUNCATED', 'checksum', 2);
    const good = encodeRouterAdvertisement(RA, ROUTER, ALL_NODES);
    assertDecodeError(() => decodeIcmpv6(good, ROUTER, 'ff02::2'), 'ICMPV6_BAD_CHECKSUM', 'checksum', 2);
    const flipped = Buffer.from(good);
    flipped[6]! ^= 1;
    assertDecodeError(() => decodeIcmpv6(flipped, ROUTER, ALL_NODES), 'ICMPV6_BAD_CHECKSUM', 'checksum', 2);
    const withBody = (body: Buffer) => ({ type: 134, code: 0, body });
    assertDecodeError(() => decodeRouterAdvertisement(withBody(Buffer.alloc(11))), 'ICMPV6_TRUNCATED', 'routerLifetime');
    assertDecodeError(() => decodeRouterAdvertisement(withBody(Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])]))), 'ICMPV6_BAD_OPTION', 'options', 17);
    assertDecodeError(() => decodeRouterAdvertisement(withBody(Buffer.concat([Buffer.alloc(12), Buffer.from([1, 2, 0, 0, 0, 0, 0, 0])]))), 'ICMPV6_BAD_OPTION', 'options', 17);
    assertDecodeError(() => decodeRouterSolicitation({ type: 133, code: 0, body: Buffer.alloc(3) }), 'ICMPV6_TRUNCATED', 'reserved');
    assert.throws(() => encodeRouterAdvertisement({ ...RA, routerLifetime: 70_000 }, ROUTER, ALL_NODES), /routerLifetime 70000/);
    assert.throws(() => encodeRouterAdvertisement({ ...RA, options: [{ type: 3, data: Buffer.alloc(5) }] }, ROUTER, ALL_NODES), /multiple of 8/);
  });

  it('property: arbitrary bytes are a message or a DecodeError; arbitrary bodies an RA, an RS or a DecodeError', () => {
    assertDecodesOrRefuses({
      bytes: fc.uint8Array({ maxLength: 80 }),
      decode: (b) => decodeIcmpv6(b, ROUTER, ALL_NODES),
      codes: ICMPV6_DECODE_ERRORS,
      check: (m, b) => assert.deepEqual(m.body, b.subarray(4)),
    });
    for (const decode of [decodeRouterAdvertisement, decodeRouterSolicitation]) {
      assertDecodesOrRefuses({
        // Whole messages (offsets count from the ICMPv6 header), the checksum not looked at.
        bytes: fc.uint8Array({ minLength: 4, maxLength: 80 }),
        decode: (b) => decode({ type: b[0]!, code: b[1]!, body: b.subarray(4) }),
        codes: ICMPV6_DECODE_ERRORS,
        check: (v) => assert.ok(v.options.every((o) => o.data.length % 8 === 6)),
      });
    }
  });

  it('tshark reads an encoded advertisement in an Ethernet frame as we wrote it, checksum good', function () {
    requireTools(['tshark']);
    const icmp = encodeRouterAdvertisement({ ...RA, other: true, routerLifetime: 0 }, ROUTER, ALL_NODES);
    const frame = encodeEthernet({
      dst: '33:33:00:00:00:01', src: RA.sourceMac, ethertype: ETHERTYPE.IPV6,
      payload: encodeIpv6({ src: ROUTER, dst: ALL_NODES, nextHeader: 58, hopLimit: 255, trafficClass: 0, flowLabel: 0, payload: icmp }),
    });
    const dir = mkdtempSync(join(tmpdir(), 'rf-icmpv6-'));
    try {
      const file = join(dir, 'ra.pcap');
      writeFileSync(file, Buffer.concat([encodePcapHeader({ linktype: LINKTYPE_ETHERNET }), encodePcapRecord(frame, 1_000_000_000n)]));
      const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'icmpv6.type', '-e', 'icmpv6.checksum.status',
        '-e', 'icmpv6.nd.ra.cur_hop_limit', '-e', 'icmpv6.nd.ra.flag.m', '-e', 'icmpv6.nd.ra.flag.o', '-e', 'icmpv6.nd.ra.router_lifetime', '-e', 'icmpv6.opt.linkaddr', '-e', 'ipv6.hlim'], { encoding: 'utf8' });
      assert.deepEqual(out.trim().split('|'), ['134', '1', '64', '0', '1', '0', '02:72:66:00:00:01', '255']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
