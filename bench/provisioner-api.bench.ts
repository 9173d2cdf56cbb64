// The provisioner API benchmark (not a test): loads N systems through the Cobbler XML-RPC
// API and measures save_system, get_systems, find_system and sync against the targets of
// the 10,000-system issue. Prints a table; exits non-zero only when something fails, never
// because a target is missed.
//
//   npm run bench
//   node --import=tsx bench/provisioner-api.bench.ts [--systems N] [--modes child,inproc]
//        [--concurrency 8] [--cpu-prof DIR] [--skip-python]
//
// child: the server runs as `rackforge serve` in its own process (the headline figures: the
// client's encoding and decoding do not share the server's event loop). inproc: the same
// server started with startProvisioner() inside this process; after another mode it reopens
// the store that mode loaded and measures the reads only (loading twice doubles the run time).
// --cpu-prof DIR: the child server runs under --cpu-prof; DIR/phases.json records when each
// phase ran, so bench/cpu-profile-summary.ts can say where the server spent each phase.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startProvisioner } from '../cli/compose-provisioner.ts';
import { SeededRandom } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { decodeMethodResponse, encodeMethodCall, type XmlRpcValue } from '../provisioner/protocol/xmlrpc.ts';
import { sourceFingerprint } from './source-fingerprint.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
const PASSWORD = 'bench';
const DISTRO = 'bench-distro';
const PROFILE = 'bench-profile';
// get_systems over 10,000 systems is far above the codec's 32 MiB default.
const MAX_RESPONSE_BYTES = 1 << 30;

const TARGETS = { getSystemsS: 0.3, savesPerS: 1000, syncS: 1 } as const;

// ---------------------------------------------------------------------------------------------
// Options

