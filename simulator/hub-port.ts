// A port on a lab's multicast hub: the same wire QEMU's `-netdev socket,mcast=GROUP:PORT`
// uses, where each UDP datagram sent to the group is exactly one raw Ethernet frame. The only
// I/O piece of the synthetic nodes, and what the lab runner captures from.
//
// Multicast loopback stays on because the other hub members (QEMU processes) live on this
// host; the price is that every frame we send comes back to us once. Callers that speak on
// the hub must drop frames whose source MAC is their own.
import { createSocket, type Socket } from 'node:dgram';

export interface FramePortStats {
  /** Frames handed to the kernel successfully. */
  sent: number;
  received: number;
  sendErrors: number;
}

export interface FramePort {
  /** Sends one frame as one datagram. Never throws; failures count in stats.sendErrors. */
  send(frame: Buffer): void;
  /** Adds a receiver; every receiver sees every frame, in arrival order. */
  onFrame(cb: (frame: Buffer) => void): void;
  close(): Promise<void>;
  readonly stats: Readonly<FramePortStats>;
}

export interface HubPortOptions {
  /** Multicast group, e.g. 239.255.60.1. */
  group: string;
  port: number;
  /** Interface address that carries the hub (default 127.0.0.1, where QEMU's localaddr= points). */
  localAddress?: string;
  /** Asked for with SO_RCVBUF; the kernel caps it at net.core.rmem_max. Default 4 MiB. */
  receiveBufferBytes?: number;
  /** Aborting closes the port. */
  signal?: AbortSignal;
  /** Called for socket errors after opening (they are counted, never thrown). */
  onError?: (e: Error) => void;
}

const DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024;

export async function openHubPort(o: HubPortOptions): Promise<FramePort & { readonly receiveBufferBytes: number }> {
  const localAddress = o.localAddress ?? '127.0.0.1';
  if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted');
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  const receivers: Array<(frame: Buffer) => void> = [];
  const stats: FramePortStats = { sent: 0, received: 0, sendErrors: 0 };
  let closed = false;
  let closing: Promise<void> | undefined;

  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error): void => {
      try { socket.close(); } catch { /* never opened */ }
      reject(e);
    };
    socket.once('error', fail);
    // Bound to the group address, as QEMU binds: the socket then gets the hub's datagrams only,
    // not unicast that happens to arrive on the same port.
    socket.bind({ port: o.port, address: o.group, exclusive: false }, () => {
      socket.off('error', fail);
      try {
        socket.addMembership(o.group, localAddress);
        socket.setMulticastInterface(localAddress);
        socket.setMulticastLoopback(true);
        // TTL 1, as QEMU sends: the hub lives on loopback and nothing should be routed beyond it.
        socket.setMulticastTTL(1);
      } catch (e) {
        fail(e as Error);
        return;
      }
      resolve();
    });
  });

  let receiveBufferBytes = 0;
  try {
    socket.setRecvBufferSize(o.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER);
  } catch {
    // Best effort: a storm then loses frames to a full buffer, and the protocols retransmit.
  }
  try { receiveBufferBytes = socket.getRecvBufferSize(); } catch { /* unknown */ }

  socket.on('error', (e) => {
    stats.sendErrors++;
    o.onError?.(e);
  });
  socket.on('message', (frame) => {
    stats.received++;
    for (let i = 0; i < receivers.length; i++) {
      try {
        receivers[i]!(frame);
      } catch (e) {
        // A receiver's bug must not take the others (or the process) down with it.
        o.onError?.(e as Error);
      }
    }
  });

  const onSent = (err: Error | null): void => {
    if (err) {
      stats.sendErrors++;
      o.onError?.(err);
    } else {
      stats.sent++;
    }
  };

  const close = (): Promise<void> => {
    if (closing) return closing;
    closed = true;
    o.signal?.removeEventListener('abort', abort);
    closing = new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return closing;
  };
  const abort = (): void => { void close(); };
  o.signal?.addEventListener('abort', abort, { once: true });

  return {
    send(frame: Buffer): void {
      if (closed) {
        stats.sendErrors++;
        return;
      }
      try {
        socket.send(frame, o.port, o.group, onSent);
      } catch (e) {
        stats.sendErrors++;
        o.onError?.(e as Error);
      }
    },
    onFrame(cb): void {
      receivers.push(cb);
    },
    close,
    stats,
    receiveBufferBytes,
  };
}
