// Scripted captures for the analysis tests (and the CLI's): whole boots, good and broken, built
// frame by frame with the project's own encoders (encodeUdpFrame/encodeTcpFrame/encodeArpFrame,
// encodeDhcp, encodeTftp) and numbered like Wireshark numbers them. Not a *.test.ts file, so
// mocha does not load it as a suite. Deterministic: the same script gives the same bytes.
import { encodeDhcp, type DhcpMessage, type DhcpMessageType, type DhcpOptions } from '../../provisioner/protocol/dhcp.ts';
import { BROADCAST_MAC } from '../../provisioner/protocol/ethernet.ts';
import { encodeArpFrame, encodeTcpFrame, encodeUdpFrame } from '../../provisioner/protocol/frames.ts';
import { encodePcapHeader, encodePcapRecord, type CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import type { TcpFlags } from '../../provisioner/protocol/tcp.ts';
import { encodeTftp, type TftpOption } from '../../provisioner/protocol/tftp.ts';

export interface Host {
  mac: string;
  ip: string;
}

/** 2023-11-14T22:13:20Z: the fixtures' first packet. */
export const FIXTURE_START_NS = 1_700_000_000_000_000_000n;
/** Time between two packets unless a script waits. */
const STEP_NS = 200_000n;

export const SERVER: Host = { mac: '52:54:00:00:00:01', ip: '10.0.0.1' };
export const ROGUE: Host = { mac: '52:54:00:00:00:99', ip: '10.0.0.99' };
export const PROXY: Host = { mac: '52:54:00:00:00:02', ip: '10.0.0.2' };
export const NODE1: Host = { mac: '52:54:00:12:34:01', ip: '10.0.0.51' };
export const NODE2: Host = { mac: '52:54:00:12:34:02', ip: '10.0.0.52' };
const ZERO = '0.0.0.0';

/** A capture being written: packets with Wireshark frame numbers, pcap offsets and a clock. */
export class CaptureScript {
  private readonly list: CapturedPacket[] = [];
  private ns: bigint;
  private offset = 24;
  private port = 49152;
  private tid = 40000;

  constructor(startNs: bigint = FIXTURE_START_NS) {
    this.ns = startNs;
  }

  /** Moves the clock on. */
  wait(seconds: number): this {
    this.ns += BigInt(Math.round(seconds * 1e6)) * 1000n;
    return this;
  }

  /** The capture goes on for `seconds` with nothing from the machines: ends with the server ARPing for a neighbour. */
  idle(seconds: number): number {
    this.wait(seconds);
    return this.arp(SERVER, 1, SERVER.ip, '10.0.0.254');
  }

  /** Appends a frame (cut to `snaplen` bytes when given); returns its frame number. */
  frame(data: Buffer, snaplen?: number, linktype = 1): number {
    const captured = snaplen !== undefined && snaplen < data.length ? data.subarray(0, snaplen) : data;
    const number = this.list.length + 1;
    this.list.push({
      number, offset: this.offset, interfaceId: 0, linktype, timestampNs: this.ns,
      capturedLength: captured.length, originalLength: data.length, data: Buffer.from(captured),
    });
    this.offset += 16 + captured.length;
    this.ns += STEP_NS;
    return number;
  }

  udp(from: Host, to: Host, srcPort: number, dstPort: number, payload: Buffer, o: { dstMac?: string; srcIp?: string; dstIp?: string; snaplen?: number } = {}): number {
    return this.frame(encodeUdpFrame({
      srcMac: from.mac, dstMac: o.dstMac ?? to.mac, srcIp: o.srcIp ?? from.ip, dstIp: o.dstIp ?? to.ip, srcPort, dstPort, payload,
    }), o.snaplen);
  }

  tcp(from: Host, to: Host, srcPort: number, dstPort: number, seq: number, ack: number, flags: Partial<TcpFlags>, payload?: Buffer, snaplen?: number): number {
    return this.frame(encodeTcpFrame({
      srcMac: from.mac, dstMac: to.mac, srcIp: from.ip, dstIp: to.ip,
      segment: { srcPort, dstPort, seq: seq >>> 0, ack: ack >>> 0, flags, window: 65535, ...(payload ? { payload } : {}) },
    }), snaplen);
  }

  arp(from: Host, op: number, senderIp: string, targetIp: string): number {
    return this.frame(encodeArpFrame({
      srcMac: from.mac, dstMac: BROADCAST_MAC,
      arp: { op, senderMac: from.mac, senderIp, targetMac: '00:00:00:00:00:00', targetIp },
    }));
  }

  /** A client port not used before in this script. */
  clientPort(): number {
    return this.port++;
  }

  /** A server transfer port (TFTP TID) not used before. */
  serverPort(): number {
    return this.tid++;
  }

  packets(): CapturedPacket[] {
    return this.list;
  }

  /** The packets as a classic pcap file (microsecond timestamps), as the lab writes them. */
  pcap(): Buffer {
    return Buffer.concat([encodePcapHeader(), ...this.list.map((p) => {
      const record = encodePcapRecord(p.data, p.timestampNs);
      // A frame the script cut: the record keeps the original length the capture saw.
      if (p.originalLength !== p.capturedLength) record.writeUInt32LE(p.originalLength, 12);
      return record;
    })]);
  }
}

// ---------------------------------------------------------------------------------------------
// DHCP

export interface DhcpClient {
  mac: string;
  /** Option 93; also sets option 60 "PXEClient:Arch:000NN:UNDI:002001" unless vendorClass is given. */
  arch?: number;
  vendorClass?: string;
  /** Option 77 as iPXE sends it ("iPXE"). */
  userClass?: string;
  uuid?: Buffer;
}

export interface DhcpRequestFields {
  xid: number;
  requestedIp?: string;
  serverId?: string;
  ciaddr?: string;
}

export interface DhcpReplyFields {
  xid: number;
  yiaddr?: string;
  siaddr?: string;
  bootFile?: string;
  tftpServerName?: string;
  /** ProxyDHCP: no address, option 60 PXEClient. */
  proxy?: boolean;
  /** Send from/to port 4011 (the PXE boot server reply). */
  port4011?: boolean;
}

function message(op: number, type: DhcpMessageType, chaddr: string, xid: number, fields: Partial<DhcpMessage>, options: Omit<DhcpOptions, 'other' | 'messageType'> & { other?: DhcpOptions['other'] }): DhcpMessage {
  return {
    op, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: 0x8000, ciaddr: ZERO, yiaddr: ZERO, siaddr: ZERO, giaddr: ZERO,
    chaddr, sname: '', file: '', ...fields,
    options: { messageType: type, ...options, other: options.other ?? [] },
  };
}

export function dhcpRequest(s: CaptureScript, type: 'DISCOVER' | 'REQUEST' | 'DECLINE' | 'RELEASE' | 'INFORM', c: DhcpClient, f: DhcpRequestFields): number {
  const vendorClass = c.vendorClass ?? (c.arch !== undefined ? `PXEClient:Arch:${String(c.arch).padStart(5, '0')}:UNDI:002001` : undefined);
  const msg = message(1, type, c.mac, f.xid, { ciaddr: f.ciaddr ?? ZERO }, {
    ...(f.requestedIp ? { requestedIp: f.requestedIp } : {}),
    ...(f.serverId ? { serverId: f.serverId } : {}),
    ...(c.arch !== undefined ? { clientArch: [c.arch], clientNdi: { type: 1, major: 2, minor: 1 } } : {}),
    ...(vendorClass ? { vendorClass } : {}),
    ...(c.userClass ? { userClass: { format: 'plain' as const, value: c.userClass } } : {}),
    ...(c.uuid ? { clientUuid: { type: 0, id: c.uuid } } : {}),
    parameterRequestList: [1, 3, 6, 66, 67],
  });
  const from: Host = { mac: c.mac, ip: f.ciaddr ?? ZERO };
  return s.udp(from, { mac: BROADCAST_MAC, ip: '255.255.255.255' }, 68, 67, encodeDhcp(msg));
}

export function dhcpReply(s: CaptureScript, type: 'OFFER' | 'ACK' | 'NAK', server: Host, clientMac: string, f: DhcpReplyFields): number {
  const proxy = f.proxy === true;
  const msg = message(2, type, clientMac, f.xid, { yiaddr: type === 'NAK' || proxy ? ZERO : (f.yiaddr ?? ZERO), siaddr: f.siaddr ?? ZERO }, {
    serverId: server.ip,
    ...(type !== 'NAK' && !proxy ? { subnetMask: '255.255.255.0', leaseTime: 3600 } : {}),
    ...(f.bootFile ? { bootfileName: f.bootFile } : {}),
    ...(f.tftpServerName ? { tftpServerName: f.tftpServerName } : {}),
    ...(proxy ? { vendorClass: 'PXEClient' } : {}),
  });
  const port = f.port4011 ? 4011 : 67;
  return s.udp(server, { mac: clientMac, ip: '255.255.255.255' }, port, f.port4011 ? 4011 : 68, encodeDhcp(msg));
}

export interface HandshakeOptions {
  xid: number;
  address: string;
  bootFile?: string;
  nextServer?: string;
}

/** DISCOVER, OFFER, REQUEST, ACK. */
export function dhcpHandshake(s: CaptureScript, c: DhcpClient, server: Host, o: HandshakeOptions): { discover: number; offer: number; request: number; ack: number } {
  const reply = { xid: o.xid, yiaddr: o.address, ...(o.nextServer ? { siaddr: o.nextServer } : {}), ...(o.bootFile ? { bootFile: o.bootFile } : {}) };
  const discover = dhcpRequest(s, 'DISCOVER', c, { xid: o.xid });
  const offer = dhcpReply(s, 'OFFER', server, c.mac, reply);
  const request = dhcpRequest(s, 'REQUEST', c, { xid: o.xid, requestedIp: o.address, serverId: server.ip });
  const ack = dhcpReply(s, 'ACK', server, c.mac, reply);
  return { discover, offer, request, ack };
}

// ---------------------------------------------------------------------------------------------
// TFTP

/** A file whose first bytes say what it is: a PE image for `machine` (0x8664, 0xaa64, 0x14c), or a BIOS NBP. */
export function bootFileBytes(size: number, machine?: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + 3) & 0xff;
  if (machine === undefined) {
    if (size > 0) b[0] = 0xea; // a far jump, as pxelinux.0 starts
    return b;
  }
  if (size < 0x86) throw new RangeError(`a PE image needs at least 134 bytes, not ${size}`);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(machine, 0x84);
  return b;
}

