// Where a DHCP lease's CPU goes on the server's main thread, piece by piece, without sockets
// (not a test). Builds N relayed DISCOVER/REQUEST pairs as perfdhcp sends them, then times, per
// DORA: decoding both requests, deciding both, encoding both replies, and committing each
// batch of 512 decisions (the lease and the two boot events) to a real SQLite store in a fresh
// directory, as dhcp-server.ts does. Each figure is the best of 5 runs over fresh lease tables.
//
//   node --import=tsx bench/dhcp-pieces.bench.ts [N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSubnet, type DhcpServerConfig } from '../provisioner/dhcp/dhcp-config.ts';
import { decideDhcp, type DhcpDecision, type DhcpDeps } from '../provisioner/dhcp/dhcp-decide.ts';
import { LeaseTable } from '../provisioner/dhcp/lease-table.ts';
import { BOOTREQUEST, decodeDhcp, encodeDhcp, type DhcpMessage } from '../provisioner/protocol/dhcp.ts';
import { SqliteStore } from '../provisioner/store/sqlite-store.ts';
import { sourceFingerprint } from './source-fingerprint.ts';

const N = Number(process.argv[2] ?? 20_000);
const RUNS = 5;
const BATCH = 512;

const config: DhcpServerConfig = {
  mode: 'full', serverIp: '10.77.0.1', httpBase: 'http://10.77.0.1:8080', unknownMachines: 'menu',
  offerHoldSeconds: 60, declineQuarantineSeconds: 3600,
  subnets: [makeSubnet({ cidr: '10.77.0.0/16', ranges: [['10.77.1.0', '10.77.255.254']], gateway: '10.77.0.1', dnsServers: [], leaseSeconds: 3600, interface: 'srv' })],
};

const macOf = (i: number): string => ['02', '00', (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]
  .map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0'))).join(':');

/** What perfdhcp -4 sends as a relay: giaddr, hops 1, a parameter request list. */
function request(type: 'DISCOVER' | 'REQUEST', i: number, ip?: string): Buffer {
  const m: DhcpMessage = {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 1, xid: i, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '10.77.0.2', chaddr: macOf(i), sname: '', file: '',
    options: {
      messageType: type, parameterRequestList: [1, 28, 2, 3, 15, 6, 12], other: [],
      ...(ip ? { requestedIp: ip, serverId: config.serverIp } : {}),
    },
  };
  return encodeDhcp(m);
}

const discovers = Array.from({ length: N }, (_, i) => request('DISCOVER', i + 1));
const rx = (data: Buffer) => ({ request: decodeDhcp(data), from: { address: '10.77.0.2', port: 67 }, port: 67, ifname: 'srv' });

function run(store: SqliteStore): Record<string, number> {
  const leases = new LeaseTable();
  const deps: DhcpDeps = { config, leases, machine: () => null, reservedFor: () => undefined };
  const t: Record<string, number> = { decode: 0, decide: 0, encode: 0, commit: 0 };
  const now = 1_800_000_000;
  const requests: Buffer[] = [];
  const decisions: DhcpDecision[] = [];
  const commit = (): void => {
    const s = performance.now();
    store.transaction(() => {
      for (const d of decisions) {
        for (const l of d.leases) store.putLease(l);
        if (d.event) store.appendBootEvent(d.event);
      }
    });
    decisions.length = 0;
    t['commit']! += performance.now() - s;
  };
  const step = (data: Buffer): DhcpDecision => {
    let s = performance.now();
    const r = rx(data);
    t['decode']! += performance.now() - s;
    s = performance.now();
    const d = decideDhcp(r, deps, now);
    t['decide']! += performance.now() - s;
    s = performance.now();
    if (d.reply) encodeDhcp(d.reply.message);
    t['encode']! += performance.now() - s;
    decisions.push(d);
    if (decisions.length >= BATCH) commit();
    return d;
  };
  for (const data of discovers) {
    const d = step(data);
    requests.push(request('REQUEST', d.reply!.message.xid, d.reply!.message.yiaddr));
  }
  for (const data of requests) {
    const d = step(data);
    if (d.reply?.message.options.messageType !== 'ACK') throw new Error(`expected an ACK, got ${d.reply?.message.options.messageType ?? 'nothing'}`);
  }
  commit();
  return t;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'rf-dhcp-pieces-'));
  try {
    const best: Record<string, number> = {};
    for (let r = 0; r < RUNS; r++) {
      const store = SqliteStore.open(join(dir, `run${r}`));
      const t = run(store);
      store.close();
      for (const [k, v] of Object.entries(t)) best[k] = Math.min(best[k] ?? Infinity, v);
    }
    const total = Object.values(best).reduce((a, b) => a + b, 0);
    console.log(`DHCP pieces: ${N} relayed DORAs, best of ${RUNS}; sources ${sourceFingerprint().sha256.slice(0, 16)}`);
    console.log('| piece | µs per DORA |');
    console.log('| --- | ---: |');
    for (const [k, v] of Object.entries(best)) console.log(`| ${k} | ${((v * 1000) / N).toFixed(1)} |`);
    console.log(`| total | ${((total * 1000) / N).toFixed(1)} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
