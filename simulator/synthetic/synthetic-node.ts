// One synthetic PXE machine: its IP identity and the thin loops that run the protocol state
// machines (DHCP, TFTP, TCP + HTTP) on the frames the fleet hands it, with their timers. The
// boot itself is the sequence in pxelinux-flow.ts; the decisions are in the state machines.
import type { Random } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import { decodeDhcp, encodeDhcp, type DhcpMessage } from '../../provisioner/protocol/dhcp.ts';
import type { DecodedFrame } from '../../provisioner/protocol/frames.ts';
import type { Ipv4Packet } from '../../provisioner/protocol/ipv4.ts';
import type { TcpSegment } from '../../provisioner/protocol/tcp.ts';
import { decodeTftp, encodeTftp, type TftpPacket } from '../../provisioner/protocol/tftp.ts';
import type { UdpDatagram } from '../../provisioner/protocol/udp.ts';
import { Deadline, randomU32, type SyntheticClock } from './clock.ts';
import { clientUuidFor, DhcpClient, type DhcpLease, type DhcpStep } from './dhcp-client.ts';
import { HttpResponseParser, parseHttpUrl, renderHttpGet } from './http-get.ts';
import { IpHost } from './ip-host.ts';
import { FINAL_STAGES, type SyntheticNodeSpec, type SyntheticNodeStatus, type SyntheticStage } from './node-status.ts';
import { BootFlowError, runBootFlow, type BootFetcher, type FetchLevel, type FetchResult, type TftpFetchOptions } from './pxelinux-flow.ts';
import { TcpClient, type TcpStep } from './tcp-client.ts';
import { TftpRead, type TftpStep } from './tftp-client.ts';

export interface SyntheticTimers {
  /** Wait after each DISCOVER / REQUEST; the length is the number of tries. */
  dhcpRetryMs: number[];
  tftpTimeoutMs: number;
  tftpRetries: number;
  /** First TCP retransmission timeout (doubled per retry); idle limit is 8 times it. */
  tcpTimeoutMs: number;
  tcpRetries: number;
  arpTimeoutMs: number;
  arpTries: number;
  /** A node that has not finished by then fails. */
  overallMs: number;
}

/** A PXE ROM's own: DHCP 4/8/16/32 s, TFTP 1 s × 6 (Intel ROMs), TCP from 1 s (RFC 6298). */
export const DEFAULT_TIMERS: SyntheticTimers = {
  dhcpRetryMs: [4000, 8000, 16000, 32000],
  tftpTimeoutMs: 1000,
  tftpRetries: 6,
  tcpTimeoutMs: 1000,
  tcpRetries: 6,
  arpTimeoutMs: 1000,
  arpTries: 4,
  overallMs: 600_000,
};

export interface SyntheticNodeDeps {
  clock: SyntheticClock;
  random: Random;
  send: (frame: Buffer) => void;
  timers: SyntheticTimers;
  fetch: FetchLevel;
  log: Logger;
  /** The node took or gave up an address (the fleet routes ARP requests by it). */
  onAddress?: (node: SyntheticNode, ip: string | undefined) => void;
}

type PortHandler = { udp?: (ip: Ipv4Packet, d: UdpDatagram) => void; tcp?: (ip: Ipv4Packet, s: TcpSegment) => void };

const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 16384;

export class SyntheticNode implements BootFetcher {
  readonly spec: SyntheticNodeSpec;
  readonly status: SyntheticNodeStatus;
  private readonly host: IpHost;
  private readonly uuid: Buffer;
  private readonly ports = new Map<number, PortHandler>();
  private nextPort: number;
  private dhcpStep: ((m: DhcpMessage) => void) | undefined;
  private lease: DhcpLease | undefined;
  /** Undo functions of work in flight: timers to cancel, promises to settle. */
  private readonly active = new Set<() => void>();
  /** TCP connections still closing after the boot moved on. */
  private readonly lingering = new Set<Promise<void>>();
  private finished: Promise<SyntheticNodeStatus> | undefined;
  private settle: ((s: SyntheticNodeStatus) => void) | undefined;
  private stopped = false;

