// Minimal records for store tests. Only the fields the store reads are meaningful; the real
// defaults of each type belong to the inventory module.
import type { InterfaceRecord, ItemRecord, Value } from '../inventory/types.ts';

let uidCounter = 0;

export function testUid(): string {
  uidCounter += 1;
  return `${process.pid.toString(16)}${Date.now().toString(16)}${uidCounter.toString(16).padStart(8, '0')}`;
}

export function makeItem(name: string, fields: { [k: string]: Value } = {}): ItemRecord {
  return { name, uid: testUid(), ctime: 1_700_000_000, mtime: 1_700_000_000, comment: '', parent: '', ...fields };
}

export function makeInterface(mac: string, ip = '', dns = ''): InterfaceRecord {
  return { mac_address: mac, ip_address: ip, dns_name: dns, netmask: '255.255.255.0', static: false, management: false };
}

export function makeSystem(
  name: string,
  interfaces: { [ifname: string]: InterfaceRecord } = {},
  fields: { [k: string]: Value } = {},
): ItemRecord {
  return makeItem(name, { profile: '', image: '', hostname: '', netboot_enabled: false, interfaces, ...fields });
}

/** A system of roughly `bytes` of JSON, shaped like Cobbler's to_dict(), for benchmarks. */
export function makeBulkySystem(i: number, bytes = 2048): ItemRecord {
  const mac = (n: number): string =>
    ['52', '54', '00', (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]
      .map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0')))
      .join(':')
      .replace(/^52/, n === 0 ? '52' : '5a');
  const rec = makeSystem(`sys-${String(i).padStart(6, '0')}`, {
    eth0: makeInterface(mac(0), `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`, `node${i}.lab.example`),
    eth1: makeInterface(mac(1)),
  }, {
    profile: `profile-${i % 20}`,
    hostname: `node${i}`,
    kernel_options: { console: 'ttyS0,115200n8', 'net.ifnames': '0' },
    autoinstall_meta: {},
    owners: '<<inherit>>',
    mgmt_classes: [],
    power_type: 'ipmilanplus',
    power_address: `10.99.${(i >> 8) & 0xff}.${i & 0xff}`,
    status: 'production',
  });
  const pad = bytes - JSON.stringify(rec).length;
  if (pad > 0) rec['comment'] = 'x'.repeat(pad);
  return rec;
}
