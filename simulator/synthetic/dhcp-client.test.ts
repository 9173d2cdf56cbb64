import assert from 'node:assert/strict';
import { BOOTREPLY, DHCP_FLAG_BROADCAST, decodeDhcp, encodeDhcp, type DhcpMessage, type DhcpOptions } from '../../provisioner/protocol/dhcp.ts';
import { clientUuidFor, DhcpClient, formatUuid, type DhcpStep, type Firmware } from './dhcp-client.ts';

const MAC = '52:54:00:12:34:56';
const SERVER = '10.0.0.1';

function client(firmware: Firmware = 'bios', retryMs = [4000, 8000, 16000]) {
  let xid = 0x1000;
  return new DhcpClient({ mac: MAC, firmware, uuid: clientUuidFor(MAC), nextXid: () => xid++, retryMs });
}

/** What a server receives: the client's message through the codec, both ways. */
function wire(step: DhcpStep): DhcpMessage {
  assert.ok(step.send, 'the step sends a message');
  return decodeDhcp(encodeDhcp(step.send));
}

function reply(req: DhcpMessage, type: 'OFFER' | 'ACK' | 'NAK', ip: string, options: Partial<DhcpOptions> = {}, header: Partial<DhcpMessage> = {}): DhcpMessage {
  const m: DhcpMessage = {
    op: BOOTREPLY, htype: 1, hlen: 6, hops: 0, xid: req.xid, secs: 0, flags: req.flags, ciaddr: '0.0.0.0', yiaddr: ip,
    siaddr: SERVER, giaddr: '0.0.0.0', chaddr: req.chaddr, sname: '', file: '',
    options: { messageType: type, serverId: SERVER, subnetMask: '255.255.255.0', bootfileName: 'pxelinux.0', other: [], ...options },
    ...header,
  };
  return decodeDhcp(encodeDhcp(m));
}