  constructor(spec: SyntheticNodeSpec, private readonly d: SyntheticNodeDeps) {
    this.spec = { ...spec, mac: spec.mac.toLowerCase() };
    this.status = { name: spec.name, mac: this.spec.mac, stage: 'dhcp-discover', events: [] };
    this.uuid = clientUuidFor(this.spec.mac);
    const r = randomU32(d.random);
    this.nextPort = EPHEMERAL_FIRST + (r % EPHEMERAL_COUNT);
    this.host = new IpHost({ mac: this.spec.mac, clock: d.clock, send: d.send, arpTimeoutMs: d.timers.arpTimeoutMs, arpTries: d.timers.arpTries }, r >>> 16);
  }

  get mac(): string {
    return this.spec.mac;
  }

  get ip(): string | undefined {
    return this.host.ip;
  }

  get final(): boolean {
    return FINAL_STAGES.has(this.status.stage) && this.status.finishedAt !== undefined;
  }

  /** Powers on; resolves with the final status (done, local-boot or failed). Idempotent. */
  boot(): Promise<SyntheticNodeStatus> {
    if (this.finished) return this.finished;
    this.finished = new Promise((resolve) => { this.settle = resolve; });
    this.status.startedAt = this.d.clock.now();
    const cancelOverall = this.d.clock.setTimer(this.d.timers.overallMs, () => this.finish('failed', `not finished after ${this.d.timers.overallMs} ms`));
    this.active.add(cancelOverall);
    void this.run().finally(() => { cancelOverall(); this.active.delete(cancelOverall); });
    return this.finished;
  }

  /** Frames for this node (its MAC, or a broadcast the fleet routed here). */
  receive(f: DecodedFrame): void {
    if (f.arp) {
      this.host.handleArp(f.arp);
      return;
    }
    const ip = f.ip;
    if (!ip) return;
    if (f.udp) {
      if (f.udp.checksumOk === false) return;
      if (f.udp.dstPort === 68 && f.udp.srcPort === 67) {
        let m: DhcpMessage;
        try {
          m = decodeDhcp(f.udp.payload);
        } catch (e) {
          this.d.log.debug('synthetic node: undecodable DHCP reply', { mac: this.mac, error: (e as Error).message });
          return;
        }
        this.receiveDhcp(m);
        return;
      }
      if (ip.dst !== this.host.ip) return;
      this.ports.get(f.udp.dstPort)?.udp?.(ip, f.udp);
      return;
    }
    if (f.tcp) {
      if (f.tcp.checksumOk === false || ip.dst !== this.host.ip) return;
      this.ports.get(f.tcp.dstPort)?.tcp?.(ip, f.tcp);
    }
  }

  /** A decoded DHCP reply for this MAC. */
  receiveDhcp(m: DhcpMessage): void {
    this.dhcpStep?.(m);
  }

  /** Stops everything, lingering closes included; an unfinished boot fails with `why`. */
  stop(why: string): void {
    // A node stopped before power-on still reports, as failed, to whoever waits for it.
    if (!this.finished) this.finished = new Promise((resolve) => { this.settle = resolve; });
    this.finish('failed', why);
    this.stopped = true;
    for (const undo of [...this.active]) undo();
    this.active.clear();
    this.host.close();
    this.ports.clear();
  }

  /** Resolves when connections still closing are closed (at once after stop). */
  async quiesce(): Promise<void> {
    while (this.lingering.size > 0) await Promise.allSettled([...this.lingering]);
  }

  // ---------------------------------------------------------------------------------------------

