// Rough figures for the SQLite store (not a test): node --import=tsx provisioner/store/sqlite-store.bench.ts [count] [bytes]
import fs from 'node:fs';
import os from 'node:os';
import { SqliteStore } from '../provisioner/store/sqlite-store.ts';
import { makeBulkySystem } from '../provisioner/store/store-fixtures.ts';

const count = Number(process.argv[2] ?? 10_000);
const bytes = Number(process.argv[3] ?? 2048);
const runs = 5;

function best(label: string, n: number, fn: () => void): void {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const min = times[0]!;
  const median = times[Math.floor(runs / 2)]!;
  console.log(`${label.padEnd(44)} best ${min.toFixed(1).padStart(8)} ms  median ${median.toFixed(1).padStart(8)} ms  ${(n / min * 1000).toFixed(0).padStart(9)} /s`);
}

const dir = fs.mkdtempSync(os.tmpdir() + '/rf-bench-');
try {
  const records = Array.from({ length: count }, (_, i) => makeBulkySystem(i, bytes));
  console.log(`${count} systems of ${JSON.stringify(records[0]).length} bytes of JSON, ${dir}`);
  let fresh = 0;
  best(`putItem x${count}, new items, one transaction`, count, () => {
    fresh += 1;
    const store = SqliteStore.open(`${dir}/fresh-${fresh}`);
    store.transaction(() => { for (const r of records) store.putItem('system', r); });
    store.close();
  });
  let round = 0;
  const store = SqliteStore.open(dir);
  store.transaction(() => { for (const r of records) store.putItem('system', r); });
  best(`putItem x${count}, overwrite, one transaction`, count, () => {
    store.transaction(() => { for (const r of records) store.putItem('system', { ...r, mtime: r.mtime + 1 }); });
  });
  best(`putItem x${count}, keys change, one transaction`, count, () => {
    round += 1;
    store.transaction(() => { for (const r of records) store.putItem('system', { ...r, hostname: `h${round}-${r.name}` }); });
  });
  best(`listItems('system') (${count})`, count, () => { store.listItems('system'); });
  best(`listNames('system') (${count})`, count, () => { store.listNames('system'); });
  const macs = records.map((r) => ((r['interfaces'] as Record<string, Record<string, string>>)['eth0']!['mac_address']!).toUpperCase());
  best(`findSystems(mac) x${count}`, count, () => { for (const m of macs) store.findSystems('mac_address', m); });
  best(`getItem x${count}`, count, () => { for (const r of records) store.getItem('system', r.name); });
  best('putItem x200, autocommit (fsync each)', 200, () => { for (let i = 0; i < 200; i++) store.putItem('system', records[i]!); });
  store.close();
  const size = fs.statSync(`${dir}/fresh-1/rackforge.db`).size;
  console.log(`database file: ${(size / 1e6).toFixed(1)} MB`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
