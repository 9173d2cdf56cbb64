// What happens after DHCP on a BIOS machine: the PXE ROM loads the boot file, pxelinux loads
// ldlinux.c32 and searches its configuration in pxelinux's own order, picks the entry it
// would boot, loads kernel and initrd; then the installer fetches its autoinstall file. The
// transfers are behind BootFetcher, so this reads as the sequence it is and is tested
// without a network. On UEFI, EDK2 asks for the boot file's size, loads it with a window of
// 4 and would execute it, which a synthetic node cannot: it stops there (see runBootFlow).
import { formatUuid, type Firmware } from './dhcp-client.ts';
import type { SyntheticStage } from './node-status.ts';
import { EDK2_BLKSIZE, EDK2_WINDOWSIZE } from './tftp-client.ts';

export type FetchResult =
  | { ok: true; bytes: number; data?: Buffer; status?: number; tsize?: number }
  | { ok: false; notFound: boolean; error: string };

/** How a read is asked for; the defaults are a BIOS PXE ROM's and pxelinux's (blksize 1456, tsize). */
export interface TftpFetchOptions {
  keep: boolean;
  blksize?: number;
  windowsize?: number;
  tsize?: boolean;
  /** Learn the size and abort (EDK2). */
  probe?: boolean;
}

export interface BootFetcher {
  tftp(path: string, o: TftpFetchOptions): Promise<FetchResult>;
  /** Resolves ok only for a complete response with status 200. */
  http(url: string, o: { keep: boolean }): Promise<FetchResult>;
}

export type FetchLevel = 'config' | 'kernel' | 'all';

export interface BootFlowInput {
  firmware: Firmware;
  mac: string;
  ip: string;
  uuid: Buffer;
  /** From DHCP (option 67 or the file field). */
  bootFile: string;
  /** How far to go: the configuration, the kernel and initrd, or the autoinstall file too. */
  fetch: FetchLevel;
}

export interface BootFlowOutcome {
  result: 'done' | 'local-boot';
  /** The configuration file that was found (BIOS/pxelinux only). */
  config?: string;
  detail: string;
}

export class BootFlowError extends Error {
  constructor(readonly stage: SyntheticStage, message: string) {
    super(message);
    this.name = 'BootFlowError';
  }
}

/** `config` is set once, when the configuration file has been found. */
export type StageReporter = (stage: SyntheticStage, detail?: string, found?: { config: string }) => void;

export async function runBootFlow(input: BootFlowInput, fetcher: BootFetcher, report: StageReporter): Promise<BootFlowOutcome> {
  if (/^[a-z]+:\/\//i.test(input.bootFile)) {
    throw new BootFlowError('boot-file', `the boot file ${input.bootFile} is a URL: a PXE ROM loads its boot file over TFTP only`);
  }
  report('boot-file', input.bootFile);
  if (input.firmware === 'uefi') return edk2(input, fetcher);
  const nbp = await fetcher.tftp(input.bootFile, { keep: false });
  if (!nbp.ok) throw new BootFlowError('boot-file', `boot file ${input.bootFile}: ${nbp.error}`);
  if (!isPxelinux(input.bootFile)) {
    return { result: 'done', detail: `loaded boot file ${input.bootFile} (${nbp.bytes} bytes); only pxelinux is emulated beyond the boot file` };
  }
  return pxelinux(input, fetcher, report);
}

/** EDK2's PxeBcLoadBootFile: the size (tsize, then an abort), then the file with windowsize 4. */
async function edk2(input: BootFlowInput, fetcher: BootFetcher): Promise<BootFlowOutcome> {
  const window = { blksize: EDK2_BLKSIZE, windowsize: EDK2_WINDOWSIZE };
  const size = await fetcher.tftp(input.bootFile, { keep: false, probe: true, ...window });
  if (!size.ok) throw new BootFlowError('boot-file', `boot file ${input.bootFile}: ${size.error}`);
  const nbp = await fetcher.tftp(input.bootFile, { keep: false, tsize: false, ...window });
  if (!nbp.ok) throw new BootFlowError('boot-file', `boot file ${input.bootFile}: ${nbp.error}`);
  if (size.tsize !== undefined && size.tsize !== nbp.bytes) {
    throw new BootFlowError('boot-file', `boot file ${input.bootFile}: announced ${size.tsize} bytes, received ${nbp.bytes}`);
  }
  // The firmware would now start the EFI binary (iPXE, GRUB, shim); what it does next depends on
  // code a synthetic node does not run, so the honest end is here.
  return { result: 'done', detail: `loaded EFI boot file ${input.bootFile} (${nbp.bytes} bytes); a synthetic node does not execute EFI binaries` };
}

