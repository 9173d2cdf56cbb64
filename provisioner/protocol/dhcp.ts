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
  for (const [field, start, size] of HEADER_FIELDS) {
    if (b.length < start + size) {
      throw new DecodeError('DHCP_TRUNCATED', field, Math.min(start, b.length), `a DHCP message is at least ${DHCP_HEADER_SIZE} bytes, got ${b.length}`);
    }
  }
  const op = b.readUInt8(0);
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DecodeError('DHCP_BAD_OP', 'op', 0, `op must be 1 (BOOTREQUEST) or 2 (BOOTREPLY), not ${op}`);
  const htype = b.readUInt8(1);
  const hlen = b.readUInt8(2);
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
    hops: b.readUInt8(3),
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
    const code = b.readUInt8(i);
    if (code === OPT_END) return overload;
    if (code === OPT_PAD) {
      i += 1;
      continue;
    }
    if (i + 1 >= end) throw new DecodeError('DHCP_BAD_OPTION_LENGTH', `${region}.option.${code}`, i, `option ${code} has no length byte before the end of ${region}`);
    const len = b.readUInt8(i + 1);
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
    const data = Buffer.concat(c.chunks);
    const spec = SPEC_BY_CODE.get(code);
    if (!spec) {
      options.other.push({ code, data });
      continue;
    }
    decodeTyped(options, spec, data, c.offset);
  }
  return options;
}

