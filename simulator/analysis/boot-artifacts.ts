// What a file or URL is in a network boot, read from its name: the boot loader a DHCP server
// hands out (and the firmware it runs on), a loader's config search, an iPXE script, a kernel,
// an initrd, an autoinstall file, rackforge's install callbacks and the controller's API. Plus
// the one piece of content evidence a capture can give cheaply: the PE header in the first
// TFTP block says which CPU an EFI binary is for, and its absence says "BIOS NBP".
// Pure and table-tested; the analyzer and the diagnosis both classify through here.
import { CLIENT_ARCH, firmwareOf } from '../../provisioner/dhcp/boot-choice.ts';

/** The firmware a boot file runs on; 'efi' is UEFI with no CPU named in the file name. */
export type BootFirmware = 'bios' | 'efi' | 'efi-x64' | 'efi-ia32' | 'efi-arm64' | 'efi-arm32';

export type ArtifactRole =
  | 'boot-loader'     // pxelinux.0, grubx64.efi, shim, bootx64.efi …
  | 'ipxe-binary'     // undionly.kpxe, ipxe.efi, snponly.efi …
  | 'loader-module'   // ldlinux.c32 and friends
  | 'loader-config'   // pxelinux.cfg/…, grub.cfg…
  | 'ipxe-script'     // /cblr/svc/op/ipxe/…, /ipxe/…, *.ipxe
  | 'kernel'
  | 'initrd'
  | 'autoinstall'     // /cblr/svc/op/autoinstall|ks/…, preseed, ks.cfg, user-data …
  | 'install-event'   // /cblr/svc/op/event/system/NAME/token/T/stage/STAGE
  | 'install-trigger' // /cblr/svc/op/trig/mode/MODE/…
  | 'nopxe'           // /cblr/svc/op/nopxe/system/NAME
  | 'registration'    // POST /api/v1/hypervisors
  | 'heartbeat'       // POST /api/v1/hypervisors/NAME/heartbeat
  | 'listing'         // /cblr/svc/op/list/…
  | 'other';

export interface BootArtifact {
  role: ArtifactRole;
  /** For boot loaders and iPXE binaries: the firmware the name says they are for. */
  firmware?: BootFirmware;
  /** install-event: the stage; install-trigger: the mode. */
  stage?: string;
  /** The Cobbler system or profile named in a /cblr/svc/op/ URL, or the hypervisor name. */
  system?: string;
  /** The distro folder of /cblr/links/<distro>/…, /images/<distro>/…, /cblr/images/<distro>/…. */
  distro?: string;
}

/** What the first bytes of a boot file say; undefined when too few bytes were captured. */
export type BootFileContent = 'pe-x64' | 'pe-ia32' | 'pe-arm64' | 'pe-arm32' | 'pe-other' | 'not-pe';

// RFC 4578 §2.1 and the IANA "Processor Architecture Types" registry.
const ARCH_NAMES: readonly string[] = [
  'BIOS (x86)', 'NEC PC98', 'EFI Itanium', 'DEC Alpha', 'Arc x86', 'Intel Lean Client',
  'x86 UEFI', 'x64 UEFI', 'EFI Xscale', 'x64 UEFI', 'ARM32 UEFI', 'ARM64 UEFI',
  'PowerPC Open Firmware', 'PowerPC ePAPR', 'POWER OPAL v3', 'x86 UEFI HTTP', 'x64 UEFI HTTP',
  'EBC UEFI HTTP', 'ARM32 UEFI HTTP', 'ARM64 UEFI HTTP', 'BIOS HTTP (x86)', 'ARM32 U-Boot',
  'ARM64 U-Boot', 'ARM32 U-Boot HTTP', 'ARM64 U-Boot HTTP', 'RISC-V 32 UEFI', 'RISC-V 32 UEFI HTTP',
  'RISC-V 64 UEFI', 'RISC-V 64 UEFI HTTP', 'RISC-V 128 UEFI', 'RISC-V 128 UEFI HTTP', 's390 Basic',
  's390 Extended', 'MIPS32 UEFI', 'MIPS64 UEFI', 'Sunway 32 UEFI', 'Sunway 64 UEFI',
  'LoongArch32 UEFI', 'LoongArch32 UEFI HTTP', 'LoongArch64 UEFI', 'LoongArch64 UEFI HTTP',
  'ARM rpiboot',
];

