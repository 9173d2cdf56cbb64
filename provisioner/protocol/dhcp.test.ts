import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { assertDecodeError } from './decode-testing.ts';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DHCP_FLAG_BROADCAST,
  DHCP_MESSAGE_TYPES,
  DHCP_MIN_PACKET_SIZE,
  decodeDhcp,
  encodeDhcp,
  isTypedDhcpOption,
  userClasses,
  type DhcpMessage,
  type DhcpMessageType,
  type DhcpOptions,
} from './dhcp.ts';

// ---------------------------------------------------------------------------------------------
// Byte builders for hand-made packets

function ip(text: string): number[] {
  return text.split('.').map(Number);
}

function ascii(text: string): number[] {
  return [...Buffer.from(text, 'latin1')];
}

function opt(code: number, data: number[]): number[] {
  return [code, data.length, ...data];
}

interface Header {
  op?: number;
  htype?: number;
  hlen?: number;
  hops?: number;
  xid: number;
  secs?: number;
  flags?: number;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  chaddr: number[];
  sname?: number[];
  file?: number[];
}

/** A BOOTP header + magic cookie + the given option bytes, zero-padded to `size`. */
function packet(h: Header, options: number[], size = 0): Buffer {
  const b = Buffer.alloc(Math.max(240 + options.length, size));
  b.writeUInt8(h.op ?? 1, 0);
  b.writeUInt8(h.htype ?? 1, 1);
  b.writeUInt8(h.hlen ?? h.chaddr.length, 2);
  b.writeUInt8(h.hops ?? 0, 3);
  b.writeUInt32BE(h.xid, 4);
  b.writeUInt16BE(h.secs ?? 0, 8);
  b.writeUInt16BE(h.flags ?? 0, 10);
  Buffer.from(ip(h.ciaddr ?? '0.0.0.0')).copy(b, 12);
  Buffer.from(ip(h.yiaddr ?? '0.0.0.0')).copy(b, 16);
  Buffer.from(ip(h.siaddr ?? '0.0.0.0')).copy(b, 20);
  Buffer.from(ip(h.giaddr ?? '0.0.0.0')).copy(b, 24);
  Buffer.from(h.chaddr).copy(b, 28);
  Buffer.from(h.sname ?? []).copy(b, 44);
  Buffer.from(h.file ?? []).copy(b, 108);
  b.writeUInt32BE(0x63825363, 236);
  Buffer.from(options).copy(b, 240);
  return b;
}

const QEMU_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const GUID = [0x8a, 0x5d, 0x2c, 0x1e, 0x0b, 0x7f, 0x4c, 0x39, 0x9e, 0x44, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];

// ---------------------------------------------------------------------------------------------
// Messages for the round trips

function base(messageType: DhcpMessageType, op: number, options: Omit<DhcpOptions, 'messageType' | 'other'> & { other?: DhcpOptions['other'] } = {}): DhcpMessage {
  return {
    op,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0x3903f326,
    secs: 4,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: '52:54:00:12:34:56',
    sname: '',
    file: '',
    options: { other: [], ...options, messageType },
  };
}

const PXE_CLIENT = {
  maxMessageSize: 1472,
  clientArch: [0],
  clientNdi: { type: 1, major: 2, minor: 1 },
  clientUuid: { type: 0, id: Buffer.from(GUID) },
  vendorClass: 'PXEClient:Arch:00000:UNDI:002001',
  userClass: { format: 'plain', value: 'iPXE' },
  parameterRequestList: [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203],
} as const satisfies Partial<DhcpOptions>;

const SERVER_REPLY = {
  serverId: '10.99.0.1',
  leaseTime: 3600,
  renewalTime: 1800,
  rebindingTime: 3150,
  subnetMask: '255.255.255.0',
  routers: ['10.99.0.1'],
  dnsServers: ['10.99.0.1', '9.9.9.9'],
  domainName: 'lab.example',
  broadcastAddress: '10.99.0.255',
  vendorClass: 'PXEClient',
  tftpServerName: '10.99.0.1',
  bootfileName: 'undionly.kpxe',
  vendorSpecific: Buffer.from([6, 1, 8, 255]),
  clientUuid: { type: 0, id: Buffer.from(GUID) },
} satisfies Partial<DhcpOptions>;

