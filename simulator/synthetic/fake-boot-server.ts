// A small boot server that speaks raw frames, for tests of the synthetic nodes on a MemoryHub:
// DHCP (pool, NAK on demand), ARP (it resolves clients before it sends to them, as Linux
// does), TFTP (options via the codec's negotiateOptions, lock-step, retransmission) and a
// minimal HTTP server over its own TCP (retransmission by go-back-N). Deliberately simple; the
// real provisioner is tested against the nodes in test/synthetic-pxe.test.ts.
import { intToIpv4, ipv4ToInt } from '../../lib/ids.ts';
import { ARP_OP } from '../../provisioner/protocol/arp.ts';
import { BOOTREPLY, DHCP_FLAG_BROADCAST, decodeDhcp, encodeDhcp, type DhcpMessage } from '../../provisioner/protocol/dhcp.ts';
import { BROADCAST_MAC } from '../../provisioner/protocol/ethernet.ts';
import { decodeFrame, encodeArpFrame, encodeTcpFrame, encodeUdpFrame, type DecodedFrame } from '../../provisioner/protocol/frames.ts';
import { seqAdd, seqLt, type TcpSegment, type TcpSegmentInput } from '../../provisioner/protocol/tcp.ts';
import { decodeTftp, encodeTftp, negotiateOptions, type TftpPacket } from '../../provisioner/protocol/tftp.ts';
import type { FramePort } from '../hub-port.ts';
import type { SyntheticClock } from './clock.ts';

export interface FakeBootServerOptions {
  port: FramePort;
  clock: SyntheticClock;
  mac?: string;
  ip?: string;
  /** First pool address; the pool is 200 addresses long. */
  poolFirst?: string;
  /** The boot file for a client (by MAC and option 93), or undefined for none. */
  bootFile?: (mac: string, arch: number | undefined) => string | undefined;
  /** TFTP tree, names without a leading slash. */
  tftp?: Map<string, Buffer>;
  /** HTTP paths (with query) to bodies. */
  http?: Map<string, Buffer>;
  httpPort?: number;
  /** NAK the first REQUEST of these MACs. */
  nakFirst?: Set<string>;
  /** Answer nothing at all. */
  silent?: boolean;
  /** TFTP/TCP/ARP retransmission timeout. */
  retransmitMs?: number;
  /** TCP: send the second data segment of each response before the first. */
  reorderTcp?: boolean;
  /** Answer requests for these HTTP paths with a RST instead of a response. */
  resetHttpPaths?: Set<string>;
}

export interface FakeServerLog {
  dhcp: Array<{ mac: string; type: string; xid: number }>;
  tftp: Array<{ ip: string; file: string; found: boolean; options: string }>;
  http: Array<{ ip: string; path: string; status: number }>;
  arpRequestsSent: number;
}

interface TftpSession { key: string; ip: string; clientPort: number; port: number; data: Buffer; blksize: number; block: number; last: TftpPacket; tries: number; cancel?: () => void; done: boolean }
interface TcpConn {
  key: string; ip: string; clientPort: number; iss: number; sndUna: number; sndNxt: number; rcvNxt: number;
  request: Buffer; response?: Buffer; finSent: boolean; finAcked: boolean; peerFin: boolean; cancel?: () => void; tries: number; mss: number;
}

export class FakeBootServer {
  readonly mac: string;
  readonly ip: string;
  readonly log: FakeServerLog = { dhcp: [], tftp: [], http: [], arpRequestsSent: 0 };
  private readonly leases = new Map<string, string>();
  private readonly naked = new Set<string>();
  private nextLease = 0;
  private readonly arp = new Map<string, string>();
  private readonly arpWaiting = new Map<string, Array<(mac: string) => void>>();
  private readonly tftpSessions = new Map<number, TftpSession>();
  private nextTftpPort = 40000;
  private readonly tcp = new Map<string, TcpConn>();
  private readonly rto: number;

  constructor(private readonly o: FakeBootServerOptions) {
    this.mac = o.mac ?? '02:00:00:00:00:01';
    this.ip = o.ip ?? '10.0.0.1';
    this.rto = o.retransmitMs ?? 300;
    o.port.onFrame((frame) => {
      if (o.silent) return;
      const f = decodeFrame(frame);
      if (f.eth.src === this.mac) return;
      if (f.eth.dst !== this.mac && f.eth.dst !== BROADCAST_MAC) return;
      this.receive(f);
    });
  }

  /** Leases handed out, MAC → address. */
  get leased(): ReadonlyMap<string, string> {
    return this.leases;
  }

