// POST /cobbler_api: read the body under a byte limit, decode, dispatch, encode.
// Every failure, an oversized or malformed body included, is answered as a Cobbler fault
// (HTTP 200, faultCode 1), so Python's xmlrpc.client raises Fault rather than a protocol error.
import type { Request, Response, Router } from 'express';
import express from 'express';
import { DecodeError, RackforgeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { decodeMethodCall, encodeFault, encodeMethodResponseBytes } from '../protocol/xmlrpc.ts';
import type { Dispatcher } from '../cobbler/dispatch.ts';
import { toFault } from '../cobbler/faults.ts';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Origin, X-Requested-With, Content-Type, Accept',
};

/** Reads the whole body, or reports it too large after draining it (so the client can read the fault). */
function readBody(req: Request, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) { over = true; chunks.length = 0; return; }
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function cobblerApiRouter(opts: { dispatcher: Dispatcher; log: Logger; maxBodyBytes?: number; paths?: string[] }): Router {
  const paths = opts.paths ?? ['/cobbler_api', '/cobbler_api/'];
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const router = express.Router();

  router.options(paths, (_req, res) => { res.set(CORS).status(200).end(); });

  router.post(paths, async (req: Request, res: Response) => {
    res.set(CORS).type('text/xml');
    let body: Buffer | 'too-large';
    try {
      body = await readBody(req, limit);
    } catch {
      return; // the client went away mid-request
    }
    if (body === 'too-large') {
      opts.log.warn('xml-rpc request refused: body too large', { limit, remote: req.socket.remoteAddress });
      res.send(encodeFault(toFault(new RackforgeError('XMLRPC_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`))));
      return;
    }
    let call;
    try {
      call = decodeMethodCall(body, { maxBytes: limit });
    } catch (err) {
      const msg = err instanceof DecodeError ? err.message : String(err);
      opts.log.warn('xml-rpc request refused: malformed', { error: msg, remote: req.socket.remoteAddress });
      res.send(encodeFault(toFault(new RackforgeError('XMLRPC_MALFORMED', `malformed XML-RPC request: ${msg}`))));
      return;
    }
    const started = process.hrtime.bigint();
    const outcome = await opts.dispatcher.call(call);
    // Method and outcome only: arguments can hold passwords and tokens.
    opts.log.debug('xml-rpc call', {
      method: call.methodName, ms: Number(process.hrtime.bigint() - started) / 1e6,
      ...('fault' in outcome ? { fault: outcome.fault.faultString.slice(0, 200) } : {}), remote: req.socket.remoteAddress,
    });
    if ('fault' in outcome) { res.send(encodeFault(outcome.fault)); return; }
    // Large listings are mostly pre-encoded records: write the pieces, never one 70 MB string.
    const parts = encodeMethodResponseBytes(outcome.value);
    res.setHeader('Content-Length', parts.reduce((n, p) => n + p.length, 0));
    for (const p of parts) res.write(p);
    res.end();
  });

  router.all(paths, (_req, res) => {
    res.set(CORS).status(405).set('Allow', 'POST, OPTIONS').type('text/plain').send('XML-RPC: use POST with a methodCall body\n');
  });
  return router;
}
