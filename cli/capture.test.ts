// `rackforge capture summary|timeline|explain` through the CLI's entry point, on pcap files
// written from the analysis fixtures (whole boots, good and broken, encoded by the project's
// codecs): what people read, what scripts parse, and how bad input and bad options end.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.ts';
import { parseMacOption } from './capture.ts';
import { renderFrames } from './capture-render.ts';
import { FINDING_CODES, MACHINE_VERDICTS } from '../simulator/analysis/diagnosis.ts';
import {
  NODE1, goodBiosPxelinuxBoot, ipxeHttpInstall, ipxeLoop, noOffer, rogueDhcpServer, tftpNotFound, wrongArchitecture, type Scenario,
} from '../simulator/analysis/capture-fixtures.ts';

interface Run { code: number; out: string; err: string }

async function rackforge(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('rackforge capture (CLI)', () => {
  let dir: string;
  const file = (name: string, s: Scenario): string => {
    const path = join(dir, `${name}.pcap`);
    writeFileSync(path, s.script.pcap());
    return path;
  };
  before(() => { dir = mkdtempSync(join(tmpdir(), 'rf-capture-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('summary: machines, the DHCP server, protocol counts and each TFTP transfer as aligned rows', async () => {
    const f = file('good', goodBiosPxelinuxBoot());
    const r = await rackforge('capture', 'summary', f);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Machines: 1$/m);
    assert.match(r.out, new RegExp(`^  ${NODE1.mac}  ${NODE1.ip.replace(/\./g, '\\.')} `, 'm'));
    assert.match(r.out, /^DHCP servers: 1$/m);
    assert.match(r.out, /^  TIME +MAC +FILE +SIZE +DURATION +BLKSIZE +WINDOW +RATE +RETRANS +RESULT$/m);
    assert.match(r.out, /pxelinux\.0 .* complete$/m);
    assert.match(r.out, /^Protocols: .*dhcp \d+.*tftp \d+/m);
  });

  it('summary --json is the report without timelines; timeline --json carries them', async () => {
    const f = file('install', ipxeHttpInstall());
    const s = JSON.parse((await rackforge('capture', 'summary', f, '--json')).out) as { machines: Array<Record<string, unknown>>; httpExchanges: unknown[] };
    assert.equal(s.machines.length, 1);
    assert.equal('timeline' in (s.machines[0] as object), false);
    assert.ok(s.httpExchanges.length >= 3, 'kernel, initrd and autoinstall fetches');
    const t = JSON.parse((await rackforge('capture', 'timeline', f, '--json')).out) as { machines: Array<{ mac: string; timeline: Array<{ kind: string; frames: number[] }> }> };
    const kinds = t.machines[0]!.timeline.map((e) => e.kind);
    assert.ok(kinds.includes('dhcp') && kinds.includes('http'), kinds.join(','));
    for (const e of t.machines[0]!.timeline) assert.ok(e.frames.length > 0 && e.frames.every((n) => Number.isInteger(n) && n > 0));
  });

  it('timeline: one block per machine, entries in time order with their frame numbers', async () => {
    const s = goodBiosPxelinuxBoot();
    const f = file('good-timeline', s);
    const r = await rackforge('capture', 'timeline', f);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.split('\n').filter((l) => /^ +\d+\.\d{6}  #/.test(l));
    assert.ok(rows.length >= 5, r.out);
    const times = rows.map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.match(r.out, /#1 .*dhcp .*DISCOVER/);
  });

  it('--mac takes any spelling; a machine not in the capture is said so', async () => {
    const f = file('two', rogueDhcpServer());
    const dashed = NODE1.mac.toUpperCase().replace(/:/g, '-');
    const r = await rackforge('capture', 'timeline', f, '--mac', dashed, '--json');
    const t = JSON.parse(r.out) as { filter: { mac: string }; machines: Array<{ mac: string }> };
    assert.deepEqual(t.filter, { mac: NODE1.mac });
    assert.deepEqual(t.machines.map((m) => m.mac), [NODE1.mac]);
    const none = await rackforge('capture', 'explain', f, '--mac', '02:00:00:00:00:01');
    assert.equal(none.code, 0);
    assert.match(none.out, /machine 02:00:00:00:00:01 does not appear in this capture/);
  });

  for (const [name, make, code] of [
    ['no offer', noOffer, 'NO_OFFER'],
    ['TFTP file not found', tftpNotFound, 'TFTP_NOT_FOUND'],
    ['wrong architecture', wrongArchitecture, 'WRONG_ARCHITECTURE'],
    ['iPXE loop', ipxeLoop, 'IPXE_LOOP'],
    ['rogue DHCP server', rogueDhcpServer, 'ROGUE_DHCP_SERVER'],
  ] as const) {
    it(`explain names the cause with its frames: ${name}`, async () => {
      const f = file(code, make());
      const j = JSON.parse((await rackforge('capture', 'explain', f, '--json')).out) as { machines: Array<{ mac: string; findings: Array<{ code: string; frames: number[] }> }> };
      const finding = j.machines.find((m) => m.mac === NODE1.mac)?.findings.find((x) => x.code === code);
      assert.ok(finding, JSON.stringify(j.machines, null, 1));
      assert.ok(finding.frames.length > 0);
      const text = await rackforge('capture', 'explain', f);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, new RegExp(`^  ERROR +${code}: `, 'm'));
      assert.ok(text.out.includes(`frames ${renderFrames(finding.frames, 12)}`), text.out);
    });
  }

  it('explain --tftp-root: a missing file is compared with what exists under the root (nested, symlinks listed)', async () => {
    const f = file('notfound-root', tftpNotFound());
    const root = join(dir, 'tftproot');
    mkdirSync(join(root, 'bios'), { recursive: true });
    writeFileSync(join(root, 'bios', 'pxelinux.00'), '');
    writeFileSync(join(root, 'ldlinux.c32'), '');
    symlinkSync('ldlinux.c32', join(root, 'bios', 'ldlinux.c32'));
    const r = await rackforge('capture', 'explain', f, '--tftp-root', root);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /closest name under the TFTP root is bios\/pxelinux\.00\./);
    const missing = await rackforge('capture', 'explain', f, '--tftp-root', join(dir, 'no-such-root'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read TFTP root .*no-such-root: ENOENT/);
    const notDir = await rackforge('capture', 'explain', f, '--tftp-root', f);
    assert.equal(notDir.code, 1);
    assert.match(notDir.err, /is not a directory/);
  });

  it('a truncated file: what came before is reported, the error names the byte offset, exit 1', async () => {
    const s = goodBiosPxelinuxBoot();
    const bytes = s.script.pcap();
    const cutAt = s.packets[4]!.offset + 10;
    const f = join(dir, 'cut.pcap');
    writeFileSync(f, bytes.subarray(0, cutAt));
    const r = await rackforge('capture', 'timeline', f);
    assert.equal(r.code, 1);
    assert.match(r.out, /DISCOVER/);
    assert.match(r.err, new RegExp(`at byte ${s.packets[4]!.offset}\\b`));
    assert.equal(r.err.split('\n').length, 1);
  });

  it('bad options and missing files are one stderr line each', async () => {
    const bad = await rackforge('capture', 'timeline', join(dir, 'x.pcap'), '--mac', 'nope');
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /--mac must be a MAC address/);
    const missing = await rackforge('capture', 'summary', join(dir, 'missing.pcap'));
    assert.equal(missing.code, 1);
    assert.ok(missing.err.includes(join(dir, 'missing.pcap')), missing.err);
    const unknown = await rackforge('capture', 'frobnicate', 'x');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown capture command 'frobnicate'/);
    const noFile = await rackforge('capture', 'explain');
    assert.equal(noFile.code, 2);
  });

  it('help lists the four commands, from `capture --help` and `help capture`', async () => {
    for (const argv of [['capture', '--help'], ['help', 'capture']]) {
      const r = await rackforge(...argv);
      assert.equal(r.code, 0);
      for (const w of ['summary', 'timeline', 'explain', 'follow']) assert.match(r.out, new RegExp(`rackforge capture ${w} FILE`));
    }
  });

  it('docs/capture.md explains every finding code and names every verdict', () => {
    const doc = readFileSync(new URL('../docs/capture.md', import.meta.url), 'utf8');
    for (const code of Object.keys(FINDING_CODES)) assert.match(doc, new RegExp(`^\\| \`${code}\` \\| `, 'm'), code);
    for (const verdict of MACHINE_VERDICTS) assert.ok(doc.includes(`\`${verdict}\``), verdict);
  });

  it('parseMacOption and renderFrames', () => {
    assert.equal(parseMacOption('525400123401'), '52:54:00:12:34:01');
    assert.equal(parseMacOption('52-54-00-12-34-0A'), '52:54:00:12:34:0a');
    assert.equal(parseMacOption(undefined), undefined);
    assert.throws(() => parseMacOption('52:54:00:12:34'), /--mac must be/);
    assert.equal(renderFrames([1, 2, 3, 7, 9, 10]), '1-3,7,9-10');
    assert.equal(renderFrames([1, 3, 5, 7, 9], 2), '1,3 (+3 more)');
    assert.equal(renderFrames([]), '');
  });
});
