import assert from 'node:assert/strict';
import { ManualClock } from '../../lib/clock.ts';
import { createLogger } from '../../lib/log.ts';
import type { BootEvent } from '../boot/boot-events.ts';
import { MemoryNetwork } from '../net/memory-network.ts';
import { decodeDhcp, encodeDhcp, type DhcpMessage } from '../protocol/dhcp.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { BROADCAST_FLAG, clientRequest, testConfig } from './dhcp-fixtures.ts';
import { serveDhcp } from './dhcp-server.ts';
import { makeSubnet } from './dhcp-config.ts';

const A = '52:54:00:00:00:0a';

async function setup(store = new MemoryStore(), config = testConfig({ subnets: [testConfig().subnets[0]!] })) {
  const net = new MemoryNetwork();
  const server67 = net.open({ address: '0.0.0.0', port: 67 });
  const client = net.open({ address: '0.0.0.0', port: 68 });
  const lines: string[] = [];
  const events: BootEvent[] = [];
  const clock = new ManualClock(1_000_000);
  const dhcp = serveDhcp({
    ports: [server67], config, store,
    events: { record: (e) => { events.push(e); store.appendBootEvent(e); } },
    machine: () => null, reservedFor: () => undefined, clock, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
  });
  const replies: DhcpMessage[] = [];
  client.onMessage((d) => replies.push(decodeDhcp(d.data)));
  const ask = async (m: DhcpMessage): Promise<DhcpMessage | undefined> => {
    const before = replies.length;
    await client.send(encodeDhcp(m), { address: '255.255.255.255', port: 67 });
    for (let i = 0; i < 20 && replies.length === before; i++) await new Promise((r) => setImmediate(r));
    return replies[before];
  };
  return { net, dhcp, store, lines, events, ask, client };
}

