// The composition root of the provisioner: reads nothing itself, gets every choice as an
// argument, wires store → inventory → API → HTTP, and hands back what it started.
import { mkdirSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { systemClock, cryptoRandom, type Clock, type Random } from '../lib/clock.ts';
import { RackforgeError } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { ensureAdminUser } from '../provisioner/auth/admin-bootstrap.ts';
import { createDispatcher, type Dispatcher } from '../provisioner/cobbler/dispatch.ts';
import { EventLog } from '../provisioner/cobbler/events.ts';
import { TokenSessions } from '../provisioner/cobbler/sessions.ts';
import { createHttpApp, createXmlrpcPortApp } from '../provisioner/http/http-app.ts';
import { checkInventory } from '../provisioner/inventory/inventory-check.ts';
import { InventoryService, type Settings } from '../provisioner/inventory/inventory-service.ts';
import { SETTINGS_DEFAULTS } from '../provisioner/inventory/settings.ts';
import { MemoryStore } from '../provisioner/store/memory-store.ts';
import { SqliteStore } from '../provisioner/store/sqlite-store.ts';
import { CachedStore } from '../provisioner/store/cached-store.ts';
import type { BootEventQuery, Store } from '../provisioner/store/store.ts';
import { DirTemplateStore, MemoryTemplateStore, type TemplateStore } from '../provisioner/templates/template-store.ts';
import packageJson from '../package.json' with { type: 'json' };
import type { BootEvent, BootEventSink } from '../provisioner/boot/boot-events.ts';
import { InstallTokens } from '../provisioner/boot/install-tokens.ts';
import { Router } from 'express';
import { bootRouter } from '../provisioner/http/boot-routes.ts';
import { loaderRouter } from '../provisioner/http/loader-route.ts';
import { uiRouter } from '../provisioner/http/ui-route.ts';
import { authenticateUser } from '../provisioner/auth/authenticate.ts';
import { checkBootFiles } from '../provisioner/boot/boot-check.ts';
import { writeTftpTree } from '../provisioner/boot/tftp-export.ts';
import { seedSampleTemplates } from '../provisioner/templates/sample-templates.ts';
import { startBootServices, type BootServiceOptions, type RunningBootServices } from './compose-boot.ts';
import { controllerRouter } from '../controller/hypervisors/controller-routes.ts';
import { HypervisorRegistry } from '../controller/hypervisors/hypervisor-registry.ts';
import { inventoryInstallIdentity } from '../controller/hypervisors/install-identity.ts';
import { MemoryRegistryStore } from '../controller/hypervisors/memory-registry-store.ts';
import { SqliteRegistryStore } from '../controller/hypervisors/sqlite-registry-store.ts';

/** Network boot services; the HTTP base URL is derived from serverIp and the HTTP port. */
export type ProvisionerBootOptions = Omit<BootServiceOptions, 'httpBase'>;

export interface ProvisionerOptions {
  /** Data directory for the embedded store and the local shared secret; undefined = in-memory store. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port. */
  httpPort: number;
  /** The same HTTP app also on this unix socket (a lab's API, forwarded to the host's localhost). */
  unixSocket?: string;
  /** Cobbler's own XML-RPC port (25151) in addition, when given. */
  xmlrpcPort?: number;
  /** The same app over TLS (Ansible's Cobbler modules default to https on 443). PEM texts. */
  https?: { port: number; cert: string; key: string };
  adminPassword?: string;
  /** fsync every store commit (survives power loss, ~5x slower saves); default: safe against kill -9. */
  durableCommits?: boolean;
  settings?: Settings;
  /** DHCP/ProxyDHCP, TFTP and HTTP boot on the boot server's address. */
  boot?: ProvisionerBootOptions;
  /** `sync` also writes the generated TFTP files here, for operators who keep their own tftpd. */
  exportTftpDir?: string;
  maxBodyBytes?: number;
  clock?: Clock;
  random?: Random;
  log?: Logger;
}

export interface RunningProvisioner {
  url: string;
  apiUrl: string;
  /** The web UI (provisioner/http/ui-route.ts). */
  uiUrl: string;
  xmlrpcUrl?: string;
  httpsUrl?: string;
  /** Set only on the first start without RACKFORGE_ADMIN_PASSWORD: to be shown once. */
  generatedPassword?: string;
  inventory: InventoryService;
  dispatcher: Dispatcher;
  /** The HTTP base URL machines boot from (http://<server-ip>:<port>), when boot services run. */
  bootUrl?: string;
  /** host:port of the TFTP listener, when boot services run. */
  tftpAddress?: string;
  boot?: RunningBootServices;
  /** Boot events as recorded (newest last), e.g. a lab's per-node boot progress. */
  bootEvents(query: BootEventQuery): BootEvent[];
  close(): Promise<void>;
}

/** Listens on host:port, or on a unix socket path (a lab's API, forwarded to the host). */
function listen(app: ReturnType<typeof createHttpApp>, where: { host: string; port: number } | { path: string }, tls?: { cert: string; key: string }): Promise<Server> {
  const name = 'path' in where ? where.path : `${where.host}:${where.port}`;
  return new Promise((resolve, reject) => {
    const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, app) : createHttpServer(app);
    server.listen(where);
    server.once('listening', () => resolve(server));
    server.once('error', (e: NodeJS.ErrnoException) => reject(
      new RackforgeError('CONFIG_INVALID', e.code === 'EADDRINUSE' ? `${'path' in where ? name : `port ${where.port} on ${where.host}`} is already in use` : `cannot listen on ${name}: ${e.message}`)));
  });
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
}

