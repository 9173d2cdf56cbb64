import assert from 'node:assert/strict';
import { BROADCAST_FLAG, clientRequest } from './dhcp-fixtures.ts';
import { selectReplyDestination } from './reply-destination.ts';

const mac = '52:54:00:00:00:01';
const offer = (yiaddr = '10.0.0.100', type: 'OFFER' | 'ACK' | 'NAK' = 'OFFER') => ({ ...clientRequest(type, mac), op: 2, yiaddr });
const rx = (over: Parameters<typeof clientRequest>[3] = {}, port = 67) =>
  ({ request: clientRequest('DISCOVER', mac, {}, over), from: { address: '0.0.0.0', port: 68 }, ifname: 'eth1', port });

describe('selectReplyDestination (RFC 2131 §4.1)', () => {
  it('relayed: to the relay, server port', () => {
    assert.deepEqual(selectReplyDestination(rx({ giaddr: '10.1.0.1', flags: BROADCAST_FLAG }), offer()), { address: '10.1.0.1', port: 67, ifname: 'eth1' });
  });
  it('relayed NAK still goes to the relay', () => {
    assert.deepEqual(selectReplyDestination(rx({ giaddr: '10.1.0.1' }), offer('0.0.0.0', 'NAK')), { address: '10.1.0.1', port: 67, ifname: 'eth1' });
  });
  it('NAK without relay: broadcast, even with ciaddr', () => {
    assert.deepEqual(selectReplyDestination(rx({ ciaddr: '10.0.0.100' }), offer('0.0.0.0', 'NAK')), { address: '255.255.255.255', port: 68, ifname: 'eth1' });
  });
  it('ciaddr set (renewing, inform): unicast to ciaddr', () => {
    assert.deepEqual(selectReplyDestination(rx({ ciaddr: '10.0.0.100' }), offer('10.0.0.100', 'ACK')), { address: '10.0.0.100', port: 68, ifname: 'eth1' });
  });
  it('broadcast bit: limited broadcast out of the arrival interface', () => {
    assert.deepEqual(selectReplyDestination(rx({ flags: BROADCAST_FLAG }), offer()), { address: '255.255.255.255', port: 68, ifname: 'eth1' });
  });
  it('no broadcast bit: unicast to yiaddr at chaddr', () => {
    assert.deepEqual(selectReplyDestination(rx(), offer()), { address: '10.0.0.100', port: 68, hwaddr: mac, ifname: 'eth1' });
  });
  it('ProxyDHCP on 4011: straight back to the sender', () => {
    const r = { ...rx({ ciaddr: '192.168.5.9' }, 4011), from: { address: '192.168.5.9', port: 68 } };
    assert.deepEqual(selectReplyDestination(r, offer('0.0.0.0', 'ACK')), { address: '192.168.5.9', port: 68, ifname: 'eth1' });
  });
});
