// Boot loaders: the binaries a PXE client fetches first. Cobbler's `mkloaders` copies them into
// its TFTP tree; rackforge serves them straight from where Debian's packages install them, so
// a package upgrade needs no sync. The table is the one place that knows those paths.
import { existsSync } from 'node:fs';

export interface LoaderSpec {
  /** The name clients ask for (TFTP path relative to the root; /boot/<name> over HTTP). */
  name: string;
  /** Where Debian installs it. */
  path: string;
  /** The Debian package that provides it. */
  pkg: string;
}

const BIOS_MODULES = ['ldlinux.c32', 'libutil.c32', 'libcom32.c32', 'menu.c32', 'vesamenu.c32', 'chain.c32', 'reboot.c32', 'poweroff.c32', 'linux.c32'];

export const LOADERS: readonly LoaderSpec[] = [
  { name: 'pxelinux.0', path: '/usr/lib/PXELINUX/pxelinux.0', pkg: 'pxelinux' },
  { name: 'lpxelinux.0', path: '/usr/lib/PXELINUX/lpxelinux.0', pkg: 'pxelinux' },
  ...BIOS_MODULES.map((m) => ({ name: m, path: `/usr/lib/syslinux/modules/bios/${m}`, pkg: 'syslinux-common' })),
  { name: 'undionly.kpxe', path: '/usr/lib/ipxe/undionly.kpxe', pkg: 'ipxe' },
  { name: 'ipxe.efi', path: '/usr/lib/ipxe/ipxe.efi', pkg: 'ipxe' },
  { name: 'snponly.efi', path: '/usr/lib/ipxe/snponly.efi', pkg: 'ipxe' },
  { name: 'grub/grubx64.efi', path: '/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi', pkg: 'grub-efi-amd64-bin' },
  { name: 'grub/grubaa64.efi', path: '/usr/lib/grub/arm64-efi/monolithic/grubnetaa64.efi', pkg: 'grub-efi-arm64-bin' },
];

const BY_NAME: ReadonlyMap<string, LoaderSpec> = new Map(LOADERS.map((l) => [l.name, l]));

/** The loader a (normalised, root-relative) request names, if it is one. */
export function selectLoader(name: string): LoaderSpec | undefined {
  return BY_NAME.get(name);
}

/** Loaders whose file is not on this machine (sync reports them). */
export function missingLoaders(exists: (path: string) => boolean = existsSync): LoaderSpec[] {
  return LOADERS.filter((l) => !exists(l.path));
}
