import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { hex } from './decode-testing.ts';
import { BROADCAST_MAC } from './ethernet.ts';
import { encodeArpFrame, encodeTcpFrame, encodeUdpFrame } from './frames.ts';
import {
  CAPTURE_DECODE_ERRORS,
  CAPTURE_MAX_RECORD_LENGTH,
  CaptureReader,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  PCAP_DEFAULT_SNAPLEN,
  encodePcapHeader,
  encodePcapRecord,
  encodePcapRecordHeader,
  type CapturedPacket,
  type PcapWriterOptions,
} from './pcap.ts';

const TSHARK = '/usr/bin/tshark';

function tshark(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(TSHARK, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tshark ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Record fields read back the way a reader would, little-endian. */
function readRecordHeader(b: Buffer) {
  return { sec: b.readUInt32LE(0), frac: b.readUInt32LE(4), incl: b.readUInt32LE(8), orig: b.readUInt32LE(12) };
}

describe('pcap writer', () => {
  // A loopback capture (dumpcap -i lo) re-saved by tshark 4.0 as `-F pcap` and `-F nsecpcap`:
  // the bytes Wireshark writes for the same frame and timestamp.
  const frame = hex('000000000000000000000000 0800 4500002c5cb240004011e00c7f0000017f000001 b26fb26e0018453d 7261636b666f7267652068656c6c6f0a');
  const at = 1795409280_310781994n;

  describe('golden', () => {
    it('the file header is what Wireshark writes (microseconds)', () => {
      assert.deepEqual(encodePcapHeader(), hex('d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000'));
    });
    it('the file header is what Wireshark writes (nanoseconds)', () => {
      assert.deepEqual(encodePcapHeader({ nanosecond: true }), hex('4d3cb2a1 0200 0400 00000000 00000000 00000400 01000000'));
    });
    it('a record is what Wireshark writes, truncating to the microsecond', () => {
      assert.deepEqual(encodePcapRecord(frame, at), Buffer.concat([hex('80c5036b fdbd0400 3a000000 3a000000'), frame]));
    });
    it('a nanosecond record is what Wireshark writes', () => {
      assert.deepEqual(encodePcapRecord(frame, at, { nanosecond: true }), Buffer.concat([hex('80c5036b 2a288612 3a000000 3a000000'), frame]));
    });
  });

  describe('round-trip', () => {
    it('encodePcapRecordHeader is the head of encodePcapRecord', () => {
      assert.deepEqual(encodePcapRecordHeader(frame.length, at), encodePcapRecord(frame, at).subarray(0, 16));
    });
    it('truncates to snaplen and keeps the original length', () => {
      const o: PcapWriterOptions = { snaplen: 20 };
      const rec = encodePcapRecord(frame, at, o);
      assert.equal(rec.length, 16 + 20);
      assert.deepEqual(readRecordHeader(rec), { sec: 1795409280, frac: 310781, incl: 20, orig: frame.length });
      assert.deepEqual(rec.subarray(16), frame.subarray(0, 20));
      assert.equal(encodePcapHeader(o).readUInt32LE(16), 20);
    });
    it('writes the snaplen, the link type and a zero-length frame', () => {
      const h = encodePcapHeader({ snaplen: 65535, linktype: 113 });
      assert.equal(h.readUInt32LE(16), 65535);
      assert.equal(h.readUInt32LE(20), 113);
      assert.deepEqual(readRecordHeader(encodePcapRecord(Buffer.alloc(0), 0n)), { sec: 0, frac: 0, incl: 0, orig: 0 });
      assert.equal(encodePcapHeader().readUInt32LE(16), PCAP_DEFAULT_SNAPLEN);
      assert.equal(encodePcapHeader().readUInt32LE(20), LINKTYPE_ETHERNET);
    });
  });

  describe('refuses what has no file form', () => {
    const table: [string, () => unknown][] = [
      ['a timestamp before 1970', () => encodePcapRecord(frame, -1n)],
      ['a timestamp after 2106', () => encodePcapRecord(frame, 2n ** 32n * 1_000_000_000n)],
      ['snaplen 0', () => encodePcapHeader({ snaplen: 0 })],
      ['snaplen 1.5', () => encodePcapRecord(frame, at, { snaplen: 1.5 })],
      ['linktype 65536', () => encodePcapHeader({ linktype: 65536 })],
      ['a negative frame length', () => encodePcapRecordHeader(-1, at)],
    ];
    for (const [name, f] of table) it(name, () => assert.throws(f, RangeError));
    it('a number instead of a bigint timestamp', () => {
      assert.throws(() => encodePcapRecord(frame, 1 as unknown as bigint), TypeError);
    });
  });

  describe('properties', () => {
    it('any timestamp from 1970 to 2106 reads back to the microsecond or nanosecond', () => {
      const ns = fc.bigInt({ min: 0n, max: 2n ** 32n * 1_000_000_000n - 1n });
      fc.assert(
        fc.property(ns, fc.boolean(), fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 1, max: 120 }), (t, nano, u, snaplen) => {
          const data = Buffer.from(u);
          const rec = encodePcapRecord(data, t, { nanosecond: nano, snaplen });
          const h = readRecordHeader(rec);
          assert.equal(BigInt(h.sec), t / 1_000_000_000n);
          assert.equal(BigInt(h.frac), nano ? t % 1_000_000_000n : (t % 1_000_000_000n) / 1000n);
          assert.equal(h.incl, Math.min(data.length, snaplen));
          assert.equal(h.orig, data.length);
          assert.deepEqual(rec.subarray(16), data.subarray(0, snaplen));
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('read back by tshark', function () {
    let dir = '';
    before(async function () {
      // `npm test` installs tshark (scripts/setup.mjs); a missing one is a failure, not a skip.
      await access(TSHARK).catch(() => { throw new Error(`${TSHARK} is missing: apt-get install tshark`); });
      dir = await mkdtemp(join(tmpdir(), 'rackforge-pcap-'));
    });
    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const client = '52:54:00:12:34:56';
    const server = '52:54:00:00:00:01';
    const frames = [
      encodeUdpFrame({ srcMac: client, dstMac: server, srcIp: '10.0.0.5', dstIp: '10.0.0.1', srcPort: 40123, dstPort: 40124, payload: Buffer.from('rackforge capture test, odd length') }),
      encodeArpFrame({ srcMac: client, dstMac: BROADCAST_MAC, arp: { op: 1, senderMac: client, senderIp: '10.0.0.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.1' } }),
      encodeUdpFrame({ srcMac: server, dstMac: client, vlan: { id: 42, pcp: 5, dei: true }, srcIp: '10.0.0.1', dstIp: '10.0.0.5', srcPort: 40124, dstPort: 40123, payload: Buffer.alloc(0) }),
      encodeTcpFrame({ srcMac: client, dstMac: server, srcIp: '10.0.0.5', dstIp: '10.0.0.1', segment: { srcPort: 40000, dstPort: 80, seq: 0xfffffff0, ack: 0, flags: { syn: true }, window: 64240, mss: 1460, windowScale: 7 } }),
    ];
    // Nanoseconds that a microsecond file must truncate, across a second boundary.
    const times = [1700000000_123456789n, 1700000000_999999999n, 1700000001_000000001n, 1700000001_500000000n];
    const fields = [
      '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=|',
      '-e', 'frame.time_epoch', '-e', 'frame.protocols', '-e', 'ip.checksum.status', '-e', 'udp.srcport', '-e', 'udp.dstport',
      '-e', 'udp.checksum.status', '-e', 'arp.dst.proto_ipv4', '-e', 'vlan.id', '-e', 'vlan.priority', '-e', 'tcp.checksum.status', '-e', 'tcp.options.mss_val',
    ];
    async function writeAndRead(name: string, o: PcapWriterOptions): Promise<string[][]> {
      const file = join(dir, name);
      // Half the records through the writev-style header, half through the copying form.
      const records = frames.flatMap((f, i) => (i % 2 === 0 ? [encodePcapRecord(f, times[i]!, o)] : [encodePcapRecordHeader(f.length, times[i]!, o), f]));
      await writeFile(file, Buffer.concat([encodePcapHeader(o), ...records]));
      const out = await tshark(['-r', file, ...fields]);
      return out.trimEnd().split('\n').map((line) => line.split('|'));
    }

    it('microsecond file: frame count, timestamps, UDP/ARP/VLAN/TCP decoded, checksums good', async () => {
      const rows = await writeAndRead('us.pcap', {});
      assert.equal(rows.length, 4);
      assert.deepEqual(rows.map((r) => r[0]), ['1700000000.123456000', '1700000000.999999000', '1700000001.000000000', '1700000001.500000000']);
      const [udp, arp, tagged, tcp] = rows as [string[], string[], string[], string[]];
      assert.equal(udp[1], 'eth:ethertype:ip:udp:data');
      assert.deepEqual(udp.slice(2, 6), ['1', '40123', '40124', '1'], 'ip checksum good, ports, udp checksum good');
      assert.equal(arp[1], 'eth:ethertype:arp');
      assert.equal(arp[6], '10.0.0.1');
      assert.equal(tagged[1], 'eth:ethertype:vlan:ethertype:ip:udp');
      assert.deepEqual([tagged[7], tagged[8], tagged[5]], ['42', '5', '1']);
      assert.equal(tcp[1], 'eth:ethertype:ip:tcp');
      assert.deepEqual([tcp[9], tcp[10]], ['1', '1460']);
    });
    it('nanosecond file keeps every digit', async () => {
      const rows = await writeAndRead('ns.pcap', { nanosecond: true });
      assert.deepEqual(rows.map((r) => r[0]), ['1700000000.123456789', '1700000000.999999999', '1700000001.000000001', '1700000001.500000000']);
    });
    it('a snaplen-truncated capture is read with its original lengths', async () => {
      const file = join(dir, 'snap.pcap');
      const o = { snaplen: 34 };
      await writeFile(file, Buffer.concat([encodePcapHeader(o), ...frames.map((f, i) => encodePcapRecord(f, times[i]!, o))]));
      const out = await tshark(['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.len', '-e', 'frame.cap_len']);
      assert.deepEqual(out.trimEnd().split('\n'), frames.map((f) => `${f.length}|${Math.min(f.length, 34)}`));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The reader.

type Order = 'le' | 'be';

/** A packet as plain values, its data copied out of the view while the callback runs. */
interface Seen extends Omit<CapturedPacket, 'data'> {
  data: string;
}
interface ReadOutcome {
  packets: Seen[];
  error?: DecodeError;
  format?: 'pcap' | 'pcapng';
}

const copyOut = ({ data, ...rest }: CapturedPacket): Seen => ({ ...rest, data: data.toString('hex') });

/** Pushes `bytes` cut at `cuts` (sizes, repeated until the input is used up), then calls end(). */
function readAll(bytes: Buffer, cuts: readonly number[] = [bytes.length || 1], reader = new CaptureReader()): ReadOutcome {
  const packets: Seen[] = [];
  const onPacket = (p: CapturedPacket) => packets.push(copyOut(p));
  try {
    for (let at = 0, k = 0; at < bytes.length; k++) {
      const size = Math.max(1, cuts[k % cuts.length]!);
      reader.push(bytes.subarray(at, at + size), onPacket);
      at += size;
    }
    reader.end();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { packets, error: e, format: reader.format };
  }
  return { packets, format: reader.format };
}

function readOk(bytes: Buffer, cuts?: readonly number[]): Seen[] {
  const out = readAll(bytes, cuts);
  if (out.error) throw out.error;
  return out.packets;
}

/** tshark's frame.time_epoch: seconds with nine decimals. */
const epoch = (ns: bigint): string => `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;

// Writers for test files in either byte order, by hand, since the lab writer only writes
// little-endian classic pcap.
function u16(order: Order, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (order === 'le') b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}
function u32(order: Order, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (order === 'le') b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}
const pad4 = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

interface ClassicRecord {
  seconds: number;
  fraction: number;
  data: Buffer;
  original?: number;
}
function classicFile(order: Order, o: { nanosecond?: boolean; linktype?: number; snaplen?: number; major?: number; minor?: number }, records: ClassicRecord[]): Buffer {
  return Buffer.concat([
    u32(order, o.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4),
    u16(order, o.major ?? 2),
    u16(order, o.minor ?? 4),
    Buffer.alloc(8),
    u32(order, o.snaplen ?? 262144),
    u32(order, o.linktype ?? 1),
    ...records.flatMap((r) => [u32(order, r.seconds), u32(order, r.fraction), u32(order, r.data.length), u32(order, r.original ?? r.data.length), r.data]),
  ]);
}

/** pcapng blocks. `length` overrides the total length (leading and trailing) to make bad files. */
const ng = {
  block(order: Order, type: number, body: Buffer, length?: { lead?: number; trail?: number }): Buffer {
    const padded = pad4(body);
    const total = 12 + padded.length;
    return Buffer.concat([u32(order, type), u32(order, length?.lead ?? total), padded, u32(order, length?.trail ?? total)]);
  },
  shb(order: Order, version: [number, number] = [1, 0], options: Buffer[] = []): Buffer {
    return ng.block(order, 0x0a0d0d0a, Buffer.concat([u32(order, 0x1a2b3c4d), u16(order, version[0]), u16(order, version[1]), Buffer.alloc(8, 0xff), ...options]));
  },
  option(order: Order, code: number, value: Buffer): Buffer {
    return Buffer.concat([u16(order, code), u16(order, value.length), pad4(value)]);
  },
  idb(order: Order, linktype: number, snaplen: number, options: Buffer[] = []): Buffer {
    const opts = options.length ? [...options, Buffer.alloc(4)] : [];
    return ng.block(order, 1, Buffer.concat([u16(order, linktype), Buffer.alloc(2), u32(order, snaplen), ...opts]));
  },
  /** if_tsresol (9) */
  tsresol: (order: Order, v: number) => ng.option(order, 9, Buffer.from([v])),
  tsoffset(order: Order, seconds: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (order === 'le') b.writeBigInt64LE(seconds);
    else b.writeBigInt64BE(seconds);
    return ng.option(order, 14, b);
  },
  name: (order: Order, name: string) => ng.option(order, 2, Buffer.from(name)),
  epb(order: Order, iface: number, units: bigint, data: Buffer, original = data.length, options: Buffer[] = []): Buffer {
    return ng.block(order, 6, Buffer.concat([u32(order, iface), u32(order, Number(units >> 32n)), u32(order, Number(units & 0xffffffffn)), u32(order, data.length), u32(order, original), pad4(data), ...options]));
  },
  pb(order: Order, iface: number, units: bigint, data: Buffer, original = data.length): Buffer {
    return ng.block(order, 2, Buffer.concat([u16(order, iface), u16(order, 0), u32(order, Number(units >> 32n)), u32(order, Number(units & 0xffffffffn)), u32(order, data.length), u32(order, original), data]));
  },
  spb: (order: Order, original: number, data: Buffer) => ng.block(order, 3, Buffer.concat([u32(order, original), data])),
};

/** Deterministic frame contents of a given length. */
const bytesOf = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff));

const T0 = 1_700_000_000; // 2023-11-14

/**
 * A pcapng file that uses everything the reader knows: two interfaces of different link types
 * and resolutions (ns, 2^-10 s with an offset), EPB, SPB, PB, blocks to skip (NRB, ISB, an
 * unknown type), a custom block Wireshark numbers as a frame, then a second section in the
 * other byte order with interfaces of its own.
 */
function richPcapng(order: Order): { file: Buffer; expected: Omit<Seen, 'offset'>[] } {
  const other: Order = order === 'le' ? 'be' : 'le';
  const f = [bytesOf(60, 1), bytesOf(42, 2), bytesOf(100, 3), bytesOf(33, 4), bytesOf(64, 5), bytesOf(1514, 6)] as const;
  const file = Buffer.concat([
    ng.shb(order, [1, 0], [ng.option(order, 4, Buffer.from('rackforge test')), Buffer.alloc(4)]),
    ng.idb(order, LINKTYPE_ETHERNET, 0, [ng.name(order, 'eth0'), ng.tsresol(order, 9), ng.option(order, 3, Buffer.from('a description'))]),
    ng.idb(order, LINKTYPE_LINUX_SLL, 64, [ng.tsresol(order, 0x8a), ng.tsoffset(order, 100n), ng.name(order, 'any')]),
    ng.epb(order, 0, BigInt(T0) * 1_000_000_000n + 123_456_789n, f[0], 60, [ng.option(order, 1, Buffer.from('a comment')), Buffer.alloc(4)]),
    // A name resolution block: 10.0.0.1 is "host1", then nrb_record_end.
    ng.block(order, 4, Buffer.concat([u16(order, 1), u16(order, 10), pad4(Buffer.from([10, 0, 0, 1, ...Buffer.from('host1\0')])), Buffer.alloc(4)])),
    ng.epb(order, 1, BigInt(T0) * 1024n + 1000n, f[1], 80),
    ng.block(order, 5, Buffer.concat([u32(order, 0), Buffer.alloc(8)])), // interface statistics
    ng.spb(order, 100, f[2].subarray(0, 100)),
    ng.block(order, 0x1234, Buffer.from('unknown block')),
    ng.block(order, 0x40000bad, Buffer.concat([u32(order, 32473), Buffer.from('custom')])),
    ng.pb(order, 1, BigInt(T0) * 1024n + 5n, f[3]),
    ng.shb(other),
    ng.idb(other, LINKTYPE_LINUX_SLL2, 0, [ng.tsresol(other, 3)]),
    ng.epb(other, 0, BigInt(T0) * 1000n + 999n, f[4]),
    ng.idb(other, LINKTYPE_ETHERNET, 0),
    ng.epb(other, 1, BigInt(T0) * 1_000_000n + 1n, f[5]),
  ]);
  const expected: Omit<Seen, 'offset'>[] = [
    { number: 1, interfaceId: 0, linktype: 1, timestampNs: BigInt(T0) * 1_000_000_000n + 123_456_789n, capturedLength: 60, originalLength: 60, data: f[0].toString('hex') },
    { number: 2, interfaceId: 1, linktype: 113, timestampNs: BigInt(T0 + 100) * 1_000_000_000n + 976_562_500n, capturedLength: 42, originalLength: 80, data: f[1].toString('hex') },
    { number: 3, interfaceId: 0, linktype: 1, timestampNs: 0n, noTimestamp: true, capturedLength: 100, originalLength: 100, data: f[2].toString('hex') },
    // 4 is the custom block.
    { number: 5, interfaceId: 1, linktype: 113, timestampNs: BigInt(T0 + 100) * 1_000_000_000n + 4_882_812n, capturedLength: 33, originalLength: 33, data: f[3].toString('hex') },
    { number: 6, interfaceId: 0, linktype: 276, timestampNs: BigInt(T0) * 1_000_000_000n + 999_000_000n, capturedLength: 64, originalLength: 64, data: f[4].toString('hex') },
    { number: 7, interfaceId: 1, linktype: 1, timestampNs: BigInt(T0) * 1_000_000_000n + 1000n, capturedLength: 1514, originalLength: 1514, data: f[5].toString('hex') },
  ];
  return { file, expected };
}

const withoutOffsets = (ps: Seen[]) => ps.map(({ offset: _, ...rest }) => rest);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** What tshark reports per frame, in the reader's terms. */
async function tsharkFrames(file: string): Promise<string[]> {
  const out = await tshark(['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'frame.time_epoch', '-e', 'frame.interface_id']);
  return out.trimEnd().split('\n').filter((l) => l !== '');
}
/** tshark shows no interface for classic pcap, and no time for a simple packet block. */
const asTshark = (p: Seen, format: 'pcap' | 'pcapng'): string => `${p.number}|${p.capturedLength}|${p.originalLength}|${p.noTimestamp ? '' : epoch(p.timestampNs)}|${format === 'pcap' ? '' : p.interfaceId}`;

describe('capture reader', () => {
  describe('round-trip with the writer', () => {
    it('reads back what the writer wrote, microseconds and nanoseconds', () => {
      const frames = [bytesOf(60, 1), bytesOf(0, 2), bytesOf(1514, 3)];
      const at = [1700000000_123456789n, 1700000000_999999999n, 1700000001_000000001n];
      for (const nanosecond of [false, true]) {
        const o = { nanosecond };
        const file = Buffer.concat([encodePcapHeader(o), ...frames.map((f, i) => encodePcapRecord(f, at[i]!, o))]);
        const reader = new CaptureReader();
        const packets = readAll(file, undefined, reader).packets;
        assert.equal(reader.format, 'pcap');
        assert.deepEqual(reader.interfaces(), [{ id: 0, linktype: 1, snaplen: 262144, section: 0 }]);
        assert.deepEqual(
          packets,
          frames.map((f, i) => ({
            number: i + 1,
            offset: 24 + frames.slice(0, i).reduce((n, g) => n + 16 + g.length, 0),
            interfaceId: 0,
            linktype: 1,
            timestampNs: nanosecond ? at[i]! : (at[i]! / 1000n) * 1000n,
            capturedLength: f.length,
            originalLength: f.length,
            data: f.toString('hex'),
          })),
        );
      }
    });

    it('any frames, times, snaplen and link type read back as written', () => {
      const linktypes = [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2];
      const record = fc.record({ data: fc.uint8Array({ maxLength: 300 }), at: fc.bigInt({ min: 0n, max: 2n ** 32n * 1_000_000_000n - 1n }) });
      fc.assert(
        fc.property(fc.array(record, { maxLength: 20 }), fc.boolean(), fc.integer({ min: 1, max: 400 }), fc.constantFrom(...linktypes), (records, nanosecond, snaplen, linktype) => {
          const o = { nanosecond, snaplen, linktype };
          const file = Buffer.concat([encodePcapHeader(o), ...records.map((r) => encodePcapRecord(Buffer.from(r.data), r.at, o))]);
          const packets = readOk(file);
          assert.equal(packets.length, records.length);
          packets.forEach((p, i) => {
            const r = records[i]!;
            assert.equal(p.linktype, linktype);
            assert.equal(p.timestampNs, nanosecond ? r.at : (r.at / 1000n) * 1000n);
            assert.equal(p.originalLength, r.data.length);
            assert.equal(p.data, Buffer.from(r.data).subarray(0, snaplen).toString('hex'));
          });
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('classic pcap', () => {
    const records: ClassicRecord[] = [
      { seconds: T0, fraction: 123456, data: bytesOf(60, 1) },
      { seconds: T0 + 1, fraction: 999999, data: bytesOf(20, 2), original: 1514 },
    ];
    for (const order of ['le', 'be'] as const) {
      for (const nanosecond of [false, true]) {
        it(`${order === 'le' ? 'little' : 'big'}-endian, ${nanosecond ? 'nano' : 'micro'}seconds`, () => {
          const packets = readOk(classicFile(order, { nanosecond, linktype: LINKTYPE_LINUX_SLL }, records));
          const scale = nanosecond ? 1n : 1000n;
          assert.deepEqual(packets, [
            { number: 1, offset: 24, interfaceId: 0, linktype: 113, timestampNs: BigInt(T0) * 1_000_000_000n + 123456n * scale, capturedLength: 60, originalLength: 60, data: records[0]!.data.toString('hex') },
            { number: 2, offset: 100, interfaceId: 0, linktype: 113, timestampNs: BigInt(T0 + 1) * 1_000_000_000n + 999999n * scale, capturedLength: 20, originalLength: 1514, data: records[1]!.data.toString('hex') },
          ]);
        });
      }
    }
    it('masks the FCS bits off the link-type field, as libpcap does', () => {
      const packets = readOk(classicFile('le', { linktype: 0x14000001 }, records));
      assert.deepEqual(packets.map((p) => p.linktype), [1, 1]);
    });
    it('reads version 2.3, whose layout is that of 2.4', () => {
      assert.equal(readOk(classicFile('be', { minor: 3 }, records)).length, 2);
    });
    it('accepts the link types it is given', () => {
      const reader = new CaptureReader({ linktypes: new Set([101]) });
      assert.equal(readAll(classicFile('le', { linktype: 101 }, records), undefined, reader).packets.length, 2);
    });
    it('a header alone is a capture with no packets', () => {
      const reader = new CaptureReader();
      assert.deepEqual(readAll(encodePcapHeader(), undefined, reader), { packets: [], format: 'pcap' });
      assert.equal(reader.bytesConsumed, 24);
    });
  });

  describe('pcapng', () => {
    for (const order of ['le', 'be'] as const) {
      it(`${order === 'le' ? 'little' : 'big'}-endian first section: interfaces, resolutions, offsets, EPB/SPB/PB, skipped blocks, a second section`, () => {
        const { file, expected } = richPcapng(order);
        const reader = new CaptureReader();
        const out = readAll(file, undefined, reader);
        assert.equal(out.error, undefined);
        assert.deepEqual(withoutOffsets(out.packets), expected);
        assert.equal(reader.format, 'pcapng');
        assert.deepEqual(reader.interfaces(), [
          { id: 0, linktype: 1, snaplen: 0, name: 'eth0', section: 0 },
          { id: 1, linktype: 113, snaplen: 64, name: 'any', section: 0 },
          { id: 0, linktype: 276, snaplen: 0, section: 1 },
          { id: 1, linktype: 1, snaplen: 0, section: 1 },
        ]);
        // Offsets: every packet's offset is the start of a block whose type is a packet block.
        for (const p of out.packets) assert.ok([2, 3, 6].includes(file.readUInt32LE(p.offset)) || [2, 3, 6].includes(file.readUInt32BE(p.offset)), `frame ${p.number} at ${p.offset} is not at a packet block`);
        assert.equal(reader.bytesConsumed, file.length);
      });
    }
    it('a simple packet block takes at most the snaplen of interface 0', () => {
      const file = Buffer.concat([ng.shb('le'), ng.idb('le', 1, 64), ng.spb('le', 100, bytesOf(64, 1))]);
      const [p] = readOk(file);
      assert.deepEqual([p!.capturedLength, p!.originalLength, p!.data], [64, 100, bytesOf(64, 1).toString('hex')]);
    });
    it('the default resolution is microseconds; a large if_tsresol is exact', () => {
      const file = Buffer.concat([
        ng.shb('le'),
        ng.idb('le', 1, 0),
        ng.idb('le', 1, 0, [ng.tsresol('le', 12)]),
        ng.idb('le', 1, 0, [ng.tsresol('le', 0x80 | 30)]),
        ng.epb('le', 0, 1_700_000_000_123_456n, Buffer.alloc(1)),
        ng.epb('le', 1, 1_700_000_000_123_456_789_012n & 0xffffffffffffffffn, Buffer.alloc(1)),
        ng.epb('le', 2, (1n << 30n) * 3n + (1n << 29n), Buffer.alloc(1)),
        // A high word beyond 2^21 with µs: the slow path must agree with the fast one.
        ng.epb('le', 0, (1n << 60n) + 7n, Buffer.alloc(1)),
      ]);
      const units = 1_700_000_000_123_456_789_012n & 0xffffffffffffffffn;
      assert.deepEqual(readOk(file).map((p) => p.timestampNs), [1_700_000_000_123_456_000n, units / 1000n, 3_500_000_000n, ((1n << 60n) + 7n) * 1000n]);
    });
    it('a negative if_tsoffset moves times back', () => {
      const file = Buffer.concat([ng.shb('be'), ng.idb('be', 1, 0, [ng.tsoffset('be', -10n)]), ng.epb('be', 0, 20_000_000n, Buffer.alloc(4))]);
      assert.deepEqual(readOk(file).map((p) => p.timestampNs), [10_000_000_000n]);
    });
    it('reads section version 1.2 as 1.0, as Wireshark does', () => {
      assert.equal(readOk(Buffer.concat([ng.shb('le', [1, 2]), ng.idb('le', 1, 0), ng.epb('le', 0, 1n, Buffer.alloc(4))])).length, 1);
    });
  });

  describe('chunking', () => {
    const classic = Buffer.concat([encodePcapHeader(), ...[60, 1514, 0, 42, 300].map((n, i) => encodePcapRecord(bytesOf(n, i), BigInt(T0 + i) * 1_000_000_000n))]);
    const samples: [string, Buffer][] = [
      ['classic pcap', classic],
      ['pcapng, little-endian', richPcapng('le').file],
      ['pcapng, big-endian', richPcapng('be').file],
      ['classic pcap cut short', classic.subarray(0, classic.length - 5)],
      ['pcapng with a bad trailing length', Buffer.concat([richPcapng('le').file, ng.block('le', 0x1234, Buffer.alloc(8), { trail: 99 })])],
    ];
    for (const [name, file] of samples) {
      it(`${name}: whole, byte by byte and in random pieces give the same packets and error`, () => {
        const whole = readAll(file);
        assert.ok(whole.packets.length >= 4, `only ${whole.packets.length} packets`);
        assert.deepEqual(readAll(file, [1]), whole);
        fc.assert(
          fc.property(fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 30 }), (cuts) => {
            assert.deepEqual(readAll(file, cuts), whole);
          }),
          { numRuns: 300 },
        );
      });
    }
    it('keeps only the unfinished tail: bytesConsumed stops at the start of a split record', () => {
      const reader = new CaptureReader();
      let n = 0;
      reader.push(classic.subarray(0, 24 + 76 + 10), () => n++);
      assert.deepEqual([n, reader.bytesConsumed], [1, 100]);
      reader.push(classic.subarray(110, 24 + 76 + 1530), () => n++);
      assert.deepEqual([n, reader.bytesConsumed], [2, 1630]);
    });
    it('a throwing onPacket leaves the reader where it was: the next push goes on after that packet', () => {
      const reader = new CaptureReader();
      const seen: number[] = [];
      assert.throws(() => reader.push(classic, (p) => {
        seen.push(p.number);
        if (p.number === 2) throw new Error('consumer failed');
      }), /consumer failed/);
      reader.push(Buffer.alloc(0), (p) => seen.push(p.number));
      reader.end();
      assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    });
    it('a throwing onPacket for a packet that straddled two pushes, too', () => {
      const reader = new CaptureReader();
      const seen: number[] = [];
      const cut = 24 + 76 + 100; // inside packet 2
      reader.push(classic.subarray(0, cut), (p) => seen.push(p.number));
      assert.throws(() => reader.push(classic.subarray(cut), (p) => {
        seen.push(p.number);
        if (p.number === 2) throw new Error('consumer failed');
      }));
      reader.push(Buffer.alloc(0), (p) => seen.push(p.number));
      reader.end();
      assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    });
  });

  it('reads a record or EPB with more captured bytes than its original length, as Wireshark does', () => {
    const classic = classicFile('le', {}, [{ seconds: T0, fraction: 0, data: bytesOf(10, 7), original: 9 }]);
    const ngFile = Buffer.concat([ng.shb('le'), ng.idb('le', 1, 0), ng.epb('le', 0, 1n, bytesOf(10, 7), 4)]);
    for (const file of [classic, ngFile]) {
      const got: CapturedPacket[] = [];
      const reader = new CaptureReader();
      reader.push(file, (p) => got.push({ ...p, data: Buffer.from(p.data) }));
      reader.end();
      assert.equal(got.length, 1);
      assert.equal(got[0]!.capturedLength, 10);
      assert.ok(got[0]!.originalLength < 10);
      assert.deepEqual(got[0]!.data, bytesOf(10, 7));
    }
  });

  describe('refuses malformed input, naming the offset, after the packets before it', () => {
    const rec = (seconds: number, data: Buffer, original?: number): ClassicRecord => ({ seconds, fraction: 0, data, ...(original === undefined ? {} : { original }) });
    const good = classicFile('le', {}, [rec(T0, bytesOf(60, 1)), rec(T0 + 1, bytesOf(70, 2))]); // records at 24 and 100, end 186
    const withRecord = (header: Buffer) => Buffer.concat([good, header]);
    const ngHead = Buffer.concat([ng.shb('le'), ng.idb('le', 1, 0)]); // 28 + 20 bytes
    const ngGood = Buffer.concat([ngHead, ng.epb('le', 0, 1n, bytesOf(60, 1))]); // EPB at 48, 92 bytes
    const ngBad = (block: Buffer) => Buffer.concat([ngGood, block]);
    const badAt = ngGood.length;

    const table: [name: string, input: Buffer, code: keyof typeof CAPTURE_DECODE_ERRORS, offset: number, packets: number, message?: RegExp][] = [
      ['empty input', Buffer.alloc(0), 'CAPTURE_TRUNCATED', 0, 0, /empty/],
      ['3 bytes', hex('d4c3b2'), 'CAPTURE_TRUNCATED', 0, 0, /3 of the 4 bytes/],
      ['10 bytes of a pcap header', good.subarray(0, 10), 'CAPTURE_TRUNCATED', 0, 0, /pcap file header at offset 0: 10 of the 24 bytes/],
      ['bad magic', Buffer.from('\x7fELF and more bytes than a header', 'latin1'), 'CAPTURE_BAD_MAGIC', 0, 0, /0x7f454c46/],
      ['pcap version 2.2', classicFile('le', { minor: 2 }, []), 'CAPTURE_BAD_VERSION', 4, 0],
      ['pcap version 3.4', classicFile('be', { major: 3 }, []), 'CAPTURE_BAD_VERSION', 4, 0],
      ['pcap unknown link type', classicFile('le', { linktype: 105 }, []), 'CAPTURE_UNKNOWN_LINKTYPE', 20, 0, /link type 105/],
      ['record incl_len 0xFFFFFFF0', withRecord(hex('00000000 00000000 f0ffffff f0ffffff')), 'CAPTURE_RECORD_TOO_LONG', 186, 2, /^record at offset 186 claims 4294967280 captured bytes, more than the 262144-byte snaplen/],
      ['record incl_len above a snaplen larger than 262144', Buffer.concat([classicFile('le', { snaplen: 1 << 20 }, []), u32('le', 0), u32('le', 0), u32('le', (1 << 20) + 1), u32('le', (1 << 20) + 1)]), 'CAPTURE_RECORD_TOO_LONG', 24, 0, /more than the 1048576-byte snaplen/],
      ['record incl_len above 262144 with a smaller snaplen', Buffer.concat([classicFile('le', { snaplen: 65535 }, []), u32('le', 0), u32('le', 0), u32('le', 300000), u32('le', 300000)]), 'CAPTURE_RECORD_TOO_LONG', 24, 0, /claims 300000 captured bytes, more than the 262144-byte limit \(snaplen 65535\)/],
      ['record over 256 MiB whatever the snaplen', Buffer.concat([classicFile('le', { snaplen: 0xffffffff }, []), u32('le', 0), u32('le', 0), u32('le', 2 ** 28 + 1), u32('le', 2 ** 28 + 1)]), 'CAPTURE_RECORD_TOO_LONG', 24, 0, /268435456-byte limit/],
      ['truncated last record', good.subarray(0, good.length - 1), 'CAPTURE_TRUNCATED', 100, 1, /record at offset 100: 85 of the 86 bytes/],
      ['truncated record header', withRecord(hex('0000000000')), 'CAPTURE_TRUNCATED', 186, 2, /record header at offset 186: 5 of the 16 bytes/],
      ['pcapng block length 0', ngBad(hex('06000000 00000000')), 'CAPTURE_BAD_BLOCK_LENGTH', badAt, 1, /total length 0/],
      ['pcapng block length 13', ngBad(hex('05000000 0d000000')), 'CAPTURE_BAD_BLOCK_LENGTH', badAt, 1, /not a multiple of 4/],
      ['pcapng EPB shorter than its fixed part', ngBad(ng.block('le', 6, Buffer.alloc(4))), 'CAPTURE_BAD_BLOCK_LENGTH', badAt, 1, /total length 16, below 32, the minimum for its type/],
      ['pcapng trailing length mismatch', ngBad(ng.block('le', 4, Buffer.alloc(8), { trail: 24 })), 'CAPTURE_BAD_BLOCK_LENGTH', badAt, 1, /20 at its start but 24 at its end/],
      ['pcapng block over 256 MiB', ngBad(Buffer.concat([u32('le', 0x1234), u32('le', CAPTURE_MAX_RECORD_LENGTH + 4)])), 'CAPTURE_RECORD_TOO_LONG', badAt, 1],
      ['pcapng EPB for an unknown interface', ngBad(ng.epb('le', 1, 1n, bytesOf(10, 1))), 'CAPTURE_UNKNOWN_INTERFACE', badAt + 8, 1, /names interface 1, but its section has described only interface 0/],
      ['pcapng SPB before any IDB', Buffer.concat([ng.shb('le'), ng.spb('le', 4, Buffer.alloc(4))]), 'CAPTURE_UNKNOWN_INTERFACE', 28, 0, /names interface 0, but its section has described none/],
      ['pcapng EPB of the first section used in the second', Buffer.concat([ngGood, ng.shb('be'), ng.epb('be', 0, 1n, Buffer.alloc(4))]), 'CAPTURE_UNKNOWN_INTERFACE', badAt + 28 + 8, 1],
      ['pcapng EPB captured length beyond its block', ngBad(Buffer.concat([ng.epb('le', 0, 1n, Buffer.alloc(8))]).fill(0x40, 20, 21)), 'CAPTURE_BAD_BLOCK_LENGTH', badAt, 1, /claims 64 captured bytes, but its 40-byte block has room for 8/],
      ['pcapng EPB captured length above the snaplen', ngBad(ng.epb('le', 0, 1n, Buffer.alloc(0), 0).fill(0xff, 20, 24)), 'CAPTURE_RECORD_TOO_LONG', badAt, 1, /4294967295 captured bytes, more than the 268435456-byte limit/],
      ['pcapng SPB longer than its block', Buffer.concat([ngHead, ng.spb('le', 100, Buffer.alloc(32))]), 'CAPTURE_BAD_BLOCK_LENGTH', 48, 0, /100 captured bytes/],
      ['pcapng IDB unknown link type', Buffer.concat([ng.shb('le'), ng.idb('le', 1, 0), ng.idb('le', 147, 0)]), 'CAPTURE_UNKNOWN_LINKTYPE', 48 + 8, 0, /link type 147/],
      ['pcapng IDB option past its block', Buffer.concat([ng.shb('le'), ng.block('le', 1, Buffer.concat([u16('le', 1), u16('le', 0), u32('le', 0), u16('le', 2), u16('le', 9), Buffer.alloc(8)]))]), 'CAPTURE_BAD_OPTION', 28 + 16, 0, /option 2 .* claims 9 bytes/],
      ['pcapng if_tsresol of 2 bytes', Buffer.concat([ng.shb('le'), ng.idb('le', 1, 0, [ng.option('le', 9, Buffer.alloc(2))])]), 'CAPTURE_BAD_OPTION', 28 + 16, 0, /if_tsresol/],
      ['pcapng if_tsoffset of 4 bytes', Buffer.concat([ng.shb('le'), ng.idb('le', 1, 0, [ng.option('le', 14, Buffer.alloc(4))])]), 'CAPTURE_BAD_OPTION', 28 + 16, 0, /if_tsoffset/],
      ['truncated SHB (20 of 28 bytes)', ng.shb('le').subarray(0, 20), 'CAPTURE_TRUNCATED', 0, 0, /section header block at offset 0: 20 of the 28 bytes/],
      ['truncated SHB (6 bytes)', ng.shb('be').subarray(0, 6), 'CAPTURE_TRUNCATED', 0, 0, /6 of the at least 28 bytes/],
      ['SHB with a bad byte-order magic', Buffer.concat([ng.shb('le')]).fill(0, 8, 12), 'CAPTURE_BAD_MAGIC', 8, 0, /byte-order magic/],
      ['SHB version 2.0', ng.shb('le', [2, 0]), 'CAPTURE_BAD_VERSION', 12, 0, /2\.0/],
      ['SHB shorter than 28 bytes', ng.block('le', 0x0a0d0d0a, Buffer.concat([u32('le', 0x1a2b3c4d), Buffer.alloc(4)])), 'CAPTURE_BAD_BLOCK_LENGTH', 0, 0],
      ['pcapng truncated EPB', ngGood.subarray(0, ngGood.length - 4), 'CAPTURE_TRUNCATED', 48, 0, /enhanced packet block at offset 48: 88 of the 92 bytes/],
      ['pcapng truncated block header', ngBad(hex('060000')), 'CAPTURE_TRUNCATED', badAt, 1, /block header at offset 140: 3 of the 8/],
    ];
    for (const [name, input, code, offset, packets, message] of table) {
      it(`${name}: ${code} at ${offset}`, () => {
        for (const cuts of [undefined, [1], [7, 3]]) {
          const out = readAll(input, cuts);
          assert.ok(out.error, `no error; ${out.packets.length} packets`);
          assert.equal(out.error.code, code, out.error.message);
          assert.equal(out.error.offset, offset, out.error.message);
          assert.equal(out.packets.length, packets, out.error.message);
          if (message) assert.match(out.error.message, message);
        }
      });
    }

    it('refuses a too-long record as soon as its header is there, without waiting for its bytes', () => {
      const reader = new CaptureReader();
      reader.push(encodePcapHeader({ snaplen: 0xffffffff }), () => {});
      assert.throws(() => reader.push(hex('00000000 00000000 01000010 01000010'), () => {}), (e: unknown) => e instanceof DecodeError && e.code === 'CAPTURE_RECORD_TOO_LONG' && /268435456-byte limit/.test(e.message));
    });
    it('after an error, push and end throw that same error', () => {
      const reader = new CaptureReader();
      let error: unknown;
      try {
        reader.push(Buffer.from('garbage!'), () => {});
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof DecodeError, String(error));
      assert.throws(() => reader.push(encodePcapHeader(), () => {}), (e) => e === error);
      assert.throws(() => reader.end(), (e) => e === error);
      assert.equal(reader.bytesConsumed, 0);
    });
  });

  describe('properties', () => {
    /** Packets and a listed DecodeError inside the input, and the same whichever way it is cut. */
    function checkTotal(bytes: Buffer, cuts: number[]): void {
      let whole: ReadOutcome | undefined;
      for (const c of [undefined, cuts]) {
        const out = readAll(bytes, c);
        if (out.error) {
          assert.ok(out.error.code in CAPTURE_DECODE_ERRORS, out.error.code);
          assert.ok(out.error.offset >= 0 && out.error.offset <= bytes.length, `offset ${out.error.offset} outside ${bytes.length} bytes`);
        }
        for (const p of out.packets) assert.ok(p.offset < bytes.length && p.offset + p.capturedLength <= bytes.length, `frame ${p.number} at ${p.offset}`);
        if (whole) assert.deepEqual(out, whole);
        whole = out;
      }
    }
    const cutsArb = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });
    const starts = [Buffer.alloc(0), encodePcapHeader(), classicFile('be', { nanosecond: true }, []), ng.shb('le'), Buffer.concat([ng.shb('be'), ng.idb('be', 1, 0)])];

    it('random bytes, alone or after a valid header: packets and/or a listed DecodeError, never another exception', () => {
      fc.assert(
        fc.property(fc.constantFrom(...starts), fc.uint8Array({ maxLength: 400 }), cutsArb, (start, u, cuts) => checkTotal(Buffer.concat([start, Buffer.from(u)]), cuts)),
        { numRuns: 5000 },
      );
    });
    it('mutations of valid captures: the same', () => {
      const valid = [richPcapng('le').file, richPcapng('be').file, Buffer.concat([encodePcapHeader({ nanosecond: true }), ...[60, 0, 300].map((n, i) => encodePcapRecord(bytesOf(n, i), BigInt(i)))])];
      const mutation = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
      fc.assert(
        fc.property(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.option(fc.nat()), cutsArb, (file, mutations, cutAt, cuts) => {
          const b = Buffer.from(file);
          for (const m of mutations) b[m.at % b.length] = m.value;
          checkTotal(cutAt === null ? b : b.subarray(0, cutAt % (b.length + 1)), cuts);
        }),
        { numRuns: 5000 },
      );
    });
  });

  describe('agrees with tshark on files made by the real tools', function () {
    let dir = '';
    before(async () => {
      for (const tool of [TSHARK, '/usr/bin/text2pcap', '/usr/bin/editcap', '/usr/bin/mergecap']) {
        await access(tool).catch(() => { throw new Error(`${tool} is missing: apt-get install tshark`); });
      }
      dir = await mkdtemp(join(tmpdir(), 'rackforge-pcap-read-'));
    });
    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A text2pcap hex dump: frames of varied lengths with ISO times to the nanosecond. */
    function hexDump(count: number, seed: number): string {
      const lines: string[] = [];
      for (let i = 0; i < count; i++) {
        const frame = bytesOf(14 + ((i * 97 + seed * 13) % 1500), i + seed);
        const ns = String((i * 123_456_789 + seed * 1_000_003) % 1_000_000_000).padStart(9, '0');
        lines.push(`${new Date((T0 + i * 3 + seed) * 1000).toISOString().slice(0, 19)}.${ns}Z`);
        for (let o = 0; o < frame.length; o += 16) {
          lines.push(`${o.toString(16).padStart(6, '0')} ${[...frame.subarray(o, o + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' ')}`);
        }
        lines.push('');
      }
      return lines.join('\n');
    }
    async function text2pcap(name: string, count: number, seed: number, args: string[]): Promise<string> {
      const txt = join(dir, `${name}.txt`);
      await writeFile(txt, hexDump(count, seed));
      const out = join(dir, name);
      await run('/usr/bin/text2pcap', ['-q', '-t', 'ISO', ...args, txt, out]);
      return out;
    }
    /** `notPackets`: frame numbers tshark gives to blocks that carry no packet (custom blocks), which the reader skips. */
    async function agree(file: string, expect: { format: 'pcap' | 'pcapng'; frames: number; linktypes?: number[]; notPackets?: number[] }): Promise<Seen[]> {
      const bytes = await readFile(file);
      const reader = new CaptureReader();
      const out = readAll(bytes, [4093], reader);
      assert.equal(out.error, undefined, out.error?.message);
      assert.equal(reader.format, expect.format);
      assert.equal(out.packets.length, expect.frames);
      const theirs = await tsharkFrames(file);
      const skipped = new Set(expect.notPackets ?? []);
      assert.deepEqual(out.packets.map((p) => asTshark(p, expect.format)), theirs.filter((row) => !skipped.has(Number(row.split('|')[0]))));
      assert.equal(theirs.length, out.packets.length + skipped.size);
      if (expect.linktypes) assert.deepEqual([...new Set(out.packets.map((p) => p.linktype))].sort(), expect.linktypes);
      return out.packets;
    }

    it('text2pcap pcapng (Ethernet), and editcap to pcap, nsecpcap and back to pcapng', async () => {
      const ngFile = await text2pcap('eth.pcapng', 40, 1, []);
      await agree(ngFile, { format: 'pcapng', frames: 40, linktypes: [1] });
      for (const [type, format] of [['pcap', 'pcap'], ['nsecpcap', 'pcap'], ['pcapng', 'pcapng']] as const) {
        const out = join(dir, `eth-${type}`);
        await run('/usr/bin/editcap', ['-F', type, ngFile, out]);
        const packets = await agree(out, { format, frames: 40, linktypes: [1] });
        if (type === 'pcap') assert.ok(packets.every((p) => p.timestampNs % 1000n === 0n), 'pcap times are whole microseconds');
        if (type === 'nsecpcap') assert.ok(packets.some((p) => p.timestampNs % 1000n !== 0n), 'nsecpcap keeps nanoseconds');
      }
    });
    it('text2pcap -F pcap and Linux cooked link types (-l 113, -l 276)', async () => {
      await agree(await text2pcap('eth.pcap', 25, 2, ['-F', 'pcap']), { format: 'pcap', frames: 25, linktypes: [1] });
      await agree(await text2pcap('sll.pcap', 25, 3, ['-F', 'pcap', '-l', '113']), { format: 'pcap', frames: 25, linktypes: [113] });
      await agree(await text2pcap('sll2.pcapng', 25, 4, ['-l', '276']), { format: 'pcapng', frames: 25, linktypes: [276] });
    });
    it('editcap -s: snaplen-truncated frames keep their original lengths', async () => {
      const src = await text2pcap('long.pcapng', 20, 5, []);
      for (const type of ['pcap', 'pcapng']) {
        const out = join(dir, `snap.${type}`);
        await run('/usr/bin/editcap', ['-s', '100', '-F', type, src, out]);
        const packets = await agree(out, { format: type as 'pcap' | 'pcapng', frames: 20 });
        assert.ok(packets.some((p) => p.capturedLength === 100 && p.originalLength > 100), 'some frame was cut to 100 bytes');
      }
    });
    it('mergecap: one pcapng with interfaces of two link types, interleaved by time', async () => {
      const a = await text2pcap('m-eth.pcapng', 30, 6, ['-N', 'eth0']);
      const b = await text2pcap('m-sll.pcapng', 30, 7, ['-l', '113', '-N', 'any']);
      const merged = join(dir, 'merged.pcapng');
      await run('/usr/bin/mergecap', ['-w', merged, a, b]);
      const packets = await agree(merged, { format: 'pcapng', frames: 60, linktypes: [1, 113] });
      assert.deepEqual([...new Set(packets.map((p) => `${p.interfaceId}:${p.linktype}`))].sort(), ['0:1', '1:113']);
      const times = packets.map((p) => p.timestampNs);
      assert.deepEqual(times, [...times].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    });
    it('concatenated pcapng files: a second section with its own interfaces', async () => {
      const a = await text2pcap('s1.pcapng', 5, 8, []);
      const b = await text2pcap('s2.pcapng', 5, 9, ['-l', '113']);
      const both = join(dir, 'sections.pcapng');
      await writeFile(both, Buffer.concat([await readFile(a), await readFile(b)]));
      const packets = await agree(both, { format: 'pcapng', frames: 10, linktypes: [1, 113] });
      assert.deepEqual(packets.map((p) => p.interfaceId), Array(10).fill(0));
    });
    for (const order of ['le', 'be'] as const) {
      it(`a hand-made ${order === 'le' ? 'little' : 'big'}-endian pcapng with every block kind, and its classic pcap cousin`, async () => {
        const file = join(dir, `rich-${order}.pcapng`);
        await writeFile(file, richPcapng(order).file);
        await agree(file, { format: 'pcapng', frames: 6, notPackets: [4] });
        const classic = join(dir, `classic-${order}.pcap`);
        await writeFile(classic, classicFile(order, { nanosecond: order === 'be', snaplen: 65535 }, [
          { seconds: T0, fraction: 5, data: bytesOf(60, 1) },
          { seconds: T0 + 1, fraction: 999_999, data: bytesOf(40, 2), original: 1000 },
        ]));
        await agree(classic, { format: 'pcap', frames: 2 });
      });
    }
    it('tshark and the reader agree where a file is cut short', async () => {
      const src = await text2pcap('cut.pcapng', 10, 10, ['-F', 'pcap']);
      const bytes = await readFile(src);
      const cut = join(dir, 'cut.pcap');
      await writeFile(cut, bytes.subarray(0, bytes.length - 7));
      const out = readAll(bytes.subarray(0, bytes.length - 7));
      assert.equal(out.error?.code, 'CAPTURE_TRUNCATED');
      const seen = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
        execFile(TSHARK, ['-r', cut, '-T', 'fields', '-e', 'frame.number'], (_err, stdout, stderr) => resolve({ stdout, stderr }));
      });
      assert.match(seen.stderr, /cut short in the middle of a packet/);
      assert.equal(seen.stdout.trim().split('\n').length, out.packets.length);
    });
  });
});
