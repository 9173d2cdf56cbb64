// Writes a large capture of a PXE boot storm for the capture-analysis benchmark: machines that
// each do DHCP, TFTP pxelinux.0 and a kernel (blksize 1456, windowsize 4 for half of them),
// then an HTTP initrd, interleaved the way a rack powered on at once looks on the wire. Every
// frame goes through the project's encoders, so the file is as real as the lab's captures, and
// a few retransmitted blocks keep the analyzer's retransmission paths busy.
//   node --import=tsx bench/boot-storm-capture.ts OUT.pcap [--mb 200] [--pcapng]
import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeDhcp, type DhcpMessage } from '../provisioner/protocol/dhcp.ts';
import { encodeTcpFrame, encodeUdpFrame } from '../provisioner/protocol/frames.ts';
import { encodePcapHeader, encodePcapRecordHeader } from '../provisioner/protocol/pcap.ts';
import { encodeTftp } from '../provisioner/protocol/tftp.ts';

const SERVER_MAC = '52:54:00:00:00:fe';
const SERVER_IP = '10.20.0.1';
const BLKSIZE = 1456;
const MSS = 1448;
const KERNEL_BYTES = 2_000_000;
const INITRD_BYTES = 2_400_000;
const CONCURRENT = 16;

interface Machine { n: number; mac: string; ip: string }

function machine(n: number): Machine {
  return { n, mac: `52:54:01:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`, ip: `10.20.${1 + (n >> 8)}.${n & 0xff}` };
}

function dhcp(m: Machine, type: 'DISCOVER' | 'OFFER' | 'REQUEST' | 'ACK', xid: number): Buffer {
  const reply = type === 'OFFER' || type === 'ACK';
  const msg: DhcpMessage = {
    op: reply ? 2 : 1, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: reply ? m.ip : '0.0.0.0', siaddr: reply ? SERVER_IP : '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: m.mac, sname: '', file: reply ? 'pxelinux.0' : '',
    options: reply
      ? { messageType: type, serverId: SERVER_IP, leaseTime: 3600, subnetMask: '255.255.0.0', routers: [SERVER_IP], bootfileName: 'pxelinux.0', other: [] }
      : { messageType: type, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', clientArch: [0], maxMessageSize: 1464, ...(type === 'REQUEST' ? { requestedIp: m.ip, serverId: SERVER_IP } : {}), other: [] },
  };
  return encodeUdpFrame({
    srcMac: reply ? SERVER_MAC : m.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: reply ? SERVER_IP : '0.0.0.0', dstIp: '255.255.255.255',
    srcPort: reply ? 67 : 68, dstPort: reply ? 68 : 67, payload: encodeDhcp(msg),
  });
}

/** One TFTP read: RRQ, OACK, ACK 0, then DATA/ACK with the given window; block 7 sent twice. */
function* tftp(m: Machine, file: string, size: number, windowsize: number, port: number): Generator<Buffer> {
  const toServer = (payload: Buffer, dst: number) => encodeUdpFrame({ srcMac: m.mac, dstMac: SERVER_MAC, srcIp: m.ip, dstIp: SERVER_IP, srcPort: port, dstPort: dst, payload });
  const toClient = (payload: Buffer) => encodeUdpFrame({ srcMac: SERVER_MAC, dstMac: m.mac, srcIp: SERVER_IP, dstIp: m.ip, srcPort: 40000 + (port % 20000), dstPort: port, payload });
  const options: Array<[string, string]> = [['tsize', '0'], ['blksize', String(BLKSIZE)]];
  if (windowsize > 1) options.push(['windowsize', String(windowsize)]);
  yield toServer(encodeTftp({ op: 'RRQ', filename: file, mode: 'octet', options }), 69);
  yield toClient(encodeTftp({ op: 'OACK', options: [['tsize', String(size)], ['blksize', String(BLKSIZE)], ...(windowsize > 1 ? [['windowsize', String(windowsize)] as [string, string]] : [])] }));
  yield toServer(encodeTftp({ op: 'ACK', block: 0 }), 40000 + (port % 20000));
  const blocks = Math.floor(size / BLKSIZE) + 1;
  const payload = Buffer.alloc(BLKSIZE, m.n & 0xff);
  for (let b = 1; b <= blocks; b++) {
    const len = b === blocks ? size % BLKSIZE : BLKSIZE;
    const data = toClient(encodeTftp({ op: 'DATA', block: b & 0xffff, data: payload.subarray(0, len) }));
    yield data;
    if (b === 7) yield data;
    if (b % windowsize === 0 || b === blocks) yield toServer(encodeTftp({ op: 'ACK', block: b & 0xffff }), 40000 + (port % 20000));
  }
}

/** One HTTP GET on its own connection: handshake, request, response head + body, FIN. */
function* http(m: Machine, path: string, size: number, port: number): Generator<Buffer> {
  let cseq = 1000 + m.n;
  let sseq = 900_000 + m.n;
  const c = (flags: Record<string, boolean>, payload?: Buffer) => encodeTcpFrame({ srcMac: m.mac, dstMac: SERVER_MAC, srcIp: m.ip, dstIp: SERVER_IP, segment: { srcPort: port, dstPort: 80, seq: cseq, ack: sseq, flags, window: 65535, ...(payload ? { payload } : {}) } });
  const s = (flags: Record<string, boolean>, payload?: Buffer) => encodeTcpFrame({ srcMac: SERVER_MAC, dstMac: m.mac, srcIp: SERVER_IP, dstIp: m.ip, segment: { srcPort: 80, dstPort: port, seq: sseq, ack: cseq, flags, window: 65535, ...(payload ? { payload } : {}) } });
  yield c({ syn: true });
  cseq++;
  yield s({ syn: true, ack: true });
  sseq++;
  yield c({ ack: true });
  const req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${SERVER_IP}\r\nUser-Agent: iPXE/1.21.1\r\nConnection: close\r\n\r\n`);
  yield c({ ack: true, psh: true }, req);
  cseq += req.length;
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`);
  const body = Buffer.alloc(MSS, 0x5a);
  // The head shares the first segment with the start of the body, as a server's writev does.
  let left = head.length + size;
  let first = true;
  let segments = 0;
  while (left > 0) {
    const take = Math.min(MSS, left);
    const chunk = first ? Buffer.concat([head, body]).subarray(0, take) : body.subarray(0, take);
    first = false;
    yield s({ ack: true }, chunk);
    sseq = (sseq + take) >>> 0;
    left -= take;
    if (++segments % 2 === 0) yield c({ ack: true });
  }
  yield s({ fin: true, ack: true });
  sseq++;
  yield c({ fin: true, ack: true });
  cseq++;
  yield s({ ack: true });
}

