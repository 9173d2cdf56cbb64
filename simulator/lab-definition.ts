// Lab definitions: a lab file (YAML) in, a validated LabDefinition out, or one
// LabDefinitionError that lists every problem as `file:line:column: field.path: message`.
// Parsing and validation are pure (parseLab); readLabFile is the only function that reads a
// file. docs/labs.md describes every key, default and limit; the short form:
//
//   lab: quickstart                   # [a-z0-9][a-z0-9-]{0,31}
//   networks:                         # at least one
//     - name: provisioning            # [a-z][a-z0-9-]{0,11}: the lab's tap is "rf-<name>" (15 chars max)
//       group: 239.255.10.1           # multicast group in 239.0.0.0/8, unique in the lab
//       port: 10001                   # 1024-65535
//       subnet: 10.10.0.0/24          # prefix 8-30, host bits zero, unicast, no overlaps
//       capture: true                 # default true
//       router_advertisements: true   # default true: answer IPv6 router solicitations (see lab-router.ts)
//   provisioner:
//     network: provisioning
//     address: 10.10.0.1              # a host address of that subnet
//     dhcp_range: 10.10.0.100-10.10.0.199   # or "first,last" or [first, last]; host addresses,
//                                     # first <= last, not containing address or gateway
//     gateway: 10.10.0.1              # optional, a host address of the subnet
//     domain: lab.test                # optional
//     dns: [10.10.0.1]                # optional, default []
//     inventory:                      # optional: Cobbler field maps, passed through
//       distros: [{ name: d, kernel: ../build/node/vmlinuz, initrd: ../build/node/initrd.img }]
//       profiles: [{ name: hypervisor, distro: d }]
//   capture: { rotate: 100M, keep: 5 }       # optional; rotate 4K-1T, keep 1-1000 (default 5)
//   nodes:                            # optional (nodes can be added to a running lab)
//     - name: node1                   # hostname label
//       rack: r1                      # optional labels
//       datacentre: dc1
//       firmware: bios                # bios (default) | uefi
//       cpus: 1                       # 1-16, default 1
//       memory: 512M                  # 64M-16G, whole MiB, default 512M
//       disks: [{ size: 4G }]         # 0-8 disks, 1M-2T each, whole 512-byte sectors; name default disk<i>
//       nics: [{ network: provisioning, mac: 52:54:00:10:00:01 }]   # 1-8; model e1000 (bios) / virtio-net-pci (uefi)
//       boot: [network, disk]         # default [network, disk]
//       power: { control: qmp, initial: on }   # or `power: off`
//       profile: hypervisor           # optional
//   synthetic:                        # optional: scripted PXE clients
//     - { prefix: syn, network: provisioning, count: 200, mac_base: 52:54:01:00:00:01, firmware: bios, profile: hypervisor }
//
// Sizes: a number with an optional binary unit, K M G T (also KiB/KB..., all powers of 1024),
// "1.5G" allowed when the result is whole bytes. A bare number is bytes: `memory: 512` is
// refused as too small rather than silently read as MiB.
//
// Anchors, aliases and merge keys (`<<: *base`) work, so a lab can describe a node template once;
// top-level keys starting with x- are ignored, a place to put such templates.
// YAML 1.2 core schema: `on`/`off`/`yes` are strings, so `initial: on` means what it says.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { RackforgeError } from '../lib/errors.ts';
import { intToIpv4, ipv4ToInt, isIpv4, parseMac } from '../lib/ids.ts';

export interface LabNetwork {
  name: string; group: string; port: number; subnet: { address: string; prefix: number }; capture: boolean;
  /** Absent or true: the lab answers IPv6 router solicitations on this network (simulator/lab-router.ts). */
  routerAdvertisements?: boolean;
}
export interface LabDisk { name: string; sizeBytes: number }
export interface LabNic { network: string; mac: string; model: 'e1000' | 'virtio-net-pci' | 'rtl8139' }
export interface LabNode {
  name: string; rack?: string; datacentre?: string;
  firmware: 'bios' | 'uefi';
  cpus: number; memoryMiB: number;
  disks: LabDisk[]; nics: LabNic[];
  /** Order tried by the firmware. */
  boot: Array<'network' | 'disk'>;
  power: { control: 'qmp'; initial: 'on' | 'off' };
  /** When set the lab registers the node as a system with this profile. */
  profile?: string;
  /** Where the node starts in its file (0 when it came from a value without positions). */
  line: number;
}
export interface SyntheticGroup { prefix: string; network: string; count: number; macBase: string; firmware: 'bios' | 'uefi'; profile?: string; line: number }
export interface LabProvisioner {
  network: string; address: string; dhcpRange: [string, string]; gateway?: string; domain?: string; dns: string[];
  /** Cobbler field maps passed through (name required); distro kernel/initrd resolved against the lab file's folder. */
  inventory: { distros: Array<Record<string, unknown>>; profiles: Array<Record<string, unknown>> };
}
export interface LabDefinition {
  name: string; file: string;
  networks: LabNetwork[]; provisioner: LabProvisioner; nodes: LabNode[]; synthetic: SyntheticGroup[];
  capture: { rotateBytes?: number; keep: number };
  /** Things that work but probably not as meant (a DHCP range smaller than its clients...), formatted like errors. */
  warnings: string[];
}

/** One problem in a lab file. line and column are 1-based; 0 when the problem has no position. */
export interface LabProblem { file: string; line: number; column: number; field: string; message: string }

export const NIC_MODELS = ['e1000', 'virtio-net-pci', 'rtl8139'] as const;

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/** The limits the validator enforces (docs/labs.md lists the same). */
export const LAB_LIMITS = {
  cpus: { min: 1, max: 16 },
  memoryBytes: { min: 64 * MiB, max: 16 * GiB },
  diskBytes: { min: 1 * MiB, max: 2 * TiB },
  disksPerNode: 8,
  nicsPerNode: 8,
  syntheticCount: { min: 1, max: 10_000 },
  captureRotateBytes: { min: 4 * KiB, max: 1 * TiB },
  captureKeep: { min: 1, max: 1000 },
  subnetPrefix: { min: 8, max: 30 },
  port: { min: 1024, max: 65535 },
  fileBytes: 1 * MiB,
} as const;

const LAB_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const NETWORK_NAME = /^[a-z][a-z0-9-]{0,11}$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Disk names become file names and the virtio-blk serial, which holds 20 bytes.
const DISK_NAME = /^[a-z0-9][a-z0-9_-]{0,19}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const INVENTORY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,127}$/;

const TOP_KEYS = ['lab', 'networks', 'provisioner', 'capture', 'nodes', 'synthetic'] as const;
const NETWORK_KEYS = ['name', 'group', 'port', 'subnet', 'capture', 'router_advertisements'] as const;
const PROVISIONER_KEYS = ['network', 'address', 'dhcp_range', 'gateway', 'domain', 'dns', 'inventory'] as const;
const INVENTORY_KEYS = ['distros', 'profiles'] as const;
const CAPTURE_KEYS = ['rotate', 'keep'] as const;
const NODE_KEYS = ['name', 'rack', 'datacentre', 'firmware', 'cpus', 'memory', 'disks', 'nics', 'boot', 'power', 'profile'] as const;
const DISK_KEYS = ['name', 'size'] as const;
const NIC_KEYS = ['network', 'mac', 'model'] as const;
const POWER_KEYS = ['control', 'initial'] as const;
const SYNTHETIC_KEYS = ['prefix', 'network', 'count', 'mac_base', 'firmware', 'profile'] as const;

