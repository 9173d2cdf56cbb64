import assert from 'node:assert/strict';
import { DecodeError, RackforgeError } from '../../lib/errors.ts';
import { encodeDhcp } from '../../provisioner/protocol/dhcp.ts';
import { encodeUdpFrame } from '../../provisioner/protocol/frames.ts';
import { encodeLinuxSll } from '../../provisioner/protocol/linux-cooked.ts';
import type { CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import { encodeTftp } from '../../provisioner/protocol/tftp.ts';
import { createCaptureAnalyzer, DECODE_PROBLEMS_KEPT } from './capture-analyzer.ts';
import {
  CaptureScript, NODE1, NODE2, SERVER, bootFileBytes, dhcpHandshake, dhcpRequest, goodBiosPxelinuxBoot, httpFetch, ipxeHttpInstall, tftpDownload,
} from './capture-fixtures.ts';
import type { CaptureReport, TimelineEntry } from './capture-report.ts';

function analyze(packets: readonly CapturedPacket[], mac?: string): { report: CaptureReport; entries: TimelineEntry[] } {
  const a = createCaptureAnalyzer(mac === undefined ? {} : { mac });
  const entries: TimelineEntry[] = [];
  for (const p of packets) entries.push(...a.add(p));
  return { report: a.report(), entries };
}

describe('capture-analyzer', () => {
  describe('a good BIOS pxelinux boot', () => {
    const sc = goodBiosPxelinuxBoot();
    const { report, entries } = analyze(sc.packets);

    it('file level: frames, times, link types, protocol counts, no problems', () => {
      const f = report.file;
      assert.equal(f.frames, sc.packets.length);
      assert.equal(f.firstTime, '2023-11-14T22:13:20.000000Z');
      assert.equal(f.lastT, Number(((sc.packets.at(-1)!.timestampNs - sc.packets[0]!.timestampNs) / 1000n)) / 1e6);
      assert.deepEqual(f.linktypes, [1]);
      assert.deepEqual(f.protocols, {
        ethernet: sc.packets.length, linuxCooked: 0, vlan: 0, arp: 0, ipv4: sc.packets.length, ipv6: 0, udp: sc.packets.length, tcp: 0,
        dhcp: 4, tftp: sc.packets.length - 4, http: 0, other: 0,
      });
      assert.deepEqual(f.decodeProblems, []);
      assert.equal(f.readError, null);
      assert.equal(f.format, null);
    });

    it('the machine: addresses, architecture, vendor class, UUID', () => {
      assert.equal(report.machines.length, 1);
      const m = report.machines[0]!;
      assert.equal(m.mac, NODE1.mac);
      assert.deepEqual(m.addresses, [{ ip: NODE1.ip, source: 'dhcp', frame: 4 }]);
      assert.deepEqual(m.architectures, [{ code: 0, name: 'BIOS (x86)' }]);
      assert.deepEqual(m.vendorClasses, ['PXEClient:Arch:00000:UNDI:002001']);
      assert.deepEqual(m.userClasses, []);
      assert.equal(m.uuid, '8c4c4d56-e3a0-4f1b-9a2c-5e6f70818293');
      assert.equal(m.leaseFrom, SERVER.ip);
      assert.equal(m.firstFrame, 1);
      assert.equal(m.lastFrame, sc.packets.length);
    });

    it('the timeline in order: DHCP, then every TFTP transfer with its result', () => {
      const m = report.machines[0]!;
      assert.deepEqual(m.timeline.map((e) => e.kind === 'dhcp' ? `dhcp ${e.dhcp.type}` : e.kind === 'tftp' ? `tftp ${e.tftp.filename} ${e.tftp.result}${e.tftp.sizeProbe ? ' probe' : ''}` : e.kind), [
        'dhcp DISCOVER', 'dhcp OFFER', 'dhcp REQUEST', 'dhcp ACK',
        'tftp pxelinux.0 aborted probe', 'tftp pxelinux.0 complete', 'tftp ldlinux.c32 complete',
        'tftp pxelinux.cfg/8c4c4d56-e3a0-4f1b-9a2c-5e6f70818293 error', 'tftp pxelinux.cfg/01-52-54-00-12-34-01 complete',
        'tftp images/debian12-x86_64/linux complete', 'tftp images/debian12-x86_64/initrd.gz complete',
      ]);
      assert.ok(m.timeline.every((e) => e.mac === NODE1.mac && e.done));
      const times = m.timeline.map((e) => e.t);
      assert.deepEqual(times, [...times].sort((a, b) => a - b));
      const ack = m.timeline[3]!;
      assert.equal(ack.kind, 'dhcp');
      assert.equal(ack.summary, 'DHCP ACK 10.0.0.51 from 10.0.0.1, next-server 10.0.0.1, boot file pxelinux.0');
      const kernel = m.timeline[9]!;
      assert.ok(kernel.kind === 'tftp');
      assert.equal(kernel.tftp.bytes, 300_000);
      assert.equal(kernel.tftp.windowsize, 4);
      assert.equal(kernel.tftp.role, 'kernel');
    });

    it('add() returned each step as it started and as it ended', () => {
      const tftpStarts = entries.filter((e) => e.kind === 'tftp' && !e.done).length;
      const tftpEnds = entries.filter((e) => e.kind === 'tftp' && e.done).length;
      assert.equal(tftpStarts, 7);
      assert.equal(tftpEnds, 7);
      assert.equal(entries.filter((e) => e.kind === 'dhcp').length, 4);
      assert.match(entries.find((e) => e.kind === 'tftp' && !e.done)!.summary, /^TFTP RRQ pxelinux\.0 from 10\.0\.0\.1 started \(tsize=0\)$/);
    });

    it('the report is plain JSON and reporting changes nothing', () => {
      assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
      const a = createCaptureAnalyzer();
      for (const p of sc.packets.slice(0, 100)) a.add(p);
      const mid = a.report();
      assert.deepEqual(a.report(), mid);
      for (const p of sc.packets.slice(100)) a.add(p);
      assert.deepEqual(a.report(), report);
    });

    it('the files served, capture-wide', () => {
      assert.deepEqual(report.tftpFilesServed, [
        'images/debian12-x86_64/initrd.gz', 'images/debian12-x86_64/linux', 'ldlinux.c32', 'pxelinux.0', 'pxelinux.cfg/01-52-54-00-12-34-01',
      ]);
    });
  });

  it('an iPXE install over HTTP: fetches classified, tokens redacted, registration on another port', () => {
    const { report } = analyze(ipxeHttpInstall().packets);
    const m = report.machines[0]!;
    const http = m.timeline.filter((e) => e.kind === 'http').map((e) => e.kind === 'http' ? [e.http.role, e.http.status, e.http.bodyBytes, e.http.result] : []);
    assert.deepEqual(http, [
      ['ipxe-script', 200, 400, 'complete'], ['kernel', 200, 300_000, 'complete'], ['initrd', 200, 500_000, 'complete'],
      ['autoinstall', 200, 6000, 'complete'], ['install-event', 200, 4, 'complete'], ['install-event', 200, 4, 'complete'],
      ['nopxe', 200, 4, 'complete'], ['registration', 201, 80, 'complete'],
    ]);
    assert.equal(report.httpExchanges.length, 8);
    assert.ok(report.httpExchanges.every((x) => !x.url?.includes('s3cr3t')));
    assert.equal(report.httpExchanges[7]?.url, 'http://10.0.0.1:8080/api/v1/hypervisors');
    assert.equal(report.httpExchanges[7]?.requestBodyBytes, 16);
    assert.deepEqual(m.userClasses, ['iPXE']);
    assert.deepEqual(m.vendorClasses, ['PXEClient:Arch:00007:UNDI:003010', 'd-i', 'debian']);
  });

  describe('--mac', () => {
    const s = new CaptureScript();
    dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 1, address: NODE1.ip, bootFile: 'pxelinux.0' });
    dhcpHandshake(s, { mac: NODE2.mac, arch: 7 }, SERVER, { xid: 2, address: NODE2.ip, bootFile: 'grub/grubx64.efi' });
    tftpDownload(s, { client: NODE1, server: SERVER, file: 'pxelinux.0', content: bootFileBytes(2000) });
    tftpDownload(s, { client: NODE2, server: SERVER, file: 'grub/grubx64.efi', content: bootFileBytes(2000, 0x8664) });

    it('keeps one machine, in any spelling of its MAC, and still counts everything', () => {
      const all = analyze(s.packets()).report;
      const { report, entries } = analyze(s.packets(), '52-54-00-12-34-02'.toUpperCase());
      assert.deepEqual(report.filter, { mac: NODE2.mac });
      assert.deepEqual(report.machines.map((m) => m.mac), [NODE2.mac]);
      assert.deepEqual(report.tftpTransfers.map((t) => t.filename), ['grub/grubx64.efi']);
      assert.deepEqual(report.file, all.file);
      assert.deepEqual(report.dhcpServers, all.dhcpServers);
      assert.deepEqual(report.tftpFilesServed, ['grub/grubx64.efi', 'pxelinux.0']);
      assert.ok(entries.length > 0 && entries.every((e) => e.mac === NODE2.mac));
      assert.equal(analyze(s.packets(), '525400123401').report.machines[0]?.mac, NODE1.mac);
    });

    it('refuses something that is not a MAC', () => {
      assert.throws(() => createCaptureAnalyzer({ mac: 'node1' }), RackforgeError);
    });
  });

  describe('bad packets are decode problems, never exceptions', () => {
    const s = new CaptureScript();
    s.frame(Buffer.alloc(10)); // shorter than an Ethernet header
    const badDhcp = encodeDhcp({
      op: 1, htype: 1, hlen: 6, hops: 0, xid: 5, secs: 0, flags: 0, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
      chaddr: NODE1.mac, sname: '', file: '', options: { messageType: 'DISCOVER', other: [] },
    });
    badDhcp[242] = 200; // message type 200
    s.udp({ mac: NODE1.mac, ip: '0.0.0.0' }, { mac: 'ff:ff:ff:ff:ff:ff', ip: '255.255.255.255' }, 68, 67, badDhcp);
    s.udp(NODE1, SERVER, 2000, 69, Buffer.from([0, 1, 0x61])); // an RRQ without its NULs
    const unknown = s.frame(Buffer.alloc(60));
    s.packets()[unknown - 1]!.linktype = 147;
    dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 6, address: NODE1.ip, bootFile: 'pxelinux.0' });
    const { report } = analyze(s.packets());

    it('lists each with its frame, offset in the frame and code', () => {
      assert.deepEqual(report.file.decodeProblems.map((p) => [p.frame, p.offset, p.code]), [
        [1, 6, 'ETH_TRUNCATED'], [2, 42 + 240, 'DHCP_BAD_MESSAGE_TYPE'], [3, 42 + 2, 'TFTP_UNTERMINATED_STRING'], [4, 0, 'FRAME_UNKNOWN_LINKTYPE'],
      ]);
      assert.equal(report.file.decodeProblemCount, 4);
      assert.ok(report.file.decodeProblems.every((p) => !p.message.includes(' at offset ')));
    });

    it('and the packets after them are analysed', () => {
      assert.equal(report.machines[0]?.timeline.length, 4);
      assert.equal(report.file.protocols.other, 2);
      assert.equal(report.file.protocols.dhcp, 4);
      assert.deepEqual(report.file.linktypes, [1, 147]);
    });

    it('keeps the first DECODE_PROBLEMS_KEPT and counts the rest', () => {
      const g = new CaptureScript();
      for (let i = 0; i < DECODE_PROBLEMS_KEPT + 5; i++) g.frame(Buffer.alloc(4));
      const r = analyze(g.packets()).report;
      assert.equal(r.file.decodeProblems.length, DECODE_PROBLEMS_KEPT);
      assert.equal(r.file.decodeProblemCount, DECODE_PROBLEMS_KEPT + 5);
    });
  });

  it('packets without a time (pcapng simple packet blocks) take the time of the packet before them', () => {
    const timed = goodBiosPxelinuxBoot().packets.slice(0, 10);
    const untimed = timed.map((p, i) => (i === 3 || i === 4 ? { ...p, timestampNs: 0n, noTimestamp: true as const } : p));
    const a = analyze(timed).report;
    const b = analyze(untimed).report;
    assert.equal(b.file.firstTime, a.file.firstTime);
    assert.equal(b.file.lastT, a.file.lastT);
    const tOf = (r: CaptureReport, frame: number): number | undefined => r.machines[0]?.timeline.find((e) => e.frames.includes(frame))?.t;
    const before = tOf(b, 3);
    for (const frame of [4, 5]) {
      const t = tOf(b, frame);
      if (t !== undefined) assert.ok(before !== undefined && t >= before && t <= b.file.lastT, `frame ${frame} at ${t}`);
    }
    for (const e of b.machines[0]!.timeline) assert.ok(e.t >= 0 && e.t <= b.file.lastT);
  });

  it('records the read error, with everything before it', () => {
    const a = createCaptureAnalyzer();
    for (const p of goodBiosPxelinuxBoot().packets.slice(0, 10)) a.add(p);
    const r = a.report(new DecodeError('CAPTURE_TRUNCATED', 'record', 4242, 'the file ends inside a record: 10 of 16 bytes'), { format: 'pcapng' });
    assert.deepEqual(r.file.readError, { code: 'CAPTURE_TRUNCATED', offset: 4242, message: 'the file ends inside a record: 10 of 16 bytes' });
    assert.equal(r.file.format, 'pcapng');
    assert.equal(r.file.frames, 10);
    assert.equal(r.machines[0]?.timeline.length, 6);
  });

  it('frames cut by the snapshot length: TFTP bytes from the UDP length, HTTP bytes from the original length', () => {
    const s = new CaptureScript();
    tftpDownload(s, { client: NODE1, server: SERVER, file: 'linux', content: Buffer.alloc(20_000, 1), blksize: 1456, snaplen: 96 });
    const { report } = analyze(s.packets());
    const t = report.tftpTransfers[0]!;
    assert.equal(t.result, 'complete');
    assert.equal(t.bytes, 20_000);
    assert.equal(t.blocks, 14);
    const cut = s.packets().filter((p) => p.capturedLength < p.originalLength);
    assert.ok(cut.length >= 13);
  });

  it('ARP: probes and announcements are timeline entries, every ARP sender an address', () => {
    const s = new CaptureScript();
    dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 7, address: NODE1.ip, bootFile: 'pxelinux.0' });
    s.arp(NODE1, 1, '0.0.0.0', NODE1.ip);
    s.arp(NODE1, 1, NODE1.ip, NODE1.ip);
    s.arp(SERVER, 1, SERVER.ip, NODE1.ip);
    s.arp(NODE2, 2, '10.0.0.77', SERVER.ip);
    const { report } = analyze(s.packets());
    assert.deepEqual(report.machines.map((m) => m.mac), [NODE1.mac], 'the server and a host that only answers ARP are not machines');
    const arps = report.machines[0]!.timeline.filter((e) => e.kind === 'arp').map((e) => e.summary);
    assert.deepEqual(arps, ['ARP probe: is 10.0.0.51 in use?', 'ARP announcement: 10.0.0.51 is at 52:54:00:12:34:01']);
    assert.equal(report.file.protocols.arp, 4);
  });

  it('Linux cooked captures (SLL): the sender address stands in for the Ethernet source', () => {
    const s = new CaptureScript();
    const before = new CaptureScript();
    dhcpHandshake(before, { mac: NODE1.mac, arch: 7 }, SERVER, { xid: 8, address: NODE1.ip, bootFile: 'grub/grubx64.efi' });
    for (const p of before.packets()) {
      const ip = p.data.subarray(14);
      s.frame(encodeLinuxSll({ packetType: 0, arphrdType: 1, address: p.data.subarray(6, 12).toString('hex').replace(/(..)(?!$)/g, '$1:'), protocol: 0x0800, payload: ip }), undefined, 113);
    }
    const { report } = analyze(s.packets());
    assert.equal(report.file.protocols.linuxCooked, 4);
    assert.equal(report.file.protocols.ethernet, 0);
    assert.equal(report.file.protocols.dhcp, 4);
    assert.deepEqual(report.file.linktypes, [113]);
    assert.deepEqual(report.dhcpServers[0]?.sourceMacs, [SERVER.mac]);
    assert.equal(report.machines[0]?.timeline.length, 4);
  });

  it('VLAN-tagged frames are counted and decoded through the tag', () => {
    const s = new CaptureScript();
    const payload = encodeTftp({ op: 'RRQ', filename: 'pxelinux.0', mode: 'octet', options: [] });
    s.frame(encodeUdpFrame({ srcMac: NODE1.mac, dstMac: SERVER.mac, vlan: { id: 42, pcp: 0, dei: false }, srcIp: NODE1.ip, dstIp: SERVER.ip, srcPort: 2000, dstPort: 69, payload }));
    const { report } = analyze(s.packets());
    assert.equal(report.file.protocols.vlan, 1);
    assert.equal(report.tftpTransfers[0]?.filename, 'pxelinux.0');
  });

  it('IPv6: HTTP over IPv6 is followed', () => {
    const s = new CaptureScript();
    const c = { mac: NODE1.mac, ip: 'fd00::51' };
    const srv = { mac: SERVER.mac, ip: 'fd00::1' };
    httpFetch(s, { client: c, server: srv, path: '/cblr/links/d/linux', bodySize: 5000, host: '[fd00::1]' });
    const { report } = analyze(s.packets());
    assert.equal(report.file.protocols.ipv6, s.packets().length);
    assert.equal(report.file.protocols.ipv4, 0);
    assert.equal(report.httpExchanges[0]?.url, 'http://[fd00::1]/cblr/links/d/linux');
    assert.equal(report.httpExchanges[0]?.bodyBytes, 5000);
    assert.deepEqual(report.machines[0]?.addresses, [{ ip: 'fd00::51', source: 'ip', frame: 4 }]);
  });

  it('a request through a relay or router: the machine is found by its leased address, not the frame\'s MAC', () => {
    const s = new CaptureScript();
    dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 9, address: NODE1.ip, bootFile: 'pxelinux.0' });
    const router = { mac: '52:54:00:ff:ff:ff', ip: NODE1.ip };
    tftpDownload(s, { client: router, server: SERVER, file: 'pxelinux.0', content: bootFileBytes(100) });
    dhcpRequest(s, 'DISCOVER', { mac: NODE2.mac }, { xid: 10 });
    const { report } = analyze(s.packets());
    assert.deepEqual(report.machines.map((m) => m.mac), [NODE1.mac, NODE2.mac]);
    assert.equal(report.tftpTransfers[0]?.mac, NODE1.mac);
  });
});
