// An in-memory datagram network for unit tests: ports opened on one MemoryNetwork deliver to
// each other by address and port, asynchronously (as a real socket would), with optional loss.
import { RackforgeError } from '../../lib/errors.ts';
import type { Datagram, DatagramPort, Endpoint, SendTarget } from './datagram.ts';

export class MemoryNetwork {
  private readonly ports = new Map<string, MemoryPort>();
  private nextEphemeral = 40000;
  /** Return true to drop a datagram (loss/reorder tests). */
  drop: (data: Buffer, from: Endpoint, to: Endpoint) => boolean = () => false;
  /** Every datagram sent, in order (for assertions). */
  readonly sent: { data: Buffer; from: Endpoint; to: SendTarget }[] = [];

  open(local: Endpoint): MemoryPort {
    const port = local.port === 0 ? this.nextEphemeral++ : local.port;
    const key = `${local.address}:${port}`;
    if (this.ports.has(key)) throw new RackforgeError('CONFIG_INVALID', `address in use: ${key}`);
    const p = new MemoryPort(this, { address: local.address, port });
    this.ports.set(key, p);
    return p;
  }

  /** Opener with the PortOpener signature. */
  readonly opener = async (local: Endpoint): Promise<DatagramPort> => this.open(local);

  deliver(data: Buffer, from: Endpoint, to: SendTarget): void {
    this.sent.push({ data, from, to });
    if (this.drop(data, from, to)) return;
    const target =
      this.ports.get(`${to.address}:${to.port}`) ??
      (to.address === '255.255.255.255' ? [...this.ports.values()].find((p) => p.local.port === to.port && p !== this.ports.get(`${from.address}:${from.port}`)) : undefined) ??
      this.ports.get(`0.0.0.0:${to.port}`);
    if (!target) return;
    const copy = Buffer.from(data);
    setImmediate(() => target.receive({ data: copy, from, to: to.address }));
  }

  release(p: MemoryPort): void {
    this.ports.delete(`${p.local.address}:${p.local.port}`);
  }

  get openPorts(): number {
    return this.ports.size;
  }
}

export class MemoryPort implements DatagramPort {
  private handler: (d: Datagram) => void = () => {};
  private closed = false;
  constructor(
    private readonly net: MemoryNetwork,
    readonly local: Endpoint,
  ) {}
  onMessage(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }
  receive(d: Datagram): void {
    if (!this.closed) this.handler(d);
  }
  async send(data: Buffer, to: SendTarget): Promise<void> {
    if (this.closed) throw new RackforgeError('CONFIG_INVALID', 'send on a closed port');
    this.net.deliver(data, this.local, to);
  }
  post(data: Buffer, to: SendTarget, onError: (err: Error) => void): void {
    this.send(data, to).catch(onError);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.net.release(this);
  }
}
