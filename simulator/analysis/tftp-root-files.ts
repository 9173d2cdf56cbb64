// The names under a TFTP root, for `capture explain --tftp-root DIR`: what "the nearest existing
// name" can be chosen from when the capture alone does not show the file a machine should have
// asked for. I/O only; the choosing is nearest-name.ts.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** More names than any TFTP root a loader searches; beyond it the listing stops. */
export const TFTP_ROOT_LIST_LIMIT = 100_000;

/** Paths of the files under `root`, '/'-separated and relative to it, sorted. Throws with the path for a missing or unreadable root. */
export async function listTftpRoot(root: string, limit = TFTP_ROOT_LIST_LIMIT): Promise<string[]> {
  let info;
  try {
    info = await stat(root);
  } catch (e) {
    throw new Error(`cannot read TFTP root ${root}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!info.isDirectory()) throw new Error(`TFTP root ${root} is not a directory`);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const names: string[] = [];
  for (const e of entries) {
    if (names.length >= limit) break;
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const parent = (e as { parentPath?: string; path?: string }).parentPath ?? (e as { path?: string }).path ?? root;
    names.push(relative(root, join(parent, e.name)).split(sep).join('/'));
  }
  return names.sort();
}
