// The distro and profile every in-process bench hangs its systems on.
import type { InventoryService } from '../provisioner/inventory/inventory-service.ts';

export function seedBenchProfile(inv: InventoryService): void {
  const d = inv.newHandle('distro');
  for (const [k, v] of [['name', 'bench-distro'], ['arch', 'x86_64'], ['breed', 'ubuntu'], ['kernel', '/srv/boot/bench/linux'], ['initrd', '/srv/boot/bench/initrd.gz']] as const) inv.modify('distro', d, k, v);
  inv.save('distro', d);
  const p = inv.newHandle('profile');
  inv.modify('profile', p, 'name', 'bench-profile');
  inv.modify('profile', p, 'distro', 'bench-distro');
  inv.save('profile', p);
}
