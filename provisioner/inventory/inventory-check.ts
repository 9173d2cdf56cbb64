// What sync does until the boot services exist: blend every profile and image (what boot
// files are rendered from) and resolve every system's chain to an existing parent. Systems
// are not blended one by one here: their parents are, and saves already validated them.
import { isRackforgeError } from '../../lib/errors.ts';
import { resolveChain } from './blend.ts';
import type { InventoryService } from './inventory-service.ts';

export interface CheckResult { checked: number; problems: string[] }

export function checkInventory(inv: InventoryService, opts: { systems?: string[] } = {}): CheckResult {
  const problems: string[] = [];
  const attempt = (what: string, fn: () => unknown) => {
    try { fn(); } catch (e) { problems.push(`${what}: ${isRackforgeError(e) || e instanceof Error ? e.message : String(e)}`); }
  };
  const lookup = (t: Parameters<typeof inv.get>[0], n: string) => inv.get(t, n);
  const systems = opts.systems && opts.systems.length > 0 ? opts.systems : inv.names('system');
  let checked = 0;
  if (!opts.systems || opts.systems.length === 0) {
    for (const type of ['profile', 'image'] as const) {
      for (const name of inv.names(type)) { checked++; attempt(`${type} ${name}`, () => inv.blended(type, name)); }
    }
  }
  for (const name of systems) {
    checked++;
    attempt(`system ${name}`, () => {
      const record = inv.require('system', name);
      // A system of a subset sync is blended in full; the whole-inventory pass only resolves.
      if (opts.systems && opts.systems.length > 0) inv.blended('system', name);
      else resolveChain('system', record, lookup);
    });
  }
  return { checked, problems };
}
