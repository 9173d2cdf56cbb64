// The web UI at /ui/ against a real provisioner: its pages over HTTP, what they show (install
// state, boot events, leases), what they must never show (secrets, markup from the inventory),
// the auth_required_for_reads setting, and the pages as Chromium parses them. Chromium runs in
// a network namespace of its own with no interface but lo, on a copy of each page, so nothing
// it might try to fetch can leave the machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManualClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from '../cli/compose-provisioner.ts';
import { REDACTED } from '../provisioner/inventory/wire.ts';
import { escapeHtml } from '../provisioner/ui/html.ts';
import { rpc, seedProfile } from './helpers/provisioner.ts';

const run = promisify(execFile);
const HOSTILE = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;

async function get(url: string, auth?: string): Promise<{ status: number; type: string; csp: string; body: string }> {
  const res = await fetch(url, auth ? { headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } } : {});
  return { status: res.status, type: res.headers.get('content-type') ?? '', csp: res.headers.get('content-security-policy') ?? '', body: await res.text() };
}

describe('web UI', function () {
  this.timeout(60_000);
  let srv: RunningProvisioner;
  const clock = new ManualClock(1_800_000_000);

  before(async () => {
    srv = await startProvisioner({ httpPort: 0, adminPassword: 'pw', log: silentLogger, clock });
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'pw') as string;
    await seedProfile(srv.apiUrl, token);
    for (const [name, mac, ip] of [['node1', '52:54:00:00:01:01', '192.168.16.21'], ['node2', '52:54:00:00:01:02', '192.168.16.22']] as const) {
      const h = await rpc(srv.apiUrl, 'new_system', token) as string;
      await rpc(srv.apiUrl, 'modify_system', h, 'name', name, token);
      await rpc(srv.apiUrl, 'modify_system', h, 'profile', 'lucid-i386-juju', token);
      await rpc(srv.apiUrl, 'modify_system', h, 'hostname', `${name}.example.com`, token);
      await rpc(srv.apiUrl, 'modify_system', h, 'comment', HOSTILE, token);
      await rpc(srv.apiUrl, 'modify_system', h, 'power_pass', 'hunter2-secret', token);
      await rpc(srv.apiUrl, 'modify_system', h, 'modify_interface', { 'macaddress-eth0': mac, 'ipaddress-eth0': ip }, token);
      await rpc(srv.apiUrl, 'save_system', h, token);
    }
    const store = srv.inventory.store;
    const at = clock.now();
    store.appendBootEvent({ at, kind: 'dhcp-ack', mac: '52:54:00:00:01:01', system: 'node1', ip: '192.168.16.21', detail: 'leased 192.168.16.21 for 3600s; boot pxelinux.0 (profile lucid-i386-juju)' });
    store.appendBootEvent({ at: at + 3, kind: 'tftp-file', mac: '52:54:00:00:01:01', system: 'node1', ip: '192.168.16.21', detail: `pxelinux.0 ${HOSTILE}` });
    store.putLease({ ip: '192.168.16.21', mac: '52:54:00:00:01:01', clientKey: 'mac:52:54:00:00:01:01', state: 'bound', expiresAt: at + 3600, updatedAt: at, subnet: '192.168.16.0/24', hostname: 'node1' });
  });
  after(async () => {
    await srv?.close();
  });

  it('the overview lists every system with its profile, interfaces and install state, and the profiles and distros', async () => {
    assert.equal(srv.uiUrl, `${srv.url}/ui/`);
    const r = await get(srv.uiUrl);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/html/);
    assert.match(r.csp, /default-src 'none'/);
    for (const s of ['node1', 'node2', 'lucid-i386-juju', 'lucid-i386', '52:54:00:00:01:02', '192.168.16.22', '2 systems, 1 profiles, 1 distros']) assert.ok(r.body.includes(s), s);
    assert.match(r.body, /<a href="\/ui\/systems\/node1">node1<\/a>/);
    assert.match(r.body, /class="state installing">installing</, 'node1 has a DHCP answer with a boot file and a TFTP load');
    assert.match(r.body, /class="state none">none</, 'node2 has not booted');
    assert.match(r.body, /<meta http-equiv="refresh" content="10">/, 'people watch it while machines boot');
    assert.equal((await fetch(`${srv.url}/ui`, { redirect: 'manual' })).headers.get('location'), '/ui/');
  });

  it("a system's page shows its install stages, boot events and fields, with secrets redacted", async () => {
    const r = await get(`${srv.url}/ui/systems/node1`);
    assert.equal(r.status, 200);
    for (const s of ['dhcp', 'pxe-loaded', 'leased 192.168.16.21 for 3600s', 'tftp-file', 'node1.example.com', 'eth0', '52:54:00:00:01:01']) assert.ok(r.body.includes(s), s);
    assert.ok(!r.body.includes('hunter2-secret'), 'the power password is not shown');
    assert.ok(r.body.includes(`<th>power_pass</th><td>${escapeHtml(REDACTED)}</td>`), 'the power password is shown as redacted');
  });

  it('markup from the inventory and from boot events is shown as text, never as markup', async () => {
    for (const url of [srv.uiUrl, `${srv.url}/ui/systems/node1`]) {
      const r = await get(url);
      assert.ok(!r.body.includes('<script>document.title'), url);
      assert.ok(!r.body.includes('<img src=x'), url);
      assert.ok(r.body.includes(escapeHtml(HOSTILE)), `${url}: the text is there, escaped`);
    }
  });

  it('the leases page lists each lease; unknown systems and pages are 404 pages', async () => {
    const leases = await get(`${srv.url}/ui/leases`);
    assert.equal(leases.status, 200);
    for (const s of ['192.168.16.21', '52:54:00:00:01:01', 'bound', '192.168.16.0/24']) assert.ok(leases.body.includes(s), s);
    const missing = await get(`${srv.url}/ui/systems/${encodeURIComponent('<nosuch>')}`);
    assert.equal(missing.status, 404);
    assert.ok(missing.body.includes('There is no system named &quot;&lt;nosuch&gt;&quot;'));
    assert.equal((await get(`${srv.url}/ui/nothing/here`)).status, 404);
    assert.equal((await get(`${srv.url}/ui/?page=999`)).status, 200, 'a page past the end shows the last');
  });

  it('with auth_required_for_reads, pages need a rackforge user: 401 without or with a wrong password', async () => {
    const closed = await startProvisioner({ httpPort: 0, adminPassword: 'pw', log: silentLogger, settings: { auth_required_for_reads: true } });
    try {
      const none = await fetch(closed.uiUrl);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="rackforge"/);
      assert.equal((await get(closed.uiUrl, 'cobbler:wrong')).status, 401);
      assert.equal((await fetch(closed.uiUrl, { headers: { authorization: 'Bearer cobbler:pw' } })).status, 401);
      assert.equal((await fetch(closed.uiUrl, { headers: { authorization: `basic ${Buffer.from('cobbler:pw').toString('base64')}` } })).status, 200, 'the scheme is case-insensitive');
      assert.equal((await get(closed.uiUrl, 'nobody:pw')).status, 401);
      const ok = await get(closed.uiUrl, 'cobbler:pw');
      assert.equal(ok.status, 200);
      assert.ok(ok.body.includes('0 systems'));
      // curl, as a person or a script would use it.
      const { stdout } = await run('curl', ['-sS', '-u', 'cobbler:pw', '-o', '/dev/null', '-w', '%{http_code}', `${closed.url}/ui/leases`]);
      assert.equal(stdout, '200');
    } finally {
      await closed.close();
    }
  });

  it('Chromium renders the pages: the tables are there and nothing from the inventory ran', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rf-ui-'));
    try {
      for (const [name, url] of [['overview', srv.uiUrl], ['node1', `${srv.url}/ui/systems/node1`]] as const) {
        const file = join(dir, `${name}.html`);
        writeFileSync(file, (await get(url)).body);
        const { stdout } = await run('unshare', ['-Urn', 'chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
          `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}`], { timeout: 45_000, maxBuffer: 16 << 20 });
        assert.match(stdout, /<title>(Systems|System node1) · rackforge<\/title>/, `${name}: the title was changed by script`);
        assert.ok(!stdout.includes('pwned</title>'), name);
        assert.match(stdout, /<table>/, name);
        assert.ok(stdout.includes('node1'), name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
