// The DHCP half of a PXE ROM (PXE 2.1 §2.2, RFC 4578) as a state machine without I/O:
// DISCOVER → OFFER → REQUEST → ACK, retransmitting with the ROM's doubling timeouts, starting
// over on NAK. The caller feeds it decoded replies and timer expiries and sends what it says.
import { createHash } from 'node:crypto';
import { BOOTREQUEST, DHCP_FLAG_BROADCAST, type DhcpMessage, type DhcpOptions } from '../../provisioner/protocol/dhcp.ts';

export type Firmware = 'bios' | 'uefi';

/** Option 60 exactly as the ROMs write it: arch (RFC 4578 §2.1) and UNDI version. */
export const PXE_VENDOR_CLASS: Readonly<Record<Firmware, string>> = {
  bios: 'PXEClient:Arch:00000:UNDI:002001',
  uefi: 'PXEClient:Arch:00007:UNDI:003016',
};
const ARCH: Readonly<Record<Firmware, number>> = { bios: 0, uefi: 7 };
const UNDI: Readonly<Record<Firmware, { type: number; major: number; minor: number }>> = {
  bios: { type: 1, major: 2, minor: 1 },
  uefi: { type: 1, major: 3, minor: 16 },
};
/** What Intel's BIOS PXE ROM and EDK2 ask for, with the PXE vendor options 128-135. */
const PARAMETER_REQUEST_LIST = [1, 2, 3, 5, 6, 11, 12, 13, 15, 16, 17, 18, 43, 54, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135];
/** Option 57: a ROM's UNDI buffer takes a 1500-byte frame less the IP and UDP headers. */
export const PXE_MAX_MESSAGE_SIZE = 1464;
/** PXE 2.1: four DISCOVERs, waiting 4, 8, 16 and 32 s. */
export const PXE_DHCP_RETRY_MS: readonly number[] = [4000, 8000, 16000, 32000];

/**
 * A stable machine UUID for a MAC (what SMBIOS would report): the same node gets the same
 * pxelinux.cfg/<uuid> candidate on every run. Name-based (SHA-1, RFC 4122 version 5 layout).
 */
export function clientUuidFor(mac: string): Buffer {
  const id = createHash('sha1').update(`rackforge-synthetic:${mac.toLowerCase()}`).digest().subarray(0, 16);
  id[6] = (id[6]! & 0x0f) | 0x50;
  id[8] = (id[8]! & 0x3f) | 0x80;
  return Buffer.from(id);
}

