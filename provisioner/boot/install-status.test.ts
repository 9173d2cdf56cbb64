import assert from 'node:assert/strict';
import type { BootEvent, BootEventKind } from './boot-events.ts';
import { deriveInstallStatus } from './install-status.ts';

let t = 1_800_000_000;
const ev = (kind: BootEventKind, detail: string, dt = 1): BootEvent => ({ at: (t += dt), kind, detail, system: 'node1', mac: '52:54:00:10:00:01', ip: '10.10.0.100' });
const ACK = 'leased 10.10.0.100 for 3600s; boot pxelinux.0 (bios firmware)';
const ACK_LOCAL = 'leased 10.10.0.100 for 3600s; no boot file (netboot disabled)';

function happyInstall(): BootEvent[] {
  return [
    ev('dhcp-discover', 'discover'),
    ev('dhcp-ack', ACK),
    ev('tftp-file', 'pxelinux.0 (42000 bytes)'),
    ev('tftp-file', 'ldlinux.c32 (120000 bytes)'),
    ev('tftp-file', 'pxelinux.cfg/01-52-54-00-10-00-01 (300 bytes)'),
    ev('dhcp-ack', ACK), // the installer's own DHCP, netboot still on: same install
    ev('autoinstall', '/cblr/svc/op/autoinstall/system/node1/token/***: rendered'),
    ev('install', 'installer-started'),
    ev('http-file', 'sent /srv/node.img'),
    ev('install', 'image-written'),
    ev('callback', '/cblr/svc/op/nopxe/system/node1/token/***: nopxe: netboot disabled'),
    ev('dhcp-ack', ACK_LOCAL),
    ev('install', 'rebooted'),
  ];
}

describe('install status from boot events', () => {
  it('a whole install: every stage once, in order, with times', () => {
    const events = [...happyInstall(), ev('install', 'registered: controller accepted 52:54:00:10:00:01')];
    const s = deriveInstallStatus(events, t + 1);
    assert.equal(s.state, 'registered');
    assert.deepEqual(s.stages.map((x) => x.stage), ['dhcp', 'pxe-loaded', 'installer-started', 'image-written', 'nopxe', 'rebooted', 'registered']);
    assert.equal(s.stages[1]!.detail, 'pxelinux.0 (42000 bytes)');
    assert.equal(s.stages[0]!.at, new Date(events[1]!.at * 1000).toISOString());
    assert.equal(s.ip, '10.10.0.100');
  });

  it('installed but not registered yet, then a timeout when nothing more happens', () => {
    const events = happyInstall();
    assert.equal(deriveInstallStatus(events, t + 10).state, 'installed');
    const late = deriveInstallStatus(events, t + 5000, { timeoutSeconds: 600 });
    assert.equal(late.state, 'failed');
    assert.match(late.stages.at(-1)!.detail, /^timeout: no progress for 600 s after rebooted$/);
  });

  it('failures end the install with their cause', () => {
    const cases: Array<[BootEvent, RegExp]> = [
      [ev('install', 'failed: checksum-mismatch: expected ab got cd'), /^checksum-mismatch: expected ab got cd$/],
      [ev('tftp-error', 'images/rackforge-node/vmlinuz: not-found (file not found)'), /^kernel or initrd not found: images\/rackforge-node\/vmlinuz/],
      [ev('http-error', '/images/rackforge-node/vmlinuz: distro rackforge-node: /x/vmlinuz is missing or not a regular file'), /^kernel or initrd not found/],
      [ev('http-error', "/cblr/svc/op/autoinstall/system/node1/token/***: template 'x' uses a variable that has no value: tree"), /^autoinstall template error/],
    ];
    for (const [failure, detail] of cases) {
      const events = [ev('dhcp-ack', ACK), ev('tftp-file', 'pxelinux.0'), failure, ev('install', 'image-written')];
      const s = deriveInstallStatus(events, t);
      assert.equal(s.state, 'failed', failure.detail);
      assert.equal(s.stages.at(-1)!.stage, 'failed');
      assert.match(s.stages.at(-1)!.detail, detail);
      assert.ok(!s.stages.some((x) => x.stage === 'image-written'), 'nothing counts after the failure');
    }
  });

  it('a reinstall (netboot on again, power cycle) starts a new install; the old one is not mixed in', () => {
    const first = [...happyInstall(), ev('install', 'registered')];
    const again = [ev('dhcp-ack', ACK), ev('tftp-file', 'pxelinux.0')];
    const s = deriveInstallStatus([...first, ...again], t);
    assert.equal(s.state, 'installing');
    assert.deepEqual(s.stages.map((x) => x.stage), ['dhcp', 'pxe-loaded']);
    // After a failure a new boot with a boot file starts over too.
    const retried = deriveInstallStatus([ev('dhcp-ack', ACK), ev('install', 'failed: download-failed: x'), ev('dhcp-ack', ACK)], t);
    assert.equal(retried.state, 'installing');
  });

  it('no install seen: DHCP answers without a boot file are not an install', () => {
    assert.deepEqual(deriveInstallStatus([ev('dhcp-ack', ACK_LOCAL), ev('dhcp-discover', 'x')], t), { state: 'none', stages: [] });
  });
});
