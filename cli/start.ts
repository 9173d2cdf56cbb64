// `rackforge start` (what `npm start` runs): the main job end to end. Brings up
// labs/quickstart.yaml, whose two machines PXE-boot from the lab's provisioner, install the
// hypervisor node image to their disks, boot from them and register with the controller;
// prints each machine's stages as they happen, then the URLs, the registered nodes and the
// capture. Ctrl-C takes the lab down. With --detach it returns once every machine is
// registered (exit 1 if one fails or time runs out) and leaves the lab running.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RackforgeError } from '../lib/errors.ts';
import { parseArgs, type OptionSpec } from './args.ts';
import { CobblerClient } from './api-client.ts';
import type { CliIo } from './io.ts';
import { labDown, labUp } from './lab.ts';
import { callLab, type LabNodeStatus, type LabStatus } from '../simulator/lab-control.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const QUICKSTART = join(ROOT, 'labs', 'quickstart.yaml');
const NODE_IMAGE = join(ROOT, 'build', 'node');

const START_OPTIONS: OptionSpec[] = [
  { flag: 'detach', key: 'detach', kind: 'boolean', help: 'return once every machine is registered (exit 1 if one fails), leaving the lab up' },
  { flag: 'lab', key: 'lab', kind: 'string', metavar: 'FILE', help: 'the lab to run (default labs/quickstart.yaml)' },
  { flag: 'state-dir', key: 'state_dir', kind: 'string', metavar: 'DIR', help: "the lab's state folder" },
  { flag: 'captures', key: 'captures', kind: 'string', metavar: 'DIR', help: 'where captures go (default ./captures)' },
  { flag: 'accel', key: 'accel', kind: 'string', choices: ['auto', 'tcg', 'kvm'], help: 'QEMU accelerator (default auto: KVM only where a probe runs)' },
  { flag: 'timeout', key: 'timeout', kind: 'string', metavar: 'SECONDS', help: 'give up waiting for the machines after this long (default 900)' },
  { flag: 'help', key: 'help', kind: 'boolean', short: 'h', help: 'show this help' },
];

interface Stage { stage: string; at: string; detail: string }

