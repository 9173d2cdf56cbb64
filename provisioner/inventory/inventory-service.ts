// The inventory as the API and boot services use it: the pure object model (fields, blend,
// criteria, validate) applied to a Store, with working copies behind handles. No wire
// format here: the Cobbler surface maps these calls to XML-RPC, the CLI and boot services too.
import type { Clock, Random } from '../../lib/clock.ts';
import { RackforgeError } from '../../lib/errors.ts';
import type { Store } from '../store/store.ts';
import { HandleCache, existingHandle, parseHandle } from './working-copies.ts';
import type { ItemRecord, ItemType, RefField, Value } from './types.ts';
import {
  newRecord, setField, hasField, modifyInterface, deleteInterface, renameInterface, type FieldContext,
} from './record.ts';
import { blendedView, renderedView, resolvedRecord, resolveChain } from './blend.ts';
import { normaliseCriteria, matchesCriteria, indexableCriterion } from './criteria.ts';
import { validateForSave } from './validate.ts';
import type { Settings } from './settings.ts';

export type { Settings };

export interface InventoryDeps {
  store: Store;
  clock: Clock;
  random: Random;
  settings: () => Settings;
  fieldContext: () => FieldContext;
}

/** Which (type, field) pairs point at an item of a given type: rename and remove follow them. */
const REFERRERS: Record<ItemType, Array<[ItemType, RefField]>> = {
  distro: [['profile', 'distro']],
  profile: [['profile', 'parent'], ['system', 'profile']],
  image: [['system', 'image']],
  menu: [['menu', 'parent'], ['profile', 'menu'], ['image', 'menu']],
  repo: [],
  system: [],
};

/** Referrers that are children (removed with a recursive remove); the others are unlinked. */
const CHILD_LINKS: Record<ItemType, Array<[ItemType, RefField]>> = {
  distro: [['profile', 'distro']],
  profile: [['profile', 'parent'], ['system', 'profile']],
  image: [['system', 'image']],
  menu: [['menu', 'parent']],
  repo: [],
  system: [],
};

export class InventoryService {
  readonly handles: HandleCache;
  constructor(private readonly deps: InventoryDeps) {
    this.handles = new HandleCache(deps.clock, deps.random);
  }

  get store(): Store { return this.deps.store; }
  settings(): Settings { return this.deps.settings(); }

  /** The injected clock's time, seconds since the epoch (for decisions made on stored events). */
  now(): number {
    return this.deps.clock.now();
  }

  get(type: ItemType, name: string): ItemRecord | undefined {
    return this.deps.store.getItem(type, name);
  }

  require(type: ItemType, name: string): ItemRecord {
    const r = this.get(type, name);
    if (!r) throw new RackforgeError('ITEM_NOT_FOUND', `internal error, unknown ${type} name ${name}`, { type, name });
    return r;
  }

  list(type: ItemType): ItemRecord[] { return this.deps.store.listItems(type); }
  names(type: ItemType): string[] { return this.deps.store.listNames(type); }
  since(type: ItemType, mtime: number): ItemRecord[] { return this.deps.store.itemsSince(type, mtime); }
  lastModified(): number { return this.deps.store.lastModified(); }

