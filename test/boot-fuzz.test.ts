// Thousands of random and mutated DHCP and TFTP datagrams at a running `rackforge serve`, in a
// namespace this test creates; afterwards the server must still answer real clients correctly
// and must have logged the bad packets instead of dying.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETNS_PRELUDE, runInNetns } from './helpers/netns.ts';
import { requireTools } from './helpers/tools.ts';

describe('boot services under a fuzz run', function () {
  this.timeout(150_000);
  it('survive 6,000 random and mutated datagrams and then serve udhcpc and tftp-hpa correctly', async () => {
    requireTools(['unshare', 'nsenter', 'ip', 'udhcpc', 'tftp']);
    const dir = mkdtempSync(join(tmpdir(), 'rf-fuzz-'));
    try {
      const r = await runInNetns(`T=${dir}
${NETNS_PRELUDE}
source test/netboot/serve-lab.sh
netns_new C
netns_veth "$C" srv0 cli 10.50.0.1/24 10.50.0.9/24 52:54:00:50:00:09
mkdir -p "$T/root" && head -c 70000 /dev/urandom > "$T/root/blob.bin"
start_rackforge --interface srv0 --server-ip 10.50.0.1 --dhcp-range 10.50.0.100,10.50.0.150 --gateway 10.50.0.1 --tftp-root "$T/root"
in_netns "$C" "$NODE" --import tsx test/netboot/fuzz-sender.ts 10.50.0.1 6000 7
sleep 1
kill -0 $RF_PID && echo "server alive"
printf '#!/bin/sh\\n[ "$1" = bound ] && echo "bound ip=$ip boot_file=$boot_file"\\nexit 0\\n' > "$T/u.sh"; chmod +x "$T/u.sh"
in_netns "$C" udhcpc -i cli -f -q -n -t 3 -T 2 -s "$T/u.sh" 2>&1 || true
cd "$T" && in_netns "$C" tftp -m binary 10.50.0.1 -c get blob.bin got.bin && cmp root/blob.bin got.bin && echo "tftp ok"
echo "malformed warnings: $(grep -c 'malformed' "$T/serve.err" || true)"
echo "tftp warnings: $(grep -ci 'tftp' "$T/serve.err" || true)"
kill $RF_PID; wait $RF_PID || true
`, { timeoutMs: 140_000 });
      const out = r.stdout;
      assert.match(out, /fuzz sent 6000/, `${out}\n${r.stderr}`);
      assert.match(out, /server alive/);
      assert.match(out, /bound ip=10\.50\.0\.1\d\d boot_file=pxelinux\.0/, out);
      assert.match(out, /tftp ok/, out);
      const warned = Number(/malformed warnings: (\d+)/.exec(out)?.[1]);
      assert.ok(warned > 500, `only ${warned} malformed-packet warnings were logged`);
      assert.ok(Number(/tftp warnings: (\d+)/.exec(out)?.[1]) > 100, out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
