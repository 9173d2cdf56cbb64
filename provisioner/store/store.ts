// The store seam. Nothing outside provisioner/store/ knows which implementation is in use;
// every implementation passes store-contract.ts.
import type { ItemRecord, ItemType, RefField, SystemKey } from '../inventory/types.ts';

export interface UserRecord {
  name: string;
  /** Encoded password hash (see provisioner/auth/password.ts); never leaves the server. */
  passwordHash: string;
  createdAt: number;
}

export interface Store {
  /** One item by exact name, or undefined. */
  getItem(type: ItemType, name: string): ItemRecord | undefined;
  /** All items of a type, sorted by name. */
  listItems(type: ItemType): ItemRecord[];
  /** All names of a type, sorted. */
  listNames(type: ItemType): string[];
  /** Items of a type modified strictly after `mtime`, sorted by name. */
  itemsSince(type: ItemType, mtime: number): ItemRecord[];
  /** Names of systems whose key (any interface for mac/ip/dns_name) equals value, case-insensitively. */
  findSystems(key: SystemKey, value: string): string[];
  /** Names of items of `type` whose `field` refers to `target` (e.g. profiles with distro=X). */
  findReferrers(type: ItemType, field: RefField, target: string): string[];
  /** Insert or replace by (type, name). */
  putItem(type: ItemType, record: ItemRecord): void;
  /** Remove by name; false if absent. */
  deleteItem(type: ItemType, name: string): boolean;
  /** Run fn atomically: every write inside commits together or not at all. */
  transaction<T>(fn: () => T): T;
  /** Greatest mtime ever written (deletes count), 0 for an empty store. */
  lastModified(): number;

  getUser(name: string): UserRecord | undefined;
  putUser(user: UserRecord): void;
  listUsers(): string[];

  close(): void;
}
