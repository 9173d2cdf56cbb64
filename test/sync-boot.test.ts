// `sync` now that boot answers are live: it reports what the boot services cannot serve
// (missing kernel/initrd files) without failing, and can export the generated TFTP tree for
// operators who keep their own tftpd.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from '../cli/compose-provisioner.ts';
import { rpc } from './helpers/provisioner.ts';

describe('sync with live boot services', () => {
  let dir: string;
  let p: RunningProvisioner;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rf-sync-'));
    writeFileSync(join(dir, 'vmlinuz'), 'kernel');
    p = await startProvisioner({ httpPort: 0, adminPassword: 'pw', log: silentLogger, exportTftpDir: join(dir, 'tftp') });
  });
  afterEach(async () => { await p.close(); rmSync(dir, { recursive: true, force: true }); });

  it('reports the missing initrd in the task log and as a boot event, completes, and writes the tree', async () => {
    const t = await rpc(p.apiUrl, 'login', 'cobbler', 'pw') as string;
    const d = await rpc(p.apiUrl, 'new_distro', t) as string;
    for (const [k, v] of [['name', 'd1'], ['arch', 'x86_64'], ['breed', 'debian'], ['kernel', join(dir, 'vmlinuz')], ['initrd', join(dir, 'missing.img')]]) await rpc(p.apiUrl, 'modify_distro', d, k!, v!, t);
    await rpc(p.apiUrl, 'save_distro', d, t);
    const pr = await rpc(p.apiUrl, 'new_profile', t) as string;
    await rpc(p.apiUrl, 'modify_profile', pr, 'name', 'p1', t);
    await rpc(p.apiUrl, 'modify_profile', pr, 'distro', 'd1', t);
    await rpc(p.apiUrl, 'save_profile', pr, t);
    const s = await rpc(p.apiUrl, 'new_system', t) as string;
    await rpc(p.apiUrl, 'modify_system', s, 'name', 's1', t);
    await rpc(p.apiUrl, 'modify_system', s, 'profile', 'p1', t);
    await rpc(p.apiUrl, 'modify_system', s, 'modify_interface', { 'macaddress-eth0': '52:54:00:AB:00:01' }, t);
    await rpc(p.apiUrl, 'modify_system', s, 'netboot_enabled', true, t);
    await rpc(p.apiUrl, 'save_system', s, t);

    const id = await rpc(p.apiUrl, 'background_sync', {}, t) as string;
    let state = 'running';
    for (let i = 0; i < 100 && state === 'running'; i++) {
      state = ((await rpc(p.apiUrl, 'get_task_status', id)) as string[])[2]!;
      if (state === 'running') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, 'complete');
    const log = await rpc(p.apiUrl, 'get_event_log', id) as string;
    assert.match(log, new RegExp(`warning: distro d1: initrd ${join(dir, 'missing.img').replace(/[.]/g, '\\.')} is missing`));
    assert.doesNotMatch(log, /distro d1: kernel/);
    assert.match(log, /wrote \d+ boot files under/);
    const events = p.inventory.store.listBootEvents({});
    assert.ok(events.some((e) => e.kind === 'sync-problem' && e.detail.includes('missing.img')), JSON.stringify(events));
    const sysFile = join(dir, 'tftp', 'pxelinux.cfg', '01-52-54-00-ab-00-01');
    assert.ok(existsSync(sysFile));
    assert.match(readFileSync(sysFile, 'utf8'), /kernel \/images\/d1\/vmlinuz/);
    assert.match(readFileSync(join(dir, 'tftp', 'pxelinux.cfg', 'default'), 'utf8'), /LABEL p1/i);
    assert.ok(existsSync(join(dir, 'tftp', 'grub', 'system', '52:54:00:ab:00:01')));
  });
});
