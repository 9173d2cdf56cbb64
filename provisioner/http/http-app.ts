// The provisioner's one express app: the Cobbler API, the boot and install-time routes; the UI joins it.
import express, { type Express, type Router } from 'express';
import type { Logger } from '../../lib/log.ts';
import type { Dispatcher } from '../cobbler/dispatch.ts';
import { cobblerApiRouter } from './cobbler-api-route.ts';

export function createHttpApp(opts: {
  dispatcher: Dispatcher; log: Logger; maxBodyBytes?: number;
  /** What booting machines fetch (provisioner/http/boot-routes.ts): /cblr/svc/op/..., /images/..., /grub/... */
  bootRoutes?: Router;
  /** The web UI under /ui/ (provisioner/http/ui-route.ts). */
  uiRoutes?: Router;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(cobblerApiRouter(opts));
  if (opts.bootRoutes) app.use(opts.bootRoutes);
  if (opts.uiRoutes) app.use(opts.uiRoutes);
  app.get('/', (_req, res) => {
    res.type('text/plain').send(`rackforge provisioner\nCobbler-compatible XML-RPC API: POST /cobbler_api\n${opts.uiRoutes ? 'Web UI: /ui/\n' : ''}`);
  });
  return app;
}

/** Cobbler's own XML-RPC port (25151) answers at / and /RPC2, as SimpleXMLRPCServer does. */
export function createXmlrpcPortApp(opts: { dispatcher: Dispatcher; log: Logger; maxBodyBytes?: number }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(cobblerApiRouter({ ...opts, paths: ['/', '/RPC2', '/cobbler_api'] }));
  return app;
}
