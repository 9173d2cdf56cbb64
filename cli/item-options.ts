// The editable fields of each Cobbler 3.3.7 item type, from which the CLI derives its
// options (`--foo-bar` <-> field `foo_bar`), its help text and its report layout.
// Source: the raw `to_dict()` key sets (research note §1.4) and the interface keys (§1.3),
// minus what a client cannot set. The server does not publish a schema, so this stays static.
import { ITEM_TYPES, type ItemType } from '../provisioner/inventory/types.ts';

export const OBJECT_TYPES = ITEM_TYPES;
export type ObjectType = ItemType;

/** Keys every `to_dict()` carries that are bookkeeping or read-only aliases, never input. */
const READ_ONLY = new Set(['uid', 'ctime', 'mtime', 'depth', 'is_subobject', 'kickstart', 'ks_meta']);

/**
 * Keys the server derives itself, which Cobbler's own CLI does not offer either:
 * `parent` is computed for distros, images, repos and systems (only profiles and menus
 * choose one), `remote_grub_*` follow `remote_boot_*`, `source_repos`/`tree_build_time`
 * are written by import, and `interfaces` is edited through the interface options below.
 */
const DERIVED: Record<ObjectType, readonly string[]> = {
  distro: ['parent', 'remote_grub_initrd', 'remote_grub_kernel', 'source_repos', 'tree_build_time'],
  profile: [],
  system: ['parent', 'interfaces'],
  image: ['parent'],
  repo: ['parent'],
  menu: [],
};

const TO_DICT_KEYS: Record<ObjectType, readonly string[]> = {
  system: [
    'autoinstall', 'autoinstall_meta', 'boot_files', 'boot_loaders', 'comment', 'ctime', 'depth', 'enable_ipxe',
    'fetchable_files', 'filename', 'gateway', 'hostname', 'image', 'interfaces', 'ipv6_autoconfiguration',
    'ipv6_default_device', 'is_subobject', 'kernel_options', 'kernel_options_post', 'kickstart', 'ks_meta',
    'mgmt_classes', 'mgmt_parameters', 'mtime', 'name', 'name_servers', 'name_servers_search', 'netboot_enabled',
    'next_server_v4', 'next_server_v6', 'owners', 'parent', 'power_address', 'power_id', 'power_identity_file',
    'power_options', 'power_pass', 'power_type', 'power_user', 'profile', 'proxy', 'redhat_management_key',
    'repos_enabled', 'serial_baud_rate', 'serial_device', 'server', 'status', 'template_files', 'uid',
    'virt_auto_boot', 'virt_cpus', 'virt_disk_driver', 'virt_file_size', 'virt_path', 'virt_pxe_boot', 'virt_ram',
    'virt_type',
  ],
  profile: [
    'autoinstall', 'autoinstall_meta', 'boot_files', 'boot_loaders', 'comment', 'ctime', 'depth', 'dhcp_tag',
    'distro', 'enable_ipxe', 'enable_menu', 'fetchable_files', 'filename', 'is_subobject', 'kernel_options',
    'kernel_options_post', 'kickstart', 'ks_meta', 'menu', 'mgmt_classes', 'mgmt_parameters', 'mtime', 'name',
    'name_servers', 'name_servers_search', 'next_server_v4', 'next_server_v6', 'owners', 'parent', 'proxy',
    'redhat_management_key', 'repos', 'server', 'template_files', 'uid', 'virt_auto_boot', 'virt_bridge',
    'virt_cpus', 'virt_disk_driver', 'virt_file_size', 'virt_path', 'virt_ram', 'virt_type',
  ],
  distro: [
    'arch', 'autoinstall_meta', 'boot_files', 'boot_loaders', 'breed', 'comment', 'ctime', 'depth',
    'fetchable_files', 'initrd', 'is_subobject', 'kernel', 'kernel_options', 'kernel_options_post', 'ks_meta',
    'mgmt_classes', 'mgmt_parameters', 'mtime', 'name', 'os_version', 'owners', 'parent', 'redhat_management_key',
    'remote_boot_initrd', 'remote_boot_kernel', 'remote_grub_initrd', 'remote_grub_kernel', 'source_repos',
    'template_files', 'tree_build_time', 'uid',
  ],
  image: [
    'arch', 'autoinstall', 'autoinstall_meta', 'boot_files', 'boot_loaders', 'breed', 'comment', 'ctime', 'depth',
    'fetchable_files', 'file', 'image_type', 'is_subobject', 'kernel_options', 'kernel_options_post', 'kickstart',
    'ks_meta', 'menu', 'mgmt_classes', 'mgmt_parameters', 'mtime', 'name', 'network_count', 'os_version', 'owners',
    'parent', 'template_files', 'uid', 'virt_auto_boot', 'virt_bridge', 'virt_cpus', 'virt_disk_driver',
    'virt_file_size', 'virt_path', 'virt_ram', 'virt_type',
  ],
  repo: [
    'apt_components', 'apt_dists', 'arch', 'autoinstall_meta', 'boot_files', 'breed', 'comment', 'createrepo_flags',
    'ctime', 'depth', 'environment', 'fetchable_files', 'is_subobject', 'keep_updated', 'kernel_options',
    'kernel_options_post', 'ks_meta', 'mgmt_classes', 'mgmt_parameters', 'mirror', 'mirror_locally', 'mirror_type',
    'mtime', 'name', 'os_version', 'owners', 'parent', 'priority', 'proxy', 'rpm_list', 'rsyncopts',
    'template_files', 'uid', 'yumopts',
  ],
  menu: [
    'autoinstall_meta', 'boot_files', 'comment', 'ctime', 'depth', 'display_name', 'fetchable_files',
    'is_subobject', 'kernel_options', 'kernel_options_post', 'ks_meta', 'mgmt_classes', 'mgmt_parameters', 'mtime',
    'name', 'owners', 'parent', 'template_files', 'uid',
  ],
};

