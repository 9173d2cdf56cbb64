// One bootable choice, loader-neutral: the kernel and initrd (as TFTP-tree paths and as
// HTTP URLs) and the kernel arguments for a system or profile, or "boot the local disk".
// The PXELINUX, GRUB and iPXE renderers only format it. Pure.
import type { ItemRecord, Value } from '../inventory/types.ts';
import type { ProfileTarget, SystemTarget } from './boot-target.ts';
import { buildKernelOptions } from './kernel-options.ts';
import { httpServer } from './svc-urls.ts';

export interface BootEntry {
  /** Menu label / name: the system or profile name. */
  name: string;
  /** true: boot the local disk (netboot disabled, or nothing we can network-boot). */
  local: boolean;
  /** Kernel and initrd as the TFTP tree names them (`/images/<distro>/<file>`), or remote URLs. */
  kernelPath?: string;
  initrdPaths?: string[];
  /** The same files over HTTP, for iPXE and HTTP-booting loaders. */
  kernelUrl?: string;
  initrdUrls?: string[];
  args: string[];
  /** Why an entry became local although netboot is on, and long-line warnings. */
  warnings: string[];
}

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const isRemote = (p: string): boolean => /^(https?|ftp):\/\//i.test(p);

/** Where the TFTP tree and the HTTP routes publish a distro's kernel or initrd. */
export function imagePath(distro: string, file: string): string {
  return `/images/${distro}/${base(file)}`;
}

export function selectBootEntry(target: SystemTarget | ProfileTarget, opts: { token?: string } = {}): BootEntry {
  const name = target.kind === 'system' ? target.system.name : target.profile.name;
  if (target.kind === 'system' && !target.netboot) return { name, local: true, args: [], warnings: [] };
  const distro = target.distro;
  if (!distro) {
    const what = target.kind === 'system' && target.image ? `image-based system ${name}` : `${target.kind} ${name} (no distro)`;
    return { name, local: true, args: [], warnings: [`${what} cannot be network-booted: booting the local disk`] };
  }
  const ko = buildKernelOptions({
    kind: target.kind,
    name,
    blended: target.blended,
    distro,
    ...(target.kind === 'system' ? { system: target.system } : {}),
    ...(opts.token ? { token: opts.token } : {}),
  });
  const files = distroFiles(distro, target.blended);
  return {
    name,
    local: false,
    kernelPath: files.kernelPath,
    initrdPaths: [files.initrdPath, ...ko.initrdExtra],
    kernelUrl: files.kernelUrl,
    initrdUrls: [files.initrdUrl, ...ko.initrdExtra.map((x) => (isRemote(x) ? x : `http://${httpServer(target.blended)}${x.startsWith('/') ? '' : '/'}${x}`))],
    args: ko.args,
    warnings: ko.warnings,
  };
}

function distroFiles(distro: ItemRecord, blended: Record<string, Value>) {
  const kernel = String(distro['kernel'] ?? '');
  const initrd = String(distro['initrd'] ?? '');
  // Cobbler uses remote kernels as they are, when both files are remote.
  if (isRemote(kernel) && isRemote(initrd)) {
    return { kernelPath: kernel, initrdPath: initrd, kernelUrl: kernel, initrdUrl: initrd };
  }
  const http = `http://${httpServer(blended)}`;
  const kernelPath = imagePath(distro.name, kernel);
  const initrdPath = imagePath(distro.name, initrd);
  return { kernelPath, initrdPath, kernelUrl: http + kernelPath, initrdUrl: http + initrdPath };
}
