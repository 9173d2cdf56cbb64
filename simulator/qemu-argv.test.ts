import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRackforgeError } from '../lib/errors.ts';
import { runInNetns, shellQuote, type NetnsResult } from '../test/helpers/netns.ts';
import { readLabFile, type LabNetwork, type LabNode } from './lab-definition.ts';
import { BOOT_RETRY_MS, buildBridgeArgv, buildNodeArgv, tapName, type NodePaths, type QemuHost } from './qemu-argv.ts';

const PROVISIONING: LabNetwork = { name: 'provisioning', group: '239.255.10.1', port: 10001, subnet: { address: '10.10.0.0', prefix: 24 }, capture: true };
const STORAGE: LabNetwork = { name: 'storage', group: '239.255.10.2', port: 10002, subnet: { address: '10.20.0.0', prefix: 24 }, capture: true };
const HOST: QemuHost = { accel: 'tcg', ovmfCode: '/usr/share/OVMF/OVMF_CODE.fd' };

function node(over: Partial<LabNode> = {}): LabNode {
  return {
    name: 'node1', firmware: 'bios', cpus: 1, memoryMiB: 512,
    disks: [{ name: 'disk0', sizeBytes: 2 ** 31 }],
    nics: [{ network: 'provisioning', mac: '52:54:00:10:00:01', model: 'e1000' }],
    boot: ['network', 'disk'], power: { control: 'qmp', initial: 'on' }, line: 1,
    ...over,
  };
}

function paths(dir: string, disks: string[], ovmfVars?: string): NodePaths {
  return {
    dir, qmpSocket: `${dir}/qmp.sock`, serialSocket: `${dir}/serial.sock`, serialLog: `${dir}/serial.log`, qemuLog: `${dir}/qemu.log`,
    disks: disks.map((d) => `${dir}/${d}.img`), ...(ovmfVars ? { ovmfVars } : {}),
  };
}

const COMMON = (name: string, cpus: number, mib: number, dir: string): string[] => [
  '-accel', 'tcg', '-machine', 'pc', '-nodefaults', '-no-user-config', '-display', 'none',
  '-name', `${name},debug-threads=off`, '-smp', String(cpus), '-m', String(mib),
  '-chardev', `socket,id=serial0,path=${dir}/serial.sock,server=on,wait=off,logfile=${dir}/serial.log,logappend=on`,
  '-serial', 'chardev:serial0',
  '-qmp', `unix:${dir}/qmp.sock,server=on,wait=off`,
  '-device', 'pvpanic', '-action', 'panic=pause', '-S',
];
const BOOT = ['-boot', `strict=on,reboot-timeout=${BOOT_RETRY_MS}`];

/** The -device values of an argv for NICs and disks (every node has its pvpanic), in order. */
function devices(argv: string[]): string[] {
  return argv.flatMap((a, i) => (argv[i - 1] === '-device' && a !== 'pvpanic' ? [a] : []));
}

