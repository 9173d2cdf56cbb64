// The CLI's side of the controller's REST/JSON API (controller/hypervisors/controller-routes.ts).
// It lives next to the Cobbler API on the same server: `--server …/cobbler_api` means the
// controller is at `…/api/v1`. Errors become one-line CLI_SERVER errors; tokens never appear.
import { RackforgeError } from '../lib/errors.ts';
import { NETWORK_REASONS, networkCode } from './api-client.ts';

const RESPONSE_LIMIT_BYTES = 256 * 1024 * 1024;

/**
 * `http://h:5080/cobbler_api` → `http://h:5080/api/v1`; a proxy prefix is kept
 * (`https://h/prov/cobbler_api` → `https://h/prov/api/v1`), and so is a path of another name
 * (`…/RPC2` → `…/api/v1` beside it).
 */
export function controllerBaseUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/[^/]*$/, '') + '/api/v1';
  return url.href;
}

export class ControllerClient {
  constructor(readonly baseUrl: string, private readonly fetchImpl: typeof fetch = fetch) {}

  /** GET `<base><path>` with the API token; the parsed JSON body of a 200. */
  async getJson(path: string, token: string): Promise<unknown> {
    const url = this.baseUrl + path;
    let response: Response;
    try {
      response = await this.fetchImpl(url, { headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
    } catch (err) {
      const code = networkCode(err);
      const reason = code ? (NETWORK_REASONS[code] ?? code) : err instanceof Error ? err.message : String(err);
      throw new RackforgeError('CLI_SERVER', `cannot reach ${url}: ${reason}`, { code });
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > RESPONSE_LIMIT_BYTES) throw new RackforgeError('CLI_SERVER', `${url} answered with ${length} bytes, more than the CLI reads`);
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status !== 200) {
      const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const why = e && typeof e.message === 'string' ? `: ${e.message}` : response.status === 404 ? ' (does the server run the controller?)' : '';
      throw new RackforgeError('CLI_SERVER', `${url} answered HTTP ${response.status}${why}`, {
        status: response.status, ...(e && typeof e.code === 'string' ? { serverCode: e.code } : {}),
      });
    }
    if (body === undefined) throw new RackforgeError('CLI_SERVER', `${url} answered with something that is not JSON`);
    return body;
  }
}
