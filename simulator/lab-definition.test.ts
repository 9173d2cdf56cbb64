import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isRackforgeError } from '../lib/errors.ts';
import {
  LabDefinitionError, parseLab, parseNodeDefinition, parseSize, readLabFile, syntheticNodes,
  type LabDefinition, type LabProblem,
} from './lab-definition.ts';

const FILE = 'labs/x.yaml';

// 15 lines: whatever a case appends starts on line 16.
const HEAD = `lab: t
networks:
  - name: provisioning
    group: 239.255.10.1
    port: 10001
    subnet: 10.10.0.0/24
provisioner:
  network: provisioning
  address: 10.10.0.1
  dhcp_range: 10.10.0.100-10.10.0.199
  inventory:
    profiles: [{ name: hypervisor }]
nodes:
  - name: node1
    nics: [{ network: provisioning, mac: 52:54:00:10:00:01 }]
`;

function problemsOf(text: string): LabProblem[] {
  try {
    parseLab(text, FILE);
  } catch (e) {
    assert.ok(e instanceof LabDefinitionError, String(e));
    assert.ok(isRackforgeError(e, 'LAB_INVALID'));
    return [...e.problems];
  }
  return assert.fail('the lab was accepted');
}

/** Asserts exactly these problems, each as "line:column field" and a message pattern. */
function refuses(text: string, expected: Array<[string, string, RegExp]>): void {
  const got = problemsOf(text);
  assert.deepEqual(got.map((p) => `${p.line}:${p.column} ${p.field}`), expected.map(([at, field]) => `${at} ${field}`), got.map((p) => p.message).join('\n'));
  got.forEach((p, i) => assert.match(p.message, expected[i]![2]));
}

describe('parseSize', () => {
  it('reads binary units in any spelling, decimals that make whole bytes, and bare numbers as bytes', () => {
    const table: Array<[string | number, number]> = [
      ['512M', 512 * 2 ** 20], ['4G', 4 * 2 ** 30], ['4GiB', 4 * 2 ** 30], ['4GB', 4 * 2 ** 30], ['4g', 4 * 2 ** 30],
      ['1.5G', 1.5 * 2 ** 30], ['100k', 102_400], ['2T', 2 * 2 ** 40], ['512B', 512], ['512', 512], [' 8 M ', 8 * 2 ** 20],
      [4096, 4096], ['0.5K', 512],
    ];
    for (const [text, bytes] of table) assert.equal(parseSize(text), bytes, String(text));
  });
  it('refuses unknown units, negatives, zero and fractions of a byte with LAB_INVALID', () => {
    const table: Array<[string | number, RegExp]> = [
      ['4Q', /invalid size '4Q': expected a number with an optional unit/], ['-1G', /cannot be negative/], [-5, /cannot be negative/],
      ['0', /greater than zero/], [0, /greater than zero/], ['0.1K', /whole number of bytes/], [1.5, /whole number of bytes/],
      ['', /invalid size/], ['G', /invalid size/], ['1.G', /invalid size/], ['4iB', /invalid size/], [Infinity, /cannot be negative|invalid/],
      ['99999999999T', /too large/],
    ];
    for (const [text, re] of table) {
      assert.throws(() => parseSize(text), (e: unknown) => isRackforgeError(e, 'LAB_INVALID') && re.test(e.message), String(text));
    }
  });
});

describe('syntheticNodes', () => {
  it('numbers names from 001 and counts MACs up, carrying across bytes', () => {
    const g = { prefix: 'syn', network: 'provisioning', count: 3, macBase: '52:54:00:00:fe:ff', firmware: 'bios' as const, line: 1 };
    assert.deepEqual(syntheticNodes(g), [
      { name: 'syn-001', mac: '52:54:00:00:fe:ff' },
      { name: 'syn-002', mac: '52:54:00:00:ff:00' },
      { name: 'syn-003', mac: '52:54:00:00:ff:01' },
    ]);
    const wide = syntheticNodes({ ...g, count: 1000, macBase: '52:54:00:ff:ff:ff' });
    assert.equal(wide.length, 1000);
    assert.equal(wide[0]!.name, 'syn-0001', 'the width fits the largest number');
    assert.equal(wide[999]!.name, 'syn-1000');
    assert.equal(wide[1]!.mac, '52:54:01:00:00:00');
    assert.equal(wide[999]!.mac, '52:54:01:00:03:e6');
  });
});

