// What a booting or installing machine fetches over HTTP: Cobbler's /cblr/svc/op/ services
// (autoinstall files, iPXE scripts, the nopxe and trigger callbacks, listings), kernels and
// initrds under /images/ with Range support, and the generated PXELINUX/GRUB/iPXE files for
// HTTP-booting loaders. Decisions are in provisioner/boot/; this is the thin loop around them.
import { basename, dirname, join } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { Clock } from '../../lib/clock.ts';
import { isRackforgeError } from '../../lib/errors.ts';
import { isIpv4, isMac, parseMac } from '../../lib/ids.ts';
import type { Logger } from '../../lib/log.ts';
import { selectBootEntry } from '../boot/boot-entry.ts';
import type { BootEvent, BootEventKind, BootEventSink } from '../boot/boot-events.ts';
import { selectBootFile } from '../boot/boot-files.ts';
import { firstMac, selectBootTarget, type BootTarget } from '../boot/boot-target.ts';
import { resolveDiskBootFile } from '../boot/disk-boot-file.ts';
import type { InstallTokens } from '../boot/install-tokens.ts';
import { renderIpxeSystem } from '../boot/ipxe-script.ts';
import { nopxeUrl, redactTokens, svcBase, triggerUrl, type SvcKind } from '../boot/svc-urls.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import type { ItemType } from '../inventory/types.ts';
import { autoinstallVariables, renderAutoinstall, type RenderLimits } from '../templates/render-autoinstall.ts';
import type { TemplateStore } from '../templates/template-store.ts';

export interface BootRoutesDeps {
  inventory: InventoryService;
  templates: TemplateStore;
  snippets: TemplateStore;
  tokens: InstallTokens;
  events: BootEventSink;
  clock: Clock;
  log: Logger;
  renderLimits?: RenderLimits;
}

/** Top-level path segments this router answers; anything else goes to the next handler. */
const FILE_ROOTS = new Set(['images', 'grub', 'grub.cfg', 'pxelinux.cfg', 'ipxe', 'httpboot']);

const LISTABLE: Readonly<Record<string, ItemType | null>> = {
  systems: 'system', profiles: 'profile', distros: 'distro', images: 'image', repos: 'repo', menus: 'menu',
  // Cobbler 3.3 types rackforge does not have: an empty listing, as for an empty collection.
  mgmtclasses: null, packages: null, files: null,
};

/** Percent-decodes each segment; null when one is malformed or decodes to a separator or NUL. */
export function splitUrlPath(rawPath: string): string[] | null {
  const parts = rawPath.split('/').slice(1);
  const out: string[] = [];
  for (const p of parts) {
    let d: string;
    try {
      d = decodeURIComponent(p);
    } catch {
      return null;
    }
    if (/[/\\\u0000]/.test(d) || d === '.' || d === '..') return null;
    out.push(d);
  }
  return out;
}

/** Cobbler's /cblr/svc/op/<op>/<k1>/<v1>/...: the op, the pairs, and an odd trailing segment. */
export function parseSvcPath(segments: readonly string[]): { op: string; pairs: Map<string, string>; rest?: string } | null {
  const segs = [...segments];
  while (segs.length > 0 && segs[segs.length - 1] === '') segs.pop();
  if (segs.length === 0 || segs.some((s) => s === '')) return null;
  const [op, ...kv] = segs;
  const pairs = new Map<string, string>();
  for (let i = 0; i + 1 < kv.length; i += 2) if (!pairs.has(kv[i]!)) pairs.set(kv[i]!, kv[i + 1]!);
  return { op: op!, pairs, ...(kv.length % 2 === 1 ? { rest: kv[kv.length - 1]! } : {}) };
}

/** Stages an installer or an installed node may report through the event callback. */
export const INSTALLER_STAGES = ['installer-started', 'image-written', 'rebooted', 'failed'] as const;

