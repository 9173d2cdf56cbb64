// The kernel command line Cobbler 3.3 builds (tftpgen.build_kernel_options): the blended
// kernel_options, then the breed's autoinstall arguments, the Debian/Ubuntu hostname,
// domain and suite, ARM and serial-console extras, with $variables substituted. Pure.
import { dictToKernelArgs, isDict } from '../inventory/convert.ts';
import type { ItemRecord, Value } from '../inventory/types.ts';
import { autoinstallUrl, nopxeUrl, svcBase, type SvcKind } from './svc-urls.ts';

/** Cobbler warns at this length: older PXE loaders and kernels truncate the line. */
export const KERNEL_LINE_WARN_LENGTH = 1023;

export interface KernelOptionsInput {
  kind: SvcKind;
  /** Name of the system or profile the line is for. */
  name: string;
  /** inventory.blended(kind, name). */
  blended: Record<string, Value>;
  /** The distro at the root of the chain (breed, os_version, arch). */
  distro: ItemRecord;
  /** The system record, for kind 'system' (hostname, interfaces, serial console). */
  system?: ItemRecord;
  /** The system's install token, put into the URLs that call back. */
  token?: string;
}

export interface KernelOptions {
  /** Arguments in order, each one kernel parameter (`k=v`, `k='v w'` or a bare `k`). */
  args: string[];
  /** Extra initrds named by a kernel_options `initrd` key (appended as `initrd=<main>,<extra>`). */
  initrdExtra: string[];
  /** args joined by single spaces. */
  line: string;
  /** The autoinstall URL put on the line, if any. */
  autoinstallUrl?: string;
  warnings: string[];
}

const str = (v: Value | undefined): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export function buildKernelOptions(input: KernelOptionsInput): KernelOptions {
  const { blended, distro } = input;
  const system = input.kind === 'system' ? input.system : undefined;
  const breed = str(distro['breed']);
  const osVersion = str(distro['os_version']);
  const arch = str(distro['arch']);
  const warnings: string[] = [];

  // kernel_options in blended (insertion) order; "~" is Cobbler's stored None: a bare key.
  const kopts: { [k: string]: Value } = {};
  const raw = blended['kernel_options'];
  if (isDict(raw)) for (const [k, v] of Object.entries(raw)) kopts[k] = v === '~' ? null : v;

  const mgmt = system ? managementInterface(system) : undefined;
  if (breed === 'suse') {
    // utils.kopts_overwrite: linuxrc's info= file is the nopxe callback, so SUSE turns its
    // netboot off as soon as linuxrc starts.
    if ('textmode' in kopts) { delete kopts['textmode']; kopts['textmode'] = ['1']; }
    if (system) kopts['info'] = nopxeUrl(svcBase(blended), system.name, input.token);
  }

  const initrdExtra: string[] = [];
  if ('initrd' in kopts) {
    const extra = kopts['initrd'];
    delete kopts['initrd'];
    const items = Array.isArray(extra) ? extra : [extra];
    for (const i of items) if (str(i) !== '') initrdExtra.push(str(i));
  }
  let args = splitArgs(String(dictToKernelArgs(kopts)));

  const template = str(blended['autoinstall']);
  let url: string | undefined;
  if (template !== '') {
    url = /^[a-zA-Z]*:\/\//.test(template) ? template : autoinstallUrl(svcBase(blended), input.kind, input.name, input.kind === 'system' ? input.token : undefined);
    args = [...args, ...autoinstallArgs(breed, osVersion, arch, url, template, mgmt)];
    args = breedRewrites(breed, osVersion, args, url, blended);
  }

  if ((breed === 'debian' || breed === 'ubuntu') && !isCloudInit(breed, template)) {
    let hostname: string;
    let domain = 'local.lan';
    if (system) {
      const h = str(system['hostname']);
      if (h !== '') {
        const parts = h.split('.');
        hostname = parts[0]!;
        if (parts.length > 1) domain = parts.slice(1).join('.');
      } else {
        hostname = system.name;
      }
    } else {
      // Ubuntu refuses underscores in host names.
      hostname = input.name.replace(/_/g, '');
    }
    args.push(`hostname=${hostname}`, `domain=${domain}`, `suite=${osVersion}`);
  }

  if (arch === 'arm') args.push('fixrtc', 'vram=48M', 'omapfb.vram=0:24M');

  args = args.map((a) => substitute(a, blended));

  if (system && arch === 'x86_64') {
    const dev = typeof system['serial_device'] === 'number' ? system['serial_device'] : -1;
    const baud = typeof system['serial_baud_rate'] === 'number' ? system['serial_baud_rate'] : -1;
    if (dev > -1 || baud !== -1) args.push(`console=ttyS${dev === -1 ? 0 : dev},${baud === -1 ? 115200 : baud}`);
  }

  const line = args.join(' ');
  if (line.length >= KERNEL_LINE_WARN_LENGTH) {
    warnings.push(`kernel options of ${input.kind} ${input.name} are ${line.length} characters long: loaders may truncate lines of ${KERNEL_LINE_WARN_LENGTH} or more`);
  }
  return { args, initrdExtra, line, ...(url !== undefined ? { autoinstallUrl: url } : {}), warnings };
}

