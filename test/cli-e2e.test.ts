// The `rackforge` CLI as a user runs it: `rackforge serve` started as a separate process
// (directly, and once through `npx` with the acceptance command line), every client command
// spawned as `node bin/rackforge.js …`, and each effect checked through the XML-RPC API of the
// same server (and the other way round). Spawns cost about a second each, so commands that do
// not depend on each other run concurrently, and the round trip shares its objects from `it`
// to `it` in the order a user would go: add, edit, copy, rename, find, report, dumpvars, remove.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rpc, seedProfile } from './helpers/provisioner.ts';
import {
  CLI_BIN, REPO_ROOT, cleanEnv, findServeNode, freePort, processGroup, runCli, startServeProcess,
  type CliResult, type Env, type ServeProcess,
} from './helpers/cli-processes.ts';
import type { XmlRpcValue } from '../provisioner/protocol/xmlrpc.ts';

const ADMIN_PASSWORD = 'e2e-Admin-pw';
const PKG_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// Round-trip objects (created through the CLI).
const MAC0 = '52:54:00:e2:00:01';
const MAC1 = '52:54:00:e2:00:02';
// API-created objects (read through the CLI).
const API_MACS = { 'web-10': '52:54:00:a1:00:10', 'db-1': '52:54:00:a1:00:01', 'web-2': '52:54:00:a1:00:02' } as const;

type Item = Record<string, any>;

const show = (r: CliResult): string => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

