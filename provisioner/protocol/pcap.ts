// The classic libpcap file format (draft-ietf-opsawg-pcap): a 24-byte file header, then one
// 16-byte record header plus captured bytes per frame. Pure: the caller owns the file and the
// clock; these functions only turn frames and timestamps into bytes.
//
// Everything is written little-endian, whatever the host, so files are byte-identical across
// machines; readers detect the byte order from the magic number. The magic says whether record
// timestamps are in microseconds (0xa1b2c3d4) or nanoseconds (0xa1b23c4d), so the options given
// to the records must be those given to the header. Seconds are unsigned 32-bit: timestamps
// from 1970 to 2106.
import { DecodeError } from '../../lib/errors.ts';

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

// ---------------------------------------------------------------------------------------------
// Reading: classic pcap and pcapng (draft-ietf-opsawg-pcapng), as a stream.
//
// CaptureReader is pure and incremental: the caller pushes chunks of any size (a file read, a
// pipe, one byte at a time) and gets every complete packet as soon as its last byte arrives.
// Between pushes it keeps only the unfinished header, record or block, so memory stays flat
// however long the capture. Packets are numbered as Wireshark numbers frames, so a frame
// number in a report can be looked up in Wireshark.
//
// `data` is a view into the pushed chunk (or into the reader's buffer for a packet that
// straddled two chunks), never a copy: that is what lets the reader keep up with a disk. It is
// valid only while onPacket runs; the caller may reuse its chunk after push returns.

export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

/** The codes CaptureReader throws in DecodeError.code. */
export const CAPTURE_DECODE_ERRORS = {
  CAPTURE_BAD_MAGIC: 'the input starts with neither a pcap magic number nor a pcapng section header, or a section header has a bad byte-order magic',
  CAPTURE_BAD_VERSION: 'a pcap file version other than 2.3/2.4, or a pcapng section version other than 1.0/1.2',
  CAPTURE_TRUNCATED: 'the input ends inside a file header, record or block (or is empty)',
  CAPTURE_RECORD_TOO_LONG: 'a record or block claims more bytes than the snaplen (at least 262144) or the 256 MiB limit allow',
  CAPTURE_BAD_BLOCK_LENGTH: 'a pcapng block length is below the minimum for its type or not a multiple of 4, differs from its trailing copy, or leaves no room for the packet it carries',
  CAPTURE_BAD_OPTION: 'a pcapng interface option runs past its block, or if_tsresol/if_tsoffset has the wrong size',
  CAPTURE_UNKNOWN_LINKTYPE: 'the link type is not one the reader was asked to accept',
  CAPTURE_UNKNOWN_INTERFACE: 'a packet block names an interface its section has not described',
  CAPTURE_TOO_MANY_INTERFACES: 'the capture describes more interfaces than the reader keeps (65536)',
} as const;
export type CaptureDecodeErrorCode = keyof typeof CAPTURE_DECODE_ERRORS;

export interface CaptureInterface {
  /** The interface ID packet blocks use: counted from 0 within each pcapng section, 0 for pcap. */
  id: number;
  linktype: number;
  /** 0 in pcapng means "no limit". */
  snaplen: number;
  /** pcapng if_name. */
  name?: string;
  /** pcapng section the interface belongs to, from 0 (0 for pcap). */
  section: number;
}

export interface CapturedPacket {
  /** 1-based frame number, exactly as Wireshark numbers frames (frame.number). */
  number: number;
  /** Absolute byte offset in the file of the record header / block. */
  offset: number;
  /** 0 for classic pcap; the section-local ID in pcapng, as tshark 4.0 prints frame.interface_id. */
  interfaceId: number;
  linktype: number;
  /** ns since the epoch: pcapng if_tsresol and if_tsoffset honoured (default µs); 0n when noTimestamp. */
  timestampNs: bigint;
  /** Set for a pcapng simple packet block, which carries no time (Wireshark shows none). */
  noTimestamp?: true;
  capturedLength: number;
  originalLength: number;
  /** A VIEW, valid only during the onPacket callback: copy what you keep. */
  data: Buffer;
}

export interface CaptureReaderOptions {
  /** Link types to accept; others are CAPTURE_UNKNOWN_LINKTYPE. Default Ethernet, Linux cooked v1 and v2. */
  linktypes?: ReadonlySet<number>;
}

