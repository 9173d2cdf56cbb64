import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isRackforgeError } from '../../lib/errors.ts';
import type { Datagram, DatagramPort, Endpoint } from './datagram.ts';
import { describeOpenError, openInterfacePort, openInterfacePortFor } from './interface-port.ts';
import { loadIfaceUdpAddon, type NativeHandle } from './native-addon.ts';

const REPO_ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const LOOPBACK: Endpoint = { address: '127.0.0.1', port: 0 };

function nextDatagram(port: DatagramPort, ms = 2000): Promise<Datagram> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no datagram on ${port.local.port} within ${ms} ms`)), ms);
    port.onMessage((d) => {
      clearTimeout(timer);
      resolve(d);
    });
  });
}

const errno = (code: string, syscall = 'bind'): NodeJS.ErrnoException => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });

describe('InterfacePort (native addon) on loopback', function () {
  const open: DatagramPort[] = [];
  const openPort = async (opts: Parameters<typeof openInterfacePort>[1] = {}): Promise<DatagramPort> => {
    const p = await openInterfacePort(LOOPBACK, opts);
    open.push(p);
    return p;
  };

  before(async function () {
    this.timeout(120_000);
    await promisify(execFile)(process.execPath, ['scripts/build-native.mjs', '--quiet'], { cwd: REPO_ROOT });
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });

  it('binds port 0 and reports the port the kernel chose', async () => {
    const p = await openPort();
    assert.equal(p.local.address, '127.0.0.1');
    assert.ok(p.local.port > 0 && p.local.port < 65536);
  });

  it('reports the arrival interface and the destination address', async () => {
    const [a, b] = [await openPort(), await openPort()];
    const got = nextDatagram(a);
    await b.send(Buffer.from('ping'), a.local);
    const d = await got;
    assert.equal(d.data.toString(), 'ping');
    assert.deepEqual(d.from, b.local);
    assert.equal(d.ifname, 'lo');
    assert.equal(d.to, '127.0.0.1');
  });

  it('round-trips a reply sent out of a chosen interface', async () => {
    const [server, client] = [await openPort(), await openPort()];
    server.onMessage((d) => server.send(Buffer.from(`re: ${d.data.toString()}`), { ...d.from, ifname: d.ifname ?? 'lo' }));
    const reply = nextDatagram(client);
    await client.send(Buffer.from('hello'), server.local);
    const d = await reply;
    assert.equal(d.data.toString(), 're: hello');
    assert.deepEqual(d.from, server.local);
    assert.equal(d.ifname, 'lo');
  });

  it('ignores hwaddr on loopback (no neighbour table there) and still delivers', async () => {
    const [a, b] = [await openPort(), await openPort()];
    const got = nextDatagram(a);
    await b.send(Buffer.from('hw'), { ...a.local, ifname: 'lo', hwaddr: '52:54:00:12:34:56' });
    assert.equal((await got).data.toString(), 'hw');
  });

  it('close is idempotent and a send after it rejects', async () => {
    const [a, b] = [await openPort(), await openPort()];
    a.close();
    a.close();
    await assert.rejects(a.send(Buffer.from('x'), b.local), { code: 'EBADF' });
  });

  describe('opened for one peer (TFTP transfer ports)', () => {
    let peer: Socket;
    beforeEach(async () => {
      peer = createSocket('udp4');
      await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    });
    afterEach(() => peer.close());
    const peerEnd = (): Endpoint => ({ address: '127.0.0.1', port: peer.address().port });
    const forPeer = async (): Promise<DatagramPort> => {
      const p = await openInterfacePortFor(LOOPBACK, peerEnd());
      open.push(p);
      return p;
    };

    it('receives from its peer and from anyone else (a stranger must be told ERROR 5), and sends to both', async () => {
      const p = await forPeer();
      const stranger = await openPort();
      const got: Array<[string, number]> = [];
      p.onMessage((d) => got.push([d.data.toString(), d.from.port]));
      await stranger.send(Buffer.from('stranger'), p.local);
      peer.send('peer', p.local.port, '127.0.0.1');
      for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(got.sort(), [['peer', peerEnd().port], ['stranger', stranger.local.port]].sort());
      const toStranger = nextDatagram(stranger);
      p.post(Buffer.from('go away'), stranger.local, (e) => assert.fail(e));
      assert.equal((await toStranger).data.toString(), 'go away');
      const toPeer = new Promise<string>((resolve) => peer.once('message', (m) => resolve(m.toString())));
      await p.send(Buffer.from('one'), peerEnd());
      assert.equal(await toPeer, 'one');
    });

    // The port polls briefly for a fast peer's answer instead of going back to epoll: the
    // exchange must stay exact (every datagram once, in order) whether the peer answers at once
    // (an echo in another process, so that the polling finds its answers) or only after the
    // polling gave up, and timers must keep running meanwhile.
    it('a lock-step exchange with a fast peer in another process delivers every datagram once, in order', async () => {
      const echo = spawn('python3', ['-c', [
        'import socket, sys',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))',
        'print(s.getsockname()[1], flush=True)',
        'while True:',
        '    m, a = s.recvfrom(2048)',
        '    s.sendto(m, a)',
      ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const port = Number(await new Promise<string>((resolve) => echo.stdout.once('data', (b: Buffer) => resolve(b.toString()))));
        const p = await openInterfacePortFor(LOOPBACK, { address: '127.0.0.1', port });
        open.push(p);
        await lockStep(p, { address: '127.0.0.1', port }, 5000);
      } finally {
        echo.kill();
      }
    });

    it('a lock-step exchange with a slow peer (2 ms per answer) delivers every datagram once, in order', async () => {
      const p = await forPeer();
      peer.on('message', (m, r) => setTimeout(() => peer.send(m, r.port, r.address), 2));
      await lockStep(p, peerEnd(), 100);
    });
  });

  /** Sends 0, waits for n, sends n+1, ... up to count-1; checks order and that a 1 ms timer ran. */
  async function lockStep(p: DatagramPort, to: Endpoint, count: number): Promise<void> {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const seen: number[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        p.onMessage((d) => {
          const n = d.data.readUInt32BE(0);
          seen.push(n);
          if (n + 1 === count) return resolve();
          const next = Buffer.alloc(4);
          next.writeUInt32BE(n + 1);
          p.post(next, to, reject);
        });
        p.post(Buffer.alloc(4), to, reject);
      });
    } finally {
      clearInterval(ticker);
    }
    assert.deepEqual(seen, Array.from({ length: count }, (_, i) => i));
    assert.ok(ticks > 0, 'a 1 ms interval never ran during the exchange');
  }

  it('a handler that throws is reported and receiving goes on', async () => {
    const errors: Error[] = [];
    const a = await openPort({ onError: (e) => errors.push(e) });
    const b = await openPort();
    const seen: string[] = [];
    a.onMessage((d) => {
      seen.push(d.data.toString());
      if (d.data.toString() === 'throw') throw new Error('bad datagram');
    });
    for (const text of ['throw', 'fine']) await b.send(Buffer.from(text), a.local);
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ['throw', 'fine']);
    assert.deepEqual(errors.map((e) => e.message), ['bad datagram']);
  });

  it('reports a rejected async handler', async () => {
    const errors: Error[] = [];
    const a = await openPort({ onError: (e) => errors.push(e) });
    const b = await openPort();
    const handled = new Promise<void>((resolve) =>
      a.onMessage(async () => {
        resolve();
        throw new Error('async handler failed');
      }),
    );
    await b.send(Buffer.from('x'), a.local);
    await handled;
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(errors.map((e) => e.message), ['async handler failed']);
  });

  it('an unknown device is a clear configuration error naming it', async () => {
    await assert.rejects(openInterfacePort(LOOPBACK, { device: 'rfnosuch0' }), (e: unknown) => {
      assert.ok(isRackforgeError(e, 'CONFIG_INVALID'));
      assert.match(e.message, /cannot bind UDP 127\.0\.0\.1:0 to device rfnosuch0: no such network interface/);
      return true;
    });
  });

  it('binds to an existing device', async () => {
    const p = await openPort({ device: 'lo' });
    const b = await openPort();
    const got = nextDatagram(p);
    await b.send(Buffer.from('dev'), p.local);
    assert.equal((await got).ifname, 'lo');
  });

  it('a port another program holds is a clear configuration error', async () => {
    const holder: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
    try {
      const taken = { address: '127.0.0.1', port: holder.address().port };
      await assert.rejects(openInterfacePort(taken), (e: unknown) => {
        assert.ok(isRackforgeError(e, 'CONFIG_INVALID'));
        assert.equal(e.message, `cannot bind UDP 127.0.0.1:${taken.port}: another program already uses it`);
        return true;
      });
    } finally {
      holder.close();
    }
  });

  it('an address no interface has is a clear configuration error', async () => {
    await assert.rejects(openInterfacePort({ address: '192.0.2.77', port: 0 }), /no interface has that address/);
  });
});

describe('describeOpenError', () => {
  const local = { address: '0.0.0.0', port: 67 };
  const cases: Array<[string, NodeJS.ErrnoException, RegExp]> = [
    ['EACCES on a low port', errno('EACCES'), /^cannot bind UDP 0\.0\.0\.0:67: ports below 1024 need root or CAP_NET_BIND_SERVICE/],
    ['EPERM on bind', errno('EPERM'), /ports below 1024 need root or CAP_NET_BIND_SERVICE/],
    ['EADDRINUSE', errno('EADDRINUSE'), /^cannot bind UDP 0\.0\.0\.0:67: another program already uses it$/],
    ['EADDRNOTAVAIL', errno('EADDRNOTAVAIL'), /no interface has that address/],
    ['ENODEV', errno('ENODEV', 'setsockopt(SO_BINDTODEVICE)'), /^cannot bind UDP 0\.0\.0\.0:67 to device eth9: no such network interface/],
    ['EPERM on SO_BINDTODEVICE', errno('EPERM', 'setsockopt(SO_BINDTODEVICE)'), /to device eth9: needs CAP_NET_RAW/],
    ['anything else', errno('EMFILE', 'socket'), /^cannot bind UDP 0\.0\.0\.0:67: socket EMFILE$/],
  ];
  for (const [name, err, message] of cases)
    it(name, () => {
      const e = describeOpenError(err, local, 'eth9');
      assert.ok(isRackforgeError(e, 'CONFIG_INVALID'));
      assert.match(e.message, message);
    });
});

describe('iface_udp addon arguments', () => {
  // Bad calls must throw a TypeError, never crash the process.
  const addon = () => loadIfaceUdpAddon();
  const noop = (): void => {};

  it('open rejects bad options and callbacks', () => {
    const a = addon();
    const bad: Array<() => unknown> = [
      () => (a.open as (...x: unknown[]) => unknown)(),
      () => a.open(null as never, noop, noop),
      () => a.open({ address: 'localhost', port: 0 }, noop, noop),
      () => a.open({ address: '127.0.0.1', port: 70000 }, noop, noop),
      () => a.open({ address: '127.0.0.1', port: 1.5 }, noop, noop),
      () => a.open({ address: '127.0.0.1', port: 0, device: 'x'.repeat(40) }, noop, noop),
      () => a.open({ address: '127.0.0.1', port: 0, broadcast: 'yes' as never }, noop, noop),
      () => a.open({ address: '127.0.0.1', port: 0 }, 'nope' as never, noop),
      () => a.open({ address: '127.0.0.1', port: 0, peer: 'x' as never }, noop, noop),
      () => a.open({ address: '127.0.0.1', port: 0, peer: { address: '127.0.0.1', port: 0 } }, noop, noop),
      () => a.open({ address: '127.0.0.1', port: 0, peer: { address: 'host', port: 69 } }, noop, noop),
    ];
    for (const call of bad) assert.throws(call, TypeError);
  });

  it('send, address and close reject a foreign handle and bad values', () => {
    const a = addon();
    const h = a.open({ address: '127.0.0.1', port: 0 }, noop, noop);
    try {
      const bad: Array<() => unknown> = [
        () => a.send({} as NativeHandle, Buffer.from('x'), '127.0.0.1', 9),
        () => a.close(Object.create(null) as NativeHandle),
        () => a.address(42 as never),
        () => a.send(h, 'text' as never, '127.0.0.1', 9),
        () => a.send(h, Buffer.from('x'), '127.0.0.1', 0),
        () => a.send(h, Buffer.from('x'), '::1', 9),
        () => a.send(h, Buffer.from('x'), '127.0.0.1', 9, 'lo', 'not-a-mac'),
        () => a.ifindex(7 as never),
      ];
      for (const call of bad) assert.throws(call, TypeError);
    } finally {
      a.close(h);
    }
  });

  it('ifindex names lo and refuses an unknown device with ENODEV', () => {
    const a = addon();
    assert.ok(a.ifindex('lo') > 0);
    assert.throws(() => a.ifindex('rfnosuch0'), { code: 'ENODEV' });
  });
});