function succeeded(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: ${show(r)}`);
  assert.equal(r.stderr, '', `${what}: nothing on stderr\n${show(r)}`);
}

/** The CLI's error contract: one stderr line starting `rackforge:`, nothing on stdout, the exit code. */
function failedWithOneLine(r: CliResult, code: number, what: string): string {
  assert.equal(r.code, code, `${what}: ${show(r)}`);
  assert.equal(r.errLines.length, 1, `${what}: exactly one stderr line\n${show(r)}`);
  assert.match(r.errLines[0] as string, /^rackforge: \S/, `${what}: ${show(r)}`);
  assert.equal(r.stdout, '', `${what}: nothing on stdout\n${show(r)}`);
  return r.errLines[0] as string;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** `Label : value` line of a text report, as Cobbler's CLI pads it. */
const reportLine = (label: string, value: string): RegExp =>
  new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} {${Math.max(1, 31 - label.length)}}: ${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

describe('rackforge CLI end to end (real server and CLI processes)', function () {
  this.timeout(60_000);

  let dataDir = '';
  /** XDG_DATA_HOME of every CLI run: empty, so no web.ss of this machine is ever picked up. */
  let emptyDataHome = '';
  let server: ServeProcess | undefined;
  let api = '';
  let token = '';

  /** Environment of a CLI run: RACKFORGE_SERVER and the admin password unless overridden. */
  const env = (extra: Env = {}): Env => cleanEnv({
    RACKFORGE_SERVER: server?.url, RACKFORGE_PASSWORD: ADMIN_PASSWORD, XDG_DATA_HOME: emptyDataHome, ...extra,
  });
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, env());
  const getItem = async (type: string, name: string): Promise<Item | '~'> => await rpc(api, 'get_item', type, name) as Item | '~';
  async function mustGet(type: string, name: string): Promise<Item> {
    const item = await getItem(type, name);
    assert.notEqual(item, '~', `${type} ${name} should exist`);
    return item as Item;
  }
  async function mustBeGone(type: string, name: string): Promise<void> {
    assert.equal(await getItem(type, name), '~', `${type} ${name} should not exist`);
  }
  const names = async (type: string): Promise<string[]> => await rpc(api, 'get_item_names', type) as string[];

  before(async function () {
    this.timeout(45_000);
    dataDir = mkdtempSync(join(tmpdir(), 'rf-cli-e2e-'));
    emptyDataHome = mkdtempSync(join(tmpdir(), 'rf-cli-e2e-xdg-'));
    // Exactly the acceptance command line, with the bin run by this node.
    server = await startServeProcess(process.execPath, [CLI_BIN, 'serve', '--data', dataDir, '--http-port', '0'],
      cleanEnv({ RACKFORGE_ADMIN_PASSWORD: ADMIN_PASSWORD }));
    api = server.apiUrl;
    token = await rpc(api, 'login', 'cobbler', ADMIN_PASSWORD) as string;

    // What the "API writes, CLI reads" and error tests start from, written through the API only
    // (xapi_object_edit 'add' takes the name in the attributes too, as Cobbler's CLI sends it).
    await seedProfile(api, token, 'api-profile'); // distro lucid-i386 + profile api-profile
    for (const [name, mac] of Object.entries(API_MACS)) { // deliberately not in name order
      await rpc(api, 'xapi_object_edit', 'system', name, 'add',
        { name, profile: 'api-profile', hostname: `${name}.lab`, interface: 'eth0', mac_address: mac }, token);
    }
    await rpc(api, 'xapi_object_edit', 'image', 'api-image', 'add', { name: 'api-image', file: '/srv/images/api.iso', arch: 'x86_64' }, token);
    await rpc(api, 'xapi_object_edit', 'menu', 'api-menu', 'add', { name: 'api-menu', display_name: 'From the API' }, token);
  });

  after(async function () {
    this.timeout(20_000);
    try {
      if (!server) return;
      server.child.kill('SIGTERM');
      const exit = await withTimeout(server.exited, 15_000, 'rackforge serve after SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, `rackforge serve should exit 0 on SIGTERM\nstderr: ${server.stderr()}`);
      assert.match(server.stderr(), /^SIGTERM: shutting down$/m);
      // Every fault the tests provoke is an expected one: the server log must show no internal failure.
      assert.doesNotMatch(server.stderr(), /failed unexpectedly|internal error|Error:|\bat .*\.ts:\d+/, `server log:\n${server.stderr()}`);
    } finally {
      if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      for (const d of [dataDir, emptyDataHome]) if (d) rmSync(d, { recursive: true, force: true });
    }
  });

  describe('rackforge serve', () => {
    it('with --http-port 0 prints the real port in its listening line, and that port answers /cobbler_api', async () => {
      const lines = (server as ServeProcess).stdout().trimEnd().split('\n');
      assert.deepEqual(lines.slice(-4), [
        `store: ${join(dataDir, 'rackforge.db')}`,
        `Cobbler API: ${api}`,
        `web UI: ${(server as ServeProcess).url}/ui/`,
        `rackforge listening on ${(server as ServeProcess).url}`,
      ]);
      assert.equal((await fetch(`${(server as ServeProcess).url}/ui/`)).status, 200, 'the printed web UI answers');
      const m = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec((server as ServeProcess).url);
      assert.ok(m, (server as ServeProcess).url);
      assert.notEqual(Number(m[1]), 0);
      const v = await rpc(api, 'extended_version') as Item;
      assert.equal(v['version'], '3.3.7');
    });

    describe('`npx rackforge serve --data DIR --http-port N` (the acceptance command line)', () => {
      let npxDir = '';
      let port = 0;
      let npx: ServeProcess | undefined;
      const NPX_ADMIN = 'npx-Admin-pw';

      before(async function () {
        this.timeout(45_000);
        npxDir = mkdtempSync(join(tmpdir(), 'rf-cli-e2e-npx-'));
        port = await freePort();
        // Own process group: npm does not pass SIGTERM on to the server, so the test signals
        // the server process itself and cleans up the group if anything is left.
        npx = await startServeProcess('npx', ['rackforge', 'serve', '--data', npxDir, '--http-port', String(port)],
          cleanEnv({ RACKFORGE_ADMIN_PASSWORD: NPX_ADMIN }), { detached: true, timeoutMs: 30_000 });
      });

      after(async function () {
        this.timeout(20_000);
        const pgid = npx?.child.pid;
        try {
          if (!npx || pgid === undefined) return;
          const node = findServeNode(pgid);
          assert.ok(node, `no node process running 'serve' under npx: ${JSON.stringify(processGroup(pgid))}`);
          process.kill(node.pid, 'SIGTERM');
          const exit = await withTimeout(npx.exited, 15_000, 'npx rackforge serve after SIGTERM to the server');
          // npm exec exits with its command's status: 0 means the server itself exited 0.
          assert.deepEqual(exit, { code: 0, signal: null }, `stderr: ${npx.stderr()}`);
          assert.match(npx.stderr(), /^SIGTERM: shutting down$/m);
        } finally {
          if (pgid !== undefined && processGroup(pgid).length > 0) {
            try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
          }
          if (npxDir) rmSync(npxDir, { recursive: true, force: true });
        }
      });

      it('listens on N, takes RACKFORGE_ADMIN_PASSWORD, and serves the CLI (--server host:port)', async () => {
        assert.equal(npx?.url, `http://127.0.0.1:${port}`);
        const add = await runCli(['--server', `127.0.0.1:${port}`, 'distro', 'add', '--name', 'npx-distro', '--kernel', '/srv/k', '--initrd', '/srv/i'],
          env({ RACKFORGE_PASSWORD: NPX_ADMIN }));
        succeeded(add, 'distro add against the npx server');
        const d = await rpc(`http://127.0.0.1:${port}/cobbler_api`, 'get_item', 'distro', 'npx-distro') as Item;
        assert.equal(d['kernel'], '/srv/k');
        assert.equal(await getItem('distro', 'npx-distro'), '~', 'the other server is untouched');
        assert.equal(statSync(join(npxDir, 'web.ss')).mode & 0o777, 0o600);
      });
    });
  });

  describe('CLI writes, API reads: every object type', () => {
    it('add: distro, profile and sub-profile (--parent), system with two interfaces, image, repo, menu and sub-menu', async () => {
      succeeded(await cli('distro', 'add', '--name', 'deb12', '--kernel', '/srv/deb12/linux', '--initrd', '/srv/deb12/initrd.gz',
        '--arch', 'x86_64', '--breed', 'debian', '--kernel-options', 'console=ttyS0 a=1 shared=distro'), 'distro add');
      const stage2 = await Promise.all([
        cli('profile', 'add', '--name', 'node', '--distro', 'deb12', '--kernel-options', 'quiet b=2 shared=profile'),
        cli('image', 'add', '--name', 'rescue', '--file', '/srv/images/rescue.iso', '--arch', 'x86_64', '--kernel-options', 'x=1 y=2'),
        cli('repo', 'add', '--name', 'deb12-main', '--mirror', 'http://127.0.0.1/debian', '--breed', 'apt', '--arch', 'x86_64',
          '--apt-dists', 'bookworm', '--apt-components', 'main'),
        cli('menu', 'add', '--name', 'main', '--display-name', 'Main menu'),
      ]);
      stage2.forEach((r, i) => succeeded(r, `add #${i} (profile, image, repo, menu)`));
      const stage3 = await Promise.all([
        cli('profile', 'add', '--name', 'node-debug', '--parent', 'node', '--kernel-options', 'debug=1'),
        cli('system', 'add', '--name', 'n1', '--profile', 'node', '--hostname', 'n1.lab', '--kernel-options', 's=9 shared=system',
          '--interface', 'eth0', '--mac-address', MAC0, '--ip-address', '10.0.0.11', '--netmask', '255.255.255.0'),
        cli('menu', 'add', '--name', 'main-tools', '--parent', 'main', '--display-name', 'Tools'),
      ]);
      stage3.forEach((r, i) => succeeded(r, `add #${i} (sub-profile, system, sub-menu)`));
      // The second interface through the short aliases Cobbler users type.
      succeeded(await cli('system', 'edit', '--name', 'n1', '--interface', 'eth1', '--mac', MAC1, '--ip', '10.0.0.12'), 'system edit (second interface)');

      const d = await mustGet('distro', 'deb12');
      assert.equal(d['kernel'], '/srv/deb12/linux');
      assert.equal(d['initrd'], '/srv/deb12/initrd.gz');
      assert.equal(d['arch'], 'x86_64');
      assert.equal(d['breed'], 'debian');
      assert.deepEqual(d['kernel_options'], { console: 'ttyS0', a: '1', shared: 'distro' });

      const p = await mustGet('profile', 'node');
      assert.equal(p['distro'], 'deb12');
      assert.equal(p['parent'], '');
      assert.deepEqual(p['kernel_options'], { quiet: '~', b: '2', shared: 'profile' });
      const sub = await mustGet('profile', 'node-debug');
      assert.equal(sub['parent'], 'node');
      assert.deepEqual(sub['kernel_options'], { debug: '1' });

      const s = await mustGet('system', 'n1');
      assert.equal(s['profile'], 'node');
      assert.equal(s['hostname'], 'n1.lab');
      assert.deepEqual(s['kernel_options'], { s: '9', shared: 'system' });
      assert.deepEqual(Object.keys(s['interfaces']).sort(), ['eth0', 'eth1']);
      assert.equal(s['interfaces'].eth0.mac_address, MAC0);
      assert.equal(s['interfaces'].eth0.ip_address, '10.0.0.11');
      assert.equal(s['interfaces'].eth0.netmask, '255.255.255.0');
      assert.equal(s['interfaces'].eth1.mac_address, MAC1);
      assert.equal(s['interfaces'].eth1.ip_address, '10.0.0.12');

      const img = await mustGet('image', 'rescue');
      assert.equal(img['file'], '/srv/images/rescue.iso');
      assert.equal(img['arch'], 'x86_64');
      assert.deepEqual(img['kernel_options'], { x: '1', y: '2' });

      const repo = await mustGet('repo', 'deb12-main');
      assert.equal(repo['mirror'], 'http://127.0.0.1/debian');
      assert.equal(repo['breed'], 'apt');
      assert.equal(repo['arch'], 'x86_64');
      assert.deepEqual(repo['apt_dists'], ['bookworm']);
      assert.deepEqual(repo['apt_components'], ['main']);

      const menu = await mustGet('menu', 'main');
      assert.equal(menu['display_name'], 'Main menu');
      const subMenu = await mustGet('menu', 'main-tools');
      assert.equal(subMenu['parent'], 'main');
      assert.equal(subMenu['display_name'], 'Tools');
    });

    it('edit: --in-place merges kernel options and ~key deletes one, plain edit replaces; --rename-interface, --delete-interface', async () => {
      const interfaceChain = (async () => {
        succeeded(await cli('system', 'edit', '--name', 'n1', '--interface', 'eth1', '--rename-interface', 'eth9'), 'system edit --rename-interface');
        const renamed = await mustGet('system', 'n1');
        assert.deepEqual(Object.keys(renamed['interfaces']).sort(), ['eth0', 'eth9']);
        assert.equal(renamed['interfaces'].eth9.mac_address, MAC1, 'the renamed interface keeps its MAC');
        assert.equal(renamed['interfaces'].eth9.ip_address, '10.0.0.12');
        succeeded(await cli('system', 'edit', '--name', 'n1', '--interface', 'eth9', '--delete-interface'), 'system edit --delete-interface');
      })();
      const others = await Promise.all([
        cli('profile', 'edit', '--name', 'node', '--in-place', '--kernel-options', '~b d=4'),
        cli('image', 'edit', '--name', 'rescue', '--kernel-options', 'z=3'),
        cli('repo', 'edit', '--name', 'deb12-main', '--comment', 'mirrored nightly'),
        cli('menu', 'edit', '--name', 'main-tools', '--display-name', 'Tools and rescue'),
        cli('distro', 'edit', '--name', 'deb12', '--comment', 'Debian 12'),
      ]);
      others.forEach((r, i) => succeeded(r, `edit #${i} (profile, image, repo, menu, distro)`));
      await interfaceChain;

      assert.deepEqual((await mustGet('profile', 'node'))['kernel_options'], { quiet: '~', shared: 'profile', d: '4' });
      assert.deepEqual((await mustGet('image', 'rescue'))['kernel_options'], { z: '3' }, 'without --in-place the dict is replaced');
      assert.equal((await mustGet('repo', 'deb12-main'))['comment'], 'mirrored nightly');
      assert.equal((await mustGet('menu', 'main-tools'))['display_name'], 'Tools and rescue');
      assert.equal((await mustGet('distro', 'deb12'))['comment'], 'Debian 12');
      const s = await mustGet('system', 'n1');
      assert.deepEqual(Object.keys(s['interfaces']), ['eth0']);
      assert.equal(s['interfaces'].eth0.mac_address, MAC0);
    });

    it('copy: distro, profile, repo', async () => {
      const rs = await Promise.all([
        cli('distro', 'copy', '--name', 'deb12', '--newname', 'deb12-copy'),
        cli('profile', 'copy', '--name', 'node', '--newname', 'node-copy'),
        cli('repo', 'copy', '--name', 'deb12-main', '--newname', 'deb12-main-copy'),
      ]);
      rs.forEach((r, i) => succeeded(r, `copy #${i}`));
      const [d, dc, p, pc, r, rc] = await Promise.all([
        mustGet('distro', 'deb12'), mustGet('distro', 'deb12-copy'), mustGet('profile', 'node'), mustGet('profile', 'node-copy'),
        mustGet('repo', 'deb12-main'), mustGet('repo', 'deb12-main-copy'),
      ]);
      assert.equal(dc['kernel'], d['kernel']);
      assert.deepEqual(dc['kernel_options'], d['kernel_options']);
      assert.notEqual(dc['uid'], d['uid']);
      assert.equal(pc['distro'], 'deb12');
      assert.deepEqual(pc['kernel_options'], p['kernel_options']);
      assert.notEqual(pc['uid'], p['uid']);
      assert.equal(rc['mirror'], r['mirror']);
      assert.equal(rc['comment'], 'mirrored nightly');
      assert.equal((await mustGet('system', 'n1'))['profile'], 'node', 'a copy takes no systems along');
    });

    it('rename: profile (its systems and sub-profiles follow), menu (its sub-menu follows), image', async () => {
      const rs = await Promise.all([
        cli('profile', 'rename', '--name', 'node', '--newname', 'node-renamed'),
        cli('menu', 'rename', '--name', 'main', '--newname', 'main-renamed'),
        cli('image', 'rename', '--name', 'rescue', '--newname', 'rescue-renamed'),
      ]);
      rs.forEach((r, i) => succeeded(r, `rename #${i}`));
      await Promise.all([mustBeGone('profile', 'node'), mustBeGone('menu', 'main'), mustBeGone('image', 'rescue')]);
      const p = await mustGet('profile', 'node-renamed');
      assert.equal(p['distro'], 'deb12');
      assert.deepEqual(p['kernel_options'], { quiet: '~', shared: 'profile', d: '4' });
      assert.equal((await mustGet('system', 'n1'))['profile'], 'node-renamed');
      assert.equal((await mustGet('profile', 'node-debug'))['parent'], 'node-renamed');
      assert.equal((await mustGet('menu', 'main-tools'))['parent'], 'main-renamed');
      assert.equal((await mustGet('image', 'rescue-renamed'))['file'], '/srv/images/rescue.iso');
    });

    it('find: by MAC (a deleted interface no longer matches) and by a glob on the name, sorted', async () => {
      const [byMac, byOldMac, byGlob, byDistro] = await Promise.all([
        cli('system', 'find', '--mac-address', MAC0),
        cli('system', 'find', '--mac-address', MAC1),
        cli('profile', 'find', '--name', 'node*'),
        cli('profile', 'find', '--distro', 'deb12'),
      ]) as [CliResult, CliResult, CliResult, CliResult];
      succeeded(byMac, 'find by MAC');
      assert.deepEqual(byMac.lines, ['n1']);
      succeeded(byOldMac, 'find by the deleted interface MAC');
      assert.deepEqual(byOldMac.lines, []);
      succeeded(byGlob, 'find by glob');
      assert.deepEqual(byGlob.lines, ['node-copy', 'node-debug', 'node-renamed']);
      succeeded(byDistro, 'find by distro');
      assert.deepEqual(byDistro.lines, ['node-copy', 'node-renamed']);
    });

    it('report: one system as text and as JSON (equal to get_item), all profiles as text, all menus as JSON', async () => {
      const [text, json, allText, allJson] = await Promise.all([
        cli('system', 'report', '--name', 'n1'),
        cli('system', 'report', '--name', 'n1', '--json'),
        cli('profile', 'report'),
        cli('menu', 'report', '--format', 'json'),
      ]) as [CliResult, CliResult, CliResult, CliResult];
      succeeded(text, 'system report');
      assert.match(text.lines[0] as string, reportLine('Name', 'n1'));
      for (const re of [
        reportLine('Profile', 'node-renamed'), reportLine('Hostname', 'n1.lab'), reportLine('Kernel Options', "{'s': '9', 'shared': 'system'}"),
        reportLine('Interface =====', 'eth0'), reportLine('MAC Address', MAC0), reportLine('IP Address', '10.0.0.11'),
        reportLine('Netmask', '255.255.255.0'),
      ]) assert.ok(text.lines.some((l) => re.test(l)), `no line matching ${re}\n${text.stdout}`);
      assert.equal(text.lines.filter((l) => l.startsWith('Interface =====')).length, 1);

      succeeded(json, 'system report --json');
      assert.deepEqual(JSON.parse(json.stdout), await getItem('system', 'n1'));

      succeeded(allText, 'profile report');
      const reported = allText.lines.filter((l) => /^Name {27}: /.test(l)).map((l) => l.replace(/^Name {27}: /, ''));
      const profiles = await names('profile');
      assert.deepEqual([...reported].sort(), [...profiles].sort());
      assert.equal(allText.lines.filter((l) => l === '').length, profiles.length - 1, 'one blank line between reports');

      succeeded(allJson, 'menu report --format json');
      const menus = JSON.parse(allJson.stdout) as Item[];
      assert.deepEqual(menus.map((m) => m['name']).sort(), [...await names('menu')].sort());
      assert.equal(menus.find((m) => m['name'] === 'main-tools')?.['display_name'], 'Tools and rescue');
    });

    it('dumpvars: kernel_options blended from distro, profile and system', async () => {
      const [sysJson, subText] = await Promise.all([
        cli('system', 'dumpvars', '--name', 'n1', '--json'),
        cli('profile', 'dumpvars', '--name', 'node-debug'),
      ]) as [CliResult, CliResult];
      succeeded(sysJson, 'system dumpvars --json');
      const vars = JSON.parse(sysJson.stdout) as Item;
      // distro: console=ttyS0 a=1 shared=distro; profile (after the in-place edit): quiet shared=profile d=4; system: s=9 shared=system
      assert.deepEqual(vars['kernel_options'], { console: 'ttyS0', a: '1', shared: 'system', quiet: '~', d: '4', s: '9' });
      assert.deepEqual(vars, await rpc(api, 'get_blended_data', '', 'n1'));

      succeeded(subText, 'profile dumpvars');
      const blended = await rpc(api, 'get_blended_data', 'node-debug', '') as Item;
      assert.deepEqual(subText.lines.map((l) => l.slice(0, l.indexOf(': '))), Object.keys(blended).sort(), 'one sorted `key: value` line per variable');
      const kopts = subText.lines.find((l) => l.startsWith('kernel_options: '));
      assert.ok(kopts, subText.stdout);
      for (const part of ["'console': 'ttyS0'", "'a': '1'", "'shared': 'profile'", "'quiet': '~'", "'d': '4'", "'debug': '1'"]) {
        assert.ok(kopts.includes(part), `${kopts} should contain ${part}`);
      }
      assert.ok(!kopts.includes("'s': "), `a profile's variables hold no system options: ${kopts}`);
    });

    it('remove: a profile with systems refuses without --recursive and takes them along with it; other types', async () => {
      const refused = await cli('profile', 'remove', '--name', 'node-renamed');
      failedWithOneLine(refused, 1, 'profile remove without --recursive');
      await Promise.all([mustGet('profile', 'node-renamed'), mustGet('profile', 'node-debug'), mustGet('system', 'n1')]);

      const rs = await Promise.all([
        cli('profile', 'remove', '--name', 'node-renamed', '--recursive'),
        cli('image', 'remove', '--name', 'rescue-renamed'),
        cli('repo', 'remove', '--name', 'deb12-main-copy'),
        cli('menu', 'remove', '--name', 'main-renamed', '--recursive'),
        cli('distro', 'remove', '--name', 'deb12-copy'),
      ]);
      rs.forEach((r, i) => succeeded(r, `remove #${i}`));
      await Promise.all([
        mustBeGone('profile', 'node-renamed'), mustBeGone('profile', 'node-debug'), mustBeGone('system', 'n1'),
        mustBeGone('image', 'rescue-renamed'), mustBeGone('repo', 'deb12-main-copy'), mustBeGone('menu', 'main-renamed'),
        mustBeGone('menu', 'main-tools'), mustBeGone('distro', 'deb12-copy'),
        mustGet('profile', 'node-copy'), mustGet('distro', 'deb12'), mustGet('repo', 'deb12-main'),
      ]);
    });
  });

  describe('API writes, CLI reads', () => {
    it('list prints every type sorted, including what the API created', async () => {
      const types = ['system', 'profile', 'distro', 'image', 'repo', 'menu'] as const;
      const rs = await Promise.all(types.map((t) => cli(t, 'list')));
      for (const [i, t] of types.entries()) {
        const r = rs[i] as CliResult;
        succeeded(r, `${t} list`);
        assert.deepEqual(r.lines, [...await names(t)].sort(), `${t} list: every name, sorted`);
      }
      const systems = (rs[0] as CliResult).lines;
      assert.deepEqual(systems.filter((n) => n in API_MACS), ['db-1', 'web-10', 'web-2'], 'created as web-10, db-1, web-2');
      assert.ok((rs[1] as CliResult).lines.includes('api-profile'));
      assert.ok((rs[2] as CliResult).lines.includes('lucid-i386'));
      assert.ok((rs[3] as CliResult).lines.includes('api-image'));
      assert.ok((rs[5] as CliResult).lines.includes('api-menu'));
    });

    it('find (MAC, glob, profile) and report (text, JSON) show API-created systems', async () => {
      const [byMac, byGlob, byProfile, text, json] = await Promise.all([
        cli('system', 'find', '--mac-address', API_MACS['web-2']),
        cli('system', 'find', '--name', 'web-*'),
        cli('system', 'find', '--profile', 'api-profile'),
        cli('system', 'report', '--name', 'web-2'),
        cli('system', 'report', '--json'),
      ]) as [CliResult, CliResult, CliResult, CliResult, CliResult];
      for (const r of [byMac, byGlob, byProfile, text, json]) succeeded(r, 'read command');
      assert.deepEqual(byMac.lines, ['web-2']);
      assert.deepEqual(byGlob.lines, ['web-10', 'web-2']);
      assert.deepEqual(byProfile.lines, ['db-1', 'web-10', 'web-2']);
      for (const re of [reportLine('Name', 'web-2'), reportLine('Profile', 'api-profile'), reportLine('Hostname', 'web-2.lab'),
        reportLine('Interface =====', 'eth0'), reportLine('MAC Address', API_MACS['web-2'])]) {
        assert.ok(text.lines.some((l) => re.test(l)), `no line matching ${re}\n${text.stdout}`);
      }
      const all = JSON.parse(json.stdout) as Item[];
      for (const [name, mac] of Object.entries(API_MACS)) {
        const s = all.find((x) => x['name'] === name);
        assert.ok(s, `${name} in system report --json`);
        assert.equal(s['interfaces'].eth0.mac_address, mac);
        assert.equal(s['profile'], 'api-profile');
      }
    });
  });

  describe('errors', () => {
    it('a fault is one `rackforge:` line and exit 1, and nothing is written', async () => {
      const original = await mustGet('distro', 'lucid-i386');
      const [badMac, dupMac, overwrite, missingRef] = await Promise.all([
        cli('system', 'add', '--name', 'bad-mac', '--profile', 'api-profile', '--interface', 'eth0', '--mac-address', 'not-a-mac'),
        cli('system', 'add', '--name', 'dup-mac', '--profile', 'api-profile', '--interface', 'eth0', '--mac-address', API_MACS['web-2']),
        cli('distro', 'add', '--name', 'lucid-i386', '--kernel', '/srv/other/linux', '--initrd', '/srv/other/initrd.gz'),
        cli('system', 'add', '--name', 'orphan', '--profile', 'no-such-profile'),
      ]) as [CliResult, CliResult, CliResult, CliResult];
      assert.match(failedWithOneLine(badMac, 1, 'bad MAC'), /not-a-mac/);
      assert.match(failedWithOneLine(dupMac, 1, 'duplicate MAC'), new RegExp(API_MACS['web-2']));
      failedWithOneLine(overwrite, 1, 'add over an existing distro');
      assert.match(failedWithOneLine(missingRef, 1, 'unknown profile'), /no-such-profile/);
      await Promise.all([mustBeGone('system', 'bad-mac'), mustBeGone('system', 'dup-mac'), mustBeGone('system', 'orphan')]);
      const unchanged = await mustGet('distro', 'lucid-i386');
      assert.equal(unchanged['kernel'], original['kernel']);
      assert.equal(unchanged['mtime'], original['mtime']);
    });

    it('an unknown option is exit 2 before anything is sent', async () => {
      const r = await cli('system', 'add', '--name', 'typo', '--profile', 'api-profile', '--mac-adress', '52:54:00:ff:00:01');
      assert.match(failedWithOneLine(r, 2, 'unknown option'), /--mac-adress/);
      await mustBeGone('system', 'typo');
    });

    it('server down, missing credentials, wrong password: exit 1 with one line that says why', async () => {
      const downPort = await freePort();
      const downUrl = `http://127.0.0.1:${downPort}/cobbler_api`;
      const wrong = 'Wrong-pw-5512';
      const [down, noCreds, wrongEnv, wrongFlag] = await Promise.all([
        runCli(['distro', 'list'], env({ RACKFORGE_SERVER: `http://127.0.0.1:${downPort}` })),
        runCli(['distro', 'add', '--name', 'no-creds', '--kernel', '/k', '--initrd', '/i'], env({ RACKFORGE_PASSWORD: undefined })),
        runCli(['distro', 'add', '--name', 'wrong-pw', '--kernel', '/k', '--initrd', '/i'], env({ RACKFORGE_PASSWORD: wrong })),
        runCli(['--password', wrong, 'distro', 'add', '--name', 'wrong-pw-flag', '--kernel', '/k', '--initrd', '/i'], env({ RACKFORGE_PASSWORD: undefined })),
      ]);
      assert.ok(failedWithOneLine(down, 1, 'server down').includes(downUrl), `names ${downUrl}: ${down.stderr}`);
      const noCredsLine = failedWithOneLine(noCreds, 1, 'no credentials');
      assert.match(noCredsLine, /RACKFORGE_PASSWORD/);
      assert.ok(noCredsLine.includes(join(emptyDataHome, 'rackforge', 'web.ss')), `names the web.ss it looked for: ${noCredsLine}`);
      for (const [r, what] of [[wrongEnv, 'wrong RACKFORGE_PASSWORD'], [wrongFlag, 'wrong --password']] as const) {
        const line = failedWithOneLine(r, 1, what);
        assert.ok(!line.includes(wrong), `${what}: the message must not contain the password: ${line}`);
      }
      await Promise.all([mustBeGone('distro', 'no-creds'), mustBeGone('distro', 'wrong-pw'), mustBeGone('distro', 'wrong-pw-flag')]);
    });
  });

  describe('shared-secret login (RACKFORGE_DATA / --data, no password)', () => {
    it('web.ss is mode 0600, and writes work with it through RACKFORGE_DATA and through --data', async () => {
      const ss = join(dataDir, 'web.ss');
      assert.equal(statSync(ss).mode & 0o777, 0o600);
      assert.notEqual(readFileSync(ss, 'utf8').trim(), '');
      const [viaEnv, viaFlag] = await Promise.all([
        runCli(['distro', 'edit', '--name', 'lucid-i386', '--comment', 'edited via web.ss'], env({ RACKFORGE_PASSWORD: undefined, RACKFORGE_DATA: dataDir })),
        runCli(['--data', dataDir, 'menu', 'add', '--name', 'ss-menu', '--display-name', 'Via --data'], env({ RACKFORGE_PASSWORD: undefined })),
      ]);
      succeeded(viaEnv, 'write with RACKFORGE_DATA');
      succeeded(viaFlag, 'write with --data');
      assert.equal((await mustGet('distro', 'lucid-i386'))['comment'], 'edited via web.ss');
      assert.equal((await mustGet('menu', 'ss-menu'))['display_name'], 'Via --data');
    });
  });

  describe('version and sync', () => {
    it('version (and --version) print the client and API versions; sync waits and prints the task result', async () => {
      const [version, versionFlag, sync] = await Promise.all([cli('version'), cli('--version'), cli('sync')]) as [CliResult, CliResult, CliResult];
      const ev = await rpc(api, 'extended_version') as Item;
      for (const r of [version, versionFlag]) {
        succeeded(r, 'version');
        assert.deepEqual(r.lines, [`rackforge ${PKG_VERSION} (Cobbler API ${ev['version']})`]);
      }
      succeeded(sync, 'sync');
      const m = /^task started: (\S+)$/.exec(sync.lines[0] ?? '');
      assert.ok(m, sync.stdout);
      const checked = (await names('profile')).length + (await names('image')).length + (await names('system')).length;
      assert.ok(sync.lines.includes(`checked ${checked} objects`), `the task log is printed\n${sync.stdout}`);
      assert.equal(sync.lines.at(-1), '*** TASK COMPLETE ***');
      const status = await rpc(api, 'get_task_status', m[1] as string) as XmlRpcValue[];
      assert.equal(status[2], 'complete');
    });
  });
});
