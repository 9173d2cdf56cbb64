// Timeline entries: one line per step of a machine's boot, with the frames that show it and
// the structured event behind the line. Pure builders over the report types.
import type { ArpEventReport, DhcpEventReport, HttpExchangeReport, TftpTransferReport, TimelineEntry } from './capture-report.ts';
import { summarizeDhcp } from './dhcp-exchanges.ts';
import { httpFrames, summarizeHttp } from './http-exchanges.ts';
import { summarizeTftp, tftpFrames } from './tftp-transfers.ts';

export function dhcpEntry(mac: string, t: number, frame: number, dhcp: DhcpEventReport): TimelineEntry {
  return { kind: 'dhcp', mac, t, frames: [frame], summary: summarizeDhcp(dhcp), done: true, dhcp };
}

export function tftpEntry(tftp: TftpTransferReport, done: boolean): TimelineEntry {
  let summary: string;
  if (done) summary = summarizeTftp(tftp);
  else {
    const opts = Object.entries(tftp.requested).map(([k, v]) => `${k}=${v}`).join(' ');
    summary = `TFTP ${tftp.op} ${tftp.filename} ${tftp.op === 'RRQ' ? 'from' : 'to'} ${tftp.serverIp} started${opts ? ` (${opts})` : ''}`;
  }
  return { kind: 'tftp', mac: tftp.mac, t: tftp.t, frames: done ? tftpFrames(tftp) : [...tftp.frames.requests], summary, done, tftp };
}

export function httpEntry(http: HttpExchangeReport, done: boolean): TimelineEntry {
  const summary = done || http.method === null ? summarizeHttp(http) : `HTTP ${http.method} ${http.url} sent`;
  return { kind: 'http', mac: http.mac, t: http.t, frames: httpFrames(http), summary, done, http };
}

export function arpEntry(mac: string, t: number, frame: number, arp: ArpEventReport): TimelineEntry {
  const summary = arp.kind === 'probe'
    ? `ARP probe: is ${arp.targetIp} in use?`
    : `ARP announcement: ${arp.senderIp} is at ${arp.senderMac}`;
  return { kind: 'arp', mac, t, frames: [frame], summary, done: true, arp };
}
