// Where the server is and how to prove who we are. Reads flags and the environment
// handed in by the caller; the only file it reads is the server's shared secret.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RackforgeError } from '../lib/errors.ts';
import type { CobblerClient } from './api-client.ts';

/** `rackforge serve` listens for HTTP on 5080 by default; the API lives under /cobbler_api. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:5080/cobbler_api';
export const DEFAULT_USER = 'cobbler';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A full http(s) URL is used as given (a bare `/` path becomes `/cobbler_api`);
 * `host`, `host:port` and `[v6]:port` become `http://…/cobbler_api`.
 */
export function parseServerUrl(text: string): string {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  let url: URL;
  try {
    url = new URL(hasScheme ? text : `http://${text}`);
  } catch {
    throw new RackforgeError('CLI_USAGE', `--server '${text}' is not a host, host:port or URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RackforgeError('CLI_USAGE', `--server '${text}' must be an http or https URL`);
  }
  if (!hasScheme && (url.pathname !== '/' || url.search || url.hash || url.username)) {
    throw new RackforgeError('CLI_USAGE', `--server '${text}' is not a host, host:port or URL`);
  }
  if (url.pathname === '/' && !url.search && !url.hash) url.pathname = '/cobbler_api';
  return url.href;
}

export function resolveServerUrl(flag: string | undefined, env: Env): string {
  const text = flag ?? (env['RACKFORGE_SERVER'] || undefined);
  return text === undefined ? DEFAULT_SERVER_URL : parseServerUrl(text);
}

export function resolveDataDir(flag: string | undefined, env: Env): string {
  if (flag !== undefined) return flag;
  if (env['RACKFORGE_DATA']) return env['RACKFORGE_DATA'];
  const base = env['XDG_DATA_HOME'] || join(env['HOME'] || '.', '.local', 'share');
  return join(base, 'rackforge');
}

export interface CredentialSources {
  readonly username?: string;
  readonly password?: string;
  readonly dataDir?: string;
  readonly env: Env;
}

/**
 * Logs in and returns the token. A password (flag or RACKFORGE_PASSWORD) logs in as that
 * user; otherwise, like Cobbler's CLI on the server host, the shared secret in
 * `<data>/web.ss` logs in as the user "".
 */
export async function login(api: CobblerClient, src: CredentialSources): Promise<string> {
  const password = src.password ?? (src.env['RACKFORGE_PASSWORD'] || undefined);
  const user = src.username ?? (src.env['RACKFORGE_USER'] || DEFAULT_USER);
  let token: unknown;
  if (password !== undefined) {
    token = await api.call('login', user, password);
  } else {
    const secretPath = join(resolveDataDir(src.dataDir, src.env), 'web.ss');
    let secret: string;
    try {
      secret = (await readFile(secretPath, 'utf8')).trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' ? `${secretPath} is not readable` : `no password given and ${secretPath} ${code === 'ENOENT' ? 'does not exist' : 'cannot be read'}`;
      throw new RackforgeError('CONFIG_INVALID',
        `${why}: set RACKFORGE_PASSWORD (or --password) for user '${user}', or point --data/RACKFORGE_DATA at the server's data directory`);
    }
    if (secret === '') throw new RackforgeError('CONFIG_INVALID', `${secretPath} is empty: set RACKFORGE_PASSWORD (or --password) for user '${user}'`);
    token = await api.call('login', '', secret);
  }
  if (typeof token !== 'string' || token === '') {
    throw new RackforgeError('CLI_SERVER', `${api.url} answered login without a token`);
  }
  return token;
}
