// The classic libpcap file format (draft-ietf-opsawg-pcap): a 24-byte file header, then one
// 16-byte record header plus captured bytes per frame. Pure: the caller owns the file and the
// clock; these functions only turn frames and timestamps into bytes.
//
// Everything is written little-endian, whatever the host, so files are byte-identical across
// machines; readers detect the byte order from the magic number. The magic says whether record
// timestamps are in microseconds (0xa1b2c3d4) or nanoseconds (0xa1b23c4d), so the options given
// to the records must be those given to the header. Seconds are unsigned 32-bit: timestamps
// from 1970 to 2106.
export const LINKTYPE_ETHERNET = 1;

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_DEFAULT_SNAPLEN = 262144;
export const PCAP_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

export interface PcapWriterOptions {
  /** Bytes kept per frame; longer frames are truncated, their original length recorded. Default 262144. */
  snaplen?: number;
  /** Nanosecond timestamps; default false (microseconds). */
  nanosecond?: boolean;
  /** Default LINKTYPE_ETHERNET. */
  linktype?: number;
}

const NS_PER_S = 1_000_000_000n;
const MAX_SECONDS = 0xffffffffn;

function snaplenOf(o: PcapWriterOptions | undefined): number {
  const snaplen = o?.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0xffffffff) throw new RangeError(`snaplen ${snaplen} is not 1-4294967295`);
  return snaplen;
}

/** The 24-byte file header. RangeError for a snaplen or linktype out of range. */
export function encodePcapHeader(o?: PcapWriterOptions): Buffer {
  const snaplen = snaplenOf(o);
  const linktype = o?.linktype ?? LINKTYPE_ETHERNET;
  // The top bits of the link-type field carry FCS information; plain link types fit 16 bits.
  if (!Number.isInteger(linktype) || linktype < 0 || linktype > 0xffff) throw new RangeError(`linktype ${linktype} is not 0-65535`);
  const out = Buffer.alloc(PCAP_HEADER_LENGTH);
  out.writeUInt32LE(o?.nanosecond ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS, 0);
  out.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
  out.writeUInt16LE(PCAP_VERSION_MINOR, 6);
  // Bytes 8-15 (thiszone, sigfigs) stay 0: timestamps are UTC and nobody reads sigfigs.
  out.writeUInt32LE(snaplen, 16);
  out.writeUInt32LE(linktype, 20);
  return out;
}

/**
 * The 16-byte header of a record for a frame of `frameLength` bytes. With it a writer can hand
 * header and frame to writev without copying the frame (200 MB captures); encodePcapRecord is
 * the copying convenience. RangeError for a timestamp outside 1970-2106.
 */
export function encodePcapRecordHeader(frameLength: number, atNs: bigint, o?: PcapWriterOptions): Buffer {
  const out = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LENGTH);
  writeRecordHeader(out, frameLength, atNs, o);
  return out;
}

/** Record header plus the frame, truncated to snaplen (the original length is kept). */
export function encodePcapRecord(frame: Buffer, atNs: bigint, o?: PcapWriterOptions): Buffer {
  const captured = Math.min(frame.length, snaplenOf(o));
  const out = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LENGTH + captured);
  writeRecordHeader(out, frame.length, atNs, o);
  out.set(frame.subarray(0, captured), PCAP_RECORD_HEADER_LENGTH);
  return out;
}

function writeRecordHeader(out: Buffer, frameLength: number, atNs: bigint, o: PcapWriterOptions | undefined): void {
  const snaplen = snaplenOf(o);
  if (!Number.isInteger(frameLength) || frameLength < 0 || frameLength > 0xffffffff) throw new RangeError(`frame length ${frameLength} is not 0-4294967295`);
  if (typeof atNs !== 'bigint') throw new TypeError(`timestamp must be a bigint of nanoseconds, got ${typeof atNs}`);
  if (atNs < 0n) throw new RangeError(`timestamp ${atNs} ns is before 1970`);
  const seconds = atNs / NS_PER_S;
  if (seconds > MAX_SECONDS) throw new RangeError(`timestamp ${atNs} ns is after 2106, beyond 32-bit seconds`);
  const fraction = Number(atNs % NS_PER_S);
  out.writeUInt32LE(Number(seconds), 0);
  // Truncated to the microsecond, as libpcap does; rounding could make it 1000000.
  out.writeUInt32LE(o?.nanosecond ? fraction : Math.floor(fraction / 1000), 4);
  out.writeUInt32LE(Math.min(frameLength, snaplen), 8);
  out.writeUInt32LE(frameLength, 12);
}
