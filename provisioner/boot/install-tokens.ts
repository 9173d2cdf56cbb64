// Per-install one-time tokens. Cobbler's install callbacks (nopxe, triggers) are
// unauthenticated: anyone on the install network can switch any system's netboot off by
// name. Here the callback URLs a machine receives carry a token issued for that install;
// nopxe needs it and retires it, so a replay does nothing, and the next install (netboot
// switched back on) gets a fresh one.
//
// The token reaches the machine through its boot file and kernel line, which any host on the
// install network can also fetch: it defends against guessed names, foreign tokens and
// replays, not against someone who reads the boot traffic.
import { timingSafeEqual } from 'node:crypto';
import type { Random } from '../../lib/clock.ts';

export interface TokenStore {
  get(system: string): string | undefined;
  put(system: string, token: string): void;
  delete(system: string): void;
}

export class MemoryTokenStore implements TokenStore {
  private readonly tokens = new Map<string, string>();
  get(system: string): string | undefined { return this.tokens.get(system); }
  put(system: string, token: string): void { this.tokens.set(system, token); }
  delete(system: string): void { this.tokens.delete(system); }
}

/** Stored value of a retired token: still good for the triggers that follow nopxe. */
const RETIRED = 'retired:';
const TOKEN_RE = /^[0-9a-f]{32}$/;

export class InstallTokens {
  constructor(private readonly store: TokenStore, private readonly random: Random) {}

  /** The system's live token; a new one when it has none or its last one was retired. */
  tokenFor(system: string): string {
    const stored = this.store.get(system);
    if (stored !== undefined && !stored.startsWith(RETIRED)) return stored;
    const token = this.random.bytes(16).toString('hex');
    this.store.put(system, token);
    return token;
  }

  /** The live token, without issuing one. */
  peek(system: string): string | undefined {
    const stored = this.store.get(system);
    return stored !== undefined && !stored.startsWith(RETIRED) ? stored : undefined;
  }

  /** true only for the system's live token (nopxe, autoinstall). Constant-time compare. */
  check(system: string, token: string | undefined): boolean {
    return same(this.peek(system), token);
  }

  /**
   * true for the live token or the one nopxe just retired: the post-install and firstboot
   * triggers run after nopxe (Cobbler's autoinstall_done calls nopxe first).
   */
  checkIssued(system: string, token: string | undefined): boolean {
    const stored = this.store.get(system);
    if (stored === undefined) return false;
    return same(stored.startsWith(RETIRED) ? stored.slice(RETIRED.length) : stored, token);
  }

  /** After a successful nopxe: the token stops opening nopxe; tokenFor will issue a new one. */
  retire(system: string): void {
    const stored = this.store.get(system);
    if (stored !== undefined && !stored.startsWith(RETIRED)) this.store.put(system, RETIRED + stored);
  }

  /** Forget the system's token entirely (system removed or renamed). */
  revoke(system: string): void {
    this.store.delete(system);
  }
}

function same(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined || given === undefined || !TOKEN_RE.test(given)) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