export function bootRouter(deps: BootRoutesDeps): Router {
  const { inventory: inv, tokens, log } = deps;
  const router = express.Router();

  const clientIp = (req: Request): string | undefined => req.socket.remoteAddress?.replace(/^::ffff:/, '');

  function record(req: Request, kind: BootEventKind, detail: string, about: { system?: string | undefined; mac?: string | undefined } = {}): void {
    const ip = clientIp(req);
    let system = about.system;
    // A request that names no machine (a kernel fetch) is attributed by its source address.
    if (system === undefined && ip && isIpv4(ip)) system = inv.find('system', { ip_address: ip })[0]?.name;
    // Details start with the request path, tokens masked: "/cblr/svc/op/nopxe/system/web01/token/***: netboot disabled".
    const event: BootEvent = {
      at: deps.clock.now(), kind, detail: redactTokens(`${req.path.slice(0, 300)}: ${detail}`),
      ...(system !== undefined ? { system } : {}),
      ...(about.mac !== undefined ? { mac: about.mac } : {}),
      ...(ip ? { ip } : {}),
    };
    try {
      deps.events.record(event);
    } catch (e) {
      log.warn('recording a boot event failed', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  function text(res: Response, status: number, body: string): void {
    res.status(status).type('text/plain; charset=utf-8').send(body);
  }

  function systemMac(target: BootTarget): string | undefined {
    if (target.kind !== 'system') return undefined;
    return target.mac ?? firstMac(target.system);
  }

  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') { next(); return; }
    const first = req.path.split('/')[1] ?? '';
    const isSvc = req.path.startsWith('/cblr/svc/');
    const isCblrImages = req.path.startsWith('/cblr/images/');
    const isCblrLinks = req.path.startsWith('/cblr/links/');
    if (!isSvc && !isCblrImages && !isCblrLinks && !FILE_ROOTS.has(first)) { next(); return; }
    res.on('finish', () => log.debug('boot http request', { path: redactTokens(req.originalUrl), status: res.statusCode, remote: clientIp(req) }));
    const segs = splitUrlPath(req.path);
    if (!segs) {
      record(req, 'http-error', 'refused path');
      text(res, 404, '# not found\n');
      return;
    }
    const work = isSvc ? handleSvc(req, res, segs.slice(2)) : isCblrLinks ? handleLink(req, res, segs.slice(2)) : handleFile(req, res, isCblrImages ? segs.slice(1) : first === 'httpboot' ? ['grub', ...segs.slice(1)] : segs);
    work.catch((e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      log.warn('boot http request failed', { path: redactTokens(req.originalUrl), error: redactTokens(msg) });
      record(req, 'http-error', msg);
      if (!res.headersSent) text(res, 500, `# *** ERROR *** ${redactTokens(msg)}\n`);
    });
  });

  // ----- /images/..., /grub/..., /pxelinux.cfg/..., /ipxe/... -----

  async function handleFile(req: Request, res: Response, segs: string[]): Promise<void> {
    const path = segs.join('/');
    const file = selectBootFile(path, { inventory: inv, tokenFor: (s) => tokens.tokenFor(s) });
    if (!file) {
      const m = /^pxelinux\.cfg\/01-(.+)$|^grub\/system\/(.+)$/.exec(path);
      const macText = m?.[1] ?? m?.[2];
      record(req, 'http-error', 'not found', macText && isMac(macText) ? { mac: parseMac(macText) } : {});
      text(res, 404, '# not found\n');
      return;
    }
    if (file.kind === 'text') {
      record(req, 'http-file', `sent ${Buffer.byteLength(file.text)} bytes`, { system: file.system, mac: file.mac });
      for (const w of file.warnings ?? []) log.warn('boot file warning', { path: redactTokens(path), warning: w });
      text(res, 200, file.text);
      return;
    }
    const disk = await resolveDiskBootFile(file.path);
    if (!disk) {
      record(req, 'http-error', `distro ${file.distro}: ${file.path} is missing or not a regular file`);
      text(res, 404, '# not found\n');
      return;
    }
    await sendDiskFile(req, res, disk);
  }

  async function sendDiskFile(req: Request, res: Response, disk: { realPath: string; size: number; mtimeMs: number }): Promise<void> {
    // The app turns express's ETags off (and sendFile follows that setting), but If-Range
    // and resumed downloads want a validator: size and mtime, as the etag package makes.
    res.setHeader('ETag', `"${disk.size.toString(16)}-${Math.floor(disk.mtimeMs).toString(16)}"`);
    await new Promise<void>((resolve) => {
      res.sendFile(basename(disk.realPath), {
        root: dirname(disk.realPath),
        dotfiles: 'deny',
        acceptRanges: true,
        lastModified: true,
        cacheControl: false,
        headers: { 'Content-Type': 'application/octet-stream' },
      }, (err?: Error & { status?: number; code?: string }) => {
        if (!err) {
          record(req, 'http-file', `sent ${disk.realPath}${req.headers.range ? ` (range ${String(req.headers.range).slice(0, 100)})` : ''}`);
        } else if (err.code === 'ECONNABORTED' || err.code === 'ECONNRESET' || res.headersSent) {
          record(req, 'http-error', 'transfer interrupted');
        } else {
          record(req, 'http-error', `${err.status ?? 500} ${err.code ?? err.message}`);
          text(res, err.status === 416 ? 416 : 404, '# not found\n');
        }
        resolve();
      });
    });
  }

  /**
   * Cobbler's /cblr/links/<distro>/: the distro's install tree. Here it is the folder holding
   * the distro's kernel, one level deep (a node image and its checksum beside the kernel),
   * nothing above it and no link out of it.
   */
  async function handleLink(req: Request, res: Response, segs: string[]): Promise<void> {
    const [distroName, file, ...more] = segs;
    const distro = distroName ? inv.get('distro', distroName) : undefined;
    const kernel = distro?.['kernel'];
    if (!distro || typeof kernel !== 'string' || !file || more.length > 0 || file.startsWith('.')) {
      record(req, 'http-error', 'not found');
      text(res, 404, '# not found\n');
      return;
    }
    const root = await resolveDiskBootFile(kernel);
    const disk = root ? await resolveDiskBootFile(join(dirname(root.realPath), file)) : null;
    if (!root || !disk || dirname(disk.realPath) !== dirname(root.realPath)) {
      record(req, 'http-error', `distro ${distroName}: ${file} is not in its tree`);
      text(res, 404, '# not found\n');
      return;
    }
    await sendDiskFile(req, res, disk);
  }

  // ----- /cblr/svc/op/... -----

  async function handleSvc(req: Request, res: Response, segs: string[]): Promise<void> {
    const parsed = segs[0] === 'op' ? parseSvcPath(segs.slice(1)) : null;
    if (!parsed) { text(res, 404, '# unknown service\n'); return; }
    const { op, pairs } = parsed;
    const q = req.query['token'];
    const token = pairs.get('token') ?? (typeof q === 'string' ? q : undefined);
    switch (op) {
      case 'autoinstall':
      case 'ks':
        return autoinstall(req, res, pairs, token, parsed.rest);
      case 'ipxe':
      case 'gpxe':
        return ipxe(req, res, pairs);
      case 'nopxe':
        return nopxe(req, res, pairs, token);
      case 'trig':
        return trigger(req, res, pairs, token);
      case 'list':
        return list(res, pairs);
      case 'event':
        return installEvent(req, res, pairs, token);
      default:
        text(res, 404, `# unknown op ${op.slice(0, 64)}\n`);
    }
  }

  function kindOf(pairs: Map<string, string>): { kind: SvcKind; name: string } | undefined {
    const s = pairs.get('system');
    if (s !== undefined) return { kind: 'system', name: s };
    const p = pairs.get('profile');
    return p !== undefined ? { kind: 'profile', name: p } : undefined;
  }

  async function autoinstall(req: Request, res: Response, pairs: Map<string, string>, token: string | undefined, rest: string | undefined): Promise<void> {
    const key = kindOf(pairs);
    if (!key) { text(res, 404, '# object not found\n'); return; }
    const target = selectBootTarget(inv, key.kind === 'system' ? { system: key.name } : { profile: key.name });
    if (target.kind === 'unknown') {
      record(req, 'http-error', `${key.kind} not found`, key.kind === 'system' ? { system: key.name } : {});
      text(res, 404, `# ${key.kind} not found\n`);
      return;
    }
    const about = { system: target.kind === 'system' ? target.system.name : undefined, mac: requesterMac(req) ?? systemMac(target) };
    let installToken = '';
    if (target.kind === 'system') {
      if (token !== undefined) {
        if (!tokens.check(key.name, token)) {
          record(req, 'http-error', 'refused: install token not valid', about);
          text(res, 403, '# *** ERROR *** install token not valid for this system\n');
          return;
        }
        installToken = token;
      } else if (target.netboot) {
        // Cobbler-style URLs without a token (typed by hand, older kernel lines) still work
        // while the system is set to netboot; the token is in its boot files anyway.
        installToken = tokens.tokenFor(key.name);
      }
    }
    // cloud-init NoCloud (Ubuntu autoinstall) fetches <url>/user-data, meta-data, vendor-data.
    if (rest !== undefined && rest !== 'user-data') {
      if (rest === 'meta-data') {
        const host = target.kind === 'system' && typeof target.system['hostname'] === 'string' && target.system['hostname'] !== '' ? target.system['hostname'] : key.name;
        text(res, 200, `instance-id: ${key.kind}-${key.name}\nlocal-hostname: ${host.split('.')[0]}\n`);
      } else if (rest === 'vendor-data' || rest === 'network-config') {
        text(res, rest === 'vendor-data' ? 200 : 404, rest === 'vendor-data' ? '' : '# not found\n');
      } else {
        text(res, 404, '# not found\n');
      }
      record(req, 'autoinstall', `cloud-init ${rest}`, about);
      return;
    }
    const template = target.blended['autoinstall'];
    if (typeof template !== 'string' || template === '') {
      record(req, 'http-error', 'no autoinstall template set', about);
      text(res, 404, `# no autoinstall template is set for ${key.kind} ${key.name}\n`);
      return;
    }
    const base = svcBase(target.blended);
    const vars = autoinstallVariables(target.blended, {
      install_token: installToken,
      nopxe_url: target.kind === 'system' ? nopxeUrl(base, key.name, installToken || undefined) : '',
      pre_trigger_url: triggerUrl(base, 'pre', key.kind, key.name, installToken || undefined),
      post_trigger_url: triggerUrl(base, 'post', key.kind, key.name, installToken || undefined),
    });
    try {
      const body = await renderAutoinstall({ templates: deps.templates, snippets: deps.snippets }, template, vars, deps.renderLimits);
      record(req, 'autoinstall', `rendered ${template} for ${key.kind} ${key.name}`, about);
      text(res, 200, body);
    } catch (e) {
      if (!isRackforgeError(e)) throw e;
      log.warn('autoinstall rendering failed', { [key.kind]: key.name, template, error: e.message });
      record(req, 'http-error', e.message, about);
      text(res, 500, `# *** ERROR *** ${e.message}\n`);
    }
  }

  /** Anaconda's inst.ks.sendmac headers: "X-RHN-Provisioning-MAC-0: eth0 52:54:00:12:34:56". */
  function requesterMac(req: Request): string | undefined {
    const h = req.headers['x-rhn-provisioning-mac-0'];
    const v = typeof h === 'string' ? h.trim().split(/\s+/).pop() : undefined;
    return v && isMac(v) ? parseMac(v) : undefined;
  }

  async function ipxe(req: Request, res: Response, pairs: Map<string, string>): Promise<void> {
    const macText = pairs.get('mac');
    let target: BootTarget = { kind: 'unknown' };
    if (macText !== undefined) {
      target = selectBootTarget(inv, { mac: macText });
      const profile = pairs.get('profile');
      if (target.kind === 'unknown' && profile !== undefined) target = selectBootTarget(inv, { profile });
    } else {
      const key = kindOf(pairs);
      if (!key) { text(res, 404, '# object not found\n'); return; }
      target = selectBootTarget(inv, key.kind === 'system' ? { system: key.name } : { profile: key.name });
    }
    const macAbout = macText !== undefined && isMac(macText) ? parseMac(macText) : undefined;
    if (target.kind === 'unknown') {
      record(req, 'http-error', 'not found', macAbout ? { mac: macAbout } : {});
      text(res, 404, macText !== undefined || pairs.has('system') ? '# system not found\n' : '# profile not found\n');
      return;
    }
    const token = target.kind === 'system' && target.netboot ? tokens.tokenFor(target.system.name) : undefined;
    const entry = selectBootEntry(target, token ? { token } : {});
    record(req, 'http-file', `iPXE script for ${target.kind} ${target.kind === 'system' ? target.system.name : target.profile.name}`, { system: target.kind === 'system' ? target.system.name : undefined, mac: macAbout ?? systemMac(target) });
    text(res, 200, renderIpxeSystem(entry));
  }

  async function nopxe(req: Request, res: Response, pairs: Map<string, string>, token: string | undefined): Promise<void> {
    const name = pairs.get('system');
    if (name === undefined) { text(res, 404, '# object not found\n'); return; }
    const system = inv.get('system', name);
    const about = { system: system ? name : undefined, mac: system ? firstMac(system) : undefined };
    if (!system || !tokens.check(name, token)) {
      record(req, 'callback', `nopxe refused: ${token === undefined ? 'no install token' : 'install token not valid'}`, about);
      text(res, 403, 'False');
      return;
    }
    if (inv.settings()['pxe_just_once'] !== true) {
      // Cobbler's disable_netboot answers False when the feature is off, and changes nothing.
      record(req, 'callback', 'nopxe ignored: pxe_just_once is off', about);
      text(res, 200, 'False');
      return;
    }
    setNetboot(name, false);
    tokens.retire(name);
    record(req, 'callback', 'nopxe: netboot disabled', about);
    text(res, 200, 'True');
  }

  /**
   * netboot_enabled through the inventory's modify/save. An operator's unsaved edits of the
   * same system (its working copy) are set aside so this save does not commit them, then
   * put back with the new netboot value so their later save does not undo it.
   */
  function setNetboot(name: string, on: boolean): void {
    const handle = inv.handleFor('system', name);
    const pending = inv.handles.get(handle);
    if (pending) inv.handles.drop(handle);
    let saved = false;
    try {
      inv.modify('system', handle, 'netboot_enabled', on);
      inv.save('system', handle);
      saved = true;
    } finally {
      if (pending) inv.handles.set(handle, saved ? { ...pending, record: { ...pending.record, netboot_enabled: on } } : pending);
    }
  }

  async function trigger(req: Request, res: Response, pairs: Map<string, string>, token: string | undefined): Promise<void> {
    const mode = pairs.get('mode');
    const key = kindOf(pairs);
    if (!key || (mode !== 'pre' && mode !== 'post' && mode !== 'firstboot')) { text(res, 404, '# object not found\n'); return; }
    if (key.kind === 'system') {
      const system = inv.get('system', key.name);
      const about = { system: system ? key.name : undefined, mac: system ? firstMac(system) : undefined };
      if (!system || !tokens.checkIssued(key.name, token)) {
        record(req, 'callback', `trigger ${mode} refused: ${token === undefined ? 'no install token' : 'install token not valid'}`, about);
        text(res, 403, 'False');
        return;
      }
      record(req, 'callback', `trigger ${mode}`, about);
      text(res, 200, 'True');
      return;
    }
    if (!inv.get('profile', key.name)) { text(res, 200, 'False'); return; }
    record(req, 'callback', `trigger ${mode}`);
    text(res, 200, 'True');
  }

  /**
   * rackforge's own callback: an installer (and the installed node) reports its stages,
   * /cblr/svc/op/event/system/<name>/token/<token>/stage/<stage>?detail=<text>. The token is
   * the install's (still good after nopxe, as for triggers), so nobody else can put events on
   * a machine's record.
   */
  async function installEvent(req: Request, res: Response, pairs: Map<string, string>, token: string | undefined): Promise<void> {
    const name = pairs.get('system');
    const stage = pairs.get('stage');
    if (name === undefined || stage === undefined || !(INSTALLER_STAGES as readonly string[]).includes(stage)) {
      text(res, 404, `# unknown event (stages: ${INSTALLER_STAGES.join(', ')})\n`);
      return;
    }
    const system = inv.get('system', name);
    const about = { system: system ? name : undefined, mac: system ? firstMac(system) : undefined };
    if (!system || !tokens.checkIssued(name, token)) {
      record(req, 'callback', `install event ${stage} refused: ${token === undefined ? 'no install token' : 'install token not valid'}`, about);
      text(res, 403, 'False');
      return;
    }
    const q = req.query['detail'];
    // One line of printable text: it ends up in listings and terminals.
    const detail = typeof q === 'string' ? q.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300).trim() : '';
    const ip = clientIp(req);
    try {
      deps.events.record({ at: deps.clock.now(), kind: 'install', system: name, ...(about.mac ? { mac: about.mac } : {}), ...(ip ? { ip } : {}), detail: detail ? `${stage}: ${detail}` : stage });
    } catch (e) {
      log.warn('recording an install event failed', { error: e instanceof Error ? e.message : String(e) });
    }
    if (stage === 'failed') log.warn('install failed', { system: name, detail });
    text(res, 200, 'True');
  }

  async function list(res: Response, pairs: Map<string, string>): Promise<void> {
    const what = pairs.get('what') ?? 'systems';
    if (!Object.prototype.hasOwnProperty.call(LISTABLE, what)) { text(res, 404, '# object not found\n'); return; }
    const type = LISTABLE[what];
    const names = type ? inv.names(type) : [];
    text(res, 200, names.map((n) => `${n}\n`).join(''));
  }

  return router;
}