export async function startProvisioner(opts: ProvisionerOptions): Promise<RunningProvisioner> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? cryptoRandom;
  const log = opts.log ?? createLogger();
  const host = opts.host ?? '127.0.0.1';

  let store: Store;
  let templates: TemplateStore, snippets: TemplateStore;
  let sharedSecret: string | undefined;
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    // The provisioner is the store's only writer: listings and lookups by name come from memory.
    store = new CachedStore(SqliteStore.open(opts.dataDir, { clock, ...(opts.durableCommits ? { durable: true } : {}) }));
    templates = new DirTemplateStore(join(opts.dataDir, 'templates'));
    snippets = new DirTemplateStore(join(opts.dataDir, 'snippets'));
    // Cobbler's web.ss: a fresh secret per start, readable only by this user, for the local CLI.
    sharedSecret = random.bytes(32).toString('base64url');
    const ss = join(opts.dataDir, 'web.ss');
    writeFileSync(ss, sharedSecret, { mode: 0o600 });
    chmodSync(ss, 0o600);
  } else {
    store = new MemoryStore({ clock });
    templates = new MemoryTemplateStore();
    snippets = new MemoryTemplateStore();
  }

  const admin = ensureAdminUser(store, { ...(opts.adminPassword ? { password: opts.adminPassword } : {}), random, now: clock.now() });
  const settings: Settings = { ...SETTINGS_DEFAULTS, ...(opts.settings ?? {}) };
  const inventory = new InventoryService({
    store, clock, random,
    settings: () => settings,
    fieldContext: () => ({ autoinstallTemplates: templates.list() }),
  });
  // Cobbler ships sample autoinstall templates and snippets; so does rackforge (profiles/), without overwriting.
  seedSampleTemplates({ templates, snippets });
  const events = new EventLog(clock, random);
  const bootEvents: BootEventSink = {
    record(e) {
      store.appendBootEvent(e);
      log.debug(`boot: ${e.kind}`, { mac: e.mac ?? '', system: e.system ?? '', ip: e.ip ?? '', detail: e.detail });
    },
  };
  // Tokens are stored under the system's uid: a rename keeps its token, and a new system saved
  // under a removed one's name does not inherit it.
  const tokenKey = (name: string): string => `uid:${inventory.get('system', name)?.uid ?? `gone:${name}`}`;
  const tokens = new InstallTokens({
    get: (s) => store.getInstallToken(tokenKey(s)),
    put: (s, t) => store.putInstallToken(tokenKey(s), t),
    delete: (s) => { store.deleteInstallToken(tokenKey(s)); },
  }, random);
  const sessions = new TokenSessions(clock, random);
  const dispatcher = createDispatcher({
    inventory, templates, snippets, sessions, events, log,
    ...(sharedSecret ? { sharedSecret } : {}),
    version: packageJson.version,
    sync: async (line, o) => {
      const result = checkInventory(inventory, o);
      line(`checked ${result.checked} objects`);
      // Boot answers are computed per request, so there is nothing to regenerate: check what
      // they would need instead, and say what is missing.
      // Missing files are reported (task log and sync-problem events) without failing the task:
      // the rest of the inventory still boots, and the files may be copied in later.
      const files = await checkBootFiles(o.systems && o.systems.length > 0 ? [] : inventory.list('distro'));
      for (const w of [...files.problems, ...files.warnings]) line(`warning: ${w}`);
      for (const p of files.problems) bootEvents.record({ at: clock.now(), kind: 'sync-problem', detail: p });
      if (opts.exportTftpDir && (!o.systems || o.systems.length === 0)) {
        const out = writeTftpTree(opts.exportTftpDir, inventory, { tokenFor: (s) => tokens.tokenFor(s) });
        line(`wrote ${out.written.length} boot files under ${opts.exportTftpDir}`);
        result.problems.push(...out.failed.map((f) => `exporting ${f}`));
      }
      for (const p of result.problems) line(`problem: ${p}`);
      if (result.problems.length > 0) {
        throw new RackforgeError('ITEM_MISSING_REFERENCE', `sync found ${result.problems.length} problem(s): ${result.problems.slice(0, 3).join('; ')}`);
      }
    },
  }, { readsNeedAuth: () => settings.auth_required_for_reads === true });

  const servers: Server[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    let boot: RunningBootServices | undefined;
    const bootRoutes = Router();
    bootRoutes.use(bootRouter({ inventory, templates, snippets, tokens, events: bootEvents, clock, log }));
    bootRoutes.use(loaderRouter({ events: bootEvents, clock, macOf: (ip) => boot?.macOf(ip) }));
    const uiRoutes = uiRouter({
      inventory, clock, version: packageJson.version,
      readsNeedAuth: () => settings.auth_required_for_reads === true,
      authenticate: (user, password) => authenticateUser(store, user, password),
    });
    const app = createHttpApp({ dispatcher, log, bootRoutes, uiRoutes, ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}) });
    // The built-in cloud controller's hypervisor registry: installed nodes register here,
    // proving who they are with their install's token (controller/hypervisors/).
    const registryStore = opts.dataDir
      ? SqliteRegistryStore.open(opts.dataDir, opts.durableCommits ? { durable: true } : {})
      : new MemoryRegistryStore();
    closers.push(async () => registryStore.close());
    const registry = new HypervisorRegistry({
      store: registryStore, clock, random, log,
      identity: inventoryInstallIdentity({
        getSystem: (name) => inventory.get('system', name),
        checkIssued: (system, token) => tokens.checkIssued(system, token),
        hasInstall: (system) => store.getInstallToken(tokenKey(system)) !== undefined,
      }),
      onRegistered: (r) => bootEvents.record({
        at: clock.now(), kind: 'install', system: r.name, ...(r.macs[0] ? { mac: r.macs[0] } : {}), ...(r.remote ? { ip: r.remote } : {}),
        detail: `registered: ${r.cpus} CPU, ${r.memory_mb} MiB`,
      }),
    });
    app.use('/api/v1', controllerRouter({ registry, log, verifyApiToken: (t) => sessions.validate(t) !== undefined }));
    const main = await listen(app, { host, port: opts.httpPort });
    servers.push(main);
    const port = (main.address() as AddressInfo).port;
    const url = `http://${host}:${port}`;
    let httpsUrl: string | undefined;
    if (opts.https) {
      const s = await listen(app, { host, port: opts.https.port }, opts.https);
      servers.push(s);
      httpsUrl = `https://${host}:${(s.address() as AddressInfo).port}`;
    }
    let xmlrpcUrl: string | undefined;
    if (opts.xmlrpcPort !== undefined) {
      const x = await listen(createXmlrpcPortApp({ dispatcher, log }), { host, port: opts.xmlrpcPort });
      servers.push(x);
      xmlrpcUrl = `http://${host}:${(x.address() as AddressInfo).port}`;
    }
    if (opts.unixSocket) {
      rmSync(opts.unixSocket, { force: true });
      servers.push(await listen(app, { path: opts.unixSocket }));
    }
    let bootUrl: string | undefined;
    if (opts.boot) {
      // Machines reach HTTP boot on the boot server's address; the API stays where --host put it too.
      if (host !== opts.boot.serverIp && host !== '0.0.0.0') servers.push(await listen(app, { host: opts.boot.serverIp, port }));
      bootUrl = `http://${opts.boot.serverIp}:${port}`;
      // Kernel lines and autoinstall files name the server as Cobbler does, from these settings:
      // they must be what the machines reach.
      Object.assign(settings, { server: opts.boot.serverIp, next_server_v4: opts.boot.serverIp, http_port: port });
      boot = await startBootServices({ inventory, store, log, clock, events: bootEvents, tokens }, { ...opts.boot, httpBase: bootUrl });
      closers.push(() => boot!.close());
    }
    // Encode the stored records in the background so the first get_systems after a start
    // is as fast as the next ones.
    const warming = new AbortController();
    const warmed = dispatcher.warm(warming.signal).catch((e: unknown) => {
      log.warn('encoding the inventory ahead of time failed', { error: e instanceof Error ? e.message : String(e) });
      return 0;
    });
    return {
      url, apiUrl: `${url}/cobbler_api`, uiUrl: `${url}/ui/`, ...(xmlrpcUrl ? { xmlrpcUrl } : {}), ...(httpsUrl ? { httpsUrl } : {}),
      ...(admin.generatedPassword ? { generatedPassword: admin.generatedPassword } : {}),
      inventory, dispatcher,
      bootEvents: (q) => store.listBootEvents(q),
      ...(boot && bootUrl ? { boot, bootUrl, tftpAddress: `${opts.boot!.serverIp}:${opts.boot!.tftpPort ?? 69}` } : {}),
      async close() {
        warming.abort();
        await warmed;
        for (const c of closers.splice(0)) await c();
        await Promise.all(servers.map(closeServer));
        store.close();
      },
    };
  } catch (e) {
    for (const c of closers.splice(0)) await c();
    await Promise.all(servers.map(closeServer));
    store.close();
    throw e;
  }
}
