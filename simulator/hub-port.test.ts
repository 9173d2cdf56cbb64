// The hub port on a real multicast hub: in a user + network namespace this test creates (the
// host's loopback may not do multicast, and nothing may leave the machine), with QEMU's socket
// netdev bridging a tap into the same group for the interoperability check.
import assert from 'node:assert/strict';
import { NETNS_PRELUDE, runInNetns } from '../test/helpers/netns.ts';
import { requireTools } from '../test/helpers/tools.ts';

const GROUP = '239.255.61.1';
const PORT = 16101;

function parse(stdout: string): Record<string, any> {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `the probe printed its observations:\n${stdout}`);
  return JSON.parse(line);
}

describe('hub port (multicast, one datagram per frame)', function () {
  this.timeout(60_000);

  it('delivers each frame once to every other member and once back to the sender, and never throws on send', async () => {
    requireTools(['unshare', 'ip']);
    const r = await runInNetns(`${NETNS_PRELUDE}
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
"$NODE" --import tsx test/netboot/synthetic-hub-probe.ts ${GROUP} ${PORT}
`, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const o = parse(r.stdout);
    assert.equal(o.aGotOwn, 3, 'multicast loopback returns our own frames, once each');
    assert.equal(o.bGot, 3);
    assert.equal(o.bSecondReceiver, 3, 'every receiver sees every frame');
    assert.equal(o.bIdentical, true, 'a datagram is the frame, byte for byte');
    assert.equal(o.aStats.sent, 3);
    assert.equal(o.aStats.sendErrors, 0);
    assert.ok(o.aStats.received >= 3);
    assert.ok(o.receiveBufferBytes > 212_992, `a larger receive buffer was granted (${o.receiveBufferBytes})`);
    assert.equal(o.bStatsAfterClose.sendErrors, 1, 'a send after close is counted, not thrown');
    assert.equal(o.abortedSendErrors, 1, 'the abort signal closed the port');
  });

  it("speaks QEMU's socket netdev: the kernel behind a bridged tap answers an ARP request", async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64']);
    const r = await runInNetns(`${NETNS_PRELUDE}
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
ip tuntap add dev tap0 mode tap
ip addr add 10.61.0.1/24 dev tap0
ip link set tap0 up
qemu-system-x86_64 -machine none -nodefaults -display none \\
  -netdev tap,id=t0,ifname=tap0,script=no,downscript=no \\
  -netdev socket,id=m0,mcast=${GROUP}:${PORT},localaddr=127.0.0.1 \\
  -netdev hubport,id=p0,hubid=0,netdev=t0 -netdev hubport,id=p1,hubid=0,netdev=m0 2>/dev/null &
BRIDGE=$!
"$NODE" --import tsx test/netboot/synthetic-hub-probe.ts ${GROUP} ${PORT} 10.61.0.1
ip -o link show tap0 | grep -o "link/ether [0-9a-f:]*" | sed "s|link/ether |tapmac=|"
kill $BRIDGE
`, { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
    const o = parse(r.stdout);
    const tapMac = /tapmac=(\S+)/.exec(r.stdout)?.[1];
    assert.ok(o.arpReply, `an ARP reply came back through QEMU:\n${r.stdout}\n${r.stderr}`);
    assert.equal(o.arpReply.senderIp, '10.61.0.1');
    assert.equal(o.arpReply.tapMac, tapMac);
    assert.equal(o.arpReply.dst, '52:54:00:61:00:01');
    assert.equal(o.arpReply.targetMac, '52:54:00:61:00:01');
  });
});