export async function runStart(argv: string[], io: CliIo): Promise<number> {
  const o = parseArgs(argv, START_OPTIONS, { command: 'start' }).options;
  if (o['help'] === true) {
    io.out('usage: rackforge start [--detach] [options]   (npm start runs it)');
    for (const s of START_OPTIONS) io.out(`  --${s.flag}${s.metavar ? ' ' + s.metavar : ''}  ${s.help ?? ''}`);
    return 0;
  }
  const file = typeof o['lab'] === 'string' ? o['lab'] : QUICKSTART;
  if (file === QUICKSTART && !existsSync(join(NODE_IMAGE, 'node.img'))) {
    throw new RackforgeError('LAB_HOST', `the node image is not built (${NODE_IMAGE}/node.img missing): run 'node scripts/setup.mjs start' (npm start does)`);
  }
  const timeoutS = o['timeout'] === undefined ? 900 : Number(o['timeout']);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new RackforgeError('CLI_USAGE', `--timeout must be a positive number of seconds, got '${String(o['timeout'])}'`);

  const started = Date.now();
  io.out(`bringing up ${file} ...`);
  const { status, paths } = await labUp(file, {
    ...(typeof o['state_dir'] === 'string' ? { stateDir: o['state_dir'] } : {}),
    ...(typeof o['captures'] === 'string' ? { captures: o['captures'] } : {}),
    ...(typeof o['accel'] === 'string' ? { accel: o['accel'] } : {}),
  }, io);
  const since = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
  io.out(`${since()}  lab ${status.lab} up: machines under ${status.accel} (${status.accelReason}); API ${status.api.apiUrl}`);

  let stopping = false;
  const stop = () => { stopping = true; };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const api = new CobblerClient(status.api.apiUrl);
  const names = status.nodes.map((n) => n.name);
  const shown = new Map<string, number>(names.map((n) => [n, 0]));
  const outcome = new Map<string, 'registered' | 'failed' | 'crashed'>();
  const deadline = started + timeoutS * 1000;
  while (!stopping && outcome.size < names.length && Date.now() < deadline) {
    for (const name of names) {
      if (outcome.has(name)) continue;
      let stages: Stage[];
      try {
        stages = (await api.call('get_system_install_status', name)) as unknown as Stage[];
      } catch (e) {
        io.err(`${name}: cannot read its install status: ${(e as Error).message}`);
        continue;
      }
      for (const s of stages.slice(shown.get(name)!)) io.out(`${since()}  ${name.padEnd(8)} ${s.stage.padEnd(17)} ${s.detail}`);
      shown.set(name, stages.length);
      const last = stages.at(-1)?.stage;
      if (last === 'registered' || last === 'failed') outcome.set(name, last);
    }
    // A machine QEMU could not run (or that died) will never register: say so now, not at the timeout.
    const lab = await callLab<LabStatus>(paths.control, 'GET', '/status').catch(() => undefined);
    for (const n of lab?.nodes ?? []) {
      if (n.power !== 'crashed' || outcome.has(n.name)) continue;
      outcome.set(n.name, 'crashed');
      io.out(`${since()}  ${n.name.padEnd(8)} ${'crashed'.padEnd(17)} ${crashText(n, status.accel)}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }

  const failed = names.filter((n) => outcome.get(n) === 'failed');
  const crashed = names.filter((n) => outcome.get(n) === 'crashed');
  const pending = names.filter((n) => !outcome.has(n));
  io.out('');
  io.out(`Cobbler API:  ${status.api.apiUrl}  (user cobbler, password in ${join(paths.root, 'admin-password')})`);
  io.out(`web UI:       ${status.api.uiUrl}`);
  io.out(`controller:   ${status.api.url}/api/v1/hypervisors`);
  for (const n of status.networks) if (n.capture) io.out(`capture:      ${n.capture.file}`);
  for (const n of status.nodes) if (n.console) io.out(`console:      ${n.name}: telnet 127.0.0.1 ${n.console.port}  (serial log ${n.serialLog})`);
  await printNodes(status.api.url, paths.root, io);
  if (failed.length > 0) io.out(`failed:       ${failed.join(', ')} (rackforge system status NAME --server ${status.api.apiUrl})`);
  if (crashed.length > 0) io.out(`crashed:      ${crashed.join(', ')} (rackforge lab status --state-dir ${paths.root})`);
  if (pending.length > 0 && !stopping) io.out(`timed out:    ${pending.join(', ')} after ${timeoutS} s`);
  if (failed.length > 0 || (pending.length > 0 && !stopping)) {
    for (const n of status.networks) if (n.capture) io.out(`why:          rackforge capture explain ${n.capture.file}`);
  }

  const ok = failed.length === 0 && crashed.length === 0 && pending.length === 0;
  if (o['detach'] === true && !stopping) {
    io.out(`the lab stays up: rackforge lab down --state-dir ${paths.root}`);
    return ok ? 0 : 1;
  }
  if (!stopping) {
    io.out(`${ok ? 'both machines registered' : 'done'}; Ctrl-C takes the lab down`);
    // Signal listeners alone do not keep Node running: a timer does, until the signal.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    clearInterval(keepAlive);
  }
  io.out('taking the lab down ...');
  await labDown(paths, io);
  io.out('lab down');
  return ok ? 0 : 1;
}

/** The controller's hypervisors, read with the lab's admin credentials. */
async function printNodes(baseUrl: string, stateDir: string, io: CliIo): Promise<void> {
  try {
    const password = readFileSync(join(stateDir, 'admin-password'), 'utf8').trim();
    const api = new CobblerClient(`${baseUrl}/cobbler_api`);
    const token = String(await api.call('login', 'cobbler', password));
    const r = await fetch(`${baseUrl}/api/v1/hypervisors`, { headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) { io.out(`registered:   (controller answered ${r.status})`); return; }
    const nodes = await r.json() as Array<{ name: string; state: string; cpus: number; memory_mb: number; rack?: string; datacentre?: string; mac: string }>;
    if (nodes.length === 0) { io.out('registered:   none'); return; }
    for (const n of nodes) io.out(`registered:   ${n.name} ${n.state}, ${n.cpus} CPU, ${n.memory_mb} MiB, ${[n.datacentre, n.rack].filter(Boolean).join('/')}, ${n.mac}`);
  } catch (e) {
    io.out(`registered:   (cannot read the controller: ${(e as Error).message})`);
  }
}

/** "KVM internal error. Suberror: 1 (QEMU log ...; under KVM: try --accel=tcg)". */
function crashText(n: LabNodeStatus, accel: string): string {
  const what = n.lastExit?.cause ?? (n.lastExit?.signal ? `killed by ${n.lastExit.signal}` : `exit ${n.lastExit?.code ?? '?'}`);
  return `${what} (QEMU log ${n.qemuLog}${accel === 'kvm' ? '; under KVM: try --accel=tcg' : ''})`;
}