/** "x64 UEFI" for 7; "arch 77" for a code the registry does not list. */
export function clientArchName(code: number): string {
  return ARCH_NAMES[code] ?? `arch ${code}`;
}

/** The firmware a client architecture boots with, or undefined when rackforge has no loader for it. */
export function clientFirmware(code: number | undefined): Exclude<BootFirmware, 'efi'> | undefined {
  const f = firmwareOf(code);
  return f === 'unsupported' ? undefined : f;
}

/** An architecture from option 60, "PXEClient:Arch:00007:UNDI:003016" → 7; undefined without one. */
export function archFromVendorClass(vendorClass: string | undefined): number | undefined {
  const m = /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vendorClass ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Whether option 60 (or 93) marks a PXE or UEFI HTTP boot client rather than an OS's DHCP client. */
export function isNetbootVendorClass(vendorClass: string | undefined): boolean {
  return vendorClass !== undefined && (vendorClass.startsWith('PXEClient') || vendorClass.startsWith('HTTPClient'));
}

export function isHttpBootArch(code: number): boolean {
  return code === CLIENT_ARCH.X86_UEFI_HTTP || code === CLIENT_ARCH.X64_UEFI_HTTP || code === CLIENT_ARCH.ARM32_UEFI_HTTP
    || code === CLIENT_ARCH.ARM64_UEFI_HTTP || code === CLIENT_ARCH.X86_BIOS_HTTP || code === 17;
}

export const FIRMWARE_NAMES: Readonly<Record<BootFirmware, string>> = {
  bios: 'BIOS',
  efi: 'UEFI',
  'efi-x64': 'x64 UEFI',
  'efi-ia32': 'x86 (32-bit) UEFI',
  'efi-arm64': 'ARM64 UEFI',
  'efi-arm32': 'ARM32 UEFI',
};

/** The firmware a boot file with this content runs on; undefined when the content says nothing. */
export function contentFirmware(c: BootFileContent | undefined): BootFirmware | undefined {
  switch (c) {
    case 'pe-x64': return 'efi-x64';
    case 'pe-ia32': return 'efi-ia32';
    case 'pe-arm64': return 'efi-arm64';
    case 'pe-arm32': return 'efi-arm32';
    case 'pe-other': return 'efi';
    case 'not-pe': return 'bios';
    default: return undefined;
  }
}

/**
 * Whether a file for `file` firmware cannot run on a client with `client` firmware: BIOS vs any
 * UEFI, or two different UEFI CPUs. A name that says only "UEFI" fits every UEFI client.
 */
export function firmwareMismatch(client: BootFirmware, file: BootFirmware): boolean {
  if (client === file) return false;
  if (client === 'bios' || file === 'bios') return true;
  return client !== 'efi' && file !== 'efi';
}

const PE_MACHINES: ReadonlyMap<number, BootFileContent> = new Map([
  [0x8664, 'pe-x64'], [0x014c, 'pe-ia32'], [0xaa64, 'pe-arm64'], [0x01c2, 'pe-arm32'], [0x01c4, 'pe-arm32'],
]);

/**
 * Reads the first block of a boot file: an EFI application is a PE image ("MZ", then at the
 * offset stored at 0x3c "PE\0\0" and the machine type); a BIOS NBP (pxelinux.0, undionly.kpxe)
 * has no MZ header. undefined when the bytes end before the answer.
 */
export function detectBootFileContent(b: Uint8Array): BootFileContent | undefined {
  if (b.length < 2) return undefined;
  if (b[0] !== 0x4d || b[1] !== 0x5a) return 'not-pe';
  if (b.length < 0x40) return undefined;
  const peAt = (b[0x3c]! | (b[0x3d]! << 8) | (b[0x3e]! << 16) | (b[0x3f]! << 24)) >>> 0;
  if (peAt + 6 > b.length) return undefined;
  if (b[peAt] !== 0x50 || b[peAt + 1] !== 0x45 || b[peAt + 2] !== 0 || b[peAt + 3] !== 0) return 'pe-other';
  return PE_MACHINES.get(b[peAt + 4]! | (b[peAt + 5]! << 8)) ?? 'pe-other';
}

/** The firmware an .efi name is for, from the CPU names people put in them. */
function efiFirmwareByName(lower: string): BootFirmware {
  if (/(aa64|arm64|aarch64)/.test(lower)) return 'efi-arm64';
  if (/(x64|x86_64|amd64)/.test(lower)) return 'efi-x64';
  if (/(ia32|i386|i686)/.test(lower)) return 'efi-ia32';
  if (/(arm32|armv7|armhf|\barm\b|grubarm)/.test(lower)) return 'efi-arm32';
  return 'efi';
}

const IPXE_BINARY = /^(undionly|ipxe|snponly|snp|undi|intel|rtl8139|virtio-net)[\w.+-]*\.(kpxe|kkpxe|kkkpxe|pxe|efi|lkrn)$/;
const KERNEL_NAMES = /^(linux|vmlinuz|vmlinux|bzimage|kernel|image|wimboot|memdisk)([.-].*)?$/;
const INITRD_NAMES = /^(initrd|initramfs|initrd\.img|initrd\.gz|core\.gz|rootfs)([.-].*)?$|\.cpio(\.(gz|xz|zst|lz4|bz2))?$/;
const AUTOINSTALL_NAMES = /^(preseed(\.cfg)?|ks\.cfg|kickstart(\.cfg)?|user-data|meta-data|vendor-data|autoinst\.xml|autoyast(\.xml)?|autounattend\.xml|answers?\.(toml|yaml|yml)|.*\.ks|.*\.preseed|.*\.ign)$/;

/**
 * Classifies a TFTP file name, a DHCP boot file (a name or an http(s) URL) or an HTTP request
 * target. `method` matters only for the controller's API (POST is a registration).
 */
export function classifyBootPath(pathOrUrl: string, method?: string): BootArtifact {
  let path = pathOrUrl;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (scheme) path = path.slice(scheme[0].length) || '/';
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  // TFTP names come with or without a leading slash, sometimes with Windows separators.
  const norm = path.replace(/\\/g, '/');
  const parts = norm.split('/').filter((s) => s !== '');
  const lowerParts = parts.map((s) => s.toLowerCase());
  const base = lowerParts.at(-1) ?? '';

  // /cblr/svc/op/<op>/<key>/<value>/…
  if (lowerParts[0] === 'cblr' && lowerParts[1] === 'svc' && lowerParts[2] === 'op') {
    return classifySvc(parts.slice(3));
  }
  // The controller's API, mounted at /api/v1.
  if (lowerParts[0] === 'api' && lowerParts[1] === 'v1' && lowerParts[2] === 'hypervisors') {
    if (lowerParts.length === 5 && lowerParts[4] === 'heartbeat') return { role: 'heartbeat', system: decodeSegment(parts[3]!) };
    if (lowerParts.length === 3 && (method === undefined || method.toUpperCase() === 'POST')) return { role: 'registration' };
    return { role: 'other' };
  }
  const distro = distroOf(lowerParts, parts);
  const withDistro = (a: BootArtifact): BootArtifact => (distro === undefined ? a : { ...a, distro });

  if (lowerParts[0] === 'ipxe' || base.endsWith('.ipxe')) return withDistro({ role: 'ipxe-script' });
  if (IPXE_BINARY.test(base)) return withDistro({ role: 'ipxe-binary', firmware: base.endsWith('.efi') ? efiFirmwareByName(base) : 'bios' });
  if (lowerParts.includes('pxelinux.cfg') || base.startsWith('grub.cfg') || base === 'grub.conf' || (lowerParts.includes('grub') && base.endsWith('.cfg'))) {
    return withDistro({ role: 'loader-config' });
  }
  if (base.endsWith('.c32')) return withDistro({ role: 'loader-module', firmware: 'bios' });
  if (/\.(0|pxe|kpxe|com|n12)$/.test(base)) return withDistro({ role: 'boot-loader', firmware: 'bios' });
  if (base.endsWith('.efi')) {
    // A kernel can be an EFI stub (linux.efi, vmlinuz.efi): the kernel names win.
    if (KERNEL_NAMES.test(base)) return withDistro({ role: 'kernel' });
    // The file name says it best (grubx64.efi); a folder may say it otherwise (efi/aa64/grub.efi).
    const byBase = efiFirmwareByName(base);
    return withDistro({ role: 'boot-loader', firmware: byBase !== 'efi' ? byBase : efiFirmwareByName(lowerParts.join('/')) });
  }
  if (INITRD_NAMES.test(base)) return withDistro({ role: 'initrd' });
  if (KERNEL_NAMES.test(base)) return withDistro({ role: 'kernel' });
  if (AUTOINSTALL_NAMES.test(base)) return withDistro({ role: 'autoinstall' });
  return withDistro({ role: 'other' });
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** /cblr/links/<distro>/…, /cblr/images/<distro>/…, /images/<distro>/… */
function distroOf(lower: string[], parts: string[]): string | undefined {
  if (lower[0] === 'cblr' && (lower[1] === 'links' || lower[1] === 'images') && parts.length >= 4) return decodeSegment(parts[2]!);
  if (lower[0] === 'images' && parts.length >= 3) return decodeSegment(parts[1]!);
  return undefined;
}

/** key/value pairs after the op, as Cobbler's svc URLs lay them out. */
function svcPairs(rest: string[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (let i = 1; i + 1 < rest.length; i += 2) pairs.set(rest[i]!.toLowerCase(), decodeSegment(rest[i + 1]!));
  return pairs;
}

function classifySvc(rest: string[]): BootArtifact {
  const op = (rest[0] ?? '').toLowerCase();
  const pairs = svcPairs(rest);
  const system = pairs.get('system') ?? pairs.get('profile') ?? pairs.get('mac');
  const withSystem = (a: BootArtifact): BootArtifact => (system === undefined ? a : { ...a, system });
  switch (op) {
    case 'autoinstall':
    case 'ks':
      return withSystem({ role: 'autoinstall' });
    case 'ipxe':
    case 'gpxe':
      return withSystem({ role: 'ipxe-script' });
    case 'nopxe':
      return withSystem({ role: 'nopxe' });
    case 'event': {
      const stage = pairs.get('stage');
      return withSystem(stage === undefined ? { role: 'install-event' } : { role: 'install-event', stage });
    }
    case 'trig': {
      // /trig/mode/<mode>/system/<name>: the pairs start at "mode".
      const mode = pairs.get('mode');
      return withSystem(mode === undefined ? { role: 'install-trigger' } : { role: 'install-trigger', stage: mode });
    }
    case 'list':
      return { role: 'listing' };
    default:
      return withSystem({ role: 'other' });
  }
}

/** Human words for a role, for timeline lines and findings. */
export const ROLE_NAMES: Readonly<Record<ArtifactRole, string>> = {
  'boot-loader': 'boot loader',
  'ipxe-binary': 'iPXE binary',
  'loader-module': 'loader module',
  'loader-config': 'loader config',
  'ipxe-script': 'iPXE script',
  kernel: 'kernel',
  initrd: 'initrd',
  autoinstall: 'autoinstall file',
  'install-event': 'install event',
  'install-trigger': 'install trigger',
  nopxe: 'nopxe callback',
  registration: 'registration with the controller',
  heartbeat: 'controller heartbeat',
  listing: 'listing',
  other: 'other',
};
