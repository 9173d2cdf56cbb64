// kill -9 of a running server in the middle of a stream of saves: after a restart the
// inventory is consistent (every index answers for exactly the stored systems) and nothing
// the API acknowledged before the kill is missing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, CLI_BIN, cleanEnv } from './helpers/cli-processes.ts';
import { rpc } from './helpers/provisioner.ts';

function serve(dataDir: string): Promise<{ child: ChildProcess; api: string; exited: Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, 'serve', '--data', dataDir, '--http-port', '0'], {
      cwd: REPO_ROOT, env: cleanEnv({ RACKFORGE_ADMIN_PASSWORD: 'pw' }), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise((r) => child.once('exit', r));
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, api: `${m[1]}/cobbler_api`, exited }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${out}`)); });
  });
}

const mac = (i: number) => `52:54:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

describe('server killed with SIGKILL during saves', function () {
  this.timeout(120_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'rf-crash-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('restarts consistent, with every acknowledged save present', async () => {
    const acknowledged = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const { child, api, exited } = await serve(dataDir);
      const token = await rpc(api, 'login', 'cobbler', 'pw') as string;
      if (round === 0) {
        const d = await rpc(api, 'new_distro', token) as string;
        for (const [k, v] of [['name', 'd'], ['kernel', '/k'], ['initrd', '/i']]) await rpc(api, 'modify_distro', d, k!, v!, token);
        await rpc(api, 'save_distro', d, token);
        const p = await rpc(api, 'new_profile', token) as string;
        await rpc(api, 'modify_profile', p, 'name', 'p', token);
        await rpc(api, 'modify_profile', p, 'distro', 'd', token);
        await rpc(api, 'save_profile', p, token);
      }
      // Four writers save systems (and rename or remove some) until the kill.
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const n = round * 100_000 + w * 10_000 + i;
          const name = `s${n}`;
          try {
            const h = await rpc(api, 'new_system', token) as string;
            await rpc(api, 'modify_system', h, 'name', name, token);
            await rpc(api, 'modify_system', h, 'profile', 'p', token);
            await rpc(api, 'modify_system', h, 'modify_interface', { 'macaddress-eth0': mac(n % 65536), 'ipaddress-eth0': `10.${round}.${w}.${i % 250}` }, token);
            await rpc(api, 'save_system', h, token);
            acknowledged.add(name);
            if (i % 7 === 3) { await rpc(api, 'remove_system', name, token); acknowledged.delete(name); }
          } catch (e) {
            if (stop) return;
            // Duplicates from wrapped MAC/IP counters are refused cleanly; anything else is a failure.
            if (!/duplicate|already/i.test(String((e as Error).message))) throw e;
          }
        }
      };
      const writers = [0, 1, 2, 3].map(writer);
      await new Promise((r) => setTimeout(r, 800 + round * 400));
      stop = true;
      child.kill('SIGKILL');
      await Promise.allSettled(writers);
      await exited;
    }

    const { child, api, exited } = await serve(dataDir);
    try {
      const systems = await rpc(api, 'get_items', 'system') as Array<Record<string, any>>;
      const names = new Set(systems.map((s) => s.name));
      for (const n of acknowledged) assert.ok(names.has(n), `acknowledged save of ${n} is missing`);
      assert.ok(acknowledged.size > 20, `only ${acknowledged.size} saves happened`);
      // Every system is found through each index, and each index finds nothing stale.
      for (const s of systems) {
        assert.deepEqual(await rpc(api, 'find_system', { mac_address: s.interfaces.eth0.mac_address }), [s.name]);
        assert.deepEqual(await rpc(api, 'find_system', { ip_address: s.interfaces.eth0.ip_address }), [s.name]);
        assert.equal(s.profile, 'p');
      }
      assert.deepEqual(await rpc(api, 'find_system', { profile: 'p' }), [...names].sort());
      const token = await rpc(api, 'login', 'cobbler', 'pw') as string;
      assert.equal(await rpc(api, 'sync', token), true);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
