import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeDhcp, encodeDhcp, type DhcpMessage, type DhcpOptions } from '../protocol/dhcp.ts';
import { clientKeyOf, decideDhcp, type DhcpDecision, type MachineInfo } from './dhcp-decide.ts';
import { BROADCAST_FLAG, clientRequest, testConfig } from './dhcp-fixtures.ts';
import type { DhcpServerConfig } from './dhcp-config.ts';
import { LeaseTable } from './lease-table.ts';

const A = '52:54:00:00:00:0a', B = '52:54:00:00:00:0b', C = '52:54:00:00:00:0c';

function harness(opts: { config?: Partial<DhcpServerConfig>; machines?: Record<string, MachineInfo> } = {}) {
  const config = testConfig(opts.config);
  const leases = new LeaseTable();
  const machines = opts.machines ?? {};
  let now = 1_000_000;
  const deps = {
    config, leases,
    machine: (mac: string) => machines[mac] ?? null,
    reservedFor: (ip: string) => Object.entries(machines).find(([, m]) => m.ip === ip)?.[0],
  };
  const send = (req: DhcpMessage, ifname = 'eth1', port = 67): DhcpDecision => {
    const d = decideDhcp({ request: req, from: { address: '0.0.0.0', port: 68 }, ifname, port }, deps, now);
    // Whatever is decided must encode, and decode back to the same message.
    if (d.reply) assert.deepEqual(decodeDhcp(encodeDhcp(d.reply.message)), d.reply.message);
    return d;
  };
  return { config, leases, send, tick: (s: number) => { now += s; }, now: () => now };
}

const discover = (mac: string, o: Partial<DhcpOptions> = {}, h: Partial<DhcpMessage> = {}) => clientRequest('DISCOVER', mac, o, h);
const requestFor = (mac: string, ip: string, o: Partial<DhcpOptions> = {}, h: Partial<DhcpMessage> = {}) =>
  clientRequest('REQUEST', mac, { requestedIp: ip, serverId: '10.0.0.1', ...o }, h);

