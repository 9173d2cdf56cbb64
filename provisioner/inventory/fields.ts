// THE table: every field of every Cobbler 3.3.7 item type, in Cobbler's to_dict order, with
// its stored default and how writes are converted. record.ts (writes), wire.ts (to_dict
// shape), blend.ts (inheritance) and criteria.ts (find) all read this table and nothing else.
import { INHERIT } from './types.ts';
import type { ItemType, Value } from './types.ts';

/**
 * Storage/wire shape of a field. `float` matters on the wire: Python marshals it as <double>
 * even when integral (ctime, virt_file_size 5.0). `alias` fields are produced on output only.
 */
export type FieldKind =
  | 'string' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'enum' | 'ref' | 'interfaces' | 'alias';

/** Validation beyond the kind, named after the Cobbler setter or validator it mirrors. */
export type FieldCheck =
  | 'name' | 'ipv4' | 'ipv6' | 'hostname' | 'mac' | 'netmask' | 'ip_any' | 'ipv6_list'
  | 'name_servers' | 'name_servers_search' | 'autoinstall' | 'mgmt_parameters' | 'boot_loaders'
  | 'baud_rate' | 'image_file' | 'remote_boot_file' | 'kernel' | 'initrd' | 'power_type'
  | 'safe' | 'os_version' | 'breed' | 'repos' | 'profile_filename';

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  /** Stored value of a new record (before `settingDefault` is applied). */
  readonly default: Value;
  /** Writing "<<inherit>>" stores it verbatim; it is resolved from parents/settings on read. */
  readonly inheritable?: boolean;
  /** Allowed values (enum kinds), lower case as stored. */
  readonly choices?: readonly string[];
  /** Hidden from callers without rights (see redactSecrets). */
  readonly secret?: boolean;
  /** Never written through setField (uid, ctime, mtime, depth, is_subobject, computed fields). */
  readonly readonly?: boolean;
  /** Cobbler accepts writes and ignores them (parent of distro/image/repo). */
  readonly ignoreWrites?: boolean;
  readonly check?: FieldCheck;
  /** Types a `ref` field may name (first that exists wins for system.parent). */
  readonly ref?: readonly ItemType[];
  /** dict kinds: repeated keys become lists (Cobbler's allow_multiples); default true. */
  readonly multiples?: boolean;
  /** list kinds: false = input_string_or_list_no_inherit ("<<inherit>>" is just a word). */
  readonly keepsInherit?: boolean;
  /** What an empty string is stored as, when not "" itself. */
  readonly emptyAs?: Value;
  /** Cobbler quirk: "<<inherit>>" written is stored as this instead (virt_cpus → 0). */
  readonly inheritAs?: Value;
  readonly min?: number;
  readonly max?: number;
  /** New records take their default from this settings key (profile enable_menu, virt_type …). */
  readonly settingDefault?: string;
  /** kind 'alias': the stored field this output-only key mirrors. */
  readonly aliasOf?: string;
  /** Strip surrounding whitespace before storing. */
  readonly strip?: boolean;
}

export const ARCHS = ['i386', 'x86_64', 'ia64', 'ppc', 'ppc64', 'ppc64le', 'ppc64el', 's390', 's390x', 'arm', 'aarch64'] as const;
export const REPO_ARCHS = ['none', 'i386', 'x86_64', 'ia64', 'ppc', 'ppc64', 'ppc64le', 'ppc64el', 's390', 'arm', 'aarch64', 'noarch', 'src'] as const;
/** Breeds of Cobbler's shipped distro_signatures.json. */
export const BREEDS = ['redhat', 'debian', 'ubuntu', 'suse', 'vmware', 'freebsd', 'xen', 'unix', 'windows', 'powerkvm', 'generic'] as const;
export const REPO_BREEDS = ['none', 'rsync', 'rhn', 'yum', 'apt', 'wget'] as const;
export const VIRT_TYPES = ['qemu', 'kvm', 'xenpv', 'xenfv', 'vmware', 'vmwarew', 'openvz', 'auto'] as const;
export const VIRT_DISK_DRIVERS = ['raw', 'qcow2', 'qed', 'vdi', 'vdmk'] as const;
export const IMAGE_TYPES = ['direct', 'iso', 'memdisk', 'virt-clone'] as const;
export const MIRROR_TYPES = ['metalink', 'mirrorlist', 'baseurl'] as const;
export const BOOT_LOADERS = ['grub', 'pxe', 'ipxe'] as const;
export const BAUD_RATES = [-1, 0, 110, 300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200, 128000, 256000] as const;
/** enums.NetworkInterfaceType in value order (an integer write picks by index). */
export const INTERFACE_TYPES = ['na', 'bond', 'bond_slave', 'bridge', 'bridge_slave', 'bonded_bridge_slave', 'bmc', 'infiniband'] as const;
/**
 * Power types Cobbler accepts when the matching fence agent (/usr/sbin/fence_<type>) is
 * installed: the fence-agents package's agents. Callers may pass their own list in FieldContext.
 */
