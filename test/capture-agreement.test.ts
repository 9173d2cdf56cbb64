// Agreement with Wireshark, frame by frame: every golden capture (lab-made pcap and
// dumpcap-made pcapng), and a capture made now by dumpcap around real clients in a namespace
// this test creates, in every form Wireshark writes it (pcapng; classic pcap in µs and ns, by
// editcap; Linux cooked v1 and v2 from dumpcap on "any"). rackforge's reader and codecs must
// decode the same frames with the same numbers, lengths, addresses, ports, DHCP types, options,
// addresses and boot files, TFTP opcodes, blocks, files and errors, and HTTP requests and
// statuses as `tshark -T fields`; the first field that differs fails the test, with its frame.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from '../provisioner/protocol/pcap.ts';
import { goldenCaptures } from './helpers/golden-captures.ts';
import { clientNetnsScript, NETNS_PRELUDE, runInNetns, shellQuote } from './helpers/netns.ts';
import { firstDisagreement, ourRows, tsharkRows, type FieldRow } from './helpers/tshark-fields.ts';
import { requireTools } from './helpers/tools.ts';

interface Agreement { ours: FieldRow[]; theirs: FieldRow[] }

async function assertAgrees(file: string, expect: { format: 'pcap' | 'pcapng'; linktypes: number[] }): Promise<Agreement> {
  const [ours, theirs] = await Promise.all([ourRows(file), tsharkRows(file)]);
  assert.equal(ours.readError, undefined, `our reader stopped: ${ours.readError?.message}`);
  assert.equal(ours.format, expect.format);
  assert.deepEqual([...ours.linktypes].sort((a, b) => a - b), expect.linktypes);
  assert.deepEqual(ours.problems, [], 'frames our codecs refused');
  const d = firstDisagreement(ours.rows, theirs);
  assert.equal(d, undefined, `${file}: ${d}`);
  return { ours: ours.rows, theirs };
}

/** How many frames carry each field (in tshark's rows): proof that a file exercised what it should. */
function fieldCounts(rows: readonly FieldRow[]): Record<string, number> {
  const n: Record<string, number> = {};
  for (const r of rows) for (const k of Object.keys(r)) n[k] = (n[k] ?? 0) + 1;
  return n;
}

