// The hypervisor registry: who may register, what they get back, and whether a node is alive.
// Decisions only; the store keeps the records, the router speaks HTTP. Registration trusts an
// identity the provisioner vouches for (InstallIdentity), not a secret baked into images: the
// install token a machine received with its install proves it is that machine, once.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock, Random } from '../../lib/clock.ts';
import { RackforgeError, type ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import {
  isoTime, selectState, viewOf, type HypervisorRecord, type HypervisorView, type RegistrationRequest,
} from './hypervisor.ts';
import type { IdentityRefusal, InstallIdentity } from './install-identity.ts';
import type { RegistryStore } from './registry-store.ts';

export const DEFAULT_HEARTBEAT_SECONDS = 5;
/** Three missed heartbeats. */
export const DOWN_AFTER_HEARTBEATS = 3;

/** What a successful registration answers, the only time the credential is ever shown. */
export interface RegistrationResult {
  name: string;
  credential: string;
  heartbeat_seconds: number;
}

export interface HypervisorRegistryDeps {
  store: RegistryStore;
  identity: InstallIdentity;
  clock: Clock;
  random: Random;
  log: Logger;
  /** How often agents are told to heartbeat (default 5 s). */
  heartbeatSeconds?: number;
  /** A node whose last heartbeat is older than this is `down` (default 3 × heartbeatSeconds). */
  downAfterSeconds?: number;
  /** Told of every accepted registration (the provisioner records it as the install's last stage). */
  onRegistered?: (r: { name: string; macs: readonly string[]; cpus: number; memory_mb: number; remote?: string }) => void;
}

const REFUSAL_CODES: Readonly<Record<IdentityRefusal, ErrorCode>> = {
  'unknown-system': 'CONTROLLER_UNKNOWN_SYSTEM',
  'mac-mismatch': 'CONTROLLER_MAC_MISMATCH',
  'no-install': 'CONTROLLER_NO_INSTALL',
  'foreign-token': 'CONTROLLER_FOREIGN_TOKEN',
};

const CREDENTIAL_RE = /^[0-9a-f]{64}$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time: does `credential` hash to `storedHash`? */
export function credentialMatches(storedHash: string, credential: string | undefined): boolean {
  if (credential === undefined || !CREDENTIAL_RE.test(credential)) return false;
  const a = Buffer.from(hashSecret(credential), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Refusal message: the reason spelled as a phrase the operator can grep for. */
function refusalMessage(reason: IdentityRefusal | 'replayed-token', system: string): string {
  switch (reason) {
    case 'unknown-system': return `unknown system '${system}': the provisioner has no system by that name`;
    case 'mac-mismatch': return `MAC mismatch: none of the given MACs belongs to an interface of system '${system}'`;
    case 'no-install': return `no install: no install token was ever issued for system '${system}'`;
    case 'foreign-token': return `foreign token: the token is not the one issued for the install of system '${system}'`;
    case 'replayed-token': return `replayed token: this install token of system '${system}' has already registered; reinstall the system for a new one`;
  }
}

export class HypervisorRegistry {
  readonly heartbeatSeconds: number;
  readonly downAfterSeconds: number;

  constructor(private readonly deps: HypervisorRegistryDeps) {
    this.heartbeatSeconds = deps.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
    this.downAfterSeconds = deps.downAfterSeconds ?? DOWN_AFTER_HEARTBEATS * this.heartbeatSeconds;
    if (!(this.heartbeatSeconds > 0) || !(this.downAfterSeconds > 0)) {
      throw new RackforgeError('CONFIG_INVALID', 'heartbeat and down-after intervals must be positive');
    }
  }

  /**
   * Registers (or re-registers after a reinstall) the node `req` describes. Throws a
   * RackforgeError whose code names the refusal: CONTROLLER_UNKNOWN_SYSTEM, _MAC_MISMATCH,
   * _NO_INSTALL, _FOREIGN_TOKEN, _REPLAYED_TOKEN. `remote` is only for the log.
   */
  register(req: RegistrationRequest, remote?: string): RegistrationResult {
    const { log, identity, store, clock, random } = this.deps;
    const about = { system: req.system, hostname: req.hostname, macs: req.macs, ...(remote ? { remote } : {}) };
    const verdict = identity.systemForRegistration(req.system, req.macs, req.token);
    if (!verdict.ok) {
      log.warn('hypervisor registration refused', { ...about, reason: verdict.reason });
      throw new RackforgeError(REFUSAL_CODES[verdict.reason], refusalMessage(verdict.reason, req.system), { reason: verdict.reason });
    }
    const credential = random.bytes(32).toString('hex');
    const now = isoTime(clock.now());
    const previous = store.get(req.system);
    const record: HypervisorRecord = {
      name: req.system,
      hostname: req.hostname,
      macs: [...req.macs],
      cpus: req.cpus,
      memory_mb: req.memory_mb,
      disks: req.disks.map((d) => ({ ...d })),
      rack: verdict.rack ?? null,
      datacentre: verdict.datacentre ?? null,
      registered_at: now,
      last_heartbeat: now,
      credential_hash: hashSecret(credential),
    };
    if (!store.register(record, hashSecret(req.token))) {
      log.warn('hypervisor registration refused', { ...about, reason: 'replayed-token' });
      throw new RackforgeError('CONTROLLER_REPLAYED_TOKEN', refusalMessage('replayed-token', req.system), { reason: 'replayed-token' });
    }
    log.info(previous ? 'hypervisor re-registered (new install)' : 'hypervisor registered', {
      ...about, cpus: req.cpus, memory_mb: req.memory_mb, disks: req.disks.length, rack: record.rack, datacentre: record.datacentre,
    });
    this.deps.onRegistered?.({ name: record.name, macs: record.macs, cpus: record.cpus, memory_mb: record.memory_mb, ...(remote ? { remote } : {}) });
    return { name: record.name, credential, heartbeat_seconds: this.heartbeatSeconds };
  }

  /** Records a heartbeat; CONTROLLER_UNAUTHENTICATED for an unknown name or a wrong credential alike. */
  heartbeat(name: string, credential: string | undefined, remote?: string): void {
    const { store, clock, log } = this.deps;
    const record = store.get(name);
    if (!record || !credentialMatches(record.credential_hash, credential)) {
      log.warn('hypervisor heartbeat refused', { name, ...(remote ? { remote } : {}) });
      throw new RackforgeError('CONTROLLER_UNAUTHENTICATED', 'heartbeat refused: unknown hypervisor or wrong credential');
    }
    const now = clock.now();
    const wasDown = selectState(record, now, this.downAfterSeconds) === 'down';
    // Read, check and touch run without yielding, so no registration can slip in between.
    store.touch(name, isoTime(now));
    if (wasDown) log.info('hypervisor heartbeats resumed', { name, last_heartbeat: record.last_heartbeat });
  }

  /** Every hypervisor with its state at the clock's now, sorted by name. */
  list(): HypervisorView[] {
    const now = this.deps.clock.now();
    return this.deps.store.list().map((r) => viewOf(r, selectState(r, now, this.downAfterSeconds)));
  }

  get(name: string): HypervisorView | undefined {
    const r = this.deps.store.get(name);
    return r === undefined ? undefined : viewOf(r, selectState(r, this.deps.clock.now(), this.downAfterSeconds));
  }
}