/** Keys of one entry of a system's `interfaces` dict (§1.3). */
export const INTERFACE_FIELDS: readonly string[] = [
  'bonding_opts', 'bridge_opts', 'cnames', 'connected_mode', 'dhcp_tag', 'dns_name', 'if_gateway',
  'interface_master', 'interface_type', 'ip_address', 'ipv6_address', 'ipv6_default_gateway', 'ipv6_mtu',
  'ipv6_prefix', 'ipv6_secondaries', 'ipv6_static_routes', 'mac_address', 'management', 'mtu', 'netmask', 'static',
  'static_routes', 'virt_bridge',
];

/** The fields a user may set on an item of this type, sorted (Cobbler's report order). */
export function itemFields(type: ObjectType): readonly string[] {
  const derived = new Set(DERIVED[type]);
  return TO_DICT_KEYS[type].filter((k) => !READ_ONLY.has(k) && !derived.has(k)).sort();
}

/** Older spellings Cobbler users still type; each applies where its field exists. */
export const FIELD_ALIASES: Readonly<Record<string, string>> = {
  kickstart: 'autoinstall',
  ksmeta: 'autoinstall_meta',
  kopts: 'kernel_options',
  'kopts-post': 'kernel_options_post',
  mac: 'mac_address',
  ip: 'ip_address',
};

export const fieldToFlag = (field: string): string => field.replace(/_/g, '-');
export const flagToField = (flag: string): string => flag.replace(/-/g, '_');

const ACRONYMS: Readonly<Record<string, string>> = {
  ip: 'IP', ipv6: 'IPv6', mac: 'MAC', dns: 'DNS', dhcp: 'DHCP', mtu: 'MTU', id: 'ID', os: 'OS', rpm: 'RPM',
  ipxe: 'iPXE', cpus: 'CPUs', ram: 'RAM', pxe: 'PXE', v4: 'v4', v6: 'v6', cnames: 'CNAMEs', yumopts: 'Yum Options',
  rsyncopts: 'Rsync Options', opts: 'Options', apt: 'Apt', meta: 'Metadata', kopts: 'Kernel Options',
};

/** The label a report shows for a field: `mac_address` -> "MAC Address". */
export function fieldLabel(field: string): string {
  return field
    .split('_')
    .map((w) => ACRONYMS[w] ?? (w.charAt(0).toUpperCase() + w.slice(1)))
    .join(' ');
}
