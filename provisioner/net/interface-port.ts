// DatagramPort on the iface_udp native addon: what a DHCP server needs and node:dgram lacks.
// Every datagram says which interface it came in on and where it was sent (IP_PKTINFO), and a
// reply can leave by a chosen interface, limited broadcasts included, although no route covers
// 255.255.255.255.
import { RackforgeError } from '../../lib/errors.ts';
import type { Datagram, DatagramPort, Endpoint, SendTarget } from './datagram.ts';
import {
  isNativeSocketError,
  loadIfaceUdpAddon,
  NEIGHBOUR_SYSCALL,
  type IfaceUdpAddon,
  type NativeHandle,
  type NativeMessageCallback,
} from './native-addon.ts';
import { describeBindError } from './udp-port.ts';

export const LIMITED_BROADCAST = '255.255.255.255';

export interface InterfacePortOptions {
  /** Receive and send only on this interface (SO_BINDTODEVICE). */
  device?: string;
  /** Allow sending broadcasts (SO_BROADCAST); a DHCP server needs it. */
  broadcast?: boolean;
  /** The one peer the port is for (see NativeOpenOptions.peer): a TFTP transfer's client. */
  peer?: Endpoint;
  /**
   * Failures on the receive path: a handler that threw or rejected, a socket error. They never
   * propagate; without this option each becomes a process warning.
   */
  onError?: (err: Error) => void;
}

/** Turns a failure to open the socket into a RackforgeError that says what to do. */
export function describeOpenError(err: NodeJS.ErrnoException, local: Endpoint, device?: string): RackforgeError {
  const where = `${local.address}:${local.port}`;
  if (err.code === 'ENODEV')
    return new RackforgeError('CONFIG_INVALID', `cannot bind UDP ${where} to device ${device ?? '(none)'}: no such network interface (see \`ip link\`)`, {
      device,
    });
  if (err.syscall === 'setsockopt(SO_BINDTODEVICE)' && (err.code === 'EPERM' || err.code === 'EACCES'))
    return new RackforgeError('CONFIG_INVALID', `cannot bind UDP ${where} to device ${device ?? '(none)'}: needs CAP_NET_RAW on kernels before 5.7`, {
      device,
    });
  return describeBindError(err, local);
}

export async function openInterfacePort(local: Endpoint, opts: InterfacePortOptions = {}): Promise<DatagramPort> {
  const addon = loadIfaceUdpAddon();
  const port = new InterfacePort(addon, opts.onError ?? warn);
  try {
    port.attach(
      addon.open(
        {
          address: local.address, port: local.port, device: opts.device, broadcast: opts.broadcast ?? false,
          // A transfer port is a fresh ephemeral one: nobody else may share it.
          reuseAddr: opts.peer === undefined, ...(opts.peer ? { peer: opts.peer } : {}),
        },
        port.receive,
        port.reportError,
      ),
    );
  } catch (e) {
    if (isNativeSocketError(e)) throw describeOpenError(e, local, opts.device);
    throw e;
  }
  return port;
}

/**
 * PortOpener on the addon, for TFTP transfers. Per datagram it costs less than node:dgram, and
 * it polls briefly for a fast client's next ACK instead of sleeping: lock-step transfers (one
 * ACK in, one DATA out per block) do not wait for a wake-up per block (bench/RESULTS.md has
 * the figures against tftpd-hpa, in slow and in fast host periods).
 */
export const openInterfacePortFor = (local: Endpoint, peer?: Endpoint): Promise<DatagramPort> => openInterfacePort(local, peer ? { peer } : {});

function warn(err: Error): void {
  process.emitWarning(err.message, { type: 'InterfacePortWarning' });
}

function isNeighbourRefused(e: unknown): boolean {
  return isNativeSocketError(e) && e.syscall === NEIGHBOUR_SYSCALL && (e.code === 'EPERM' || e.code === 'EACCES');
}

/** How long send() keeps retrying a full socket buffer (EAGAIN) before giving up. */
const SEND_RETRIES = 100;

class InterfacePort implements DatagramPort {
  private handle: NativeHandle | undefined;
  private endpoint: Endpoint = { address: '0.0.0.0', port: 0 };
  private handler: (d: Datagram) => void = () => {};

  constructor(
    private readonly addon: IfaceUdpAddon,
    private readonly onError: (err: Error) => void,
  ) {}

  get local(): Endpoint {
    return this.endpoint;
  }

  attach(handle: NativeHandle): void {
    this.handle = handle;
    try {
      this.endpoint = this.addon.address(handle);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  onMessage(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  readonly reportError = (e: unknown): void => {
    try {
      this.onError(e instanceof Error ? e : new Error(String(e)));
    } catch {
      /* an error reporter that throws must not break the receive path either */
    }
  };

  readonly receive: NativeMessageCallback = (data, fromAddress, fromPort, to, _ifindex, ifname) => {
    const d: Datagram = { data, from: { address: fromAddress, port: fromPort } };
    if (to !== undefined) d.to = to;
    if (ifname !== undefined) d.ifname = ifname;
    try {
      const r: unknown = this.handler(d);
      // An async handler's rejection (a failed reply send, say) is reported, not left unhandled.
      if (r instanceof Promise) r.catch(this.reportError);
    } catch (e) {
      this.reportError(e);
    }
  };

  async send(data: Buffer, to: SendTarget): Promise<void> {
    try {
      await this.transmit(data, to.address, to.port, to.ifname, to.ifname === undefined ? undefined : to.hwaddr);
    } catch (e) {
      if (!isNeighbourRefused(e) || to.ifname === undefined) throw e;
      // Without CAP_NET_ADMIN the kernel refuses the neighbour entry. A plain unicast would then
      // wait for an ARP reply the client cannot give (it has no address yet) and be dropped, so
      // broadcast instead, as RFC 2131 §4.1 allows, out of the same interface (needs broadcast: true).
      await this.transmit(data, LIMITED_BROADCAST, to.port, to.ifname, undefined);
    }
  }

  post(data: Buffer, to: SendTarget, onError: (err: Error) => void): void {
    // The common case synchronously, without a promise; a full socket buffer (EAGAIN) or a
    // neighbour entry to install take send()'s path.
    if (this.handle !== undefined && to.hwaddr === undefined) {
      try {
        this.addon.send(this.handle, data, to.address, to.port, to.ifname);
        return;
      } catch (e) {
        if (!(isNativeSocketError(e) && e.code === 'EAGAIN')) {
          onError(e as Error);
          return;
        }
      }
    }
    this.send(data, to).catch(onError);
  }

  private async transmit(data: Buffer, address: string, port: number, ifname: string | undefined, hwaddr: string | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.handle === undefined) throw new RackforgeError('CONFIG_INVALID', 'send on an InterfacePort that failed to open');
      try {
        this.addon.send(this.handle, data, address, port, ifname, hwaddr);
        return;
      } catch (e) {
        if (!(isNativeSocketError(e) && e.code === 'EAGAIN' && attempt < SEND_RETRIES)) throw e;
      }
      await new Promise((resolve) => setTimeout(resolve, 1)); // socket buffer full: let it drain
    }
  }

  close(): void {
    if (this.handle !== undefined) this.addon.close(this.handle);
  }
}
