// What the hypervisor registry keeps, behind one narrow interface: the records, and the
// registration tokens already used (so a token registers once). Implementations:
// SqliteRegistryStore (controller.db) and MemoryRegistryStore (tests); both pass
// registry-store-contract.ts.
import type { HypervisorRecord } from './hypervisor.ts';

export interface RegistryStore {
  /** The record by name, or undefined. Callers get a copy: changing it changes nothing stored. */
  get(name: string): HypervisorRecord | undefined;
  /** Every record, sorted by name (byte order). */
  list(): HypervisorRecord[];
  /**
   * In one transaction: record `tokenHash` as used and put `record` (replacing any record of
   * that name). Returns false, writing nothing, when `tokenHash` was used before.
   */
  register(record: HypervisorRecord, tokenHash: string): boolean;
  /** Set the record's last_heartbeat; false when there is no such record. */
  touch(name: string, at: string): boolean;
  close(): void;
}
