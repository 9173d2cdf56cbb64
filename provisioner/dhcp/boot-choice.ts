// Which boot file a PXE client gets, from its architecture (option 93), its vendor class
// (option 60: PXEClient or HTTPClient) and its user class (option 77: iPXE), and from what the
// inventory says about the machine. Pure and table-tested.

/** RFC 4578 §2.1 processor architecture types (with the IANA registry's later additions). */
export const CLIENT_ARCH = {
  X86_BIOS: 0, EFI_IA32: 6, EFI_BC: 7, EFI_X64: 9, EFI_ARM32: 10, EFI_ARM64: 11,
  X86_UEFI_HTTP: 15, X64_UEFI_HTTP: 16, ARM32_UEFI_HTTP: 18, ARM64_UEFI_HTTP: 19, X86_BIOS_HTTP: 20,
} as const;

export type Firmware = 'bios' | 'efi-x64' | 'efi-arm64' | 'efi-arm32' | 'efi-ia32' | 'unsupported';

/** TFTP names of the boot loaders, relative to the TFTP root (and under /boot/ over HTTP). */
export const LOADER_FILES = {
  pxelinux: 'pxelinux.0',
  undionly: 'undionly.kpxe',
  ipxeX64: 'ipxe.efi',
  ipxeArm64: 'ipxe-arm64.efi',
  grubX64: 'grub/grubx64.efi',
  grubArm64: 'grub/grubaa64.efi',
  grubArm32: 'grub/armv7.efi',
} as const;

export interface BootRequest {
  /** Option 93, first entry; undefined when the client sent none (plain DHCP clients: treated as BIOS). */
  arch?: number;
  /** Option 60 as sent. */
  vendorClass?: string;
  /** Option 77 classes. */
  userClasses: readonly string[];
  mac: string;
}

/** What the inventory says about the requesting machine; null for an unknown MAC. */
export interface MachineBoot {
  system: string;
  netboot: boolean;
  /** Cobbler's boot_loaders of the blended system ('grub', 'pxe', 'ipxe'); empty = all. */
  bootLoaders: readonly string[];
  /** Cobbler's `filename` field: an explicit boot file for this machine, when set. */
  filename?: string;
}

export interface BootPolicy {
  /** e.g. http://10.0.0.1:8080 */
  httpBase: string;
  unknownMachines: 'ignore' | 'menu';
  /** Cobbler's enable_ipxe: BIOS machines chain to iPXE (undionly.kpxe) and every iPXE gets an HTTP script. */
  enableIpxe?: boolean;
}

const IPXE_LOADERS: ReadonlySet<string> = new Set([LOADER_FILES.undionly, LOADER_FILES.ipxeX64, LOADER_FILES.ipxeArm64]);

export type BootChoice =
  | { kind: 'boot'; file: string; firmware: Firmware; viaHttp: boolean; reason: string }
  | { kind: 'no-boot'; reason: string }
  | { kind: 'ignore'; reason: string };

export function firmwareOf(arch: number | undefined): Firmware {
  switch (arch) {
    case undefined: case CLIENT_ARCH.X86_BIOS: case CLIENT_ARCH.X86_BIOS_HTTP: return 'bios';
    case CLIENT_ARCH.EFI_BC: case CLIENT_ARCH.EFI_X64: case CLIENT_ARCH.X64_UEFI_HTTP: return 'efi-x64';
    case CLIENT_ARCH.EFI_ARM64: case CLIENT_ARCH.ARM64_UEFI_HTTP: return 'efi-arm64';
    case CLIENT_ARCH.EFI_ARM32: case CLIENT_ARCH.ARM32_UEFI_HTTP: return 'efi-arm32';
    case CLIENT_ARCH.EFI_IA32: case CLIENT_ARCH.X86_UEFI_HTTP: return 'efi-ia32';
    default: return 'unsupported';
  }
}

/** A UEFI HTTP-boot client: it says so in option 60, and may only be given a URL. */
export function isHttpBootClient(req: BootRequest): boolean {
  return (req.vendorClass ?? '').startsWith('HTTPClient');
}

export function isIpxe(req: BootRequest): boolean {
  return req.userClasses.includes('iPXE');
}

/** The iPXE script URL for a machine: iPXE fetches it over HTTP instead of chain-loading itself again. */
export function ipxeScriptUrl(policy: BootPolicy, mac: string): string {
  return `${policy.httpBase}/cblr/svc/op/ipxe/mac/${mac}`;
}

function allows(m: MachineBoot | null, loader: 'pxe' | 'ipxe' | 'grub'): boolean {
  return !m || m.bootLoaders.length === 0 || m.bootLoaders.includes(loader);
}

function loaderFor(firmware: Firmware, m: MachineBoot | null, enableIpxe: boolean): string | undefined {
  switch (firmware) {
    case 'bios':
      if (enableIpxe && allows(m, 'ipxe')) return LOADER_FILES.undionly;
      if (allows(m, 'pxe')) return LOADER_FILES.pxelinux;
      if (allows(m, 'ipxe')) return LOADER_FILES.undionly;
      return undefined;
    case 'efi-x64':
      if (allows(m, 'ipxe')) return LOADER_FILES.ipxeX64;
      if (allows(m, 'grub')) return LOADER_FILES.grubX64;
      return undefined;
    case 'efi-arm64':
      if (allows(m, 'grub')) return LOADER_FILES.grubArm64;
      if (allows(m, 'ipxe')) return LOADER_FILES.ipxeArm64;
      return undefined;
    case 'efi-arm32':
      return allows(m, 'grub') ? LOADER_FILES.grubArm32 : undefined;
    default:
      return undefined;
  }
}

export function selectBootChoice(req: BootRequest, machine: MachineBoot | null, policy: BootPolicy): BootChoice {
  if (!machine && policy.unknownMachines === 'ignore') return { kind: 'ignore', reason: 'unknown MAC and unknown machines are ignored' };
  if (machine && !machine.netboot) return { kind: 'no-boot', reason: `netboot is disabled for ${machine.system}` };
  const firmware = firmwareOf(req.arch);
  const http = isHttpBootClient(req);
  const loader = loaderFor(firmware, machine, policy.enableIpxe === true);
  // iPXE (a ROM or one we handed out) asking again: handing it an iPXE binary would loop, so
  // it gets its script over HTTP. Other loaders (pxelinux, GRUB) it chain-loads as usual.
  if (isIpxe(req) && !machine?.filename && (policy.enableIpxe === true || loader === undefined || IPXE_LOADERS.has(loader))) {
    return { kind: 'boot', file: ipxeScriptUrl(policy, req.mac), firmware, viaHttp: true, reason: 'iPXE is running: its script over HTTP' };
  }
  if (machine?.filename) {
    const file = http && !/^[a-z]+:\/\//.test(machine.filename) ? `${policy.httpBase}/boot/${machine.filename}` : machine.filename;
    return { kind: 'boot', file, firmware, viaHttp: http, reason: `the filename set on ${machine.system}` };
  }
  if (!loader) {
    return { kind: 'no-boot', reason: `no boot loader for client architecture ${req.arch ?? 'none'} (${firmware})${machine ? ` with boot_loaders ${machine.bootLoaders.join(',')}` : ''}` };
  }
  if (http) return { kind: 'boot', file: `${policy.httpBase}/boot/${loader}`, firmware, viaHttp: true, reason: `UEFI HTTP boot (${firmware})` };
  return { kind: 'boot', file: loader, firmware, viaHttp: false, reason: `${firmware} firmware` };
}