/** 8-4-4-4-12 lower-case hex, bytes in wire order, as pxelinux names its UUID config file. */
export function formatUuid(id: Buffer): string {
  const h = id.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface DhcpLease {
  ip: string;
  /** Option 54 of the ACK (or of the offer when the ACK omits it). */
  serverId: string;
  /** Where TFTP goes: siaddr, else option 66 when it is an address, else the server identifier. */
  nextServer: string;
  /** Option 67, else the header's file field; undefined when the server named none. */
  bootFile?: string;
  subnetMask?: string;
  routers: string[];
  leaseSeconds?: number;
}

export interface DhcpClientOptions {
  mac: string;
  firmware: Firmware;
  uuid: Buffer;
  /** Transaction ids: one per DISCOVER cycle. */
  nextXid: () => number;
  /** Wait after each transmission; its length is the number of tries per phase. */
  retryMs?: readonly number[];
  /** Give up after this many restarts (NAK, or a REQUEST nobody answered). */
  maxRestarts?: number;
}

/**
 * What to do next. `send` goes out broadcast; `waitMs` (re)arms the single timer, null cancels
 * it. `bound`, `noBootFile` and `failed` end the exchange.
 */
export interface DhcpStep {
  send?: DhcpMessage;
  waitMs?: number | null;
  bound?: DhcpLease;
  /** Offers came, none with a boot file: the ROM gives up (PXE-E53) and the BIOS boots the disk. */
  noBootFile?: string;
  failed?: string;
  /** Something worth a status event or log line (a NAK, a retransmission). */
  note?: string;
}

type State = 'init' | 'selecting' | 'requesting' | 'done';

const ZERO = '0.0.0.0';
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export class DhcpClient {
  private state: State = 'init';
  private xid = 0;
  private tries = 0;
  private restarts = 0;
  private startedAt = 0;
  private offer: DhcpMessage | undefined;
  private bootlessOffer: DhcpMessage | undefined;
  private readonly retryMs: readonly number[];
  private readonly maxRestarts: number;

  constructor(private readonly o: DhcpClientOptions) {
    this.retryMs = o.retryMs && o.retryMs.length > 0 ? o.retryMs : PXE_DHCP_RETRY_MS;
    this.maxRestarts = o.maxRestarts ?? 3;
  }

  get phase(): State {
    return this.state;
  }

  start(nowMs: number): DhcpStep {
    this.startedAt = nowMs;
    return this.discover(nowMs);
  }

  receive(m: DhcpMessage, nowMs: number): DhcpStep {
    if (m.op !== 2 || m.xid !== this.xid || m.chaddr !== this.o.mac.toLowerCase()) return {};
    const type = m.options.messageType;
    if (this.state === 'selecting' && type === 'OFFER') {
      if (m.yiaddr === ZERO) return { note: 'OFFER without an address ignored' };
      if (bootFileOf(m) === undefined) {
        // A ROM keeps listening for an offer (or a ProxyDHCP answer) that names a boot file.
        this.bootlessOffer ??= m;
        return { note: `OFFER of ${m.yiaddr} names no boot file` };
      }
      this.offer = m;
      this.state = 'requesting';
      this.tries = 0;
      return this.request(nowMs);
    }
    if (this.state === 'requesting' && type === 'ACK') {
      this.state = 'done';
      const lease = leaseOf(m, this.offer!);
      if (lease.bootFile === undefined) return { waitMs: null, noBootFile: `PXE-E53: the ACK for ${lease.ip} names no boot file` };
      return { waitMs: null, bound: lease };
    }
    if (this.state === 'requesting' && type === 'NAK') {
      const why = m.options.other.find((x) => x.code === 56)?.data.toString('latin1');
      return this.restart(nowMs, `NAK${why ? `: ${why}` : ''}`);
    }
    return {};
  }

  timeout(nowMs: number): DhcpStep {
    if (this.state === 'selecting') {
      if (this.bootlessOffer) {
        this.state = 'done';
        return { waitMs: null, noBootFile: `PXE-E53: the offer of ${this.bootlessOffer.yiaddr} names no boot file` };
      }
      if (this.tries >= this.retryMs.length) {
        this.state = 'done';
        return { waitMs: null, failed: `no DHCP offer after ${this.tries} DISCOVERs` };
      }
      return { ...this.transmitDiscover(nowMs), note: `DISCOVER retransmitted (try ${this.tries})` };
    }
    if (this.state === 'requesting') {
      if (this.tries >= this.retryMs.length) return this.restart(nowMs, `no ACK after ${this.tries} REQUESTs`);
      return { ...this.request(nowMs), note: `REQUEST retransmitted (try ${this.tries})` };
    }
    return {};
  }

  private restart(nowMs: number, why: string): DhcpStep {
    this.restarts++;
    if (this.restarts > this.maxRestarts) {
      this.state = 'done';
      return { waitMs: null, failed: `${why}; gave up after ${this.maxRestarts} restarts` };
    }
    return { ...this.discover(nowMs), note: `${why}: starting over` };
  }

  private discover(nowMs: number): DhcpStep {
    this.state = 'selecting';
    this.xid = this.o.nextXid() >>> 0;
    this.tries = 0;
    this.offer = undefined;
    this.bootlessOffer = undefined;
    return this.transmitDiscover(nowMs);
  }

  private transmitDiscover(nowMs: number): DhcpStep {
    const wait = this.retryMs[this.tries]!;
    this.tries++;
    return { send: this.message('DISCOVER', nowMs, {}), waitMs: wait };
  }

  private request(nowMs: number): DhcpStep {
    const offer = this.offer!;
    const wait = this.retryMs[this.tries]!;
    this.tries++;
    const extra: Partial<DhcpOptions> = { requestedIp: offer.yiaddr };
    if (offer.options.serverId) extra.serverId = offer.options.serverId;
    return { send: this.message('REQUEST', nowMs, extra), waitMs: wait };
  }

  private message(type: 'DISCOVER' | 'REQUEST', nowMs: number, extra: Partial<DhcpOptions>): DhcpMessage {
    const f = this.o.firmware;
    return {
      op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: this.xid,
      secs: Math.min(0xffff, Math.floor((nowMs - this.startedAt) / 1000)),
      // PXE ROMs cannot take unicast before they have an address.
      flags: DHCP_FLAG_BROADCAST,
      ciaddr: ZERO, yiaddr: ZERO, siaddr: ZERO, giaddr: ZERO,
      chaddr: this.o.mac.toLowerCase(), sname: '', file: '',
      options: {
        messageType: type,
        parameterRequestList: PARAMETER_REQUEST_LIST,
        maxMessageSize: PXE_MAX_MESSAGE_SIZE,
        vendorClass: PXE_VENDOR_CLASS[f],
        clientArch: [ARCH[f]],
        clientNdi: UNDI[f],
        clientUuid: { type: 0, id: this.o.uuid },
        ...extra,
        other: [],
      },
    };
  }
}

/** Option 67, else the header's file field (what a ROM reads), or undefined. */
export function bootFileOf(m: DhcpMessage): string | undefined {
  const name = (m.options.bootfileName ?? m.file).replace(/\0+$/, '');
  return name === '' ? undefined : name;
}

function leaseOf(ack: DhcpMessage, offer: DhcpMessage): DhcpLease {
  const serverId = ack.options.serverId ?? offer.options.serverId ?? ZERO;
  const opt66 = ack.options.tftpServerName ?? offer.options.tftpServerName;
  const nextServer = ack.siaddr !== ZERO ? ack.siaddr
    : offer.siaddr !== ZERO ? offer.siaddr
    : opt66 && IPV4.test(opt66) ? opt66
    : serverId;
  const bootFile = bootFileOf(ack) ?? bootFileOf(offer);
  const mask = ack.options.subnetMask ?? offer.options.subnetMask;
  const leaseSeconds = ack.options.leaseTime ?? offer.options.leaseTime;
  return {
    ip: ack.yiaddr !== ZERO ? ack.yiaddr : offer.yiaddr,
    serverId,
    nextServer,
    ...(bootFile !== undefined ? { bootFile } : {}),
    ...(mask !== undefined ? { subnetMask: mask } : {}),
    routers: ack.options.routers ?? offer.options.routers ?? [],
    ...(leaseSeconds !== undefined ? { leaseSeconds } : {}),
  };
}