describe('the shipped labs', () => {
  it('labs/quickstart.yaml: one network, the provisioner, two BIOS nodes of the hypervisor profile', () => {
    const lab = readLabFile('labs/quickstart.yaml');
    assert.equal(lab.name, 'quickstart');
    assert.deepEqual(lab.networks, [{ name: 'provisioning', group: '239.255.10.1', port: 10001, subnet: { address: '10.10.0.0', prefix: 24 }, capture: true, routerAdvertisements: true }]);
    assert.equal(lab.provisioner.address, '10.10.0.1');
    assert.deepEqual(lab.provisioner.dhcpRange, ['10.10.0.100', '10.10.0.199']);
    assert.deepEqual(lab.provisioner.inventory.distros, [{
      name: 'rackforge-node', kernel: resolve('build/node/vmlinuz'), initrd: resolve('build/node/initrd.img'), arch: 'x86_64', breed: 'debian', os_version: 'bookworm',
    }], 'kernel and initrd resolved against labs/');
    assert.deepEqual(lab.provisioner.inventory.profiles, [{ name: 'hypervisor', distro: 'rackforge-node', autoinstall: 'rackforge-node.sh', kernel_options: 'console=ttyS0' }]);
    assert.deepEqual(lab.nodes.map((n) => ({ ...n, line: 0 })), ['01', '02'].map((i) => ({
      name: `node${Number(i)}`, rack: 'r1', datacentre: 'dc1', firmware: 'bios', cpus: 1, memoryMiB: 512,
      disks: [{ name: 'disk0', sizeBytes: 2 * 2 ** 30 }], nics: [{ network: 'provisioning', mac: `52:54:00:10:00:${i}`, model: 'e1000' }],
      boot: ['network', 'disk'], power: { control: 'qmp', initial: 'on' }, profile: 'hypervisor', line: 0,
    })));
    assert.ok(lab.nodes[0]!.line > 0 && lab.nodes[1]!.line > lab.nodes[0]!.line);
    assert.deepEqual(lab.synthetic, []);
    assert.deepEqual(lab.capture, { keep: 5 });
    assert.deepEqual(lab.warnings, []);
    assert.deepEqual(JSON.parse(JSON.stringify(lab)), lab, 'plain data: the runner stores it as JSON');
  });

  it('labs/two-racks.yaml: two networks, two racks of two, a UEFI node, a two-network node, 20 synthetic clients', () => {
    const lab = readLabFile('labs/two-racks.yaml');
    assert.deepEqual(lab.networks.map((n) => [n.name, n.group, n.port, `${n.subnet.address}/${n.subnet.prefix}`]), [
      ['provisioning', '239.255.20.1', 10001, '10.10.0.0/24'], ['storage', '239.255.20.2', 10002, '10.20.0.0/24'],
    ]);
    for (const rack of ['r1', 'r2']) assert.equal(lab.nodes.filter((n) => n.rack === rack).length, 2, rack);
    assert.ok(lab.nodes.some((n) => n.firmware === 'uefi' && n.nics.every((nic) => nic.model === 'virtio-net-pci')));
    assert.ok(lab.nodes.some((n) => new Set(n.nics.map((nic) => nic.network)).size === 2));
    assert.ok(lab.nodes.every((n) => n.datacentre === 'dc1' && n.disks.length >= 1), 'the merged template applies');
    assert.equal(lab.synthetic.length, 1);
    assert.equal(lab.synthetic[0]!.count, 20);
    assert.deepEqual(lab.capture, { rotateBytes: 100 * 2 ** 20, keep: 5 });
    assert.deepEqual(lab.warnings, []);
  });
});