/** No record or block is buffered beyond this, whatever its header claims. */
export const CAPTURE_MAX_RECORD_LENGTH = 256 * 1024 * 1024;
// libpcap's and Wireshark's largest snaplen for ordinary link types: a smaller snaplen in the
// header does not make a longer record corrupt (writers are lax), but nothing should exceed this.
const SNAPLEN_FLOOR = 262144;
const MAX_INTERFACES = 65536;
const DEFAULT_LINKTYPES: ReadonlySet<number> = new Set([LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2]);

const PCAP_MAGIC_MICROSECONDS_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NANOSECONDS_SWAPPED = 0x4d3cb2a1;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

const BLOCK = {
  SHB: 0x0a0d0d0a, // the same in both byte orders, so it can be recognised before the order is known
  IDB: 1,
  PB: 2,
  SPB: 3,
  EPB: 6,
} as const;
const BLOCK_NAMES: Readonly<Record<number, string>> = {
  [BLOCK.SHB]: 'section header block',
  [BLOCK.IDB]: 'interface description block',
  [BLOCK.PB]: 'packet block',
  [BLOCK.SPB]: 'simple packet block',
  4: 'name resolution block',
  5: 'interface statistics block',
  [BLOCK.EPB]: 'enhanced packet block',
  10: 'decryption secrets block',
};
// Blocks Wireshark 4.0 turns into frames of their own although they carry no packet: custom
// blocks, systemd journal entries and sysdig events. They are counted so that the frame numbers
// of the packets after them stay Wireshark's, and not delivered.
const NUMBERED_NON_PACKET_BLOCKS: ReadonlySet<number> = new Set([0x00000bad, 0x40000bad, 9, 0x204, 0x216, 0x221]);

const SHB_MIN_LENGTH = 28;
const IDB_MIN_LENGTH = 20;
const EPB_MIN_LENGTH = 32; // also PB: both have a 20-byte fixed part
const EPB_FIXED_END = 28; // block header + fixed part: everything needed to check the lengths
const SPB_MIN_LENGTH = 16;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

const TWO_POW_32 = 4294967296;
// Below this a 64-bit timestamp's high word times 2^32 is still an exact double.
const EXACT_HIGH_WORD = 1 << 21;

interface Interface extends CaptureInterface {
  /** Timestamp units per second (if_tsresol). */
  unitsPerSecond: bigint;
  /** ns per unit when that is a whole number (µs, ns, ms...), else 0n and the slow division. */
  nsPerUnit: bigint;
  nsPerUnitNumber: number;
  offsetNs: bigint;
  /** Largest captured length accepted. */
  recordLimit: number;
}

const pad4 = (n: number): number => (n + 3) & ~3;
const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
const blockName = (type: number): string => BLOCK_NAMES[type] ?? `block of type ${hex32(type)}`;
const recordLimitFor = (snaplen: number): number => Math.min(Math.max(snaplen, SNAPLEN_FLOOR), CAPTURE_MAX_RECORD_LENGTH);
const limitText = ({ snaplen, recordLimit }: Interface): string =>
  snaplen === recordLimit ? `the ${recordLimit}-byte snaplen` : `the ${recordLimit}-byte limit${snaplen === 0 ? '' : ` (snaplen ${snaplen})`}`;

export class CaptureReader {
  readonly #linktypes: ReadonlySet<number>;
  #format: 'pcap' | 'pcapng' | undefined;
  #le = true;
  // Classic pcap.
  #nanosecond = false;
  // pcapng: the interfaces of the current section, and of all sections for interfaces().
  #section = -1;
  #sectionInterfaces: Interface[] = [];
  #interfaces: Interface[] = [];
  #number = 0;
  #consumed = 0;
  // The unfinished unit (header, record or block) carried from one push to the next.
  #pending: Buffer = Buffer.alloc(0);
  #pendingLength = 0;
  // What followed the packet whose onPacket threw: whole units, delivered by the next push.
  #undelivered: Buffer | undefined;
  #error: DecodeError | undefined;

  constructor(o?: CaptureReaderOptions) {
    this.#linktypes = o?.linktypes ?? DEFAULT_LINKTYPES;
  }

  /** undefined until the first file or section header has been read. */
  get format(): 'pcap' | 'pcapng' | undefined {
    return this.#format;
  }

  /** Offset of the first byte not yet consumed: the start of the unfinished (or corrupt) unit. */
  get bytesConsumed(): number {
    return this.#consumed;
  }

