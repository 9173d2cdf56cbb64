// One QEMU machine of a lab and its power: the process, its QMP connection, and what became
// of it. Power on starts qemu-system-x86_64 (under `setpriv --pdeathsig KILL`, so the machine
// dies with the lab's runner even on kill -9); off asks QMP to quit; reset and cycle are what
// a BMC would do. A process that ends without being asked to is a crash, and stays reported
// as one (exit status and the last lines of its log) until the next power on.
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, ftruncateSync, fstatSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import type { Logger } from '../lib/log.ts';
import type { LabNetwork, LabNode } from './lab-definition.ts';
import type { NodeStatePaths } from './lab-paths.ts';
import { buildNodeArgv, type QemuHost } from './qemu-argv.ts';
import { connectQmp, waitForSocket, type QmpClient } from './qmp-client.ts';

export type PowerState = 'off' | 'starting' | 'on' | 'stopping' | 'crashed';
export type PowerAction = 'on' | 'off' | 'reset' | 'cycle';

export interface NodeExit {
  at: string;
  code: number | null;
  signal: string | null;
  /** Why it ended: asked (power off), guest (the OS powered off), or crash. */
  reason: 'power-off' | 'guest-shutdown' | 'crash';
  /** Last lines of the QEMU log for a crash. */
  logTail?: string;
  /** What QEMU said when it stopped the machine itself (e.g. "KVM internal error. Suberror: 1"). */
  cause?: string;
}

export interface QemuNodeStatus {
  name: string;
  power: PowerState;
  pid?: number;
  since?: string;
  lastExit?: NodeExit;
  /** The guest's run state as QMP last reported it (running, paused, shutdown...). */
  runState?: string;
}

export interface QemuNodeOptions {
  node: LabNode;
  networks: () => LabNetwork[];
  paths: NodeStatePaths;
  host: QemuHost;
  ovmfVarsTemplate: string;
  log: Logger;
  now?: () => Date;
  /** Called on every power-state change (for status and logs). */
  onChange?: (s: QemuNodeStatus) => void;
}

const QMP_WAIT_MS = 15_000;
/** Run states in which QEMU paused the machine by itself and will not resume it. */
const QEMU_STOPPED = new Set(['internal-error', 'guest-panicked']);
const QUIT_WAIT_MS = 5_000;

export class QemuNode {
  private state: PowerState = 'off';
  private proc: ResultPromise | undefined;
  private qmp: QmpClient | undefined;
  private since: string | undefined;
  private lastExit: NodeExit | undefined;
  private runState: string | undefined;
  private expectingExit: NodeExit['reason'] | undefined;
  private guestShutdown = false;
  private crashCause: string | undefined;
  /** Where this run's part of the (appended) QEMU log begins. */
  private logStart = 0;
  private exited: Promise<void> = Promise.resolve();
  private readonly now: () => Date;

  constructor(private readonly o: QemuNodeOptions) {
    this.now = o.now ?? (() => new Date());
  }

  get name(): string { return this.o.node.name; }
  get definition(): LabNode { return this.o.node; }

  status(): QemuNodeStatus {
    return {
      name: this.o.node.name,
      power: this.state,
      ...(this.proc?.pid !== undefined && (this.state === 'on' || this.state === 'starting' || this.state === 'stopping') ? { pid: this.proc.pid } : {}),
      ...(this.since ? { since: this.since } : {}),
      ...(this.lastExit ? { lastExit: this.lastExit } : {}),
      ...(this.runState ? { runState: this.runState } : {}),
    };
  }

  async power(action: PowerAction): Promise<QemuNodeStatus> {
    switch (action) {
      case 'on':
        if (this.state === 'on' || this.state === 'starting') return this.status();
        await this.start();
        break;
      case 'off':
        await this.stop('power-off');
        break;
      case 'reset':
        if (this.state !== 'on' || !this.qmp) throw new Error(`${this.name} is ${this.state}: reset needs a running machine (use 'on' or 'cycle')`);
        await this.qmp.execute('system_reset');
        break;
      case 'cycle':
        await this.stop('power-off');
        await this.start();
        break;
    }
    return this.status();
  }

  /** Kills the machine without ceremony (lab teardown after a graceful attempt). */
  async destroy(): Promise<void> {
    await this.stop('power-off');
  }

  private prepareDisks(): string[] {
    mkdirSync(this.o.paths.dir, { recursive: true });
    return this.o.node.disks.map((d) => {
      const path = this.o.paths.disk(d.name);
      // Raw sparse files: the size costs nothing until the guest writes, and no qemu-img is needed.
      const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
      try { if (fstatSync(fd).size < d.sizeBytes) ftruncateSync(fd, d.sizeBytes); } finally { closeSync(fd); }
      return path;
    });
  }

