// `rackforge capture summary|timeline|explain|follow FILE`: what happened in a pcap or pcapng
// file, per machine, and why a machine did not boot. The analysis is simulator/analysis/; this
// file only reads options, runs it and prints. A file that stops being readable part-way is
// reported up to that point and the command exits 1; otherwise findings do not change the exit
// code (scripts read them from --json).
import { existsSync } from 'node:fs';
import { RackforgeError } from '../lib/errors.ts';
import { isMac, parseMac } from '../lib/ids.ts';
import type { OptionSpec, OptionValue } from './args.ts';
import type { CliIo } from './io.ts';
import { renderCaptureExplain, renderCaptureSummary, renderCaptureTimeline, renderFollowLine } from './capture-render.ts';
import { renderJson } from './render.ts';
import { HELP_OPTION, JSON_OPTION, renderSubcommandHelp, runSubcommand, usageError, type Subcommand } from './subcommands.ts';
import { analyzeCaptureFile } from '../simulator/analysis/analyze-capture-file.ts';
import { explainCapture, explainNetwork, type ExplainOptions } from '../simulator/analysis/diagnosis.ts';
import { listTftpRoot } from '../simulator/analysis/tftp-root-files.ts';
import type { CaptureReport, TimelineEntry } from '../simulator/analysis/capture-report.ts';

const MAC_OPTION: OptionSpec = { flag: 'mac', key: 'mac', kind: 'string', metavar: 'MAC', help: 'only this machine (any case; colons, dashes or none)' };
const OPTIONS = [MAC_OPTION, JSON_OPTION, HELP_OPTION];
const TFTP_ROOT_OPTION: OptionSpec = {
  flag: 'tftp-root', key: 'tftp_root', kind: 'string', metavar: 'DIR',
  help: 'the TFTP server\'s root: a missing file is compared with the names that exist there, not only with those served in the capture',
};
const EXPLAIN_OPTIONS = [MAC_OPTION, TFTP_ROOT_OPTION, JSON_OPTION, HELP_OPTION];

async function explainOptions(o: Record<string, OptionValue>): Promise<ExplainOptions> {
  const root = o['tftp_root'];
  if (root === undefined) return {};
  if (typeof root !== 'string' || root === '') throw usageError('--tftp-root needs a directory');
  try {
    return { knownFiles: await listTftpRoot(root) };
  } catch (e) {
    throw new RackforgeError('CAPTURE_READ', e instanceof Error ? e.message : String(e));
  }
}

/** aa:bb:cc:dd:ee:ff from the spellings people paste; a usage error for anything else. */
export function parseMacOption(v: OptionValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !isMac(v)) throw usageError(`--mac must be a MAC address such as 52:54:00:12:34:56, got '${String(v)}'`);
  return parseMac(v);
}

async function analyze(file: string, o: Record<string, OptionValue>, follow?: { signal: AbortSignal; onEntry: (e: TimelineEntry) => void }): Promise<CaptureReport> {
  const mac = parseMacOption(o['mac']);
  try {
    return await analyzeCaptureFile(file, { ...(mac ? { mac } : {}), ...(follow ? { follow: true, signal: follow.signal, onEntry: follow.onEntry } : {}) });
  } catch (e) {
    throw new RackforgeError('CAPTURE_READ', e instanceof Error ? e.message : String(e));
  }
}

/** Exit status: 1 when the file could not be read to its end. */
const status = (r: CaptureReport): number => (r.file.readError ? 1 : 0);

function readErrorLine(r: CaptureReport, file: string, io: CliIo): void {
  const e = r.file.readError;
  if (e) io.err(`rackforge: ${file}: ${e.message} (${e.code} at byte ${e.offset}); frames before it are reported`);
}

async function summary(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const r = await analyze(pos[0]!, o);
  if (o['json'] === true) {
    const { machines, ...rest } = r;
    io.out(renderJson({ ...rest, machines: machines.map(({ timeline: _t, ...m }) => m) }));
  } else for (const l of renderCaptureSummary(r, pos[0]!)) io.out(l);
  readErrorLine(r, pos[0]!, io);
  return status(r);
}

async function timeline(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const r = await analyze(pos[0]!, o);
  if (o['json'] === true) io.out(renderJson({ file: r.file, filter: r.filter, machines: r.machines }));
  else for (const l of renderCaptureTimeline(r, pos[0]!)) io.out(l);
  readErrorLine(r, pos[0]!, io);
  return status(r);
}

async function explain(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const known = await explainOptions(o);
  const r = await analyze(pos[0]!, o);
  const diagnoses = explainCapture(r, known);
  const network = explainNetwork(r);
  if (o['json'] === true) io.out(renderJson({ file: r.file, filter: r.filter, network, machines: diagnoses }));
  else for (const l of renderCaptureExplain(r, network, diagnoses, pos[0]!)) io.out(l);
  readErrorLine(r, pos[0]!, io);
  return status(r);
}

/**
 * The timeline as it happens, from a file still being written (a lab's capture) or from stdin
 * (`rackforge lab capture NET --live | rackforge capture follow -`). Ctrl-C (or the end of stdin)
 * stops it and prints the diagnosis of what was seen.
 */
async function follow(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number> {
  const json = o['json'] === true;
  const known = await explainOptions(o);
  if (pos[0] !== '-' && !existsSync(pos[0]!)) io.err(`rackforge: waiting for ${pos[0]} to appear (Ctrl-C to stop)`);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await analyze(pos[0]!, o, {
      signal: stop.signal,
      onEntry: (e) => io.out(json ? JSON.stringify(e) : renderFollowLine(e)),
    });
    if (!json) for (const l of renderCaptureExplain(r, explainNetwork(r), explainCapture(r, known), pos[0]!)) io.out(l);
    readErrorLine(r, pos[0]!, io);
    return status(r);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const FILE = 'FILE';
const SUBCOMMANDS: Record<string, Subcommand> = {
  summary: { usage: `capture summary ${FILE} [--mac MAC] [--json]`, summary: 'machines, DHCP servers, protocol counts, TFTP transfers and HTTP fetches', positionals: 1, options: OPTIONS, run: summary },
  timeline: { usage: `capture timeline ${FILE} [--mac MAC] [--json]`, summary: 'per machine, its boot in order with times since the first packet', positionals: 1, options: OPTIONS, run: timeline },
  explain: { usage: `capture explain ${FILE} [--mac MAC] [--tftp-root DIR] [--json]`, summary: 'why each machine did (not) boot, with the frame numbers as evidence', positionals: 1, options: EXPLAIN_OPTIONS, run: explain },
  follow: { usage: `capture follow ${FILE}|- [--mac MAC] [--tftp-root DIR] [--json]`, summary: 'the timeline live, from a growing file or stdin; Ctrl-C ends it', positionals: 1, options: EXPLAIN_OPTIONS, run: follow },
};

export const renderCaptureHelp = (): string => renderSubcommandHelp('capture', SUBCOMMANDS);

export function runCapture(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand('capture', SUBCOMMANDS, argv, io);
}
