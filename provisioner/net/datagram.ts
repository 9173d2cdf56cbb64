// The datagram transport seam. DHCP and TFTP serving loops talk to a DatagramPort and never
// to node:dgram directly, so unit tests run them on MemoryNetwork ports and production runs
// them on UdpPort (node:dgram) or InterfacePort (the native addon, which knows the interface
// a broadcast came in on and can send one out of a chosen interface).

export interface Endpoint {
  address: string;
  port: number;
}

export interface Datagram {
  data: Buffer;
  from: Endpoint;
  /** Destination address the datagram was sent to (e.g. 255.255.255.255), when the port knows it. */
  to?: string;
  /** Name of the interface the datagram arrived on, when the port knows it. */
  ifname?: string;
}

export interface SendTarget extends Endpoint {
  /** Leave by this interface (ports that cannot choose ignore it). */
  ifname?: string;
  /**
   * Deliver to this hardware address without ARP (a DHCP client that has no address yet):
   * ports that can, install a neighbour entry first; the others send as usual.
   */
  hwaddr?: string;
}

export interface DatagramPort {
  /** The bound local endpoint. */
  readonly local: Endpoint;
  /** Register the single receive handler (replacing any previous one). */
  onMessage(handler: (d: Datagram) => void): void;
  send(data: Buffer, to: SendTarget): Promise<void>;
  /**
   * Sends without waiting to hear how it went: no completion callback, no promise. The cheap
   * path for a stream of datagrams whose losses the protocol recovers from itself (TFTP DATA,
   * where a callback per block cost a fifth of the server's CPU). A failure, when one is known,
   * possibly later, goes to `onError`.
   */
  post(data: Buffer, to: SendTarget, onError: (err: Error) => void): void;
  close(): void;
}

/**
 * Opens a port: used by servers that need a fresh port per exchange (TFTP transfers). `peer`
 * says whom the exchange is with, so that ports that can tune for it do (the native port polls
 * briefly for a fast peer's answers). Datagrams from anyone else still arrive, so that the
 * server can tell them off (TFTP's ERROR 5), and sends to anyone still go.
 */
export type PortOpener = (local: Endpoint, peer?: Endpoint) => Promise<DatagramPort>;
