// `rackforge lab up|down|status|console|power|capture|add-node|remove-node`: the people-facing
// side of the lab simulator. `up` validates the lab file, starts the lab's owner in the
// background and returns once the lab runs; every other command talks to the running lab over
// its control socket (or, for consoles, straight to the node's serial socket).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { RackforgeError } from '../lib/errors.ts';
import type { OptionSpec, OptionValue } from './args.ts';
import { HELP_OPTION, JSON_OPTION, renderSubcommandHelp, runSubcommand, usageError, type Subcommand } from './subcommands.ts';
import type { CliIo } from './io.ts';
import { callLab, openLabStream, type LabNodeStatus, type LabStatus } from '../simulator/lab-control.ts';
import { readLabFile } from '../simulator/lab-definition.ts';
import { defaultLabStateDir, labPaths, type LabPaths } from '../simulator/lab-paths.ts';

const BIN = fileURLToPath(new URL('../bin/rackforge.js', import.meta.url));
const UP_TIMEOUT_MS = 180_000;

const STATE: OptionSpec = { flag: 'state-dir', key: 'state_dir', kind: 'string', metavar: 'DIR', help: "the lab's state folder (default ${XDG_STATE_HOME:-~/.local/state}/rackforge/labs/LAB)" };
const LAB: OptionSpec = { flag: 'lab', key: 'lab', kind: 'string', metavar: 'NAME', help: 'which running lab (default: the only one up)' };
const JSON_OPT = JSON_OPTION;
const HELP = HELP_OPTION;
const usage = usageError;

/** Running, not a zombie (an owner killed with -9 stays one until something reaps it). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch { return false; }
}

/** The pid of the lab's owner if that process still runs and still is this lab's owner (pids get reused). */
function ownerPid(paths: LabPaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.ownerPid, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('__owner') && argv.includes(`--state-dir=${paths.root}`) ? pid : undefined;
  } catch { return undefined; }
}

/** The running labs under the default state root. */
function runningLabs(env: CliIo['env']): string[] {
  const base = join(defaultLabStateDir('x', env), '..');
  let names: string[] = [];
  try { names = readdirSync(base); } catch { return []; }
  return names.filter((n) => ownerPid(labPaths(join(base, n))) !== undefined);
}

/** Which lab a command is about: --state-dir, else --lab, else the only one running. */
function selectLab(o: Record<string, OptionValue>, io: CliIo): LabPaths {
  if (typeof o['state_dir'] === 'string') return labPaths(resolve(o['state_dir']));
  if (typeof o['lab'] === 'string') return labPaths(defaultLabStateDir(o['lab'], io.env));
  const up = runningLabs(io.env);
  if (up.length === 1) return labPaths(defaultLabStateDir(up[0]!, io.env));
  if (up.length === 0) throw new RackforgeError('LAB_NOT_RUNNING', 'no lab is up (start one with: rackforge lab up labs/quickstart.yaml)');
  throw usage(`several labs are up (${up.join(', ')}): say which with --lab NAME`);
}

