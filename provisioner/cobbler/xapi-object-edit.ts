// xapi_object_edit: the path Cobbler's own CLI (and Uyuni) use. The order of operations is
// Cobbler's: refuse overwrites on add/rename/copy, set name, parent, distro, profile, image
// first, then the other fields, send interface fields to the named interface, then save.
import { RackforgeError } from '../../lib/errors.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import { INTERFACE_SQUASHED, fieldSpec, squashInterfaceKey } from '../inventory/fields.ts';
import { inputStringOrDict } from '../inventory/convert.ts';
import type { ItemType, Value } from '../inventory/types.ts';
import { truthy } from './python-values.ts';

const PRIORITY = ['name', 'parent', 'distro', 'profile', 'image'];
/** CLI option names that are not fields but instructions. */
const CONTROL = new Set(['interface', 'delete_interface', 'rename_interface', 'in_place', 'newname', 'recursive', 'clobber']);

export function xapiObjectEdit(inv: InventoryService, type: ItemType, name: string, editType: string, attrs: Record<string, Value>): boolean {
  const objectName = typeof attrs.name === 'string' && attrs.name !== '' ? attrs.name : name;
  switch (editType) {
    case 'remove':
      inv.remove(type, objectName, truthy(attrs.recursive));
      return true;
    case 'copy':
    case 'rename': {
      const newname = attrs.newname;
      if (typeof newname !== 'string' || newname === '') throw new RackforgeError('API_ARGUMENTS', `${editType} needs 'newname'`);
      const handle = inv.handleFor(type, objectName);
      if (editType === 'copy') inv.copy(type, handle, newname);
      else inv.rename(type, handle, newname);
      return true;
    }
    case 'add':
    case 'edit':
      break;
    default:
      throw new RackforgeError('API_ARGUMENTS', `unknown edit_type '${editType}' (expected add, edit, copy, rename or remove)`);
  }

  let handle: string;
  if (editType === 'add') {
    if (inv.get(type, objectName)) {
      throw new RackforgeError('ITEM_EXISTS', `It seems unwise to overwrite the object ${objectName}, try 'edit'`, { type, name: objectName });
    }
    if (type === 'system' && !truthy(attrs.profile) && !truthy(attrs.image)) {
      throw new RackforgeError('API_ARGUMENTS', 'A system needs a profile or an image: give --profile or --image');
    }
    handle = inv.newHandle(type, { subprofile: type === 'profile' && truthy(attrs.parent) });
  } else {
    handle = inv.handleFor(type, objectName);
  }

  const keys = Object.keys(attrs);
  const ordered = [...PRIORITY.filter((k) => k in attrs), ...keys.filter((k) => !PRIORITY.includes(k)).sort()];
  const nicFields: Record<string, Value> = {};
  for (const key of ordered) {
    if (CONTROL.has(key)) continue;
    const value = attrs[key]!;
    if (type === 'system' && squashInterfaceKey(key) in INTERFACE_SQUASHED) { nicFields[key] = value; continue; }
    const finalValue = truthy(attrs.in_place) && fieldSpec(type, key)?.kind === 'dict' ? mergeInPlace(inv, type, handle, key, value) : value;
    if (!inv.modify(type, handle, key, finalValue)) {
      throw new RackforgeError('ITEM_UNKNOWN_FIELD', `${type} has no field '${key}'`, { field: key });
    }
  }

  if (type === 'system') editInterfaces(inv, handle, attrs, nicFields);
  inv.save(type, handle, editType === 'add' ? 'new' : 'bypass');
  return true;
}

function editInterfaces(inv: InventoryService, handle: string, attrs: Record<string, Value>, nicFields: Record<string, Value>): void {
  const wantsNic = Object.keys(nicFields).length > 0 || truthy(attrs.delete_interface) || truthy(attrs.rename_interface);
  if (!wantsNic) return;
  const current = inv.resolveHandle('system', handle).record;
  const existing = Object.keys((current.interfaces ?? {}) as Record<string, Value>);
  let ifname: string;
  if (typeof attrs.interface === 'string' && attrs.interface !== '') ifname = attrs.interface;
  else if (existing.length === 1) ifname = existing[0]!;
  else if (existing.length === 0 || existing.includes('default')) ifname = 'default';
  else throw new RackforgeError('ITEM_INTERFACE', 'Interface is required.');

  if (truthy(attrs.delete_interface)) { inv.modify('system', handle, 'delete_interface', ifname); return; }
  if (typeof attrs.rename_interface === 'string' && attrs.rename_interface !== '') {
    inv.modify('system', handle, 'rename_interface', { interface: ifname, rename_interface: attrs.rename_interface });
  }
  const edits: Record<string, Value> = {};
  for (const [k, v] of Object.entries(nicFields)) edits[`${k}-${ifname}`] = v;
  if (Object.keys(edits).length > 0) inv.modify('system', handle, 'modify_interface', edits);
}

/** `--in-place`: merge the given k=v pairs into the stored dict; `~key` deletes a key. */
function mergeInPlace(inv: InventoryService, type: ItemType, handle: string, key: string, value: Value): Value {
  const current = inv.resolveHandle(type, handle).record[key];
  const base: Record<string, Value> = current && typeof current === 'object' && !Array.isArray(current) ? { ...current } : {};
  const parsed = inputStringOrDict(value, true, key);
  const given = parsed === '<<inherit>>' ? {} : parsed;
  for (const [k, v] of Object.entries(given ?? {})) {
    if (k.startsWith('~')) delete base[k.slice(1)];
    else base[k] = v;
  }
  return base;
}
