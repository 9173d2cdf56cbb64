// End to end over real HTTP on 127.0.0.1: what a booting and installing machine fetches.
// curl is the client for kernels (ranges, HEAD, If-Range, resume) and traversal attempts;
// Debian's python3 (urllib) plays the installer for the callback flow.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cryptoRandom, ManualClock } from '../lib/clock.ts';
import { createLogger } from '../lib/log.ts';
import type { BootEvent } from '../provisioner/boot/boot-events.ts';
import { InstallTokens, MemoryTokenStore } from '../provisioner/boot/install-tokens.ts';
import { createDispatcher } from '../provisioner/cobbler/dispatch.ts';
import { EventLog } from '../provisioner/cobbler/events.ts';
import { TokenSessions } from '../provisioner/cobbler/sessions.ts';
import { bootRouter } from '../provisioner/http/boot-routes.ts';
import { createHttpApp } from '../provisioner/http/http-app.ts';
import { InventoryService } from '../provisioner/inventory/inventory-service.ts';
import { SETTINGS_DEFAULTS, type Settings } from '../provisioner/inventory/settings.ts';
import type { ItemType, Value } from '../provisioner/inventory/types.ts';
import { MemoryStore } from '../provisioner/store/memory-store.ts';
import { seedSampleTemplates } from '../provisioner/templates/sample-templates.ts';
import { MemoryTemplateStore } from '../provisioner/templates/template-store.ts';
import { rpc, runPython } from './helpers/provisioner.ts';

interface CurlResult { status: number; headers: Record<string, string>; body: Buffer }

