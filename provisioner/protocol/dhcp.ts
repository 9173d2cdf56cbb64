// DHCPv4 messages on the wire: RFC 2131/2132, PXE options (RFC 4578), relay agent information
// (RFC 3046), user class (RFC 3004), long options (RFC 3396). Pure: bytes in, a DhcpMessage out,
// or a DecodeError naming the field and byte offset. No sockets, clock or logger here.
//
// Decoding is strict about structure (header size, magic cookie, every option length inside its
// region, fixed-size options of their size) and lossless about content: options this codec does
// not type are kept as raw bytes in `options.other`, so a decoded packet can be re-encoded
// without dropping anything. The decoded form is canonical, not a copy of the wire order:
//  - several instances of one option code are concatenated (RFC 3396), in the order options
//    field, then `file`, then `sname` when option 52 overloads them (RFC 2131 §4.1);
//  - option 52 itself is consumed: the overloaded header fields decode as empty strings;
//  - `options.other` is sorted by code.
// A missing end option is tolerated only when the last option ends exactly at the end of its
// region; bytes after an end option are padding and are not read.
//
// Encoding writes options in one deterministic order, whatever order the wire had: 53 (message
// type) first, 54 (server identifier) next, then ascending code, and 82 (relay agent
// information) last, where RFC 3046 §2.1 has relays append it. Values longer than 255 bytes are
// split into consecutive instances of the same code (RFC 3396). Everything goes into the options
// field (this encoder never overloads sname/file), followed by an end option and zero padding to
// the BOOTP minimum of 300 bytes. An invalid message (a bad address, an out-of-range number, an
// over-long sname) is a programming error and throws a RangeError.
import { DecodeError } from '../../lib/errors.ts';

export const DHCP_MESSAGE_TYPES = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type DhcpMessageType = keyof typeof DHCP_MESSAGE_TYPES;

const MESSAGE_TYPE_NAMES: ReadonlyMap<number, DhcpMessageType> = new Map(
  Object.entries(DHCP_MESSAGE_TYPES).map(([name, code]): [number, DhcpMessageType] => [code, name as DhcpMessageType]),
);

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** The one defined bit of `flags` (RFC 2131 §2, figure 2). */
export const DHCP_FLAG_BROADCAST = 0x8000;
/** 236-byte BOOTP header plus the 4-byte magic cookie. */
export const DHCP_HEADER_SIZE = 240;
/** RFC 951/1542: BOOTP relays and old clients drop anything shorter. */
export const DHCP_MIN_PACKET_SIZE = 300;
export const DHCP_MAGIC_COOKIE = 0x63825363;

/** An option this codec does not type, or a relay agent sub-option: code and value bytes. */
export interface DhcpRawOption {
  code: number;
  data: Buffer;
}

/** RFC 3004 (length-prefixed class list) or the plain string iPXE and some ROMs send. */
export type DhcpUserClass =
  | { format: 'rfc3004'; classes: string[] }
  | { format: 'plain'; value: string };

/** Option 82 (RFC 3046). Sub-options 1 and 2 are named; any others are kept in `other`, in wire order. */
export interface DhcpRelayAgentInfo {
  circuitId?: Buffer;
  remoteId?: Buffer;
  other: DhcpRawOption[];
}

/** Option 94 (RFC 4578 §2.2): network interface type (1 = UNDI) and its version. */
export interface DhcpClientNdi {
  type: number;
  major: number;
  minor: number;
}

/** Option 97 (RFC 4578 §2.3): type 0 followed by a 16-byte GUID, as sent; any length ≥ 1 is accepted. */
export interface DhcpClientUuid {
  type: number;
  id: Buffer;
}

/**
 * Options, typed where rackforge uses them. Strings are latin1, byte for byte (RFC 2132 strings
 * are ASCII; latin1 makes any byte sequence survive a round trip), including any trailing NUL a
 * client wrote.
 */
