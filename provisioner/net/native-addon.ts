// The typed face of the iface_udp native addon (provisioner/net/native/iface_udp.c), built by
// `node scripts/build-native.mjs`. Only interface-port.ts should need it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RackforgeError } from '../../lib/errors.ts';
import type { Endpoint } from './datagram.ts';

export const IFACE_UDP_ADDON_PATH = fileURLToPath(new URL('./native/build/Release/iface_udp.node', import.meta.url));

/** `syscall` of the error send() throws when the kernel refuses the neighbour entry for hwaddr. */
export const NEIGHBOUR_SYSCALL = 'ioctl(SIOCSARP)';

declare const nativeHandle: unique symbol;
/** An open socket; opaque, only the addon reads it. */
export type NativeHandle = { readonly [nativeHandle]: true };

export interface NativeOpenOptions {
  address: string;
  port: number;
  /** SO_BINDTODEVICE: receive and send only on this interface. */
  device?: string;
  /** SO_BROADCAST: needed to send to 255.255.255.255. */
  broadcast?: boolean;
  /** SO_REUSEADDR (default true). */
  reuseAddr?: boolean;
  /**
   * The port is for an exchange with this peer (a TFTP transfer's client): no IP_PKTINFO, and
   * it polls briefly for the peer's answers instead of sleeping (see SPIN_NS in iface_udp.c).
   * Not connect(2)ed: others' datagrams still arrive, and sends to anyone still go.
   */
  peer?: Endpoint;
}

/**
 * Errors thrown or reported by the addon: `code` is the errno name (EADDRINUSE, ENODEV, EPERM...),
 * `syscall` the failing call (bind, sendmsg, setsockopt(SO_BINDTODEVICE), ioctl(SIOCSARP)...).
 * Bad arguments throw a TypeError instead.
 */
export interface NativeSocketError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export type NativeMessageCallback = (
  data: Buffer,
  fromAddress: string,
  fromPort: number,
  /** Destination address of the IP header (IP_PKTINFO ipi_addr). */
  toAddress: string | undefined,
  ifindex: number | undefined,
  ifname: string | undefined,
) => void;

export interface IfaceUdpAddon {
  /** Opens and binds a socket and starts receiving; throws NativeSocketError on failure. */
  open(opts: NativeOpenOptions, onMessage: NativeMessageCallback, onError: (err: NativeSocketError) => void): NativeHandle;
  /** The bound endpoint (getsockname). */
  address(handle: NativeHandle): Endpoint;
  /**
   * Sends synchronously. With ifname the datagram leaves by that interface (IP_PKTINFO), even
   * to 255.255.255.255; with ifname, hwaddr and a unicast address a neighbour entry is
   * installed first (a refusal throws with syscall NEIGHBOUR_SYSCALL and nothing is sent).
   */
  send(handle: NativeHandle, data: Buffer, address: string, port: number, ifname?: string, hwaddr?: string): void;
  /** Stops receiving and closes the socket; closing twice is fine. */
  close(handle: NativeHandle): void;
  /** Interface index of a device name; throws ENODEV when there is none. */
  ifindex(name: string): number;
}

export function isNativeSocketError(e: unknown): e is NativeSocketError {
  return e instanceof Error && typeof (e as Partial<NativeSocketError>).code === 'string' && typeof (e as Partial<NativeSocketError>).syscall === 'string';
}

/** Loads the built addon (Node caches it after the first call). */
export function loadIfaceUdpAddon(): IfaceUdpAddon {
  if (!existsSync(IFACE_UDP_ADDON_PATH))
    throw new RackforgeError(
      'CONFIG_INVALID',
      `the interface UDP addon is not built (${IFACE_UDP_ADDON_PATH} is missing): run \`node scripts/build-native.mjs\` (needs python3, make and g++)`,
      { path: IFACE_UDP_ADDON_PATH },
    );
  try {
    return createRequire(import.meta.url)(IFACE_UDP_ADDON_PATH) as IfaceUdpAddon;
  } catch (e) {
    throw new RackforgeError(
      'CONFIG_INVALID',
      `cannot load the interface UDP addon ${IFACE_UDP_ADDON_PATH} (${(e as Error).message}): rebuild it with \`rm -rf provisioner/net/native/build && node scripts/build-native.mjs\``,
      { path: IFACE_UDP_ADDON_PATH },
    );
  }
}
