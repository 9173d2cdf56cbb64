// Where the time of the slow API calls goes, piece by piece, without HTTP in between (not a
// test). Loads N systems straight through the InventoryService of a real provisioner
// (SQLite store in a fresh directory), then times each step get_systems and sync take, in the
// order the server takes them, each the median of 5 runs.
//
//   node --import=tsx bench/provisioner-api-pieces.bench.ts [N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProvisioner } from '../cli/compose-provisioner.ts';
import { silentLogger } from '../lib/log.ts';
import { redactSecrets, toWire } from '../provisioner/inventory/record.ts';
import { blend, resolveChain } from '../provisioner/inventory/blend.ts';
import { checkInventory } from '../provisioner/inventory/inventory-check.ts';
import { stripNone } from '../provisioner/cobbler/python-values.ts';
import { decodeMethodResponse, encodeMethodResponse, type XmlRpcValue } from '../provisioner/protocol/xmlrpc.ts';
import type { ItemRecord } from '../provisioner/inventory/types.ts';
import { sourceFingerprint } from './source-fingerprint.ts';
import { seedBenchProfile } from './bench-fixtures.ts';

const N = Number(process.argv[2] ?? 10_000);
const RUNS = 5;

function report(label: string, times: number[], note: string): void {
  times.sort((a, b) => a - b);
  const med = times[Math.floor(RUNS / 2)]!;
  console.log(`| ${label.padEnd(58)} | ${med.toFixed(0).padStart(6)} ms | ${times[0]!.toFixed(0).padStart(6)} ms | ${note}`);
}

function timeIt<T>(label: string, fn: () => T, note = ''): T {
  const times: number[] = [];
  let out: T | undefined;
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    out = fn();
    times.push(performance.now() - t);
  }
  report(label, times, note);
  return out as T;
}

async function timeAsync(label: string, fn: () => Promise<unknown>, note = ''): Promise<void> {
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  report(label, times, note);
}