describe('decideDhcp: full server', () => {
  it('DISCOVER → OFFER from the pool with the subnet options, held as offered; REQUEST → ACK bound', () => {
    const h = harness();
    const d = h.send(discover(A, { clientArch: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }));
    const o = d.reply!.message;
    assert.equal(o.options.messageType, 'OFFER');
    assert.equal(o.yiaddr, '10.0.0.100');
    assert.equal(o.siaddr, '10.0.0.1');
    assert.equal(o.file, 'pxelinux.0');
    assert.equal(o.options.bootfileName, 'pxelinux.0');
    assert.equal(o.options.tftpServerName, '10.0.0.1');
    assert.equal(o.options.vendorClass, undefined, 'a full server does not echo PXEClient (EDK2 would ask 4011)');
    assert.equal(o.options.serverId, '10.0.0.1');
    assert.equal(o.options.leaseTime, 600);
    assert.equal(o.options.renewalTime, 300);
    assert.equal(o.options.rebindingTime, 525);
    assert.equal(o.options.subnetMask, '255.255.255.0');
    assert.deepEqual(o.options.routers, ['10.0.0.254']);
    assert.deepEqual(o.options.dnsServers, ['10.0.0.53']);
    assert.equal(o.options.domainName, 'lab.example');
    assert.deepEqual(d.leases, [], 'an offer is held in memory, not stored');
    assert.deepEqual([h.leases.get('10.0.0.100')!.state, h.leases.get('10.0.0.100')!.expiresAt - h.now()], ['offered', 60]);
    assert.equal(d.event?.kind, 'dhcp-offer');
    const a = h.send(requestFor(A, '10.0.0.100'));
    assert.equal(a.reply!.message.options.messageType, 'ACK');
    assert.equal(a.reply!.message.yiaddr, '10.0.0.100');
    assert.deepEqual(a.leases.map((l) => [l.ip, l.state, l.expiresAt - h.now()]), [['10.0.0.100', 'bound', 600]]);
  });

  it('the same client gets the same address again; another client the next one', () => {
    const h = harness();
    h.send(discover(A)); h.send(requestFor(A, '10.0.0.100'));
    assert.equal(h.send(discover(A)).reply!.message.yiaddr, '10.0.0.100');
    assert.equal(h.send(discover(B)).reply!.message.yiaddr, '10.0.0.101');
  });

  it('keys by option 61 unless it is the MAC again, so PXE ROM and udhcpc share a lease', () => {
    const macId = Buffer.from('01' + A.replace(/:/g, ''), 'hex');
    assert.equal(clientKeyOf(clientRequest('DISCOVER', A, { clientId: macId })), `mac:${A}`);
    assert.equal(clientKeyOf(clientRequest('DISCOVER', A, { clientId: Buffer.from('ff0001', 'hex') })), 'id:ff0001');
    const h = harness();
    h.send(discover(A)); h.send(requestFor(A, '10.0.0.100'));
    assert.equal(h.send(discover(A, { clientId: macId })).reply!.message.yiaddr, '10.0.0.100');
  });

  it('honours a requested address when it is free, not when another client holds it', () => {
    const h = harness();
    assert.equal(h.send(discover(A, { requestedIp: '10.0.0.103' })).reply!.message.yiaddr, '10.0.0.103');
    h.send(requestFor(A, '10.0.0.103'));
    assert.notEqual(h.send(discover(B, { requestedIp: '10.0.0.103' })).reply!.message.yiaddr, '10.0.0.103');
  });

  it('a static reservation wins, is never given to others, and a request for another address is NAKed', () => {
    const h = harness({ machines: { [A]: { system: 'node1', netboot: true, bootLoaders: [], ip: '10.0.0.101', hostname: 'node1' } } });
    const o = h.send(discover(A)).reply!.message;
    assert.equal(o.yiaddr, '10.0.0.101');
    assert.deepEqual(o.options.other.find((x) => x.code === 12)?.data.toString(), 'node1');
    assert.equal(h.send(discover(B)).reply!.message.yiaddr, '10.0.0.100');
    assert.equal(h.send(discover(C)).reply!.message.yiaddr, '10.0.0.102', 'skips 10.0.0.101, reserved for node1');
    assert.equal(h.send(requestFor(B, '10.0.0.101')).reply!.message.options.messageType, 'NAK');
    assert.equal(h.send(requestFor(A, '10.0.0.100')).reply!.message.options.messageType, 'NAK');
    assert.equal(h.send(requestFor(A, '10.0.0.101')).reply!.message.options.messageType, 'ACK');
  });

  it('a REQUEST naming another server releases our offer and sends nothing', () => {
    const h = harness();
    h.send(discover(A));
    const d = h.send(requestFor(A, '10.0.0.100', { serverId: '10.0.0.9' }));
    assert.equal(d.reply, undefined);
    assert.equal(h.leases.get('10.0.0.100')!.state, 'released');
    assert.equal(h.send(discover(B, { requestedIp: '10.0.0.100' })).reply!.message.yiaddr, '10.0.0.100', 'the address went back to the pool');
  });

  it('INIT-REBOOT: ACK for its own lease, NAK for another subnet or another client\'s address, silence without a record', () => {
    const h = harness();
    h.send(discover(A)); h.send(requestFor(A, '10.0.0.100'));
    const reboot = (mac: string, ip: string) => h.send(clientRequest('REQUEST', mac, { requestedIp: ip }));
    assert.equal(reboot(A, '10.0.0.100').reply!.message.options.messageType, 'ACK');
    const wrongNet = reboot(A, '192.168.1.5').reply!;
    assert.equal(wrongNet.message.options.messageType, 'NAK');
    assert.equal(wrongNet.to.address, '255.255.255.255');
    assert.equal(reboot(B, '10.0.0.100').reply!.message.options.messageType, 'NAK');
    assert.equal(reboot(B, '10.0.0.102').reply, undefined);
  });

  it('RENEWING (ciaddr, unicast): ACK extends the lease, reply unicast to ciaddr, no boot event', () => {
    const h = harness();
    h.send(discover(A));
    assert.equal(h.send(requestFor(A, '10.0.0.100')).event?.kind, 'dhcp-ack', 'the first ACK is a boot');
    h.tick(400);
    const d = h.send(clientRequest('REQUEST', A, {}, { ciaddr: '10.0.0.100' }));
    assert.equal(d.reply!.message.options.messageType, 'ACK');
    assert.deepEqual(d.reply!.to, { address: '10.0.0.100', port: 68, ifname: 'eth1' });
    assert.equal(d.leases[0]!.expiresAt, h.now() + 600);
    assert.equal(d.event, undefined, 'a renewal is not a boot');
    // INIT-REBOOT (a machine that restarted asks for its address again) is one.
    assert.equal(h.send(clientRequest('REQUEST', A, { requestedIp: '10.0.0.100' })).event?.kind, 'dhcp-ack');
  });

  it('DECLINE quarantines the address: no one gets it until the quarantine ends', () => {
    const h = harness({ config: { subnets: [testConfig().subnets[0]!] } });
    h.send(discover(A)); h.send(requestFor(A, '10.0.0.100'));
    const d = h.send(clientRequest('DECLINE', A, { requestedIp: '10.0.0.100', serverId: '10.0.0.1' }));
    assert.equal(d.reply, undefined);
    assert.equal(d.leases[0]!.state, 'declined');
    assert.equal(d.event?.kind, 'dhcp-decline');
    assert.equal(h.send(discover(A)).reply!.message.yiaddr, '10.0.0.101', 'the decliner is moved');
    assert.equal(h.send(discover(B)).reply!.message.yiaddr, '10.0.0.102');
    assert.equal(h.send(requestFor(C, '10.0.0.100')).reply!.message.options.messageType, 'NAK');
    h.tick(3601);
    for (const m of ['52:54:00:00:01:01', '52:54:00:00:01:02', '52:54:00:00:01:03']) h.send(discover(m));
    assert.ok(h.leases.get('10.0.0.100')!.state !== 'declined', 'back in the pool after the quarantine');
  });

  it('a DECLINE or RELEASE from a client that does not hold the address changes nothing', () => {
    const h = harness();
    h.send(discover(A)); h.send(requestFor(A, '10.0.0.100'));
    assert.deepEqual(h.send(clientRequest('DECLINE', B, { requestedIp: '10.0.0.100' })).leases, []);
    assert.deepEqual(h.send(clientRequest('RELEASE', B, {}, { ciaddr: '10.0.0.100' })).leases, []);
    assert.equal(h.leases.get('10.0.0.100')!.state, 'bound');
  });

  it('RELEASE frees the address for others, and the client gets it back if still free', () => {
    const h = harness();
    h.send(discover(A)); h.send(requestFor(A, '10.0.0.100'));
    const d = h.send(clientRequest('RELEASE', A, { serverId: '10.0.0.1' }, { ciaddr: '10.0.0.100' }));
    assert.equal(d.leases[0]!.state, 'released');
    assert.equal(h.send(discover(A)).reply!.message.yiaddr, '10.0.0.100');
  });

  it('INFORM: configuration and boot file, no address, no lease time, unicast to ciaddr', () => {
    const h = harness();
    const d = h.send(clientRequest('INFORM', A, {}, { ciaddr: '10.0.0.150' }));
    const m = d.reply!.message;
    assert.equal(m.options.messageType, 'ACK');
    assert.equal(m.yiaddr, '0.0.0.0');
    assert.equal(m.options.leaseTime, undefined);
    assert.equal(m.options.subnetMask, '255.255.255.0');
    assert.equal(d.reply!.to.address, '10.0.0.150');
    assert.deepEqual(d.leases, []);
  });

  it('relayed: the relay\'s subnet, option 82 recorded and echoed, reply to giaddr:67', () => {
    const h = harness();
    const relayInfo = { circuitId: Buffer.from('port7'), remoteId: Buffer.from('sw1'), other: [] };
    const d = h.send(discover(A, { relayAgentInfo: relayInfo }, { giaddr: '10.1.0.1', hops: 1 }), 'eth0');
    const m = d.reply!.message;
    assert.equal(m.yiaddr, '10.1.0.10');
    assert.deepEqual(m.options.routers, ['10.1.0.1']);
    assert.equal(m.options.leaseTime, 300);
    assert.equal(m.giaddr, '10.1.0.1');
    assert.deepEqual(m.options.relayAgentInfo, relayInfo);
    assert.deepEqual(d.reply!.to, { address: '10.1.0.1', port: 67, ifname: 'eth0' });
    const a = h.send(requestFor(A, '10.1.0.10', { relayAgentInfo: relayInfo }, { giaddr: '10.1.0.1' }), 'eth0');
    assert.deepEqual(a.leases[0]!.relay, { giaddr: '10.1.0.1', circuitId: Buffer.from('port7').toString('hex'), remoteId: Buffer.from('sw1').toString('hex') });
    assert.equal(a.leases[0]!.subnet, '10.1.0.0/24');
  });

  it('a relay from an unknown subnet is not answered', () => {
    const d = harness().send(discover(A, {}, { giaddr: '172.16.0.1' }));
    assert.equal(d.reply, undefined);
    assert.match(d.note!.msg, /no subnet configured for relay 172\.16\.0\.1/);
  });

  it('records option 97 and echoes it', () => {
    const h = harness();
    const uuid = { type: 0, id: Buffer.from('00112233445566778899aabbccddeeff', 'hex') };
    const o = h.send(discover(A, { clientUuid: uuid })).reply!.message;
    assert.deepEqual(o.options.clientUuid, uuid);
    const a = h.send(requestFor(A, '10.0.0.100', { clientUuid: uuid }));
    assert.equal(a.leases[0]!.uuid, '00112233445566778899aabbccddeeff');
  });

  it('netboot disabled: an address, no boot file, no next-server', () => {
    const h = harness({ machines: { [A]: { system: 'node1', netboot: false, bootLoaders: [] } } });
    const o = h.send(discover(A, { clientArch: [0] })).reply!.message;
    assert.equal(o.yiaddr, '10.0.0.100');
    assert.equal(o.file, '');
    assert.equal(o.siaddr, '0.0.0.0');
    assert.equal(o.options.bootfileName, undefined);
  });

  it('iPXE (user class iPXE, either form) is told not to wait for ProxyDHCP (175.176 = 1), netboot or not; other clients are not', () => {
    const h = harness({ machines: { [A]: { system: 'node1', netboot: false, bootLoaders: [] } } });
    const noWait = { code: 175, data: Buffer.from([176, 1, 1]) };
    const byPlain = h.send(discover(A, { clientArch: [0], userClass: { format: 'plain', value: 'iPXE' } })).reply!.message;
    assert.deepEqual(byPlain.options.other.filter((o) => o.code === 175), [noWait]);
    assert.equal(byPlain.options.bootfileName, undefined, 'netboot off: still no boot file');
    const ipxe = { clientArch: [0], userClass: { format: 'rfc3004' as const, classes: ['iPXE'] } };
    const offered = h.send(discover(B, ipxe)).reply!.message;
    assert.deepEqual(offered.options.other.filter((o) => o.code === 175), [noWait]);
    assert.equal(offered.options.bootfileName, 'pxelinux.0', 'the hint does not change the boot choice');
    const acked = h.send(requestFor(B, offered.yiaddr, ipxe)).reply!.message;
    assert.equal(acked.options.messageType, 'ACK');
    assert.deepEqual(acked.options.other.filter((o) => o.code === 175), [noWait]);
    const plain = h.send(discover(C, { clientArch: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001' })).reply!.message;
    assert.deepEqual(plain.options.other.filter((o) => o.code === 175), [], 'a PXE ROM or an OS gets no iPXE option');
  });

  it('unknown MACs: ignored entirely with the ignore policy', () => {
    const h = harness({ config: { unknownMachines: 'ignore' }, machines: { [A]: { system: 'node1', netboot: true, bootLoaders: [] } } });
    assert.equal(h.send(discover(B)).reply, undefined);
    assert.ok(h.send(discover(A)).reply);
  });

  it('HTTP boot client: URL in option 67, HTTPClient echoed; long URLs stay out of the 128-byte file field', () => {
    const h = harness({ config: { httpBase: 'http://10.0.0.1:8080/' + 'x'.repeat(130) } });
    const o = h.send(discover(A, { clientArch: [16], vendorClass: 'HTTPClient:Arch:00016:UNDI:003000' })).reply!.message;
    assert.equal(o.options.vendorClass, 'HTTPClient');
    assert.match(o.options.bootfileName!, /^http:\/\/10\.0\.0\.1:8080\/x+\/boot\/ipxe\.efi$/);
    assert.equal(o.file, '');
  });

  it('pool exhausted: no offer and a warning, never a loop', () => {
    const h = harness({ config: { subnets: [testConfig().subnets[0]!] } });
    const macs = [0, 1, 2, 3, 4].map((i) => `52:54:00:00:02:0${i}`);
    for (const m of macs) assert.ok(h.send(discover(m)).reply);
    const d = h.send(discover(C));
    assert.equal(d.reply, undefined);
    assert.match(d.note!.msg, /pool is exhausted/);
    h.tick(61);
    assert.ok(h.send(discover(C)).reply, 'offers that were never taken expire');
  });

  it('broadcast bit: OFFER broadcast; otherwise unicast to the offered address at chaddr', () => {
    const h = harness();
    assert.equal(h.send(discover(A, {}, { flags: BROADCAST_FLAG })).reply!.to.address, '255.255.255.255');
    assert.deepEqual(h.send(discover(B)).reply!.to, { address: '10.0.0.101', port: 68, hwaddr: B, ifname: 'eth1' });
  });

  it('ignores BOOTREPLY, plain BOOTP and server-only message types', () => {
    const h = harness();
    assert.equal(h.send({ ...discover(A), op: 2 }).reply, undefined);
    assert.equal(h.send(clientRequest('OFFER', A)).reply, undefined);
    const bootp = discover(A);
    delete bootp.options.messageType;
    assert.equal(h.send(bootp).reply, undefined);
  });
});

describe('decideDhcp: ProxyDHCP', () => {
  const proxy = () => harness({ config: { mode: 'proxy' } });
  it('answers a PXE DISCOVER with boot information only, and no lease', () => {
    const d = proxy().send(discover(A, { clientArch: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }, { flags: BROADCAST_FLAG }));
    const m = d.reply!.message;
    assert.equal(m.options.messageType, 'OFFER');
    assert.equal(m.yiaddr, '0.0.0.0');
    assert.equal(m.siaddr, '10.0.0.1');
    assert.equal(m.file, 'pxelinux.0');
    assert.equal(m.options.vendorClass, 'PXEClient');
    assert.equal(m.options.leaseTime, undefined);
    assert.deepEqual([...m.options.vendorSpecific!], [6, 1, 8, 255]);
    assert.deepEqual(d.leases, []);
    assert.equal(d.reply!.to.address, '255.255.255.255');
  });
  it('ignores clients that are not PXE clients', () => {
    assert.equal(proxy().send(discover(A)).reply, undefined);
  });
  it('answers a REQUEST on 4011 with an ACK straight back; UEFI gets no option 43', () => {
    const h = proxy();
    const req = clientRequest('REQUEST', A, { clientArch: [7], vendorClass: 'PXEClient:Arch:00007:UNDI:003016' }, { ciaddr: '192.168.7.20' });
    const d = decideDhcp({ request: req, from: { address: '192.168.7.20', port: 68 }, ifname: 'eth1', port: 4011 }, {
      config: testConfig({ mode: 'proxy' }), leases: new LeaseTable(), machine: () => null, reservedFor: () => undefined,
    }, 0);
    void h;
    assert.equal(d.reply!.message.options.messageType, 'ACK');
    assert.equal(d.reply!.message.options.bootfileName, 'ipxe.efi');
    assert.equal(d.reply!.message.options.vendorSpecific, undefined);
    assert.deepEqual(d.reply!.to, { address: '192.168.7.20', port: 68, ifname: 'eth1' });
  });
  it('does not answer REQUESTs meant for the network\'s DHCP server', () => {
    assert.equal(proxy().send(requestFor(A, '10.0.0.100', { vendorClass: 'PXEClient', serverId: '10.0.0.9' })).reply, undefined);
  });
});

describe('decideDhcp: one address, one holder (property)', () => {
  it('whatever clients do, no address is ACKed to a client while another holds it', () => {
    const macs = ['52:54:00:00:03:01', '52:54:00:00:03:02', '52:54:00:00:03:03', '52:54:00:00:03:04', '52:54:00:00:03:05', '52:54:00:00:03:06', '52:54:00:00:03:07'];
    const ips = ['10.0.0.100', '10.0.0.101', '10.0.0.102', '10.0.0.103', '10.0.0.104', '10.0.0.150'];
    const op = fc.record({
      kind: fc.constantFrom('discover', 'select', 'reboot', 'renew', 'decline', 'release', 'wait'),
      mac: fc.constantFrom(...macs), ip: fc.constantFrom(...ips), secs: fc.integer({ min: 1, max: 400 }),
    });
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const h = harness({ config: { subnets: [testConfig().subnets[0]!] } });
      // What each client believes it holds: ip → { mac, until }.
      const held = new Map<string, { mac: string; until: number }>();
      for (const o of ops) {
        let d: DhcpDecision | undefined;
        if (o.kind === 'wait') { h.tick(o.secs); continue; }
        if (o.kind === 'discover') d = h.send(discover(o.mac));
        if (o.kind === 'select') d = h.send(requestFor(o.mac, o.ip));
        if (o.kind === 'reboot') d = h.send(clientRequest('REQUEST', o.mac, { requestedIp: o.ip }));
        if (o.kind === 'renew') d = h.send(clientRequest('REQUEST', o.mac, {}, { ciaddr: o.ip }));
        if (o.kind === 'decline' || o.kind === 'release') {
          const mine = held.get(o.ip);
          if (mine?.mac === o.mac) held.delete(o.ip);
          d = o.kind === 'decline' ? h.send(clientRequest('DECLINE', o.mac, { requestedIp: o.ip })) : h.send(clientRequest('RELEASE', o.mac, {}, { ciaddr: o.ip }));
        }
        const m = d?.reply?.message;
        if (m?.options.messageType === 'ACK' && m.yiaddr !== '0.0.0.0') {
          const other = held.get(m.yiaddr);
          if (other && other.mac !== o.mac && other.until > h.now()) {
            throw new Error(`${m.yiaddr} ACKed to ${o.mac} while ${other.mac} holds it until ${other.until} (now ${h.now()})`);
          }
          // A client holds one address at a time.
          for (const [ip, v] of held) if (v.mac === o.mac) held.delete(ip);
          held.set(m.yiaddr, { mac: o.mac, until: h.now() + m.options.leaseTime! });
        }
      }
    }), { numRuns: 400 });
  });
});
