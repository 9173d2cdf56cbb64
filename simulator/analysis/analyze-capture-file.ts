// A capture file (or stdin, or a file still being written) through the analyzer: the I/O edge
// of the analysis. Reading errors never throw (they are in report.file.readError, after
// everything before them); only I/O failures such as a missing file do.
import type { TimelineEntry, CaptureReport } from './capture-report.ts';
import { createCaptureAnalyzer } from './capture-analyzer.ts';
import { readCapture } from './capture-source.ts';

export interface AnalyzeCaptureFileOptions {
  /** Only this machine (any case, ':' or '-' separators). */
  mac?: string;
  /** Keep reading as the file grows, until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Each timeline entry as the packet that starts or completes it is read (for `follow`). */
  onEntry?: (e: TimelineEntry, machine: string) => void;
}

export async function analyzeCaptureFile(source: string, o: AnalyzeCaptureFileOptions = {}): Promise<CaptureReport> {
  const analyzer = createCaptureAnalyzer(o.mac === undefined ? {} : { mac: o.mac });
  const onEntry = o.onEntry;
  const result = await readCapture(source, (p) => {
    const entries = analyzer.add(p);
    if (onEntry) for (const e of entries) onEntry(e, e.mac);
  }, { ...(o.follow !== undefined ? { follow: o.follow } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  return analyzer.report(result.error, { format: result.format });
}