  /** Every interface described so far, in file order (one for classic pcap). */
  interfaces(): CaptureInterface[] {
    return this.#interfaces.map(({ id, linktype, snaplen, name, section }) => (name === undefined ? { id, linktype, snaplen, section } : { id, linktype, snaplen, name, section }));
  }

  /**
   * Calls onPacket for every packet completed by this chunk, in order. Throws DecodeError (codes
   * in CAPTURE_DECODE_ERRORS, absolute file offset) at the first corrupt structure, after
   * delivering every packet before it; push and end then throw that same error again. Only the
   * unfinished tail is kept. If onPacket throws, the exception propagates and the reader stays
   * consistent: the next push (an empty chunk will do) continues after that packet.
   */
  push(chunk: Buffer, onPacket: (p: CapturedPacket) => void): void {
    if (this.#error) throw this.#error;
    if (this.#undelivered) {
      const rest = Buffer.concat([this.#undelivered, chunk]);
      this.#undelivered = undefined;
      this.#pushChunk(rest, onPacket);
    } else {
      this.#pushChunk(chunk, onPacket);
    }
  }

  #pushChunk(chunk: Buffer, onPacket: (p: CapturedPacket) => void): void {
    let i = 0;
    let carried = 0;
    // First complete the unit carried over from earlier pushes, copying only what it still lacks.
    if (this.#pendingLength > 0) {
      carried = this.#need(this.#pending, 0, this.#pendingLength);
      while (carried > this.#pendingLength) {
        if (i === chunk.length) return;
        const take = Math.min(carried - this.#pendingLength, chunk.length - i);
        this.#reserve(carried);
        chunk.copy(this.#pending, this.#pendingLength, i, i + take);
        this.#pendingLength += take;
        i += take;
        carried = this.#need(this.#pending, 0, this.#pendingLength);
      }
    }
    // Absolute file offset of chunk[0].
    const chunkStart = this.#consumed + carried - i;
    try {
      if (carried > 0) {
        this.#pendingLength = 0;
        this.#unit(this.#pending, 0, carried, onPacket);
        // A huge record should not pin its buffer for the rest of the file.
        if (this.#pending.length > 1 << 20) this.#pending = Buffer.alloc(0);
      }
      // Then read whole units straight from the chunk.
      for (;;) {
        const at = this.#consumed - chunkStart;
        const available = chunk.length - at;
        if (available === 0) break;
        const need = this.#need(chunk, at, available);
        if (need > available) break;
        this.#unit(chunk, at, need, onPacket);
      }
      const at = this.#consumed - chunkStart;
      if (at < chunk.length) {
        this.#reserve(chunk.length - at);
        chunk.copy(this.#pending, 0, at);
        this.#pendingLength = chunk.length - at;
      }
    } catch (e) {
      // onPacket threw: keep the rest of the chunk (a copy: the caller may reuse its buffer).
      const at = this.#consumed - chunkStart;
      if (!this.#error && at < chunk.length) this.#undelivered = Buffer.from(chunk.subarray(at));
      throw e;
    }
  }

  /** End of input: throws DecodeError CAPTURE_TRUNCATED if an unfinished header, record or block remains, or if there was no input at all. */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.#undelivered) throw new Error('packets after the one whose onPacket threw are still to be delivered: push again before end()');
    const have = this.#pendingLength;
    const at = this.#consumed;
    if (have === 0) {
      if (this.#format === undefined) throw this.#fail('CAPTURE_TRUNCATED', 'magic', 0, 'the input is empty: a capture starts with a 24-byte pcap file header or a pcapng section header block');
      return;
    }
    const b = this.#pending;
    let what: string;
    let total: number;
    let atLeast = false;
    let field = 'block';
    if (this.#format === undefined && (have < 4 || b.readUInt32LE(0) !== BLOCK.SHB)) {
      field = 'magic';
      what = have < 4 ? 'magic number' : 'pcap file header';
      total = have < 4 ? 4 : PCAP_HEADER_LENGTH;
    } else if (this.#format === 'pcap') {
      field = 'record';
      what = have < PCAP_RECORD_HEADER_LENGTH ? 'record header' : 'record';
      total = have < PCAP_RECORD_HEADER_LENGTH ? PCAP_RECORD_HEADER_LENGTH : PCAP_RECORD_HEADER_LENGTH + this.#u32(b, 8);
    } else if (have < 8) {
      what = this.#format === undefined ? blockName(BLOCK.SHB) : 'block header';
      total = this.#format === undefined ? SHB_MIN_LENGTH : 8;
      atLeast = this.#format === undefined;
    } else {
      const type = this.#u32(b, 0);
      what = blockName(type);
      if (type !== BLOCK.SHB) total = this.#u32(b, 4);
      // A section header's length is in its own byte order, known from the byte-order magic.
      else if (have >= 12) total = b.readUInt32LE(8) === PCAPNG_BYTE_ORDER_MAGIC ? b.readUInt32LE(4) : b.readUInt32BE(4);
      else [total, atLeast] = [SHB_MIN_LENGTH, true];
    }
    throw this.#fail('CAPTURE_TRUNCATED', field, at, `the capture is cut short in the ${what} at offset ${at}: ${have} of the ${atLeast ? 'at least ' : ''}${total} bytes it needs are there`);
  }

  #u32(b: Buffer, at: number): number {
    return this.#le ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  #u16(b: Buffer, at: number): number {
    return this.#le ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  #fail(code: CaptureDecodeErrorCode, field: string, offset: number, message: string): DecodeError {
    this.#error = new DecodeError(code, field, offset, message);
    return this.#error;
  }

  #reserve(n: number): void {
    if (this.#pending.length >= n) return;
    const grown = Buffer.allocUnsafe(Math.max(n, Math.min(this.#pending.length * 2, CAPTURE_MAX_RECORD_LENGTH), 4096));
    this.#pending.copy(grown, 0, 0, this.#pendingLength);
    this.#pending = grown;
  }

  /**
   * How many bytes the unit at b[at] needs, given that `available` are there. A result above
   * `available` means "at least this many, ask again": it never exceeds the unit's true length,
   * so copying that much never takes bytes of the next unit. Refuses a corrupt header as soon
   * as it is complete, before waiting for a body it announces. Changes no state.
   */
  #need(b: Buffer, at: number, available: number): number {
    const off = this.#consumed;
    if (this.#format === 'pcap') {
      if (available < PCAP_RECORD_HEADER_LENGTH) return PCAP_RECORD_HEADER_LENGTH;
      const captured = this.#u32(b, at + 8);
      const original = this.#u32(b, at + 12);
      const iface = this.#interfaces[0]!;
      if (captured > iface.recordLimit) {
        throw this.#fail('CAPTURE_RECORD_TOO_LONG', 'record', off, `record at offset ${off} claims ${captured} captured bytes, more than ${limitText(iface)}`);
      }
      // A record with more captured bytes than the packet had is read, as Wireshark reads it:
      // some writers leave orig_len 0, and the captured bytes are still all there.
      return PCAP_RECORD_HEADER_LENGTH + captured;
    }
    if (this.#format === undefined) {
      if (available < 4) return 4;
      const magic = b.readUInt32LE(at);
      if (magic === PCAP_MAGIC_MICROSECONDS || magic === PCAP_MAGIC_NANOSECONDS || magic === PCAP_MAGIC_MICROSECONDS_SWAPPED || magic === PCAP_MAGIC_NANOSECONDS_SWAPPED) return PCAP_HEADER_LENGTH;
      if (magic !== BLOCK.SHB) {
        throw this.#fail('CAPTURE_BAD_MAGIC', 'magic', off, `the input starts with ${hex32(b.readUInt32BE(at))}, which is neither a pcap magic number (a1b2c3d4 or a1b23c4d, either byte order) nor a pcapng section header block (0a0d0d0a)`);
      }
    }
    if (available < 8) return 8;
    const type = this.#u32(b, at);
    if (type === BLOCK.SHB) return this.#needSectionHeader(b, at, available);
    const length = this.#u32(b, at + 4);
    this.#checkBlockLength(type, length, type === BLOCK.IDB ? IDB_MIN_LENGTH : type === BLOCK.EPB || type === BLOCK.PB ? EPB_MIN_LENGTH : type === BLOCK.SPB ? SPB_MIN_LENGTH : 12);
    if (type === BLOCK.EPB || type === BLOCK.PB) {
      if (available < EPB_FIXED_END) return EPB_FIXED_END;
      const iface = this.#interfaceOf(type === BLOCK.EPB ? this.#u32(b, at + 8) : this.#u16(b, at + 8), type);
      const captured = this.#u32(b, at + 20);
      const original = this.#u32(b, at + 24);
      this.#checkPacketLengths(type, iface, captured, original, length, EPB_MIN_LENGTH);
    } else if (type === BLOCK.SPB) {
      if (available < 12) return 12;
      const iface = this.#interfaceOf(0, type);
      const original = this.#u32(b, at + 8);
      this.#checkPacketLengths(type, iface, this.#spbCaptured(iface, original), original, length, SPB_MIN_LENGTH);
    }
    return length;
  }

  #needSectionHeader(b: Buffer, at: number, available: number): number {
    if (available < 12) return 12;
    const off = this.#consumed;
    const bom = b.readUInt32LE(at + 8);
    if (bom !== PCAPNG_BYTE_ORDER_MAGIC && bom !== PCAPNG_BYTE_ORDER_MAGIC_SWAPPED) {
      throw this.#fail('CAPTURE_BAD_MAGIC', 'byte_order_magic', off + 8, `section header block at offset ${off} has byte-order magic ${hex32(b.readUInt32BE(at + 8))}, neither 1a2b3c4d nor 4d3c2b1a`);
    }
    const length = bom === PCAPNG_BYTE_ORDER_MAGIC ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
    this.#checkBlockLength(BLOCK.SHB, length, SHB_MIN_LENGTH);
    return length;
  }

  #checkBlockLength(type: number, length: number, min: number): void {
    const off = this.#consumed;
    if (length < min || length % 4 !== 0) {
      const why = length % 4 !== 0 ? 'not a multiple of 4' : `below ${min}, the minimum for its type`;
      throw this.#fail('CAPTURE_BAD_BLOCK_LENGTH', 'block', off, `${blockName(type)} at offset ${off} has total length ${length}, ${why}`);
    }
    if (length > CAPTURE_MAX_RECORD_LENGTH) {
      throw this.#fail('CAPTURE_RECORD_TOO_LONG', 'block', off, `${blockName(type)} at offset ${off} claims ${length} bytes, more than the ${CAPTURE_MAX_RECORD_LENGTH}-byte limit`);
    }
  }

  #interfaceOf(id: number, type: number): Interface {
    const iface = this.#sectionInterfaces[id];
    if (iface) return iface;
    const off = this.#consumed;
    const known = this.#sectionInterfaces.length;
    const described = known === 0 ? 'none' : known === 1 ? 'only interface 0' : `only interfaces 0-${known - 1}`;
    // A simple packet block has no interface field: it always means interface 0.
    const [field, at] = type === BLOCK.SPB ? ['block', off] : ['interface_id', off + 8];
    throw this.#fail('CAPTURE_UNKNOWN_INTERFACE', field, at, `${blockName(type)} at offset ${off} names interface ${id}, but its section has described ${described}`);
  }

  #spbCaptured(iface: Interface, original: number): number {
    return iface.snaplen !== 0 && original > iface.snaplen ? iface.snaplen : original;
  }

  #checkPacketLengths(type: number, iface: Interface, captured: number, original: number, length: number, fixed: number): void {
    const off = this.#consumed;
    if (captured > iface.recordLimit) {
      throw this.#fail('CAPTURE_RECORD_TOO_LONG', 'block', off, `${blockName(type)} at offset ${off} claims ${captured} captured bytes, more than ${limitText(iface)}`);
    }
    if (fixed + pad4(captured) > length) {
      throw this.#fail('CAPTURE_BAD_BLOCK_LENGTH', 'block', off, `${blockName(type)} at offset ${off} claims ${captured} captured bytes, but its ${length}-byte block has room for ${length - fixed}`);
    }
  }

  /** Consumes the complete unit b[at, at + length) that #need measured. */
  #unit(b: Buffer, at: number, length: number, onPacket: (p: CapturedPacket) => void): void {
    const off = this.#consumed;
    if (this.#format === 'pcap') {
      const seconds = this.#u32(b, at);
      const fraction = this.#u32(b, at + 4);
      const captured = length - PCAP_RECORD_HEADER_LENGTH;
      const timestampNs = this.#nanosecond
        ? BigInt(seconds) * 1_000_000_000n + BigInt(fraction)
        : BigInt(seconds * 1_000_000 + fraction) * 1000n; // below 2^53: exact
      this.#consumed = off + length;
      onPacket({
        number: ++this.#number,
        offset: off,
        interfaceId: 0,
        linktype: this.#interfaces[0]!.linktype,
        timestampNs,
        capturedLength: captured,
        originalLength: this.#u32(b, at + 12),
        data: b.subarray(at + PCAP_RECORD_HEADER_LENGTH, at + length),
      });
      return;
    }
    if (this.#format === undefined && b.readUInt32LE(at) !== BLOCK.SHB) {
      this.#fileHeader(b, at);
      this.#consumed = off + length;
      return;
    }
    const type = this.#format === undefined ? BLOCK.SHB : this.#u32(b, at);
    if (type === BLOCK.SHB) this.#le = b.readUInt32LE(at + 8) === PCAPNG_BYTE_ORDER_MAGIC;
    const trailing = this.#u32(b, at + length - 4);
    if (trailing !== length) {
      throw this.#fail('CAPTURE_BAD_BLOCK_LENGTH', 'block', off, `${blockName(type)} at offset ${off} has total length ${length} at its start but ${trailing} at its end`);
    }
    switch (type) {
      case BLOCK.SHB:
        this.#sectionHeader(b, at);
        break;
      case BLOCK.IDB:
        this.#interfaceDescription(b, at, length);
        break;
      case BLOCK.EPB:
      case BLOCK.PB: {
        const iface = this.#sectionInterfaces[type === BLOCK.EPB ? this.#u32(b, at + 8) : this.#u16(b, at + 8)]!;
        const high = this.#u32(b, at + 12);
        const low = this.#u32(b, at + 16);
        const captured = this.#u32(b, at + 20);
        this.#consumed = off + length;
        onPacket({
          number: ++this.#number,
          offset: off,
          interfaceId: iface.id,
          linktype: iface.linktype,
          timestampNs: timestampOf(iface, high, low),
          capturedLength: captured,
          originalLength: this.#u32(b, at + 24),
          data: b.subarray(at + EPB_FIXED_END, at + EPB_FIXED_END + captured),
        });
        return;
      }
      case BLOCK.SPB: {
        const iface = this.#sectionInterfaces[0]!;
        const original = this.#u32(b, at + 8);
        const captured = this.#spbCaptured(iface, original);
        this.#consumed = off + length;
        onPacket({
          number: ++this.#number,
          offset: off,
          interfaceId: 0,
          linktype: iface.linktype,
          timestampNs: 0n,
          noTimestamp: true,
          capturedLength: captured,
          originalLength: original,
          data: b.subarray(at + 12, at + 12 + captured),
        });
        return;
      }
      default:
        if (NUMBERED_NON_PACKET_BLOCKS.has(type)) this.#number++;
    }
    this.#consumed = off + length;
  }

  #fileHeader(b: Buffer, at: number): void {
    const off = this.#consumed;
    const magic = b.readUInt32LE(at);
    this.#le = magic === PCAP_MAGIC_MICROSECONDS || magic === PCAP_MAGIC_NANOSECONDS;
    this.#nanosecond = magic === PCAP_MAGIC_NANOSECONDS || magic === PCAP_MAGIC_NANOSECONDS_SWAPPED;
    const major = this.#u16(b, at + 4);
    const minor = this.#u16(b, at + 6);
    // 2.3 and 2.4 share one layout; libpcap swaps the two lengths of older files on a guess.
    if (major !== PCAP_VERSION_MAJOR || (minor !== 3 && minor !== 4)) {
      throw this.#fail('CAPTURE_BAD_VERSION', 'version', off + 4, `pcap file version ${major}.${minor} is not read (only 2.3 and 2.4)`);
    }
    const snaplen = this.#u32(b, at + 16);
    // The top bits of the field carry FCS information (libpcap's LT_LINKTYPE keeps the low 16).
    const linktype = this.#u32(b, at + 20) & 0xffff;
    this.#checkLinktype(linktype, off + 20);
    this.#format = 'pcap';
    this.#interfaces.push(makeInterface(0, linktype, snaplen, 0, recordLimitFor(snaplen)));
  }

  #checkLinktype(linktype: number, offset: number): void {
    if (!this.#linktypes.has(linktype)) {
      const accepted = [...this.#linktypes].sort((x, y) => x - y).join(', ');
      throw this.#fail('CAPTURE_UNKNOWN_LINKTYPE', 'linktype', offset, `link type ${linktype} at offset ${offset} is not one this reader accepts (${accepted})`);
    }
  }

  #sectionHeader(b: Buffer, at: number): void {
    const off = this.#consumed;
    const major = this.#u16(b, at + 12);
    const minor = this.#u16(b, at + 14);
    // 1.2 was written by some early tools; Wireshark reads it as 1.0.
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      throw this.#fail('CAPTURE_BAD_VERSION', 'version', off + 12, `pcapng section version ${major}.${minor} at offset ${off + 12} is not read (only 1.0 and 1.2)`);
    }
    this.#format = 'pcapng';
    this.#section++;
    this.#sectionInterfaces = [];
  }

  #interfaceDescription(b: Buffer, at: number, length: number): void {
    const off = this.#consumed;
    const linktype = this.#u16(b, at + 8);
    this.#checkLinktype(linktype, off + 8);
    if (this.#interfaces.length >= MAX_INTERFACES) {
      throw this.#fail('CAPTURE_TOO_MANY_INTERFACES', 'block', off, `interface description block at offset ${off} describes interface number ${MAX_INTERFACES + 1}, more than the reader keeps`);
    }
    const snaplen = this.#u32(b, at + 12);
    const iface = makeInterface(this.#sectionInterfaces.length, linktype, snaplen, this.#section, recordLimitFor(snaplen === 0 ? CAPTURE_MAX_RECORD_LENGTH : snaplen));
    const end = at + length - 4;
    for (let p = at + 16; p + 4 <= end; ) {
      const code = this.#u16(b, p);
      const size = this.#u16(b, p + 2);
      if (code === 0) break; // opt_endofopt
      const value = p + 4;
      const optOff = off + (p - at);
      if (value + size > end) {
        throw this.#fail('CAPTURE_BAD_OPTION', 'option', optOff, `option ${code} at offset ${optOff} claims ${size} bytes, past the end of the interface description block at offset ${off}`);
      }
      if (code === OPT_IF_NAME) {
        iface.name = b.toString('utf8', value, value + size).replace(/\0+$/, '');
      } else if (code === OPT_IF_TSRESOL) {
        if (size !== 1) throw this.#fail('CAPTURE_BAD_OPTION', 'option', optOff, `if_tsresol at offset ${optOff} has ${size} bytes instead of 1`);
        const v = b[value]!;
        // Top bit set: a negative power of 2; otherwise of 10.
        setUnits(iface, v & 0x80 ? 2n ** BigInt(v & 0x7f) : 10n ** BigInt(v));
      } else if (code === OPT_IF_TSOFFSET) {
        if (size !== 8) throw this.#fail('CAPTURE_BAD_OPTION', 'option', optOff, `if_tsoffset at offset ${optOff} has ${size} bytes instead of 8`);
        iface.offsetNs = (this.#le ? b.readBigInt64LE(value) : b.readBigInt64BE(value)) * 1_000_000_000n;
      }
      p = value + pad4(size);
    }
    this.#sectionInterfaces.push(iface);
    this.#interfaces.push(iface);
  }
}

