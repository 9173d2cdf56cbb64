// Exercises simulator/hub-port.ts inside a test namespace (the hub lives on its loopback) and
// prints one JSON line of observations for simulator/hub-port.test.ts to assert on.
//   synthetic-hub-probe.ts GROUP PORT [TAP_IP]
// With TAP_IP, a QEMU bridge joins tap0 (which carries TAP_IP) to the hub: an ARP request sent
// on the hub must come back as the kernel's ARP reply, each frame one datagram.
import { ARP_OP } from '../../provisioner/protocol/arp.ts';
import { BROADCAST_MAC } from '../../provisioner/protocol/ethernet.ts';
import { decodeFrame, encodeArpFrame, encodeUdpFrame } from '../../provisioner/protocol/frames.ts';
import { openHubPort } from '../../simulator/hub-port.ts';

const [group = '239.255.61.1', portText = '16101', tapIp] = process.argv.slice(2);
const port = Number(portText);
const A_MAC = '52:54:00:61:00:01';
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const a = await openHubPort({ group, port });
const b = await openHubPort({ group, port });
const seenA: Buffer[] = [];
const seenB: Buffer[] = [];
a.onFrame((f) => seenA.push(f));
b.onFrame((f) => seenB.push(f));
const twice: Buffer[] = [];
b.onFrame((f) => twice.push(f));

const frames = [0, 1, 2].map((i) => encodeUdpFrame({
  srcMac: A_MAC, dstMac: BROADCAST_MAC, srcIp: '10.61.0.50', dstIp: '255.255.255.255', srcPort: 1000 + i, dstPort: 2000, payload: Buffer.alloc(100 + i * 600, i),
}));
for (const f of frames) a.send(f);
await wait(300);

const fromA = (list: Buffer[]): Buffer[] => list.filter((f) => decodeFrame(f).eth.src === A_MAC);
const out: Record<string, unknown> = {
  aGotOwn: fromA(seenA).length,
  bGot: fromA(seenB).length,
  bSecondReceiver: fromA(twice).length,
  bIdentical: fromA(seenB).every((f, i) => f.equals(frames[i]!)),
  aStats: { ...a.stats },
  receiveBufferBytes: a.receiveBufferBytes,
};

if (tapIp) {
  const ask = encodeArpFrame({ srcMac: A_MAC, dstMac: BROADCAST_MAC, arp: { op: ARP_OP.REQUEST, senderMac: A_MAC, senderIp: tapIp.replace(/\.\d+$/, '.50'), targetMac: '00:00:00:00:00:00', targetIp: tapIp } });
  let reply: ReturnType<typeof decodeFrame> | undefined;
  for (let i = 0; i < 20 && !reply; i++) {
    a.send(ask);
    await wait(100);
    reply = seenA.map((f) => decodeFrame(f)).find((f) => f.arp?.op === ARP_OP.REPLY && f.arp.senderIp === tapIp);
  }
  out['arpReply'] = reply ? { dst: reply.eth.dst, senderIp: reply.arp!.senderIp, targetMac: reply.arp!.targetMac, tapMac: reply.arp!.senderMac } : null;
}

await b.close();
await b.close();
b.send(frames[0]!);
out['bStatsAfterClose'] = { ...b.stats };
const controller = new AbortController();
const c = await openHubPort({ group, port, signal: controller.signal });
controller.abort();
await wait(50);
c.send(frames[0]!);
out['abortedSendErrors'] = c.stats.sendErrors;
await a.close();
console.log(JSON.stringify(out));