describe('buildNodeArgv', () => {
  it('BIOS: e1000 on its multicast hub with QEMU\'s own ROM, a virtio disk, network first', () => {
    assert.deepEqual(buildNodeArgv(node(), [PROVISIONING], paths('/s/n1', ['disk0']), HOST), [
      ...COMMON('node1', 1, 512, '/s/n1'),
      '-netdev', 'socket,id=nic0,mcast=239.255.10.1:10001,localaddr=127.0.0.1',
      '-device', 'e1000,netdev=nic0,mac=52:54:00:10:00:01,bootindex=1',
      '-drive', 'file=/s/n1/disk0.img,format=raw,if=none,id=disk0',
      '-device', 'virtio-blk-pci,drive=disk0,serial=disk0,bootindex=2',
      ...BOOT,
    ]);
  });

  it('UEFI: OVMF code read-only, the node\'s own vars, IPv6 off, virtio-net with OVMF\'s PXE (empty romfile)', () => {
    const n = node({ firmware: 'uefi', cpus: 2, memoryMiB: 1024, nics: [{ network: 'provisioning', mac: '52:54:00:10:00:02', model: 'virtio-net-pci' }] });
    assert.deepEqual(buildNodeArgv(n, [PROVISIONING], paths('/s/n2', ['disk0'], '/s/n2/OVMF_VARS.fd'), { accel: 'kvm', ovmfCode: '/ovmf/CODE.fd' }), [
      ...COMMON('node1', 2, 1024, '/s/n2').map((a) => (a === 'tcg' ? 'kvm' : a)),
      '-drive', 'if=pflash,format=raw,readonly=on,file=/ovmf/CODE.fd',
      '-drive', 'if=pflash,format=raw,file=/s/n2/OVMF_VARS.fd',
      '-fw_cfg', 'name=opt/org.tianocore/IPv6Support,string=no',
      '-netdev', 'socket,id=nic0,mcast=239.255.10.1:10001,localaddr=127.0.0.1',
      '-device', 'virtio-net-pci,netdev=nic0,mac=52:54:00:10:00:02,romfile=,bootindex=1',
      '-drive', 'file=/s/n2/disk0.img,format=raw,if=none,id=disk0',
      '-device', 'virtio-blk-pci,drive=disk0,serial=disk0,bootindex=2',
      ...BOOT,
    ]);
  });

  it('only UEFI virtio-net loses its ROM: BIOS virtio-net and UEFI e1000 keep QEMU\'s default', () => {
    const virtio = { network: 'provisioning', mac: '52:54:00:10:00:01', model: 'virtio-net-pci' as const };
    assert.deepEqual(devices(buildNodeArgv(node({ nics: [virtio], disks: [] }), [PROVISIONING], paths('/s', []), HOST)),
      ['virtio-net-pci,netdev=nic0,mac=52:54:00:10:00:01,bootindex=1']);
    assert.deepEqual(devices(buildNodeArgv(node({ firmware: 'uefi', disks: [] }), [PROVISIONING], paths('/s', [], '/v.fd'), HOST)),
      ['e1000,netdev=nic0,mac=52:54:00:10:00:01,bootindex=1']);
  });

  it('several NICs on several hubs and several disks: NICs 1..n in order, then disks', () => {
    const n = node({
      nics: [
        { network: 'provisioning', mac: '52:54:00:10:00:01', model: 'e1000' },
        { network: 'storage', mac: '52:54:00:20:00:01', model: 'virtio-net-pci' },
      ],
      disks: [{ name: 'system', sizeBytes: 2 ** 32 }, { name: 'data0', sizeBytes: 2 ** 34 }],
    });
    const argv = buildNodeArgv(n, [STORAGE, PROVISIONING], paths('/s', ['system', 'data0']), HOST);
    assert.deepEqual(argv.slice(COMMON('node1', 1, 512, '/s').length), [
      '-netdev', 'socket,id=nic0,mcast=239.255.10.1:10001,localaddr=127.0.0.1',
      '-device', 'e1000,netdev=nic0,mac=52:54:00:10:00:01,bootindex=1',
      '-netdev', 'socket,id=nic1,mcast=239.255.10.2:10002,localaddr=127.0.0.1',
      '-device', 'virtio-net-pci,netdev=nic1,mac=52:54:00:20:00:01,bootindex=2',
      '-drive', 'file=/s/system.img,format=raw,if=none,id=disk0',
      '-device', 'virtio-blk-pci,drive=disk0,serial=system,bootindex=3',
      '-drive', 'file=/s/data0.img,format=raw,if=none,id=disk1',
      '-device', 'virtio-blk-pci,drive=disk1,serial=data0,bootindex=4',
      ...BOOT,
    ]);
  });

  it('boot order follows node.boot, and a device left out gets no bootindex (strict: never tried)', () => {
    const n = (boot: LabNode['boot']): LabNode => node({
      boot,
      nics: [{ network: 'provisioning', mac: '52:54:00:10:00:01', model: 'e1000' }, { network: 'provisioning', mac: '52:54:00:10:00:02', model: 'e1000' }],
      disks: [{ name: 'disk0', sizeBytes: 2 ** 30 }, { name: 'disk1', sizeBytes: 2 ** 30 }],
    });
    const order = (boot: LabNode['boot']): string[] => devices(buildNodeArgv(n(boot), [PROVISIONING], paths('/s', ['disk0', 'disk1']), HOST))
      .map((d) => `${d.split(',')[0]}:${/bootindex=(\d+)/.exec(d)?.[1] ?? '-'}`);
    assert.deepEqual(order(['disk', 'network']), ['e1000:3', 'e1000:4', 'virtio-blk-pci:1', 'virtio-blk-pci:2']);
    assert.deepEqual(order(['disk']), ['e1000:-', 'e1000:-', 'virtio-blk-pci:1', 'virtio-blk-pci:2']);
    assert.deepEqual(order(['network']), ['e1000:1', 'e1000:2', 'virtio-blk-pci:-', 'virtio-blk-pci:-']);
    assert.deepEqual(buildNodeArgv(n(['disk']), [PROVISIONING], paths('/s', ['disk0', 'disk1']), HOST).slice(-2), BOOT);
  });

  it('doubles commas in paths, which QEMU would otherwise read as option separators', () => {
    const argv = buildNodeArgv(node(), [PROVISIONING], paths('/s/a,b', ['disk0']), HOST);
    assert.ok(argv.includes('unix:/s/a,,b/qmp.sock,server=on,wait=off'));
    assert.ok(argv.includes('file=/s/a,,b/disk0.img,format=raw,if=none,id=disk0'));
    assert.ok(argv.some((a) => a.startsWith('socket,id=serial0,path=/s/a,,b/serial.sock,') && a.includes('logfile=/s/a,,b/serial.log,')));
  });

  it('refuses an unknown network, mismatched disk paths, and UEFI without its vars file', () => {
    assert.throws(() => buildNodeArgv(node(), [STORAGE], paths('/s', ['disk0']), HOST), (e: unknown) => isRackforgeError(e, 'LAB_UNKNOWN_NETWORK') && /provisioning/.test(e.message));
    assert.throws(() => buildNodeArgv(node(), [PROVISIONING], paths('/s', []), HOST), /1 disks but 0 disk paths/);
    assert.throws(() => buildNodeArgv(node({ firmware: 'uefi' }), [PROVISIONING], paths('/s', ['disk0']), HOST), /needs paths\.ovmfVars/);
  });
});

