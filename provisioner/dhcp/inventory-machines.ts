// The DHCP server's view of the inventory: which system a MAC belongs to, whether it may
// network-boot, and which addresses are reserved. Every answer is read live (index lookups
// and one blend), so a change through the API applies to the next packet.
import type { InventoryService } from '../inventory/inventory-service.ts';
import type { Value } from '../inventory/types.ts';
import type { MachineInfo } from './dhcp-decide.ts';

type Iface = Record<string, Value>;

function interfacesOf(data: Record<string, Value>): Array<[string, Iface]> {
  const ifs = data['interfaces'];
  if (!ifs || typeof ifs !== 'object' || Array.isArray(ifs)) return [];
  return Object.entries(ifs as Record<string, Value>).filter((e): e is [string, Iface] => !!e[1] && typeof e[1] === 'object' && !Array.isArray(e[1]));
}

const text = (v: Value | undefined): string => (typeof v === 'string' ? v : '');

export function selectMachine(inventory: InventoryService, mac: string): MachineInfo | null {
  const names = inventory.store.findSystems('mac_address', mac);
  const name = names[0];
  if (name === undefined) return null;
  const data = inventory.blended('system', name);
  const iface = interfacesOf(data).find(([, i]) => text(i['mac_address']).toLowerCase() === mac.toLowerCase())?.[1];
  const loaders = data['boot_loaders'];
  const ip = text(iface?.['ip_address']);
  const hostname = text(iface?.['dns_name']).split('.')[0] || text(data['hostname']) || name;
  const filename = text(data['filename']);
  return {
    system: name,
    netboot: data['netboot_enabled'] === true,
    bootLoaders: Array.isArray(loaders) ? loaders.filter((l): l is string => typeof l === 'string') : [],
    ...(ip ? { ip } : {}),
    hostname,
    ...(filename && filename !== '<<inherit>>' ? { filename } : {}),
  };
}

/** The MAC of the system interface that has this static address, if any. */
export function selectReservation(inventory: InventoryService, ip: string): string | undefined {
  const name = inventory.store.findSystems('ip_address', ip)[0];
  if (name === undefined) return undefined;
  const rec = inventory.get('system', name);
  if (!rec) return undefined;
  const iface = interfacesOf(rec as unknown as Record<string, Value>).find(([, i]) => text(i['ip_address']) === ip)?.[1];
  return text(iface?.['mac_address']).toLowerCase() || undefined;
}