function requireHostTools(env: CliIo['env']): void {
  const path = (env['PATH'] ?? '/usr/bin:/bin').split(':');
  const missing: Array<[string, string]> = [];
  for (const [tool, pkg] of [['qemu-system-x86_64', 'qemu-system-x86'], ['unshare', 'util-linux'], ['setpriv', 'util-linux'], ['ip', 'iproute2']] as const) {
    if (!path.some((d) => existsSync(join(d, tool)))) missing.push([tool, pkg]);
  }
  if (missing.length > 0) {
    throw new RackforgeError('LAB_HOST', `missing ${missing.map((m) => m[0]).join(', ')}: apt-get install ${[...new Set(missing.map((m) => m[1]))].join(' ')}`);
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function bootText(n: LabNodeStatus): string {
  if (!n.boot) return n.power === 'on' ? 'no boot traffic yet' : '-';
  return `${n.boot.kind}${n.boot.ip ? ` ${n.boot.ip}` : ''}${n.boot.detail ? ` ${n.boot.detail}` : ''}`;
}

function powerText(n: LabNodeStatus): string {
  if (n.power === 'crashed' && n.lastExit) return `crashed (${n.lastExit.cause ?? n.lastExit.signal ?? `exit ${n.lastExit.code}`})`;
  return n.power;
}

function printStatus(s: LabStatus, io: CliIo): void {
  io.out(`lab ${s.lab} (${s.file}), machines under ${s.accel} (${s.accelReason}), owner pid ${s.ownerPid}`);
  io.out(`API: ${s.api.apiUrl}   web UI: ${s.api.uiUrl}   boot server inside the lab: ${s.bootUrl}`);
  for (const n of s.networks) io.out(`network ${n.name} ${n.subnet} hub ${n.group}:${n.port}${n.capture ? `  capture ${n.capture.file} (${n.capture.frames} frames)` : ''}`);
  if (s.nodes.length > 0) {
    const rows = [['NODE', 'POWER', 'RACK', 'MAC', 'CONSOLE', 'BOOT']];
    for (const n of s.nodes) rows.push([n.name, powerText(n), [n.datacentre, n.rack].filter(Boolean).join('/') || '-', n.macs.join(','), n.console ? `127.0.0.1:${n.console.port}` : '-', bootText(n)]);
    for (const l of table(rows)) io.out(l);
  }
  if (s.synthetic.nodes > 0) {
    io.out(`synthetic machines: ${s.synthetic.nodes} (${Object.entries(s.synthetic.stages).map(([k, v]) => `${k} ${v}`).join(', ')})`);
    for (const f of s.synthetic.failed.slice(0, 10)) io.out(`  ${f.name} failed: ${f.error}`);
  }
}

export interface LabUpOptions { stateDir?: string; captures?: string; accel?: string; apiPort?: string }

/** Brings a lab up in the background and resolves with its status once it runs. */
export async function labUp(fileArg: string, o: LabUpOptions, io: CliIo): Promise<{ status: LabStatus; paths: LabPaths }> {
  const file = resolve(fileArg);
  const lab = readLabFile(file);
  for (const w of lab.warnings ?? []) io.err(`warning: ${w}`);
  const paths = labPaths(o.stateDir !== undefined ? resolve(o.stateDir) : defaultLabStateDir(lab.name, io.env));
  const pid = ownerPid(paths);
  if (pid !== undefined) {
    let where = '';
    try { where = ` — API ${(await callLab<LabStatus>(paths.control, 'GET', '/status', undefined, { timeoutMs: 5000 })).api.apiUrl}`; } catch { /* still starting */ }
    throw new RackforgeError('LAB_ALREADY_RUNNING', `lab ${lab.name} is already up (owner pid ${pid})${where}; take it down first with: rackforge lab down --lab ${lab.name}`);
  }
  requireHostTools(io.env);
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  for (const f of [paths.control, paths.apiSocket, paths.ready, paths.ownerPid]) rmSync(f, { force: true });
  const captures = resolve(o.captures ?? 'captures');
  const args = [BIN, 'lab', '__owner', `--state-dir=${paths.root}`, `--file=${file}`, `--captures=${captures}`, `--accel=${o.accel ?? 'auto'}`];
  if (o.apiPort !== undefined) args.push(`--api-port=${o.apiPort}`);
  const log = openSync(paths.ownerLog, 'a');
  const owner = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log, 'pipe'], env: { ...process.env, RACKFORGE_LAB_READY_FD: '3' } });
  closeSync(log);
  const pipe = owner.stdio[3] as Readable;
  const line = await new Promise<string>((resolveLine) => {
    let text = '';
    const timer = setTimeout(() => resolveLine(''), UP_TIMEOUT_MS);
    pipe.setEncoding('utf8');
    pipe.on('data', (c: string) => { text += c; if (text.includes('\n')) { clearTimeout(timer); resolveLine(text); } });
    pipe.on('close', () => { clearTimeout(timer); resolveLine(text); });
  });
  pipe.destroy();
  owner.unref();
  let result: { ok: boolean; status?: LabStatus; message?: string };
  try { result = JSON.parse(line) as typeof result; } catch {
    try { process.kill(owner.pid!, 'SIGTERM'); } catch { /* gone */ }
    throw new RackforgeError('LAB_START_FAILED', `lab ${lab.name} did not come up within ${UP_TIMEOUT_MS / 1000} s; see ${paths.runnerLog}`);
  }
  if (!result.ok || !result.status) throw new RackforgeError('LAB_START_FAILED', `lab ${lab.name} did not come up: ${result.message ?? 'unknown failure'} (log: ${paths.runnerLog})`);
  return { status: result.status, paths };
}

