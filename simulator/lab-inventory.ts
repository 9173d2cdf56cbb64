// What a lab file asks the provisioner to know: its distros and profiles, and a system per
// machine that names a profile (NICs become interfaces eth0, eth1... in order; rack and
// datacentre go into `mgmt_parameters`, where Cobbler keeps free-form per-system data that
// templates and later the cloud controller can read).
// Created through the same inventory operations the API uses, so every rule applies; objects
// that already exist (a lab brought up again, or edited by hand since) are left as they are.
import type { InventoryService } from '../provisioner/inventory/inventory-service.ts';
import type { ItemType } from '../provisioner/inventory/types.ts';
import type { LabDefinition, LabNode } from './lab-definition.ts';
import { syntheticNodes } from './lab-definition.ts';

type Inventory = Pick<InventoryService, 'get' | 'newHandle' | 'modify' | 'save'>;
type FieldValue = Parameters<InventoryService['modify']>[3];

export interface SeedResult { created: string[]; kept: string[] }

function create(inv: Inventory, type: ItemType, fields: Record<string, unknown>, out: SeedResult): void {
  const name = String(fields['name']);
  if (inv.get(type, name)) { out.kept.push(`${type} ${name}`); return; }
  const h = inv.newHandle(type);
  // name first: later fields (a profile's distro, a system's interfaces) are checked against it.
  inv.modify(type, h, 'name', name);
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'name') continue;
    if (!inv.modify(type, h, k, v as FieldValue)) throw new Error(`${type} ${name}: no field '${k}'`);
  }
  inv.save(type, h);
  out.created.push(`${type} ${name}`);
}

/** The system record for one lab machine, or undefined when it names no profile. */
export function systemFields(node: Pick<LabNode, 'name' | 'profile' | 'rack' | 'datacentre'> & { macs: string[] }): Record<string, unknown> | undefined {
  if (!node.profile) return undefined;
  const iface: Record<string, string> = {};
  node.macs.forEach((mac, i) => { iface[`macaddress-eth${i}`] = mac; });
  const labels: Record<string, string> = {};
  if (node.rack) labels['rack'] = node.rack;
  if (node.datacentre) labels['datacentre'] = node.datacentre;
  return {
    name: node.name,
    profile: node.profile,
    hostname: node.name,
    netboot_enabled: true,
    modify_interface: iface,
    ...(Object.keys(labels).length > 0 ? { mgmt_parameters: labels } : {}),
  };
}

export function seedLabInventory(inv: Inventory, lab: LabDefinition): SeedResult {
  const out: SeedResult = { created: [], kept: [] };
  for (const d of lab.provisioner.inventory.distros) create(inv, 'distro', d, out);
  for (const p of lab.provisioner.inventory.profiles) create(inv, 'profile', p, out);
  for (const n of lab.nodes) seedNodeSystem(inv, { ...n, macs: n.nics.map((x) => x.mac) }, out);
  for (const g of lab.synthetic) {
    if (!g.profile) continue;
    for (const s of syntheticNodes(g)) seedNodeSystem(inv, { name: s.name, profile: g.profile, macs: [s.mac] }, out);
  }
  return out;
}

export function seedNodeSystem(inv: Inventory, node: Parameters<typeof systemFields>[0], out: SeedResult = { created: [], kept: [] }): SeedResult {
  const fields = systemFields(node);
  if (fields) create(inv, 'system', fields, out);
  return out;
}
