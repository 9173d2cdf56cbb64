// "Why didn't node X boot?": a diagnosis per machine from a CaptureReport — how far its boot
// got (the verdict) and what went wrong on the way (findings with the frames that show it and
// what to check). Pure over the report, so `explain` on a saved --json report gives the same
// answer. The rules live beside this file by area (DHCP, TFTP, the boot as a whole).
import {
  httpFindings, installWithoutNopxeFindings, ipxeLoopFindings, wrongArchitectureFindings,
} from './boot-findings.ts';
import type { CaptureReport, MachineReport, TimelineEntry } from './capture-report.ts';
import {
  networkRogueFindings, nakLoopFindings, noAckFindings, noOfferFindings, offerWithoutBootFileFindings, rogueServerFindings,
} from './dhcp-findings.ts';
import { atTime, FINDING_CODES, type DiagnosisContext, type ExplainOptions, type Finding, type FindingCode, type MachineRule, type Severity } from './findings.ts';
import { accessFindings, negotiationFindings, notFoundFindings, stormFindings, timeoutFindings } from './tftp-findings.ts';

export { FINDING_CODES };
export type { ExplainOptions, Finding, FindingCode, Severity };

/** How far a machine's boot got, best first. */
export const MACHINE_VERDICTS = [
  'registered',       // the node registered with the controller
  'installed',        // the nopxe callback came: the install finished
  'reinstall loop',   // it network booted again after installing, with no nopxe
  'install failed',   // the installer reported failure
  'installing',       // autoinstall file fetched or install events seen
  'booted',           // a kernel or initrd was loaded
  'iPXE loop',
  'wrong boot file',
  'stuck at DHCP',
  'stuck at TFTP',
  'stuck at HTTP',
  'loading',          // a boot loader, loader config or iPXE script was loaded; nothing after it in the capture
  'in DHCP',          // a network boot DHCP exchange, nothing fetched yet, nothing wrong seen
  'no network boot',  // only ordinary DHCP/ARP/HTTP from this machine
] as const;
export type MachineVerdict = (typeof MACHINE_VERDICTS)[number];

export interface MachineDiagnosis {
  mac: string;
  verdict: MachineVerdict;
  /** One sentence on where the boot got to. */
  summary: string;
  /** Errors first, then warnings, then info; within a severity by first frame, then code. */
  findings: Finding[];
}

const RULES: readonly MachineRule[] = [
  noOfferFindings,
  offerWithoutBootFileFindings,
  noAckFindings,
  nakLoopFindings,
  rogueServerFindings,
  wrongArchitectureFindings,
  ipxeLoopFindings,
  notFoundFindings,
  accessFindings,
  timeoutFindings,
  stormFindings,
  negotiationFindings,
  httpFindings,
  installWithoutNopxeFindings,
];

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const CODE_RANK: ReadonlyMap<string, number> = new Map(Object.keys(FINDING_CODES).map((c, i) => [c, i]));

export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]
    || (a.frames[0] ?? 0) - (b.frames[0] ?? 0)
    || (CODE_RANK.get(a.code) ?? 0) - (CODE_RANK.get(b.code) ?? 0)
    || (a.summary < b.summary ? -1 : a.summary > b.summary ? 1 : 0);
}

/** Every machine of the report (the --mac filter already applied), in the report's order. */
export function explainCapture(report: CaptureReport, o: ExplainOptions = {}): MachineDiagnosis[] {
  const ctx: DiagnosisContext = { report, knownFiles: o.knownFiles ?? [] };
  return report.machines.map((m) => explainMachine(m, ctx));
}

/** Findings about the network rather than one machine (a second DHCP server). */
export function explainNetwork(report: CaptureReport): Finding[] {
  return networkRogueFindings(report.dhcpServers).sort(compareFindings);
}

export function explainMachine(m: MachineReport, ctx: DiagnosisContext): MachineDiagnosis {
  const findings = RULES.flatMap((rule) => rule(m, ctx)).sort(compareFindings);
  const { verdict, summary } = verdictOf(m, findings);
  return { mac: m.mac, verdict, summary, findings };
}

const AREA: Readonly<Record<FindingCode, MachineVerdict>> = {
  NO_OFFER: 'stuck at DHCP',
  OFFER_WITHOUT_BOOT_FILE: 'stuck at DHCP',
  DHCP_NO_ACK: 'stuck at DHCP',
  NAK_LOOP: 'stuck at DHCP',
  ROGUE_DHCP_SERVER: 'stuck at DHCP',
  WRONG_ARCHITECTURE: 'wrong boot file',
  IPXE_LOOP: 'iPXE loop',
  TFTP_NOT_FOUND: 'stuck at TFTP',
  TFTP_ACCESS_DENIED: 'stuck at TFTP',
  TFTP_ERROR: 'stuck at TFTP',
  TFTP_TIMEOUT: 'stuck at TFTP',
  TFTP_RETRANSMISSION_STORM: 'stuck at TFTP',
  TFTP_NEGOTIATION_FAILED: 'stuck at TFTP',
  HTTP_NOT_FOUND: 'stuck at HTTP',
  HTTP_ERROR: 'stuck at HTTP',
  HTTP_INCOMPLETE: 'stuck at HTTP',
  HTTP_NO_RESPONSE: 'stuck at HTTP',
  INSTALL_FAILED: 'install failed',
  INSTALL_WITHOUT_NOPXE: 'reinstall loop',
};

