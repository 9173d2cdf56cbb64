// `rackforge capture follow` as a separate process, the way an engineer runs it beside a lab:
// on a file another process is still writing (records arrive cut in the middle, as a writer
// flushes them), and on stdin. What it prints live must be what `timeline` says of the
// finished file, and Ctrl-C must end it cleanly with the diagnosis.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipxeHttpInstall } from '../simulator/analysis/capture-fixtures.ts';
import { CLI_BIN, REPO_ROOT, cleanEnv } from './helpers/cli-processes.ts';
import { waitUntil } from './helpers/lab.ts';

interface Entry { mac: string; kind: string; frames: number[]; done: boolean; summary: string }

function start(args: string[]): { child: ChildProcessWithoutNullStreams; lines: string[]; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_BIN, 'capture', 'follow', ...args], { cwd: REPO_ROOT, env: cleanEnv(), stdio: 'pipe' });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => err, exit };
}

const key = (e: Entry): string => `${e.mac} ${e.kind} ${e.frames.join(',')}`;

async function finishedTimeline(file: string): Promise<Entry[]> {
  const r = spawn(process.execPath, [CLI_BIN, 'capture', 'timeline', file, '--json'], { cwd: REPO_ROOT, env: cleanEnv() });
  let out = '';
  r.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  await new Promise((resolve) => r.on('exit', resolve));
  const t = JSON.parse(out) as { machines: Array<{ timeline: Entry[] }> };
  return t.machines.flatMap((m) => m.timeline);
}

describe('rackforge capture follow (a separate process)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'rf-capture-follow-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a growing file: entries appear as the writer adds records (cut mid-record), Ctrl-C ends it with the diagnosis', async () => {
    const whole = ipxeHttpInstall().script.pcap();
    const complete = join(dir, 'complete.pcap');
    writeFileSync(complete, whole);
    const expected = (await finishedTimeline(complete)).filter((e) => e.done).map(key);
    assert.ok(expected.length >= 4, 'the fixture boots through DHCP and several fetches');

    const growing = join(dir, 'growing.pcap');
    writeFileSync(growing, whole.subarray(0, 24 + 10));
    const f = start([growing, '--json']);
    // Odd-sized pieces so that records are split across appends, as a live writer leaves them.
    for (let at = 34; at < whole.length; at += 20_011) {
      appendFileSync(growing, whole.subarray(at, Math.min(at + 20_011, whole.length)));
      await new Promise((r) => setTimeout(r, 30));
    }
    await waitUntil('follow printed every finished entry', () => {
      const seen = new Set(f.lines.map((l) => key(JSON.parse(l) as Entry)));
      return expected.every((k) => seen.has(k));
    }, 30_000);
    f.child.kill('SIGINT');
    assert.equal(await f.exit, 0, f.stderr());
    const live = f.lines.map((l) => JSON.parse(l) as Entry);
    assert.deepEqual([...new Set(live.filter((e) => e.done).map(key))].sort(), [...expected].sort());
  });

  it('text mode on stdin: one line per entry starting with the MAC, then explain at the end of input', async () => {
    const file = join(dir, 'stdin.pcap');
    writeFileSync(file, ipxeHttpInstall().script.pcap());
    const f = start(['-']);
    f.child.stdin.end(readFileSync(file));
    assert.equal(await f.exit, 0, f.stderr());
    const out = f.lines.join('\n');
    assert.match(out, /^52:54:00:12:34:01 +0\.\d{6}  #1 /m);
    assert.match(out, /^52:54:00:12:34:01 .*: (installed|registered)$/m);
  });

  it('a file that is not a capture is refused with the offset, exit 1', async () => {
    const file = join(dir, 'text.pcap');
    writeFileSync(file, 'this is not a capture file at all\n');
    const f = start([file]);
    f.child.stdin.end();
    setTimeout(() => f.child.kill('SIGINT'), 3000).unref();
    assert.equal(await f.exit, 1, f.stderr());
    assert.match(f.stderr(), /at byte 0/);
  });
});
