// Diagnosis rules about the boot as a whole: a boot file for the wrong firmware, iPXE
// chain-loading itself, HTTP fetches of the boot files and callbacks failing, and an install
// that never turned PXE off. Pure functions of the report.
import {
  classifyBootPath, clientFirmware, contentFirmware, firmwareMismatch, FIRMWARE_NAMES, ROLE_NAMES,
  type ArtifactRole, type BootFirmware,
} from './boot-artifacts.ts';
import type { ClientArchitecture, HttpExchangeReport, MachineReport, TftpTransferReport } from './capture-report.ts';
import { entriesOf, evidenceFrames, listWords, type Finding } from './findings.ts';
import { formatBytes } from './summary-text.ts';

const LOADER_ROLES: ReadonlySet<ArtifactRole> = new Set(['boot-loader', 'ipxe-binary']);
/** HTTP fetches whose failure stops a boot or an install. */
const BOOT_HTTP_ROLES: ReadonlySet<ArtifactRole> = new Set([
  'boot-loader', 'ipxe-binary', 'loader-config', 'loader-module', 'ipxe-script', 'kernel', 'initrd', 'autoinstall',
  'install-event', 'install-trigger', 'nopxe', 'registration',
]);

const ok2xx = (h: HttpExchangeReport): boolean => h.status !== null && h.status >= 200 && h.status < 300;
const baseOf = (name: string): string => name.replace(/\\/g, '/').replace(/[?#].*$/, '').split('/').at(-1) ?? name;

/** The TFTP load of a boot file a DHCP reply named, after that reply (a size probe is not the load). */
function tftpFetchOf(m: MachineReport, bootFile: string, afterFrame: number): TftpTransferReport | undefined {
  const base = baseOf(bootFile);
  const after = entriesOf(m, 'tftp').map((e) => e.tftp).filter((t) => t.firstFrame > afterFrame && baseOf(t.filename) === base);
  return after.find((t) => t.content !== null) ?? after.find((t) => !t.sizeProbe) ?? after[0];
}

/** The HTTP download (GET) of a boot file a DHCP reply named as a URL. */
function httpFetchOf(m: MachineReport, bootFile: string, afterFrame: number): HttpExchangeReport | undefined {
  if (!/^https?:\/\//i.test(bootFile)) return undefined;
  const base = baseOf(bootFile);
  return entriesOf(m, 'http').map((e) => e.http)
    .find((h) => (h.requestFrame ?? 0) > afterFrame && h.method === 'GET' && h.target !== null && baseOf(h.target) === base);
}

export function wrongArchitectureFindings(m: MachineReport): Finding[] {
  // One finding per (architecture, boot file), citing every reply that gave it.
  const groups = new Map<string, { arch: ClientArchitecture; file: string; server: string; replies: number[] }>();
  for (const e of entriesOf(m, 'dhcp')) {
    const d = e.dhcp;
    if (d.direction !== 'reply' || d.bootFile === null || !d.netbootClient || d.architectures.length === 0) continue;
    if (d.type !== 'ACK' && d.type !== 'OFFER') continue;
    const arch = d.architectures[0]!;
    const key = `${arch.code}\0${d.bootFile}`;
    const g = groups.get(key);
    if (g) g.replies.push(...e.frames);
    else groups.set(key, { arch, file: d.bootFile, server: d.server ?? d.srcIp, replies: [...e.frames] });
  }
  const out: Finding[] = [];
  for (const g of groups.values()) {
    const client = clientFirmware(g.arch.code);
    const artifact = classifyBootPath(g.file);
    if (client === undefined || !LOADER_ROLES.has(artifact.role)) continue;
    const tftp = tftpFetchOf(m, g.file, g.replies[0]!);
    const http = httpFetchOf(m, g.file, g.replies[0]!);
    const byContent = contentFirmware(tftp?.content ?? undefined);
    const file: BootFirmware | undefined = byContent ?? artifact.firmware;
    if (file === undefined || !firmwareMismatch(client, file)) continue;
    const evidence = byContent !== undefined && tftp
      ? ` Its first TFTP block (frame ${tftp.frames.firstData}) ${tftp.content === 'not-pe' ? 'has no PE header: it is a BIOS network boot program' : `is a PE image for ${FIRMWARE_NAMES[byContent]}`}.`
      : http ? ` The client downloaded it over HTTP (frame ${http.requestFrame}).` : '';
    out.push({
      code: 'WRONG_ARCHITECTURE',
      severity: 'error',
      summary: `${m.mac} is a ${g.arch.name} client (option 93 = ${g.arch.code}) but ${g.server} gave it ${g.file}, a ${ROLE_NAMES[artifact.role]} for ${FIRMWARE_NAMES[file]}.${evidence}`,
      frames: evidenceFrames([...g.replies, tftp?.frames.requests.at(-1), tftp?.frames.firstData, http?.requestFrame, http?.responseFrame]),
      hint: 'Serve each architecture its own boot file by option 93: BIOS (0) pxelinux.0 or undionly.kpxe, x64 UEFI (7, 9) grubx64.efi, shimx64.efi or ipxe.efi, ARM64 UEFI (11) grubaa64.efi; with rackforge check the system\'s boot loaders and its filename field.',
    });
  }
  return out;
}

export function ipxeLoopFindings(m: MachineReport): Finding[] {
  const loops = entriesOf(m, 'dhcp').filter((e) =>
    e.dhcp.direction === 'reply' && e.dhcp.ipxeClient && e.dhcp.bootFile !== null
    && (e.dhcp.type === 'ACK' || (e.dhcp.type === 'OFFER' && e.dhcp.proxy))
    && classifyBootPath(e.dhcp.bootFile).role === 'ipxe-binary');
  const cycles = [...new Set(loops.map((e) => e.dhcp.xid))];
  if (cycles.length === 0) return [];
  const binaries = entriesOf(m, 'tftp').map((e) => e.tftp).filter((t) => t.role === 'ipxe-binary');
  const files = [...new Set(loops.map((e) => e.dhcp.bootFile!))];
  return [{
    code: 'IPXE_LOOP',
    severity: cycles.length >= 2 ? 'error' : 'warning',
    summary: cycles.length >= 2
      ? `${m.mac} is chain-loading iPXE in a loop: ${cycles.length} times iPXE asked DHCP for its next step and was given ${listWords(files)} again.`
      : `iPXE on ${m.mac} asked DHCP for its next step and was given ${listWords(files)} again: it will load itself in a loop.`,
    frames: evidenceFrames([...loops.flatMap((e) => e.frames), ...binaries.map((t) => t.frames.requests[0])]),
    hint: 'Give iPXE clients (user class "iPXE", option 77) a script URL instead of the binary: dnsmasq `dhcp-userclass=set:ipxe,iPXE` with `dhcp-boot=tag:ipxe,http://…`, ISC dhcpd `if exists user-class and option user-class = "iPXE"`; rackforge does this unless the system\'s filename field forces the binary.',
  }];
}

export function httpFindings(m: MachineReport): Finding[] {
  const out: Finding[] = [];
  for (const e of entriesOf(m, 'http')) {
    const h = e.http;
    if (!BOOT_HTTP_ROLES.has(h.role)) continue;
    const what = `${ROLE_NAMES[h.role]}${h.stage ? ` ${h.stage}` : ''}`;
    const url = h.url ?? `${h.serverIp}:${h.serverPort}`;
    if (h.status !== null && h.status >= 400) {
      const notFound = h.status === 404 || h.status === 410;
      out.push({
        code: notFound ? 'HTTP_NOT_FOUND' : 'HTTP_ERROR',
        severity: 'error',
        summary: `${h.method ?? 'HTTP'} ${url} (${what}) answered ${h.status}${h.reason ? ` ${h.reason}` : ''}.`,
        frames: e.frames,
        hint: notFound
          ? 'The file is not where the boot script or kernel line says: check the distro\'s kernel/initrd paths (rackforge serves them under /cblr/links/<distro>/), the iPXE script and the system\'s profile.'
          : h.status === 403 || h.status === 401
            ? 'The server refused the caller: for install callbacks the install token in the URL is wrong or expired (re-render the autoinstall file); for the controller, the credential.'
            : 'Read the HTTP server\'s log for this request.',
      });
    } else if (h.result === 'incomplete' || h.result === 'reset') {
      out.push({
        code: 'HTTP_INCOMPLETE',
        severity: 'error',
        summary: `${h.method ?? 'HTTP'} ${url} (${what}) ended after ${formatBytes(h.bodyBytes)}${h.contentLength !== null ? ` of ${formatBytes(h.contentLength)}` : ''}: the connection was ${h.result === 'reset' ? 'reset' : 'closed'} before the body was complete.`,
        frames: e.frames,
        hint: 'The server or something in between cut the download: check the HTTP server\'s log and timeouts, proxies, and that the file did not change while it was served.',
      });
    } else if (h.result === 'no-response') {
      out.push({
        code: 'HTTP_NO_RESPONSE',
        severity: 'error',
        summary: `${h.method ?? 'HTTP'} ${url} (${what}) got no response.`,
        frames: e.frames,
        hint: 'The HTTP server accepted the connection but never answered: check that it is running and not stuck (rackforge: `rackforge status`), and its log.',
      });
    }
    if (h.role === 'install-event' && h.stage === 'failed') {
      out.push({
        code: 'INSTALL_FAILED',
        severity: 'error',
        summary: `The installer on ${m.mac} reported that the install failed (${h.target ?? url}).`,
        frames: e.frames,
        hint: 'The installer\'s own log on the machine (its console, /var/log/installer or the event\'s detail text) says why.',
      });
    }
  }
  return out;
}

/**
 * After its install starts (autoinstall file fetched, or an install event), a machine must call
 * nopxe before it network boots again; otherwise it reinstalls on every boot. A capture that
 * ends after the image was written and before nopxe is a warning: the next boot will tell.
 */
export function installWithoutNopxeFindings(m: MachineReport): Finding[] {
  const out: Finding[] = [];
  let installFrames: number[] = [];
  let imageWritten: number | null = null;
  for (const e of m.timeline) {
    if (e.kind === 'http') {
      const h = e.http;
      const started = (h.role === 'autoinstall' && ok2xx(h)) || (h.role === 'install-event' && h.stage !== 'failed') || (h.role === 'install-trigger' && h.stage === 'pre');
      if (started) installFrames.push(e.frames[0]!);
      if (h.role === 'install-event' && h.stage === 'image-written') imageWritten = e.frames[0]!;
      if (h.role === 'nopxe' && (h.status === null || ok2xx(h))) {
        installFrames = [];
        imageWritten = null;
      }
      continue;
    }
    if (e.kind !== 'dhcp' || installFrames.length === 0) continue;
    const d = e.dhcp;
    const pxe = d.direction === 'reply' && d.netbootClient && d.bootFile !== null && (d.type === 'ACK' || d.type === 'OFFER');
    if (!pxe) continue;
    out.push({
      code: 'INSTALL_WITHOUT_NOPXE',
      severity: 'error',
      summary: `${m.mac} started installing (frame ${installFrames[0]}) and then network booted again (DHCP ${d.type} with boot file ${d.bootFile}, frame ${e.frames[0]}) without the nopxe callback: it will reinstall on every boot.`,
      frames: evidenceFrames([...installFrames, ...(imageWritten !== null ? [imageWritten] : []), ...e.frames]),
      hint: 'The installer must call /cblr/svc/op/nopxe/system/<name> when the install ends (late_command / %post / the autoinstall template\'s nopxe step): check that step, its URL and token; or turn netboot off for the system.',
    });
    installFrames = [];
    imageWritten = null;
  }
  if (imageWritten !== null) {
    out.push({
      code: 'INSTALL_WITHOUT_NOPXE',
      severity: 'warning',
      summary: `The installer on ${m.mac} reported image-written (frame ${imageWritten}) but the capture ends with no nopxe callback: the next boot will network boot and reinstall.`,
      frames: evidenceFrames([...installFrames, imageWritten]),
      hint: 'The installer must call /cblr/svc/op/nopxe/system/<name> when the install ends: check the autoinstall template\'s nopxe step, or capture longer.',
    });
  }
  return out;
}