export interface DhcpOptions {
  /** 53 */
  messageType?: DhcpMessageType;
  /** 1 */
  subnetMask?: string;
  /** 3 */
  routers?: string[];
  /** 6 */
  dnsServers?: string[];
  /** 15 */
  domainName?: string;
  /** 28 */
  broadcastAddress?: string;
  /** 43: vendor-specific (PXE sub-options are the server's business). */
  vendorSpecific?: Buffer;
  /** 50 */
  requestedIp?: string;
  /** 51, seconds */
  leaseTime?: number;
  /** 54 */
  serverId?: string;
  /** 55 */
  parameterRequestList?: number[];
  /** 57 */
  maxMessageSize?: number;
  /** 58, seconds */
  renewalTime?: number;
  /** 59, seconds */
  rebindingTime?: number;
  /** 60, e.g. "PXEClient:Arch:00000:UNDI:002001" or "HTTPClient:Arch:00016:UNDI:003000" */
  vendorClass?: string;
  /** 61 */
  clientId?: Buffer;
  /** 66 */
  tftpServerName?: string;
  /** 67 */
  bootfileName?: string;
  /** 77 */
  userClass?: DhcpUserClass;
  /** 82 */
  relayAgentInfo?: DhcpRelayAgentInfo;
  /** 93: client system architectures (RFC 4578 §2.1), e.g. [0] BIOS, [7] x64 UEFI, [16] x64 UEFI HTTP. */
  clientArch?: number[];
  /** 94 */
  clientNdi?: DhcpClientNdi;
  /** 97 */
  clientUuid?: DhcpClientUuid;
  /** Every other option, sorted by code, one entry per code. Never 0, 52 or 255 or a typed code. */
  other: DhcpRawOption[];
}

export interface DhcpMessage {
  /** 1 BOOTREQUEST, 2 BOOTREPLY */
  op: number;
  /** 1 = Ethernet */
  htype: number;
  /** 0..16 */
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  /** Bit 0x8000 is the broadcast flag (DHCP_FLAG_BROADCAST); the rest MUST be zero but are kept. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** "aa:bb:cc:dd:ee:ff" when htype=1 and hlen=6, otherwise lower-case hex of hlen bytes. */
  chaddr: string;
  /** Up to the first NUL (latin1); empty when option 52 overloaded it. */
  sname: string;
  /** Up to the first NUL (latin1); empty when option 52 overloaded it. */
  file: string;
  options: DhcpOptions;
}

// ---------------------------------------------------------------------------------------------
// Option table

type Kind = 'ip' | 'ips' | 'u32' | 'u16' | 'string' | 'bytes' | 'bytelist' | 'special';

interface OptionSpec {
  code: number;
  key: Exclude<keyof DhcpOptions, 'other'>;
  kind: Kind;
  name: string;
}

const OPTION_SPECS: readonly OptionSpec[] = [
  { code: 1, key: 'subnetMask', kind: 'ip', name: 'subnet mask' },
  { code: 3, key: 'routers', kind: 'ips', name: 'router' },
  { code: 6, key: 'dnsServers', kind: 'ips', name: 'domain name server' },
  { code: 15, key: 'domainName', kind: 'string', name: 'domain name' },
  { code: 28, key: 'broadcastAddress', kind: 'ip', name: 'broadcast address' },
  { code: 43, key: 'vendorSpecific', kind: 'bytes', name: 'vendor-specific information' },
  { code: 50, key: 'requestedIp', kind: 'ip', name: 'requested IP address' },
  { code: 51, key: 'leaseTime', kind: 'u32', name: 'lease time' },
  { code: 53, key: 'messageType', kind: 'special', name: 'message type' },
  { code: 54, key: 'serverId', kind: 'ip', name: 'server identifier' },
  { code: 55, key: 'parameterRequestList', kind: 'bytelist', name: 'parameter request list' },
  { code: 57, key: 'maxMessageSize', kind: 'u16', name: 'maximum message size' },
  { code: 58, key: 'renewalTime', kind: 'u32', name: 'renewal time' },
  { code: 59, key: 'rebindingTime', kind: 'u32', name: 'rebinding time' },
  { code: 60, key: 'vendorClass', kind: 'string', name: 'vendor class identifier' },
  { code: 61, key: 'clientId', kind: 'bytes', name: 'client identifier' },
  { code: 66, key: 'tftpServerName', kind: 'string', name: 'TFTP server name' },
  { code: 67, key: 'bootfileName', kind: 'string', name: 'bootfile name' },
  { code: 77, key: 'userClass', kind: 'special', name: 'user class' },
  { code: 82, key: 'relayAgentInfo', kind: 'special', name: 'relay agent information' },
  { code: 93, key: 'clientArch', kind: 'special', name: 'client system architecture' },
  { code: 94, key: 'clientNdi', kind: 'special', name: 'client network device interface' },
  { code: 97, key: 'clientUuid', kind: 'special', name: 'client machine identifier' },
];

