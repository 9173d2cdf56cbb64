// Boot services benchmark (not a test): DHCP lease rate and TFTP throughput of `rackforge serve`
// side by side with Debian's dnsmasq, Kea's kea-dhcp4 (memfile) and tftpd-hpa, in one run on
// this machine. Prints markdown tables, writes bench/results/boot-services.json, and exits
// non-zero only when something fails (a server that does not start, a corrupt download, an
// ACKed lease missing from a store is reported, not fatal), never because a target is missed.
//
//   node --import=tsx bench/boot-services.bench.ts [--quick] [--only dhcp|tftp|profile]
//        [--dhcp-seconds S] [--rates 2000,5000,10000] [--tftp-runs N] [--servers rackforge,dnsmasq,...]
//        [--cpu-prof DIR] [--out FILE]
//
// Everything runs in fresh `unshare -Urn` namespaces (test/helpers/netns.ts), one namespace
// session per server and run: the server on veth `srv` 10.77.0.1/16, the clients (perfdhcp,
// atftp, curl) in a nested namespace on `cli` 10.77.0.2/16. Nothing reaches the host's network.
// The runs are interleaved (each rate, or each TFTP download, goes through every server in turn)
// so that load from other work on the machine falls on all servers alike. The shell side is
// bench/boot-services.sh; each session's script and output stay in the work directory.
//
// DHCP: for each offered rate and each server, a fresh server (empty lease store), then
//   perfdhcp -4 -g single -l cli -r RATE -R 60000 -p SECS -x l 10.77.0.1
// (perfdhcp acts as a relay: it sends from 10.77.0.2:67 with giaddr 10.77.0.2, so the pool is on
// the same /16). Then the server is killed with SIGKILL and its lease store read back: every
// address perfdhcp saw ACKed must be a bound lease there. That makes the rate one of leases
// persisted crash-safely, for rackforge (SQLite, WAL) and for the others alike.
//
// TFTP: a 64 MiB random file, downloaded from each server by atftp (blksize 1428 with and without
// windowsize 16) and curl (blksize 1428, and the default 512), N rounds, sha256 checked.
//
// --cpu-prof DIR: afterwards, one more rackforge session under node --cpu-prof (DHCP at the
// highest rate, then TFTP with windowsize 16 and with 512-byte blocks); DIR/dhcp and DIR/tftp
// get the profile and a phases.json for bench/cpu-profile-summary.ts, and the top cost centres
// are printed. Its figures are not mixed into the table (the profiler costs time).
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../provisioner/store/sqlite-store.ts';
import { NETNS_PRELUDE, runInNetns, shellQuote } from '../test/helpers/netns.ts';
import { summarise, type CpuProfile, type PhaseWindow } from './cpu-profile-summary.ts';
import { sourceFingerprint } from './source-fingerprint.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_IP = '10.77.0.1';
const POOL = ['10.77.1.0', '10.77.255.254'] as const;
const CLIENTS = 60_000;
const TFTP_FILE = 'f64m.bin';
const TFTP_BYTES = 64 * 1024 * 1024;

const TARGETS = { dhcpVsKea: 1, dhcpVsDnsmasq: 10, tftpWindowVsHpa: 5, tftpPlainVsHpa: 1 } as const;

// ---------------------------------------------------------------------------------------------
// Options

type DhcpServer = 'rackforge' | 'dnsmasq' | 'kea';
type TftpServer = 'rackforge' | 'tftpd-hpa' | 'dnsmasq';
const DHCP_SERVERS: DhcpServer[] = ['rackforge', 'dnsmasq', 'kea'];
const TFTP_SERVERS: TftpServer[] = ['rackforge', 'tftpd-hpa', 'dnsmasq'];

