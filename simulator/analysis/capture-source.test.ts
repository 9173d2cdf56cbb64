import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DecodeError } from '../../lib/errors.ts';
import { encodePcapHeader, encodePcapRecord, type CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import { readCapture, readCaptureStream, type CaptureReadResult } from './capture-source.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const T0 = 1_700_000_000n * 1_000_000_000n;
const frame = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const record = (i: number, length = 60 + i * 10): Buffer => encodePcapRecord(frame(length, i), T0 + BigInt(i) * 1_000_000n);
/** A classic capture of `count` packets; packet i (from 0) has 60 + 10i bytes. */
const capture = (count: number): Buffer => Buffer.concat([encodePcapHeader(), ...Array.from({ length: count }, (_, i) => record(i))]);

interface Collected {
  result: CaptureReadResult;
  numbers: number[];
  lengths: number[];
}
async function collect(source: string, o: Parameters<typeof readCapture>[2] = {}, each?: (p: CapturedPacket) => void): Promise<Collected> {
  const numbers: number[] = [];
  const lengths: number[] = [];
  const result = await readCapture(source, (p) => {
    numbers.push(p.number);
    lengths.push(p.data.length);
    each?.(p);
  }, o);
  return { result, numbers, lengths };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('readCapture', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rackforge-capture-source-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads a file, whatever the chunk size, with views of the right bytes', async () => {
    const bytes = capture(50);
    const file = join(dir, 'fifty.pcap');
    await writeFile(file, bytes);
    for (const chunkBytes of [1, 7, 100, 4096, undefined]) {
      const seen: string[] = [];
      const { result, numbers } = await collect(file, chunkBytes === undefined ? {} : { chunkBytes }, (p) => seen.push(p.data.toString('hex')));
      assert.deepEqual(result, { format: 'pcap', packets: 50, bytes: bytes.length });
      assert.deepEqual(numbers, range(50));
      assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => frame(60 + i * 10, i).toString('hex')));
    }
  });

  it('reads a pcapng file made by text2pcap', async () => {
    const txt = join(dir, 'dump.txt');
    await writeFile(txt, '0000 ff ff ff ff ff ff 52 54 00 12 34 56 08 06 00 01\n0010 08 00 06 04 00 01\n\n'.repeat(3));
    const file = join(dir, 'dump.pcapng');
    await new Promise<void>((resolve, reject) => execFile('/usr/bin/text2pcap', ['-q', txt, file], (e) => (e ? reject(e) : resolve())));
    const { result, lengths } = await collect(file, { chunkBytes: 64 });
    assert.equal(result.format, 'pcapng');
    assert.equal(result.error, undefined);
    assert.deepEqual(lengths, [22, 22, 22]);
  });

  it('a truncated file: the packets before the cut, then the error with its offset', async () => {
    const bytes = capture(10);
    const file = join(dir, 'cut.pcap');
    await writeFile(file, bytes.subarray(0, bytes.length - 3));
    const { result, numbers } = await collect(file, { chunkBytes: 256 });
    assert.deepEqual(numbers, range(9));
    assert.ok(result.error instanceof DecodeError, 'an error');
    assert.equal(result.error.code, 'CAPTURE_TRUNCATED');
    assert.equal(result.error.offset, bytes.length - record(9).length);
    assert.equal(result.bytes, bytes.length - 3);
  });

  it('a corrupt record in the middle: the packets before it, then the error; reading stops', async () => {
    const bad = Buffer.from('00000000 00000000 f0ffffff f0ffffff'.replace(/ /g, ''), 'hex');
    const file = join(dir, 'corrupt.pcap');
    await writeFile(file, Buffer.concat([capture(3), bad, Buffer.alloc(5 << 20)]));
    const { result, numbers } = await collect(file, { chunkBytes: 1 << 20 });
    assert.deepEqual(numbers, [1, 2, 3]);
    assert.equal(result.error?.code, 'CAPTURE_RECORD_TOO_LONG');
    assert.equal(result.error?.offset, capture(3).length);
    assert.equal(result.bytes, 1 << 20, 'stopped after the first chunk');
  });

  it('an empty file is an error, not an empty capture', async () => {
    const file = join(dir, 'empty.pcap');
    await writeFile(file, '');
    const { result } = await collect(file);
    assert.equal(result.error?.code, 'CAPTURE_TRUNCATED');
    assert.equal(result.format, undefined);
  });

  it('a missing file or a directory rejects with the path in the message', async () => {
    const missing = join(dir, 'no-such.pcap');
    await assert.rejects(readCapture(missing, () => {}), (e: unknown) => e instanceof Error && !(e instanceof DecodeError) && e.message.includes(missing) && /no such file/.test(e.message));
    const sub = join(dir, 'a-directory');
    await mkdir(sub);
    await assert.rejects(readCapture(sub, () => {}), (e: unknown) => e instanceof Error && e.message.includes(sub) && /directory/.test(e.message));
  });

  it('an exception from onPacket propagates, even a DecodeError', async () => {
    const file = join(dir, 'three.pcap');
    await writeFile(file, capture(3));
    await assert.rejects(readCapture(file, () => { throw new Error('consumer failed'); }), /consumer failed/);
    const mine = new DecodeError('X_Y', 'f', 0, 'from the consumer');
    await assert.rejects(readCapture(file, () => { throw mine; }), (e) => e === mine);
  });

  it('stops early when the signal aborts, without an error', async () => {
    const file = join(dir, 'many.pcap');
    await writeFile(file, capture(200));
    const ac = new AbortController();
    const { result } = await collect(file, { signal: ac.signal, chunkBytes: 512 }, (p) => {
      if (p.number === 3) ac.abort();
    });
    assert.ok(result.packets >= 3 && result.packets < 200, `${result.packets} packets`);
    assert.equal(result.error, undefined);
    const done = new AbortController();
    done.abort();
    assert.deepEqual((await collect(file, { signal: done.signal })).result, { format: undefined, packets: 0, bytes: 0 });
  });

  it('follow: sees packets appended after it started, waits for a half-written record, returns when aborted', async () => {
    const file = join(dir, 'growing.pcap');
    await writeFile(file, ''); // dumpcap creates the file before it writes the header
    const ac = new AbortController();
    const later = [encodePcapHeader(), Buffer.concat([record(0), record(1)]), record(2).subarray(0, 20), record(2).subarray(20), Buffer.concat([record(3), record(4)])];
    const expectedBytes = later.reduce((n, b) => n + b.length, 0);
    const seenAt: number[] = [];
    let step = 0;
    const timer = setInterval(() => {
      const next = later[step++];
      if (next) void appendFile(file, next);
    }, 30);
    try {
      const { result, numbers } = await collect(file, { follow: true, pollMs: 10, signal: ac.signal, chunkBytes: 64 }, (p) => {
        seenAt.push(step);
        if (p.number === 5) ac.abort();
      });
      assert.deepEqual(numbers, range(5));
      assert.deepEqual(result, { format: 'pcap', packets: 5, bytes: expectedBytes });
      // Packet 3 came only once its second half had been written.
      assert.ok(seenAt[2]! >= 4, `packet 3 delivered at step ${seenAt[2]}`);
    } finally {
      clearInterval(timer);
    }
  });

  it('follow: an abort while a record is half written is not an error', async () => {
    const file = join(dir, 'half.pcap');
    await writeFile(file, Buffer.concat([capture(2), record(2).subarray(0, 30)]));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const { result, numbers } = await collect(file, { follow: true, pollMs: 10, signal: ac.signal });
    assert.deepEqual(numbers, [1, 2]);
    assert.equal(result.error, undefined);
  });

  it('follow: a corrupt record still ends the read with the error', async () => {
    const file = join(dir, 'follow-corrupt.pcap');
    await writeFile(file, capture(2));
    const ac = new AbortController();
    const guard = setTimeout(() => ac.abort(), 5000);
    setTimeout(() => void appendFile(file, Buffer.from('0000000000000000f0fffffff0ffffff', 'hex')), 50);
    try {
      const { result } = await collect(file, { follow: true, pollMs: 10, signal: ac.signal });
      assert.equal(result.error?.code, 'CAPTURE_RECORD_TOO_LONG');
      assert.equal(ac.signal.aborted, false, 'returned on the error, not on the abort');
    } finally {
      clearTimeout(guard);
    }
  });

  it('reads a file larger than 2 GiB (sparse: eight 256 MiB records, then one past 2^31)', async function () {
    this.timeout(120_000);
    // tmpfs reads holes several times faster than a disk file system does.
    const bigDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rackforge-capture-source-'));
    const file = join(bigDir, 'big.pcap');
    const big = 256 << 20;
    const count = 8;
    const fh = await open(file, 'w');
    try {
      await fh.write(encodePcapHeader({ snaplen: big }), 0, 24, 0);
      let at = 24;
      for (let i = 0; i < count; i++) {
        const header = encodePcapRecord(Buffer.alloc(0), T0 + BigInt(i));
        header.writeUInt32LE(big, 8);
        header.writeUInt32LE(big, 12);
        await fh.write(header, 0, 16, at);
        at += 16 + big;
      }
      // The last record is a real one, beyond 2^31.
      const last = record(7);
      await fh.write(last, 0, last.length, at);
    } finally {
      await fh.close();
    }
    try {
      const offsets: number[] = [];
      const { result } = await collect(file, {}, (p) => offsets.push(p.offset));
      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(result.packets, count + 1);
      assert.equal(offsets[count], 24 + count * (16 + big));
      assert.ok(offsets[count]! > 2 ** 31, `last offset ${offsets[count]}`);
      assert.equal(result.bytes, 24 + count * (16 + big) + record(7).length);
    } finally {
      await rm(bigDir, { recursive: true, force: true });
    }
  });

  it('follow: a file that does not exist yet is waited for, then read as it grows', async () => {
    const file = join(dir, 'not-yet.pcap');
    const ac = new AbortController();
    setTimeout(() => void writeFile(file, capture(3)), 100);
    setTimeout(() => ac.abort(), 600);
    const { result, numbers } = await collect(file, { follow: true, pollMs: 20, signal: ac.signal });
    assert.deepEqual(numbers, range(3));
    assert.equal(result.error, undefined);
  });

  it('follow: aborted while waiting for the file, it returns nothing and no error', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const { result, numbers } = await collect(join(dir, 'never.pcap'), { follow: true, pollMs: 20, signal: ac.signal });
    assert.deepEqual(numbers, []);
    assert.equal(result.error, undefined);
  });

  it('reads a FIFO as a stream (lab capture --live --output FIFO), to the writer\'s end', async () => {
    const fifo = join(dir, 'live.fifo');
    await new Promise<void>((resolve, reject) => execFile('mkfifo', [fifo], (e) => (e ? reject(e) : resolve())));
    const bytes = capture(5);
    // Two writes with a pause: the reader sees the pipe empty in between, not at its end.
    const writer = (async () => {
      const fh = await open(fifo, 'w');
      await fh.write(bytes.subarray(0, 100));
      await new Promise((r) => setTimeout(r, 50));
      await fh.write(bytes.subarray(100));
      await fh.close();
    })();
    const { result, numbers } = await collect(fifo);
    await writer;
    assert.deepEqual(numbers, range(5));
    assert.equal(result.error, undefined);
    assert.equal(result.bytes, bytes.length);
  });

  describe('stdin', () => {
    /** Runs readCapture('-') in a child with `input` piped to its stdin. */
    async function fromStdin(input: Buffer): Promise<{ result: { format: string; packets: number; bytes: number; error?: { code: string; offset: number } }; numbers: number[] }> {
      const harness = join(dir, 'stdin-harness.mts');
      const source = join(REPO, 'simulator', 'analysis', 'capture-source.ts');
      await writeFile(harness, [
        `import { readCapture } from ${JSON.stringify(source)};`,
        'const numbers = [];',
        "const r = await readCapture('-', (p) => numbers.push(p.number));",
        'const error = r.error && { code: r.error.code, offset: r.error.offset };',
        'process.stdout.write(JSON.stringify({ result: { ...r, error }, numbers }));',
      ].join('\n'));
      const child = spawn(process.execPath, ['--import=tsx', harness], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const inputFile = join(dir, 'stdin-input.bin');
      await writeFile(inputFile, input);
      createReadStream(inputFile, { highWaterMark: 1000 }).pipe(child.stdin);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, stderr);
      return JSON.parse(stdout);
    }

    it("reads a capture piped to stdin ('-')", async () => {
      const bytes = capture(30);
      const { result, numbers } = await fromStdin(bytes);
      assert.deepEqual(result, { format: 'pcap', packets: 30, bytes: bytes.length });
      assert.deepEqual(numbers, range(30));
    });

    it('a capture cut short on stdin: the packets, then the error', async () => {
      const bytes = capture(30);
      const { result, numbers } = await fromStdin(bytes.subarray(0, bytes.length - 1));
      assert.deepEqual(numbers, range(29));
      assert.deepEqual(result.error, { code: 'CAPTURE_TRUNCATED', offset: bytes.length - record(29).length });
    });
  });

  describe('readCaptureStream', () => {
    it('reads any byte stream to its end', async () => {
      const bytes = capture(5);
      const pieces = Array.from({ length: Math.ceil(bytes.length / 13) }, (_, i) => bytes.subarray(i * 13, i * 13 + 13));
      const numbers: number[] = [];
      const result = await readCaptureStream(Readable.from(pieces), (p) => numbers.push(p.number));
      assert.deepEqual(result, { format: 'pcap', packets: 5, bytes: bytes.length });
      assert.deepEqual(numbers, range(5));
    });

    it('an abort ends a wait on an idle stream', async () => {
      const ac = new AbortController();
      async function* idle() {
        yield capture(2);
        await new Promise(() => {}); // a pipe nobody writes to
      }
      setTimeout(() => ac.abort(), 50);
      const result = await readCaptureStream(idle(), () => {}, { signal: ac.signal });
      assert.deepEqual(result, { format: 'pcap', packets: 2, bytes: capture(2).length });
    });

    it('a stream error rejects, naming the stream', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield encodePcapHeader();
        throw new Error('EPIPE');
      }
      await assert.rejects(readCaptureStream(failing(), () => {}, { name: 'the QEMU pipe' }), /cannot read capture the QEMU pipe: EPIPE/);
    });
  });
});
