// Records the golden captures in captures/golden/: real PXE boots, good and broken, that the
// capture analysis is tested against (test/capture-golden.test.ts, test/capture-agreement.test.ts).
//
//   npm run captures:golden -- [--out DIR] [name…]    (no name: every capture; --list shows them)
//
// Every capture is made from scratch by real components: rackforge's own provisioner
// (`rackforge serve` on a tap, or a whole lab with `rackforge lab up`), QEMU with Debian's
// iPXE ROM (BIOS) or OVMF (UEFI), the lab's synthetic PXE clients, Debian's dnsmasq, and
// dumpcap. Everything runs in user + network namespaces made here (`unshare -Urn`, taps and
// QEMU's own hubs, no bridge): nothing is sent anywhere else.
//
// Run time on the project's machine (2 cores, QEMU under TCG, other work running): a full run
// measured 7 min 17 s. The lab-made captures take 10-20 s each, tftp-timeout 45 s, the QEMU
// ones 25-65 s, wrong-arch about 2 minutes (OVMF tries PXE, then DHCPv6, then HTTP boot). Each
// capture's own time is printed and kept in captures/golden/provenance.json.
//
// Frame numbers in captures/golden/manifest.json are checked by hand against each capture
// with tshark: after regenerating a capture, read it again and fix its manifest entry (the
// generator prints the DHCP/TFTP/HTTP frames to make that quick). Then regenerate the
// expected analyses: RACKFORGE_UPDATE_GOLDEN=1 npx mocha test/capture-golden.test.ts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientNetnsScript, NETNS_PRELUDE, REPO_ROOT, runInNetns, shellQuote } from '../test/helpers/netns.ts';

const GOLDEN = join(REPO_ROOT, 'captures', 'golden');
const CLI = join(REPO_ROOT, 'bin', 'rackforge.js');
/** The issue's limits: each capture small enough to commit, all of them together too. */
const MAX_CAPTURE_BYTES = 2 * 1024 * 1024;
const MAX_TOTAL_BYTES = 10 * 1024 * 1024;
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd';

interface Scenario {
  name: string;
  /** The capture's file name in captures/golden/. */
  file: string;
  madeBy: 'lab' | 'dumpcap';
  about: string;
  /** Records the capture into `work` and returns its path there. */
  record(work: string): Promise<string>;
}

// ---------------------------------------------------------------------------------------------
// Shell pieces for the namespace scenarios (after NETNS_PRELUDE). rackforge is started by
// test/netboot/serve-lab.sh (HTTP and API on :8080, admin password "labpass").

/** Seeds the inventory from a JSON spec through the Cobbler API, as an automation script would. */
const SEED_PY = String.raw`
import json, sys, xmlrpc.client
spec = json.loads(sys.argv[1])
s = xmlrpc.client.ServerProxy('http://127.0.0.1:8080/cobbler_api')
t = s.login('cobbler', 'labpass')
for kind in ('distro', 'profile', 'system'):
    for obj in spec.get(kind + 's', []):
        h = getattr(s, 'new_' + kind)(t)
        getattr(s, 'modify_' + kind)(h, 'name', obj['name'], t)
        for k, v in obj.items():
            if k != 'name':
                getattr(s, 'modify_' + kind)(h, k, v, t)
        getattr(s, 'save_' + kind)(h, t)
print('seeded', sum(len(spec.get(k, [])) for k in ('distros', 'profiles', 'systems')))
`;

/** Continues a QEMU started with -S once the network around it is ready. */
const QMP_CONT_PY = String.raw`
import json, socket, sys, time
for i in range(100):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.1)
f = s.makefile('rw')
f.readline()
for cmd in ('qmp_capabilities', 'cont'):
    f.write(json.dumps({'execute': cmd}) + '\n'); f.flush(); f.readline()
`;