  private receive(f: DecodedFrame): void {
    if (f.arp) {
      const a = f.arp;
      // Only from replies: the nodes' ARP responders get exercised, not bypassed by a merge.
      if (a.op === ARP_OP.REPLY && a.targetIp === this.ip) this.learn(a.senderIp, a.senderMac);
      if (a.op === ARP_OP.REQUEST && a.targetIp === this.ip) {
        this.o.port.send(encodeArpFrame({ srcMac: this.mac, dstMac: a.senderMac, arp: { op: ARP_OP.REPLY, senderMac: this.mac, senderIp: this.ip, targetMac: a.senderMac, targetIp: a.senderIp } }));
      }
      return;
    }
    if (f.udp && f.udp.dstPort === 67) {
      this.dhcp(decodeDhcp(f.udp.payload));
      return;
    }
    if (!f.ip || f.ip.dst !== this.ip) return;
    if (f.udp) {
      if (f.udp.dstPort === 69) this.rrq(f.ip.src, f.udp.srcPort, decodeTftp(f.udp.payload));
      else this.tftpPacket(f.udp.dstPort, f.ip.src, f.udp.srcPort, decodeTftp(f.udp.payload));
      return;
    }
    if (f.tcp && f.tcp.dstPort === (this.o.httpPort ?? 80)) this.tcpSegment(f.ip.src, f.tcp);
  }

  // ----- DHCP -----

  private dhcp(m: DhcpMessage): void {
    const type = m.options.messageType!;
    this.log.dhcp.push({ mac: m.chaddr, type, xid: m.xid });
    const arch = m.options.clientArch?.[0];
    let ip = this.leases.get(m.chaddr);
    if (type === 'DISCOVER') {
      ip ??= intToIpv4(ipv4ToInt(this.o.poolFirst ?? '10.0.0.100') + this.nextLease++);
      this.leases.set(m.chaddr, ip);
      this.dhcpReply(m, 'OFFER', ip, arch);
    } else if (type === 'REQUEST') {
      if (this.o.nakFirst?.has(m.chaddr) && !this.naked.has(m.chaddr)) {
        this.naked.add(m.chaddr);
        this.dhcpReply(m, 'NAK', '0.0.0.0', arch);
        return;
      }
      if (ip === undefined || m.options.requestedIp !== ip) {
        this.dhcpReply(m, 'NAK', '0.0.0.0', arch);
        return;
      }
      this.dhcpReply(m, 'ACK', ip, arch);
    }
  }

  private dhcpReply(req: DhcpMessage, type: 'OFFER' | 'ACK' | 'NAK', ip: string, arch: number | undefined): void {
    const boot = type === 'NAK' ? undefined : this.o.bootFile?.(req.chaddr, arch);
    const reply: DhcpMessage = {
      op: BOOTREPLY, htype: 1, hlen: 6, hops: 0, xid: req.xid, secs: 0, flags: req.flags, ciaddr: '0.0.0.0', yiaddr: ip,
      siaddr: boot ? this.ip : '0.0.0.0', giaddr: '0.0.0.0', chaddr: req.chaddr, sname: '', file: boot ?? '',
      options: {
        messageType: type, serverId: this.ip, other: [],
        ...(type !== 'NAK' ? { subnetMask: '255.255.255.0', leaseTime: 3600 } : {}),
        ...(boot ? { bootfileName: boot } : {}),
      },
    };
    const broadcast = (req.flags & DHCP_FLAG_BROADCAST) !== 0 || type === 'NAK';
    this.o.port.send(encodeUdpFrame({
      srcMac: this.mac, dstMac: broadcast ? BROADCAST_MAC : req.chaddr, srcIp: this.ip, dstIp: broadcast ? '255.255.255.255' : ip,
      srcPort: 67, dstPort: 68, payload: encodeDhcp(reply),
    }));
  }

  // ----- ARP (ours, for clients) -----

  private learn(ip: string, mac: string): void {
    this.arp.set(ip, mac);
    const waiting = this.arpWaiting.get(ip);
    if (!waiting) return;
    this.arpWaiting.delete(ip);
    for (const w of waiting) w(mac);
  }

