// Running `rackforge lab ...` as a user does, for the lab suites: the CLI as a child process
// (asynchronous: the test process must stay free to talk to what it starts), polling a lab's
// status, and looking for what a lab might leave behind.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { CLI_BIN, REPO_ROOT, cleanEnv } from './cli-processes.ts';
import type { LabStatus } from '../../simulator/lab-control.ts';

export interface LabCliResult { code: number; stdout: string; stderr: string }

export function lab(args: readonly string[], o: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<LabCliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, 'lab', ...args], { cwd: REPO_ROOT, env: cleanEnv(o.env ?? {}), timeout: o.timeoutMs ?? 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr: stderr + (err && code === -1 ? `\n${err.message}` : '') });
      });
  });
}

export async function labStatus(stateDir: string): Promise<LabStatus> {
  const r = await lab(['status', '--json', `--state-dir=${stateDir}`, '--synthetic']);
  if (r.code !== 0) throw new Error(`lab status failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as LabStatus;
}

/** Polls the lab's status until `done` holds; fails with the last status when time runs out. */
export async function waitForLab(stateDir: string, done: (s: LabStatus) => boolean, timeoutMs: number): Promise<LabStatus> {
  const until = Date.now() + timeoutMs;
  let last: LabStatus | undefined;
  while (Date.now() < until) {
    last = await labStatus(stateDir);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`lab did not reach the expected state in ${timeoutMs} ms; last status:\n${JSON.stringify(last, null, 1).slice(0, 6000)}`);
}

/** Processes whose command line mentions `needle` (e.g. a lab's state folder). */
export function processesMentioning(needle: string): Array<{ pid: number; argv: string }> {
  const out: Array<{ pid: number; argv: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (argv.includes(needle)) out.push({ pid: Number(d), argv });
    } catch { /* gone */ }
  }
  return out;
}

/** The network namespace of a process, as /proc shows it ("net:[4026532...]"). */
export function netnsOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

/** Live processes inside that network namespace: none means the kernel has freed it, taps and all. */
export function processesInNetns(ns: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (readlinkSync(`/proc/${d}/ns/net`) === ns && running(Number(d))) pids.push(Number(d)); } catch { /* gone or not ours */ }
  }
  return pids;
}

/** A process that still runs; a zombie (ended, not yet reaped by its parent or init) does not. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch { return false; }
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function tshark(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { maxBuffer: 256 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tshark ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
