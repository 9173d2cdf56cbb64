// Replays, with Debian's python3 and nothing but xmlrpc.client / http.client, of the call
// sequences real Cobbler clients make (research note §1.5.2-§1.5.5), plus wire details checked
// on the raw HTTP answers. Each script in test/python/ records every call as a step (value,
// Fault or client error) and prints them as JSON; the assertions on Cobbler 3.3.7's answers live here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, PYTHON, rpc, seedProfile, startTestServer, type TestServer } from './helpers/provisioner.ts';
import { seedInventoryTree } from './ansible/inventory-tree.ts';

const PY_DIR = join(dirname(fileURLToPath(import.meta.url)), 'python');
const CX = "<class 'cobbler.cexceptions.CX'>:";
const PROFILE = 'lucid-i386-juju';

interface Step { ok?: any; fault?: { code: number; string: string }; error?: string }
type Steps = Record<string, Step>;

function runReplay(script: string, apiUrl: string, ...args: string[]): Promise<Steps> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [join(PY_DIR, script), apiUrl, ...args], { timeout: 120_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${script} failed: ${err.message}\n${stderr}`));
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last).steps as Steps);
        } catch {
          reject(new Error(`${script}: no JSON result\n${stdout}\n${stderr}`));
        }
      });
  });
}

const show = (s: Step | undefined) => (s === undefined ? 'no such step (an earlier call failed?)'
  : s.fault ? `Fault ${s.fault.code}: ${s.fault.string}` : s.error ? `client error ${s.error}` : `value ${JSON.stringify(s.ok)}`);

/** The value of a step that must have succeeded. */
function ok(steps: Steps, name: string): any {
  const s = steps[name];
  // assert.fail, not assert.ok: mocha cuts messages of the form "x: expected ..." down to "x".
  if (!s || !('ok' in s)) assert.fail(`step ${name} should have answered a value but gave ${show(s)}`);
  return s.ok;
}

/** The fault of a step that must have faulted. */
function faulted(steps: Steps, name: string): { code: number; string: string } {
  const s = steps[name];
  if (!s?.fault) assert.fail(`step ${name} should have faulted but gave ${show(s)}`);
  assert.equal(s.fault.code, 1, `${name}: Cobbler's faultCode is always 1`);
  return s.fault;
}

const withPrefix = (steps: Steps, prefix: string) => Object.keys(steps).filter((k) => k.startsWith(prefix)).sort();

async function freshServer(): Promise<{ srv: TestServer; token: string }> {
  const srv = await startTestServer();
  const token = await rpc(srv.apiUrl, 'login', 'cobbler', ADMIN_PASSWORD) as string;
  return { srv, token };
}

