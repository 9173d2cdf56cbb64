// For operators who keep their own tftpd: `sync` can write the generated part of the TFTP
// tree (the same files rackforge's TFTP server computes per request) into a directory.
// Choosing the names is pure; writing is one small I/O function, atomic per file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InventoryService } from '../inventory/inventory-service.ts';
import type { Value } from '../inventory/types.ts';
import { selectBootFile, type BootFileDeps } from './boot-files.ts';

/** The tree names of the generated files: menus, and per system interface with a MAC its pxelinux and GRUB files. */
export function selectTreeNames(systems: ReadonlyArray<Record<string, Value>>): string[] {
  const names = new Set(['pxelinux.cfg/default', 'grub/grub.cfg', 'grub.cfg', 'ipxe/default.ipxe', 'grub/x86_64_menu_items.cfg']);
  for (const s of systems) {
    const ifs = s['interfaces'];
    if (!ifs || typeof ifs !== 'object' || Array.isArray(ifs)) continue;
    for (const i of Object.values(ifs as Record<string, Value>)) {
      const mac = i && typeof i === 'object' && !Array.isArray(i) ? (i as Record<string, Value>)['mac_address'] : undefined;
      if (typeof mac !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) continue;
      const m = mac.toLowerCase();
      names.add(`pxelinux.cfg/01-${m.replace(/:/g, '-')}`);
      names.add(`grub/system/${m}`);
    }
  }
  return [...names].sort();
}

/** Writes every generated file under dir (write to a temporary name, then rename). Returns what was written and what failed. */
export function writeTftpTree(dir: string, inventory: InventoryService, deps: Omit<BootFileDeps, 'inventory'>): { written: string[]; failed: string[] } {
  const written: string[] = [];
  const failed: string[] = [];
  for (const name of selectTreeNames(inventory.list('system') as unknown as Array<Record<string, Value>>)) {
    try {
      const f = selectBootFile(name, { ...deps, inventory });
      if (!f || f.kind !== 'text') continue;
      const target = join(dir, ...name.split('/'));
      mkdirSync(dirname(target), { recursive: true });
      const tmp = `${target}.rackforge-tmp`;
      writeFileSync(tmp, f.text);
      renameSync(tmp, target);
      written.push(name);
    } catch (e) {
      failed.push(`${name}: ${(e as Error).message}`);
    }
  }
  return { written, failed };
}