interface Milestone {
  t: number;
  frame: number;
  what: string;
}

/** The furthest point of each kind the machine reached, by the last time it reached it. */
function milestones(m: MachineReport): Partial<Record<'registered' | 'nopxe' | 'failed' | 'installing' | 'kernel' | 'loader' | 'bootFile' | 'netboot', Milestone>> {
  const out: ReturnType<typeof milestones> = {};
  const mark = (k: keyof typeof out, e: TimelineEntry, what: string): void => {
    out[k] = { t: e.t, frame: e.frames[0]!, what };
  };
  for (const e of m.timeline) {
    if (e.kind === 'dhcp') {
      const d = e.dhcp;
      if (d.netbootClient) mark('netboot', e, `DHCP ${d.type}`);
      if (d.direction === 'reply' && d.netbootClient && d.bootFile !== null && (d.type === 'ACK' || d.proxy)) mark('bootFile', e, d.bootFile);
    } else if (e.kind === 'tftp') {
      const t = e.tftp;
      if (t.result !== 'complete') continue;
      if (t.role === 'kernel' || t.role === 'initrd') mark('kernel', e, `${t.role} ${t.filename} over TFTP`);
      else if (t.role === 'boot-loader' || t.role === 'ipxe-binary' || t.role === 'loader-config') mark('loader', e, t.filename);
    } else if (e.kind === 'http') {
      const h = e.http;
      const ok = h.status !== null && h.status >= 200 && h.status < 300;
      const what = h.url ?? h.target ?? '';
      if (h.role === 'install-event' && h.stage === 'failed') {
        mark('failed', e, what);
        continue;
      }
      if (!ok) continue;
      if (h.role === 'registration') mark('registered', e, what);
      else if (h.role === 'nopxe') mark('nopxe', e, what);
      else if (h.role === 'autoinstall' || h.role === 'install-event' || h.role === 'install-trigger') mark('installing', e, h.stage ? `install ${h.stage}` : `${h.role === 'autoinstall' ? 'autoinstall file' : 'install callback'} ${what}`);
      else if ((h.role === 'kernel' || h.role === 'initrd') && h.result === 'complete') mark('kernel', e, `${h.role} ${what}`);
      else if (h.role === 'boot-loader' || h.role === 'ipxe-binary' || h.role === 'ipxe-script' || h.role === 'loader-config') mark('loader', e, what);
    }
  }
  return out;
}

function verdictOf(m: MachineReport, findings: readonly Finding[]): { verdict: MachineVerdict; summary: string } {
  const ms = milestones(m);
  const errors = findings.filter((f) => f.severity === 'error');
  const errorOf = (code: FindingCode): Finding | undefined => errors.find((f) => f.code === code);
  const where = (x: Milestone): string => `at ${atTime(x.t)} (frame ${x.frame})`;
  if (ms.registered) return { verdict: 'registered', summary: `Registered with the controller ${where(ms.registered)}.` };
  if (ms.nopxe && (!ms.failed || ms.failed.frame < ms.nopxe.frame)) return { verdict: 'installed', summary: `Installed: the nopxe callback came ${where(ms.nopxe)}.` };
  const reinstall = errorOf('INSTALL_WITHOUT_NOPXE');
  if (reinstall) return { verdict: 'reinstall loop', summary: reinstall.summary };
  if (ms.failed && (!ms.installing || ms.installing.frame < ms.failed.frame)) return { verdict: 'install failed', summary: `The installer reported failure ${where(ms.failed)}.` };
  if (ms.installing) return { verdict: 'installing', summary: `Installing: last step ${ms.installing.what} ${where(ms.installing)}; no nopxe callback in this capture.` };
  if (ms.kernel) return { verdict: 'booted', summary: `Loaded its ${ms.kernel.what} ${where(ms.kernel)}.` };
  if (errors.length > 0) {
    // The problem that stopped it is the latest one.
    const last = [...errors].sort((a, b) => (b.frames.at(-1) ?? 0) - (a.frames.at(-1) ?? 0))[0]!;
    const loop = errorOf('IPXE_LOOP');
    const chosen = loop ?? last;
    return { verdict: AREA[chosen.code], summary: chosen.summary };
  }
  if (ms.loader) return { verdict: 'loading', summary: `Loaded ${ms.loader.what} ${where(ms.loader)} and went no further in this capture.` };
  if (ms.bootFile) return { verdict: 'in DHCP', summary: `Was given boot file ${ms.bootFile.what} ${where(ms.bootFile)}; the capture shows no fetch of it yet.` };
  if (ms.netboot) return { verdict: 'in DHCP', summary: `Network boot DHCP seen (${ms.netboot.what} ${where(ms.netboot)}), nothing fetched yet.` };
  return { verdict: 'no network boot', summary: 'No network boot from this machine in the capture (only ordinary DHCP, ARP or HTTP).' };
}
