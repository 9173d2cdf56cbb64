// Boot loaders over HTTP (/boot/<name>), for UEFI HTTP-boot clients, which get a URL in the
// DHCP answer instead of a TFTP name. The same table as TFTP (provisioner/boot/loaders.ts):
// only known loader names are served, from Debian's package paths, with Range support.
import { Router } from 'express';
import type { Clock } from '../../lib/clock.ts';
import type { BootEventSink } from '../boot/boot-events.ts';
import { resolveDiskBootFile } from '../boot/disk-boot-file.ts';
import { selectLoader } from '../boot/loaders.ts';

export function loaderRouter(deps: { events: BootEventSink; clock: Clock; macOf?: (ip: string) => string | undefined }): Router {
  const r = Router();
  r.get(/^\/boot\/(.+)$/, async (req, res) => {
    const name = (req.params as Record<string, string>)[0] ?? '';
    const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const mac = deps.macOf?.(ip);
    const spec = selectLoader(name);
    const disk = spec ? await resolveDiskBootFile(spec.path) : null;
    if (!spec || !disk) {
      deps.events.record({ at: deps.clock.now(), kind: 'http-error', ip, ...(mac ? { mac } : {}), detail: `/boot/${name}: ${spec ? `not installed (apt-get install ${spec.pkg})` : 'no such boot loader'}` });
      res.status(404).type('text/plain').send(spec ? `# ${name} is not installed on the server (Debian package ${spec.pkg})\n` : `# no boot loader named ${name}\n`);
      return;
    }
    deps.events.record({ at: deps.clock.now(), kind: 'http-file', ip, ...(mac ? { mac } : {}), detail: `/boot/${name} (${disk.size} bytes${req.headers.range ? `, range ${req.headers.range}` : ''})` });
    res.sendFile(disk.realPath, { acceptRanges: true, cacheControl: false, lastModified: true, dotfiles: 'allow', headers: { 'content-type': 'application/efi' } });
  });
  return r;
}
