// The CLI's side of the Cobbler XML-RPC API: one POST per call, faults and transport
// failures turned into a RackforgeError('CLI_SERVER') whose message is fit for one line.
// Call parameters never appear in errors: they may hold passwords and tokens.
import { RackforgeError } from '../lib/errors.ts';
import { encodeMethodCall, decodeMethodResponse, type XmlRpcValue } from '../provisioner/protocol/xmlrpc.ts';

const RESPONSE_LIMIT_BYTES = 1024 * 1024 * 1024;
import { faultMessage } from '../provisioner/cobbler/faults.ts';

export type { XmlRpcValue };

export const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** fetch() wraps the socket error; dig out its code (an AggregateError when several addresses were tried). */
export function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof o.code === 'string' && o.code !== 'UND_ERR_SOCKET') return o.code;
    if (Array.isArray(o.errors) && o.errors.length > 0) e = o.errors[0];
    else e = o.cause;
  }
  return undefined;
}

export class CobblerClient {
  constructor(
    readonly url: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async call(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: encodeMethodCall(method, params),
      });
    } catch (err) {
      const code = networkCode(err);
      const reason = code ? (NETWORK_REASONS[code] ?? code) : err instanceof Error ? err.message : String(err);
      throw new RackforgeError('CLI_SERVER', `cannot reach ${this.url}: ${reason}`, { method, code });
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) {
      throw new RackforgeError('CLI_SERVER', `${this.url} answered HTTP ${response.status} to ${method}`, { method, status: response.status });
    }
    let decoded: ReturnType<typeof decodeMethodResponse>;
    try {
      // Responses come from the server we chose to trust; a report of 10,000 systems is ~80 MB.
      decoded = decodeMethodResponse(body, { maxBytes: RESPONSE_LIMIT_BYTES });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new RackforgeError('CLI_SERVER', `${this.url} answered ${method} with something that is not XML-RPC: ${why}`, { method });
    }
    if ('fault' in decoded) {
      throw new RackforgeError('CLI_SERVER', faultMessage(decoded.fault.faultString), {
        method,
        faultCode: decoded.fault.faultCode,
        faultString: decoded.fault.faultString,
      });
    }
    return decoded.value;
  }
}
