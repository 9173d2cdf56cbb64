// The hypervisor registry over real HTTP: the controller router on a real express server on
// 127.0.0.1, driven by curl (as an operator would) and by busybox wget (as the node agent on
// an installed machine will), with the provisioner's real InstallTokens behind the identity
// check and the SQLite registry store underneath.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { ManualClock, SeededRandom } from '../lib/clock.ts';
import { createLogger } from '../lib/log.ts';
import { InstallTokens, MemoryTokenStore } from '../provisioner/boot/install-tokens.ts';
import { controllerRouter } from '../controller/hypervisors/controller-routes.ts';
import { HypervisorRegistry } from '../controller/hypervisors/hypervisor-registry.ts';
import { inventoryInstallIdentity, type SystemLike } from '../controller/hypervisors/install-identity.ts';
import { SqliteRegistryStore } from '../controller/hypervisors/sqlite-registry-store.ts';
import { requireTools } from './helpers/tools.ts';

const API_TOKEN = 'api-token-for-tests-0123456789abcdef';
const SYSTEMS: Record<string, SystemLike> = {
  node1: { interfaces: { eth0: { mac_address: '52:54:00:c0:00:01' } }, mgmt_parameters: { rack: 'r1', datacentre: 'dc-west' } },
  node2: { interfaces: { eth0: { mac_address: '52:54:00:c0:00:02' }, eth1: { mac_address: '52:54:00:c0:01:02' } }, mgmt_parameters: { rack: 'r2', datacentre: 'dc-west' } },
  bare: { interfaces: { eth0: { mac_address: '52:54:00:c0:00:03' } } },
};

