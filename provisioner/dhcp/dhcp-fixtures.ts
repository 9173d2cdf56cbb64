// Builders for DHCP unit tests: requests as clients send them, and a server config.
import { BOOTREQUEST, DHCP_FLAG_BROADCAST, type DhcpMessage, type DhcpMessageType, type DhcpOptions } from '../protocol/dhcp.ts';
import { makeSubnet, type DhcpServerConfig } from './dhcp-config.ts';

export function clientRequest(type: DhcpMessageType, mac: string, options: Partial<DhcpOptions> = {}, header: Partial<DhcpMessage> = {}): DhcpMessage {
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: 0x1234abcd, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: mac, sname: '', file: '',
    ...header,
    options: { messageType: type, other: [], ...options },
  };
}

export const BROADCAST_FLAG = DHCP_FLAG_BROADCAST;

export function testConfig(over: Partial<DhcpServerConfig> = {}): DhcpServerConfig {
  return {
    mode: 'full', serverIp: '10.0.0.1', httpBase: 'http://10.0.0.1:8080', unknownMachines: 'menu',
    offerHoldSeconds: 60, declineQuarantineSeconds: 3600,
    subnets: [
      makeSubnet({ cidr: '10.0.0.0/24', ranges: [['10.0.0.100', '10.0.0.104']], gateway: '10.0.0.254', dnsServers: ['10.0.0.53'], domain: 'lab.example', leaseSeconds: 600, interface: 'eth1' }),
      makeSubnet({ cidr: '10.1.0.0/24', ranges: [['10.1.0.10', '10.1.0.20']], gateway: '10.1.0.1', leaseSeconds: 300 }),
    ],
    ...over,
  };
}