const SPEC_BY_CODE: ReadonlyMap<number, OptionSpec> = new Map(OPTION_SPECS.map((s) => [s.code, s]));

const OPT_PAD = 0;
const OPT_OVERLOAD = 52;
const OPT_MESSAGE_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_RELAY_AGENT = 82;
const OPT_END = 255;

/** Codes that may not appear in `options.other`. */
export function isTypedDhcpOption(code: number): boolean {
  return code === OPT_PAD || code === OPT_OVERLOAD || code === OPT_END || SPEC_BY_CODE.has(code);
}

// ---------------------------------------------------------------------------------------------
// Decoding

const HEADER_FIELDS: readonly (readonly [string, number, number])[] = [
  ['op', 0, 1], ['htype', 1, 1], ['hlen', 2, 1], ['hops', 3, 1], ['xid', 4, 4], ['secs', 8, 2],
  ['flags', 10, 2], ['ciaddr', 12, 4], ['yiaddr', 16, 4], ['siaddr', 20, 4], ['giaddr', 24, 4],
  ['chaddr', 28, 16], ['sname', 44, 64], ['file', 108, 128], ['magic', 236, 4],
];
const SNAME = { start: 44, size: 64 } as const;
const FILE = { start: 108, size: 128 } as const;

interface Collected {
  chunks: Buffer[];
  /** Offset of the first instance's code byte. */
  offset: number;
}

/** Decodes one DHCP datagram (the UDP payload). Throws DecodeError, nothing else. */
export function decodeDhcp(bytes: Uint8Array): DhcpMessage {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < DHCP_HEADER_SIZE) {
    for (const [field, start, size] of HEADER_FIELDS) {
      if (b.length < start + size) {
        throw new DecodeError('DHCP_TRUNCATED', field, Math.min(start, b.length), `a DHCP message is at least ${DHCP_HEADER_SIZE} bytes, got ${b.length}`);
      }
    }
  }
  const op = b[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DecodeError('DHCP_BAD_OP', 'op', 0, `op must be 1 (BOOTREQUEST) or 2 (BOOTREPLY), not ${op}`);
  const htype = b[1]!;
  const hlen = b[2]!;
  if (hlen > 16) throw new DecodeError('DHCP_BAD_HLEN', 'hlen', 2, `hlen ${hlen} exceeds the 16-byte chaddr field`);
  const magic = b.readUInt32BE(236);
  if (magic !== DHCP_MAGIC_COOKIE) throw new DecodeError('DHCP_BAD_MAGIC', 'magic', 236, `magic cookie is 0x${magic.toString(16).padStart(8, '0')}, not 0x63825363`);

  const collected = new Map<number, Collected>();
  const overload = scanRegion(b, 'options', DHCP_HEADER_SIZE, b.length, collected, true);
  let sname = headerString(b, SNAME.start, SNAME.size);
  let file = headerString(b, FILE.start, FILE.size);
  if (overload !== undefined) {
    // RFC 2131 §4.1: options field first, then file, then sname.
    if (overload & 1) {
      scanRegion(b, 'file', FILE.start, FILE.start + FILE.size, collected, false);
      file = '';
    }
    if (overload & 2) {
      scanRegion(b, 'sname', SNAME.start, SNAME.start + SNAME.size, collected, false);
      sname = '';
    }
  }

  const options = decodeOptions(collected);
  if (options.messageType === undefined) throw new DecodeError('DHCP_NO_MESSAGE_TYPE', 'option.53', DHCP_HEADER_SIZE, 'a DHCP message must carry option 53 (message type)');

  return {
    op,
    htype,
    hlen,
    hops: b[3]!,
    xid: b.readUInt32BE(4),
    secs: b.readUInt16BE(8),
    flags: b.readUInt16BE(10),
    ciaddr: ipAt(b, 12),
    yiaddr: ipAt(b, 16),
    siaddr: ipAt(b, 20),
    giaddr: ipAt(b, 24),
    chaddr: formatChaddr(htype, b.subarray(28, 28 + hlen)),
    sname,
    file,
    options,
  };
}

