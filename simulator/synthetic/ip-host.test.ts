import assert from 'node:assert/strict';
import { ARP_OP, type ArpPacket } from '../../provisioner/protocol/arp.ts';
import { decodeFrame } from '../../provisioner/protocol/frames.ts';
import { VirtualClock } from './clock.ts';
import { IpHost, selectArpReply } from './ip-host.ts';

const MAC = '52:54:00:00:00:01';
const SERVER_MAC = '02:00:00:00:00:99';

function host(tries = 3) {
  const clock = new VirtualClock(0);
  const frames: Buffer[] = [];
  const h = new IpHost({ mac: MAC, clock, send: (f) => frames.push(f), arpTimeoutMs: 1000, arpTries: tries });
  return { clock, frames, h };
}

const request = (senderIp: string, targetIp: string, senderMac = SERVER_MAC): ArpPacket =>
  ({ op: ARP_OP.REQUEST, senderMac, senderIp, targetMac: '00:00:00:00:00:00', targetIp });

describe('IpHost (ARP and addressing of a synthetic node)', () => {
  it('answers ARP requests for its own address only, and only once it has one', () => {
    assert.equal(selectArpReply(request('10.0.0.1', '10.0.0.100'), MAC, undefined), null);
    assert.deepEqual(selectArpReply(request('10.0.0.1', '10.0.0.100'), MAC, '10.0.0.100'),
      { op: ARP_OP.REPLY, senderMac: MAC, senderIp: '10.0.0.100', targetMac: SERVER_MAC, targetIp: '10.0.0.1' });
    assert.equal(selectArpReply(request('10.0.0.1', '10.0.0.101'), MAC, '10.0.0.100'), null);
    assert.equal(selectArpReply({ ...request('10.0.0.1', '10.0.0.100'), op: ARP_OP.REPLY }, MAC, '10.0.0.100'), null);
    assert.equal(selectArpReply(request('0.0.0.0', '10.0.0.100'), MAC, '10.0.0.100'), null, 'a probe is not answered (RFC 5227 leaves that to the owner)');
  });

  it('sends the reply as a unicast frame to the asker', () => {
    const { h, frames } = host();
    h.configure('10.0.0.100', '255.255.255.0', []);
    h.handleArp(request('10.0.0.1', '10.0.0.100'));
    assert.equal(frames.length, 1);
    const f = decodeFrame(frames[0]!);
    assert.equal(f.eth.dst, SERVER_MAC);
    assert.equal(f.eth.src, MAC);
    assert.equal(f.arp!.op, ARP_OP.REPLY);
    assert.equal(f.arp!.senderIp, '10.0.0.100');
  });

  it('resolves by broadcast ARP, retries, caches, and fails after its tries', async () => {
    const { h, frames, clock } = host();
    h.configure('10.0.0.100', '255.255.255.0', []);
    const a = h.resolve('10.0.0.1');
    const b = h.resolve('10.0.0.1');
    assert.equal(frames.length, 1, 'one request for two waiters');
    const req = decodeFrame(frames[0]!);
    assert.equal(req.eth.dst, 'ff:ff:ff:ff:ff:ff');
    assert.deepEqual(req.arp, { op: 1, senderMac: MAC, senderIp: '10.0.0.100', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.1' });
    clock.step();
    assert.equal(frames.length, 2, 'asked again after the timeout');
    h.handleArp({ op: ARP_OP.REPLY, senderMac: SERVER_MAC, senderIp: '10.0.0.1', targetMac: MAC, targetIp: '10.0.0.100' });
    assert.equal(await a, SERVER_MAC);
    assert.equal(await b, SERVER_MAC);
    assert.equal(await h.resolve('10.0.0.1'), SERVER_MAC);
    assert.equal(frames.length, 2, 'the cache answers');

    const lost = h.resolve('10.0.0.2');
    while (clock.step()) { /* run every retry */ }
    await assert.rejects(lost, /no ARP reply from 10\.0\.0\.2 after 3 requests/);
    assert.equal(frames.length, 5);
  });

  it('routes off-link destinations through the first router', () => {
    const { h } = host();
    h.configure('10.0.0.100', '255.255.255.0', ['10.0.0.254']);
    assert.equal(h.nextHop('10.0.0.1'), '10.0.0.1');
    assert.equal(h.nextHop('10.9.0.1'), '10.0.0.254');
    h.configure('10.0.0.100', '255.255.255.0', []);
    assert.deepEqual(h.nextHop('10.9.0.1'), { error: '10.9.0.1 is off-link and DHCP gave no router' });
  });

  it('frames DHCP from 0.0.0.0 to the broadcast address, and UDP from its lease', () => {
    const { h, frames } = host();
    h.sendDhcpBroadcast(Buffer.alloc(300));
    h.configure('10.0.0.100', '255.255.255.0', []);
    h.sendUdp(SERVER_MAC, '10.0.0.1', 50000, 69, Buffer.from('x'));
    const dhcp = decodeFrame(frames[0]!);
    assert.deepEqual([dhcp.eth.dst, dhcp.ip!.src, dhcp.ip!.dst, dhcp.udp!.srcPort, dhcp.udp!.dstPort, dhcp.udp!.checksumOk], ['ff:ff:ff:ff:ff:ff', '0.0.0.0', '255.255.255.255', 68, 67, true]);
    const udp = decodeFrame(frames[1]!);
    assert.deepEqual([udp.eth.dst, udp.ip!.src, udp.ip!.dst, udp.udp!.dstPort], [SERVER_MAC, '10.0.0.100', '10.0.0.1', 69]);
    assert.notEqual(dhcp.ip!.id, udp.ip!.id);
  });

  it('fails pending resolutions when closed', async () => {
    const { h } = host();
    const p = h.resolve('10.0.0.1');
    h.close();
    await assert.rejects(p, /shut down/);
  });
});
