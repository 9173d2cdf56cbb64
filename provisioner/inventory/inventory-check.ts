// What sync does until the boot services exist: resolve every system and profile through
// its inheritance chain and report what would not render. Read-only.
import { isRackforgeError } from '../../lib/errors.ts';
import type { InventoryService } from './inventory-service.ts';
import type { ItemType } from './types.ts';

export interface CheckResult { checked: number; problems: string[] }

export function checkInventory(inv: InventoryService, opts: { systems?: string[] } = {}): CheckResult {
  const targets: Array<[ItemType, string]> = opts.systems && opts.systems.length > 0
    ? opts.systems.map((n) => ['system', n] as [ItemType, string])
    : [...inv.names('profile').map((n) => ['profile', n] as [ItemType, string]), ...inv.names('system').map((n) => ['system', n] as [ItemType, string])];
  const problems: string[] = [];
  for (const [type, name] of targets) {
    try {
      inv.blended(type, name);
    } catch (e) {
      problems.push(`${type} ${name}: ${isRackforgeError(e) || e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { checked: targets.length, problems };
}
