// The frame codecs against Wireshark: frames built with the encoders (and a few captured ones) are
// written with the lab's pcap writer, read back by tshark, and every field tshark prints must be
// the one decodeLinkFrame (plus decodeHttpHead on TCP payloads) gives, frame by frame.
//
// Two differences are by design and are written out in `expectedFromTshark` rather than hidden:
// - decodeFrame leaves the transport layer out of every IP fragment, the first included; tshark
//   (reassembly off, so frames are compared one by one) decodes the first fragment's UDP header.
// - decodeHttpHead answers only for a complete head; tshark also reads the request or status
//   line of a head cut short by the snaplen.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from '../../test/helpers/tools.ts';
import { CAPTURED_IPV6 } from './decode-testing.ts';
import { ETHERTYPE, encodeEthernet } from './ethernet.ts';
import { decodeLinkFrame, encodeArpFrame, encodeTcpFrame, encodeUdpFrame, type DecodedFrame } from './frames.ts';
import { decodeHttpHead, encodeHttpHead, startsLikeHttp } from './http1.ts';
import { IP_PROTOCOL, encodeIpv4 } from './ipv4.ts';
import { encodeIpv6, ipv6FragmentData } from './ipv6.ts';
import { encodeLinuxSll, encodeLinuxSll2 } from './linux-cooked.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, encodePcapHeader, encodePcapRecord } from './pcap.ts';
import { encodeUdp } from './udp.ts';

const FIELDS = [
  'frame.number', 'eth.src', 'eth.dst', 'vlan.id', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport',
  'tcp.srcport', 'tcp.dstport', 'http.request.method', 'http.request.uri', 'http.response.code',
  'sll.pkttype', 'sll.src.eth', 'sll.etype', 'sll.ifindex', 'udp.checksum.status', 'tcp.checksum.status',
] as const;
type Row = Partial<Record<(typeof FIELDS)[number], string>>;

function tshark(file: string): Promise<Row[]> {
  // Reassembly off: the codecs decode one frame at a time, and so must the reference. Checksums
  // checked, which tshark does not do by default.
  const args = ['-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t', ...FIELDS.flatMap((f) => ['-e', f])];
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { maxBuffer: 64 << 20 }, (err, out, stderr) => {
      if (err) return reject(new Error(`tshark ${args.join(' ')}: ${err.message}\n${stderr}`));
      resolve(out.split('\n').filter((l) => l !== '').map((line) => {
        const row: Row = {};
        line.split('\t').forEach((v, i) => {
          if (v !== '') row[FIELDS[i]!] = v;
        });
        return row;
      }));
    });
  });
}

/** tshark's checksum status: 0 bad, 1 good, 2 unverified. */
const checksumStatus = (ok: boolean | null): string => (ok === null ? '2' : ok ? '1' : '0');

/** Our decoding of one frame, in tshark's field names and formats. */
function rowOf(number: number, f: DecodedFrame): Row {
  const row: Row = { 'frame.number': String(number) };
  if (f.cooked) {
    row['sll.pkttype'] = String(f.cooked.packetType);
    if (f.cooked.addressLength === 6) row['sll.src.eth'] = f.cooked.address;
    row['sll.etype'] = `0x${f.cooked.protocol.toString(16).padStart(4, '0')}`;
    if (f.cooked.interfaceIndex !== undefined) row['sll.ifindex'] = String(f.cooked.interfaceIndex);
  } else {
    row['eth.src'] = f.eth.src;
    row['eth.dst'] = f.eth.dst;
  }
  if (f.eth.vlan) row['vlan.id'] = String(f.eth.vlan.id);
  if (f.ip) Object.assign(row, { 'ip.src': f.ip.src, 'ip.dst': f.ip.dst });
  if (f.ip6) Object.assign(row, { 'ipv6.src': f.ip6.src, 'ipv6.dst': f.ip6.dst });
  if (f.udp) Object.assign(row, { 'udp.srcport': String(f.udp.srcPort), 'udp.dstport': String(f.udp.dstPort), 'udp.checksum.status': checksumStatus(f.udp.checksumOk) });
  if (f.tcp) {
    Object.assign(row, { 'tcp.srcport': String(f.tcp.srcPort), 'tcp.dstport': String(f.tcp.dstPort), 'tcp.checksum.status': checksumStatus(f.tcp.checksumOk) });
    const h = startsLikeHttp(f.tcp.payload) ? decodeHttpHead(f.tcp.payload) : null;
    if (h?.kind === 'request') Object.assign(row, { 'http.request.method': h.method, 'http.request.uri': h.target });
    if (h?.kind === 'response') row['http.response.code'] = String(h.status);
  }
  return row;
}

