// `rackforge capture …` as text for people: aligned tables and per-machine timelines, from the
// report the analyzer builds. Pure: report in, lines out. `--json` prints the report itself.
import type { CaptureReport, MachineReport, TimelineEntry } from '../simulator/analysis/capture-report.ts';
import type { Finding, MachineDiagnosis } from '../simulator/analysis/diagnosis.ts';
import { formatBytes, formatRate, formatSeconds } from '../simulator/analysis/summary-text.ts';
import { cell, renderColumns } from './table.ts';

/** Seconds since the first packet, as Wireshark's relative time column shows them. */
export const renderT = (t: number): string => `${t.toFixed(6)}`;

// The same decimal units as the timeline's one-line summaries (and Wireshark's statistics).
const renderSeconds = formatSeconds;
const renderBytes = formatBytes;
const renderRate = (bytesPerSecond: number): string => (bytesPerSecond > 0 ? formatRate(bytesPerSecond) : '-');

/** "12", "12,13", "12-15", "12,14-16 (+40 more)": the evidence, short enough for one line. */
export function renderFrames(frames: readonly number[], max = 8): string {
  const parts: string[] = [];
  let shown = 0;
  for (let i = 0; i < frames.length && shown < max; ) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === (frames[j] as number) + 1) j++;
    parts.push(j > i ? `${frames[i]}-${frames[j]}` : String(frames[i]));
    shown += j - i + 1;
    i = j + 1;
  }
  const rest = frames.length - shown;
  return parts.join(',') + (rest > 0 ? ` (+${rest} more)` : '');
}

function machineLabel(m: MachineReport): string {
  const address = m.addresses.find((a) => a.source === 'dhcp') ?? m.addresses[0];
  const bits = [m.mac, address?.ip ?? 'no address', m.architectures.map((a) => a.name).join('/') || null, m.userClasses.includes('iPXE') ? 'iPXE' : null, m.hostname];
  return bits.filter((b): b is string => typeof b === 'string' && b !== '').join('  ');
}

function fileLines(r: CaptureReport, file: string): string[] {
  const f = r.file;
  const lines = [`${file}: ${f.format ?? 'unknown format'}, ${f.frames} frames${f.firstTime ? `, from ${f.firstTime} for ${renderSeconds(f.lastT)}` : ''}${r.filter ? `, machine ${r.filter.mac}` : ''}`];
  if (f.readError) lines.push(`read error at byte ${f.readError.offset}: ${f.readError.message} (${f.readError.code}); everything before it is reported`);
  return lines;
}

function problemLines(r: CaptureReport): string[] {
  if (r.file.decodeProblemCount === 0) return [];
  const lines = ['', `Packets that did not decode: ${r.file.decodeProblemCount}`];
  for (const p of r.file.decodeProblems.slice(0, 10)) lines.push(`  frame ${p.frame}, byte ${p.offset}: ${p.message} (${p.code})`);
  if (r.file.decodeProblemCount > 10) lines.push(`  … ${r.file.decodeProblemCount - 10} more (--json lists up to ${r.file.decodeProblems.length})`);
  return lines;
}

