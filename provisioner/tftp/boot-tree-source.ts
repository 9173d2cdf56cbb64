// The provisioner's TFTP tree as a TftpSource: configs generated from the inventory
// (provisioner/boot/boot-files.ts), the distros' kernels and initrds, the boot loaders from
// Debian's packages, then the plain tftp root directory for anything an operator adds.
import { basename, dirname } from 'node:path';
import { selectBootFile, type BootFileDeps } from '../boot/boot-files.ts';
import { resolveDiskBootFile } from '../boot/disk-boot-file.ts';
import { selectLoader } from '../boot/loaders.ts';
import { bufferContent, chainSources, rootDirSource, type TftpContent, type TftpSource } from './tftp-sources.ts';

/** One file by its resolved path, with the root-directory source's symlink and type checks. */
async function openFile(realPath: string): Promise<TftpContent | null> {
  return rootDirSource(dirname(realPath)).open(basename(realPath), { address: '0.0.0.0', port: 0 });
}

export function bootTreeSource(deps: BootFileDeps, opts: { root?: string; loaderExists?: (path: string) => Promise<boolean> } = {}): TftpSource {
  const generated: TftpSource = {
    async open(path) {
      const f = selectBootFile(path, deps);
      if (!f) return null;
      if (f.kind === 'text') return bufferContent(Buffer.from(f.text, 'utf8'), `generated:${path}`);
      const disk = await resolveDiskBootFile(f.path);
      return disk ? openFile(disk.realPath) : null;
    },
  };
  const loaders: TftpSource = {
    async open(path) {
      const l = selectLoader(path);
      if (!l) return null;
      const disk = await resolveDiskBootFile(l.path);
      return disk ? openFile(disk.realPath) : null;
    },
  };
  return opts.root ? chainSources(generated, loaders, rootDirSource(opts.root)) : chainSources(generated, loaders);
}