describe('serveDhcp on a memory network', () => {
  it('serves a DORA and the lease is in the store before the ACK arrives', async () => {
    const s = await setup();
    const offer = await s.ask(clientRequest('DISCOVER', A, {}, { flags: BROADCAST_FLAG }));
    assert.equal(offer?.options.messageType, 'OFFER');
    assert.equal(s.store.getLease(offer!.yiaddr), undefined, 'offers are held in memory only');
    assert.equal(s.dhcp.leases.get(offer!.yiaddr)?.state, 'offered');
    const ack = await s.ask(clientRequest('REQUEST', A, { requestedIp: offer!.yiaddr, serverId: '10.0.0.1' }, { flags: BROADCAST_FLAG }));
    assert.equal(ack?.options.messageType, 'ACK');
    assert.equal(s.store.getLease(ack!.yiaddr)?.state, 'bound');
    assert.deepEqual(s.events.map((e) => e.kind), ['dhcp-offer', 'dhcp-ack']);
    await s.dhcp.close();
  });

  it('drops malformed packets with a warning naming xid and MAC, and keeps serving', async () => {
    const s = await setup();
    const good = encodeDhcp(clientRequest('DISCOVER', A, {}, { flags: BROADCAST_FLAG }));
    for (const bad of [Buffer.alloc(0), Buffer.from([1]), good.subarray(0, 100), Buffer.concat([good.subarray(0, 240), Buffer.from([53, 9, 1])])]) {
      await s.client.send(bad, { address: '255.255.255.255', port: 67 });
    }
    await new Promise((r) => setImmediate(r));
    const warnings = s.lines.filter((l) => l.includes('malformed'));
    assert.equal(warnings.length, 4, s.lines.join('\n'));
    assert.ok(warnings.some((l) => l.includes('xid="0x1234abcd"') && l.includes(`mac="${A}"`)), warnings.join('\n'));
    assert.equal(s.dhcp.stats().malformed, 4);
    assert.equal((await s.ask(clientRequest('DISCOVER', A, {}, { flags: BROADCAST_FLAG })))?.options.messageType, 'OFFER');
    await s.dhcp.close();
  });

  it('a restarted server continues from the stored leases', async () => {
    const store = new MemoryStore();
    const first = await setup(store);
    const offer = await first.ask(clientRequest('DISCOVER', A, {}, { flags: BROADCAST_FLAG }));
    await first.ask(clientRequest('REQUEST', A, { requestedIp: offer!.yiaddr, serverId: '10.0.0.1' }, { flags: BROADCAST_FLAG }));
    await first.dhcp.close();
    const second = await setup(store);
    assert.equal(second.dhcp.leases.get(offer!.yiaddr)?.mac, A);
    const other = await second.ask(clientRequest('DISCOVER', '52:54:00:00:00:0b', { requestedIp: offer!.yiaddr }, { flags: BROADCAST_FLAG }));
    assert.notEqual(other?.yiaddr, offer!.yiaddr);
    await second.dhcp.close();
  });

  it('if the store refuses the write, no reply is sent and memory is re-read from the store', async () => {
    const store = new MemoryStore();
    const s = await setup(store);
    const original = store.putLease.bind(store);
    store.putLease = () => { throw new Error('disk full'); };
    const offer = await s.ask(clientRequest('DISCOVER', A, {}, { flags: BROADCAST_FLAG }));
    assert.equal(offer?.options.messageType, 'OFFER', 'an offer needs no stored lease');
    assert.equal(await s.ask(clientRequest('REQUEST', A, { requestedIp: offer!.yiaddr, serverId: '10.0.0.1' }, { flags: BROADCAST_FLAG })), undefined, 'no ACK without a stored lease');
    assert.ok(s.lines.some((l) => l.includes('storing leases failed') && l.includes('disk full')));
    assert.equal(s.dhcp.leases.size, 0);
    store.putLease = original;
    const again = await s.ask(clientRequest('DISCOVER', A, {}, { flags: BROADCAST_FLAG }));
    assert.equal((await s.ask(clientRequest('REQUEST', A, { requestedIp: again!.yiaddr, serverId: '10.0.0.1' }, { flags: BROADCAST_FLAG })))?.options.messageType, 'ACK');
    await s.dhcp.close();
  });

  it('a burst in one turn commits in one transaction', async () => {
    const store = new MemoryStore();
    let transactions = 0;
    const txn = store.transaction.bind(store);
    store.transaction = (fn) => { transactions++; return txn(fn); };
    const s = await setup(store);
    await Promise.all(Array.from({ length: 5 }, (_, i) => s.client.send(encodeDhcp(clientRequest('DISCOVER', `52:54:00:00:04:0${i}`, {}, { flags: BROADCAST_FLAG })), { address: '255.255.255.255', port: 67 })));
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.equal(s.dhcp.leases.size, 5);
    assert.ok(transactions <= 2, `transactions: ${transactions}`);
    await s.dhcp.close();
  });

  it('overloaded: new DISCOVERs are shed past the batch limit, REQUESTs are still answered, and it says so', async () => {
    const s = await setup(new MemoryStore(), testConfig({ subnets: [makeSubnet({ cidr: '10.0.0.0/16', ranges: [['10.0.1.0', '10.0.9.255']], interface: 'eth1' })] }));
    const offer = await s.ask(clientRequest('DISCOVER', A, {}, { flags: BROADCAST_FLAG }));
    const replies: string[] = [];
    s.client.onMessage((d) => replies.push(decodeDhcp(d.data).options.messageType ?? '?'));
    const storm = Array.from({ length: 700 }, (_, i) => encodeDhcp(clientRequest('DISCOVER', `52:54:00:05:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, {}, { flags: BROADCAST_FLAG })));
    await Promise.all([...storm, encodeDhcp(clientRequest('REQUEST', A, { requestedIp: offer!.yiaddr, serverId: '10.0.0.1' }, { flags: BROADCAST_FLAG }))]
      .map((b) => s.client.send(b, { address: '255.255.255.255', port: 67 })));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.ok(s.dhcp.stats().shed >= 150, `shed ${s.dhcp.stats().shed}`);
    assert.ok(replies.includes('ACK'), 'the REQUEST was answered');
    assert.ok(s.lines.some((l) => l.includes('overloaded')));
    await s.dhcp.close();
  });
});
