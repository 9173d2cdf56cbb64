// The registry store in memory, for unit tests and `serve --memory`.
import type { HypervisorRecord } from './hypervisor.ts';
import type { RegistryStore } from './registry-store.ts';

export class MemoryRegistryStore implements RegistryStore {
  private readonly records = new Map<string, HypervisorRecord>();
  private readonly usedTokens = new Set<string>();

  get(name: string): HypervisorRecord | undefined {
    const r = this.records.get(name);
    return r === undefined ? undefined : structuredClone(r);
  }

  list(): HypervisorRecord[] {
    return [...this.records.keys()].sort(byteOrder).map((n) => structuredClone(this.records.get(n) as HypervisorRecord));
  }

  register(record: HypervisorRecord, tokenHash: string): boolean {
    if (this.usedTokens.has(tokenHash)) return false;
    this.usedTokens.add(tokenHash);
    this.records.set(record.name, structuredClone(record));
    return true;
  }

  touch(name: string, at: string): boolean {
    const r = this.records.get(name);
    if (!r) return false;
    r.last_heartbeat = at;
    return true;
  }

  close(): void { /* nothing held */ }
}

/** SQLite's BINARY order for the ASCII names the registry accepts. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