const GOLDEN_PRELUDE = String.raw`
source test/netboot/serve-lab.sh
# No IPv6 from the server side: the only IPv6 frames in a capture are the firmware's own.
sysctl -qw net.ipv6.conf.default.disable_ipv6=1
tap_up() { ip tuntap add dev "$1" mode tap; ip link set "$1" up; if [ -n "\${2:-}" ]; then ip addr add "$2" dev "$1"; fi; }
seed() { python3 -c "$SEED_PY" "$1"; }
# capture_start FILE DUMPCAP-ARGS...: dumpcap in the background; returns once it writes.
capture_start() {
  local file=$1; shift
  dumpcap -q "$@" -w "$file" 2>"$T/dumpcap.err" &
  CAP_PID=$!
  for i in $(seq 1 100); do
    if grep -q 'Capturing on' "$T/dumpcap.err" 2>/dev/null; then sleep 0.3; return 0; fi
    if ! kill -0 $CAP_PID 2>/dev/null; then cat "$T/dumpcap.err" >&2; return 1; fi
    sleep 0.1
  done
  echo "dumpcap did not start" >&2; cat "$T/dumpcap.err" >&2; return 1
}
capture_stop() { sleep "\${1:-0.5}"; kill -INT $CAP_PID 2>/dev/null || true; wait $CAP_PID || true; }
# wait_for FILE ERE COUNT SECONDS: until FILE has COUNT lines matching ERE; prints how long it took.
wait_for() {
  local file=$1 re=$2 count=$3 secs=$4 n
  for i in $(seq 1 $((secs * 5))); do
    n=$(grep -Ec "$re" "$file" 2>/dev/null || true)
    if [ "\${n:-0}" -ge "$count" ]; then echo "seen $count x '$re' after $((i / 5)) s"; return 0; fi
    sleep 0.2
  done
  echo "NOT seen $count x '$re' in $secs s (saw \${n:-0})"; return 0
}
# wait_capture FILE DISPLAY-FILTER COUNT SECONDS: until the capture being written holds COUNT such frames.
wait_capture() {
  local file=$1 filter=$2 count=$3 secs=$4 n
  for i in $(seq 1 "$secs"); do
    n=$(tshark -r "$file" -Y "$filter" 2>/dev/null | wc -l || true)
    if [ "\${n:-0}" -ge "$count" ]; then echo "seen $count x '$filter' after $i s"; return 0; fi
    sleep 1
  done
  echo "NOT seen $count x '$filter' in $secs s (saw \${n:-0})"; return 0
}
# qemu_node NAME ARGS...: a TCG machine, serial console to $T/NAME.serial; pid in QEMU_PID.
qemu_node() {
  local name=$1; shift
  qemu-system-x86_64 -accel tcg -display none -nodefaults -serial "file:$T/$name.serial" "$@" 2>"$T/$name.qemu.err" &
  QEMU_PID=$!
}
bios_nic() { echo "-netdev tap,id=n0,ifname=$1,script=no,downscript=no -device e1000,netdev=n0,mac=$2"; }
`.replace(/\\\$/g, '$');

/** The bash script for one namespace scenario: prelude, then `body`, with $T the work folder. */
function netnsScript(work: string, body: string): string {
  return `T=${shellQuote(work)}\nSEED_PY=${shellQuote(SEED_PY)}\nQMP_CONT_PY=${shellQuote(QMP_CONT_PY)}\n${NETNS_PRELUDE}\n${GOLDEN_PRELUDE}\n${body}`;
}

/** Aborted on SIGINT/SIGTERM: the namespace of the scenario under way goes with the generator. */
const stop = new AbortController();

async function inNetns(name: string, work: string, body: string, timeoutMs: number): Promise<void> {
  const r = await runInNetns(netnsScript(work, body), { timeoutMs, signal: stop.signal });
  if (stop.signal.aborted) throw new Error(`${name}: interrupted`);
  writeFileSync(join(work, 'script.out'), `${r.stdout}\n--- stderr\n${r.stderr}`);
  process.stdout.write(r.stdout.split('\n').filter((l) => /^(seen|NOT seen|seeded|note)/.test(l)).map((l) => `  ${name}: ${l}\n`).join(''));
  if (r.code !== 0 || r.killed) throw new Error(`${name}: the scenario failed (exit ${r.code}${r.killed ? ', killed by the timeout' : ''}); see ${work}/script.out\n${r.stderr.slice(-3000)}`);
}

