// The hypervisor-node image (scripts/build-node-image.mjs, profiles/node-image/, docs/node-image.md)
// end to end: the build and its outputs, then real QEMU machines (TCG) on a tap device in a
// namespace this test creates, with dnsmasq for DHCP and test/netboot/node-image-server.ts
// standing in for the provisioner and the controller:
//   1. the installer (direct kernel boot of vmlinuz + initrd.img) writes node.img and the config
//      area to a blank virtio disk, reporting its stages and switching netboot off;
//   2. a corrupted image is refused with checksum-mismatch and the disk stays blank;
//   3. the written disk boots through SeaBIOS and syslinux, registers, heartbeats;
//   4. booting it again reuses the stored credential instead of registering again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NETNS_PRELUDE, REPO_ROOT, runInNetns } from './helpers/netns.ts';
import { requireTools } from './helpers/tools.ts';

const OUT = join(REPO_ROOT, 'build', 'node');
const BUILD = join(REPO_ROOT, 'scripts', 'build-node-image.mjs');
const MAC = '52:54:00:10:00:01';
const TOKEN = '0123456789abcdef0123456789abcdef';
const CREDENTIAL = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const SERVER = 'http://10.99.0.1:80';
const DISK_BYTES = 64 * 1024 * 1024;
const AREA_BYTES = 1024 * 1024;
const OUTPUTS = ['vmlinuz', 'initrd.img', 'node.img', 'node.img.sha256', 'build-info.json'];

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Request {
  kind: string;
  stage?: string;
  detail?: string | null;
  system?: string;
  token?: string;
  name?: string;
  authorization?: string;
  contentType?: string;
  raw?: string;
  body?: Record<string, unknown>;
}

function requests(dir: string): Request[] {
  const file = join(dir, 'requests.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Request);
}

function runBuild(): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BUILD], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 900_000 });
  return { status: r.status, stderr: r.stderr };
}

/** Names in a gzip'd newc cpio archive. */
function cpioNames(gz: Buffer): string[] {
  const buf = gunzipSync(gz);
  const names: string[] = [];
  let off = 0;
  for (;;) {
    assert.equal(buf.toString('ascii', off, off + 6), '070701', `newc magic at ${off}`);
    const field = (i: number): number => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', off + 110, off + 110 + nameSize - 1);
    if (name === 'TRAILER!!!') return names;
    names.push(name);
    off = Math.ceil((off + 110 + nameSize) / 4) * 4;
    off = Math.ceil((off + size) / 4) * 4;
  }
}

function autoinstall(): string {
  const base = `${SERVER}/cblr`;
  return [
    "RF_SYSTEM='node1'",
    "RF_HOSTNAME='node1'",
    `RF_TOKEN='${TOKEN}'`,
    `RF_IMAGE_URL='${base}/links/rackforge-node/node.img'`,
    `RF_IMAGE_SHA256_URL='${base}/links/rackforge-node/node.img.sha256'`,
    `RF_EVENT_URL='${base}/svc/op/event/system/node1/token/${TOKEN}'`,
    `RF_NOPXE_URL='${base}/svc/op/nopxe/system/node1/token/${TOKEN}'`,
    `RF_CONTROLLER_URL='${SERVER}/api/v1'`,
    "RF_DISK='/dev/vda'",
    '',
  ].join('\n');
}

/**
 * One QEMU machine on tap0 (10.99.0.1, dnsmasq and the stub server behind it) until the shell
 * condition `until` holds, QEMU exits, or `waitSeconds` pass. With `waitExit`, waits a little
 * longer for QEMU to exit on its own (the installer reboots, and -no-reboot turns that into an exit).
 */
function scenario(dir: string, srv: string, qemuArgs: string, until: string, waitSeconds: number, waitExit = false): string {
  return `T=${dir}
${NETNS_PRELUDE}
ip tuntap add dev tap0 mode tap
ip addr add 10.99.0.1/24 dev tap0
ip link set tap0 up
# server.out too: a stale "listening" from the last scenario would end the wait below before
# the new server has even truncated the file.
rm -f "$T/requests.log" "$T/serial.log" "$T/server.out"
dnsmasq --no-daemon --port=0 --interface=tap0 --bind-interfaces --dhcp-range=10.99.0.100,10.99.0.150,1h --no-ping \\
  --dhcp-leasefile="$T/dnsmasq.leases" --log-dhcp --log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" &
"$NODE" --import tsx test/netboot/node-image-server.ts 10.99.0.1 80 "${srv}" "$T/requests.log" ${CREDENTIAL} >"$T/server.out" 2>&1 &
SRV=$!
for i in $(seq 1 600); do grep -q listening "$T/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$T/server.out" || { echo "stub server did not start"; cat "$T/server.out"; exit 1; }
count() { grep -c "$1" "$T/requests.log" 2>/dev/null || true; }
qemu-system-x86_64 -accel tcg -m 256 -nodefaults -display none -serial "file:$T/serial.log" \\
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no ${qemuArgs} 2>"$T/qemu.err" &
QEMU=$!
found=no
exited=no
for i in $(seq 1 ${waitSeconds}); do
  if ${until}; then found=yes; break; fi
  if ! kill -0 $QEMU 2>/dev/null; then exited=yes; break; fi
  sleep 1
done
echo "found=$found after $i s"
if [ ${waitExit ? 'yes' : 'no'} = yes ] && [ $exited = no ]; then
  for j in $(seq 1 30); do kill -0 $QEMU 2>/dev/null || { exited=yes; break; }; sleep 1; done
fi
echo "exited=$exited"
kill -9 $QEMU 2>/dev/null || true
wait $QEMU 2>/dev/null || true
cat "$T/qemu.err"
kill $SRV 2>/dev/null || true
`;
}

