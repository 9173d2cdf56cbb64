// DatagramPort on node:dgram: enough where the interface does not matter (TFTP, ProxyDHCP on
// 4011, unicast-only tests). Bind failures become RackforgeErrors that say what to do.
import { createSocket, type Socket } from 'node:dgram';
import { RackforgeError } from '../../lib/errors.ts';
import type { Datagram, DatagramPort, Endpoint, SendTarget } from './datagram.ts';

export function describeBindError(err: NodeJS.ErrnoException, local: Endpoint): RackforgeError {
  const where = `${local.address}:${local.port}`;
  if (err.code === 'EACCES' || err.code === 'EPERM')
    return new RackforgeError(
      'CONFIG_INVALID',
      `cannot bind UDP ${where}: ports below 1024 need root or CAP_NET_BIND_SERVICE (e.g. setcap cap_net_bind_service=+ep $(command -v node))`,
    );
  if (err.code === 'EADDRINUSE') return new RackforgeError('CONFIG_INVALID', `cannot bind UDP ${where}: another program already uses it`);
  if (err.code === 'EADDRNOTAVAIL') return new RackforgeError('CONFIG_INVALID', `cannot bind UDP ${where}: no interface has that address`);
  return new RackforgeError('CONFIG_INVALID', `cannot bind UDP ${where}: ${err.message}`);
}

export async function openUdpPort(local: Endpoint, opts: { broadcast?: boolean; reuseAddr?: boolean } = {}): Promise<DatagramPort> {
  const socket = createSocket({ type: 'udp4', reuseAddr: opts.reuseAddr ?? false });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => reject(describeBindError(err as NodeJS.ErrnoException, local)));
    socket.bind(local.port, local.address, () => resolve());
  });
  if (opts.broadcast) socket.setBroadcast(true);
  return new UdpPort(socket);
}

class UdpPort implements DatagramPort {
  readonly local: Endpoint;
  private handler: (d: Datagram) => void = () => {};
  /** Where the failure of a post() goes: node reports them as socket 'error' events. */
  private postError: ((err: Error) => void) | undefined;
  constructor(private readonly socket: Socket) {
    const a = socket.address();
    this.local = { address: a.address, port: a.port };
    // A send error (ICMP unreachable reported later, ENETUNREACH) must not kill the process.
    socket.on('error', (err) => this.postError?.(err));
    socket.on('message', (data, rinfo) => this.handler({ data, from: { address: rinfo.address, port: rinfo.port } }));
  }
  onMessage(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }
  send(data: Buffer, to: SendTarget): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, to.port, to.address, (err) => (err ? reject(err) : resolve())));
  }
  post(data: Buffer, to: SendTarget, onError: (err: Error) => void): void {
    this.postError = onError;
    try {
      this.socket.send(data, to.port, to.address);
    } catch (e) {
      onError(e as Error);
    }
  }
  close(): void {
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }
}