export const POWER_TYPES = [
  'alom', 'amt', 'amt_ws', 'apc', 'apc_snmp', 'aws', 'azure_arm', 'bladecenter', 'brocade', 'cisco_mds', 'cisco_ucs',
  'compute', 'docker', 'drac', 'drac5', 'dummy', 'eaton_snmp', 'emerson', 'eps', 'gce', 'hds_cb', 'hpblade', 'ibmblade',
  'ibmz', 'idrac', 'ifmib', 'ilo', 'ilo2', 'ilo3', 'ilo3_ssh', 'ilo4', 'ilo4_ssh', 'ilo5', 'ilo5_ssh', 'ilo_moonshot',
  'ilo_mp', 'ilo_ssh', 'imm', 'intelmodular', 'ipdu', 'ipmilan', 'ipmilanplus', 'ironic', 'kdump', 'ldom', 'lpar', 'mpath',
  'netio', 'openstack', 'ovh', 'powerman', 'pve', 'raritan', 'rcd_serial', 'redfish', 'rhevm', 'rsa', 'rsb', 'sanbox2',
  'sbd', 'scsi', 'vbox', 'virsh', 'virt', 'vmware', 'vmware_rest', 'vmware_soap', 'wti', 'xenapi', 'zvmip',
] as const;

/** Suggested statuses (the CLI's choices); the API stores any string, as Cobbler does. */
export const SYSTEM_STATUSES = ['development', 'testing', 'acceptance', 'production'] as const;

type Spec = FieldSpec;
type Patch = Partial<Omit<Spec, 'name'>>;

const s = (name: string, def: Value = '', extra: Patch = {}): Spec => ({ name, kind: 'string', default: def, ...extra });
const b = (name: string, def: Value = false, extra: Patch = {}): Spec => ({ name, kind: 'bool', default: def, ...extra });
const i = (name: string, def: Value, extra: Patch = {}): Spec => ({ name, kind: 'int', default: def, ...extra });
const fl = (name: string, def: Value, extra: Patch = {}): Spec => ({ name, kind: 'float', default: def, ...extra });
const l = (name: string, def: Value = [], extra: Patch = {}): Spec => ({ name, kind: 'list', default: def, keepsInherit: true, ...extra });
const d = (name: string, def: Value = {}, extra: Patch = {}): Spec => ({ name, kind: 'dict', default: def, multiples: true, ...extra });
const e = (name: string, choices: readonly string[], def: Value, extra: Patch = {}): Spec => ({ name, kind: 'enum', default: def, choices, ...extra });
const r = (name: string, ref: readonly ItemType[], extra: Patch = {}): Spec => ({ name, kind: 'ref', default: '', ref, ...extra });
const alias = (name: string, of: string): Spec => ({ name, kind: 'alias', default: null, aliasOf: of, readonly: true });

/** Item.__init__ in order; per-type patches override defaults in place (Cobbler's "Overwrite defaults"). */
function base(parent: Spec, patches: Record<string, Patch> = {}): Spec[] {
  const fields: Spec[] = [
    parent,
    i('depth', 0, { readonly: true }),
    fl('ctime', 0, { readonly: true }),
    fl('mtime', 0, { readonly: true }),
    s('uid', '', { readonly: true }),
    s('name', '', { check: 'name' }),
    s('comment'),
    d('kernel_options'),
    d('kernel_options_post'),
    d('autoinstall_meta'),
    d('fetchable_files', {}, { multiples: false }),
    d('boot_files', {}, { multiples: false }),
    d('template_files', {}, { multiples: false }),
    l('owners', INHERIT, { inheritable: true }),
    l('mgmt_classes', []),
    d('mgmt_parameters', {}, { check: 'mgmt_parameters' }),
    b('is_subobject', false, { readonly: true }),
  ];
  return fields.map((f) => (patches[f.name] ? { ...f, ...patches[f.name] } : f));
}

