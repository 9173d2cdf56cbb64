// Synthetic PXE nodes against the real provisioner: `rackforge serve` on a tap in a namespace
// this test creates, the tap bridged by a `-machine none` QEMU into a multicast hub on the
// namespace's loopback, and 50 synthetic machines (45 BIOS, half of them in the inventory,
// and 5 UEFI) booting on that hub from one process. Every frame stays inside the namespace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETNS_PRELUDE, runInNetns } from './helpers/netns.ts';
import { requireTools } from './helpers/tools.ts';

const GROUP = '239.255.60.1';
const PORT = 16001;
const COUNT = 50;
const REGISTERED = 25;
const UEFI = 5;
const API = 'http://127.0.0.1:8080/cobbler_api';
const hex = (n: number): string => n.toString(16).padStart(2, '0');
const nameOf = (i: number): string => `syn${String(i).padStart(3, '0')}`;
const macOf = (i: number): string => `52:54:10:00:${hex((i >> 8) & 255)}:${hex(i & 255)}`;
const registered = Array.from({ length: REGISTERED }, (_, k) => k + 1);

function scenario(dir: string): string {
  const systems = registered.map((i) => `${nameOf(i)}=${macOf(i)}`).join(' ');
  return `T=${dir}
${NETNS_PRELUDE}
source test/netboot/serve-lab.sh
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
ip tuntap add dev tap0 mode tap
ip addr add 10.60.0.1/24 dev tap0
ip link set tap0 up
qemu-system-x86_64 -machine none -nodefaults -display none \\
  -netdev tap,id=t0,ifname=tap0,script=no,downscript=no \\
  -netdev socket,id=m0,mcast=${GROUP}:${PORT},localaddr=127.0.0.1 \\
  -netdev hubport,id=p0,hubid=0,netdev=t0 -netdev hubport,id=p1,hubid=0,netdev=m0 2>"$T/bridge.err" &
BRIDGE=$!
head -c 65536 /dev/urandom >"$T/vmlinuz"
head -c 65536 /dev/urandom >"$T/initrd.img"
start_rackforge --interface tap0 --server-ip 10.60.0.1 --dhcp-range 10.60.0.100,10.60.0.250 --gateway 10.60.0.1
"$NODE" --import tsx test/netboot/synthetic-inventory.ts seed ${API} labpass "$T/vmlinuz" "$T/initrd.img" ${systems}
echo '== run'
"$NODE" --import tsx test/netboot/synthetic-run.ts ${GROUP} ${PORT} ${COUNT} 52:54:10:00 uefi=${UEFI} spread=1000 overall=40000
echo "== uefi complete=$(grep -c 'tftp transfer complete .*path="ipxe.efi" .*windowsize=4' "$T/serve.err" || true) aborted=$(grep -c 'tftp transfer aborted-by-client .*path="ipxe.efi".*ERROR 8: User aborted the transfer' "$T/serve.err" || true)"
echo '== events'
"$NODE" --import tsx test/netboot/synthetic-inventory.ts events ${API} ${registered.map(nameOf).join(' ')}
kill $BRIDGE 2>/dev/null || true
kill $RF_PID; wait $RF_PID || true
`;
}

interface NodeSummary { name: string; mac: string; stage: string; ip?: string; bootFile?: string; config?: string; error?: string; events: string[] }
interface BootEventRow { kind: string; detail: string; ip?: string; mac?: string }

