// QEMU command lines for a lab: one per machine and one for the bridge that joins the
// provisioner's taps to the multicast hubs. Pure: no I/O, no probing; the runner prepares the
// files (raw sparse disks, the node's copy of OVMF_VARS) and spawns
// `qemu-system-x86_64 ...argv` with stderr sent to paths.qemuLog (so no -D here).
//
// Decisions the runner relies on (checked with QEMU 7.2, SeaBIOS and OVMF on Debian 12):
// - `-machine pc` (i440fx) for BIOS and UEFI alike: OVMF PXE-boots on it, and one machine type
//   keeps device paths and PCI slots the same whichever firmware a node has.
// - Disks are virtio-blk-pci over raw files, serial=<disk name> so the guest sees the name in
//   /dev/disk/by-id/virtio-<name>. NICs keep the model the lab gives (e1000 default on BIOS:
//   Debian's iPXE ROM is what works there; UEFI virtio-net-pci gets `romfile=` so OVMF's own
//   PXE drives it).
// - Boot order is bootindex on every NIC and every disk, in the order of node.boot (network
//   first: NICs 1..n in declaration order, then disks), with `-boot strict=on`: only listed
//   devices are tried, so boot [network] never falls to a disk and boot [disk] never PXE-boots.
//   A failing device falls through to the next: SeaBIOS's iPXE gives up after ~20 s and the
//   disk boots; OVMF tries PXEv4 then HTTPv4 boot on each NIC, ~2 min before the disk.
// - reboot-timeout: when every device failed SeaBIOS resets and tries again after
//   BOOT_RETRY_MS, as a server retries PXE until its provisioner answers. OVMF ignores it and,
//   strict or not, ends in its EFI shell (a `Shell>` prompt on the serial console).
// - UEFI nodes run with OVMF's IPv6 stack off (fw_cfg opt/org.tianocore/IPv6Support): lab
//   networks are IPv4, and PXEv6 plus HTTPv6 attempts more than doubled the time to reach the
//   disk and put DHCPv6 noise in captures.
import { RackforgeError } from '../lib/errors.ts';
import type { LabNetwork, LabNode } from './lab-definition.ts';

export interface NodePaths {
  dir: string; qmpSocket: string; serialSocket: string; serialLog: string; qemuLog: string;
  /** Raw image files, same order as node.disks. */
  disks: string[];
  /** The node's own writable copy of OVMF_VARS (UEFI only). */
  ovmfVars?: string;
}
export interface QemuHost { accel: 'tcg' | 'kvm'; /** e.g. /usr/share/OVMF/OVMF_CODE.fd */ ovmfCode: string }

/** How long SeaBIOS waits after every boot device failed before it resets and tries again. */
export const BOOT_RETRY_MS = 10_000;

// The hubs are multicast on loopback: a lab's namespace routes 224.0.0.0/4 to lo, nothing leaves it.
const MCAST_LOCALADDR = '127.0.0.1';
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** QEMU option values end at a comma; a literal comma is written twice. */
function optValue(value: string): string {
  return value.replaceAll(',', ',,');
}

function mcast(net: LabNetwork): string {
  return `mcast=${net.group}:${net.port},localaddr=${MCAST_LOCALADDR}`;
}

