// ProxyDHCP next to another DHCP server: Debian's dnsmasq hands out addresses on the segment,
// rackforge (--proxy-dhcp) answers PXE clients with boot information only, on 67 and 4011.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETNS_PRELUDE, runInNetns } from './helpers/netns.ts';
import { requireTools } from './helpers/tools.ts';

const hex = (s: string): string => Buffer.from(s).toString('hex');

describe('ProxyDHCP alongside dnsmasq', function () {
  this.timeout(60_000);
  it('dnsmasq offers the address, rackforge the boot file; a 4011 request gets the UEFI loader; plain clients are left to dnsmasq', async () => {
    requireTools(['unshare', 'nsenter', 'ip', 'dnsmasq', 'udhcpc', 'python3']);
    const dir = mkdtempSync(join(tmpdir(), 'rf-proxy-'));
    try {
      const r = await runInNetns(`T=${dir}
${NETNS_PRELUDE}
source test/netboot/serve-lab.sh
netns_new C
netns_veth "$C" srv0 cli 10.50.0.1/24 '' 52:54:00:50:00:07
dnsmasq --no-daemon --port=0 --interface=srv0 --bind-interfaces --dhcp-range=10.50.0.100,10.50.0.150,1h --no-ping \\
  --dhcp-leasefile="$T/dnsmasq.leases" --log-dhcp --log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" &
DNSMASQ=$!
start_rackforge --interface srv0 --server-ip 10.50.0.1 --proxy-dhcp
sleep 0.5
echo '== pxe discover'
in_netns "$C" python3 test/netboot/dhcp-probe.py cli 52:54:00:50:00:07 DISCOVER --count 2 --wait 4 \\
  --opt 93=0000 --opt 60=${hex('PXEClient:Arch:00000:UNDI:002001')}
echo '== plain discover'
in_netns "$C" python3 test/netboot/dhcp-probe.py cli 52:54:00:50:00:08 DISCOVER --count 2 --wait 3
echo '== udhcpc'
printf '#!/bin/sh\\n[ "$1" = bound ] && echo "bound ip=$ip serverid=$serverid boot_file=$boot_file"\\nexit 0\\n' > "$T/u.sh"; chmod +x "$T/u.sh"
in_netns "$C" udhcpc -i cli -f -q -n -t 3 -T 2 -s "$T/u.sh" 2>&1 || true
echo '== 4011'
in_netns "$C" ip addr add 10.50.0.120/24 dev cli
in_netns "$C" python3 test/netboot/dhcp-probe.py cli 52:54:00:50:00:07 REQUEST --bind 10.50.0.120 --ciaddr 10.50.0.120 --to 10.50.0.1 --port 4011 \\
  --opt 93=0007 --opt 60=${hex('PXEClient:Arch:00007:UNDI:003016')} --opt 97=00aabbccddeeff00112233445566778899
echo '== done'
kill $DNSMASQ $RF_PID; wait $RF_PID || true
`, { timeoutMs: 50_000 });
      const out = r.stdout;
      assert.match(out, /== done/, `${out}\n${r.stderr}`);
      const section = (name: string) => out.split(`== ${name}\n`)[1]!.split('\n== ')[0]!;
      const replies = (name: string) => section(name).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
      const pxe = replies('pxe discover');
      const proxy = pxe.find((o) => o.yiaddr === '0.0.0.0');
      const dhcp = pxe.find((o) => o.yiaddr !== '0.0.0.0');
      assert.ok(dhcp && proxy, JSON.stringify(pxe));
      assert.match(dhcp.yiaddr, /^10\.50\.0\.1\d\d$/, 'dnsmasq leases the address');
      assert.equal(dhcp.file, '', 'dnsmasq has no boot file here');
      assert.equal(proxy.type, 'OFFER');
      assert.equal(proxy.file, 'pxelinux.0');
      assert.equal(proxy.siaddr, '10.50.0.1');
      assert.equal(Buffer.from(proxy.options['60'], 'hex').toString(), 'PXEClient');
      assert.equal(proxy.options['54'], '0a320001');
      assert.equal(proxy.options['51'], undefined, 'no lease time: the proxy leases nothing');
      assert.equal(proxy.options['43'], '060108ff', 'PXE discovery control: boot from the file named');
      const plain = replies('plain discover');
      assert.equal(plain.length, 1, JSON.stringify(plain));
      assert.notEqual(plain[0]!.yiaddr, '0.0.0.0', 'only dnsmasq answers a client that is not PXE');
      assert.match(section('udhcpc'), /bound ip=10\.50\.0\.1\d\d serverid=10\.50\.0\.1 boot_file=$/m);
      const [ack] = replies('4011');
      assert.equal(ack?.type, 'ACK');
      assert.equal(ack?.from, '10.50.0.1:4011');
      assert.equal(ack?.yiaddr, '0.0.0.0');
      assert.equal(ack?.file, 'ipxe.efi');
      assert.equal(ack?.options['97'], '00aabbccddeeff00112233445566778899');
      assert.equal(ack?.options['43'], undefined, 'UEFI clients get no discovery control');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