async function pxelinux(input: BootFlowInput, fetcher: BootFetcher, report: StageReporter): Promise<BootFlowOutcome> {
  const prefix = pxelinuxPathPrefix(input.bootFile);
  report('config', `${prefix}ldlinux.c32`);
  const ldlinux = await fetcher.tftp(`${prefix}ldlinux.c32`, { keep: false });
  if (!ldlinux.ok) throw new BootFlowError('config', `pxelinux: failed to load ldlinux.c32: ${ldlinux.error}`);

  let found: { name: string; text: string } | undefined;
  const tried: string[] = [];
  for (const candidate of pxelinuxConfigCandidates(input.uuid, input.mac, input.ip)) {
    const name = `${prefix}pxelinux.cfg/${candidate}`;
    tried.push(candidate);
    const r = await fetcher.tftp(name, { keep: true });
    if (r.ok) {
      found = { name, text: (r.data ?? Buffer.alloc(0)).toString('utf8') };
      break;
    }
    // pxelinux moves on after any failure to open a candidate, not only "file not found".
  }
  if (!found) throw new BootFlowError('config', `pxelinux: unable to locate a configuration file (tried ${tried.join(', ')})`);
  report('config', found.name, { config: found.name });

  const cfg = parsePxelinuxConfig(found.text);
  const choice = selectPxelinuxLabel(cfg);
  if ('error' in choice) throw new BootFlowError('config', `${found.name}: ${choice.error}`);
  for (const module of choice.modules) {
    const r = await fetcher.tftp(`${prefix}${module}`, { keep: false });
    if (!r.ok) throw new BootFlowError('config', `pxelinux: failed to load ${module}: ${r.error}`);
  }
  const label = choice.label;
  const base = { config: found.name };
  if (label.localboot) return { ...base, result: 'local-boot', detail: `${found.name}: label ${label.name} boots the local disk` };
  if (!label.kernel) throw new BootFlowError('config', `${found.name}: label ${label.name} has no KERNEL or LINUX line`);
  if (input.fetch === 'config') return { ...base, result: 'done', detail: `${found.name}: would boot label ${label.name}` };

  report('kernel', label.kernel);
  const k = await fetchFile(fetcher, prefix, label.kernel);
  if (!k.ok) throw new BootFlowError('kernel', `kernel ${label.kernel}: ${k.error}`);
  for (const initrd of initrdsOf(label)) {
    report('initrd', initrd);
    const r = await fetchFile(fetcher, prefix, initrd);
    if (!r.ok) throw new BootFlowError('initrd', `initrd ${initrd}: ${r.error}`);
  }
  if (input.fetch === 'kernel') return { ...base, result: 'done', detail: `loaded the kernel and initrd of label ${label.name}` };

  const auto = selectAutoinstallUrls(label.append ?? '');
  if (auto.length === 0) return { ...base, result: 'done', detail: `label ${label.name} booted; its kernel line names no autoinstall URL` };
  for (const url of auto) {
    report('autoinstall', url);
    const r = await fetcher.http(url, { keep: true });
    if (!r.ok) throw new BootFlowError('autoinstall', `autoinstall ${url}: ${r.error}`);
  }
  return { ...base, result: 'done', detail: `label ${label.name}: fetched ${auto.length} autoinstall file(s)` };
}

function fetchFile(fetcher: BootFetcher, prefix: string, path: string): Promise<FetchResult> {
  if (/^http:\/\//i.test(path)) return fetcher.http(path, { keep: false });
  return fetcher.tftp(pxelinuxResolve(prefix, path), { keep: false });
}

/** pxelinux.0 and lpxelinux.0 (any directory); other boot files are not emulated further. */
export function isPxelinux(bootFile: string): boolean {
  return /(^|\/)l?pxelinux\.0$/.test(bootFile);
}

/** pxelinux's path prefix: the boot file's directory, with its slash ("" at the root). */
export function pxelinuxPathPrefix(bootFile: string): string {
  const slash = bootFile.lastIndexOf('/');
  return slash < 0 ? '' : bootFile.slice(0, slash + 1);
}

/** A file name from a configuration as pxelinux sends it: "::x" and "/x" are from the root. */
export function pxelinuxResolve(prefix: string, name: string): string {
  if (name.startsWith('::')) return name.slice(2);
  if (name.startsWith('/')) return name;
  return prefix + name;
}

/**
 * pxelinux's search order: the client UUID, "01-" and the MAC with dashes, the IPv4 address in
 * upper-case hex shortened one digit at a time, then "default".
 */
export function pxelinuxConfigCandidates(uuid: Buffer | undefined, mac: string, ip: string): string[] {
  const out: string[] = [];
  if (uuid && uuid.length === 16) out.push(formatUuid(uuid));
  out.push(`01-${mac.toLowerCase().replace(/:/g, '-')}`);
  const hex = ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join('').toUpperCase();
  for (let n = 8; n >= 1; n--) out.push(hex.slice(0, n));
  out.push('default');
  return out;
}

export interface PxelinuxLabel {
  name: string;
  kernel?: string;
  append?: string;
  initrd?: string;
  localboot?: boolean;
  menuDefault?: boolean;
}

export interface PxelinuxConfig {
  /** First word of DEFAULT. */
  default?: string;
  /** UI module, from UI. */
  ui?: string;
  ontimeout?: string;
  labels: PxelinuxLabel[];
}

/** The directives that decide what boots; MENU lines other than MENU DEFAULT, and comments, are read past. */
export function parsePxelinuxConfig(text: string): PxelinuxConfig {
  const cfg: PxelinuxConfig = { labels: [] };
  let label: PxelinuxLabel | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    switch (key) {
      case 'default':
        cfg.default = value.split(/\s+/)[0];
        break;
      case 'ui':
        cfg.ui = value.split(/\s+/)[0];
        break;
      case 'ontimeout':
        cfg.ontimeout = value.split(/\s+/)[0];
        break;
      case 'label':
        label = { name: value };
        cfg.labels.push(label);
        break;
      case 'kernel':
      case 'linux':
        if (label) label.kernel = value.split(/\s+/)[0];
        break;
      case 'append':
        if (label) label.append = value;
        break;
      case 'initrd':
        if (label) label.initrd = value;
        break;
      case 'localboot':
        if (label) label.localboot = true;
        break;
      case 'menu':
        if (label && /^default$/i.test(value)) label.menuDefault = true;
        break;
      default:
        break;
    }
  }
  return cfg;
}

