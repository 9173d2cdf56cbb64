// The process that owns a running lab, in the host's namespace: it starts the runner in a new
// user + network namespace, forwards localhost ports to the lab's unix sockets, and exists
// exactly as long as the lab does. Its pid is in owner.pid.
//
// Lifetimes are tied both ways without any cleanup code having to run:
// - the runner is started under `setpriv --pdeathsig TERM`: if the owner dies (kill -9
//   included) the kernel sends the runner SIGTERM, and its IPC channel closes too; the runner
//   then takes the lab down (its QEMU processes carry --pdeathsig KILL in turn, so they go
//   even if the runner itself is killed). The namespace, its taps and hubs vanish with the
//   last process in it.
// - if the runner ends, the owner closes its forwarded ports and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { RUNNER_OPTIONS, type OwnerMessage, type RunnerMessage } from './lab-runner.ts';
import { labPaths } from '../simulator/lab-paths.ts';
import { forwardLocalPort, type PortForward } from '../simulator/port-forward.ts';

const BIN = fileURLToPath(new URL('../bin/rackforge.js', import.meta.url));
const DOWN_GRACE_MS = 60_000;

/** The readiness pipe `lab up` passes (fd in $RACKFORGE_LAB_READY_FD): one JSON line, then closed. */
function announce(line: unknown): void {
  const fd = Number(process.env['RACKFORGE_LAB_READY_FD']);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, JSON.stringify(line) + '\n');
    closeSync(fd);
  } catch { /* `lab up` is already gone */ }
  delete process.env['RACKFORGE_LAB_READY_FD'];
}

export async function runLabOwner(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, RUNNER_OPTIONS, { command: 'lab __owner' });
  const o = parsed.options;
  const paths = labPaths(String(o['state_dir']));
  writeFileSync(paths.ownerPid, `${process.pid}\n`);
  const log = openSync(paths.runnerLog, 'a');
  const runnerArgs = argv.filter((a) => !a.startsWith('--owner-pid'));
  const child: ChildProcess = spawn('setpriv', [
    '--pdeathsig', 'TERM', '--',
    'unshare', '--user', '--map-root-user', '--net', '--',
    process.execPath, BIN, 'lab', '__runner', ...runnerArgs, `--owner-pid=${process.pid}`,
  ], { stdio: ['ignore', log, log, 'ipc'], env: { ...process.env, RACKFORGE_LAB_READY_FD: '' } });
  closeSync(log);

  const forwards = new Map<string, PortForward>();
  let announced = false;
  child.on('message', (m: RunnerMessage) => {
    if (m.type === 'expose') {
      forwardLocalPort(m.socket, m.port ?? 0).then(
        (f) => { forwards.get(m.name)?.close(); forwards.set(m.name, f); child.send({ type: 'exposed', id: m.id, port: f.port } satisfies OwnerMessage); },
        (e: NodeJS.ErrnoException) => child.send({ type: 'exposed', id: m.id, error: e.code === 'EADDRINUSE' ? `port ${m.port} is already in use` : e.message } satisfies OwnerMessage),
      );
    } else if (m.type === 'unexpose') {
      void forwards.get(m.name)?.close();
      forwards.delete(m.name);
    } else if (m.type === 'ready') {
      writeFileSync(paths.ready, JSON.stringify(m.status, null, 2));
      announced = true;
      announce({ ok: true, status: m.status });
    } else if (m.type === 'failed') {
      announced = true;
      announce({ ok: false, message: m.message });
    }
  });

  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'down' } satisfies OwnerMessage);
    else child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), DOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', stop);

  const code = await new Promise<number>((resolve) => {
    child.once('error', (e) => { io.err(`cannot start the lab runner: ${e.message}`); resolve(1); });
    child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
  });
  if (!announced) announce({ ok: false, message: `the lab runner exited (${code}) before the lab was up; see ${paths.runnerLog}` });
  for (const f of forwards.values()) await f.close();
  for (const f of [paths.ownerPid, paths.ready]) rmSync(f, { force: true });
  return code;
}
