// The capture analyzer: packets in, in file order; a CaptureReport out. It decodes each packet
// once, counts it, and hands it to the tracker of its protocol (DHCP, TFTP, HTTP over TCP, ARP);
// the machines' timelines are built from what the trackers saw. A packet that does not decode
// is a decode problem in the report, never an exception. Memory is flat in the file size: the
// trackers keep counters and per-item summaries, not packets.
import type { DecodeError } from '../../lib/errors.ts';
import { parseMac } from '../../lib/ids.ts';
import { decodeDhcp } from '../../provisioner/protocol/dhcp.ts';
import { ETHERTYPE } from '../../provisioner/protocol/ethernet.ts';
import type { DecodedFrame } from '../../provisioner/protocol/frames.ts';
import type { CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import { decodeTftp } from '../../provisioner/protocol/tftp.ts';
import type { CaptureReport, DecodeProblem, HttpExchangeReport, MachineReport, ProtocolCounts, ReadErrorReport, TftpTransferReport, TimelineEntry } from './capture-report.ts';
import { DhcpExchanges, dhcpHostname, formatUuid } from './dhcp-exchanges.ts';
import { HttpExchanges, httpExchangeReport, type HttpExchangeState } from './http-exchanges.ts';
import { MachineRegistry, type MachineState } from './machine-registry.ts';
import { decodeCapturedFrame, decodeProblem, isoMicros, offsetInFrame, secondsSince, wirePayloadLength, wireUdpPayloadLength } from './packet-decoding.ts';
import { arpEntry, dhcpEntry, httpEntry, tftpEntry } from './timeline-entries.ts';
import { TftpTransfers, type TftpTransferState } from './tftp-transfers.ts';

export interface CaptureAnalyzerOptions {
  /** Only this machine's timeline, transfers and exchanges (any case, ':' or '-' separators). */
  mac?: string;
}

export interface CaptureReadInfo {
  format?: 'pcap' | 'pcapng' | undefined;
}

export interface CaptureAnalyzer {
  /** Feed packets in file order; returns the timeline entries this packet completed or started (for `follow`). */
  add(p: CapturedPacket): TimelineEntry[];
  /** The report so far; readError (from readCapture) is recorded in it. Calling it changes nothing. */
  report(readError?: DecodeError, read?: CaptureReadInfo): CaptureReport;
}

/** Decode problems listed in the report; the count covers all of them. */
export const DECODE_PROBLEMS_KEPT = 1000;
const FILES_SERVED_KEPT = 2000;

const DHCP_PORTS = new Set([67, 68, 4011]);

/** "AA-BB-CC-DD-EE-FF" → "aa:bb:cc:dd:ee:ff". Throws RackforgeError for something that is not a MAC. */
export function normaliseMac(mac: string): string {
  return parseMac(mac);
}

export function createCaptureAnalyzer(o: CaptureAnalyzerOptions = {}): CaptureAnalyzer {
  const analyzer = new Analyzer(o.mac === undefined ? null : normaliseMac(o.mac));
  return {
    add: (p) => analyzer.add(p),
    report: (readError, read) => analyzer.report(readError, read),
  };
}

function zeroCounts(): ProtocolCounts {
  return { ethernet: 0, linuxCooked: 0, vlan: 0, arp: 0, ipv4: 0, ipv6: 0, udp: 0, tcp: 0, dhcp: 0, tftp: 0, http: 0, other: 0 };
}

class Analyzer {
  private frames = 0;
  private firstNs: bigint | undefined;
  private lastNs: bigint | undefined;
  private readonly linktypes = new Set<number>();
  private lastLinktype = -1;
  private readonly counts = zeroCounts();
  private readonly problems: DecodeProblem[] = [];
  private problemCount = 0;
  private readonly machines = new MachineRegistry();
  private readonly dhcp = new DhcpExchanges();
  private readonly tftp = new TftpTransfers();
  private readonly http: HttpExchanges;

  constructor(private readonly filter: string | null) {
    this.http = new HttpExchanges((ip, frameMac) => this.machines.macForIp(ip) ?? (frameMac === '' ? `ip:${ip}` : frameMac));
  }

  add(packet: CapturedPacket): TimelineEntry[] {
    this.frames++;
    // A pcapng simple packet block has no time: it happened no earlier than the packet before it.
    const p = packet.noTimestamp ? { ...packet, timestampNs: this.lastNs ?? 0n } : packet;
    const ns = p.timestampNs;
    if (!packet.noTimestamp) {
      if (this.firstNs === undefined) this.firstNs = ns;
      if (this.lastNs === undefined || ns > this.lastNs) this.lastNs = ns;
    }
    if (p.linktype !== this.lastLinktype) {
      this.linktypes.add(p.linktype);
      this.lastLinktype = p.linktype;
    }
    try {
      return this.packet(p);
    } catch (e) {
      // A bug in a tracker must not lose the rest of the capture: it is reported like a bad packet.
      this.problem(decodeProblem(p.number, e));
      return [];
    }
  }

  private problem(d: DecodeProblem): void {
    this.problemCount++;
    if (this.problems.length < DECODE_PROBLEMS_KEPT) this.problems.push(d);
  }

  private t(ns: bigint): number {
    return secondsSince(this.firstNs ?? ns, ns);
  }

  private packet(p: CapturedPacket): TimelineEntry[] {
    const c = this.counts;
    let frame: DecodedFrame;
    try {
      frame = decodeCapturedFrame(p);
    } catch (e) {
      c.other++;
      this.problem(decodeProblem(p.number, e));
      return [];
    }
    if (frame.cooked) c.linuxCooked++;
    else c.ethernet++;
    if (frame.eth.vlan) c.vlan++;
    if (frame.problem) this.problem(decodeProblem(p.number, frame.problem));
    const ethertype = frame.eth.ethertype;
    if (ethertype === ETHERTYPE.ARP) {
      c.arp++;
      return frame.arp ? this.arp(p, frame) : [];
    }
    let srcIp: string;
    let dstIp: string;
    if (ethertype === ETHERTYPE.IPV4) {
      c.ipv4++;
      if (!frame.ip) return [];
      srcIp = frame.ip.src;
      dstIp = frame.ip.dst;
    } else if (ethertype === ETHERTYPE.IPV6) {
      c.ipv6++;
      if (!frame.ip6) return [];
      srcIp = frame.ip6.src;
      dstIp = frame.ip6.dst;
    } else {
      c.other++;
      return [];
    }
    if (frame.udp) {
      c.udp++;
      return this.udp(p, frame, srcIp, dstIp);
    }
    if (frame.tcp) {
      c.tcp++;
      return this.tcp(p, frame, srcIp, dstIp);
    }
    return [];
  }

  private arp(p: CapturedPacket, frame: DecodedFrame): TimelineEntry[] {
    const a = frame.arp!;
    this.machines.noteArpClaim(a.senderMac, a.senderIp, p.number);
    const probe = a.senderIp === '0.0.0.0';
    const announce = !probe && a.senderIp === a.targetIp;
    if (!probe && !announce) return [];
    const m = this.machines.machine(a.senderMac, p.number, p.timestampNs);
    const entry = arpEntry(m.mac, this.t(p.timestampNs), p.number, {
      kind: probe ? 'probe' : 'announce', op: a.op, senderMac: a.senderMac, senderIp: a.senderIp, targetIp: a.targetIp,
    });
    this.machines.addItem(m, { entry });
    return this.emit(entry);
  }

  private emit(entry: TimelineEntry): TimelineEntry[] {
    return this.filter === null || entry.mac === this.filter ? [entry] : [];
  }

  private udp(p: CapturedPacket, frame: DecodedFrame, srcIp: string, dstIp: string): TimelineEntry[] {
    const u = frame.udp!;
    const sp = u.srcPort;
    const dp = u.dstPort;
    if (DHCP_PORTS.has(sp) || DHCP_PORTS.has(dp)) {
      let msg;
      try {
        msg = decodeDhcp(u.payload);
      } catch (e) {
        this.problem(decodeProblem(p.number, e, offsetInFrame(p, u.payload)));
        return [];
      }
      this.counts.dhcp++;
      return this.dhcpMessage(p, frame, msg, srcIp, dstIp, sp, dp);
    }
    if (dp === 69) {
      this.counts.tftp++;
      let pkt;
      try {
        pkt = decodeTftp(u.payload);
      } catch (e) {
        this.problem(decodeProblem(p.number, e, offsetInFrame(p, u.payload)));
        return [];
      }
      if (pkt.op !== 'RRQ' && pkt.op !== 'WRQ') return [];
      return this.tftpRequest(p, frame, pkt, srcIp, dstIp, sp);
    }
    let t: TftpTransferState | undefined;
    try {
      t = this.tftp.datagram(p.number, p.timestampNs, srcIp, sp, dstIp, dp, u.payload, wireUdpPayloadLength(p, u));
    } catch (e) {
      this.counts.tftp++;
      this.problem(decodeProblem(p.number, e, offsetInFrame(p, u.payload)));
      return [];
    }
    if (t === undefined) return [];
    this.counts.tftp++;
    return t.endFrame === p.number ? this.tftpDone(t) : [];
  }

  private dhcpMessage(p: CapturedPacket, frame: DecodedFrame, msg: ReturnType<typeof decodeDhcp>, srcIp: string, dstIp: string, sp: number, dp: number): TimelineEntry[] {
    const { mac, event } = this.dhcp.observe({ frame: p.number, msg, srcIp, dstIp, srcPort: sp, dstPort: dp, srcMac: frame.eth.src });
    const m = this.machines.machine(mac, p.number, p.timestampNs);
    if (event.direction === 'request') {
      for (const a of event.architectures) if (!m.architectures.has(a.code)) m.architectures.set(a.code, a);
      if (event.vendorClass) m.vendorClasses.add(event.vendorClass);
      for (const u of event.userClasses) m.userClasses.add(u);
      if (msg.options.clientUuid) m.uuid = formatUuid(msg.options.clientUuid.id);
      const hostname = dhcpHostname(msg);
      if (hostname) m.hostname = hostname;
      if (event.ciaddr) {
        this.machines.addAddress(m, event.ciaddr, 'dhcp', p.number);
        this.machines.learnIp(event.ciaddr, mac);
      }
    } else if (event.type === 'ACK' && !event.proxy && event.address) {
      this.machines.addAddress(m, event.address, 'dhcp', p.number);
      this.machines.learnIp(event.address, mac);
    }
    const entry = dhcpEntry(mac, this.t(p.timestampNs), p.number, event);
    this.machines.addItem(m, { entry });
    return this.emit(entry);
  }

  private tftpRequest(p: CapturedPacket, frame: DecodedFrame, req: Extract<ReturnType<typeof decodeTftp>, { op: 'RRQ' | 'WRQ' }>, srcIp: string, dstIp: string, sp: number): TimelineEntry[] {
    const mac = this.machines.macForIp(srcIp) ?? frame.eth.src;
    const r = this.tftp.request(p.number, p.timestampNs, mac, srcIp, sp, dstIp, req);
    const out: TimelineEntry[] = [];
    if (r.closed) out.push(...this.tftpDone(r.closed));
    if (r.started) {
      const m = this.machines.machine(mac, p.number, p.timestampNs);
      this.machines.addAddress(m, srcIp, 'ip', p.number);
      this.machines.addItem(m, { tftp: r.transfer });
      out.push(...this.emit(tftpEntry(this.tftpReport(r.transfer), false)));
    }
    return out;
  }

  private tftpReport(t: TftpTransferState): TftpTransferReport {
    const first = this.firstNs ?? t.firstNs;
    return this.tftp.reportOne(t, first, this.lastNs ?? first);
  }

  private tftpDone(t: TftpTransferState): TimelineEntry[] {
    return this.emit(tftpEntry(this.tftpReport(t), true));
  }

  private tcp(p: CapturedPacket, frame: DecodedFrame, srcIp: string, dstIp: string): TimelineEntry[] {
    const seg = frame.tcp!;
    const isHttp = this.http.segment(p.number, p.timestampNs, srcIp, dstIp, frame.eth.src, frame.eth.dst, seg, wirePayloadLength(p, seg.payload));
    if (isHttp) this.counts.http++;
    const ev = this.http.events;
    if (ev.started.length === 0 && ev.finished.length === 0 && ev.problems.length === 0) return [];
    for (const pr of ev.problems) this.problem(decodeProblem(pr.frame, pr.error, offsetInFrame(p, seg.payload) + pr.payloadOffset));
    const out: TimelineEntry[] = [];
    const first = this.firstNs ?? p.timestampNs;
    const last = this.lastNs ?? first;
    for (const ex of ev.started) {
      const m = this.machines.machine(ex.mac, p.number, p.timestampNs);
      this.machines.addAddress(m, ex.clientIp, 'ip', p.number);
      this.machines.addItem(m, { http: ex });
      if (!ev.finished.includes(ex)) out.push(...this.emit(httpEntry(this.httpReport(ex, first, last), false)));
    }
    for (const ex of ev.finished) out.push(...this.emit(httpEntry(this.httpReport(ex, first, last), true)));
    return out;
  }

  private httpReport(ex: HttpExchangeState, first: bigint, last: bigint): HttpExchangeReport {
    return httpExchangeReport(ex, first, last);
  }

  report(readError?: DecodeError, read?: CaptureReadInfo): CaptureReport {
    const first = this.firstNs ?? 0n;
    const last = this.lastNs ?? first;
    const tftpStates = this.tftp.transfers();
    const tftpReports = this.tftp.report(first, last);
    const tftpBy = new Map<TftpTransferState, TftpTransferReport>(tftpStates.map((t, i) => [t, tftpReports[i]!]));
    const httpStates = this.http.exchanges();
    const httpReports = this.http.report(first, last);
    const httpBy = new Map<HttpExchangeState, HttpExchangeReport>(httpStates.map((x, i) => [x, httpReports[i]!]));
    const keep = (mac: string): boolean => this.filter === null || mac === this.filter;

    const machines: MachineReport[] = this.machines.all()
      .filter((m) => keep(m.mac))
      .map((m) => this.machineReport(m, first, tftpBy, httpBy));

    const served = new Set<string>();
    for (const r of tftpReports) if (r.result === 'complete' && r.op === 'RRQ' && served.size < FILES_SERVED_KEPT) served.add(r.filename);

    return {
      file: {
        format: read?.format ?? null,
        frames: this.frames,
        firstTime: this.firstNs === undefined ? null : isoMicros(this.firstNs),
        lastT: secondsSince(first, last),
        linktypes: [...this.linktypes].sort((a, b) => a - b),
        protocols: { ...this.counts },
        decodeProblems: this.problems.map((x) => ({ ...x })),
        decodeProblemCount: this.problemCount,
        readError: readError ? readErrorReport(readError) : null,
      },
      filter: this.filter === null ? null : { mac: this.filter },
      machines,
      dhcpServers: this.dhcp.report(),
      tftpTransfers: tftpReports.filter((r) => keep(r.mac)),
      httpExchanges: httpReports.filter((r) => keep(r.mac)),
      tftpFilesServed: [...served].sort(),
    };
  }

  private machineReport(m: MachineState, first: bigint, tftpBy: Map<TftpTransferState, TftpTransferReport>, httpBy: Map<HttpExchangeState, HttpExchangeReport>): MachineReport {
    const timeline: TimelineEntry[] = m.items.map((item) => {
      if ('entry' in item) return item.entry;
      if ('tftp' in item) {
        const t = tftpBy.get(item.tftp)!;
        return tftpEntry(t, t.result !== 'in-progress');
      }
      const h = httpBy.get(item.http)!;
      return httpEntry(h, h.result !== 'in-progress');
    });
    let lastFrame = m.firstFrame;
    let lastT = secondsSince(first, m.firstNs);
    for (const e of timeline) {
      const f = e.kind === 'tftp' ? e.tftp.lastFrame : e.kind === 'http' ? e.http.lastFrame : e.frames[e.frames.length - 1]!;
      const end = e.kind === 'tftp' ? e.t + e.tftp.durationSeconds : e.kind === 'http' ? e.t + e.http.durationSeconds : e.t;
      if (f > lastFrame) lastFrame = f;
      if (end > lastT) lastT = Math.round(end * 1e6) / 1e6;
    }
    return {
      mac: m.mac,
      addresses: this.machines.addresses(m),
      architectures: [...m.architectures.values()],
      vendorClasses: [...m.vendorClasses],
      userClasses: [...m.userClasses],
      uuid: m.uuid,
      hostname: m.hostname,
      leaseFrom: this.dhcp.leaseFrom(m.mac),
      firstFrame: m.firstFrame,
      lastFrame,
      firstT: secondsSince(first, m.firstNs),
      lastT,
      timeline,
      timelineOmitted: m.omitted,
    };
  }
}

function readErrorReport(e: DecodeError): ReadErrorReport {
  const { code, message } = decodeProblem(0, e);
  return { code, offset: e.offset, message };
}