export class LabDefinitionError extends RackforgeError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field: string;
  /** Every problem found, in file order; file/line/column/field above are the first one's. */
  readonly problems: readonly LabProblem[];
  constructor(problems: readonly LabProblem[]) {
    const sorted = sortProblems(problems);
    const first = sorted[0] ?? { file: '', line: 0, column: 0, field: '', message: 'the lab definition is invalid' };
    super('LAB_INVALID', sorted.length > 0 ? sorted.map(formatProblem).join('\n') : first.message, {
      file: first.file, line: first.line, column: first.column, field: first.field,
    });
    this.name = 'LabDefinitionError';
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.field = first.field;
    this.problems = sorted;
  }
}

export function formatProblem(p: LabProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.field === '' ? `${where}: ${p.message}` : `${where}: ${p.field}: ${p.message}`;
}

function sortProblems(problems: readonly LabProblem[]): LabProblem[] {
  // A merged template reports its own problems once per use: keep one of each.
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const k = formatProblem(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return unique.map((p, i) => ({ p, i })).sort((a, b) => a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i).map((x) => x.p);
}

// ---------------------------------------------------------------------------------------
// Sizes and MACs

/**
 * Bytes from "512M", "4G", "4GiB", "4GB", "1.5G", "100k", "512B" or a bare number (bytes).
 * Units are binary (1K = 1024) whatever the spelling, as QEMU reads them. The result must be a
 * positive whole number of bytes. Throws RackforgeError LAB_INVALID.
 */
export function parseSize(text: string | number): number {
  let bytes: number;
  if (typeof text === 'number') {
    bytes = text;
  } else {
    const m = /^([0-9]+(?:\.[0-9]+)?)\s*(?:([kmgt])(?:i?b)?|b)?$/i.exec(text.trim());
    if (!m) {
      const why = /^\s*-/.test(text) ? 'sizes cannot be negative' : 'expected a number with an optional unit K, M, G or T (powers of 1024), e.g. 512M';
      throw new RackforgeError('LAB_INVALID', `invalid size '${text}': ${why}`);
    }
    const unit = (m[2] ?? '').toLowerCase();
    const scale = unit === 'k' ? KiB : unit === 'm' ? MiB : unit === 'g' ? GiB : unit === 't' ? TiB : 1;
    bytes = Number(m[1]) * scale;
  }
  const shown = typeof text === 'number' ? String(text) : `'${text}'`;
  if (!Number.isFinite(bytes) || bytes < 0) throw new RackforgeError('LAB_INVALID', `invalid size ${shown}: sizes cannot be negative`);
  if (bytes === 0) throw new RackforgeError('LAB_INVALID', `invalid size ${shown}: must be greater than zero`);
  if (!Number.isInteger(bytes)) throw new RackforgeError('LAB_INVALID', `invalid size ${shown}: not a whole number of bytes`);
  if (bytes > Number.MAX_SAFE_INTEGER) throw new RackforgeError('LAB_INVALID', `invalid size ${shown}: too large`);
  return bytes;
}

/** The shortest exact spelling of a byte count in the units parseSize reads ("512M", "1536K", "7"). */
export function formatSize(bytes: number): string {
  for (const [unit, scale] of [['T', TiB], ['G', GiB], ['M', MiB], ['K', KiB]] as const) {
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return String(bytes);
}

function macToNumber(mac: string): number {
  return parseInt(mac.replaceAll(':', ''), 16);
}

function numberToMac(n: number): string {
  return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** The names and MACs of a synthetic group: prefix-001… (wider when count needs it), MACs counting up from macBase. */
export function syntheticNodes(g: SyntheticGroup): Array<{ name: string; mac: string }> {
  const width = syntheticNameWidth(g.count);
  const base = macToNumber(g.macBase);
  const out: Array<{ name: string; mac: string }> = [];
  for (let i = 0; i < g.count; i++) out.push({ name: `${g.prefix}-${String(i + 1).padStart(width, '0')}`, mac: numberToMac(base + i) });
  return out;
}

function syntheticNameWidth(count: number): number {
  return Math.max(3, String(count).length);
}

// ---------------------------------------------------------------------------------------
// Reading the YAML tree with positions

interface Entry { key: unknown; value: unknown }
type Entries = Map<string, Entry>;

class Reader {
  readonly problems: LabProblem[] = [];
  readonly warnings: LabProblem[] = [];
  constructor(readonly file: string, readonly doc: Document, private readonly lc: LineCounter | undefined) {}

  at(node: unknown): { line: number; column: number } {
    const range = isNode(node) ? node.range : undefined;
    if (!range || !this.lc) return { line: 0, column: 0 };
    const p = this.lc.linePos(range[0]);
    return { line: p.line, column: p.col };
  }

  fail(node: unknown, field: string, message: string): undefined {
    this.problems.push({ file: this.file, ...this.at(node), field, message });
    return undefined;
  }

  warn(node: unknown, field: string, message: string): void {
    this.warnings.push({ file: this.file, ...this.at(node), field, message });
  }

  deref(node: unknown): unknown {
    let n = node;
    for (let i = 0; isAlias(n) && i < 64; i++) n = n.resolve(this.doc);
    return n;
  }
}

function joinField(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function isNullish(r: Reader, node: unknown): boolean {
  const v = r.deref(node);
  return v === null || v === undefined || (isScalar(v) && v.value === null);
}

function describe(v: unknown): string {
  if (isMap(v)) return 'a map';
  if (isSeq(v)) return 'a list';
  if (isScalar(v)) {
    const x = v.value;
    if (x === null) return 'nothing';
    if (typeof x === 'string') return `the string '${x}'`;
    if (typeof x === 'number') return `the number ${x}`;
    if (typeof x === 'boolean') return String(x);
    return typeof x;
  }
  return 'nothing';
}

/** Optimal string alignment distance: a swapped pair of letters ("memroy") counts as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) { best = c; bestDistance = dist; }
  }
  return best !== undefined && bestDistance <= Math.min(2, Math.floor(word.length / 2)) ? best : undefined;
}

function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggest(word, candidates);
  return s === undefined ? '' : ` (did you mean '${s}'?)`;
}

/**
 * A map's entries by key; unknown keys are reported (allowed null: any key). Merge keys (<<)
 * are expanded. With `extensions`, keys starting with x- are skipped: a place for anchors.
 */
function readMap(r: Reader, node: unknown, field: string, allowed: readonly string[] | null, extensions = false): Entries | undefined {
  const m = r.deref(node);
  if (!isMap(m)) return r.fail(node, field, `expected a map (key: value), found ${describe(m)}`);
  const out: Entries = new Map();
  const merged: Entries[] = [];
  for (const pair of m.items) {
    const key = r.deref(pair.key);
    if (!isScalar(key) || typeof key.value !== 'string') {
      r.fail(pair.key ?? node, field, `keys must be strings, found ${describe(key)}`);
      continue;
    }
    const name = key.value;
    if (name === '<<' && isScalar(pair.key) && pair.key.type === 'PLAIN') {
      const src = r.deref(pair.value);
      for (const s of isSeq(src) ? src.items : [pair.value]) {
        const sm = readMap(r, s, field, allowed);
        if (sm) merged.push(sm);
      }
      continue;
    }
    if (extensions && name.startsWith('x-')) continue;
    if (allowed !== null && !allowed.includes(name)) {
      r.fail(pair.key, field, `unknown key '${name}'${didYouMean(name, allowed)}`);
      continue;
    }
    out.set(name, { key: pair.key, value: pair.value });
  }
  // Keys written in the map win over merged ones; among merged maps the first wins (YAML merge).
  for (const sm of merged) for (const [k, e] of sm) if (!out.has(k)) out.set(k, e);
  return out;
}

/** The value node of an optional key; undefined when absent or null. */
function optional(r: Reader, e: Entries, key: string): unknown {
  const entry = e.get(key);
  return entry === undefined || isNullish(r, entry.value) ? undefined : entry.value;
}

function required(r: Reader, e: Entries, mapNode: unknown, field: string, key: string): unknown {
  const v = optional(r, e, key);
  if (v === undefined) r.fail(e.get(key)?.key ?? mapNode, joinField(field, key), 'required key is missing');
  return v;
}

function readString(r: Reader, node: unknown, field: string): string | undefined {
  const v = r.deref(node);
  if (isScalar(v) && typeof v.value === 'string') return v.value;
  const hint = isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'boolean') ? ` (quote it if you mean the text: "${String(v.value)}")` : '';
  return r.fail(node, field, `expected a string, found ${describe(v)}${hint}`);
}

function readPattern(r: Reader, node: unknown, field: string, re: RegExp, rule: string): string | undefined {
  const s = readString(r, node, field);
  if (s === undefined) return undefined;
  if (!re.test(s)) return r.fail(node, field, `'${s}' is not valid: ${rule}`);
  return s;
}

function readInt(r: Reader, node: unknown, field: string, min: number, max: number): number | undefined {
  const v = r.deref(node);
  if (!isScalar(v) || typeof v.value !== 'number' || !Number.isInteger(v.value)) return r.fail(node, field, `expected a whole number, found ${describe(v)}`);
  if (v.value < min || v.value > max) return r.fail(node, field, `${v.value} is out of range ${min}-${max}`);
  return v.value;
}

function readBool(r: Reader, node: unknown, field: string): boolean | undefined {
  const v = r.deref(node);
  if (isScalar(v) && typeof v.value === 'boolean') return v.value;
  return r.fail(node, field, `expected true or false, found ${describe(v)}`);
}

function readEnum<T extends string>(r: Reader, node: unknown, field: string, values: readonly T[]): T | undefined {
  const s = readString(r, node, field);
  if (s === undefined) return undefined;
  if (!(values as readonly string[]).includes(s)) return r.fail(node, field, `'${s}' is not one of ${values.join(', ')}${didYouMean(s, values)}`);
  return s as T;
}

function readList(r: Reader, node: unknown, field: string, example: string): unknown[] | undefined {
  const v = r.deref(node);
  if (!isSeq(v)) return r.fail(node, field, `expected a list such as ${example}, found ${describe(v)}`);
  return v.items;
}

function readSize(r: Reader, node: unknown, field: string, limits: { min: number; max: number }): number | undefined {
  const v = r.deref(node);
  if (!isScalar(v) || (typeof v.value !== 'string' && typeof v.value !== 'number')) return r.fail(node, field, `expected a size such as 512M, found ${describe(v)}`);
  let bytes: number;
  try {
    bytes = parseSize(v.value);
  } catch (e) {
    return r.fail(node, field, (e as Error).message);
  }
  const bare = typeof v.value === 'number' || /^\s*[0-9.]+\s*$/.test(v.value);
  // `memory: 512` almost always means MiB: say so when that reading would have fitted.
  const hint = bare && bytes * MiB >= limits.min && bytes * MiB <= limits.max ? ` (a bare number is bytes: write ${String(v.value).trim()}M for mebibytes)` : '';
  if (bytes < limits.min) return r.fail(node, field, `${String(v.value)}${bare ? ' bytes' : ''} is below the minimum ${formatSize(limits.min)}${hint}`);
  if (bytes > limits.max) return r.fail(node, field, `${String(v.value)}${bare ? ' bytes' : ''} is above the maximum ${formatSize(limits.max)}`);
  return bytes;
}

function readIpv4(r: Reader, node: unknown, field: string): number | undefined {
  const s = readString(r, node, field);
  if (s === undefined) return undefined;
  if (!isIpv4(s)) return r.fail(node, field, `'${s}' is not an IPv4 address`);
  return ipv4ToInt(s);
}

/** A unicast MAC in lower-case colon form. */
function readMac(r: Reader, node: unknown, field: string): string | undefined {
  const s = readString(r, node, field);
  if (s === undefined) return undefined;
  let mac: string;
  try {
    mac = parseMac(s);
  } catch {
    return r.fail(node, field, `'${s}' is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  const first = parseInt(mac.slice(0, 2), 16);
  if ((first & 1) === 1) return r.fail(node, field, `${mac} is a multicast MAC (low bit of the first byte set); use a unicast one such as 52:54:00:…`);
  if (mac === '00:00:00:00:00:00') return r.fail(node, field, 'the all-zero MAC is not a usable address');
  return mac;
}

/** Plain data for pass-through fields, bounded so that aliases cannot blow it up. */
function readPlain(r: Reader, node: unknown, field: string, budget: { left: number }, depth = 0): unknown {
  if (--budget.left < 0) return r.fail(node, field, 'too large (more than 10000 values)');
  if (depth > 16) return r.fail(node, field, 'nested too deeply');
  const v = r.deref(node);
  if (v === null || v === undefined) return null;
  if (isScalar(v)) {
    if (typeof v.value === 'bigint') return r.fail(node, field, 'number too large');
    return v.value;
  }
  if (isSeq(v)) return v.items.map((item, i) => readPlain(r, item, `${field}[${i}]`, budget, depth + 1));
  const e = readMap(r, node, field, null);
  if (!e) return undefined;
  return Object.fromEntries([...e].map(([k, entry]) => [k, readPlain(r, entry.value, joinField(field, k), budget, depth + 1)]));
}

// ---------------------------------------------------------------------------------------
// The sections

interface ParsedNetwork { net: LabNetwork; line: number; first: number; last: number }

interface Owner { label: string; line: number; file: string }

/** What a node is checked against: the lab around it. */
interface NodeContext {
  /** Every declared network name, valid or not, so one bad network does not make each reference fail too. */
  declaredNetworks: Set<string>;
  /** Profile names a node may use; undefined when the lab lists none (any name is accepted). */
  profiles: Set<string> | undefined;
  provisionerNetwork: string | undefined;
  names: Map<string, Owner>;
  macs: Map<string, Owner>;
}

function ownerText(r: Reader, o: Owner): string {
  if (o.line === 0) return o.file === r.file ? o.label : `${o.label} (${o.file})`;
  return `${o.label} (${o.file === r.file ? '' : `${o.file} `}line ${o.line})`;
}

function readNetworks(r: Reader, node: unknown, field: string): { parsed: ParsedNetwork[]; declared: Set<string> } {
  const parsed: ParsedNetwork[] = [];
  const declared = new Set<string>();
  const items = readList(r, node, field, '[{ name: provisioning, group: 239.255.10.1, port: 10001, subnet: 10.10.0.0/24 }]');
  if (!items) return { parsed, declared };
  if (items.length === 0) r.fail(node, field, 'a lab needs at least one network');
  // Claimed field by field, so a network with one bad field still clashes with the others.
  const byName = new Map<string, { line: number }>();
  const byGroup = new Map<string, { name: string; line: number }>();
  const subnets: Array<{ first: number; last: number; text: string; name: string; line: number }> = [];
  items.forEach((item, i) => {
    const f = `${field}[${i}]`;
    const e = readMap(r, item, f, NETWORK_KEYS);
    if (!e) return;
    const before = r.problems.length;
    const nameNode = required(r, e, item, f, 'name');
    const name = nameNode === undefined ? undefined : readPattern(r, nameNode, `${f}.name`, NETWORK_NAME, 'a lower-case letter, then up to 11 of a-z, 0-9 and - (it names a Linux interface)');
    const line = r.at(item).line;
    if (name !== undefined) {
      const prev = byName.get(name);
      if (prev) r.fail(nameNode, `${f}.name`, `duplicate network name '${name}' (also at line ${prev.line})`);
      else byName.set(name, { line });
      declared.add(name);
    }
    const groupNode = required(r, e, item, f, 'group');
    let group: number | undefined;
    if (groupNode !== undefined) {
      group = readIpv4(r, groupNode, `${f}.group`);
      if (group !== undefined && group >>> 24 !== 239) r.fail(groupNode, `${f}.group`, `${intToIpv4(group)} is not in 239.0.0.0/8 (administratively scoped multicast)`);
      if (group !== undefined) {
        const clash = byGroup.get(intToIpv4(group));
        if (clash) r.fail(groupNode, `${f}.group`, `${intToIpv4(group)} is already the group of network '${clash.name}' (line ${clash.line})`);
        else byGroup.set(intToIpv4(group), { name: name ?? f, line });
      }
    }
    const portNode = required(r, e, item, f, 'port');
    const port = portNode === undefined ? undefined : readInt(r, portNode, `${f}.port`, LAB_LIMITS.port.min, LAB_LIMITS.port.max);
    const subnetNode = required(r, e, item, f, 'subnet');
    const subnet = subnetNode === undefined ? undefined : readSubnet(r, subnetNode, `${f}.subnet`);
    if (subnet) {
      const text = `${intToIpv4(subnet.first)}/${subnet.prefix}`;
      const clash = subnets.find((p) => p.first <= subnet.last && subnet.first <= p.last);
      if (clash) r.fail(subnetNode, `${f}.subnet`, `${text} overlaps network '${clash.name}' ${clash.text} (line ${clash.line})`);
      else subnets.push({ ...subnet, text, name: name ?? f, line });
    }
    const captureNode = optional(r, e, 'capture');
    const capture = captureNode === undefined ? true : readBool(r, captureNode, `${f}.capture`);
    const raNode = optional(r, e, 'router_advertisements');
    const routerAdvertisements = raNode === undefined ? true : readBool(r, raNode, `${f}.router_advertisements`);
    if (r.problems.length > before || name === undefined || group === undefined || port === undefined || subnet === undefined || capture === undefined || routerAdvertisements === undefined) return;
    parsed.push({
      net: { name, group: intToIpv4(group), port, subnet: { address: intToIpv4(subnet.first), prefix: subnet.prefix }, capture, routerAdvertisements },
      line, first: subnet.first, last: subnet.last,
    });
  });
  return { parsed, declared };
}

function readSubnet(r: Reader, node: unknown, field: string): { first: number; last: number; prefix: number } | undefined {
  const s = readString(r, node, field);
  if (s === undefined) return undefined;
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(s.trim());
  if (!m || !isIpv4(m[1]!)) return r.fail(node, field, `'${s}' is not a subnet such as 10.10.0.0/24`);
  const prefix = Number(m[2]);
  if (prefix < LAB_LIMITS.subnetPrefix.min || prefix > LAB_LIMITS.subnetPrefix.max) return r.fail(node, field, `prefix /${prefix} is out of range /${LAB_LIMITS.subnetPrefix.min}-/${LAB_LIMITS.subnetPrefix.max}`);
  const ip = ipv4ToInt(m[1]!);
  const size = 2 ** (32 - prefix);
  const first = ip - (ip % size);
  if (first !== ip) return r.fail(node, field, `'${s}' has host bits set (did you mean ${intToIpv4(first)}/${prefix}?)`);
  const last = first + size - 1;
  const top = first >>> 24;
  if (top === 0 || top === 127 || top >= 224) return r.fail(node, field, `${s} is not a unicast range (0/8, 127/8 and 224/3 are refused)`);
  return { first, last, prefix };
}

function inHosts(ip: number, n: ParsedNetwork): boolean {
  return ip > n.first && ip < n.last;
}

interface ParsedProvisioner { prov: LabProvisioner | undefined; network: string | undefined; profiles: Set<string> | undefined; rangeNode: unknown; rangeSize: number }

function readProvisioner(r: Reader, node: unknown, field: string, networks: Map<string, ParsedNetwork>, declared: Set<string>): ParsedProvisioner {
  const out: ParsedProvisioner = { prov: undefined, network: undefined, profiles: undefined, rangeNode: undefined, rangeSize: 0 };
  const e = readMap(r, node, field, PROVISIONER_KEYS);
  if (!e) return out;
  const before = r.problems.length;
  const netNode = required(r, e, node, field, 'network');
  const netName = netNode === undefined ? undefined : readString(r, netNode, `${field}.network`);
  if (netName !== undefined && !declared.has(netName)) r.fail(netNode, `${field}.network`, `unknown network '${netName}'${didYouMean(netName, declared)}`);
  out.network = netName;
  const net = netName === undefined ? undefined : networks.get(netName);
  const where = net ? ` ${net.net.subnet.address}/${net.net.subnet.prefix}` : '';
  const hostCheck = (ip: number | undefined, n: unknown, f: string): number | undefined => {
    if (ip === undefined || !net) return ip;
    if (!inHosts(ip, net)) return r.fail(n, f, `${intToIpv4(ip)} is not a host address of network '${net.net.name}'${where}`);
    return ip;
  };
  const hostAddress = (n: unknown, f: string): number | undefined => hostCheck(readIpv4(r, n, f), n, f);

  const addressNode = required(r, e, node, field, 'address');
  const address = addressNode === undefined ? undefined : hostAddress(addressNode, `${field}.address`);
  const gatewayNode = optional(r, e, 'gateway');
  const gateway = gatewayNode === undefined ? undefined : hostAddress(gatewayNode, `${field}.gateway`);

  const rangeNode = required(r, e, node, field, 'dhcp_range');
  out.rangeNode = rangeNode;
  let range: [number, number] | undefined;
  if (rangeNode !== undefined) {
    const f = `${field}.dhcp_range`;
    const v = r.deref(rangeNode);
    let ends: Array<number | undefined> | undefined;
    if (isSeq(v)) {
      if (v.items.length !== 2) r.fail(rangeNode, f, `expected [first, last], found a list of ${v.items.length}`);
      else ends = v.items.map((it, i) => hostAddress(it, `${f}[${i}]`));
    } else {
      const s = readString(r, rangeNode, f);
      const parts = s?.trim().split(/\s*[-,]\s*/);
      if (s !== undefined && parts?.length !== 2) r.fail(rangeNode, f, `'${s}' is not a range such as 10.10.0.100-10.10.0.199`);
      // A text range has no node per end: its problems are reported at the range.
      else if (parts) ends = parts.map((t) => hostCheck(isIpv4(t) ? ipv4ToInt(t) : r.fail(rangeNode, f, `'${t}' is not an IPv4 address`), rangeNode, f));
    }
    const [a, b] = ends ?? [];
    if (a !== undefined && b !== undefined) {
      if (a > b) r.fail(rangeNode, f, `first ${intToIpv4(a)} is after last ${intToIpv4(b)}`);
      else if (address !== undefined && address >= a && address <= b) r.fail(rangeNode, f, `contains the provisioner's own address ${intToIpv4(address)}`);
      else if (gateway !== undefined && gateway >= a && gateway <= b) r.fail(rangeNode, f, `contains the gateway ${intToIpv4(gateway)}`);
      else range = [a, b];
    }
  }

  const domainNode = optional(r, e, 'domain');
  const domain = domainNode === undefined ? undefined : readPattern(r, domainNode, `${field}.domain`, DOMAIN, 'a DNS name of lower-case labels such as lab.test');
  const dnsNode = optional(r, e, 'dns');
  const dns: string[] = [];
  if (dnsNode !== undefined) {
    const items = readList(r, dnsNode, `${field}.dns`, '[10.10.0.1]');
    items?.forEach((it, i) => {
      const ip = readIpv4(r, it, `${field}.dns[${i}]`);
      if (ip !== undefined) dns.push(intToIpv4(ip));
    });
  }
  const invNode = optional(r, e, 'inventory');
  const inventory = invNode === undefined ? { distros: [], profiles: [] } : readInventory(r, invNode, `${field}.inventory`);
  if (inventory.profiles.length > 0) out.profiles = new Set(inventory.profiles.map((p) => String(p['name'])));
  if (range) out.rangeSize = range[1] - range[0] + 1;

  if (r.problems.length > before || netName === undefined || address === undefined || !range) return out;
  out.prov = {
    network: netName, address: intToIpv4(address), dhcpRange: [intToIpv4(range[0]), intToIpv4(range[1])],
    ...(gateway !== undefined ? { gateway: intToIpv4(gateway) } : {}),
    ...(domain !== undefined ? { domain } : {}),
    dns, inventory,
  };
  return out;
}

function readInventory(r: Reader, node: unknown, field: string): LabProvisioner['inventory'] {
  const out: LabProvisioner['inventory'] = { distros: [], profiles: [] };
  const e = readMap(r, node, field, INVENTORY_KEYS);
  if (!e) return out;
  interface Item { f: string; entries: Entries; rec: Record<string, unknown> }
  const read = (kind: 'distros' | 'profiles'): { items: Item[]; names: Map<string, number> } => {
    const items: Item[] = [];
    const names = new Map<string, number>();
    const listNode = optional(r, e, kind);
    if (listNode === undefined) return { items, names };
    readList(r, listNode, `${field}.${kind}`, '[{ name: … }]')?.forEach((item, i) => {
      const f = `${field}.${kind}[${i}]`;
      const before = r.problems.length;
      const entries = readMap(r, item, f, null);
      const rec = entries && readPlain(r, item, f, { left: 10_000 });
      if (!entries || r.problems.length > before) return;
      const fields = rec as Record<string, unknown>;
      const nameNode = optional(r, entries, 'name');
      if (nameNode === undefined) { r.fail(item, `${f}.name`, 'required key is missing'); return; }
      const name = readPattern(r, nameNode, `${f}.name`, INVENTORY_NAME, 'letters, digits, _ . : + and -, up to 128 characters');
      if (name === undefined) return;
      const prev = names.get(name);
      if (prev !== undefined) { r.fail(nameNode, `${f}.name`, `duplicate ${kind === 'distros' ? 'distro' : 'profile'} name '${name}' (also at line ${prev})`); return; }
      names.set(name, r.at(item).line);
      items.push({ f, entries, rec: fields });
    });
    return { items, names };
  };
  const distros = read('distros');
  const profiles = read('profiles');
  for (const { f, entries, rec } of distros.items) {
    for (const key of ['kernel', 'initrd']) {
      const pathNode = optional(r, entries, key);
      if (pathNode === undefined) continue;
      const p = readString(r, pathNode, `${f}.${key}`);
      // Relative to the lab file, so a lab can point at files it ships or builds beside it.
      if (p !== undefined) rec[key] = resolve(dirname(r.file), p);
    }
    out.distros.push(rec);
  }
  for (const { f, entries, rec } of profiles.items) {
    // Only checked when the lab lists them: otherwise the names may come from elsewhere.
    const distroNode = optional(r, entries, 'distro');
    const distro = distroNode === undefined ? undefined : readString(r, distroNode, `${f}.distro`);
    if (distro !== undefined && distros.names.size > 0 && !distros.names.has(distro)) {
      r.fail(distroNode, `${f}.distro`, `unknown distro '${distro}'${didYouMean(distro, distros.names.keys())}`);
    }
    const parentNode = optional(r, entries, 'parent');
    const parent = parentNode === undefined ? undefined : readString(r, parentNode, `${f}.parent`);
    if (parent !== undefined && parent !== '' && !profiles.names.has(parent)) {
      r.fail(parentNode, `${f}.parent`, `unknown profile '${parent}'${didYouMean(parent, profiles.names.keys())}`);
    }
    out.profiles.push(rec);
  }
  return out;
}

function readCapture(r: Reader, node: unknown, field: string): LabDefinition['capture'] | undefined {
  const e = readMap(r, node, field, CAPTURE_KEYS);
  if (!e) return undefined;
  const rotateNode = optional(r, e, 'rotate');
  const rotate = rotateNode === undefined ? undefined : readSize(r, rotateNode, `${field}.rotate`, LAB_LIMITS.captureRotateBytes);
  const keepNode = optional(r, e, 'keep');
  const keep = keepNode === undefined ? 5 : readInt(r, keepNode, `${field}.keep`, LAB_LIMITS.captureKeep.min, LAB_LIMITS.captureKeep.max);
  if (keep === undefined || (rotateNode !== undefined && rotate === undefined)) return undefined;
  return { ...(rotate !== undefined ? { rotateBytes: rotate } : {}), keep };
}

function readNetworkRef(r: Reader, node: unknown, field: string, ctx: NodeContext): string | undefined {
  const name = readString(r, node, field);
  if (name === undefined) return undefined;
  if (!ctx.declaredNetworks.has(name)) return r.fail(node, field, `unknown network '${name}'${didYouMean(name, ctx.declaredNetworks)}`);
  return name;
}

function readProfileRef(r: Reader, node: unknown, field: string, ctx: NodeContext): string | undefined {
  const name = readString(r, node, field);
  if (name === undefined) return undefined;
  if (ctx.profiles && !ctx.profiles.has(name)) return r.fail(node, field, `unknown profile '${name}' (provisioner.inventory.profiles has ${[...ctx.profiles].join(', ')})${didYouMean(name, ctx.profiles)}`);
  return name;
}

function readNode(r: Reader, node: unknown, field: string, ctx: NodeContext): LabNode | undefined {
  const e = readMap(r, node, field, NODE_KEYS);
  if (!e) return undefined;
  const before = r.problems.length;
  const line = r.at(node).line;

  const nameNode = required(r, e, node, field, 'name');
  const name = nameNode === undefined ? undefined : readPattern(r, nameNode, `${field}.name`, HOST_LABEL, 'a hostname label: a-z, 0-9 and -, 1-63 characters, not starting or ending with -');
  if (name !== undefined) {
    const prev = ctx.names.get(name);
    if (prev) r.fail(nameNode, `${field}.name`, `'${name}' is already used by ${ownerText(r, prev)}`);
  }
  const label = (key: 'rack' | 'datacentre'): string | undefined => {
    const n = optional(r, e, key);
    return n === undefined ? undefined : readPattern(r, n, `${field}.${key}`, LABEL, 'letters, digits, . _ and -, up to 63 characters');
  };
  const rack = label('rack');
  const datacentre = label('datacentre');
  const fwNode = optional(r, e, 'firmware');
  const firmware = fwNode === undefined ? 'bios' : readEnum(r, fwNode, `${field}.firmware`, ['bios', 'uefi'] as const);
  const cpusNode = optional(r, e, 'cpus');
  const cpus = cpusNode === undefined ? 1 : readInt(r, cpusNode, `${field}.cpus`, LAB_LIMITS.cpus.min, LAB_LIMITS.cpus.max);
  const memNode = optional(r, e, 'memory');
  let memoryMiB: number | undefined = 512;
  if (memNode !== undefined) {
    const bytes = readSize(r, memNode, `${field}.memory`, LAB_LIMITS.memoryBytes);
    memoryMiB = bytes === undefined ? undefined : bytes % MiB === 0 ? bytes / MiB : r.fail(memNode, `${field}.memory`, `${formatSize(bytes)} is not a whole number of MiB`);
  }

  const disks: LabDisk[] = [];
  const disksNode = optional(r, e, 'disks');
  if (disksNode !== undefined) {
    const items = readList(r, disksNode, `${field}.disks`, '[{ size: 4G }]') ?? [];
    if (items.length > LAB_LIMITS.disksPerNode) r.fail(disksNode, `${field}.disks`, `${items.length} disks; at most ${LAB_LIMITS.disksPerNode}`);
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const f = `${field}.disks[${i}]`;
      let sizeNode: unknown = item;
      let diskName = `disk${i}`;
      const v = r.deref(item);
      if (isMap(v)) {
        const de = readMap(r, item, f, DISK_KEYS);
        if (!de) return;
        sizeNode = required(r, de, item, f, 'size');
        const dn = optional(r, de, 'name');
        if (dn !== undefined) {
          const given = readPattern(r, dn, `${f}.name`, DISK_NAME, 'a-z or 0-9, then up to 19 of a-z, 0-9, _ and -');
          if (given === undefined) return;
          diskName = given;
        }
      }
      if (sizeNode === undefined) return;
      const size = readSize(r, sizeNode, isMap(v) ? `${f}.size` : f, LAB_LIMITS.diskBytes);
      if (size === undefined) return;
      if (size % 512 !== 0) { r.fail(sizeNode, isMap(v) ? `${f}.size` : f, `${size} bytes is not a whole number of 512-byte sectors`); return; }
      const prev = seen.get(diskName);
      if (prev !== undefined) { r.fail(item, f, `duplicate disk name '${diskName}' (disks[${prev}])`); return; }
      seen.set(diskName, i);
      disks.push({ name: diskName, sizeBytes: size });
    });
  }

  const nics: LabNic[] = [];
  const nicsNode = required(r, e, node, field, 'nics');
  if (nicsNode !== undefined) {
    const items = readList(r, nicsNode, `${field}.nics`, '[{ network: provisioning, mac: 52:54:00:10:00:01 }]') ?? [];
    if (isSeq(r.deref(nicsNode)) && items.length === 0) r.fail(nicsNode, `${field}.nics`, 'a node needs at least one NIC');
    if (items.length > LAB_LIMITS.nicsPerNode) r.fail(nicsNode, `${field}.nics`, `${items.length} NICs; at most ${LAB_LIMITS.nicsPerNode}`);
    const own = new Map<string, number>();
    items.forEach((item, i) => {
      const f = `${field}.nics[${i}]`;
      const ne = readMap(r, item, f, NIC_KEYS);
      if (!ne) return;
      const netNode = required(r, ne, item, f, 'network');
      const network = netNode === undefined ? undefined : readNetworkRef(r, netNode, `${f}.network`, ctx);
      const macNode = required(r, ne, item, f, 'mac');
      let mac = macNode === undefined ? undefined : readMac(r, macNode, `${f}.mac`);
      if (mac !== undefined) {
        const prevOwn = own.get(mac);
        const prev = ctx.macs.get(mac);
        if (prevOwn !== undefined) mac = r.fail(macNode, `${f}.mac`, `${mac} is already used by nics[${prevOwn}] of this node`);
        else if (prev) mac = r.fail(macNode, `${f}.mac`, `${mac} is already used by ${ownerText(r, prev)}`);
        else own.set(mac, i);
      }
      const modelNode = optional(r, ne, 'model');
      const model = modelNode === undefined ? (firmware === 'uefi' ? 'virtio-net-pci' : 'e1000') : readEnum(r, modelNode, `${f}.model`, NIC_MODELS);
      if (network !== undefined && mac !== undefined && model !== undefined) nics.push({ network, mac, model });
    });
  }

  let boot: LabNode['boot'] | undefined = ['network', 'disk'];
  const bootNode = optional(r, e, 'boot');
  if (bootNode !== undefined) {
    const items = readList(r, bootNode, `${field}.boot`, '[network, disk]');
    if (!items) boot = undefined;
    else if (items.length === 0) boot = r.fail(bootNode, `${field}.boot`, 'needs at least one of network, disk');
    else {
      const list: LabNode['boot'] = [];
      items.forEach((item, i) => {
        const b = readEnum(r, item, `${field}.boot[${i}]`, ['network', 'disk'] as const);
        if (b === undefined) return;
        if (list.includes(b)) r.fail(item, `${field}.boot[${i}]`, `'${b}' is listed twice`);
        else list.push(b);
      });
      boot = list;
    }
  }

  const power = readPower(r, optional(r, e, 'power'), `${field}.power`);
  const profileNode = optional(r, e, 'profile');
  const profile = profileNode === undefined ? undefined : readProfileRef(r, profileNode, `${field}.profile`, ctx);

  // Claimed even when the node is refused, so later nodes are told about a clash with this one.
  claimNode(ctx, r, name, nics, line, field);
  if (r.problems.length > before || name === undefined || firmware === undefined || cpus === undefined || memoryMiB === undefined || boot === undefined || power === undefined) return undefined;

  if (boot.includes('network') && ctx.provisionerNetwork !== undefined) {
    const first = nics[0];
    if (!nics.some((n) => n.network === ctx.provisionerNetwork)) {
      r.warn(nicsNode, `${field}.nics`, `no NIC on the provisioner's network '${ctx.provisionerNetwork}': ${name} cannot network-boot`);
    } else if (first && first.network !== ctx.provisionerNetwork) {
      r.warn(nicsNode, `${field}.nics`, `the first NIC is on '${first.network}', not the provisioner's network '${ctx.provisionerNetwork}': the firmware tries it first and waits for its DHCP to time out`);
    }
  }
  return {
    name,
    ...(rack !== undefined ? { rack } : {}),
    ...(datacentre !== undefined ? { datacentre } : {}),
    firmware, cpus, memoryMiB, disks, nics, boot, power,
    ...(profile !== undefined ? { profile } : {}),
    line,
  };
}

function claimNode(ctx: NodeContext, r: Reader, name: string | undefined, nics: LabNic[], line: number, field: string): void {
  const label = name ?? field;
  if (name !== undefined && !ctx.names.has(name)) ctx.names.set(name, { label: `node ${name}`, line, file: r.file });
  for (const nic of nics) if (!ctx.macs.has(nic.mac)) ctx.macs.set(nic.mac, { label, line, file: r.file });
}

function readPower(r: Reader, node: unknown, field: string): LabNode['power'] | undefined {
  if (node === undefined) return { control: 'qmp', initial: 'on' };
  const initial = (n: unknown, f: string): 'on' | 'off' | undefined => {
    const v = r.deref(n);
    if (isScalar(v) && typeof v.value === 'boolean') return v.value ? 'on' : 'off';
    return readEnum(r, n, f, ['on', 'off'] as const);
  };
  if (!isMap(r.deref(node))) {
    const i = initial(node, field);
    return i === undefined ? undefined : { control: 'qmp', initial: i };
  }
  const e = readMap(r, node, field, POWER_KEYS);
  if (!e) return undefined;
  const controlNode = optional(r, e, 'control');
  const control = controlNode === undefined ? 'qmp' : readEnum(r, controlNode, `${field}.control`, ['qmp'] as const);
  const initialNode = optional(r, e, 'initial');
  const init = initialNode === undefined ? 'on' : initial(initialNode, `${field}.initial`);
  return control === undefined || init === undefined ? undefined : { control, initial: init };
}

function readSynthetic(r: Reader, node: unknown, field: string, ctx: NodeContext): SyntheticGroup | undefined {
  const e = readMap(r, node, field, SYNTHETIC_KEYS);
  if (!e) return undefined;
  const before = r.problems.length;
  const line = r.at(node).line;
  const countNode = required(r, e, node, field, 'count');
  const count = countNode === undefined ? undefined : readInt(r, countNode, `${field}.count`, LAB_LIMITS.syntheticCount.min, LAB_LIMITS.syntheticCount.max);
  const prefixNode = required(r, e, node, field, 'prefix');
  let prefix = prefixNode === undefined ? undefined : readPattern(r, prefixNode, `${field}.prefix`, HOST_LABEL, 'a hostname label: a-z, 0-9 and -, not starting or ending with -');
  if (prefix !== undefined && count !== undefined && prefix.length + 1 + syntheticNameWidth(count) > 63) {
    prefix = r.fail(prefixNode, `${field}.prefix`, `'${prefix}' is too long: the names (${prefix}-${'0'.repeat(syntheticNameWidth(count))}) must fit 63 characters`);
  }
  const netNode = required(r, e, node, field, 'network');
  const network = netNode === undefined ? undefined : readNetworkRef(r, netNode, `${field}.network`, ctx);
  const macNode = required(r, e, node, field, 'mac_base');
  let macBase = macNode === undefined ? undefined : readMac(r, macNode, `${field}.mac_base`);
  if (macBase !== undefined && count !== undefined) {
    const first = macToNumber(macBase);
    const last = first + count - 1;
    if (Math.floor(last / 2 ** 40) !== Math.floor(first / 2 ** 40)) {
      macBase = r.fail(macNode, `${field}.mac_base`, `${count} MACs from ${macBase} run past ${macBase.slice(0, 2)}:ff:ff:ff:ff:ff into other first bytes (multicast or out of range)`);
    }
  }
  const fwNode = optional(r, e, 'firmware');
  const firmware = fwNode === undefined ? 'bios' : readEnum(r, fwNode, `${field}.firmware`, ['bios', 'uefi'] as const);
  const profileNode = optional(r, e, 'profile');
  const profile = profileNode === undefined ? undefined : readProfileRef(r, profileNode, `${field}.profile`, ctx);
  if (r.problems.length > before || count === undefined || prefix === undefined || network === undefined || macBase === undefined || firmware === undefined) return undefined;

  const group: SyntheticGroup = { prefix, network, count, macBase, firmware, ...(profile !== undefined ? { profile } : {}), line };
  const members = syntheticNodes(group);
  const range = `${members[0]!.name}…${members[members.length - 1]!.name}`;
  const nameClash = members.find((m) => ctx.names.has(m.name));
  if (nameClash) r.fail(prefixNode, `${field}.prefix`, `the names ${range} include '${nameClash.name}', already used by ${ownerText(r, ctx.names.get(nameClash.name)!)}`);
  const macClash = members.find((m) => ctx.macs.has(m.mac));
  if (macClash) r.fail(macNode, `${field}.mac_base`, `the MACs ${members[0]!.mac}…${members[members.length - 1]!.mac} include ${macClash.mac}, already used by ${ownerText(r, ctx.macs.get(macClash.mac)!)}`);
  for (const m of members) {
    const owner = { label: `${m.name} of synthetic group '${prefix}'`, line, file: r.file };
    if (!ctx.names.has(m.name)) ctx.names.set(m.name, owner);
    if (!ctx.macs.has(m.mac)) ctx.macs.set(m.mac, owner);
  }
  if (nameClash || macClash) return undefined;
  if (ctx.provisionerNetwork !== undefined && network !== ctx.provisionerNetwork) {
    r.warn(netNode, `${field}.network`, `'${network}' is not the provisioner's network '${ctx.provisionerNetwork}': these clients get no DHCP answer`);
  }
  return group;
}

// ---------------------------------------------------------------------------------------
// Entry points

function parseYaml(text: string, file: string): { r: Reader; contents: unknown } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(file, doc, lc);
  for (const err of doc.errors) {
    const p = lc.linePos(err.pos[0]);
    r.problems.push({ file, line: p.line, column: p.col, field: '', message: `YAML: ${err.message}` });
  }
  for (const w of doc.warnings) {
    const p = lc.linePos(w.pos[0]);
    r.warnings.push({ file, line: p.line, column: p.col, field: '', message: `YAML: ${w.message}` });
  }
  return { r, contents: doc.contents };
}

