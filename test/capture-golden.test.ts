// The golden captures (captures/golden/, recorded from real boots by scripts/golden-captures.ts):
// `explain` must name the cause each one was made to show, with the frames a person found by
// reading it in tshark (captures/golden/manifest.json), and the whole analysis must stay what
// it was (captures/golden/<name>.expected.json; RACKFORGE_UPDATE_GOLDEN=1 rewrites those).
// Then broken files made from the golden ones: the error names the exact byte offset, worked
// out here from the file's own structure, and everything before it is still reported.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCaptureFile } from '../simulator/analysis/analyze-capture-file.ts';
import { explainCapture, type MachineDiagnosis } from '../simulator/analysis/diagnosis.ts';
import type { CaptureReport } from '../simulator/analysis/capture-report.ts';
import { GOLDEN_DIR, goldenCaptures, type GoldenCapture } from './helpers/golden-captures.ts';

const UPDATE = process.env['RACKFORGE_UPDATE_GOLDEN'] === '1';

async function analyse(file: string): Promise<{ report: CaptureReport; diagnoses: MachineDiagnosis[] }> {
  const report = await analyzeCaptureFile(file);
  return { report, diagnoses: explainCapture(report) };
}

describe('golden captures: explain names the cause, with the frames', function () {
  this.timeout(30_000);
  const captures = goldenCaptures();

  it('every capture in captures/golden/ is in the manifest, and each is small', () => {
    assert.ok(captures.length >= 7, `at least seven golden captures, found ${captures.length}`);
    const made = new Set(captures.map((c) => c.madeBy));
    assert.deepEqual([...made].sort(), ['dumpcap', 'lab']);
    for (const c of captures) assert.ok(statSync(c.path).size <= 2 * 1024 * 1024, `${c.file} is over 2 MB`);
    const total = captures.reduce((n, c) => n + statSync(c.path).size, 0);
    assert.ok(total <= 10 * 1024 * 1024, `the golden captures hold ${total} bytes together`);
    const files = readdirSync(GOLDEN_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
    assert.deepEqual(files, captures.map((c) => c.file).sort(), 'every capture file is in manifest.json and every manifest entry has its file');
  });

  for (const c of captures) {
    describe(`${c.name} (${c.file}, ${c.madeBy}-made)`, () => {
      let result: { report: CaptureReport; diagnoses: MachineDiagnosis[] };
      before(async () => { result = await analyse(c.path); });

      it('reads the whole file without a decode problem', () => {
        assert.equal(result.report.file.readError, null);
        assert.deepEqual(result.report.file.decodeProblems, []);
        assert.equal(result.report.file.frames, c.frames, 'frame count as capinfos counts it (manifest)');
      });

      for (const e of c.expect) {
        it(`${e.mac}: ${e.code}, citing frames ${e.frames.join(', ')}`, () => {
          const d = result.diagnoses.find((x) => x.mac === e.mac);
          assert.ok(d, `no diagnosis for ${e.mac}; diagnosed: ${result.diagnoses.map((x) => x.mac).join(', ')}`);
          const f = d.findings.filter((x) => x.code === e.code);
          assert.ok(f.length > 0, `${e.mac} has no ${e.code}; its findings: ${d.findings.map((x) => x.code).join(', ') || 'none'}`);
          const cited = new Set(f.flatMap((x) => x.frames));
          const missing = e.frames.filter((n) => !cited.has(n));
          assert.deepEqual(missing, [], `${e.code} for ${e.mac} cites ${[...cited].sort((a, b) => a - b).join(', ')}; the hand-checked frames ${missing.join(', ')} are not among them`);
          for (const word of e.summaryIncludes ?? []) {
            assert.ok(f.some((x) => x.summary.includes(word)), `no ${e.code} summary names ${word}: ${f.map((x) => x.summary).join(' | ')}`);
          }
        });
      }

      for (const a of c.absent) {
        it(`${a.mac}: no ${a.code} (${a.why})`, () => {
          const d = result.diagnoses.find((x) => x.mac === a.mac);
          const wrong = d?.findings.filter((x) => x.code === a.code) ?? [];
          assert.deepEqual(wrong, [], `${a.mac} should have no ${a.code}`);
        });
      }

      if (c.clean) {
        it('a good boot: no machine has an error finding', () => {
          const errors = result.diagnoses.flatMap((d) => d.findings.filter((f) => f.severity === 'error').map((f) => `${d.mac} ${f.code}: ${f.summary}`));
          assert.deepEqual(errors, []);
        });
      }

      it(`the analysis is still ${c.name}.expected.json`, () => {
        const expectedFile = join(GOLDEN_DIR, `${c.name}.expected.json`);
        const actual = `${JSON.stringify(result, null, 2)}\n`;
        if (UPDATE) { writeFileSync(expectedFile, actual); return; }
        assert.ok(existsSync(expectedFile), `${expectedFile} is missing: run RACKFORGE_UPDATE_GOLDEN=1 npx mocha test/capture-golden.test.ts`);
        assert.deepEqual(JSON.parse(actual), JSON.parse(readFileSync(expectedFile, 'utf8')),
          `the analysis of ${c.file} changed; if that is intended: RACKFORGE_UPDATE_GOLDEN=1 npx mocha test/capture-golden.test.ts`);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Broken files. The offsets come from the files' own structure, walked here without the reader:
// a classic pcap is a 24-byte header then records of 16 + incl_len bytes; a pcapng file is blocks
// whose total length is their second word.

interface Unit { offset: number; length: number; type?: number }

function pcapRecords(b: Buffer): Unit[] {
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, 'a little-endian microsecond pcap');
  const out: Unit[] = [];
  for (let at = 24; at < b.length; ) {
    const length = 16 + b.readUInt32LE(at + 8);
    out.push({ offset: at, length });
    at += length;
  }
  return out;
}

function pcapngBlocks(b: Buffer): Unit[] {
  assert.equal(b.readUInt32LE(0), 0x0a0d0d0a, 'a pcapng file');
  assert.equal(b.readUInt32LE(8), 0x1a2b3c4d, 'little-endian');
  const out: Unit[] = [];
  for (let at = 0; at < b.length; ) {
    const length = b.readUInt32LE(at + 4);
    out.push({ offset: at, length, type: b.readUInt32LE(at) });
    at += length;
  }
  return out;
}

const EPB = 6;
const IDB = 1;

describe('broken captures: the error at its exact byte offset, and everything before it', function () {
  this.timeout(30_000);
  let dir: string;
  const golden = (name: string): GoldenCapture => {
    const c = goldenCaptures().find((x) => x.name === name);
    assert.ok(c, `golden capture ${name}`);
    return c;
  };
  before(() => { dir = mkdtempSync(join(tmpdir(), 'rf-broken-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  /** The same capture cut cleanly before byte `end`: what must be reported besides the error. */
  async function reportOfPrefix(bytes: Buffer, end: number, name: string): Promise<CaptureReport> {
    const file = join(dir, `${name}.prefix`);
    writeFileSync(file, bytes.subarray(0, end));
    const r = await analyzeCaptureFile(file);
    assert.equal(r.file.readError, null, 'the clean prefix reads without error');
    return r;
  }

  async function check(name: string, broken: Buffer, expected: { code: string; offset: number; framesBefore: number; prefixEnd: number; original: Buffer }): Promise<void> {
    const file = join(dir, name);
    writeFileSync(file, broken);
    const r = await analyzeCaptureFile(file);
    assert.ok(r.file.readError, `${name}: an error is reported`);
    assert.equal(r.file.readError.code, expected.code, r.file.readError.message);
    assert.equal(r.file.readError.offset, expected.offset, r.file.readError.message);
    assert.match(r.file.readError.message, new RegExp(`\\b${expected.offset}\\b`), 'the message names the offset too');
    assert.equal(r.file.frames, expected.framesBefore, 'every frame before the error is counted');
    const clean = await reportOfPrefix(expected.original, expected.prefixEnd, name);
    assert.deepEqual({ ...r, file: { ...r.file, readError: null } }, clean, 'everything before the error is reported as for a file that simply ends there');
  }

  it('classic pcap cut in the middle of a record: CAPTURE_TRUNCATED at that record', async () => {
    const original = readFileSync(golden('tftp-not-found').path);
    const records = pcapRecords(original);
    const k = 200; // frame 201: its record header is whole, its data is not
    const rec = records[k]!;
    await check('cut.pcap', original.subarray(0, rec.offset + 16 + 10), { code: 'CAPTURE_TRUNCATED', offset: rec.offset, framesBefore: k, prefixEnd: rec.offset, original });
  });

  it('classic pcap cut inside a record header: CAPTURE_TRUNCATED at that header', async () => {
    const original = readFileSync(golden('tftp-not-found').path);
    const rec = pcapRecords(original)[50]!;
    await check('cut-header.pcap', original.subarray(0, rec.offset + 7), { code: 'CAPTURE_TRUNCATED', offset: rec.offset, framesBefore: 50, prefixEnd: rec.offset, original });
  });

  it('a record claiming more bytes than the file holds: CAPTURE_TRUNCATED at that record', async () => {
    const original = readFileSync(golden('tftp-not-found').path);
    const records = pcapRecords(original);
    const k = records.length - 3;
    const rec = records[k]!;
    const broken = Buffer.from(original);
    const claim = original.length - rec.offset - 16 + 1000; // runs 1000 bytes past the end of the file
    broken.writeUInt32LE(claim, rec.offset + 8);
    broken.writeUInt32LE(claim, rec.offset + 12);
    await check('overlong.pcap', broken, { code: 'CAPTURE_TRUNCATED', offset: rec.offset, framesBefore: k, prefixEnd: rec.offset, original });
  });

  it('classic pcap with an unknown link type: CAPTURE_UNKNOWN_LINKTYPE at offset 20, no frames', async () => {
    const original = readFileSync(golden('tftp-not-found').path);
    const broken = Buffer.from(original);
    broken.writeUInt32LE(147, 20); // LINKTYPE_USER0
    const file = join(dir, 'user0.pcap');
    writeFileSync(file, broken);
    const r = await analyzeCaptureFile(file);
    assert.equal(r.file.readError?.code, 'CAPTURE_UNKNOWN_LINKTYPE');
    assert.equal(r.file.readError?.offset, 20);
    assert.equal(r.file.frames, 0);
    assert.deepEqual(r.machines, []);
  });

  it('pcapng with a block length overwritten with 0: CAPTURE_BAD_BLOCK_LENGTH at that block', async () => {
    const original = readFileSync(golden('missing-boot-file').path);
    const blocks = pcapngBlocks(original);
    const packets = blocks.filter((b) => b.type === EPB);
    const k = 9; // frame 10 (the first DHCP ACK)
    const block = packets[k]!;
    const broken = Buffer.from(original);
    broken.writeUInt32LE(0, block.offset + 4);
    await check('zero-length.pcapng', broken, { code: 'CAPTURE_BAD_BLOCK_LENGTH', offset: block.offset, framesBefore: k, prefixEnd: block.offset, original });
  });

  it('pcapng cut in the middle of a block: CAPTURE_TRUNCATED at that block', async () => {
    const original = readFileSync(golden('missing-boot-file').path);
    const packets = pcapngBlocks(original).filter((b) => b.type === EPB);
    const block = packets[20]!;
    await check('cut.pcapng', original.subarray(0, block.offset + block.length - 5), { code: 'CAPTURE_TRUNCATED', offset: block.offset, framesBefore: 20, prefixEnd: block.offset, original });
  });

  it('pcapng with an unknown link type on its interface: CAPTURE_UNKNOWN_LINKTYPE at the IDB LinkType field', async () => {
    const original = readFileSync(golden('missing-boot-file').path);
    const idb = pcapngBlocks(original).find((b) => b.type === IDB)!;
    const broken = Buffer.from(original);
    broken.writeUInt16LE(147, idb.offset + 8);
    const file = join(dir, 'user0.pcapng');
    writeFileSync(file, broken);
    const r = await analyzeCaptureFile(file);
    assert.equal(r.file.readError?.code, 'CAPTURE_UNKNOWN_LINKTYPE');
    assert.equal(r.file.readError?.offset, idb.offset + 8);
    assert.equal(r.file.frames, 0);
  });

  it('pcapng packet block whose captured length runs past its block: CAPTURE_BAD_BLOCK_LENGTH at that block', async () => {
    const original = readFileSync(golden('missing-boot-file').path);
    const packets = pcapngBlocks(original).filter((b) => b.type === EPB);
    const k = 14;
    const block = packets[k]!;
    const broken = Buffer.from(original);
    // Captured length (EPB offset 20) and original length (24) both a kilobyte more than the block holds.
    broken.writeUInt32LE(block.length + 1024, block.offset + 20);
    broken.writeUInt32LE(block.length + 1024, block.offset + 24);
    await check('overlong.pcapng', broken, { code: 'CAPTURE_BAD_BLOCK_LENGTH', offset: block.offset, framesBefore: k, prefixEnd: block.offset, original });
  });

  it('the second of two interfaces in a capture (good-bios) is read too: frames keep their numbers', async () => {
    const c = golden('good-bios');
    const idbs = pcapngBlocks(readFileSync(c.path)).filter((b) => b.type === IDB);
    assert.equal(idbs.length, 2, 'good-bios has two interface description blocks (two dumpcap handles)');
    const r = await analyzeCaptureFile(c.path);
    assert.equal(r.file.frames, c.frames);
  });
});
