// The shape of a capture analysis: what `rackforge capture summary|timeline|follow --json`
// prints and what the diagnosis reads. Plain JSON values only (no bigint, Buffer, Map or
// undefined-vs-missing games) so the object prints as it is. Every item names Wireshark frame
// numbers (frame.number) so an engineer can jump to the evidence. Times are seconds since the
// first packet of the file (µs precision, like Wireshark's "seconds since beginning of capture");
// the absolute time of that first packet is file.firstTime.
import type { ArtifactRole, BootFileContent, BootFirmware } from './boot-artifacts.ts';

export interface ProtocolCounts {
  /** Frames with an Ethernet link layer (LINKTYPE 1). */
  ethernet: number;
  /** Frames with a Linux cooked (SLL / SLL2) link layer. */
  linuxCooked: number;
  /** Frames carrying an 802.1Q tag. */
  vlan: number;
  arp: number;
  ipv4: number;
  ipv6: number;
  udp: number;
  tcp: number;
  /** UDP datagrams on ports 67/68/4011 that decode as DHCP/BOOTP. */
  dhcp: number;
  /** Read/write requests to port 69 and every datagram of a followed transfer. */
  tftp: number;
  /** TCP segments carrying bytes of a followed HTTP connection (heads and bodies). */
  http: number;
  /** Frames that are neither ARP, IPv4 nor IPv6 (STP, LLDP …) or that did not decode at all. */
  other: number;
}

export interface DecodeProblem {
  frame: number;
  /** Byte offset within the frame, as in Wireshark's bytes pane. */
  offset: number;
  /** The codec's DecodeError code (DHCP_BAD_OPTION_LENGTH, TFTP_BAD_OPCODE, HTTP_BAD_START_LINE …). */
  code: string;
  field: string;
  message: string;
}

export interface ReadErrorReport {
  code: string;
  /** Absolute byte offset in the file. */
  offset: number;
  message: string;
}

export interface CaptureFileSummary {
  format: 'pcap' | 'pcapng' | null;
  frames: number;
  /** ISO 8601 UTC with microseconds, of the first frame; null for a file without frames. */
  firstTime: string | null;
  /** Seconds from the first frame to the latest timestamp seen. */
  lastT: number;
  /** Link types seen, ascending. */
  linktypes: number[];
  protocols: ProtocolCounts;
  /** The first DECODE_PROBLEMS_KEPT problems in frame order; decodeProblemCount counts all. */
  decodeProblems: DecodeProblem[];
  decodeProblemCount: number;
  /** Why reading stopped early; everything before it is in this report. */
  readError: ReadErrorReport | null;
}

export interface ClientArchitecture {
  /** Option 93 value (or the Arch field of option 60). */
  code: number;
  /** 'BIOS (x86)', 'x64 UEFI', 'ARM64 UEFI HTTP' … */
  name: string;
}

export interface MachineAddress {
  ip: string;
  /** dhcp: from an ACK (yiaddr) or the client's ciaddr; arp: the machine said so in ARP; ip: it sent from it. */
  source: 'dhcp' | 'arp' | 'ip';
  /** The frame that first showed it. */
  frame: number;
}

export interface MachineReport {
  /** Lower-case colon form. */
  mac: string;
  addresses: MachineAddress[];
  architectures: ClientArchitecture[];
  vendorClasses: string[];
  userClasses: string[];
  /** Option 97, hex in byte order, 8-4-4-4-12 for the usual 16 bytes. */
  uuid: string | null;
  /** Option 12. */
  hostname: string | null;
  /** The DHCP server (its id) that sent the last ACK with an address. */
  leaseFrom: string | null;
  firstFrame: number;
  lastFrame: number;
  firstT: number;
  lastT: number;
  timeline: TimelineEntry[];
  /** Timeline entries not kept because the machine had more than TIMELINE_LIMIT. */
  timelineOmitted: number;
}

