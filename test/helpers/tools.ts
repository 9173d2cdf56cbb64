// Real clients are the point of the network tests: a missing one fails the test with the Debian
// package to install (scripts/setup.mjs installs them for `npm test`), it is never skipped.
import { execFileSync } from 'node:child_process';

const PACKAGE_OF: Record<string, string> = {
  unshare: 'util-linux', nsenter: 'util-linux', ip: 'iproute2', dhclient: 'isc-dhcp-client', udhcpc: 'udhcpc',
  tftp: 'tftp-hpa', atftp: 'atftp', curl: 'curl', python3: 'python3', dnsmasq: 'dnsmasq-base',
  'qemu-system-x86_64': 'qemu-system-x86', perfdhcp: 'kea-admin', 'in.tftpd': 'tftpd-hpa', 'kea-dhcp4': 'kea-dhcp4-server',
};

export function requireTools(tools: readonly string[]): void {
  const missing = tools.filter((t) => {
    try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }); return false; } catch { return true; }
  });
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: apt-get install ${[...new Set(missing.map((t) => PACKAGE_OF[t] ?? t))].join(' ')} (npm test installs them when run as root)`);
  }
}
