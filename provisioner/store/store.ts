// The store seam. Nothing outside provisioner/store/ knows which implementation is in use;
// every implementation passes store-contract.ts.
import type { ItemRecord, ItemType, RefField, SystemKey } from '../inventory/types.ts';
import type { BootEvent } from '../boot/boot-events.ts';

export interface UserRecord {
  name: string;
  /** Encoded password hash (see provisioner/auth/password.ts); never leaves the server. */
  passwordHash: string;
  createdAt: number;
}

/** What a DHCP lease is in: offered (held for the client), bound (ACKed), released, declined (quarantined). */
export type LeaseState = 'offered' | 'bound' | 'released' | 'declined';

/** One address's lease. The address is the key: one row per address, so never two holders. */
export interface LeaseRecord {
  ip: string;
  /** Lowercase colon MAC (chaddr). */
  mac: string;
  /** Client identity: `id:<hex of option 61>` when the client sent one, else `mac:<mac>`. */
  clientKey: string;
  state: LeaseState;
  /** Seconds since the epoch when the state ends (offer hold, lease, quarantine). */
  expiresAt: number;
  updatedAt: number;
  /** The subnet the lease belongs to, as network/prefix. */
  subnet: string;
  hostname?: string;
  /** Option 97 client machine identifier, hex. */
  uuid?: string;
  /** Relay that forwarded the request, with option 82 sub-options in hex. */
  relay?: { giaddr: string; circuitId?: string; remoteId?: string };
}

/**
 * How many boot events a store keeps unless told otherwise: the newest. A provisioner records
 * every boot's DHCP, TFTP and HTTP steps, forever; a million events (a few hundred MB in SQLite)
 * is thousands of machines' boots, and the table stops growing there.
 */
export const BOOT_EVENT_LIMIT = 1_000_000;

/**
 * Once a store holds more than `limit` + this many events, it drops the oldest down to `limit`:
 * pruning in steps of a thousand rows keeps each one short (it runs inside a boot storm's commit).
 */
export function bootEventSlack(limit: number): number {
  return Math.min(1000, Math.max(1, Math.ceil(limit / 10)));
}

/** How many of the oldest events a store holding `count` must drop now (0 until count passes limit + slack). */
export function bootEventsToDrop(count: number, limit: number): number {
  return count > limit + bootEventSlack(limit) ? count - limit : 0;
}

/** Bounds a store keeps to (a test can set them small). */
export interface StoreLimits {
  /** How many boot events to keep, the newest (BOOT_EVENT_LIMIT by default). */
  bootEventLimit?: number;
}

export interface BootEventQuery {
  system?: string;
  mac?: string;
  /** Only the newest `limit` events (still returned oldest first). */
  limit?: number;
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
  /**
   * Insert or replace by (type, name). The store keeps a copy: later changes to `record` do not
   * reach it. uids are unique across the whole store: a record whose uid belongs to another
   * (type, name) is refused with STORE_CONFLICT (so a rename deletes the old name first).
   * A record without a string name/uid or a finite mtime is refused with ITEM_INVALID_FIELD.
   */
  putItem(type: ItemType, record: ItemRecord): void;
  /** Remove by name; false if absent. */
  deleteItem(type: ItemType, name: string): boolean;
  /**
   * Run fn atomically: every write inside commits together or not at all. fn must be
   * synchronous (a returned promise is refused with a TypeError, and nothing commits).
   * A nested call commits with the outermost one; if it throws, only its own writes are undone
   * (a savepoint), so an outer fn that catches the error can carry on.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Greatest mtime ever written (deletes count, as the store clock's time at the delete),
   * 0 for an empty store. Never decreases.
   */
  lastModified(): number;

  getUser(name: string): UserRecord | undefined;
  putUser(user: UserRecord): void;
  listUsers(): string[];

  /** DHCP leases, by address. */
  getLease(ip: string): LeaseRecord | undefined;
  /** Every lease, sorted by address (numerically). */
  listLeases(): LeaseRecord[];
  putLease(lease: LeaseRecord): void;
  deleteLease(ip: string): boolean;

  /**
   * Append a boot event (DHCP, TFTP, HTTP, callback). The store keeps the newest events only:
   * its bootEventLimit (BOOT_EVENT_LIMIT by default), plus at most bootEventSlack() of it.
   */
  appendBootEvent(event: BootEvent): void;
  /** Events matching every given filter (system or mac, case-insensitive mac), oldest first. */
  listBootEvents(query: BootEventQuery): BootEvent[];

  /** The current per-install token of a system (see provisioner/boot/install-tokens.ts). */
  getInstallToken(system: string): string | undefined;
  putInstallToken(system: string, token: string): void;
  deleteInstallToken(system: string): boolean;

  close(): void;
}
