// The checks Cobbler 3.3.7 makes before an item may be saved: check_if_valid (name, required
// parents), references that must exist, and the system uniqueness rules its interface setters
// enforce (MAC, IPv4, DNS name, unless the allow_duplicate_* settings say otherwise).
import { RackforgeError } from '../../lib/errors.ts';
import { resolveChain } from './blend.ts';
import type { Lookup } from './blend.ts';
import { isDict } from './convert.ts';
import type { Settings } from './settings.ts';
import { INHERIT } from './types.ts';
import type { ItemRecord, ItemType, SystemKey, Value } from './types.ts';

export interface ValidateDeps {
  readonly lookup: Lookup;
  /** Names of systems holding `value` under `key` (any interface for mac/ip/dns_name), case-insensitively. */
  readonly findSystems: (key: SystemKey, value: string) => string[];
  readonly settings: Settings;
}

const NAME_RE = /^[a-zA-Z0-9_\-.:]+$/;

function str(v: Value | undefined): string {
  return typeof v === 'string' ? v : '';
}

function missing(type: ItemType, name: string, owner: ItemType, ownerName: string, field: string): RackforgeError {
  return new RackforgeError('ITEM_MISSING_REFERENCE', `${type} '${name}' not found`, { type, name, from: owner, fromName: ownerName, field });
}

function invalid(message: string, details: Record<string, unknown>): RackforgeError {
  return new RackforgeError('ITEM_INVALID_FIELD', message, details);
}

/** Throws the first problem found; returns nothing when the record may be saved. */
export function validateForSave(type: ItemType, record: ItemRecord, deps: ValidateDeps): void {
  const name = record.name;
  if (typeof name !== 'string' || name === '') throw invalid('Name is required', { type, field: 'name' });
  if (!NAME_RE.test(name)) throw invalid(`Invalid characters in name: '${name}'`, { type, field: 'name' });
  const need = (t: ItemType, field: string, target: string): void => {
    if (!deps.lookup(t, target)) throw missing(t, target, type, name, field);
  };

  switch (type) {
    case 'system': {
      const profile = str(record['profile']);
      const image = str(record['image']);
      if (!profile && !image) throw invalid(`Error with system ${name} - profile or image is required`, { type, field: 'profile' });
      if (profile && image) throw invalid(`Error with system ${name} - profile and image are mutually exclusive`, { type, field: 'image' });
      if (profile) need('profile', 'profile', profile);
      if (image) need('image', 'image', image);
      resolveChain(type, record, deps.lookup);
      checkSystemUniqueness(record, deps);
      break;
    }
    case 'profile': {
      const distro = str(record['distro']);
      const parent = str(record['parent']);
      if (!distro && !parent) throw invalid(`Error with profile ${name} - distro is required`, { type, field: 'distro' });
      if (parent === name) throw invalid(`profile ${name} cannot be its own parent`, { type, field: 'parent' });
      if (parent) need('profile', 'parent', parent);
      if (distro) need('distro', 'distro', distro);
      // A parent chain that loops or ends in a missing item is refused here, not at render time.
      resolveChain(type, record, deps.lookup);
      const menu = str(record['menu']);
      if (menu) need('menu', 'menu', menu);
      const repos = record['repos'];
      if (Array.isArray(repos)) {
        for (const repo of repos) {
          if (typeof repo !== 'string' || !deps.lookup('repo', repo)) {
            throw new RackforgeError('ITEM_MISSING_REFERENCE', `repo ${JSON.stringify(repo)} is not defined`, { type: 'repo', name: repo, from: type, fromName: name, field: 'repos' });
          }
        }
      }
      break;
    }
    case 'image': {
      const menu = str(record['menu']);
      if (menu) need('menu', 'menu', menu);
      break;
    }
    case 'menu': {
      const parent = str(record['parent']);
      if (parent === name) throw invalid(`menu ${name} cannot be its own parent`, { type, field: 'parent' });
      if (parent) resolveChain(type, record, deps.lookup);
      break;
    }
    default:
      break;
  }
}

function duplicate(kind: string, value: string, other: string, field: string): RackforgeError {
  return new RackforgeError('ITEM_DUPLICATE', `${kind} duplicate found "${value}". Object with the conflict has the name "${other}"`, {
    field, value, conflict: other,
  });
}

/**
 * Every interface's MAC, IPv4 address and DNS name must be unused by other systems unless
 * allow_duplicate_macs / _ips / _hostnames is set. The record's own name is ignored, so a
 * re-save of an unchanged system passes. Unlike Cobbler, the system hostname is checked too.
 */
export function checkSystemUniqueness(record: ItemRecord, deps: Pick<ValidateDeps, 'findSystems' | 'settings'>): void {
  // rackforge also keeps the system hostname unique (under the same allow_duplicate_hostnames
  // setting): two machines answering to one name is a provisioning accident, not a feature.
  const hostname = record['hostname'];
  if (deps.settings['allow_duplicate_hostnames'] !== true && typeof hostname === 'string' && hostname !== '' && hostname !== INHERIT) {
    const others = deps.findSystems('hostname', hostname).filter((n) => n !== record.name).sort();
    if (others.length > 0) throw duplicate('hostname', hostname, others[0]!, 'hostname');
  }
  const ifaces = record['interfaces'];
  if (!isDict(ifaces)) return;
  const rules: Array<{ key: SystemKey; allow: string; kind: string }> = [
    { key: 'mac_address', allow: 'allow_duplicate_macs', kind: 'MAC address' },
    { key: 'ip_address', allow: 'allow_duplicate_ips', kind: 'IP address' },
    { key: 'dns_name', allow: 'allow_duplicate_hostnames', kind: 'DNS name' },
  ];
  for (const rule of rules) {
    if (deps.settings[rule.allow] === true) continue;
    for (const ifname of Object.keys(ifaces).sort()) {
      const iface = ifaces[ifname];
      if (!isDict(iface)) continue;
      const value = iface[rule.key];
      if (typeof value !== 'string' || value === '' || value === INHERIT) continue;
      const others = deps.findSystems(rule.key, value).filter((n) => n !== record.name).sort();
      if (others.length > 0) throw duplicate(rule.kind, value, others[0]!, rule.key);
    }
  }
}