interface Options {
  quick: boolean;
  dhcp: boolean;
  tftp: boolean;
  dhcpSeconds: number;
  rates: number[];
  tftpRuns: number;
  dhcpServers: DhcpServer[];
  tftpServers: TftpServer[];
  cpuProfDir?: string;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'dhcp-seconds': { type: 'string' },
      rates: { type: 'string', default: '2000,5000,10000' },
      'tftp-runs': { type: 'string' },
      servers: { type: 'string' },
      'cpu-prof': { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results', 'boot-services.json') },
    },
  });
  const quick = values.quick === true;
  const only = values.only;
  if (only !== undefined && only !== 'dhcp' && only !== 'tftp' && only !== 'profile') throw new Error(`--only must be dhcp, tftp or profile, got ${only}`);
  if (only === 'profile' && !values['cpu-prof']) throw new Error('--only profile needs --cpu-prof DIR');
  const dhcpSeconds = Number(values['dhcp-seconds'] ?? (quick ? 3 : 6));
  const tftpRuns = Number(values['tftp-runs'] ?? (quick ? 1 : 3));
  const rates = String(values.rates).split(',').map(Number);
  if (!Number.isInteger(dhcpSeconds) || dhcpSeconds < 1) throw new Error('--dhcp-seconds must be a whole number of seconds >= 1');
  if (!Number.isInteger(tftpRuns) || tftpRuns < 1) throw new Error('--tftp-runs must be >= 1');
  if (rates.some((r) => !Number.isInteger(r) || r < 1)) throw new Error('--rates must be positive integers');
  const servers = values.servers?.split(',').map((s) => s.trim());
  for (const s of servers ?? []) if (![...DHCP_SERVERS, ...TFTP_SERVERS].includes(s as DhcpServer)) throw new Error(`unknown server ${s}`);
  return {
    quick,
    dhcp: only === undefined || only === 'dhcp',
    tftp: only === undefined || only === 'tftp',
    dhcpSeconds,
    rates,
    tftpRuns,
    dhcpServers: DHCP_SERVERS.filter((s) => !servers || servers.includes(s)),
    tftpServers: TFTP_SERVERS.filter((s) => !servers || servers.includes(s)),
    ...(values['cpu-prof'] ? { cpuProfDir: resolve(values['cpu-prof']) } : {}),
    out: resolve(values.out),
  };
}

// ---------------------------------------------------------------------------------------------
// Commands (the same strings go into the scripts and into the report)

/** Server start commands; $D is the per-run directory, $ROOT the TFTP root. */
const DHCP_START: Record<DhcpServer, string> = {
  rackforge:
    `bs_start_rackforge "$D" --interface srv --server-ip ${SERVER_IP} --dhcp-range ${POOL[0]},${POOL[1]} --gateway ${SERVER_IP} --lease-time 3600`,
  dnsmasq:
    `dnsmasq -d -k --conf-file=/dev/null --port=0 --interface=srv --bind-interfaces --no-ping ` +
    `--dhcp-range=${POOL[0]},${POOL[1]},255.255.0.0,1h --dhcp-option=option:router,${SERVER_IP} --dhcp-lease-max=200000 ` +
    `--quiet-dhcp --dhcp-leasefile="$D/dnsmasq.leases" --pid-file="$D/dnsmasq.pid" >"$D/serve.out" 2>&1 & BS_PID=$!; bs_wait_udp 67 $BS_PID`,
  kea:
    `KEA_LOCKFILE_DIR="$D" KEA_PIDFILE_DIR="$D" kea-dhcp4 -c "$D/kea-dhcp4.json" >"$D/serve.out" 2>&1 & BS_PID=$!; bs_wait_udp 67 $BS_PID`,
};