describe('buildBridgeArgv and tapName', () => {
  it('one hub per network with its multicast socket; every tap joins its network\'s hub', () => {
    assert.deepEqual(buildBridgeArgv([
      { tap: 'rf-provisioning', network: PROVISIONING },
      { tap: 'rf-storage', network: STORAGE },
      { tap: 'rf-prov2', network: PROVISIONING },
    ], '/s/bridge.qmp'), [
      '-machine', 'none', '-nodefaults', '-no-user-config', '-display', 'none',
      '-qmp', 'unix:/s/bridge.qmp,server=on,wait=off',
      '-netdev', 'socket,id=mc-provisioning,mcast=239.255.10.1:10001,localaddr=127.0.0.1',
      '-netdev', 'hubport,id=hp-mc-provisioning,hubid=0,netdev=mc-provisioning',
      '-netdev', 'tap,id=tap0,ifname=rf-provisioning,script=no,downscript=no',
      '-netdev', 'hubport,id=hp-tap0,hubid=0,netdev=tap0',
      '-netdev', 'socket,id=mc-storage,mcast=239.255.10.2:10002,localaddr=127.0.0.1',
      '-netdev', 'hubport,id=hp-mc-storage,hubid=1,netdev=mc-storage',
      '-netdev', 'tap,id=tap1,ifname=rf-storage,script=no,downscript=no',
      '-netdev', 'hubport,id=hp-tap1,hubid=1,netdev=tap1',
      '-netdev', 'tap,id=tap2,ifname=rf-prov2,script=no,downscript=no',
      '-netdev', 'hubport,id=hp-tap2,hubid=0,netdev=tap2',
    ]);
    assert.ok(!buildBridgeArgv([{ tap: 'rf-storage', network: STORAGE }]).includes('-qmp'));
  });

  it('refuses a tap listed twice, an unusable interface name, and one network with two groups', () => {
    assert.throws(() => buildBridgeArgv([{ tap: 'rf-a', network: PROVISIONING }, { tap: 'rf-a', network: STORAGE }]), /listed twice/);
    assert.throws(() => buildBridgeArgv([{ tap: 'rf-provisioning-x', network: PROVISIONING }]), /not a usable interface name/);
    assert.throws(() => buildBridgeArgv([{ tap: 'a,b', network: PROVISIONING }]), /not a usable interface name/);
    assert.throws(() => buildBridgeArgv([{ tap: 'rf-a', network: PROVISIONING }, { tap: 'rf-b', network: { ...PROVISIONING, port: 1 } }]), /two different groups/);
  });

  it('tap names are rf-<network>, 15 characters at most for the longest network name', () => {
    assert.equal(tapName('quickstart', 'provisioning'), 'rf-provisioning');
    assert.equal(tapName('other-lab', 'provisioning'), 'rf-provisioning', 'each lab has its own namespace');
    assert.equal(tapName('x', 'abcdefghijkl').length, 15);
    assert.throws(() => tapName('x', 'abcdefghijklm'), (e: unknown) => isRackforgeError(e, 'LAB_INVALID'));
  });
});

