import assert from 'node:assert/strict';
import { decodeDhcp, encodeDhcp, type DhcpMessage } from '../../provisioner/protocol/dhcp.ts';
import { DhcpExchanges, dhcpBootFile, formatUuid, summarizeDhcp, type DhcpObservation } from './dhcp-exchanges.ts';

const CLIENT = '52:54:00:12:34:01';

function msg(op: 1 | 2, over: Partial<DhcpMessage> & { options: DhcpMessage['options'] }): DhcpMessage {
  return {
    op, htype: 1, hlen: 6, hops: 0, xid: 0x11223344, secs: 0, flags: 0, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0',
    giaddr: '0.0.0.0', chaddr: CLIENT, sname: '', file: '', ...over,
  };
}

function obs(m: DhcpMessage, o: Partial<DhcpObservation> = {}): DhcpObservation {
  // Through the codec, as the analyzer sees it.
  return { frame: 1, msg: decodeDhcp(encodeDhcp(m)), srcIp: m.op === 1 ? '0.0.0.0' : '10.0.0.1', dstIp: '255.255.255.255', srcPort: m.op === 1 ? 68 : 67, dstPort: m.op === 1 ? 67 : 68, srcMac: m.op === 1 ? CLIENT : '52:54:00:00:00:01', ...o };
}