function keaConfig(dir: string): string {
  return JSON.stringify({
    Dhcp4: {
      'interfaces-config': { interfaces: ['srv'], 'dhcp-socket-type': 'udp' },
      'lease-database': { type: 'memfile', persist: true, name: join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
      'valid-lifetime': 3600,
      subnet4: [{ id: 1, subnet: '10.77.0.0/16', pools: [{ pool: `${POOL[0]} - ${POOL[1]}` }], 'option-data': [{ name: 'routers', data: SERVER_IP }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stderr' }], severity: 'WARN' }],
    },
  }, null, 2);
}

function perfdhcpCommand(rate: number, seconds: number): string {
  // -g single: perfdhcp's multi-threaded mode spends about a core more of this 2-core machine.
  return `perfdhcp -4 -g single -l cli -r ${rate} -R ${CLIENTS} -p ${seconds} -x l ${SERVER_IP}`;
}

const TFTP_START: Record<TftpServer, string> = {
  rackforge: `bs_start_rackforge "$D" --server-ip ${SERVER_IP} --tftp-root "$ROOT"`,
  'tftpd-hpa': `LD_PRELOAD="$BS_SHIM" in.tftpd -L -s "$ROOT" -a ${SERVER_IP}:69 -u root -B 65464 >"$D/serve.out" 2>&1 & BS_PID=$!; bs_wait_udp 69 $BS_PID`,
  dnsmasq:
    `dnsmasq -d -k --conf-file=/dev/null --port=0 --interface=srv --bind-interfaces --enable-tftp --tftp-root="$ROOT" ` +
    `--pid-file="$D/dnsmasq.pid" >"$D/serve.out" 2>&1 & BS_PID=$!; bs_wait_udp 69 $BS_PID`,
};

interface TftpClient { label: string; windowsize: boolean; argv: (out: string) => string[] }
const TFTP_CLIENTS: TftpClient[] = [
  { label: 'atftp blksize 1428 windowsize 16', windowsize: true, argv: (o) => ['atftp', '--option', 'blksize 1428', '--option', 'windowsize 16', '-g', '-r', TFTP_FILE, '-l', o, SERVER_IP, '69'] },
  { label: 'atftp blksize 1428', windowsize: false, argv: (o) => ['atftp', '--option', 'blksize 1428', '-g', '-r', TFTP_FILE, '-l', o, SERVER_IP, '69'] },
  { label: 'curl --tftp-blksize 1428', windowsize: false, argv: (o) => ['curl', '-sS', '-o', o, '--tftp-blksize', '1428', `tftp://${SERVER_IP}/${TFTP_FILE}`] },
  { label: 'curl (blksize 512)', windowsize: false, argv: (o) => ['curl', '-sS', '-o', o, `tftp://${SERVER_IP}/${TFTP_FILE}`] },
];

// ---------------------------------------------------------------------------------------------
// Running a namespace session

async function session(name: string, body: string, outDir: string, timeoutMs: number): Promise<string> {
  const script = `${NETNS_PRELUDE}\nsource ${shellQuote(join(ROOT, 'bench', 'boot-services.sh'))}\nbs_lab\n${body}`;
  writeFileSync(join(outDir, `${name}.sh`), script);
  const r = await runInNetns(script, { timeoutMs, env: { BS_OUT: outDir } });
  writeFileSync(join(outDir, `${name}.stdout`), r.stdout);
  writeFileSync(join(outDir, `${name}.stderr`), r.stderr);
  if (r.code !== 0 || r.killed) {
    throw new Error(`${name}: namespace script ${r.killed ? 'timed out' : `exited ${r.code}`}\n${r.stderr.slice(-3000)}`);
  }
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// DHCP

interface PerfdhcpExchange { sent: number; received: number; dropsPct: number; avgDelayMs: number }
interface PerfdhcpReport { rate: number; discover: PerfdhcpExchange; request: PerfdhcpExchange; ackedIps: string[] }

function parsePerfdhcp(text: string): PerfdhcpReport {
  const rate = Number(/Rate: ([\d.]+) 4-way exchanges\/second/.exec(text)?.[1] ?? NaN);
  const section = (title: string): PerfdhcpExchange => {
    const start = text.indexOf(`***Statistics for: ${title}***`);
    if (start < 0) return { sent: 0, received: 0, dropsPct: 100, avgDelayMs: NaN };
    const s = text.slice(start, start + 2000);
    const num = (re: RegExp) => Number(re.exec(s)?.[1] ?? NaN);
    return { sent: num(/sent packets: (\d+)/), received: num(/received packets: (\d+)/), dropsPct: num(/drops ratio: ([\d.]+) %/), avgDelayMs: num(/avg delay: ([\d.]+) ms/) };
  };
  const ackedIps: string[] = [];
  const leases = text.indexOf('***Leases for REQUEST-ACK***');
  if (leases >= 0) {
    for (const line of text.slice(leases).split('\n').slice(2)) {
      const m = /^[^,]*,(\d+\.\d+\.\d+\.\d+),/.exec(line.trim());
      if (m) ackedIps.push(m[1]!);
      else if (line.trim() === '') break;
    }
  }
  return { rate, discover: section('DISCOVER-OFFER'), request: section('REQUEST-ACK'), ackedIps };
}

/** Bound leases each server's store holds, read after the server was killed with SIGKILL. */
function persistedBound(server: DhcpServer, dir: string, nowS: number): Set<string> {
  const bound = new Set<string>();
  if (server === 'rackforge') {
    const store = SqliteStore.open(join(dir, 'data'));
    try {
      for (const l of store.listLeases()) if (l.state === 'bound' && l.expiresAt > nowS) bound.add(l.ip);
    } finally {
      store.close();
    }
  } else if (server === 'dnsmasq') {
    const file = join(dir, 'dnsmasq.leases');
    if (existsSync(file)) for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f.length >= 3 && Number(f[0]) > nowS) bound.add(f[2]!);
    }
  } else {
    // Kea's memfile appends a row per change; the last row of an address is its state.
    const last = new Map<string, string[]>();
    const file = join(dir, 'kea-leases4.csv');
    if (existsSync(file)) for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.split(',');
      if (f.length >= 10) last.set(f[0]!, f);
    }
    for (const [ip, f] of last) if (Number(f[3]) > 0 && Number(f[4]) > nowS && f[9] === '0') bound.add(ip);
  }
  return bound;
}

interface DhcpRow {
  server: DhcpServer;
  offered: number;
  seconds: number;
  /** perfdhcp's "Rate: N 4-way exchanges/second". */
  rate: number;
  discover: PerfdhcpExchange;
  request: PerfdhcpExchange;
  /** Distinct addresses perfdhcp saw ACKed. */
  acked: number;
  /** Bound leases in the server's store after SIGKILL. */
  persisted: number;
  /** ACKed addresses not bound in the store after SIGKILL. */
  missing: number;
  serverCpuMs: number;
  /** perfdhcp's own CPU time (user + system): it shares the machine's cores. */
  perfdhcpCpuMs: number;
  perfdhcpExit: number;
  /** Time the server's main thread was runnable but waiting for a CPU (/proc/PID/schedstat). */
  runqueueWaitMs: number;
  /** CPU time the hypervisor gave to other tenants during the run (both vCPUs, /proc/stat steal). */
  stealMs: number;
  /** /proc/loadavg just before the run. */
  load: string;
  startMs: number;
}

/** One DHCP run in its own namespace session: a fresh server, perfdhcp, SIGKILL, the store read back. */
async function runDhcp(server: DhcpServer, rate: number, o: Options, out: string): Promise<DhcpRow> {
  const d = join(out, 'dhcp', server, String(rate));
  mkdirSync(d, { recursive: true });
  if (server === 'kea') writeFileSync(join(d, 'kea-dhcp4.json'), keaConfig(d));
  const lines = [
    `D=${shellQuote(d)}`,
    't0=$(date +%s%N)',
    DHCP_START[server],
    't1=$(date +%s%N)',
    'sleep 0.5',
    'echo "LOAD $(cut -d\' \' -f1-3 /proc/loadavg)"',
    'c0=$(bs_cpu_ms $BS_PID); q0=$(bs_runq_ms $BS_PID); s0=$(bs_steal_ms)',
    `rc=0; in_netns "$BS_CLI" /usr/bin/time -f '%U %S' -o "$D/perfdhcp.time" ${perfdhcpCommand(rate, o.dhcpSeconds)} >"$D/perfdhcp.out" 2>&1 || rc=$?`,
    'c1=$(bs_cpu_ms $BS_PID); q1=$(bs_runq_ms $BS_PID); s1=$(bs_steal_ms)',
    'kill -0 $BS_PID || { echo "server died during the run" >&2; cat "$D/serve.out" "$D/serve.err" 2>/dev/null | tail -20 >&2; exit 1; }',
    'bs_kill9 $BS_PID',
    'echo "DHCP $(( c1 - c0 )) $rc $(( (t1 - t0) / 1000000 )) $(( q1 - q0 )) $(( s1 - s0 ))"',
  ];
  const stdout = await session(`session`, lines.join('\n'), d, (o.dhcpSeconds + 45) * 1000);
  const m = /^DHCP (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(stdout);
  if (!m) throw new Error(`dhcp ${server} ${rate}/s: no result line in the session's output`);
  const p = parsePerfdhcp(readFileSync(join(d, 'perfdhcp.out'), 'utf8'));
  const acked = new Set(p.ackedIps);
  const ptime = /^([\d.]+) ([\d.]+)$/m.exec(readFileSync(join(d, 'perfdhcp.time'), 'utf8'));
  const bound = persistedBound(server, d, Date.now() / 1000);
  let missing = 0;
  for (const ip of acked) if (!bound.has(ip)) missing++;
  return {
    server, offered: rate, seconds: o.dhcpSeconds, rate: p.rate, discover: p.discover, request: p.request,
    acked: acked.size, persisted: bound.size, missing, serverCpuMs: Number(m[1]), perfdhcpCpuMs: ptime ? Math.round(1000 * (Number(ptime[1]) + Number(ptime[2]))) : -1,
    perfdhcpExit: Number(m[2]), startMs: Number(m[3]), runqueueWaitMs: Number(m[4]), stealMs: Number(m[5]), load: /^LOAD (.*)$/m.exec(stdout)?.[1] ?? '',
  };
}

// ---------------------------------------------------------------------------------------------
// TFTP

interface TftpRun { seconds: number; ok: boolean; serverCpuMs: number; clientCpuMs: number; /** Hypervisor steal (both vCPUs) during the download. */ stealMs: number; /** /proc/loadavg when the round's server had started. */ load: string }
interface TftpRow { server: TftpServer; client: string; windowsize: boolean; runs: TftpRun[]; bestMBs: number; medianMBs: number; failures: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Downloads by the given clients from one server, in a namespace session of its own. */
async function runTftpSession(server: TftpServer, round: number, clients: TftpClient[], out: string, root: string, sha: string, shm: string): Promise<Map<string, TftpRun>> {
  const d = join(out, 'tftp', server, `round-${round}`, clients.map((c) => c.label.replace(/[^a-z0-9]+/gi, '-')).join('+'));
  mkdirSync(d, { recursive: true });
  const target = join(shm, `${server}.out`);
  const lines = [`D=${shellQuote(d)}`, `ROOT=${shellQuote(root)}`, ...(server === 'tftpd-hpa' ? ['bs_build_setgroups_shim'] : []), TFTP_START[server], 'echo "LOAD $(cut -d\' \' -f1-3 /proc/loadavg)"'];
  for (const c of clients) lines.push(`bs_tftp_get ${shellQuote(c.label)} ${round} $BS_PID ${shellQuote(target)} ${c.argv(target).map(shellQuote).join(' ')}`);
  lines.push('bs_kill9 $BS_PID');
  const stdout = await session('session', lines.join('\n'), d, 60_000 + clients.length * 95_000);
  const load = /^LOAD (.*)$/m.exec(stdout)?.[1] ?? '';
  const runs = new Map<string, TftpRun>();
  for (const line of stdout.split('\n')) {
    const f = line.split('\t');
    if (f.length < 7 || !clients.some((c) => c.label === f[0])) continue;
    runs.set(f[0]!, { seconds: Number(f[2]) / 1e6, ok: f[3] === sha && f[4] === '0', serverCpuMs: Number(f[5]), clientCpuMs: Number(f[6]), stealMs: Number(f[7] ?? 0), load });
  }
  for (const c of clients) if (!runs.has(c.label)) throw new Error(`tftp ${server} round ${round}: no result for ${c.label}`);
  return runs;
}

function tftpRows(runs: Map<TftpServer, Map<string, TftpRun[]>>): TftpRow[] {
  const rows: TftpRow[] = [];
  for (const [server, byClient] of runs) {
    for (const c of TFTP_CLIENTS) {
      const rs = byClient.get(c.label) ?? [];
      const good = rs.filter((r) => r.ok).map((r) => TFTP_BYTES / 1e6 / r.seconds);
      rows.push({
        server, client: c.label, windowsize: c.windowsize, runs: rs,
        bestMBs: good.length ? Math.max(...good) : 0, medianMBs: good.length === rs.length && rs.length ? median(good) : 0, failures: rs.length - good.length,
      });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Profiling (--cpu-prof)

async function profileRackforge(o: Options, out: string, root: string, shm: string): Promise<string[]> {
  const dir = o.cpuProfDir!;
  const report: string[] = [];
  const rate = Math.max(...o.rates);
  for (const part of ['dhcp', 'tftp'] as const) {
    const pdir = join(dir, part);
    rmSync(pdir, { recursive: true, force: true });
    mkdirSync(pdir, { recursive: true });
    const d = join(out, 'profile', part);
    mkdirSync(d, { recursive: true });
    const lines = [`D=${shellQuote(d)}`, `ROOT=${shellQuote(root)}`, `BS_NODE_FLAGS=${shellQuote(`--cpu-prof --cpu-prof-dir ${pdir}`)}`];
    const phase = (name: string, cmd: string) => lines.push(`a=$(bs_mono_us)`, cmd, `b=$(bs_mono_us)`, `echo "PHASE ${name}\t$a\t$b"`);
    if (part === 'dhcp') {
      lines.push(DHCP_START.rackforge, 'sleep 0.5');
      phase(`perfdhcp ${rate}/s`, `in_netns "$BS_CLI" ${perfdhcpCommand(rate, o.dhcpSeconds)} >"$D/perfdhcp.out" 2>&1 || true`);
    } else {
      lines.push(TFTP_START.rackforge);
      const target = join(shm, 'profile.out');
      for (const c of [TFTP_CLIENTS[0]!, TFTP_CLIENTS[3]!]) phase(c.label, `bs_tftp_get ${shellQuote(c.label)} 1 $BS_PID ${shellQuote(target)} ${c.argv(target).map(shellQuote).join(' ')}`);
    }
    lines.push('echo "PID $BS_PID"', 'bs_term $BS_PID');
    const stdout = await session(`profile-${part}`, lines.join('\n'), d, 180_000);
    const pid = Number(/^PID (\d+)$/m.exec(stdout)?.[1]);
    const windows: PhaseWindow[] = [...stdout.matchAll(/^PHASE (.+)\t(\d+)\t(\d+)$/gm)].map((m) => ({ name: m[1]!, startUs: Number(m[2]), endUs: Number(m[3]) }));
    writeFileSync(join(pdir, 'phases.json'), JSON.stringify({ pid, windows }, null, 2));
    const file = readdirSync(pdir).find((f) => f.endsWith('.cpuprofile') && f.split('.').includes(String(pid)));
    if (!file) { report.push(`(${part}: no profile of pid ${pid} in ${pdir})`); continue; }
    const profile = JSON.parse(readFileSync(join(pdir, file), 'utf8')) as CpuProfile;
    report.push(...summarise(profile, windows, 12));
    if (part === 'dhcp') report.push('', `perfdhcp under the profiler: ${JSON.stringify(parsePerfdhcp(readFileSync(join(d, 'perfdhcp.out'), 'utf8')), (k, v) => (k === 'ackedIps' ? (v as string[]).length : v))}`);
    else report.push('', ...stdout.split('\n').filter((l) => l.includes('\t') && !l.startsWith('PHASE')).map((l) => `download: ${l}`));
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Report

/** A markdown table: the first `left` columns left-aligned, the rest right-aligned. */
function mdTable(header: string[], rows: string[][], left = 1): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((x, i) => (i < left ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join(' | ')} |`;
  return [line(header), `| ${w.map((n, i) => (i < left ? '-'.repeat(n) : '-'.repeat(n - 1) + ':')).join(' | ')} |`, ...rows.map(line)].join('\n');
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

function dhcpTable(rows: DhcpRow[]): string {
  return mdTable(
    ['server', 'offered /s', 'DORA /s (perfdhcp)', 'ACKs', 'drops D-O / R-A', 'avg delay D-O / R-A', 'bound after kill -9', 'ACKed not stored', 'server CPU', 'CPU per ACK', 'server waited for a CPU', 'perfdhcp CPU', 'steal', 'load before'],
    rows.map((r) => [
      r.server, String(r.offered), f0(r.rate), String(r.request.received), `${f1(r.discover.dropsPct)} % / ${f1(r.request.dropsPct)} %`,
      `${f1(r.discover.avgDelayMs)} / ${f1(r.request.avgDelayMs)} ms`, String(r.persisted), String(r.missing),
      `${(r.serverCpuMs / 1000).toFixed(1)} s / ${r.seconds} s`, `${r.request.received ? ((r.serverCpuMs * 1000) / r.request.received).toFixed(0) : '–'} µs`,
      `${(r.runqueueWaitMs / 1000).toFixed(1)} s`, `${(r.perfdhcpCpuMs / 1000).toFixed(1)} s`, `${(r.stealMs / 1000).toFixed(1)} s`, r.load.split(' ')[0] ?? '',
    ]),
  );
}

function tftpTable(rows: TftpRow[]): string {
  return mdTable(
    ['server', 'client', 'best MB/s', 'median MB/s', 'runs (s)', 'steal per run (s)', 'server CPU / run', 'client CPU / run', 'sha256'],
    rows.map((r) => [
      r.server, r.client, f1(r.bestMBs), f1(r.medianMBs), r.runs.map((x) => x.seconds.toFixed(2)).join(' '), r.runs.map((x) => (x.stealMs / 1000).toFixed(1)).join(' '),
      // in.tftpd serves each transfer from a forked child it does not wait for: not measurable here.
      r.server === 'tftpd-hpa' ? 'n/a' : `${(median(r.runs.map((x) => x.serverCpuMs)) / 1000).toFixed(2)} s`, `${(median(r.runs.map((x) => x.clientCpuMs)) / 1000).toFixed(2)} s`,
      r.failures ? `${r.failures} FAILED` : `${r.runs.length}/${r.runs.length} ok`,
    ]),
    2,
  );
}

interface Verdict { target: string; met: boolean | null; detail: string }

function verdicts(dhcp: DhcpRow[], tftp: TftpRow[]): Verdict[] {
  const v: Verdict[] = [];
  const best = (s: DhcpServer) => Math.max(0, ...dhcp.filter((r) => r.server === s).map((r) => r.rate));
  const rf = best('rackforge');
  const lost = dhcp.filter((r) => r.server === 'rackforge').reduce((a, r) => a + r.missing, 0);
  if (dhcp.some((r) => r.server === 'rackforge')) {
    for (const [other, factor] of [['kea', TARGETS.dhcpVsKea], ['dnsmasq', TARGETS.dhcpVsDnsmasq]] as const) {
      if (!dhcp.some((r) => r.server === other)) continue;
      const need = factor * best(other);
      v.push({
        target: `DHCP: rackforge >= ${factor === 1 ? '' : `${factor}x `}${other} (best DORA/s over the offered rates)`,
        met: rf >= need && lost === 0,
        detail: `rackforge ${f0(rf)}/s vs ${other} ${f0(best(other))}/s${factor === 1 ? '' : ` (x${factor} = ${f0(need)}/s)`}: ${(rf / Math.max(1, best(other))).toFixed(2)}x` +
          (rf >= need ? '' : `, ${f0(need - rf)}/s short (${((100 * (need - rf)) / need).toFixed(0)} %)`) + (lost ? `; ${lost} ACKed leases missing after kill -9` : ''),
      });
    }
  }
  const row = (s: TftpServer, client: string) => tftp.find((r) => r.server === s && r.client === client);
  for (const c of TFTP_CLIENTS) {
    const a = row('rackforge', c.label);
    const b = row('tftpd-hpa', c.label);
    if (!a || !b) continue;
    const factor = c.windowsize ? TARGETS.tftpWindowVsHpa : TARGETS.tftpPlainVsHpa;
    const met = a.medianMBs >= factor * b.medianMBs && a.bestMBs >= factor * b.bestMBs;
    v.push({
      target: `TFTP ${c.label}: rackforge >= ${factor}x tftpd-hpa (median and best)`,
      met,
      detail: `median ${f1(a.medianMBs)} vs ${f1(b.medianMBs)} MB/s = ${(a.medianMBs / b.medianMBs).toFixed(2)}x; best ${f1(a.bestMBs)} vs ${f1(b.bestMBs)} MB/s = ${(a.bestMBs / b.bestMBs).toFixed(2)}x` +
        (met ? '' : ` (needs ${f1(factor * b.medianMBs)} / ${f1(factor * b.bestMBs)} MB/s)`),
    });
  }
  return v;
}

function toolVersions(): Record<string, string> {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? '').split('\n')[0]!.trim() || 'unknown';
    }
  };
  const dpkg = (p: string) => run('dpkg-query', ['-W', '-f', '${Version}', p]);
  return {
    node: process.version, kernel: run('uname', ['-r']), 'kea-admin (perfdhcp)': dpkg('kea-admin'), 'kea-dhcp4-server': dpkg('kea-dhcp4-server'),
    dnsmasq: dpkg('dnsmasq-base'), 'tftpd-hpa': dpkg('tftpd-hpa'), atftp: dpkg('atftp'), curl: dpkg('curl'),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = new Date();
  const t0 = performance.now();
  const load0 = loadavg();
  const out = mkdtempSync(join(tmpdir(), 'rf-boot-bench-'));
  const shm = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rf-boot-bench-'));
  const fp = sourceFingerprint();
  console.log(`boot services bench: ${started.toISOString()}, ${cpus().length} CPUs, load ${load0.map((x) => x.toFixed(2)).join(' ')}, sources sha256 ${fp.sha256}, work dir ${out}`);
  let failed = false;
  const dhcp: DhcpRow[] = [];
  const tftp: TftpRow[] = [];
  let profile: string[] = [];
  const root = join(out, 'tftproot');
  mkdirSync(root, { recursive: true });
  let sha = '';
  try {
    if (o.dhcp) {
      // Interleaved (rate by rate, each server in turn) so that load from elsewhere on the
      // machine falls on all servers alike rather than on whichever ran during it.
      for (const rate of o.rates) {
        for (const s of o.dhcpServers) {
          try {
            const r = await runDhcp(s, rate, o, out);
            dhcp.push(r);
            console.log(`  dhcp ${s} offered ${rate}/s: ${f0(r.rate)} DORA/s, ${r.request.received} ACKs, ${r.persisted} bound after kill -9, ${r.missing} ACKed not stored, server CPU ${(r.serverCpuMs / 1000).toFixed(1)} s`);
          } catch (e) {
            failed = true;
            console.error(`  dhcp ${s} offered ${rate}/s FAILED: ${(e as Error).message}`);
          }
        }
      }
    }
    if (o.tftp || o.cpuProfDir) {
      const data = randomBytes(TFTP_BYTES);
      sha = createHash('sha256').update(data).digest('hex');
      writeFileSync(join(root, TFTP_FILE), data, { mode: 0o644 });
    }
    if (o.tftp) {
      // Round by round, client by client, each server in turn, every download in a namespace
      // session of its own: the host's speed changes within tens of seconds (see the steal
      // column), and downloads seconds apart are the fairest comparison it allows.
      const runs = new Map<TftpServer, Map<string, TftpRun[]>>(o.tftpServers.map((s) => [s, new Map(TFTP_CLIENTS.map((c) => [c.label, []]))]));
      for (let round = 1; round <= o.tftpRuns; round++) {
        for (const c of TFTP_CLIENTS) {
          const line: string[] = [];
          for (const s of o.tftpServers) {
            try {
              const r = (await runTftpSession(s, round, [c], out, root, sha, shm)).get(c.label)!;
              runs.get(s)!.get(c.label)!.push(r);
              line.push(`${s} ${r.ok ? `${f1(TFTP_BYTES / 1e6 / r.seconds)} MB/s` : 'FAILED'}`);
              if (!r.ok) failed = true;
            } catch (e) {
              failed = true;
              line.push(`${s} FAILED`);
              console.error(`  tftp round ${round} ${s} ${c.label} FAILED: ${(e as Error).message}`);
            }
          }
          console.log(`  tftp round ${round}, ${c.label}: ${line.join(', ')}`);
        }
      }
      tftp.push(...tftpRows(runs));
    }
    if (o.cpuProfDir) profile = await profileRackforge(o, out, root, shm);
  } finally {
    rmSync(shm, { recursive: true, force: true });
    rmSync(join(root, TFTP_FILE), { force: true });
  }
  const wallS = (performance.now() - t0) / 1000;
  const load1 = loadavg();
  const v = verdicts(dhcp, tftp);

  console.log('');
  if (dhcp.length) console.log(`DHCP lease rate, ${o.dhcpSeconds} s per run, ${CLIENTS} client MACs, fresh server per run:\n\n${dhcpTable(dhcp)}\n`);
  if (tftp.length) console.log(`TFTP, ${TFTP_BYTES / 1024 / 1024} MiB file, ${o.tftpRuns} run(s) per client (MB = 10^6 bytes):\n\n${tftpTable(tftp)}\n`);
  if (v.length) console.log(mdTable(['target', 'met', 'figures'], v.map((x) => [x.target, x.met === null ? '?' : x.met ? 'yes' : 'NO', x.detail]), 3) + '\n');
  if (profile.length) console.log(`rackforge CPU profile (${o.cpuProfDir}):${profile.join('\n')}\n`);
  console.log(`wall ${wallS.toFixed(0)} s; load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after`);

  const commands = {
    dhcpServers: Object.fromEntries(o.dhcpServers.map((s) => [s, DHCP_START[s]])),
    keaConfig: JSON.parse(keaConfig('$D')) as unknown,
    perfdhcp: `in_netns "$BS_CLI" ${perfdhcpCommand(o.rates[0]!, o.dhcpSeconds).replace(`-r ${o.rates[0]}`, '-r RATE')}`,
    tftpServers: Object.fromEntries(o.tftpServers.map((s) => [s, TFTP_START[s]])),
    tftpClients: Object.fromEntries(TFTP_CLIENTS.map((c) => [c.label, c.argv('OUT').map((a) => (a.includes(' ') ? shellQuote(a) : a)).join(' ')])),
  };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify({
    started: started.toISOString(), wallSeconds: Math.round(wallS), cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgBefore: load0, loadavgAfter: load1,
    sources: fp, tools: toolVersions(), options: { ...o, out: undefined }, workDir: out, commands,
    dhcp, tftp, targets: v, ...(profile.length ? { profile } : {}),
  }, null, 2) + '\n');
  console.log(`results: ${o.out}; scripts, server output and stores: ${out}`);
  if (failed) process.exitCode = 1;
}

await main();