const INHERITED_DICTS: Record<string, Patch> = {
  boot_files: { default: INHERIT, inheritable: true },
  fetchable_files: { default: INHERIT, inheritable: true },
  autoinstall_meta: { default: INHERIT, inheritable: true },
  kernel_options: { default: INHERIT, inheritable: true },
  kernel_options_post: { default: INHERIT, inheritable: true },
  mgmt_classes: { default: INHERIT, inheritable: true },
  mgmt_parameters: { default: INHERIT, inheritable: true },
};

const ignoredParent = s('parent', '', { ignoreWrites: true });

const DISTRO: Spec[] = [
  ...base(ignoredParent),
  fl('tree_build_time', 0),
  e('arch', ARCHS, 'x86_64'),
  l('boot_loaders', INHERIT, { inheritable: true, check: 'boot_loaders' }),
  s('breed', '', { check: 'breed' }),
  s('initrd', '', { check: 'initrd' }),
  s('kernel', '', { check: 'kernel' }),
  s('os_version', '', { check: 'os_version' }),
  s('redhat_management_key', INHERIT, { inheritable: true }),
  l('source_repos', [], { keepsInherit: false }),
  s('remote_boot_kernel', '', { check: 'remote_boot_file' }),
  s('remote_grub_kernel', '', { readonly: true }),
  s('remote_boot_initrd', '', { check: 'remote_boot_file' }),
  s('remote_grub_initrd', '', { readonly: true }),
  alias('ks_meta', 'autoinstall_meta'),
];

const PROFILE: Spec[] = [
  ...base(r('parent', ['profile']), INHERITED_DICTS),
  s('autoinstall', INHERIT, { inheritable: true, check: 'autoinstall' }),
  l('boot_loaders', INHERIT, { inheritable: true, check: 'boot_loaders' }),
  s('dhcp_tag'),
  r('distro', ['distro']),
  b('enable_ipxe', false, { settingDefault: 'enable_ipxe' }),
  b('enable_menu', true, { settingDefault: 'enable_menu' }),
  l('name_servers', [], { check: 'name_servers', settingDefault: 'default_name_servers' }),
  l('name_servers_search', [], { check: 'name_servers_search', settingDefault: 'default_name_servers_search' }),
  s('next_server_v4', INHERIT, { inheritable: true, check: 'ipv4' }),
  s('next_server_v6', INHERIT, { inheritable: true, check: 'ipv6' }),
  s('filename', '', { check: 'profile_filename', inheritable: true }),
  s('proxy', INHERIT, { inheritable: true }),
  s('redhat_management_key', INHERIT, { inheritable: true }),
  l('repos', [], { check: 'repos', inheritable: true }),
  s('server', INHERIT, { inheritable: true }),
  r('menu', ['menu']),
  b('virt_auto_boot', true, { inheritable: true, settingDefault: 'virt_auto_boot' }),
  s('virt_bridge', INHERIT, { inheritable: true }),
  i('virt_cpus', 1, { inheritAs: 0, emptyAs: 0, min: 0 }),
  e('virt_disk_driver', VIRT_DISK_DRIVERS, 'raw', { inheritable: true, settingDefault: 'default_virt_disk_driver' }),
  fl('virt_file_size', INHERIT, { inheritable: true, emptyAs: 0, min: 0 }),
  s('virt_path', ''),
  i('virt_ram', INHERIT, { inheritable: true, emptyAs: 0, min: 0 }),
  e('virt_type', VIRT_TYPES, 'kvm', { inheritable: true, settingDefault: 'default_virt_type' }),
  alias('kickstart', 'autoinstall'),
  alias('ks_meta', 'autoinstall_meta'),
];

