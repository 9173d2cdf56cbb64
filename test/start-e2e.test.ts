// The main job end to end, as `npm start -- --detach` runs it: the quickstart lab's two QEMU
// machines PXE-boot from the lab's provisioner, install the hypervisor node image to their
// disks, boot from them and register with the controller. Then: a reinstall of one machine
// (netboot on again, power cycle) installs it again; a corrupted image makes the other one's
// install fail with a clear event and leaves its disk alone; `lab down` leaves nothing.
//
// The lab file is labs/quickstart.yaml with its distro pointed at a copy of build/node/, so
// the test can corrupt the image without touching the real build.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, fstatSync, mkdirSync, mkdtempSync, readFileSync, readSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN, REPO_ROOT, cleanEnv } from './helpers/cli-processes.ts';
import { lab, labStatus, processesMentioning, tshark, waitUntil } from './helpers/lab.ts';
import { requireTools } from './helpers/tools.ts';

const BUILD = join(REPO_ROOT, 'build', 'node');
const MACS = { node1: '52:54:00:10:00:01', node2: '52:54:00:10:00:02' } as const;

function rackforge(args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { cwd: REPO_ROOT, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

interface Stage { stage: string; at: string; detail: string }

/** Bytes of a (sparse, 2 GiB) disk image; a negative offset counts from the end. */
function readRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const at = offset < 0 ? size + offset : offset;
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, at);
    return b;
  } finally { closeSync(fd); }
}

