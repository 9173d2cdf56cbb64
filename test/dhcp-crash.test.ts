// "No address is ever handed to two MACs, even after a kill -9 in the middle of a boot storm":
// a storm of relayed clients against `rackforge serve`, the server SIGKILLed mid-storm and
// started again on the same data directory, the storm carrying on. Every ACK the clients saw
// is checked: one MAC per address, and the store agrees with what the clients hold.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../provisioner/store/sqlite-store.ts';
import { NETNS_PRELUDE, runInNetns } from './helpers/netns.ts';
import { requireTools } from './helpers/tools.ts';

describe('DHCP leases across a kill -9 in a boot storm', function () {
  this.timeout(120_000);
  it('never hands one address to two MACs, and the store matches every ACK', async () => {
    requireTools(['unshare', 'nsenter', 'ip']);
    const dir = mkdtempSync(join(tmpdir(), 'rf-crash-'));
    try {
      const r = await runInNetns(`T=${dir}
${NETNS_PRELUDE}
source test/netboot/serve-lab.sh
netns_new C
netns_veth "$C" srv0 cli 10.50.0.1/16 10.50.0.2/16
ARGS="--interface srv0 --server-ip 10.50.0.1 --dhcp-range 10.50.1.0,10.50.8.255 --gateway 10.50.0.1"
start_rackforge $ARGS
in_netns "$C" "$NODE" --import tsx test/netboot/dhcp-storm.ts 10.50.0.2 10.50.0.1 1500 60 > "$T/acks.jsonl" &
STORM=$!
# Kill the server once the storm is well under way.
for i in $(seq 1 200); do [ "$(wc -l < "$T/acks.jsonl")" -ge 300 ] && break; sleep 0.05; done
kill -9 $RF_PID; wait $RF_PID 2>/dev/null || true
echo "killed after $(wc -l < "$T/acks.jsonl") acks"
sleep 1
start_rackforge $ARGS
wait $STORM
echo "storm done: $(tail -1 "$T/acks.jsonl")"
kill $RF_PID; wait $RF_PID || true
`, { timeoutMs: 110_000 });
      assert.match(r.stdout, /storm done/, `${r.stdout}\n${r.stderr}`);
      const killedAt = Number(/killed after (\d+) acks/.exec(r.stdout)?.[1]);
      const lines = (await import('node:fs')).readFileSync(join(dir, 'acks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { mac?: string; ip?: string; summary?: boolean; acks?: number; count?: number });
      const summary = lines.at(-1)!;
      assert.ok(summary.summary, 'storm summary');
      assert.ok(killedAt >= 100 && killedAt < 1500, `the kill came mid-storm (after ${killedAt} ACKs)`);
      assert.equal(summary.acks, 1500, `every client got a lease in the end (${summary.acks})`);
      const holder = new Map<string, string>();
      for (const a of lines.filter((l) => !l.summary)) {
        const prev = holder.get(a.ip!);
        assert.ok(prev === undefined || prev === a.mac, `${a.ip} was ACKed to ${prev} and to ${a.mac}`);
        holder.set(a.ip!, a.mac!);
      }
      const store = SqliteStore.open(join(dir, 'data'));
      try {
        const bound = new Map(store.listLeases().filter((l) => l.state === 'bound').map((l) => [l.ip, l.mac]));
        for (const [ip, mac] of holder) assert.equal(bound.get(ip), mac, `store: ${ip}`);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
