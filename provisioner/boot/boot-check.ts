// What `sync` checks now that boot answers are live: files the boot services would have to
// serve but cannot (a distro whose kernel or initrd is missing), and loaders that are not
// installed. Nothing is generated; problems are reported, warnings noted.
import { resolveDiskBootFile, type DiskBootFile } from './disk-boot-file.ts';
import { missingLoaders } from './loaders.ts';
import type { ItemRecord } from '../inventory/types.ts';

export interface BootCheck { problems: string[]; warnings: string[] }

export async function checkBootFiles(
  distros: readonly ItemRecord[],
  resolve: (path: string) => Promise<DiskBootFile | null> = resolveDiskBootFile,
  loaderExists?: (path: string) => boolean,
): Promise<BootCheck> {
  const problems: string[] = [];
  for (const d of distros) {
    for (const field of ['kernel', 'initrd'] as const) {
      const path = d[field];
      if (typeof path !== 'string' || path === '' || /^[a-z]+:\/\//.test(path)) continue;
      if (!(await resolve(path))) problems.push(`distro ${d.name}: ${field} ${path} is missing or not a regular file`);
    }
  }
  const warnings = missingLoaders(loaderExists).map((l) => `boot loader ${l.name} is not installed (${l.path}; apt-get install ${l.pkg}): clients that need it cannot boot`);
  return { problems, warnings };
}
