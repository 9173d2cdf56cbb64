// `rackforge node list` as a user runs it (node bin/rackforge.js, a separate process) against a
// real HTTP server on 127.0.0.1 that serves what the provisioner's app will: the Cobbler API's
// `login` at /cobbler_api (real TokenSessions, as the provisioner's dispatcher uses) and the
// controller router at /api/v1, whose API-token check is that same session check.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { ManualClock, SeededRandom, systemClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { InstallTokens, MemoryTokenStore } from '../provisioner/boot/install-tokens.ts';
import { TokenSessions } from '../provisioner/cobbler/sessions.ts';
import { decodeMethodCall, encodeFault, encodeMethodResponse } from '../provisioner/protocol/xmlrpc.ts';
import { controllerRouter } from '../controller/hypervisors/controller-routes.ts';
import { HypervisorRegistry } from '../controller/hypervisors/hypervisor-registry.ts';
import { inventoryInstallIdentity, type SystemLike } from '../controller/hypervisors/install-identity.ts';
import { MemoryRegistryStore } from '../controller/hypervisors/memory-registry-store.ts';
import { cleanEnv, runCli, type CliResult } from './helpers/cli-processes.ts';

const PASSWORD = 'node-list-pw';
const SYSTEMS: Record<string, SystemLike> = {
  'hv-b': { interfaces: { eth0: { mac_address: '52:54:00:d0:00:02' } }, mgmt_parameters: { rack: 'rack-2', datacentre: 'dc-north' } },
  'hv-a': { interfaces: { eth0: { mac_address: '52:54:00:d0:00:01' } }, mgmt_parameters: { rack: 'rack-1', datacentre: 'dc-north' } },
  'hv-c': { interfaces: { eth0: { mac_address: '52:54:00:d0:00:03' } } },
};

const show = (r: CliResult): string => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

function failedWithOneLine(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, show(r));
  assert.equal(r.stdout, '', show(r));
  assert.equal(r.errLines.length, 1, show(r));
  assert.match(r.errLines[0] as string, pattern, show(r));
}

