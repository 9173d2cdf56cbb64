import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { hex } from './decode-testing.ts';
import { BROADCAST_MAC } from './ethernet.ts';
import { encodeArpFrame, encodeTcpFrame, encodeUdpFrame } from './frames.ts';
import {
  LINKTYPE_ETHERNET,
  PCAP_DEFAULT_SNAPLEN,
  encodePcapHeader,
  encodePcapRecord,
  encodePcapRecordHeader,
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
