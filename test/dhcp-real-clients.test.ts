// rackforge's DHCP server against real clients, inside a network namespace this test creates:
// a bridge (the provisioning segment) with `rackforge serve --interface br0` on it, and client
// machines in nested namespaces: Debian's dhclient, busybox udhcpc, a relay, and a scripted
// client sending options 93/77/60/97 (Python's standard library, not our codec).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../provisioner/store/sqlite-store.ts';
import { NETNS_PRELUDE, runInNetns, type NetnsResult } from './helpers/netns.ts';
import { requireTools } from './helpers/tools.ts';

const NODE1 = '52:54:00:50:00:01', UNKNOWN = '52:54:00:50:00:02', NODE3 = '52:54:00:50:00:03', PROBE = '52:54:00:50:00:04';

// No bridge or dummy devices in this kernel's namespaces (only veth and tap): the clients share
// one client namespace joined to the server by a veth pair, and take turns, each with its MAC.
const SCRIPT = `${NETNS_PRELUDE}
source test/netboot/serve-lab.sh
netns_new C
netns_veth "$C" srv0 cli 10.50.0.1/24
as_mac() { in_netns "$C" ip link set cli down; in_netns "$C" ip link set cli address "$1"; in_netns "$C" ip link set cli up; }
# The relay's far side: a subnet that reaches the server only through the relay at 10.50.0.60.
in_netns "$C" ip link add far0 type veth peer name far1
in_netns "$C" ip addr add 10.61.0.1/24 dev far0
in_netns "$C" ip link set far0 up
in_netns "$C" ip link set far1 up
ip route add 10.61.0.0/24 via 10.50.0.60
start_rackforge --interface srv0 --server-ip 10.50.0.1 --dhcp-range 10.50.0.100,10.50.0.150 --gateway 10.50.0.1 \\
  --domain lab.test --dns 10.50.0.53 --lease-time 600 --subnet 10.61.0.0/24,10.61.0.10,10.61.0.20,10.61.0.1
python3 test/netboot/seed-inventory.py http://127.0.0.1:8080/cobbler_api labpass node1=${NODE1}=10.50.0.20 node3=${NODE3}==netboot-off

echo '== dhclient'
printf 'timeout 15;\\nretry 1;\\n' > "$T/dhclient.conf"
as_mac ${NODE1}
in_netns "$C" dhclient -1 -v -cf "$T/dhclient.conf" -lf "$T/dhclient.leases" -pf "$T/dhclient.pid" -sf /bin/true cli 2>&1 || echo "dhclient exit $?"
cat "$T/dhclient.leases"
kill "$(cat "$T/dhclient.pid")" 2>/dev/null || true

printf '#!/bin/sh\\n[ "$1" = bound ] && echo "udhcpc $1 ip=$ip siaddr=$siaddr boot_file=$boot_file router=$router domain=$domain lease=$lease serverid=$serverid"\\nexit 0\\n' > "$T/udhcpc.sh"
chmod +x "$T/udhcpc.sh"
echo '== udhcpc unknown'
as_mac ${UNKNOWN}
in_netns "$C" udhcpc -i cli -f -q -n -t 3 -T 2 -s "$T/udhcpc.sh" 2>&1 || echo "udhcpc exit $?"
echo '== udhcpc netboot-off'
as_mac ${NODE3}
in_netns "$C" udhcpc -i cli -f -q -n -t 3 -T 2 -s "$T/udhcpc.sh" 2>&1 || echo "udhcpc exit $?"

as_mac ${PROBE}
in_netns "$C" ip addr add 10.50.0.60/24 dev cli
probe() { in_netns "$C" python3 test/netboot/dhcp-probe.py cli ${PROBE} "$@"; }
echo '== probe uefi';  probe DISCOVER --then-request yes --opt 93=0007 --opt 60=$(printf 'PXEClient:Arch:00007:UNDI:003016' | od -An -tx1 | tr -d ' \\n') --opt 97=0000112233445566778899aabbccddeeff
echo '== probe ipxe bios';  probe DISCOVER --opt 93=0000 --opt 77=$(printf iPXE | od -An -tx1 | tr -d ' \\n')
echo '== probe ipxe';  probe DISCOVER --opt 93=0007 --opt 77=$(printf iPXE | od -An -tx1 | tr -d ' \\n')
echo '== probe http';  probe DISCOVER --opt 93=0010 --opt 60=$(printf 'HTTPClient:Arch:00016:UNDI:003000' | od -An -tx1 | tr -d ' \\n')
echo '== relay discover'
in_netns "$C" python3 test/netboot/dhcp-probe.py far0 52:54:00:61:00:01 DISCOVER --giaddr 10.61.0.1 --bind 10.61.0.1 --from-port 67 --to 10.50.0.1 --opt 82=0105706f7274370203737731
echo '== relay request'
in_netns "$C" python3 test/netboot/dhcp-probe.py far0 52:54:00:61:00:01 REQUEST --giaddr 10.61.0.1 --bind 10.61.0.1 --from-port 67 --to 10.50.0.1 --opt 50=0a3d000a --opt 54=0a320001 --opt 82=0105706f7274370203737731
echo '== events node1'
"$NODE" bin/rackforge.js --server http://127.0.0.1:8080 system events node1 --json
echo '== done'
kill $RF_PID; wait $RF_PID || true
`;