function* boot(m: Machine): Generator<Buffer> {
  const xid = 0x10000000 + m.n;
  yield dhcp(m, 'DISCOVER', xid);
  yield dhcp(m, 'OFFER', xid);
  yield dhcp(m, 'REQUEST', xid);
  yield dhcp(m, 'ACK', xid);
  yield* tftp(m, 'pxelinux.0', 42_000, 1, 2000 + m.n);
  yield* tftp(m, `images/rackforge-node/vmlinuz`, KERNEL_BYTES, m.n % 2 === 0 ? 4 : 1, 3000 + m.n);
  yield* http(m, '/cblr/links/rackforge-node/initrd.img', INITRD_BYTES, 50000 + m.n);
}

/** Writes the storm until `targetBytes` are in the file; returns frames and bytes written. */
export function writeBootStormCapture(file: string, targetBytes: number): { frames: number; bytes: number; machines: number } {
  const fd = openSync(file, 'w');
  let bytes = 0;
  let frames = 0;
  let next = 1;
  let atNs = 1_795_000_000_000_000_000n;
  const batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = (): void => { for (const b of batch) writeSync(fd, b); batch.length = 0; batchBytes = 0; };
  const put = (b: Buffer): void => { batch.push(b); batchBytes += b.length; bytes += b.length; if (batchBytes > 4 << 20) flush(); };
  put(encodePcapHeader());
  const live: Array<Generator<Buffer>> = [];
  try {
    while (bytes < targetBytes || live.length > 0) {
      while (live.length < CONCURRENT && bytes < targetBytes) live.push(boot(machine(next++)));
      for (let i = 0; i < live.length; i++) {
        const r = (live[i] as Generator<Buffer>).next();
        if (r.done) { live.splice(i--, 1); continue; }
        atNs += 20_000n;
        put(encodePcapRecordHeader(r.value.length, atNs));
        put(r.value);
        frames++;
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { frames, bytes, machines: next - 1 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [out, ...rest] = process.argv.slice(2);
  if (!out) { console.error('usage: boot-storm-capture.ts OUT.pcap [--mb N]'); process.exit(2); }
  const mbAt = rest.indexOf('--mb');
  const mb = mbAt >= 0 ? Number(rest[mbAt + 1]) : 200;
  console.log(JSON.stringify(writeBootStormCapture(out, mb * 1_000_000)));
}