  /** Sends once the client's MAC is known, asking by ARP first (and again) if it is not. */
  private toClient(ip: string, build: (mac: string) => Buffer): void {
    const known = this.arp.get(ip);
    if (known) {
      this.o.port.send(build(known));
      return;
    }
    const waiting = this.arpWaiting.get(ip);
    if (waiting) {
      waiting.push((mac) => this.o.port.send(build(mac)));
      return;
    }
    this.arpWaiting.set(ip, [(mac) => this.o.port.send(build(mac))]);
    const ask = (tries: number): void => {
      if (!this.arpWaiting.has(ip) || tries > 6) return;
      this.log.arpRequestsSent++;
      this.o.port.send(encodeArpFrame({ srcMac: this.mac, dstMac: BROADCAST_MAC, arp: { op: ARP_OP.REQUEST, senderMac: this.mac, senderIp: this.ip, targetMac: '00:00:00:00:00:00', targetIp: ip } }));
      this.o.clock.setTimer(this.rto, () => ask(tries + 1));
    };
    ask(1);
  }

  // ----- TFTP -----

  private rrq(ip: string, clientPort: number, p: TftpPacket): void {
    if (p.op !== 'RRQ') return;
    const key = `${ip}:${clientPort}`;
    for (const s of this.tftpSessions.values()) if (s.key === key) return; // a retransmitted RRQ
    const name = p.filename.replace(/^\/+/, '');
    const data = this.o.tftp?.get(name);
    this.log.tftp.push({ ip, file: p.filename, found: data !== undefined, options: p.options.map(([k, v]) => `${k}=${v}`).join(',') });
    const port = this.nextTftpPort++;
    if (!data) {
      this.sendTftp(ip, clientPort, port, { op: 'ERROR', code: 1, message: 'File not found' });
      return;
    }
    const n = negotiateOptions(p.options, { maxBlksize: 1468, maxWindowsize: 1, fileSize: data.length });
    const first: TftpPacket = n.oack.length > 0 ? { op: 'OACK', options: n.oack } : { op: 'DATA', block: 1, data: data.subarray(0, n.blksize) };
    const s: TftpSession = { key, ip, clientPort, port, data, blksize: n.blksize, block: n.oack.length > 0 ? 0 : 1, last: first, tries: 0, done: false };
    this.tftpSessions.set(port, s);
    this.sendSession(s);
  }

  private tftpPacket(port: number, ip: string, clientPort: number, p: TftpPacket): void {
    const s = this.tftpSessions.get(port);
    if (!s || s.ip !== ip || s.clientPort !== clientPort) return;
    if (p.op === 'ERROR') { this.endSession(s); return; }
    if (p.op !== 'ACK' || p.block !== (s.block & 0xffff)) return;
    // The short (possibly empty) last block is acknowledged: the transfer is over.
    if (s.last.op === 'DATA' && s.last.data.length < s.blksize) {
      this.endSession(s);
      return;
    }
    s.block++;
    s.last = { op: 'DATA', block: s.block & 0xffff, data: s.data.subarray((s.block - 1) * s.blksize, s.block * s.blksize) };
    s.tries = 0;
    this.sendSession(s);
  }

  private sendSession(s: TftpSession): void {
    s.cancel?.();
    this.sendTftp(s.ip, s.clientPort, s.port, s.last);
    s.cancel = this.o.clock.setTimer(this.rto, () => {
      if (s.done) return;
      if (++s.tries > 6) { this.endSession(s); return; }
      this.sendSession(s);
    });
  }

  private endSession(s: TftpSession): void {
    s.done = true;
    s.cancel?.();
    this.tftpSessions.delete(s.port);
  }

  private sendTftp(ip: string, clientPort: number, port: number, p: TftpPacket): void {
    const payload = encodeTftp(p);
    this.toClient(ip, (mac) => encodeUdpFrame({ srcMac: this.mac, dstMac: mac, srcIp: this.ip, dstIp: ip, srcPort: port, dstPort: clientPort, payload }));
  }

  // ----- HTTP over TCP -----

