// GRUB 2 configuration text: the static grub.cfg every network GRUB image reads, which
// sources the per-MAC file through ${net_default_mac} (Cobbler's config/grub/grub.cfg), the
// per-system file (grub/system/<mac>, grub.template) and per-arch profile menus. Pure.
//
// Unlike Cobbler we call `linux`/`initrd` directly: the `linuxefi`/`initrdefi` commands its
// clinux/cinitrd wrappers need are gone from GRUB >= 2.06 (cobbler issue #4087), and plain
// `linux` has handled EFI since 2.04.
import type { BootEntry } from './boot-entry.ts';

/** GRUB's $grub_cpu → the inventory's arch, for the menu file names. */
export const GRUB_CPU_ARCH: Readonly<Record<string, string>> = Object.freeze({
  x86_64: 'x86_64', i386: 'i386', arm64: 'aarch64', arm: 'arm', powerpc: 'ppc64le',
});

/** GRUB sees `;`, `|`, `&`, `<`, `>` and spaces as syntax: such arguments are single-quoted. */
export function grubQuote(arg: string): string {
  if (!/[;|&<>\s'"]/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function menuentry(entry: BootEntry): string[] {
  if (entry.local || !entry.kernelPath) return [];
  const lines = [
    `menuentry '${entry.name}' --class gnu-linux --class gnu --class os {`,
    "  echo 'Loading kernel ...'",
    `  linux ${[entry.kernelPath, ...entry.args].map(grubQuote).join(' ')}`,
    "  echo 'Loading initial ramdisk ...'",
    `  initrd ${(entry.initrdPaths ?? []).map(grubQuote).join(' ')}`,
    "  echo '...done'",
    '}',
  ];
  return lines;
}

/** grub/system/<mac>: select this system's entry, or `local` when netboot is off. */
export function renderGrubSystem(entry: BootEntry): string {
  const lines = [
    ...entry.warnings.map((w) => `# ${w}`),
    `set system="${entry.name}"`,
    'set timeout=1',
    `set default='${entry.local || !entry.kernelPath ? 'local' : entry.name}'`,
    ...menuentry(entry),
    '',
  ];
  return lines.join('\n');
}

/** grub/<arch>_menu_items.cfg: one menuentry per menu profile of that arch. */
export function renderGrubMenuItems(entries: readonly BootEntry[]): string {
  return entries.flatMap((e) => [...menuentry(e), '']).join('\n');
}

/**
 * grub/grub.cfg. The per-MAC file sets `default` (to its system or to `local`) before the
 * menu is drawn; machines without one get the profile menu with `local` as the default.
 */
export function renderGrubCfg(): string {
  return `# rackforge: read by every network GRUB image (prefix = the grub/ directory)
set default='local'
set timeout=20
insmod all_video
insmod http
insmod tftp

set arch=\${grub_cpu}
${Object.entries(GRUB_CPU_ARCH).filter(([cpu, arch]) => cpu !== arch).map(([cpu, arch]) => `if [ "\${grub_cpu}" = "${cpu}" ]; then set arch=${arch}; fi`).join('\n')}

if [ -n "\${net_default_mac}" ]; then
  set mac=\${net_default_mac}
  if [ -f "\${prefix}/system/\${mac}" ]; then
    source "\${prefix}/system/\${mac}"
  fi
fi

menuentry 'local' --class os {
  if [ "\${grub_platform}" = "efi" ]; then
    for f in /EFI/ubuntu/shimx64.efi /EFI/debian/shimx64.efi /EFI/redhat/shimx64.efi /EFI/centos/shimx64.efi /EFI/rocky/shimx64.efi /EFI/opensuse/shim.efi /EFI/sles/shim.efi /EFI/BOOT/BOOTX64.EFI /EFI/BOOT/BOOTAA64.EFI; do
      if search --no-floppy --file --set=disk "\$f"; then
        set root=\$disk
        chainloader "\$f"
        boot
      fi
    done
    exit
  else
    set root=(hd0)
    chainloader +1
    boot
  fi
}

# BIOS GRUB (grub.0) runs 64-bit kernels too.
if [ "\${grub_cpu}" = "i386" ]; then
  source "\${prefix}/i386_menu_items.cfg"
  set arch=x86_64
fi
source "\${prefix}/\${arch}_menu_items.cfg"
`;
}

/** <tftproot>/grub.cfg: for GRUB images built without a prefix, which look in the root. */
export function renderRootGrubCfg(): string {
  return `# rackforge: GRUB images without a prefix read this; the real configuration is grub/grub.cfg
set prefix=(\${root})/grub
source "\${prefix}/grub.cfg"
`;
}