// ---------------------------------------------------------------------------------------
// The argv against the real qemu-system-x86_64, paused (the argv has -S), in a user + network namespace of
// its own whose only route is multicast on lo: nothing can leave the machine.

class TestQmp {
  private buffer = '';
  private readonly waiting: Array<(msg: Record<string, unknown>) => void> = [];
  private readonly queued: Array<Record<string, unknown>> = [];
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const msg = JSON.parse(this.buffer.slice(0, nl)) as Record<string, unknown>;
        this.buffer = this.buffer.slice(nl + 1);
        if ('event' in msg) continue;
        const w = this.waiting.shift();
        if (w) w(msg); else this.queued.push(msg);
      }
    });
  }

  static async connect(path: string): Promise<TestQmp> {
    const socket = createConnection(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const qmp = new TestQmp(socket);
    const greeting = await qmp.next();
    assert.ok('QMP' in greeting, JSON.stringify(greeting));
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  private next(): Promise<Record<string, unknown>> {
    const q = this.queued.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no QMP answer in 5 s')), 5000);
      this.waiting.push((m) => { clearTimeout(timer); resolve(m); });
    });
  }

  async execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
    const answer = await this.next();
    if ('error' in answer) throw new Error(`${command}: ${JSON.stringify(answer['error'])}`);
    return answer['return'] as T;
  }

  async hmp(line: string): Promise<string> {
    return this.execute<string>('human-monitor-command', { 'command-line': line });
  }

  /** Each -device without an id: its type and the properties asked for. */
  async anonymousDevices(props: string[]): Promise<Array<Record<string, unknown>>> {
    const children = await this.execute<Array<{ name: string; type: string }>>('qom-list', { path: '/machine/peripheral-anon' });
    const out: Array<Record<string, unknown>> = [];
    for (const c of children.filter((x) => x.type.startsWith('child<')).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
      const dev: Record<string, unknown> = { type: c.type.slice(6, -1) };
      for (const p of props) dev[p] = await this.execute('qom-get', { path: `/machine/peripheral-anon/${c.name}`, property: p }).catch(() => undefined);
      out.push(dev);
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

const NAMESPACE_PRELUDE = 'ip link set lo up\nip link set lo multicast on\nip route add 224.0.0.0/4 dev lo\n';

/** Starts `qemu-system-x86_64 argv` as the last command of a namespace script, checks it over QMP, then kills it. */
async function withQemu(dir: string, setup: string, argv: string[], qmpSocket: string, check: (qmp: TestQmp) => Promise<void>): Promise<void> {
  const log = join(dir, 'qemu.log');
  const script = `${NAMESPACE_PRELUDE}${setup}exec qemu-system-x86_64 ${argv.map(shellQuote).join(' ')} 2>>${shellQuote(log)}\n`;
  const abort = new AbortController();
  // Set from the promise callback, which flow analysis does not follow: hence an object.
  const ended: { result?: NetnsResult } = {};
  const run = runInNetns(script, { timeoutMs: 60_000, signal: abort.signal }).then((r) => (ended.result = r));
  let final: NetnsResult;
  const why = async (): Promise<string> => `${ended.result ? `exited ${ended.result.code}: ${ended.result.stderr}` : 'running'}\n${existsSync(log) ? await readFile(log, 'utf8') : ''}`;
  try {
    const until = Date.now() + 20_000;
    while (!existsSync(qmpSocket) && ended.result === undefined && Date.now() < until) await sleep(50);
    assert.ok(existsSync(qmpSocket), `no QMP socket: ${await why()}`);
    await sleep(1000);
    assert.equal(ended.result, undefined, `QEMU did not stay up: ${await why()}`);
    const qmp = await TestQmp.connect(qmpSocket);
    try {
      await check(qmp);
    } finally {
      qmp.close();
    }
  } finally {
    abort.abort();
    final = await run;
  }
  assert.equal(final.killed, true, 'QEMU ran until the test killed it');
}

describe('the argv in the real qemu-system-x86_64 (paused, in a namespace)', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rf-argv-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('a BIOS node from labs/quickstart.yaml: its name, size, NIC, disk and boot order as QEMU sees them', async () => {
    const lab = readLabFile('labs/quickstart.yaml');
    const n = lab.nodes[0]!;
    const p = paths(dir, n.disks.map((d) => d.name));
    // Raw sparse files, as the runner makes them: no qemu-img.
    await writeFile(p.disks[0]!, '');
    await truncate(p.disks[0]!, n.disks[0]!.sizeBytes);
    await withQemu(dir, '', buildNodeArgv(n, lab.networks, p, HOST), p.qmpSocket, async (qmp) => {
      assert.deepEqual(await qmp.execute('query-status'), { status: 'prelaunch', singlestep: false, running: false });
      assert.deepEqual(await qmp.execute('query-name'), { name: 'node1' });
      assert.equal((await qmp.execute<unknown[]>('query-cpus-fast')).length, 1);
      assert.equal((await qmp.execute<{ 'base-memory': number }>('query-memory-size-summary'))['base-memory'], 512 * 2 ** 20);
      const network = await qmp.hmp('info network');
      assert.match(network, /model=e1000,macaddr=52:54:00:10:00:01/);
      assert.match(network, /nic0: .*mcast=239\.255\.10\.1:10001/);
      const block = await qmp.execute<Array<{ device: string; inserted?: { file: string; ro: boolean; drv: string } }>>('query-block');
      assert.deepEqual(block.map((b) => [b.device, b.inserted?.file, b.inserted?.ro, b.inserted?.drv]), [['disk0', p.disks[0], false, 'raw']]);
      assert.deepEqual(await qmp.anonymousDevices(['bootindex', 'mac', 'serial']), [
        { type: 'pvpanic', bootindex: undefined, mac: undefined, serial: undefined },
        { type: 'e1000', bootindex: 1, mac: '52:54:00:10:00:01', serial: undefined },
        { type: 'virtio-blk-pci', bootindex: 2, mac: undefined, serial: 'disk0' },
      ]);
    });
  });

  it('a UEFI node from labs/two-racks.yaml: OVMF flash, virtio-net without ROM, network then disk', async () => {
    const lab = readLabFile('labs/two-racks.yaml');
    const n = lab.nodes.find((x) => x.firmware === 'uefi')!;
    const vars = join(dir, 'OVMF_VARS.fd');
    await copyFile('/usr/share/OVMF/OVMF_VARS.fd', vars);
    const p = paths(dir, n.disks.map((d) => d.name), vars);
    for (const [i, d] of n.disks.entries()) { await writeFile(p.disks[i]!, ''); await truncate(p.disks[i]!, d.sizeBytes); }
    await withQemu(dir, '', buildNodeArgv(n, lab.networks, p, HOST), p.qmpSocket, async (qmp) => {
      assert.equal((await qmp.execute<{ status: string }>('query-status')).status, 'prelaunch');
      assert.deepEqual(await qmp.execute('query-name'), { name: n.name });
      assert.equal((await qmp.execute<{ 'base-memory': number }>('query-memory-size-summary'))['base-memory'], n.memoryMiB * 2 ** 20);
      const block = await qmp.execute<Array<{ device: string; inserted?: { file: string; ro: boolean } }>>('query-block');
      assert.deepEqual(block.map((b) => [b.device, b.inserted?.file, b.inserted?.ro]).sort(), [
        ['disk0', p.disks[0], false], ['pflash0', HOST.ovmfCode, true], ['pflash1', vars, false],
      ]);
      assert.match(await qmp.hmp('info network'), /model=virtio-net-pci,macaddr=52:54:00:20:02:01[^]*mcast=239\.255\.20\.1:10001/);
      assert.deepEqual(await qmp.anonymousDevices(['bootindex', 'romfile']), [
        { type: 'pvpanic', bootindex: undefined, romfile: undefined },
        { type: 'virtio-net-pci', bootindex: 1, romfile: '' },
        { type: 'virtio-blk-pci', bootindex: 2, romfile: '' },
      ]);
    });
  });

  it('the bridge: a tap made in the namespace joins the provisioning hub', async () => {
    const lab = readLabFile('labs/quickstart.yaml');
    const tap = tapName(lab.name, 'provisioning');
    const qmpSocket = join(dir, 'bridge.qmp');
    const argv = buildBridgeArgv([{ tap, network: lab.networks[0]! }], qmpSocket);
    await withQemu(dir, `ip tuntap add dev ${tap} mode tap\nip link set ${tap} up\n`, argv, qmpSocket, async (qmp) => {
      assert.equal((await qmp.execute<{ status: string }>('query-status')).status, 'running');
      const network = await qmp.hmp('info network');
      assert.match(network, /^hub 0\r?\n/);
      assert.match(network, /hp-tap0: tap0: .*type=tap,ifname=rf-provisioning/);
      assert.match(network, /hp-mc-provisioning: mc-provisioning: .*mcast=239\.255\.10\.1:10001/);
    });
  });
});
