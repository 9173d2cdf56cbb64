// The web UI at /ui/: read-only pages for people watching machines boot (provisioner/ui/ renders
// them). Open like Cobbler's read methods, unless `auth_required_for_reads` is set: then HTTP
// Basic authentication against the provisioner's users. Secrets are redacted as in the API.
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Clock } from '../../lib/clock.ts';
import { deriveInstallStatus } from '../boot/install-status.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import type { ItemRecord, Value } from '../inventory/types.ts';
import { redactSecrets } from '../inventory/wire.ts';
import type { Html } from '../ui/html.ts';
import { renderError, renderLeases, renderOverview, renderSystem, type InterfaceView, type SystemRow } from '../ui/ui-pages.ts';

export interface UiDeps {
  inventory: InventoryService;
  clock: Clock;
  version: string;
  readsNeedAuth(): boolean;
  authenticate(user: string, password: string): Promise<boolean>;
}

/** Systems per overview page. */
export const UI_PAGE_SIZE = 200;
/** Boot events read per system on its page: the current install and the event table. */
const EVENTS_PER_SYSTEM = 200;
/**
 * Per system on the overview, which reloads every 10 s for up to 200 systems: enough for an
 * install (a DHCP answer, a dozen files, the installer's reports) and the last event.
 */
const EVENTS_PER_OVERVIEW_ROW = 64;

const text = (v: Value | undefined): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function interfacesOf(record: ItemRecord): InterfaceView[] {
  const ifs = record['interfaces'];
  if (!ifs || typeof ifs !== 'object' || Array.isArray(ifs)) return [];
  return Object.entries(ifs).sort(([a], [b]) => a.localeCompare(b)).map(([name, i]) => {
    const f = i && typeof i === 'object' && !Array.isArray(i) ? i : {};
    return { name, mac: text(f['mac_address']), ip: text(f['ip_address']), dnsName: text(f['dns_name']) };
  });
}

function send(res: Response, status: number, page: Html): void {
  res.status(status)
    .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .set('X-Content-Type-Options', 'nosniff')
    .set('Cache-Control', 'no-store')
    .type('html')
    .send(page.text);
}

export function uiRouter(d: UiDeps): Router {
  // Strict: /ui and /ui/ are different paths (the first redirects to the second).
  const r = Router({ strict: true });
  const store = d.inventory.store;

  r.use('/ui', (req: Request, res: Response, next: NextFunction) => {
    if (!d.readsNeedAuth()) return next();
    const m = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(req.get('authorization') ?? '');
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const deny = (): void => {
      res.set('WWW-Authenticate', 'Basic realm="rackforge", charset="UTF-8"');
      send(res, 401, renderError(401, 'This provisioner requires a login for reads (auth_required_for_reads): use a rackforge user and password.'));
    };
    if (colon < 0) return deny();
    d.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)).then((ok) => (ok ? next() : deny()), next);
  });

  r.get('/ui', (_req, res) => res.redirect(301, '/ui/'));

  r.get('/ui/', (req, res) => {
    const names = store.listNames('system');
    const pages = Math.max(1, Math.ceil(names.length / UI_PAGE_SIZE));
    const asked = Number(req.query['page'] ?? 1);
    const page = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, pages) : 1;
    const now = d.clock.now();
    const systems: SystemRow[] = [];
    for (const name of names.slice((page - 1) * UI_PAGE_SIZE, page * UI_PAGE_SIZE)) {
      const rec = store.getItem('system', name);
      if (!rec) continue;
      const events = store.listBootEvents({ system: name, limit: EVENTS_PER_OVERVIEW_ROW });
      const last = events.at(-1);
      systems.push({
        name, profile: text(rec['profile']) || text(rec['image']), hostname: text(rec['hostname']),
        interfaces: interfacesOf(rec), netboot: rec['netboot_enabled'] === true,
        install: deriveInstallStatus(events, now).state, ...(last ? { lastEvent: last } : {}),
      });
    }
    send(res, 200, renderOverview({
      version: d.version, systems, totalSystems: names.length, page, pageSize: UI_PAGE_SIZE,
      profiles: store.listItems('profile').map((p) => ({ name: p.name, distro: text(p['distro']), parent: text(p['parent']) })),
      distros: store.listItems('distro').map((x) => ({ name: x.name, arch: text(x['arch']), kernel: text(x['kernel']) })),
    }));
  });

  r.get('/ui/systems/:name', (req, res) => {
    const name = req.params['name'] ?? '';
    const rec = store.getItem('system', name);
    if (!rec) return send(res, 404, renderError(404, `There is no system named "${name}".`));
    const shown = redactSecrets('system', rec);
    const fields = Object.keys(shown).filter((k) => k !== 'interfaces').sort().map((k): [string, string] => [k, text(shown[k] as Value)]);
    const events = store.listBootEvents({ system: name, limit: EVENTS_PER_SYSTEM });
    send(res, 200, renderSystem({ name, fields, interfaces: interfacesOf(rec), install: deriveInstallStatus(events, d.clock.now()), events }));
  });

  r.get('/ui/leases', (_req, res) => {
    send(res, 200, renderLeases({ leases: store.listLeases(), now: d.clock.now() }));
  });

  r.use('/ui', (_req, res) => send(res, 404, renderError(404, 'No such page.')));
  return r;
}
