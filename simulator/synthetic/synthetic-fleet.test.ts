import assert from 'node:assert/strict';
import { SeededRandom } from '../../lib/clock.ts';
import { renderPxelinuxMenu, renderPxelinuxSystem } from '../../provisioner/boot/pxelinux-config.ts';
import { decodeFrame } from '../../provisioner/protocol/frames.ts';
import { VirtualClock } from './clock.ts';
import { FakeBootServer, type FakeBootServerOptions } from './fake-boot-server.ts';
import { MemoryHub, type MemoryHubOptions } from './memory-hub.ts';
import { createSyntheticFleet, type SyntheticFleetOptions, type SyntheticNodeSpec } from './synthetic-fleet.ts';

const SERVER = '10.0.0.1';
const macOf = (i: number): string => `52:54:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const dashed = (mac: string): string => mac.replace(/:/g, '-');
const KERNEL = Buffer.alloc(20_000, 7);
const INITRD = Buffer.alloc(9_000, 9);

/** Registered nodes get a per-MAC config (as the provisioner renders it); the rest the default menu. */
function bootTree(registered: string[]): { tftp: Map<string, Buffer>; http: Map<string, Buffer> } {
  const tftp = new Map<string, Buffer>([
    ['pxelinux.0', Buffer.alloc(3000, 1)],
    ['ldlinux.c32', Buffer.alloc(5000, 2)],
    ['menu.c32', Buffer.alloc(1000, 3)],
    ['libutil.c32', Buffer.alloc(800, 4)],
    ['images/d1/vmlinuz', KERNEL],
    ['images/d1/initrd.img', INITRD],
    ['ipxe.efi', Buffer.alloc(4000, 5)],
    ['pxelinux.cfg/default', Buffer.from(renderPxelinuxMenu([]))],
  ]);
  const http = new Map<string, Buffer>();
  for (const mac of registered) {
    const name = `n-${dashed(mac)}`;
    const url = `http://${SERVER}/cblr/svc/op/autoinstall/system/${name}`;
    tftp.set(`pxelinux.cfg/01-${dashed(mac)}`, Buffer.from(renderPxelinuxSystem({
      name, local: false, kernelPath: '/images/d1/vmlinuz', initrdPaths: ['/images/d1/initrd.img'],
      args: ['auto-install/enable=true', 'priority=critical', `url=${url}`, `hostname=${name}`], warnings: [],
    })));
    http.set(`/cblr/svc/op/autoinstall/system/${name}`, Buffer.from(`# preseed for ${name}\n`));
  }
  return { tftp, http };
}

function lab(count: number, o: { hub?: MemoryHubOptions; server?: Partial<FakeBootServerOptions>; fleet?: Partial<SyntheticFleetOptions>; registered?: number; firmware?: (i: number) => 'bios' | 'uefi' } = {}) {
  const clock = new VirtualClock();
  const hub = new MemoryHub(clock, o.hub);
  const specs: SyntheticNodeSpec[] = Array.from({ length: count }, (_, i) => ({ name: `node${i}`, mac: macOf(i + 1), firmware: o.firmware?.(i) ?? 'bios' }));
  const registered = specs.slice(0, o.registered ?? count).map((s) => s.mac);
  const tree = bootTree(registered);
  const server = new FakeBootServer({
    port: hub.port(), clock, ip: SERVER, tftp: tree.tftp, http: tree.http,
    bootFile: (_mac, arch) => (arch === 7 ? 'ipxe.efi' : 'pxelinux.0'),
    ...o.server,
  });
  const fleet = createSyntheticFleet({
    port: hub.port(), nodes: specs, clock, random: new SeededRandom(42),
    timers: { dhcpRetryMs: [400, 800, 1600], tftpTimeoutMs: 200, tcpTimeoutMs: 200, overallMs: 120_000 },
    ...o.fleet,
  });
  return { clock, hub, server, fleet, specs };
}

async function boot(l: ReturnType<typeof lab>, names?: string[]) {
  let finished = false;
  l.fleet.start(names);
  const done = l.fleet.done().then((s) => { finished = true; return s; });
  assert.ok(await l.clock.run(() => finished, 600_000), 'the fleet finished in virtual time');
  return done;
}

