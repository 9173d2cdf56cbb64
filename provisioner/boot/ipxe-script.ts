// iPXE scripts, as Cobbler 3.3's ipxe.template / ipxe_menu.template write them, with kernels
// and initrds fetched over HTTP: the per-system script (/cblr/svc/op/ipxe/system/<name>) and
// the menu (ipxe/default.ipxe). Pure.
import type { BootEntry } from './boot-entry.ts';

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Local disk: HP firmware (and any UEFI firmware) goes back to its boot order with `exit`. */
const LOCAL = [
  'iseq ${platform} efi && exit ||',
  'iseq ${smbios/manufacturer} HP && exit ||',
  'sanboot --no-describe --drive 0x80',
];

function bootLines(entry: BootEntry): string[] {
  if (entry.local || !entry.kernelUrl) return [...LOCAL];
  const initrds = entry.initrdUrls ?? [];
  // A Linux EFI-stub kernel finds iPXE's initrd by the name given in initrd=.
  const initrdArgs = initrds.length > 0 ? [`initrd=${base(initrds[0]!)}`] : [];
  return [
    `kernel ${[entry.kernelUrl, ...initrdArgs, ...entry.args].join(' ')}`,
    ...initrds.map((u) => `initrd ${u}`),
    'boot',
  ];
}

export function renderIpxeSystem(entry: BootEntry): string {
  return ['#!ipxe', ...entry.warnings.map((w) => `# ${w}`), ...bootLines(entry), ''].join('\n');
}

export interface IpxeMenuOptions {
  timeoutTarget?: string;
  /** When set, known machines chain to their own script first (/cblr/svc/op/ipxe/mac/<mac>). */
  macScriptUrl?: string;
  title?: string;
}

/** ipxe/default.ipxe: a menu with `local` and one item per menu profile. */
export function renderIpxeMenu(entries: readonly BootEntry[], opts: IpxeMenuOptions = {}): string {
  const items = entries.filter((e) => !e.local && e.kernelUrl);
  const lines = ['#!ipxe'];
  if (opts.macScriptUrl) lines.push(`chain --autofree ${opts.macScriptUrl}\${net0/mac} ||`);
  lines.push(
    'set menu-timeout 20000',
    'set submenu-timeout ${menu-timeout}',
    `isset \${menu-default} || set menu-default ${opts.timeoutTarget ?? 'local'}`,
    '',
    ':rackforge',
    `menu ${opts.title ?? 'rackforge | network boot'}`,
    'item local (local)',
    ...items.map((e) => `item ${e.name} ${e.name}`),
    'choose --default ${menu-default} --timeout ${menu-timeout} target && goto ${target}',
    '',
  );
  for (const e of items) lines.push(`:${e.name}`, ...bootLines(e), '');
  lines.push(':local', ...LOCAL, '');
  return lines.join('\n');
}
