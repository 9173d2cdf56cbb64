// Capture analysis against Wireshark: `rackforge capture timeline FILE --json` and `tshark -r FILE`
// on the same boot-storm capture (bench/boot-storm-capture.ts, default 200 MB), classic pcap and
// pcapng (converted by editcap), each timed as a whole process with its peak RSS; then the
// analyzer alone on a quarter of the file and on all of it, to show memory does not grow with
// the file. Prints a table and writes bench/results/capture.json. Not a test: it fails only on
// errors, never on a missed target.
//   node --import=tsx bench/capture.bench.ts [--mb 200] [--runs 3]
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBootStormCapture } from './boot-storm-capture.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : dflt; };
const MB = opt('mb', 200);
const RUNS = opt('runs', 3);

interface Timed { wall_s: number; peak_rss_mb: number; stdout: string }

/** Runs argv under /usr/bin/time for wall time and peak RSS; stdout is kept (the JSON report). */
function timed(argv: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile('/usr/bin/time', ['-f', '%M', ...argv], { cwd: ROOT, maxBuffer: 256 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      const wall = (performance.now() - t0) / 1000;
      if (err) { reject(new Error(`${argv.join(' ')}: ${err.message}\n${stderr.slice(-2000)}`)); return; }
      const kb = Number(stderr.trim().split('\n').pop());
      resolve({ wall_s: wall, peak_rss_mb: kb / 1024, stdout });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function best(argv: string[]): Promise<Timed & { runs: number[] }> {
  const runs: Timed[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timed(argv));
  const walls = runs.map((r) => r.wall_s);
  const m = median(walls);
  const pick = runs.find((r) => r.wall_s === m) as Timed;
  return { ...pick, runs: walls };
}

const rackforge = (file: string): string[] => [process.execPath, join(ROOT, 'bin/rackforge.js'), 'capture', 'timeline', file, '--json'];
const tshark = (file: string): string[] => ['tshark', '-r', file];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rf-bench-capture-'));
  try {
    const pcap = join(dir, 'storm.pcap');
    const g = writeBootStormCapture(pcap, MB * 1_000_000);
    const quarter = join(dir, 'storm-quarter.pcap');
    writeBootStormCapture(quarter, (MB * 1_000_000) / 4);
    const pcapng = join(dir, 'storm.pcapng');
    await timed(['editcap', '-F', 'pcapng', pcap, pcapng]);
    const rows: Array<Record<string, unknown>> = [];
    for (const [format, file] of [['pcap', pcap], ['pcapng', pcapng]] as const) {
      const ours = await best(rackforge(file));
      const report = JSON.parse(ours.stdout) as { frames?: number; machines?: unknown[] };
      const theirs = await best(tshark(file));
      rows.push({
        format, bytes: statSync(file).size, frames: g.frames, machines_reported: Array.isArray(report.machines) ? report.machines.length : null,
        rackforge_s: ours.wall_s, rackforge_runs: ours.runs, rackforge_rss_mb: ours.peak_rss_mb,
        tshark_s: theirs.wall_s, tshark_runs: theirs.runs, tshark_rss_mb: theirs.peak_rss_mb,
        speedup: theirs.wall_s / ours.wall_s,
      });
    }
    const small = await best(rackforge(quarter));
    const memory = { quarter_bytes: statSync(quarter).size, quarter_rss_mb: small.peak_rss_mb, full_bytes: statSync(pcap).size, full_rss_mb: (rows[0] as { rackforge_rss_mb: number }).rackforge_rss_mb };
    const result = {
      date: new Date().toISOString(), cpus: cpus().length, loadavg: loadavg(), node: process.version,
      capture: { mb: MB, frames: g.frames, machines: g.machines }, runs: RUNS, rows, memory,
    };
    console.log('| format | size | frames | rackforge capture timeline | tshark -r | speed-up | rackforge peak RSS | tshark peak RSS |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows as Array<Record<string, number | string>>) {
      console.log(`| ${r['format']} | ${(Number(r['bytes']) / 1e6).toFixed(0)} MB | ${r['frames']} | ${Number(r['rackforge_s']).toFixed(2)} s | ${Number(r['tshark_s']).toFixed(2)} s | ${Number(r['speedup']).toFixed(1)}× | ${Number(r['rackforge_rss_mb']).toFixed(0)} MB | ${Number(r['tshark_rss_mb']).toFixed(0)} MB |`);
    }
    console.log(`\nmemory: ${(memory.quarter_bytes / 1e6).toFixed(0)} MB file → ${memory.quarter_rss_mb.toFixed(0)} MB peak RSS; ${(memory.full_bytes / 1e6).toFixed(0)} MB file → ${memory.full_rss_mb.toFixed(0)} MB peak RSS`);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/capture.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
