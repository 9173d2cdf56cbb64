// Login tokens as Cobbler 3.3 hands them out: in memory, lost on restart. Tokens are base64
// of 27 random bytes (36 characters) and slide: every successful use renews the lifetime.
import type { Clock, Random } from '../../lib/clock.ts';

export const TOKEN_LIFETIME_S = 3600;
export const DIRECT_USER = '<DIRECT>';

interface Session { user: string; seen: number }

export class TokenSessions {
  private readonly sessions = new Map<string, Session>();
  constructor(private readonly clock: Clock, private readonly random: Random, private readonly lifetime = TOKEN_LIFETIME_S) {}

  issue(user: string): string {
    this.sweep();
    // 27 bytes encode to exactly 36 base64 characters; Cobbler's token check wants length 36.
    const token = this.random.bytes(27).toString('base64');
    this.sessions.set(token, { user, seen: this.clock.now() });
    return token;
  }

  /** The user behind a live token (renewing it), or undefined. */
  validate(token: unknown): string | undefined {
    if (typeof token !== 'string' || token.length !== 36) return undefined;
    const s = this.sessions.get(token);
    if (!s) return undefined;
    const now = this.clock.now();
    if (now - s.seen > this.lifetime) { this.sessions.delete(token); return undefined; }
    s.seen = now;
    return s.user;
  }

  revoke(token: unknown): boolean {
    return typeof token === 'string' && this.sessions.delete(token);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [t, s] of this.sessions) if (now - s.seen > this.lifetime) this.sessions.delete(t);
  }
}

