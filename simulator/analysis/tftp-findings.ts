// Diagnosis rules about TFTP: missing files (with the nearest name the server did serve, and
// without flagging pxelinux's normal config search unless all of it failed), access errors,
// stalls, retransmission storms and option negotiation failures. Pure functions of the report.
import type { MachineReport, TftpTransferReport } from './capture-report.ts';
import { atTime, entriesOf, evidenceFrames, listWords, type DiagnosisContext, type Finding } from './findings.ts';
import { nearestName } from './nearest-name.ts';
import { formatBytes } from './summary-text.ts';
import { tftpFrames } from './tftp-transfers.ts';

/** Share of re-sent DATA blocks, and their least number, that make a storm. */
export const STORM_SHARE = 0.1;
export const STORM_MIN_BLOCKS = 20;
export const STORM_MIN_REQUESTS = 3;
/** Names iPXE asks for on its own; not having them is normal. */
const OPTIONAL_FILES = new Set(['autoexec.ipxe']);
/** Above this blksize a 1500-byte MTU path needs IP fragments (1468 + 32 bytes of headers). */
const MTU_SAFE_BLKSIZE = 1468;

function transfers(m: MachineReport): TftpTransferReport[] {
  return entriesOf(m, 'tftp').map((e) => e.tftp);
}

const dirOf = (name: string): string => {
  const i = name.replace(/\\/g, '/').lastIndexOf('/');
  return i < 0 ? '' : name.slice(0, i);
};
const baseOf = (name: string): string => name.replace(/\\/g, '/').split('/').at(-1) ?? name;
const notFound = (t: TftpTransferReport): boolean => t.result === 'error' && t.error?.code === 1;

/** The nearest existing name: under the TFTP root when it was given (--tftp-root), else served in the capture. */
function nearestHint(name: string, served: readonly string[], known: readonly string[]): string {
  const onDisk = nearestName(name, known);
  const inCapture = nearestName(name, served);
  if (onDisk && (!inCapture || onDisk.distance <= inCapture.distance)) return `The closest name under the TFTP root is ${onDisk.name}.`;
  if (!inCapture) return known.length > 0 ? 'The TFTP root given holds no other file.' : 'The server served no file in this capture, so check the TFTP root itself (or give it with --tftp-root).';
  return `The closest name the server did serve in this capture is ${inCapture.name}.`;
}

/**
 * File-not-found: a loader's config search (pxelinux.cfg/<uuid>, 01-<mac>, hex IP prefixes,
 * default; grub.cfg-…) is normal until one name succeeds, so a run of config names in one
 * folder is a finding only when none succeeded. A name found later under another path (a
 * loader searching its prefixes for ldlinux.c32) is not a finding either.
 */
