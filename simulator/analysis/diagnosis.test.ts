import assert from 'node:assert/strict';
import type { CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import { createCaptureAnalyzer } from './capture-analyzer.ts';
import * as F from './capture-fixtures.ts';
import { CaptureScript, NODE1, NODE2, PROXY, SERVER, bootFileBytes, dhcpHandshake, dhcpReply, dhcpRequest, httpFetch, tftpDownload } from './capture-fixtures.ts';
import type { CaptureReport } from './capture-report.ts';
import { compareFindings, explainCapture, explainNetwork, FINDING_CODES, type Finding, type MachineDiagnosis, type MachineVerdict } from './diagnosis.ts';

function report(packets: readonly CapturedPacket[]): CaptureReport {
  const a = createCaptureAnalyzer();
  for (const p of packets) a.add(p);
  return a.report();
}

function diagnose(packets: readonly CapturedPacket[], mac = NODE1.mac): MachineDiagnosis {
  const d = explainCapture(report(packets)).find((x) => x.mac === mac);
  assert.ok(d, `no diagnosis for ${mac}`);
  return d;
}

const brief = (f: Finding): [string, string, number[]] => [f.code, f.severity, f.frames];
const n = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('diagnosis', () => {
  describe('with the TFTP root known (--tftp-root)', () => {
    it('a missing boot file is compared with the names under the root, when one is nearer than what was served', () => {
      const r = report(F.tftpNotFound().packets);
      const finding = (known: string[]): Finding => explainCapture(r, { knownFiles: known }).find((x) => x.mac === NODE1.mac)!.findings.find((f) => f.code === 'TFTP_NOT_FOUND')!;
      assert.match(finding(['bios/pxelinux.00', 'efi/grubx64.efi']).summary, /closest name under the TFTP root is bios\/pxelinux\.00\./);
      // Farther than the name served in the capture: that one is named.
      assert.match(finding(['efi64/grubx64.efi']).summary, /closest name the server did serve in this capture is pxelinux\.0\./);
      assert.match(finding([]).summary, /did serve in this capture is pxelinux\.0/);
    });

    it('a failed pxelinux config search names the nearest config that exists: a MAC one digit off', () => {
      const r = report(F.pxelinuxConfigMissing().packets);
      const known = ['pxelinux.0', 'pxelinux.cfg/01-52-54-00-12-34-11', 'pxelinux.cfg/01-52-54-00-99-99-99', 'pxelinux.cfg/default.old'];
      const f = explainCapture(r, { knownFiles: known })[0]!.findings.find((x) => x.code === 'TFTP_NOT_FOUND')!;
      assert.match(f.hint, /nearest config under the TFTP root is pxelinux\.cfg\/01-52-54-00-12-34-11 \(is the MAC or address in the inventory right\?\)/);
      const without = explainCapture(r)[0]!.findings.find((x) => x.code === 'TFTP_NOT_FOUND')!;
      assert.doesNotMatch(without.hint, /under the TFTP root/);
    });
  });

  it('FINDING_CODES has every code the issue asks for, each with its trigger', () => {
    for (const code of ['NO_OFFER', 'OFFER_WITHOUT_BOOT_FILE', 'WRONG_ARCHITECTURE', 'TFTP_NOT_FOUND', 'TFTP_TIMEOUT', 'TFTP_RETRANSMISSION_STORM',
      'TFTP_NEGOTIATION_FAILED', 'IPXE_LOOP', 'NAK_LOOP', 'ROGUE_DHCP_SERVER', 'INSTALL_WITHOUT_NOPXE']) {
      assert.equal(typeof FINDING_CODES[code as keyof typeof FINDING_CODES], 'string', code);
    }
  });

  describe('scripted boots: verdict and findings with their frames', () => {
    const table: Array<{ name: string; build: () => F.Scenario; verdict: MachineVerdict; findings: Array<[string, string, number[]]>; mention?: RegExp }> = [
      { name: 'good BIOS pxelinux boot', build: F.goodBiosPxelinuxBoot, verdict: 'booted', findings: [] },
      { name: 'iPXE install over HTTP to registration', build: () => F.ipxeHttpInstall(), verdict: 'registered', findings: [] },
      { name: 'iPXE install, capture ends at nopxe', build: () => F.ipxeHttpInstall({ register: false }), verdict: 'installed', findings: [] },
      { name: 'ProxyDHCP boot', build: F.proxyDhcpBoot, verdict: 'loading', findings: [] },
      { name: 'no offer', build: F.noOffer, verdict: 'stuck at DHCP', findings: [['NO_OFFER', 'error', [1, 2, 3, 4]]], mention: /4 DHCP DISCOVERs \(xid 0x3c4d5e01\) over 28\.0 s/ },
      { name: 'offer without boot file', build: F.offerWithoutBootFile, verdict: 'stuck at DHCP', findings: [['OFFER_WITHOUT_BOOT_FILE', 'error', [2, 4]]], mention: /PXEClient:Arch:00000.*none named a boot file/ },
      { name: 'BIOS client given x64 GRUB', build: () => F.wrongArchitecture(), verdict: 'wrong boot file', findings: [['WRONG_ARCHITECTURE', 'error', [2, 4, 5, 8]]], mention: /BIOS \(x86\) client \(option 93 = 0\).*grub\/grubx64\.efi.*PE image for x64 UEFI/ },
      { name: 'UEFI client given pxelinux.0', build: () => F.wrongArchitecture({ uefi: true }), verdict: 'wrong boot file', findings: [['WRONG_ARCHITECTURE', 'error', [2, 4, 5, 8]]], mention: /x64 UEFI client.*pxelinux\.0.*no PE header/ },
      { name: 'boot file not found', build: F.tftpNotFound, verdict: 'stuck at TFTP', findings: [['TFTP_NOT_FOUND', 'error', [70, 71]]], mention: /no bios\/pxelinux\.0.*closest name the server did serve in this capture is pxelinux\.0/ },
      { name: 'pxelinux config search fails', build: F.pxelinuxConfigMissing, verdict: 'stuck at TFTP', findings: [['TFTP_NOT_FOUND', 'error', n(235, 256)]], mention: /No loader config found .* pxelinux\.cfg\/: tried 8c4c4d56-e3a0-4f1b-9a2c-5e6f70818293, 01-52-54-00-12-34-01, 0A000033, .*\(11 names\)/ },
      { name: 'TFTP transfer stalls', build: F.tftpTimeout, verdict: 'stuck at TFTP', findings: [['TFTP_TIMEOUT', 'error', [5, 6, 8, 16, 17]]], mention: /pxelinux\.0 .* stopped after 5 blocks \(7\.3 kB of 42\.0 kB\)/ },
      { name: 'TFTP request never answered', build: F.tftpNoResponse, verdict: 'stuck at TFTP', findings: [['TFTP_TIMEOUT', 'error', [5, 6, 7]]], mention: /10\.0\.0\.7 never answered .* pxelinux\.0 \(sent 3 times/ },
      { name: 'retransmission storm', build: F.tftpRetransmissionStorm, verdict: 'booted', findings: [['TFTP_RETRANSMISSION_STORM', 'warning', [5, 6, 8, 345, 346]]], mention: /37 of 151 DATA blocks were sent again \(25%\)/ },
      { name: 'blksize refused', build: F.tftpNegotiationFailed, verdict: 'stuck at TFTP', findings: [['TFTP_NEGOTIATION_FAILED', 'error', [5, 6]]], mention: /blksize=65464.*ERROR 8 "blksize out of range"/ },
      { name: 'iPXE loop', build: F.ipxeLoop, verdict: 'iPXE loop', findings: [['IPXE_LOOP', 'error', [5, 109, 110, 214, 215]]], mention: /2 times iPXE asked DHCP .* undionly\.kpxe/ },
      { name: 'NAK loop', build: F.nakLoop, verdict: 'stuck at DHCP', findings: [['NAK_LOOP', 'error', [1, 2, 3, 4, 5, 6]]], mention: /NAK 3 times; it kept asking for 192\.168\.5\.77/ },
      { name: 'rogue DHCP server', build: F.rogueDhcpServer, verdict: 'stuck at DHCP', findings: [['ROGUE_DHCP_SERVER', 'error', [2, 3, 5]]], mention: /lease from 10\.0\.0\.99 .*10\.0\.0\.1 \(frame 3, gives boot files\) also answered/ },
      { name: 'install without nopxe, PXE again', build: F.installWithoutNopxe, verdict: 'reinstall loop', findings: [['INSTALL_WITHOUT_NOPXE', 'error', [857, 871, 879, 885]]], mention: /started installing \(frame 857\) .* network booted again .*frame 885/ },
    ];
    for (const row of table) {
      it(row.name, () => {
        const d = diagnose(row.build().packets);
        assert.deepEqual(d.findings.map(brief), row.findings, JSON.stringify(d.findings, null, 1));
        assert.equal(d.verdict, row.verdict, d.summary);
        if (row.mention) assert.match(d.findings[0]!.summary, row.mention);
        for (const f of d.findings) assert.ok(f.hint.length > 20, `${f.code} has a hint`);
        assert.ok(d.summary.length > 10);
      });
    }
    it('the other machine of the not-found capture booted its loader and has no finding', () => {
      const d = diagnose(F.tftpNotFound().packets, NODE2.mac);
      assert.equal(d.verdict, 'loading');
      assert.deepEqual(d.findings, []);
    });
  });

  describe('DHCP rules', () => {
    it('NO_OFFER warning: offers came before, the last DISCOVERs got none', () => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 1, address: NODE1.ip, bootFile: 'pxelinux.0' });
      s.wait(30);
      const a = dhcpRequest(s, 'DISCOVER', { mac: NODE1.mac, arch: 0 }, { xid: 2 });
      s.wait(4);
      const b = dhcpRequest(s, 'DISCOVER', { mac: NODE1.mac, arch: 0 }, { xid: 2 });
      s.idle(10);
      assert.deepEqual(diagnose(s.packets()).findings.map(brief), [['NO_OFFER', 'warning', [a, b]]]);
    });

    it('a DISCOVER just before the capture ends is not yet a finding when the machine was answered before', () => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 1, address: NODE1.ip, bootFile: 'pxelinux.0' });
      s.wait(30);
      dhcpRequest(s, 'DISCOVER', { mac: NODE1.mac, arch: 0 }, { xid: 2 });
      assert.deepEqual(diagnose(s.packets()).findings, []);
    });

    it('OFFER_WITHOUT_BOOT_FILE is only for network boot clients, and not when a ProxyDHCP answered', () => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, vendorClass: 'd-i' }, SERVER, { xid: 1, address: NODE1.ip });
      s.idle(10);
      const d = diagnose(s.packets());
      assert.deepEqual(d.findings, []);
      assert.equal(d.verdict, 'no network boot');
      assert.deepEqual(diagnose(F.proxyDhcpBoot().packets).findings, []);
    });

    it('DHCP_NO_ACK: a REQUEST for an offer nobody acknowledges', () => {
      const s = new CaptureScript();
      dhcpRequest(s, 'DISCOVER', { mac: NODE1.mac, arch: 0 }, { xid: 3 });
      dhcpReply(s, 'OFFER', SERVER, NODE1.mac, { xid: 3, yiaddr: NODE1.ip, bootFile: 'pxelinux.0' });
      const r1 = dhcpRequest(s, 'REQUEST', { mac: NODE1.mac, arch: 0 }, { xid: 3, requestedIp: NODE1.ip, serverId: SERVER.ip });
      s.wait(4);
      const r2 = dhcpRequest(s, 'REQUEST', { mac: NODE1.mac, arch: 0 }, { xid: 3, requestedIp: NODE1.ip, serverId: SERVER.ip });
      s.idle(10);
      const d = diagnose(s.packets());
      assert.deepEqual(d.findings.map(brief), [['DHCP_NO_ACK', 'error', [r1, r2]]]);
      assert.match(d.findings[0]!.summary, /requested 10\.0\.0\.51 from 10\.0\.0\.1 2 times \(xid 0x00000003\)/);
      assert.equal(d.verdict, 'stuck at DHCP');
    });

    it('NAK: one is normal, two for the same address a warning', () => {
      const nak = (times: number, address: (i: number) => string): Finding[] => {
        const s = new CaptureScript();
        for (let i = 0; i < times; i++) {
          dhcpRequest(s, 'REQUEST', { mac: NODE1.mac, arch: 0 }, { xid: 10 + i, requestedIp: address(i) });
          dhcpReply(s, 'NAK', SERVER, NODE1.mac, { xid: 10 + i });
        }
        return diagnose(s.packets()).findings;
      };
      assert.deepEqual(nak(1, () => '10.9.9.9'), []);
      assert.deepEqual(nak(2, () => '10.9.9.9').map(brief), [['NAK_LOOP', 'warning', [1, 2, 3, 4]]]);
      assert.deepEqual(nak(2, (i) => `10.9.9.${i}`), []);
    });

    it('ROGUE_DHCP_SERVER at network level counts servers that hand out addresses, not ProxyDHCP', () => {
      assert.deepEqual(explainNetwork(report(F.proxyDhcpBoot().packets)), []);
      const net = explainNetwork(report(F.rogueDhcpServer().packets));
      assert.deepEqual(net.map(brief), [['ROGUE_DHCP_SERVER', 'error', [2, 3, 5]]]);
      assert.match(net[0]!.summary, /2 DHCP servers hand out addresses on this network: 10\.0\.0\.99 \(MAC 52:54:00:00:00:99, 1 offers, 1 acks, no boot file, 1 clients bound\) and 10\.0\.0\.1/);
    });

    it('ROGUE_DHCP_SERVER is a warning for a machine that still took its lease from the server with boot files', () => {
      const s = new CaptureScript();
      const xid = 77;
      dhcpRequest(s, 'DISCOVER', { mac: NODE1.mac, arch: 0 }, { xid });
      dhcpReply(s, 'OFFER', SERVER, NODE1.mac, { xid, yiaddr: NODE1.ip, bootFile: 'pxelinux.0' });
      dhcpReply(s, 'OFFER', F.ROGUE, NODE1.mac, { xid, yiaddr: '192.168.1.50' });
      dhcpRequest(s, 'REQUEST', { mac: NODE1.mac, arch: 0 }, { xid, requestedIp: NODE1.ip, serverId: SERVER.ip });
      dhcpReply(s, 'ACK', SERVER, NODE1.mac, { xid, yiaddr: NODE1.ip, bootFile: 'pxelinux.0' });
      assert.deepEqual(diagnose(s.packets()).findings.map(brief), [['ROGUE_DHCP_SERVER', 'warning', [2, 3, 5]]]);
    });
  });

  describe('WRONG_ARCHITECTURE', () => {
    const boot = (arch: number, file: string, content: Buffer): MachineDiagnosis => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch }, SERVER, { xid: 1, address: NODE1.ip, bootFile: file });
      tftpDownload(s, { client: NODE1, server: SERVER, file, content, blksize: 1456 });
      return diagnose(s.packets());
    };
    it('ARM64 UEFI given an x64 EFI by name', () => {
      const d = boot(11, 'grub/grubx64.efi', bootFileBytes(3000, 0x8664));
      assert.deepEqual(d.findings.map((f) => f.code), ['WRONG_ARCHITECTURE']);
      assert.match(d.findings[0]!.summary, /ARM64 UEFI client \(option 93 = 11\)/);
    });
    it('a name that does not say (ipxe.efi): the PE header does', () => {
      assert.deepEqual(boot(11, 'ipxe.efi', bootFileBytes(3000, 0x8664)).findings.map((f) => f.code), ['WRONG_ARCHITECTURE']);
      assert.deepEqual(boot(11, 'ipxe.efi', bootFileBytes(3000, 0xaa64)).findings, []);
    });
    it('the content wins over a misleading name', () => {
      assert.deepEqual(boot(11, 'bootx64.efi', bootFileBytes(3000, 0xaa64)).findings, []);
    });
    it('a right match is no finding', () => {
      assert.deepEqual(boot(7, 'grub/grubx64.efi', bootFileBytes(3000, 0x8664)).findings, []);
      assert.deepEqual(boot(0, 'undionly.kpxe', bootFileBytes(3000)).findings, []);
    });
  });

  describe('TFTP rules', () => {
    it('names iPXE and loaders look for on their own are not findings', () => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 1, address: NODE1.ip, bootFile: 'pxelinux.0' });
      const missing = { code: 1, message: 'File not found' };
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'autoexec.ipxe', content: Buffer.alloc(0), error: missing });
      tftpDownload(s, { client: NODE1, server: SERVER, file: '/boot/isolinux/ldlinux.c32', content: Buffer.alloc(0), error: missing });
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'ldlinux.c32', content: bootFileBytes(600) });
      assert.deepEqual(diagnose(s.packets()).findings, []);
    });

    it('a stall followed by a good retry is a warning', () => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 1, address: NODE1.ip, bootFile: 'pxelinux.0' });
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'pxelinux.0', content: bootFileBytes(5000), stopAfterBlocks: 2 });
      s.wait(10);
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'pxelinux.0', content: bootFileBytes(5000) });
      const d = diagnose(s.packets());
      assert.deepEqual(d.findings.map((f) => [f.code, f.severity]), [['TFTP_TIMEOUT', 'warning']]);
      assert.equal(d.verdict, 'loading');
    });

    it('a big blksize that never got a block through: the hint says MTU', () => {
      const s = new CaptureScript();
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'linux', content: bootFileBytes(50_000), blksize: 8192, stopAfterBlocks: 0 });
      s.idle(10);
      const [f] = diagnose(s.packets()).findings;
      assert.equal(f?.code, 'TFTP_TIMEOUT');
      assert.match(f!.hint, /blksize 8192 needs IP fragments/);
    });

    it('retransmissions under the threshold are not a storm', () => {
      const s = new CaptureScript();
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'linux', content: Buffer.alloc(150 * 512 + 1), resend: (b) => b % 8 === 0 });
      assert.deepEqual(diagnose(s.packets()).findings, [], '18 of 151 re-sent: more than 10% but fewer than 20 blocks');
    });

    it('a request sent three times before the server answered', () => {
      const s = new CaptureScript();
      const f = tftpDownload(s, { client: NODE1, server: SERVER, file: 'pxelinux.0', content: bootFileBytes(100), requests: 3 });
      assert.deepEqual(diagnose(s.packets()).findings.map(brief), [['TFTP_RETRANSMISSION_STORM', 'warning', f.requests]]);
    });

    it('the client refusing what the OACK granted (and not asking again) is a negotiation failure; a size probe is not', () => {
      const s = new CaptureScript();
      const f = tftpDownload(s, { client: NODE1, server: SERVER, file: 'grubx64.efi', content: bootFileBytes(1000, 0x8664), blksize: 1456, grantBlksize: 9000, clientAbortsAfterOack: true });
      s.idle(10);
      const d = diagnose(s.packets());
      assert.deepEqual(d.findings.map(brief), [['TFTP_NEGOTIATION_FAILED', 'error', [f.requests[0]!, f.oack!, f.error!]]]);
      assert.match(d.findings[0]!.summary, /asked blksize=1456, granted blksize=9000/);
    });

    it('options ignored and then the transfer failed: a warning beside the timeout', () => {
      const s = new CaptureScript();
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'linux', content: Buffer.alloc(5000), blksize: 1456, tsize: true, ignoreOptions: true, stopAfterBlocks: 3 });
      s.idle(10);
      assert.deepEqual(diagnose(s.packets()).findings.map((f) => [f.code, f.severity]), [['TFTP_TIMEOUT', 'error'], ['TFTP_NEGOTIATION_FAILED', 'warning']]);
    });

    it('access violation and other server errors', () => {
      const s = new CaptureScript();
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'pxelinux.0', content: Buffer.alloc(0), error: { code: 2, message: 'Permission denied' } });
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'x.0', content: Buffer.alloc(0), error: { code: 0, message: 'Server busy' } });
      assert.deepEqual(diagnose(s.packets()).findings.map((f) => f.code), ['TFTP_ACCESS_DENIED', 'TFTP_ERROR']);
    });
  });

  describe('iPXE', () => {
    it('the normal chain (ROM → undionly.kpxe → iPXE gets a script URL) is no loop', () => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 1, address: NODE1.ip, bootFile: 'undionly.kpxe' });
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'undionly.kpxe', content: bootFileBytes(3000) });
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0, userClass: 'iPXE' }, SERVER, { xid: 2, address: NODE1.ip, bootFile: `http://${SERVER.ip}/cblr/svc/op/ipxe/mac/${NODE1.mac}` });
      httpFetch(s, { client: NODE1, server: SERVER, path: `/cblr/svc/op/ipxe/mac/${NODE1.mac}`, bodySize: 300 });
      const d = diagnose(s.packets());
      assert.deepEqual(d.findings, []);
      assert.equal(d.verdict, 'loading');
    });

    it('one cycle is a warning: it is about to loop', () => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0 }, SERVER, { xid: 1, address: NODE1.ip, bootFile: 'undionly.kpxe' });
      tftpDownload(s, { client: NODE1, server: SERVER, file: 'undionly.kpxe', content: bootFileBytes(3000) });
      dhcpHandshake(s, { mac: NODE1.mac, arch: 0, userClass: 'iPXE' }, SERVER, { xid: 2, address: NODE1.ip, bootFile: 'undionly.kpxe' });
      assert.deepEqual(diagnose(s.packets()).findings.map((f) => [f.code, f.severity]), [['IPXE_LOOP', 'warning']]);
    });
  });

  describe('HTTP and the install', () => {
    const install = (steps: (s: CaptureScript) => void): MachineDiagnosis => {
      const s = new CaptureScript();
      dhcpHandshake(s, { mac: NODE1.mac, arch: 7, userClass: 'iPXE' }, SERVER, { xid: 1, address: NODE1.ip, bootFile: `http://${SERVER.ip}/cblr/svc/op/ipxe/mac/${NODE1.mac}` });
      httpFetch(s, { client: NODE1, server: SERVER, path: `/cblr/svc/op/ipxe/mac/${NODE1.mac}`, bodySize: 300 });
      steps(s);
      return diagnose(s.packets());
    };

    it('a kernel that is not there', () => {
      const d = install((s) => httpFetch(s, { client: NODE1, server: SERVER, path: '/cblr/links/debian12-x86_64/linux', status: 404, bodySize: 20 }));
      assert.deepEqual(d.findings.map((f) => f.code), ['HTTP_NOT_FOUND']);
      assert.match(d.findings[0]!.summary, /^GET http:\/\/10\.0\.0\.1\/cblr\/links\/debian12-x86_64\/linux \(kernel\) answered 404 Not Found\.$/);
      assert.equal(d.verdict, 'stuck at HTTP');
    });

    it('an install callback refused', () => {
      const d = install((s) => httpFetch(s, { client: NODE1, server: SERVER, path: '/cblr/svc/op/event/system/node1/token/bad/stage/installer-started', status: 403, bodySize: 5 }));
      assert.deepEqual(d.findings.map((f) => f.code), ['HTTP_ERROR']);
      assert.match(d.findings[0]!.summary, /token\/\*\*\*\/stage\/installer-started \(install event installer-started\) answered 403/);
      assert.match(d.findings[0]!.hint, /install token/);
    });

    it('an initrd download cut by a reset', () => {
      const d = install((s) => httpFetch(s, { client: NODE1, server: SERVER, path: '/cblr/links/debian12-x86_64/initrd.gz', bodySize: 50_000, resetAfter: 20_000 }));
      assert.deepEqual(d.findings.map((f) => f.code), ['HTTP_INCOMPLETE']);
      assert.match(d.findings[0]!.summary, /ended after 20\.0 kB of 50\.0 kB: the connection was reset/);
    });

    it('a script request never answered', () => {
      const d = install((s) => httpFetch(s, { client: NODE1, server: SERVER, path: '/cblr/svc/op/autoinstall/system/node1/token/t', noResponse: true }));
      assert.deepEqual(d.findings.map((f) => f.code), ['HTTP_NO_RESPONSE']);
    });

    it('the installer reporting failure', () => {
      const d = install((s) => {
        httpFetch(s, { client: NODE1, server: SERVER, path: '/cblr/svc/op/autoinstall/system/node1/token/t', bodySize: 100 });
        httpFetch(s, { client: NODE1, server: SERVER, path: '/cblr/svc/op/event/system/node1/token/t/stage/failed?detail=disk', bodySize: 4 });
      });
      assert.deepEqual(d.findings.map((f) => f.code), ['INSTALL_FAILED']);
      assert.equal(d.verdict, 'install failed');
    });

    it('the capture ends after image-written with no nopxe: a warning, still installing', () => {
      const d = diagnose(F.ipxeHttpInstall({ nopxe: false, register: false }).packets);
      assert.deepEqual(d.findings.map((f) => [f.code, f.severity]), [['INSTALL_WITHOUT_NOPXE', 'warning']]);
      assert.equal(d.verdict, 'installing');
    });
  });

  it('findings are ordered: errors first, then by first frame, then code', () => {
    const fs: Finding[] = [
      { code: 'TFTP_TIMEOUT', severity: 'warning', summary: 'a', frames: [3], hint: '' },
      { code: 'TFTP_NOT_FOUND', severity: 'error', summary: 'b', frames: [9], hint: '' },
      { code: 'NO_OFFER', severity: 'error', summary: 'c', frames: [9], hint: '' },
      { code: 'NAK_LOOP', severity: 'error', summary: 'd', frames: [2], hint: '' },
    ];
    assert.deepEqual([...fs].sort(compareFindings).map((f) => f.summary), ['d', 'c', 'b', 'a']);
  });

  it('is a pure function of the report: the same answer from its JSON', () => {
    const r = report(F.tftpNotFound().packets);
    assert.deepEqual(explainCapture(JSON.parse(JSON.stringify(r)) as CaptureReport), explainCapture(r));
  });

  it('--mac: only that machine is diagnosed', () => {
    const a = createCaptureAnalyzer({ mac: NODE2.mac });
    for (const p of F.tftpNotFound().packets) a.add(p);
    assert.deepEqual(explainCapture(a.report()).map((d) => d.mac), [NODE2.mac]);
  });

  it('a ProxyDHCP that answered counts as a boot file for OFFER_WITHOUT_BOOT_FILE', () => {
    const s = new CaptureScript();
    dhcpRequest(s, 'DISCOVER', { mac: NODE1.mac, arch: 0 }, { xid: 4 });
    dhcpReply(s, 'OFFER', SERVER, NODE1.mac, { xid: 4, yiaddr: NODE1.ip });
    dhcpReply(s, 'OFFER', PROXY, NODE1.mac, { xid: 4, proxy: true, bootFile: 'pxelinux.0' });
    assert.deepEqual(diagnose(s.packets()).findings, []);
  });
});
