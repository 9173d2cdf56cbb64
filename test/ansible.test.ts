// The real Ansible (Debian's ansible 7.7: ansible-core 2.14, community.general 6.6) against a
// provisioner this test starts on 127.0.0.1: the cobbler_system and cobbler_sync modules through
// ansible-playbook, and the cobbler inventory plugin through ansible-inventory. Results are
// checked through the API as well as through what Ansible reports.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, PYTHON, rpc, startTestServer, type TestServer } from './helpers/provisioner.ts';
import { seedInventoryTree, SUB_PROFILE, TOP_PROFILE } from './ansible/inventory-tree.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const PLAYBOOKS = join(HERE, 'ansible');
const NODE = 'rf-ansible-01';

interface TaskResult { changed?: boolean; failed?: boolean; msg?: string; system?: any; systems?: any[]; [k: string]: unknown }

/** Runs an Ansible CLI; resolves stdout even on a non-zero exit (failures are in the JSON). */
function runAnsible(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : -1) : 0;
      if (err && code === -1) reject(new Error(`${cmd} did not run: ${err.message}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

describe('Ansible community.general against the Cobbler API', function () {
  this.timeout(180_000);
  let srv: TestServer;
  let token: string;
  let work: string;
  let env: Record<string, string>;

  /** Copies a file from test/ansible into the temp dir with the server's coordinates filled in. */
  function materialise(file: string): string {
    const text = readFileSync(join(PLAYBOOKS, file), 'utf8')
      .replaceAll('__COBBLER_PORT__', String(new URL(srv.apiUrl).port))
      .replaceAll('__COBBLER_API_URL__', srv.apiUrl);
    const out = join(work, file);
    writeFileSync(out, text);
    return out;
  }

  /** ansible-playbook with the JSON stdout callback; returns each task's result by task name. */
  async function playbook(file: string): Promise<Map<string, TaskResult>> {
    const run = await runAnsible('/usr/bin/ansible-playbook', ['-i', 'localhost,', materialise(file)], env);
    let doc: any;
    try {
      doc = JSON.parse(run.stdout);
    } catch {
      throw new Error(`${file}: no JSON from ansible-playbook (exit ${run.code})\n${run.stdout}\n${run.stderr}`);
    }
    const tasks = new Map<string, TaskResult>();
    for (const t of doc.plays[0].tasks) tasks.set(t.task.name, t.hosts.localhost);
    for (const [name, r] of tasks) assert.ok(!r.failed, `${file}: task "${name}" failed: ${r.msg ?? JSON.stringify(r)}`);
    assert.equal(run.code, 0, `${file}: exit ${run.code}\n${run.stderr}`);
    return tasks;
  }

  function task(tasks: Map<string, TaskResult>, name: string): TaskResult {
    const r = tasks.get(name);
    assert.ok(r, `task "${name}" missing from the playbook output`);
    return r;
  }

  before(async () => {
    srv = await startTestServer();
    token = await rpc(srv.apiUrl, 'login', 'cobbler', ADMIN_PASSWORD) as string;
    await seedInventoryTree(srv.apiUrl, token);
    work = mkdtempSync(join(tmpdir(), 'rf-ansible-'));
    env = {
      ANSIBLE_HOME: join(work, 'home'),
      ANSIBLE_LOCAL_TEMP: join(work, 'tmp-local'),
      ANSIBLE_REMOTE_TEMP: join(work, 'tmp-remote'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_PYTHON_INTERPRETER: PYTHON,
      ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
      ANSIBLE_DEPRECATION_WARNINGS: 'false',
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
      NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1',
    };
  });
  after(async () => {
    await srv?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('cobbler_system and cobbler_sync (ansible-playbook)', () => {
    it('creates a system with properties and two NICs, then reports no change on the identical task', async () => {
      const tasks = await playbook('system-create.yml');
      const created = task(tasks, 'create');
      assert.equal(created.changed, true, 'first run must report changed');
      assert.equal(created.system?.name, NODE, 'the module returns the system it found after saving');
      const again = task(tasks, 'create again');
      assert.equal(again.changed, false,
        'second identical run must not change anything (some property or NIC value reads back differently from what was written)');

      const sys = await rpc(srv.apiUrl, 'get_system', NODE) as Record<string, any>;
      assert.equal(typeof sys, 'object', `get_system(${NODE}) returned ${JSON.stringify(sys)}`);
      assert.equal(sys.profile, TOP_PROFILE);
      assert.equal(sys.hostname, 'rf-ansible-01.example.com');
      assert.deepEqual(sys.kernel_options, { console: 'ttyS0,115200', nomodeset: '1' });
      assert.equal(sys.netboot_enabled, true);
      assert.deepEqual(sys.name_servers, ['10.99.0.53', '10.99.0.54']);
      assert.equal(sys.comment, 'created by ansible');
      assert.equal(sys.status, 'testing');
      assert.deepEqual(Object.keys(sys.interfaces).sort(), ['eth0', 'eth1']);
      assert.equal(sys.interfaces.eth0.mac_address, '52:54:00:ab:00:01');
      assert.equal(sys.interfaces.eth0.ip_address, '10.99.0.21');
      assert.equal(sys.interfaces.eth0.dns_name, 'rf-ansible-01.example.com');
      assert.equal(sys.interfaces.eth0.netmask, '255.255.255.0');
      assert.equal(sys.interfaces.eth0.static, true);
      assert.equal(sys.interfaces.eth0.management, true);
      assert.equal(sys.interfaces.eth1.mac_address, '52:54:00:ab:00:02');
      // What Ansible returned is the same record the API serves.
      assert.deepEqual(again.system, sys);
    });

    it('changes one property (changed), and answers state=query with and without a name', async () => {
      const tasks = await playbook('system-update.yml');
      const upd = task(tasks, 'disable netboot');
      assert.equal(upd.changed, true);
      assert.equal(upd.system?.netboot_enabled, false);
      const sys = await rpc(srv.apiUrl, 'get_system', NODE) as Record<string, any>;
      assert.equal(sys.netboot_enabled, false);
      assert.equal(sys.hostname, 'rf-ansible-01.example.com', 'fields not named in the task stay as they were');
      assert.equal(sys.interfaces.eth1.mac_address, '52:54:00:ab:00:02');

      const one = task(tasks, 'query one');
      assert.equal(one.changed, false);
      assert.equal(one.system?.name, NODE);
      assert.equal(one.system?.netboot_enabled, false);
      const all = task(tasks, 'query all');
      assert.equal(all.changed, false);
      assert.ok(Array.isArray(all.systems), `state=query without name returns systems: ${JSON.stringify(all)}`);
      assert.deepEqual(all.systems!.map((s: any) => s.name).sort(), ['inv-db01', 'inv-nohost', 'inv-web01', NODE].sort());
    });

    it('removes the system (changed, then not) and syncs', async () => {
      const tasks = await playbook('system-remove.yml');
      const removed = task(tasks, 'remove');
      assert.equal(removed.changed, true);
      assert.deepEqual(removed.system, {}, 'find_system after remove_system finds nothing');
      assert.equal(task(tasks, 'remove again').changed, false);
      assert.equal(task(tasks, 'sync').changed, true);
      assert.equal(await rpc(srv.apiUrl, 'get_system', NODE), '~');
      assert.deepEqual(await rpc(srv.apiUrl, 'find_system', { name: NODE }, token), []);
    });
  });

  describe('cobbler inventory plugin (ansible-inventory)', () => {
    let inv: any;
    before(async () => {
      const run = await runAnsible('/usr/bin/ansible-inventory', ['-i', materialise('cobbler.yml'), '--list'],
        { ...env, COBBLER_USER: 'cobbler', COBBLER_PASSWORD: ADMIN_PASSWORD });
      assert.equal(run.code, 0, `ansible-inventory failed (exit ${run.code})\n${run.stderr}`);
      // A plugin that raises still exits 0: ansible-inventory only warns, so the warnings are the verdict.
      assert.doesNotMatch(run.stderr, /Failed to parse|Unable to parse|No inventory was parsed/, run.stderr);
      inv = JSON.parse(run.stdout);
    });

    const hostsOf = (group: string): string[] => [...(inv[group]?.hosts ?? [])].sort();
    const childrenOf = (group: string): string[] => [...(inv[group]?.children ?? [])].sort();

    it('builds the profile group tree: names split on "-" for top profiles, parent links for sub-profiles', () => {
      assert.ok(childrenOf('all').includes('cobbler_lucid'), `all.children: ${JSON.stringify(childrenOf('all'))}`);
      assert.deepEqual(childrenOf('cobbler_lucid'), ['cobbler_lucid_i386']);
      assert.deepEqual(childrenOf('cobbler_lucid_i386'), ['cobbler_lucid_i386_juju']);
      assert.deepEqual(childrenOf('cobbler_lucid_i386_juju'), [`cobbler_${SUB_PROFILE.replace('-', '_')}`]);
    });

    it('places hosts by hostname (or NIC DNS name) into profile, group_by and site groups; skips unnamed ones', () => {
      assert.deepEqual(hostsOf('cobbler'), ['inv-db01.example.com', 'inv-web01.example.com']);
      assert.deepEqual(hostsOf('cobbler_juju_web'), ['inv-web01.example.com']);
      assert.deepEqual(hostsOf('cobbler_lucid_i386_juju'), ['inv-db01.example.com']);
      assert.deepEqual(hostsOf('cobbler_webserver'), ['inv-web01.example.com']);
      assert.deepEqual(hostsOf('cobbler_monitored'), ['inv-web01.example.com']);
      assert.deepEqual(hostsOf('cobbler_alice'), ['inv-web01.example.com']);
      assert.deepEqual(hostsOf('cobbler_production'), ['inv-web01.example.com']);
      // status "" is not "<<inherit>>": the plugin makes a group of the bare prefix, as with Cobbler.
      assert.deepEqual(hostsOf('cobbler_'), ['inv-db01.example.com']);
      const allHosts = Object.keys(inv._meta.hostvars).sort();
      assert.deepEqual(allHosts, ['inv-db01.example.com', 'inv-web01.example.com'], 'inv-nohost has no usable name and is skipped');
      for (const group of Object.keys(inv)) {
        assert.ok(!/inherit/.test(group), `"<<inherit>>" must never become a group: ${group}`);
      }
    });

    it('with want_facts the whole raw system record is the `cobbler` hostvar', async () => {
      const web = inv._meta.hostvars['inv-web01.example.com'].cobbler;
      const db = inv._meta.hostvars['inv-db01.example.com'].cobbler;
      const webApi = await rpc(srv.apiUrl, 'get_system', 'inv-web01') as Record<string, unknown>;
      assert.deepEqual(web, webApi);
      assert.equal(db.name, 'inv-db01');
      assert.equal(db.owners, '<<inherit>>');
      assert.equal(db.mgmt_classes, '<<inherit>>');
      assert.equal(db.status, '');
      assert.equal(db.interfaces.eth0.ip_address, '10.99.0.62');
    });
  });
});