describe('hypervisor-node image: build, installer, installed node (QEMU)', function () {
  this.timeout(300_000);
  let dir: string;
  let nodeImg: Buffer;

  before(function () {
    this.timeout(900_000);
    const r = runBuild();
    assert.equal(r.status, 0, `build failed:\n${r.stderr}`);
    nodeImg = readFileSync(join(OUT, 'node.img'));
    dir = mkdtempSync(join(tmpdir(), 'rf-node-image-'));
    const srv = join(dir, 'srv');
    mkdirSync(srv);
    writeFileSync(join(srv, 'autoinstall'), autoinstall());
    copyFileSync(join(OUT, 'node.img'), join(srv, 'node.img'));
    copyFileSync(join(OUT, 'node.img.sha256'), join(srv, 'node.img.sha256'));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('builds vmlinuz, the installer initramfs, node.img with its sha256 and a consistent build-info.json', () => {
    for (const f of OUTPUTS) assert.ok(existsSync(join(OUT, f)), `${f} built`);
    const info = JSON.parse(readFileSync(join(OUT, 'build-info.json'), 'utf8'));
    assert.equal(readFileSync(join(OUT, 'node.img.sha256'), 'utf8'), `${sha256(nodeImg)}  node.img\n`);
    for (const f of ['vmlinuz', 'initrd.img', 'node.img', 'node.img.sha256']) {
      const data = readFileSync(join(OUT, f));
      assert.deepEqual(info.files[f], { bytes: data.length, sha256: sha256(data) }, `build-info.json describes ${f}`);
    }
    assert.match(info.kernel.package, /^linux-image-6\.1\.0-\d+-amd64$/);
    assert.equal(`linux-image-${info.kernel.release}`, info.kernel.package);
    for (const p of ['busybox-static', 'syslinux', 'syslinux-common', 'mtools']) assert.ok(info.packages[p], `version of ${p} recorded`);
    const mods: string[] = info.modules.map((m: { name: string }) => m.name);
    for (const m of ['e1000', 'virtio_net', 'virtio_blk', 'virtio_pci']) assert.ok(mods.includes(m), `module ${m}`);
    assert.ok(mods.indexOf('virtio_ring') < mods.indexOf('virtio_blk'), 'dependencies load first');
    assert.ok(nodeImg.length < 64 * 1024 * 1024, `node.img is small (${nodeImg.length} bytes)`);

    // MBR with syslinux's boot code and one active FAT partition at 1 MiB.
    assert.equal(nodeImg.readUInt16LE(510), 0xaa55, 'MBR signature');
    assert.equal(nodeImg[446], 0x80, 'partition 1 is active');
    assert.equal(nodeImg.readUInt32LE(446 + 8) * 512, info.nodeImage.partition.startBytes);
    assert.equal(info.nodeImage.partition.startBytes + info.nodeImage.partition.sizeBytes, nodeImg.length);
    const boot = info.nodeImage.partition.startBytes;
    assert.equal(nodeImg.readUInt16LE(boot + 510), 0xaa55, 'FAT boot sector');
    assert.equal(nodeImg.readUInt32LE(boot + 28), boot / 512, 'hidden sectors = partition start (syslinux finds itself by it)');

    const names = cpioNames(readFileSync(join(OUT, 'initrd.img')));
    for (const n of ['init', 'bin/busybox', 'bin/sh', 'sbin/udhcpc', 'dev/console', 'lib/modules/e1000.ko', 'lib/modules/load-order', 'lib/rackforge/rf-lib.sh', 'etc/udhcpc.script']) {
      assert.ok(names.includes(n), `initrd.img has ${n}`);
    }
  });

  it('a second build run is a no-op', () => {
    const before = OUTPUTS.map((f) => statSync(join(OUT, f)).mtimeMs);
    const started = Date.now();
    const r = runBuild();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /up to date/);
    assert.deepEqual(OUTPUTS.map((f) => statSync(join(OUT, f)).mtimeMs), before, 'outputs untouched');
    assert.ok(Date.now() - started < 5000, 'fast when nothing changed');
  });

  it('the installer writes node.img and the config area, reports installer-started then image-written, and switches netboot off', async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64', 'dnsmasq']);
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(0));
    truncateSync(disk, DISK_BYTES);
    const r = await runInNetns(scenario(dir, join(dir, 'srv'),
      `-device e1000,netdev=n0,mac=${MAC} -drive file=${disk},if=virtio,format=raw -no-reboot ` +
      `-kernel ${join(OUT, 'vmlinuz')} -initrd ${join(OUT, 'initrd.img')} ` +
      `-append "console=ttyS0 url=${SERVER}/auto auto-install/enable=true priority=critical netcfg/choose_interface=auto hostname=node1"`,
      '[ "$(count \'"kind":"nopxe"\')" -ge 1 ]', 150, true), { timeoutMs: 220_000 });
    const serial = existsSync(join(dir, 'serial.log')) ? readFileSync(join(dir, 'serial.log'), 'utf8') : '';
    const why = `${r.stdout}\n${r.stderr}\n--- serial\n${serial.split('\n').filter((l) => l.includes('rackforge')).join('\n')}`;
    assert.match(r.stdout, /found=yes/, why);
    assert.match(r.stdout, /exited=yes/, `the installer rebooted (QEMU -no-reboot exits)\n${why}`);

    const log = requests(dir);
    const events = log.filter((q) => q.kind === 'event');
    assert.deepEqual(events.map((e) => e.stage), ['installer-started', 'image-written'], why);
    assert.ok(events.every((e) => e.system === 'node1' && e.token === TOKEN));
    assert.match(events[1]!.detail ?? '', new RegExp(`${nodeImg.length} bytes sha256 ${sha256(nodeImg)} to /dev/vda`));
    const kinds = log.map((q) => q.kind);
    assert.ok(kinds.lastIndexOf('nopxe') > kinds.findIndex((k, i) => k === 'event' && log[i]!.stage === 'image-written'), 'nopxe after image-written');
    assert.deepEqual(log.filter((q) => q.kind === 'download').map((q) => (q as { file?: string }).file), ['node.img.sha256', 'node.img']);
    assert.match(serial, /rackforge-installer: installed; rebooting into \/dev\/vda/);

    const written = readFileSync(disk);
    assert.equal(written.length, DISK_BYTES);
    assert.ok(written.subarray(0, nodeImg.length).equals(nodeImg), 'the disk starts with node.img');
    assert.ok(written.subarray(nodeImg.length, DISK_BYTES - AREA_BYTES).every((b) => b === 0), 'nothing between the image and the config area');
    const area = written.subarray(DISK_BYTES - AREA_BYTES);
    const end = area.indexOf(0);
    assert.ok(end > 0 && area.subarray(end).every((b) => b === 0), 'config area is text then NUL padding');
    assert.equal(area.subarray(0, end).toString('utf8'), [
      '# rackforge-node-config v1',
      "RF_SYSTEM='node1'",
      "RF_HOSTNAME='node1'",
      `RF_TOKEN='${TOKEN}'`,
      `RF_CONTROLLER_URL='${SERVER}/api/v1'`,
      `RF_EVENT_URL='${SERVER}/cblr/svc/op/event/system/node1/token/${TOKEN}'`,
      '',
    ].join('\n'));
  });

  it('a corrupted image is refused: failed with checksum-mismatch, the disk untouched, no nopxe', async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64', 'dnsmasq']);
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'autoinstall'), autoinstall());
    writeFileSync(join(bad, 'node.img.sha256'), `${sha256(nodeImg)}  node.img\n`);
    const corrupt = Buffer.from(nodeImg);
    corrupt[corrupt.length >> 1]! ^= 0xff;
    writeFileSync(join(bad, 'node.img'), corrupt);
    const disk = join(dir, 'blank.img');
    writeFileSync(disk, Buffer.alloc(0));
    truncateSync(disk, DISK_BYTES);
    const r = await runInNetns(scenario(dir, bad,
      `-device e1000,netdev=n0,mac=${MAC} -drive file=${disk},if=virtio,format=raw -no-reboot ` +
      `-kernel ${join(OUT, 'vmlinuz')} -initrd ${join(OUT, 'initrd.img')} -append "console=ttyS0 url=${SERVER}/auto"`,
      // A few seconds more after the report, so a write that should not happen would have happened.
      '[ "$(count \'"stage":"failed"\')" -ge 1 ] && sleep 3', 150), { timeoutMs: 220_000 });
    const serial = existsSync(join(dir, 'serial.log')) ? readFileSync(join(dir, 'serial.log'), 'utf8') : '';
    assert.match(r.stdout, /found=yes/, `${r.stdout}\n${r.stderr}\n${serial}`);
    const log = requests(dir);
    const events = log.filter((q) => q.kind === 'event');
    assert.deepEqual(events.map((e) => e.stage), ['installer-started', 'failed']);
    assert.equal(events[1]!.detail, `checksum-mismatch: expected ${sha256(nodeImg)} got ${sha256(corrupt)}`);
    assert.ok(!log.some((q) => q.kind === 'nopxe'), 'netboot stays on');
    assert.match(serial, /rackforge-installer: FAILED: checksum-mismatch/);
    assert.ok(readFileSync(disk).every((b) => b === 0), 'the disk is still all zeros');
  });

  it('the written disk boots (SeaBIOS, syslinux), registers with the controller and heartbeats with the credential', async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64', 'dnsmasq']);
    const disk = join(dir, 'disk.img');
    assert.ok(existsSync(disk), 'needs the disk the installer test wrote');
    const r = await runInNetns(scenario(dir, join(dir, 'srv'),
      `-device virtio-net-pci,netdev=n0,mac=${MAC} -drive file=${disk},if=virtio,format=raw -boot c`,
      '[ "$(count \'"kind":"heartbeat"\')" -ge 2 ]', 150), { timeoutMs: 220_000 });
    const serial = existsSync(join(dir, 'serial.log')) ? readFileSync(join(dir, 'serial.log'), 'utf8') : '';
    const why = `${r.stdout}\n${r.stderr}\n--- serial\n${serial.split('\n').filter((l) => !l.startsWith('[')).join('\n')}`;
    assert.match(r.stdout, /found=yes/, why);
    assert.match(serial, /rackforge-node: booted from disk/);
    assert.match(serial, /rackforge-node: registered as node1/);

    const log = requests(dir);
    assert.deepEqual(log.filter((q) => q.kind === 'event').map((e) => e.stage), ['rebooted']);
    const regs = log.filter((q) => q.kind === 'register');
    assert.equal(regs.length, 1, why);
    const reg = regs[0]!;
    assert.equal(reg.contentType, 'application/json');
    const body = reg.body as { system: string; hostname: string; macs: string[]; token: string; cpus: number; memory_mb: number; disks: unknown[] };
    assert.ok(body, `register body is JSON: ${reg.raw}`);
    assert.equal(body.system, 'node1');
    assert.equal(body.hostname, 'node1');
    assert.deepEqual(body.macs, [MAC]);
    assert.equal(body.token, TOKEN);
    assert.equal(body.cpus, 1);
    assert.ok(body.memory_mb > 150 && body.memory_mb <= 256, `memory_mb ${body.memory_mb} for -m 256`);
    assert.deepEqual(body.disks, [{ name: 'vda', size_bytes: DISK_BYTES }]);
    const beats = log.filter((q) => q.kind === 'heartbeat');
    assert.ok(beats.length >= 2);
    for (const b of beats) {
      assert.equal(b.name, 'node1');
      assert.equal(b.authorization, `Bearer ${CREDENTIAL}`);
      assert.equal(b.raw, '{}');
    }
    const area = readFileSync(disk).subarray(DISK_BYTES - AREA_BYTES);
    assert.match(area.subarray(0, area.indexOf(0)).toString('utf8'), new RegExp(`^RF_CREDENTIAL='${CREDENTIAL}'$`, 'm'), 'credential stored in the config area');
  });

  it('booting the disk again heartbeats with the stored credential and does not register again', async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64', 'dnsmasq']);
    const disk = join(dir, 'disk.img');
    const r = await runInNetns(scenario(dir, join(dir, 'srv'),
      `-device e1000,netdev=n0,mac=${MAC} -drive file=${disk},if=virtio,format=raw -boot c`,
      '[ "$(count \'"kind":"heartbeat"\')" -ge 1 ]', 150), { timeoutMs: 220_000 });
    const serial = existsSync(join(dir, 'serial.log')) ? readFileSync(join(dir, 'serial.log'), 'utf8') : '';
    assert.match(r.stdout, /found=yes/, `${r.stdout}\n${r.stderr}\n${serial}`);
    const log = requests(dir);
    assert.equal(log.filter((q) => q.kind === 'register').length, 0);
    assert.deepEqual(log.filter((q) => q.kind === 'event').map((e) => e.stage), ['rebooted']);
    assert.equal(log.find((q) => q.kind === 'heartbeat')?.authorization, `Bearer ${CREDENTIAL}`);
    assert.match(serial, /rackforge-node: registered as node1/);
  });
});
