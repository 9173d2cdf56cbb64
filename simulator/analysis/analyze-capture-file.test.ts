import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from './analyze-capture-file.ts';
import { createCaptureAnalyzer } from './capture-analyzer.ts';
import { goodBiosPxelinuxBoot, ipxeHttpInstall, NODE1, tftpNotFound } from './capture-fixtures.ts';
import type { TimelineEntry } from './capture-report.ts';
import { explainCapture } from './diagnosis.ts';

describe('analyze-capture-file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rackforge-analysis-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a pcap written by the lab\'s writer gives the same report as the packets themselves', async () => {
    const sc = goodBiosPxelinuxBoot();
    const file = join(dir, 'good.pcap');
    writeFileSync(file, sc.script.pcap());
    const seen: Array<[TimelineEntry, string]> = [];
    const r = await analyzeCaptureFile(file, { onEntry: (e, machine) => seen.push([e, machine]) });
    const a = createCaptureAnalyzer();
    for (const p of sc.packets) a.add(p);
    const expected = a.report(undefined, { format: 'pcap' });
    assert.deepEqual(r, expected);
    assert.equal(r.file.format, 'pcap');
    assert.equal(r.file.readError, null);
    assert.ok(seen.length > 0 && seen.every(([e, m]) => e.mac === m && m === NODE1.mac));
    assert.equal(explainCapture(r)[0]?.verdict, 'booted');
  });

  it('--mac is passed through', async () => {
    const sc = tftpNotFound();
    const file = join(dir, 'two.pcap');
    writeFileSync(file, sc.script.pcap());
    const r = await analyzeCaptureFile(file, { mac: NODE1.mac.toUpperCase() });
    assert.deepEqual(r.machines.map((m) => m.mac), [NODE1.mac]);
    assert.equal(r.file.frames, sc.packets.length);
  });

  it('a file cut in the middle of a record: the error with its offset, and everything before it', async () => {
    const sc = ipxeHttpInstall();
    const bytes = sc.script.pcap();
    const last = sc.packets.at(-1)!;
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, bytes.subarray(0, last.offset + 20));
    const r = await analyzeCaptureFile(file);
    assert.equal(r.file.readError?.code, 'CAPTURE_TRUNCATED');
    assert.equal(r.file.readError?.offset, last.offset);
    assert.equal(r.file.frames, sc.packets.length - 1);
    assert.equal(explainCapture(r)[0]?.verdict, 'registered', 'the registration before the cut is still seen');
  });

  it('a missing file is an I/O error, thrown', async () => {
    await assert.rejects(analyzeCaptureFile(join(dir, 'nope.pcap')));
  });

  it('follow: entries as the file grows, until the signal aborts', async () => {
    const sc = goodBiosPxelinuxBoot();
    const bytes = sc.script.pcap();
    const half = sc.packets[400]!.offset;
    const file = join(dir, 'growing.pcap');
    writeFileSync(file, bytes.subarray(0, half));
    const ac = new AbortController();
    const done: string[] = [];
    const analysis = analyzeCaptureFile(file, {
      follow: true,
      signal: ac.signal,
      onEntry: (e) => {
        if (e.kind === 'tftp' && e.done) done.push(e.tftp.filename);
        if (done.includes('images/debian12-x86_64/initrd.gz')) ac.abort();
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    appendFileSync(file, bytes.subarray(half));
    const r = await analysis;
    // Aborted at the last DATA block: the client's final ACK may or may not have been read.
    assert.ok(r.file.frames >= sc.packets.length - 1, String(r.file.frames));
    assert.equal(done.at(-1), 'images/debian12-x86_64/initrd.gz');
  });
});