export function notFoundFindings(m: MachineReport, ctx: DiagnosisContext): Finding[] {
  const list = transfers(m);
  const served = ctx.report.tftpFilesServed;
  const out: Finding[] = [];
  const hint = 'Check the file exists under the TFTP root with exactly this path and case, or fix the name the DHCP reply or the loader config asks for; with rackforge, `rackforge sync` writes the loader and distro files.';
  let i = 0;
  while (i < list.length) {
    const t = list[i]!;
    if (t.role === 'loader-config') {
      // A run: consecutive config names in the same folder.
      const dir = dirOf(t.filename);
      let j = i;
      while (j < list.length && list[j]!.role === 'loader-config' && dirOf(list[j]!.filename) === dir) j++;
      const run = list.slice(i, j);
      i = j;
      if (run.some((x) => x.result === 'complete')) continue;
      const missing = run.filter(notFound);
      if (missing.length === 0) continue;
      const folder = dir === '' ? 'the TFTP root' : `${dir}/`;
      // Of the configs that exist (under the root given, or served to others), the one whose
      // name is nearest: a MAC typed one digit off in the inventory shows up here.
      const sameDir = (s: string): boolean => dirOf(s.replace(/^\/+/, '')) === dir.replace(/^\/+/, '');
      const nearOnDisk = missing.map((x) => nearestName(x.filename, ctx.knownFiles.filter(sameDir))).filter((x) => x !== undefined).sort((a, b) => a.distance - b.distance)[0];
      const near = nearestName(missing[0]!.filename, served.filter((s) => dirOf(s) === dir));
      out.push({
        code: 'TFTP_NOT_FOUND',
        severity: 'error',
        summary: `No loader config found for ${m.mac} in ${folder}: tried ${listWords(missing.map((x) => baseOf(x.filename)), 8)} (${missing.length} names) and the server (${missing[0]!.serverIp}) had none.`,
        frames: evidenceFrames(missing.flatMap((x) => [x.frames.requests[0], x.frames.error])),
        hint: `${nearOnDisk ? `The nearest config under the TFTP root is ${nearOnDisk.name} (is the MAC or address in the inventory right?); ` : ''}${near ? `The server did serve ${near.name} to another machine; ` : ''}add a config for this machine (by MAC: ${dir ? `${dir}/` : ''}01-${m.mac.replace(/:/g, '-')}) or a default; with rackforge, check the system exists with this MAC and run \`rackforge sync\`.`,
      });
      continue;
    }
    i++;
    if (!notFound(t) || OPTIONAL_FILES.has(baseOf(t.filename).toLowerCase())) continue;
    const base = baseOf(t.filename);
    if (list.some((x) => x.firstFrame > t.firstFrame && x.result === 'complete' && baseOf(x.filename) === base)) continue;
    out.push({
      code: 'TFTP_NOT_FOUND',
      severity: 'error',
      summary: `TFTP server ${t.serverIp} has no ${t.filename} for ${m.mac}: ERROR 1 "${t.error!.message}" at ${atTime(t.t)}. ${nearestHint(t.filename, served, ctx.knownFiles)}`,
      frames: evidenceFrames([...t.frames.requests, t.frames.error]),
      hint,
    });
  }
  return out;
}

export function accessFindings(m: MachineReport): Finding[] {
  const out: Finding[] = [];
  for (const t of transfers(m)) {
    if (t.result !== 'error' || !t.error || t.error.code === 1 || t.error.code === 8) continue;
    const denied = t.error.code === 2;
    out.push({
      code: denied ? 'TFTP_ACCESS_DENIED' : 'TFTP_ERROR',
      severity: 'error',
      summary: `TFTP server ${t.serverIp} refused ${t.filename}: ERROR ${t.error.code} (${t.error.name}) "${t.error.message}".`,
      frames: evidenceFrames([...t.frames.requests, t.frames.error]),
      hint: denied
        ? 'The TFTP server may not read the file: check its permissions (world-readable for tftpd-hpa), that it is inside the TFTP root (no ../ or symlink out of it), and --secure path handling.'
        : 'Read the TFTP server\'s log for this request; the error text above is what it said.',
    });
  }
  return out;
}

export function timeoutFindings(m: MachineReport): Finding[] {
  const list = transfers(m);
  const out: Finding[] = [];
  for (const t of list) {
    if (t.result !== 'timed-out' && t.result !== 'no-response') continue;
    const recovered = list.some((x) => x.firstFrame > t.firstFrame && x.filename === t.filename && x.result === 'complete');
    const severity = recovered ? 'warning' : 'error';
    if (t.result === 'no-response') {
      out.push({
        code: 'TFTP_TIMEOUT',
        severity,
        summary: `TFTP server ${t.serverIp} never answered ${m.mac}'s request for ${t.filename} (sent ${t.requests} time${t.requests > 1 ? 's' : ''} from ${atTime(t.t)})${recovered ? '; a later request succeeded' : ''}.`,
        frames: evidenceFrames(t.frames.requests),
        hint: `Is a TFTP server listening on ${t.serverIp} port 69? Check the next-server / option 66 address the DHCP reply gave, that tftpd runs, and that no firewall drops UDP 69.`,
      });
      continue;
    }
    const size = t.tsize !== null ? `${formatBytes(t.bytes)} of ${formatBytes(t.tsize)}` : formatBytes(t.bytes);
    const mtu = t.blocks === 0 && t.blksize > MTU_SAFE_BLKSIZE;
    out.push({
      code: 'TFTP_TIMEOUT',
      severity,
      summary: `TFTP download of ${t.filename} from ${t.serverIp} stopped after ${t.blocks} block${t.blocks === 1 ? '' : 's'} (${size}) with no last block and no error${recovered ? '; a later attempt succeeded' : ''}.`,
      frames: evidenceFrames(tftpFrames(t)),
      hint: mtu
        ? `The agreed blksize ${t.blksize} needs IP fragments on a 1500-byte MTU path and no block got through: cap the server's blksize (e.g. 1468 or less) or allow fragments.`
        : 'The transfer went quiet: check the TFTP server\'s log, that no firewall or NAT drops the transfer\'s high UDP ports, and the link for loss.',
    });
  }
  return out;
}