const mac = (i: number) => ['52', '54', '00', (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]
  .map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0'))).join(':');
const ip = (i: number) => `10.${16 + ((i + 1) >> 16)}.${((i + 1) >> 8) & 0xff}.${(i + 1) & 0xff}`;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rf-pieces-'));
  const running = await startProvisioner({ dataDir, httpPort: 0, adminPassword: 'bench', log: silentLogger });
  try {
    const inv = running.inventory;
    seedBenchProfile(inv);

    // The same writes as the API bench, minus HTTP and XML-RPC: what a create costs the inventory.
    const handles: string[] = [];
    let t = performance.now();
    for (let i = 0; i < N; i++) {
      const h = inv.newHandle('system');
      inv.modify('system', h, 'name', `node-${String(i).padStart(5, '0')}`);
      inv.modify('system', h, 'profile', 'bench-profile');
      inv.modify('system', h, 'hostname', `node-${String(i).padStart(5, '0')}`);
      inv.modify('system', h, 'modify_interface', { 'mac_address-eth0': mac(i), 'ip_address-eth0': ip(i), 'dns_name-eth0': `node-${i}.bench.example` });
      handles.push(h);
    }
    const prepareMs = performance.now() - t;
    t = performance.now();
    for (const h of handles) inv.save('system', h);
    const saveMs = performance.now() - t;
    // new_system sweeps the handle cache; how many working copies it holds after the saves
    // decides what one more new_system costs.
    const cached = (inv.handles as unknown as { copies: Map<string, unknown> }).copies.size;
    t = performance.now();
    for (let i = 0; i < 1000; i++) inv.newHandle('system');
    const newHandleUs = (performance.now() - t) / 1000 * 1000;
    const src = sourceFingerprint();
    console.log(`${N} systems, SQLite store in ${dataDir}; server sources (${src.files} files) sha256 ${src.sha256}\n`);
    console.log(`inventory only, no HTTP: new + modify x4: ${(prepareMs / N * 1000).toFixed(0)} µs/system; save: ${(saveMs / N * 1000).toFixed(0)} µs/save (${(N / saveMs * 1000).toFixed(0)} saves/s, one SQLite commit each)`);
    console.log(`after the saves the handle cache holds ${cached} working copies; newHandle then costs ${newHandleUs.toFixed(0)} µs (mean of 1000)\n`);

    console.log(`| ${'step (median of 5)'.padEnd(58)} | ${'median'.padStart(9)} | ${'best'.padStart(9)} | notes`);
    console.log(`| ${'-'.repeat(58)} | ${'-'.repeat(9)} | ${'-'.repeat(9)} | ---`);
    // Each step's input is dropped once the next has its output: a large live heap slows
    // every later step's garbage collection, which the server does not suffer.
    const body = getSystemsSteps(inv);
    await timeAsync('get_systems: dispatcher.call + encode (no HTTP)', async () => {
      const out = await running.dispatcher.call({ methodName: 'get_systems', params: [] });
      if (!('value' in out)) throw new Error(out.fault.faultString);
      return encodeMethodResponse(out.value);
    });
    const json = JSON.stringify(decodeMethodResponse(body, { maxBytes: 1 << 30 }));
    timeIt('client: decodeMethodResponse(body)', () => { decodeMethodResponse(body, { maxBytes: 1 << 30 }); });
    timeIt('for scale: JSON.parse of the same value', () => { JSON.parse(json); }, `${(json.length / 1e6).toFixed(1)} MB of JSON`);

    const lookup = (type: Parameters<typeof inv.get>[0], name: string) => inv.get(type, name);
    const settings = inv.settings();
    const names = inv.names('system');
    timeIt('sync: checkInventory (what sync runs)', () => checkInventory(inv));
    timeIt('sync: inv.get per system (SQLite read + JSON.parse)', () => names.map((n) => inv.get('system', n)));
    const chains = timeIt('sync: resolveChain per system (reads distro+profile)', () => names.map((n) => resolveChain('system', inv.get('system', n) as ItemRecord, lookup)));
    timeIt('sync: blend per system', () => chains.map((c) => blend(c, settings)));
    timeIt('sync: of which structuredClone(settings) per system', () => names.map(() => structuredClone(settings)), `${Object.keys(settings).length} settings`);
    timeIt('sync: of which toWire(distro)+toWire(profile) per system', () => chains.map((c) => [toWire(c[0]!.type, c[0]!.record), toWire(c[1]!.type, c[1]!.record)]));
    timeIt('sync: blend of parents only (settings+distro+profile)', () => chains.map((c) => blend(c.slice(0, -1), settings)), 'identical for every system');
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function getSystemsSteps(inv: Awaited<ReturnType<typeof startProvisioner>>['inventory']): Buffer {
  let records: ItemRecord[] | undefined = timeIt('get_systems: inventory.list (SQLite read + JSON.parse)', () => inv.list('system'));
  let wire: ReturnType<typeof toWire>[] | undefined = timeIt('get_systems: toWire per system (present)', () => records!.map((r) => toWire('system', r)), 'structuredClone per field');
  records = undefined;
  let redacted: ReturnType<typeof toWire>[] | undefined = timeIt('get_systems: redactSecrets per system (no token)', () => wire!.map((w) => redactSecrets('system', w)), 'shallow copy');
  wire = undefined;
  let stripped: XmlRpcValue | undefined = timeIt('get_systems: stripNone (dispatcher)', () => stripNone(redacted), 'deep copy');
  redacted = undefined;
  const xml = timeIt('get_systems: encodeMethodResponse', () => encodeMethodResponse(stripped!));
  stripped = undefined;
  return timeIt('get_systems: Buffer.from(xml) (express res.send)', () => Buffer.from(xml, 'utf8'), `${(Buffer.byteLength(xml, 'utf8') / 1e6).toFixed(1)} MB`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