function makeInterface(id: number, linktype: number, snaplen: number, section: number, recordLimit: number): Interface {
  const iface: Interface = { id, linktype, snaplen, section, unitsPerSecond: 0n, nsPerUnit: 0n, nsPerUnitNumber: 0, offsetNs: 0n, recordLimit };
  setUnits(iface, 1_000_000n);
  return iface;
}

function setUnits(iface: Interface, unitsPerSecond: bigint): void {
  iface.unitsPerSecond = unitsPerSecond;
  iface.nsPerUnit = 1_000_000_000n % unitsPerSecond === 0n ? 1_000_000_000n / unitsPerSecond : 0n;
  iface.nsPerUnitNumber = Number(iface.nsPerUnit);
}

/** A pcapng 64-bit timestamp in ns, truncated as Wireshark truncates (2^-10 s units and the like). */
function timestampOf(iface: Interface, high: number, low: number): bigint {
  let ns: bigint;
  if (iface.nsPerUnit !== 0n && high < EXACT_HIGH_WORD) {
    const units = high * TWO_POW_32 + low;
    const product = units * iface.nsPerUnitNumber;
    ns = product <= Number.MAX_SAFE_INTEGER ? BigInt(product) : BigInt(units) * iface.nsPerUnit;
  } else {
    const units = (BigInt(high) << 32n) | BigInt(low);
    if (iface.nsPerUnit !== 0n) ns = units * iface.nsPerUnit;
    else ns = (units / iface.unitsPerSecond) * 1_000_000_000n + ((units % iface.unitsPerSecond) * 1_000_000_000n) / iface.unitsPerSecond;
  }
  return iface.offsetNs === 0n ? ns : ns + iface.offsetNs;
}