export interface DhcpServerReport {
  /** Option 54, or the source address when a reply had none. */
  id: string;
  /** proxy: every reply was ProxyDHCP (an OFFER with yiaddr 0.0.0.0, or on port 4011). */
  role: 'dhcp' | 'proxy';
  sourceIps: string[];
  sourceMacs: string[];
  offers: number;
  acks: number;
  naks: number;
  /** ProxyDHCP replies among the offers and acks. */
  proxyReplies: number;
  /** MACs it answered, sorted. */
  clients: string[];
  /** MACs whose last address lease came from it, sorted. */
  boundClients: string[];
  /** Boot files it gave (option 67 or the file field), sorted, at most 20. */
  bootFiles: string[];
  /** siaddr values other than 0.0.0.0 and option 66 values, sorted. */
  nextServers: string[];
  firstFrame: number;
  /** Its first reply frames (at most 20). */
  frames: number[];
}

export type DhcpMessageName = 'DISCOVER' | 'OFFER' | 'REQUEST' | 'DECLINE' | 'ACK' | 'NAK' | 'RELEASE' | 'INFORM' | 'BOOTP';

export interface DhcpEventReport {
  type: DhcpMessageName;
  direction: 'request' | 'reply';
  xid: number;
  /** "0x1a2b3c4d", as Wireshark prints it. */
  xidHex: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  srcMac: string;
  /** Replies: the server identifier (or source address); requests: option 54, the server chosen. */
  server: string | null;
  /** Replies: yiaddr when not 0.0.0.0 (the address offered or acknowledged). */
  address: string | null;
  ciaddr: string | null;
  /** Option 50. */
  requestedIp: string | null;
  /** siaddr when not 0.0.0.0. */
  nextServer: string | null;
  /** Option 66. */
  tftpServerName: string | null;
  /** Option 67, else the BOOTP file field; null when neither. */
  bootFile: string | null;
  /** A ProxyDHCP reply (no address, boot information only). */
  proxy: boolean;
  /** giaddr when not 0.0.0.0. */
  relay: string | null;
  /** Requests: option 93 (or option 60's Arch); replies: those of the request with the same xid. */
  architectures: ClientArchitecture[];
  vendorClass: string | null;
  userClasses: string[];
  /** The request (or, for a reply, the request it answers) came from a PXE/HTTP boot client. */
  netbootClient: boolean;
  /** The request (or the one a reply answers) came from iPXE (user class "iPXE"). */
  ipxeClient: boolean;
}

export type TftpResult =
  | 'complete'     // the last block (shorter than blksize) was sent
  | 'error'        // the server sent ERROR
  | 'aborted'      // the client sent ERROR, or re-requested before any data
  | 'timed-out'    // data stopped, no last block, no error, and the capture went on
  | 'no-response'  // the read request was never answered and the capture went on
  | 'in-progress'; // the capture ends within TFTP_STALL_SECONDS of its last packet

export interface TftpTransferReport {
  mac: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  /** The server's transfer port (TID); null until it answered. */
  serverPort: number | null;
  op: 'RRQ' | 'WRQ';
  filename: string;
  mode: string;
  /** Options the client asked for, lower-case names, values as sent. */
  requested: Record<string, string>;
  /** What the OACK granted; null when the server sent no OACK. */
  granted: Record<string, string> | null;
  /** Options were asked for, and the server answered with DATA instead of an OACK. */
  optionsIgnored: boolean;
  blksize: number;
  windowsize: number;
  /** tsize from the OACK. */
  tsize: number | null;
  result: TftpResult;
  error: { code: number; name: string; message: string; by: 'server' | 'client'; frame: number } | null;
  /** An aborted transfer that only asked for the size: the same client asked for the same file again. */
  sizeProbe: boolean;
  /** Payload bytes of the distinct DATA blocks seen (the UDP length when the frame was cut short). */
  bytes: number;
  /** Distinct DATA blocks seen (block numbers wrap at 65535; counted across the wrap). */
  blocks: number;
  /** Blocks the capture skipped (a jump in block numbers); their bytes are not in `bytes`. */
  blocksMissing: number;
  retransmittedBlocks: number;
  retransmittedBytes: number;
  duplicateAcks: number;
  /** How many times the client sent the read request (1 = no retransmission). */
  requests: number;
  t: number;
  durationSeconds: number;
  /** bytes / duration; 0 for a transfer shorter than a microsecond. */
  bytesPerSecond: number;
  firstFrame: number;
  lastFrame: number;
  frames: {
    requests: number[];
    oack: number | null;
    firstData: number | null;
    lastData: number | null;
    error: number | null;
  };
  role: ArtifactRole;
  /** What the name says the file runs on (boot loaders and iPXE binaries). */
  firmware: BootFirmware | null;
  /** What block 1 says, when it was captured with enough bytes. */
  content: BootFileContent | null;
}