describe('python3 client replays', function () {
  this.timeout(120_000);

  describe('Ansible cobbler_system module sequence (§1.5.2)', () => {
    let srv: TestServer;
    let steps: Steps;
    const H = 'system::ans-replay-01';
    before(async () => {
      const s = await freshServer();
      srv = s.srv;
      await seedProfile(srv.apiUrl, s.token, PROFILE);
      steps = await runReplay('ansible_cobbler_system.py', srv.apiUrl, PROFILE);
    });
    after(async () => srv?.stop());

    it('logs in without allow_none and finds nothing before creating', () => {
      assert.equal(ok(steps, 'login').length, 36);
      assert.deepEqual(ok(steps, 'before.find_system'), []);
    });

    it('creates: new_system, modify_system per property, one modify_interface, save_system(handle, token)', () => {
      assert.match(ok(steps, 'create.new_system'), /^___NEW___system::/);
      for (const name of withPrefix(steps, 'create.modify_system.')) assert.equal(ok(steps, name), true, name);
      assert.equal(ok(steps, 'create.modify_interface'), true);
      assert.equal(ok(steps, 'create.save_system'), true);
      const sys = ok(steps, 'create.result').system;
      assert.equal(sys.name, 'ans-replay-01');
      assert.equal(sys.profile, PROFILE);
      assert.deepEqual(sys.kernel_options, { console: 'ttyS0,115200', nomodeset: '1' });
      assert.equal(sys.netboot_enabled, true);
      assert.deepEqual(sys.name_servers, ['10.99.0.53', '10.99.0.54']);
      assert.equal(sys.status, 'testing');
      assert.equal(sys.interfaces.eth0.mac_address, '52:54:00:1a:00:01');
      assert.equal(sys.interfaces.eth0.static, true);
      assert.equal(sys.interfaces.eth0.management, true);
      assert.equal(sys.interfaces.eth1.mac_address, '52:54:00:1a:00:02');
    });

    it('a second identical run finds the system by {"name"} with full dicts and changes nothing', () => {
      assert.equal(ok(steps, 'rerun.get_system_handle(name, token)'), H);
      assert.deepEqual(withPrefix(steps, 'rerun.missing_property.'), [], 'every property key must be in the find_system dict');
      assert.deepEqual(withPrefix(steps, 'rerun.modify'), [], 'values must read back exactly as written');
      assert.deepEqual(withPrefix(steps, 'rerun.save'), []);
      assert.equal(ok(steps, 'rerun.result').changed, false);
    });

    it('updates through get_system_handle(name, token) (community.general 6.x)', () => {
      assert.equal(ok(steps, 'update2.get_system_handle(name, token)'), H);
      // Once anything changed the module re-sends all NIC values in one modify_interface.
      assert.deepEqual(withPrefix(steps, 'update2.modify'), ['update2.modify_interface', 'update2.modify_system.netboot_enabled']);
      assert.equal(ok(steps, 'update2.modify_interface'), true);
      assert.equal(ok(steps, 'update2.modify_system.netboot_enabled'), true);
      assert.equal(ok(steps, 'update2.save_system'), true);
      assert.equal(ok(steps, 'update2.result').system.netboot_enabled, false);
    });

    it('updates through version() then get_system_handle(name) with one argument (newer community.general)', () => {
      const v = ok(steps, 'update1.version');
      assert.equal(v, 3.307);
      assert.equal(ok(steps, 'update1.get_system_handle(name)'), H, '3.307 >= 3.4.0 for packaging.Version, so the one-argument form is sent');
      assert.deepEqual(withPrefix(steps, 'update1.modify'), ['update1.modify_interface']);
      assert.equal(ok(steps, 'update1.save_system'), true);
      const sys = ok(steps, 'update1.result').system;
      assert.equal(sys.interfaces.eth0.ip_address, '10.99.0.32');
      assert.equal(sys.interfaces.eth1.mac_address, '52:54:00:1a:00:02', 'modify_interface merges, it does not replace the NIC set');
    });

    it('modify_system of an attribute a system does not have answers False (hasattr), not a Fault', () => {
      assert.equal(ok(steps, 'unknown_attr.modify_system'), false);
    });

    it('query, absent (twice) and sync', () => {
      assert.equal(ok(steps, 'query.result').system.name, 'ans-replay-01');
      assert.ok(ok(steps, 'queryall.names').includes('ans-replay-01'));
      assert.equal(ok(steps, 'queryall.has_none'), false, 'get_systems() must not carry <nil/>');
      assert.equal(ok(steps, 'absent.remove_system'), true);
      assert.equal(ok(steps, 'absent.result').changed, true);
      assert.deepEqual(ok(steps, 'absent.result').system, {});
      assert.equal(ok(steps, 'absent_again.result').changed, false);
      assert.equal(ok(steps, 'sync'), true);
    });
  });

  describe('Ansible cobbler inventory plugin sequence (§1.5.3)', () => {
    let srv: TestServer;
    let steps: Steps;
    before(async () => {
      const s = await freshServer();
      srv = s.srv;
      await seedInventoryTree(srv.apiUrl, s.token);
      steps = await runReplay('ansible_inventory_plugin.py', srv.apiUrl);
    });
    after(async () => srv?.stop());

    it('answers get_profiles/get_systems with a token in `page`, and without any argument', () => {
      assert.equal(ok(steps, 'get_profiles(token)').length, 2);
      assert.equal(ok(steps, 'get_systems(token)').length, 3);
      assert.equal(ok(steps, 'anon.same_names'), true);
      assert.equal(ok(steps, 'profiles.has_none'), false);
      assert.equal(ok(steps, 'systems.has_none'), false);
      assert.deepEqual(ok(steps, 'missing_keys'), []);
    });

    it('profile parent is "" for a top profile and the parent name for a sub-profile', () => {
      assert.deepEqual(ok(steps, 'profiles.name_parent'), [['juju-web', PROFILE], [PROFILE, '']]);
    });

    it('keeps "<<inherit>>" literal in raw records, and status defaults to ""', () => {
      const raw = ok(steps, 'raw_group_by');
      assert.deepEqual(raw['inv-db01'], { mgmt_classes: '<<inherit>>', owners: '<<inherit>>', status: '' });
      assert.deepEqual(raw['inv-web01'], { mgmt_classes: ['webserver', 'monitored'], owners: ['alice'], status: 'production' });
    });

    it("derives the plugin's groups and hostnames", () => {
      assert.equal(steps['view_error'], undefined, show(steps['view_error']));
      const view = ok(steps, 'view');
      assert.deepEqual(view.edges, [['lucid', 'lucid-i386'], ['lucid-i386', PROFILE], [PROFILE, 'juju-web']]);
      assert.deepEqual(view.hosts, {
        'inv-web01.example.com': { system: 'inv-web01', groups: ['juju-web', 'webserver', 'monitored', 'alice', 'production'] },
        'inv-db01.example.com': { system: 'inv-db01', groups: [PROFILE, ''] },
      });
    });
  });

  describe('Go cobblerclient sequence (§1.5.4)', () => {
    let srv: TestServer;
    let steps: Steps;
    before(async () => {
      const s = await freshServer();
      srv = s.srv;
      await seedProfile(srv.apiUrl, s.token, PROFILE);
      steps = await runReplay('go_cobblerclient.py', srv.apiUrl, PROFILE);
    });
    after(async () => srv?.stop());

    it('extended_version gives version 3.3.7 and the tuple the client keys its arities on', () => {
      const ev = ok(steps, 'extended_version');
      assert.equal(ev.version, '3.3.7');
      assert.deepEqual(ev.version_tuple, [3, 3, 7]);
      for (const k of ['gitdate', 'gitstamp', 'builddate']) assert.equal(typeof ev[k], 'string', k);
    });

    it('CreateSystem: "~" first, every field (with "<<inherit>>" values) answers True, save "new", read back raw', () => {
      assert.equal(ok(steps, 'create.get_system(before)'), '~');
      assert.deepEqual(ok(steps, 'create.modify_answers_not_true'), [],
        `modify_system answers: ${withPrefix(steps, 'create.modify_system.').filter((k) => steps[k]!.ok !== true).map((k) => `${k} -> ${show(steps[k])}`).join('; ')}`);
      assert.equal(ok(steps, 'create.save_system(new)'), true);
      assert.equal(ok(steps, 'create.get_system(after)').name, 'go-node');
      // Raw get_system returns each field as written ([sent, got]), except where Cobbler 3.3's own
      // setters convert "<<inherit>>": System.enable_ipxe runs input_boolean (-> False) and
      // validate.validate_virt_cpus maps it to 0.
      assert.deepEqual(ok(steps, 'create.field_mismatches'), { enable_ipxe: ['<<inherit>>', false], virt_cpus: ['<<inherit>>', 0] });
      const resolved = ok(steps, 'create.get_system(resolved)');
      assert.notEqual(resolved.kernel_options_post, '<<inherit>>', 'resolved=True resolves inherited values');
      assert.ok(Array.isArray(resolved.owners), `resolved owners: ${JSON.stringify(resolved.owners)}`);
    });

    it('save_system(handle, token, "new") refuses a name that exists', () => {
      const f = faulted(steps, 'dup.save_system(new)');
      assert.ok(f.string.startsWith(CX), f.string);
      assert.match(f.string, /already exists/);
    });

    it('CreateInterface with underscore keys (mac_address-eth0 ...), then delete_interface and rename_interface', () => {
      assert.equal(ok(steps, 'nic.eth0.get_item_handle'), 'system::go-node');
      assert.equal(ok(steps, 'nic.eth0.modify_interface'), true);
      assert.equal(ok(steps, 'nic.eth1.modify_interface'), true);
      const nics = ok(steps, 'nic.get_system').interfaces;
      assert.deepEqual(Object.keys(nics).sort(), ['eth0', 'eth1']);
      assert.equal(nics.eth0.mac_address, '52:54:00:60:00:01');
      assert.equal(nics.eth0.ip_address, '10.99.0.41');
      assert.equal(nics.eth0.dns_name, 'go-node-eth0.example.com');
      assert.equal(nics.eth0.netmask, '255.255.255.0');
      assert.equal(nics.eth0.management, true);
      assert.equal(nics.eth0.static, true);
      assert.equal(nics.eth0.interface_type, 'na');
      assert.equal(nics.eth1.management, false);
      assert.equal(ok(steps, 'delete_interface.modify_system'), true);
      assert.deepEqual(Object.keys(ok(steps, 'delete_interface.get_system').interfaces), ['eth0']);
      assert.equal(ok(steps, 'rename_interface.modify_system'), true);
      const renamed = ok(steps, 'rename_interface.get_system').interfaces;
      assert.deepEqual(Object.keys(renamed), ['eth2']);
      assert.equal(renamed.eth2.mac_address, '52:54:00:60:00:01');
    });

    it('find_system (names / expanded), get_systems("", token), find_items, get_systems_since', () => {
      assert.deepEqual(ok(steps, 'find_system(names)'), ['go-node']);
      const byMac = ok(steps, 'find_system(mac,expand)');
      assert.equal(byMac.length, 1);
      assert.equal(byMac[0].name, 'go-node');
      assert.ok(ok(steps, 'get_systems').some((s: any) => s.name === 'go-node'));
      assert.deepEqual(ok(steps, 'find_items'), ['go-node', 'go-node-b', 'go-node-c']);
      assert.deepEqual(ok(steps, 'get_systems_since(t0)').map((s: any) => s.name).sort(), ['go-node', 'go-node-b', 'go-node-c']);
      assert.deepEqual(ok(steps, 'get_systems_since(future)'), []);
    });

    it('find_items_paged: items and pageinfo as Cobbler computes them (start_item 0-based)', () => {
      const p1 = ok(steps, 'find_items_paged.p1');
      assert.deepEqual(p1.items.map((s: any) => s.name), ['go-node', 'go-node-b']);
      const { prev_page: prev1, ...info1 } = p1.pageinfo;
      assert.ok(prev1 === -1 || prev1 === '~', `prev_page on page 1: ${JSON.stringify(prev1)}`);
      assert.deepEqual(info1, {
        page: 1, next_page: 2, pages: [1, 2], num_pages: 2, num_items: 3, start_item: 0, end_item: 2,
        items_per_page: 2, items_per_page_list: [10, 20, 50, 100, 200, 500],
      });
      const p2 = ok(steps, 'find_items_paged.p2');
      assert.deepEqual(p2.items.map((s: any) => s.name), ['go-node-c']);
      const { next_page: next2, ...info2 } = p2.pageinfo;
      assert.ok(next2 === -1 || next2 === '~', `next_page on the last page: ${JSON.stringify(next2)}`);
      assert.deepEqual(info2, {
        page: 2, prev_page: 1, pages: [1, 2], num_pages: 2, num_items: 3, start_item: 2, end_item: 3,
        items_per_page: 2, items_per_page_list: [10, 20, 50, 100, 200, 500],
      });
    });

    it('copy (MAC, IP and DNS name cleared on the copy), rename, remove by name', () => {
      assert.equal(ok(steps, 'copy.copy_system'), true);
      const copy = ok(steps, 'copy.get_system');
      assert.equal(copy.name, 'go-node-copy');
      assert.notEqual(copy.uid, ok(steps, 'create.get_system(after)').uid);
      assert.deepEqual(
        [copy.interfaces.eth2?.mac_address, copy.interfaces.eth2?.ip_address, copy.interfaces.eth2?.dns_name], ['', '', '']);
      assert.equal(ok(steps, 'rename.get_system_handle'), 'system::go-node-copy');
      assert.equal(ok(steps, 'rename.rename_system'), true);
      assert.equal(ok(steps, 'rename.get_system(old)'), '~');
      assert.equal(ok(steps, 'rename.get_system(new)').name, 'go-node-renamed');
      assert.equal(ok(steps, 'remove.remove_system'), true);
      assert.equal(ok(steps, 'remove.get_system'), '~');
      assert.equal(ok(steps, 'remove_all.go-node'), true);
    });

    it('background_sync: event id, get_task_status polled to complete, get_events, get_event_log', () => {
      assert.equal(ok(steps, 'background_sync.id_shape'), true, `event id ${JSON.stringify(steps['background_sync'])}`);
      const st = ok(steps, 'background_sync.final_status');
      assert.ok(Array.isArray(st) && st.length === 4, `get_task_status: ${JSON.stringify(st)}`);
      assert.equal(typeof st[0], 'number');
      assert.equal(typeof st[1], 'string');
      assert.equal(st[2], 'complete');
      assert.ok(Array.isArray(st[3]));
      assert.equal(ok(steps, 'get_events.has_sync'), true);
      assert.equal(ok(steps, 'get_events.entry')[2], 'complete');
      const log = ok(steps, 'get_event_log');
      assert.equal(typeof log, 'string');
      assert.match(log, /### TASK COMPLETE ###/);
      assert.equal(ok(steps, 'get_event_log(unknown)'), '?');
      assert.equal(faulted(steps, 'get_task_status(unknown)').string, `${CX}'no event with that id'`);
      assert.equal(ok(steps, 'background_syncsystems.final_status')?.[2], 'complete');
    });
  });

  describe("Cobbler's own tests/xmlrpcapi/system_test.py, over the wire (§1.5.5)", () => {
    let srv: TestServer;
    let steps: Steps;
    before(async () => {
      srv = (await freshServer()).srv;
      steps = await runReplay('cobbler_xmlrpcapi_system.py', srv.apiUrl);
    });
    after(async () => srv?.stop());

    it('test_get_systems: [] on an empty server; test_find_system: [] for a missing name', () => {
      assert.deepEqual(ok(steps, 'test_get_systems'), []);
      assert.deepEqual(ok(steps, 'test_find_system'), []);
    });

    it('fixtures: distro, menu, profile (with menu), autoinstall templates', () => {
      const bad = withPrefix(steps, 'fixture.').filter((k) => !('ok' in steps[k]!)).map((k) => `${k}: ${show(steps[k])}`);
      assert.deepEqual(bad, []);
    });

    it('test_create_system_positive: every listed value is accepted (True)', () => {
      const cases = withPrefix(steps, 'positive.').filter((k) => !k.endsWith('.new_system'));
      assert.ok(cases.length > 60, `only ${cases.length} cases ran`);
      const bad = cases.filter((k) => steps[k]!.ok !== true).map((k) => `${k}: ${show(steps[k])}`);
      assert.deepEqual(bad, []);
      assert.deepEqual(ok(steps, 'setup_faults'), []);
    });

    it('test_create_system_negative: every listed value is a Fault', () => {
      const cases = withPrefix(steps, 'negative.').filter((k) => !k.endsWith('.new_system'));
      assert.equal(cases.length, 9);
      const bad = cases.filter((k) => steps[k]!.fault?.code !== 1).map((k) => `${k}: ${show(steps[k])}`);
      assert.deepEqual(bad, []);
    });

    it('interfaces: add, delete_interface {"interface": ...}, rename_interface; the new_system handle stays usable after save', () => {
      assert.equal(ok(steps, 'add_interface.modify_interface'), true);
      assert.equal(ok(steps, 'add_interface.get_system').interfaces?.eth0?.mac_address, 'aa:bb:cc:dd:ee:ff');
      assert.equal(ok(steps, 'remove_interface.delete_interface'), true);
      assert.equal(ok(steps, 'remove_interface.save_system(2)'), true);
      assert.equal(ok(steps, 'remove_interface.get_system').interfaces?.eth0, undefined);
      assert.equal(ok(steps, 'rename_interface.rename_interface'), true);
      const nics = ok(steps, 'rename_interface.get_system').interfaces;
      assert.equal(nics?.eth0, undefined);
      assert.equal(nics?.eth_new?.mac_address, 'aa:bb:cc:dd:ee:ff');
    });

    it('test_copy_system, test_rename_system, test_remove_system (removing a missing name is True)', () => {
      assert.equal(ok(steps, 'copy.copy_system'), true);
      assert.equal(ok(steps, 'copy.cleanup(typo name)'), true);
      assert.equal(ok(steps, 'rename.rename_system'), true);
      assert.equal(ok(steps, 'rename.get_system(old)'), '~');
      assert.equal(ok(steps, 'rename.cleanup'), true);
      assert.equal(ok(steps, 'test_remove_system'), true);
      assert.deepEqual(ok(steps, 'teardown_faults'), [], 'remove_testsystem runs after every test, existing or not');
    });

    it('test_get_repo_config_for_system answers (any string), and cleanup leaves no system', () => {
      assert.equal(typeof ok(steps, 'test_get_repo_config_for_system'), 'string');
      assert.deepEqual(ok(steps, 'after.get_systems'), []);
      for (const k of withPrefix(steps, 'cleanup.')) assert.equal(ok(steps, k), true, k);
    });
  });

  describe('wire details (raw HTTP from python3)', () => {
    let srv: TestServer;
    let steps: Steps;
    before(async () => {
      srv = (await freshServer()).srv;
      steps = await runReplay('wire_details.py', srv.apiUrl);
    });
    after(async () => srv?.stop());

    const raw = (name: string) => ok(steps, name) as { http_status: number; content_type: string; body: string; value: any; fault: any };

    it('failed login: HTTP 200 text/xml fault, faultCode <int>1</int>, CX repr faultString', () => {
      const r = raw('login_failed');
      assert.equal(r.http_status, 200);
      assert.match(r.content_type, /^text\/xml/);
      assert.match(r.body, /<name>faultCode<\/name>\s*<value><int>1<\/int><\/value>/);
      assert.deepEqual(r.fault, { code: 1, string: `${CX}'login failed (cobbler)'` });
      assert.equal(faulted(steps, 'py.login_failed').string, `${CX}'login failed (cobbler)'`);
    });

    it('unknown and private methods: CX faults with repr quoting', () => {
      assert.deepEqual(raw('unknown_method').fault, { code: 1, string: `${CX}"unknown remote method 'no_such_method'"` });
      assert.deepEqual(raw('private_method').fault, { code: 1, string: `${CX}'forbidden method'` });
    });

    it('get_system of a missing name is the string "~"', () => {
      const r = raw('get_system_missing');
      assert.equal(r.value, '~');
      assert.match(r.body, /<string>~<\/string>/);
      assert.doesNotMatch(r.body, /<nil\/>/);
      assert.equal(ok(steps, 'py.get_system_missing'), '~');
      assert.equal(raw('untyped_string').value, '~', 'an untyped <value>text</value> is a string');
    });

    it('login gives a 36-character token; version() is the double 3.307; ping is <boolean>1</boolean>', () => {
      assert.equal(raw('login_ok').value.length, 36);
      assert.equal(ok(steps, 'py.token_len'), 36);
      assert.match(raw('version').body, /<double>3\.307<\/double>/);
      assert.equal(raw('version').value, 3.307);
      assert.equal(ok(steps, 'py.version'), 3.307);
      assert.equal(ok(steps, 'py.version_type'), 'float');
      assert.match(raw('ping').body, /<boolean>1<\/boolean>/);
    });

    it('an invalid token on a write and a wrong arity are faults with code 1', () => {
      const t = raw('invalid_token').fault;
      assert.equal(t?.code, 1);
      assert.ok(t.string.startsWith(CX) && /invalid token/.test(t.string), t.string);
      const a = raw('arity').fault;
      assert.equal(a?.code, 1);
      assert.ok(a.string.startsWith("<class 'TypeError'>:") && /positional argument/.test(a.string), a.string);
    });

    it('accepts <nil/>, empty <value/> and <i4> parameters', () => {
      assert.equal(raw('nil_param').fault, null, JSON.stringify(raw('nil_param').fault));
      assert.ok(Array.isArray(raw('nil_param').value));
      assert.equal(raw('empty_value_param').fault, null, JSON.stringify(raw('empty_value_param').fault));
      assert.ok(Array.isArray(raw('empty_value_param').value));
      assert.equal(raw('i4_params').fault, null, JSON.stringify(raw('i4_params').fault));
      assert.equal(raw('i4_params').value.pageinfo.items_per_page, 5);
    });

    it('system.multicall: one result per call, a fault struct in place for the failing one', () => {
      assert.deepEqual(ok(steps, 'multicall.iterated'), [
        { ok: 3.307 }, { ok: true }, { ok: '~' }, { fault: { code: 1, string: `${CX}'login failed (cobbler)'` } },
      ]);
      assert.deepEqual(raw('multicall.raw').value, [[3.307], { faultCode: 1, faultString: `${CX}'login failed (cobbler)'` }, [true]]);
    });

    it('system.listMethods lists the API, without private names', () => {
      const names = ok(steps, 'listMethods') as string[];
      for (const m of ['login', 'version', 'extended_version', 'find_system', 'get_system', 'get_system_handle', 'new_system',
        'modify_system', 'save_system', 'remove_system', 'get_systems', 'get_profiles', 'sync', 'background_sync', 'get_task_status']) {
        assert.ok(names.includes(m), `listMethods lacks ${m}`);
      }
      assert.deepEqual(names.filter((n) => n.startsWith('_')), []);
      assert.deepEqual(names, [...names].sort(), 'sorted, as SimpleXMLRPCServer lists them');
    });
  });
});
