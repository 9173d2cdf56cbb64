// The main job's benchmark: `npm start -- --detach` (setup, then `rackforge start`) until both
// quickstart machines are registered with the controller, broken down by stage from the
// lines `rackforge start` prints. Writes bench/results/start.json. Not a test: it fails only
// on errors. Usage: node --import=tsx bench/start.bench.ts [--runs N]
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] || 1) || 1;

function run(cmd: string, argv: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, argv, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

interface RunResult { total_s: number; setup_s: number; lab_up_s: number; stages: Record<string, Record<string, number>> }

async function once(): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rf-bench-start-'));
  try {
    const t0 = performance.now();
    const setup = await run(process.execPath, ['scripts/setup.mjs', 'start'], 600_000);
    if (setup.code !== 0) throw new Error(`setup failed: ${setup.stderr}`);
    const t1 = performance.now();
    const r = await run(process.execPath, ['bin/rackforge.js', 'start', '--detach', `--state-dir=${join(dir, 'state')}`, `--captures=${join(dir, 'captures')}`], 900_000);
    const t2 = performance.now();
    await run(process.execPath, ['bin/rackforge.js', 'lab', 'down', `--state-dir=${join(dir, 'state')}`], 120_000);
    if (r.code !== 0) throw new Error(`rackforge start failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    const stages: Record<string, Record<string, number>> = {};
    let labUp = NaN;
    for (const line of r.stdout.split('\n')) {
      const up = /^\s*(\d+) s {2}lab \S+ up:/.exec(line);
      if (up) labUp = Number(up[1]);
      const m = /^\s*(\d+) s {2}(\S+)\s+(\S+)\s/.exec(line);
      if (m && m[2] !== 'lab') (stages[m[2]!] ??= {})[m[3]!] = Number(m[1]);
    }
    return { total_s: (t2 - t0) / 1000, setup_s: (t1 - t0) / 1000, lab_up_s: labUp, stages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: RunResult[] = [];
const started = new Date().toISOString();
for (let i = 0; i < RUNS; i++) {
  const r = await once();
  results.push(r);
  console.log(`run ${i + 1}: ${r.total_s.toFixed(1)} s in all (setup ${r.setup_s.toFixed(1)} s, lab up at ${r.lab_up_s} s)`);
  for (const [node, st] of Object.entries(r.stages)) console.log(`  ${node}: ${Object.entries(st).map(([k, v]) => `${k} ${v}s`).join(', ')}`);
}
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', 'start.json'), JSON.stringify({ started, cpus: cpus().length, loadAfter: loadavg()[0], command: `node --import=tsx bench/start.bench.ts ${args.join(' ')}`.trim(), results }, null, 2) + '\n');
