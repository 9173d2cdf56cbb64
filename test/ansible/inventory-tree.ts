// The profile tree and systems that the inventory-plugin tests read back: a distro, a profile
// with a sub-profile, and three systems chosen to exercise each rule of the plugin
// (community.general plugins/inventory/cobbler.py):
//   inv-web01   hostname set; owners, mgmt_classes, status set -> one group each
//   inv-db01    empty hostname, non-static NIC with a DNS name -> the DNS name is the host;
//               owners/mgmt_classes left "<<inherit>>" (no group), status "" (group "cobbler_")
//   inv-nohost  empty hostname, static non-management NIC -> skipped by the plugin
import { rpc, seedProfile } from '../helpers/provisioner.ts';
import type { XmlRpcValue } from '../../provisioner/protocol/xmlrpc.ts';

export const TOP_PROFILE = 'lucid-i386-juju';
export const SUB_PROFILE = 'juju-web';

async function createSystem(apiUrl: string, token: string, name: string, fields: Record<string, XmlRpcValue>,
  nics: Record<string, XmlRpcValue>): Promise<void> {
  const h = await rpc(apiUrl, 'new_system', token) as string;
  await rpc(apiUrl, 'modify_system', h, 'name', name, token);
  for (const [k, v] of Object.entries(fields)) await rpc(apiUrl, 'modify_system', h, k, v, token);
  await rpc(apiUrl, 'modify_system', h, 'modify_interface', nics, token);
  await rpc(apiUrl, 'save_system', h, token);
}

export async function seedInventoryTree(apiUrl: string, token: string): Promise<void> {
  await seedProfile(apiUrl, token, TOP_PROFILE);
  const sub = await rpc(apiUrl, 'new_subprofile', token) as string;
  await rpc(apiUrl, 'modify_profile', sub, 'name', SUB_PROFILE, token);
  await rpc(apiUrl, 'modify_profile', sub, 'parent', TOP_PROFILE, token);
  await rpc(apiUrl, 'save_profile', sub, token);

  await createSystem(apiUrl, token, 'inv-web01', {
    profile: SUB_PROFILE, hostname: 'inv-web01.example.com', status: 'production',
    mgmt_classes: ['webserver', 'monitored'], owners: ['alice'],
  }, {
    'macaddress-eth0': '52:54:00:70:00:01', 'ipaddress-eth0': '10.99.0.61', 'dnsname-eth0': 'inv-web01.example.com',
    'static-eth0': true, 'management-eth0': true,
  });
  await createSystem(apiUrl, token, 'inv-db01', { profile: TOP_PROFILE }, {
    'macaddress-eth0': '52:54:00:70:00:02', 'ipaddress-eth0': '10.99.0.62', 'dnsname-eth0': 'inv-db01.example.com',
    'static-eth0': false,
  });
  await createSystem(apiUrl, token, 'inv-nohost', { profile: TOP_PROFILE }, {
    'macaddress-eth0': '52:54:00:70:00:03', 'ipaddress-eth0': '10.99.0.63', 'dnsname-eth0': 'inv-nohost.example.com',
    'static-eth0': true, 'management-eth0': false,
  });
}
