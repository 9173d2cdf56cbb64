// The controller's REST/JSON surface, mounted by the composition root at /api/v1:
//
//   POST /hypervisors                   register (install token)          201 {name, credential, heartbeat_seconds}
//   POST /hypervisors/:name/heartbeat   Authorization: Bearer <credential> 204
//   GET  /hypervisors                   Authorization: Bearer <API token>  200 [view…] sorted by name
//   GET  /hypervisors/:name             Authorization: Bearer <API token>  200 view | 404
//
// Every error is `{"error": {"code", "message"[, "field"]}}` with the status of STATUS_OF.
// This is the thin loop: decisions are in hypervisor.ts and hypervisor-registry.ts.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { RackforgeError, isRackforgeError, type ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { isHypervisorName, parseRegistration } from './hypervisor.ts';
import type { HypervisorRegistry } from './hypervisor-registry.ts';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

export interface ControllerRouterDeps {
  registry: HypervisorRegistry;
  log: Logger;
  /**
   * Whether a bearer token may read the registry. The composition root passes the Cobbler
   * API's session check, e.g. `(t) => sessions.validate(t) !== undefined`.
   */
  verifyApiToken(token: string): boolean | Promise<boolean>;
  /** Largest JSON body accepted (default 16 KiB). */
  maxBodyBytes?: number;
}

/** HTTP status of each error code this surface answers; anything else is a 500. */
export const STATUS_OF: Partial<Readonly<Record<ErrorCode, number>>> = {
  CONTROLLER_BAD_REQUEST: 400,
  CONTROLLER_UNAUTHENTICATED: 401,
  CONTROLLER_UNKNOWN_SYSTEM: 403,
  CONTROLLER_MAC_MISMATCH: 403,
  CONTROLLER_NO_INSTALL: 403,
  CONTROLLER_FOREIGN_TOKEN: 403,
  CONTROLLER_REPLAYED_TOKEN: 403,
  CONTROLLER_NOT_FOUND: 404,
  CONTROLLER_METHOD: 405,
  CONTROLLER_TOO_LARGE: 413,
  CONTROLLER_MEDIA_TYPE: 415,
};

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function parseBearer(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return m ? m[1] : undefined;
}

const remoteOf = (req: Request): string => req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';

/** body-parser's errors, as this surface's codes. */
function bodyError(err: { type?: unknown; status?: unknown; message?: unknown }, limit: number): RackforgeError {
  if (err.type === 'entity.too.large' || err.status === 413) {
    return new RackforgeError('CONTROLLER_TOO_LARGE', `the request body exceeds the limit of ${limit} bytes`);
  }
  if (err.status === 415) return new RackforgeError('CONTROLLER_MEDIA_TYPE', `the request body cannot be decoded: ${String(err.message)}`);
  return new RackforgeError('CONTROLLER_BAD_REQUEST', 'body: not valid JSON', { field: 'body' });
}

export function controllerRouter(deps: ControllerRouterDeps): Router {
  const { registry, log } = deps;
  const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const router = express.Router({ caseSensitive: true });
  const json = express.json({ limit, strict: true, type: 'application/json' });

  function send(res: Response, err: RackforgeError): void {
    const status = STATUS_OF[err.code] ?? 500;
    const field = err.details['field'];
    if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="rackforge"');
    if (status === 405 && typeof err.details['allow'] === 'string') res.set('Allow', err.details['allow']);
    res.status(status).json({ error: { code: err.code, message: err.message, ...(typeof field === 'string' ? { field } : {}) } });
  }

  const methodNotAllowed = (allow: string) => (req: Request, res: Response): void => {
    send(res, new RackforgeError('CONTROLLER_METHOD', `${req.method} is not allowed here; use ${allow}`, { allow }));
  };

  /** Reads need an API token: capacity is not for anyone on the network to see. */
  async function requireApiToken(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const token = parseBearer(req.get('authorization'));
    if (token === undefined || !(await deps.verifyApiToken(token))) {
      log.warn('controller read refused: missing or invalid API token', { path: req.originalUrl, remote: remoteOf(req) });
      throw new RackforgeError('CONTROLLER_UNAUTHENTICATED', 'an API token is required: send Authorization: Bearer <token from login>');
    }
    next();
  }

  router.route('/hypervisors')
    .post((req: Request, _res: Response, next: NextFunction) => {
      if (!req.is('application/json')) {
        throw new RackforgeError('CONTROLLER_MEDIA_TYPE', 'send the registration as JSON with Content-Type: application/json');
      }
      json(req, _res, (err?: unknown) => next(err === undefined ? undefined : bodyError(err as Record<string, unknown>, limit)));
    }, (req: Request, res: Response) => {
      const request = parseRegistration(req.body);
      const result = registry.register(request, remoteOf(req));
      res.status(201).set('Cache-Control', 'no-store').location(`${req.baseUrl}/hypervisors/${encodeURIComponent(result.name)}`).json(result);
    })
    .get(requireApiToken, (_req: Request, res: Response) => {
      res.json(registry.list());
    })
    .all(methodNotAllowed('GET, POST'));

  router.route('/hypervisors/:name')
    .get(requireApiToken, (req: Request, res: Response) => {
      const name = String(req.params['name']);
      const view = isHypervisorName(name) ? registry.get(name) : undefined;
      if (!view) throw new RackforgeError('CONTROLLER_NOT_FOUND', `no hypervisor named '${name.slice(0, 255)}'`);
      res.json(view);
    })
    .all(methodNotAllowed('GET'));

  router.route('/hypervisors/:name/heartbeat')
    .post((req: Request, res: Response) => {
      const name = String(req.params['name']);
      const credential = parseBearer(req.get('authorization'));
      if (!isHypervisorName(name)) {
        throw new RackforgeError('CONTROLLER_UNAUTHENTICATED', 'heartbeat refused: unknown hypervisor or wrong credential');
      }
      registry.heartbeat(name, credential, remoteOf(req));
      res.status(204).end();
    })
    .all(methodNotAllowed('POST'));

  router.use((req: Request) => {
    throw new RackforgeError('CONTROLLER_NOT_FOUND', `no such path: ${req.method} ${req.baseUrl}${req.path}`);
  });

  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (isRackforgeError(err) && STATUS_OF[err.code] !== undefined) {
      send(res, err);
      return;
    }
    log.error('controller request failed', { path: req.originalUrl, error: err instanceof Error ? err.message : String(err) });
    const internal = new RackforgeError('CONTROLLER_INTERNAL');
    res.status(500).json({ error: { code: internal.code, message: internal.message } });
  });

  return router;
}