export function stormFindings(m: MachineReport): Finding[] {
  const out: Finding[] = [];
  for (const t of transfers(m)) {
    const share = t.blocks > 0 ? t.retransmittedBlocks / t.blocks : 0;
    if (t.retransmittedBlocks >= STORM_MIN_BLOCKS && share > STORM_SHARE) {
      out.push({
        code: 'TFTP_RETRANSMISSION_STORM',
        severity: t.result === 'complete' ? 'warning' : 'error',
        summary: `TFTP download of ${t.filename} from ${t.serverIp}: ${t.retransmittedBlocks} of ${t.blocks} DATA blocks were sent again (${Math.round(share * 100)}%)`
          + `${t.duplicateAcks > 0 ? `, ${t.duplicateAcks} duplicate ACKs` : ''}; the transfer ${t.result === 'complete' ? 'finished but slowly' : `ended ${t.result}`}.`,
        frames: evidenceFrames(tftpFrames(t)),
        hint: `Packets are being lost or delayed between server and client: check the link for errors and congestion; with windowsize ${t.windowsize} and blksize ${t.blksize}, a smaller window or block size may get through.`,
      });
    } else if (t.requests >= STORM_MIN_REQUESTS && t.serverPort !== null) {
      out.push({
        code: 'TFTP_RETRANSMISSION_STORM',
        severity: 'warning',
        summary: `${m.mac} sent its request for ${t.filename} ${t.requests} times before ${t.serverIp} answered.`,
        frames: evidenceFrames(t.frames.requests),
        hint: 'The TFTP server is slow to answer (busy, or slow storage) or the first requests were lost.',
      });
    }
  }
  return out;
}

export function negotiationFindings(m: MachineReport): Finding[] {
  const out: Finding[] = [];
  const opts = (r: Record<string, string>): string => Object.entries(r).map(([k, v]) => `${k}=${v}`).join(' ');
  for (const t of transfers(m)) {
    if (t.result === 'error' && t.error?.code === 8) {
      out.push({
        code: 'TFTP_NEGOTIATION_FAILED',
        severity: 'error',
        summary: `TFTP server ${t.serverIp} refused the options ${m.mac} asked for ${t.filename} (${opts(t.requested)}): ERROR 8 "${t.error.message}".`,
        frames: evidenceFrames([...t.frames.requests, t.frames.error]),
        hint: 'The server does not accept these option values: raise its maximum blksize/windowsize, or make it ignore options it cannot honour instead of refusing (RFC 2347).',
      });
    } else if (t.result === 'aborted' && !t.sizeProbe && t.error?.code === 8 && t.error.by === 'client' && t.blocks === 0 && t.granted !== null) {
      out.push({
        code: 'TFTP_NEGOTIATION_FAILED',
        severity: 'error',
        summary: `${m.mac} refused what TFTP server ${t.serverIp} granted for ${t.filename} (asked ${opts(t.requested)}, granted ${opts(t.granted)}): ERROR 8 "${t.error.message}".`,
        frames: evidenceFrames([...t.frames.requests, t.frames.oack, t.frames.error]),
        hint: 'The server answered an option with a value the client cannot use (a blksize above what it asked, or an option it did not ask for): fix the server\'s option handling or its configured blksize.',
      });
    } else if (t.optionsIgnored && (t.result === 'timed-out' || t.result === 'error' || t.result === 'aborted')) {
      out.push({
        code: 'TFTP_NEGOTIATION_FAILED',
        severity: 'warning',
        summary: `TFTP server ${t.serverIp} ignored the options ${m.mac} asked for ${t.filename} (${opts(t.requested)}), sent ${t.blksize}-byte blocks, and the transfer then ended ${t.result}.`,
        frames: evidenceFrames(tftpFrames(t)),
        hint: 'The client may not cope with plain RFC 1350 transfers (e.g. it needs tsize to size its buffer): use a TFTP server that supports RFC 2347-2349 options.',
      });
    }
  }
  return out;
}