/**
 * Reads the options of one region into `collected`. Returns the overload value (1..3) when the
 * region is the options field and carries option 52.
 */
function scanRegion(b: Buffer, region: string, start: number, end: number, collected: Map<number, Collected>, main: boolean): number | undefined {
  let overload: number | undefined;
  let i = start;
  while (i < end) {
    const code = b[i]!;
    if (code === OPT_END) return overload;
    if (code === OPT_PAD) {
      i += 1;
      continue;
    }
    if (i + 1 >= end) throw new DecodeError('DHCP_BAD_OPTION_LENGTH', `${region}.option.${code}`, i, `option ${code} has no length byte before the end of ${region}`);
    const len = b[i + 1]!;
    if (i + 2 + len > end) throw new DecodeError('DHCP_BAD_OPTION_LENGTH', `${region}.option.${code}`, i, `option ${code} claims ${len} bytes, only ${end - i - 2} remain in ${region}`);
    const data = b.subarray(i + 2, i + 2 + len);
    if (code === OPT_OVERLOAD) {
      if (!main) throw new DecodeError('DHCP_BAD_OVERLOAD', `${region}.option.52`, i, `option 52 may only appear in the options field, not in ${region}`);
      if (overload !== undefined) throw new DecodeError('DHCP_BAD_OVERLOAD', 'option.52', i, 'option 52 appears more than once');
      if (len !== 1) throw new DecodeError('DHCP_BAD_OPTION_LENGTH', 'option.52', i, `option 52 must be 1 byte, not ${len}`);
      const v = data.readUInt8(0);
      if (v < 1 || v > 3) throw new DecodeError('DHCP_BAD_OVERLOAD', 'option.52', i + 2, `option 52 value must be 1, 2 or 3, not ${v}`);
      overload = v;
    } else {
      const seen = collected.get(code);
      if (seen) seen.chunks.push(data);
      else collected.set(code, { chunks: [data], offset: i });
    }
    i += 2 + len;
  }
  // No end option: tolerated because the last option ended exactly at the region's end.
  return overload;
}

function decodeOptions(collected: Map<number, Collected>): DhcpOptions {
  const options: DhcpOptions = { other: [] };
  const codes = [...collected.keys()].sort((x, y) => x - y);
  for (const code of codes) {
    const c = collected.get(code);
    if (!c) continue;
    // A single instance is a view of the packet: typed values copy what they keep, raw ones
    // are copied here, so a decoded message never aliases a buffer its caller may reuse.
    const data = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks);
    const spec = SPEC_BY_CODE.get(code);
    if (!spec) {
      options.other.push({ code, data: c.chunks.length === 1 ? Buffer.from(data) : data });
      continue;
    }
    decodeTyped(options, spec, data, c.offset);
  }
  return options;
}

function badLength(spec: OptionSpec, data: Buffer, offset: number, expected: string): never {
  throw new DecodeError('DHCP_BAD_OPTION_LENGTH', `option.${spec.code}`, offset, `option ${spec.code} (${spec.name}) must be ${expected}, got ${data.length} bytes`);
}

