// The TFTP tree, computed on request instead of written by `cobbler sync`: a tree name
// (pxelinux.cfg/01-<mac>, grub/system/<mac>, images/<distro>/<file> ...) maps to generated
// text or to a distro's kernel/initrd on disk. Both the TFTP server and the HTTP routes ask
// here; nothing else on disk is reachable through it. Pure apart from issuing install tokens.
import { isMac, parseMac } from '../../lib/ids.ts';
import type { ItemRecord } from '../inventory/types.ts';
import { selectBootEntry, type BootEntry } from './boot-entry.ts';
import { selectBootTarget, type BootInventory, type ProfileTarget } from './boot-target.ts';
import { renderGrubCfg, renderGrubMenuItems, renderGrubSystem, renderRootGrubCfg } from './grub-config.ts';
import { renderIpxeMenu } from './ipxe-script.ts';
import { renderPxelinuxMenu, renderPxelinuxSystem } from './pxelinux-config.ts';
import { httpServer, ipxeUrl } from './svc-urls.ts';

export interface BootFileDeps {
  inventory: BootInventory;
  /** The live install token of a netbooting system, issued on first use (InstallTokens.tokenFor). */
  tokenFor?: (system: string) => string;
}

export type BootFile =
  | { kind: 'text'; text: string; system?: string; mac?: string; warnings?: string[] }
  /** A distro's kernel or initrd: `path` is the distro's field as stored (absolute, may be a symlink). */
  | { kind: 'disk'; path: string; distro: string };

/**
 * Splits a requested tree name into plain segments. One leading "/" (or several) is allowed,
 * as TFTP clients send both; "..", ".", empty segments, backslashes, NUL and other control
 * characters refuse the whole name.
 */
export function parseBootPath(path: string): string[] | null {
  const trimmed = path.replace(/^\/+/, '');
  if (trimmed === '' || trimmed.length > 1024 || /[\\\u0000-\u001f\u007f]/.test(trimmed)) return null;
  const parts = trimmed.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return null;
  return parts;
}

/**
 * What a tree name holds, or null (unknown name, unknown MAC: PXELINUX then falls back to
 * `default`). Throws ITEM_MISSING_REFERENCE when a known system's chain is broken.
 */
export function selectBootFile(path: string, deps: BootFileDeps): BootFile | null {
  const parts = parseBootPath(path);
  if (!parts) return null;
  const [a, b, c, d] = parts;
  const n = parts.length;
  if (a === 'pxelinux.cfg' && n === 2) {
    if (b === 'default') return text(renderPxelinuxMenu(menuEntries(deps, 'pxe'), { timeoutTarget: timeoutTarget(deps) }));
    const m = /^01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$/i.exec(b!);
    return m ? systemFile(m[1]!.replace(/-/g, ':'), deps, renderPxelinuxSystem) : null;
  }
  if (a === 'grub.cfg' && n === 1) return text(renderRootGrubCfg());
  if (a === 'grub') {
    if (b === 'grub.cfg' && n === 2) return text(renderGrubCfg());
    if (b === 'system' && n === 3) return systemFile(c!, deps, renderGrubSystem);
    const menu = n === 2 ? /^([a-z0-9_]+)_menu_items\.cfg$/.exec(b!) : null;
    if (menu) return text(renderGrubMenuItems(menuEntries(deps, 'grub', menu[1]!)));
    // Cobbler links grub/images to ../images for loaders whose root is the grub directory.
    if (b === 'images' && n === 4) return imageFile(c!, d!, deps);
    return null;
  }
  if (a === 'ipxe' && b === 'default.ipxe' && n === 2) {
    const server = httpServer(deps.inventory.settings());
    return text(renderIpxeMenu(menuEntries(deps, 'ipxe'), { timeoutTarget: timeoutTarget(deps), macScriptUrl: ipxeUrl(`http://${server}`, 'mac', '') }));
  }
  if (a === 'images' && n === 3) return imageFile(b!, c!, deps);
  return null;
}

function text(t: string): BootFile {
  return { kind: 'text', text: t };
}

function systemFile(macText: string, deps: BootFileDeps, render: (e: BootEntry) => string): BootFile | null {
  if (!isMac(macText)) return null;
  const target = selectBootTarget(deps.inventory, { mac: macText });
  if (target.kind !== 'system') return null;
  const name = target.system.name;
  const token = target.netboot && deps.tokenFor ? deps.tokenFor(name) : undefined;
  const entry = selectBootEntry(target, token ? { token } : {});
  return { kind: 'text', text: render(entry), system: name, mac: parseMac(macText), ...(entry.warnings.length ? { warnings: entry.warnings } : {}) };
}

/** Only a distro's own kernel and initrd, by their file names, and nothing else. */
function imageFile(distroName: string, file: string, deps: BootFileDeps): BootFile | null {
  const distro = deps.inventory.get('distro', distroName);
  if (!distro) return null;
  for (const field of ['kernel', 'initrd'] as const) {
    const p = distro[field];
    if (typeof p !== 'string' || !p.startsWith('/') || /^[a-z]+:\/\//i.test(p)) continue;
    if (p.slice(p.lastIndexOf('/') + 1) === file) return { kind: 'disk', path: p, distro: distro.name };
  }
  return null;
}

/**
 * Profiles shown in a loader's menu: enable_menu set, the loader among the profile's
 * (resolved) boot_loaders, optionally of one arch; sorted by name; broken ones left out.
 */
function menuEntries(deps: BootFileDeps, loader: 'pxe' | 'grub' | 'ipxe', arch?: string): BootEntry[] {
  const out: BootEntry[] = [];
  for (const p of deps.inventory.list('profile')) {
    if (p['enable_menu'] !== true) continue;
    try {
      const loaders = deps.inventory.resolved('profile', p)['boot_loaders'];
      if (Array.isArray(loaders) && !loaders.includes(loader)) continue;
    } catch {
      continue;
    }
    let target: ProfileTarget;
    try {
      const t = selectBootTarget(deps.inventory, { profile: p.name });
      if (t.kind !== 'profile') continue;
      target = t;
    } catch {
      continue;
    }
    if (arch !== undefined && target.distro?.['arch'] !== arch) continue;
    const entry = selectBootEntry(target);
    if (!entry.local) out.push(entry);
  }
  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** Cobbler: a system named "default" makes its profile the menu's timeout choice. */
function timeoutTarget(deps: BootFileDeps): string {
  const sys: ItemRecord | undefined = deps.inventory.get('system', 'default');
  const profile = sys?.['profile'];
  if (typeof profile !== 'string' || profile === '') return 'local';
  const p = deps.inventory.get('profile', profile);
  return p && p['enable_menu'] === true ? profile : 'local';
}
