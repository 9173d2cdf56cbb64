// The TFTP server against the clients PXE setups are debugged with: tftp-hpa, curl and atftp,
// on 127.0.0.1 only, plus raw node:dgram datagrams for what no client sends on purpose.
// A missing client is a failure that names its Debian package, never a skip: this suite is
// the evidence that the server interoperates.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../lib/log.ts';
import type { DatagramPort, Endpoint, PortOpener } from '../provisioner/net/datagram.ts';
import { openInterfacePortFor } from '../provisioner/net/interface-port.ts';
import { openUdpPort } from '../provisioner/net/udp-port.ts';
import { decodeTftp, encodeTftp, type TftpOption, type TftpPacket } from '../provisioner/protocol/tftp.ts';
import { serveTftp, type TftpServerHandle, type TransferReport } from '../provisioner/tftp/tftp-server.ts';
import { chainSources, generatedSource, rootDirSource } from '../provisioner/tftp/tftp-sources.ts';

const HOST = '127.0.0.1';
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function requireClient(bin: string, pkg: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`]);
  if (r.status !== 0) assert.fail(`the ${bin} client is not installed: apt-get install ${pkg} (Debian package "${pkg}")`);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}
/** Runs a client without blocking the event loop the server lives on. */
function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A UDP socket on loopback with a queue of what arrives. */
async function udpSocket(): Promise<{
  port: number;
  send(b: Buffer, port: number): Promise<void>;
  next(ms?: number): Promise<{ msg: Buffer; port: number } | null>;
  close(): void;
}> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  const queue: { msg: Buffer; port: number }[] = [];
  let waiter: (() => void) | null = null;
  s.on('message', (msg, rinfo) => {
    queue.push({ msg, port: rinfo.port });
    waiter?.();
  });
  return {
    port: s.address().port,
    send: (b, port) => new Promise((r, j) => s.send(b, port, HOST, (e) => (e ? j(e) : r()))),
    async next(ms = 2000) {
      if (queue.length === 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, ms);
          waiter = () => {
            clearTimeout(t);
            r();
          };
        });
        waiter = null;
      }
      return queue.shift() ?? null;
    },
    close: () => s.close(),
  };
}

const decode = (b: Buffer | undefined): TftpPacket | null => {
  if (!b) return null;
  try {
    return decodeTftp(b);
  } catch {
    return null;
  }
};

describe('tftp server with real clients on 127.0.0.1', function () {
  this.timeout(60_000);

  const files: Record<string, Buffer> = {
    'small.bin': randomBytes(1000),
    'exact.bin': randomBytes(1024),
    'empty.bin': Buffer.alloc(0),
    'medium.bin': randomBytes(3 * 1024 * 1024 + 7),
    // 65,561 blocks at blksize 512: the block number rolls over past 65535.
    'big.bin': randomBytes(32 * 1024 * 1024 + 12_345),
    'sub/dir/file.cfg': Buffer.from('DEFAULT menu\nLABEL local\r\n  LOCALBOOT 0\n'),
  };
  const generated = randomBytes(300_000);
  let base: string;
  let root: string;
  let server: TftpServerHandle;
  let port: number;
  const reports: TransferReport[] = [];
  const lines: LogLine[] = [];
  const oacks: { to: Endpoint; options: TftpOption[] }[] = [];

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'rf-tftp-real-'));
    root = join(base, 'root');
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(join(root, name, '..'), { recursive: true });
      writeFileSync(join(root, name), data);
    }
    writeFileSync(join(base, 'secret.txt'), 'root:x:0:0:secret outside the root\n');
    symlinkSync('/etc/passwd', join(root, 'passwd-link'));
    symlinkSync(join(base, 'secret.txt'), join(root, 'secret-link'));
    symlinkSync('/etc', join(root, 'etc-link'));
    symlinkSync('small.bin', join(root, 'inside-link'));

    const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => {
      lines.push({ level, msg, fields });
      if (process.env.TFTP_TEST_LOG) process.stderr.write(`${level} ${msg} ${JSON.stringify(fields)}\n`);
    };
    const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    // Record the OACKs the transfer ports send, to check what was negotiated with each client.
    const record = (data: Buffer, to: Endpoint): void => {
      if (data[0] === 0 && data[1] === 6) {
        const pkt = decodeTftp(data);
        if (pkt.op === 'OACK') oacks.push({ to: { address: to.address, port: to.port }, options: pkt.options });
      }
    };
    // The transfer ports `rackforge serve` uses: the native addon's, connected to the client.
    const openPort: PortOpener = async (local, peer) => {
      const p = await openInterfacePortFor(local, peer);
      const recording: DatagramPort = {
        get local() {
          return p.local;
        },
        onMessage: (h) => p.onMessage(h),
        close: () => p.close(),
        send(data, to) {
          record(data, to);
          return p.send(data, to);
        },
        post(data, to, onError) {
          record(data, to);
          p.post(data, to, onError);
        },
      };
      return recording;
    };
    const listener = await openUdpPort({ address: HOST, port: 0 });
    port = listener.local.port;
    server = serveTftp({
      port: listener,
      openPort,
      source: chainSources(
        generatedSource((path) => (path === 'generated/menu.bin' ? generated : null)),
        rootDirSource(root),
      ),
      log,
      onTransfer: (r) => reports.push(r),
    });
  });

  after(async () => {
    await server?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const local = (name: string): string => join(base, `dl-${name.replace(/[^a-z0-9.]/gi, '_')}-${Math.random().toString(36).slice(2)}`);
  /**
   * The first report for `path` made after `mark` (reports.length before the client ran). A
   * client may exit as soon as it has sent its last ACK, before the server has read it, so
   * wait a little for the report.
   */
  const reportAfter = async (mark: number, path: string): Promise<TransferReport | undefined> => {
    for (let i = 0; i < 100; i++) {
      const r = reports.slice(mark).find((x) => x.path === path);
      if (r) return r;
      await new Promise((res) => setTimeout(res, 20));
    }
    return undefined;
  };

  describe('tftp-hpa', () => {
    beforeEach(() => {
      requireClient('tftp', 'tftp-hpa');
      const v = spawnSync('tftp', ['-V']);
      assert.match(String(v.stdout) + String(v.stderr), /tftp-hpa/, 'the tftp on PATH is not tftp-hpa: apt-get install tftp-hpa (Debian package "tftp-hpa")');
    });
    const get = (name: string, out: string, ...flags: string[]) => run('tftp', [...flags, HOST, String(port), '-c', 'get', name, out]);

    it('downloads small, block-aligned, empty and 3 MB files in binary mode', async () => {
      for (const name of ['small.bin', 'exact.bin', 'empty.bin', 'medium.bin']) {
        const out = local(name);
        const r = await get(name, out, '-m', 'binary');
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr + r.stdout, /Error code/);
        assert.equal(sha(readFileSync(out)), sha(files[name]!), name);
      }
    });

    it('downloads a file over 32 MB at blksize 512 (block number rollover)', async function () {
      // 65,000+ lock-step round trips: about 25 s on two loaded cores, so well past run()'s default.
      this.timeout(200_000);
      const out = local('big');
      const mark = reports.length;
      const r = await run('tftp', ['-m', 'binary', '-v', HOST, String(port), '-c', 'get', 'big.bin', out], 180_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Received ${files['big.bin']!.length} bytes`));
      assert.equal(sha(readFileSync(out)), sha(files['big.bin']!));
      const rep = await reportAfter(mark, 'big.bin');
      assert.equal(rep?.status, 'complete');
      assert.equal(rep?.blksize, 512);
    });

    it('netascii mode: the client gets its line ends back unchanged', async () => {
      const out = local('cfg');
      const r = await get('sub/dir/file.cfg', out, '-m', 'netascii');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readFileSync(out), files['sub/dir/file.cfg']);
    });

    it('backslash separators and a leading slash name files under the root', async () => {
      for (const name of ['sub\\dir\\file.cfg', '/sub/dir/file.cfg']) {
        const out = local('bs');
        const r = await get(name, out, '-m', 'binary');
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(readFileSync(out), files['sub/dir/file.cfg'], name);
      }
    });

    it('errors: missing file, "..", symlinks out of the root; never the content', async () => {
      const table: [string, RegExp][] = [
        ['missing.bin', /Error code 1/],
        ['../etc/passwd', /Error code 2/],
        ['../../../../etc/passwd', /Error code 2/],
        ['passwd-link', /Error code 2/],
        ['secret-link', /Error code 2/],
        ['etc-link/passwd', /Error code 2/],
      ];
      for (const [name, want] of table) {
        const out = local('neg');
        const r = await get(name, out, '-m', 'binary');
        // tftp-hpa exits 0 even on an error packet; its message and the empty file tell.
        assert.match(r.stderr + r.stdout, want, name);
        const got = existsSync(out) ? readFileSync(out) : Buffer.alloc(0);
        assert.equal(got.length, 0, `${name}: nothing may be written`);
      }
    });
  });

  describe('curl', () => {
    beforeEach(() => requireClient('curl', 'curl'));

    it('downloads with the default blksize, negotiating tsize (over 32 MB: rollover)', async () => {
      const out = local('curl-big');
      const r = await run('curl', ['-sS', '-v', '--max-time', '40', '-o', out, `tftp://${HOST}:${port}/big.bin`], 45_000);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha(readFileSync(out)), sha(files['big.bin']!));
      // curl asks tsize 0 and reads the answer back from the OACK.
      assert.match(r.stderr, new RegExp(`tsize parsed from OACK \\(${files['big.bin']!.length}\\)`));
      const sent = oacks.filter((o) => new Map(o.options).get('tsize') === String(files['big.bin']!.length));
      assert.ok(sent.length > 0, 'the server sent tsize in an OACK');
    });

    it('downloads with --tftp-blksize 1468', async () => {
      const mark = reports.length;
      for (const name of ['medium.bin', 'generated/menu.bin', 'inside-link']) {
        const out = local('curl');
        const r = await run('curl', ['-sS', '--tftp-blksize', '1468', '--max-time', '20', '-o', out, `tftp://${HOST}:${port}/${name}`]);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        const want = name === 'generated/menu.bin' ? generated : name === 'inside-link' ? files['small.bin']! : files[name]!;
        assert.equal(sha(readFileSync(out)), sha(want), name);
      }
      assert.equal((await reportAfter(mark, 'medium.bin'))?.blksize, 1468);
    });

    it('downloads with --tftp-no-options (plain RFC 1350)', async () => {
      const out = local('curl-noopt');
      const r = await run('curl', ['-sS', '--tftp-no-options', '--max-time', '20', '-o', out, `tftp://${HOST}:${port}/exact.bin`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readFileSync(out), files['exact.bin']);
    });

    it('errors: 68 for a missing file, 69 for "..", and symlinks out of the root', async () => {
      const table: [string, number][] = [
        ['missing.bin', 68],
        ['../etc/passwd', 69],
        ['passwd-link', 69],
        ['etc-link/passwd', 69],
      ];
      for (const [name, code] of table) {
        const out = local('curl-neg');
        const r = await run('curl', ['-sS', '--path-as-is', '--max-time', '10', '-o', out, `tftp://${HOST}:${port}/${name}`]);
        assert.equal(r.code, code, `${name}: ${r.stderr}`);
        assert.ok(!existsSync(out) || readFileSync(out).length === 0, name);
      }
    });
  });

  describe('atftp', () => {
    beforeEach(() => requireClient('atftp', 'atftp'));
    const get = (name: string, out: string, ...opts: string[]) =>
      run('atftp', [...opts.flatMap((o) => ['--option', o]), '-g', '-r', name, '-l', out, HOST, String(port)]);

    it('downloads with windowsize 16, blksize 1428 and tsize (RFC 7440)', async () => {
      const mark = reports.length;
      for (const name of ['big.bin', 'generated/menu.bin', 'small.bin', 'exact.bin']) {
        const out = local('atftp');
        const r = await get(name, out, 'windowsize 16', 'blksize 1428', 'tsize 0');
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        const want = name === 'generated/menu.bin' ? generated : files[name]!;
        assert.equal(sha(readFileSync(out)), sha(want), name);
      }
      const rep = await reportAfter(mark, 'big.bin');
      assert.equal(rep?.status, 'complete');
      assert.equal(rep?.windowsize, 16);
      assert.equal(rep?.blksize, 1428);
      const oack = oacks.find((o) => o.to.port === rep?.client.port);
      assert.deepEqual(oack?.options, [['blksize', '1428'], ['tsize', String(files['big.bin']!.length)], ['windowsize', '16']]);
    });

    it('downloads without options', async () => {
      const out = local('atftp-plain');
      const r = await get('medium.bin', out);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha(readFileSync(out)), sha(files['medium.bin']!));
    });

    it('errors: missing file, "..", a symlink out of the root', async () => {
      for (const name of ['missing.bin', '../etc/passwd', 'secret-link']) {
        const out = local('atftp-neg');
        const r = await get(name, out);
        assert.notEqual(r.code, 0, name);
        assert.match(r.stderr + r.stdout, /file not found|access violation/, name);
        assert.ok(!existsSync(out) || !readFileSync(out).toString().includes('root:'), name);
      }
    });
  });

  describe('raw datagrams', () => {
    /** Reads a whole file over a raw socket, lock-step, from the server's TID. */
    async function rawGet(name: string, during?: (sock: Awaited<ReturnType<typeof udpSocket>>, tid: number) => Promise<void>): Promise<Buffer> {
      const sock = await udpSocket();
      try {
        await sock.send(encodeTftp({ op: 'RRQ', filename: name, mode: 'octet', options: [] }), port);
        const parts: Buffer[] = [];
        let expected = 1;
        let tid = -1;
        for (;;) {
          const m = await sock.next();
          assert.ok(m, `no DATA ${expected}`);
          if (tid < 0) tid = m.port;
          if (m.port !== tid) continue;
          const p = decode(m.msg);
          assert.ok(p && p.op === 'DATA', `expected DATA, got ${m.msg.toString('hex').slice(0, 40)}`);
          if (p.block !== expected % 65536) continue;
          parts.push(Buffer.from(p.data));
          if (expected === 1 && during) await during(sock, tid);
          await sock.send(encodeTftp({ op: 'ACK', block: expected % 65536 }), tid);
          expected++;
          if (p.data.length < 512) return Buffer.concat(parts);
        }
      } finally {
        sock.close();
      }
    }

    async function exchange(data: Buffer, to = port, waitMs = 300): Promise<{ reply: TftpPacket | null; from: number }> {
      const sock = await udpSocket();
      try {
        await sock.send(data, to);
        const m = await sock.next(waitMs);
        return { reply: decode(m?.msg), from: sock.port };
      } finally {
        sock.close();
      }
    }
    const req = (opcode: number, ...strings: string[]): Buffer =>
      Buffer.concat([Buffer.from([0, opcode]), ...strings.map((s) => Buffer.from(s + '\0', 'latin1'))]);

    it('a one-byte datagram to the listening port is logged and dropped; downloads still work', async () => {
      const { reply, from } = await exchange(Buffer.from([0x01]));
      assert.equal(reply, null);
      assert.ok(lines.some((l) => l.level === 'warn' && l.fields.client === `${HOST}:${from}`), 'logged with the client address');
      assert.deepEqual(await rawGet('small.bin'), files['small.bin']);
    });

    it('a one-byte datagram to a transfer port does not disturb the transfer; another TID gets ERROR 5', async () => {
      let stray: TftpPacket | null = null;
      const got = await rawGet('medium.bin', async (sock, tid) => {
        await sock.send(Buffer.from([0x04]), tid); // from the client's own endpoint
        await sock.send(Buffer.alloc(0), tid);
        stray = (await exchange(encodeTftp({ op: 'ACK', block: 1 }), tid)).reply; // from elsewhere
      });
      assert.equal(sha(got), sha(files['medium.bin']!));
      assert.deepEqual(stray, { op: 'ERROR', code: 5, message: 'unknown transfer ID' });
      assert.ok(lines.some((l) => l.level === 'warn' && /transfer port/.test(l.msg)));
    });

    it('refuses NUL in the name, an over-long name, mail mode, WRQ and unknown modes with ERRORs', async () => {
      const table: [string, Buffer, number][] = [
        ['NUL in name', req(1, 'small.bin', 'x', 'octet'), 2],
        ['over-long name', req(1, 'a'.repeat(300), 'octet'), 2],
        ['mail mode', req(1, 'small.bin', 'mail'), 4],
        ['unknown mode', req(1, 'small.bin', 'binary'), 4],
        ['WRQ', req(2, 'upload.bin', 'octet'), 2],
        ['WRQ over an existing file', req(2, 'small.bin', 'octet'), 2],
      ];
      for (const [name, wire, code] of table) {
        const { reply } = await exchange(wire);
        assert.ok(reply && reply.op === 'ERROR', `${name}: expected an ERROR`);
        assert.equal(reply.code, code, name);
      }
      assert.deepEqual(readFileSync(join(root, 'small.bin')), files['small.bin']);
    });

    it('garbage of every kind leaves the server serving', async () => {
      const garbage = [Buffer.alloc(0), Buffer.from([0, 0]), Buffer.from([0, 7, 1]), Buffer.from([0, 3, 0, 1]), Buffer.from([0, 4, 0, 1]), Buffer.from([0, 6]), randomBytes(600), Buffer.from([0, 1, 0x41])];
      for (const g of garbage) await exchange(g, port, 50);
      assert.deepEqual(await rawGet('exact.bin'), files['exact.bin']);
      assert.deepEqual(lines.filter((l) => l.level === 'error'), []);
    });
  });
});