describe('DhcpClient (a PXE ROM)', () => {
  it('sends a BIOS PXE DISCOVER: broadcast flag, options 53, 55, 57, 60, 93, 94 and 97', () => {
    const d = wire(client().start(0));
    assert.equal(d.op, 1);
    assert.equal(d.flags, DHCP_FLAG_BROADCAST);
    assert.equal(d.chaddr, MAC);
    assert.equal(d.ciaddr, '0.0.0.0');
    const o = d.options;
    assert.equal(o.messageType, 'DISCOVER');
    for (const code of [1, 3, 6, 12, 15, 17, 43, 54, 60, 66, 67, 97]) assert.ok(o.parameterRequestList!.includes(code), `asks for option ${code}`);
    assert.equal(o.maxMessageSize, 1464);
    assert.equal(o.vendorClass, 'PXEClient:Arch:00000:UNDI:002001');
    assert.deepEqual(o.clientArch, [0]);
    assert.deepEqual(o.clientNdi, { type: 1, major: 2, minor: 1 });
    assert.equal(o.clientUuid!.type, 0);
    assert.equal(o.clientUuid!.id.length, 16);
    assert.equal(o.requestedIp, undefined);
  });

  it('sends arch 7 and UNDI 3.16 for UEFI', () => {
    const o = wire(client('uefi').start(0)).options;
    assert.equal(o.vendorClass, 'PXEClient:Arch:00007:UNDI:003016');
    assert.deepEqual(o.clientArch, [7]);
    assert.deepEqual(o.clientNdi, { type: 1, major: 3, minor: 16 });
  });

  it('derives the UUID from the MAC, the same every time and different per MAC', () => {
    assert.deepEqual(clientUuidFor(MAC), clientUuidFor(MAC.toUpperCase()));
    assert.notDeepEqual(clientUuidFor(MAC), clientUuidFor('52:54:00:12:34:57'));
    assert.match(formatUuid(clientUuidFor(MAC)), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('answers an OFFER with a REQUEST (same xid, options 50 and 54) and binds on the ACK', () => {
    const c = client();
    const discover = wire(c.start(0));
    const req = wire(c.receive(reply(discover, 'OFFER', '10.0.0.100'), 1500));
    assert.equal(req.options.messageType, 'REQUEST');
    assert.equal(req.xid, discover.xid);
    assert.equal(req.options.requestedIp, '10.0.0.100');
    assert.equal(req.options.serverId, SERVER);
    assert.equal(req.secs, 1);
    assert.equal(req.flags, DHCP_FLAG_BROADCAST);
    const done = c.receive(reply(req, 'ACK', '10.0.0.100', { routers: ['10.0.0.254'], leaseTime: 600 }), 1600);
    assert.equal(done.waitMs, null);
    assert.deepEqual(done.bound, { ip: '10.0.0.100', serverId: SERVER, nextServer: SERVER, bootFile: 'pxelinux.0', subnetMask: '255.255.255.0', routers: ['10.0.0.254'], leaseSeconds: 600 });
  });

  it('ignores replies for another transaction or another MAC, and late offers', () => {
    const c = client();
    const discover = wire(c.start(0));
    assert.deepEqual(c.receive(reply(discover, 'OFFER', '10.0.0.100', {}, { xid: discover.xid + 1 }), 1), {});
    assert.deepEqual(c.receive(reply(discover, 'OFFER', '10.0.0.100', {}, { chaddr: '52:54:00:00:00:01' }), 1), {});
    const req = wire(c.receive(reply(discover, 'OFFER', '10.0.0.100'), 1));
    assert.deepEqual(c.receive(reply(discover, 'OFFER', '10.0.0.101'), 2), {}, 'a second offer while requesting');
    assert.ok(c.receive(reply(req, 'ACK', '10.0.0.100'), 3).bound);
  });

  it('retransmits the DISCOVER after 4, 8 and 16 s, then fails with a clear error', () => {
    const c = client();
    const first = c.start(0);
    assert.equal(first.waitMs, 4000);
    const waits: number[] = [];
    const xids = new Set<number>();
    let t = 0;
    let step = first;
    for (;;) {
      t += step.waitMs!;
      step = c.timeout(t);
      if (!step.send) break;
      waits.push(step.waitMs!);
      xids.add(wire(step).xid);
      assert.equal(wire(step).secs, Math.floor(t / 1000));
    }
    assert.deepEqual(waits, [8000, 16000]);
    assert.equal(xids.size, 1, 'retransmissions keep the xid');
    assert.equal(step.failed, 'no DHCP offer after 3 DISCOVERs');
    assert.deepEqual(c.timeout(t + 1), {}, 'nothing more after giving up');
  });

  it('starts over with a new transaction after a NAK, and gives up after too many', () => {
    const c = client();
    let discover = wire(c.start(0));
    const xids = [discover.xid];
    for (let i = 0; i < 3; i++) {
      const req = wire(c.receive(reply(discover, 'OFFER', '10.0.0.100'), i));
      const nak = reply(req, 'NAK', '0.0.0.0', { other: [{ code: 56, data: Buffer.from('address taken') }] });
      const step = c.receive(nak, i);
      assert.match(step.note!, /^NAK: address taken: starting over/);
      discover = wire(step);
      assert.equal(discover.options.messageType, 'DISCOVER');
      xids.push(discover.xid);
    }
    assert.equal(new Set(xids).size, 4);
    const req = wire(c.receive(reply(discover, 'OFFER', '10.0.0.100'), 9));
    const last = c.receive(reply(req, 'NAK', '0.0.0.0'), 9);
    assert.equal(last.failed, 'NAK; gave up after 3 restarts');
  });

  it('retransmits an unanswered REQUEST, then starts over', () => {
    const c = client('bios', [100, 200]);
    const discover = wire(c.start(0));
    c.receive(reply(discover, 'OFFER', '10.0.0.100'), 10);
    assert.equal(wire(c.timeout(110)).options.messageType, 'REQUEST');
    const restart = c.timeout(310);
    assert.equal(wire(restart).options.messageType, 'DISCOVER');
    assert.match(restart.note!, /^no ACK after 2 REQUESTs: starting over/);
  });

  it('waits for an offer with a boot file, and gives up with PXE-E53 when none comes', () => {
    const c = client();
    const discover = wire(c.start(0));
    const bootless = reply(discover, 'OFFER', '10.0.0.100', { bootfileName: undefined }, { siaddr: '0.0.0.0' });
    assert.match(c.receive(bootless, 1).note!, /names no boot file/);
    assert.equal(c.timeout(4000).noBootFile, 'PXE-E53: the offer of 10.0.0.100 names no boot file');

    const c2 = client();
    const d2 = wire(c2.start(0));
    c2.receive(reply(d2, 'OFFER', '10.0.0.100', { bootfileName: undefined }, { siaddr: '0.0.0.0' }), 1);
    const req = wire(c2.receive(reply(d2, 'OFFER', '10.0.0.101', {}, { file: 'pxelinux.0' }), 2));
    assert.equal(req.options.requestedIp, '10.0.0.101', 'the offer that names a boot file wins');
  });

  it('takes TFTP from siaddr, else an address in option 66, else the server identifier', () => {
    const bind = (options: Partial<DhcpOptions>, siaddr: string) => {
      const c = client();
      const d = wire(c.start(0));
      const req = wire(c.receive(reply(d, 'OFFER', '10.0.0.100', options, { siaddr }), 1));
      return c.receive(reply(req, 'ACK', '10.0.0.100', options, { siaddr }), 2).bound!;
    };
    assert.equal(bind({}, '10.0.0.9').nextServer, '10.0.0.9');
    assert.equal(bind({ tftpServerName: '10.0.0.8' }, '0.0.0.0').nextServer, '10.0.0.8');
    assert.equal(bind({ tftpServerName: 'boot.example' }, '0.0.0.0').nextServer, SERVER);
  });

  it('reads the boot file from the header when option 67 is absent', () => {
    const c = client();
    const d = wire(c.start(0));
    const req = wire(c.receive(reply(d, 'OFFER', '10.0.0.100', { bootfileName: undefined }, { file: 'boot/pxelinux.0' }), 1));
    assert.equal(c.receive(reply(req, 'ACK', '10.0.0.100', { bootfileName: undefined }, { file: 'boot/pxelinux.0' }), 2).bound!.bootFile, 'boot/pxelinux.0');
  });
});