  private async start(): Promise<void> {
    const p = this.o.paths;
    const disks = this.prepareDisks();
    if (this.o.node.firmware === 'uefi' && !existsSync(p.ovmfVars)) copyFileSync(this.o.ovmfVarsTemplate, p.ovmfVars);
    for (const s of [p.qmpSocket, p.serialSocket]) rmSync(s, { force: true });
    const argv = buildNodeArgv(this.o.node, this.o.networks(), {
      dir: p.dir, qmpSocket: p.qmpSocket, serialSocket: p.serialSocket, serialLog: p.serialLog, qemuLog: p.qemuLog, disks,
      ...(this.o.node.firmware === 'uefi' ? { ovmfVars: p.ovmfVars } : {}),
    }, this.o.host);
    this.set('starting');
    this.logStart = fileSize(p.qemuLog);
    this.guestShutdown = false;
    this.expectingExit = undefined;
    this.runState = undefined;
    const proc = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...argv], {
      stdin: 'ignore',
      stdout: { file: p.qemuLog, append: true },
      stderr: { file: p.qemuLog, append: true },
      reject: false,
      cleanup: true,
    });
    this.proc = proc;
    let alive = true;
    this.exited = proc.then((r) => {
      alive = false;
      this.onExit(proc, r.exitCode ?? null, r.signal ?? null);
    });
    try {
      await waitForSocket(p.qmpSocket, { timeoutMs: QMP_WAIT_MS, alive: () => alive });
      const qmp = await connectQmp(p.qmpSocket);
      this.qmp = qmp;
      qmp.onEvent((e) => {
        if (e.event === 'SHUTDOWN' && e.data?.['guest'] === true) this.guestShutdown = true;
        if (e.event === 'RESET') this.o.log.info(`lab node ${this.name}: reset`, { guest: e.data?.['guest'] ?? null });
        if (e.event === 'STOP') void this.stoppedByQemu(proc, qmp);
      });
      // The argv starts it paused (-S): the guest runs only now that STOP events reach us.
      await qmp.execute('cont');
      const st = await qmp.execute<{ status: string }>('query-status');
      this.runState = st.status;
      this.set('on');
    } catch (e) {
      if (alive) proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not start: ${(e as Error).message}${this.lastExit?.logTail ? ` — ${this.lastExit.logTail}` : ''}`);
    }
  }

  /**
   * QEMU pauses a machine it cannot run on (KVM's "emulation failure" is the usual one) and
   * would leave it paused for ever: that is a crash, so the process is ended and the crash
   * reported with what QEMU said. A pause someone asked for (QMP stop) is left alone.
   */
  private async stoppedByQemu(proc: ResultPromise, qmp: QmpClient): Promise<void> {
    const st = await qmp.execute<{ status: string }>('query-status').catch(() => undefined);
    if (!st || this.proc !== proc) return;
    this.runState = st.status;
    if (!QEMU_STOPPED.has(st.status)) return;
    this.crashCause = st.status === 'guest-panicked'
      ? 'the guest panicked (pvpanic)'
      : qemuErrorLine(this.o.paths.qemuLog, this.logStart) ?? 'QEMU stopped the machine (internal-error)';
    proc.kill('SIGKILL');
  }

  private async stop(reason: NodeExit['reason']): Promise<void> {
    const proc = this.proc;
    if (!proc || this.state === 'off' || this.state === 'crashed') { if (this.state !== 'crashed') this.set('off'); return; }
    this.expectingExit = reason;
    this.set('stopping');
    try {
      await Promise.race([this.qmp?.execute('quit').catch(() => undefined), new Promise((r) => setTimeout(r, QUIT_WAIT_MS))]);
    } catch { /* fall through to the kill */ }
    const timer = setTimeout(() => proc.kill('SIGKILL'), QUIT_WAIT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private onExit(proc: ResultPromise, code: number | null, signal: string | null): void {
    if (this.proc !== proc) return;
    this.qmp?.close();
    this.qmp = undefined;
    this.proc = undefined;
    const reason: NodeExit['reason'] = this.expectingExit ?? (this.guestShutdown && code === 0 ? 'guest-shutdown' : 'crash');
    const exit: NodeExit = { at: this.now().toISOString(), code, signal, reason };
    if (reason === 'crash') exit.logTail = logTail(this.o.paths.qemuLog);
    if (reason === 'crash' && this.crashCause) exit.cause = this.crashCause;
    this.crashCause = undefined;
    this.lastExit = exit;
    this.set(reason === 'crash' ? 'crashed' : 'off');
    if (reason === 'crash') this.o.log.warn(`lab node ${this.name} crashed`, { code, signal, ...(exit.cause ? { cause: exit.cause } : {}), log: exit.logTail ?? '' });
  }

  private set(state: PowerState): void {
    this.state = state;
    this.since = this.now().toISOString();
    this.o.onChange?.(this.status());
  }
}

function fileSize(path: string): number {
  try { return statSync(path).size; } catch { return 0; }
}

/** The last line of this run's QEMU log that reports an error (its register dump follows it). */
function qemuErrorLine(path: string, from: number): string | undefined {
  try {
    return readFileSync(path).subarray(from).toString('utf8').split('\n').map((l) => l.trim()).filter((l) => /error/i.test(l) && !/warning:/.test(l)).at(-1);
  } catch {
    return undefined;
  }
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}
