// Boots COUNT synthetic PXE nodes on a lab's multicast hub and prints one JSON summary line.
// Run inside the test's network namespace: the hub lives on its loopback.
//   synthetic-run.ts GROUP PORT COUNT MAC_PREFIX [key=value...]
//     uefi=N       the last N nodes are UEFI (default 0)
//     fetch=all|kernel|config
//     spread=MS    power-on jitter (default 1000)
//     overall=MS   per-node limit (default 50000)
import { createLogger } from '../../lib/log.ts';
import { openHubPort } from '../../simulator/hub-port.ts';
import { createSyntheticFleet, type SyntheticNodeSpec } from '../../simulator/synthetic/synthetic-fleet.ts';

const [group = '239.255.60.1', portText = '16001', countText = '50', prefix = '52:54:10:00', ...extra] = process.argv.slice(2);
const opts = Object.fromEntries(extra.map((kv) => kv.split('=') as [string, string]));
const count = Number(countText);
const uefi = Number(opts['uefi'] ?? 0);
const hex = (n: number): string => n.toString(16).padStart(2, '0');
const nodes: SyntheticNodeSpec[] = Array.from({ length: count }, (_, i) => ({
  name: `syn${String(i + 1).padStart(3, '0')}`,
  mac: `${prefix}:${hex(((i + 1) >> 8) & 255)}:${hex((i + 1) & 255)}`,
  firmware: i >= count - uefi ? 'uefi' : 'bios',
}));

const signal = AbortSignal.timeout(Number(opts['overall'] ?? 50_000) + 10_000);
const port = await openHubPort({ group, port: Number(portText), signal });
const fleet = createSyntheticFleet({
  port, nodes,
  startSpreadMs: Number(opts['spread'] ?? 1000),
  fetch: (opts['fetch'] as 'all' | 'kernel' | 'config' | undefined) ?? 'all',
  timers: { overallMs: Number(opts['overall'] ?? 50_000) },
  log: createLogger({ level: process.env['SYNTHETIC_DEBUG'] ? 'debug' : 'warn' }),
});
const t0 = Date.now();
fleet.start();
const result = await fleet.done();
const elapsedMs = Date.now() - t0;
await fleet.close();
await port.close();
const stages: Record<string, number> = {};
for (const s of result) stages[s.stage] = (stages[s.stage] ?? 0) + 1;
console.log(JSON.stringify({
  elapsedMs, stages, port: port.stats, receiveBufferBytes: port.receiveBufferBytes, fleet: fleet.stats(),
  nodes: result.map((s) => ({
    name: s.name, mac: s.mac, stage: s.stage, ip: s.ip, bootFile: s.bootFile, config: s.config, error: s.error,
    ms: s.finishedAt !== undefined && s.startedAt !== undefined ? s.finishedAt - s.startedAt : undefined,
    events: s.events.map((e) => `${e.stage}${e.detail ? ` ${e.detail}` : ''}`),
  })),
}));