/** What a UI module needs besides itself (syslinux 6 splits the libraries out). */
const UI_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  'menu.c32': ['libutil.c32'],
  'vesamenu.c32': ['libcom32.c32', 'libutil.c32'],
};

/**
 * The label pxelinux boots without anyone at the keyboard, and the modules it loads first.
 * Without a UI, DEFAULT names the label. With a UI (a UI line, or a DEFAULT that names no label
 * and so is a module such as Cobbler's `DEFAULT menu`), the menu runs until its timeout and then
 * boots ONTIMEOUT, else the MENU DEFAULT entry, else the first. The menu's timeout is not waited for.
 */
export function selectPxelinuxLabel(cfg: PxelinuxConfig): { label: PxelinuxLabel; modules: string[] } | { error: string } {
  const byName = (n: string | undefined): PxelinuxLabel | undefined => (n === undefined ? undefined : cfg.labels.find((l) => l.name === n));
  const defaultLabel = byName(cfg.default);
  const ui = cfg.ui ?? (cfg.default !== undefined && !defaultLabel ? cfg.default : undefined);
  if (ui === undefined) {
    if (defaultLabel) return { label: defaultLabel, modules: [] };
    return { error: cfg.default === undefined ? 'no DEFAULT line' : `DEFAULT ${cfg.default} names no label` };
  }
  const module = /\.c32$/i.test(ui) ? ui : `${ui}.c32`;
  const chosen = byName(cfg.ontimeout) ?? cfg.labels.find((l) => l.menuDefault) ?? cfg.labels[0];
  if (!chosen) return { error: `the menu ${module} has no entries` };
  return { label: chosen, modules: [module, ...(UI_DEPENDENCIES[module.toLowerCase()] ?? [])] };
}

/** INITRD, else the `initrd=` argument of APPEND (comma-separated). */
export function initrdsOf(label: PxelinuxLabel): string[] {
  if (label.initrd) return label.initrd.split(',').filter((x) => x !== '');
  const m = /(?:^|\s)initrd=(\S+)/.exec(label.append ?? '');
  return m ? m[1]!.split(',').filter((x) => x !== '') : [];
}

/**
 * The URLs an installer fetches first, from its kernel arguments: debian-installer's `url=`
 * (alias `preseed/url=`), Anaconda's `ks=` / `inst.ks=`, AutoYaST's `autoyast=`, and
 * cloud-init NoCloud's `ds=nocloud-net;s=<base>` (user-data then meta-data). Non-HTTP forms
 * (nfs:, hd:, cdrom) are not fetched.
 */
export function selectAutoinstallUrls(append: string): string[] {
  const args = append.split(/\s+/).filter((x) => x !== '');
  const value = (keys: readonly string[]): string | undefined => {
    for (const a of args) {
      const eq = a.indexOf('=');
      if (eq > 0 && keys.includes(a.slice(0, eq))) return a.slice(eq + 1).replace(/^'(.*)'$/, '$1');
    }
    return undefined;
  };
  const ds = value(['ds']);
  if (ds !== undefined && /^nocloud(-net)?;/.test(ds)) {
    const s = /(?:^|;)(?:s|seedfrom)=([^;]+)/.exec(ds)?.[1];
    if (s && /^http:\/\//i.test(s)) {
      const base = s.endsWith('/') ? s : `${s}/`;
      return [`${base}user-data`, `${base}meta-data`];
    }
  }
  const url = value(['url', 'preseed/url', 'inst.ks', 'ks', 'autoyast']);
  return url !== undefined && /^http:\/\//i.test(url) ? [url] : [];
}