const ROUND_TRIPS: Record<DhcpMessageType, DhcpMessage> = {
  DISCOVER: { ...base('DISCOVER', BOOTREQUEST, { ...PXE_CLIENT, userClass: { ...PXE_CLIENT.userClass } , clientNdi: { ...PXE_CLIENT.clientNdi }, clientArch: [0], parameterRequestList: [...PXE_CLIENT.parameterRequestList] }), flags: DHCP_FLAG_BROADCAST },
  OFFER: { ...base('OFFER', BOOTREPLY, SERVER_REPLY), yiaddr: '10.99.0.50', siaddr: '10.99.0.1', sname: '10.99.0.1', file: 'undionly.kpxe' },
  REQUEST: base('REQUEST', BOOTREQUEST, {
    requestedIp: '10.99.0.50',
    serverId: '10.99.0.1',
    clientArch: [7],
    clientNdi: { type: 1, major: 3, minor: 16 },
    vendorClass: 'PXEClient:Arch:00007:UNDI:003016',
    userClass: { format: 'rfc3004', classes: ['iPXE', 'rackforge'] },
    clientId: Buffer.from([1, ...QEMU_MAC]),
  }),
  ACK: {
    ...base('ACK', BOOTREPLY, { ...SERVER_REPLY, bootfileName: 'http://10.99.0.1/boot/ipxe/52:54:00:12:34:56', relayAgentInfo: { circuitId: Buffer.from('eth0:12'), remoteId: Buffer.from([0, 6, ...QEMU_MAC]), other: [{ code: 9, data: Buffer.from([0, 0, 0, 9]) }] } }),
    yiaddr: '10.99.0.50',
    siaddr: '10.99.0.1',
    giaddr: '10.98.0.1',
    hops: 1,
  },
  NAK: base('NAK', BOOTREPLY, { serverId: '10.99.0.1', other: [{ code: 56, data: Buffer.from('address not available') }] }),
  RELEASE: { ...base('RELEASE', BOOTREQUEST, { serverId: '10.99.0.1', clientId: Buffer.from([1, ...QEMU_MAC]) }), ciaddr: '10.99.0.50' },
  DECLINE: base('DECLINE', BOOTREQUEST, { serverId: '10.99.0.1', requestedIp: '10.99.0.50' }),
  INFORM: {
    ...base('INFORM', BOOTREQUEST, { parameterRequestList: [1, 3, 6, 15, 66, 67], vendorClass: 'HTTPClient:Arch:00016:UNDI:003000', clientArch: [16] }),
    ciaddr: '10.99.0.77',
  },
};

// ---------------------------------------------------------------------------------------------

