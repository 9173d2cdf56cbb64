// Where a machine's install stands, read from its boot events (pure): the stages of the
// current install — dhcp, pxe-loaded, installer-started, image-written, nopxe, rebooted,
// registered — each with when it happened, and a failure when one ended it: the installer's
// own report (checksum mismatch, download failed...), the kernel or initrd not found, the
// autoinstall template failing to render, or no progress for too long.
//
// An install starts with a DHCP answer that carries a boot file while the previous install
// is over (or there was none): the installer's own DHCP request, while netboot is still on,
// belongs to the same install.
import type { BootEvent } from './boot-events.ts';

export const INSTALL_STAGES = ['dhcp', 'pxe-loaded', 'installer-started', 'image-written', 'nopxe', 'rebooted', 'registered'] as const;
export type InstallStage = (typeof INSTALL_STAGES)[number] | 'failed';

export interface InstallStageEntry { stage: InstallStage; at: string; detail: string }

export interface InstallStatus {
  /** none: no install seen; installing; installed (nopxe seen, not registered yet); registered; failed. */
  state: 'none' | 'installing' | 'installed' | 'registered' | 'failed';
  stages: InstallStageEntry[];
  /** Seconds since the epoch of the first and the last event of this install. */
  startedAt?: number;
  lastAt?: number;
  ip?: string;
}

export interface InstallStatusOptions {
  /** An install with no event for this long is failed (timeout); default 1200 s. */
  timeoutSeconds?: number;
}

const iso = (at: number): string => new Date(at * 1000).toISOString();

/** The reason a boot event ends an install, if it does. */
export function failureOf(e: BootEvent): string | undefined {
  if (e.kind === 'install' && e.detail.startsWith('failed')) return e.detail.replace(/^failed:?\s*/, '') || 'the installer reported a failure';
  if ((e.kind === 'tftp-error' || e.kind === 'http-error') && /(^|\/)images\/[^:]*: not-found|\/images\/.*: (not found|distro .* is missing)/.test(e.detail)) {
    return `kernel or initrd not found: ${e.detail}`;
  }
  if (e.kind === 'http-error' && e.detail.startsWith('/cblr/svc/op/autoinstall/') && /template|variable|snippet/.test(e.detail)) {
    return `autoinstall template error: ${e.detail}`;
  }
  return undefined;
}

function stageOf(e: BootEvent): InstallStage | undefined {
  switch (e.kind) {
    case 'dhcp-ack': return e.detail.includes('; boot ') ? 'dhcp' : undefined;
    case 'tftp-file':
    case 'http-file': return 'pxe-loaded';
    case 'callback': return /nopxe: netboot disabled/.test(e.detail) ? 'nopxe' : undefined;
    case 'install': {
      const stage = e.detail.split(':')[0];
      return stage === 'installer-started' || stage === 'image-written' || stage === 'rebooted' || stage === 'registered' ? stage : undefined;
    }
    default: return undefined;
  }
}

/** `events` are one machine's, oldest first; `now` in seconds since the epoch. */
export function deriveInstallStatus(events: readonly BootEvent[], now: number, o: InstallStatusOptions = {}): InstallStatus {
  const timeout = o.timeoutSeconds ?? 1200;
  let current: { stages: InstallStageEntry[]; seen: Set<InstallStage>; startedAt: number; lastAt: number; ip?: string; over: boolean } | undefined;
  for (const e of events) {
    const stage = stageOf(e);
    if (stage === 'dhcp' && (!current || current.over)) {
      current = { stages: [], seen: new Set(), startedAt: e.at, lastAt: e.at, over: false };
    }
    if (!current || current.over) continue;
    const failure = failureOf(e);
    if (failure !== undefined) {
      current.stages.push({ stage: 'failed', at: iso(e.at), detail: failure });
      current.lastAt = e.at;
      current.over = true;
      continue;
    }
    if (stage === undefined || current.seen.has(stage)) continue;
    // pxe-loaded is the first file after the DHCP answer; files of the installed system's own
    // boots (it fetches none) or of the installer later on are not stages.
    if (stage === 'pxe-loaded' && current.seen.has('installer-started')) continue;
    current.seen.add(stage);
    current.stages.push({ stage, at: iso(e.at), detail: e.detail });
    current.lastAt = e.at;
    if (stage === 'dhcp' && e.ip) current.ip = e.ip;
    if (stage === 'registered') current.over = true;
  }
  if (!current) return { state: 'none', stages: [] };
  const base = { startedAt: current.startedAt, lastAt: current.lastAt, ...(current.ip ? { ip: current.ip } : {}) };
  const last = current.stages.at(-1)?.stage;
  if (last === 'failed') return { state: 'failed', stages: current.stages, ...base };
  if (last === 'registered') return { state: 'registered', stages: current.stages, ...base };
  if (now - current.lastAt > timeout) {
    const stages = [...current.stages, { stage: 'failed' as const, at: iso(current.lastAt + timeout), detail: `timeout: no progress for ${timeout} s after ${last ?? 'dhcp'}` }];
    return { state: 'failed', stages, ...base };
  }
  return { state: current.seen.has('nopxe') ? 'installed' : 'installing', stages: current.stages, ...base };
}
