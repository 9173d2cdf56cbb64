import assert from 'node:assert/strict';
import {
  FIELDS, INTERFACE_FIELDS, INTERFACE_SQUASHED, fieldSpec, storedFields, wireKeys,
} from './fields.ts';
import { SETTINGS_DEFAULTS, supportedBootLoaders } from './settings.ts';
import { ITEM_TYPES, INHERIT } from './types.ts';
import type { ItemType } from './types.ts';

// Cobbler 3.3.7 raw to_dict() key sets (research notes §1.4), alphabetical.
const EXPECTED_KEYS: Record<ItemType, string> = {
  system: 'autoinstall autoinstall_meta boot_files boot_loaders comment ctime depth enable_ipxe fetchable_files filename gateway hostname image interfaces ipv6_autoconfiguration ipv6_default_device is_subobject kernel_options kernel_options_post kickstart ks_meta mgmt_classes mgmt_parameters mtime name name_servers name_servers_search netboot_enabled next_server_v4 next_server_v6 owners parent power_address power_id power_identity_file power_options power_pass power_type power_user profile proxy redhat_management_key repos_enabled serial_baud_rate serial_device server status template_files uid virt_auto_boot virt_cpus virt_disk_driver virt_file_size virt_path virt_pxe_boot virt_ram virt_type',
  profile: 'autoinstall autoinstall_meta boot_files boot_loaders comment ctime depth dhcp_tag distro enable_ipxe enable_menu fetchable_files filename is_subobject kernel_options kernel_options_post kickstart ks_meta menu mgmt_classes mgmt_parameters mtime name name_servers name_servers_search next_server_v4 next_server_v6 owners parent proxy redhat_management_key repos server template_files uid virt_auto_boot virt_bridge virt_cpus virt_disk_driver virt_file_size virt_path virt_ram virt_type',
  distro: 'arch autoinstall_meta boot_files boot_loaders breed comment ctime depth fetchable_files initrd is_subobject kernel kernel_options kernel_options_post ks_meta mgmt_classes mgmt_parameters mtime name os_version owners parent redhat_management_key remote_boot_initrd remote_boot_kernel remote_grub_initrd remote_grub_kernel source_repos template_files tree_build_time uid',
  image: 'arch autoinstall autoinstall_meta boot_files boot_loaders breed comment ctime depth fetchable_files file image_type is_subobject kernel_options kernel_options_post kickstart ks_meta menu mgmt_classes mgmt_parameters mtime name network_count os_version owners parent template_files uid virt_auto_boot virt_bridge virt_cpus virt_disk_driver virt_file_size virt_path virt_ram virt_type',
  repo: 'apt_components apt_dists arch autoinstall_meta boot_files breed comment createrepo_flags ctime depth environment fetchable_files is_subobject keep_updated kernel_options kernel_options_post ks_meta mgmt_classes mgmt_parameters mirror mirror_locally mirror_type mtime name os_version owners parent priority proxy rpm_list rsyncopts template_files uid yumopts',
  menu: 'autoinstall_meta boot_files comment ctime depth display_name fetchable_files is_subobject kernel_options kernel_options_post ks_meta mgmt_classes mgmt_parameters mtime name owners parent template_files uid',
};
const EXPECTED_COUNTS: Record<ItemType, number> = { system: 57, profile: 43, distro: 31, image: 36, repo: 34, menu: 19 };

