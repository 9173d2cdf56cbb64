// Inheritance, as Cobbler 3.3.7 computes it: the chain of parents (grab_tree), a property's
// resolved value (Item._resolve / _resolve_dict), and the blended dictionary that templates
// and get_<T>_as_rendered see (utils.blender / __consolidate / flatten). Pure: records come
// in through an injected lookup, nothing is read or written.
import { RackforgeError } from '../../lib/errors.ts';
import { assignOwn, dictAnnihilate, dictToKernelArgs, isDict, setOwn, uniquify } from './convert.ts';
import { DICT_RESOLVED_FIELDS, DICT_REMOVAL_FIELDS, fieldSpec, storedFields } from './fields.ts';
import { supportedBootLoaders } from './settings.ts';
import type { Settings } from './settings.ts';
import { INHERIT } from './types.ts';
import type { ItemRecord, ItemType, Value } from './types.ts';
import { interfaceToWire, toWire } from './wire.ts';
import type { WireRecord } from './wire.ts';

export type Lookup = (type: ItemType, name: string) => ItemRecord | undefined;
export interface ChainNode { readonly type: ItemType; readonly record: ItemRecord }
export type Blended = { [key: string]: Value };

function str(v: Value | undefined): string {
  return typeof v === 'string' ? v : '';
}

function missing(type: ItemType, name: string, from: ChainNode, field: string): RackforgeError {
  return new RackforgeError('ITEM_MISSING_REFERENCE', `${type} '${name}' not found (referenced by ${from.type} '${from.record.name}' field ${field})`, {
    type, name, from: from.type, fromName: from.record.name, field,
  });
}

