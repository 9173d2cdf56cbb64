// Hundreds of synthetic PXE machines on one hub port. One socket per process: every member of
// a multicast group gets a copy of every frame, so a socket per node would multiply the
// receive work by the fleet's size. Frames are demultiplexed here, once: by destination MAC,
// and for broadcasts by what they are for (a DHCP reply by its chaddr, an ARP request by the
// address it asks about). Our own frames, which multicast loopback returns, are dropped by
// their source MAC.
import { cryptoRandom, type Random } from '../../lib/clock.ts';
import { silentLogger, type Logger } from '../../lib/log.ts';
import { ARP_OP } from '../../provisioner/protocol/arp.ts';
import { decodeDhcp } from '../../provisioner/protocol/dhcp.ts';
import { ETHERNET_HEADER_LENGTH, macToBytes } from '../../provisioner/protocol/ethernet.ts';
import { decodeFrame, type DecodedFrame } from '../../provisioner/protocol/frames.ts';
import type { FramePort } from '../hub-port.ts';
import { randomU32, realClock, type SyntheticClock } from './clock.ts';
import { type SyntheticNodeSpec, type SyntheticNodeStatus } from './node-status.ts';
import type { FetchLevel } from './pxelinux-flow.ts';
import { DEFAULT_TIMERS, SyntheticNode, type SyntheticTimers } from './synthetic-node.ts';

export type { SyntheticNodeSpec, SyntheticNodeStatus, SyntheticStage } from './node-status.ts';
export type { SyntheticTimers } from './synthetic-node.ts';

export interface SyntheticFleetOptions {
  /** Shared by every node; the fleet does not close it. */
  port: FramePort;
  nodes: SyntheticNodeSpec[];
  clock?: SyntheticClock;
  random?: Random;
  timers?: Partial<SyntheticTimers>;
  /** Power-on jitter: each node starts after a random 0..startSpreadMs ms (default 0). */
  startSpreadMs?: number;
  log?: Logger;
  /** How far to go (default all: configuration, kernel and initrd, autoinstall file). */
  fetch?: FetchLevel;
}

export interface SyntheticFleetStats {
  framesReceived: number;
  /** Our own frames, looped back by the hub. */
  ownFrames: number;
  /** Frames delivered to a node. */
  delivered: number;
  undecodable: number;
}

export interface SyntheticFleet {
  /** Begins booting all nodes, or the named ones; nodes already started are left alone. */
  start(names?: string[]): void;
  /** A snapshot, in the order the nodes were given. */
  status(): SyntheticNodeStatus[];
  /** Resolves when every started node is done, local-boot or failed. */
  done(): Promise<SyntheticNodeStatus[]>;
  /** Powers everything off: nodes not finished fail; closing connections get a short grace. */
  close(): Promise<void>;
  stats(): SyntheticFleetStats;
}

const CLOSE_GRACE_MS = 500;
const BROADCAST_KEY = 0xffffffffffff;

function macKey(b: Buffer, offset: number): number {
  return b.readUIntBE(offset, 6);
}

