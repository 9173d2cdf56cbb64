import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isRackforgeError } from '../../lib/errors.ts';
import type { Datagram, DatagramPort, Endpoint } from './datagram.ts';
import { describeOpenError, openInterfacePort } from './interface-port.ts';
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