export interface TftpDownloadOptions {
  client: Host;
  server: Host;
  file: string;
  /** The file's bytes (bootFileBytes for boot loaders). */
  content: Buffer;
  clientPort?: number;
  /** blksize the client asks for (and the server grants, unless grantBlksize says otherwise). */
  blksize?: number;
  grantBlksize?: number;
  windowsize?: number;
  tsize?: boolean;
  /** The server answers with ERROR instead of data. */
  error?: { code: number; message: string };
  /** The server never answers; the request is sent `requests` times. */
  noAnswer?: boolean;
  /** Unanswered copies of the request sent before the server answers (default 1 request in all). */
  requests?: number;
  /** Data stops after this many blocks (no last block, no error). */
  stopAfterBlocks?: number;
  /** DATA blocks sent twice. */
  resend?: (block: number) => boolean;
  /** The server ignores the options: no OACK, 512-byte blocks. */
  ignoreOptions?: boolean;
  /** After the OACK the client sends ERROR 8 and stops (EDK2's tsize probe does this). */
  clientAbortsAfterOack?: boolean;
  /** Block numbers after 65535 go to 1 rather than 0. */
  rolloverToOne?: boolean;
  /** Frames kept to this many bytes (a snaplen). */
  snaplen?: number;
  /** Seconds between packets of the transfer (default: the script's step). */
  gap?: number;
}