describe('fields table', () => {
  for (const type of ITEM_TYPES) {
    it(`${type}: wire keys equal Cobbler 3.3.7's to_dict keys (${EXPECTED_COUNTS[type]})`, () => {
      const keys = wireKeys(type);
      assert.equal(keys.length, EXPECTED_COUNTS[type]);
      assert.equal(new Set(keys).size, keys.length, 'no duplicates');
      assert.deepEqual([...keys].sort(), EXPECTED_KEYS[type].split(' '));
    });
    it(`${type}: aliases are output-only and last; stored fields exclude them`, () => {
      const aliases = FIELDS[type].filter((f) => f.kind === 'alias').map((f) => f.name);
      const expected = ['system', 'profile', 'image'].includes(type) ? ['kickstart', 'ks_meta'] : ['ks_meta'];
      assert.deepEqual(aliases, expected);
      assert.deepEqual(wireKeys(type).slice(-aliases.length), expected);
      assert.ok(storedFields(type).every((f) => f.kind !== 'alias'));
      for (const a of aliases) assert.ok(fieldSpec(type, a)?.readonly);
    });
    it(`${type}: read-only bookkeeping fields`, () => {
      for (const f of ['uid', 'ctime', 'mtime', 'depth', 'is_subobject']) assert.equal(fieldSpec(type, f)?.readonly, true, f);
      assert.equal(fieldSpec(type, 'ctime')?.kind, 'float');
      assert.equal(fieldSpec(type, 'mtime')?.kind, 'float');
    });
  }

  const defaults: Array<[ItemType, string, unknown]> = [
    ['system', 'netboot_enabled', false],
    ['system', 'status', ''],
    ['system', 'owners', INHERIT],
    ['system', 'interfaces', {}],
    ['system', 'virt_cpus', INHERIT],
    ['system', 'virt_ram', INHERIT],
    ['system', 'virt_type', INHERIT],
    ['system', 'virt_path', INHERIT],
    ['system', 'serial_device', -1],
    ['system', 'serial_baud_rate', -1],
    ['system', 'power_type', ''],
    ['system', 'enable_ipxe', INHERIT],
    ['system', 'kernel_options', INHERIT],
    ['system', 'template_files', {}],
    ['system', 'filename', INHERIT],
    ['profile', 'virt_cpus', 1],
    ['profile', 'virt_ram', INHERIT],
    ['profile', 'autoinstall', INHERIT],
    ['profile', 'enable_menu', true],
    ['profile', 'filename', ''],
    ['distro', 'arch', 'x86_64'],
    ['distro', 'owners', INHERIT],
    ['distro', 'kernel_options', {}],
    ['distro', 'boot_loaders', INHERIT],
    ['image', 'image_type', 'direct'],
    ['image', 'virt_file_size', INHERIT],
    ['repo', 'breed', 'none'],
    ['repo', 'mirror_type', 'baseurl'],
    ['repo', 'priority', 0],
    ['repo', 'createrepo_flags', INHERIT],
    ['menu', 'display_name', ''],
  ];
  for (const [type, field, expected] of defaults) {
    it(`default ${type}.${field} = ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(fieldSpec(type, field)?.default, expected);
    });
  }

  it('profile defaults that come from settings name their settings key', () => {
    assert.equal(fieldSpec('profile', 'enable_ipxe')?.settingDefault, 'enable_ipxe');
    assert.equal(fieldSpec('profile', 'virt_type')?.settingDefault, 'default_virt_type');
    assert.equal(fieldSpec('profile', 'virt_disk_driver')?.settingDefault, 'default_virt_disk_driver');
    assert.equal(fieldSpec('profile', 'virt_auto_boot')?.settingDefault, 'virt_auto_boot');
  });

  it('power_pass is the secret field', () => {
    const secrets = ITEM_TYPES.flatMap((t) => FIELDS[t].filter((f) => f.secret).map((f) => `${t}.${f.name}`));
    assert.deepEqual(secrets, ['system.power_pass']);
  });

  it('has the 23 interface fields in Cobbler order with their defaults', () => {
    assert.deepEqual(INTERFACE_FIELDS.map((f) => f.name), [
      'bonding_opts', 'bridge_opts', 'cnames', 'connected_mode', 'dhcp_tag', 'dns_name', 'if_gateway', 'interface_master',
      'interface_type', 'ip_address', 'ipv6_address', 'ipv6_default_gateway', 'ipv6_mtu', 'ipv6_prefix', 'ipv6_secondaries',
      'ipv6_static_routes', 'mac_address', 'management', 'mtu', 'netmask', 'static', 'static_routes', 'virt_bridge',
    ]);
    const byName = Object.fromEntries(INTERFACE_FIELDS.map((f) => [f.name, f.default]));
    assert.equal(byName['interface_type'], 'na');
    assert.equal(byName['management'], false);
    assert.deepEqual(byName['cnames'], []);
    assert.equal(byName['mac_address'], '');
  });

  const squashed: Array<[string, string]> = [
    ['macaddress', 'mac_address'], ['ipaddress', 'ip_address'], ['dnsname', 'dns_name'], ['ifgateway', 'if_gateway'],
    ['dhcptag', 'dhcp_tag'], ['interfacetype', 'interface_type'], ['interfacemaster', 'interface_master'],
    ['bondingopts', 'bonding_opts'], ['bridgeopts', 'bridge_opts'], ['connectedmode', 'connected_mode'],
    ['staticroutes', 'static_routes'], ['virtbridge', 'virt_bridge'], ['ipv6defaultgateway', 'ipv6_default_gateway'],
    ['ipv6secondaries', 'ipv6_secondaries'], ['subnet', 'netmask'], ['netmask', 'netmask'], ['static', 'static'],
  ];
  for (const [key, field] of squashed) {
    it(`modify_interface key "${key}" → ${field}`, () => assert.equal(INTERFACE_SQUASHED[key], field));
  }
});

describe('settings defaults', () => {
  it('hold what blending and the API read', () => {
    assert.equal(SETTINGS_DEFAULTS['server'], '127.0.0.1');
    assert.equal(SETTINGS_DEFAULTS['next_server_v4'], '127.0.0.1');
    assert.equal(SETTINGS_DEFAULTS['http_port'], 80);
    assert.deepEqual(SETTINGS_DEFAULTS['default_ownership'], ['admin']);
    assert.deepEqual(SETTINGS_DEFAULTS['kernel_options'], {});
    assert.equal(SETTINGS_DEFAULTS['autoinstall'], 'default.ks');
    assert.equal(SETTINGS_DEFAULTS['enable_ipxe'], false);
    assert.equal(SETTINGS_DEFAULTS['enable_menu'], true);
    assert.equal(SETTINGS_DEFAULTS['pxe_just_once'], true);
    for (const k of ['allow_duplicate_hostnames', 'allow_duplicate_ips', 'allow_duplicate_macs', 'manage_dhcp']) assert.equal(SETTINGS_DEFAULTS[k], false, k);
    assert.equal(SETTINGS_DEFAULTS['default_virt_ram'], 512);
    assert.equal(SETTINGS_DEFAULTS['default_virt_type'], 'kvm');
    assert.equal(SETTINGS_DEFAULTS['power_management_default_type'], 'ipmilanplus');
  });
  it('boot loaders per arch follow Cobbler\'s well-known table', () => {
    assert.deepEqual(supportedBootLoaders('x86_64'), ['grub', 'pxe', 'ipxe']);
    assert.deepEqual(supportedBootLoaders('aarch64'), ['grub']);
    assert.deepEqual(supportedBootLoaders('ppc64le'), ['grub', 'pxe']);
    assert.deepEqual(supportedBootLoaders('s390x'), ['grub', 'pxe', 'ipxe']);
  });
});
