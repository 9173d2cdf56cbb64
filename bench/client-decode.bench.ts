// What decoding a 10,000-system get_systems answer costs a client using the project's codec,
// and where that time goes (not a test). Loads N systems into an in-memory provisioner through
// its InventoryService, fetches get_systems over HTTP exactly as a client does, then decodes
// the body 3 times (median) and once more under the V8 profiler.
//
//   node --import=tsx bench/client-decode.bench.ts [N]
import { Session } from 'node:inspector/promises';
import { startProvisioner } from '../cli/compose-provisioner.ts';
import { silentLogger } from '../lib/log.ts';
import { decodeMethodResponse, encodeMethodCall } from '../provisioner/protocol/xmlrpc.ts';
import { summarise, type CpuProfile } from './cpu-profile-summary.ts';
import { sourceFingerprint } from './source-fingerprint.ts';
import { seedBenchProfile } from './bench-fixtures.ts';

const N = Number(process.argv[2] ?? 10_000);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  const running = await startProvisioner({ httpPort: 0, adminPassword: 'bench', log: silentLogger });
  let body: Buffer;
  try {
    const inv = running.inventory;
    seedBenchProfile(inv);
    for (let i = 0; i < N; i++) {
      const hex = (x: number) => (x & 0xff).toString(16).padStart(2, '0');
      const h = inv.newHandle('system');
      inv.modify('system', h, 'name', `node-${String(i).padStart(5, '0')}`);
      inv.modify('system', h, 'profile', 'bench-profile');
      inv.modify('system', h, 'hostname', `node-${String(i).padStart(5, '0')}`);
      inv.modify('system', h, 'modify_interface', {
        'mac_address-eth0': `52:54:00:${hex(i >> 16)}:${hex(i >> 8)}:${hex(i)}`,
        'ip_address-eth0': `10.${16 + ((i + 1) >> 16)}.${((i + 1) >> 8) & 0xff}.${(i + 1) & 0xff}`,
        'dns_name-eth0': `node-${i}.bench.example`,
      });
      inv.save('system', h);
    }
    const res = await fetch(running.apiUrl, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeMethodCall('get_systems', []) });
    body = Buffer.from(await res.arrayBuffer());
  } finally {
    await running.close();
  }
  const src = sourceFingerprint();
  console.log(`get_systems over ${N} systems: ${(body.length / 1e6).toFixed(1)} MB; server sources (${src.files} files) sha256 ${src.sha256}`);

  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const out = decodeMethodResponse(body, { maxBytes: 1 << 30 });
    times.push(performance.now() - t);
    if (!('value' in out) || !Array.isArray(out.value) || out.value.length !== N) throw new Error('get_systems did not decode to the systems');
  }
  times.sort((a, b) => a - b);
  console.log(`decodeMethodResponse: median ${times[1]!.toFixed(0)} ms of 3 (${times.map((t) => t.toFixed(0)).join(', ')} ms), ${(body.length / 1e6 / (times[1]! / 1000)).toFixed(1)} MB/s`);

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const startUs = nowUs();
  decodeMethodResponse(body, { maxBytes: 1 << 30 });
  const endUs = nowUs();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  console.log(summarise(profile as unknown as CpuProfile, [{ name: 'decodeMethodResponse, profiled', startUs, endUs }], 20).join('\n'));
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