/** Parses and validates a lab file's text; `file` is used in messages and to resolve inventory paths. */
export function parseLab(text: string, file: string): LabDefinition {
  const { r, contents } = parseYaml(text, file);
  if (r.problems.length > 0) throw new LabDefinitionError(r.problems);
  if (isNullish(r, contents)) throw new LabDefinitionError([{ file, line: 1, column: 1, field: '', message: 'the lab file is empty' }]);
  if (!isMap(r.deref(contents))) throw new LabDefinitionError([{ file, ...r.at(contents), field: '', message: `the top level must be a map (lab:, networks:, …), found ${describe(r.deref(contents))}` }]);
  const lab = readLab(r, contents);
  if (r.problems.length > 0 || !lab) throw new LabDefinitionError(r.problems);
  return lab;
}

function readLab(r: Reader, root: unknown): LabDefinition | undefined {
  const e = readMap(r, root, '', TOP_KEYS, true)!;
  const nameNode = required(r, e, root, '', 'lab');
  const name = nameNode === undefined ? undefined : readPattern(r, nameNode, 'lab', LAB_NAME, 'a-z or 0-9, then up to 31 of a-z, 0-9 and -');

  const netsNode = required(r, e, root, '', 'networks');
  const { parsed, declared } = netsNode === undefined ? { parsed: [], declared: new Set<string>() } : readNetworks(r, netsNode, 'networks');
  const networks = new Map(parsed.map((p) => [p.net.name, p]));

  const provNode = required(r, e, root, '', 'provisioner');
  const prov = provNode === undefined ? undefined : readProvisioner(r, provNode, 'provisioner', networks, declared);

  const captureNode = optional(r, e, 'capture');
  const capture = captureNode === undefined ? { keep: 5 } : readCapture(r, captureNode, 'capture');

  const ctx: NodeContext = {
    declaredNetworks: declared, profiles: prov?.profiles, provisionerNetwork: prov?.network,
    names: new Map(), macs: new Map(),
  };
  const nodes: LabNode[] = [];
  const nodesNode = optional(r, e, 'nodes');
  if (nodesNode !== undefined) {
    readList(r, nodesNode, 'nodes', '[{ name: node1, nics: [...] }]')?.forEach((item, i) => {
      const n = readNode(r, item, `nodes[${i}]`, ctx);
      if (n) nodes.push(n);
    });
  }
  const synthetic: SyntheticGroup[] = [];
  const synNode = optional(r, e, 'synthetic');
  if (synNode !== undefined) {
    readList(r, synNode, 'synthetic', '[{ prefix: syn, network: provisioning, count: 20, mac_base: 52:54:01:00:00:01 }]')?.forEach((item, i) => {
      const g = readSynthetic(r, item, `synthetic[${i}]`, ctx);
      if (g) synthetic.push(g);
    });
  }

  if (r.problems.length > 0 || name === undefined || !prov?.prov || !capture) return undefined;
  const provNet = prov.prov.network;
  const clients = nodes.reduce((sum, n) => sum + n.nics.filter((nic) => nic.network === provNet).length, 0);
  const synClients = synthetic.filter((g) => g.network === provNet).reduce((sum, g) => sum + g.count, 0);
  if (clients + synClients > prov.rangeSize) {
    r.warn(prov.rangeNode, 'provisioner.dhcp_range', `${prov.rangeSize} addresses for ${clients + synClients} clients on '${provNet}' (${clients} node NICs, ${synClients} synthetic): some will get no lease`);
  }
  return {
    name, file: r.file, networks: parsed.map((p) => p.net), provisioner: prov.prov, nodes, synthetic, capture,
    warnings: sortProblems(r.warnings).map(formatProblem),
  };
}

