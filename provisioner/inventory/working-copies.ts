// Object handles and the working copies behind them, as Cobbler 3.3's API has them:
// `<type>::<name>` for stored objects, `___NEW___<type>::<random>` for new ones; edits stay
// in the working copy until save, and unsaved copies expire after ten minutes.
import type { Clock, Random } from '../../lib/clock.ts';
import type { ItemRecord, ItemType } from './types.ts';

export const HANDLE_LIFETIME_S = 600;

/** A working copy behind a handle: a new object, or pending edits of an existing one. */
export interface WorkingCopy { type: ItemType; record: ItemRecord; isNew: boolean; originalName?: string; touched: number }

export class HandleCache {
  private readonly copies = new Map<string, WorkingCopy>();
  constructor(private readonly clock: Clock, private readonly random: Random, private readonly lifetime = HANDLE_LIFETIME_S) {}

  newHandle(type: ItemType, record: ItemRecord): string {
    this.sweep();
    const handle = `___NEW___${type}::${this.random.bytes(25).toString('base64')}`;
    this.copies.set(handle, { type, record, isNew: true, touched: this.clock.now() });
    return handle;
  }

  get(handle: string): WorkingCopy | undefined {
    const c = this.copies.get(handle);
    if (!c) return undefined;
    if (this.clock.now() - c.touched > this.lifetime) { this.copies.delete(handle); return undefined; }
    return c;
  }

  set(handle: string, copy: WorkingCopy): void {
    // Re-insert so the map stays ordered by last use: sweep() then stops at the first live copy.
    this.copies.delete(handle);
    this.copies.set(handle, { ...copy, touched: this.clock.now() });
  }

  drop(handle: string): void {
    this.copies.delete(handle);
  }

  /** Pending edits of a stored object are discarded when it is renamed or removed. */
  dropFor(type: ItemType, name: string): void {
    this.copies.delete(existingHandle(type, name));
  }

  /** Oldest first, stopping at the first live copy: O(expired), not O(all), per new handle. */
  private sweep(): void {
    const now = this.clock.now();
    for (const [h, c] of this.copies) {
      if (now - c.touched <= this.lifetime) break;
      this.copies.delete(h);
    }
  }
}

export function existingHandle(type: ItemType, name: string): string {
  return `${type}::${name}`;
}

/** Splits `type::name` / `___NEW___type::rand`; undefined when it is neither. */
export function parseHandle(handle: string): { type: string; name: string; isNew: boolean } | undefined {
  const isNew = handle.startsWith('___NEW___');
  const body = isNew ? handle.slice('___NEW___'.length) : handle;
  const i = body.indexOf('::');
  if (i <= 0) return undefined;
  return { type: body.slice(0, i), name: body.slice(i + 2), isNew };
}