describe('synthetic PXE nodes against the real provisioner', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rf-synthetic-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it(`boots ${COUNT} synthetic machines through DHCP, TFTP and HTTP on a QEMU multicast hub`, async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64']);
    const r = await runInNetns(scenario(dir), { timeoutMs: 80_000 });
    const context = `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`;
    assert.equal(r.code, 0, context);
    const runLine = r.stdout.split('== run')[1]?.split('\n').find((l) => l.startsWith('{'));
    const eventsLine = r.stdout.split('== events')[1]?.split('\n').find((l) => l.startsWith('{'));
    assert.ok(runLine && eventsLine, context);
    const run = JSON.parse(runLine) as { nodes: NodeSummary[]; stages: Record<string, number>; port: { sendErrors: number } };
    const events = JSON.parse(eventsLine) as Record<string, BootEventRow[]>;

    assert.equal(run.nodes.length, COUNT);
    for (const n of run.nodes) assert.equal(n.stage, 'done', `${n.name}: ${n.error ?? ''}\n${n.events.join('\n')}`);
    assert.equal(run.port.sendErrors, 0);
    const ips = run.nodes.map((n) => n.ip);
    assert.equal(new Set(ips).size, COUNT, 'no two nodes got the same address');
    assert.ok(ips.every((ip) => /^10\.60\.0\.(1\d\d|2[0-4]\d|250)$/.test(ip ?? '')), `addresses from the pool: ${ips.join(' ')}`);

    for (const i of registered) {
      const n = run.nodes.find((x) => x.name === nameOf(i))!;
      const cfg = `pxelinux.cfg/01-${macOf(i).replace(/:/g, '-')}`;
      assert.equal(n.bootFile, 'pxelinux.0');
      assert.equal(n.config, cfg);
      assert.deepEqual(n.events.map((e) => e.split(' ')[0]), ['dhcp-discover', 'dhcp-ack', 'boot-file', 'config', 'config', 'kernel', 'initrd', 'autoinstall', 'done']);
      assert.match(n.events[7]!, new RegExp(`^autoinstall http://10\\.60\\.0\\.1:8080/cblr/svc/op/autoinstall/system/${nameOf(i)}/token/`));

      // The provisioner's own record of the same boot.
      const ev = events[nameOf(i)]!;
      const has = (kind: string, re: RegExp): boolean => ev.some((e) => e.kind === kind && re.test(e.detail) && (e.ip === undefined || e.ip === n.ip));
      const ctx = `${n.name}: ${JSON.stringify(ev, null, 1)}`;
      assert.ok(has('dhcp-ack', new RegExp(`leased ${n.ip!.replace(/\./g, '\\.')} .*boot pxelinux\\.0`)), ctx);
      assert.ok(has('tftp-file', /^pxelinux\.0 \(\d+ bytes, blksize 1456/), ctx);
      assert.ok(has('tftp-file', /^ldlinux\.c32 \(/), ctx);
      assert.ok(has('tftp-error', /^pxelinux\.cfg\/[0-9a-f-]{36}: not-found/), `the UUID file was asked for first: ${ctx}`);
      assert.ok(has('tftp-file', new RegExp(`^${cfg.replace(/\./g, '\\.')} \\(`)), ctx);
      assert.ok(has('tftp-file', /^\/?images\/syn-distro\/vmlinuz \(65536 bytes/), ctx);
      assert.ok(has('tftp-file', /^\/?images\/syn-distro\/initrd\.img \(65536 bytes/), ctx);
      assert.ok(ev.some((e) => e.kind === 'autoinstall' && /rendered sample\.seed for system /.test(e.detail)), ctx);
    }

    // Machines the inventory does not know: the menu, whose timeout boots the profile of the
    // system named "default".
    for (let i = REGISTERED + 1; i <= COUNT - UEFI; i++) {
      const n = run.nodes.find((x) => x.name === nameOf(i))!;
      assert.equal(n.config, 'pxelinux.cfg/default', n.name);
      assert.match(n.events.find((e) => e.startsWith('autoinstall'))!, /\/cblr\/svc\/op\/autoinstall\/profile\/syn-profile/);
    }
    for (let i = COUNT - UEFI + 1; i <= COUNT; i++) {
      const n = run.nodes.find((x) => x.name === nameOf(i))!;
      assert.equal(n.bootFile, 'ipxe.efi', n.name);
      assert.match(n.events.at(-1)!, /loaded EFI boot file ipxe\.efi \(\d+ bytes\)/);
    }
    // The server saw EDK2's pattern: each size probe aborted with ERROR 8, each read windowed.
    assert.match(r.stdout, new RegExp(`== uefi complete=${UEFI} aborted=${UEFI}\n`));
  });
});
