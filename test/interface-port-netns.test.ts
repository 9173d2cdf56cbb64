// InterfacePort against real kernels' behaviour, in namespaces this test creates: a server
// namespace with two veth links (srv1, srv2) to two client namespaces (cli1, cli2), no default
// route anywhere and no route for 255.255.255.255. The server is a node process running
// openInterfacePort on 0.0.0.0:67; the clients are python3 sockets.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { clientNetnsScript, NETNS_PRELUDE, REPO_ROOT, runInNetns, type NetnsResult } from './helpers/netns.ts';

const PYTHON = '/usr/bin/python3';
const CLI1_MAC = '02:00:00:00:01:02';
const BROADCAST = '255.255.255.255';

const TOPOLOGY =
  NETNS_PRELUDE +
  clientNetnsScript({ pidVar: 'C1', hostIf: 'srv1', peerIf: 'cli1', hostCidr: '10.1.0.1/24', peerCidr: '10.1.0.2/24', peerMac: CLI1_MAC }) +
  clientNetnsScript({ pidVar: 'C2', hostIf: 'srv2', peerIf: 'cli2', hostCidr: '10.2.0.1/24', peerCidr: '10.2.0.2/24' }) +
  'export C1 C2\n';

// Sends one datagram from a client: `client.py DEVICE ADDRESS PORT TEXT`. SO_BINDTODEVICE
// because a limited broadcast with no route needs an interface, as a real DHCP client's has.
const CLIENT_SEND = `
import socket, sys
dev, addr, port, text = sys.argv[1:5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
s.bind(('0.0.0.0', 68))
s.sendto(text.encode(), (addr, int(port)))
`;

// Prints "ready", then one JSON line per datagram received on PORT during MS milliseconds (or
// until COUNT arrived): its text, source and destination address (IP_PKTINFO, 8 on Linux).
const CLIENT_LISTEN = `
import json, select, socket, sys, time
port, ms = int(sys.argv[1]), int(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IP, 8, 1)
s.bind(('0.0.0.0', port))
print('ready', flush=True)
end = time.monotonic() + ms / 1000
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    if not select.select([s], [], [], left)[0]:
        continue
    data, anc, _, addr = s.recvmsg(65535, 256)
    to = next((socket.inet_ntoa(d[8:12]) for level, kind, d in anc if level == socket.IPPROTO_IP and kind == 8), None)
    print(json.dumps({'data': data.decode(), 'from': addr[0], 'to': to}), flush=True)
    count -= 1
    if count == 0:
        break
`;

// Shared by the node programs below (plain JavaScript: `node -e` code is not transpiled).
const DRIVER_PRELUDE = `
import { spawn } from 'node:child_process';
const { openInterfacePort } = await import(process.env.REPO_ROOT + '/provisioner/net/interface-port.ts');
const PYTHON = ${JSON.stringify(PYTHON)};
const report = (o) => process.stdout.write('RESULT ' + JSON.stringify(o) + '\\n');
function python(pid, code, args, onLine = () => {}) {
  return new Promise((resolve, reject) => {
    const c = spawn('nsenter', ['-t', pid, '-n', PYTHON, '-c', code, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let partial = '';
    c.stdout.setEncoding('utf8').on('data', (s) => {
      out += s;
      const lines = (partial + s).split('\\n');
      partial = lines.pop();
      for (const l of lines) onLine(l);
    });
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error('python exited ' + code))));
  });
}
const send = (pid, dev, addr, port, text) => python(pid, process.env.CLIENT_SEND, [dev, addr, String(port), text]);
// Resolves once the listener is bound, with the promise of what it will have received.
function listen(pid, port, ms) {
  let bound;
  const ready = new Promise((r) => (bound = r));
  const done = python(pid, process.env.CLIENT_LISTEN, [String(port), String(ms)], (l) => l === 'ready' && bound())
    .then((out) => out.split('\\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)));
  return Promise.race([ready, done]).then(() => ({ done }));
}
async function until(cond, ms) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
}
const text = (d) => ({ data: d.data.toString(), from: d.from, to: d.to, ifname: d.ifname });
`;