describe('parseLab accepts', () => {
  it('the complete example in docs/labs.md', () => {
    const doc = readFileSync('docs/labs.md', 'utf8');
    const example = /## A complete example\n\n```yaml\n([^]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'docs/labs.md has its complete example');
    const lab = parseLab(example, 'docs/labs.md');
    assert.equal(lab.nodes[0]!.disks[0]!.sizeBytes, 4 * 2 ** 30);
    assert.equal(lab.synthetic[0]!.count, 200);
    assert.match(lab.warnings.join('\n'), /100 addresses for 201 clients/);
  });


  it('defaults: BIOS, 1 CPU, 512M, no disks, e1000, [network, disk], power on, capture on', () => {
    const lab = parseLab(HEAD, FILE);
    assert.deepEqual(lab.nodes, [{
      name: 'node1', firmware: 'bios', cpus: 1, memoryMiB: 512, disks: [],
      nics: [{ network: 'provisioning', mac: '52:54:00:10:00:01', model: 'e1000' }],
      boot: ['network', 'disk'], power: { control: 'qmp', initial: 'on' }, line: 14,
    }]);
    assert.equal(lab.networks[0]!.capture, true);
    assert.equal(lab.networks[0]!.routerAdvertisements, true);
    assert.equal(parseLab(HEAD.replace('    port: 10001', '    port: 10001\n    router_advertisements: false'), FILE).networks[0]!.routerAdvertisements, false);
    assert.deepEqual(lab.provisioner.dns, []);
    assert.equal(lab.file, FILE);
  });

  it('the other spellings: power shorthand, range as a list, MAC forms, UEFI defaults, boot order, named disks', () => {
    const lab = parseLab(HEAD.replace('dhcp_range: 10.10.0.100-10.10.0.199', 'dhcp_range: [10.10.0.100, 10.10.0.199]') + `  - name: node2
    firmware: uefi
    memory: 1.5G
    disks: [2G, { name: data, size: 1T }]
    nics: [{ network: provisioning, mac: 52-54-00-10-00-0A }, { network: provisioning, mac: 5254001000AB, model: rtl8139 }]
    boot: [disk, network]
    power: off
  - name: node3
    nics: [{ network: provisioning, mac: 52:54:00:10:00:03 }]
    power: { initial: off }
`, FILE);
    const [, n2, n3] = lab.nodes;
    assert.deepEqual(lab.provisioner.dhcpRange, ['10.10.0.100', '10.10.0.199']);
    assert.equal(n2!.memoryMiB, 1536);
    assert.deepEqual(n2!.disks, [{ name: 'disk0', sizeBytes: 2 * 2 ** 30 }, { name: 'data', sizeBytes: 2 ** 40 }]);
    assert.deepEqual(n2!.nics, [
      { network: 'provisioning', mac: '52:54:00:10:00:0a', model: 'virtio-net-pci' },
      { network: 'provisioning', mac: '52:54:00:10:00:ab', model: 'rtl8139' },
    ]);
    assert.deepEqual(n2!.boot, ['disk', 'network']);
    assert.deepEqual(n2!.power, { control: 'qmp', initial: 'off' });
    assert.deepEqual(n3!.power, { control: 'qmp', initial: 'off' });
  });

  it('anchors, merge keys and x- keys at the top level', () => {
    const text = HEAD.replace('lab: t\n', 'lab: t\nx-template: &t { cpus: 2, memory: 1G, profile: hypervisor }\n') + `  - <<: *t
    name: node2
    memory: 2G
    nics: [{ network: provisioning, mac: 52:54:00:10:00:02 }]
`;
    const lab = parseLab(text, FILE);
    assert.equal(lab.nodes[1]!.cpus, 2);
    assert.equal(lab.nodes[1]!.memoryMiB, 2048, 'a key written in the map wins over the merged one');
    assert.equal(lab.nodes[1]!.profile, 'hypervisor');
  });

  it('a DHCP range smaller than its clients is a warning naming the range, not an error', () => {
    const lab = parseLab(HEAD.replace('10.10.0.100-10.10.0.199', '10.10.0.100-10.10.0.109') + `synthetic:
  - { prefix: syn, network: provisioning, count: 20, mac_base: 52:54:01:00:00:01 }
`, FILE);
    assert.equal(lab.synthetic[0]!.count, 20);
    assert.deepEqual(lab.warnings, [`${FILE}:10:15: provisioner.dhcp_range: 10 addresses for 21 clients on 'provisioning' (1 node NICs, 20 synthetic): some will get no lease`]);
  });

  it('a node whose first NIC is not on the provisioning network gets a warning', () => {
    const text = HEAD.replace('provisioner:', `  - name: storage
    group: 239.255.10.2
    port: 10002
    subnet: 10.20.0.0/24
provisioner:`) + `  - name: node2
    nics: [{ network: storage, mac: 52:54:00:20:00:02 }, { network: provisioning, mac: 52:54:00:10:00:02 }]
  - name: node3
    nics: [{ network: storage, mac: 52:54:00:20:00:03 }]
`;
    const lab = parseLab(text, FILE);
    assert.equal(lab.warnings.length, 2);
    assert.match(lab.warnings[0]!, /^labs\/x\.yaml:21:11: nodes\[1\]\.nics: the first NIC is on 'storage'/);
    assert.match(lab.warnings[1]!, /^labs\/x\.yaml:23:11: nodes\[2\]\.nics: no NIC on the provisioner's network 'provisioning': node3 cannot network-boot/);
  });

  it('profiles are free-form when the lab lists none', () => {
    const lab = parseLab(HEAD.replace('  inventory:\n    profiles: [{ name: hypervisor }]\n', '') + `  - name: node2
    nics: [{ network: provisioning, mac: 52:54:00:10:00:02 }]
    profile: anything
`, FILE);
    assert.equal(lab.nodes[1]!.profile, 'anything');
  });
});

describe('parseLab refuses, naming file:line:column and the field', () => {
  it('the message reads file:line:column: field: problem', () => {
    const text = `${HEAD}  - name: node2
    nics: [{ network: provisioning, mac: 52:54:00:10:00:01 }]
`;
    assert.throws(() => parseLab(text, FILE), (e: unknown) => {
      assert.ok(e instanceof LabDefinitionError);
      assert.equal(e.message, 'labs/x.yaml:17:42: nodes[1].nics[0].mac: 52:54:00:10:00:01 is already used by node1 (line 14)');
      assert.deepEqual([e.file, e.line, e.column, e.field, e.code], [FILE, 17, 42, 'nodes[1].nics[0].mac', 'LAB_INVALID']);
      return true;
    });
  });

  it('a misspelt key, with a suggestion', () => {
    refuses(`${HEAD}    memroy: 1G\n`, [['16:5', 'nodes[0]', /^unknown key 'memroy' \(did you mean 'memory'\?\)$/]]);
    refuses(`${HEAD}    datacenter: dc1\n`, [['16:5', 'nodes[0]', /did you mean 'datacentre'/]]);
    refuses(`${HEAD}    colour: blue\n`, [['16:5', 'nodes[0]', /^unknown key 'colour'$/]]);
    refuses(`${HEAD}node:\n`, [['16:1', '', /unknown key 'node' \(did you mean 'nodes'\?\)/]]);
  });

  it('wrong types', () => {
    refuses(`${HEAD}    cpus: "2"\n`, [['16:11', 'nodes[0].cpus', /expected a whole number, found the string '2'/]]);
    refuses(`${HEAD}    cpus: 17\n`, [['16:11', 'nodes[0].cpus', /17 is out of range 1-16/]]);
    refuses(`${HEAD}    disks: { size: 1G }\n`, [['16:12', 'nodes[0].disks', /expected a list such as \[\{ size: 4G \}\], found a map/]]);
    refuses(`${HEAD}    rack: 7\n`, [['16:11', 'nodes[0].rack', /expected a string, found the number 7 \(quote it/]]);
    refuses(HEAD.replace('    port: 10001', '    port: "10001"'), [['5:11', 'networks[0].port', /expected a whole number/]]);
    refuses(HEAD.replace('    port: 10001', '    port: 10001\n    router_advertisements: yes'), [['6:28', 'networks[0].router_advertisements', /expected true or false/]]);
    refuses(`${HEAD}  - just a string\n`, [['16:5', 'nodes[1]', /expected a map \(key: value\), found the string 'just a string'/]]);
    refuses(`${HEAD}    boot: disk\n`, [['16:11', 'nodes[0].boot', /expected a list such as \[network, disk\]/]]);
  });

  it('missing required keys, at the map that lacks them', () => {
    refuses(`${HEAD}  - name: node2\n`, [['16:5', 'nodes[1].nics', /required key is missing/]]);
    refuses(`${HEAD}  - name: node2\n    nics: []\n`, [['17:11', 'nodes[1].nics', /at least one NIC/]]);
    refuses(HEAD.replace('lab: t\n', ''), [['1:1', 'lab', /required key is missing/]]);
  });

  it('unknown network references', () => {
    refuses(`${HEAD}  - name: node2\n    nics: [{ network: provisoning, mac: 52:54:00:10:00:02 }]\n`,
      [['17:23', 'nodes[1].nics[0].network', /^unknown network 'provisoning' \(did you mean 'provisioning'\?\)$/]]);
    refuses(HEAD.replace('  network: provisioning', '  network: storage'), [['8:12', 'provisioner.network', /unknown network 'storage'/]]);
  });

  it('duplicate node names', () => {
    refuses(`${HEAD}  - name: node1\n    nics: [{ network: provisioning, mac: 52:54:00:10:00:02 }]\n`,
      [['16:11', 'nodes[1].name', /'node1' is already used by node node1 \(line 14\)/]]);
  });

  it('duplicate MACs within a node, across nodes whatever their spelling, and against synthetic ranges', () => {
    refuses(`${HEAD}  - name: node2\n    nics: [{ network: provisioning, mac: 52:54:00:10:00:02 }, { network: provisioning, mac: 52-54-00-10-00-02 }]\n`,
      [['17:93', 'nodes[1].nics[1].mac', /52:54:00:10:00:02 is already used by nics\[0\] of this node/]]);
    refuses(`${HEAD}  - name: node2\n    nics: [{ network: provisioning, mac: 52:54:00:10:00:01 }]\n`,
      [['17:42', 'nodes[1].nics[0].mac', /already used by node1 \(line 14\)/]]);
    // The node's MAC falls inside the expanded range, not at its start.
    refuses(`${HEAD}synthetic:\n  - { prefix: syn, network: provisioning, count: 200, mac_base: 52:54:00:0f:ff:f0 }\n`,
      [['17:65', 'synthetic[0].mac_base', /the MACs 52:54:00:0f:ff:f0…52:54:00:10:00:b7 include 52:54:00:10:00:01, already used by node1 \(line 14\)/]]);
    refuses(`${HEAD}synthetic:
  - { prefix: a, network: provisioning, count: 10, mac_base: 52:54:01:00:00:01 }
  - { prefix: b, network: provisioning, count: 10, mac_base: 52:54:01:00:00:0a }
`, [['18:62', 'synthetic[1].mac_base', /include 52:54:01:00:00:0a, already used by a-010 of synthetic group 'a' \(line 17\)/]]);
  });

  it('multicast and all-zero MACs, and synthetic ranges that would run into them', () => {
    refuses(`${HEAD}  - name: node2\n    nics: [{ network: provisioning, mac: 01:00:5e:00:00:01 }]\n`,
      [['17:42', 'nodes[1].nics[0].mac', /01:00:5e:00:00:01 is a multicast MAC/]]);
    refuses(`${HEAD}  - name: node2\n    nics: [{ network: provisioning, mac: 00:00:00:00:00:00 }]\n`,
      [['17:42', 'nodes[1].nics[0].mac', /all-zero MAC/]]);
    refuses(`${HEAD}  - name: node2\n    nics: [{ network: provisioning, mac: 52:54:00:10:00 }]\n`,
      [['17:42', 'nodes[1].nics[0].mac', /'52:54:00:10:00' is not a MAC address/]]);
    refuses(`${HEAD}synthetic:\n  - { prefix: syn, network: provisioning, count: 3, mac_base: 52:ff:ff:ff:ff:fe }\n`,
      [['17:63', 'synthetic[0].mac_base', /3 MACs from 52:ff:ff:ff:ff:fe run past 52:ff:ff:ff:ff:ff/]]);
  });

  it('bad sizes, and limits that explain a bare number', () => {
    refuses(`${HEAD}    memory: 4Q\n`, [['16:13', 'nodes[0].memory', /invalid size '4Q'/]]);
    refuses(`${HEAD}    memory: -1G\n`, [['16:13', 'nodes[0].memory', /cannot be negative/]]);
    refuses(`${HEAD}    disks: [0]\n`, [['16:13', 'nodes[0].disks[0]', /greater than zero/]]);
    refuses(`${HEAD}    memory: 512\n`, [['16:13', 'nodes[0].memory', /512 bytes is below the minimum 64M \(a bare number is bytes: write 512M/]]);
    refuses(`${HEAD}    memory: 32G\n`, [['16:13', 'nodes[0].memory', /above the maximum 16G/]]);
    refuses(`${HEAD}    memory: 100.5M\n`, [['16:13', 'nodes[0].memory', /not a whole number of MiB/]]);
    refuses(`${HEAD}    disks: [{ size: 1000001 }]\n`, [['16:21', 'nodes[0].disks[0].size', /below the minimum 1M/]]);
    refuses(`${HEAD}    disks: [{ size: 1048577 }]\n`, [['16:21', 'nodes[0].disks[0].size', /512-byte sectors/]]);
    refuses(`${HEAD}    disks: [1G, { name: disk0, size: 1G }]\n`, [['16:17', 'nodes[0].disks[1]', /duplicate disk name 'disk0'/]]);
  });

  it('bad addresses and ranges', () => {
    const swap = (from: string, to: string): string => HEAD.replace(from, to);
    refuses(swap('address: 10.10.0.1', 'address: 10.10.1.1'), [['9:12', 'provisioner.address', /10\.10\.1\.1 is not a host address of network 'provisioning' 10\.10\.0\.0\/24/]]);
    refuses(swap('address: 10.10.0.1', 'address: 10.10.0.255'), [['9:12', 'provisioner.address', /not a host address/]]);
    refuses(swap('address: 10.10.0.1', 'address: 10.10.0.256'), [['9:12', 'provisioner.address', /'10\.10\.0\.256' is not an IPv4 address/]]);
    refuses(swap('10.10.0.100-10.10.0.199', '10.10.0.1-10.10.0.199'), [['10:15', 'provisioner.dhcp_range', /contains the provisioner's own address 10\.10\.0\.1/]]);
    refuses(swap('10.10.0.100-10.10.0.199', '10.10.0.199-10.10.0.100'), [['10:15', 'provisioner.dhcp_range', /first 10\.10\.0\.199 is after last 10\.10\.0\.100/]]);
    refuses(swap('10.10.0.100-10.10.0.199', '10.10.0.100-10.10.1.10'), [['10:15', 'provisioner.dhcp_range', /10\.10\.1\.10 is not a host address/]]);
    refuses(swap('10.10.0.100-10.10.0.199', '[10.10.0.100, 10.10.1.10]'), [['10:29', 'provisioner.dhcp_range[1]', /10\.10\.1\.10 is not a host address/]]);
    refuses(swap('10.10.0.100-10.10.0.199', '10.10.0.100'), [['10:15', 'provisioner.dhcp_range', /is not a range such as/]]);
    refuses(swap('group: 239.255.10.1', 'group: 224.0.0.251'), [['4:12', 'networks[0].group', /not in 239\.0\.0\.0\/8/]]);
    refuses(swap('subnet: 10.10.0.0/24', 'subnet: 10.10.0.1/24'), [['6:13', 'networks[0].subnet', /host bits set \(did you mean 10\.10\.0\.0\/24\?\)/]]);
    refuses(swap('subnet: 10.10.0.0/24', 'subnet: 10.10.0.0/31'), [['6:13', 'networks[0].subnet', /prefix \/31 is out of range \/8-\/30/]]);
    refuses(swap('subnet: 10.10.0.0/24', 'subnet: 127.0.0.0/8'), [['6:13', 'networks[0].subnet', /not a unicast range/]]);
  });

  it('overlapping subnets and duplicate network names and groups', () => {
    const second = (net: string): string => HEAD.replace('provisioner:', `${net}\nprovisioner:`);
    refuses(second('  - { name: storage, group: 239.255.10.2, port: 10002, subnet: 10.10.0.0/16 }'),
      [['7:64', 'networks[1].subnet', /10\.10\.0\.0\/16 overlaps network 'provisioning' 10\.10\.0\.0\/24 \(line 3\)/]]);
    refuses(second('  - { name: provisioning, group: 239.255.10.2, port: 10002, subnet: 10.20.0.0/24 }'),
      [['7:13', 'networks[1].name', /duplicate network name 'provisioning' \(also at line 3\)/]]);
    refuses(second('  - { name: storage, group: 239.255.10.1, port: 10002, subnet: 10.20.0.0/24 }'),
      [['7:29', 'networks[1].group', /239\.255\.10\.1 is already the group of network 'provisioning' \(line 3\)/]]);
    refuses(second('  - { name: storage-network, group: 239.255.10.2, port: 10002, subnet: 10.20.0.0/24 }'),
      [['7:13', 'networks[1].name', /'storage-network' is not valid/]]);
  });

  it('node names that collide with expanded synthetic names', () => {
    refuses(`${HEAD}  - name: syn-007\n    nics: [{ network: provisioning, mac: 52:54:00:10:00:07 }]\nsynthetic:\n  - { prefix: syn, network: provisioning, count: 10, mac_base: 52:54:01:00:00:01 }\n`,
      [['19:15', 'synthetic[0].prefix', /the names syn-001…syn-010 include 'syn-007', already used by node syn-007 \(line 16\)/]]);
  });

  it('unknown profiles, when the lab lists profiles', () => {
    refuses(`${HEAD}    profile: hypervisr\n`, [['16:14', 'nodes[0].profile', /unknown profile 'hypervisr' \(provisioner\.inventory\.profiles has hypervisor\) \(did you mean 'hypervisor'\?\)/]]);
  });

  it('YAML syntax errors with their line, an empty file, a top level that is not a map', () => {
    refuses(`${HEAD}  - name: [node2\n`, [['17:1', '', /^YAML: /]]);
    refuses(`${HEAD}lab: again\n`, [['16:1', '', /^YAML: Map keys must be unique/]]);
    refuses('', [['1:1', '', /the lab file is empty/]]);
    refuses('# nothing but a comment\n', [['1:1', '', /the lab file is empty/]]);
    refuses('\n\n- lab: t\n', [['3:1', '', /the top level must be a map/]]);
  });

  it('lists every problem, in file order, one per line', () => {
    const text = HEAD.replace('port: 10001', 'port: 80') + '    memroy: 1G\n    cpus: 0\n';
    assert.throws(() => parseLab(text, FILE), (e: unknown) => {
      assert.ok(e instanceof LabDefinitionError);
      assert.deepEqual(e.message.split('\n'), [
        'labs/x.yaml:5:11: networks[0].port: 80 is out of range 1024-65535',
        "labs/x.yaml:16:5: nodes[0]: unknown key 'memroy' (did you mean 'memory'?)",
        'labs/x.yaml:17:11: nodes[0].cpus: 0 is out of range 1-16',
      ]);
      assert.deepEqual([e.line, e.column, e.field], [5, 11, 'networks[0].port'], 'the error names the first problem');
      return true;
    });
  });
});

describe('readLabFile', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rf-lab-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('reports a missing file as LAB_INVALID at line 0', () => {
    const path = join(dir, 'nope.yaml');
    assert.throws(() => readLabFile(path), (e: unknown) => e instanceof LabDefinitionError && e.code === 'LAB_INVALID' && e.line === 0
      && e.message === `${path}: cannot read the lab file: no such file`);
    assert.throws(() => readLabFile(dir), /is a folder, not a file/);
  });

  it('names the file it read in every message and resolves inventory paths beside it', () => {
    const path = join(dir, 'lab.yaml');
    writeFileSync(path, HEAD.replace('  inventory:\n', '  inventory:\n    distros: [{ name: d, kernel: k/vmlinuz, initrd: /abs/initrd }]\n'));
    const lab = readLabFile(path);
    assert.deepEqual(lab.provisioner.inventory.distros, [{ name: 'd', kernel: join(dir, 'k/vmlinuz'), initrd: '/abs/initrd' }]);
    writeFileSync(path, `${HEAD}    cpus: x\n`);
    assert.throws(() => readLabFile(path), (e: unknown) => e instanceof LabDefinitionError && e.message.startsWith(`${path}:16:11: nodes[0].cpus:`));
  });
});

describe('parseNodeDefinition', () => {
  let lab: LabDefinition;
  before(() => {
    lab = parseLab(`${HEAD}synthetic:\n  - { prefix: syn, network: provisioning, count: 5, mac_base: 52:54:01:00:00:01 }\n`, 'labs/base.yaml');
  });

  it('accepts a node as YAML text or as plain data, with the lab defaults', () => {
    const fromText = parseNodeDefinition('name: node9\nnics: [{ network: provisioning, mac: 52:54:00:10:00:09 }]\nprofile: hypervisor\n', lab, { file: 'node9.yaml' });
    assert.deepEqual(fromText, {
      name: 'node9', firmware: 'bios', cpus: 1, memoryMiB: 512, disks: [],
      nics: [{ network: 'provisioning', mac: '52:54:00:10:00:09', model: 'e1000' }],
      boot: ['network', 'disk'], power: { control: 'qmp', initial: 'on' }, profile: 'hypervisor', line: 1,
    });
    const fromData = parseNodeDefinition({ name: 'node9', firmware: 'uefi', memory: '1G', nics: [{ network: 'provisioning', mac: '52:54:00:10:00:09' }] }, lab);
    assert.equal(fromData.memoryMiB, 1024);
    assert.equal(fromData.nics[0]!.model, 'virtio-net-pci');
    assert.equal(fromData.line, 0);
  });

  it('refuses clashes with the lab, naming where the lab has them', () => {
    assert.throws(() => parseNodeDefinition('name: node1\nnics: [{ network: provisioning, mac: 52:54:01:00:00:03 }]\n', lab, { file: 'n.yaml' }), (e: unknown) => {
      assert.ok(e instanceof LabDefinitionError);
      assert.deepEqual(e.message.split('\n'), [
        'n.yaml:1:7: node.name: \'node1\' is already used by node node1 (labs/base.yaml line 14)',
        "n.yaml:2:38: node.nics[0].mac: 52:54:01:00:00:03 is already used by syn-003 of synthetic group 'syn' (labs/base.yaml line 17)",
      ]);
      return true;
    });
    assert.throws(() => parseNodeDefinition({ name: 'syn-002', nics: [{ network: 'storage', mac: '52:54:00:10:00:02' }], profile: 'nope' }, lab), (e: unknown) => {
      assert.ok(e instanceof LabDefinitionError);
      assert.deepEqual(e.problems.map((p) => [p.line, p.field]), [[0, 'node.name'], [0, 'node.nics[0].network'], [0, 'node.profile']]);
      assert.match(e.message, /^\(node definition\): node\.name: 'syn-002' is already used by syn-002 of synthetic group 'syn' \(labs\/base\.yaml line 17\)$/m);
      return true;
    });
    assert.throws(() => parseNodeDefinition('name: [x\n', lab, { file: 'n.yaml' }), (e: unknown) => e instanceof LabDefinitionError && e.message.startsWith('n.yaml:2:1: YAML: '));
    assert.throws(() => parseNodeDefinition(null, lab), /the node definition is empty/);
  });
});
