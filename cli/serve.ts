// `rackforge serve` and `rackforge start`: read options and environment, start the
// provisioner, print where it is, and run until SIGINT/SIGTERM.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveDataDir } from './session.ts';
import { RackforgeError } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import { parseArgs, type OptionSpec } from './args.ts';
import { startProvisioner, type ProvisionerBootOptions, type RunningProvisioner } from './compose-provisioner.ts';
import { parseRangeSpec, parseSubnetSpec } from '../provisioner/dhcp/dhcp-config.ts';
import type { CliIo } from './io.ts';

const SERVE_OPTIONS: OptionSpec[] = [
  { flag: 'data', key: 'data', kind: 'string', metavar: 'DIR', help: 'data directory (store, shared secret); default $RACKFORGE_DATA or ~/.local/share/rackforge' },
  { flag: 'memory', key: 'memory', kind: 'boolean', help: 'keep the inventory in memory only (lost on exit)' },
  { flag: 'host', key: 'host', kind: 'string', metavar: 'ADDR', help: 'address to listen on (default 127.0.0.1)' },
  { flag: 'http-port', key: 'http_port', kind: 'string', metavar: 'N', help: 'HTTP port for /cobbler_api and boot files (default 5080; 0 = any free port)' },
  { flag: 'xmlrpc-port', key: 'xmlrpc_port', kind: 'string', metavar: 'N', help: "also serve XML-RPC on Cobbler's own port, e.g. 25151" },
  { flag: 'https-port', key: 'https_port', kind: 'string', metavar: 'N', help: 'also serve over TLS on this port (needs --tls-cert and --tls-key)' },
  { flag: 'tls-cert', key: 'tls_cert', kind: 'string', metavar: 'FILE', help: 'PEM certificate (chain) for --https-port' },
  { flag: 'tls-key', key: 'tls_key', kind: 'string', metavar: 'FILE', help: 'PEM private key for --https-port' },
  { flag: 'durable-commits', key: 'durable', kind: 'boolean', help: 'fsync every store commit, so answered writes survive a power cut (saves are ~5x slower)' },
  { flag: 'require-auth-for-reads', key: 'auth_reads', kind: 'boolean', help: 'close the read methods Cobbler leaves open (get_*, find_*, get_settings) to callers without a token' },
  { flag: 'interface', key: 'interface', kind: 'string', metavar: 'IF', group: 'network boot', help: 'serve DHCP on this interface (it must carry --server-ip)' },
  { flag: 'server-ip', key: 'server_ip', kind: 'string', metavar: 'A', group: 'network boot', help: 'boot server address: next-server, TFTP on A:69, boot URLs' },
  { flag: 'dhcp-range', key: 'dhcp_range', kind: 'string', metavar: 'FIRST,LAST', group: 'network boot', help: "dynamic pool on the interface's subnet" },
  { flag: 'gateway', key: 'gateway', kind: 'string', metavar: 'G', group: 'network boot', help: 'default router handed to DHCP clients' },
  { flag: 'domain', key: 'domain', kind: 'string', metavar: 'D', group: 'network boot', help: 'domain name handed to DHCP clients' },
  { flag: 'dns', key: 'dns', kind: 'list', metavar: 'A[,A…]', group: 'network boot', help: 'DNS servers handed to DHCP clients' },
  { flag: 'lease-time', key: 'lease_time', kind: 'string', metavar: 'SECONDS', group: 'network boot', help: 'DHCP lease time (default 3600)' },
  { flag: 'proxy-dhcp', key: 'proxy_dhcp', kind: 'boolean', group: 'network boot', help: 'ProxyDHCP (ports 67 and 4011): boot information only, another server hands out addresses' },
  { flag: 'subnet', key: 'subnet', kind: 'list', metavar: 'CIDR,FIRST,LAST[,GW]', group: 'network boot', help: 'a subnet behind a DHCP relay (repeatable)' },
  { flag: 'unknown-machines', key: 'unknown_machines', kind: 'string', choices: ['menu', 'ignore'], group: 'network boot', help: 'MACs not in the inventory: boot the default menu (default) or get no answer' },
  { flag: 'tftp-root', key: 'tftp_root', kind: 'string', metavar: 'DIR', group: 'network boot', help: 'extra files served over TFTP (default DATA/tftpboot)' },
  { flag: 'tftp-port', key: 'tftp_port', kind: 'string', metavar: 'N', group: 'network boot', help: 'TFTP port (default 69)' },
  { flag: 'export-tftp-dir', key: 'export_tftp_dir', kind: 'string', metavar: 'DIR', group: 'network boot', help: 'sync also writes the generated TFTP files here (for your own tftpd)' },
  { flag: 'dhcp-port', key: 'dhcp_port', kind: 'string', metavar: 'N', group: 'network boot', help: 'DHCP server port (default 67; for tests)' },
  { flag: 'log-level', key: 'log_level', kind: 'string', choices: ['debug', 'info', 'warn', 'error'], help: 'log verbosity (default info)' },
  { flag: 'help', key: 'help', kind: 'boolean', short: 'h', help: 'show this help' },
];