function decodeTyped(o: DhcpOptions, spec: OptionSpec, data: Buffer, offset: number): void {
  switch (spec.kind) {
    case 'ip':
      if (data.length !== 4) badLength(spec, data, offset, '4 bytes');
      set(o, spec.key, ipAt(data, 0));
      return;
    case 'ips': {
      if (data.length === 0 || data.length % 4 !== 0) badLength(spec, data, offset, 'a non-zero multiple of 4 bytes');
      const ips: string[] = [];
      for (let i = 0; i < data.length; i += 4) ips.push(ipAt(data, i));
      set(o, spec.key, ips);
      return;
    }
    case 'u32':
      if (data.length !== 4) badLength(spec, data, offset, '4 bytes');
      set(o, spec.key, data.readUInt32BE(0));
      return;
    case 'u16':
      if (data.length !== 2) badLength(spec, data, offset, '2 bytes');
      set(o, spec.key, data.readUInt16BE(0));
      return;
    case 'string':
      if (data.length === 0) badLength(spec, data, offset, 'at least 1 byte');
      set(o, spec.key, data.toString('latin1'));
      return;
    case 'bytes':
      if (data.length < (spec.code === 61 ? 2 : 1)) badLength(spec, data, offset, spec.code === 61 ? 'at least 2 bytes' : 'at least 1 byte');
      set(o, spec.key, Buffer.from(data));
      return;
    case 'bytelist':
      if (data.length === 0) badLength(spec, data, offset, 'at least 1 byte');
      set(o, spec.key, Array.from(data));
      return;
    case 'special':
      break;
  }
  switch (spec.code) {
    case 53: {
      if (data.length !== 1) badLength(spec, data, offset, '1 byte');
      const v = data.readUInt8(0);
      const name = MESSAGE_TYPE_NAMES.get(v);
      if (name === undefined) throw new DecodeError('DHCP_BAD_MESSAGE_TYPE', `option.${spec.code}`, offset, `message type ${v} is not one of 1..8`);
      o.messageType = name;
      return;
    }
    case 77:
      if (data.length === 0) badLength(spec, data, offset, 'at least 1 byte');
      o.userClass = decodeUserClass(data);
      return;
    case 82:
      if (data.length === 0) badLength(spec, data, offset, 'at least 1 byte');
      o.relayAgentInfo = decodeRelayAgentInfo(data, offset);
      return;
    case 93: {
      if (data.length === 0 || data.length % 2 !== 0) badLength(spec, data, offset, 'a non-zero multiple of 2 bytes');
      const arch: number[] = [];
      for (let i = 0; i < data.length; i += 2) arch.push(data.readUInt16BE(i));
      o.clientArch = arch;
      return;
    }
    case 94:
      if (data.length !== 3) badLength(spec, data, offset, '3 bytes');
      o.clientNdi = { type: data.readUInt8(0), major: data.readUInt8(1), minor: data.readUInt8(2) };
      return;
    case 97:
      if (data.length === 0) badLength(spec, data, offset, 'at least 1 byte');
      o.clientUuid = { type: data.readUInt8(0), id: Buffer.from(data.subarray(1)) };
      return;
  }
}

/** The typed field for a table-driven kind; the table pairs each key with its kind. */
function set(o: DhcpOptions, key: OptionSpec['key'], value: unknown): void {
  (o as unknown as Record<string, unknown>)[key] = value;
}

