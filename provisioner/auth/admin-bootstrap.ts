// First start: make sure the `cobbler` admin exists. Its password comes from the environment
// or is generated and handed back once, for the composition root to print; never logged.
import type { Random } from '../../lib/clock.ts';
import type { Store } from '../store/store.ts';
import { hashPassword } from './password.ts';

export const ADMIN_USER = 'cobbler';

export interface BootstrapResult {
  created: boolean;
  /** Only when the password was generated here: shown to the operator exactly once. */
  generatedPassword?: string;
}

export function ensureAdminUser(store: Store, opts: { password?: string; random: Random; now: number }): BootstrapResult {
  if (store.getUser(ADMIN_USER)) return { created: false };
  const generated = opts.password ? undefined : opts.random.bytes(18).toString('base64url');
  const password = opts.password ?? generated!;
  store.putUser({ name: ADMIN_USER, passwordHash: hashPassword(password, opts.random), createdAt: opts.now });
  return generated ? { created: true, generatedPassword: generated } : { created: true };
}
