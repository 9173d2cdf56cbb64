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
  close(): void;
}

/**
 * Opens a port: used by servers that need a fresh port per exchange (TFTP transfers). With a
 * `peer`, ports that can connect the socket to it (the kernel then delivers only that peer's
 * datagrams, and sends take the connected fast path); sends to anyone else may then fail.
 */
export type PortOpener = (local: Endpoint, peer?: Endpoint) => Promise<DatagramPort>;
