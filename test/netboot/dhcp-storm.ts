// A boot storm for crash tests: COUNT clients (distinct MACs) each do DISCOVER → REQUEST and
// retry on silence, through one relay socket (giaddr = our address, so replies come back by
// unicast), until every client holds an ACK or the time is up. Prints one JSON line per ACK
// ({mac, ip, lease}) as it arrives, then a summary line.
//   dhcp-storm.ts RELAY_IP SERVER_IP COUNT SECONDS [MAC_PREFIX]
import { createSocket } from 'node:dgram';
import { decodeDhcp, encodeDhcp, type DhcpMessage } from '../../provisioner/protocol/dhcp.ts';
import { clientRequest } from '../../provisioner/dhcp/dhcp-fixtures.ts';

const [relay = '10.50.0.2', server = '10.50.0.1', countText = '500', secondsText = '20', prefix = '52:54:01'] = process.argv.slice(2);
const count = Number(countText);
const deadline = Date.now() + Number(secondsText) * 1000;
const macOf = (i: number): string => `${prefix}:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

interface Client { mac: string; xid: number; state: 'discover' | 'request' | 'bound'; offered?: string; sentAt: number }
const clients: Client[] = Array.from({ length: count }, (_, i) => ({ mac: macOf(i), xid: 0x10000000 + i, state: 'discover', sentAt: 0 }));
const byXid = new Map(clients.map((c) => [c.xid, c]));
const sock = createSocket({ type: 'udp4', reuseAddr: true });
let acks = 0;

function send(c: Client): void {
  const msg: DhcpMessage = c.state === 'discover'
    ? clientRequest('DISCOVER', c.mac, {}, { giaddr: relay, hops: 1, xid: c.xid })
    : clientRequest('REQUEST', c.mac, { requestedIp: c.offered!, serverId: server }, { giaddr: relay, hops: 1, xid: c.xid });
  c.sentAt = Date.now();
  sock.send(encodeDhcp(msg), 67, server);
}

sock.on('message', (data) => {
  let m: DhcpMessage;
  try { m = decodeDhcp(data); } catch { return; }
  const c = byXid.get(m.xid);
  if (!c || c.mac !== m.chaddr) return;
  const t = m.options.messageType;
  if (t === 'OFFER' && c.state === 'discover') { c.state = 'request'; c.offered = m.yiaddr; send(c); }
  else if (t === 'ACK' && c.state === 'request') {
    c.state = 'bound'; acks++;
    console.log(JSON.stringify({ mac: c.mac, ip: m.yiaddr, lease: m.options.leaseTime }));
  } else if (t === 'NAK') { c.state = 'discover'; delete c.offered; send(c); }
});

sock.bind(67, relay, () => {
  let next = 0;
  const tick = setInterval(() => {
    const now = Date.now();
    // Start new clients at a steady rate, and retry the silent ones (a crashed server).
    for (let k = 0; k < 50 && next < count; k++) send(clients[next++]!);
    for (const c of clients.slice(0, next)) if (c.state !== 'bound' && now - c.sentAt > 1500) { c.state = c.state === 'request' && now - c.sentAt < 4000 ? 'request' : 'discover'; send(c); }
    if (acks === count || now > deadline) {
      clearInterval(tick);
      console.log(JSON.stringify({ summary: true, acks, count }));
      sock.close();
    }
  }, 20);
});