export type HttpResult =
  | 'complete'     // the whole response body was seen (or it had none)
  | 'incomplete'   // the connection ended before the body did
  | 'reset'        // RST before the response ended
  | 'no-response'  // the connection ended, or the capture went on HTTP_STALL_SECONDS, with no response
  | 'in-progress';

export interface HttpExchangeReport {
  mac: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  /** null for a response whose request was not captured. */
  method: string | null;
  /** The request target with install tokens replaced by ***. */
  target: string | null;
  host: string | null;
  /** http://host/target (tokens redacted), when the target is known. */
  url: string | null;
  status: number | null;
  reason: string | null;
  contentLength: number | null;
  chunked: boolean;
  /** Response body bytes, counted in TCP sequence space. */
  bodyBytes: number;
  requestBodyBytes: number;
  result: HttpResult;
  /** Response bytes sent again (TCP retransmissions), not counted in bodyBytes. */
  retransmittedBytes: number;
  t: number;
  durationSeconds: number;
  bytesPerSecond: number;
  requestFrame: number | null;
  responseFrame: number | null;
  lastFrame: number;
  role: ArtifactRole;
  /** install-event stage / install-trigger mode. */
  stage: string | null;
  /** The system or profile named in the URL. */
  system: string | null;
  /** The distro folder of /cblr/links/<distro>/…. */
  distro: string | null;
}

export interface ArpEventReport {
  /** probe: sender 0.0.0.0 (address conflict detection); announce: gratuitous (sender = target). */
  kind: 'probe' | 'announce';
  op: number;
  senderMac: string;
  senderIp: string;
  targetIp: string;
}

interface TimelineBase {
  /** The machine (lower-case colon MAC) this entry belongs to. */
  mac: string;
  /** Seconds since the first packet. */
  t: number;
  /** The frames that are the evidence, ascending. */
  frames: number[];
  /** One line for people. */
  summary: string;
  /** false for a transfer or exchange still under way when this entry was produced (follow). */
  done: boolean;
}

export type TimelineEntry =
  | (TimelineBase & { kind: 'dhcp'; dhcp: DhcpEventReport })
  | (TimelineBase & { kind: 'tftp'; tftp: TftpTransferReport })
  | (TimelineBase & { kind: 'http'; http: HttpExchangeReport })
  | (TimelineBase & { kind: 'arp'; arp: ArpEventReport });

export interface CaptureReport {
  file: CaptureFileSummary;
  /** The --mac filter, normalised; machines, transfers and exchanges are only that machine's. */
  filter: { mac: string } | null;
  /** Sorted by MAC. */
  machines: MachineReport[];
  /** In order of their first reply. */
  dhcpServers: DhcpServerReport[];
  /** In order of their first frame. */
  tftpTransfers: TftpTransferReport[];
  /** In order of their first frame. */
  httpExchanges: HttpExchangeReport[];
  /** Every file name a TFTP transfer completed in this capture (any machine), sorted, at most 2000. */
  tftpFilesServed: string[];
}