/** The distro and profile of labs/quickstart.yaml: the real node installer built in build/node/. */
function quickstartInventory(): { distros: object[]; profiles: object[] } {
  const kernel = join(REPO_ROOT, 'build', 'node', 'vmlinuz');
  const initrd = join(REPO_ROOT, 'build', 'node', 'initrd.img');
  if (!existsSync(kernel) || !existsSync(initrd)) throw new Error('build/node/ has no node image: run `node scripts/setup.mjs test` first (npm run captures:golden does)');
  return {
    distros: [{ name: 'rackforge-node', kernel, initrd, arch: 'x86_64', breed: 'debian', os_version: 'bookworm' }],
    profiles: [{ name: 'hypervisor', distro: 'rackforge-node', autoinstall: 'rackforge-node.sh', kernel_options: 'console=ttyS0' }],
  };
}

/** A small distro whose kernel and initrd are stand-ins nothing boots: a machine that loads them keeps the capture small. */
function tinyInventory(work: string): { distros: object[]; profiles: object[] } {
  const { kernel, initrd } = tinyImages(work);
  return {
    distros: [{ name: 'tiny', kernel, initrd, arch: 'x86_64', breed: 'debian' }],
    profiles: [{ name: 'tiny', distro: 'tiny' }],
  };
}

/** Deterministic stand-ins for a kernel and an initrd: small, so a capture of their transfer stays small. */
function tinyImages(dir: string): { kernel: string; initrd: string } {
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');
  writeFileSync(kernel, Buffer.alloc(16 * 1024, 'golden kernel '));
  writeFileSync(initrd, Buffer.alloc(32 * 1024, 'golden initrd '));
  return { kernel, initrd };
}

const json = (v: unknown): string => shellQuote(JSON.stringify(v));

// ---------------------------------------------------------------------------------------------
// Lab scenarios: `rackforge lab up` with synthetic clients; the lab's own pcap writer records.