interface Received {
  data: string;
  from: string;
  to: string | null;
}

async function runScenario(body: string, driver: string): Promise<{ result: Record<string, unknown>; run: NetnsResult }> {
  const run = await runInNetns(TOPOLOGY + body, {
    timeoutMs: 15_000,
    env: { DRIVER: DRIVER_PRELUDE + driver, CLIENT_SEND, CLIENT_LISTEN },
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(run.code === 0 && line, `namespace script failed (code ${run.code}, killed ${run.killed})\n${run.stdout}\n${run.stderr}`);
  return { result: JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>, run };
}

const RUN_DRIVER = '"$NODE" --import tsx --input-type=module -e "$DRIVER"\n';

describe('InterfacePort in network namespaces', function () {
  this.timeout(20_000);

  before(async function () {
    this.timeout(120_000);
    await promisify(execFile)(process.execPath, ['scripts/build-native.mjs', '--quiet'], { cwd: REPO_ROOT });
  });

  it('reports the interface and the broadcast destination of each client', async () => {
    const { result } = await runScenario(
      RUN_DRIVER,
      `
      const port = await openInterfacePort({ address: '0.0.0.0', port: 67 }, { broadcast: true });
      const got = [];
      port.onMessage((d) => got.push(text(d)));
      await send(process.env.C1, 'cli1', '${BROADCAST}', 67, 'hello from 1');
      await send(process.env.C2, 'cli2', '${BROADCAST}', 67, 'hello from 2');
      await until(() => got.length >= 2, 3000);
      port.close();
      report({ local: port.local, got });
      `,
    );
    assert.deepEqual(result.local, { address: '0.0.0.0', port: 67 });
    const got = result.got as unknown[];
    assert.deepEqual(
      [...got].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        { data: 'hello from 1', from: { address: '10.1.0.2', port: 68 }, to: BROADCAST, ifname: 'srv1' },
        { data: 'hello from 2', from: { address: '10.2.0.2', port: 68 }, to: BROADCAST, ifname: 'srv2' },
      ],
    );
  });

  it('sends a limited broadcast out of the chosen interface only, with no route for it', async () => {
    const { result, run } = await runScenario(
      `ip -4 route show table all\n${RUN_DRIVER}`,
      `
      const port = await openInterfacePort({ address: '0.0.0.0', port: 67 }, { broadcast: true });
      const [l1, l2] = await Promise.all([listen(process.env.C1, 68, 1500), listen(process.env.C2, 68, 1500)]);
      let withoutIfname = 'sent';
      try { await port.send(Buffer.from('nowhere'), { address: '${BROADCAST}', port: 68 }); } catch (e) { withoutIfname = e.code; }
      await port.send(Buffer.from('reply 1'), { address: '${BROADCAST}', port: 68, ifname: 'srv1' });
      await port.send(Buffer.from('reply 2'), { address: '${BROADCAST}', port: 68, ifname: 'srv2' });
      const [cli1, cli2] = await Promise.all([l1.done, l2.done]);
      port.close();
      report({ withoutIfname, cli1, cli2 });
      `,
    );
    const routes = run.stdout.split('\n').filter((l) => !l.startsWith('RESULT '));
    assert.ok(!routes.some((r) => r.startsWith('default') || r.includes(BROADCAST)), routes.join('\n'));
    // The kernel itself has no route: a broadcast with no interface chosen cannot go anywhere.
    assert.equal(result.withoutIfname, 'ENETUNREACH');
    assert.deepEqual(result.cli1 as Received[], [{ data: 'reply 1', from: '10.1.0.1', to: BROADCAST }]);
    assert.deepEqual(result.cli2 as Received[], [{ data: 'reply 2', from: '10.2.0.1', to: BROADCAST }]);
  });

  it('unicasts to a hardware address the server never resolved (installs the neighbour entry)', async () => {
    // cli1 answers no ARP at all, so only a neighbour entry the server installs can deliver.
    // The control goes to another address (.51): a datagram queued on an unresolved entry is
    // sent as soon as SIOCSARP completes that entry, so reusing .50 would deliver both.
    const { result, run } = await runScenario(
      `in_netns "$C1" ip link set cli1 arp off
in_netns "$C1" ip addr add 10.1.0.50/24 dev cli1
in_netns "$C1" ip addr add 10.1.0.51/24 dev cli1
${RUN_DRIVER}ip neigh show dev srv1\n`,
      `
      const port = await openInterfacePort({ address: '0.0.0.0', port: 67 }, { broadcast: true });
      const l1 = await listen(process.env.C1, 68, 1500);
      await port.send(Buffer.from('without hwaddr'), { address: '10.1.0.51', port: 68, ifname: 'srv1' });
      await port.send(Buffer.from('with hwaddr'), { address: '10.1.0.50', port: 68, ifname: 'srv1', hwaddr: '${CLI1_MAC}' });
      const cli1 = await l1.done;
      port.close();
      report({ cli1 });
      `,
    );
    assert.deepEqual(result.cli1 as Received[], [{ data: 'with hwaddr', from: '10.1.0.1', to: '10.1.0.50' }]);
    const neigh = run.stdout.split('\n').filter((l) => l.startsWith('10.1.0.5'));
    assert.ok(neigh.some((l) => l.startsWith(`10.1.0.50 lladdr ${CLI1_MAC}`)), neigh.join('\n'));
    assert.ok(!neigh.some((l) => l.startsWith('10.1.0.51 lladdr')), neigh.join('\n'));
  });

  it('without CAP_NET_ADMIN/CAP_NET_BIND_SERVICE: a clear bind error, and broadcast instead of a hwaddr unicast', async () => {
    // A nested user namespace does not own the network namespace: its root has none of the
    // network capabilities there, like an ordinary user on a real host.
    const { result, run } = await runScenario(
      `listen_out=$(mktemp)
in_netns "$C1" ${PYTHON} -c "$CLIENT_LISTEN" 68 8000 1 >"$listen_out" &
listener=$!
for i in $(seq 1 250); do grep -q ready "$listen_out" && break; sleep 0.02; done
grep -q ready "$listen_out"
unshare -Ur "$NODE" --import tsx --input-type=module -e "$DRIVER"
wait "$listener"
sed 's/^/CLIENT /' "$listen_out"
ip neigh show dev srv1
`,
      `
      let lowPort;
      try { (await openInterfacePort({ address: '0.0.0.0', port: 67 }, { broadcast: true })).close(); lowPort = 'opened'; }
      catch (e) { lowPort = { code: e.code, message: e.message }; }
      const port = await openInterfacePort({ address: '0.0.0.0', port: 1067 }, { broadcast: true });
      await port.send(Buffer.from('fallback'), { address: '10.1.0.50', port: 68, ifname: 'srv1', hwaddr: '${CLI1_MAC}' });
      port.close();
      report({ lowPort });
      `,
    );
    const lowPort = result.lowPort as { code: string; message: string };
    assert.equal(lowPort.code, 'CONFIG_INVALID');
    assert.match(lowPort.message, /cannot bind UDP 0\.0\.0\.0:67: ports below 1024 need root or CAP_NET_BIND_SERVICE/);
    const client = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('CLIENT {'))
      .map((l) => JSON.parse(l.slice('CLIENT '.length)) as Received);
    assert.deepEqual(client, [{ data: 'fallback', from: '10.1.0.1', to: BROADCAST }]);
    assert.ok(!run.stdout.includes('10.1.0.50 lladdr'), run.stdout);
  });
});
