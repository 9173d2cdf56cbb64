// Who may register as a hypervisor: a machine the provisioner installed. The controller holds
// no shared secret for this; it asks the provisioner (through this seam) whether the system
// exists, whether the caller shows one of its MACs, and whether the token is the one issued
// for the system's install (the per-install token of provisioner/boot/install-tokens.ts that
// reached the machine through its kernel line and autoinstall file).
import { isMac, parseMac } from '../../lib/ids.ts';

export type IdentityRefusal = 'unknown-system' | 'mac-mismatch' | 'no-install' | 'foreign-token';

export type IdentityResult =
  | { ok: true; rack?: string; datacentre?: string }
  | { ok: false; reason: IdentityRefusal };

/**
 * Implemented by the composition root over the provisioner's inventory and install tokens.
 *
 * `systemForRegistration(system, macs, token)` answers, in this order of checks:
 * - `unknown-system`: the inventory has no system named `system`;
 * - `mac-mismatch`: none of `macs` (lower-case, colon form) is a MAC of one of its interfaces;
 * - `no-install`: no install token was ever issued for the system (optional to detect; an
 *   implementation that cannot tell may answer `foreign-token` instead);
 * - `foreign-token`: `token` is not the token issued for the system's current or just-finished
 *   install (`InstallTokens.checkIssued(system, token)` is false): another system's token, an
 *   older install's token, or a made-up one;
 * - otherwise `{ ok: true }` with `rack` and `datacentre` from the system's `mgmt_parameters`
 *   when they are strings there.
 *
 * It must not remember anything: making the token one-time is the registry's job (it records
 * each token that registered, so a replay is refused although checkIssued still says true).
 * It is called synchronously on the request path and must not throw for ordinary refusals.
 */
export interface InstallIdentity {
  systemForRegistration(system: string, macs: readonly string[], token: string): IdentityResult;
}

/** A provisioner system record (a Cobbler 3.3 system dict); only `interfaces` and `mgmt_parameters` are read. */
export type SystemLike = Readonly<Record<string, unknown>>;

export interface InventoryIdentityDeps {
  /** The system record by name, e.g. `(n) => inventory.get('system', n)`. */
  getSystem(name: string): SystemLike | undefined;
  /** e.g. `(s, t) => tokens.checkIssued(s, t)` (InstallTokens). */
  checkIssued(system: string, token: string): boolean;
  /** Whether any install token (live or retired) exists for the system; without it `no-install` is never answered. */
  hasInstall?(system: string): boolean;
}

/** The MACs of a system's interfaces, lower-case colon form; malformed ones are skipped. */
export function selectSystemMacs(system: SystemLike): string[] {
  const ifaces = system['interfaces'];
  if (typeof ifaces !== 'object' || ifaces === null || Array.isArray(ifaces)) return [];
  const out: string[] = [];
  for (const nic of Object.values(ifaces as Record<string, unknown>)) {
    if (typeof nic !== 'object' || nic === null || Array.isArray(nic)) continue;
    const m = (nic as Record<string, unknown>)['mac_address'];
    if (typeof m === 'string' && isMac(m)) out.push(parseMac(m));
  }
  return out;
}

/** `rack` and `datacentre` from mgmt_parameters, when that is a dict holding strings. */
export function selectPlacement(system: SystemLike): { rack?: string; datacentre?: string } {
  const p = system['mgmt_parameters'];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return {};
  const { rack, datacentre } = p as Record<string, unknown>;
  return {
    ...(typeof rack === 'string' && rack !== '' ? { rack } : {}),
    ...(typeof datacentre === 'string' && datacentre !== '' ? { datacentre } : {}),
  };
}

/** The InstallIdentity the composition root can hand over as it is, given three lookups. */
export function inventoryInstallIdentity(deps: InventoryIdentityDeps): InstallIdentity {
  return {
    systemForRegistration(name, macs, token) {
      const system = deps.getSystem(name);
      if (!system) return { ok: false, reason: 'unknown-system' };
      const known = new Set(selectSystemMacs(system));
      if (!macs.some((m) => isMac(m) && known.has(parseMac(m)))) return { ok: false, reason: 'mac-mismatch' };
      if (deps.hasInstall && !deps.hasInstall(name)) return { ok: false, reason: 'no-install' };
      if (!deps.checkIssued(name, token)) return { ok: false, reason: 'foreign-token' };
      return { ok: true, ...selectPlacement(system) };
    },
  };
}
