import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardLocalPort } from './port-forward.ts';
import { labPaths } from './lab-paths.ts';

describe('localhost port forwarded to a unix socket', () => {
  let dir: string;
  let upstream: Server;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rf-fwd-'));
    upstream = createServer((c) => c.on('data', (d) => c.write(Buffer.concat([Buffer.from('echo:'), d]))));
    await new Promise<void>((r) => upstream.listen(join(dir, 's.sock'), () => r()));
  });
  afterEach(async () => {
    await new Promise<void>((r) => upstream.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const talk = (port: number, text: string): Promise<string> => new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1');
    c.once('error', reject);
    c.once('data', (d) => { resolve(d.toString()); c.destroy(); });
    c.write(text);
  });

  it('carries bytes both ways, for several clients, and closes cleanly', async () => {
    const f = await forwardLocalPort(join(dir, 's.sock'));
    assert.ok(f.port > 0);
    assert.deepEqual(await Promise.all([talk(f.port, 'a'), talk(f.port, 'b')]), ['echo:a', 'echo:b']);
    await f.close();
    await assert.rejects(talk(f.port, 'c'), /ECONNREFUSED/);
  });

  it('a client whose target is gone is disconnected, and the listener survives', async () => {
    const f = await forwardLocalPort(join(dir, 'missing.sock'));
    const closed = await new Promise<boolean>((resolve) => {
      const c = connect(f.port, '127.0.0.1');
      c.on('close', () => resolve(true));
      c.on('error', () => undefined);
    });
    assert.ok(closed);
    const g = await forwardLocalPort(join(dir, 's.sock'));
    assert.equal(await talk(g.port, 'x'), 'echo:x');
    await f.close();
    await g.close();
  });

  it('a taken port is an error, not a silent second listener', async () => {
    const f = await forwardLocalPort(join(dir, 's.sock'));
    await assert.rejects(forwardLocalPort(join(dir, 's.sock'), f.port), /EADDRINUSE/);
    await f.close();
  });
});

describe('lab state paths', () => {
  it('refuses a state folder too long for the node sockets under it', () => {
    assert.throws(() => labPaths('/tmp/' + 'x'.repeat(70)), /too long for unix sockets/);
    const p = labPaths('/tmp/lab');
    assert.throws(() => labPaths('/tmp/' + 'x'.repeat(50)).node('n'.repeat(40)), /longer than the 107 bytes/);
    assert.equal(p.node('node1').serialSocket, '/tmp/lab/nodes/node1/serial.sock');
    assert.equal(p.node('node1').disk('disk0'), '/tmp/lab/nodes/node1/disk0.img');
  });
});
