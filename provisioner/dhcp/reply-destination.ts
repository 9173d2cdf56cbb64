// Where a DHCP reply goes: RFC 2131 §4.1 ("If the 'giaddr' field ... is nonzero ...") as a table.
import type { SendTarget } from '../net/datagram.ts';
import { DHCP_FLAG_BROADCAST, type DhcpMessage } from '../protocol/dhcp.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const PXE_PROXY_PORT = 4011;
const ZERO = '0.0.0.0';
const BROADCAST = '255.255.255.255';

export interface Received {
  /** The request as decoded. */
  request: DhcpMessage;
  /** Where it came from (for ProxyDHCP on 4011 the reply goes straight back). */
  from: { address: string; port: number };
  /** Interface it arrived on, when the port knows. */
  ifname?: string;
  /** Port it arrived on. */
  port: number;
}

export function selectReplyDestination(rx: Received, reply: DhcpMessage): SendTarget {
  const ifname = rx.ifname !== undefined ? { ifname: rx.ifname } : {};
  const req = rx.request;
  // A ProxyDHCP exchange on 4011 is unicast both ways (PXE spec 2.1 §2.2.1).
  if (rx.port === PXE_PROXY_PORT) return { address: rx.from.address, port: rx.from.port, ...ifname };
  // Relayed: back to the relay's server port; the relay delivers it on the client's segment.
  if (req.giaddr !== ZERO) return { address: req.giaddr, port: DHCP_SERVER_PORT, ...ifname };
  // A NAK to a client without a relay is always broadcast: its address may be wrong.
  if (reply.options.messageType === 'NAK') return { address: BROADCAST, port: DHCP_CLIENT_PORT, ...ifname };
  // A client in RENEWING/REBINDING/INFORM has its address and can take unicast.
  if (req.ciaddr !== ZERO) return { address: req.ciaddr, port: DHCP_CLIENT_PORT, ...ifname };
  // Clients that cannot take unicast before they are configured say so with the broadcast bit.
  if ((req.flags & DHCP_FLAG_BROADCAST) !== 0 || reply.yiaddr === ZERO) return { address: BROADCAST, port: DHCP_CLIENT_PORT, ...ifname };
  // Otherwise unicast to the offered address at the client's hardware address (no ARP possible yet).
  return { address: reply.yiaddr, port: DHCP_CLIENT_PORT, hwaddr: req.chaddr, ...ifname };
}