export function renderCaptureSummary(r: CaptureReport, file: string): string[] {
  const p = r.file.protocols;
  const lines = [...fileLines(r, file), ''];
  lines.push(`Protocols: ${Object.entries(p).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);

  lines.push('', `Machines: ${r.machines.length}`);
  if (r.machines.length > 0) {
    lines.push(...renderColumns([
      ['MAC', 'ADDRESS', 'ARCH', 'CLIENT', 'FIRST', 'LAST', 'EVENTS'],
      ...r.machines.map((m) => [
        m.mac, cell(m.addresses.find((a) => a.source === 'dhcp')?.ip ?? m.addresses[0]?.ip), cell(m.architectures.map((a) => a.name).join('/')),
        cell(m.userClasses.includes('iPXE') ? 'iPXE' : m.vendorClasses[0]?.split(':')[0]), renderT(m.firstT), renderT(m.lastT), String(m.timeline.length + m.timelineOmitted),
      ]),
    ]).map((l) => `  ${l}`));
  }

  const answering = r.dhcpServers.filter((s) => s.role === 'dhcp' && s.offers + s.acks > 0);
  lines.push('', `DHCP servers: ${r.dhcpServers.length}${answering.length > 1 ? `  — FINDING: ${answering.length} servers hand out addresses on this network (${answering.map((s) => s.id).join(', ')}); see 'capture explain'` : ''}`);
  if (r.dhcpServers.length > 0) {
    lines.push(...renderColumns([
      ['SERVER', 'ROLE', 'MAC', 'OFFERS', 'ACKS', 'NAKS', 'CLIENTS', 'BOOT FILES'],
      ...r.dhcpServers.map((s) => [s.id, s.role, cell(s.sourceMacs.join(',')), String(s.offers), String(s.acks), String(s.naks), String(s.clients.length), cell(s.bootFiles.join(' '))]),
    ]).map((l) => `  ${l}`));
  }

  lines.push('', `TFTP transfers: ${r.tftpTransfers.length}`);
  if (r.tftpTransfers.length > 0) {
    lines.push(...renderColumns([
      ['TIME', 'MAC', 'FILE', 'SIZE', 'DURATION', 'BLKSIZE', 'WINDOW', 'RATE', 'RETRANS', 'RESULT'],
      ...r.tftpTransfers.map((x) => [
        renderT(x.t), x.mac, cell(x.filename), renderBytes(x.bytes), renderSeconds(x.durationSeconds), String(x.blksize), String(x.windowsize),
        renderRate(x.bytesPerSecond), String(x.retransmittedBlocks), x.error ? `${x.result}: ${x.error.name}${x.error.message ? ` "${cell(x.error.message)}"` : ''}` : x.result,
      ]),
    ]).map((l) => `  ${l}`));
  }

  lines.push('', `HTTP exchanges: ${r.httpExchanges.length}`);
  if (r.httpExchanges.length > 0) {
    lines.push(...renderColumns([
      ['TIME', 'MAC', 'REQUEST', 'STATUS', 'SIZE', 'DURATION', 'RATE', 'WHAT', 'RESULT'],
      ...r.httpExchanges.map((x) => [
        renderT(x.t), x.mac, cell(x.method && x.target ? `${x.method} ${x.target}` : '(request not captured)'), cell(x.status ?? undefined), renderBytes(x.bodyBytes),
        renderSeconds(x.durationSeconds), renderRate(x.bytesPerSecond), cell(x.role), x.result,
      ]),
    ]).map((l) => `  ${l}`));
  }
  lines.push(...problemLines(r));
  return lines;
}

function timelineCells(e: TimelineEntry): string[] {
  return [renderT(e.t), `#${renderFrames(e.frames, 4)}`, e.kind, `${cell(e.summary)}${e.done ? '' : '  (under way)'}`];
}

export function renderTimelineEntry(e: TimelineEntry): string {
  const [t, frames, kind, summary] = timelineCells(e) as [string, string, string, string];
  return `${t.padStart(12)}  ${frames.padEnd(16)}  ${kind.padEnd(4)}  ${summary}`;
}

export function renderCaptureTimeline(r: CaptureReport, file: string): string[] {
  const lines = fileLines(r, file);
  if (r.machines.length === 0) lines.push('', r.filter ? `machine ${r.filter.mac} does not appear in this capture` : 'no machine booting in this capture');
  for (const m of r.machines) {
    lines.push('', machineLabel(m));
    // Right-aligned times; the other columns as wide as this machine's widest cell.
    const rows = m.timeline.map(timelineCells);
    const width = Math.max(0, ...rows.map((c) => (c[0] as string).length));
    for (const l of renderColumns(rows.map((c) => [(c[0] as string).padStart(width), ...c.slice(1)]))) lines.push(`  ${l}`);
    if (m.timelineOmitted > 0) lines.push(`  … ${m.timelineOmitted} more entries (see --json)`);
  }
  lines.push(...problemLines(r));
  return lines;
}

/** A follow line: the machine first, since lines of many machines interleave. */
export function renderFollowLine(e: TimelineEntry): string {
  return `${e.mac}  ${renderTimelineEntry(e).trimStart()}`;
}

function findingLines(f: Finding): string[] {
  const lines = [`  ${f.severity.toUpperCase().padEnd(7)} ${f.code}: ${cell(f.summary)}`];
  if (f.frames.length > 0) lines.push(`          frames ${renderFrames(f.frames, 12)}`);
  if (f.hint) lines.push(`          → ${cell(f.hint)}`);
  return lines;
}

export function renderCaptureExplain(r: CaptureReport, network: readonly Finding[], diagnoses: readonly MachineDiagnosis[], file: string): string[] {
  const lines = fileLines(r, file);
  if (network.length > 0) lines.push('', 'The network:', ...network.flatMap(findingLines));
  if (diagnoses.length === 0) lines.push('', r.filter ? `machine ${r.filter.mac} does not appear in this capture` : 'no machine booting in this capture');
  for (const d of diagnoses) {
    const m = r.machines.find((x) => x.mac === d.mac);
    lines.push('', `${m ? machineLabel(m) : d.mac}: ${d.verdict}`, `  ${cell(d.summary)}`);
    if (d.findings.length === 0) lines.push('  no problem found');
    for (const f of d.findings) lines.push(...findingLines(f));
  }
  lines.push(...problemLines(r));
  return lines;
}