function section(out: string, name: string): string {
  const start = out.indexOf(`== ${name}\n`);
  assert.ok(start >= 0, `no section ${name} in:\n${out}`);
  const rest = out.slice(start + name.length + 4);
  const end = rest.indexOf('\n== ');
  return end < 0 ? rest : rest.slice(0, end);
}

function replies(text: string): Array<Record<string, any>> {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
}

describe('DHCP with real clients in a network namespace', function () {
  this.timeout(120_000);
  let r: NetnsResult;
  let dir: string;
  before(async function () {
    requireTools(['unshare', 'nsenter', 'ip', 'dhclient', 'udhcpc', 'python3']);
    dir = mkdtempSync(join(tmpdir(), 'rf-dhcp-'));
    r = await runInNetns(`T=${dir}\n${SCRIPT}`, { timeoutMs: 100_000 });
    if (!r.stdout.includes('== done')) assert.fail(`scenario did not finish (code ${r.code}):\n${r.stdout}\n${r.stderr}`);
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it("Debian's dhclient gets node1's reserved address, pxelinux.0 from next-server, and the subnet's options", () => {
    const out = section(r.stdout, 'dhclient');
    assert.match(out, /fixed-address 10\.50\.0\.20;/, out);
    assert.match(out, /filename "pxelinux\.0";/);
    // dhclient's lease file has no next-server line; siaddr is checked with udhcpc below.
    assert.match(out, /option tftp-server-name "10\.50\.0\.1";/);
    assert.match(out, /option bootfile-name "pxelinux\.0";/);
    assert.match(out, /option routers 10\.50\.0\.1;/);
    assert.match(out, /option domain-name "lab\.test";/);
    assert.match(out, /option domain-name-servers 10\.50\.0\.53;/);
    assert.match(out, /option host-name "node1";/);
    assert.match(out, /option dhcp-lease-time 600;/);
  });

  it('busybox udhcpc, unknown MAC: a pool address and the BIOS loader (default menu policy)', () => {
    const out = section(r.stdout, 'udhcpc unknown');
    const m = /udhcpc bound ip=(\S+) siaddr=(\S+) boot_file=(\S*) router=(\S+) domain=(\S+) lease=(\d+) serverid=(\S+)/.exec(out);
    assert.ok(m, out);
    const last = Number(m[1]!.split('.')[3]);
    assert.ok(m[1]!.startsWith('10.50.0.') && last >= 100 && last <= 150, m[1]);
    assert.deepEqual(m.slice(2), ['10.50.0.1', 'pxelinux.0', '10.50.0.1', 'lab.test', '600', '10.50.0.1']);
  });

  it('udhcpc for a system with netboot disabled: an address, no boot file', () => {
    const out = section(r.stdout, 'udhcpc netboot-off');
    const m = /udhcpc bound ip=(\S+) siaddr=(\S*) boot_file=(\S*) /.exec(out);
    assert.ok(m, out);
    assert.match(m[1]!, /^10\.50\.0\.1\d\d$/);
    assert.equal(m[2], '', 'no next-server either');
    assert.equal(m[3], '');
  });

  it('option 93 = 7 with PXEClient: the x86-64 UEFI loader and the UUID echoed, PXEClient not (a DHCP-only offer)', () => {
    const [o, ack] = replies(section(r.stdout, 'probe uefi'));
    assert.equal(o?.type, 'OFFER');
    assert.equal(ack?.type, 'ACK');
    assert.equal(ack?.file, 'ipxe.efi');
    assert.equal(o?.file, 'ipxe.efi');
    assert.equal(o?.siaddr, '10.50.0.1');
    assert.equal(o?.options['60'], undefined);
    assert.equal(o?.options['97'], '0000112233445566778899aabbccddeeff');
  });

  it('user class iPXE on BIOS: pxelinux.0 (enable_ipxe off, as Cobbler); on UEFI: an HTTP script URL instead of ipxe.efi again', () => {
    assert.equal(replies(section(r.stdout, 'probe ipxe bios'))[0]?.file, 'pxelinux.0');
    const [o] = replies(section(r.stdout, 'probe ipxe'));
    assert.equal(Buffer.from(o?.options['67'], 'hex').toString(), `http://10.50.0.1:8080/cblr/svc/op/ipxe/mac/${PROBE}`);
  });

  it('HTTP boot client (arch 16, HTTPClient): a URL and HTTPClient echoed', () => {
    const [o] = replies(section(r.stdout, 'probe http'));
    assert.equal(Buffer.from(o?.options['67'], 'hex').toString(), 'http://10.50.0.1:8080/boot/ipxe.efi');
    assert.equal(Buffer.from(o?.options['60'], 'hex').toString(), 'HTTPClient');
  });

  it("relayed: the relay's subnet, sent to giaddr:67, option 82 echoed and recorded with the lease", () => {
    const [offer] = replies(section(r.stdout, 'relay discover'));
    assert.equal(offer?.type, 'OFFER');
    assert.equal(offer?.from, '10.50.0.1:67');
    assert.equal(offer?.yiaddr, '10.61.0.10');
    assert.equal(offer?.giaddr, '10.61.0.1');
    assert.equal(offer?.options['3'], '0a3d0001');
    assert.equal(offer?.options['82'], '0105706f7274370203737731');
    const [ack] = replies(section(r.stdout, 'relay request'));
    assert.equal(ack?.type, 'ACK');
    const store = SqliteStore.open(join(dir, 'data'));
    try {
      const lease = store.getLease('10.61.0.10');
      assert.equal(lease?.state, 'bound');
      assert.deepEqual(lease?.relay, { giaddr: '10.61.0.1', circuitId: Buffer.from('port7').toString('hex'), remoteId: Buffer.from('sw1').toString('hex') });
      assert.equal(store.listLeases().find((l) => l.mac === PROBE)?.uuid, '00112233445566778899aabbccddeeff');
    } finally {
      store.close();
    }
  });

  it('every exchange is a boot event of the system, readable with `rackforge system events`', () => {
    const events = JSON.parse(section(r.stdout, 'events node1')) as Array<{ kind: string; mac: string; ip: string; detail: string }>;
    const kinds = events.map((e) => e.kind);
    assert.ok(kinds.includes('dhcp-offer') && kinds.includes('dhcp-ack'), JSON.stringify(events));
    assert.ok(events.every((e) => e.mac === NODE1));
    assert.match(events.find((e) => e.kind === 'dhcp-ack')!.detail, /leased 10\.50\.0\.20 .*boot pxelinux\.0/);
  });
});