export interface TftpDownloadFrames {
  requests: number[];
  oack: number | null;
  firstData: number | null;
  lastData: number | null;
  error: number | null;
  last: number;
}

export function tftpDownload(s: CaptureScript, o: TftpDownloadOptions): TftpDownloadFrames {
  const cport = o.clientPort ?? s.clientPort();
  const sport = s.serverPort();
  const options: TftpOption[] = [];
  if (o.tsize) options.push(['tsize', '0']);
  if (o.blksize !== undefined) options.push(['blksize', String(o.blksize)]);
  if (o.windowsize !== undefined) options.push(['windowsize', String(o.windowsize)]);
  const out: TftpDownloadFrames = { requests: [], oack: null, firstData: null, lastData: null, error: null, last: 0 };
  const step = (): void => {
    if (o.gap !== undefined) s.wait(o.gap);
  };
  const rrq = encodeTftp({ op: 'RRQ', filename: o.file, mode: 'octet', options });
  const copies = o.noAnswer ? (o.requests ?? 3) : (o.requests ?? 1);
  for (let i = 0; i < copies; i++) {
    out.requests.push(s.udp(o.client, o.server, cport, 69, rrq));
    if (i < copies - 1) s.wait(1);
  }
  out.last = out.requests.at(-1)!;
  if (o.noAnswer) return out;
  const fromServer = (p: Buffer): number => {
    step();
    return s.udp(o.server, o.client, sport, cport, p, o.snaplen !== undefined ? { snaplen: o.snaplen } : {});
  };
  const fromClient = (p: Buffer): number => {
    step();
    return s.udp(o.client, o.server, cport, sport, p);
  };
  if (o.error) {
    out.error = out.last = fromServer(encodeTftp({ op: 'ERROR', code: o.error.code as 1, message: o.error.message }));
    return out;
  }
  let blksize = 512;
  let windowsize = 1;
  if (options.length > 0 && !o.ignoreOptions) {
    const granted: TftpOption[] = [];
    if (o.tsize) granted.push(['tsize', String(o.content.length)]);
    if (o.blksize !== undefined) {
      blksize = o.grantBlksize ?? o.blksize;
      granted.push(['blksize', String(blksize)]);
    }
    if (o.windowsize !== undefined) {
      windowsize = o.windowsize;
      granted.push(['windowsize', String(windowsize)]);
    }
    out.oack = out.last = fromServer(encodeTftp({ op: 'OACK', options: granted }));
    if (o.clientAbortsAfterOack) {
      out.error = out.last = fromClient(encodeTftp({ op: 'ERROR', code: 8, message: 'User aborted the transfer' }));
      return out;
    }
    out.last = fromClient(encodeTftp({ op: 'ACK', block: 0 }));
  }
  const blocks = Math.floor(o.content.length / blksize) + 1;
  const limit = o.stopAfterBlocks ?? blocks;
  for (let n = 1; n <= Math.min(blocks, limit); n++) {
    const wire = o.rolloverToOne && n > 0xffff ? ((n - 1) % 0xffff) + 1 : n & 0xffff;
    const data = o.content.subarray((n - 1) * blksize, Math.min(n * blksize, o.content.length));
    const pkt = encodeTftp({ op: 'DATA', block: wire, data });
    const f = fromServer(pkt);
    out.firstData ??= f;
    out.lastData = out.last = f;
    if (o.resend?.(n)) out.lastData = out.last = fromServer(pkt);
    if (n % windowsize === 0 || n === blocks) out.last = fromClient(encodeTftp({ op: 'ACK', block: wire }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP over TCP

export interface HttpFetchOptions {
  client: Host;
  server: Host;
  path: string;
  method?: string;
  serverPort?: number;
  host?: string;
  status?: number;
  reason?: string;
  bodySize?: number;
  requestBody?: Buffer;
  /** Response framed by closing the connection (no Content-Length). */
  noContentLength?: boolean;
  chunked?: boolean;
  /** Body bytes sent before the server resets the connection. */
  resetAfter?: number;
  /** The server never answers (the client gives up with FIN after `wait` seconds). */
  noResponse?: boolean;
  /** Response segments sent twice (retransmissions). */
  resendSegments?: boolean;
  mss?: number;
}

export interface HttpFetchFrames {
  syn: number;
  request: number;
  response: number | null;
  last: number;
}

export function httpFetch(s: CaptureScript, o: HttpFetchOptions): HttpFetchFrames {
  const cport = s.clientPort();
  const sport = o.serverPort ?? 80;
  const mss = o.mss ?? 1460;
  let cseq = 1000;
  let sseq = 900000;
  const c2s = (flags: Partial<TcpFlags>, payload?: Buffer): number => {
    const f = s.tcp(o.client, o.server, cport, sport, cseq, sseq, flags, payload);
    cseq = (cseq + (payload?.length ?? 0) + (flags.syn || flags.fin ? 1 : 0)) >>> 0;
    return f;
  };
  const s2c = (flags: Partial<TcpFlags>, payload?: Buffer, resend = false): number => {
    let f = s.tcp(o.server, o.client, sport, cport, sseq, cseq, flags, payload);
    if (resend) f = s.tcp(o.server, o.client, sport, cport, sseq, cseq, flags, payload);
    sseq = (sseq + (payload?.length ?? 0) + (flags.syn || flags.fin ? 1 : 0)) >>> 0;
    return f;
  };
  const syn = c2s({ syn: true });
  s2c({ syn: true, ack: true });
  c2s({ ack: true });
  const method = o.method ?? 'GET';
  const host = o.host ?? (sport === 80 ? o.server.ip : `${o.server.ip}:${sport}`);
  const reqBody = o.requestBody ?? Buffer.alloc(0);
  const reqHead = `${method} ${o.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: iPXE/1.21.1\r\n${reqBody.length > 0 ? `Content-Type: application/json\r\nContent-Length: ${reqBody.length}\r\n` : ''}\r\n`;
  const request = c2s({ ack: true, psh: true }, Buffer.concat([Buffer.from(reqHead, 'latin1'), reqBody]));
  if (o.noResponse) {
    s2c({ ack: true });
    s.wait(30);
    const last = c2s({ fin: true, ack: true });
    return { syn, request, response: null, last };
  }
  const status = o.status ?? 200;
  const reason = o.reason ?? (status === 200 ? 'OK' : status === 201 ? 'Created' : status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Status');
  const size = o.bodySize ?? 0;
  const body = Buffer.alloc(size, 0x41);
  let framing = `Content-Length: ${size}\r\n`;
  if (o.noContentLength) framing = 'Connection: close\r\n';
  if (o.chunked) framing = 'Transfer-Encoding: chunked\r\n';
  const head = Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nServer: rackforge\r\n${framing}\r\n`, 'latin1');
  let stream = Buffer.concat([head, body]);
  if (o.chunked) {
    const parts: Buffer[] = [head];
    for (let i = 0; i < size; i += 1000) {
      const n = Math.min(1000, size - i);
      parts.push(Buffer.from(`${n.toString(16)}\r\n`, 'latin1'), body.subarray(i, i + n), Buffer.from('\r\n', 'latin1'));
    }
    parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
    stream = Buffer.concat(parts);
  }
  const cut = o.resetAfter !== undefined ? head.length + o.resetAfter : stream.length;
  let response: number | null = null;
  let last = 0;
  for (let i = 0; i < cut; i += mss) {
    const seg = stream.subarray(i, Math.min(i + mss, cut));
    last = s2c({ ack: true, psh: i + mss >= cut }, seg, o.resendSegments === true && i > 0);
    response ??= last;
    if ((i / mss) % 2 === 1) c2s({ ack: true });
  }
  if (o.resetAfter !== undefined) {
    last = s2c({ rst: true, ack: true });
    return { syn, request, response, last };
  }
  s2c({ fin: true, ack: true });
  c2s({ fin: true, ack: true });
  last = s2c({ ack: true });
  return { syn, request, response, last };
}

// ---------------------------------------------------------------------------------------------
// Whole boots

export interface Scenario {
  packets: CapturedPacket[];
  /** The machine the scenario is about. */
  mac: string;
  script: CaptureScript;
}

const uuid = Buffer.from('8c4c4d56e3a04f1b9a2c5e6f70818293', 'hex');
const BIOS: DhcpClient = { mac: NODE1.mac, arch: 0, uuid };
const EFI_X64: DhcpClient = { mac: NODE1.mac, arch: 7, uuid };
const IPXE_EFI: DhcpClient = { mac: NODE1.mac, arch: 7, userClass: 'iPXE', vendorClass: 'PXEClient:Arch:00007:UNDI:003010' };
const IPXE_BIOS: DhcpClient = { mac: NODE1.mac, arch: 0, userClass: 'iPXE', vendorClass: 'PXEClient:Arch:00000:UNDI:002001' };
const node1 = (ip = NODE1.ip): Host => ({ mac: NODE1.mac, ip });

function scenario(script: CaptureScript, mac = NODE1.mac): Scenario {
  return { packets: script.packets(), mac, script };
}

/** The pxelinux config names a BIOS PXE client tries for 10.0.0.51 before "default". */
export function pxelinuxConfigSearch(mac: string, ip: string): string[] {
  const hex = ip.split('.').map((n) => Number(n).toString(16).toUpperCase().padStart(2, '0')).join('');
  const names = [`pxelinux.cfg/${[...uuid].map((b) => b.toString(16).padStart(2, '0')).join('').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}`, `pxelinux.cfg/01-${mac.replace(/:/g, '-')}`];
  for (let i = hex.length; i >= 1; i--) names.push(`pxelinux.cfg/${hex.slice(0, i)}`);
  names.push('pxelinux.cfg/default');
  return names;
}

/** BIOS PXE ROM → pxelinux.0 (after a tsize probe) → ldlinux.c32 → config search (found by MAC) → kernel and initrd over TFTP. */
export function goodBiosPxelinuxBoot(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, BIOS, SERVER, { xid: 0x1a2b3c01, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'pxelinux.0' });
  const n = node1();
  const pxelinux = bootFileBytes(42_000);
  tftpDownload(s, { client: n, server: SERVER, file: 'pxelinux.0', content: pxelinux, tsize: true, clientAbortsAfterOack: true });
  tftpDownload(s, { client: n, server: SERVER, file: 'pxelinux.0', content: pxelinux, tsize: true, blksize: 1456 });
  tftpDownload(s, { client: n, server: SERVER, file: 'ldlinux.c32', content: bootFileBytes(120_000), tsize: true, blksize: 1456 });
  const names = pxelinuxConfigSearch(NODE1.mac, NODE1.ip);
  tftpDownload(s, { client: n, server: SERVER, file: names[0]!, content: Buffer.alloc(0), tsize: true, blksize: 1456, error: { code: 1, message: 'File not found' } });
  tftpDownload(s, { client: n, server: SERVER, file: names[1]!, content: Buffer.from('DEFAULT linux\nLABEL linux\n  KERNEL /images/debian12-x86_64/linux\n'), tsize: true, blksize: 1456 });
  tftpDownload(s, { client: n, server: SERVER, file: 'images/debian12-x86_64/linux', content: Buffer.alloc(300_000, 1), tsize: true, blksize: 1456, windowsize: 4 });
  tftpDownload(s, { client: n, server: SERVER, file: 'images/debian12-x86_64/initrd.gz', content: Buffer.alloc(500_000, 2), tsize: true, blksize: 1456, windowsize: 4 });
  return scenario(s);
}

/** iPXE (UEFI x64 ROM) → script over HTTP → kernel, initrd → autoinstall → install events → nopxe → reboot → registration. */
export function ipxeHttpInstall(o: { nopxe?: boolean; register?: boolean; rebootPxe?: boolean } = {}): Scenario {
  const s = new CaptureScript();
  const script = `http://${SERVER.ip}/cblr/svc/op/ipxe/mac/${NODE1.mac}`;
  dhcpHandshake(s, IPXE_EFI, SERVER, { xid: 0x2b3c4d01, address: NODE1.ip, nextServer: SERVER.ip, bootFile: script });
  const n = node1();
  httpFetch(s, { client: n, server: SERVER, path: `/cblr/svc/op/ipxe/mac/${NODE1.mac}`, bodySize: 400 });
  httpFetch(s, { client: n, server: SERVER, path: '/cblr/links/debian12-x86_64/linux', bodySize: 300_000 });
  httpFetch(s, { client: n, server: SERVER, path: '/cblr/links/debian12-x86_64/initrd.gz', bodySize: 500_000 });
  s.wait(8);
  // The installer's own DHCP: not a PXE client.
  dhcpHandshake(s, { mac: NODE1.mac, vendorClass: 'd-i' }, SERVER, { xid: 0x2b3c4d02, address: NODE1.ip });
  httpFetch(s, { client: n, server: SERVER, path: '/cblr/svc/op/autoinstall/system/node1/token/s3cr3t', bodySize: 6000 });
  httpFetch(s, { client: n, server: SERVER, path: '/cblr/svc/op/event/system/node1/token/s3cr3t/stage/installer-started', bodySize: 4 });
  s.wait(60);
  httpFetch(s, { client: n, server: SERVER, path: '/cblr/svc/op/event/system/node1/token/s3cr3t/stage/image-written', bodySize: 4 });
  if (o.nopxe !== false) httpFetch(s, { client: n, server: SERVER, path: '/cblr/svc/op/nopxe/system/node1/token/s3cr3t', bodySize: 4 });
  if (o.rebootPxe) {
    s.wait(20);
    dhcpHandshake(s, IPXE_EFI, SERVER, { xid: 0x2b3c4d03, address: NODE1.ip, nextServer: SERVER.ip, bootFile: script });
    httpFetch(s, { client: n, server: SERVER, path: `/cblr/svc/op/ipxe/mac/${NODE1.mac}`, bodySize: 400 });
  }
  if (o.register !== false && o.nopxe !== false) {
    s.wait(20);
    dhcpHandshake(s, { mac: NODE1.mac, vendorClass: 'debian' }, SERVER, { xid: 0x2b3c4d04, address: NODE1.ip });
    httpFetch(s, { client: n, server: SERVER, serverPort: 8080, method: 'POST', path: '/api/v1/hypervisors', status: 201, bodySize: 80, requestBody: Buffer.from('{"name":"node1"}') });
  }
  return scenario(s);
}

/** A PXE ROM that DISCOVERs four times (4, 8, 16 s apart) and nobody answers. */
export function noOffer(): Scenario {
  const s = new CaptureScript();
  for (const wait of [4, 8, 16, 0]) {
    dhcpRequest(s, 'DISCOVER', BIOS, { xid: 0x3c4d5e01 });
    s.wait(wait);
  }
  return scenario(s);
}

/** The DHCP server hands out an address and nothing to boot. */
export function offerWithoutBootFile(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, BIOS, SERVER, { xid: 0x4d5e6f01, address: NODE1.ip });
  s.idle(10);
  return scenario(s);
}

/** ProxyDHCP: the main server gives the address, a proxy the boot file; a good boot. */
export function proxyDhcpBoot(): Scenario {
  const s = new CaptureScript();
  dhcpRequest(s, 'DISCOVER', BIOS, { xid: 0x5e6f7001 });
  dhcpReply(s, 'OFFER', SERVER, NODE1.mac, { xid: 0x5e6f7001, yiaddr: NODE1.ip });
  dhcpReply(s, 'OFFER', PROXY, NODE1.mac, { xid: 0x5e6f7001, proxy: true, siaddr: PROXY.ip, bootFile: 'pxelinux.0' });
  dhcpRequest(s, 'REQUEST', BIOS, { xid: 0x5e6f7001, requestedIp: NODE1.ip, serverId: SERVER.ip });
  dhcpReply(s, 'ACK', SERVER, NODE1.mac, { xid: 0x5e6f7001, yiaddr: NODE1.ip });
  tftpDownload(s, { client: node1(), server: PROXY, file: 'pxelinux.0', content: bootFileBytes(42_000), tsize: true, blksize: 1456 });
  return scenario(s);
}

/** A BIOS client given an x64 UEFI GRUB (or, `uefi`, a UEFI client given pxelinux.0). */
export function wrongArchitecture(o: { uefi?: boolean } = {}): Scenario {
  const s = new CaptureScript();
  const client = o.uefi ? EFI_X64 : BIOS;
  const file = o.uefi ? 'pxelinux.0' : 'grub/grubx64.efi';
  dhcpHandshake(s, client, SERVER, { xid: 0x6f708101, address: NODE1.ip, nextServer: SERVER.ip, bootFile: file });
  tftpDownload(s, { client: node1(), server: SERVER, file, content: o.uefi ? bootFileBytes(42_000) : bootFileBytes(60_000, 0x8664), blksize: 1456 });
  s.idle(10);
  return scenario(s);
}

/** node2 boots fine; node1 asks for a boot file the server does not have. */
export function tftpNotFound(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, { ...BIOS, mac: NODE2.mac }, SERVER, { xid: 0x70819201, address: NODE2.ip, nextServer: SERVER.ip, bootFile: 'pxelinux.0' });
  tftpDownload(s, { client: NODE2, server: SERVER, file: 'pxelinux.0', content: bootFileBytes(42_000), blksize: 1456 });
  dhcpHandshake(s, BIOS, SERVER, { xid: 0x70819202, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'bios/pxelinux.0' });
  tftpDownload(s, { client: node1(), server: SERVER, file: 'bios/pxelinux.0', content: Buffer.alloc(0), blksize: 1456, error: { code: 1, message: 'File not found' } });
  s.idle(10);
  return scenario(s);
}

/** pxelinux loads, and every config name it tries is missing. */
export function pxelinuxConfigMissing(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, BIOS, SERVER, { xid: 0x8192a301, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'pxelinux.0' });
  const n = node1();
  tftpDownload(s, { client: n, server: SERVER, file: 'pxelinux.0', content: bootFileBytes(42_000), blksize: 1456 });
  tftpDownload(s, { client: n, server: SERVER, file: 'ldlinux.c32', content: bootFileBytes(120_000), blksize: 1456 });
  for (const name of pxelinuxConfigSearch(NODE1.mac, NODE1.ip)) {
    tftpDownload(s, { client: n, server: SERVER, file: name, content: Buffer.alloc(0), blksize: 1456, error: { code: 1, message: 'File not found' } });
  }
  s.idle(10);
  return scenario(s);
}

/** The transfer of pxelinux.0 stops after 5 blocks; 10 s later the ROM starts over. */
export function tftpTimeout(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, BIOS, SERVER, { xid: 0x92a3b401, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'pxelinux.0' });
  tftpDownload(s, { client: node1(), server: SERVER, file: 'pxelinux.0', content: bootFileBytes(42_000), tsize: true, blksize: 1456, stopAfterBlocks: 5 });
  s.wait(10);
  dhcpRequest(s, 'DISCOVER', BIOS, { xid: 0x92a3b402 });
  return scenario(s);
}

/** The read request is never answered (sent three times). */
export function tftpNoResponse(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, BIOS, SERVER, { xid: 0xa3b4c501, address: NODE1.ip, nextServer: '10.0.0.7', bootFile: 'pxelinux.0' });
  tftpDownload(s, { client: node1(), server: { mac: SERVER.mac, ip: '10.0.0.7' }, file: 'pxelinux.0', content: Buffer.alloc(0), noAnswer: true, requests: 3 });
  s.idle(10);
  return scenario(s);
}