/** tshark's row less what we leave out on purpose (see the comment at the top). */
function expectedFromTshark(theirs: Row, ours: DecodedFrame): Row {
  const row = { ...theirs };
  // tshark's 3 is "not present" (a UDP checksum field of 0 over IPv4); checksumOk says null for it
  // as for any checksum it did not verify.
  if (row['udp.checksum.status'] === '3') row['udp.checksum.status'] = '2';
  const fragment = (ours.ip && (ours.ip.moreFragments || ours.ip.fragmentOffset > 0)) || (ours.ip6?.fragment && (ours.ip6.fragment.more || ours.ip6.fragment.offset > 0));
  if (fragment) for (const k of ['udp.srcport', 'udp.dstport', 'udp.checksum.status', 'tcp.srcport', 'tcp.dstport', 'tcp.checksum.status'] as const) delete row[k];
  if (ours.truncated && ours.tcp && decodeHttpHead(ours.tcp.payload) === null) {
    for (const k of ['http.request.method', 'http.request.uri', 'http.response.code'] as const) delete row[k];
  }
  return row;
}

const CLIENT = '52:54:00:12:34:56';
const SERVER = '52:54:00:00:00:01';
const request = (target: string, host: string) => encodeHttpHead({ kind: 'request', method: 'GET', target, version: 'HTTP/1.1', headers: [['Host', host], ['User-Agent', 'iPXE/1.21.1']] });
const body = Buffer.from('#!ipxe\nchain http://10.0.0.1/boot.ipxe\n');
const response = Buffer.concat([encodeHttpHead({ kind: 'response', version: 'HTTP/1.1', status: 200, reason: 'OK', headers: [['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]] }), body]);
const notFound = encodeHttpHead({ kind: 'response', version: 'HTTP/1.1', status: 404, reason: 'Not Found', headers: [['Content-Length', '0']] });
const post = Buffer.concat([encodeHttpHead({ kind: 'request', method: 'POST', target: '/api/v1/nopxe/node1', version: 'HTTP/1.1', headers: [['Host', '[2001:db8::1]:8080'], ['Content-Length', '2']] }), Buffer.from('{}')]);
/** A request and its response on one connection, with sequence numbers tshark's TCP analysis accepts (else it calls the response a spurious retransmission and does not dissect it). */
const exchange = (clientIp: string, serverIp: string, clientPort: number, serverPort: number, req: Buffer, res: Buffer | undefined, vlan?: number): Buffer[] => {
  const tag = vlan === undefined ? undefined : { id: vlan, pcp: 0, dei: false };
  const frames = [encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, vlan: tag, srcIp: clientIp, dstIp: serverIp, segment: { srcPort: clientPort, dstPort: serverPort, seq: 1000, ack: 2000, flags: { ack: true, psh: true }, window: 502, payload: req } })];
  if (res) frames.push(encodeTcpFrame({ srcMac: SERVER, dstMac: CLIENT, vlan: tag, srcIp: serverIp, dstIp: clientIp, segment: { srcPort: serverPort, dstPort: clientPort, seq: 2000, ack: 1000 + req.length, flags: { ack: true, psh: true }, window: 502, payload: res } }));
  return frames;
};
const udp = (srcIp: string, dstIp: string, srcPort: number, dstPort: number, payload: Buffer, vlan?: number) => encodeUdpFrame({
  srcMac: CLIENT, dstMac: SERVER, vlan: vlan === undefined ? undefined : { id: vlan, pcp: 0, dei: false }, srcIp, dstIp, srcPort, dstPort, payload,
});
// tshark's IPv6 text for these was checked one by one in ipv6.test.ts; here it is checked again live.
const ADDRESSES = ['2001:db8::1:0:0:1', '2001:db8:0:1::1', '::1', '::', '1::', '::ffff:1.2.3.4', '::1.2.3.4', '64:ff9b::102:304', '::ffff:0:102:304',
  '1:0:1::1:0:0', '2001:db8:0:1:1:1:1:1', '::ffff:0.0.0.0', '::0.2.0.3', 'fe80::5054:ff:fe12:3456'];

function ethernetFrames(): Buffer[] {
  const v4fragment = (offset: number, more: boolean, payload: Buffer) => encodeEthernet({ src: CLIENT, dst: SERVER, ethertype: ETHERTYPE.IPV4, payload: encodeIpv4({
    src: '10.0.0.5', dst: '10.0.0.1', protocol: IP_PROTOCOL.UDP, ttl: 64, id: 77, tos: 0, dontFragment: false, moreFragments: more, fragmentOffset: offset, payload,
  }) });
  const whole = encodeUdp({ srcPort: 1024, dstPort: 69, payload: Buffer.alloc(40, 7) }, '10.0.0.5', '10.0.0.1');
  const v6fragment = (offset: number, more: boolean, payload: Buffer) => encodeEthernet({ src: CLIENT, dst: SERVER, ethertype: ETHERTYPE.IPV6, payload: encodeIpv6({
    src: '2001:db8::5', dst: '2001:db8::1', nextHeader: IP_PROTOCOL.UDP, hopLimit: 64, trafficClass: 0, flowLabel: 0,
    extensionHeaders: [{ type: 0, data: Buffer.from([1, 4, 0, 0, 0, 0]) }, { type: 44, data: ipv6FragmentData({ offset, more, id: 5 }) }], payload,
  }) });
  const whole6 = encodeUdp({ srcPort: 1024, dstPort: 69, payload: Buffer.alloc(40, 7) }, '2001:db8::5', '2001:db8::1');
  // A checksum field of 0 (none, over IPv4) and a corrupted one.
  const noChecksum = udp('10.0.0.5', '10.0.0.1', 2001, 69, Buffer.from('\0\x01a\0octet\0'));
  noChecksum.writeUInt16BE(0, 14 + 20 + 6);
  const badChecksum = exchange('2001:db8::5', '2001:db8::1', 40005, 80, request('/bad', 'h'), undefined)[0]!;
  badChecksum[14 + 40 + 14]! ^= 0x01; // the window field
  return [
    noChecksum, badChecksum,
    udp('0.0.0.0', '255.255.255.255', 68, 67, Buffer.alloc(300)),
    udp('10.0.0.5', '10.0.0.1', 2000, 69, Buffer.from('\0\x01pxelinux.0\0octet\0'), 42),
    ...exchange('10.0.0.5', '10.0.0.1', 40000, 80, request('/boot/ubuntu/vmlinuz', '10.0.0.1'), response),
    ...exchange('10.0.0.5', '10.0.0.1', 40001, 8080, request('/ipxe/boot.ipxe?mac=52:54:00:12:34:56', '10.0.0.1:8080'), notFound, 7),
    ...exchange('2001:db8::5', '2001:db8::1', 40002, 8080, post, response, 300),
    ...exchange('2001:db8::5', '2001:db8::1', 40003, 80, request('/autoinstall/user-data', '[2001:db8::1]'), undefined),
    encodeTcpFrame({ srcMac: CLIENT, dstMac: SERVER, srcIp: 'fe80::1', dstIp: 'fe80::2', segment: { srcPort: 40004, dstPort: 80, seq: 1, ack: 0, flags: { syn: true }, window: 64800, mss: 1440, windowScale: 7 } }),
    v4fragment(0, true, whole.subarray(0, 24)), v4fragment(24, false, whole.subarray(24)),
    v6fragment(0, true, whole6.subarray(0, 24)), v6fragment(24, false, whole6.subarray(24)),
    encodeArpFrame({ srcMac: CLIENT, dstMac: 'ff:ff:ff:ff:ff:ff', arp: { op: 1, senderMac: CLIENT, senderIp: '10.0.0.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.1' } }),
    ...Object.values(CAPTURED_IPV6),
    ...ADDRESSES.map((a, i) => udp(a, ADDRESSES[ADDRESSES.length - 1 - i]!, 5000 + i, 6000, Buffer.from('addr'))),
  ];
}

function writePcap(dir: string, name: string, linktype: number, frames: Buffer[], snaplen?: number): { file: string; records: [Buffer, number][] } {
  const file = join(dir, name);
  const o = { linktype, snaplen };
  writeFileSync(file, Buffer.concat([encodePcapHeader(o), ...frames.map((f, i) => encodePcapRecord(f, 1_700_000_000_000_000_000n + BigInt(i) * 1000n, o))]));
  return { file, records: frames.map((f) => [f.subarray(0, snaplen ?? f.length), f.length]) };
}

describe('agreement with tshark (frames, IPv6, cooked captures, HTTP heads)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    requireTools(['tshark']);
    dir = mkdtempSync(join(tmpdir(), 'rf-agree-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function agree(name: string, linktype: number, frames: Buffer[], snaplen?: number): Promise<Row[]> {
    const { file, records } = writePcap(dir, name, linktype, frames, snaplen);
    const theirs = await tshark(file);
    assert.equal(theirs.length, records.length, 'frame count');
    records.forEach(([data, originalLength], i) => {
      const f = decodeLinkFrame(linktype, data, { originalLength });
      assert.equal(f.problem, undefined, `frame ${i + 1}: ${f.problem?.message}`);
      assert.deepEqual(rowOf(i + 1, f), expectedFromTshark(theirs[i]!, f), `frame ${i + 1}`);
    });
    return theirs;
  }

  it('Ethernet: IPv4 and IPv6, UDP and TCP, VLAN tags, fragments, HTTP requests and responses, address text', async () => {
    const theirs = await agree('ethernet.pcap', LINKTYPE_ETHERNET, ethernetFrames());
    // The comparison means something only if tshark did decode these layers.
    assert.ok(theirs.filter((r) => r['http.request.method']).length >= 4);
    assert.ok(theirs.filter((r) => r['http.response.code']).length >= 3);
    assert.ok(theirs.filter((r) => r['ipv6.src']).length >= 20);
    assert.ok(theirs.some((r) => r['vlan.id'] === '300'));
    assert.deepEqual(['0', '1', '3'].map((v) => theirs.some((r) => r['udp.checksum.status'] === v)), [true, true, true]);
    assert.deepEqual(['0', '1'].map((v) => theirs.some((r) => r['tcp.checksum.status'] === v)), [true, true]);
  });

  it('Ethernet cut by a 96-byte snaplen (tcpdump -s 96)', async () => {
    const frames = ethernetFrames();
    const theirs = await agree('snap96.pcap', LINKTYPE_ETHERNET, frames, 96);
    assert.ok(theirs.filter((r) => r['tcp.srcport']).length >= 8);
  });

  it('Ethernet cut at every length past the link header, for an IPv4 and a VLAN-tagged IPv6 HTTP request', async () => {
    // Each cut on a connection of its own: tshark takes a repeated segment for a retransmission and stops dissecting it.
    const v4 = (port: number) => exchange('10.0.0.5', '10.0.0.1', port, 80, request('/vmlinuz', 'h'), undefined)[0]!;
    const v6 = (port: number) => exchange('2001:db8::5', '2001:db8::1', port, 80, request('/vmlinuz', 'h'), undefined, 9)[0]!;
    for (const [name, make] of [['v4', v4], ['v6', v6]] as const) {
      const length = make(0).length;
      const frames: Buffer[] = [];
      const linkHeader = make(0).readUInt16BE(12) === ETHERTYPE.VLAN ? 18 : 14;
      for (let n = linkHeader; n <= length; n++) frames.push(make(20000 + n).subarray(0, n));
      // Each cut frame as its own record with the whole length as the original length.
      const file = join(dir, `cuts-${name}.pcap`);
      writeFileSync(file, Buffer.concat([encodePcapHeader(), ...frames.map((f, i) => {
        const rec = encodePcapRecord(f, BigInt(i) * 1000n);
        rec.writeUInt32LE(length, 12);
        return rec;
      })]));
      const theirs = await tshark(file);
      assert.equal(theirs.length, frames.length);
      frames.forEach((data, i) => {
        const f = decodeLinkFrame(LINKTYPE_ETHERNET, data, { originalLength: length });
        const ours = rowOf(i + 1, f);
        const want = expectedFromTshark(theirs[i]!, f);
        const at = `${name} cut at ${data.length} bytes`;
        if (!f.problem) return assert.deepEqual(ours, want, at);
        // A header cut off is a problem to us and not decoded; tshark still shows the fields of it
        // that are whole. Everything we show, tshark shows alike; what it shows beyond that is of
        // the layer we name as cut, or above it.
        assert.ok(f.problem.code.endsWith('_TRUNCATED'), f.problem.message);
        for (const [k, v] of Object.entries(ours)) assert.equal(want[k as keyof Row], v, `${at}: ${k}`);
        const above = CUT_LAYER_FIELDS[f.problem.code]!;
        for (const k of Object.keys(want)) if (!(k in ours)) assert.ok(above.some((p) => k.startsWith(p)), `${at}: tshark has ${k}, we have ${f.problem.message}`);
      });
    }
  });

  it('Linux cooked SLL (link type 113) and SLL2 (276), with a VLAN tag put back', async () => {
    const inner = ethernetFrames().filter((f) => f.readUInt16BE(12) !== ETHERTYPE.VLAN);
    const tagged = ethernetFrames().filter((f) => f.readUInt16BE(12) === ETHERTYPE.VLAN);
    const cooked = (encode: typeof encodeLinuxSll, f: Buffer, i: number) => encode({
      packetType: i % 5, arphrdType: 1, address: f.subarray(6, 12).toString('hex').replace(/(..)(?!$)/g, '$1:'), protocol: f.readUInt16BE(12), interfaceIndex: i, payload: f.subarray(14),
    });
    const frames = [...inner, ...tagged];
    await agree('sll.pcap', LINKTYPE_LINUX_SLL, frames.map((f, i) => cooked(encodeLinuxSll, f, i)));
    const theirs = await agree('sll2.pcap', LINKTYPE_LINUX_SLL2, frames.map((f, i) => cooked(encodeLinuxSll2, f, i)));
    assert.ok(theirs.some((r) => r['vlan.id'] === '42' && r['udp.dstport'] === '69'));
    assert.ok(theirs.every((r) => r['sll.ifindex'] !== undefined));
  });
});

/** The fields of the layer a *_TRUNCATED problem names, and of the layers above it. */
const CUT_LAYER_FIELDS: Record<string, string[]> = {
  IPV4_TRUNCATED: ['ip.', 'tcp.', 'udp.', 'http.'],
  IPV6_TRUNCATED: ['ipv6.', 'tcp.', 'udp.', 'http.'],
  TCP_TRUNCATED: ['tcp.', 'http.'],
  UDP_TRUNCATED: ['udp.'],
};
