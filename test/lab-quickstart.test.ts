// labs/quickstart.yaml end to end, as a user runs it: `rackforge lab up` builds the lab in its
// own user + network namespace; both QEMU machines (TCG, Debian's iPXE ROM) PXE-boot from
// rackforge's provisioner inside it as far as pxelinux's per-MAC config; the capture holds
// each node's DHCP and TFTP exchange exactly once (checked with tshark); the live capture
// feeds `tshark -i -`; power control, crash reporting, add/remove-node and the console work;
// `lab down` leaves no process, socket or port behind.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, CLI_BIN, cleanEnv } from './helpers/cli-processes.ts';
import { lab, labStatus, netnsOf, portOpen, processesInNetns, processesMentioning, running, tshark, waitForLab, waitUntil } from './helpers/lab.ts';
import { requireTools } from './helpers/tools.ts';
import type { LabStatus } from '../simulator/lab-control.ts';

const MACS = ['52:54:00:10:00:01', '52:54:00:10:00:02'];
const perMacConfig = (mac: string) => `pxelinux.cfg/01-${mac.replaceAll(':', '-')}`;

function python(code: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', code, ...args], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

describe('lab: labs/quickstart.yaml with QEMU machines', function () {
  this.timeout(600_000);
  let dir: string;
  let state: string;
  let captures: string;
  let up: LabStatus;

  before(async () => {
    requireTools(['qemu-system-x86_64', 'unshare', 'setpriv', 'ip', 'tshark', 'python3']);
    dir = mkdtempSync(join(tmpdir(), 'rf-lab-'));
    state = join(dir, 'state');
    captures = join(dir, 'captures');
    const r = await lab(['up', 'labs/quickstart.yaml', `--state-dir=${state}`, `--captures=${captures}`, '--json'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, `lab up failed:\n${r.stdout}\n${r.stderr}`);
    up = JSON.parse(r.stdout) as LabStatus;
  });

  after(async () => {
    if (state && existsSync(join(state, 'owner.pid'))) await lab(['down', `--state-dir=${state}`], { timeoutMs: 120_000 });
    for (const p of processesMentioning(dir ?? '/nonexistent')) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lab up prints reachable localhost URLs: the API answers a Python xmlrpc.client with the lab\'s systems', async () => {
    assert.match(up.api.apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/cobbler_api$/);
    const out = await python('import sys, xmlrpc.client; s = xmlrpc.client.ServerProxy(sys.argv[1]); print(sorted(x["name"] for x in s.get_systems())); print(s.get_system("node1")["interfaces"]["eth0"]["mac_address"])', up.api.apiUrl);
    assert.equal(out, `['node1', 'node2']\n${MACS[0]}\n`);
    assert.deepEqual(up.nodes.map((n) => [n.name, n.power]), [['node1', 'on'], ['node2', 'on']]);
    // --accel auto: the probe says why, whichever way it went.
    assert.match(up.accelReason, up.accel === 'kvm' ? /^a probe machine network-booted iPXE under KVM/ : /^(\/dev\/kvm is missing|KVM does not work here: )/);
    for (const n of up.nodes) assert.ok(n.console && await portOpen(n.console.port), `console of ${n.name} reachable on localhost`);
    // The web UI, on the same localhost port: both machines, each with its MAC.
    assert.equal(up.api.uiUrl, up.api.apiUrl.replace(/cobbler_api$/, 'ui/'));
    const ui = await fetch(up.api.uiUrl);
    assert.equal(ui.status, 200);
    const page = await ui.text();
    for (const s of ['node1', 'node2', MACS[0]!, MACS[1]!]) assert.ok(page.includes(s), `web UI shows ${s}`);
  });

  it('lab up of a lab that is already up says so and starts nothing', async () => {
    const before = processesMentioning(state).length;
    const r = await lab(['up', 'labs/quickstart.yaml', `--state-dir=${state}`, `--captures=${captures}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /lab quickstart is already up \(owner pid \d+\)/);
    assert.equal(processesMentioning(state).length, before);
  });

  it('both machines PXE-boot from the provisioner inside the lab as far as their per-MAC pxelinux config', async () => {
    // The provisioner's own record of the boots, read through the lab's API from the host.
    const events = async (): Promise<Record<string, string[]>> => JSON.parse(await python(
      'import sys, json, xmlrpc.client; s = xmlrpc.client.ServerProxy(sys.argv[1]); print(json.dumps({n: [e["kind"] + " " + e["detail"] for e in s.get_system_boot_events(n)] for n in ("node1", "node2")}))',
      up.api.apiUrl)) as Record<string, string[]>;
    let seen: Record<string, string[]> = {};
    await waitUntil('both machines to fetch their per-MAC config', async () => {
      seen = await events();
      return MACS.every((mac, i) => (seen[`node${i + 1}`] ?? []).some((e) => e.startsWith(`tftp-file ${perMacConfig(mac)} `)));
    }, 240_000).catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(seen, null, 1)}`); });
    for (const name of ['node1', 'node2']) {
      const kinds = seen[name]!.join('\n');
      assert.match(kinds, /^dhcp-ack .*pxelinux\.0/m, `${name} got pxelinux.0 in its lease`);
      assert.match(kinds, /^tftp-file pxelinux\.0 /m);
      assert.match(kinds, /^tftp-file ldlinux\.c32 /m);
    }
    // lab status shows the boot progress, for people and scripts.
    const s = await labStatus(state);
    for (const n of s.nodes) assert.ok(n.boot && n.boot.at, `${n.name} has boot progress`);
    const text = await lab(['status', `--state-dir=${state}`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /NODE\s+POWER\s+RACK\s+MAC\s+CONSOLE\s+BOOT/);
    assert.match(text.stdout, /node1\s+on\s+dc1\/r1\s+52:54:00:10:00:01/);
  });

  it('the lab\'s IPv6 router answers each machine\'s router solicitation with "no IPv6" (tshark)', async () => {
    const file = join(captures, 'quickstart', 'provisioning.pcap');
    const rows = (await tshark(['-r', file, '-Y', 'icmpv6.type == 133 || icmpv6.type == 134', '-T', 'fields', '-E', 'separator=|',
      '-e', 'eth.src', '-e', 'eth.dst', '-e', 'icmpv6.type', '-e', 'icmpv6.checksum.status', '-e', 'icmpv6.nd.ra.router_lifetime', '-e', 'ipv6.hlim']))
      .trim().split('\n').map((l) => l.split('|'));
    for (const mac of MACS) {
      assert.ok(rows.some((r) => r[0] === mac && r[2] === '133'), `${mac} solicited a router`);
      const answers = rows.filter((r) => r[1] === mac && r[2] === '134');
      assert.ok(answers.length > 0, `${mac} got an advertisement: ${JSON.stringify(rows)}`);
      for (const a of answers) assert.deepEqual([a[0], a[3], a[4], a[5]], ['02:72:66:00:00:00', '1', '0', '255']);
    }
  });

  it('the pcap holds each machine\'s DHCP and TFTP exchange, every frame once (tshark)', async () => {
    const file = join(captures, 'quickstart', 'provisioning.pcap');
    assert.ok(existsSync(file));
    const rows = (await tshark(['-r', file, '-o', 'frame.generate_md5_hash:TRUE', '-T', 'fields', '-E', 'separator=|',
      '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.md5_hash', '-e', 'eth.src', '-e', 'dhcp.option.dhcp', '-e', 'tftp.source_file', '-e', 'tftp.opcode']))
      .trim().split('\n').map((l) => l.split('|'));
    assert.ok(rows.length > 50, `a PXE boot is more than ${rows.length} frames`);
    for (const mac of MACS) {
      const dhcp = new Set(rows.filter((r) => r[3] === mac && r[4]).map((r) => r[4]));
      assert.ok(dhcp.has('1') && dhcp.has('3'), `${mac} sent DISCOVER and REQUEST (saw ${[...dhcp]})`);
      const rrqs = rows.filter((r) => r[3] === mac && r[6] === '1').map((r) => r[5]);
      assert.ok(rrqs.includes('pxelinux.0'), `${mac} asked for pxelinux.0: ${rrqs}`);
      assert.ok(rrqs.includes(perMacConfig(mac)), `${mac} asked for its per-MAC config: ${rrqs}`);
    }
    const offers = rows.filter((r) => r[4] === '2' || r[4] === '5');
    assert.ok(offers.length >= 4, 'the provisioner answered both machines');
    // A duplicate is the same bytes again within a millisecond: what a netdev filter-dump records.
    const lastSeen = new Map<string, number>();
    for (const r of rows) {
      const t = Number(r[1]);
      const prev = lastSeen.get(r[2]!);
      assert.ok(prev === undefined || t - prev > 0.001, `frame ${r[0]} repeats an earlier frame ${((t - (prev ?? 0)) * 1e6).toFixed(0)} µs later`);
      lastSeen.set(r[2]!, t);
    }
    // Real timestamps: the capture started around the lab's start, not at the epoch.
    assert.ok(Math.abs(Number(rows[0]![1]) - Date.now() / 1000) < 3600);
  });

  it('the live capture streams pcap that `tshark -i -` reads as it happens', async () => {
    // Power-cycling node2 makes it DHCP again while we listen.
    const cli = spawn(process.execPath, [CLI_BIN, 'lab', 'capture', 'provisioning', '--live', `--state-dir=${state}`], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const ts = spawn('tshark', ['-l', '-i', '-', '-Y', 'dhcp', '-T', 'fields', '-e', 'eth.src', '-e', 'dhcp.option.dhcp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    cli.stdout.pipe(ts.stdin);
    ts.stdin.on('error', () => undefined);
    let out = '';
    const sawDiscover = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 120_000);
      ts.stdout.on('data', (d: Buffer) => { out += d.toString(); if (/52:54:00:10:00:02\t1\n/.test(out)) { clearTimeout(t); resolve(true); } });
    });
    const cycled = await lab(['power', 'node2', 'cycle', `--state-dir=${state}`]);
    assert.equal(cycled.code, 0, cycled.stderr);
    const seen = await sawDiscover;
    cli.kill();
    ts.kill();
    assert.ok(seen, `tshark read the live stream: ${out}`);
    assert.match(out, /52:54:00:10:00:02\t1/, 'node2 DISCOVER after the power cycle, seen live');
  });

  it('`lab capture --live | capture follow -` shows a power-cycled machine\'s boot as it happens', async () => {
    const cli = spawn(process.execPath, [CLI_BIN, 'lab', 'capture', 'provisioning', '--live', `--state-dir=${state}`], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const follow = spawn(process.execPath, [CLI_BIN, 'capture', 'follow', '-', '--mac', '52-54-00-10-00-01', '--json'], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    cli.stdout.pipe(follow.stdin);
    follow.stdin.on('error', () => undefined);
    let out = '';
    let err = '';
    follow.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const sawBoot = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 150_000);
      follow.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const entries = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { mac: string; kind: string; dhcp?: { type: string }; tftp?: { filename: string; result: string } });
        if (entries.some((e) => e.dhcp?.type === 'ACK') && entries.some((e) => e.tftp?.filename === 'pxelinux.0' && e.tftp.result === 'complete')) { clearTimeout(t); resolve(true); }
      });
    });
    const exited = new Promise<number | null>((resolve) => follow.on('exit', (code) => resolve(code)));
    const cycled = await lab(['power', 'node1', 'cycle', `--state-dir=${state}`]);
    assert.equal(cycled.code, 0, cycled.stderr);
    const seen = await sawBoot;
    follow.kill('SIGINT');
    cli.kill();
    assert.ok(seen, `follow printed node1's DHCP ACK and pxelinux.0 transfer live: ${out.slice(-2000)} ${err}`);
    assert.equal(await exited, 0, err);
    for (const l of out.split('\n').filter((x) => x.startsWith('{'))) assert.equal((JSON.parse(l) as { mac: string }).mac, '52:54:00:10:00:01');
  });

  it('power off/on/reset through QMP; a machine that dies is reported as crashed', async () => {
    const off = await lab(['power', 'node1', 'off', `--state-dir=${state}`]);
    assert.equal(off.stdout.trim(), 'node1: off', off.stderr);
    const reset = await lab(['power', 'node1', 'reset', `--state-dir=${state}`]);
    assert.equal(reset.code, 1);
    assert.match(reset.stderr, /node1 is off: reset needs a running machine/);
    assert.equal((await lab(['power', 'node1', 'on', `--state-dir=${state}`])).stdout.trim(), 'node1: on');
    assert.equal((await lab(['power', 'node1', 'reset', `--state-dir=${state}`])).stdout.trim(), 'node1: on');
    const pid = (await labStatus(state)).nodes.find((n) => n.name === 'node1')!.pid!;
    process.kill(pid, 'SIGKILL');
    const s = await waitForLab(state, (st) => st.nodes.find((n) => n.name === 'node1')!.power === 'crashed', 20_000);
    assert.equal(s.nodes.find((n) => n.name === 'node1')!.lastExit!.reason, 'crash');
    assert.match((await lab(['status', `--state-dir=${state}`])).stdout, /node1\s+crashed \(SIGKILL\)/);
    assert.equal((await lab(['power', 'node1', 'on', `--state-dir=${state}`])).stdout.trim(), 'node1: on');
    const bad = await lab(['power', 'node9', 'on', `--state-dir=${state}`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no machine 'node9' \(have: node1, node2\)/);
  });

  it('add-node and remove-node while the lab runs leave the other machines alone; a node may sit on the network with a profile', async () => {
    const pids = (await labStatus(state)).nodes.map((n) => n.pid);
    const add = await lab(['add-node', `--state-dir=${state}`, '--name', 'node3', '--network', 'provisioning', '--mac', '52:54:00:10:00:03', '--memory', '256M', '--profile', 'hypervisor', '--rack', 'r2']);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added node3 \(52:54:00:10:00:03\): on, console 127\.0\.0\.1:\d+/);
    const dup = await lab(['add-node', `--state-dir=${state}`, '--name', 'node4', '--network', 'provisioning', '--mac', '52:54:00:10:00:01']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /52:54:00:10:00:01/);
    let s = await labStatus(state);
    assert.deepEqual(s.nodes.map((n) => n.name), ['node1', 'node2', 'node3']);
    assert.deepEqual(s.nodes.slice(0, 2).map((n) => n.pid), pids);
    const node3pid = s.nodes[2]!.pid!;
    const rm = await lab(['remove-node', 'node3', `--state-dir=${state}`]);
    assert.equal(rm.code, 0, rm.stderr);
    s = await labStatus(state);
    assert.deepEqual(s.nodes.map((n) => n.name), ['node1', 'node2']);
    assert.deepEqual(s.nodes.map((n) => n.pid), pids);
    await waitUntil('node3 QEMU to end', () => !running(node3pid), 10_000);
  });

  it('the serial console is reachable on its localhost port and logged in the state folder', async () => {
    const s = await labStatus(state);
    const n = s.nodes.find((x) => x.name === 'node2')!;
    const sock = connect(n.console!.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { sock.once('connect', () => resolve()); sock.once('error', reject); });
    sock.write('\r\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!sock.destroyed, 'the console connection stays open');
    sock.destroy();
    assert.ok(existsSync(n.serialLog));
    assert.ok(existsSync(n.qemuLog));
    // `lab console` from a script: stdin is a pipe, its end ends the session.
    const cli = spawn(process.execPath, [CLI_BIN, 'lab', 'console', 'node2', `--state-dir=${state}`], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    cli.stdin.end('\r\n');
    const code = await new Promise<number | null>((resolve) => cli.on('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    const unknown = await lab(['console', 'node9', `--state-dir=${state}`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no machine 'node9'/);
  });

  it('lab down leaves no QEMU process, namespace, socket or port behind', async () => {
    const s = await labStatus(state);
    const ports = [Number(new URL(s.api.url).port), ...s.nodes.map((n) => n.console!.port)];
    const ns = netnsOf(s.runnerPid);
    const r = await lab(['down', `--state-dir=${state}`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(processesMentioning(state), []);
    assert.ok(!running(s.runnerPid), 'the runner is gone');
    assert.deepEqual(processesInNetns(ns), [], 'nothing is left in the lab namespace');
    for (const p of ports) assert.equal(await portOpen(p), false, `port ${p} closed`);
    for (const f of ['control.sock', 'api.sock', 'owner.pid']) assert.ok(!existsSync(join(state, f)), `${f} removed`);
    const again = await lab(['status', `--state-dir=${state}`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not up/);
    writeFileSync(join(dir, 'done'), '');
  });
});
