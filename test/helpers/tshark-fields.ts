// Frame-by-frame agreement with Wireshark: the same fields read by `tshark -T fields` and by
// rackforge's own reader and codecs, as text in tshark's own formats, so that two rows can be
// compared field by field and the first disagreement named with its frame number.
//
// Our side decodes each frame exactly as far as the codecs go, with the same dissection rules
// tshark applies by default: DHCP on UDP 67/68, TFTP on UDP 69 and on the conversation an RRQ
// or WRQ opened (the client's address and port with the server's address, any server port),
// HTTP on a TCP segment that starts like HTTP. Reassembly is off on both sides (tshark is run
// with TCP desegmentation and IP defragmentation off): one frame, one decode.
import { execFile } from 'node:child_process';
import { readCapture } from '../../simulator/analysis/capture-source.ts';
import { decodeLinkFrame, type DecodedFrame } from '../../provisioner/protocol/frames.ts';
import { DHCP_MESSAGE_TYPES, decodeDhcp, type DhcpMessage } from '../../provisioner/protocol/dhcp.ts';
import { TFTP_OPCODES, decodeTftp, type TftpPacket } from '../../provisioner/protocol/tftp.ts';
import { decodeHttpHead, startsLikeHttp, type HttpHead } from '../../provisioner/protocol/http1.ts';
import { DecodeError } from '../../lib/errors.ts';
import type { CapturedPacket } from '../../provisioner/protocol/pcap.ts';

/** The fields compared, in tshark's names (checked against `tshark -G fields`, Wireshark 4.0). */
export const AGREEMENT_FIELDS = [
  'frame.number', 'frame.cap_len', 'frame.len',
  'eth.src', 'eth.dst', 'sll.src.eth', 'sll.pkttype',
  'ip.src', 'ip.dst', 'ip.proto', 'ipv6.src', 'ipv6.dst',
  'udp.srcport', 'udp.dstport', 'tcp.srcport', 'tcp.dstport',
  'dhcp.type', 'dhcp.id', 'dhcp.hw.mac_addr', 'dhcp.option.dhcp', 'dhcp.option.type', 'dhcp.ip.your', 'dhcp.ip.server',
  'dhcp.file', 'dhcp.option.bootfile_name', 'dhcp.option.client_system_architecture',
  'tftp.opcode', 'tftp.block', 'tftp.source_file', 'tftp.error.code',
  'http.request.method', 'http.request.uri', 'http.response.code',
] as const;
export type AgreementField = (typeof AGREEMENT_FIELDS)[number];
/** One frame: field → value as tshark prints it (several occurrences comma-separated); absent = not decoded. */
export type FieldRow = Partial<Record<AgreementField, string>>;

/** Per-frame dissection as rackforge's codecs see it; reassembly off, as for tshark below. */
const TSHARK_PREFERENCES = ['-o', 'tcp.desegment_tcp_streams:FALSE', '-o', 'ip.defragment:FALSE', '-o', 'http.desegment_headers:FALSE', '-o', 'http.desegment_body:FALSE'];

/** `tshark -r FILE -T fields` with AGREEMENT_FIELDS, one row per frame. */
export function tsharkRows(file: string): Promise<FieldRow[]> {
  const args = ['-r', file, '-n', ...TSHARK_PREFERENCES, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...AGREEMENT_FIELDS.flatMap((f) => ['-e', f])];
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { maxBuffer: 512 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`tshark ${args.join(' ')}: ${err.message}\n${stderr}`)); return; }
      const rows: FieldRow[] = [];
      for (const line of stdout.split('\n')) {
        if (line === '') continue;
        const values = line.split('\t');
        const row: FieldRow = {};
        AGREEMENT_FIELDS.forEach((f, i) => { const v = values[i]; if (v !== undefined && v !== '') row[f] = v; });
        rows.push(row);
      }
      resolve(rows);
    });
  });
}

const DHCP_PORTS = new Set([67, 68]);
const TFTP_PORT = 69;
const IP_PROTO_ICMP = 1;

/** What our side could not decode in a frame that looked like it carried the protocol. */
export interface OurProblem { frame: number; layer: string; error: string }

export interface OurDecoding {
  rows: FieldRow[];
  problems: OurProblem[];
  /** The reader's verdict on the file (undefined when it read to the end). */
  readError?: DecodeError;
  format: 'pcap' | 'pcapng' | undefined;
  linktypes: Set<number>;
}

const DHCP_TYPE_NUMBER = DHCP_MESSAGE_TYPES as Readonly<Record<string, number>>;