/** RFC 3004 when the bytes parse exactly as length-prefixed classes; otherwise iPXE's plain form. */
function decodeUserClass(data: Buffer): DhcpUserClass {
  const classes: string[] = [];
  let i = 0;
  while (i < data.length) {
    const len = data.readUInt8(i);
    if (len === 0 || i + 1 + len > data.length) return { format: 'plain', value: data.toString('latin1') };
    classes.push(data.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return { format: 'rfc3004', classes };
}

function decodeRelayAgentInfo(data: Buffer, offset: number): DhcpRelayAgentInfo {
  const info: DhcpRelayAgentInfo = { other: [] };
  let i = 0;
  while (i < data.length) {
    const code = data.readUInt8(i);
    if (i + 1 >= data.length) throw new DecodeError('DHCP_BAD_OPTION_LENGTH', `option.82.${code}`, offset, `relay agent sub-option ${code} has no length byte`);
    const len = data.readUInt8(i + 1);
    if (i + 2 + len > data.length) throw new DecodeError('DHCP_BAD_OPTION_LENGTH', `option.82.${code}`, offset, `relay agent sub-option ${code} claims ${len} bytes, only ${data.length - i - 2} remain`);
    const value = Buffer.from(data.subarray(i + 2, i + 2 + len));
    if ((code === 1 && info.circuitId) || (code === 2 && info.remoteId)) {
      throw new DecodeError('DHCP_BAD_OPTION', `option.82.${code}`, offset, `relay agent sub-option ${code} appears more than once`);
    }
    if (code === 1) info.circuitId = value;
    else if (code === 2) info.remoteId = value;
    else info.other.push({ code, data: value });
    i += 2 + len;
  }
  return info;
}

function headerString(b: Buffer, start: number, size: number): string {
  if (b[start] === 0) return '';
  const field = b.subarray(start, start + size);
  const nul = field.indexOf(0);
  return field.toString('latin1', 0, nul === -1 ? size : nul);
}

function ipAt(b: Buffer, at: number): string {
  return `${b[at]!}.${b[at + 1]!}.${b[at + 2]!}.${b[at + 3]!}`;
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function formatChaddr(htype: number, bytes: Buffer): string {
  if (htype === 1 && bytes.length === 6) {
    return `${HEX_BYTE[bytes[0]!]!}:${HEX_BYTE[bytes[1]!]!}:${HEX_BYTE[bytes[2]!]!}:${HEX_BYTE[bytes[3]!]!}:${HEX_BYTE[bytes[4]!]!}:${HEX_BYTE[bytes[5]!]!}`;
  }
  return bytes.toString('hex');
}

// ---------------------------------------------------------------------------------------------
// Helpers for the layers above

/** The user classes a client sent, whichever format it used ([] without option 77). */
export function userClasses(options: DhcpOptions): string[] {
  const uc = options.userClass;
  if (!uc) return [];
  return uc.format === 'rfc3004' ? uc.classes : [uc.value];
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes a message; see the header comment for the option order. Throws RangeError on an invalid
 * message. A reply is written once, straight into a scratch buffer (no per-option buffers: a boot
 * storm encodes thousands of replies a second), and copied out at its final size.
 */
export function encodeDhcp(msg: DhcpMessage): Buffer {
  const w = new OptionWriter();
  const b = w.buf;
  b.fill(0, 0, DHCP_HEADER_SIZE);
  b[0] = checkInt('op', msg.op, 255);
  b[1] = checkInt('htype', msg.htype, 255);
  b[2] = checkInt('hlen', msg.hlen, 16);
  b[3] = checkInt('hops', msg.hops, 255);
  b.writeUInt32BE(checkInt('xid', msg.xid, 0xffffffff), 4);
  b.writeUInt16BE(checkInt('secs', msg.secs, 0xffff), 8);
  b.writeUInt16BE(checkInt('flags', msg.flags, 0xffff), 10);
  writeIp(b, 12, 'ciaddr', msg.ciaddr);
  writeIp(b, 16, 'yiaddr', msg.yiaddr);
  writeIp(b, 20, 'siaddr', msg.siaddr);
  writeIp(b, 24, 'giaddr', msg.giaddr);
  writeChaddr(b, 28, msg.chaddr, msg.hlen);
  writeHeaderString(b, SNAME.start, SNAME.size, 'sname', msg.sname);
  writeHeaderString(b, FILE.start, FILE.size, 'file', msg.file);
  b.writeUInt32BE(DHCP_MAGIC_COOKIE, 236);
  w.pos = DHCP_HEADER_SIZE;

  const o = msg.options;
  const other = sortedOther(o.other);
  if (o.messageType !== undefined) w.typed(SPEC_BY_CODE.get(OPT_MESSAGE_TYPE)!, o.messageType);
  if (o.serverId !== undefined) w.typed(SPEC_BY_CODE.get(OPT_SERVER_ID)!, o.serverId);
  // The typed options (OPTION_SPECS is in code order) merged with the raw ones by code.
  let k = 0;
  for (const spec of OPTION_SPECS) {
    if (spec.code === OPT_MESSAGE_TYPE || spec.code === OPT_SERVER_ID || spec.code === OPT_RELAY_AGENT) continue;
    const value = o[spec.key];
    if (value === undefined) continue;
    for (; k < other.length && other[k]!.code < spec.code; k++) w.raw(other[k]!.code, other[k]!.data);
    w.typed(spec, value);
  }
  for (; k < other.length; k++) w.raw(other[k]!.code, other[k]!.data);
  if (o.relayAgentInfo !== undefined) w.typed(SPEC_BY_CODE.get(OPT_RELAY_AGENT)!, o.relayAgentInfo);
  w.ensure(1);
  w.buf[w.pos++] = OPT_END;

  const out = Buffer.alloc(Math.max(w.pos, DHCP_MIN_PACKET_SIZE));
  w.buf.copy(out, 0, 0, w.pos);
  return out;
}

/** The raw options checked (a byte code, not typed, once each) and in code order. */
function sortedOther(other: readonly DhcpRawOption[]): readonly DhcpRawOption[] {
  const seen = new Set<number>();
  let sorted = true;
  for (let i = 0; i < other.length; i++) {
    const code = other[i]!.code;
    checkInt('options.other code', code, 255);
    if (isTypedDhcpOption(code)) throw new RangeError(`option ${code} must be given by its typed field, not in options.other`);
    if (seen.has(code)) throw new RangeError(`option ${code} appears twice in options.other`);
    seen.add(code);
    if (i > 0 && other[i - 1]!.code > code) sorted = false;
  }
  return sorted ? other : [...other].sort((x, y) => x.code - y.code);
}

/** Scratch space shared by every encode (encoding is synchronous); grows for very long options. */
let scratch = Buffer.allocUnsafe(4096);
let valueScratch = Buffer.allocUnsafe(1024);

/**
 * Writes options into the scratch buffer. A value is first written to the value scratch, then
 * emitted as one instance or, past 255 bytes, as consecutive instances of its code (RFC 3396);
 * an empty value is one zero-length instance.
 */
class OptionWriter {
  pos = 0;
  /** Length of the value being built in `val`. */
  len = 0;
  get buf(): Buffer { return scratch; }
  get val(): Buffer { return valueScratch; }

  ensure(n: number): void {
    if (this.pos + n <= scratch.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, this.pos + n));
    scratch.copy(bigger, 0, 0, this.pos);
    scratch = bigger;
  }

  /** Room for n more value bytes; returns where they go. */
  reserve(n: number): number {
    if (this.len + n > valueScratch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(valueScratch.length * 2, this.len + n));
      valueScratch.copy(bigger, 0, 0, this.len);
      valueScratch = bigger;
    }
    const at = this.len;
    this.len += n;
    return at;
  }

  bytes(data: Uint8Array): void {
    const at = this.reserve(data.length);
    valueScratch.set(data, at);
  }

  emit(code: number): void {
    const total = this.len;
    this.ensure(total + 2 * Math.max(1, Math.ceil(total / 255)));
    let at = 0;
    do {
      const n = Math.min(255, total - at);
      scratch[this.pos++] = code;
      scratch[this.pos++] = n;
      valueScratch.copy(scratch, this.pos, at, at + n);
      this.pos += n;
      at += 255;
    } while (at < total);
    this.len = 0;
  }

  raw(code: number, data: Uint8Array): void {
    this.bytes(data);
    this.emit(code);
  }

  typed(spec: OptionSpec, value: unknown): void {
    writeTyped(this, spec, value);
    this.emit(spec.code);
  }
}

function writeTyped(w: OptionWriter, spec: OptionSpec, value: unknown): void {
  const what = `option ${spec.code} (${spec.name})`;
  switch (spec.kind) {
    case 'ip': {
      const at = w.reserve(4);
      writeIp(w.val, at, what, value as string);
      return;
    }
    case 'ips': {
      const ips = value as string[];
      if (ips.length === 0) throw new RangeError(`${what} needs at least one address`);
      for (const ip of ips) {
        const at = w.reserve(4);
        writeIp(w.val, at, what, ip);
      }
      return;
    }
    case 'u32': {
      const at = w.reserve(4);
      w.val.writeUInt32BE(checkInt(what, value as number, 0xffffffff), at);
      return;
    }
    case 'u16': {
      const at = w.reserve(2);
      w.val.writeUInt16BE(checkInt(what, value as number, 0xffff), at);
      return;
    }
    case 'string':
      writeLatin1(w, what, value as string, 1);
      return;
    case 'bytes': {
      const data = value as Buffer;
      const min = spec.code === 61 ? 2 : 1;
      if (data.length < min) throw new RangeError(`${what} must be at least ${min} byte(s)`);
      w.bytes(data);
      return;
    }
    case 'bytelist': {
      const list = value as number[];
      if (list.length === 0) throw new RangeError(`${what} must be at least 1 byte(s)`);
      const at = w.reserve(list.length);
      for (let i = 0; i < list.length; i++) w.val[at + i] = checkInt(what, list[i]!, 255);
      return;
    }
    case 'special':
      break;
  }
  switch (spec.code) {
    case 53: {
      const code = DHCP_MESSAGE_TYPES[value as DhcpMessageType];
      if (code === undefined) throw new RangeError(`${what}: unknown message type '${String(value)}'`);
      const at = w.reserve(1);
      w.val[at] = code;
      return;
    }
    case 77: {
      const uc = value as DhcpUserClass;
      if (uc.format === 'plain') {
        writeLatin1(w, what, uc.value, 1);
        return;
      }
      if (uc.classes.length === 0) throw new RangeError(`${what} needs at least one class`);
      for (const c of uc.classes) {
        const lenAt = w.reserve(1);
        const n = writeLatin1(w, what, c, 0);
        if (n === 0 || n > 255) throw new RangeError(`${what}: each class must be 1..255 bytes`);
        w.val[lenAt] = n;
      }
      return;
    }
    case 82: {
      const info = value as DhcpRelayAgentInfo;
      const sub = (code: number, data: Buffer): void => {
        if (data.length > 255) throw new RangeError(`${what}: sub-option ${code} is longer than 255 bytes`);
        const at = w.reserve(2);
        w.val[at] = code;
        w.val[at + 1] = data.length;
        w.bytes(data);
      };
      const start = w.len;
      if (info.circuitId) sub(1, info.circuitId);
      if (info.remoteId) sub(2, info.remoteId);
      for (const s of info.other) {
        if (s.code === 1 || s.code === 2) throw new RangeError(`${what}: sub-option ${s.code} must be given as circuitId/remoteId`);
        sub(checkInt(`${what} sub-option code`, s.code, 255), s.data);
      }
      if (w.len === start) throw new RangeError(`${what} needs at least one sub-option`);
      return;
    }
    case 93: {
      const arch = value as number[];
      if (arch.length === 0) throw new RangeError(`${what} needs at least one architecture`);
      for (const a of arch) {
        const at = w.reserve(2);
        w.val.writeUInt16BE(checkInt(what, a, 0xffff), at);
      }
      return;
    }
    case 94: {
      const ndi = value as DhcpClientNdi;
      const at = w.reserve(3);
      w.val[at] = checkInt(what, ndi.type, 255);
      w.val[at + 1] = checkInt(what, ndi.major, 255);
      w.val[at + 2] = checkInt(what, ndi.minor, 255);
      return;
    }
    case 97: {
      const uuid = value as DhcpClientUuid;
      const at = w.reserve(1);
      w.val[at] = checkInt(what, uuid.type, 255);
      w.bytes(uuid.id);
      return;
    }
  }
  throw new RangeError(`${what} has no encoder`);
}

/** Appends s as latin1 to the value being built; returns its byte length. */
function writeLatin1(w: OptionWriter, what: string, s: string, min: number): number {
  checkLatin1(what, s);
  if (s.length < min) throw new RangeError(`${what} must be at least ${min} byte(s)`);
  const at = w.reserve(s.length);
  w.val.write(s, at, s.length, 'latin1');
  return s.length;
}

function checkInt(what: string, n: number, max: number): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${what} must be an integer in 0..${max}, not ${n}`);
  return n;
}

function checkLatin1(what: string, s: string): void {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) throw new RangeError(`${what} holds characters outside latin1`);
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** Every reply carries four header addresses and several option addresses: parse in place, no arrays. */
function writeIp(b: Buffer, at: number, what: string, ip: string): void {
  if (!IPV4.test(ip)) throw new RangeError(`${what}: '${ip}' is not a dotted IPv4 address`);
  let octet = 0;
  let k = at;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) { b[k++] = octet; octet = 0; } else octet = octet * 10 + (c - 48);
  }
  b[k] = octet;
}

/** The value of a hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** chaddr as hex digits, ':' or '-' anywhere between them, exactly hlen bytes of them. */
function writeChaddr(b: Buffer, at: number, chaddr: string, hlen: number): void {
  let digits = 0;
  let hi = 0;
  for (let i = 0; i < chaddr.length; i++) {
    const c = chaddr.charCodeAt(i);
    if (c === 58 || c === 45) continue;
    const v = hexDigit(c);
    if (v < 0 || digits >= hlen * 2) throw new RangeError(`chaddr '${chaddr}' does not hold hlen=${hlen} bytes`);
    if (digits % 2 === 0) hi = v;
    else b[at + (digits >> 1)] = (hi << 4) | v;
    digits++;
  }
  if (digits !== hlen * 2) throw new RangeError(`chaddr '${chaddr}' does not hold hlen=${hlen} bytes`);
}

function writeHeaderString(b: Buffer, at: number, size: number, what: string, s: string): void {
  checkLatin1(what, s);
  if (s.length > size) throw new RangeError(`${what} is ${s.length} bytes, the field holds ${size}`);
  if (s.includes('\0')) throw new RangeError(`${what} may not contain NUL`);
  b.write(s, at, s.length, 'latin1');
}