function labCli(args: string[], timeoutMs = 120_000): string {
  return execFileSync(process.execPath, [CLI, 'lab', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

interface SyntheticStatus { stages: Record<string, number>; nodes: number; failed: unknown[] }

async function runLab(work: string, labName: string, yaml: string, settled: (s: SyntheticStatus) => boolean, timeoutMs: number): Promise<string> {
  const file = join(work, `${labName}.yaml`);
  writeFileSync(file, yaml);
  const state = join(work, 'state');
  const captures = join(work, 'captures');
  labCli(['up', file, `--state-dir=${state}`, `--captures=${captures}`, '--accel=tcg']);
  try {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = JSON.parse(labCli(['status', '--json', '--synthetic', `--state-dir=${state}`])) as { synthetic: SyntheticStatus };
      writeFileSync(join(work, 'status.json'), JSON.stringify(s, null, 1));
      if (settled(s.synthetic)) break;
      if (Date.now() > until) throw new Error(`${labName}: the synthetic machines did not settle in ${timeoutMs} ms: ${JSON.stringify(s.synthetic.stages)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Retransmissions and late frames land in the capture too.
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    labCli(['down', `--state-dir=${state}`]);
  }
  return join(captures, labName, 'prov.pcap');
}

const settledCount = (s: SyntheticStatus): number => (s.stages['done'] ?? 0) + (s.stages['failed'] ?? 0) + (s.stages['local-boot'] ?? 0);

function labYaml(labName: string, octet: number, profiles: string, synthetic: string): string {
  return `lab: ${labName}
networks:
  - name: prov
    group: 239.255.${octet}.1
    port: ${19000 + octet}
    subnet: 10.${octet}.0.0/24
provisioner:
  network: prov
  address: 10.${octet}.0.1
  dhcp_range: 10.${octet}.0.100-10.${octet}.0.150
  inventory:
    distros:
      - { name: tiny, kernel: vmlinuz, initrd: initrd.img, arch: x86_64, breed: debian }
    profiles:
${profiles}
synthetic:
${synthetic}
`;
}

// ---------------------------------------------------------------------------------------------

const SCENARIOS: Scenario[] = [
  {
    name: 'good-bios',
    file: 'good-bios.pcapng',
    madeBy: 'dumpcap',
    about: "QEMU BIOS (iPXE ROM) boots pxelinux, the quickstart node installer's kernel and initrd over TFTP; the installer fetches its autoinstall file and reports installer-started",
    async record(work) {
      const inv = quickstartInventory();
      const mac = '52:54:00:81:00:01';
      const out = join(work, 'capture.pcapng');
      const sorted = join(work, 'sorted.pcapng');
      // Two dumpcap handles on the same tap, with complementary filters: everything the
      // analysis reads (ARP, DHCP, TFTP requests, ACKs, errors and OACKs, TCP segments short of
      // a full 1514-byte frame) whole, and the ~6,900 bulk DATA frames of the 9.5 MB kernel and
      // initrd cut to 64 bytes (their Ethernet/IP/UDP/TFTP headers), so the file stays under
      // 2 MB. dumpcap writes each handle's packets in batches, so the file is put back in time
      // order with reordercap (Wireshark's own tool) afterwards.
      const whole = 'arp or udp port 67 or udp port 68 or udp dst port 69 or less 700 or (tcp and less 1513)';
      await inNetns('good-bios', work, `
tap_up tap0 10.81.0.1/24
truncate -s 64M "$T/disk0.img"
capture_start ${shellQuote(out)} -i tap0 -f ${shellQuote(whole)} -i tap0 -s 64 -f ${shellQuote(`not (${whole})`)}
start_rackforge --interface tap0 --server-ip 10.81.0.1 --dhcp-range 10.81.0.100,10.81.0.150 --gateway 10.81.0.1
seed ${json({ ...inv, systems: [{ name: 'node1', profile: 'hypervisor', hostname: 'node1', netboot_enabled: true, modify_interface: { 'macaddress-eth0': mac } }] })}
qemu_node node1 -m 512 $(bios_nic tap0 ${mac}) -drive file="$T/disk0.img",format=raw,if=virtio -boot n
wait_for "$T/serve.err" 'boot: install .*installer-started' 1 420
# Stop the machine at once: the node image download that follows is not part of this capture.
kill -9 $QEMU_PID; wait $QEMU_PID || true
capture_stop 1
kill $RF_PID; wait $RF_PID || true
reordercap ${shellQuote(out)} ${shellQuote(sorted)} >/dev/null
`, 480_000);
      return sorted;
    },
  },
  {
    name: 'good-synthetic',
    file: 'good-synthetic.pcap',
    madeBy: 'lab',
    about: 'a lab of two synthetic BIOS and two synthetic UEFI machines booting from rackforge: pxelinux and its config, kernel, initrd and autoinstall file (BIOS), the EFI boot file (UEFI)',
    async record(work) {
      tinyImages(work);
      const yaml = labYaml('golden-good', 82, `      - { name: bios-ok, distro: tiny }
      # snponly.efi (iPXE's SNP-only build, 174 KB) rather than ipxe.efi (850 KB): a small capture.
      - { name: uefi-ok, distro: tiny, filename: snponly.efi }`,
      `  - { prefix: bios, network: prov, count: 2, mac_base: "52:54:01:82:00:01", firmware: bios, profile: bios-ok }
  - { prefix: uefi, network: prov, count: 2, mac_base: "52:54:01:82:01:01", firmware: uefi, profile: uefi-ok }`);
      return runLab(work, 'golden-good', yaml, (s) => settledCount(s) === 4, 120_000);
    },
  },
  {
    name: 'no-offer',
    file: 'no-offer.pcapng',
    madeBy: 'dumpcap',
    about: 'rackforge with --unknown-machines ignore; a QEMU BIOS machine whose MAC is in no system broadcasts DISCOVERs that nobody answers',
    async record(work) {
      const out = join(work, 'capture.pcapng');
      await inNetns('no-offer', work, `
tap_up tap0 10.83.0.1/24
capture_start ${shellQuote(out)} -i tap0
start_rackforge --interface tap0 --server-ip 10.83.0.1 --dhcp-range 10.83.0.100,10.83.0.150 --unknown-machines ignore
seed ${json({ ...tinyInventory(work), systems: [{ name: 'known1', profile: 'tiny', modify_interface: { 'macaddress-eth0': '52:54:00:83:00:01' } }] })}
# reboot-timeout: SeaBIOS starts over 5 s after iPXE gives up, as a server retrying PXE would.
qemu_node stranger -m 256 $(bios_nic tap0 52:54:00:83:00:99) -boot n,reboot-timeout=5000
wait_capture ${shellQuote(out)} 'dhcp.option.dhcp == 1' 9 240
kill -9 $QEMU_PID; wait $QEMU_PID || true
capture_stop
kill $RF_PID; wait $RF_PID || true
`, 300_000);
      return out;
    },
  },
  {
    name: 'missing-boot-file',
    file: 'missing-boot-file.pcapng',
    madeBy: 'dumpcap',
    about: "Debian's dnsmasq as the only DHCP server, with a range and no dhcp-boot: a QEMU BIOS machine gets an address and no boot file, twice (SeaBIOS retries)",
    async record(work) {
      const out = join(work, 'capture.pcapng');
      await inNetns('missing-boot-file', work, `
tap_up tap0 10.84.0.1/24
capture_start ${shellQuote(out)} -i tap0
dnsmasq --no-daemon --port=0 --interface=tap0 --bind-interfaces --dhcp-range=10.84.0.100,10.84.0.150,1h --no-ping \\
  --dhcp-leasefile="$T/dnsmasq.leases" --log-dhcp --log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" &
DNSMASQ=$!
sleep 0.5
qemu_node node1 -m 256 $(bios_nic tap0 52:54:00:84:00:01) -boot n,reboot-timeout=5000
wait_for "$T/dnsmasq.log" 'DHCPACK' 2 180
sleep 2
kill -9 $QEMU_PID; wait $QEMU_PID || true
capture_stop
kill $DNSMASQ; wait $DNSMASQ || true
`, 240_000);
      return out;
    },
  },
  {
    name: 'tftp-not-found',
    file: 'tftp-not-found.pcap',
    madeBy: 'lab',
    about: "a lab whose profile `legacy` sets Cobbler's filename to pxelinux-old.0, which does not exist: its synthetic machine gets TFTP error 1; the machines of profile `current` load pxelinux.0",
    async record(work) {
      tinyImages(work);
      const yaml = labYaml('golden-notfound', 85, `      - { name: current, distro: tiny }
      - { name: legacy, distro: tiny, filename: pxelinux-old.0 }`,
      `  - { prefix: ok, network: prov, count: 2, mac_base: "52:54:01:85:00:01", firmware: bios, profile: current }
  - { prefix: old, network: prov, count: 1, mac_base: "52:54:01:85:01:01", firmware: bios, profile: legacy }`);
      return runLab(work, 'golden-notfound', yaml, (s) => settledCount(s) === 3, 120_000);
    },
  },
  {
    name: 'wrong-arch',
    file: 'wrong-arch.pcapng',
    madeBy: 'dumpcap',
    about: "a QEMU UEFI machine (OVMF's own PXE on virtio-net) whose system sets filename pxelinux.0, a BIOS boot file: OVMF loads it over TFTP, cannot run it, and loads it again by UEFI HTTP boot",
    async record(work) {
      const out = join(work, 'capture.pcapng');
      const vars = join(work, 'OVMF_VARS.fd');
      copyFileSync(OVMF_VARS, vars);
      const mac = '52:54:00:86:00:01';
      await inNetns('wrong-arch', work, `
tap_up tap0 10.86.0.1/24
capture_start ${shellQuote(out)} -i tap0
start_rackforge --interface tap0 --server-ip 10.86.0.1 --dhcp-range 10.86.0.100,10.86.0.150 --gateway 10.86.0.1
seed ${json({ ...tinyInventory(work), systems: [{ name: 'efi1', profile: 'tiny', filename: 'pxelinux.0', netboot_enabled: true, modify_interface: { 'macaddress-eth0': mac } }] })}
qemu_node efi1 -m 256 -drive if=pflash,format=raw,readonly=on,file=${OVMF_CODE} -drive if=pflash,format=raw,file=${shellQuote(vars)} \\
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=${mac},romfile= -boot n
# OVMF loads pxelinux.0 over TFTP (PXE), cannot start it, then tries UEFI HTTP boot, where
# rackforge hands it the same file as a URL; its DHCPv6 attempts after that end the capture.
wait_for "$T/serve.err" 'boot: http-file .*/boot/pxelinux\\.0' 1 300
sleep 30
kill -9 $QEMU_PID; wait $QEMU_PID || true
capture_stop
kill $RF_PID; wait $RF_PID || true
`, 400_000);
      return out;
    },
  },
  {
    name: 'ipxe-loop',
    file: 'ipxe-loop.pcapng',
    madeBy: 'dumpcap',
    about: "a QEMU BIOS machine whose system sets filename undionly.kpxe: the iPXE ROM chain-loads undionly.kpxe, which as iPXE asks again and is given undionly.kpxe again, round and round",
    async record(work) {
      const out = join(work, 'capture.pcapng');
      const mac = '52:54:00:87:00:01';
      await inNetns('ipxe-loop', work, `
tap_up tap0 10.87.0.1/24
capture_start ${shellQuote(out)} -i tap0
start_rackforge --interface tap0 --server-ip 10.87.0.1 --dhcp-range 10.87.0.100,10.87.0.150 --gateway 10.87.0.1
seed ${json({ ...tinyInventory(work), systems: [{ name: 'loop1', profile: 'tiny', filename: 'undionly.kpxe', netboot_enabled: true, modify_interface: { 'macaddress-eth0': mac } }] })}
qemu_node loop1 -m 256 $(bios_nic tap0 ${mac}) -boot n
wait_for "$T/serve.err" 'boot: tftp-file .*undionly\\.kpxe \\(' 3 240
sleep 3
kill -9 $QEMU_PID; wait $QEMU_PID || true
capture_stop
kill $RF_PID; wait $RF_PID || true
`, 300_000);
      return out;
    },
  },
  {
    name: 'rogue-dhcp',
    file: 'rogue-dhcp.pcapng',
    madeBy: 'dumpcap',
    about: "rackforge and a second DHCP server (Debian's dnsmasq, another range, no boot file, its own host) on one segment: both answer a QEMU BIOS machine",
    async record(work) {
      const out = join(work, 'capture.pcapng');
      const mac = '52:54:00:88:00:01';
      // One segment without a bridge: the machine's own QEMU hub joins its NIC, rackforge's tap0
      // and tap1, and tap1 is moved into a second namespace where dnsmasq runs, with its own
      // address and MAC, as another host on the wire would.
      await inNetns('rogue-dhcp', work, `
tap_up tap0 10.88.0.1/24
ip tuntap add dev tap1 mode tap
netns_new ROGUE
qemu_node node1 -m 256 -S -qmp unix:"$T/qmp.sock",server=on,wait=off \\
  -netdev hubport,id=h0,hubid=0 -device e1000,netdev=h0,mac=${mac} \\
  -netdev tap,id=t0,ifname=tap0,script=no,downscript=no -netdev hubport,id=p0,hubid=0,netdev=t0 \\
  -netdev tap,id=t1,ifname=tap1,script=no,downscript=no -netdev hubport,id=p1,hubid=0,netdev=t1 -boot n
sleep 1
ip link set tap1 netns "$ROGUE"
in_netns "$ROGUE" sysctl -qw net.ipv6.conf.tap1.disable_ipv6=1
in_netns "$ROGUE" ip addr add 10.88.0.2/24 dev tap1
in_netns "$ROGUE" ip link set tap1 up
capture_start ${shellQuote(out)} -i tap0
in_netns "$ROGUE" dnsmasq --no-daemon --port=0 --interface=tap1 --bind-interfaces --dhcp-range=10.88.0.200,10.88.0.250,1h --no-ping \\
  --dhcp-leasefile="$T/dnsmasq.leases" --log-dhcp --log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" &
DNSMASQ=$!
start_rackforge --interface tap0 --server-ip 10.88.0.1 --dhcp-range 10.88.0.100,10.88.0.150 --gateway 10.88.0.1
seed ${json({ ...tinyInventory(work), systems: [{ name: 'node1', profile: 'tiny', netboot_enabled: true, modify_interface: { 'macaddress-eth0': mac } }] })}
python3 -c "$QMP_CONT_PY" "$T/qmp.sock"
wait_for "$T/serve.err" 'boot: tftp-file .*pxelinux\\.cfg/01-' 1 90
# At once: the tiny stand-in kernel is no kernel, and pxelinux would load it again and again.
kill -9 $QEMU_PID; wait $QEMU_PID || true
capture_stop
kill $DNSMASQ $RF_PID; wait $RF_PID || true
`, 150_000);
      return out;
    },
  },
  {
    name: 'tftp-timeout',
    file: 'tftp-timeout.pcapng',
    madeBy: 'dumpcap',
    about: "Debian's tftp-hpa reads a kernel from rackforge into a pipe nobody drains: after 64 KiB the client blocks and stops ACKing; rackforge retransmits its last DATA block with a growing delay, then gives up",
    async record(work) {
      const out = join(work, 'capture.pcapng');
      const kernel = join(work, 'vmlinuz');
      const initrd = join(work, 'initrd.img');
      writeFileSync(kernel, Buffer.alloc(1024 * 1024, 'golden big kernel '));
      writeFileSync(initrd, Buffer.alloc(32 * 1024, 'golden initrd '));
      // The client has its address already (no DHCP): only the transfer is in the capture.
      // The pipe is held open here for reading and never read: tftp-hpa's write blocks once
      // the pipe buffer is full, as a client stalled on a slow disk would.
      await inNetns('tftp-timeout', work, `
${clientNetnsScript({ pidVar: 'C', hostIf: 'srv0', peerIf: 'cli', hostCidr: '10.89.0.1/24', peerCidr: '10.89.0.50/24', peerMac: '52:54:00:89:00:07' })}
capture_start ${shellQuote(out)} -i srv0
start_rackforge --interface srv0 --server-ip 10.89.0.1 --dhcp-range 10.89.0.100,10.89.0.150
seed ${json({ distros: [{ name: 'big', kernel, initrd, arch: 'x86_64', breed: 'debian' }], profiles: [{ name: 'big', distro: 'big' }] })}
mkfifo "$T/sink"
exec 3<>"$T/sink"
in_netns "$C" tftp -m binary 10.89.0.1 -c get images/big/vmlinuz "$T/sink" &
TFTP=$!
wait_for "$T/serve.err" 'tftp-(file|error) .*images/big/vmlinuz' 1 90
# The capture goes on after the server has given up, as a real one would: a transfer is only
# known to have stalled when the capture outlives it. An operator's ping marks the time.
sleep 10
in_netns "$C" busybox ping -c 1 -W 1 10.89.0.1 >/dev/null || true
kill -9 $TFTP; wait $TFTP || true
capture_stop
kill $RF_PID; wait $RF_PID || true
`, 150_000);
      return out;
    },
  },
];

// ---------------------------------------------------------------------------------------------

function tool(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

function versions(): Record<string, string> {
  const dpkg = (pkg: string): string => tool('dpkg-query', ['-W', '-f', '${Version}', pkg]).trim();
  return {
    rackforge: (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    node: process.version,
    qemu: dpkg('qemu-system-x86'),
    ipxe: dpkg('ipxe-qemu'),
    ovmf: dpkg('ovmf'),
    pxelinux: dpkg('pxelinux'),
    dnsmasq: dpkg('dnsmasq-base'),
    dumpcap: dpkg('wireshark-common'),
    kernel: tool('uname', ['-r']).trim(),
  };
}

/** The frames a person checks the manifest against: DHCP, TFTP requests/errors/OACKs, HTTP. */
function keyFrames(file: string): string {
  return tool('tshark', ['-r', file, '-Y', 'dhcp || (tftp && tftp.opcode != 3 && tftp.opcode != 4) || http.request || http.response', '-T', 'fields', '-E', 'separator=\t',
    '-e', 'frame.number', '-e', 'frame.time_relative', '-e', 'eth.src', '-e', 'ip.src', '-e', 'ip.dst', '-e', '_ws.col.Info']);
}

async function main(): Promise<void> {
  let args = process.argv.slice(2);
  // --out DIR records into DIR instead (a trial run, or timing one) and leaves captures/golden alone.
  const outAt = args.indexOf('--out');
  const outDir = outAt >= 0 ? args[outAt + 1] : undefined;
  if (outAt >= 0) {
    if (!outDir) throw new Error('--out needs a folder');
    args = args.filter((_, i) => i !== outAt && i !== outAt + 1);
  }
  const target = outDir ?? GOLDEN;
  if (args.includes('--list')) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(20)} ${s.madeBy.padEnd(8)} ${s.about}`);
    return;
  }
  const unknown = args.filter((a) => !SCENARIOS.some((s) => s.name === a));
  if (unknown.length > 0) throw new Error(`unknown capture(s): ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const chosen = args.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => args.includes(s.name));
  mkdirSync(target, { recursive: true });
  const provenanceFile = join(target, 'provenance.json');
  const provenance = (existsSync(provenanceFile) ? JSON.parse(readFileSync(provenanceFile, 'utf8')) : {}) as Record<string, unknown>;
  const tools = versions();
  const started = Date.now();
  for (const s of chosen) {
    const work = mkdtempSync(join(tmpdir(), `rf-golden-${s.name}-`));
    const t0 = Date.now();
    console.log(`${s.name}: recording (${s.madeBy}) in ${work}`);
    const made = await s.record(work);
    const bytes = statSync(made).size;
    if (bytes > MAX_CAPTURE_BYTES) throw new Error(`${s.name}: ${bytes} bytes, more than ${MAX_CAPTURE_BYTES}; kept in ${work}`);
    const dest = join(target, s.file);
    copyFileSync(made, dest);
    chmodSync(dest, 0o644); // dumpcap writes 0600
    const frames = Number(tool('capinfos', ['-M', '-c', '-T', dest]).trim().split('\n').pop()!.split('\t')[1]);
    const seconds = Math.round((Date.now() - t0) / 1000);
    provenance[s.name] = {
      file: s.file, madeBy: s.madeBy, about: s.about, recordedAt: new Date().toISOString(), seconds, bytes, frames,
      sha256: createHash('sha256').update(readFileSync(dest)).digest('hex'), versions: tools,
    };
    writeFileSync(provenanceFile, `${JSON.stringify(provenance, null, 2)}\n`);
    console.log(`${s.name}: ${s.file}, ${bytes} bytes, ${frames} frames, ${seconds} s`);
    console.log(keyFrames(dest).split('\n').slice(0, 80).map((l) => `    ${l}`).join('\n'));
    rmSync(work, { recursive: true, force: true });
  }
  const total = SCENARIOS.reduce((n, s) => n + (existsSync(join(target, s.file)) ? statSync(join(target, s.file)).size : 0), 0);
  if (total > MAX_TOTAL_BYTES) throw new Error(`the golden captures hold ${total} bytes together, more than ${MAX_TOTAL_BYTES}`);
  console.log(`done: ${chosen.length} capture(s) in ${Math.round((Date.now() - started) / 1000)} s; ${target} holds ${total} bytes of captures.`);
  console.log('Now check the frame numbers in captures/golden/manifest.json against the frames above, then');
  console.log('RACKFORGE_UPDATE_GOLDEN=1 npx mocha test/capture-golden.test.ts');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
