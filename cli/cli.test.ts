// The client commands against a small real XML-RPC server on 127.0.0.1: each command must
// send exactly the calls Cobbler 3.3.7's CLI sends (research note §1.5.1) and print the
// expected text; every failure must be one stderr line with the right exit code.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeMethodCall, encodeFault, encodeMethodResponse, type Fault, type XmlRpcValue,
} from '../provisioner/protocol/xmlrpc.ts';
import { main } from './main.ts';

const TOKEN = 'TOKEN-abcdefghijklmnopqrstuvwxyz0123';
const SECRET = 'shared-secret-from-web-ss';
const CX = (msg: string): Fault => ({ faultCode: 1, faultString: `<class 'cobbler.cexceptions.CX'>:'${msg}'` });

type Call = { method: string; params: XmlRpcValue[] };
type Handler = (params: XmlRpcValue[]) => XmlRpcValue | Fault | { status: number };

/** Answers from a table of handlers and records every call it receives. */
class FakeCobbler {
  readonly calls: Call[] = [];
  handlers: Record<string, Handler> = {};
  private server: Server | undefined;
  url = '';
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/cobbler_api') {
          res.writeHead(404).end();
          return;
        }
        const call = decodeMethodCall(Buffer.concat(chunks));
        this.calls.push({ method: call.methodName, params: call.params });
        const handler = this.handlers[call.methodName];
        const answer = handler ? handler(call.params) : CX(`unknown remote method '${call.methodName}'`);
        if (answer && typeof answer === 'object' && 'status' in answer && typeof answer.status === 'number') {
          res.writeHead(answer.status, { 'content-type': 'text/plain' }).end('broken');
          return;
        }
        const body = answer && typeof answer === 'object' && 'faultString' in answer
          ? encodeFault(answer as Fault)
          : encodeMethodResponse(answer as XmlRpcValue);
        res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
      });
    });
    await new Promise<void>((r) => (this.server as Server).listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/cobbler_api`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const SYSTEM_N1: XmlRpcValue = {
  name: 'n1', profile: 'p1', hostname: 'n1.lab', netboot_enabled: true, kernel_options: { quiet: '~', console: 'ttyS0' },
  boot_loaders: '<<inherit>>', mgmt_classes: [], owners: ['admin'], comment: '', uid: 'u1', ctime: 1.5, mtime: 2.5,
  interfaces: {
    eth1: { mac_address: '', ip_address: '', static: false },
    eth0: { mac_address: 'aa:bb:cc:dd:ee:ff', ip_address: '10.0.0.5', netmask: '255.255.255.0', static: true, cnames: ['a', 'b'] },
  },
};

describe('rackforge CLI against an XML-RPC server', () => {
  const fake = new FakeCobbler();
  let data = '';

  before(() => fake.start());
  after(() => fake.stop());
  beforeEach(() => {
    fake.calls.length = 0;
    fake.handlers = {
      login: () => TOKEN,
      xapi_object_edit: () => true,
      get_item_names: () => ['web2', 'db1', 'web10'],
      get_item: (p) => (p[1] === 'n1' ? SYSTEM_N1 : '~'),
      get_items: () => [SYSTEM_N1, { ...(SYSTEM_N1 as Record<string, XmlRpcValue>), name: 'n2', interfaces: {} }],
      find_items: () => ['n1', 'n2'],
      get_blended_data: () => ({ zeta: 'z', alpha: ['x', 'y'], kernel_options: { quiet: '~' }, netboot_enabled: true }),
      extended_version: () => ({ gitdate: '?', gitstamp: '?', builddate: '?', version: '3.3.7', version_tuple: [3, 3, 7] }),
    };
    data = mkdtempSync(join(tmpdir(), 'rackforge-cli-'));
    writeFileSync(join(data, 'web.ss'), SECRET + '\n');
  });
  afterEach(() => rmSync(data, { recursive: true, force: true }));

  async function run(argv: string[], env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: { RACKFORGE_SERVER: fake.url, RACKFORGE_DATA: data, HOME: data, ...env },
      sleep: async () => {},
    });
    return { code, out, err };
  }
  const methods = () => fake.calls.map((c) => c.method);

  describe('writes', () => {
    it('system add logs in with the shared secret, then sends one xapi_object_edit with string values', async () => {
      const r = await run(['system', 'add', '--name=n1', '--profile', 'p1', '--interface=eth0', '--mac-address', 'aa:bb:cc:dd:ee:ff',
        '--ip-address=10.0.0.5', '--netboot-enabled=true', '--hostname', 'n1.lab', '--power-type', 'ipmilanplus', '--serial-device', '-1']);
      assert.deepEqual(r, { code: 0, out: [], err: [] });
      assert.deepEqual(fake.calls, [
        { method: 'login', params: ['', SECRET] },
        {
          method: 'xapi_object_edit',
          params: ['system', 'n1', 'add', {
            hostname: 'n1.lab', interface: 'eth0', ip_address: '10.0.0.5', mac_address: 'aa:bb:cc:dd:ee:ff', name: 'n1',
            netboot_enabled: 'true', power_type: 'ipmilanplus', profile: 'p1', serial_device: '-1',
          }, TOKEN],
        },
      ]);
    });

    it('accepts Cobbler aliases (--mac, --ip, --kopts, --kickstart) under the field names', async () => {
      const r = await run(['system', 'add', '--name', 'n1', '--profile', 'p1', '--mac', 'aa:bb:cc:dd:ee:01', '--ip', '10.0.0.9',
        '--kopts', 'console=ttyS0 quiet', '--kickstart', 'x.ks']);
      assert.equal(r.code, 0, r.err.join('\n'));
      assert.deepEqual(fake.calls[1]?.params[3], {
        autoinstall: 'x.ks', ip_address: '10.0.0.9', kernel_options: 'console=ttyS0 quiet', mac_address: 'aa:bb:cc:dd:ee:01', name: 'n1', profile: 'p1',
      });
    });

    it('system edit --delete-interface sends the flag as a boolean', async () => {
      const r = await run(['system', 'edit', '--name', 'n1', '--interface', 'eth1', '--delete-interface']);
      assert.equal(r.code, 0);
      assert.deepEqual(fake.calls[1], {
        method: 'xapi_object_edit',
        params: ['system', 'n1', 'edit', { delete_interface: true, interface: 'eth1', name: 'n1' }, TOKEN],
      });
    });

    it('edit --in-place passes the dict edit through for the server to merge', async () => {
      const r = await run(['profile', 'edit', '--name', 'p1', '--in-place', '--kernel-options=~foo bar=1']);
      assert.equal(r.code, 0);
      assert.deepEqual(fake.calls[1]?.params, ['profile', 'p1', 'edit', { in_place: true, kernel_options: '~foo bar=1', name: 'p1' }, TOKEN]);
    });

    it('system edit --rename-interface', async () => {
      await run(['system', 'edit', '--name', 'n1', '--interface', 'eth0', '--rename-interface', 'ens3']);
      assert.deepEqual(fake.calls[1]?.params[3], { interface: 'eth0', name: 'n1', rename_interface: 'ens3' });
    });

    it('distro add with kernel, initrd, arch and breed', async () => {
      await run(['distro', 'add', '--name', 'd1', '--kernel', '/k', '--initrd', '/i', '--arch', 'x86_64', '--breed', 'redhat']);
      assert.deepEqual(fake.calls[1]?.params, ['distro', 'd1', 'add', { arch: 'x86_64', breed: 'redhat', initrd: '/i', kernel: '/k', name: 'd1' }, TOKEN]);
    });

    for (const action of ['copy', 'rename'] as const) {
      it(`${action} sends {name, newname}`, async () => {
        const r = await run(['image', action, '--name', 'a', '--newname', 'b']);
        assert.equal(r.code, 0);
        assert.deepEqual(methods(), ['login', 'xapi_object_edit']);
        assert.deepEqual(fake.calls[1]?.params, ['image', 'a', action, { name: 'a', newname: 'b' }, TOKEN]);
      });
    }

    it('remove sends recursive only when asked', async () => {
      await run(['profile', 'remove', '--name', 'p1']);
      await run(['menu', 'remove', '--name', 'm1', '--recursive']);
      assert.deepEqual(fake.calls.filter((c) => c.method === 'xapi_object_edit').map((c) => c.params), [
        ['profile', 'p1', 'remove', { name: 'p1' }, TOKEN],
        ['menu', 'm1', 'remove', { name: 'm1', recursive: true }, TOKEN],
      ]);
    });

    it('a password (environment) logs in as the user instead of using the shared secret', async () => {
      await run(['repo', 'add', '--name', 'r1', '--mirror', 'http://m/'], { RACKFORGE_PASSWORD: 'pw', RACKFORGE_USER: 'alice' });
      assert.deepEqual(fake.calls[0], { method: 'login', params: ['alice', 'pw'] });
    });

    it('--username/--password flags win over the environment and default the user to cobbler', async () => {
      await run(['--password', 'pw1', 'repo', 'remove', '--name', 'r1'], { RACKFORGE_PASSWORD: 'other' });
      await run(['repo', 'remove', '--name', 'r1', '--username=bob', '--password=pw2'], { RACKFORGE_USER: 'alice' });
      assert.deepEqual(fake.calls.filter((c) => c.method === 'login').map((c) => c.params), [['cobbler', 'pw1'], ['bob', 'pw2']]);
    });

    it("system's own --server is the server-override field; the global --server goes before the command", async () => {
      const r = await run(['--server', fake.url, 'system', 'edit', '--name', 'n1', '--server', '10.0.0.1'], { RACKFORGE_SERVER: 'http://127.0.0.1:1/cobbler_api' });
      assert.equal(r.code, 0, r.err.join('\n'));
      assert.deepEqual(fake.calls[1]?.params[3], { name: 'n1', server: '10.0.0.1' });
    });
  });

  describe('reads (no login)', () => {
    it('list prints sorted names from get_item_names', async () => {
      const r = await run(['system', 'list']);
      assert.deepEqual(r, { code: 0, out: ['db1', 'web10', 'web2'], err: [] });
      assert.deepEqual(fake.calls, [{ method: 'get_item_names', params: ['system'] }]);
    });

    it('report --name prints aligned Label : value lines from get_item, interfaces last and sorted', async () => {
      const r = await run(['system', 'report', '--name', 'n1']);
      assert.equal(r.code, 0);
      assert.deepEqual(fake.calls, [{ method: 'get_item', params: ['system', 'n1'] }]);
      assert.equal(r.out[0], 'Name                           : n1');
      assert.ok(r.out.includes('Hostname                       : n1.lab'));
      assert.ok(r.out.includes('Netboot Enabled                : True'));
      assert.ok(r.out.includes("Kernel Options                 : {'quiet': '~', 'console': 'ttyS0'}"));
      assert.ok(r.out.includes('Owners                         : [\'admin\']'));
      assert.ok(r.out.includes('Boot Loaders                   : <<inherit>>'));
      assert.ok(!r.out.some((l) => l.startsWith('Uid') || l.startsWith('Ctime') || l.startsWith('Interfaces')));
      const ifaces = r.out.filter((l) => l.startsWith('Interface ====='));
      assert.deepEqual(ifaces, ['Interface =====                : eth0', 'Interface =====                : eth1']);
      const eth0 = r.out.indexOf(ifaces[0] as string);
      assert.ok(r.out.slice(eth0).includes('MAC Address                    : aa:bb:cc:dd:ee:ff'));
      assert.ok(r.out.slice(eth0).includes("CNAMEs                         : ['a', 'b']"));
      for (const l of r.out) assert.match(l, /^.{30} : /);
    });

    it('report without --name uses get_items and separates items by a blank line', async () => {
      const r = await run(['system', 'report']);
      assert.deepEqual(fake.calls, [{ method: 'get_items', params: ['system'] }]);
      assert.equal(r.out.filter((l) => l.startsWith('Name  ')).length, 2);
      assert.equal(r.out.filter((l) => l === '').length, 1);
    });

    it('report --format json / --json prints the raw value', async () => {
      const one = await run(['system', 'report', '--name', 'n1', '--format', 'json']);
      assert.deepEqual(JSON.parse(one.out.join('\n')), SYSTEM_N1);
      const all = await run(['system', 'report', '--json']);
      assert.equal((JSON.parse(all.out.join('\n')) as unknown[]).length, 2);
    });

    it('report of a missing item is one line and exit 1', async () => {
      const r = await run(['system', 'report', '--name', 'nope']);
      assert.deepEqual(r, { code: 1, out: [], err: ['rackforge: no system found: nope'] });
    });

    it('find sends find_items(type, criteria, "name", false) and prints the names', async () => {
      const r = await run(['system', 'find', '--mac', 'aa:bb:cc:dd:ee:ff', '--profile=p*']);
      assert.deepEqual(r, { code: 0, out: ['n1', 'n2'], err: [] });
      assert.deepEqual(fake.calls, [{ method: 'find_items', params: ['system', { mac_address: 'aa:bb:cc:dd:ee:ff', profile: 'p*' }, 'name', false] }]);
    });

    it('dumpvars asks get_blended_data("", system) or (profile, "") and prints sorted key: value', async () => {
      const r = await run(['system', 'dumpvars', '--name', 'n1']);
      await run(['profile', 'dumpvars', '--name', 'p1']);
      assert.deepEqual(fake.calls, [
        { method: 'get_blended_data', params: ['', 'n1'] },
        { method: 'get_blended_data', params: ['p1', ''] },
      ]);
      assert.deepEqual(r.out, ["alpha: ['x', 'y']", "kernel_options: {'quiet': '~'}", 'netboot_enabled: True', 'zeta: z']);
    });

    it('version prints the client version and the API version', async () => {
      const r = await run(['version']);
      assert.deepEqual(fake.calls, [{ method: 'extended_version', params: [] }]);
      assert.match(r.out[0] ?? '', /^rackforge \d+\.\d+\.\d+\S* \(Cobbler API 3\.3\.7\)$/);
      const again = await run(['--version']);
      assert.deepEqual(again.out, r.out);
    });

    it('accepts the global options after the command, and host:port for --server', async () => {
      const r = await run(['distro', 'list', '--server', `127.0.0.1:${fake.port}`], { RACKFORGE_SERVER: 'http://127.0.0.1:1/x' });
      assert.equal(r.code, 0, r.err.join('\n'));
      assert.deepEqual(methods(), ['get_item_names']);
    });
  });

  describe('sync', () => {
    it('starts background_sync, polls get_task_status until complete, prints the task log', async () => {
      const states = ['running', 'running', 'complete'];
      fake.handlers['background_sync'] = () => '2024-01-01_000000_sync_abc';
      fake.handlers['get_task_status'] = () => [1.5, 'Sync', states.shift() ?? 'complete', []];
      fake.handlers['get_event_log'] = () => 'running sync\nsync done\n';
      const r = await run(['sync']);
      assert.deepEqual(r, {
        code: 0,
        out: ['task started: 2024-01-01_000000_sync_abc', 'running sync', 'sync done', '*** TASK COMPLETE ***'],
        err: [],
      });
      assert.deepEqual(methods(), ['login', 'background_sync', 'get_task_status', 'get_task_status', 'get_task_status', 'get_event_log']);
      assert.deepEqual(fake.calls[1]?.params, [{}, TOKEN]);
      assert.deepEqual(fake.calls[2]?.params, ['2024-01-01_000000_sync_abc']);
    });

    it('exits 1 when the task fails', async () => {
      fake.handlers['background_sync'] = () => 'id1';
      fake.handlers['get_task_status'] = () => [1.5, 'Sync', 'failed', []];
      fake.handlers['get_event_log'] = () => '?';
      const r = await run(['sync', '--verbose', '--dhcp']);
      assert.deepEqual(r.out, ['task started: id1', '!!! TASK FAILED !!!']);
      assert.equal(r.code, 1);
      assert.deepEqual(fake.calls[1]?.params, [{ dhcp: true, verbose: true }, TOKEN]);
    });

    it('--systems uses background_syncsystems with the names (comma-separated or repeated)', async () => {
      fake.handlers['background_syncsystems'] = () => 'id2';
      fake.handlers['get_task_status'] = () => [1.5, 'Sync', 'complete', []];
      fake.handlers['get_event_log'] = () => '';
      const r = await run(['sync', '--systems', 'a,b', '--systems=c', '--verbose']);
      assert.equal(r.code, 0);
      assert.deepEqual(fake.calls[1], { method: 'background_syncsystems', params: [{ systems: ['a', 'b', 'c'], verbose: true }, TOKEN] });
    });
  });

  describe('failures', () => {
    it('a fault is one line without the Python class prefix and quotes, exit 1', async () => {
      fake.handlers['xapi_object_edit'] = () => CX("It seems unwise to overwrite the object n1, try 'edit'");
      const r = await run(['system', 'add', '--name', 'n1', '--profile', 'p1']);
      assert.deepEqual(r, { code: 1, out: [], err: ["rackforge: It seems unwise to overwrite the object n1, try 'edit'"] });
    });

    it('a failed login says so and never prints the password or secret', async () => {
      fake.handlers['login'] = (p) => CX(`login failed (${String(p[0])})`);
      const r = await run(['system', 'remove', '--name', 'n1', '--password', 'hunter2']);
      assert.deepEqual(r, { code: 1, out: [], err: ['rackforge: login failed (cobbler)'] });
      const r2 = await run(['system', 'remove', '--name', 'n1']);
      assert.deepEqual(r2.err, ['rackforge: login failed ()']);
      assert.deepEqual(methods(), ['login', 'login']);
    });

    it('a non-Cobbler fault (TypeError) keeps its message on one line', async () => {
      fake.handlers['get_item_names'] = () => ({ faultCode: 1, faultString: "<class 'TypeError'>:get_item_names() takes 2 positional\narguments" });
      const r = await run(['repo', 'list']);
      assert.deepEqual(r, { code: 1, out: [], err: ['rackforge: get_item_names() takes 2 positional arguments'] });
    });

    it('an HTTP error is one line naming the URL', async () => {
      fake.handlers['get_item_names'] = () => ({ status: 502 });
      const r = await run(['repo', 'list']);
      assert.deepEqual(r, { code: 1, out: [], err: [`rackforge: ${fake.url} answered HTTP 502 to get_item_names`] });
    });

    it('connection refused is one line naming the URL', async () => {
      const dead = new FakeCobbler();
      await dead.start();
      await dead.stop();
      const r = await run(['system', 'list'], { RACKFORGE_SERVER: dead.url });
      assert.deepEqual(r, { code: 1, out: [], err: [`rackforge: cannot reach ${dead.url}: connection refused`] });
    });

    it('a write without password or readable web.ss explains how to authenticate, and calls nothing', async () => {
      rmSync(join(data, 'web.ss'));
      const r = await run(['system', 'add', '--name', 'n1', '--profile', 'p1']);
      assert.equal(r.code, 1);
      assert.equal(r.err.length, 1);
      assert.match(r.err[0] ?? '', /^rackforge: no password given and .*web\.ss does not exist: set RACKFORGE_PASSWORD \(or --password\)/);
      assert.deepEqual(fake.calls, []);
    });

    const usage: Array<[string[], string]> = [
      [['system', 'add', '--name', 'n1', '--foo'], "rackforge: unknown option --foo for 'system add'"],
      [['system', 'add', '--name', 'n1', '--mac_address=x'], "rackforge: unknown option --mac_address for 'system add'"],
      [['distro', 'add', '--name', 'd', '--mac', 'x'], "rackforge: unknown option --mac for 'distro add'"],
      [['system', 'list', '--name', 'x'], "rackforge: unknown option --name for 'system list'"],
      [['system', 'copy', '--name', 'a', '--profile', 'p'], "rackforge: unknown option --profile for 'system copy'"],
      [['system', 'add', '--profile', 'p1'], "rackforge: --name is required for 'system add'"],
      [['system', 'rename', '--name', 'a'], "rackforge: --newname is required for 'system rename'"],
      [['system', 'add', 'n1'], "rackforge: unexpected argument 'n1' for 'system add'"],
      [['system', 'frob'], "rackforge: unknown action 'frob' for 'system' (see 'rackforge system --help')"],
      [['distro', 'dumpvars', '--name', 'd'], "rackforge: unknown action 'dumpvars' for 'distro' (see 'rackforge distro --help')"],
      [['frobnicate'], "rackforge: unknown command 'frobnicate' (see 'rackforge --help')"],
      [['--name', 'x', 'system', 'list'], "rackforge: unknown option --name for 'rackforge'"],
      [['system', 'report', '--format', 'yaml'], "rackforge: option --format for 'system report' must be one of text, json (got 'yaml')"],
      [['--server', 'ftp://x', 'system', 'list'], "rackforge: --server 'ftp://x' must be an http or https URL"],
      [['--server', 'a', 'system', 'list', '--server', 'b'], "rackforge: option --server for 'system list' is given more than once"],
      [['sync', '--systems', ','], "rackforge: --systems needs at least one system name for 'sync'"],
    ];
    for (const [argv, line] of usage) {
      it(`exit 2 for: rackforge ${argv.join(' ')}`, async () => {
        const r = await run(argv);
        assert.deepEqual(r, { code: 2, out: [], err: [line] });
        assert.deepEqual(fake.calls, []);
      });
    }
  });

  describe('help', () => {
    it('prints help at every level with exit 0, and usage with exit 2 when a word is missing', async () => {
      for (const argv of [['--help'], ['help'], ['-h']]) {
        const r = await run(argv);
        assert.equal(r.code, 0);
        assert.match(r.out.join('\n'), /^usage: rackforge \[global options\] <command>/);
      }
      const type = await run(['system', '--help']);
      assert.equal(type.code, 0);
      assert.match(type.out.join('\n'), /rackforge system add +create a system/);
      assert.match(type.out.join('\n'), /rackforge system dumpvars/);
      assert.doesNotMatch((await run(['help', 'distro'])).out.join('\n'), /dumpvars/);
      const add = await run(['system', 'add', '--help']);
      assert.equal(add.code, 0);
      const text = add.out.join('\n');
      assert.match(text, /^usage: rackforge system add --name NAME/);
      assert.match(text, /--mac-address VALUE, --mac +MAC Address/);
      assert.match(text, /--delete-interface/);
      assert.match(text, /global options:\n(?:.*\n)*? {2}--username USER/);
      assert.deepEqual((await run(['help', 'system', 'add'])).out, add.out);
      assert.equal((await run(['sync', '--help'])).code, 0);
      assert.deepEqual(fake.calls, []);

      const bare = await run([]);
      assert.equal(bare.code, 2);
      assert.match(bare.err.join('\n'), /^usage: rackforge/);
      const noAction = await run(['profile']);
      assert.equal(noAction.code, 2);
      assert.match(noAction.err.join('\n'), /^usage: rackforge profile <action>/);
    });
  });
});