/** Option codes present in a decoded DHCP message (typed ones back to their codes). */
function dhcpOptionCodes(m: DhcpMessage): number[] {
  const o = m.options;
  const named: Array<[unknown, number]> = [
    [o.subnetMask, 1], [o.routers, 3], [o.dnsServers, 6], [o.domainName, 15], [o.broadcastAddress, 28], [o.vendorSpecific, 43],
    [o.requestedIp, 50], [o.leaseTime, 51], [o.messageType, 53], [o.serverId, 54], [o.parameterRequestList, 55], [o.maxMessageSize, 57],
    [o.renewalTime, 58], [o.rebindingTime, 59], [o.vendorClass, 60], [o.clientId, 61], [o.tftpServerName, 66], [o.bootfileName, 67],
    [o.userClass, 77], [o.relayAgentInfo, 82], [o.clientArch, 93], [o.clientNdi, 94], [o.clientUuid, 97],
  ];
  const codes = named.filter(([v]) => v !== undefined).map(([, c]) => c);
  for (const r of o.other) codes.push(r.code);
  return codes;
}

/** tshark lists every option instance in wire order, End included (printed as 0 by 4.0): compare the set of codes. */
export function optionCodeSet(list: string | undefined): string | undefined {
  if (list === undefined) return undefined;
  const codes = new Set(list.split(',').map(Number).filter((c) => c !== 0 && c !== 255));
  return [...codes].sort((a, b) => a - b).join(',');
}

function dhcpFields(row: FieldRow, m: DhcpMessage): void {
  row['dhcp.type'] = String(m.op);
  row['dhcp.id'] = `0x${m.xid.toString(16).padStart(8, '0')}`;
  // tshark shows the Ethernet address of option 61 (type 1, 6 bytes) under the same field as chaddr.
  const macs: string[] = [];
  if (m.htype === 1 && m.hlen === 6) macs.push(m.chaddr);
  const id = m.options.clientId;
  if (id && id.length === 7 && id[0] === 1) macs.push([...id.subarray(1)].map((x) => x.toString(16).padStart(2, '0')).join(':'));
  if (macs.length > 0) row['dhcp.hw.mac_addr'] = macs.join(',');
  if (m.options.messageType !== undefined) row['dhcp.option.dhcp'] = String(DHCP_TYPE_NUMBER[m.options.messageType]);
  const codes = dhcpOptionCodes(m);
  if (codes.length > 0) row['dhcp.option.type'] = [...new Set(codes)].sort((a, b) => a - b).join(',');
  row['dhcp.ip.your'] = m.yiaddr;
  row['dhcp.ip.server'] = m.siaddr;
  if (m.file !== '') row['dhcp.file'] = m.file;
  if (m.options.bootfileName !== undefined) row['dhcp.option.bootfile_name'] = m.options.bootfileName.replace(/\0+$/, '');
  if (m.options.clientArch !== undefined) row['dhcp.option.client_system_architecture'] = m.options.clientArch.join(',');
}

function tftpFields(row: FieldRow, t: TftpPacket): void {
  row['tftp.opcode'] = String(TFTP_OPCODES[t.op]);
  if (t.op === 'DATA' || t.op === 'ACK') row['tftp.block'] = String(t.block);
  if (t.op === 'RRQ') row['tftp.source_file'] = t.filename;
  if (t.op === 'ERROR') row['tftp.error.code'] = String(t.code);
}

function httpFields(row: FieldRow, h: HttpHead): void {
  if (h.kind === 'request') { row['http.request.method'] = h.method; row['http.request.uri'] = h.target; }
  else row['http.response.code'] = String(h.status);
}

/** A TFTP conversation as tshark keys it: the client's address and port, the server's address. */
const tftpKey = (clientIp: string, clientPort: number, serverIp: string): string => `${clientIp}:${clientPort}>${serverIp}`;