/** Ubuntu's subiquity reads a cloud-init "autoinstall" user-data instead of a preseed. */
export function isCloudInit(breed: string, template: string): boolean {
  return breed === 'ubuntu' && /\.ya?ml$/i.test(template);
}

function autoinstallArgs(breed: string, osVersion: string, arch: string, url: string, template: string, mgmt: { name: string; mac: string } | undefined): string[] {
  switch (breed) {
    case 'redhat': {
      if (['rhel4', 'rhel5', 'rhel6', 'fedora16'].includes(osVersion)) return ['kssendmac', `ks=${url}`];
      return ['inst.ks.sendmac', `inst.ks=${url}`];
    }
    case 'suse': {
      const out = [`autoyast=${url}`];
      if (mgmt?.mac && arch !== 's390' && arch !== 's390x') out.push(`netdevice=${mgmt.mac}`);
      return out;
    }
    case 'debian':
    case 'ubuntu': {
      // cloud-init's NoCloud source appends user-data / meta-data to s=, hence the slash.
      if (isCloudInit(breed, template)) return ['autoinstall', `ds=nocloud-net;s=${url}/`];
      const out = ['auto-install/enable=true', 'priority=critical', 'netcfg/choose_interface=auto', `url=${url}`];
      if (mgmt) out.push(`netcfg/choose_interface=${mgmt.name}`);
      return out;
    }
    case 'freebsd': return [`ks=${url}`];
    case 'vmware': return osVersion.includes('esxi') ? [`ks=${url}`] : ['vmkopts=debugLogToSerial:1', 'mem=512M', `ks=${url}`];
    case 'powerkvm': return ['kssendmac', `kvmp.inst.auto=${url}`];
    default:
      // generic, unix, windows, xen: Cobbler passes nothing; neither do we.
      return [];
  }
}

/** The per-breed edits Cobbler makes to the finished line. */
function breedRewrites(breed: string, osVersion: string, args: string[], url: string, blended: Record<string, Value>): string[] {
  switch (breed) {
    case 'redhat':
      // Under iPXE the boot interface is known by its MAC.
      return blended['enable_ipxe'] === true ? args.map((a) => (a === 'ksdevice=bootif' ? 'ksdevice=${net0/mac}' : a)) : args;
    case 'freebsd':
      return args
        .map((a) => a.replace(/^ksdevice=/, 'interface=').replace(/^lang=/, 'locale='))
        .filter((a) => a !== 'interface=bootif');
    case 'vmware': {
      const kept = args.filter((a) => a !== 'ksdevice=bootif' && a !== 'kssendmac');
      // ESXi wants ks= first.
      return osVersion.includes('esxi') ? [`ks=${url}`, ...kept.filter((a) => a !== `ks=${url}`)] : kept;
    }
    default:
      return args;
  }
}

/** The first interface flagged `management`, with its MAC if it has one. */
function managementInterface(system: ItemRecord): { name: string; mac: string } | undefined {
  const ifaces = system['interfaces'];
  if (!isDict(ifaces)) return undefined;
  for (const [name, nic] of Object.entries(ifaces)) {
    if (isDict(nic) && nic['management'] === true) return { name, mac: str(nic['mac_address']) };
  }
  return undefined;
}

/** Splits dict_to_string output into parameters, keeping `k='a b'` whole. */
function splitArgs(text: string): string[] {
  return text.match(/(?:[^\s']+|'[^']*')+/g) ?? [];
}

/**
 * Cobbler renders the whole line as a template, so `$var` / `${var}` in kernel_options take
 * blended values. Only scalar, known names are replaced: `${net0/mac}` and other loader
 * syntax, and names the data lacks, stay as written.
 */
export function substitute(arg: string, vars: Record<string, Value>): string {
  return arg.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const meta = vars['autoinstall_meta'];
    const v = isDict(meta) && Object.prototype.hasOwnProperty.call(meta, name) ? meta[name] : Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : whole;
  });
}