function decodeTyped(o: DhcpOptions, spec: OptionSpec, data: Buffer, offset: number): void {
  const field = `option.${spec.code}`;
  const badLength = (expected: string): never => {
    throw new DecodeError('DHCP_BAD_OPTION_LENGTH', field, offset, `option ${spec.code} (${spec.name}) must be ${expected}, got ${data.length} bytes`);
  };
  switch (spec.kind) {
    case 'ip':
      if (data.length !== 4) badLength('4 bytes');
      set(o, spec.key, ipAt(data, 0));
      return;
    case 'ips': {
      if (data.length === 0 || data.length % 4 !== 0) badLength('a non-zero multiple of 4 bytes');
      const ips: string[] = [];
      for (let i = 0; i < data.length; i += 4) ips.push(ipAt(data, i));
      set(o, spec.key, ips);
      return;
    }
    case 'u32':
      if (data.length !== 4) badLength('4 bytes');
      set(o, spec.key, data.readUInt32BE(0));
      return;
    case 'u16':
      if (data.length !== 2) badLength('2 bytes');
      set(o, spec.key, data.readUInt16BE(0));
      return;
    case 'string':
      if (data.length === 0) badLength('at least 1 byte');
      set(o, spec.key, data.toString('latin1'));
      return;
    case 'bytes':
      if (data.length < (spec.code === 61 ? 2 : 1)) badLength(spec.code === 61 ? 'at least 2 bytes' : 'at least 1 byte');
      set(o, spec.key, Buffer.from(data));
      return;
    case 'bytelist':
      if (data.length === 0) badLength('at least 1 byte');
      set(o, spec.key, [...data]);
      return;
    case 'special':
      break;
  }
  switch (spec.code) {
    case 53: {
      if (data.length !== 1) badLength('1 byte');
      const v = data.readUInt8(0);
      const name = MESSAGE_TYPE_NAMES.get(v);
      if (name === undefined) throw new DecodeError('DHCP_BAD_MESSAGE_TYPE', field, offset, `message type ${v} is not one of 1..8`);
      o.messageType = name;
      return;
    }
    case 77:
      if (data.length === 0) badLength('at least 1 byte');
      o.userClass = decodeUserClass(data);
      return;
    case 82:
      if (data.length === 0) badLength('at least 1 byte');
      o.relayAgentInfo = decodeRelayAgentInfo(data, offset);
      return;
    case 93: {
      if (data.length === 0 || data.length % 2 !== 0) badLength('a non-zero multiple of 2 bytes');
      const arch: number[] = [];
      for (let i = 0; i < data.length; i += 2) arch.push(data.readUInt16BE(i));
      o.clientArch = arch;
      return;
    }
    case 94:
      if (data.length !== 3) badLength('3 bytes');
      o.clientNdi = { type: data.readUInt8(0), major: data.readUInt8(1), minor: data.readUInt8(2) };
      return;
    case 97:
      if (data.length === 0) badLength('at least 1 byte');
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
  const field = b.subarray(start, start + size);
  const nul = field.indexOf(0);
  return field.toString('latin1', 0, nul === -1 ? size : nul);
}

function ipAt(b: Buffer, at: number): string {
  return `${b.readUInt8(at)}.${b.readUInt8(at + 1)}.${b.readUInt8(at + 2)}.${b.readUInt8(at + 3)}`;
}

function formatChaddr(htype: number, bytes: Buffer): string {
  const hex = bytes.toString('hex');
  if (htype === 1 && bytes.length === 6) return hex.replace(/(..)(?!$)/g, '$1:');
  return hex;
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

/** Encodes a message; see the header comment for the option order. Throws RangeError on an invalid message. */
export function encodeDhcp(msg: DhcpMessage): Buffer {
  const chunks: Buffer[] = [];
  const header = Buffer.alloc(DHCP_HEADER_SIZE);
  header.writeUInt8(checkInt('op', msg.op, 255), 0);
  header.writeUInt8(checkInt('htype', msg.htype, 255), 1);
  header.writeUInt8(checkInt('hlen', msg.hlen, 16), 2);
  header.writeUInt8(checkInt('hops', msg.hops, 255), 3);
  header.writeUInt32BE(checkInt('xid', msg.xid, 0xffffffff), 4);
  header.writeUInt16BE(checkInt('secs', msg.secs, 0xffff), 8);
  header.writeUInt16BE(checkInt('flags', msg.flags, 0xffff), 10);
  writeIp(header, 12, 'ciaddr', msg.ciaddr);
  writeIp(header, 16, 'yiaddr', msg.yiaddr);
  writeIp(header, 20, 'siaddr', msg.siaddr);
  writeIp(header, 24, 'giaddr', msg.giaddr);
  const hw = Buffer.from(msg.chaddr.replace(/[:-]/g, ''), 'hex');
  if (!/^[0-9a-fA-F:-]*$/.test(msg.chaddr) || hw.length !== msg.hlen || hw.length * 2 !== msg.chaddr.replace(/[:-]/g, '').length) {
    throw new RangeError(`chaddr '${msg.chaddr}' does not hold hlen=${msg.hlen} bytes`);
  }
  hw.copy(header, 28);
  writeHeaderString(header, SNAME.start, SNAME.size, 'sname', msg.sname);
  writeHeaderString(header, FILE.start, FILE.size, 'file', msg.file);
  header.writeUInt32BE(DHCP_MAGIC_COOKIE, 236);
  chunks.push(header);

  for (const { code, data } of encodeOptionValues(msg.options)) {
    // RFC 3396: a value longer than 255 bytes becomes consecutive instances of the same code.
    // An empty value is one zero-length instance.
    let at = 0;
    do {
      const part = data.subarray(at, at + 255);
      chunks.push(Buffer.from([code, part.length]), part);
      at += 255;
    } while (at < data.length);
  }
  chunks.push(Buffer.from([OPT_END]));
  const body = Buffer.concat(chunks);
  if (body.length >= DHCP_MIN_PACKET_SIZE) return body;
  return Buffer.concat([body, Buffer.alloc(DHCP_MIN_PACKET_SIZE - body.length)]);
}

function encodeOptionValues(o: DhcpOptions): DhcpRawOption[] {
  const out: DhcpRawOption[] = [];
  for (const spec of OPTION_SPECS) {
    const value = o[spec.key];
    if (value === undefined) continue;
    out.push({ code: spec.code, data: encodeTyped(spec, value) });
  }
  const seen = new Set<number>();
  for (const raw of o.other) {
    checkInt('options.other code', raw.code, 255);
    if (isTypedDhcpOption(raw.code)) throw new RangeError(`option ${raw.code} must be given by its typed field, not in options.other`);
    if (seen.has(raw.code)) throw new RangeError(`option ${raw.code} appears twice in options.other`);
    seen.add(raw.code);
    out.push({ code: raw.code, data: Buffer.from(raw.data) });
  }
  const rank = (code: number): number => (code === OPT_MESSAGE_TYPE ? -2 : code === OPT_SERVER_ID ? -1 : code === OPT_RELAY_AGENT ? 256 : code);
  return out.sort((x, y) => rank(x.code) - rank(y.code));
}

function encodeTyped(spec: OptionSpec, value: unknown): Buffer {
  const what = `option ${spec.code} (${spec.name})`;
  switch (spec.kind) {
    case 'ip':
      return ipBytes(what, value as string);
    case 'ips': {
      const ips = value as string[];
      if (ips.length === 0) throw new RangeError(`${what} needs at least one address`);
      return Buffer.concat(ips.map((ip) => ipBytes(what, ip)));
    }
    case 'u32': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(checkInt(what, value as number, 0xffffffff));
      return b;
    }
    case 'u16': {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(checkInt(what, value as number, 0xffff));
      return b;
    }
    case 'string':
      return nonEmpty(what, latin1(what, value as string));
    case 'bytes':
      return nonEmpty(what, Buffer.from(value as Buffer), spec.code === 61 ? 2 : 1);
    case 'bytelist':
      return nonEmpty(what, Buffer.from((value as number[]).map((n) => checkInt(what, n, 255))));
    case 'special':
      break;
  }
  switch (spec.code) {
    case 53: {
      const code = DHCP_MESSAGE_TYPES[value as DhcpMessageType];
      if (code === undefined) throw new RangeError(`${what}: unknown message type '${String(value)}'`);
      return Buffer.from([code]);
    }
    case 77: {
      const uc = value as DhcpUserClass;
      if (uc.format === 'plain') return nonEmpty(what, latin1(what, uc.value));
      if (uc.classes.length === 0) throw new RangeError(`${what} needs at least one class`);
      return Buffer.concat(uc.classes.map((c) => {
        const b = latin1(what, c);
        if (b.length === 0 || b.length > 255) throw new RangeError(`${what}: each class must be 1..255 bytes`);
        return Buffer.concat([Buffer.from([b.length]), b]);
      }));
    }
    case 82: {
      const info = value as DhcpRelayAgentInfo;
      const subs: DhcpRawOption[] = [];
      if (info.circuitId) subs.push({ code: 1, data: info.circuitId });
      if (info.remoteId) subs.push({ code: 2, data: info.remoteId });
      for (const s of info.other) {
        if (s.code === 1 || s.code === 2) throw new RangeError(`${what}: sub-option ${s.code} must be given as circuitId/remoteId`);
        subs.push({ code: checkInt(`${what} sub-option code`, s.code, 255), data: s.data });
      }
      if (subs.length === 0) throw new RangeError(`${what} needs at least one sub-option`);
      return Buffer.concat(subs.map((s) => {
        if (s.data.length > 255) throw new RangeError(`${what}: sub-option ${s.code} is longer than 255 bytes`);
        return Buffer.concat([Buffer.from([s.code, s.data.length]), s.data]);
      }));
    }
    case 93: {
      const arch = value as number[];
      if (arch.length === 0) throw new RangeError(`${what} needs at least one architecture`);
      const b = Buffer.alloc(arch.length * 2);
      arch.forEach((a, i) => b.writeUInt16BE(checkInt(what, a, 0xffff), i * 2));
      return b;
    }
    case 94: {
      const ndi = value as DhcpClientNdi;
      return Buffer.from([checkInt(what, ndi.type, 255), checkInt(what, ndi.major, 255), checkInt(what, ndi.minor, 255)]);
    }
    case 97: {
      const uuid = value as DhcpClientUuid;
      return Buffer.concat([Buffer.from([checkInt(what, uuid.type, 255)]), uuid.id]);
    }
  }
  throw new RangeError(`${what} has no encoder`);
}

function checkInt(what: string, n: number, max: number): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${what} must be an integer in 0..${max}, not ${n}`);
  return n;
}

function nonEmpty(what: string, b: Buffer, min = 1): Buffer {
  if (b.length < min) throw new RangeError(`${what} must be at least ${min} byte(s)`);
  return b;
}

function latin1(what: string, s: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (!/^[\u0000-\u00ff]*$/.test(s)) throw new RangeError(`${what} holds characters outside latin1`);
  return Buffer.from(s, 'latin1');
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

function ipBytes(what: string, ip: string): Buffer {
  const b = Buffer.allocUnsafe(4);
  writeIp(b, 0, what, ip);
  return b;
}

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

function writeHeaderString(b: Buffer, at: number, size: number, what: string, s: string): void {
  const bytes = latin1(what, s);
  if (bytes.length > size) throw new RangeError(`${what} is ${bytes.length} bytes, the field holds ${size}`);
  if (bytes.includes(0)) throw new RangeError(`${what} may not contain NUL`);
  bytes.copy(b, at);
}