/** Arguments (without the program name) for qemu-system-x86_64 running one lab machine. */
export function buildNodeArgv(node: LabNode, networks: LabNetwork[], paths: NodePaths, host: QemuHost): string[] {
  if (paths.disks.length !== node.disks.length) {
    throw new Error(`buildNodeArgv: ${node.name} has ${node.disks.length} disks but ${paths.disks.length} disk paths`);
  }
  if (node.firmware === 'uefi' && !paths.ovmfVars) throw new Error(`buildNodeArgv: ${node.name} is UEFI and needs paths.ovmfVars`);

  const nicBoot: Array<number | undefined> = [];
  const diskBoot: Array<number | undefined> = [];
  let next = 1;
  for (const b of node.boot) {
    if (b === 'network') node.nics.forEach((_, i) => (nicBoot[i] = next++));
    else node.disks.forEach((_, i) => (diskBoot[i] = next++));
  }
  const bootindex = (n: number | undefined): string[] => (n === undefined ? [] : [`bootindex=${n}`]);

  const argv = [
    '-accel', host.accel,
    '-machine', 'pc',
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-name', `${node.name},debug-threads=off`,
    '-smp', String(node.cpus),
    '-m', String(node.memoryMiB),
    '-chardev', `socket,id=serial0,path=${optValue(paths.serialSocket)},server=on,wait=off,logfile=${optValue(paths.serialLog)},logappend=on`,
    '-serial', 'chardev:serial0',
    '-qmp', `unix:${optValue(paths.qmpSocket)},server=on,wait=off`,
    // A guest kernel that panics tells QEMU (pvpanic), which pauses it: the lab reports a crash.
    '-device', 'pvpanic', '-action', 'panic=pause',
    // Started paused: the runner continues it over QMP once it listens for STOP events, so a
    // guest that stops at once (a panic, a KVM error) is seen like any other (qemu-node.ts).
    '-S',
  ];
  if (node.firmware === 'uefi') {
    argv.push(
      '-drive', `if=pflash,format=raw,readonly=on,file=${optValue(host.ovmfCode)}`,
      '-drive', `if=pflash,format=raw,file=${optValue(paths.ovmfVars!)}`,
      '-fw_cfg', 'name=opt/org.tianocore/IPv6Support,string=no',
    );
  }
  node.nics.forEach((nic, i) => {
    const net = networks.find((n) => n.name === nic.network);
    if (!net) throw new RackforgeError('LAB_UNKNOWN_NETWORK', `${node.name}: nics[${i}] is on network '${nic.network}', which the lab does not have`);
    // Under OVMF, QEMU's default virtio ROM is iPXE's EFI driver; without it OVMF's own PXE runs, which is what boots here.
    const rom = node.firmware === 'uefi' && nic.model === 'virtio-net-pci' ? ['romfile='] : [];
    argv.push(
      '-netdev', `socket,id=nic${i},${mcast(net)}`,
      '-device', [nic.model, `netdev=nic${i}`, `mac=${nic.mac}`, ...rom, ...bootindex(nicBoot[i])].join(','),
    );
  });
  node.disks.forEach((disk, i) => {
    argv.push(
      '-drive', `file=${optValue(paths.disks[i]!)},format=raw,if=none,id=disk${i}`,
      '-device', ['virtio-blk-pci', `drive=disk${i}`, `serial=${disk.name}`, ...bootindex(diskBoot[i])].join(','),
    );
  });
  argv.push('-boot', `strict=on,reboot-timeout=${BOOT_RETRY_MS}`);
  return argv;
}

/**
 * Arguments for a QEMU that runs no machine (`-machine none`) and only forwards frames: each
 * network gets one hub holding its multicast socket (netdev `mc-<network>`) and every tap on
 * it (netdev `tap<i>`, i the index in links). A capture can be added with
 * `-object filter-dump,netdev=mc-<network>,...`.
 */
export function buildBridgeArgv(links: Array<{ tap: string; network: LabNetwork }>, qmpSocket?: string): string[] {
  const argv = ['-machine', 'none', '-nodefaults', '-no-user-config', '-display', 'none'];
  if (qmpSocket !== undefined) argv.push('-qmp', `unix:${optValue(qmpSocket)},server=on,wait=off`);
  const hubs = new Map<string, { id: number; network: LabNetwork }>();
  const taps = new Set<string>();
  links.forEach(({ tap, network }, i) => {
    if (!IFNAME.test(tap)) throw new Error(`buildBridgeArgv: '${tap}' is not a usable interface name (1-15 of A-Z a-z 0-9 _ . -)`);
    if (taps.has(tap)) throw new Error(`buildBridgeArgv: tap ${tap} is listed twice`);
    taps.add(tap);
    let hub = hubs.get(network.name);
    if (hub && (hub.network.group !== network.group || hub.network.port !== network.port)) {
      throw new Error(`buildBridgeArgv: network ${network.name} is given with two different groups`);
    }
    if (!hub) {
      hub = { id: hubs.size, network };
      hubs.set(network.name, hub);
      argv.push(
        '-netdev', `socket,id=mc-${network.name},${mcast(network)}`,
        '-netdev', `hubport,id=hp-mc-${network.name},hubid=${hub.id},netdev=mc-${network.name}`,
      );
    }
    argv.push(
      '-netdev', `tap,id=tap${i},ifname=${tap},script=no,downscript=no`,
      '-netdev', `hubport,id=hp-tap${i},hubid=${hub.id},netdev=tap${i}`,
    );
  });
  return argv;
}

/**
 * The tap through which the provisioner serves a network: "rf-" + network name, at most 15
 * characters because network names have at most 12. The lab name is not part of it: each
 * lab runs in its own network namespace, so names cannot clash across labs.
 */
export function tapName(labName: string, network: string): string {
  const name = `rf-${network}`;
  if (!IFNAME.test(name)) throw new RackforgeError('LAB_INVALID', `lab ${labName}: network name '${network}' makes an unusable interface name '${name}'`);
  return name;
}