describe('capture decoding agrees with tshark -T fields', function () {
  this.timeout(60_000);
  before(() => requireTools(['tshark', 'editcap', 'dumpcap']));

  describe('golden captures', () => {
    for (const c of goldenCaptures()) {
      it(`${c.name}: ${c.file} (${c.madeBy}-made)`, async () => {
        const a = await assertAgrees(c.path, { format: c.file.endsWith('.pcapng') ? 'pcapng' : 'pcap', linktypes: [LINKTYPE_ETHERNET] });
        assert.equal(a.theirs.length, c.frames);
        const counts = fieldCounts(a.theirs);
        assert.ok((counts['dhcp.option.dhcp'] ?? 0) + (counts['tftp.opcode'] ?? 0) > 0, 'DHCP or TFTP frames were compared');
      });
    }
  });

  describe('a capture made now: rackforge serve on a veth, udhcpc, tftp-hpa and curl as the machine', () => {
    let dir: string;
    const file = (name: string): string => join(dir, name);
    before(async function () {
      this.timeout(60_000);
      requireTools(['unshare', 'nsenter', 'ip', 'udhcpc', 'tftp', 'curl', 'python3']);
      dir = mkdtempSync(join(tmpdir(), 'rf-agree-'));
      const r = await runInNetns(`T=${shellQuote(dir)}
${NETNS_PRELUDE}
source test/netboot/serve-lab.sh
${clientNetnsScript({ pidVar: 'C', hostIf: 'srv0', peerIf: 'cli', hostCidr: '10.61.0.1/24', peerMac: '52:54:00:61:00:07' })}
# Three captures at once: the veth (Ethernet), and "any" in both Linux cooked formats.
for spec in "eth:-i srv0" "sll:-i any -y LINUX_SLL" "sll2:-i any -y LINUX_SLL2"; do
  name=\${spec%%:*}
  dumpcap -q \${spec#*:} -w "$T/$name.pcapng" 2>"$T/$name.err" &
  eval "CAP_$name=$!"
done
for name in eth sll sll2; do
  for i in $(seq 1 400); do grep -q 'Capturing on' "$T/$name.err" 2>/dev/null && break; sleep 0.05; done
done
start_rackforge --interface srv0 --server-ip 10.61.0.1 --dhcp-range 10.61.0.100,10.61.0.150 --gateway 10.61.0.1
printf '#!/bin/sh\\n[ "$1" = bound ] && ip addr add "$ip/24" dev "$interface"\\nexit 0\\n' > "$T/udhcpc.sh"; chmod +x "$T/udhcpc.sh"
in_netns "$C" udhcpc -i cli -f -q -n -t 3 -T 1 -s "$T/udhcpc.sh" -V PXEClient:Arch:00000:UNDI:002001 >/dev/null 2>&1
in_netns "$C" tftp -m binary 10.61.0.1 -c get pxelinux.0 "$T/pxelinux.0"
in_netns "$C" tftp -m binary 10.61.0.1 -c get pxelinux-old.0 "$T/old" || true
in_netns "$C" curl -sS -o /dev/null tftp://10.61.0.1/pxelinux.cfg/default
in_netns "$C" curl -sS -o /dev/null http://10.61.0.1:8080/boot/pxelinux.0
in_netns "$C" curl -sS -o /dev/null http://10.61.0.1:8080/no-such-file || true
sleep 0.3
kill -INT $CAP_eth $CAP_sll $CAP_sll2; wait $CAP_eth $CAP_sll $CAP_sll2 || true
kill $RF_PID; wait $RF_PID || true
editcap -F pcap "$T/eth.pcapng" "$T/eth.pcap"
editcap -F nsecpcap "$T/eth.pcapng" "$T/eth-ns.pcap"
echo made
`, { timeoutMs: 50_000 });
      assert.match(r.stdout, /made/, `${r.stdout}\n${r.stderr}`);
    });
    after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

    let ethRows: FieldRow[] = [];

    it('pcapng (dumpcap, Ethernet): DHCP, TFTP with and without options, a TFTP error, HTTP 200 and 404', async () => {
      const a = await assertAgrees(file('eth.pcapng'), { format: 'pcapng', linktypes: [LINKTYPE_ETHERNET] });
      ethRows = a.theirs;
      const c = fieldCounts(a.theirs);
      for (const f of ['dhcp.option.dhcp', 'dhcp.file', 'tftp.source_file', 'tftp.block', 'tftp.error.code', 'http.request.method', 'http.response.code']) {
        assert.ok((c[f] ?? 0) > 0, `the capture has ${f}`);
      }
      const codes = new Set(a.theirs.map((r) => r['http.response.code']).filter((x) => x));
      assert.deepEqual([...codes].sort(), ['200', '404']);
    });

    for (const [name, format] of [['eth.pcap', 'pcap'], ['eth-ns.pcap', 'pcap']] as const) {
      it(`${name} (editcap -F ${name === 'eth.pcap' ? 'pcap' : 'nsecpcap'}): the same frames, the same fields`, async () => {
        assert.ok(existsSync(file(name)) && statSync(file(name)).size > 24);
        const a = await assertAgrees(file(name), { format, linktypes: [LINKTYPE_ETHERNET] });
        assert.ok(ethRows.length > 0, 'the pcapng was compared first');
        assert.equal(a.theirs.length, ethRows.length);
      });
    }

    it('Linux cooked v1 (dumpcap -i any -y LINUX_SLL)', async () => {
      const a = await assertAgrees(file('sll.pcapng'), { format: 'pcapng', linktypes: [LINKTYPE_LINUX_SLL] });
      const c = fieldCounts(a.theirs);
      for (const f of ['sll.src.eth', 'sll.pkttype', 'dhcp.option.dhcp', 'tftp.opcode', 'http.response.code']) assert.ok((c[f] ?? 0) > 0, `the capture has ${f}`);
    });

    it('Linux cooked v2 (dumpcap -i any -y LINUX_SLL2)', async () => {
      const a = await assertAgrees(file('sll2.pcapng'), { format: 'pcapng', linktypes: [LINKTYPE_LINUX_SLL2] });
      const c = fieldCounts(a.theirs);
      for (const f of ['sll.src.eth', 'sll.pkttype', 'dhcp.option.dhcp', 'tftp.opcode', 'http.response.code']) assert.ok((c[f] ?? 0) > 0, `the capture has ${f}`);
    });

    it('the classic files are the two pcap flavours (capinfos: µs and ns timestamps)', () => {
      const precision = (f: string): string => /File timestamp precision:\s*(\w+)/.exec(execFileSync('capinfos', [file(f)], { encoding: 'utf8' }))?.[1] ?? '';
      assert.equal(precision('eth.pcap'), 'microseconds');
      assert.equal(precision('eth-ns.pcap'), 'nanoseconds');
    });
  });
});