/** The logical parent of a node (Item.parent in Cobbler), or undefined at the top. */
export function selectParent(node: ChainNode, lookup: Lookup): ChainNode | undefined {
  const { type, record } = node;
  const need = (t: ItemType, field: string, name: string): ChainNode => {
    const found = lookup(t, name);
    if (!found) throw missing(t, name, node, field);
    return { type: t, record: found };
  };
  switch (type) {
    case 'profile': {
      const parent = str(record['parent']);
      if (parent) return need('profile', 'parent', parent);
      const distro = str(record['distro']);
      return distro ? need('distro', 'distro', distro) : undefined;
    }
    case 'system': {
      const parent = str(record['parent']);
      if (parent) {
        for (const t of ['system', 'profile', 'image'] as const) {
          const found = lookup(t, parent);
          if (found) return { type: t, record: found };
        }
        throw new RackforgeError('ITEM_MISSING_REFERENCE', `neither a system, profile nor image named '${parent}' exists (parent of system '${record.name}')`, {
          name: parent, from: 'system', fromName: record.name, field: 'parent',
        });
      }
      const profile = str(record['profile']);
      if (profile) return need('profile', 'profile', profile);
      const image = str(record['image']);
      return image ? need('image', 'image', image) : undefined;
    }
    case 'menu': {
      const parent = str(record['parent']);
      return parent ? need('menu', 'parent', parent) : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * root → leaf: distro → profile → sub-profiles → system (or image → system). A missing parent
 * is ITEM_MISSING_REFERENCE; a loop (a profile that is its own ancestor) is ITEM_INVALID_FIELD.
 */
export function resolveChain(type: ItemType, record: ItemRecord, lookup: Lookup): ChainNode[] {
  const chain: ChainNode[] = [];
  const seen = new Set<string>();
  let node: ChainNode | undefined = { type, record };
  while (node) {
    const key = `${node.type}\0${node.record.name}`;
    if (seen.has(key)) {
      throw new RackforgeError('ITEM_INVALID_FIELD', `inheritance loop: ${node.type} '${node.record.name}' is its own ancestor`, {
        field: 'parent', type: node.type, name: node.record.name,
      });
    }
    seen.add(key);
    chain.push(node);
    node = selectParent(node, lookup);
  }
  return chain.reverse();
}

function clone<T extends Value>(v: T): T {
  return structuredClone(v);
}

/** Settings key a property falls back to (Item._resolve's settings_name rules). */
function settingsNameFor(type: ItemType, field: string): string {
  if (field === 'owners') return 'default_ownership';
  if (field === 'proxy') return type === 'repo' ? 'proxy_url_ext' : 'proxy_url_int';
  return field;
}

/**
 * The value Cobbler's property getter returns for chain[idx].field: own value unless it is
 * "<<inherit>>", else the parent's resolved value (if the parent type has the property),
 * else settings[field] or settings["default_" + field]. Dict properties merge parent and own
 * and apply "!key" removals. Unresolvable values stay "<<inherit>>", as in Cobbler.
 */
export function resolveValue(chain: readonly ChainNode[], idx: number, field: string, settings: Settings): Value {
  const node = chain[idx];
  if (!node) return INHERIT;
  const spec = fieldSpec(node.type, field);
  const parent = idx > 0 ? chain[idx - 1] : undefined;
  const parentHas = parent !== undefined && fieldSpec(parent.type, field) !== undefined;
  const rawStored = node.record[field];
  const raw: Value = rawStored === undefined ? clone(spec?.default ?? INHERIT) : rawStored;

  if (DICT_RESOLVED_FIELDS.has(field)) {
    let merged: { [k: string]: Value } = {};
    if (parentHas) {
      const p = resolveValue(chain, idx - 1, field, settings);
      if (isDict(p)) merged = clone(p);
    } else if (isDict(settings[field])) {
      merged = clone(settings[field] as { [k: string]: Value });
    }
    if (raw !== INHERIT && isDict(raw)) assignOwn(merged, clone(raw));
    return dictAnnihilate(merged);
  }
  if (raw !== INHERIT) return clone(raw);

  if (field === 'autoinstall' && node.type === 'profile') {
    if (parent?.type === 'profile') return resolveValue(chain, idx - 1, field, settings);
    if (parent?.type === 'distro') return clone(settings['autoinstall'] ?? '');
    return '';
  }
  if (field === 'boot_loaders' && (node.type === 'distro' || node.type === 'image')) {
    return supportedBootLoaders(node.record['arch']);
  }
  if (parentHas) return resolveValue(chain, idx - 1, field, settings);
  const name = settingsNameFor(node.type, field);
  if (name in settings) return clone(settings[name]!);
  if (`default_${name}` in settings) return clone(settings[`default_${name}`]!);
  return INHERIT;
}

export interface BlendOptions {
  /** utils.flatten: dicts koan needs as text become kernel-args strings, repos/rpm_list space-joined. */
  readonly flatten?: boolean;
  /** Repos for `repo_data`; without it repo_data is empty. */
  readonly lookup?: Lookup;
}

/**
 * utils.blender: settings first, then every node root → leaf. Own "<<inherit>>" values are
 * skipped when an upper node already supplied the key (otherwise resolved), dicts merge, lists
 * extend and de-duplicate, scalars override except `distro`; "!key" removals apply to the
 * kernel options, autoinstall_meta and the file maps. Then the extras Cobbler adds.
 */
export function blend(chain: readonly ChainNode[], settings: Settings, options: BlendOptions = {}): Blended {
  const results: Blended = {};
  consolidate(results, clone(settings as { [k: string]: Value }));
  chain.forEach((node, idx) => {
    const data = toWire(node.type, node.record);
    const copy: Blended = {};
    for (const [key, value] of Object.entries(data)) {
      if (value === INHERIT) {
        const spec = fieldSpec(node.type, key);
        const target = spec?.kind === 'alias' ? spec.aliasOf! : key;
        if (!(key in results) || spec?.kind === 'alias') copy[key] = resolveValue(chain, idx, target, settings);
      } else {
        setOwn(copy, key, value);
      }
    }
    consolidate(results, copy);
  });

  const leaf = chain[chain.length - 1];
  if (leaf?.type === 'system') {
    const ifaces = leaf.record['interfaces'];
    if (isDict(ifaces)) {
      for (const [ifname, iface] of Object.entries(ifaces)) {
        const wire = interfaceToWire(isDict(iface) ? iface : undefined);
        for (const [k, v] of Object.entries(wire)) setOwn(results, `${k}_${ifname}`, v);
      }
    }
  }
  if (leaf?.type === 'profile' || leaf?.type === 'system') {
    const repoData: WireRecord[] = [];
    const repos = results['repos'];
    if (Array.isArray(repos) && options.lookup) {
      for (const name of repos) {
        if (typeof name !== 'string') continue;
        const repo = options.lookup('repo', name);
        if (repo) repoData.push(toWire('repo', repo));
      }
    }
    const prio = (r: WireRecord): number => (typeof r['priority'] === 'number' ? r['priority'] : 0);
    results['repo_data'] = repoData.map((r, i) => ({ r, i })).sort((a, b) => prio(b.r) - prio(a.r) || a.i - b.i).map((x) => x.r);
  }

  const port = results['http_port'] ?? 80;
  const server = results['server'] ?? '';
  results['http_server'] = port === 80 || port === '80' ? server : `${typeof server === 'string' ? server : JSON.stringify(server)}:${String(port)}`;

  const mgmt = isDict(results['mgmt_parameters']) ? results['mgmt_parameters'] : {};
  const meta = results['autoinstall_meta'];
  if (isDict(meta)) assignOwn(mgmt, clone(meta));
  results['mgmt_parameters'] = mgmt;

  const out = options.flatten ? flatten(results) : results;
  addNames(out);
  return out;
}

function consolidate(results: Blended, data: Blended): void {
  for (const [field, item] of Object.entries(data)) {
    if (field in results) {
      const current = results[field];
      if (isDict(current) && isDict(item)) {
        assignOwn(current, clone(item));
      } else if (Array.isArray(current) && Array.isArray(item)) {
        results[field] = uniquify([...current, ...clone(item)]);
      } else if (field !== 'distro') {
        setOwn(results, field, item);
      }
    } else {
      setOwn(results, field, item);
    }
  }
  for (const key of DICT_REMOVAL_FIELDS) {
    const v = results[key];
    if (isDict(v)) results[key] = dictAnnihilate(v);
  }
}

const FLATTENED_DICTS = [
  'environment', 'kernel_options', 'kernel_options_post', 'yumopts', 'autoinstall_meta', 'template_files', 'boot_files', 'fetchable_files',
];

/** utils.flatten (ks_meta and mgmt_parameters stay mappings, as in Cobbler). */
export function flatten(data: Blended): Blended {
  for (const key of FLATTENED_DICTS) if (key in data) data[key] = dictToKernelArgs(data[key]!);
  for (const key of ['repos', 'rpm_list']) {
    const v = data[key];
    if (Array.isArray(v)) data[key] = v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  }
  return data;
}

function addNames(results: Blended): void {
  if ('interfaces' in results) {
    results['system_name'] = results['name'] ?? '';
    results['profile_name'] = results['profile'] ?? '';
    if ('distro' in results) {
      results['distro_name'] = results['distro'] ?? '';
    } else if ('image' in results) {
      results['distro_name'] = 'N/A';
      results['image_name'] = results['image'] ?? '';
    }
  } else if ('distro' in results) {
    results['profile_name'] = results['name'] ?? '';
    results['distro_name'] = results['distro'] ?? '';
  } else if ('kernel' in results) {
    results['distro_name'] = results['name'] ?? '';
  } else if ('file' in results) {
    results['distro_name'] = 'N/A';
    results['image_name'] = results['name'] ?? '';
  }
}

/** get_blended_data / dump_vars(formatted=False): the blend without flattening. */
export function blendedView(type: ItemType, record: ItemRecord, lookup: Lookup, settings: Settings): Blended {
  return blend(resolveChain(type, record, lookup), settings, { lookup });
}

/** get_<T>_as_rendered: blended and flattened (the API adds "pxelinux.cfg" for systems). */
export function renderedView(type: ItemType, record: ItemRecord, lookup: Lookup, settings: Settings): Blended {
  return blend(resolveChain(type, record, lookup), settings, { lookup, flatten: true });
}

/**
 * get_item(..., resolved=True): the raw shape with "<<inherit>>" replaced by the resolved
 * value, dict properties merged with their parents', interface virt_bridge from settings.
 */
export function resolvedRecord(type: ItemType, record: ItemRecord, lookup: Lookup, settings: Settings): ItemRecord {
  const chain = resolveChain(type, record, lookup);
  const idx = chain.length - 1;
  const out = toWire(type, record);
  for (const spec of storedFields(type)) {
    if (spec.kind === 'interfaces') {
      const ifaces = out[spec.name];
      if (isDict(ifaces)) {
        for (const iface of Object.values(ifaces)) {
          if (isDict(iface) && iface['virt_bridge'] === INHERIT) iface['virt_bridge'] = clone(settings['default_virt_bridge'] ?? INHERIT);
        }
      }
      continue;
    }
    if (DICT_RESOLVED_FIELDS.has(spec.name) || out[spec.name] === INHERIT) out[spec.name] = resolveValue(chain, idx, spec.name, settings);
  }
  for (const spec of fieldsWithAliases(type)) out[spec.name] = clone(out[spec.aliasOf!] ?? null);
  return out as ItemRecord;
}

function fieldsWithAliases(type: ItemType) {
  return ['kickstart', 'ks_meta'].map((n) => fieldSpec(type, n)).filter((s) => s !== undefined);
}