describe('DHCPv4 codec', () => {
  describe('round trip', () => {
    for (const [type, msg] of Object.entries(ROUND_TRIPS)) {
      it(`${type} with PXE options`, () => {
        const bytes = encodeDhcp(msg);
        assert.ok(bytes.length >= DHCP_MIN_PACKET_SIZE);
        assert.deepEqual(decodeDhcp(bytes), msg);
        assert.deepEqual(encodeDhcp(decodeDhcp(bytes)), bytes);
      });
    }

    it('writes 53, then 54, then ascending codes, 82 last, then end and zero padding to 300 bytes', () => {
      const bytes = encodeDhcp({ ...ROUND_TRIPS.ACK, options: { ...ROUND_TRIPS.ACK.options, other: [{ code: 150, data: Buffer.from(ip('10.99.0.1')) }, { code: 210, data: Buffer.from('/') }] } });
      const codes: number[] = [];
      let i = 240;
      for (;;) {
        const code = bytes[i] ?? 255;
        if (code === 255) break;
        codes.push(code);
        i += 2 + (bytes[i + 1] ?? 0);
      }
      assert.deepEqual(codes, [53, 54, 1, 3, 6, 15, 28, 43, 51, 58, 59, 60, 66, 67, 97, 150, 210, 82]);
      assert.ok(bytes.subarray(i + 1).every((x) => x === 0));
      const small = encodeDhcp(ROUND_TRIPS.DECLINE);
      assert.equal(small.length, 300);
      assert.deepEqual([...small.subarray(240, 256)], [53, 1, 4, 54, 4, 10, 99, 0, 1, 50, 4, 10, 99, 0, 50, 255]);
    });

    it('splits values longer than 255 bytes into consecutive instances (RFC 3396) and joins them again', () => {
      const big = Buffer.alloc(600, 0xab);
      const msg = base('OFFER', BOOTREPLY, { vendorSpecific: big });
      const bytes = encodeDhcp(msg);
      assert.deepEqual([...bytes.subarray(240, 243)], [53, 1, 2]);
      assert.deepEqual([bytes[243], bytes[244]], [43, 255]);
      assert.deepEqual([bytes[243 + 257], bytes[244 + 257]], [43, 255]);
      assert.deepEqual([bytes[243 + 514], bytes[244 + 514]], [43, 90]);
      assert.deepEqual(decodeDhcp(bytes).options.vendorSpecific, big);
    });

    it('joins split instances of a typed option before reading it (router list in two pieces)', () => {
      const bytes = packet({ op: 2, xid: 1, chaddr: QEMU_MAC }, [...opt(53, [2]), ...opt(3, ip('10.0.0.1')), ...opt(6, ip('1.1.1.1')), ...opt(3, ip('10.0.0.2')), 255]);
      const m = decodeDhcp(bytes);
      assert.deepEqual(m.options.routers, ['10.0.0.1', '10.0.0.2']);
      assert.deepEqual(m.options.dnsServers, ['1.1.1.1']);
    });

    it('keeps unknown options as raw bytes, sorted by code, and zero-length options', () => {
      const bytes = packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(53, [1]), ...opt(250, [1, 2]), ...opt(80, []), ...opt(12, ascii('node1')), 255]);
      assert.deepEqual(decodeDhcp(bytes).options.other, [
        { code: 12, data: Buffer.from('node1') },
        { code: 80, data: Buffer.alloc(0) },
        { code: 250, data: Buffer.from([1, 2]) },
      ]);
    });

    it('tolerates a missing end option when the last option ends exactly at the end of the datagram', () => {
      const bytes = packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(53, [1]), 0, 0, ...opt(60, ascii('x'))]);
      assert.equal(decodeDhcp(bytes).options.vendorClass, 'x');
    });

    it('reads user class in both forms', () => {
      const plain = packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(53, [1]), ...opt(77, ascii('iPXE')), 255]);
      assert.deepEqual(decodeDhcp(plain).options.userClass, { format: 'plain', value: 'iPXE' });
      assert.deepEqual(userClasses(decodeDhcp(plain).options), ['iPXE']);
      const rfc = packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(77, [4, ...ascii('iPXE'), 3, ...ascii('lab')]), ...opt(53, [1]), 255]);
      assert.deepEqual(decodeDhcp(rfc).options.userClass, { format: 'rfc3004', classes: ['iPXE', 'lab'] });
      assert.deepEqual(userClasses(decodeDhcp(rfc).options), ['iPXE', 'lab']);
    });

    it('decodes from a Uint8Array view at an offset and returns values that do not alias it', () => {
      const bytes = encodeDhcp(ROUND_TRIPS.REQUEST);
      const arena = new Uint8Array(bytes.length + 10);
      arena.set(bytes, 7);
      const m = decodeDhcp(arena.subarray(7, 7 + bytes.length));
      assert.deepEqual(m, ROUND_TRIPS.REQUEST);
      arena.fill(0);
      assert.deepEqual(m, ROUND_TRIPS.REQUEST);
    });

    it('writes chaddr of other hardware types as hex', () => {
      const msg: DhcpMessage = { ...base('DISCOVER', BOOTREQUEST), htype: 32, hlen: 16, chaddr: '000102030405060708090a0b0c0d0e0f' };
      assert.deepEqual(decodeDhcp(encodeDhcp(msg)), msg);
    });

    it('refuses to encode an invalid message', () => {
      assert.throws(() => encodeDhcp({ ...ROUND_TRIPS.DECLINE, yiaddr: '10.0.0.256' }), RangeError);
      assert.throws(() => encodeDhcp({ ...ROUND_TRIPS.DECLINE, chaddr: '52:54:00:12:34' }), RangeError);
      assert.throws(() => encodeDhcp({ ...ROUND_TRIPS.DECLINE, sname: 'x'.repeat(65) }), RangeError);
      assert.throws(() => encodeDhcp({ ...ROUND_TRIPS.DECLINE, options: { ...ROUND_TRIPS.DECLINE.options, other: [{ code: 53, data: Buffer.from([1]) }] } }), RangeError);
      assert.throws(() => encodeDhcp({ ...ROUND_TRIPS.DECLINE, options: { ...ROUND_TRIPS.DECLINE.options, leaseTime: -1 } }), RangeError);
    });
  });

  describe('golden decode', () => {
    // Hand-built, byte for byte, from what iPXE's BIOS build sends (src/net/udp/dhcp.c request
    // template; pcbios dhcparch.h: arch 0, NDI UNDI 2.1): the ROM on this machine (ipxe-qemu,
    // QEMU's e1000) sends user class "iPXE" (verified-on-this-machine.md). No DHCP client binary
    // is installed here (no busybox, no dhclient), so nothing was captured; the option 175
    // contents are illustrative.
    const IPXE_DISCOVER = packet(
      { xid: 0x1f4a7b2c, flags: 0x8000, chaddr: QEMU_MAC },
      [
        ...opt(53, [1]),
        ...opt(57, [0x05, 0xc0]),
        ...opt(93, [0, 0]),
        ...opt(94, [1, 2, 1]),
        ...opt(60, ascii('PXEClient:Arch:00000:UNDI:002001')),
        ...opt(77, ascii('iPXE')),
        ...opt(55, [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203]),
        ...opt(175, [0x13, 1, 1, 0x11, 1, 1]),
        ...opt(61, [1, ...QEMU_MAC]),
        ...opt(97, [0, ...GUID]),
        255,
      ],
    );

    it('an iPXE BIOS DISCOVER', () => {
      const m = decodeDhcp(IPXE_DISCOVER);
      assert.deepEqual(m, {
        op: 1,
        htype: 1,
        hlen: 6,
        hops: 0,
        xid: 0x1f4a7b2c,
        secs: 0,
        flags: 0x8000,
        ciaddr: '0.0.0.0',
        yiaddr: '0.0.0.0',
        siaddr: '0.0.0.0',
        giaddr: '0.0.0.0',
        chaddr: '52:54:00:12:34:56',
        sname: '',
        file: '',
        options: {
          messageType: 'DISCOVER',
          maxMessageSize: 1472,
          clientArch: [0],
          clientNdi: { type: 1, major: 2, minor: 1 },
          vendorClass: 'PXEClient:Arch:00000:UNDI:002001',
          userClass: { format: 'plain', value: 'iPXE' },
          parameterRequestList: [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203],
          clientId: Buffer.from([1, ...QEMU_MAC]),
          clientUuid: { type: 0, id: Buffer.from(GUID) },
          other: [{ code: 175, data: Buffer.from([0x13, 1, 1, 0x11, 1, 1]) }],
        },
      });
      // Re-encoding keeps every byte of every option; only the order is ours.
      assert.deepEqual(decodeDhcp(encodeDhcp(m)), m);
    });

    it('a relayed busybox udhcpc DISCOVER (option 82 appended by the relay, fixed 548-byte packet)', () => {
      // udhcpc's layout (networking/udhcp): 53, 61, 57=576, 55, 60 "udhcp <version>", end,
      // in a fixed-size packet; the relay set giaddr, hops and appended 82 before the end.
      const bytes = packet(
        { xid: 0xdeadbeef, hops: 1, giaddr: '10.98.0.1', chaddr: QEMU_MAC },
        [
          ...opt(53, [1]),
          ...opt(61, [1, ...QEMU_MAC]),
          ...opt(57, [0x02, 0x40]),
          ...opt(55, [1, 3, 6, 12, 15, 28, 42]),
          ...opt(60, ascii('udhcp 1.35.0')),
          ...opt(82, [...opt(1, ascii('ge-0/0/1.0')), ...opt(2, QEMU_MAC), ...opt(151, [0])]),
          255,
        ],
        548,
      );
      const m = decodeDhcp(bytes);
      assert.equal(m.giaddr, '10.98.0.1');
      assert.equal(m.hops, 1);
      assert.equal(m.options.messageType, 'DISCOVER');
      assert.equal(m.options.maxMessageSize, 576);
      assert.equal(m.options.vendorClass, 'udhcp 1.35.0');
      assert.deepEqual(m.options.relayAgentInfo, {
        circuitId: Buffer.from('ge-0/0/1.0'),
        remoteId: Buffer.from(QEMU_MAC),
        other: [{ code: 151, data: Buffer.from([0]) }],
      });
      assert.deepEqual(m.options.other, []);
    });

    it('an OFFER whose options overflow into file and sname (option 52 = 3)', () => {
      const file = [...opt(67, ascii('pxelinux.0')), ...opt(3, ip('10.99.0.1')), 255];
      const sname = [...opt(3, ip('10.99.0.2')), ...opt(66, ascii('tftp.lab')), 255];
      const bytes = packet(
        { op: 2, xid: 7, yiaddr: '10.99.0.50', siaddr: '10.99.0.1', chaddr: QEMU_MAC, file, sname },
        [...opt(53, [2]), ...opt(52, [3]), ...opt(54, ip('10.99.0.1')), ...opt(51, [0, 0, 0x0e, 0x10]), 255],
      );
      const m = decodeDhcp(bytes);
      assert.equal(m.file, '');
      assert.equal(m.sname, '');
      assert.equal(m.options.messageType, 'OFFER');
      assert.equal(m.options.bootfileName, 'pxelinux.0');
      assert.equal(m.options.tftpServerName, 'tftp.lab');
      assert.equal(m.options.leaseTime, 3600);
      // Order: options field, then file, then sname.
      assert.deepEqual(m.options.routers, ['10.99.0.1', '10.99.0.2']);
    });

    it('file and sname as plain strings when not overloaded', () => {
      const bytes = packet({ op: 2, xid: 7, chaddr: QEMU_MAC, sname: ascii('boot.lab'), file: ascii('pxelinux.0') }, [...opt(53, [2]), 255]);
      const m = decodeDhcp(bytes);
      assert.equal(m.sname, 'boot.lab');
      assert.equal(m.file, 'pxelinux.0');
    });
  });

  describe('malformed input', () => {
    const OK = [...opt(53, [1]), 255];
    const good = (): Buffer => packet({ xid: 1, chaddr: QEMU_MAC }, OK);
    const withByte = (at: number, value: number): Buffer => {
      const b = good();
      b[at] = value;
      return b;
    };
    const cases: { name: string; bytes: Uint8Array; code: string; field?: string; offset?: number }[] = [
      { name: 'empty datagram', bytes: new Uint8Array(0), code: 'DHCP_TRUNCATED', field: 'op', offset: 0 },
      { name: '1-byte datagram', bytes: new Uint8Array([1]), code: 'DHCP_TRUNCATED', field: 'htype', offset: 1 },
      { name: 'truncated header (100 bytes)', bytes: good().subarray(0, 100), code: 'DHCP_TRUNCATED', field: 'sname', offset: 44 },
      { name: 'header without magic cookie (BOOTP-sized 236 bytes)', bytes: good().subarray(0, 236), code: 'DHCP_TRUNCATED', field: 'magic', offset: 236 },
      { name: 'bad magic cookie', bytes: withByte(239, 0x64), code: 'DHCP_BAD_MAGIC', field: 'magic', offset: 236 },
      { name: 'op 3', bytes: withByte(0, 3), code: 'DHCP_BAD_OP', field: 'op', offset: 0 },
      { name: 'hlen > 16', bytes: withByte(2, 17), code: 'DHCP_BAD_HLEN', field: 'hlen', offset: 2 },
      { name: 'option length past the end', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(53, [1]), 60, 10, 0x41, 0x42]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'options.option.60', offset: 243 },
      { name: 'option code without length byte at the end', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(53, [1]), 60]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'options.option.60', offset: 243 },
      { name: 'zero-length message type', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(53, []), 255]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'option.53', offset: 240 },
      { name: 'message type 9', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(53, [9]), 255]), code: 'DHCP_BAD_MESSAGE_TYPE', field: 'option.53', offset: 240 },
      { name: 'no message type', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(60, ascii('PXEClient')), 255]), code: 'DHCP_NO_MESSAGE_TYPE' },
      { name: 'no options at all', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, []), code: 'DHCP_NO_MESSAGE_TYPE' },
      { name: 'server id of 3 bytes', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...OK.slice(0, 3), ...opt(54, [10, 0, 0]), 255]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'option.54', offset: 243 },
      { name: 'client arch of odd length', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...OK.slice(0, 3), ...opt(93, [0, 0, 7]), 255]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'option.93' },
      { name: 'client NDI of 2 bytes', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...OK.slice(0, 3), ...opt(94, [1, 2]), 255]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'option.94' },
      { name: 'relay sub-option past the end of option 82', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...OK.slice(0, 3), ...opt(82, [1, 9, 0x41]), 255]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'option.82.1' },
      { name: 'relay circuit id twice', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...OK.slice(0, 3), ...opt(82, [1, 1, 0x41, 1, 1, 0x42]), 255]), code: 'DHCP_BAD_OPTION', field: 'option.82.1' },
      { name: 'overload value 4', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(52, [4]), ...OK]), code: 'DHCP_BAD_OVERLOAD', field: 'option.52', offset: 242 },
      { name: 'overload of 2 bytes', bytes: packet({ xid: 1, chaddr: QEMU_MAC }, [...opt(52, [1, 1]), ...OK]), code: 'DHCP_BAD_OPTION_LENGTH', field: 'option.52' },
      {
        name: 'overload pointing at garbage in file',
        bytes: packet({ xid: 1, chaddr: QEMU_MAC, file: [0x41, 0xc8, ...ascii('garbage')] }, [...opt(52, [1]), ...OK]),
        code: 'DHCP_BAD_OPTION_LENGTH',
        field: 'file.option.65',
        offset: 108,
      },
      {
        name: 'overload pointing at an sname option running past the field',
        bytes: packet({ xid: 1, chaddr: QEMU_MAC, sname: [66, 70, ...ascii('x')] }, [...opt(52, [2]), ...OK]),
        code: 'DHCP_BAD_OPTION_LENGTH',
        field: 'sname.option.66',
        offset: 44,
      },
      {
        name: 'option 52 inside an overloaded file',
        bytes: packet({ xid: 1, chaddr: QEMU_MAC, file: [...opt(52, [3]), 255] }, [...opt(52, [1]), ...OK]),
        code: 'DHCP_BAD_OVERLOAD',
        field: 'file.option.52',
        offset: 108,
      },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.code}`, () => assertDecodeError(() => decodeDhcp(c.bytes), c.code, c.field, c.offset));
    }
  });

  describe('properties', () => {
    function decodesOrRefuses(bytes: Uint8Array): boolean {
      try {
        decodeDhcp(bytes);
        return true;
      } catch (e) {
        if (e instanceof DecodeError) return true;
        throw e;
      }
    }

    it('arbitrary bytes give a DhcpMessage or a DecodeError, nothing else', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), decodesOrRefuses), { numRuns: 2000 });
    });

    it('a valid header followed by arbitrary option bytes gives a DhcpMessage or a DecodeError', () => {
      const header = packet({ xid: 1, chaddr: QEMU_MAC }, []).subarray(0, 240);
      const optionSoup = fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 8 }).map((b) => [...b]),
          fc.tuple(fc.constantFrom(0, 1, 3, 43, 50, 51, 52, 53, 54, 55, 60, 77, 82, 93, 94, 97, 255, 200), fc.uint8Array({ maxLength: 20 })).map(([code, data]) => opt(code, [...data])),
        ),
        { maxLength: 30 },
      );
      const field = fc.uint8Array({ maxLength: 128 });
      fc.assert(
        fc.property(optionSoup, field, fc.uint8Array({ maxLength: 64 }), (parts, file, sname) => {
          const b = Buffer.concat([header, Buffer.from(parts.flat())]);
          Buffer.from(file).copy(b, 108);
          Buffer.from(sname).copy(b, 44);
          return decodesOrRefuses(b);
        }),
        { numRuns: 3000 },
      );
    });

    it('arbitrary valid messages round-trip', () => {
      fc.assert(
        fc.property(validMessage, (msg) => {
          const bytes = encodeDhcp(msg);
          assert.deepEqual(decodeDhcp(bytes), msg);
          assert.deepEqual(encodeDhcp(decodeDhcp(bytes)), bytes);
        }),
        { numRuns: 1000 },
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Arbitrary valid messages

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength, maxLength }).map((b) => Buffer.from(b));
const latin1 = (minLength: number, maxLength: number, min = 0): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min, max: 255 }).map((c) => String.fromCharCode(c)), minLength, maxLength });
const ipv4 = fc.tuple(u8, u8, u8, u8).map((p) => p.join('.'));
const ipList = fc.array(ipv4, { minLength: 1, maxLength: 70 });

const options: fc.Arbitrary<DhcpOptions> = fc
  .record(
    {
      messageType: fc.constantFrom(...(Object.keys(DHCP_MESSAGE_TYPES) as DhcpMessageType[])),
      subnetMask: ipv4,
      routers: ipList,
      dnsServers: ipList,
      domainName: latin1(1, 300),
      broadcastAddress: ipv4,
      vendorSpecific: bytes(1, 400),
      requestedIp: ipv4,
      leaseTime: u32,
      serverId: ipv4,
      parameterRequestList: fc.array(u8, { minLength: 1, maxLength: 300 }),
      maxMessageSize: u16,
      renewalTime: u32,
      rebindingTime: u32,
      vendorClass: latin1(1, 64),
      clientId: bytes(2, 20),
      tftpServerName: latin1(1, 64),
      bootfileName: latin1(1, 300),
      userClass: fc.oneof(
        fc.array(latin1(1, 255), { minLength: 1, maxLength: 3 }).map((classes) => ({ format: 'rfc3004' as const, classes })),
        // A plain value whose first byte, read as a length, overruns it: never valid RFC 3004.
        latin1(1, 40).filter((v) => v.charCodeAt(0) >= v.length).map((value) => ({ format: 'plain' as const, value })),
      ),
      relayAgentInfo: fc
        .record(
          {
            circuitId: bytes(0, 255),
            remoteId: bytes(0, 255),
            other: fc.array(fc.record({ code: fc.integer({ min: 3, max: 255 }), data: bytes(0, 40) }, { noNullPrototype: true }), { maxLength: 3 }),
          },
          { requiredKeys: ['other'], noNullPrototype: true },
        )
        .filter((r) => r.circuitId !== undefined || r.remoteId !== undefined || r.other.length > 0),
      clientArch: fc.array(u16, { minLength: 1, maxLength: 4 }),
      clientNdi: fc.record({ type: u8, major: u8, minor: u8 }, { noNullPrototype: true }),
      clientUuid: fc.record({ type: u8, id: bytes(0, 20) }, { noNullPrototype: true }),
      other: fc
        .uniqueArray(fc.record({ code: fc.integer({ min: 1, max: 254 }).filter((c) => !isTypedDhcpOption(c)), data: bytes(0, 300) }, { noNullPrototype: true }), { selector: (o) => o.code, maxLength: 5 })
        .map((list) => [...list].sort((x, y) => x.code - y.code)),
    },
    { requiredKeys: ['messageType', 'other'], noNullPrototype: true },
  );

const validMessage: fc.Arbitrary<DhcpMessage> = fc
  .record({
    op: fc.constantFrom(BOOTREQUEST, BOOTREPLY),
    hw: fc.oneof(
      bytes(6, 6).map((b) => ({ htype: 1, hlen: 6, chaddr: b.toString('hex').replace(/(..)(?!$)/g, '$1:') })),
      fc.tuple(u8, bytes(0, 16)).filter(([t, b]) => !(t === 1 && b.length === 6)).map(([htype, b]) => ({ htype, hlen: b.length, chaddr: b.toString('hex') })),
    ),
    hops: u8,
    xid: u32,
    secs: u16,
    flags: u16,
    ciaddr: ipv4,
    yiaddr: ipv4,
    siaddr: ipv4,
    giaddr: ipv4,
    sname: latin1(0, 64, 1),
    file: latin1(0, 128, 1),
    options,
  })
  .map(({ hw, ...rest }) => ({ ...rest, ...hw }));