/** Decodes every frame of a capture with rackforge's reader and codecs, into tshark-shaped rows. */
export async function ourRows(file: string): Promise<OurDecoding> {
  const rows: FieldRow[] = [];
  const problems: OurProblem[] = [];
  const linktypes = new Set<number>();
  const tftp = new Set<string>();
  const onPacket = (p: CapturedPacket): void => {
    linktypes.add(p.linktype);
    const row: FieldRow = { 'frame.number': String(p.number), 'frame.cap_len': String(p.capturedLength), 'frame.len': String(p.originalLength) };
    rows.push(row);
    let f: DecodedFrame;
    try {
      f = decodeLinkFrame(p.linktype, p.data, { originalLength: p.originalLength });
    } catch (e) {
      problems.push({ frame: p.number, layer: 'link', error: String(e) });
      return;
    }
    if (f.cooked) {
      if (f.cooked.address.includes(':')) row['sll.src.eth'] = f.cooked.address;
      row['sll.pkttype'] = String(f.cooked.packetType);
    } else {
      row['eth.src'] = f.eth.src;
      row['eth.dst'] = f.eth.dst;
    }
    if (f.ip) { row['ip.src'] = f.ip.src; row['ip.dst'] = f.ip.dst; row['ip.proto'] = String(f.ip.protocol); }
    if (f.ip6) { row['ipv6.src'] = f.ip6.src; row['ipv6.dst'] = f.ip6.dst; }
    const src = f.ip?.src ?? f.ip6?.src;
    const dst = f.ip?.dst ?? f.ip6?.dst;
    if (f.udp && src !== undefined && dst !== undefined) {
      const u = f.udp;
      row['udp.srcport'] = String(u.srcPort);
      row['udp.dstport'] = String(u.dstPort);
      const payload = u.payload;
      if (DHCP_PORTS.has(u.srcPort) || DHCP_PORTS.has(u.dstPort)) {
        try { dhcpFields(row, decodeDhcp(payload)); } catch (e) { problems.push({ frame: p.number, layer: 'dhcp', error: String(e) }); }
      } else if (u.dstPort === TFTP_PORT || tftp.has(tftpKey(dst, u.dstPort, src)) || tftp.has(tftpKey(src, u.srcPort, dst))) {
        try {
          const t = decodeTftp(payload);
          tftpFields(row, t);
          if (u.dstPort === TFTP_PORT && (t.op === 'RRQ' || t.op === 'WRQ')) tftp.add(tftpKey(src, u.srcPort, dst));
        } catch (e) { problems.push({ frame: p.number, layer: 'tftp', error: String(e) }); }
      }
    }
    if (f.tcp) {
      row['tcp.srcport'] = String(f.tcp.srcPort);
      row['tcp.dstport'] = String(f.tcp.dstPort);
      const payload = f.tcp.payload;
      if (payload.length > 0 && startsLikeHttp(payload)) {
        try {
          const h = decodeHttpHead(payload);
          if (h) httpFields(row, h);
        } catch (e) { problems.push({ frame: p.number, layer: 'http', error: String(e) }); }
      }
    }
  };
  const r = await readCapture(file, onPacket);
  return { rows, problems, format: r.format, linktypes, ...(r.error ? { readError: r.error } : {}) };
}

/**
 * The first field on which the two sides disagree, as a sentence naming the frame, or undefined.
 * Every field either side decoded is compared (a value on one side only is a disagreement),
 * with the rules written out below for what tshark shows that a frame-by-frame decode cannot.
 */
export function firstDisagreement(ours: readonly FieldRow[], theirs: readonly FieldRow[]): string | undefined {
  if (ours.length !== theirs.length) {
    const n = Math.min(ours.length, theirs.length);
    const at = ours.findIndex((r, i) => i < n && r['frame.number'] !== theirs[i]!['frame.number']);
    return `frame counts differ: ours ${ours.length}, tshark ${theirs.length}${at >= 0 ? ` (numbering already differs at row ${at + 1})` : ''}`;
  }
  for (let i = 0; i < ours.length; i++) {
    const o = normalisedTheirs(ours[i]!);
    const t = normalisedTheirs(theirs[i]!, ours[i]!);
    for (const f of AGREEMENT_FIELDS) {
      if (o[f] !== t[f]) {
        return `frame ${theirs[i]!['frame.number'] ?? i + 1}: ${f} is ${show(o[f])} for us, ${show(t[f])} for tshark\n  ours:   ${JSON.stringify(ours[i])}\n  tshark: ${JSON.stringify(theirs[i])}`;
      }
    }
  }
  return undefined;
}

const show = (v: string | undefined): string => (v === undefined ? '(absent)' : JSON.stringify(v));

/**
 * tshark's row reduced to what one frame decoded on its own can show:
 * - addresses and ports of the OUTER headers only: in an ICMP error tshark also dissects the
 *   quoted IP and UDP headers (a second ip.src, udp ports), which are not this frame's own;
 * - DHCP option codes as a set, End left out (see optionCodeSet).
 * Our own rows go through the same function, so both sides are shaped alike.
 */
function normalisedTheirs(row: FieldRow, ours?: FieldRow): FieldRow {
  const out: FieldRow = { ...row };
  for (const f of ['ip.src', 'ip.dst', 'ip.proto', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport', 'tcp.srcport', 'tcp.dstport'] as const) {
    const v = out[f];
    if (v !== undefined) out[f] = v.split(',')[0]!;
  }
  if (ours && out['ip.proto'] === String(IP_PROTO_ICMP) && ours['udp.srcport'] === undefined) {
    delete out['udp.srcport'];
    delete out['udp.dstport'];
  }
  if (ours) out['dhcp.option.type'] = optionCodeSet(out['dhcp.option.type']);
  if (out['dhcp.option.type'] === undefined) delete out['dhcp.option.type'];
  return out;
}

