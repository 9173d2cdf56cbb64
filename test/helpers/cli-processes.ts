// Real processes for the CLI end-to-end suite: `rackforge serve` started as a user starts it
// (directly or through npx), and one-shot CLI runs. Everything is asynchronous: a synchronous
// spawn would block the event loop of a test that also talks to the server.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_BIN = 'bin/rackforge.js';

export type Env = Record<string, string | undefined>;

/** The runner's environment without any RACKFORGE_* setting, so nothing leaks into a test. */
export function cleanEnv(extra: Env = {}): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RACKFORGE_')) env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A port that was free a moment ago: bind port 0 on 127.0.0.1, read it, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the final empty one. */
  lines: string[];
  /** stderr split into lines, without the final empty one. */
  errLines: string[];
}

const splitLines = (s: string): string[] => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));

/** Runs `node bin/rackforge.js ...args` from the repository root; never rejects on a non-zero exit. */
export function runCli(args: readonly string[], env: Env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI_BIN, ...args], { cwd: REPO_ROOT, env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: unknown; signal?: unknown; killed?: boolean };
          if (typeof e.code !== 'number') {
            reject(new Error(`rackforge ${args.join(' ')}: ${e.killed ? 'timed out' : e.message}\n${stderr}`));
            return;
          }
          code = e.code;
        }
        resolve({ code, stdout, stderr, lines: splitLines(stdout), errLines: splitLines(stderr) });
      });
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  /** The URL from the `rackforge listening on URL` line. */
  readonly url: string;
  readonly apiUrl: string;
  /** Everything written so far (grows until the process ends). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal once the process has ended and its pipes are closed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a server command and waits for its `listening` line. `detached` puts it in its own
 * process group, so a wrapper (npx) and everything under it can be found and cleaned up.
 */
export function startServeProcess(
  command: string, args: readonly string[], env: Env, opts: { timeoutMs?: number; detached?: boolean } = {},
): Promise<ServeProcess> {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  // 'close' (not 'exit'): the pipes are closed too, so every process writing to them is gone.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${command} ${args.join(' ')}: no 'listening' line within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    const onData = (): void => {
      const m = /^rackforge listening on (http:\/\/\S+)$/m.exec(out);
      if (!m) return;
      finish();
      const url = m[1] as string;
      resolve({ child, url, apiUrl: `${url}/cobbler_api`, stdout: () => out, stderr: () => err, exited });
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish();
      reject(new Error(`${command} ${args.join(' ')} ended before listening (code ${code}, signal ${signal})\nstdout: ${out}\nstderr: ${err}`));
    };
    function finish(): void {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onEarlyExit);
    }
    child.stdout.on('data', onData);
    child.once('exit', onEarlyExit);
    child.once('error', (e) => { finish(); reject(e); });
  });
}

export interface GroupMember { pid: number; ppid: number; argv: string[] }

/** The live processes of one process group, from /proc (Linux). */
export function processGroup(pgid: number): GroupMember[] {
  const members: GroupMember[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp ...; comm itself may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      members.push({ pid: Number(entry), ppid: Number(fields[1]), argv });
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

/** The `node …/rackforge serve` process inside a wrapper's process group (npx → sh → node). */
export function findServeNode(pgid: number): GroupMember | undefined {
  return processGroup(pgid).find((m) => m.pid !== pgid && basename(m.argv[0] ?? '') === 'node' && m.argv.includes('serve'));
}
