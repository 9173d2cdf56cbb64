// Lab benchmarks (not timed tests):
// 1. `rackforge lab up labs/quickstart.yaml` until both QEMU machines (TCG) have fetched their
//    per-MAC pxelinux config from the lab's provisioner;
// 2. a boot storm of N synthetic PXE machines (default 500): lab up until every one is done
//    (DHCP, TFTP pxelinux.0, ldlinux.c32, config, kernel, initrd, HTTP autoinstall).
// Prints a table and writes bench/results/lab.json. Usage:
//   node --import=tsx bench/lab.bench.ts [--synthetic N] [--only quickstart|storm]
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { LabStatus } from '../simulator/lab-control.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const SYNTHETIC = Number(opt('synthetic') ?? 500);
const ONLY = opt('only');

function rackforge(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bin/rackforge.js'), ...argv], { cwd: ROOT, maxBuffer: 64 << 20, timeout: 300_000 }, (err, out, stderr) => {
      if (err) reject(new Error(`rackforge ${argv.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(out);
    });
  });
}

async function xmlrpc(url: string, method: string, ...params: string[]): Promise<string> {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param><value><string>${p}</string></value></param>`).join('')}</params></methodCall>`;
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
  return r.text();
}

async function status(state: string): Promise<LabStatus> {
  return JSON.parse(await rackforge(['lab', 'status', '--json', `--state-dir=${state}`])) as LabStatus;
}

/** CPU seconds (user+system) the lab's processes used, from /proc: the runner and its QEMUs. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch { return NaN; }
}

async function quickstart(dir: string): Promise<Record<string, number>> {
  const state = join(dir, 'qs');
  const t0 = performance.now();
  const up = JSON.parse(await rackforge(['lab', 'up', 'labs/quickstart.yaml', `--state-dir=${state}`, `--captures=${join(dir, 'captures')}`, '--json'])) as LabStatus;
  const tUp = performance.now();
  const seen = new Map<string, number>();
  try {
    while (seen.size < 2 && performance.now() - t0 < 300_000) {
      for (const [i, node] of ['node1', 'node2'].entries()) {
        if (seen.has(node)) continue;
        const text = await xmlrpc(up.api.apiUrl, 'get_system_boot_events', node);
        if (text.includes(`pxelinux.cfg/01-52-54-00-10-00-0${i + 1} (`)) seen.set(node, performance.now());
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await rackforge(['lab', 'down', `--state-dir=${state}`]);
  }
  if (seen.size < 2) throw new Error('the quickstart machines did not fetch their configs within 5 minutes');
  return {
    lab_up_returned_s: (tUp - t0) / 1000,
    node1_config_s: (seen.get('node1')! - t0) / 1000,
    node2_config_s: (seen.get('node2')! - t0) / 1000,
    both_configs_s: (Math.max(...seen.values()) - t0) / 1000,
  };
}

async function storm(dir: string, count: number): Promise<Record<string, number>> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  writeFileSync(join(dir, 'images', 'vmlinuz'), randomBytes(48 * 1024));
  writeFileSync(join(dir, 'images', 'initrd.img'), randomBytes(96 * 1024));
  const file = join(dir, 'storm.yaml');
  writeFileSync(file, `lab: storm
networks:
  - { name: prov, group: 239.255.79.1, port: 17901, subnet: 10.79.0.0/21 }
provisioner:
  network: prov
  address: 10.79.0.1
  dhcp_range: 10.79.1.0-10.79.7.250
  inventory:
    distros: [{ name: storm-distro, kernel: images/vmlinuz, initrd: images/initrd.img, arch: x86_64 }]
    profiles: [{ name: storm, distro: storm-distro }]
synthetic:
  - { prefix: syn, network: prov, count: ${count}, mac_base: "52:54:02:00:00:01", firmware: bios, profile: storm }
`);
  const state = join(dir, 'storm');
  const t0 = performance.now();
  const up = JSON.parse(await rackforge(['lab', 'up', file, `--state-dir=${state}`, `--captures=${join(dir, 'captures')}`, '--accel=tcg', '--json'])) as LabStatus;
  const tUp = performance.now();
  let s: LabStatus = up;
  try {
    while (performance.now() - t0 < 600_000) {
      s = await status(state);
      if ((s.synthetic.stages['done'] ?? 0) + (s.synthetic.stages['failed'] ?? 0) >= count) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    const cpu = cpuSeconds(up.runnerPid);
    const tEnd = performance.now();
    await rackforge(['lab', 'down', `--state-dir=${state}`]);
    const pcap = join(dir, 'captures', 'storm', 'prov.pcap');
    Object.assign(s, { bench: { cpu, tEnd, pcapBytes: statSync(pcap).size } });
  }
  const b = (s as unknown as { bench: { cpu: number; tEnd: number; pcapBytes: number } }).bench;
  return {
    machines: count,
    done: s.synthetic.stages['done'] ?? 0,
    failed: s.synthetic.stages['failed'] ?? 0,
    lab_up_returned_s: (tUp - t0) / 1000,
    all_done_s: (b.tEnd - t0) / 1000,
    runner_cpu_s: b.cpu,
    capture_frames: s.networks[0]?.capture?.frames ?? 0,
    capture_mb: b.pcapBytes / 1e6,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'rf-bench-lab-'));
const started = new Date().toISOString();
const load = loadavg()[0];
try {
  const results: Record<string, Record<string, number>> = {};
  if (ONLY !== 'storm') results['quickstart'] = await quickstart(dir);
  if (ONLY !== 'quickstart') results['storm'] = await storm(dir, SYNTHETIC);
  const out = { started, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadBefore: load, loadAfter: loadavg()[0], command: `node --import=tsx bench/lab.bench.ts ${args.join(' ')}`.trim(), results };
  for (const [name, r] of Object.entries(results)) {
    console.log(`\n${name}`);
    for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(20)} ${Number.isInteger(v) ? v : v.toFixed(2)}`);
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'lab.json'), JSON.stringify(out, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
