import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { rotatedName, startHubCapture } from './hub-capture.ts';
import type { FramePort } from './hub-port.ts';
import { encodeUdpFrame } from '../provisioner/protocol/frames.ts';

/** A hub port the test feeds by hand. */
function fakePort(): FramePort & { push(frame: Buffer): void } {
  let cb: ((f: Buffer) => void) | undefined;
  return {
    send() { /* not used */ },
    onFrame(f) { cb = f; },
    close: async () => undefined,
    stats: { sent: 0, received: 0, sendErrors: 0 },
    push(frame) { cb?.(frame); },
  };
}

const frame = (i: number): Buffer => encodeUdpFrame({
  srcMac: '52:54:00:00:00:01', dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255',
  srcPort: 40000, dstPort: 40001, payload: Buffer.alloc(300, i & 0xff),
});

function tsharkFields(file: string, ...fields: string[]): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    execFile('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], (err, out, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(out.trim() === '' ? [] : out.trim().split('\n').map((l) => l.split('|')));
    });
  });
}

describe('hub capture', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rf-cap-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes each frame once with the time it arrived, readable by tshark', async () => {
    const port = fakePort();
    let t = 1_700_000_000_123_456_789n;
    const cap = startHubCapture({ port, file: join(dir, 'lab', 'prov.pcap'), nowNs: () => (t += 1_000_000n) });
    for (let i = 0; i < 10; i++) port.push(frame(i));
    await cap.close();
    assert.deepEqual(cap.status(), { file: join(dir, 'lab', 'prov.pcap'), frames: 10, bytes: 10 * frame(0).length, rotations: 0, liveListeners: 0 });
    const rows = await tsharkFields(join(dir, 'lab', 'prov.pcap'), 'frame.time_epoch', 'udp.dstport');
    assert.equal(rows.length, 10);
    assert.equal(rows[0]![0], '1700000000.124456000');
    assert.equal(rows[0]![1], '40001');
  });

  it('rotates by size: the full file becomes .1, older ones shift, at most `keep` are kept, each one a valid pcap', async () => {
    const port = fakePort();
    const file = join(dir, 'prov.pcap');
    const per = 16 + frame(0).length;
    const cap = startHubCapture({ port, file, rotateBytes: 24 + 3 * per, keep: 2 });
    for (let i = 0; i < 10; i++) port.push(frame(i));
    await cap.close();
    assert.equal(cap.status().rotations, 3);
    assert.equal(rotatedName(file, 1), join(dir, 'prov.1.pcap'));
    assert.ok(!existsSync(join(dir, 'prov.3.pcap')), 'only two rotated files kept');
    // Newest in prov.pcap (frame 9), then prov.1 (6-8), prov.2 (3-5); frames 0-2 rotated away.
    const firstByte = async (f: string) => (await tsharkFields(f, 'data.data')).map((r) => r[0]!.slice(0, 2));
    assert.deepEqual(await firstByte(file), ['09']);
    assert.deepEqual(await firstByte(join(dir, 'prov.1.pcap')), ['06', '07', '08']);
    assert.deepEqual(await firstByte(join(dir, 'prov.2.pcap')), ['03', '04', '05']);
  });

  it('live listeners get a pcap header and the frames from then on; a closed listener is dropped', async () => {
    const port = fakePort();
    const cap = startHubCapture({ port, file: join(dir, 'p.pcap') });
    port.push(frame(1));
    const live = new PassThrough();
    const got: Buffer[] = [];
    live.on('data', (d: Buffer) => got.push(d));
    cap.addListener(live);
    port.push(frame(2));
    assert.equal(cap.status().liveListeners, 1);
    live.destroy();
    await new Promise((r) => setImmediate(r));
    assert.equal(cap.status().liveListeners, 0);
    port.push(frame(3));
    await cap.close();
    const all = Buffer.concat(got);
    assert.equal(all.readUInt32LE(0), 0xa1b2c3d4, 'starts with a pcap header');
    assert.equal(all.length, 24 + 16 + frame(2).length, 'exactly one frame after the header');
    assert.equal(readFileSync(join(dir, 'p.pcap')).length, 24 + 3 * (16 + frame(1).length));
  });
});
