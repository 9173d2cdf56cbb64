// The composition root of a running lab, run inside the lab's own user + network namespace
// (the owner starts it with `unshare -Urn`): the multicast hubs on the namespace's loopback,
// a tap for the provisioner bridged into its hub by a QEMU that runs no machine, rackforge's
// provisioner on that tap, a capture per network, the QEMU machines and the synthetic PXE
// clients, and the control socket the CLI talks to. It reaches the host only through unix
// sockets in the state folder and the IPC channel to its owner.
import { mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { RackforgeError } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from './compose-provisioner.ts';
import { parseArgs, type OptionSpec } from './args.ts';
import type { CliIo } from './io.ts';
import { probeKvm, type Accel } from '../simulator/accel-probe.ts';
import { startHubCapture, type HubCapture } from '../simulator/hub-capture.ts';
import { labRouterMac, startLabRouter } from '../simulator/lab-router.ts';
import { openHubPort, type FramePort } from '../simulator/hub-port.ts';
import { serveLabControl, type LabController, type LabNodeStatus, type LabStatus, type BootProgress } from '../simulator/lab-control.ts';
import { readLabFile, parseNodeDefinition, syntheticNodes, type LabDefinition, type LabNode } from '../simulator/lab-definition.ts';
import { seedLabInventory, seedNodeSystem } from '../simulator/lab-inventory.ts';
import { labPaths, type LabPaths } from '../simulator/lab-paths.ts';
import { buildBridgeArgv, tapName } from '../simulator/qemu-argv.ts';
import { QemuNode, type PowerAction } from '../simulator/qemu-node.ts';
import { waitForSocket } from '../simulator/qmp-client.ts';
import { createSyntheticFleet, type SyntheticFleet } from '../simulator/synthetic/synthetic-fleet.ts';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd';

/** Messages between the owner (host namespace) and the runner (lab namespace). */
export type RunnerMessage =
  | { type: 'expose'; id: number; name: string; socket: string; port?: number }
  | { type: 'unexpose'; name: string }
  | { type: 'ready'; status: LabStatus }
  | { type: 'failed'; message: string };
export type OwnerMessage =
  | { type: 'exposed'; id: number; port?: number; error?: string }
  | { type: 'down' };

export const RUNNER_OPTIONS: OptionSpec[] = [
  { flag: 'state-dir', key: 'state_dir', kind: 'string', metavar: 'DIR' },
  { flag: 'file', key: 'file', kind: 'string', metavar: 'FILE' },
  { flag: 'captures', key: 'captures', kind: 'string', metavar: 'DIR' },
  { flag: 'accel', key: 'accel', kind: 'string', choices: ['auto', 'tcg', 'kvm'] },
  { flag: 'api-port', key: 'api_port', kind: 'string' },
  { flag: 'owner-pid', key: 'owner_pid', kind: 'string' },
];

async function sh(cmd: string, args: string[]): Promise<void> {
  const r = await execa(cmd, args, { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new RackforgeError('LAB_HOST', `${cmd} ${args.join(' ')}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
}

/** Where the KVM probe's answer is kept between labs ($XDG_CACHE_HOME, else ~/.cache). */
function accelCacheFile(): string {
  const base = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'rackforge', 'accel-probe.json');
}

/** The first unused MAC from 52:54:00:a0:00:00 up (QEMU's prefix), for a node added without one. */
function freeMac(used: Set<string>): string {
  for (let n = 0; n < 0x600000; n++) {
    const v = 0xa00000 + n;
    const mac = `52:54:00:${[(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
    if (!used.has(mac)) return mac;
  }
  throw new RackforgeError('LAB_HOST', 'no free MAC address left');
}

class Exposer {
  private next = 1;
  private readonly waiting = new Map<number, (port: number | undefined) => void>();
  constructor(private readonly log: Logger) {
    process.on('message', (m: OwnerMessage) => {
      if (m.type === 'exposed') { this.waiting.get(m.id)?.(m.port); this.waiting.delete(m.id); if (m.error) log.warn('owner could not forward a port', { error: m.error }); }
    });
  }
  /** Asks the owner for a localhost port forwarded to `socket`; undefined without an owner. */
  expose(name: string, socket: string, port?: number): Promise<number | undefined> {
    if (!process.send) return Promise.resolve(undefined);
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      process.send!({ type: 'expose', id, name, socket, ...(port !== undefined ? { port } : {}) } satisfies RunnerMessage);
    });
  }
  unexpose(name: string): void {
    process.send?.({ type: 'unexpose', name } satisfies RunnerMessage);
  }
}

interface NodeEntry { qemu: QemuNode; consolePort?: number }

export class LabRunner implements LabController {
  private provisioner: RunningProvisioner | undefined;
  private bridge: ResultPromise | undefined;
  private control: Server | undefined;
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly captures = new Map<string, HubCapture>();
  private readonly ports: FramePort[] = [];
  private readonly fleets: SyntheticFleet[] = [];
  private accel: Accel = 'tcg';
  private accelReason = '';
  private apiPort: number | undefined;
  private downing: Promise<void> | undefined;
  private readonly exposer: Exposer;

  constructor(
    private lab: LabDefinition,
    private readonly paths: LabPaths,
    private readonly o: { capturesDir: string; accel: 'auto' | Accel; apiPort?: number; ownerPid: number; log: Logger; onDown: () => void },
  ) {
    this.exposer = new Exposer(o.log);
  }

  async up(): Promise<LabStatus> {
    const { lab, paths, log } = { lab: this.lab, paths: this.paths, log: this.o.log };
    mkdirSync(paths.root, { recursive: true });
    writeFileSync(paths.definition, JSON.stringify(lab, null, 2));
    await this.setupNetwork();
    if (this.o.accel === 'auto') {
      const probed = await probeKvm({ cacheFile: accelCacheFile() });
      this.accel = probed.accel;
      this.accelReason = probed.reason;
    } else {
      this.accel = this.o.accel;
      this.accelReason = `asked for with --accel ${this.o.accel}`;
    }
    log.info(`lab ${lab.name}: machines run under ${this.accel}`, { why: this.accelReason });

    const p = lab.provisioner;
    const tap = tapName(lab.name, p.network);
    const adminPassword = this.adminPassword();
    this.provisioner = await startProvisioner({
      dataDir: paths.provisionerData,
      host: '127.0.0.1',
      httpPort: 80,
      unixSocket: paths.apiSocket,
      adminPassword,
      // A lab's machines install once, then boot from their disks: nopxe turns netboot off.
      settings: { pxe_just_once: true },
      boot: {
        interface: tap,
        serverIp: p.address,
        dhcpRange: p.dhcpRange,
        ...(p.gateway ? { gateway: p.gateway } : {}),
        ...(p.domain ? { domain: p.domain } : {}),
        ...(p.dns.length > 0 ? { dnsServers: p.dns } : {}),
        tftpRoot: join(paths.provisionerData, 'tftpboot'),
        tftpPort: 69,
        dhcpPort: 67,
      },
      log,
    });
    const seeded = seedLabInventory(this.provisioner.inventory, lab);
    if (seeded.created.length > 0) log.info(`lab ${lab.name}: created ${seeded.created.join(', ')}`);

    // One hub socket per network for the capture and the IPv6 router: each socket on the group
    // gets its own copy of every frame. What the router sends loops back to it, so the capture
    // records it once, as it would from a separate socket.
    const monitors = new Map<string, FramePort>();
    const monitorPort = async (net: LabDefinition['networks'][number]): Promise<FramePort> => {
      let port = monitors.get(net.name);
      if (!port) {
        port = await openHubPort({ group: net.group, port: net.port, receiveBufferBytes: 16 << 20 });
        this.ports.push(port);
        monitors.set(net.name, port);
      }
      return port;
    };
    for (const net of lab.networks.filter((n) => n.capture)) {
      const port = await monitorPort(net);
      this.captures.set(net.name, startHubCapture({
        port,
        file: join(this.o.capturesDir, lab.name, `${net.name}.pcap`),
        ...(lab.capture.rotateBytes !== undefined ? { rotateBytes: lab.capture.rotateBytes } : {}),
        keep: lab.capture.keep,
      }));
    }

    // Each network's IPv6 "router": it tells booting machines there is no IPv6, so iPXE does not
    // wait ~13 s for it (simulator/lab-router.ts). A locally administered MAC per network.
    for (const [i, net] of lab.networks.entries()) {
      if (net.routerAdvertisements === false) continue;
      startLabRouter({ port: await monitorPort(net), mac: labRouterMac(i), network: net.name, log });
    }

    this.apiPort = await this.exposer.expose('api', paths.apiSocket, this.o.apiPort);
    this.control = await serveLabControl(this, paths.control);

    await Promise.all(lab.nodes.map((n) => this.addQemuNode(n)));
    await this.startSynthetic();
    return this.status({ syntheticDetail: false });
  }

  /** The provisioner's admin password for this lab: chosen once, kept 0600 in the state folder. */
  private adminPassword(): string {
    const file = join(this.paths.root, 'admin-password');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const pw = randomBytes(18).toString('base64url');
    writeFileSync(file, pw + '\n', { mode: 0o600 });
    return pw;
  }

  private async setupNetwork(): Promise<void> {
    const lab = this.lab;
    await sh('ip', ['link', 'set', 'lo', 'up']);
    await sh('ip', ['link', 'set', 'lo', 'multicast', 'on']);
    await sh('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
    const p = lab.provisioner;
    const net = lab.networks.find((n) => n.name === p.network)!;
    const tap = tapName(lab.name, net.name);
    await sh('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    // No IPv6 on the tap: the hub echoes our own frames back, which IPv6 duplicate address
    // detection would take for another host claiming our address.
    try { writeFileSync(`/proc/sys/net/ipv6/conf/${tap}/disable_ipv6`, '1'); } catch { /* no IPv6 in this kernel */ }
    await sh('ip', ['addr', 'add', `${p.address}/${net.subnet.prefix}`, 'dev', tap]);
    await sh('ip', ['link', 'set', tap, 'up']);
    const qmp = join(this.paths.root, 'bridge-qmp.sock');
    rmSync(qmp, { force: true });
    const bridge = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...buildBridgeArgv([{ tap, network: net }], qmp)], {
      stdin: 'ignore', stdout: { file: this.paths.bridgeLog, append: true }, stderr: { file: this.paths.bridgeLog, append: true }, reject: false,
    });
    this.bridge = bridge;
    let alive = true;
    void bridge.then((r) => {
      alive = false;
      if (!this.downing) this.o.log.error(`lab ${lab.name}: the hub bridge exited (${r.exitCode ?? r.signal}); the provisioner is cut off from the machines`);
    });
    await waitForSocket(qmp, { timeoutMs: 15_000, alive: () => alive });
  }

  private async addQemuNode(node: LabNode): Promise<LabNodeStatus> {
    const np = this.paths.node(node.name);
    mkdirSync(np.dir, { recursive: true });
    const qemu = new QemuNode({
      node,
      networks: () => this.lab.networks,
      paths: np,
      host: { accel: this.accel, ovmfCode: OVMF_CODE },
      ovmfVarsTemplate: OVMF_VARS,
      log: this.o.log,
    });
    const entry: NodeEntry = { qemu };
    this.nodes.set(node.name, entry);
    if (node.power.initial === 'on') await this.powerOn(entry);
    return this.nodeStatus(entry);
  }

  private async powerOn(entry: NodeEntry): Promise<void> {
    await entry.qemu.power('on');
    if (entry.consolePort === undefined) entry.consolePort = await this.exposer.expose(`console:${entry.qemu.name}`, this.paths.node(entry.qemu.name).serialSocket);
  }

  private async startSynthetic(): Promise<void> {
    const byNetwork = new Map<string, Array<{ name: string; mac: string; firmware: 'bios' | 'uefi' }>>();
    for (const g of this.lab.synthetic) {
      const list = byNetwork.get(g.network) ?? [];
      for (const s of syntheticNodes(g)) list.push({ ...s, firmware: g.firmware });
      byNetwork.set(g.network, list);
    }
    // A network's synthetic machines share one hub port: a socket each would get a copy of
    // every frame on the hub.
    for (const [network, nodes] of byNetwork) {
      const net = this.lab.networks.find((n) => n.name === network)!;
      const port = await openHubPort({ group: net.group, port: net.port, receiveBufferBytes: 16 << 20 });
      this.ports.push(port);
      const fleet = createSyntheticFleet({ port, nodes, log: this.o.log, startSpreadMs: Math.min(10_000, nodes.length * 20) });
      this.fleets.push(fleet);
      fleet.start();
    }
  }

  private bootProgress(macs: string[]): BootProgress | undefined {
    let newest: { at: number; progress: BootProgress } | undefined;
    for (const mac of macs) {
      const [e] = this.provisioner?.bootEvents({ mac, limit: 1 }) ?? [];
      if (e && (!newest || e.at > newest.at)) {
        newest = { at: e.at, progress: { kind: e.kind, detail: e.detail, at: new Date(e.at * 1000).toISOString(), ...(e.ip ? { ip: e.ip } : {}) } };
      }
    }
    return newest?.progress;
  }

  private nodeStatus(entry: NodeEntry): LabNodeStatus {
    const n = entry.qemu.definition;
    const np = this.paths.node(n.name);
    const boot = this.bootProgress(n.nics.map((x) => x.mac));
    return {
      kind: 'qemu',
      ...entry.qemu.status(),
      macs: n.nics.map((x) => x.mac),
      ...(n.rack ? { rack: n.rack } : {}),
      ...(n.datacentre ? { datacentre: n.datacentre } : {}),
      firmware: n.firmware,
      ...(entry.consolePort !== undefined ? { console: { port: entry.consolePort, socket: np.serialSocket } } : { }),
      serialLog: np.serialLog,
      qemuLog: np.qemuLog,
      ...(boot ? { boot } : {}),
    };
  }

  async status(o: { syntheticDetail: boolean }): Promise<LabStatus> {
    const lab = this.lab;
    const syn = this.fleets.flatMap((f) => f.status());
    const stages: Record<string, number> = {};
    for (const s of syn) stages[s.stage] = (stages[s.stage] ?? 0) + 1;
    return {
      lab: lab.name,
      file: lab.file,
      stateDir: this.paths.root,
      ownerPid: this.o.ownerPid,
      runnerPid: process.pid,
      accel: this.accel,
      accelReason: this.accelReason,
      api: this.apiPort !== undefined
        ? { url: `http://127.0.0.1:${this.apiPort}`, apiUrl: `http://127.0.0.1:${this.apiPort}/cobbler_api`, uiUrl: `http://127.0.0.1:${this.apiPort}/ui/` }
        : { url: `unix:${this.paths.apiSocket}`, apiUrl: `unix:${this.paths.apiSocket}:/cobbler_api`, uiUrl: `unix:${this.paths.apiSocket}:/ui/` },
      bootUrl: this.provisioner?.bootUrl ?? '',
      networks: lab.networks.map((n) => {
        const c = this.captures.get(n.name)?.status();
        return { name: n.name, group: n.group, port: n.port, subnet: `${n.subnet.address}/${n.subnet.prefix}`, ...(c ? { capture: c } : {}) };
      }),
      nodes: [...this.nodes.values()].map((e) => this.nodeStatus(e)),
      synthetic: {
        nodes: syn.length,
        stages,
        failed: syn.filter((s) => s.stage === 'failed').map((s) => ({ name: s.name, error: s.error ?? '' })),
        ...(o.syntheticDetail ? { detail: syn } : {}),
      },
    };
  }

  private entry(name: string): NodeEntry {
    const e = this.nodes.get(name);
    if (!e) throw new RackforgeError('LAB_UNKNOWN_NODE', `lab ${this.lab.name} has no machine '${name}' (have: ${[...this.nodes.keys()].join(', ') || 'none'})`);
    return e;
  }

  async power(name: string, action: PowerAction): Promise<LabNodeStatus> {
    const e = this.entry(name);
    if (action === 'on' || action === 'cycle') {
      if (action === 'cycle') await e.qemu.power('off');
      await this.powerOn(e);
    } else {
      try { await e.qemu.power(action); } catch (err) { throw new RackforgeError('LAB_NODE_STATE', (err as Error).message); }
    }
    return this.nodeStatus(e);
  }

  async addNode(definition: unknown): Promise<LabNodeStatus> {
    const def = (definition ?? {}) as Record<string, unknown>;
    if (Array.isArray(def['nics'])) {
      const used = new Set([...this.lab.nodes.flatMap((n) => n.nics.map((x) => x.mac)), ...this.lab.synthetic.flatMap((g) => syntheticNodes(g).map((s) => s.mac))]);
      for (const nic of def['nics'] as Array<Record<string, unknown>>) {
        if (nic && typeof nic === 'object' && nic['mac'] === undefined) { nic['mac'] = freeMac(used); used.add(nic['mac'] as string); }
      }
    }
    const node = parseNodeDefinition(def, this.lab, { file: `add-node` });
    this.lab = { ...this.lab, nodes: [...this.lab.nodes, node] };
    writeFileSync(this.paths.definition, JSON.stringify(this.lab, null, 2));
    if (this.provisioner && node.profile) seedNodeSystem(this.provisioner.inventory, { ...node, macs: node.nics.map((x) => x.mac) });
    return this.addQemuNode(node);
  }

  async removeNode(name: string): Promise<void> {
    const e = this.entry(name);
    await e.qemu.destroy();
    this.exposer.unexpose(`console:${name}`);
    this.nodes.delete(name);
    this.lab = { ...this.lab, nodes: this.lab.nodes.filter((n) => n.name !== name) };
    writeFileSync(this.paths.definition, JSON.stringify(this.lab, null, 2));
    rmSync(this.paths.node(name).dir, { recursive: true, force: true });
  }

  liveCapture(network: string, out: Writable): void {
    const c = this.captures.get(network);
    if (!c) {
      const known = this.lab.networks.map((n) => n.name);
      throw new RackforgeError('LAB_UNKNOWN_NETWORK', known.includes(network)
        ? `network '${network}' is not captured (capture: false in ${this.lab.file})`
        : `lab ${this.lab.name} has no network '${network}' (have: ${known.join(', ')})`);
    }
    c.addListener(out);
  }

  down(): Promise<void> {
    this.downing ??= this.teardown();
    return this.downing;
  }

  private async teardown(): Promise<void> {
    const log = this.o.log;
    log.info(`lab ${this.lab.name}: going down`);
    await Promise.all(this.fleets.map((f) => f.close().catch(() => undefined)));
    await Promise.all([...this.nodes.values()].map((e) => e.qemu.destroy().catch(() => undefined)));
    for (const c of this.captures.values()) await c.close();
    for (const p of this.ports) await p.close().catch(() => undefined);
    await this.provisioner?.close().catch((e: unknown) => log.warn('closing the provisioner', { error: String(e) }));
    this.bridge?.kill('SIGKILL');
    await this.bridge?.catch(() => undefined);
    await new Promise<void>((r) => (this.control ? this.control.close(() => r()) : r()));
    for (const f of [this.paths.control, this.paths.apiSocket, join(this.paths.root, 'bridge-qmp.sock')]) rmSync(f, { force: true });
    log.info(`lab ${this.lab.name}: down`);
    this.o.onDown();
  }
}

/** `rackforge lab __runner`: never typed by people; the owner starts it inside the namespace. */
export async function runLabRunner(argv: string[], io: CliIo): Promise<number> {
  const o = parseArgs(argv, RUNNER_OPTIONS, { command: 'lab __runner' }).options;
  const log = createLogger({ level: 'info', write: (l) => io.err(l) });
  const paths = labPaths(resolve(String(o['state_dir'])));
  const report = (m: RunnerMessage) => process.send?.(m);
  let runner: LabRunner | undefined;
  const finished = new Promise<void>((resolveDone) => {
    try {
      const lab = readLabFile(String(o['file']));
      runner = new LabRunner(lab, paths, {
        capturesDir: resolve(String(o['captures'])),
        accel: (o['accel'] as 'auto' | Accel | undefined) ?? 'auto',
        ...(o['api_port'] !== undefined ? { apiPort: Number(o['api_port']) } : {}),
        ownerPid: Number(o['owner_pid'] ?? process.ppid),
        log,
        onDown: () => resolveDone(),
      });
    } catch (e) {
      report({ type: 'failed', message: (e as Error).message });
      resolveDone();
    }
  });
  if (!runner) { await finished; leaveSoon(1); return 1; }
  const lab = runner;
  // Whatever ends the owner ends the lab: its IPC channel closing (kill -9 included), or a signal.
  process.on('disconnect', () => { void lab.down(); });
  process.on('SIGTERM', () => { void lab.down(); });
  process.on('SIGINT', () => { void lab.down(); });
  process.on('message', (m: OwnerMessage) => { if (m.type === 'down') void lab.down(); });
  try {
    const status = await lab.up();
    report({ type: 'ready', status });
  } catch (e) {
    log.error('lab up failed', { error: (e as Error).message });
    report({ type: 'failed', message: (e as Error).message });
    await lab.down();
    leaveSoon(1);
    return 1;
  }
  await finished;
  leaveSoon(0);
  return 0;
}

/**
 * The runner is a process of its own: once the lab is down, nothing may keep it alive (the IPC
 * channel would, and a stray handle must not hold the namespace open), so it drops the channel
 * and exits even if some handle lingers.
 */
function leaveSoon(code: number): void {
  if (process.connected) process.disconnect();
  setTimeout(() => process.exit(code), 1000).unref();
}