interface HttpResult { status: number; headers: Record<string, string>; body: string; json: any }

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 20_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') { reject(err); return; }
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** curl -i, with the body (if any) on stdin; headers lower-cased. */
async function curl(method: string, url: string, opts: { headers?: string[]; body?: string } = {}): Promise<HttpResult> {
  const args = ['-sS', '-i', '-X', method, '-H', 'Expect:', ...(opts.headers ?? []).flatMap((h) => ['-H', h])];
  if (opts.body !== undefined) args.push('--data-binary', '@-');
  args.push(url);
  const r = await run('curl', args, opts.body ?? '');
  assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
  const split = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.slice(0, split).split('\r\n');
  const body = r.stdout.slice(split + 4);
  const status = Number(/^HTTP\/\S+ (\d{3})/.exec(head[0] ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const l of head.slice(1)) { const i = l.indexOf(':'); headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
  let json: any;
  try { json = body === '' ? undefined : JSON.parse(body); } catch { json = undefined; }
  return { status, headers, body, json };
}

/** busybox wget as the agent calls it: exit 0 and the body, or exit 1 and the status line on stderr. */
function wget(url: string, opts: { post?: string; headers?: string[] } = {}) {
  return run('busybox', ['wget', '-q', '-O', '-', ...(opts.headers ?? []).flatMap((h) => ['--header', h]),
    ...(opts.post !== undefined ? ['--post-data', opts.post] : []), url]);
}

describe('controller hypervisor API over HTTP (curl, busybox wget)', function () {
  this.timeout(60_000);
  before(() => requireTools(['curl', 'busybox']));

  let dir = '';
  let server: Server;
  let base = '';
  let clock: ManualClock;
  let tokens: InstallTokens;
  let tokenStore: MemoryTokenStore;
  let store: SqliteRegistryStore;
  let logLines: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rf-ctl-http-'));
    clock = new ManualClock(1_700_000_000);
    tokenStore = new MemoryTokenStore();
    tokens = new InstallTokens(tokenStore, new SeededRandom(21));
    store = SqliteRegistryStore.open(dir);
    logLines = [];
    const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
    const registry = new HypervisorRegistry({
      store, clock, random: new SeededRandom(77), log,
      identity: inventoryInstallIdentity({
        getSystem: (n) => SYSTEMS[n], checkIssued: (s, t) => tokens.checkIssued(s, t), hasInstall: (s) => tokenStore.get(s) !== undefined,
      }),
    });
    const app = express();
    app.use('/api/v1', controllerRouter({ registry, log, verifyApiToken: (t) => t === API_TOKEN }));
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });

  afterEach(async () => {
    await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const body = (system: string, token: string, over: Record<string, unknown> = {}): string => JSON.stringify({
    system, hostname: system, macs: [(SYSTEMS[system]?.interfaces as any)?.eth0?.mac_address ?? '52:54:00:ff:ff:ff'], token,
    cpus: 4, memory_mb: 8192, disks: [{ name: 'vda', size_bytes: 21474836480 }], ...over,
  });
  const JSON_CT = 'Content-Type: application/json';
  const AUTH = `Authorization: Bearer ${API_TOKEN}`;
  const register = (payload: string) => curl('POST', `${base}/hypervisors`, { headers: [JSON_CT], body: payload });

  describe('curl', () => {
    it('registers: 201 with name, a 64-hex credential and heartbeat_seconds, not cacheable', async () => {
      const r = await register(body('node1', tokens.tokenFor('node1')));
      assert.equal(r.status, 201, r.body);
      assert.match(r.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.equal(r.headers['location'], '/api/v1/hypervisors/node1');
      assert.deepEqual(Object.keys(r.json), ['name', 'credential', 'heartbeat_seconds']);
      assert.equal(r.json.name, 'node1');
      assert.match(r.json.credential, /^[0-9a-f]{64}$/);
      assert.equal(r.json.heartbeat_seconds, 5);
      assert.ok(logLines.some((l) => l.includes('hypervisor registered')), logLines.join('\n'));
      assert.equal(logLines.some((l) => l.includes(r.json.credential)), false);
    });

    it('refuses each identity failure with 403 and {error: {code, message}} naming the reason', async () => {
      const t1 = tokens.tokenFor('node1');
      const t2 = tokens.tokenFor('node2');
      const cases: Array<[string, string, RegExp]> = [
        [body('ghost', t1), 'CONTROLLER_UNKNOWN_SYSTEM', /unknown system/],
        [body('node1', t1, { macs: ['52:54:00:c0:00:02'] }), 'CONTROLLER_MAC_MISMATCH', /MAC mismatch/],
        [body('bare', t1), 'CONTROLLER_NO_INSTALL', /no install/],
        [body('node1', t2), 'CONTROLLER_FOREIGN_TOKEN', /foreign token/],
      ];
      for (const [payload, code, message] of cases) {
        const r = await register(payload);
        assert.equal(r.status, 403, r.body);
        assert.equal(r.json.error.code, code);
        assert.match(r.json.error.message, message);
      }
      const list = await curl('GET', `${base}/hypervisors`, { headers: [AUTH] });
      assert.deepEqual(list.json, []);
    });

    it('refuses a replayed token with 403 CONTROLLER_REPLAYED_TOKEN; a reinstall token registers again', async () => {
      const t1 = tokens.tokenFor('node1');
      const first = await register(body('node1', t1));
      assert.equal(first.status, 201);
      tokens.retire('node1'); // nopxe at the end of the install: checkIssued still accepts t1
      const replay = await register(body('node1', t1, { cpus: 64 }));
      assert.equal(replay.status, 403, replay.body);
      assert.equal(replay.json.error.code, 'CONTROLLER_REPLAYED_TOKEN');
      assert.match(replay.json.error.message, /replayed token/);
      clock.advance(60);
      const second = await register(body('node1', tokens.tokenFor('node1'), { cpus: 64 }));
      assert.equal(second.status, 201, second.body);
      assert.notEqual(second.json.credential, first.json.credential);
      const one = await curl('GET', `${base}/hypervisors/node1`, { headers: [AUTH] });
      assert.equal(one.json.cpus, 64);
      const old = await curl('POST', `${base}/hypervisors/node1/heartbeat`, { headers: [`Authorization: Bearer ${first.json.credential}`] });
      assert.equal(old.status, 401);
    });

    it('refuses malformed bodies with 400 naming the field, and wrong sizes and types by status', async () => {
      const t = tokens.tokenFor('node1');
      const cases: Array<[string, string]> = [
        ['{"system": "node1",', 'body'],
        ['[1,2]', 'body'],
        ['"node1"', 'body'],
        [body('node1', t, { cpus: 0 }), 'cpus'],
        [body('node1', t, { cpus: 1025 }), 'cpus'],
        [body('node1', t, { memory_mb: 2 ** 24 + 1 }), 'memory_mb'],
        [body('node1', t, { disks: [{ name: 'vda', size_bytes: -1 }] }), 'disks[0].size_bytes'],
        [body('node1', t, { macs: ['52:54:00:c0:00:01', 'nope'] }), 'macs[1]'],
        [body('node1', t, { hostname: 'node1.example.com' }), 'hostname'],
        [body('node1', t, { rack: 'r9' }), 'rack'],
      ];
      for (const [payload, field] of cases) {
        const r = await register(payload);
        assert.equal(r.status, 400, `${payload}: ${r.body}`);
        assert.equal(r.json.error.code, 'CONTROLLER_BAD_REQUEST');
        assert.equal(r.json.error.field, field, payload);
        assert.match(r.json.error.message, new RegExp(field.replace(/[[\].]/g, '\\$&')));
      }
      const big = await register(body('node1', t, { hostname: 'x'.repeat(17 * 1024) }));
      assert.equal(big.status, 413, big.body);
      assert.equal(big.json.error.code, 'CONTROLLER_TOO_LARGE');
      const form = await curl('POST', `${base}/hypervisors`, { headers: ['Content-Type: application/x-www-form-urlencoded'], body: body('node1', t) });
      assert.equal(form.status, 415, form.body);
      assert.equal(form.json.error.code, 'CONTROLLER_MEDIA_TYPE');
      // None of that used the token up.
      assert.equal((await register(body('node1', t))).status, 201);
    });

    it('heartbeat: 204 with the credential, 401 otherwise; down after 15 s of silence, back on the next beat', async () => {
      const reg = await register(body('node1', tokens.tokenFor('node1')));
      const beat = (cred?: string, name = 'node1') => curl('POST', `${base}/hypervisors/${name}/heartbeat`, { headers: cred === undefined ? [] : [`Authorization: Bearer ${cred}`] });
      clock.advance(5);
      const ok = await beat(reg.json.credential);
      assert.equal(ok.status, 204);
      assert.equal(ok.body, '');
      for (const [cred, name] of [[undefined, 'node1'], ['0'.repeat(64), 'node1'], [API_TOKEN, 'node1'], [reg.json.credential, 'node2'], [reg.json.credential, '-bad'], [reg.json.credential, 'node1%2Fx']] as const) {
        const r = await beat(cred, name);
        assert.equal(r.status, 401, `${String(cred)} ${name}: ${r.body}`);
        assert.equal(r.json.error.code, 'CONTROLLER_UNAUTHENTICATED');
        assert.match(r.headers['www-authenticate'] ?? '', /^Bearer/);
      }
      const state = async () => (await curl('GET', `${base}/hypervisors/node1`, { headers: [AUTH] })).json.state;
      clock.advance(15);
      assert.equal(await state(), 'registered');
      clock.advance(1);
      assert.equal(await state(), 'down');
      assert.equal((await beat(reg.json.credential)).status, 204);
      assert.equal(await state(), 'registered');
    });

    it('reads need the API token: 401 without or with a wrong one; sorted listing and one by name', async () => {
      await register(body('node2', tokens.tokenFor('node2'), { macs: ['52:54:00:c0:01:02', '52:54:00:c0:00:02'], disks: [] }));
      await register(body('node1', tokens.tokenFor('node1')));
      for (const headers of [[], ['Authorization: Bearer wrong'], [`Authorization: Basic ${API_TOKEN}`], [`Authorization: Bearer`]]) {
        for (const path of ['/hypervisors', '/hypervisors/node1']) {
          const r = await curl('GET', base + path, { headers });
          assert.equal(r.status, 401, `${path} ${headers.join()}: ${r.body}`);
          assert.equal(r.json.error.code, 'CONTROLLER_UNAUTHENTICATED');
        }
      }
      const list = await curl('GET', `${base}/hypervisors`, { headers: [AUTH] });
      assert.equal(list.status, 200);
      assert.deepEqual(list.json.map((h: any) => h.name), ['node1', 'node2']);
      assert.deepEqual(list.json[1], {
        name: 'node2', hostname: 'node2', mac: '52:54:00:c0:01:02', macs: ['52:54:00:c0:01:02', '52:54:00:c0:00:02'], state: 'registered',
        cpus: 4, memory_mb: 8192, disks: [], rack: 'r2', datacentre: 'dc-west',
        registered_at: '2023-11-14T22:13:20.000Z', last_heartbeat: '2023-11-14T22:13:20.000Z',
      });
      assert.equal(JSON.stringify(list.json).includes('credential'), false);
      const one = await curl('GET', `${base}/hypervisors/node1`, { headers: [AUTH] });
      assert.equal(one.status, 200);
      assert.equal(one.json.rack, 'r1');
      const missing = await curl('GET', `${base}/hypervisors/ghost`, { headers: [AUTH] });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, 'CONTROLLER_NOT_FOUND');
    });

    it('answers wrong methods with 405 and Allow, unknown paths with a JSON 404', async () => {
      const del = await curl('DELETE', `${base}/hypervisors`, { headers: [AUTH] });
      assert.equal(del.status, 405);
      assert.equal(del.headers['allow'], 'GET, POST');
      assert.equal(del.json.error.code, 'CONTROLLER_METHOD');
      const get = await curl('GET', `${base}/hypervisors/node1/heartbeat`, { headers: [AUTH] });
      assert.equal(get.status, 405);
      assert.equal(get.headers['allow'], 'POST');
      const nope = await curl('GET', `${base}/nope`, { headers: [AUTH] });
      assert.equal(nope.status, 404);
      assert.equal(nope.json.error.code, 'CONTROLLER_NOT_FOUND');
    });
  });

  describe('busybox wget (the node agent)', () => {
    it('registers, heartbeats, and is refused a replay, a wrong credential and a non-JSON post', async () => {
      const token = tokens.tokenFor('node2');
      tokens.retire('node2');
      const payload = body('node2', token, { macs: ['52:54:00:c0:01:02'] });
      const reg = await wget(`${base}/hypervisors`, { post: payload, headers: [JSON_CT] });
      assert.equal(reg.code, 0, reg.stderr);
      const answer = JSON.parse(reg.stdout) as { name: string; credential: string; heartbeat_seconds: number };
      assert.equal(answer.name, 'node2');
      assert.match(answer.credential, /^[0-9a-f]{64}$/);
      assert.equal(answer.heartbeat_seconds, 5);

      clock.advance(5);
      const beat = await wget(`${base}/hypervisors/node2/heartbeat`, { post: '', headers: [`Authorization: Bearer ${answer.credential}`] });
      assert.equal(beat.code, 0, beat.stderr);
      assert.equal(beat.stdout, '');
      assert.equal(store.get('node2')?.last_heartbeat, '2023-11-14T22:13:25.000Z');

      const wrong = await wget(`${base}/hypervisors/node2/heartbeat`, { post: '', headers: [`Authorization: Bearer ${'1'.repeat(64)}`] });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /401/);

      const replay = await wget(`${base}/hypervisors`, { post: payload, headers: [JSON_CT] });
      assert.equal(replay.code, 1);
      assert.match(replay.stderr, /403/);

      const form = await wget(`${base}/hypervisors`, { post: body('node1', tokens.tokenFor('node1')) });
      assert.equal(form.code, 1);
      assert.match(form.stderr, /415/);

      const list = await wget(`${base}/hypervisors`, { headers: [AUTH] });
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual((JSON.parse(list.stdout) as Array<{ name: string; mac: string }>).map((h) => [h.name, h.mac]), [['node2', '52:54:00:c0:01:02']]);
      const anonymous = await wget(`${base}/hypervisors`);
      assert.equal(anonymous.code, 1);
      assert.match(anonymous.stderr, /401/);
    });
  });
});