export function createSyntheticFleet(o: SyntheticFleetOptions): SyntheticFleet {
  const clock = o.clock ?? realClock;
  const random = o.random ?? cryptoRandom;
  const log = o.log ?? silentLogger;
  const timers: SyntheticTimers = { ...DEFAULT_TIMERS, ...o.timers };
  const byMac = new Map<string, SyntheticNode>();
  const byName = new Map<string, SyntheticNode>();
  const byIp = new Map<string, SyntheticNode>();
  const nodes: SyntheticNode[] = [];
  const started = new Map<SyntheticNode, Promise<SyntheticNodeStatus>>();
  /** Nodes waiting for their power-on jitter: cancel the timer, settle the start. */
  const pendingStarts = new Map<SyntheticNode, { cancel: () => void; resolve: (s: Promise<SyntheticNodeStatus>) => void }>();
  const stats: SyntheticFleetStats = { framesReceived: 0, ownFrames: 0, delivered: 0, undecodable: 0 };
  let closed = false;
  let closing: Promise<void> | undefined;

  const send = (frame: Buffer): void => {
    if (!closed) o.port.send(frame);
  };
  for (const spec of o.nodes) {
    const node = new SyntheticNode(spec, {
      clock, random, send, timers, log, fetch: o.fetch ?? 'all',
      onAddress: (n, ip) => {
        for (const [k, v] of byIp) if (v === n) byIp.delete(k);
        if (ip !== undefined) byIp.set(ip, n);
      },
    });
    if (byMac.has(node.mac)) throw new RangeError(`two synthetic nodes have MAC ${node.mac}`);
    if (byName.has(spec.name)) throw new RangeError(`two synthetic nodes are named ${spec.name}`);
    byMac.set(node.mac, node);
    byName.set(spec.name, node);
    nodes.push(node);
  }

  const deliver = (node: SyntheticNode, f: DecodedFrame): void => {
    stats.delivered++;
    node.receive(f);
  };

  // MACs as 48-bit numbers: a frame is matched without building address strings, which
  // matters because half of what the hub returns is our own traffic.
  const byMacKey = new Map<number, SyntheticNode>();
  for (const n of nodes) byMacKey.set(macKey(macToBytes(n.mac), 0), n);

  o.port.onFrame((frame) => {
    if (closed) return;
    stats.framesReceived++;
    if (frame.length < ETHERNET_HEADER_LENGTH) {
      stats.undecodable++;
      return;
    }
    if (byMacKey.has(macKey(frame, 6))) {
      stats.ownFrames++;
      return;
    }
    const dst = macKey(frame, 0);
    const unicast = byMacKey.get(dst);
    if (!unicast && dst !== BROADCAST_KEY) return;
    let f: DecodedFrame;
    try {
      f = decodeFrame(frame);
    } catch {
      stats.undecodable++;
      return;
    }
    if (unicast) {
      // Only the Ethernet header is checked above; a broken layer above it is the sender's bug.
      if (f.problem) log.warn('synthetic fleet: bad frame for a node', { mac: unicast.mac, src: f.eth.src, code: f.problem.code, error: f.problem.message });
      deliver(unicast, f);
      return;
    }
    if (f.arp) {
      if (f.arp.op !== ARP_OP.REQUEST) return;
      const target = byIp.get(f.arp.targetIp);
      if (target) deliver(target, f);
      return;
    }
    if (f.udp && f.udp.srcPort === 67 && f.udp.dstPort === 68 && f.udp.checksumOk !== false) {
      // Broadcast DHCP replies: decoded once here, not once per node.
      try {
        const m = decodeDhcp(f.udp.payload);
        const node = byMac.get(m.chaddr);
        if (node) {
          stats.delivered++;
          node.receiveDhcp(m);
        }
      } catch (e) {
        stats.undecodable++;
        log.debug('synthetic fleet: undecodable DHCP broadcast', { src: f.eth.src, error: (e as Error).message });
      }
    }
  });

  return {
    start(names?: string[]): void {
      if (closing) throw new Error('the synthetic fleet is closed');
      const chosen = names === undefined ? nodes : names.map((n) => {
        const node = byName.get(n);
        if (!node) throw new RangeError(`no synthetic node named ${n}`);
        return node;
      });
      const spread = Math.max(0, o.startSpreadMs ?? 0);
      for (const node of chosen) {
        if (started.has(node)) continue;
        const delay = spread > 0 ? randomU32(random) % spread : 0;
        started.set(node, new Promise((resolve) => {
          if (delay === 0) {
            resolve(node.boot());
            return;
          }
          const cancel = clock.setTimer(delay, () => {
            pendingStarts.delete(node);
            resolve(node.boot());
          });
          pendingStarts.set(node, { cancel, resolve });
        }));
      }
    },

    status(): SyntheticNodeStatus[] {
      return nodes.map((n) => ({ ...n.status, events: [...n.status.events] }));
    },

    async done(): Promise<SyntheticNodeStatus[]> {
      // Nodes started while we wait count too.
      let count = -1;
      while (count !== started.size) {
        count = started.size;
        await Promise.all(started.values());
      }
      return nodes.filter((n) => started.has(n)).map((n) => ({ ...n.status, events: [...n.status.events] }));
    },

    close(): Promise<void> {
      closing ??= (async () => {
        for (const p of pendingStarts.values()) p.cancel();
        // Let finished nodes complete their TCP close handshakes, briefly.
        let cancelGrace: () => void = () => {};
        const grace = new Promise<void>((resolve) => { cancelGrace = clock.setTimer(CLOSE_GRACE_MS, resolve); });
        await Promise.race([grace, Promise.allSettled(nodes.filter((n) => n.final).map((n) => n.quiesce()))]);
        cancelGrace();
        closed = true;
        for (const n of nodes) n.stop('the fleet was closed');
        for (const [node, p] of pendingStarts) p.resolve(node.boot());
        pendingStarts.clear();
      })();
      return closing;
    },

    stats(): SyntheticFleetStats {
      return { ...stats };
    },
  };
}
