// The DHCP serving loop: decode, decide (dhcp-decide.ts), persist, send. Replies wait for their
// leases to commit; decisions made in one event-loop turn commit together in one transaction,
// which is what lets a boot storm be persisted crash-safely at thousands of leases a second.
import type { Clock } from '../../lib/clock.ts';
import { DecodeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { BootEventSink } from '../boot/boot-events.ts';
import type { Datagram, DatagramPort } from '../net/datagram.ts';
import { decodeDhcp, encodeDhcp } from '../protocol/dhcp.ts';
import type { LeaseRecord } from '../store/store.ts';
import { decideDhcp, type DhcpDecision, type DhcpDeps, type MachineInfo } from './dhcp-decide.ts';
import type { DhcpServerConfig } from './dhcp-config.ts';
import { LeaseTable } from './lease-table.ts';

/** The part of the store the DHCP server writes: leases, in transactions. */
export interface LeaseStore {
  listLeases(): LeaseRecord[];
  putLease(lease: LeaseRecord): void;
  transaction<T>(fn: () => T): T;
}

/** Decisions waiting for one commit beyond which new DISCOVERs are shed (see handle). */
const OVERLOAD_BATCH = 512;

export interface DhcpServerOptions {
  /** Port 67 (and, in ProxyDHCP mode, 4011). */
  ports: DatagramPort[];
  config: DhcpServerConfig;
  store: LeaseStore;
  events: BootEventSink;
  machine(mac: string): MachineInfo | null;
  reservedFor(ip: string): string | undefined;
  clock: Clock;
  log: Logger;
}

export interface DhcpServer {
  readonly leases: LeaseTable;
  /** Replies sent, requests dropped as malformed: for status and tests. */
  stats(): { received: number; replied: number; malformed: number; shed: number };
  close(): Promise<void>;
}

/** What can be read of a datagram too broken to decode, for the log line. */
function identify(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (data.length >= 8) out['xid'] = xidOf(data);
  if (data.length >= 34 && data[1] === 1 && data[2] === 6) out['mac'] = [...data.subarray(28, 34)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return out;
}

export function serveDhcp(opts: DhcpServerOptions): DhcpServer {
  let leases = new LeaseTable(opts.store.listLeases());
  const stats = { received: 0, replied: 0, malformed: 0, shed: 0 };
  let shedReported = 0;
  /** Decisions of this event-loop turn, each with the port its request came in on (the reply leaves by it). */
  let batch: Array<DhcpDecision & { port: DatagramPort }> = [];
  let scheduled = false;
  let closed = false;
  let inFlight: Promise<void> = Promise.resolve();

  const deps = (): DhcpDeps => ({ config: opts.config, leases, machine: opts.machine, reservedFor: opts.reservedFor });

  const flush = (): void => {
    scheduled = false;
    const decisions = batch;
    batch = [];
    if (stats.shed > shedReported) {
      opts.log.warn('DHCP: overloaded; DISCOVERs shed so that REQUESTs are answered first', { shed: stats.shed - shedReported });
      shedReported = stats.shed;
    }
    try {
      opts.store.transaction(() => {
        for (const d of decisions) {
          for (const l of d.leases) opts.store.putLease(l);
          if (d.event) opts.events.record(d.event);
        }
      });
    } catch (e) {
      // Nothing may be promised that the store does not hold: drop the replies, and forget
      // the in-memory changes by reading the leases back.
      opts.log.error('DHCP: storing leases failed; replies dropped', { error: (e as Error).message, replies: decisions.length });
      leases = new LeaseTable(opts.store.listLeases());
      return;
    }
    const sends: Promise<void>[] = [];
    for (const d of decisions) {
      if (!d.reply) continue;
      const port = d.port;
      const { message, to } = d.reply;
      sends.push(port.send(encodeDhcp(message), to).then(
        () => { stats.replied++; },
        (e: unknown) => opts.log.warn('DHCP: sending a reply failed', { to: `${to.address}:${to.port}`, ifname: to.ifname ?? '', mac: message.chaddr, error: (e as Error).message }),
      ));
    }
    inFlight = Promise.all([inFlight, ...sends]).then(() => undefined);
  };

  const handle = (port: DatagramPort) => (d: Datagram): void => {
    if (closed) return;
    stats.received++;
    let decision: DhcpDecision;
    try {
      const request = decodeDhcp(d.data);
      // Overloaded (a boot storm larger than we can answer this turn): answer the REQUESTs of
      // clients we already made offers to, and let new DISCOVERs be retried. Serving both
      // evenly would spend the turn on offers whose REQUESTs then drop in the kernel.
      if (batch.length >= OVERLOAD_BATCH && request.options.messageType === 'DISCOVER') {
        stats.shed++;
        return;
      }
      decision = decideDhcp({ request, from: d.from, port: port.local.port, ...(d.ifname !== undefined ? { ifname: d.ifname } : {}) }, deps(), opts.clock.now());
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        opts.log.error('DHCP: request could not be handled', { from: `${d.from.address}:${d.from.port}`, ifname: d.ifname ?? '', ...identify(d.data), error: (e as Error).message });
        return;
      }
      stats.malformed++;
      opts.log.warn('DHCP: malformed packet dropped', { from: `${d.from.address}:${d.from.port}`, ifname: d.ifname ?? '', ...identify(d.data), error: e.message });
      return;
    }
    if (decision.note) opts.log[decision.note.level](`DHCP: ${decision.note.msg}`, { xid: xidOf(d.data), ifname: d.ifname ?? '' });
    if (!decision.reply && decision.leases.length === 0 && !decision.event) return;
    batch.push(Object.assign(decision, { port }));
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  for (const p of opts.ports) p.onMessage(handle(p));

  return {
    get leases() { return leases; },
    stats: () => ({ ...stats }),
    async close() {
      closed = true;
      if (scheduled) flush();
      await inFlight;
      for (const p of opts.ports) p.close();
    },
  };
}

function xidOf(data: Buffer): string {
  return data.length >= 8 ? '0x' + data.readUInt32BE(4).toString(16).padStart(8, '0') : '';
}
