// A boot storm on two cores: a lab of 200 synthetic PXE machines (no QEMU) boots from the
// lab's provisioner through DHCP, TFTP and HTTP, and the capture holds every exchange. The
// same lab checks the lifecycle when the lab's owner is killed with SIGKILL: nothing stays.
// Bad lab files are refused before anything starts, with the line at fault.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { lab, labStatus, netnsOf, portOpen, processesInNetns, processesMentioning, running, tshark, waitForLab, waitUntil } from './helpers/lab.ts';
import { requireTools } from './helpers/tools.ts';

const COUNT = 200;

function labFile(dir: string, name: string, count: number): string {
  mkdirSync(join(dir, 'images'), { recursive: true });
  writeFileSync(join(dir, 'images', 'vmlinuz'), randomBytes(48 * 1024));
  writeFileSync(join(dir, 'images', 'initrd.img'), randomBytes(96 * 1024));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `lab: ${name}
networks:
  - name: prov
    group: 239.255.77.1
    port: 17001
    subnet: 10.77.0.0/22
provisioner:
  network: prov
  address: 10.77.0.1
  dhcp_range: 10.77.1.0-10.77.3.250
  inventory:
    distros:
      - { name: storm-distro, kernel: images/vmlinuz, initrd: images/initrd.img, arch: x86_64, breed: debian }
    profiles:
      - { name: storm, distro: storm-distro }
synthetic:
  - { prefix: syn, network: prov, count: ${count}, mac_base: "52:54:01:00:00:01", firmware: bios, profile: storm }
`);
  return file;
}