  /** Cobbler's find: AND of criteria, using the system index when an exact key allows it. */
  find(type: ItemType, criteria: Record<string, Value>, sortField = 'name'): ItemRecord[] {
    const crit = normaliseCriteria(type, criteria);
    const key = type === 'system' ? indexableCriterion(type, crit) : undefined;
    let candidates: ItemRecord[];
    if (key) {
      candidates = this.deps.store.findSystems(key.key, key.value)
        .map((n) => this.get('system', n)).filter((r): r is ItemRecord => r !== undefined);
    } else if (typeof crit.name === 'string' && !/[*?[]/.test(crit.name)) {
      const exact = this.findByNameCaseless(type, crit.name);
      candidates = exact ? [exact] : [];
    } else {
      candidates = this.list(type);
    }
    const found = candidates.filter((r) => matchesCriteria(type, r, crit));
    return sortItems(found, sortField);
  }

  private findByNameCaseless(type: ItemType, name: string): ItemRecord | undefined {
    const exact = this.get(type, name);
    if (exact) return exact;
    const lower = name.toLowerCase();
    const hit = this.names(type).find((n) => n.toLowerCase() === lower);
    return hit === undefined ? undefined : this.get(type, hit);
  }

  // ----- handles and working copies -----

  newHandle(type: ItemType, opts: { subprofile?: boolean } = {}): string {
    const now = this.deps.clock.now();
    let record = newRecord(type, now, this.deps.random.bytes(16).toString('hex'));
    if (opts.subprofile && type === 'profile') record = { ...record, is_subobject: true };
    return this.handles.newHandle(type, record);
  }

  handleFor(type: ItemType, name: string): string {
    this.require(type, name);
    return existingHandle(type, name);
  }

  /** The record a handle currently stands for (working copy or stored object). */
  resolveHandle(type: ItemType, handle: string): { record: ItemRecord; isNew: boolean; originalName?: string } {
    const copy = this.handles.get(handle);
    if (copy) {
      if (copy.type !== type) throw unknownHandle(handle);
      return copy.isNew ? { record: copy.record, isNew: true } : { record: copy.record, isNew: false, originalName: copy.originalName! };
    }
    const parsed = parseHandle(handle);
    if (!parsed || parsed.isNew || parsed.type !== type) throw unknownHandle(handle);
    const stored = this.get(type, parsed.name);
    if (!stored) throw unknownHandle(handle);
    return { record: stored, isNew: false, originalName: stored.name };
  }

  /** modify_<T>: true when the attribute exists (and the value was accepted), false otherwise. */
  modify(type: ItemType, handle: string, attribute: string, value: Value): boolean {
    const current = this.resolveHandle(type, handle);
    let record: ItemRecord;
    if (type === 'system' && attribute === 'modify_interface') record = modifyInterface(current.record, asDict(value, attribute));
    else if (type === 'system' && attribute === 'delete_interface') record = deleteInterface(current.record, value);
    else if (type === 'system' && attribute === 'rename_interface') record = renameInterface(current.record, asDict(value, attribute));
    else if (!hasField(type, attribute)) return false;
    else record = setField(type, current.record, attribute, value, { ...this.deps.fieldContext(), lookup: this.lookup, settings: this.settings() });
    this.handles.set(handle, current.isNew
      ? { type, record, isNew: true, touched: 0 }
      : { type, record, isNew: false, originalName: current.originalName!, touched: 0 });
    return true;
  }

  /** save_<T>: validate and persist the working copy; editmode "new" refuses an existing name. */
  save(type: ItemType, handle: string, editmode = 'bypass'): ItemRecord {
    const current = this.resolveHandle(type, handle);
    const record = { ...current.record };
    if (typeof record.name !== 'string' || record.name === '') {
      throw new RackforgeError('ITEM_INVALID_FIELD', `${type} has no name; set 'name' before saving`, { field: 'name' });
    }
    const renamedFrom = !current.isNew && current.originalName !== record.name ? current.originalName : undefined;
    // The name may already be taken only by the object itself, saved as an edit (Cobbler's
    // editmode "new" refuses even that).
    const taken = this.get(type, record.name) !== undefined;
    if (taken && (current.isNew || renamedFrom !== undefined || editmode === 'new')) {
      throw new RackforgeError('ITEM_EXISTS', "An object already exists with that name. Try 'edit'?", { type, name: record.name });
    }
    const saved = this.persist(type, record, renamedFrom);
    if (renamedFrom) this.handles.dropFor(type, renamedFrom);
    // As in Cobbler, a handle stays usable after save (its object stays cached): further
    // modify calls edit the saved object and the next save stores them.
    if (current.isNew) this.handles.set(handle, { type, record: saved, isNew: false, originalName: saved.name, touched: 0 });
    else this.handles.drop(handle);
    return saved;
  }

  private persist(type: ItemType, record: ItemRecord, renamedFrom?: string): ItemRecord {
    const lookup = (t: ItemType, n: string) => (t === type && n === record.name ? record : this.get(t, n));
    validateForSave(type, record, {
      lookup,
      findSystems: (key, value) => this.deps.store.findSystems(key, value).filter((n) => n !== renamedFrom),
      settings: this.settings(),
    });
    const now = this.deps.clock.now();
    const saved: ItemRecord = { ...record, mtime: now, ...this.placement(type, record, lookup) };
    this.deps.store.transaction(() => {
      if (renamedFrom) {
        this.deps.store.deleteItem(type, renamedFrom);
        this.repointReferrers(type, renamedFrom, saved.name, now);
      }
      this.deps.store.putItem(type, saved);
    });
    return saved;
  }

  /** depth and is_subobject follow the object's place in the tree, as Cobbler computes them. */
  private placement(type: ItemType, record: ItemRecord, lookup: (t: ItemType, n: string) => ItemRecord | undefined): Partial<ItemRecord> {
    // validateForSave has already resolved the chain, so it exists and has no loop.
    const depth = resolveChain(type, record, lookup).length - 1;
    const sub = (type === 'profile' || type === 'menu') && typeof record.parent === 'string' && record.parent !== '';
    return { depth, is_subobject: sub };
  }

  private repointReferrers(type: ItemType, from: string, to: string, now: number): void {
    for (const [rtype, field] of REFERRERS[type]) {
      for (const name of this.deps.store.findReferrers(rtype, field, from)) {
        const r = this.get(rtype, name);
        if (r) this.deps.store.putItem(rtype, { ...r, [field]: to, mtime: now });
      }
    }
    if (type === 'repo') this.editRepoLists(from, (repos) => repos.map((x) => (x === from ? to : x)), now);
  }

  private editRepoLists(repo: string, edit: (repos: string[]) => string[], now: number): void {
    for (const p of this.list('profile')) {
      if (Array.isArray(p.repos) && p.repos.includes(repo)) {
        this.deps.store.putItem('profile', { ...p, repos: edit(p.repos as string[]), mtime: now });
      }
    }
  }

  copy(type: ItemType, handle: string, newname: string): ItemRecord {
    const { record } = this.resolveHandle(type, handle);
    if (this.get(type, newname)) {
      throw new RackforgeError('ITEM_EXISTS', `It seems unwise to overwrite the object ${newname}, try 'edit'`, { type, name: newname });
    }
    const now = this.deps.clock.now();
    let copy: ItemRecord = setField(type, { ...record, uid: this.deps.random.bytes(16).toString('hex'), ctime: now }, 'name', newname, this.deps.fieldContext());
    // A copied system would collide with its original on every MAC/IP/hostname: the copy
    // keeps its interfaces' layout but not the addresses that must stay unique.
    if (type === 'system') copy = clearUniqueAddresses(copy);
    return this.persist(type, copy);
  }

  rename(type: ItemType, handle: string, newname: string): ItemRecord {
    const { record, isNew } = this.resolveHandle(type, handle);
    if (isNew) throw unknownHandle(handle);
    if (newname === record.name) return record;
    if (this.get(type, newname)) {
      throw new RackforgeError('ITEM_EXISTS', `It seems unwise to overwrite the object ${newname}, try 'edit'`, { type, name: newname });
    }
    const renamed = setField(type, record, 'name', newname, this.deps.fieldContext());
    const saved = this.persist(type, renamed, record.name);
    this.handles.dropFor(type, record.name);
    return saved;
  }

  /** remove_<T>(name, recursive): children go too when recursive, else the remove is refused. */
  remove(type: ItemType, name: string, recursive: boolean): void {
    this.require(type, name);
    const children = this.childrenOf(type, name);
    if (children.length > 0 && !recursive) {
      throw new RackforgeError('ITEM_HAS_CHILDREN',
        `Can't delete this ${type} there are ${children.length} ${children.length === 1 ? 'child' : 'children'} and 'recursive' is set to 'False'`,
        { type, name, children: children.map((c) => `${c.type}:${c.name}`) });
    }
    const now = this.deps.clock.now();
    this.deps.store.transaction(() => {
      this.removeTree(type, name, now);
    });
  }

  private childrenOf(type: ItemType, name: string): Array<{ type: ItemType; name: string }> {
    const out: Array<{ type: ItemType; name: string }> = [];
    for (const [ctype, field] of CHILD_LINKS[type]) {
      for (const n of this.deps.store.findReferrers(ctype, field, name)) out.push({ type: ctype, name: n });
    }
    return out;
  }

  private removeTree(type: ItemType, name: string, now: number): void {
    for (const child of this.childrenOf(type, name)) this.removeTree(child.type, child.name, now);
    // Non-child referrers (a profile's menu, a profile's repos) are unlinked, not deleted.
    for (const [rtype, field] of REFERRERS[type]) {
      if (CHILD_LINKS[type].some(([t, f]) => t === rtype && f === field)) continue;
      for (const n of this.deps.store.findReferrers(rtype, field, name)) {
        const r = this.get(rtype, n);
        if (r) this.deps.store.putItem(rtype, { ...r, [field]: '', mtime: now });
      }
    }
    if (type === 'repo') this.editRepoLists(name, (repos) => repos.filter((x) => x !== name), now);
    this.deps.store.deleteItem(type, name);
    this.handles.dropFor(type, name);
  }

  // ----- resolved views -----

  private lookup = (t: ItemType, n: string) => this.get(t, n);

  blended(type: ItemType, name: string): Record<string, Value> {
    return blendedView(type, this.require(type, name), this.lookup, this.settings());
  }

  rendered(type: ItemType, name: string): Record<string, Value> {
    return renderedView(type, this.require(type, name), this.lookup, this.settings());
  }

  resolved(type: ItemType, record: ItemRecord): ItemRecord {
    return resolvedRecord(type, record, this.lookup, this.settings());
  }
}

function unknownHandle(handle: string): RackforgeError {
  return new RackforgeError('API_UNKNOWN_HANDLE', `invalid or expired object handle: ${handle}`, { handle });
}

function asDict(value: Value, attribute: string): Record<string, Value> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RackforgeError('ITEM_INTERFACE', `${attribute} needs a struct of '<field>-<interface>' keys`, { attribute });
  }
  return value;
}

function clearUniqueAddresses(record: ItemRecord): ItemRecord {
  const interfaces: Record<string, Value> = {};
  const src = (record.interfaces ?? {}) as Record<string, Record<string, Value>>;
  for (const [ifname, nic] of Object.entries(src)) interfaces[ifname] = { ...nic, mac_address: '', ip_address: '', dns_name: '' };
  return { ...record, interfaces, hostname: '' };
}

export function sortItems(items: ItemRecord[], sortField: string): ItemRecord[] {
  const reverse = sortField.startsWith('!');
  const field = reverse ? sortField.slice(1) : sortField || 'name';
  const key = (r: ItemRecord) => {
    const v = r[field];
    return typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v ?? '');
  };
  const sorted = [...items].sort((a, b) => {
    const ka = key(a), kb = key(b);
    const c = ka < kb ? -1 : ka > kb ? 1 : 0;
    return c !== 0 ? c : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  return reverse ? sorted.reverse() : sorted;
}