function port(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new RackforgeError('CLI_USAGE', `--${flag} must be a port number 0-65535, got '${text}'`);
  return Number(text);
}

function readPem(path: unknown, flag: string): string {
  if (typeof path !== 'string') throw new RackforgeError('CLI_USAGE', `--https-port needs --${flag} FILE`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new RackforgeError('CLI_USAGE', `--${flag} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

function httpsOption(o: Record<string, unknown>): { https?: { port: number; cert: string; key: string } } {
  if (o.https_port === undefined) {
    if (o.tls_cert !== undefined || o.tls_key !== undefined) throw new RackforgeError('CLI_USAGE', '--tls-cert and --tls-key are used with --https-port');
    return {};
  }
  return { https: { port: port(o.https_port as string, 0, 'https-port'), cert: readPem(o.tls_cert, 'tls-cert'), key: readPem(o.tls_key, 'tls-key') } };
}

function listOf(v: unknown): string[] {
  return Array.isArray(v) ? v.flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter((x) => x !== '') : [];
}

/** The network boot options; none of them given means no DHCP/TFTP (the API alone). */
function bootOption(o: Record<string, unknown>, dataDir: string | undefined): { boot?: ProvisionerBootOptions } {
  const given = ['interface', 'server_ip', 'dhcp_range', 'gateway', 'domain', 'dns', 'lease_time', 'proxy_dhcp', 'subnet', 'unknown_machines', 'tftp_root', 'tftp_port', 'dhcp_port']
    .filter((k) => o[k] !== undefined);
  if (given.length === 0) return {};
  if (typeof o.server_ip !== 'string') throw new RackforgeError('CLI_USAGE', `--${given[0]!.replace(/_/g, '-')} needs --server-ip A (the boot server's address)`);
  if (o.interface === undefined && (o.dhcp_range !== undefined || o.proxy_dhcp !== undefined)) {
    throw new RackforgeError('CLI_USAGE', '--dhcp-range and --proxy-dhcp need --interface IF (the interface DHCP is served on)');
  }
  if (o.proxy_dhcp === true && o.dhcp_range !== undefined) throw new RackforgeError('CLI_USAGE', '--proxy-dhcp hands out no addresses: drop --dhcp-range');
  const lease = o.lease_time === undefined ? undefined : Number(o.lease_time);
  if (lease !== undefined && !(Number.isInteger(lease) && lease >= 10)) throw new RackforgeError('CLI_USAGE', `--lease-time must be whole seconds, at least 10, got '${String(o.lease_time)}'`);
  const dns = listOf(o.dns);
  const defaults = { ...(dns.length ? { dnsServers: dns } : {}), ...(typeof o.domain === 'string' ? { domain: o.domain } : {}), ...(lease ? { leaseSeconds: lease } : {}) };
  return {
    boot: {
      serverIp: o.server_ip,
      ...(typeof o.interface === 'string' ? { interface: o.interface } : {}),
      ...(typeof o.dhcp_range === 'string' ? { dhcpRange: parseRangeSpec(o.dhcp_range) } : {}),
      ...(typeof o.gateway === 'string' ? { gateway: o.gateway } : {}),
      ...defaults,
      ...(o.proxy_dhcp === true ? { proxyDhcp: true } : {}),
      ...(o.subnet !== undefined ? { extraSubnets: (o.subnet as string[]).map((s) => parseSubnetSpec(s, defaults)) } : {}),
      ...(o.unknown_machines === 'ignore' || o.unknown_machines === 'menu' ? { unknownMachines: o.unknown_machines } : {}),
      ...(typeof o.tftp_root === 'string' ? { tftpRoot: resolve(o.tftp_root) } : dataDir ? { tftpRoot: join(dataDir, 'tftpboot') } : {}),
      tftpPort: port(o.tftp_port as string | undefined, 69, 'tftp-port'),
      dhcpPort: port(o.dhcp_port as string | undefined, 67, 'dhcp-port'),
    },
  };
}

/**
 * Resolves on SIGINT/SIGTERM. Under `npx`/`npm exec` also when npm goes away: npm exec does
 * not pass SIGTERM on to its child, and a server must not outlive the command that started it.
 */
function waitForSignal(underNpm: boolean): Promise<string> {
  return new Promise((res) => {
    const parent = process.ppid;
    const watch = underNpm ? setInterval(() => { if (process.ppid !== parent) done('parent exited'); }, 500) : undefined;
    watch?.unref();
    const done = (why: string) => {
      if (watch) clearInterval(watch);
      process.off('SIGINT', onInt); process.off('SIGTERM', onTerm);
      res(why);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

async function serveUntilSignal(argv: string[], io: CliIo, command: string): Promise<number> {
  const parsed = parseArgs(argv, SERVE_OPTIONS, { command });
  const o = parsed.options;
  if (o.help) {
    io.out(`usage: rackforge ${command} [options]`);
    for (const s of SERVE_OPTIONS) io.out(`  --${s.flag}${s.metavar ? ' ' + s.metavar : ''}  ${s.help ?? ''}`);
    return 0;
  }
  const dataDir = o.memory ? undefined : (typeof o.data === 'string' ? resolve(o.data) : resolveDataDir(undefined, io.env));
  const log = createLogger({ level: (o.log_level as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'info', write: (l) => io.err(l) });
  const running: RunningProvisioner = await startProvisioner({
    ...(dataDir ? { dataDir } : {}),
    host: typeof o.host === 'string' ? o.host : '127.0.0.1',
    httpPort: port(o.http_port as string | undefined, 5080, 'http-port'),
    ...(o.xmlrpc_port !== undefined ? { xmlrpcPort: port(o.xmlrpc_port as string, 25151, 'xmlrpc-port') } : {}),
    ...(io.env.RACKFORGE_ADMIN_PASSWORD ? { adminPassword: io.env.RACKFORGE_ADMIN_PASSWORD } : {}),
    ...(o.auth_reads ? { settings: { auth_required_for_reads: true } } : {}),
    ...(o.durable ? { durableCommits: true } : {}),
    ...httpsOption(o),
    ...bootOption(o, dataDir),
    ...(typeof o.export_tftp_dir === 'string' ? { exportTftpDir: resolve(o.export_tftp_dir) } : {}),
    log,
  });
  if (running.generatedPassword) {
    io.out(`created admin user 'cobbler' with password: ${running.generatedPassword}`);
    io.out('(shown once; set RACKFORGE_ADMIN_PASSWORD on first start to choose it)');
  }
  io.out(`store: ${dataDir ? join(dataDir, 'rackforge.db') : 'in memory'}`);
  io.out(`Cobbler API: ${running.apiUrl}`);
  io.out(`web UI: ${running.uiUrl}`);
  if (running.httpsUrl) io.out(`Cobbler API (TLS): ${running.httpsUrl}/cobbler_api`);
  if (running.xmlrpcUrl) io.out(`Cobbler API (XML-RPC port): ${running.xmlrpcUrl}/`);
  if (running.bootUrl) io.out(`boot files: ${running.bootUrl}/ (TFTP on ${running.tftpAddress})`);
  io.out(`rackforge listening on ${running.url}`);
  const sig = await waitForSignal(io.env.npm_command === 'exec');
  io.err(`${sig}: shutting down`);
  await running.close();
  return 0;
}

export function runServe(argv: string[], io: CliIo): Promise<number> {
  return serveUntilSignal(argv, io, 'serve');
}

/** The main job: the quickstart lab provisioned end to end (cli/start.ts). */
export async function runStart(argv: string[], io: CliIo): Promise<number> {
  return (await import('./start.ts')).runStart(argv, io);
}
