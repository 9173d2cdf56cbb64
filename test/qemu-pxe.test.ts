// Real firmware against rackforge alone: QEMU machines (TCG) on a tap device in a namespace
// this test creates, with `rackforge serve` on the tap. BIOS: Debian's iPXE ROM gets a lease,
// loads pxelinux.0 and its per-MAC config over TFTP. UEFI: OVMF's own PXE (virtio-net, no
// option ROM) gets the x86-64 EFI boot file over TFTP, which then runs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETNS_PRELUDE, runInNetns } from './helpers/netns.ts';
import { requireTools } from './helpers/tools.ts';

const MAC = '52:54:00:50:00:01';
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd';

/** Boots a QEMU machine on tap0 and waits until `until` (an ERE) appears in the server's boot-event log lines. */
function scenario(dir: string, qemuArgs: string, until: string, waitSeconds: number): string {
  return `T=${dir}
${NETNS_PRELUDE}
source test/netboot/serve-lab.sh
ip tuntap add dev tap0 mode tap
ip addr add 10.50.0.1/24 dev tap0
ip link set tap0 up
start_rackforge --interface tap0 --server-ip 10.50.0.1 --dhcp-range 10.50.0.100,10.50.0.150 --gateway 10.50.0.1
python3 test/netboot/seed-inventory.py http://127.0.0.1:8080/cobbler_api labpass node1=${MAC}
qemu-system-x86_64 -accel tcg -m 256 -display none -nodefaults -serial "file:$T/serial.log" \\
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no ${qemuArgs} -boot n 2>"$T/qemu.err" &
QEMU=$!
found=no
for i in $(seq 1 ${waitSeconds}); do
  if grep -Eq '${until}' "$T/serve.err"; then found=yes; break; fi
  if ! kill -0 $QEMU 2>/dev/null; then echo "qemu exited"; cat "$T/qemu.err"; break; fi
  sleep 1
done
echo "found=$found after $i s"
echo '== events'
"$NODE" bin/rackforge.js --server http://127.0.0.1:8080 system events node1
kill -9 $QEMU 2>/dev/null || true
kill $RF_PID; wait $RF_PID || true
`;
}

describe('QEMU machines network-boot from rackforge alone', function () {
  this.timeout(240_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rf-qemu-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it("BIOS with Debian's iPXE ROM: DHCP, pxelinux.0, ldlinux.c32 and pxelinux.cfg/01-<mac> over TFTP", async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64', 'python3']);
    assert.ok(existsSync('/usr/lib/PXELINUX/pxelinux.0'), 'apt-get install pxelinux syslinux-common');
    const r = await runInNetns(scenario(dir, `-device e1000,netdev=n0,mac=${MAC}`, 'boot: tftp-file mac="52:54:00:50:00:01".*detail="pxelinux\\.cfg/01-52-54-00-50-00-01 ', 150), { timeoutMs: 200_000 });
    const events = r.stdout.split('== events')[1] ?? '';
    assert.match(r.stdout, /found=yes/, `${r.stdout}\n${r.stderr}`);
    assert.match(events, /dhcp-ack .* leased 10\.50\.0\.1\d\d .*boot pxelinux\.0/);
    assert.match(events, /tftp-file .* pxelinux\.0 \(/);
    assert.match(events, /tftp-file .* ldlinux\.c32 \(/);
  });

  it('UEFI (OVMF, its own PXE on virtio-net): the x86-64 EFI boot file over TFTP', async () => {
    requireTools(['unshare', 'ip', 'qemu-system-x86_64', 'python3']);
    assert.ok(existsSync(OVMF_CODE), 'apt-get install ovmf');
    const vars = join(dir, 'vars.fd');
    const r = await runInNetns(`cp ${OVMF_VARS} ${vars}\n` + scenario(dir,
      `-drive if=pflash,format=raw,readonly=on,file=${OVMF_CODE} -drive if=pflash,format=raw,file=${vars} -device virtio-net-pci,netdev=n0,mac=${MAC},romfile=`,
      'boot: http-file mac="52:54:00:50:00:01".*detail="/cblr/svc/op/ipxe/mac/', 180), { timeoutMs: 230_000 });
    const events = r.stdout.split('== events')[1] ?? '';
    assert.match(r.stdout, /found=yes/, `${r.stdout}\n${r.stderr}`);
    assert.match(events, /dhcp-offer .*boot ipxe\.efi \(efi-x64 firmware\)/);
    assert.match(events, /tftp-file .* ipxe\.efi \(\d+ bytes/, 'OVMF fetched the EFI boot file over TFTP');
    // ipxe.efi ran: iPXE asked again (user class iPXE) and fetched its script over HTTP.
    assert.match(events, /dhcp-ack .*boot http:\/\/10\.50\.0\.1:8080\/cblr\/svc\/op\/ipxe\/mac\/52:54:00:50:00:01/);
    assert.match(events, /http-file .*\/cblr\/svc\/op\/ipxe\/mac\/.*iPXE script for system node1/);
  });
});