  private tcpSegment(ip: string, s: TcpSegment): void {
    const key = `${ip}:${s.srcPort}`;
    let c = this.tcp.get(key);
    if (s.flags.rst) { if (c) this.closeConn(c); return; }
    if (s.flags.syn) {
      if (!c) {
        const iss = (ipv4ToInt(ip) ^ (s.srcPort << 16) ^ s.seq) >>> 0;
        c = { key, ip, clientPort: s.srcPort, iss, sndUna: iss, sndNxt: seqAdd(iss, 1), rcvNxt: seqAdd(s.seq, 1), request: Buffer.alloc(0), finSent: false, finAcked: false, peerFin: false, tries: 0, mss: s.mss ?? 536 };
        this.tcp.set(key, c);
      }
      this.sendSeg(c, { seq: c.iss, ack: c.rcvNxt, flags: { syn: true, ack: true }, window: 65535, mss: 1460 });
      this.arm(c);
      return;
    }
    if (!c) return;
    if (s.flags.ack && seqLt(c.sndUna, s.ack) && !seqLt(c.sndNxt, s.ack)) {
      c.sndUna = s.ack;
      c.tries = 0;
      if (c.finSent && s.ack === c.sndNxt) c.finAcked = true;
    }
    if (s.payload.length > 0) {
      if (s.seq === c.rcvNxt) {
        c.request = Buffer.concat([c.request, s.payload]);
        c.rcvNxt = seqAdd(c.rcvNxt, s.payload.length);
        this.sendSeg(c, { seq: c.sndNxt, ack: c.rcvNxt, flags: { ack: true }, window: 65535 });
        if (!c.response && c.request.includes('\r\n\r\n')) this.respond(c);
      } else {
        this.sendSeg(c, { seq: c.sndNxt, ack: c.rcvNxt, flags: { ack: true }, window: 65535 });
      }
    }
    if (s.flags.fin && seqAdd(s.seq, s.payload.length) === c.rcvNxt) {
      c.peerFin = true;
      c.rcvNxt = seqAdd(c.rcvNxt, 1);
      this.sendSeg(c, { seq: c.sndNxt, ack: c.rcvNxt, flags: { ack: true }, window: 65535 });
    }
    if (c.finAcked && c.peerFin) this.closeConn(c);
    else this.arm(c);
  }

  private respond(c: TcpConn): void {
    const line = c.request.toString('latin1').split('\r\n')[0] ?? '';
    const path = line.split(' ')[1] ?? '/';
    if (this.o.resetHttpPaths?.has(path)) {
      this.log.http.push({ ip: c.ip, path, status: 0 });
      this.sendSeg(c, { seq: c.sndNxt, ack: c.rcvNxt, flags: { rst: true, ack: true }, window: 0 });
      this.closeConn(c);
      return;
    }
    const body = this.o.http?.get(path);
    const status = body ? 200 : 404;
    this.log.http.push({ ip: c.ip, path, status });
    const payload = body ?? Buffer.from('not found\n');
    c.response = Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${body ? 'OK' : 'Not Found'}\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`, 'latin1'), payload]);
    this.transmit(c, this.o.reorderTcp === true);
  }

  /** Sends everything from sndUna: the response in MSS-sized segments, then FIN. */
  private transmit(c: TcpConn, reorder: boolean): void {
    const r = c.response!;
    const base = seqAdd(c.iss, 1);
    const from = (c.sndUna - base) >>> 0;
    const segs: TcpSegmentInput[] = [];
    for (let at = from; at < r.length; at += c.mss) {
      segs.push({ srcPort: 0, dstPort: 0, seq: seqAdd(base, at), ack: c.rcvNxt, flags: { ack: true, psh: at + c.mss >= r.length }, window: 65535, payload: r.subarray(at, at + c.mss) });
    }
    if (reorder && segs.length >= 2) [segs[0], segs[1]] = [segs[1]!, segs[0]!];
    for (const s of segs) this.sendSeg(c, s);
    c.sndNxt = seqAdd(base, r.length);
    this.sendSeg(c, { seq: c.sndNxt, ack: c.rcvNxt, flags: { fin: true, ack: true }, window: 65535 });
    c.sndNxt = seqAdd(c.sndNxt, 1);
    c.finSent = true;
    this.arm(c);
  }

  private arm(c: TcpConn): void {
    c.cancel?.();
    c.cancel = this.o.clock.setTimer(this.rto, () => {
      if (!this.tcp.has(c.key)) return;
      if (++c.tries > 8) { this.closeConn(c); return; }
      if (c.sndUna === c.iss) this.sendSeg(c, { seq: c.iss, ack: c.rcvNxt, flags: { syn: true, ack: true }, window: 65535, mss: 1460 });
      else if (c.response && c.sndUna !== c.sndNxt) this.transmit(c, false);
      this.arm(c);
    });
  }

  private closeConn(c: TcpConn): void {
    c.cancel?.();
    this.tcp.delete(c.key);
  }

  private sendSeg(c: TcpConn, s: Omit<TcpSegmentInput, 'srcPort' | 'dstPort'> & Partial<Pick<TcpSegmentInput, 'srcPort' | 'dstPort'>>): void {
    const segment: TcpSegmentInput = { ...s, srcPort: this.o.httpPort ?? 80, dstPort: c.clientPort };
    this.toClient(c.ip, (mac) => encodeTcpFrame({ srcMac: this.mac, dstMac: mac, srcIp: this.ip, dstIp: c.ip, segment }));
  }
}
