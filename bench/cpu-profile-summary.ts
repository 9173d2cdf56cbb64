// Where the server's CPU went, phase by phase: reads the .cpuprofile that
// `provisioner-api.bench.ts --cpu-prof DIR` made the child server write, and the phase windows
// the bench recorded in DIR/phases.json (both on the monotonic clock V8's profiler uses).
//
//   node --import=tsx bench/cpu-profile-summary.ts DIR [--top 15] [--phase substring]
//
// For each phase (repeated runs such as "get_systems #1..#5" pooled): samples, the share that
// was idle, then the top functions by self time, by total time (the function anywhere on the
// stack), and self time per source file.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
export interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }
export interface PhaseWindow { name: string; startUs: number; endUs: number }

const ROOT = join(import.meta.dirname, '..');

function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}

function frameLabel(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const name = functionName || '(anonymous)';
  // Under tsx the line numbers of our own files are those of the transformed code: left out.
  if (url.startsWith('file://')) return `${name} ${shortUrl(url)}`;
  return url ? `${name} ${url}:${lineNumber + 1}` : name;
}

function fileLabel(n: ProfileNode): string {
  const u = shortUrl(n.callFrame.url);
  if (u === '') return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  return nm ? `node_modules/${nm[1]}` : u;
}

function top(map: Map<string, number>, total: number, n: number): string[] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, v]) => `  ${(100 * v / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`);
}

/** Per phase (windows of the same name pooled): self, total and per-file time, as text lines. */
export function summarise(profile: CpuProfile, windows: PhaseWindow[], n: number, phaseFilter?: string): string[] {
  const lines: string[] = [];
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);

  // Sample i covers [time[i], time[i+1]): attribute its duration to its node.
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) { t += d; times.push(t); }

  const groups = new Map<string, PhaseWindow[]>();
  for (const w of windows) {
    if (phaseFilter && !w.name.includes(phaseFilter)) continue;
    const key = w.name.replace(/ #\d+$/, '');
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }

  for (const [name, ws] of groups) {
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    const files = new Map<string, number>();
    let sum = 0;
    let idle = 0;
    let wall = 0;
    for (const w of ws) wall += w.endUs - w.startUs;
    for (let i = 0; i < profile.samples.length; i++) {
      const at = times[i]!;
      if (!ws.some((w) => at >= w.startUs && at < w.endUs)) continue;
      const dur = (times[i + 1] ?? profile.endTime) - at;
      const node = byId.get(profile.samples[i]!)!;
      sum += dur;
      if (node.callFrame.functionName === '(idle)') { idle += dur; continue; }
      self.set(frameLabel(node), (self.get(frameLabel(node)) ?? 0) + dur);
      files.set(fileLabel(node), (files.get(fileLabel(node)) ?? 0) + dur);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const label = frameLabel(byId.get(id)!);
        if (seen.has(label) || label === '(root)') continue;
        seen.add(label);
        total.set(label, (total.get(label) ?? 0) + dur);
      }
    }
    const busy = sum - idle;
    lines.push('', `=== ${name}: ${ws.length} window(s), ${(wall / 1000).toFixed(0)} ms wall, ${(busy / 1000).toFixed(0)} ms on the main thread (${(100 * busy / Math.max(1, sum)).toFixed(0)}% busy)`);
    if (busy === 0) continue;
    lines.push('self time, % of busy:', ...top(self, busy, n));
    lines.push('total time (on the stack), % of busy:', ...top(total, busy, n));
    lines.push('self time by file:', ...top(files, busy, n));
  }
  return lines;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '15' }, phase: { type: 'string' } },
  });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: cpu-profile-summary.ts DIR [--top N] [--phase substring]');
  const { pid, windows } = JSON.parse(readFileSync(join(dir, 'phases.json'), 'utf8')) as { pid: number; windows: PhaseWindow[] };
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.split('.').includes(String(pid)));
  if (!file) throw new Error(`no .cpuprofile of pid ${pid} in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  console.log(summarise(profile, windows, Number(values.top), values.phase).join('\n'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