function curl(args: string[], bodyFile?: string): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    // The last header block wins (curl -C - may print a 100/redirect first).
    // -I prints the headers itself; -D - would print them a second time.
    const dump = args.includes('-I') ? [] : ['-D', '-'];
    execFile('curl', ['-s', '-S', '--noproxy', '*', ...dump, ...(bodyFile ? ['-o', bodyFile] : []), ...args],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 10_000 }, (err, stdout, stderr) => {
        if (err && !(err as { code?: unknown }).code) { reject(new Error(`curl failed: ${err.message} ${stderr.toString()}`)); return; }
        const raw = stdout;
        let offset = 0;
        let head = '';
        // Header blocks end with CRLF CRLF; the body follows the last one (when not written to a file).
        for (;;) {
          const end = raw.indexOf('\r\n\r\n', offset);
          if (end < 0) break;
          const block = raw.subarray(offset, end).toString('latin1');
          if (!/^HTTP\/\d/.test(block)) break;
          head = block;
          offset = end + 4;
          if (!/^HTTP\/\S+ 1\d\d/.test(block)) break;
        }
        const lines = head.split('\r\n');
        const status = Number(/^HTTP\/\S+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        resolve({ status, headers, body: bodyFile ? readFileSync(bodyFile) : raw.subarray(offset) });
      });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('HTTP boot and install-time routes (curl, python3)', function () {
  this.timeout(30_000);
  let dir: string;
  let server: Server;
  let base: string;
  let inv: InventoryService;
  let settings: Settings;
  let kernel: Buffer;
  let initrd: Buffer;
  let secret: string;
  const events: BootEvent[] = [];
  const logLines: string[] = [];
  const clock = new ManualClock(1_700_000_000);
  const tokenStore = new MemoryTokenStore();
  const tokens = new InstallTokens(tokenStore, cryptoRandom);

  const add = (type: ItemType, fields: Record<string, Value>) => {
    const h = inv.newHandle(type);
    for (const [k, v] of Object.entries(fields)) assert.equal(inv.modify(type, h, k, v), true, `${type}.${k}`);
    return inv.save(type, h);
  };
  const setNetboot = (name: string, on: boolean) => {
    const h = inv.handleFor('system', name);
    inv.modify('system', h, 'netboot_enabled', on);
    inv.save('system', h);
  };
  const netboot = (name: string) => inv.get('system', name)!['netboot_enabled'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rf-httpboot-'));
    kernel = randomBytes(300_000);
    initrd = randomBytes(70_000);
    secret = `TOP-SECRET-${randomBytes(8).toString('hex')}`;
    mkdirSync(join(dir, 'deb'));
    writeFileSync(join(dir, 'deb', 'linux'), kernel);
    writeFileSync(join(dir, 'deb', 'initrd.gz'), initrd);
    writeFileSync(join(dir, 'deb', 'secret.txt'), secret);
    // A distro tree whose kernel is a symlink, next to a file that must stay unreachable.
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'kernel-6.1'), kernel);
    writeFileSync(join(dir, 'real', 'secret.txt'), secret);
    mkdirSync(join(dir, 'sym'));
    symlinkSync(join(dir, 'real', 'kernel-6.1'), join(dir, 'sym', 'vmlinuz'));
    symlinkSync(join(dir, 'real'), join(dir, 'sym', 'tree'));
    writeFileSync(join(dir, 'sym', 'initrd.img'), initrd);
    mkdirSync(join(dir, 'isdir', 'vmlinuz'), { recursive: true });
    writeFileSync(join(dir, 'isdir', 'initrd'), initrd);

    const store = new MemoryStore({ clock });
    const templates = new MemoryTemplateStore();
    const snippets = new MemoryTemplateStore();
    seedSampleTemplates({ templates, snippets });
    settings = { ...SETTINGS_DEFAULTS, server: '127.0.0.1' };
    inv = new InventoryService({ store, clock, random: cryptoRandom, settings: () => settings, fieldContext: () => ({ autoinstallTemplates: templates.list() }) });
    const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
    const dispatcher = createDispatcher({
      inventory: inv, templates, snippets, sessions: new TokenSessions(clock, cryptoRandom), events: new EventLog(clock, cryptoRandom),
      log, version: 'test', sync: async () => {},
    });
    const boot = bootRouter({ inventory: inv, templates, snippets, tokens, events: { record: (e) => events.push(e) }, clock, log });
    server = createServer(createHttpApp({ dispatcher, log, bootRoutes: boot }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    settings = { ...settings, http_port: port };
    base = `http://127.0.0.1:${port}`;

    add('distro', { name: 'debian12', breed: 'debian', os_version: 'bookworm', kernel: join(dir, 'deb', 'linux'), initrd: join(dir, 'deb', 'initrd.gz') });
    add('distro', { name: 'symd', breed: 'redhat', os_version: 'rhel9', kernel: join(dir, 'sym', 'vmlinuz'), initrd: join(dir, 'sym', 'initrd.img') });
    add('distro', { name: 'dird', breed: 'generic', kernel: join(dir, 'isdir', 'vmlinuz'), initrd: join(dir, 'isdir', 'initrd') });
    add('profile', { name: 'debian12-x86_64', distro: 'debian12', autoinstall: 'sample.seed' });
    add('profile', { name: 'rocky-notree', distro: 'symd', autoinstall: 'sample.ks' });
    add('system', { name: 'web01', profile: 'debian12-x86_64', netboot_enabled: true, hostname: 'web01.lab', power_pass: 'hunter2',
      modify_interface: { 'macaddress-eth0': '52:54:00:AB:00:01', 'ipaddress-eth0': '10.9.0.11' } });
    add('system', { name: 'web02', profile: 'debian12-x86_64', netboot_enabled: true, modify_interface: { 'macaddress-eth0': '52:54:00:ab:00:02' } });
    add('system', { name: 'ks01', profile: 'rocky-notree', netboot_enabled: true, modify_interface: { 'macaddress-eth0': '52:54:00:ab:00:03' } });
  });

  after(async () => {
    await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    rmSync(dir, { recursive: true, force: true });
  });

  describe('kernels and initrds', () => {
    it('curl -r 0-99 gets the first 100 bytes as 206 with Content-Range', async () => {
      const r = await curl(['-r', '0-99', `${base}/images/debian12/linux`]);
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 0-99/${kernel.length}`);
      assert.deepEqual(r.body, kernel.subarray(0, 100));
    });

    it('curl -I answers HEAD with the length, Accept-Ranges and no body', async () => {
      const r = await curl(['-I', `${base}/images/debian12/linux`]);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], String(kernel.length));
      assert.equal(r.headers['accept-ranges'], 'bytes');
      assert.ok(r.headers['etag']);
      assert.equal(r.body.length, 0);
    });

    it('a suffix range (bytes=-10) gets the last 10 bytes', async () => {
      const r = await curl(['-H', 'Range: bytes=-10', `${base}/images/debian12/initrd.gz`]);
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes ${initrd.length - 10}-${initrd.length - 1}/${initrd.length}`);
      assert.deepEqual(r.body, initrd.subarray(initrd.length - 10));
    });

    it('a multi-range request gets a correct answer (the whole file, which RFC 9110 allows)', async () => {
      const r = await curl(['-r', '0-9,20-29', `${base}/images/debian12/linux`]);
      if (r.status === 206) {
        assert.match(r.headers['content-type'] ?? '', /multipart\/byteranges/);
      } else {
        assert.equal(r.status, 200);
        assert.equal(sha(r.body), sha(kernel));
      }
    });

    it('If-Range with the current ETag honours the range; with a stale one sends the whole file', async () => {
      const head = await curl(['-I', `${base}/images/debian12/linux`]);
      const etag = head.headers['etag']!;
      const fresh = await curl(['-r', '10-19', '-H', `If-Range: ${etag}`, `${base}/images/debian12/linux`]);
      assert.equal(fresh.status, 206);
      assert.deepEqual(fresh.body, kernel.subarray(10, 20));
      const stale = await curl(['-r', '10-19', '-H', 'If-Range: "stale-etag"', `${base}/images/debian12/linux`]);
      assert.equal(stale.status, 200);
      assert.equal(sha(stale.body), sha(kernel));
    });

    it('a download resumed with curl -C - ends identical (sha256)', async () => {
      const part = join(dir, 'resumed');
      const first = await curl(['-r', '0-99999', `${base}/images/debian12/linux`], part);
      assert.equal(first.status, 206);
      assert.equal(readFileSync(part).length, 100_000);
      const rest = await curl(['-C', '-', `${base}/images/debian12/linux`], part);
      assert.equal(rest.status, 206);
      assert.equal(sha(readFileSync(part)), sha(kernel));
    });

    it('an unsatisfiable range is 416', async () => {
      const r = await curl(['-r', `${kernel.length + 10}-`, `${base}/images/debian12/linux`]);
      assert.equal(r.status, 416);
    });

    it('serves the same files under /cblr/images/ and a symlinked kernel by its distro name', async () => {
      const a = await curl([`${base}/cblr/images/debian12/initrd.gz`]);
      assert.equal(a.status, 200);
      assert.equal(sha(a.body), sha(initrd));
      const s = await curl([`${base}/images/symd/vmlinuz`]);
      assert.equal(s.status, 200);
      assert.equal(sha(s.body), sha(kernel));
    });

    it('/cblr/links/<distro>/ serves files beside the kernel (a node image and its checksum), with ranges', async () => {
      const whole = await curl([`${base}/cblr/links/debian12/initrd.gz`]);
      assert.equal(whole.status, 200);
      assert.equal(sha(whole.body), sha(initrd));
      const part = await curl(['-r', '10-19', `${base}/cblr/links/debian12/linux`]);
      assert.equal(part.status, 206);
      assert.deepEqual(part.body, kernel.subarray(10, 20));
    });

    const attempts = [
      '/cblr/links/debian12/../../../../etc/passwd',
      '/cblr/links/debian12/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/cblr/links/symd/tree/secret.txt',
      '/cblr/links/symd/tree',
      '/cblr/links/nodistro/linux',
      '/cblr/links/debian12/',
      '/cblr/links/debian12/.hidden',
      '/images/../../../../etc/passwd',
      '/images/debian12/../../../../etc/passwd',
      '/images/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/images/debian12/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/images/debian12/..%2fsecret.txt',
      '/images/debian12/secret.txt',
      '/images/debian12/',
      '/images/',
      '/images/debian12',
      '/cblr/images/../images/debian12/secret.txt',
      '/images/symd/secret.txt',
      '/images/symd/kernel-6.1',
      '/images/symd/tree/secret.txt',
      '/images/symd/tree',
      '/images/dird/vmlinuz',
      '/images/debian12/linux%00',
      '/images/debian12%2flinux',
      '/images/debian12/linux/',
      '/images/debian12/%6c%69%6e%75%78/..',
      '/grub/../images/debian12/secret.txt',
      '/httpboot/../../etc/passwd',
      '/pxelinux.cfg/../../etc/passwd',
    ];
    for (const path of attempts) {
      it(`refuses ${path}`, async () => {
        const r = await curl(['--path-as-is', `${base}${path}`]);
        assert.notEqual(r.status, 200, `${path} answered 200`);
        assert.ok(r.status === 404 || r.status === 400 || r.status === 403, `status ${r.status}`);
        const body = r.body.toString('latin1');
        assert.ok(!body.includes(secret) && !body.includes('root:x:0:0'), `${path} leaked`);
        assert.ok(r.body.length < 1000);
      });
    }
  });

  describe('boot configuration over HTTP', () => {
    it('serves the per-MAC PXELINUX and GRUB files, the menus and grub.cfg', async () => {
      const px = await curl([`${base}/pxelinux.cfg/01-52-54-00-ab-00-01`]);
      assert.equal(px.status, 200);
      assert.match(px.headers['content-type'] ?? '', /text\/plain/);
      assert.match(px.body.toString(), /kernel \/images\/debian12\/linux\n\tappend initrd=\/images\/debian12\/initrd\.gz /);
      assert.match(px.body.toString(), /\/token\/[0-9a-f]{32} /);
      const gr = await curl([`${base}/grub/system/52:54:00:ab:00:01`]);
      assert.match(gr.body.toString(), /set default='web01'/);
      for (const p of ['/grub/grub.cfg', '/grub.cfg', '/pxelinux.cfg/default', '/ipxe/default.ipxe', '/grub/x86_64_menu_items.cfg', '/httpboot/grub.cfg']) {
        const r = await curl([`${base}${p}`]);
        assert.equal(r.status, 200, p);
      }
      const unknown = await curl([`${base}/pxelinux.cfg/01-de-ad-be-ef-00-01`]);
      assert.equal(unknown.status, 404);
      assert.ok(events.some((e) => e.kind === 'http-error' && e.mac === 'de:ad:be:ef:00:01'));
      assert.ok(events.some((e) => e.kind === 'http-file' && e.system === 'web01' && e.mac === '52:54:00:ab:00:01' && e.ip === '127.0.0.1'));
    });

    it('iPXE scripts by system, profile and MAC', async () => {
      const s = await curl([`${base}/cblr/svc/op/ipxe/system/web01`]);
      assert.equal(s.status, 200);
      assert.match(s.body.toString(), new RegExp(`^#!ipxe\\nkernel ${base.replace(/[.]/g, '\\.')}/images/debian12/linux initrd=initrd\\.gz `));
      const m = await curl([`${base}/cblr/svc/op/ipxe/mac/52:54:00:AB:00:02`]);
      assert.match(m.body.toString(), /autoinstall\/system\/web02\//);
      const p = await curl([`${base}/cblr/svc/op/ipxe/profile/debian12-x86_64`]);
      assert.match(p.body.toString(), /autoinstall\/profile\/debian12-x86_64 /);
      const u = await curl([`${base}/cblr/svc/op/ipxe/mac/00:11:22:33:44:55`]);
      assert.equal(u.status, 404);
      assert.equal(u.body.toString(), '# system not found\n');
      const fb = await curl([`${base}/cblr/svc/op/ipxe/mac/00:11:22:33:44:55/profile/debian12-x86_64`]);
      assert.equal(fb.status, 200);
    });
  });

  describe('/cblr/svc/op services', () => {
    it('autoinstall and its ks alias render, 404 for unknown objects', async () => {
      const a = await curl([`${base}/cblr/svc/op/autoinstall/profile/debian12-x86_64`]);
      assert.equal(a.status, 200);
      assert.match(a.body.toString(), /^# preseed for debian12-x86_64/m);
      assert.match(a.headers['content-type'] ?? '', /text\/plain; charset=utf-8/);
      const ks = await curl([`${base}/cblr/svc/op/ks/profile/debian12-x86_64`]);
      assert.equal(ks.body.toString(), a.body.toString());
      const ns = await curl([`${base}/cblr/svc/op/autoinstall/system/nosuch`]);
      assert.equal(ns.status, 404);
      assert.equal(ns.body.toString(), '# system not found\n');
      const np = await curl([`${base}/cblr/svc/op/autoinstall/profile/nosuch`]);
      assert.equal(np.status, 404);
      assert.equal(np.body.toString(), '# profile not found\n');
    });

    it('a template error is a 500 naming the missing variable', async () => {
      const r = await curl([`${base}/cblr/svc/op/autoinstall/system/ks01`]);
      assert.equal(r.status, 500);
      assert.match(r.body.toString(), /^# \*\*\* ERROR \*\*\* template sample\.ks line \d+: missing variable 'tree'/);
      assert.ok(events.some((e) => e.kind === 'http-error' && e.system === 'ks01' && /missing variable 'tree'/.test(e.detail)));
    });

    it('cloud-init NoCloud files under the autoinstall URL', async () => {
      const md = await curl([`${base}/cblr/svc/op/autoinstall/system/web01/meta-data`]);
      assert.equal(md.status, 200);
      assert.equal(md.body.toString(), 'instance-id: system-web01\nlocal-hostname: web01\n');
      const ud = await curl([`${base}/cblr/svc/op/autoinstall/system/web01/user-data`]);
      assert.equal(ud.status, 200);
    });

    it('lists names, one per line, without secrets or tokens', async () => {
      const s = await curl([`${base}/cblr/svc/op/list/what/systems`]);
      assert.equal(s.body.toString(), 'ks01\nweb01\nweb02\n');
      const d = await curl([`${base}/cblr/svc/op/list/what/distros`]);
      assert.equal(d.body.toString(), 'debian12\ndird\nsymd\n');
      assert.equal((await curl([`${base}/cblr/svc/op/list/what/menus`])).body.toString(), '');
      assert.equal((await curl([`${base}/cblr/svc/op/list/what/bogus`])).status, 404);
      assert.doesNotMatch(s.body.toString(), /hunter2|[0-9a-f]{32}/);
    });

    it('unknown ops are 404 text; the XML-RPC API still answers beside the boot routes', async () => {
      const r = await curl([`${base}/cblr/svc/op/settings`]);
      assert.equal(r.status, 404);
      assert.match(r.headers['content-type'] ?? '', /text\/plain/);
      assert.equal(await rpc(`${base}/cobbler_api`, 'ping'), true);
    });
  });

  describe('install callbacks (python3 urllib as the installer)', () => {
    const INSTALLER = `
import json, re, sys, urllib.request, urllib.error
def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
out = {}
status, pxe = get(URL + '/pxelinux.cfg/01-' + MAC.replace(':', '-'))
ks_url = re.search(r' url=(\\S+)', pxe).group(1)
status, seed = get(ks_url)
out['autoinstall'] = status
late = re.search(r'^d-i preseed/late_command string (.*)$', seed, re.M).group(1)
nopxe = re.search(r"'(http://[^']+/nopxe/[^']+)'", late).group(1)
post = re.search(r"'(http://[^']+/trig/mode/post/[^']+)'", late).group(1)
out['nopxe_url'] = nopxe
out['nopxe'] = get(nopxe)
out['post'] = get(post)
print(json.dumps(out))
`;

    it('autoinstall → nopxe with the token turns netboot off; a replay after re-enabling does nothing', async () => {
      assert.equal(netboot('web01'), true);
      const out = JSON.parse(await runPython(base, `MAC = '52:54:00:ab:00:01'\n${INSTALLER}`)) as {
        autoinstall: number; nopxe_url: string; nopxe: [number, string]; post: [number, string];
      };
      assert.equal(out.autoinstall, 200);
      assert.match(out.nopxe_url, /\/cblr\/svc\/op\/nopxe\/system\/web01\/token\/[0-9a-f]{32}$/);
      assert.deepEqual(out.nopxe, [200, 'True']);
      assert.deepEqual(out.post, [200, 'True'], 'the post trigger after nopxe still has a valid token');
      assert.equal(netboot('web01'), false);
      assert.ok(events.some((e) => e.kind === 'callback' && e.system === 'web01' && /netboot disabled/.test(e.detail)));
      assert.ok(events.some((e) => e.kind === 'autoinstall' && e.system === 'web01'));

      // The operator reinstalls: netboot back on. The old URL must not switch it off again.
      setNetboot('web01', true);
      const replay = await runPython(base, `
import urllib.request, urllib.error
try:
    urllib.request.urlopen(${JSON.stringify(out.nopxe_url)}, timeout=10); print('200')
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
`);
      assert.equal(replay.trim(), '403 False');
      assert.equal(netboot('web01'), true);
      // The next install gets a fresh token.
      const px = (await curl([`${base}/pxelinux.cfg/01-52-54-00-ab-00-01`])).body.toString();
      const fresh = /\/token\/([0-9a-f]{32})/.exec(px)?.[1];
      assert.ok(fresh);
      assert.ok(!out.nopxe_url.endsWith(fresh));
    });

    it('install events with the install token are recorded with their stage; without it, refused', async () => {
      setNetboot('web02', true);
      const token = /\/token\/([0-9a-f]{32})/.exec((await curl([`${base}/pxelinux.cfg/01-52-54-00-ab-00-02`])).body.toString())![1]!;
      const url = `${base}/cblr/svc/op/event/system/web02/token/${token}`;
      const ok = await curl([`${url}/stage/installer-started`]);
      assert.equal(ok.status, 200);
      const failed = await curl([`${url}/stage/failed?detail=checksum-mismatch%3A%20expected%20ab%0d%0aX`]);
      assert.equal(failed.status, 200);
      const mine = events.filter((e) => e.kind === 'install' && e.system === 'web02').map((e) => e.detail);
      assert.deepEqual(mine.slice(-2), ['installer-started', 'failed: checksum-mismatch: expected ab  X']);
      assert.equal((await curl([`${url}/stage/made-up`])).status, 404);
      assert.equal((await curl([`${base}/cblr/svc/op/event/system/web02/token/${'0'.repeat(32)}/stage/rebooted`])).status, 403);
      assert.equal((await curl([`${base}/cblr/svc/op/event/system/web01/token/${token}/stage/rebooted`])).status, 403, 'a token of another system');
      assert.equal(events.filter((e) => e.kind === 'install' && e.detail === 'rebooted').length, 0);
    });

    it('a foreign, guessed or missing token is 403 and netboot stays on', async () => {
      setNetboot('web01', true);
      const foreign = /\/token\/([0-9a-f]{32})/.exec((await curl([`${base}/pxelinux.cfg/01-52-54-00-ab-00-02`])).body.toString())![1]!;
      const result = await runPython(base, `
import urllib.request, urllib.error
for suffix in ['/token/${foreign}', '/token/' + '0' * 32, '', '?token=${foreign}', '/token/../../x']:
    try:
        r = urllib.request.urlopen(URL + '/cblr/svc/op/nopxe/system/web01' + suffix, timeout=10)
        print(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode())
`);
      const lines = result.trim().split('\n');
      assert.deepEqual(lines.slice(0, 4), ['403 False', '403 False', '403 False', '403 False']);
      assert.notEqual(lines[4], '200 True');
      assert.equal(netboot('web01'), true);
      assert.equal(netboot('web02'), true);
      const trig = await curl([`${base}/cblr/svc/op/trig/mode/pre/system/web01/token/${foreign}`]);
      assert.equal(trig.status, 403);
      assert.equal(trig.body.toString(), 'False');
      const wrongAuto = await curl([`${base}/cblr/svc/op/autoinstall/system/web01/token/${'0'.repeat(32)}`]);
      assert.equal(wrongAuto.status, 403);
    });

    it('the query-string form of the token works too; with pxe_just_once off nopxe changes nothing', async () => {
      setNetboot('web02', true);
      const tok = tokens.tokenFor('web02');
      settings = { ...settings, pxe_just_once: false };
      try {
        const off = await curl([`${base}/cblr/svc/op/nopxe/system/web02?token=${tok}`]);
        assert.deepEqual([off.status, off.body.toString()], [200, 'False']);
        assert.equal(netboot('web02'), true);
      } finally {
        settings = { ...settings, pxe_just_once: true };
      }
      const on = await curl([`${base}/cblr/svc/op/nopxe/system/web02?token=${tok}`]);
      assert.deepEqual([on.status, on.body.toString()], [200, 'True']);
      assert.equal(netboot('web02'), false);
    });

    it('nopxe keeps an operator\'s unsaved edits out of its save', async () => {
      setNetboot('web02', true);
      const h = inv.handleFor('system', 'web02');
      inv.modify('system', h, 'comment', 'pending edit');
      const tok = tokens.tokenFor('web02');
      assert.equal((await curl([`${base}/cblr/svc/op/nopxe/system/web02/token/${tok}`])).body.toString(), 'True');
      assert.equal(inv.get('system', 'web02')!['comment'], '');
      assert.equal(netboot('web02'), false);
      inv.save('system', h);
      assert.equal(inv.get('system', 'web02')!['comment'], 'pending edit');
      assert.equal(netboot('web02'), false, 'the later save keeps netboot off');
    });

    it('no token appears in logs or boot events; secrets stay out of rendered files', async () => {
      const issued = ['web01', 'web02', 'ks01'].map((s) => tokenStore.get(s)?.replace(/^retired:/, '')).filter((t): t is string => !!t);
      assert.ok(issued.length >= 2);
      for (const t of issued) {
        assert.ok(!logLines.some((l) => l.includes(t)), 'token in a log line');
        assert.ok(!events.some((e) => e.detail.includes(t)), 'token in a boot event');
      }
      assert.ok(logLines.some((l) => l.includes('/token/***')));
      const seed = (await curl([`${base}/cblr/svc/op/autoinstall/system/web01`])).body.toString();
      assert.doesNotMatch(seed, /hunter2/);
    });
  });
});