/** A 150-block transfer in which every fourth block is sent twice. */
export function tftpRetransmissionStorm(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, BIOS, SERVER, { xid: 0xb4c5d601, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'pxelinux.0' });
  tftpDownload(s, { client: node1(), server: SERVER, file: 'images/debian12-x86_64/linux', content: Buffer.alloc(150 * 1456 + 100, 3), blksize: 1456, resend: (b) => b % 4 === 0 });
  return scenario(s);
}

/** The client asks for blksize 65464 and the server answers ERROR 8. */
export function tftpNegotiationFailed(): Scenario {
  const s = new CaptureScript();
  dhcpHandshake(s, EFI_X64, SERVER, { xid: 0xc5d6e701, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'grub/grubx64.efi' });
  tftpDownload(s, { client: node1(), server: SERVER, file: 'grub/grubx64.efi', content: Buffer.alloc(0), blksize: 65464, error: { code: 8, message: 'blksize out of range' } });
  s.idle(10);
  return scenario(s);
}

/** BIOS ROM → undionly.kpxe → iPXE asks DHCP and gets undionly.kpxe again, twice over. */
export function ipxeLoop(): Scenario {
  const s = new CaptureScript();
  const n = node1();
  dhcpHandshake(s, BIOS, SERVER, { xid: 0xd6e7f801, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'undionly.kpxe' });
  tftpDownload(s, { client: n, server: SERVER, file: 'undionly.kpxe', content: bootFileBytes(70_000), blksize: 1456 });
  for (let i = 2; i <= 3; i++) {
    s.wait(2);
    dhcpHandshake(s, IPXE_BIOS, SERVER, { xid: 0xd6e7f800 + i, address: NODE1.ip, nextServer: SERVER.ip, bootFile: 'undionly.kpxe' });
    tftpDownload(s, { client: n, server: SERVER, file: 'undionly.kpxe', content: bootFileBytes(70_000), blksize: 1456 });
  }
  return scenario(s);
}