  private async run(): Promise<void> {
    this.event('dhcp-discover');
    const outcome = await this.dhcp();
    if (this.final) return;
    if ('failed' in outcome) return this.finish('failed', outcome.failed);
    if ('noBootFile' in outcome) return this.finish('local-boot', outcome.noBootFile);
    const lease = outcome.lease;
    this.lease = lease;
    this.host.configure(lease.ip, lease.subnetMask, lease.routers);
    this.d.onAddress?.(this, lease.ip);
    this.status.ip = lease.ip;
    this.status.bootFile = lease.bootFile;
    this.event('dhcp-ack', `${lease.ip} from ${lease.serverId}, boot ${lease.bootFile} from ${lease.nextServer}`);
    try {
      const r = await runBootFlow(
        { firmware: this.spec.firmware, mac: this.mac, ip: lease.ip, uuid: this.uuid, bootFile: lease.bootFile!, fetch: this.d.fetch },
        this,
        (stage, detail, found) => {
          if (found) this.status.config = found.config;
          this.event(stage, detail);
        },
      );
      if (r.config !== undefined) this.status.config = r.config;
      this.finish(r.result, r.detail);
    } catch (e) {
      this.finish('failed', e instanceof BootFlowError ? e.message : `internal error: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private dhcp(): Promise<{ lease: DhcpLease } | { noBootFile: string } | { failed: string }> {
    return new Promise((resolve) => {
      const client = new DhcpClient({ mac: this.mac, firmware: this.spec.firmware, uuid: this.uuid, nextXid: () => randomU32(this.d.random), retryMs: this.d.timers.dhcpRetryMs });
      const deadline = new Deadline(this.d.clock, () => apply(client.timeout(this.d.clock.now())));
      const end = (): void => {
        deadline.cancel();
        this.dhcpStep = undefined;
        this.active.delete(undo);
      };
      const undo = (): void => {
        end();
        resolve({ failed: 'stopped' });
      };
      const apply = (step: DhcpStep): void => {
        if (step.note) this.d.log.debug('synthetic node: dhcp', { mac: this.mac, note: step.note });
        if (step.send) this.host.sendDhcpBroadcast(encodeDhcp(step.send));
        if (step.waitMs === null) deadline.cancel();
        else if (step.waitMs !== undefined) deadline.arm(step.waitMs);
        if (step.bound) { end(); resolve({ lease: step.bound }); }
        else if (step.noBootFile) { end(); resolve({ noBootFile: step.noBootFile }); }
        else if (step.failed) { end(); resolve({ failed: step.failed }); }
      };
      this.active.add(undo);
      this.dhcpStep = (m) => apply(client.receive(m, this.d.clock.now()));
      apply(client.start(this.d.clock.now()));
    });
  }

  // ----- BootFetcher: TFTP -----

  async tftp(path: string, o: TftpFetchOptions): Promise<FetchResult> {
    const server = this.lease!.nextServer;
    const mac = await this.resolveFor(server);
    if (typeof mac !== 'string') return mac;
    const port = this.allocatePort();
    const t = this.d.timers;
    const read = new TftpRead({
      filename: path, keepData: o.keep, timeoutMs: t.tftpTimeoutMs, retries: t.tftpRetries,
      ...(o.blksize !== undefined ? { blksize: o.blksize } : {}),
      ...(o.windowsize !== undefined ? { windowsize: o.windowsize } : {}),
      ...(o.tsize !== undefined ? { tsize: o.tsize } : {}),
      ...(o.probe ? { probe: true } : {}),
    });
    return new Promise<FetchResult>((resolve) => {
      let settled = false;
      const deadline = new Deadline(this.d.clock, () => apply(read.timeout()));
      const release = (): void => {
        deadline.cancel();
        if (this.ports.get(port) === handler) this.ports.delete(port);
      };
      const undo = (): void => {
        release();
        if (!settled) { settled = true; resolve({ ok: false, notFound: false, error: 'stopped' }); }
      };
      const apply = (step: TftpStep): void => {
        if (step.send) this.host.sendUdp(mac, server, port, step.send.to ?? read.serverPort ?? 69, encodeTftp(step.send.packet));
        if (step.waitMs === null) deadline.cancel();
        else if (step.waitMs !== undefined) deadline.arm(step.waitMs);
        if (step.done && !settled) {
          settled = true;
          this.active.delete(undo);
          const r = step.done;
          resolve(r.ok
            ? { ok: true, bytes: r.bytes, ...(r.data ? { data: r.data } : {}), ...(r.tsize !== undefined ? { tsize: r.tsize } : {}) }
            : { ok: false, notFound: r.notFound, error: r.message });
          if (r.ok && !o.probe) this.dally(release, t.tftpTimeoutMs * 2);
          else release();
        }
      };
      const handler: PortHandler = {
        udp: (ip, d) => {
          if (ip.src !== server) return;
          let p: TftpPacket;
          try {
            p = decodeTftp(d.payload);
          } catch {
            return;
          }
          apply(read.receive(p, d.srcPort));
        },
      };
      this.ports.set(port, handler);
      this.active.add(undo);
      apply(read.start());
    });
  }

  /** Keeps a finished transfer's port answering a repeated last block for a while (RFC 1350 §6). */
  private dally(release: () => void, ms: number): void {
    const stop = (): void => {
      cancel();
      release();
      this.active.delete(stop);
    };
    const cancel = this.d.clock.setTimer(ms, stop);
    this.active.add(stop);
  }

  // ----- BootFetcher: HTTP over our TCP -----

  async http(url: string, o: { keep: boolean }): Promise<FetchResult> {
    const u = parseHttpUrl(url);
    if ('error' in u) return { ok: false, notFound: false, error: u.error };
    const mac = await this.resolveFor(u.host);
    if (typeof mac !== 'string') return mac;
    const port = this.allocatePort();
    const t = this.d.timers;
    const parser = new HttpResponseParser({ keepBody: o.keep });
    const tcp = new TcpClient({ isn: randomU32(this.d.random), rtoMs: t.tcpTimeoutMs, retries: t.tcpRetries, idleMs: t.tcpTimeoutMs * 8, request: renderHttpGet(u) });
    let closedResolve: () => void = () => {};
    const closedPromise = new Promise<void>((r) => { closedResolve = r; });
    return new Promise<FetchResult>((resolve) => {
      let settled = false;
      const deadline = new Deadline(this.d.clock, () => apply(tcp.timeout()));
      const release = (): void => {
        deadline.cancel();
        if (this.ports.get(port) === handler) this.ports.delete(port);
        this.active.delete(undo);
        this.lingering.delete(closedPromise);
        closedResolve();
      };
      const answer = (r: FetchResult): void => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      const undo = (): void => {
        release();
        answer({ ok: false, notFound: false, error: 'stopped' });
      };
      const complete = (): void => {
        const res = parser.result();
        if (res.status === 200) answer({ ok: true, bytes: res.bytes, status: 200, ...(res.body ? { data: res.body } : {}) });
        else answer({ ok: false, notFound: res.status === 404, error: `HTTP ${res.status} ${res.reason}`.trim() });
      };
      const apply = (step: TcpStep): void => {
        for (const s of step.send) this.host.sendTcp(mac, u.host, { srcPort: port, dstPort: u.port, ...s });
        if (step.waitMs === null) deadline.cancel();
        else if (step.waitMs !== undefined) deadline.arm(step.waitMs);
        for (const chunk of step.data) {
          if (parser.feed(chunk)) break;
        }
        if (step.eof) parser.end();
        if (!settled && parser.complete) {
          complete();
          // The rest is the close handshake, which goes on while the node moves on.
          if (!step.closed) this.lingering.add(closedPromise);
        } else if (!settled && parser.error !== undefined) {
          answer({ ok: false, notFound: false, error: `bad HTTP response from ${u.host}:${u.port}: ${parser.error}` });
          if (!step.closed) apply(tcp.close());
        }
        if (step.failed && !settled) answer({ ok: false, notFound: false, error: `${url}: ${step.failed}` });
        if (step.closed) release();
      };
      const handler: PortHandler = {
        tcp: (ip, s) => {
          if (ip.src !== u.host || s.srcPort !== u.port) return;
          apply(tcp.receive(s));
        },
      };
      this.ports.set(port, handler);
      this.active.add(undo);
      apply(tcp.start());
    });
  }

  // ---------------------------------------------------------------------------------------------

  private async resolveFor(ip: string): Promise<string | FetchResult> {
    const hop = this.host.nextHop(ip);
    if (typeof hop !== 'string') return { ok: false, notFound: false, error: hop.error };
    try {
      return await this.host.resolve(hop);
    } catch (e) {
      return { ok: false, notFound: false, error: (e as Error).message };
    }
  }

  private allocatePort(): number {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const p = this.nextPort;
      this.nextPort = p + 1 >= EPHEMERAL_FIRST + EPHEMERAL_COUNT ? EPHEMERAL_FIRST : p + 1;
      if (!this.ports.has(p)) return p;
    }
    throw new Error(`${this.spec.name}: every ephemeral port is in use`);
  }

  private event(stage: SyntheticStage, detail?: string): void {
    if (this.final) return;
    this.status.stage = stage;
    this.status.events.push({ stage, at: this.d.clock.now(), ...(detail !== undefined ? { detail } : {}) });
    this.d.log.debug('synthetic node', { name: this.spec.name, mac: this.mac, stage, ...(detail !== undefined ? { detail } : {}) });
  }

  /** Ends the boot in a final stage (once): done, local-boot or failed. */
  private finish(stage: 'done' | 'local-boot' | 'failed', detail: string): void {
    if (this.final || this.stopped || !this.settle) return;
    this.event(stage, detail);
    if (stage === 'failed') this.status.error = detail;
    this.status.finishedAt = this.d.clock.now();
    // Work still in flight belongs to a boot that is over (a timeout, a stop): cancel it.
    if (stage === 'failed') for (const undo of [...this.active]) undo();
    this.settle(this.status);
  }
}
