// Checking a user's password against the store, the same way for the API's login and the web
// UI's Basic authentication.
import type { Store } from '../store/store.ts';
import { verifyPassword } from './password.ts';

/** Same parameters as real hashes; matches no password (its hash is all zeros). */
const UNKNOWN_USER_HASH = `scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

/** Whether `password` is `user`'s. An unknown user costs the same scrypt as a wrong password, so timing does not tell them apart. */
export async function authenticateUser(store: Pick<Store, 'getUser'>, user: string, password: string): Promise<boolean> {
  const record = store.getUser(user);
  const ok = await verifyPassword(password, record?.passwordHash ?? UNKNOWN_USER_HASH);
  return record !== undefined && ok;
}