/** Asks a lab to go down and waits for its owner to exit. */
export async function labDown(paths: LabPaths, io: CliIo): Promise<void> {
  const pid = ownerPid(paths);
  if (pid === undefined) throw new RackforgeError('LAB_NOT_RUNNING', `no lab is up in ${paths.root}`);
  try {
    await callLab(paths.control, 'POST', '/down', {}, { timeoutMs: 10_000 });
  } catch {
    // No answer on the control socket (still starting, or wedged): ask the owner directly.
    process.kill(pid, 'SIGTERM');
  }
  const until = Date.now() + 90_000;
  while (processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (processAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    io.err(`the lab's owner did not stop in time: killed it (pid ${pid})`);
  }
}

async function up(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const { status: result, paths } = await labUp(pos[0]!, {
    ...(typeof o['state_dir'] === 'string' ? { stateDir: o['state_dir'] } : {}),
    ...(typeof o['captures'] === 'string' ? { captures: o['captures'] } : {}),
    ...(typeof o['accel'] === 'string' ? { accel: o['accel'] } : {}),
    ...(typeof o['api_port'] === 'string' ? { apiPort: o['api_port'] } : {}),
  }, io);
  const s = result;
  if (o['json'] === true) { io.out(JSON.stringify(s, null, 2)); return 0; }
  io.out(`lab ${s.lab} is up (machines under ${s.accel}: ${s.accelReason}; owner pid ${s.ownerPid})`);
  io.out(`  Cobbler API: ${s.api.apiUrl}  (user cobbler, password in ${join(paths.root, 'admin-password')})`);
  io.out(`  web UI:      ${s.api.uiUrl}`);
  io.out(`  HTTP:        ${s.api.url}/  (API and boot files as the machines see them)`);
  for (const n of s.nodes) io.out(`  console ${n.name}: ${n.console ? `telnet 127.0.0.1 ${n.console.port}` : '-'}  (or: rackforge lab console ${n.name}; log ${n.serialLog})`);
  for (const n of s.networks) if (n.capture) io.out(`  capture ${n.name}: ${n.capture.file}  (live: rackforge lab capture ${n.name} --live | tshark -i -)`);
  if (s.synthetic.nodes > 0) io.out(`  synthetic machines: ${s.synthetic.nodes} booting`);
  io.out(`  state: ${s.stateDir}`);
  return 0;
}

async function down(_pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const paths = selectLab(o, io);
  await labDown(paths, io);
  io.out(`lab down (${paths.root})`);
  return 0;
}

async function status(_pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const paths = selectLab(o, io);
  const s = await callLab<LabStatus>(paths.control, 'GET', o['synthetic'] === true ? '/status?synthetic=detail' : '/status');
  if (o['json'] === true) io.out(JSON.stringify(s, null, 2));
  else printStatus(s, io);
  return 0;
}

async function power(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const [node, action] = pos;
  if (!node || !action) throw usage('usage: rackforge lab power NODE on|off|reset|cycle');
  if (!['on', 'off', 'reset', 'cycle'].includes(action)) throw usage(`power action must be on, off, reset or cycle, got '${action}'`);
  const n = await callLab<LabNodeStatus>(selectLab(o, io).control, 'POST', `/nodes/${encodeURIComponent(node)}/power`, { action });
  if (o['json'] === true) io.out(JSON.stringify(n, null, 2));
  else io.out(`${n.name}: ${powerText(n)}`);
  return 0;
}

async function consoleCmd(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const node = pos[0]!;
  const paths = selectLab(o, io);
  const s = await callLab<LabStatus>(paths.control, 'GET', '/status');
  const n = s.nodes.find((x) => x.name === node);
  if (!n) throw new RackforgeError('LAB_UNKNOWN_NODE', `lab ${s.lab} has no machine '${node}' (have: ${s.nodes.map((x) => x.name).join(', ') || 'none'})`);
  if (n.power !== 'on') throw new RackforgeError('LAB_NOT_RUNNING', `${node} is ${n.power}: power it on first (rackforge lab power ${node} on)`);
  const sock = connect(paths.node(node).serialSocket);
  const tty = process.stdin.isTTY === true;
  if (tty) io.err(`connected to ${node}'s serial console; Ctrl-] quits`);
  return new Promise<number>((resolveDone) => {
    const finish = (code: number) => {
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
      sock.destroy();
      resolveDone(code);
    };
    sock.on('error', (e) => { io.err(`rackforge: console ${node}: ${e.message}`); finish(1); });
    sock.on('close', () => finish(0));
    sock.pipe(process.stdout, { end: false });
    if (tty) process.stdin.setRawMode(true);
    process.stdin.on('data', (d: Buffer) => {
      if (tty && d.includes(0x1d)) { finish(0); return; }
      sock.write(d);
    });
    process.stdin.on('end', () => { if (!tty) setTimeout(() => finish(0), 200); });
    process.stdin.resume();
  });
}

async function capture(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const net = pos[0]!;
  const paths = selectLab(o, io);
  if (o['live'] !== true) {
    const s = await callLab<LabStatus>(paths.control, 'GET', '/status');
    const n = s.networks.find((x) => x.name === net);
    if (!n) throw new RackforgeError('LAB_UNKNOWN_NETWORK', `lab ${s.lab} has no network '${net}' (have: ${s.networks.map((x) => x.name).join(', ')})`);
    if (!n.capture) throw new RackforgeError('LAB_UNKNOWN_NETWORK', `network '${net}' is not captured (capture: false in ${s.file})`);
    if (o['json'] === true) io.out(JSON.stringify(n.capture, null, 2));
    else io.out(`${n.capture.file}: ${n.capture.frames} frames, ${n.capture.bytes} bytes${n.capture.rotations ? `, rotated ${n.capture.rotations} times` : ''}`);
    return 0;
  }
  const output = typeof o['output'] === 'string' ? o['output'] : undefined;
  if (!output && process.stdout.isTTY) throw usage('a live capture is pcap: pipe it (| tshark -i -, | wireshark -k -i -) or give --output FILE|FIFO');
  const stream = await openLabStream(paths.control, `/captures/${encodeURIComponent(net)}/live`);
  const out = output ? createWriteStream(output) : process.stdout;
  return new Promise<number>((resolveDone) => {
    const stop = () => { stream.destroy(); resolveDone(0); };
    out.on('error', stop);   // the reader went away (tshark -c N, a closed FIFO): not an error
    stream.on('end', () => { if (output) out.end(); resolveDone(0); });
    stream.on('error', stop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    stream.pipe(out);
  });
}

function nodeFromOptions(o: Record<string, OptionValue>): Record<string, unknown> {
  if (typeof o['file'] === 'string') {
    let v: unknown;
    try { v = parseYaml(readFileSync(o['file'], 'utf8')); } catch (e) { throw usage(`--file ${o['file']}: ${(e as Error).message}`); }
    return v as Record<string, unknown>;
  }
  if (typeof o['name'] !== 'string') throw usage('add-node needs --name NAME (and --network NET), or --file NODE.yaml');
  const nets = (o['network'] as string[] | undefined)?.flatMap((x) => x.split(',')) ?? [];
  if (nets.length === 0) throw usage('add-node needs --network NET (repeat for more NICs)');
  const macs = (o['mac'] as string[] | undefined)?.flatMap((x) => x.split(',')) ?? [];
  if (macs.length > nets.length) throw usage(`${macs.length} --mac for ${nets.length} --network: one MAC per NIC`);
  const node: Record<string, unknown> = {
    name: o['name'],
    nics: nets.map((network, i) => ({ network, ...(macs[i] ? { mac: macs[i] } : {}) })),
  };
  for (const k of ['firmware', 'memory', 'profile', 'rack', 'datacentre'] as const) if (typeof o[k] === 'string') node[k] = o[k];
  if (typeof o['cpus'] === 'string') node['cpus'] = Number(o['cpus']);
  if (Array.isArray(o['disk'])) node['disks'] = (o['disk'] as string[]).flatMap((x) => x.split(',')).map((size) => ({ size }));
  if (typeof o['boot'] === 'string') node['boot'] = o['boot'].split(',');
  if (o['off'] === true) node['power'] = { control: 'qmp', initial: 'off' };
  return node;
}

async function addNode(_pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const node = nodeFromOptions(o);
  const n = await callLab<LabNodeStatus>(selectLab(o, io).control, 'POST', '/nodes', { node });
  if (o['json'] === true) io.out(JSON.stringify(n, null, 2));
  else io.out(`added ${n.name} (${n.macs.join(', ')}): ${powerText(n)}${n.console ? `, console 127.0.0.1:${n.console.port}` : ''}`);
  return 0;
}

async function removeNode(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  await callLab(selectLab(o, io).control, 'DELETE', `/nodes/${encodeURIComponent(pos[0]!)}`);
  io.out(`removed ${pos[0]}`);
  return 0;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  up: {
    usage: 'lab up FILE', summary: 'build the lab in FILE and return once it runs', positionals: 1, run: up,
    options: [STATE, JSON_OPT, HELP,
      { flag: 'captures', key: 'captures', kind: 'string', metavar: 'DIR', help: 'where captures go: DIR/LAB/NETWORK.pcap (default ./captures)' },
      { flag: 'accel', key: 'accel', kind: 'string', choices: ['auto', 'tcg', 'kvm'], help: 'QEMU accelerator; auto uses KVM only where a probe machine runs under it (default auto)' },
      { flag: 'api-port', key: 'api_port', kind: 'string', metavar: 'N', help: 'localhost port for the lab API (default: any free port)' }],
  },
  down: { usage: 'lab down', summary: 'stop every machine and remove the lab network', positionals: 0, run: down, options: [STATE, LAB, HELP] },
  status: {
    usage: 'lab status', summary: 'machines with power state and boot progress', positionals: 0, run: status,
    options: [STATE, LAB, JSON_OPT, HELP, { flag: 'synthetic', key: 'synthetic', kind: 'boolean', help: 'include every synthetic machine (with --json)' }],
  },
  console: { usage: 'lab console NODE', summary: "attach to a machine's serial console (Ctrl-] quits)", positionals: 1, run: consoleCmd, options: [STATE, LAB, HELP] },
  power: { usage: 'lab power NODE on|off|reset|cycle', summary: 'power control through QMP', positionals: 2, run: power, options: [STATE, LAB, JSON_OPT, HELP] },
  capture: {
    usage: 'lab capture NETWORK [--live]', summary: "a network's capture file, or (--live) pcap streamed as it happens", positionals: 1, run: capture,
    options: [STATE, LAB, JSON_OPT, HELP,
      { flag: 'live', key: 'live', kind: 'boolean', help: 'stream pcap to stdout (or --output): | tshark -i -  or  | wireshark -k -i -' },
      { flag: 'output', key: 'output', kind: 'string', metavar: 'PATH', help: 'write the live stream to a file or FIFO instead of stdout' }],
  },
  'add-node': {
    usage: 'lab add-node --name NAME --network NET [options] | --file NODE.yaml', summary: 'add a machine to the running lab', positionals: 0, run: addNode,
    options: [STATE, LAB, JSON_OPT, HELP,
      { flag: 'file', key: 'file', kind: 'string', metavar: 'FILE', help: 'a node as in a lab file, in YAML' },
      { flag: 'name', key: 'name', kind: 'string', metavar: 'NAME' },
      { flag: 'network', key: 'network', kind: 'list', metavar: 'NET', help: 'a NIC on NET (repeatable, in order)' },
      { flag: 'mac', key: 'mac', kind: 'list', metavar: 'MAC', help: 'MAC per NIC, in order (default: a free one)' },
      { flag: 'firmware', key: 'firmware', kind: 'string', choices: ['bios', 'uefi'] },
      { flag: 'memory', key: 'memory', kind: 'string', metavar: 'SIZE' },
      { flag: 'cpus', key: 'cpus', kind: 'string', metavar: 'N' },
      { flag: 'disk', key: 'disk', kind: 'list', metavar: 'SIZE', help: 'a disk of SIZE (repeatable)' },
      { flag: 'boot', key: 'boot', kind: 'string', metavar: 'ORDER', help: 'e.g. network,disk' },
      { flag: 'profile', key: 'profile', kind: 'string', metavar: 'PROFILE', help: 'register it as a system with this profile' },
      { flag: 'rack', key: 'rack', kind: 'string' },
      { flag: 'datacentre', key: 'datacentre', kind: 'string' },
      { flag: 'off', key: 'off', kind: 'boolean', help: 'add it powered off' }],
  },
  'remove-node': { usage: 'lab remove-node NODE', summary: 'power a machine off and take it out of the lab', positionals: 1, run: removeNode, options: [STATE, LAB, HELP] },
};

export function renderLabHelp(): string {
  return renderSubcommandHelp('lab', SUBCOMMANDS);
}

export async function runLab(argv: string[], io: CliIo): Promise<number> {
  const [word, ...rest] = argv;
  if (word === '__owner') return (await import('./lab-owner.ts')).runLabOwner(rest, io);
  if (word === '__runner') return (await import('./lab-runner.ts')).runLabRunner(rest, io);
  return runSubcommand('lab', SUBCOMMANDS, argv, io);
}
