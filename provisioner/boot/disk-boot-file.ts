// The one I/O step between selectBootFile's `disk` answer and the bytes: resolve the
// distro's kernel/initrd path (it may be a symlink, as distro trees often are) and accept it
// only if it ends at a regular file. The path comes from the inventory, never from the request.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

export interface DiskBootFile {
  /** Symlinks resolved. */
  realPath: string;
  size: number;
  mtimeMs: number;
}

export async function resolveDiskBootFile(path: string): Promise<DiskBootFile | null> {
  if (!isAbsolute(path) || path.includes('\0')) return null;
  try {
    const real = await realpath(path);
    const st = await stat(real);
    if (!st.isFile()) return null;
    return { realPath: real, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}
