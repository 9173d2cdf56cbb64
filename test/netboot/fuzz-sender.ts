// Sends thousands of random and mutated DHCP and TFTP datagrams at a running server (run inside
// a test namespace): truncations, bit flips, option lengths running past the end, overload
// tricks, bad opcodes and modes, `..` and NUL in names. Prints how many it sent.
//   fuzz-sender.ts SERVER_IP COUNT SEED
import { createSocket } from 'node:dgram';
import { SeededRandom } from '../../lib/clock.ts';
import { encodeDhcp } from '../../provisioner/protocol/dhcp.ts';
import { clientRequest } from '../../provisioner/dhcp/dhcp-fixtures.ts';

const [server = '10.50.0.1', countText = '4000', seedText = '1'] = process.argv.slice(2);
const count = Number(countText);
const rnd = new SeededRandom(Number(seedText));
const int = (n: number): number => rnd.bytes(4).readUInt32BE(0) % n;

const baseDhcp = [
  encodeDhcp(clientRequest('DISCOVER', '52:54:00:ff:00:01', { clientArch: [7], vendorClass: 'PXEClient:Arch:00007:UNDI:003016', userClass: { format: 'plain', value: 'iPXE' } })),
  encodeDhcp(clientRequest('REQUEST', '52:54:00:ff:00:02', { requestedIp: '10.50.0.120', serverId: server })),
  encodeDhcp(clientRequest('DECLINE', '52:54:00:ff:00:03', { requestedIp: '10.50.0.121' })),
  encodeDhcp(clientRequest('INFORM', '52:54:00:ff:00:04', {}, { ciaddr: '10.50.0.99' })),
];

/** Crafted option tricks: lengths past the end, overload pointing at garbage, no end option. */
function trick(): Buffer {
  const head = Buffer.from(baseDhcp[int(baseDhcp.length)]!.subarray(0, 240));
  const tricks = [
    Buffer.from([53, 1, 1, 52, 1, 3, 255]), // overload both fields, which hold zeros/garbage
    Buffer.from([53, 1, 1, 61, 200, 1, 2]), // length past the end
    Buffer.from([53, 1, 1, 52, 1, 9, 255]), // invalid overload value
    Buffer.from([53, 1, 1, 82, 4, 1, 9, 0, 0, 255]), // sub-option past its option
    Buffer.from([53, 0, 255]), // empty message type
    Buffer.from([53, 1, 99, 255]), // unknown message type
    Buffer.from([93, 3, 0, 7, 0, 53, 1, 1, 255]), // odd arch list
    Buffer.from([53, 1, 1, 77, 5, 9, 65, 65, 65, 65, 255]), // RFC 3004 class longer than the option
    Buffer.alloc(0), // no options, no end
  ];
  if (int(3) === 0) head.fill(0xff, 108, 236); // file field without NUL
  return Buffer.concat([head, tricks[int(tricks.length)]!]);
}

function mutate(buf: Buffer): Buffer {
  const b = Buffer.from(buf);
  const n = 1 + int(8);
  for (let i = 0; i < n; i++) b[int(b.length)] = int(256);
  return int(4) === 0 ? b.subarray(0, int(b.length + 1)) : b;
}

function tftpJunk(): Buffer {
  const names = ['../../etc/passwd', '/etc/shadow', 'a\0b', 'x'.repeat(600), 'pxelinux.cfg/../../x', '..\\..\\boot.ini', ''];
  const modes = ['octet', 'netascii', 'mail', 'bogus', ''];
  const op = int(9);
  const name = names[int(names.length)]!;
  const mode = modes[int(modes.length)]!;
  const parts: Buffer[] = [Buffer.from([0, op]), Buffer.from(name + '\0' + mode + '\0', 'latin1')];
  if (int(2) === 0) parts.push(Buffer.from(`blksize\0${int(2) ? '70000' : '-5'}\0windowsize\0${int(3)}\0tsize\0abc\0`, 'latin1'));
  return mutate(Buffer.concat(parts));
}

const dhcp = createSocket({ type: 'udp4', reuseAddr: true });
const tftp = createSocket('udp4');
dhcp.bind(68, () => {
  dhcp.setBroadcast(true);
  let sent = 0;
  const sendOne = (): void => {
    if (sent >= count) {
      dhcp.close(); tftp.close();
      console.log(`fuzz sent ${sent}`);
      return;
    }
    const k = int(10);
    // A short pause every 20 datagrams: back to back, a loaded machine drops datagrams in the
    // server's socket buffer, and the test counts what the server saw and logged.
    const done = () => { sent++; if (sent % 20 === 0) setTimeout(sendOne, 2); else setImmediate(sendOne); };
    if (k < 4) dhcp.send(mutate(baseDhcp[int(baseDhcp.length)]!), 67, int(2) ? '255.255.255.255' : server, done);
    else if (k < 6) dhcp.send(trick(), 67, server, done);
    else if (k < 7) dhcp.send(rnd.bytes(int(600)), 67, server, done);
    else tftp.send(int(5) === 0 ? rnd.bytes(int(40)) : tftpJunk(), 69, server, done);
  };
  sendOne();
});