describe('rackforge node list (CLI process against a real server)', function () {
  this.timeout(60_000);

  let server: Server;
  let origin = '';
  let emptyDataHome = '';
  let clock: ManualClock;
  let registry: HypervisorRegistry;
  let tokens: InstallTokens;
  /** Switches for the failure cases. */
  let controllerMounted = true;
  let acceptApiTokens = true;

  before(async () => {
    emptyDataHome = mkdtempSync(join(tmpdir(), 'rf-ctl-cli-'));
    clock = new ManualClock(1_700_000_000);
    const tokenStore = new MemoryTokenStore();
    tokens = new InstallTokens(tokenStore, new SeededRandom(8));
    const sessions = new TokenSessions(systemClock, new SeededRandom(99));
    registry = new HypervisorRegistry({
      store: new MemoryRegistryStore(), clock, random: new SeededRandom(4), log: silentLogger,
      identity: inventoryInstallIdentity({ getSystem: (n) => SYSTEMS[n], checkIssued: (s, t) => tokens.checkIssued(s, t) }),
    });
    const app = express();
    app.post('/cobbler_api', express.raw({ type: () => true }), (req, res) => {
      const call = decodeMethodCall(req.body as Buffer);
      res.type('text/xml');
      if (call.methodName === 'login' && call.params[0] === 'cobbler' && call.params[1] === PASSWORD) {
        res.send(encodeMethodResponse(sessions.issue('cobbler')));
      } else {
        res.send(encodeFault({ faultCode: 1, faultString: "<class 'cobbler.cexceptions.CX'>:'login failed'" }));
      }
    });
    const api = controllerRouter({ registry, log: silentLogger, verifyApiToken: (t) => acceptApiTokens && sessions.validate(t) !== undefined });
    app.use('/api/v1', (req, res, next) => { if (controllerMounted) api(req, res, next); else next(); });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    rmSync(emptyDataHome, { recursive: true, force: true });
  });

  afterEach(() => { controllerMounted = true; acceptApiTokens = true; });

  const env = (extra: Record<string, string> = {}) => cleanEnv({ RACKFORGE_PASSWORD: PASSWORD, XDG_DATA_HOME: emptyDataHome, ...extra });
  const register = (name: string, over: Record<string, unknown> = {}) => {
    const mac = (SYSTEMS[name]?.interfaces as Record<string, { mac_address: string }>)['eth0']!.mac_address;
    return registry.register({
      system: name, hostname: name, macs: [mac], token: tokens.tokenFor(name), cpus: 8, memory_mb: 16384,
      disks: [{ name: 'vda', size_bytes: 40 * 2 ** 30 }, { name: 'vdb', size_bytes: 512 * 2 ** 20 }], ...over,
    });
  };

  it('prints only the header while nothing is registered, and [] with --json', async () => {
    const [text, json] = await Promise.all([
      runCli(['--server', `${origin}/cobbler_api`, 'node', 'list'], env()),
      runCli(['node', 'list', '--json'], env({ RACKFORGE_SERVER: `${origin}/cobbler_api` })),
    ]);
    assert.equal(text.code, 0, show(text));
    assert.deepEqual(text.lines.map((l) => l.split(/\s+/)), [['NAME', 'STATE', 'CPUS', 'MEMORY', 'DISKS', 'RACK', 'DATACENTRE', 'MAC', 'LAST-HEARTBEAT']]);
    assert.equal(json.code, 0, show(json));
    assert.deepEqual(JSON.parse(json.stdout), []);
  });

  it('lists registered hypervisors sorted by name, with state, capacity and placement (JSON and text)', async () => {
    const b = register('hv-b');
    register('hv-a', { cpus: 2, memory_mb: 2048, disks: [] });
    register('hv-c', { cpus: 1024, memory_mb: 1536 });
    clock.advance(20);
    registry.heartbeat('hv-b', b.credential);

    // host:port and the full URL derive the same controller URL.
    const [json, text] = await Promise.all([
      runCli(['node', 'list', '--json', '--server', origin.replace('http://', '')], env()),
      runCli(['node', 'list'], env({ RACKFORGE_SERVER: `${origin}/cobbler_api` })),
    ]);
    assert.equal(json.code, 0, show(json));
    assert.equal(json.stderr, '');
    const nodes = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(nodes.map((n) => [n['name'], n['mac'], n['state'], n['cpus'], n['memory_mb'], n['rack'], n['datacentre']]), [
      ['hv-a', '52:54:00:d0:00:01', 'down', 2, 2048, 'rack-1', 'dc-north'],
      ['hv-b', '52:54:00:d0:00:02', 'registered', 8, 16384, 'rack-2', 'dc-north'],
      ['hv-c', '52:54:00:d0:00:03', 'down', 1024, 1536, null, null],
    ]);
    assert.deepEqual(nodes[1]!['disks'], [{ name: 'vda', size_bytes: 40 * 2 ** 30 }, { name: 'vdb', size_bytes: 512 * 2 ** 20 }]);
    assert.equal(nodes[1]!['last_heartbeat'], '2023-11-14T22:13:40.000Z');
    for (const n of nodes) {
      for (const f of ['name', 'mac', 'macs', 'state', 'cpus', 'memory_mb', 'disks', 'rack', 'datacentre', 'registered_at', 'last_heartbeat']) assert.ok(f in n, f);
      assert.equal('credential_hash' in n, false);
    }

    assert.equal(text.code, 0, show(text));
    assert.equal(text.stderr, '');
    assert.equal(text.lines.length, 4, show(text));
    const [header, ...rows] = text.lines as [string, ...string[]];
    assert.deepEqual(rows.map((r) => r.split(/\s+/)), [
      ['hv-a', 'down', '2', '2GiB', '-', 'rack-1', 'dc-north', '52:54:00:d0:00:01', '2023-11-14T22:13:20.000Z'],
      ['hv-b', 'registered', '8', '16GiB', '40GiB+512MiB', 'rack-2', 'dc-north', '52:54:00:d0:00:02', '2023-11-14T22:13:40.000Z'],
      ['hv-c', 'down', '1024', '1.5GiB', '40GiB+512MiB', '-', '-', '52:54:00:d0:00:03', '2023-11-14T22:13:20.000Z'],
    ]);
    // Aligned: every column starts at the same offset on every line.
    for (const col of ['STATE', 'CPUS', 'MEMORY', 'DISKS', 'RACK', 'DATACENTRE', 'MAC', 'LAST-HEARTBEAT']) {
      const at = header.indexOf(col);
      assert.ok(at > 0, col);
      for (const r of rows) assert.ok(r[at - 1] === ' ' && r[at] !== ' ', `${col} at ${at} in '${r}'`);
    }
  });

  it('fails with one line: wrong password, token refused by the controller, server without a controller', async () => {
    const server = `${origin}/cobbler_api`;
    const badLogin = await runCli(['node', 'list'], env({ RACKFORGE_SERVER: server, RACKFORGE_PASSWORD: 'wrong' }));
    failedWithOneLine(badLogin, /^rackforge: .*login failed/);

    acceptApiTokens = false;
    const refused = await runCli(['node', 'list', '--json'], env({ RACKFORGE_SERVER: server }));
    failedWithOneLine(refused, /^rackforge: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/hypervisors answered HTTP 401: an API token is required/);
    acceptApiTokens = true;

    controllerMounted = false;
    const absent = await runCli(['node', 'list'], env({ RACKFORGE_SERVER: server }));
    failedWithOneLine(absent, /answered HTTP 404 \(does the server run the controller\?\)$/);
  });

  it('is a usage error (exit 2) with an unknown option or a stray word', async () => {
    const [opt, word] = await Promise.all([
      runCli(['node', 'list', '--all'], env({ RACKFORGE_SERVER: origin })),
      runCli(['node', 'list', 'extra'], env({ RACKFORGE_SERVER: origin })),
    ]);
    for (const r of [opt, word]) {
      assert.equal(r.code, 2, show(r));
      assert.equal(r.errLines.length, 1, show(r));
    }
  });
});