const SYSTEM: Spec[] = [
  ...base(r('parent', ['system', 'profile', 'image']), { ...INHERITED_DICTS, owners: { default: INHERIT, inheritable: true } }),
  { name: 'interfaces', kind: 'interfaces', default: {} },
  b('ipv6_autoconfiguration'),
  b('repos_enabled'),
  s('autoinstall', INHERIT, { inheritable: true, check: 'autoinstall' }),
  l('boot_loaders', INHERIT, { inheritable: true, check: 'boot_loaders' }),
  b('enable_ipxe', INHERIT),
  s('gateway', '', { check: 'ipv4' }),
  s('hostname'),
  r('image', ['image']),
  s('ipv6_default_device'),
  l('name_servers', [], { check: 'name_servers' }),
  l('name_servers_search', [], { check: 'name_servers_search' }),
  b('netboot_enabled'),
  s('next_server_v4', INHERIT, { inheritable: true, check: 'ipv4' }),
  s('next_server_v6', INHERIT, { inheritable: true, check: 'ipv6' }),
  s('filename', INHERIT, { inheritable: true, emptyAs: INHERIT, strip: true }),
  s('power_address', '', { check: 'safe' }),
  s('power_id', '', { check: 'safe' }),
  s('power_pass', '', { check: 'safe', secret: true }),
  s('power_type', '', { check: 'power_type' }),
  s('power_user', '', { check: 'safe' }),
  s('power_options', '', { check: 'safe' }),
  s('power_identity_file', '', { check: 'safe' }),
  r('profile', ['profile']),
  s('proxy', INHERIT, { inheritable: true }),
  s('redhat_management_key', INHERIT, { inheritable: true }),
  s('server', INHERIT, { inheritable: true, emptyAs: INHERIT }),
  s('status'),
  b('virt_auto_boot', INHERIT, { inheritable: true }),
  i('virt_cpus', INHERIT, { inheritAs: 0, emptyAs: 0, min: 0 }),
  e('virt_disk_driver', VIRT_DISK_DRIVERS, INHERIT, { inheritable: true }),
  fl('virt_file_size', INHERIT, { inheritable: true, emptyAs: 0, min: 0 }),
  s('virt_path', INHERIT, { inheritable: true, emptyAs: INHERIT }),
  b('virt_pxe_boot'),
  i('virt_ram', INHERIT, { inheritable: true, emptyAs: 0, min: 0 }),
  e('virt_type', VIRT_TYPES, INHERIT, { inheritable: true }),
  i('serial_device', -1, { min: -1 }),
  i('serial_baud_rate', -1, { check: 'baud_rate' }),
  alias('kickstart', 'autoinstall'),
  alias('ks_meta', 'autoinstall_meta'),
];

const IMAGE: Spec[] = [
  ...base(ignoredParent),
  e('arch', ARCHS, 'x86_64'),
  s('autoinstall', INHERIT, { inheritable: true, check: 'autoinstall' }),
  s('breed', '', { check: 'breed' }),
  s('file', '', { check: 'image_file' }),
  e('image_type', IMAGE_TYPES, 'direct'),
  i('network_count', 0, { emptyAs: 1 }),
  s('os_version', '', { check: 'os_version' }),
  l('boot_loaders', [], { check: 'boot_loaders', inheritable: true }),
  r('menu', ['menu']),
  b('virt_auto_boot', false, { inheritable: true }),
  s('virt_bridge', ''),
  i('virt_cpus', 0, { inheritAs: 0, emptyAs: 0, min: 0 }),
  e('virt_disk_driver', VIRT_DISK_DRIVERS, 'raw', { inheritable: true }),
  fl('virt_file_size', INHERIT, { inheritable: true, emptyAs: 0, min: 0 }),
  s('virt_path', ''),
  i('virt_ram', 0, { inheritable: true, emptyAs: 0, min: 0 }),
  e('virt_type', VIRT_TYPES, 'auto', { inheritable: true }),
  alias('kickstart', 'autoinstall'),
  alias('ks_meta', 'autoinstall_meta'),
];

const REPO: Spec[] = [
  ...base(ignoredParent),
  e('breed', REPO_BREEDS, 'none'),
  e('arch', REPO_ARCHS, 'none'),
  d('environment', {}, { multiples: false }),
  d('yumopts', {}, { multiples: false }),
  d('rsyncopts', {}, { multiples: false }),
  e('mirror_type', MIRROR_TYPES, 'baseurl'),
  l('apt_components'),
  l('apt_dists'),
  s('createrepo_flags', INHERIT, { inheritable: true }),
  b('keep_updated'),
  s('mirror'),
  b('mirror_locally'),
  i('priority', 0, { min: 0, max: 99 }),
  s('proxy', INHERIT, { inheritable: true }),
  l('rpm_list'),
  s('os_version'),
  alias('ks_meta', 'autoinstall_meta'),
];

const MENU: Spec[] = [
  ...base(r('parent', ['menu'])),
  s('display_name'),
  alias('ks_meta', 'autoinstall_meta'),
];

export const FIELDS: Readonly<Record<ItemType, readonly FieldSpec[]>> = {
  distro: DISTRO,
  profile: PROFILE,
  system: SYSTEM,
  image: IMAGE,
  repo: REPO,
  menu: MENU,
};