describe('dhcp-exchanges', () => {
  it('a PXE request: architecture, vendor and user class, netboot and iPXE flags', () => {
    const d = new DhcpExchanges();
    const { mac, event } = d.observe(obs(msg(1, { options: { messageType: 'DISCOVER', clientArch: [7], vendorClass: 'PXEClient:Arch:00007:UNDI:003010', userClass: { format: 'plain', value: 'iPXE' }, other: [] } })));
    assert.equal(mac, CLIENT);
    assert.equal(event.type, 'DISCOVER');
    assert.equal(event.direction, 'request');
    assert.equal(event.xidHex, '0x11223344');
    assert.deepEqual(event.architectures, [{ code: 7, name: 'x64 UEFI' }]);
    assert.equal(event.netbootClient, true);
    assert.equal(event.ipxeClient, true);
    assert.equal(summarizeDhcp(event), 'DHCP DISCOVER xid 0x11223344, iPXE, x64 UEFI (7)');
  });

  it('the architecture comes from option 60 when option 93 is missing', () => {
    const d = new DhcpExchanges();
    const { event } = d.observe(obs(msg(1, { options: { messageType: 'DISCOVER', vendorClass: 'HTTPClient:Arch:00016:UNDI:003001', other: [] } })));
    assert.deepEqual(event.architectures, [{ code: 16, name: 'x64 UEFI HTTP' }]);
    assert.equal(summarizeDhcp(event), 'DHCP DISCOVER xid 0x11223344, HTTP boot client, x64 UEFI HTTP (16)');
  });

  it('a reply carries the request it answers (same client, same xid) and its boot information', () => {
    const d = new DhcpExchanges();
    d.observe(obs(msg(1, { options: { messageType: 'DISCOVER', clientArch: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001', other: [] } })));
    const { event } = d.observe(obs(msg(2, { yiaddr: '10.0.0.51', siaddr: '10.0.0.1', options: { messageType: 'OFFER', serverId: '10.0.0.1', bootfileName: 'pxelinux.0', other: [] } })));
    assert.equal(event.server, '10.0.0.1');
    assert.equal(event.address, '10.0.0.51');
    assert.equal(event.nextServer, '10.0.0.1');
    assert.equal(event.bootFile, 'pxelinux.0');
    assert.equal(event.netbootClient, true);
    assert.deepEqual(event.architectures, [{ code: 0, name: 'BIOS (x86)' }]);
    assert.equal(event.proxy, false);
    assert.equal(summarizeDhcp(event), 'DHCP OFFER 10.0.0.51 from 10.0.0.1, next-server 10.0.0.1, boot file pxelinux.0');
    const other = d.observe(obs(msg(2, { xid: 9, yiaddr: '10.0.0.51', options: { messageType: 'OFFER', serverId: '10.0.0.1', other: [] } }))).event;
    assert.equal(other.netbootClient, false, 'no request with that xid');
  });

  it('the boot file is option 67, else the file field', () => {
    assert.equal(dhcpBootFile(msg(2, { file: 'legacy.0', options: { bootfileName: 'new.efi', other: [] } })), 'new.efi');
    assert.equal(dhcpBootFile(msg(2, { file: 'legacy.0', options: { other: [] } })), 'legacy.0');
    assert.equal(dhcpBootFile(msg(2, { options: { bootfileName: 'x.0\0', other: [] } })), 'x.0');
    assert.equal(dhcpBootFile(msg(2, { options: { other: [] } })), null);
  });

  it('ProxyDHCP: an OFFER with no address, or a reply on port 4011', () => {
    const d = new DhcpExchanges();
    const proxyOffer = d.observe(obs(msg(2, { siaddr: '10.0.0.2', options: { messageType: 'OFFER', serverId: '10.0.0.2', vendorClass: 'PXEClient', bootfileName: 'pxelinux.0', other: [] } }), { srcIp: '10.0.0.2' })).event;
    assert.equal(proxyOffer.proxy, true);
    assert.match(summarizeDhcp(proxyOffer), /^ProxyDHCP OFFER from 10\.0\.0\.2/);
    const ack4011 = d.observe(obs(msg(2, { yiaddr: '0.0.0.0', options: { messageType: 'ACK', serverId: '10.0.0.2', bootfileName: 'pxelinux.0', other: [] } }), { srcIp: '10.0.0.2', srcPort: 4011, dstPort: 4011 })).event;
    assert.equal(ack4011.proxy, true);
    const inform = d.observe(obs(msg(2, { ciaddr: '10.0.0.51', options: { messageType: 'ACK', serverId: '10.0.0.1', other: [] } }))).event;
    assert.equal(inform.proxy, false);
    const servers = d.report();
    assert.deepEqual(servers.map((s) => [s.id, s.role, s.proxyReplies]), [['10.0.0.2', 'proxy', 2], ['10.0.0.1', 'dhcp', 0]]);
  });

  it('the servers table: counts, clients, bound clients, boot files, next servers', () => {
    const d = new DhcpExchanges();
    const reply = (type: 'OFFER' | 'ACK' | 'NAK', server: string, mac: string, frame: number, extra: Partial<DhcpMessage['options']> = {}) =>
      d.observe(obs(msg(2, { chaddr: mac, yiaddr: type === 'NAK' ? '0.0.0.0' : '10.0.0.60', siaddr: server, options: { messageType: type, serverId: server, ...extra, other: [] } }), { frame, srcIp: server, srcMac: `52:54:00:00:00:${server.endsWith('99') ? '99' : '01'}` }));
    reply('OFFER', '10.0.0.99', 'aa:00:00:00:00:01', 2);
    reply('OFFER', '10.0.0.1', 'aa:00:00:00:00:01', 3, { bootfileName: 'pxelinux.0', tftpServerName: 'tftp.lab' });
    reply('ACK', '10.0.0.99', 'aa:00:00:00:00:01', 5);
    reply('OFFER', '10.0.0.1', 'aa:00:00:00:00:02', 7, { bootfileName: 'grub/grubx64.efi' });
    reply('ACK', '10.0.0.1', 'aa:00:00:00:00:02', 9, { bootfileName: 'grub/grubx64.efi' });
    reply('NAK', '10.0.0.1', 'aa:00:00:00:00:03', 11);
    assert.equal(d.leaseFrom('aa:00:00:00:00:01'), '10.0.0.99');
    assert.deepEqual(d.report(), [
      {
        id: '10.0.0.99', role: 'dhcp', sourceIps: ['10.0.0.99'], sourceMacs: ['52:54:00:00:00:99'], offers: 1, acks: 1, naks: 0, proxyReplies: 0,
        clients: ['aa:00:00:00:00:01'], boundClients: ['aa:00:00:00:00:01'], bootFiles: [], nextServers: ['10.0.0.99'], firstFrame: 2, frames: [2, 5],
      },
      {
        id: '10.0.0.1', role: 'dhcp', sourceIps: ['10.0.0.1'], sourceMacs: ['52:54:00:00:00:01'], offers: 2, acks: 1, naks: 1, proxyReplies: 0,
        clients: ['aa:00:00:00:00:01', 'aa:00:00:00:00:02', 'aa:00:00:00:00:03'], boundClients: ['aa:00:00:00:00:02'],
        bootFiles: ['grub/grubx64.efi', 'pxelinux.0'], nextServers: ['10.0.0.1', 'tftp.lab'], firstFrame: 3, frames: [3, 7, 9, 11],
      },
    ]);
  });

  it('a non-Ethernet chaddr: the request\'s sender is the machine', () => {
    const d = new DhcpExchanges();
    const r = d.observe(obs(msg(1, { htype: 32, hlen: 0, chaddr: '', options: { messageType: 'DISCOVER', other: [] } })));
    assert.equal(r.mac, CLIENT);
  });

  it('formats option 97 as a UUID', () => {
    assert.equal(formatUuid(Buffer.from('8c4c4d56e3a04f1b9a2c5e6f70818293', 'hex')), '8c4c4d56-e3a0-4f1b-9a2c-5e6f70818293');
    assert.equal(formatUuid(Buffer.from('0102', 'hex')), '0102');
  });
});
