// A node's IPv4 identity on the hub: its MAC, the address DHCP gave it, ARP in both
// directions (answering requests for its address, resolving the servers it talks to, with
// retries and a cache), and the framing of its UDP and TCP packets.
import { ipv4ToInt } from '../../lib/ids.ts';
import { ARP_OP, type ArpPacket } from '../../provisioner/protocol/arp.ts';
import { BROADCAST_MAC } from '../../provisioner/protocol/ethernet.ts';
import { encodeArpFrame, encodeTcpFrame, encodeUdpFrame } from '../../provisioner/protocol/frames.ts';
import type { TcpSegmentInput } from '../../provisioner/protocol/tcp.ts';
import { Deadline, type SyntheticClock } from './clock.ts';

const ZERO = '0.0.0.0';
const ZERO_MAC = '00:00:00:00:00:00';

/** The reply an ARP packet calls for from a host with this identity, or null (RFC 826). */
export function selectArpReply(p: ArpPacket, mac: string, ip: string | undefined): ArpPacket | null {
  if (ip === undefined || p.op !== ARP_OP.REQUEST || p.targetIp !== ip || p.senderIp === ZERO) return null;
  return { op: ARP_OP.REPLY, senderMac: mac, senderIp: ip, targetMac: p.senderMac, targetIp: p.senderIp };
}

export interface IpHostOptions {
  mac: string;
  clock: SyntheticClock;
  send: (frame: Buffer) => void;
  /** Wait for an ARP reply before asking again. */
  arpTimeoutMs: number;
  /** Requests per resolution. */
  arpTries: number;
}

interface Pending {
  tries: number;
  deadline: Deadline;
  waiters: Array<{ resolve: (mac: string) => void; reject: (e: Error) => void }>;
}

export class IpHost {
  readonly mac: string;
  private address: string | undefined;
  private network = 0;
  private mask = 0;
  private routers: string[] = [];
  private readonly cache = new Map<string, string>();
  private readonly pending = new Map<string, Pending>();
  private ipId: number;
  private closed = false;

  constructor(private readonly o: IpHostOptions, firstIpId = 0) {
    this.mac = o.mac.toLowerCase();
    this.ipId = firstIpId & 0xffff;
  }

  get ip(): string | undefined {
    return this.address;
  }

  configure(ip: string, subnetMask: string | undefined, routers: readonly string[]): void {
    this.address = ip;
    this.mask = subnetMask ? ipv4ToInt(subnetMask) : 0xffffff00;
    this.network = (ipv4ToInt(ip) & this.mask) >>> 0;
    this.routers = [...routers];
  }

  /** The address to ARP for: the destination itself on our subnet, else the first router. */
  nextHop(ip: string): string | { error: string } {
    if (((ipv4ToInt(ip) & this.mask) >>> 0) === this.network) return ip;
    const r = this.routers[0];
    return r ?? { error: `${ip} is off-link and DHCP gave no router` };
  }

  handleArp(p: ArpPacket): void {
    // Learn from every packet that names a sender we are waiting for or already know (RFC 826's merge).
    if (p.senderIp !== ZERO && (this.pending.has(p.senderIp) || this.cache.has(p.senderIp))) this.learn(p.senderIp, p.senderMac);
    const reply = selectArpReply(p, this.mac, this.address);
    if (reply) {
      this.learn(p.senderIp, p.senderMac);
      this.o.send(encodeArpFrame({ srcMac: this.mac, dstMac: p.senderMac, arp: reply }));
    }
  }

  resolve(ip: string): Promise<string> {
    const known = this.cache.get(ip);
    if (known) return Promise.resolve(known);
    if (this.closed) return Promise.reject(new Error('the node is shut down'));
    return new Promise((resolve, reject) => {
      let p = this.pending.get(ip);
      if (!p) {
        const entry: Pending = {
          tries: 0,
          waiters: [],
          deadline: new Deadline(this.o.clock, () => this.retry(ip, entry)),
        };
        p = entry;
        this.pending.set(ip, entry);
        this.request(ip, entry);
      }
      p.waiters.push({ resolve, reject });
    });
  }

  /** DHCP before an address: from 0.0.0.0 to the broadcast address. */
  sendDhcpBroadcast(payload: Buffer): void {
    this.o.send(encodeUdpFrame({ srcMac: this.mac, dstMac: BROADCAST_MAC, srcIp: ZERO, dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload, id: this.nextId() }));
  }

  sendUdp(dstMac: string, dstIp: string, srcPort: number, dstPort: number, payload: Buffer): void {
    this.o.send(encodeUdpFrame({ srcMac: this.mac, dstMac, srcIp: this.address ?? ZERO, dstIp, srcPort, dstPort, payload, id: this.nextId() }));
  }

  sendTcp(dstMac: string, dstIp: string, segment: TcpSegmentInput): void {
    this.o.send(encodeTcpFrame({ srcMac: this.mac, dstMac, srcIp: this.address ?? ZERO, dstIp, segment, id: this.nextId(), dontFragment: true }));
  }

  /** Fails pending resolutions; the host answers nothing more. */
  close(): void {
    this.closed = true;
    const err = new Error('the node is shut down');
    for (const p of this.pending.values()) {
      p.deadline.cancel();
      for (const w of p.waiters) w.reject(err);
    }
    this.pending.clear();
    this.address = undefined;
  }

  private learn(ip: string, mac: string): void {
    if (mac === ZERO_MAC || mac === BROADCAST_MAC) return;
    this.cache.set(ip, mac);
    const p = this.pending.get(ip);
    if (!p) return;
    this.pending.delete(ip);
    p.deadline.cancel();
    for (const w of p.waiters) w.resolve(mac);
  }

  private request(ip: string, p: Pending): void {
    p.tries++;
    const arp: ArpPacket = { op: ARP_OP.REQUEST, senderMac: this.mac, senderIp: this.address ?? ZERO, targetMac: ZERO_MAC, targetIp: ip };
    this.o.send(encodeArpFrame({ srcMac: this.mac, dstMac: BROADCAST_MAC, arp }));
    p.deadline.arm(this.o.arpTimeoutMs);
  }

  private retry(ip: string, p: Pending): void {
    if (this.pending.get(ip) !== p) return;
    if (p.tries < this.o.arpTries) {
      this.request(ip, p);
      return;
    }
    this.pending.delete(ip);
    const err = new Error(`no ARP reply from ${ip} after ${p.tries} requests`);
    for (const w of p.waiters) w.reject(err);
  }

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }
}