describe('synthetic fleet on an in-memory hub', function () {
  this.timeout(60_000);

  it('boots registered BIOS nodes through DHCP, pxelinux, kernel, initrd and the autoinstall file', async () => {
    const l = lab(12);
    const result = await boot(l);
    assert.equal(result.length, 12);
    for (const s of result) {
      assert.equal(s.stage, 'done', `${s.name}: ${s.error ?? ''}`);
      assert.equal(s.config, `pxelinux.cfg/01-${dashed(s.mac)}`);
      assert.equal(s.bootFile, 'pxelinux.0');
      assert.deepEqual(s.events.map((e) => e.stage), ['dhcp-discover', 'dhcp-ack', 'boot-file', 'config', 'config', 'kernel', 'initrd', 'autoinstall', 'done']);
    }
    const ips = result.map((s) => s.ip);
    assert.equal(new Set(ips).size, 12, 'every node has its own address');
    assert.deepEqual(new Set(ips), new Set(l.server.leased.values()));
    // pxelinux's order: UUID first, then 01-<mac>, where it stops.
    const files = l.server.log.tftp.filter((t) => t.ip === result[0]!.ip).map((t) => t.file);
    assert.equal(files[0], 'pxelinux.0');
    assert.equal(files[1], 'ldlinux.c32');
    assert.match(files[2]!, /^pxelinux\.cfg\/[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(files[3], `pxelinux.cfg/01-${dashed(result[0]!.mac)}`);
    assert.deepEqual(files.slice(4), ['/images/d1/vmlinuz', '/images/d1/initrd.img']);
    assert.ok(l.server.log.tftp.every((t) => t.options === 'tsize=0,blksize=1456'), 'RRQs ask for tsize and blksize 1456');
    assert.equal(l.server.log.http.filter((h) => h.status === 200).length, 12);
    assert.ok(l.server.log.arpRequestsSent > 0, 'the server resolved the nodes by ARP, and they answered');
    await l.clock.run(() => false, 60_000);
    assert.equal(l.fleet.stats().ownFrames, l.hub.log.length - countFrom(l, l.server.mac), 'every frame a node sent came back and was dropped as its own');
    await closeFleet(l);
  });

  it('sends unknown machines through the default menu to the local disk', async () => {
    const l = lab(3, { registered: 1 });
    const result = await boot(l);
    assert.equal(result[0]!.stage, 'done');
    for (const s of result.slice(1)) {
      assert.equal(s.stage, 'local-boot', s.error);
      assert.equal(s.config, 'pxelinux.cfg/default');
      const files = l.server.log.tftp.filter((t) => t.ip === s.ip).map((t) => t.file);
      const hex = s.ip!.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join('').toUpperCase();
      assert.deepEqual(files.slice(3), [
        `pxelinux.cfg/01-${dashed(s.mac)}`,
        ...[8, 7, 6, 5, 4, 3, 2, 1].map((n) => `pxelinux.cfg/${hex.slice(0, n)}`),
        'pxelinux.cfg/default', 'menu.c32', 'libutil.c32',
      ]);
    }
    await closeFleet(l);
  });

  it('finishes every node when every 7th frame on the hub is lost and every 11th duplicated', async () => {
    const l = lab(10, { hub: { drop: (_f, n) => n % 7 === 0, duplicate: (_f, n) => n % 11 === 0 } });
    const result = await boot(l);
    assert.ok(l.hub.dropped > 50, `frames were lost (${l.hub.dropped})`);
    for (const s of result) assert.equal(s.stage, 'done', `${s.name}: ${s.error ?? ''}`);
    assert.equal(new Set(result.map((s) => s.ip)).size, 10);
    await closeFleet(l);
  });

  it('reads HTTP bodies whose segments arrive out of order', async () => {
    const l = lab(2, { server: { reorderTcp: true } });
    const big = Buffer.alloc(5000, 0x41);
    for (const mac of l.specs.map((s) => s.mac)) l.server['o'].http!.set(`/cblr/svc/op/autoinstall/system/n-${dashed(mac)}`, big);
    const result = await boot(l);
    for (const s of result) assert.equal(s.stage, 'done', `${s.name}: ${s.error ?? ''}`);
    await closeFleet(l);
  });

  it('restarts DHCP after a NAK', async () => {
    const l = lab(2, { server: { nakFirst: new Set([macOf(1)]) } });
    const result = await boot(l);
    assert.equal(result[0]!.stage, 'done');
    const discovers = l.server.log.dhcp.filter((d) => d.mac === macOf(1) && d.type === 'DISCOVER');
    assert.equal(new Set(discovers.map((d) => d.xid)).size, 2, 'a new transaction after the NAK');
    await closeFleet(l);
  });

  it('fails a node whose boot file the server does not have, with the TFTP error', async () => {
    const l = lab(1, { server: { bootFile: () => 'missing.0' } });
    const [s] = await boot(l);
    assert.equal(s!.stage, 'failed');
    assert.match(s!.error!, /boot file missing\.0: TFTP error 1 for missing\.0: File not found/);
    await closeFleet(l);
  });

  it('fails the autoinstall stage on a connection reset', async () => {
    const l = lab(1);
    l.server['o'].resetHttpPaths = new Set([`/cblr/svc/op/autoinstall/system/n-${dashed(macOf(1))}`]);
    const [s] = await boot(l);
    assert.equal(s!.stage, 'failed');
    assert.match(s!.error!, /autoinstall .*connection reset by peer/);
    await closeFleet(l);
  });

  it('gives up on a silent network after the DHCP retries, without hanging', async () => {
    const l = lab(3, { server: { silent: true } });
    const result = await boot(l);
    for (const s of result) {
      assert.equal(s.stage, 'failed');
      assert.equal(s.error, 'no DHCP offer after 3 DISCOVERs');
      assert.equal(s.events.length, 2);
    }
    // 400 + 800 + 1600 ms of virtual time per node, not the overall limit.
    assert.ok(result.every((s) => s.finishedAt! - s.startedAt! === 2800));
    await closeFleet(l);
  });

  it('UEFI nodes ask as arch 7, probe the boot file size, load it and stop there', async () => {
    const l = lab(2, { firmware: () => 'uefi' });
    const result = await boot(l);
    for (const s of result) {
      assert.equal(s.stage, 'done');
      assert.equal(s.bootFile, 'ipxe.efi');
      assert.match(s.events.at(-1)!.detail!, /does not execute EFI binaries/);
    }
    // Per node: EDK2's size probe, then the read (the fake server declines windowsize).
    assert.deepEqual(l.server.log.tftp.map((t) => `${t.file} ${t.options}`).sort(), [
      'ipxe.efi blksize=1468,windowsize=4', 'ipxe.efi blksize=1468,windowsize=4',
      'ipxe.efi tsize=0,blksize=1468,windowsize=4', 'ipxe.efi tsize=0,blksize=1468,windowsize=4',
    ]);
    await closeFleet(l);
  });

  it("stops at the configuration with fetch: 'config'", async () => {
    const l = lab(1, { fleet: { fetch: 'config' } });
    const [s] = await boot(l);
    assert.equal(s!.stage, 'done');
    assert.equal(l.server.log.tftp.length, 4);
    assert.equal(l.server.log.http.length, 0);
    await closeFleet(l);
  });

  it('starts only the named nodes, spreads power-on, and fails unstarted work on close', async () => {
    const l = lab(4, { fleet: { startSpreadMs: 5000 } });
    const result = await boot(l, ['node1', 'node2']);
    assert.deepEqual(result.map((s) => s.name), ['node1', 'node2']);
    const starts = result.map((s) => s.startedAt! - 1_700_000_000_000);
    assert.ok(starts.every((t) => t >= 0 && t < 5000) && starts[0] !== starts[1], `jittered starts ${starts}`);
    assert.equal(l.fleet.status()[0]!.events.length, 0, 'node0 never started');
    assert.throws(() => l.fleet.start(['nope']), /no synthetic node named nope/);
    l.fleet.start(['node3']);
    await closeFleet(l);
    assert.equal(l.fleet.status()[3]!.stage, 'failed');
    assert.equal(l.fleet.status()[3]!.error, 'the fleet was closed');
  });
});

/** close() gives TCP closes a grace period on the fleet's clock, which is virtual here. */
async function closeFleet(l: ReturnType<typeof lab>): Promise<void> {
  let closed = false;
  const c = l.fleet.close().then(() => { closed = true; });
  await l.clock.run(() => closed, 10_000);
  await c;
}

function countFrom(l: ReturnType<typeof lab>, mac: string): number {
  return l.hub.log.filter((f) => decodeFrame(f).eth.src === mac).length;
}
