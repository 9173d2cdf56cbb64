// Inventory for the synthetic PXE test, through the Cobbler API as an automation script would.
//   synthetic-inventory.ts seed URL PASSWORD KERNEL INITRD NAME=MAC...
//     a debian distro with these files, a menu profile, the systems, and a system named
//     "default" whose profile the pxelinux menu boots when it times out (Cobbler's convention).
//   synthetic-inventory.ts events URL NAME...
//     prints {NAME: [{kind, detail, ip}...]} for each system, as JSON on one line.
import { decodeMethodResponse, encodeMethodCall, type XmlRpcValue } from '../../provisioner/protocol/xmlrpc.ts';

async function rpc(url: string, method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeMethodCall(method, params) });
  const out = decodeMethodResponse(Buffer.from(await res.arrayBuffer()));
  if ('fault' in out) throw new Error(`${method}: ${out.fault.faultString}`);
  return out.value;
}

async function create(url: string, t: string, type: string, fields: Array<[string, XmlRpcValue]>): Promise<void> {
  const h = await rpc(url, `new_${type}`, t) as string;
  for (const [k, v] of fields) await rpc(url, `modify_${type}`, h, k, v, t);
  await rpc(url, `save_${type}`, h, t);
}

const [mode, url, ...rest] = process.argv.slice(2);
if (mode === 'seed') {
  const [password, kernel, initrd, ...systems] = rest;
  const t = await rpc(url!, 'login', 'cobbler', password!) as string;
  await create(url!, t, 'distro', [['name', 'syn-distro'], ['arch', 'x86_64'], ['breed', 'debian'], ['os_version', 'bookworm'], ['kernel', kernel!], ['initrd', initrd!]]);
  await create(url!, t, 'profile', [['name', 'syn-profile'], ['distro', 'syn-distro'], ['autoinstall', 'sample.seed']]);
  await create(url!, t, 'system', [['name', 'default'], ['profile', 'syn-profile']]);
  for (const spec of systems) {
    const [name, mac] = spec.split('=');
    await create(url!, t, 'system', [['name', name!], ['profile', 'syn-profile'], ['hostname', name!], ['modify_interface', { 'macaddress-eth0': mac! }], ['netboot_enabled', true]]);
  }
  console.log(`seeded ${systems.length}`);
} else if (mode === 'events') {
  const out: Record<string, XmlRpcValue> = {};
  for (const name of rest) out[name] = await rpc(url!, 'get_system_boot_events', name, 0);
  console.log(JSON.stringify(out));
} else {
  console.error('usage: synthetic-inventory.ts seed URL PASSWORD KERNEL INITRD NAME=MAC... | events URL NAME...');
  process.exit(2);
}