/** The 23 fields of a system interface (NetworkInterface.__init__, alphabetical in 3.3.7). */
export const INTERFACE_FIELDS: readonly FieldSpec[] = [
  s('bonding_opts'),
  s('bridge_opts'),
  l('cnames', [], { keepsInherit: false }),
  b('connected_mode'),
  s('dhcp_tag'),
  s('dns_name', '', { check: 'hostname' }),
  s('if_gateway', '', { check: 'ipv4' }),
  s('interface_master'),
  e('interface_type', INTERFACE_TYPES, 'na'),
  s('ip_address', '', { check: 'ipv4' }),
  s('ipv6_address', '', { check: 'ipv6' }),
  s('ipv6_default_gateway', '', { check: 'ip_any', strip: true }),
  s('ipv6_mtu'),
  s('ipv6_prefix', '', { strip: true }),
  l('ipv6_secondaries', [], { check: 'ipv6_list' }),
  l('ipv6_static_routes'),
  s('mac_address', '', { check: 'mac' }),
  b('management'),
  s('mtu'),
  s('netmask', '', { check: 'netmask' }),
  b('static'),
  l('static_routes', [], { keepsInherit: false }),
  s('virt_bridge', '', { emptyAs: INHERIT }),
];

/**
 * modify_interface key → interface field. Cobbler squashes the part before the first "-" by
 * removing "_" and "-", so "macaddress-eth0" and "mac_address-eth0" are the same key. 2.x's
 * "subnet" alias for netmask is accepted too.
 */
export const INTERFACE_SQUASHED: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(INTERFACE_FIELDS.map((f) => [squashInterfaceKey(f.name), f.name])),
  subnet: 'netmask',
});

export function squashInterfaceKey(field: string): string {
  return field.replace(/[_-]/g, '');
}

/** The interface field a modify_interface key's field part names ("macaddress", "mac_address"), if any. */
export function interfaceFieldForKey(fieldPart: string): FieldSpec | undefined {
  const squashed = squashInterfaceKey(fieldPart);
  return Object.prototype.hasOwnProperty.call(INTERFACE_SQUASHED, squashed) ? interfaceFieldSpec(INTERFACE_SQUASHED[squashed]!) : undefined;
}

const BY_NAME: Record<ItemType, ReadonlyMap<string, FieldSpec>> = Object.fromEntries(
  Object.entries(FIELDS).map(([t, specs]) => [t, new Map(specs.map((f) => [f.name, f]))]),
) as unknown as Record<ItemType, ReadonlyMap<string, FieldSpec>>;

const INTERFACE_BY_NAME: ReadonlyMap<string, FieldSpec> = new Map(INTERFACE_FIELDS.map((f) => [f.name, f]));

/** The spec of a field (aliases included), or undefined. */
export function fieldSpec(type: ItemType, field: string): FieldSpec | undefined {
  return BY_NAME[type].get(field);
}

export function interfaceFieldSpec(field: string): FieldSpec | undefined {
  return INTERFACE_BY_NAME.get(field);
}

/** Fields a record stores (everything but the output-only aliases), in to_dict order. */
export function storedFields(type: ItemType): readonly FieldSpec[] {
  return FIELDS[type].filter((f) => f.kind !== 'alias');
}

const SECRETS = Object.fromEntries(Object.entries(FIELDS).map(([t, specs]) => [t, specs.filter((f) => f.secret).map((f) => f.name)])) as unknown as Record<ItemType, readonly string[]>;

/** Fields whose values only callers with a live token may see (power_pass). */
export function secretFields(type: ItemType): readonly string[] {
  return SECRETS[type];
}

/** Keys of the raw to_dict shape, in Cobbler's order (aliases last). */
export function wireKeys(type: ItemType): string[] {
  return FIELDS[type].map((f) => f.name);
}

/** Fields whose Cobbler getter merges parent dicts with the own one (InheritableDictProperty). */
export const DICT_RESOLVED_FIELDS: ReadonlySet<string> = new Set([
  'kernel_options', 'kernel_options_post', 'autoinstall_meta', 'fetchable_files', 'boot_files', 'mgmt_parameters',
]);

/** Keys whose "!key" entries delete "key" when blending (utils.__consolidate's dict_removals). */
export const DICT_REMOVAL_FIELDS: readonly string[] = [
  'kernel_options', 'kernel_options_post', 'autoinstall_meta', 'template_files', 'boot_files', 'fetchable_files',
];