describe('npm start: two machines installed, booted from disk and registered', function () {
  this.timeout(900_000);
  let dir: string;
  let state: string;
  let captures: string;
  let api: string;
  let password: string;
  const cli = (args: string[]) => rackforge(['--server', api, '--password', password, ...args]);
  const status = async (name: string): Promise<Stage[]> => {
    const r = await cli(['system', 'status', name, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Stage[];
  };

  before(async () => {
    requireTools(['qemu-system-x86_64', 'unshare', 'setpriv', 'ip', 'tshark']);
    assert.ok(existsSync(join(BUILD, 'node.img')), 'build/node is made by scripts/setup.mjs (npm test runs it)');
    dir = mkdtempSync(join(tmpdir(), 'rf-start-'));
    state = join(dir, 'state');
    captures = join(dir, 'captures');
    mkdirSync(join(dir, 'node'));
    for (const f of ['vmlinuz', 'initrd.img', 'node.img', 'node.img.sha256']) copyFileSync(join(BUILD, f), join(dir, 'node', f));
    const quickstart = readFileSync(join(REPO_ROOT, 'labs', 'quickstart.yaml'), 'utf8');
    assert.match(quickstart, /\.\.\/build\/node\//);
    writeFileSync(join(dir, 'quickstart.yaml'), quickstart.replaceAll('../build/node/', `${join(dir, 'node')}/`));
  });

  after(async () => {
    if (state && existsSync(join(state, 'owner.pid'))) await lab(['down', `--state-dir=${state}`]);
    for (const p of processesMentioning(dir ?? '/nonexistent')) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rackforge start --detach returns once both machines are registered, printing each stage', async () => {
    const r = await rackforge(['start', '--detach', '--lab', join(dir, 'quickstart.yaml'), `--state-dir=${state}`, `--captures=${captures}`, '--timeout', '600'], 700_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${existsSync(join(state, 'runner.log')) ? readFileSync(join(state, 'runner.log'), 'utf8').slice(-4000) : ''}`);
    for (const name of ['node1', 'node2']) {
      for (const stage of ['dhcp', 'pxe-loaded', 'installer-started', 'image-written', 'nopxe', 'rebooted', 'registered']) {
        assert.match(r.stdout, new RegExp(`^\\s*\\d+ s  ${name}\\s+${stage} `, 'm'), `${name} ${stage} printed`);
      }
    }
    assert.match(r.stdout, /^registered: {3}node1 registered, 1 CPU, \d+ MiB, dc1\/r1, 52:54:00:10:00:01$/m);
    assert.match(r.stdout, /^capture: {6}.*quickstart\/provisioning\.pcap$/m);
    api = /^Cobbler API: {2}(\S+)/m.exec(r.stdout)![1]!;
    password = readFileSync(join(state, 'admin-password'), 'utf8').trim();
  });

  it('node list shows both with the capacity they reported; netboot is off for both', async () => {
    const r = await cli(['node', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const nodes = JSON.parse(r.stdout) as Array<{ name: string; mac: string; state: string; cpus: number; memory_mb: number; disks: Array<{ name: string; size_bytes: number }>; rack: string; datacentre: string }>;
    assert.deepEqual(nodes.map((n) => [n.name, n.mac, n.state, n.cpus, n.rack, n.datacentre]), [
      ['node1', MACS.node1, 'registered', 1, 'r1', 'dc1'],
      ['node2', MACS.node2, 'registered', 1, 'r1', 'dc1'],
    ]);
    for (const n of nodes) {
      assert.ok(n.memory_mb > 300 && n.memory_mb <= 512, `${n.name} memory ${n.memory_mb} MiB of a 512 MiB machine`);
      assert.deepEqual(n.disks, [{ name: 'vda', size_bytes: 2 * 1024 ** 3 }]);
    }
    for (const name of ['node1', 'node2']) {
      const rep = await cli(['system', 'report', '--name', name]);
      assert.match(rep.stdout, /^Netboot Enabled\s+: False$/m);
    }
  });

  it('they booted from their own disks: the serial log says so, the capture has no second installer load', async () => {
    const s = await labStatus(state);
    for (const n of s.nodes) {
      const serial = readFileSync(n.serialLog, 'latin1');
      assert.match(serial, /rackforge-installer:/, `${n.name} ran the installer`);
      assert.match(serial, /rackforge-node: booted from disk/, `${n.name} booted from its disk`);
    }
    const rows = (await tshark(['-r', join(captures, 'quickstart', 'provisioning.pcap'), '-Y', 'tftp.opcode == 1', '-T', 'fields', '-E', 'separator=|', '-e', 'eth.src', '-e', 'tftp.source_file', '-e', 'udp.srcport']))
      .trim().split('\n').map((l) => l.split('|'));
    for (const mac of Object.values(MACS)) {
      // A re-sent read request comes from the same client port; a second load from a new one.
      const initrdLoads = new Set(rows.filter((r) => r[0] === mac && r[1]!.endsWith('initrd.img')).map((r) => r[2]));
      assert.equal(initrdLoads.size, 1, `${mac} loaded the installer once: ${JSON.stringify(rows.filter((r) => r[0] === mac))}`);
    }
  });

  it('capture explain reads the real install from the lab capture: both installed and registered, in order, agreeing with tshark', async () => {
    const pcap = join(captures, 'quickstart', 'provisioning.pcap');
    const explained = await rackforge(['capture', 'explain', pcap, '--json']);
    assert.equal(explained.code, 0, explained.stderr);
    const diagnoses = (JSON.parse(explained.stdout) as { machines: Array<{ mac: string; verdict: string; findings: Array<{ code: string; severity: string; summary: string }> }> }).machines;
    const tftpRrqs = (await tshark(['-r', pcap, '-Y', 'tftp.opcode == 1', '-T', 'fields', '-E', 'separator=|', '-e', 'eth.src', '-e', 'tftp.source_file', '-e', 'frame.number']))
      .trim().split('\n').map((l) => l.split('|'));
    for (const mac of Object.values(MACS)) {
      const d = diagnoses.find((x) => x.mac === mac);
      assert.ok(d, `${mac} is in the analysis`);
      assert.equal(d.verdict, 'registered', JSON.stringify(d));
      assert.deepEqual(d.findings.filter((f) => f.severity === 'error'), [], `${mac} has no error finding`);
      const t = JSON.parse((await rackforge(['capture', 'timeline', pcap, '--mac', mac, '--json'])).stdout) as {
        machines: Array<{ timeline: Array<{ kind: string; tftp?: { role: string; filename: string; requests: number; frames: { requests: number[] } }; http?: { role: string } }> }>;
      };
      const timeline = t.machines[0]!.timeline;
      const roles = timeline.map((e) => e.tftp?.role ?? e.http?.role ?? e.kind);
      const first = (role: string): number => roles.indexOf(role);
      for (const role of ['kernel', 'initrd', 'autoinstall', 'install-event', 'nopxe', 'registration']) assert.ok(first(role) >= 0, `${mac}: no ${role} in ${roles.join(',')}`);
      assert.ok(first('dhcp') < first('kernel') && first('kernel') < first('autoinstall') && first('autoinstall') < first('nopxe') && first('nopxe') < first('registration'), roles.join(','));
      // The same TFTP read requests, in the same order, as Wireshark sees them. Wireshark lists
      // each datagram; the timeline has one entry per transfer and counts the client's re-sent
      // requests in it (pxelinux re-sends an unanswered RRQ after ~110 ms, which a loaded
      // machine under TCG can cause), so every RRQ frame is accounted for exactly once.
      const transfers = timeline.filter((e) => e.tftp).map((e) => e.tftp!);
      const rrqs = tftpRrqs.filter((r) => r[0] === mac);
      assert.deepEqual(transfers.flatMap((x) => Array<string>(x.requests).fill(x.filename)), rrqs.map((r) => r[1]));
      assert.deepEqual(transfers.flatMap((x) => x.frames.requests), rrqs.map((r) => Number(r[2])), 'the frames of those requests');
    }
  });

  it('the token node1 registered with cannot register again (replay), nor can a made-up one', async () => {
    // The installer left the install's token in the config area at the end of node1's disk.
    const area = readRange(join(state, 'nodes', 'node1', 'disk0.img'), -1024 * 1024, 1024 * 1024).toString('latin1');
    const token = /RF_TOKEN='([0-9a-f]{32})'/.exec(area)?.[1];
    assert.ok(token, 'the config area holds the install token');
    const register = (t: string) => fetch(api.replace('/cobbler_api', '/api/v1/hypervisors'), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ system: 'node1', hostname: 'node1', macs: [MACS.node1], token: t, cpus: 64, memory_mb: 1024, disks: [] }),
    });
    const replay = await register(token);
    assert.equal(replay.status, 403);
    assert.equal(((await replay.json()) as { error: { code: string } }).error.code, 'CONTROLLER_REPLAYED_TOKEN');
    assert.equal((await register('0'.repeat(32))).status, 403);
    const nodes = JSON.parse((await cli(['node', 'list', '--json'])).stdout) as Array<{ name: string; cpus: number }>;
    assert.equal(nodes.find((n) => n.name === 'node1')!.cpus, 1, 'the record is unchanged');
  });

  it('reinstall: netboot on again and a power cycle install node1 again', async () => {
    const cycled = new Date().toISOString();
    assert.equal((await cli(['system', 'edit', '--name', 'node1', '--netboot-enabled', 'true'])).code, 0);
    assert.equal((await lab(['power', 'node1', 'cycle', `--state-dir=${state}`])).code, 0);
    let stages: Stage[] = [];
    await waitUntil('node1 to register again', async () => {
      stages = await status('node1');
      return stages[0]!.at >= cycled && stages.at(-1)?.stage === 'registered';
    }, 300_000).catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(stages)}`); });
    assert.deepEqual(stages.map((s) => s.stage), ['dhcp', 'pxe-loaded', 'installer-started', 'image-written', 'nopxe', 'rebooted', 'registered']);
    const rep = await cli(['system', 'report', '--name', 'node1']);
    assert.match(rep.stdout, /^Netboot Enabled\s+: False$/m);
  });

  it('a corrupted image fails node2\'s install with a checksum-mismatch event; its disk is not written', async () => {
    const img = join(dir, 'node', 'node.img');
    const fd = openSync(img, 'r+');
    writeSync(fd, Buffer.from([0x42]), 0, 1, 4096);
    closeSync(fd);
    const disk = join(state, 'nodes', 'node2', 'disk0.img');
    const diskBefore = readRange(disk, 0, 8192);
    assert.equal((await cli(['system', 'edit', '--name', 'node2', '--netboot-enabled', 'true'])).code, 0);
    assert.equal((await lab(['power', 'node2', 'cycle', `--state-dir=${state}`])).code, 0);
    let stages: Stage[] = [];
    await waitUntil('node2 install to fail', async () => {
      stages = await status('node2');
      return stages.at(-1)?.stage === 'failed';
    }, 300_000).catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(stages)}`); });
    assert.match(stages.at(-1)!.detail, /^checksum-mismatch: expected [0-9a-f]{64} got [0-9a-f]{64}$/);
    assert.ok(!stages.some((s) => s.stage === 'image-written'));
    assert.deepEqual(readRange(disk, 0, 8192), diskBefore, 'the disk was not written');
    const text = await cli(['system', 'status', 'node2']);
    assert.match(text.stdout, /failed\s+checksum-mismatch/);
  });

  it('a node that stops heartbeating is marked down', async () => {
    assert.equal((await lab(['power', 'node1', 'off', `--state-dir=${state}`])).code, 0);
    await waitUntil('node1 to be down', async () => {
      const nodes = JSON.parse((await cli(['node', 'list', '--json'])).stdout) as Array<{ name: string; state: string }>;
      return nodes.find((n) => n.name === 'node1')?.state === 'down';
    }, 60_000);
  });

  it('lab down leaves nothing running', async () => {
    const r = await lab(['down', `--state-dir=${state}`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(processesMentioning(state), []);
  });
});
