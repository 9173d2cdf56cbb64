// The hypervisor vocabulary: what a node's agent sends to register, what the registry keeps,
// and what the API shows. Parsing is pure and strict (unknown fields refused, every number
// range-checked), so nothing a node sends reaches the store unchecked.
import { RackforgeError } from '../../lib/errors.ts';
import { isMac, parseMac } from '../../lib/ids.ts';

export interface Disk {
  name: string;
  size_bytes: number;
}

/** What the registry stores. The bearer credential itself is never kept: only its SHA-256. */
export interface HypervisorRecord {
  /** The provisioner's system name. */
  name: string;
  hostname: string;
  /** Lower-case, colon form, as the agent listed them (first = the one shown as `mac`). */
  macs: string[];
  cpus: number;
  memory_mb: number;
  disks: Disk[];
  /** From the system's mgmt_parameters in the provisioner's inventory, never from the agent. */
  rack: string | null;
  datacentre: string | null;
  /** ISO 8601 (UTC, milliseconds). */
  registered_at: string;
  last_heartbeat: string;
  /** Lower-case hex SHA-256 of the credential handed out at registration. */
  credential_hash: string;
}

/** `registered` while heartbeats arrive, `down` once they stopped for longer than the limit. */
export type HypervisorState = 'registered' | 'down';

/** A hypervisor as the API and the CLI show it. Field names are a stable interface. */
export interface HypervisorView {
  name: string;
  hostname: string;
  mac: string;
  macs: string[];
  state: HypervisorState;
  cpus: number;
  memory_mb: number;
  disks: Disk[];
  rack: string | null;
  datacentre: string | null;
  registered_at: string;
  last_heartbeat: string;
}

/** The body of `POST /api/v1/hypervisors`, checked. */
export interface RegistrationRequest {
  system: string;
  hostname: string;
  macs: string[];
  token: string;
  cpus: number;
  memory_mb: number;
  disks: Disk[];
}

export const LIMITS = {
  cpus: { min: 1, max: 1024 },
  memory_mb: { min: 1, max: 2 ** 24 },
  disks: 64,
  macs: 16,
} as const;

const REGISTRATION_FIELDS = ['system', 'hostname', 'macs', 'token', 'cpus', 'memory_mb', 'disks'] as const;
const DISK_FIELDS = ['name', 'size_bytes'] as const;

/** Cobbler system names as the provisioner accepts them, in the URL-safe subset. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
/** One DNS label (RFC 1123): letters, digits, inner hyphens, at most 63 characters. */
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Install tokens are 16 random bytes in lower-case hex (provisioner/boot/install-tokens.ts). */
const TOKEN_RE = /^[0-9a-f]{32}$/;
const DISK_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isHypervisorName(text: string): boolean {
  return NAME_RE.test(text);
}

function bad(field: string, message: string): RackforgeError {
  return new RackforgeError('CONTROLLER_BAD_REQUEST', `${field}: ${message}`, { field });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyFields(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw bad(where ? `${where}.${k}` : k, 'unknown field');
  }
  for (const k of allowed) {
    if (!Object.hasOwn(obj, k)) throw bad(where ? `${where}.${k}` : k, 'missing');
  }
}

function integerIn(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(field, 'must be a whole number');
  if (v < min || v > max) throw bad(field, `must be between ${min} and ${max}`);
  return v;
}

function matching(v: unknown, field: string, re: RegExp, what: string): string {
  if (typeof v !== 'string') throw bad(field, 'must be a string');
  if (!re.test(v)) throw bad(field, `must be ${what}`);
  return v;
}

/**
 * Checks a registration body. Throws CONTROLLER_BAD_REQUEST whose `details.field` names the
 * first offending field (`macs[2]`, `disks[0].size_bytes`), and whose message says why.
 */
export function parseRegistration(body: unknown): RegistrationRequest {
  if (!isObject(body)) throw bad('body', 'must be a JSON object');
  onlyFields(body, REGISTRATION_FIELDS, '');
  const system = matching(body['system'], 'system', NAME_RE, 'a system name (letters, digits, . _ -; at most 255)');
  const hostname = matching(body['hostname'], 'hostname', LABEL_RE, 'one DNS label of at most 63 characters').toLowerCase();
  const token = matching(body['token'], 'token', TOKEN_RE, '32 lower-case hex digits');
  const cpus = integerIn(body['cpus'], 'cpus', LIMITS.cpus.min, LIMITS.cpus.max);
  const memory_mb = integerIn(body['memory_mb'], 'memory_mb', LIMITS.memory_mb.min, LIMITS.memory_mb.max);

  const rawMacs = body['macs'];
  if (!Array.isArray(rawMacs)) throw bad('macs', 'must be an array of MAC addresses');
  if (rawMacs.length === 0) throw bad('macs', 'must list at least one MAC address');
  if (rawMacs.length > LIMITS.macs) throw bad('macs', `must list at most ${LIMITS.macs} MAC addresses`);
  const macs: string[] = [];
  rawMacs.forEach((m, i) => {
    if (typeof m !== 'string' || !isMac(m)) throw bad(`macs[${i}]`, 'must be a MAC address like 52:54:00:12:34:56');
    const mac = parseMac(m);
    const first = macs.indexOf(mac);
    if (first >= 0) throw bad(`macs[${i}]`, `repeats macs[${first}]`);
    macs.push(mac);
  });

  const rawDisks = body['disks'];
  if (!Array.isArray(rawDisks)) throw bad('disks', 'must be an array of {name, size_bytes}');
  if (rawDisks.length > LIMITS.disks) throw bad('disks', `must list at most ${LIMITS.disks} disks`);
  const disks: Disk[] = [];
  rawDisks.forEach((d, i) => {
    const where = `disks[${i}]`;
    if (!isObject(d)) throw bad(where, 'must be an object {name, size_bytes}');
    onlyFields(d, DISK_FIELDS, where);
    const name = matching(d['name'], `${where}.name`, DISK_NAME_RE, 'a device name (letters, digits, . _ -; at most 64)');
    const size_bytes = integerIn(d['size_bytes'], `${where}.size_bytes`, 0, Number.MAX_SAFE_INTEGER);
    const first = disks.findIndex((x) => x.name === name);
    if (first >= 0) throw bad(`${where}.name`, `repeats disks[${first}].name`);
    disks.push({ name, size_bytes });
  });

  return { system, hostname, macs, token, cpus, memory_mb, disks };
}

/** Seconds since the epoch → the ISO text the records hold. */
export function isoTime(seconds: number): string {
  return new Date(Math.round(seconds * 1000)).toISOString();
}

/** `down` when the last heartbeat is more than `downAfterSeconds` old at `now` (seconds). */
export function selectState(record: Pick<HypervisorRecord, 'last_heartbeat'>, now: number, downAfterSeconds: number): HypervisorState {
  const last = Date.parse(record.last_heartbeat) / 1000;
  // An unreadable time cannot prove liveness.
  if (!Number.isFinite(last)) return 'down';
  return now - last > downAfterSeconds ? 'down' : 'registered';
}

export function viewOf(record: HypervisorRecord, state: HypervisorState): HypervisorView {
  return {
    name: record.name,
    hostname: record.hostname,
    mac: record.macs[0] ?? '',
    macs: [...record.macs],
    state,
    cpus: record.cpus,
    memory_mb: record.memory_mb,
    disks: record.disks.map((d) => ({ name: d.name, size_bytes: d.size_bytes })),
    rack: record.rack,
    datacentre: record.datacentre,
    registered_at: record.registered_at,
    last_heartbeat: record.last_heartbeat,
  };
}
