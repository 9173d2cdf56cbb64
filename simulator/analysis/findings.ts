// What `rackforge capture explain` can say about a machine: one registry of finding codes with
// what triggers each (the same table drives the docs), and the Finding shape. Pure data.
import type { CaptureReport, MachineReport, TimelineEntry } from './capture-report.ts';

export const FINDING_CODES = {
  NO_OFFER: 'the machine sent DHCP DISCOVERs and no server offered anything for them',
  OFFER_WITHOUT_BOOT_FILE: 'a PXE/HTTP boot client got DHCP answers, none with a boot file, and no ProxyDHCP answered',
  DHCP_NO_ACK: 'the machine asked for an offered address (REQUEST after an OFFER) and no server acknowledged it',
  NAK_LOOP: 'the DHCP server refused the machine with NAK three or more times (or twice for the same address)',
  ROGUE_DHCP_SERVER: 'more than one DHCP server (not counting ProxyDHCP) answered',
  WRONG_ARCHITECTURE: 'the boot file is for another firmware or CPU than the client declared in option 93',
  IPXE_LOOP: 'iPXE (user class "iPXE") was handed an iPXE binary again, so it chain-loads itself',
  TFTP_NOT_FOUND: 'the TFTP server answered "file not found" (a loader config search counts only when all of it failed)',
  TFTP_ACCESS_DENIED: 'the TFTP server answered "access violation"',
  TFTP_ERROR: 'the TFTP server answered another error',
  TFTP_TIMEOUT: 'a TFTP transfer stopped without its last block or an error, or its request was never answered',
  TFTP_RETRANSMISSION_STORM: 'more than 10% of a transfer\'s DATA blocks (and at least 20) were sent again, or its request was sent 3+ times',
  TFTP_NEGOTIATION_FAILED: 'blksize/windowsize/tsize negotiation failed (ERROR 8 either way, or options ignored and the transfer then failed)',
  HTTP_NOT_FOUND: 'a boot file, script, autoinstall file or callback answered 404/410',
  HTTP_ERROR: 'a boot file, script, autoinstall file or callback answered another 4xx/5xx status',
  HTTP_INCOMPLETE: 'a boot download ended before its body did (connection closed or reset)',
  HTTP_NO_RESPONSE: 'a boot request got no response',
  INSTALL_FAILED: 'the installer reported the "failed" install stage',
  INSTALL_WITHOUT_NOPXE: 'after its install started the machine PXE-booted again with no nopxe callback in between (or the capture ends after image-written with no nopxe)',
} as const;
export type FindingCode = keyof typeof FINDING_CODES;

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** One plain sentence, naming the files and addresses involved. */
  summary: string;
  /** Wireshark frame numbers of the evidence, ascending, at most FINDING_FRAMES_KEPT. */
  frames: number[];
  /** What to check or change. */
  hint: string;
}

/** What the rules may look at besides the machine itself. */
export interface DiagnosisContext {
  report: CaptureReport;
  /** Paths known to exist on the TFTP server (from `--tftp-root DIR`), relative to its root. */
  knownFiles: readonly string[];
}

/** What explainCapture may know besides the capture. */
export interface ExplainOptions {
  /** Paths that exist under the TFTP server's root, '/'-separated, relative to it. */
  knownFiles?: readonly string[];
}

export type MachineRule = (m: MachineReport, ctx: DiagnosisContext) => Finding[];

export const FINDING_FRAMES_KEPT = 50;

/** Frames as a finding lists them: unique, ascending, at most FINDING_FRAMES_KEPT. */
export function evidenceFrames(frames: Iterable<number | null | undefined>): number[] {
  const set = new Set<number>();
  for (const f of frames) if (typeof f === 'number' && f > 0) set.add(f);
  return [...set].sort((a, b) => a - b).slice(0, FINDING_FRAMES_KEPT);
}

type Kind<K extends TimelineEntry['kind']> = Extract<TimelineEntry, { kind: K }>;

export function entriesOf<K extends TimelineEntry['kind']>(m: MachineReport, kind: K): Kind<K>[] {
  return m.timeline.filter((e): e is Kind<K> => e.kind === kind);
}

/** "frames 3, 7 and 12" style list of names: "a, b and c". */
export function listWords(items: readonly string[], max = 6): string {
  const shown = items.slice(0, max);
  const more = items.length - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

/** 0.000123 → "0.000 s"; the time column of the timeline, for sentences. */
export function atTime(t: number): string {
  return `${t.toFixed(3)} s`;
}