/** The machine asks for its old address three times and is refused each time. */
export function nakLoop(): Scenario {
  const s = new CaptureScript();
  for (let i = 1; i <= 3; i++) {
    dhcpRequest(s, 'REQUEST', BIOS, { xid: 0xe7f80900 + i, requestedIp: '192.168.5.77' });
    dhcpReply(s, 'NAK', SERVER, NODE1.mac, { xid: 0xe7f80900 + i });
    s.wait(3);
  }
  return scenario(s);
}

/** Two servers answer: the rogue's offer (no boot file) comes first and the machine takes it. */
export function rogueDhcpServer(): Scenario {
  const s = new CaptureScript();
  const xid = 0xf8091a01;
  dhcpRequest(s, 'DISCOVER', BIOS, { xid });
  dhcpReply(s, 'OFFER', ROGUE, NODE1.mac, { xid, yiaddr: '192.168.1.50' });
  dhcpReply(s, 'OFFER', SERVER, NODE1.mac, { xid, yiaddr: NODE1.ip, siaddr: SERVER.ip, bootFile: 'pxelinux.0' });
  dhcpRequest(s, 'REQUEST', BIOS, { xid, requestedIp: '192.168.1.50', serverId: ROGUE.ip });
  dhcpReply(s, 'ACK', ROGUE, NODE1.mac, { xid, yiaddr: '192.168.1.50' });
  s.idle(10);
  return scenario(s);
}

/** The install starts and writes the image, no nopxe follows, and the machine PXE-boots again. */
export function installWithoutNopxe(): Scenario {
  return ipxeHttpInstall({ nopxe: false, register: false, rebootPxe: true });
}