interface Options { systems: number; modes: Mode[]; concurrency: number; cpuProfDir?: string; python: boolean }
type Mode = 'child' | 'inproc';

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      systems: { type: 'string', default: '10000' },
      modes: { type: 'string', default: 'child,inproc' },
      concurrency: { type: 'string', default: '8' },
      'cpu-prof': { type: 'string' },
      'skip-python': { type: 'boolean', default: false },
    },
  });
  const systems = Number(values.systems);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(systems) || systems < 100) throw new Error(`--systems must be an integer >= 100, got ${values.systems}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, got ${values.concurrency}`);
  const modes = String(values.modes).split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of modes) if (m !== 'child' && m !== 'inproc') throw new Error(`unknown mode '${m}' (child, inproc)`);
  return {
    systems, concurrency, modes: modes as Mode[], python: !values['skip-python'],
    ...(values['cpu-prof'] ? { cpuProfDir: resolve(values['cpu-prof']) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers

interface BenchServer {
  apiUrl: string;
  pid: number;
  /** Resident set and its peak, in bytes, of the process that runs the server. */
  memory(): { rss: number; peak: number };
  /** CPU time (user + system, all threads) the server's process has used so far, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

// utime and stime of /proc/PID/stat are in clock ticks: 100 per second on Linux.
const CLOCK_TICKS_PER_S = 100;

function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS_PER_S;
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function procStatusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

async function startChildServer(dataDir: string, cpuProfDir: string | undefined): Promise<BenchServer> {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child: ChildProcess = spawn(process.execPath, [
    ...nodeArgs, '--import=tsx', join(ROOT, 'bin', 'rackforge.js'),
    'serve', '--data', dataDir, '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'warn',
  ], { cwd: ROOT, env: { ...process.env, RACKFORGE_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000); });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not start within 60 s:\n${stderr}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /rackforge listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); res(m[1]!); }
    });
    void exited.then((code) => { clearTimeout(timer); rej(new Error(`server exited with ${code} before listening:\n${stderr}`)); });
  });
  const pid = child.pid!;
  return {
    apiUrl: `${url}/cobbler_api`,
    pid,
    memory: () => ({ rss: procStatusBytes(pid, 'VmRSS'), peak: procStatusBytes(pid, 'VmHWM') }),
    cpuMs: () => procCpuMs(pid),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`server exited with ${code}:\n${stderr}`);
    },
  };
}

async function startInProcessServer(dataDir: string): Promise<BenchServer> {
  const running = await startProvisioner({ dataDir, httpPort: 0, adminPassword: PASSWORD, log: silentLogger });
  return {
    apiUrl: running.apiUrl,
    pid: process.pid,
    memory: () => ({ rss: procStatusBytes('self', 'VmRSS'), peak: procStatusBytes('self', 'VmHWM') }),
    cpuMs: ownCpuMs,
    stop: () => running.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Client: the project's codec over fetch (undici keeps one connection per request in flight).

class Fault extends Error {}

async function call(apiUrl: string, method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
  const res = await fetch(apiUrl, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeMethodCall(method, params) });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status}`);
  const out = decodeMethodResponse(body, { maxBytes: MAX_RESPONSE_BYTES });
  if ('fault' in out) throw new Fault(`${method}: fault ${out.fault.faultCode}: ${out.fault.faultString}`);
  return out.value;
}

/** A call whose answer must be exactly `true` (modify_* and save_* say false when they ignore a field). */
async function callTrue(apiUrl: string, method: string, ...params: XmlRpcValue[]): Promise<void> {
  const v = await call(apiUrl, method, ...params);
  if (v !== true) throw new Error(`${method}(${String(params[1] ?? '')}) answered ${JSON.stringify(v)}, not true`);
}

interface TimedResponse { value: XmlRpcValue; bytes: number; headersMs: number; bodyMs: number; decodeMs: number; totalMs: number }

/** One call with its time split: until the response headers, the body, the decoding. */
async function timedCall(apiUrl: string, method: string, ...params: XmlRpcValue[]): Promise<TimedResponse> {
  const t0 = performance.now();
  const res = await fetch(apiUrl, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeMethodCall(method, params) });
  const t1 = performance.now();
  const body = Buffer.from(await res.arrayBuffer());
  const t2 = performance.now();
  if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status}`);
  const out = decodeMethodResponse(body, { maxBytes: MAX_RESPONSE_BYTES });
  const t3 = performance.now();
  if ('fault' in out) throw new Fault(`${method}: fault ${out.fault.faultCode}: ${out.fault.faultString}`);
  return { value: out.value, bytes: body.length, headersMs: t1 - t0, bodyMs: t2 - t1, decodeMs: t3 - t2, totalMs: t3 - t0 };
}

/**
 * Lets expired timers run before the next request. After a long synchronous decode the
 * keep-alive timers of both ends are overdue; when client and server share the event loop,
 * undici would otherwise reuse a socket the server closes in the same tick ("fetch failed").
 */
function settle(): Promise<void> {
  return new Promise((res) => setTimeout(res, 20));
}

/** Runs fn(0..count-1) with `concurrency` calls in flight; resolves the wall time in ms. */
async function inFlight(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await fn(next++);
  }));
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------
// The inventory: system i has a unique name, hostname, MAC, IPv4 address and DNS name.

const pad = (i: number) => String(i).padStart(5, '0');
const systemName = (i: number) => `node-${pad(i)}`;
const macOf = (i: number) => ['52', '54', '00', (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]
  .map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0'))).join(':');
// 10.16.0.1 onwards: never a .0 network address for the first 65,000 systems' low octets.
const ipOf = (i: number) => `10.${16 + ((i + 1) >> 16)}.${((i + 1) >> 8) & 0xff}.${(i + 1) & 0xff}`;

async function seedProfile(apiUrl: string, token: string): Promise<void> {
  const d = await call(apiUrl, 'new_distro', token) as string;
  for (const [k, v] of [['name', DISTRO], ['arch', 'x86_64'], ['breed', 'ubuntu'], ['kernel', '/srv/boot/bench/linux'], ['initrd', '/srv/boot/bench/initrd.gz']]) {
    await callTrue(apiUrl, 'modify_distro', d, k!, v!, token);
  }
  await callTrue(apiUrl, 'save_distro', d, token);
  const p = await call(apiUrl, 'new_profile', token) as string;
  await callTrue(apiUrl, 'modify_profile', p, 'name', PROFILE, token);
  await callTrue(apiUrl, 'modify_profile', p, 'distro', DISTRO, token);
  await callTrue(apiUrl, 'save_profile', p, token);
}

/** new_system and four modify_system calls: everything but the save. Resolves the handle. */
async function prepareSystem(apiUrl: string, token: string, i: number): Promise<string> {
  const h = await call(apiUrl, 'new_system', token);
  if (typeof h !== 'string') throw new Error(`new_system answered ${JSON.stringify(h)}`);
  await callTrue(apiUrl, 'modify_system', h, 'name', systemName(i), token);
  await callTrue(apiUrl, 'modify_system', h, 'profile', PROFILE, token);
  await callTrue(apiUrl, 'modify_system', h, 'hostname', systemName(i), token);
  await callTrue(apiUrl, 'modify_system', h, 'modify_interface', {
    'mac_address-eth0': macOf(i), 'ip_address-eth0': ipOf(i), 'dns_name-eth0': `${systemName(i)}.bench.example`,
  }, token);
  return h;
}

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => quantile(sortNum(xs), 0.5);

// ---------------------------------------------------------------------------------------------
// Phases. Each records its wall-clock window (monotonic µs, the clock V8's profiler uses).

interface PhaseWindow {
  name: string;
  startUs: number;
  endUs: number;
  /** CPU the server's process used during the phase (child mode: the server alone). */
  serverCpuMs: number;
  /** CPU this process used: the client (and, in-process, the server too). */
  benchCpuMs: number;
}

class Phases {
  readonly windows: PhaseWindow[] = [];
  constructor(private readonly serverCpuMs: () => number) {}

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const server0 = this.serverCpuMs();
    const bench0 = ownCpuMs();
    try {
      return await fn();
    } finally {
      this.windows.push({
        name, startUs, endUs: Number(process.hrtime.bigint() / 1000n),
        serverCpuMs: this.serverCpuMs() - server0, benchCpuMs: ownCpuMs() - bench0,
      });
    }
  }

  /** The windows whose name starts with `prefix`. */
  named(prefix: string): PhaseWindow[] {
    return this.windows.filter((w) => w.name.startsWith(prefix));
  }
}

interface LoadFigures {
  seqCreatePerS: number; seqCreateCount: number;
  seqSavePerS: number; seqSaveCount: number; seqSaveMedianMs: number; seqSaveP99Ms: number;
  parCreatePerS: number; parCreateCount: number;
  parSavePerS: number; parSaveCount: number; parSaveMedianMs: number; parSaveP99Ms: number;
}

/**
 * Loads `n` systems in four slices: created one at a time; prepared then saved one at a time;
 * created with `concurrency` in flight; prepared then saved with `concurrency` in flight.
 */
async function loadSystems(apiUrl: string, token: string, n: number, concurrency: number, phases: Phases): Promise<LoadFigures> {
  const seqCreate = Math.round(n * 0.1);
  const seqSave = Math.round(n * 0.05);
  const parSave = Math.round(n * 0.15);
  const parCreate = n - seqCreate - seqSave - parSave;
  let base = 0;

  const create = async (i: number) => {
    const h = await prepareSystem(apiUrl, token, i);
    await callTrue(apiUrl, 'save_system', h, token);
  };
  const savesTimed = async (handles: string[], inflight: number) => {
    const latencies: number[] = [];
    const wall = await inFlight(handles.length, inflight, async (k) => {
      const t = performance.now();
      await callTrue(apiUrl, 'save_system', handles[k]!, token);
      latencies.push(performance.now() - t);
    });
    const sorted = sortNum(latencies);
    return { perS: handles.length / (wall / 1000), medianMs: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
  };

  const b1 = base;
  const seqCreateMs = await phases.run('load: create, sequential', () => inFlight(seqCreate, 1, (k) => create(b1 + k)));
  base += seqCreate;

  const b2 = base;
  const handles2: string[] = new Array<string>(seqSave);
  await phases.run('load: prepare, sequential', () => inFlight(seqSave, 1, async (k) => { handles2[k] = await prepareSystem(apiUrl, token, b2 + k); }));
  const seqSaves = await phases.run('load: save only, sequential', () => savesTimed(handles2, 1));
  base += seqSave;

  const b3 = base;
  const parCreateMs = await phases.run(`load: create, ${concurrency} in flight`, () => inFlight(parCreate, concurrency, (k) => create(b3 + k)));
  base += parCreate;

  const b4 = base;
  const handles4: string[] = new Array<string>(parSave);
  await phases.run(`load: prepare, ${concurrency} in flight`, () => inFlight(parSave, concurrency, async (k) => { handles4[k] = await prepareSystem(apiUrl, token, b4 + k); }));
  const parSaves = await phases.run(`load: save only, ${concurrency} in flight`, () => savesTimed(handles4, concurrency));

  return {
    seqCreatePerS: seqCreate / (seqCreateMs / 1000), seqCreateCount: seqCreate,
    seqSavePerS: seqSaves.perS, seqSaveCount: seqSave, seqSaveMedianMs: seqSaves.medianMs, seqSaveP99Ms: seqSaves.p99Ms,
    parCreatePerS: parCreate / (parCreateMs / 1000), parCreateCount: parCreate,
    parSavePerS: parSaves.perS, parSaveCount: parSave, parSaveMedianMs: parSaves.medianMs, parSaveP99Ms: parSaves.p99Ms,
  };
}

interface PythonFigures { runsS: number[]; count: number; bytes: number; transferS: number; parseS: number }

// Python's own view: ServerProxy.get_systems() as a user's script calls it, then the same
// request split into HTTP transfer and xmlrpc.client.loads() to show where its time goes.
const PYTHON_GET_SYSTEMS = String.raw`
import http.client, json, sys, time, urllib.parse, xmlrpc.client
url, runs = sys.argv[1], int(sys.argv[2])
proxy = xmlrpc.client.ServerProxy(url)
times = []
for _ in range(runs):
    t = time.perf_counter()
    systems = proxy.get_systems()
    times.append(time.perf_counter() - t)
    count = len(systems)
    del systems
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(u.hostname, u.port)
t0 = time.perf_counter()
conn.request('POST', u.path, xmlrpc.client.dumps((), 'get_systems').encode(), {'Content-Type': 'text/xml'})
data = conn.getresponse().read()
t1 = time.perf_counter()
xmlrpc.client.loads(data)
t2 = time.perf_counter()
print(json.dumps({'runsS': times, 'count': count, 'bytes': len(data), 'transferS': t1 - t0, 'parseS': t2 - t1}))
`;

function runPythonGetSystems(apiUrl: string, runs: number): Promise<PythonFigures> {
  return new Promise((res, rej) => {
    execFile(PYTHON, ['-c', PYTHON_GET_SYSTEMS, apiUrl, String(runs)], { timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`python3 get_systems failed: ${err.message}\n${stderr}`));
      else res(JSON.parse(stdout) as PythonFigures);
    });
  });
}

interface Figures {
  mode: Mode;
  systems: number;
  concurrency: number;
  /** Absent when the mode reused the previous mode's loaded store. */
  load?: LoadFigures;
  memoryAfterLoad: { rss: number; peak: number };
  getSystems: { runs: TimedResponse[]; medianMs: number; bytes: number };
  python?: PythonFigures;
  find: { medianMs: number; p99Ms: number; seqPerS: number; parPerS: number; count: number };
  syncRunsMs: number[];
  memoryAtEnd: { rss: number; peak: number };
  phases: PhaseWindow[];
  /** /proc/loadavg (1, 5, 15 minutes) before and after: other work on the machine skews every figure. */
  loadBefore: string;
  loadAfter: string;
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * One server, measured. With `loaded`, the server opens that data directory, already holding
 * the systems, and only the reads are measured (loading twice would double the run time).
 */
async function benchMode(mode: Mode, opts: Options, dataDir: string, loaded: boolean): Promise<Figures> {
  const loadBefore = loadAverage();
  const profDir = mode === 'child' ? opts.cpuProfDir : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const server = mode === 'child' ? await startChildServer(dataDir, profDir) : await startInProcessServer(dataDir);
  const log = (s: string) => console.error(`[${mode}] ${s}`);
  const phases = new Phases(() => server.cpuMs());
  try {
    const { apiUrl } = server;
    log(`server pid ${server.pid} at ${apiUrl}, data in ${dataDir}`);
    const token = await call(apiUrl, 'login', 'cobbler', PASSWORD);
    if (typeof token !== 'string') throw new Error(`login answered ${JSON.stringify(token)}`);
    let load: LoadFigures | undefined;
    if (!loaded) {
      await seedProfile(apiUrl, token);
      log(`loading ${opts.systems} systems`);
      load = await loadSystems(apiUrl, token, opts.systems, opts.concurrency, phases);
    }
    const names = await call(apiUrl, 'get_item_names', 'system') as string[];
    if (names.length !== opts.systems) throw new Error(`${names.length} systems stored, expected ${opts.systems}`);
    const memoryAfterLoad = server.memory();

    log('get_systems x5 (codec over fetch)');
    const runs: TimedResponse[] = [];
    for (let r = 0; r < 5; r++) {
      await settle();
      const t = await phases.run(`get_systems #${r + 1}`, () => timedCall(apiUrl, 'get_systems'));
      if (!Array.isArray(t.value) || t.value.length !== opts.systems) throw new Error(`get_systems returned ${Array.isArray(t.value) ? t.value.length : typeof t.value} systems`);
      runs.push({ ...t, value: null });
      log(`  ${(t.totalMs / 1000).toFixed(3)} s (headers ${t.headersMs.toFixed(0)} ms, body ${t.bodyMs.toFixed(0)} ms, decode ${t.decodeMs.toFixed(0)} ms), ${(t.bytes / 1e6).toFixed(1)} MB`);
    }

    let python: PythonFigures | undefined;
    if (opts.python && !loaded) {
      log('get_systems x5 (python3 xmlrpc.client)');
      python = await phases.run('get_systems python3', () => runPythonGetSystems(apiUrl, 5));
      if (python.count !== opts.systems) throw new Error(`python3 saw ${python.count} systems`);
      log(`  ${python.runsS.map((s) => s.toFixed(3)).join(' ')} s`);
    }

    await settle();
    log('find_system by MAC x1000');
    const random = new SeededRandom(0x5eed);
    const picks = Array.from({ length: 1000 }, () => random.bytes(4).readUInt32LE(0) % opts.systems);
    const findOne = async (i: number) => {
      const found = await call(apiUrl, 'find_system', { mac_address: macOf(i) });
      if (!Array.isArray(found) || found.length !== 1 || found[0] !== systemName(i)) throw new Error(`find_system(${macOf(i)}) answered ${JSON.stringify(found)}`);
    };
    const latencies: number[] = [];
    const seqMs = await phases.run('find_system, sequential', () => inFlight(picks.length, 1, async (k) => {
      const t = performance.now();
      await findOne(picks[k]!);
      latencies.push(performance.now() - t);
    }));
    const parMs = await phases.run(`find_system, ${opts.concurrency} in flight`, () => inFlight(picks.length, opts.concurrency, (k) => findOne(picks[k]!)));
    const sortedLat = sortNum(latencies);

    log('sync x3');
    const syncRunsMs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await phases.run(`sync #${r + 1}`, () => callTrue(apiUrl, 'sync', token));
      syncRunsMs.push(performance.now() - t);
    }
    const memoryAtEnd = server.memory();

    if (profDir) writeFileSync(join(profDir, 'phases.json'), JSON.stringify({ pid: server.pid, windows: phases.windows }, null, 2));
    return {
      mode, systems: opts.systems, concurrency: opts.concurrency, ...(load ? { load } : {}), memoryAfterLoad,
      getSystems: { runs, medianMs: median(runs.map((r) => r.totalMs)), bytes: runs[0]!.bytes },
      ...(python ? { python } : {}),
      find: { medianMs: quantile(sortedLat, 0.5), p99Ms: quantile(sortedLat, 0.99), seqPerS: picks.length / (seqMs / 1000), parPerS: picks.length / (parMs / 1000), count: picks.length },
      syncRunsMs,
      memoryAtEnd,
      phases: phases.windows,
      loadBefore,
      loadAfter: loadAverage(),
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const perS = (x: number) => `${x.toFixed(0)} /s`;
const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

function table(f: Figures): string {
  const c = f.concurrency;
  const gs = f.getSystems;
  const server = f.mode === 'child' ? 'server' : 'process';
  // Server CPU of the phases starting with `prefix`, per unit of work.
  const cpu = (prefix: string, units: number, unit: string): string => {
    const ws = f.phases.filter((w) => w.name.startsWith(prefix));
    return ws.length === 0 ? '' : `${(ws.reduce((s, w) => s + w.serverCpuMs, 0) / units).toFixed(2)} ms/${unit}`;
  };
  const cpuMedian = (prefix: string): string => {
    const ws = f.phases.filter((w) => w.name.startsWith(prefix));
    return ws.length === 0 ? '' : `${median(ws.map((w) => w.serverCpuMs)).toFixed(0)} ms/call`;
  };
  type Row = [string, string, string, string, string];
  const rows: Row[] = [];
  const l = f.load;
  if (l) {
    rows.push(
      ['systems created/s (new + modify x4 + save), sequential', perS(l.seqCreatePerS), '', cpu('load: create, sequential', l.seqCreateCount, 'system'),
        `${l.seqCreateCount} systems, 6 calls each`],
      [`systems created/s (new + modify x4 + save), ${c} in flight`, perS(l.parCreatePerS), '', cpu(`load: create, ${c} in flight`, l.parCreateCount, 'system'),
        `${l.parCreateCount} systems, 6 calls each`],
      ['save_system calls/s alone, sequential', perS(l.seqSavePerS), '', cpu('load: save only, sequential', l.seqSaveCount, 'save'),
        `${l.seqSaveCount} saves; latency median ${l.seqSaveMedianMs.toFixed(2)} ms, p99 ${l.seqSaveP99Ms.toFixed(2)} ms`],
      [`save_system calls/s alone, ${c} in flight`, perS(l.parSavePerS), `>= ${TARGETS.savesPerS} /s: ${verdict(l.parSavePerS >= TARGETS.savesPerS)}`,
        cpu(`load: save only, ${c} in flight`, l.parSaveCount, 'save'),
        `${l.parSaveCount} saves; latency median ${l.parSaveMedianMs.toFixed(2)} ms, p99 ${l.parSaveP99Ms.toFixed(2)} ms`],
    );
  }
  rows.push(
    [`get_systems round trip (codec over fetch), median of ${gs.runs.length}`, secs(gs.medianMs), `< ${TARGETS.getSystemsS} s: ${verdict(gs.medianMs / 1000 < TARGETS.getSystemsS)}`,
      cpuMedian('get_systems #'), `runs ${gs.runs.map((r) => (r.totalMs / 1000).toFixed(3)).join(' ')} s`],
    ['  of which: until response headers (server work)', secs(median(gs.runs.map((r) => r.headersMs))), '', '', 'median'],
    ['  of which: body transfer', secs(median(gs.runs.map((r) => r.bodyMs))), '', '', 'median'],
    ['  of which: client decode (decodeMethodResponse)', secs(median(gs.runs.map((r) => r.decodeMs))), '', '', 'median'],
    ['get_systems response size', mb(gs.bytes), '', '', `${f.systems} systems, ${(gs.bytes / f.systems / 1000).toFixed(1)} kB each`],
  );
  if (f.python) {
    const py = f.python;
    rows.push([`get_systems round trip (python3 xmlrpc.client), median of ${py.runsS.length}`, secs(median(py.runsS) * 1000),
      `< ${TARGETS.getSystemsS} s: ${verdict(median(py.runsS) < TARGETS.getSystemsS)}`, cpu('get_systems python3', py.runsS.length + 1, 'call'),
      `runs ${py.runsS.map((s) => s.toFixed(3)).join(' ')} s`]);
    rows.push(['  of which: HTTP request + read (python3, one more run)', secs(py.transferS * 1000), '', '', ''],
      ['  of which: xmlrpc.client.loads (python3, same run)', secs(py.parseS * 1000), '', '', '']);
  }
  rows.push(
    ['find_system({mac_address}) latency, sequential', `${f.find.medianMs.toFixed(2)} ms`, '', cpu('find_system, sequential', f.find.count, 'call'),
      `median; p99 ${f.find.p99Ms.toFixed(2)} ms; ${f.find.count} random MACs`],
    ['find_system throughput, sequential', perS(f.find.seqPerS), '', '', ''],
    [`find_system throughput, ${c} in flight`, perS(f.find.parPerS), '', cpu(`find_system, ${c} in flight`, f.find.count, 'call'), ''],
    ['sync(token), median of 3', secs(median(f.syncRunsMs)), `< ${TARGETS.syncS} s: ${verdict(median(f.syncRunsMs) / 1000 < TARGETS.syncS)}`,
      cpuMedian('sync #'), `runs ${f.syncRunsMs.map((m) => (m / 1000).toFixed(3)).join(' ')} s`],
    [`${server} RSS ${l ? 'after loading' : 'after opening the loaded store'}`, mib(f.memoryAfterLoad.rss), '', '', `peak so far ${mib(f.memoryAfterLoad.peak)}`],
    [`${server} RSS at the end`, mib(f.memoryAtEnd.rss), '', '', `peak ${mib(f.memoryAtEnd.peak)}`],
  );
  const head: Row = ['measure', 'value', 'target', `${server} CPU`, 'notes'];
  const w = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((x, i) => (i < 4 ? x.padEnd(w[i]!) : x)).join(' | ')} |`;
  return [line(head), line([...w.map((n) => '-'.repeat(n)), '---']), ...rows.map(line)].join('\n');
}

/** Every phase: wall time and the CPU the server and the bench used in it. */
function phaseTable(f: Figures): string {
  const server = f.mode === 'child' ? 'server' : 'process';
  const rows = f.phases.map((p) => [p.name, ((p.endUs - p.startUs) / 1000).toFixed(0), p.serverCpuMs.toFixed(0), f.mode === 'child' ? p.benchCpuMs.toFixed(0) : '']);
  const head = ['phase', 'wall ms', `${server} CPU ms`, f.mode === 'child' ? 'bench CPU ms' : ''];
  const w = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join(' | ')} |`;
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const title = (mode: Mode) => mode === 'child'
    ? 'server in a child process (`rackforge serve`): headline figures'
    : 'server in the bench process (startProvisioner): client and server share one event loop';
  const src = sourceFingerprint();
  console.log(`rackforge provisioner API benchmark: ${opts.systems} systems, node ${process.version}, ${new Date().toISOString()}`);
  console.log(`server sources (bin cli lib provisioner, ${src.files} files): sha256 ${src.sha256}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'rf-bench-'));
  try {
    for (const [k, mode] of opts.modes.entries()) {
      const t = performance.now();
      const f = await benchMode(mode, opts, dataDir, k > 0);
      const reused = k > 0 ? `; reads only, on the store ${opts.modes[0]} loaded` : '';
      console.log(`\n## ${title(mode)} (${((performance.now() - t) / 1000).toFixed(0)} s${reused})\n`);
      console.log(table(f));
      console.log(`\nload average (1/5/15 min) before: ${f.loadBefore}, after: ${f.loadAfter}\n`);
      console.log(phaseTable(f));
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (opts.cpuProfDir) console.log(`\nCPU profile of the child server and its phases in ${opts.cpuProfDir}: node --import=tsx bench/cpu-profile-summary.ts ${opts.cpuProfDir}`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  const cause = err instanceof Error && err.cause !== undefined ? `\ncause: ${err.cause instanceof Error ? err.cause.stack ?? err.cause.message : String(err.cause)}` : '';
  console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}${cause}`);
  process.exitCode = 1;
});
