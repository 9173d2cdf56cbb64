// PXELINUX configuration text, as Cobbler 3.3's pxe.template / pxe_menu.template write it:
// the per-system file (pxelinux.cfg/01-<mac>) and the profile menu (pxelinux.cfg/default). Pure.
import type { BootEntry } from './boot-entry.ts';

/** The `append` value: `initrd=<main>[,<extra>...] <kernel args>`. */
export function pxelinuxAppend(entry: BootEntry): string {
  const initrd = entry.initrdPaths && entry.initrdPaths.length > 0 ? `initrd=${entry.initrdPaths.join(',')}` : '';
  return [initrd, ...entry.args].filter((s) => s !== '').join(' ');
}

function label(entry: BootEntry): string[] {
  const lines = [`LABEL ${entry.name}`, `\tMENU LABEL ${entry.name}`];
  if (entry.local || !entry.kernelPath) return [...lines, '\tlocalboot -1'];
  return [...lines, `\tkernel ${entry.kernelPath}`, `\tappend ${pxelinuxAppend(entry)}`, '\tipappend 2'];
}

/** pxelinux.cfg/01-<mac>: boot the entry at once, or the local disk when netboot is off. */
export function renderPxelinuxSystem(entry: BootEntry): string {
  const head = entry.local ? ['totaltimeout 0'] : ['timeout 1'];
  const notes = entry.warnings.map((w) => `# ${w}`);
  return [...notes, ...head, 'prompt 0', `default ${entry.name}`, `ontimeout ${entry.name}`, ...label(entry), ''].join('\n');
}

export interface PxelinuxMenuOptions {
  /** ONTIMEOUT target: "local", or the profile of a system named "default". */
  timeoutTarget?: string;
  title?: string;
}

/** pxelinux.cfg/default: a `local` default entry, then one entry per menu profile. */
export function renderPxelinuxMenu(entries: readonly BootEntry[], opts: PxelinuxMenuOptions = {}): string {
  const timeoutTarget = opts.timeoutTarget ?? 'local';
  const lines = [
    'DEFAULT menu',
    'PROMPT 0',
    `MENU TITLE ${opts.title ?? 'rackforge | network boot'}`,
    'TIMEOUT 200',
    'TOTALTIMEOUT 6000',
    `ONTIMEOUT ${timeoutTarget}`,
    '',
    'LABEL local',
    '\tMENU LABEL (local)',
    '\tMENU DEFAULT',
    '\tLOCALBOOT -1',
  ];
  for (const e of entries) lines.push('', ...label(e));
  lines.push('', 'MENU end', '');
  return lines.join('\n');
}
