// A small lab inventory for boot tests: real InventoryService on a MemoryStore with Debian,
// Ubuntu, Rocky and SUSE distros, their profiles and a few systems.
import { ManualClock, SeededRandom } from '../../lib/clock.ts';
import { InventoryService } from '../inventory/inventory-service.ts';
import { SETTINGS_DEFAULTS, type Settings } from '../inventory/settings.ts';
import type { ItemRecord, ItemType, Value } from '../inventory/types.ts';
import { MemoryStore } from '../store/memory-store.ts';

export const SAMPLE_TEMPLATE_NAMES = ['sample.seed', 'sample.ks', 'sample-autoinstall.yaml'];

export interface BootWorld {
  store: MemoryStore;
  inv: InventoryService;
  clock: ManualClock;
  settings: Settings;
  add(type: ItemType, fields: Record<string, Value>): ItemRecord;
  /** Changes settings in place (the inventory reads them on every call). */
  set(changes: Record<string, Value>): void;
}

export function bootWorld(opts: { settings?: Record<string, Value>; files?: { debianKernel?: string; debianInitrd?: string } } = {}): BootWorld {
  const store = new MemoryStore();
  const clock = new ManualClock(1_700_000_000);
  let settings: Settings = { ...SETTINGS_DEFAULTS, server: '10.0.0.1', next_server_v4: '10.0.0.1', ...(opts.settings ?? {}) };
  const inv = new InventoryService({
    store, clock, random: new SeededRandom(7),
    settings: () => settings,
    fieldContext: () => ({ autoinstallTemplates: SAMPLE_TEMPLATE_NAMES }),
  });
  const add = (type: ItemType, fields: Record<string, Value>): ItemRecord => {
    const h = inv.newHandle(type);
    for (const [k, v] of Object.entries(fields)) {
      if (!inv.modify(type, h, k, v)) throw new Error(`${type}.${k} refused`);
    }
    clock.advance(1);
    return inv.save(type, h);
  };
  add('distro', {
    name: 'debian12', breed: 'debian', os_version: 'bookworm', arch: 'x86_64',
    kernel: opts.files?.debianKernel ?? '/srv/boot/debian12/linux', initrd: opts.files?.debianInitrd ?? '/srv/boot/debian12/initrd.gz',
    kernel_options: 'vga=788 quiet',
  });
  add('distro', {
    name: 'rocky9', breed: 'redhat', os_version: 'rhel9', arch: 'x86_64',
    kernel: '/srv/boot/rocky9/vmlinuz', initrd: '/srv/boot/rocky9/initrd.img',
    autoinstall_meta: 'tree=http://mirror.example/rocky/9/BaseOS/x86_64/os',
  });
  add('distro', { name: 'jammy', breed: 'ubuntu', os_version: 'jammy', arch: 'x86_64', kernel: '/srv/boot/jammy/vmlinuz', initrd: '/srv/boot/jammy/initrd' });
  add('distro', { name: 'sles15', breed: 'suse', os_version: 'sles15', arch: 'x86_64', kernel: '/srv/boot/sles15/linux', initrd: '/srv/boot/sles15/initrd' });
  add('distro', { name: 'arm-bookworm', breed: 'debian', os_version: 'bookworm', arch: 'aarch64', kernel: '/srv/boot/arm/linux', initrd: '/srv/boot/arm/initrd.gz' });
  add('profile', { name: 'debian12-x86_64', distro: 'debian12', autoinstall: 'sample.seed' });
  add('profile', { name: 'debian12_web', parent: 'debian12-x86_64', kernel_options: 'console=ttyS0,115200' });
  add('profile', { name: 'rocky9-x86_64', distro: 'rocky9', autoinstall: 'sample.ks' });
  add('profile', { name: 'jammy-x86_64', distro: 'jammy', autoinstall: 'sample-autoinstall.yaml' });
  add('profile', { name: 'sles15-x86_64', distro: 'sles15', autoinstall: 'sample.ks' });
  add('profile', { name: 'arm-debian', distro: 'arm-bookworm', autoinstall: 'sample.seed' });
  add('profile', { name: 'hidden', distro: 'debian12', autoinstall: '', enable_menu: false });
  add('system', {
    name: 'web01', profile: 'debian12_web', hostname: 'web01.lab.example', netboot_enabled: true,
    modify_interface: { 'macaddress-eth0': '52:54:00:AA:00:01', 'ipaddress-eth0': '10.0.0.11', 'macaddress-eth1': '52:54:00:aa:00:02' },
  });
  add('system', { name: 'db01', profile: 'rocky9-x86_64', netboot_enabled: false, modify_interface: { 'macaddress-eth0': '52:54:00:aa:00:03' } });
  add('system', { name: 'ub01', profile: 'jammy-x86_64', netboot_enabled: true, modify_interface: { 'macaddress-eth0': '52:54:00:aa:00:04' } });
  add('system', {
    name: 'suse01', profile: 'sles15-x86_64', netboot_enabled: true,
    modify_interface: { 'macaddress-eth0': '52:54:00:aa:00:05', 'management-eth0': true },
  });
  return { store, inv, clock, get settings() { return settings; }, add, set(changes) { settings = { ...settings, ...changes }; } };
}