/** Reads and parses a lab file. Read failures are LabDefinitionErrors at line 0. */
export function readLabFile(path: string): LabDefinition {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > LAB_LIMITS.fileBytes) throw new Error(`larger than ${formatSize(LAB_LIMITS.fileBytes)}`);
    text = bytes.toString('utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder, not a file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new LabDefinitionError([{ file: path, line: 0, column: 0, field: '', message: `cannot read the lab file: ${why}` }]);
  }
  return parseLab(text, path);
}

/**
 * One node, validated against a lab (for adding a node to a running lab): its networks and
 * profiles must exist, its name and MACs must not clash with the lab's nodes or synthetic
 * clients. `value` is YAML text (positions in messages, relative to `where.file`) or plain data
 * (JSON from a socket: messages carry the field path only). Field paths start at `node`.
 */
export function parseNodeDefinition(value: unknown, lab: LabDefinition, where?: { file: string }): LabNode {
  const file = where?.file ?? '(node definition)';
  let r: Reader;
  let contents: unknown;
  if (typeof value === 'string') {
    ({ r, contents } = parseYaml(value, file));
    if (r.problems.length > 0) throw new LabDefinitionError(r.problems);
  } else {
    const doc = new Document(value ?? null);
    r = new Reader(file, doc, undefined);
    contents = doc.contents;
  }
  const profiles = lab.provisioner.inventory.profiles.map((p) => String(p['name']));
  const ctx: NodeContext = {
    declaredNetworks: new Set(lab.networks.map((n) => n.name)), profiles: profiles.length > 0 ? new Set(profiles) : undefined,
    provisionerNetwork: lab.provisioner.network, names: new Map(), macs: new Map(),
  };
  for (const n of lab.nodes) {
    const owner = { label: n.name, line: n.line, file: lab.file };
    ctx.names.set(n.name, { ...owner, label: `node ${n.name}` });
    for (const nic of n.nics) ctx.macs.set(nic.mac, owner);
  }
  for (const g of lab.synthetic) {
    for (const m of syntheticNodes(g)) {
      const owner = { label: `${m.name} of synthetic group '${g.prefix}'`, line: g.line, file: lab.file };
      ctx.names.set(m.name, owner);
      ctx.macs.set(m.mac, owner);
    }
  }
  if (isNullish(r, contents)) throw new LabDefinitionError([{ file, line: 0, column: 0, field: 'node', message: 'the node definition is empty' }]);
  const node = readNode(r, contents, 'node', ctx);
  if (r.problems.length > 0 || !node) throw new LabDefinitionError(r.problems);
  return node;
}