describe('lab: synthetic PXE machines', function () {
  this.timeout(600_000);
  let dir: string;

  before(() => {
    requireTools(['qemu-system-x86_64', 'unshare', 'setpriv', 'ip', 'tshark']);
    dir = mkdtempSync(join(tmpdir(), 'rf-storm-'));
  });
  after(async () => {
    for (const s of ['storm', 'killed']) if (existsSync(join(dir, s, 'owner.pid'))) await lab(['down', `--state-dir=${join(dir, s)}`]);
    for (const p of processesMentioning(dir)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${COUNT} synthetic machines complete DHCP → TFTP → HTTP, and the capture holds every exchange`, async () => {
    const state = join(dir, 'storm');
    const captures = join(dir, 'captures');
    const r = await lab(['up', labFile(dir, 'storm', COUNT), `--state-dir=${state}`, `--captures=${captures}`, '--accel=tcg']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`synthetic machines: ${COUNT} booting`));
    assert.match(r.stdout, /machines under tcg: asked for with --accel tcg/);
    const s = await waitForLab(state, (st) => (st.synthetic.stages['done'] ?? 0) + (st.synthetic.stages['failed'] ?? 0) === COUNT, 300_000);
    assert.deepEqual(s.synthetic.failed, [], 'no machine failed');
    assert.equal(s.synthetic.stages['done'], COUNT);
    const detail = s.synthetic.detail as Array<{ name: string; mac: string; ip?: string }>;
    assert.equal(new Set(detail.map((d) => d.ip)).size, COUNT, 'every machine got its own address');

    const down = await lab(['down', `--state-dir=${state}`]);
    assert.equal(down.code, 0, down.stderr);
    const file = join(captures, 'storm', 'prov.pcap');
    const fields = (await tshark(['-r', file, '-Y', 'dhcp.option.dhcp == 5 || tftp.opcode == 1 || http.request', '-T', 'fields', '-E', 'separator=|',
      '-e', 'eth.src', '-e', 'dhcp.hw.mac_addr', '-e', 'dhcp.option.dhcp', '-e', 'tftp.source_file', '-e', 'http.request.uri'])).trim().split('\n').map((l) => l.split('|'));
    const acked = new Set(fields.filter((f) => f[2] === '5').map((f) => f[1]));
    assert.equal(acked.size, COUNT, 'a DHCP ACK to every machine is in the capture');
    const configs = new Set(fields.filter((f) => f[3]?.startsWith('pxelinux.cfg/01-')).map((f) => f[0]));
    assert.equal(configs.size, COUNT, 'every machine asked for its per-MAC config over TFTP');
    const kernels = fields.filter((f) => f[3]?.endsWith('vmlinuz')).length;
    assert.ok(kernels >= COUNT, `every machine fetched its kernel over TFTP (${kernels})`);
    const autoinstall = new Set(fields.filter((f) => f[4]).map((f) => f[0]));
    assert.equal(autoinstall.size, COUNT, 'every machine fetched its autoinstall file over HTTP');
  });

  it('kill -9 of the lab\'s owner leaves no process, namespace, socket or port behind', async () => {
    const state = join(dir, 'killed');
    const r = await lab(['up', labFile(dir, 'killed', 5), `--state-dir=${state}`, `--captures=${join(dir, 'captures')}`, '--accel=tcg', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const up = JSON.parse(r.stdout) as { ownerPid: number; runnerPid: number; api: { url: string } };
    const apiPort = Number(new URL(up.api.url).port);
    assert.ok(await portOpen(apiPort));
    assert.ok(processesMentioning(state).length >= 3, 'owner, runner and hub bridge run');
    const ns = netnsOf(up.runnerPid);
    assert.notEqual(ns, netnsOf(process.pid), 'the lab has its own network namespace');
    process.kill(up.ownerPid, 'SIGKILL');
    await waitUntil('every lab process to end', () => processesMentioning(state).length === 0, 30_000);
    assert.ok(!running(up.runnerPid), 'the runner is gone');
    await waitUntil('the lab namespace to empty', () => processesInNetns(ns).length === 0, 10_000);
    assert.equal(await portOpen(apiPort), false);
    // The state folder says the lab is down, and a new `lab up` works.
    const st = await lab(['status', `--state-dir=${state}`]);
    assert.equal(st.code, 1);
    assert.match(st.stderr, /not up/);
    const again = await lab(['up', join(dir, 'killed.yaml'), `--state-dir=${state}`, `--captures=${join(dir, 'captures')}`, '--accel=tcg']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await labStatus(state)).synthetic.nodes, 5);
    assert.equal((await lab(['down', `--state-dir=${state}`])).code, 0);
    assert.deepEqual(processesMentioning(state), []);
  });

  it('invalid lab files are refused with the file, line and field, before anything starts', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['unknown network', `lab: bad\nnetworks:\n  - { name: prov, group: 239.255.78.1, port: 17002, subnet: 10.78.0.0/24 }\nprovisioner: { network: prov, address: 10.78.0.1, dhcp_range: 10.78.0.100-10.78.0.200 }\nnodes:\n  - name: n1\n    nics: [{ network: nowhere, mac: "52:54:00:78:00:01" }]\n`, /bad\.yaml:7:\d+: .*nowhere/],
      ['duplicate MAC', `lab: bad\nnetworks:\n  - { name: prov, group: 239.255.78.1, port: 17002, subnet: 10.78.0.0/24 }\nprovisioner: { network: prov, address: 10.78.0.1, dhcp_range: 10.78.0.100-10.78.0.200 }\nnodes:\n  - name: n1\n    nics: [{ network: prov, mac: "52:54:00:78:00:01" }]\n  - name: n2\n    nics: [{ network: prov, mac: "52:54:00:78:00:01" }]\n`, /bad\.yaml:9:\d+: .*52:54:00:78:00:01.*(n1|line 7)/],
      ['bad size', `lab: bad\nnetworks:\n  - { name: prov, group: 239.255.78.1, port: 17002, subnet: 10.78.0.0/24 }\nprovisioner: { network: prov, address: 10.78.0.1, dhcp_range: 10.78.0.100-10.78.0.200 }\nnodes:\n  - name: n1\n    memory: 4Q\n    nics: [{ network: prov, mac: "52:54:00:78:00:01" }]\n`, /bad\.yaml:7:\d+: .*memory.*4Q/],
    ];
    for (const [what, text, expected] of cases) {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, text);
      const state = join(dir, 'bad-state');
      const r = await lab(['up', file, `--state-dir=${state}`]);
      assert.equal(r.code, 1, what);
      assert.match(r.stderr, expected, `${what}: ${r.stderr}`);
      assert.ok(!existsSync(join(state, 'owner.pid')), `${what}: nothing started`);
    }
  });
});
