#!/usr/bin/env node
// Installs what `npm start` / `npm test` need and is missing: npm packages, then Debian
// packages (apt-get when root; otherwise prints the exact command and stops).
// Plain JavaScript on purpose: it runs before any dependency (tsx included) is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'test';

/** Debian packages per job. The reason is printed when something is missing. */
const BOOT = [
  ['pxelinux', 'pxelinux.0, the BIOS boot loader the provisioner serves over TFTP'],
  ['syslinux-common', "pxelinux's modules (ldlinux.c32, menu.c32)"],
  ['ipxe', 'iPXE boot loaders (undionly.kpxe, ipxe.efi) the provisioner serves'],
];
/** What a lab needs on the host: QEMU machines, their firmware, and the namespace tools. */
const LAB = [
  ['qemu-system-x86', 'lab machines are QEMU processes'],
  ['ipxe-qemu', "lab machines' NICs PXE-boot with iPXE ROMs"],
  ['ovmf', 'UEFI firmware for lab machines with firmware: uefi'],
  ['iproute2', 'the lab network lives in its own namespace with a tap device'],
  ['util-linux', 'unshare and setpriv: the lab namespace, and machines that die with the lab'],
];
/**
 * What scripts/build-node-image.mjs reads to build the hypervisor-node OS (build/node/), besides
 * syslinux-common (in BOOT), whose mbr.bin becomes node.img's master boot record.
 */
const NODE_IMAGE = [
  ['busybox-static', 'the node installer and the installed node run on busybox (build/node/*.img)'],
  ['syslinux', "makes build/node/node.img bootable: syslinux's FAT boot sector and ldlinux.sys"],
  ['mtools', 'formats and fills the FAT partition of node.img without mounting it'],
];
const DEBIAN = {
  start: [...BOOT, ...LAB, ...NODE_IMAGE],
  bench: [
    ['kea-admin', "Kea's perfdhcp drives the DHCP lease-rate benchmark"],
    ['kea-dhcp4-server', 'Kea is a DHCP server the benchmark compares against'],
    ['dnsmasq-base', 'dnsmasq is a DHCP and TFTP server the benchmark compares against'],
    ['tftpd-hpa', 'tftpd-hpa is the TFTP server the benchmark compares against'],
    ['atftp', 'atftp is the one Debian TFTP client that asks for windowsize'],
    ['curl', "curl's TFTP client is the second client of the TFTP benchmark"],
    ['iproute2', 'the benchmarks run in network namespaces with veth pairs'],
    ['gcc', 'the benchmark compiles a small preload library that lets tftpd-hpa run in a user namespace'],
  ],
  test: [
    ...BOOT,
    ...LAB,
    ...NODE_IMAGE,
    ['tshark', "Wireshark's tshark checks the lab's captures"],
    ['isc-dhcp-client', "Debian's dhclient is a real DHCP client in the tests"],
    ['udhcpc', "busybox's udhcpc is a real DHCP client in the tests"],
    ['tftp-hpa', 'tftp-hpa is a real TFTP client in the tests'],
    ['atftp', 'atftp is the TFTP client that asks for windowsize in the tests'],
    ['dnsmasq-base', 'dnsmasq serves addresses next to rackforge\'s ProxyDHCP in the tests'],
    ['python3', "Debian's python3 runs the Cobbler client scripts in the tests"],
    ['ansible', 'the real community.general Cobbler module and inventory plugin are tested against the API'],
    ['openssl', 'the HTTPS tests make a throwaway certificate'],
    ['curl', "curl's TFTP client is a real peer for the TFTP codec tests"],
    ['chromium', "Chromium renders the web UI's pages in the tests"],
  ],
};

function npmPackagesMissing() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  if (names.some((n) => !existsSync(join(root, 'node_modules', n, 'package.json')))) return true;
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(lock) && (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs + 1000)) return true;
  // The native SQLite binding is built at install time; a half-finished install lacks it.
  return !existsSync(join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
}

function installNpm() {
  const useCi = existsSync(join(root, 'package-lock.json'));
  console.error(`setup: installing npm packages (npm ${useCi ? 'ci' : 'install'}; the SQLite binding compiles from source, about a minute)`);
  const r = spawnSync('npm', [useCi ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('setup: npm install failed; python3, make and g++ are needed to build better-sqlite3');
    process.exit(r.status ?? 1);
  }
}

function debianMissing(list) {
  return list.filter(([name]) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function installDebian(missing) {
  const names = missing.map(([n]) => n);
  for (const [n, why] of missing) console.error(`setup: missing Debian package ${n}: ${why}`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`;
  if (!isRoot) {
    console.error(`setup: run as root, then try again:\n  sudo sh -c '${cmd}'`);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...names]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) { console.error(`setup: apt-get ${args[0]} failed`); process.exit(r.status ?? 1); }
  }
}

if (!(mode in DEBIAN)) { console.error(`setup: unknown mode ${mode} (start, test or bench)`); process.exit(2); }
if (npmPackagesMissing()) installNpm();
// The DHCP server's per-interface socket is a small native addon (provisioner/net/native).
const { buildNative } = await import('./build-native.mjs');
buildNative({ quiet: true });
const missing = existsSync('/usr/bin/dpkg-query') ? debianMissing(DEBIAN[mode]) : [];
if (missing.length > 0) installDebian(missing);
// The hypervisor-node OS (kernel, installer initramfs, node.img) from Debian packages; a no-op
// when build/node/ is up to date, about 10 s otherwise (plus a 70 MB kernel download the first time).
if (mode === 'start' || mode === 'test') {
  const { buildNodeImage } = await import('./build-node-image.mjs');
  try {
    buildNodeImage({ quiet: true });
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
