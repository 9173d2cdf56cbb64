// What a booting machine should get: the inventory object a MAC (or a system or profile name)
// stands for, with its distro and blended data. Pure over the lookups it is given; the
// loaders' file renderers and the install-time HTTP routes all start here.
import { isMac, parseMac, type Mac } from '../../lib/ids.ts';
import { resolveChain } from '../inventory/blend.ts';
import type { Settings } from '../inventory/settings.ts';
import type { ItemRecord, ItemType, Value } from '../inventory/types.ts';

/** The inventory lookups boot decisions need; InventoryService provides them. */
export interface BootInventory {
  get(type: ItemType, name: string): ItemRecord | undefined;
  list(type: ItemType): ItemRecord[];
  find(type: ItemType, criteria: Record<string, Value>): ItemRecord[];
  blended(type: ItemType, name: string): Record<string, Value>;
  /** The record with inherited values resolved (boot_loaders, for menus). */
  resolved(type: ItemType, record: ItemRecord): ItemRecord;
  settings(): Settings;
}

export interface SystemTarget {
  kind: 'system';
  system: ItemRecord;
  /** The nearest profile up the chain (a sub-profile when the system uses one). */
  profile?: ItemRecord;
  /** Set instead of profile/distro for image-based systems. */
  image?: ItemRecord;
  /** The distro at the root of the chain; absent for image-based systems. */
  distro?: ItemRecord;
  netboot: boolean;
  blended: Record<string, Value>;
  /** The MAC and interface that matched, for a lookup by MAC. */
  mac?: Mac;
  interface?: string;
}

export interface ProfileTarget {
  kind: 'profile';
  profile: ItemRecord;
  distro?: ItemRecord;
  blended: Record<string, Value>;
}

export type BootTarget = SystemTarget | ProfileTarget | { kind: 'unknown' };

export type BootKey = { mac: string } | { system: string } | { profile: string };

/**
 * Decides what a key stands for. An unknown or malformed MAC, or an unknown name, is
 * `unknown`; a known object whose chain is broken (a missing parent) throws the inventory's
 * ITEM_MISSING_REFERENCE, so the caller can report it rather than boot something else.
 */
export function selectBootTarget(inv: BootInventory, key: BootKey): BootTarget {
  if ('mac' in key) return selectByMac(inv, key.mac);
  if ('system' in key) {
    const system = inv.get('system', key.system);
    return system ? systemTarget(inv, system) : { kind: 'unknown' };
  }
  const profile = inv.get('profile', key.profile);
  if (!profile) return { kind: 'unknown' };
  const chain = resolveChain('profile', profile, (t, n) => inv.get(t, n));
  const distro = chain.find((n) => n.type === 'distro')?.record;
  return { kind: 'profile', profile, ...(distro ? { distro } : {}), blended: inv.blended('profile', profile.name) };
}

function selectByMac(inv: BootInventory, text: string): BootTarget {
  if (!isMac(text)) return { kind: 'unknown' };
  const mac = parseMac(text);
  // The store's index answers case-insensitively across all interfaces; several systems can
  // share a MAC only with allow_duplicate_macs, and then the first by name wins.
  for (const system of inv.find('system', { mac_address: mac })) {
    const ifname = interfaceWithMac(system, mac);
    if (ifname !== undefined) return systemTarget(inv, system, mac, ifname);
  }
  return { kind: 'unknown' };
}

/** The interface of `system` whose MAC is `mac` (compared case-insensitively), if any. */
export function interfaceWithMac(system: ItemRecord, mac: Mac): string | undefined {
  const ifaces = system['interfaces'];
  if (!ifaces || typeof ifaces !== 'object' || Array.isArray(ifaces)) return undefined;
  for (const [name, nic] of Object.entries(ifaces)) {
    if (!nic || typeof nic !== 'object' || Array.isArray(nic)) continue;
    const m = nic['mac_address'];
    if (typeof m === 'string' && isMac(m) && parseMac(m) === mac) return name;
  }
  return undefined;
}

function systemTarget(inv: BootInventory, system: ItemRecord, mac?: Mac, ifname?: string): SystemTarget {
  const chain = resolveChain('system', system, (t, n) => inv.get(t, n));
  const distro = chain.find((n) => n.type === 'distro')?.record;
  const image = chain.find((n) => n.type === 'image')?.record;
  const profiles = chain.filter((n) => n.type === 'profile');
  const profile = profiles[profiles.length - 1]?.record;
  return {
    kind: 'system',
    system,
    ...(profile ? { profile } : {}),
    ...(image ? { image } : {}),
    ...(distro ? { distro } : {}),
    netboot: system['netboot_enabled'] === true,
    blended: inv.blended('system', system.name),
    ...(mac ? { mac } : {}),
    ...(ifname !== undefined ? { interface: ifname } : {}),
  };
}

/** The first interface MAC of a system (interfaces in stored order), for event records. */
export function firstMac(system: ItemRecord): Mac | undefined {
  const ifaces = system['interfaces'];
  if (!ifaces || typeof ifaces !== 'object' || Array.isArray(ifaces)) return undefined;
  for (const nic of Object.values(ifaces)) {
    if (nic && typeof nic === 'object' && !Array.isArray(nic)) {
      const m = nic['mac_address'];
      if (typeof m === 'string' && isMac(m)) return parseMac(m);
    }
  }
  return undefined;
}
