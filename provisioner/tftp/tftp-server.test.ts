import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SeededRandom } from '../../lib/clock.ts';
import { DecodeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { DatagramPort, Endpoint } from '../net/datagram.ts';
import { MemoryNetwork } from '../net/memory-network.ts';
import { decodeTftp, encodeTftp, type TftpMode, type TftpOption } from '../protocol/tftp.ts';
import { decodeRequest, selectRequestErrorReply, serveTftp, type TftpServerOptions, type TransferReport } from './tftp-server.ts';
import { bufferContent, chainSources, generatedSource, TftpSourceError, type TftpSource } from './tftp-sources.ts';

const SERVER: Endpoint = { address: '10.0.0.1', port: 69 };
const CLIENT_ADDR = '10.0.0.2';

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}
function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function bytes(n: number, seed = n): Buffer {
  return new SeededRandom(seed || 1).bytes(n);
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A map of names to buffers as a source, counting opens. */
function filesSource(files: Record<string, Buffer>): TftpSource & { opens: number; closes: number } {
  const s = {
    opens: 0,
    closes: 0,
    async open(path: string) {
      const b = files[path];
      if (!b) return null;
      s.opens++;
      return { ...bufferContent(b), close: () => void s.closes++ };
    },
  };
  return s;
}

interface FetchResult {
  data: Buffer;
  oack: TftpOption[] | null;
  error: { code: number; message: string } | null;
  /** The server's transfer port. */
  tid: number | null;
  /** DATA packets received (duplicates included). */
  dataPackets: number;
}

interface FetchOptions {
  options?: TftpOption[];
  mode?: TftpMode;
  /** Send every ACK twice (a duplicating network). */
  ackTwice?: boolean;
  /** Re-ACK when nothing arrived for this long; default 30 ms. */
  retransmitMs?: number;
  /** Stop ACKing (a client that vanished). */
  silent?: boolean;
  /** After the OACK, answer ERROR 8 instead of ACK 0 (curl/EDK2 asking only for tsize). */
  abortAfterOack?: boolean;
  /** Called with the client port and the first DATA, to inject trouble mid-transfer. */
  onFirstData?: (tid: Endpoint) => Promise<void> | void;
  /** Send the RRQ twice. */
  repeatRequest?: boolean;
  /** Raw RRQ bytes instead of an encoded one. */
  raw?: Buffer;
}

/** A small RFC 1350/2347/7440 client for the in-memory network. */
async function fetchTftp(net: MemoryNetwork, filename: string, o: FetchOptions = {}): Promise<FetchResult> {
  const port = net.open({ address: CLIENT_ADDR, port: 0 });
  const rrq = o.raw ?? encodeTftp({ op: 'RRQ', filename, mode: o.mode ?? 'octet', options: o.options ?? [] });
  return new Promise<FetchResult>((resolve, reject) => {
    const parts: Buffer[] = [];
    let blksize = 512;
    let windowsize = 1;
    let expected = 1;
    let sinceAck = 0;
    let tid: Endpoint | null = null;
    let lastAck: Buffer | null = null;
    let oack: TftpOption[] | null = null;
    let dataPackets = 0;
    let firstData = true;
    const retransmitMs = o.retransmitMs ?? 30;
    const send = (b: Buffer, to: Endpoint): void => void port.send(b, to);
    const ack = (block: number): void => {
      lastAck = encodeTftp({ op: 'ACK', block: block % 65536 });
      if (o.silent || !tid) return;
      send(lastAck, tid);
      if (o.ackTwice) send(lastAck, tid);
    };
    const finish = (error: FetchResult['error']): void => {
      clearInterval(timer);
      clearTimeout(deadline);
      port.close();
      resolve({ data: Buffer.concat(parts), oack, error, tid: tid?.port ?? null, dataPackets });
    };
    let idle = 0;
    const timer = setInterval(() => {
      if (++idle < 1) return;
      if (!tid) send(rrq, SERVER);
      else if (lastAck && !o.silent) send(lastAck, tid);
    }, retransmitMs);
    // A silent client just goes away after a while, as a crashed PXE ROM would.
    const deadline = setTimeout(() => {
      if (o.silent) return finish(null);
      clearInterval(timer);
      port.close();
      reject(new Error(`fetch ${filename} timed out after ${parts.length} blocks`));
    }, o.silent ? 300 : 15_000);
    port.onMessage((d) => {
      if (tid && (d.from.port !== tid.port || d.from.address !== tid.address)) return;
      let p;
      try {
        p = decodeTftp(d.data);
      } catch {
        return;
      }
      idle = -1;
      tid ??= d.from;
      if (p.op === 'ERROR') return finish({ code: p.code, message: p.message });
      if (p.op === 'OACK') {
        oack = p.options;
        const m = new Map(p.options);
        blksize = Number(m.get('blksize') ?? 512);
        windowsize = Number(m.get('windowsize') ?? 1);
        if (o.abortAfterOack) {
          send(encodeTftp({ op: 'ERROR', code: 8, message: 'tsize only' }), tid);
          return finish(null);
        }
        ack(0);
        return;
      }
      if (p.op !== 'DATA') return;
      dataPackets++;
      if (firstData) {
        firstData = false;
        if (o.onFirstData) {
          const t = tid;
          void Promise.resolve(o.onFirstData(t)).then(() => handleData(p.block, Buffer.from(p.data)));
          return;
        }
      }
      handleData(p.block, p.data);
    });
    function handleData(block: number, data: Buffer): void {
      if (block === expected % 65536) {
        parts.push(Buffer.from(data));
        expected++;
        sinceAck++;
        if (data.length < blksize) {
          ack(expected - 1);
          if (!o.silent) finish(null);
        } else if (sinceAck >= windowsize) {
          sinceAck = 0;
          ack(expected - 1);
        }
      } else {
        sinceAck = 0;
        ack(expected - 1);
      }
    }
    send(rrq, SERVER);
    if (o.repeatRequest) send(rrq, SERVER);
  });
}

interface Harness {
  net: MemoryNetwork;
  reports: TransferReport[];
  lines: LogLine[];
  server: ReturnType<typeof serveTftp>;
  listener: DatagramPort;
  settled(n: number): Promise<void>;
}

function start(source: TftpSource, opts: Partial<TftpServerOptions> = {}, net = new MemoryNetwork()): Harness {
  const reports: TransferReport[] = [];
  const { log, lines } = captureLog();
  const listener = net.open(SERVER);
  const server = serveTftp({
    port: listener,
    openPort: net.opener,
    source,
    log,
    // Long enough that a loaded CI host never sees a spurious retransmission;
    // the tests about timeouts and loss pass their own short delays.
    initialTimeoutMs: 2000,
    maxTimeoutMs: 8000,
    onTransfer: (r) => reports.push(r),
    ...opts,
  });
  const settled = async (n: number): Promise<void> => {
    for (let i = 0; i < 400 && reports.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(reports.length >= n, `expected ${n} reports, have ${reports.length}`);
  };
  return { net, reports, lines, server, listener, settled };
}

/** Sends raw bytes to `to` from a fresh client port and collects what comes back for a while. */
async function rawExchange(net: MemoryNetwork, data: Buffer, to: Endpoint = SERVER, waitMs = 30): Promise<{ replies: Buffer[]; from: Endpoint }> {
  const port = net.open({ address: CLIENT_ADDR, port: 0 });
  const replies: Buffer[] = [];
  port.onMessage((d) => replies.push(d.data));
  await port.send(data, to);
  await new Promise((r) => setTimeout(r, waitMs));
  port.close();
  return { replies, from: port.local };
}

const rrq = (filename: string, mode = 'octet', ...opts: string[]): Buffer =>
  Buffer.concat([Buffer.from([0, 1]), ...[filename, mode, ...opts].map((s) => Buffer.from(s + '\0', 'latin1'))]);

function errorOf(b: Buffer | undefined): { code: number; message: string } {
  assert.ok(b, 'no reply');
  const p = decodeTftp(b);
  assert.equal(p.op, 'ERROR');
  return p.op === 'ERROR' ? { code: p.code, message: p.message } : { code: -1, message: '' };
}

describe('tftp server (in-memory network)', () => {
  const files = {
    'pxelinux.0': bytes(26_000, 1),
    'exact.bin': bytes(1024, 2),
    'empty.bin': Buffer.alloc(0),
    'big.bin': bytes(3_000_000, 3),
    'text.cfg': Buffer.from('DEFAULT linux\r\nLABEL linux\n  KERNEL vmlinuz\rX\n'),
  };

  it('serves a file without options (RFC 1350) and reports it', async () => {
    const h = start(filesSource(files));
    const r = await fetchTftp(h.net, 'pxelinux.0');
    assert.equal(r.error, null);
    assert.equal(r.oack, null);
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    assert.notEqual(r.tid, 69, 'the transfer runs on a fresh port');
    await h.settled(1);
    const rep = h.reports[0]!;
    assert.deepEqual(
      { ...rep, durationMs: 0 },
      { client: rep.client, path: 'pxelinux.0', status: 'complete', bytes: 26_000, size: 26_000, blksize: 512, windowsize: 1, retransmits: 0, durationMs: 0 },
    );
    assert.equal(rep.client.address, CLIENT_ADDR);
    await h.server.close();
  });

  it('sizes that end on a block boundary end with an empty block; empty files work', async () => {
    const h = start(filesSource(files));
    assert.deepEqual((await fetchTftp(h.net, 'exact.bin')).data, files['exact.bin']);
    const e = await fetchTftp(h.net, 'empty.bin', { options: [['tsize', '0']] });
    assert.equal(e.data.length, 0);
    assert.deepEqual(e.oack, [['tsize', '0']]);
    await h.server.close();
  });

  it('negotiates blksize, tsize, timeout and windowsize, capped by the server', async () => {
    const h = start(filesSource(files), { maxBlksize: 1468, maxWindowsize: 8 });
    const r = await fetchTftp(h.net, 'big.bin', { options: [['blksize', '9000'], ['tsize', '0'], ['timeout', '3'], ['windowsize', '16'], ['x-unknown', '1']] });
    assert.deepEqual(r.oack, [['blksize', '1468'], ['timeout', '3'], ['tsize', '3000000'], ['windowsize', '8']]);
    assert.equal(sha(r.data), sha(files['big.bin']));
    await h.settled(1);
    assert.equal(h.reports[0]!.blksize, 1468);
    assert.equal(h.reports[0]!.windowsize, 8);
    await h.server.close();
  });

  it('windowsize: DATA goes out a window at a time', async () => {
    const h = start(filesSource(files));
    const r = await fetchTftp(h.net, 'pxelinux.0', { options: [['windowsize', '4']] });
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    const acks = h.net.sent.filter((s) => s.data[1] === 4 && s.from.address === CLIENT_ADDR).length;
    // 51 blocks: ACK 0 plus one per window of 4 (13 windows).
    assert.equal(acks, 1 + Math.ceil(51 / 4));
    await h.server.close();
  });

  it('completes through loss, retransmitting on timeout', async () => {
    const net = new MemoryNetwork();
    const rnd = new SeededRandom(99);
    net.drop = () => rnd.bytes(1)[0]! < 20; // ~8% of datagrams each way
    const h = start(filesSource(files), { initialTimeoutMs: 20, maxTimeoutMs: 80 }, net);
    const r = await fetchTftp(net, 'pxelinux.0', { options: [['windowsize', '4'], ['blksize', '1024']], retransmitMs: 25 });
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    await h.settled(1);
    assert.equal(h.reports[0]!.status, 'complete');
    assert.ok(h.reports[0]!.retransmits > 0, 'some loss must have been repaired');
    await h.server.close();
  });

  it('duplicate ACKs do not cause retransmissions (no Sorcerer\'s Apprentice)', async () => {
    const h = start(filesSource(files), { initialTimeoutMs: 5000 });
    const r = await fetchTftp(h.net, 'pxelinux.0', { ackTwice: true, retransmitMs: 10_000 });
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    assert.equal(r.dataPackets, 51, 'each block exactly once');
    await h.server.close();
  });

  it('a datagram from another TID gets ERROR 5 and the transfer carries on', async () => {
    const h = start(filesSource(files));
    let stray: { replies: Buffer[] } | undefined;
    const r = await fetchTftp(h.net, 'pxelinux.0', {
      onFirstData: async (tid) => {
        stray = await rawExchange(h.net, encodeTftp({ op: 'ACK', block: 1 }), tid, 10);
      },
    });
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    assert.equal(errorOf(stray!.replies[0]).code, 5);
    assert.ok(h.lines.some((l) => l.level === 'warn' && /unknown transfer ID/.test(l.msg) && typeof l.fields.from === 'string'));
    await h.server.close();
  });

  it('garbage on the listening port is logged with the client address and dropped', async () => {
    const h = start(filesSource(files));
    for (const g of [Buffer.from([1]), Buffer.alloc(0), Buffer.from([0, 9, 1, 2]), Buffer.from([0, 3, 0, 1, 65]), Buffer.from([0xff, 0xff])]) {
      const { replies, from } = await rawExchange(h.net, g);
      assert.deepEqual(replies, [], `no answer to ${g.toString('hex')}`);
      assert.ok(h.lines.some((l) => l.level === 'warn' && l.fields.client === `${from.address}:${from.port}`), `logged ${g.toString('hex')}`);
    }
    const r = await fetchTftp(h.net, 'pxelinux.0');
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    await h.server.close();
  });

  it('garbage on a transfer port from the client is logged and dropped; the transfer completes', async () => {
    const h = start(filesSource(files));
    const r = await fetchTftp(h.net, 'pxelinux.0', {
      onFirstData: async (tid) => {
        // Impersonate the client's own endpoint: the garbage must come from the right TID.
        const c = h.net.sent.find((s) => s.from.address === CLIENT_ADDR)!.from;
        for (const g of [Buffer.from([7]), Buffer.from([0, 9]), encodeTftp({ op: 'DATA', block: 1, data: Buffer.from('x') }), Buffer.from([0, 4, 0])]) {
          h.net.deliver(g, c, tid);
        }
        await new Promise((res) => setTimeout(res, 5));
      },
    });
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    assert.ok(h.lines.filter((l) => l.level === 'warn' && /bad datagram on a transfer port/.test(l.msg)).length >= 4);
    await h.server.close();
  });

  it('WRQ is refused with ERROR 2 (read-only)', async () => {
    const h = start(filesSource(files));
    const { replies } = await rawExchange(h.net, encodeTftp({ op: 'WRQ', filename: 'upload.bin', mode: 'octet', options: [] }));
    assert.equal(errorOf(replies[0]).code, 2);
    await h.settled(1);
    assert.equal(h.reports[0]!.status, 'access-violation');
    await h.server.close();
  });

  it('refuses bad names and modes with the right ERROR, never opening the source', async () => {
    const src = filesSource(files);
    const h = start(src);
    const table: [string, Buffer, number][] = [
      ['dot-dot', rrq('../etc/passwd'), 2],
      ['backslash dot-dot', rrq('..\\..\\etc\\passwd'), 2],
      ['NUL in name', rrq('pxelinux.0\0x'), 2],
      ['control char', rrq('a\nb'), 2],
      ['256-byte name', rrq('a'.repeat(256)), 2],
      ['mail mode', rrq('pxelinux.0', 'mail'), 4],
      ['unknown mode', rrq('pxelinux.0', 'binary'), 4],
      ['empty name', rrq(''), 1],
      ['root directory', rrq('/'), 2],
      ['missing file', rrq('nope'), 1],
    ];
    for (const [name, wire, code] of table) {
      const { replies } = await rawExchange(h.net, wire);
      assert.equal(errorOf(replies[0]).code, code, name);
    }
    assert.equal(src.opens, 0);
    await h.server.close();
  });

  it('source errors map to TFTP errors: access violation, not found, internal error', async () => {
    const src: TftpSource = {
      async open(path) {
        if (path === 'denied') throw new TftpSourceError('TFTP_ACCESS_VIOLATION', 'no');
        if (path === 'gone') throw new TftpSourceError('TFTP_NOT_FOUND');
        throw new Error('database down');
      },
    };
    const h = start(src);
    for (const [name, code, status] of [['denied', 2, 'access-violation'], ['gone', 1, 'not-found'], ['boom', 0, 'error']] as const) {
      const { replies } = await rawExchange(h.net, rrq(name));
      assert.equal(errorOf(replies[0]).code, code, name);
      assert.equal(h.reports.at(-1)!.status, status);
    }
    assert.ok(h.lines.some((l) => l.level === 'error' && /database down/.test(String(l.fields.error))));
    assert.equal(h.server.activeTransfers(), 0);
    await h.server.close();
  });

  it('a retransmitted RRQ from the same endpoint does not start a second transfer', async () => {
    const h = start(filesSource(files));
    const r = await fetchTftp(h.net, 'pxelinux.0', { repeatRequest: true });
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    await h.settled(1);
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(h.reports.length, 1);
    const serverPorts = new Set(h.net.sent.filter((s) => s.from.address === SERVER.address && s.from.port !== 69).map((s) => s.from.port));
    assert.equal(serverPorts.size, 1);
    await h.server.close();
  });

  it('over maxTransfers leaves the request unanswered, so the client retries instead of moving on to another config', async () => {
    const h = start(filesSource(files), { maxTransfers: 1, initialTimeoutMs: 1000 });
    const first = fetchTftp(h.net, 'big.bin', { silent: true }).catch(() => null);
    await new Promise((res) => setTimeout(res, 10));
    assert.equal(h.server.activeTransfers(), 1);
    const { replies } = await rawExchange(h.net, rrq('pxelinux.0'));
    assert.deepEqual(replies, [], 'no ERROR: pxelinux would take it as "no such config" and boot the next one');
    assert.ok(h.lines.some((l) => l.level === 'warn' && /busy/.test(l.msg) && l.fields.path === 'pxelinux.0'));
    await h.server.close();
    await first;
  });

  it('ERROR 8 after the OACK ends the transfer quietly as aborted-by-client', async () => {
    const h = start(filesSource(files));
    const r = await fetchTftp(h.net, 'big.bin', { options: [['tsize', '0']], abortAfterOack: true });
    assert.deepEqual(r.oack, [['tsize', '3000000']]);
    await h.settled(1);
    assert.equal(h.reports[0]!.status, 'aborted-by-client');
    assert.equal(h.reports[0]!.bytes, 0);
    assert.ok(!h.lines.some((l) => l.level === 'warn' || l.level === 'error'));
    await h.server.close();
  });

  it('a client that goes silent times out after bounded retries and its port is closed', async () => {
    const src = filesSource(files);
    const h = start(src, { initialTimeoutMs: 5, maxTimeoutMs: 20, maxRetries: 3 });
    const before = h.net.openPorts;
    const pending = fetchTftp(h.net, 'pxelinux.0', { silent: true }).catch(() => null);
    await h.settled(1);
    const rep = h.reports[0]!;
    assert.equal(rep.status, 'timeout');
    assert.equal(rep.retransmits, 3);
    assert.equal(src.closes, src.opens);
    assert.equal(h.server.activeTransfers(), 0);
    assert.ok(h.net.openPorts <= before + 1, 'only the client port may remain');
    await h.server.close();
    void pending;
  });

  it('netascii converts line ends and does not answer tsize', async () => {
    const h = start(filesSource(files));
    const r = await fetchTftp(h.net, 'text.cfg', { mode: 'netascii', options: [['tsize', '0'], ['blksize', '16']] });
    assert.deepEqual(r.oack, [['blksize', '16']]);
    assert.equal(r.data.toString('latin1'), 'DEFAULT linux\r\0\r\nLABEL linux\r\n  KERNEL vmlinuz\r\0X\r\n');
    await h.server.close();
  });

  it('generated content is served in front of the files', async () => {
    const h = start(chainSources(generatedSource((p, c) => (p === 'pxelinux.0' ? `generated for ${c.address}` : null)), filesSource(files)));
    assert.equal((await fetchTftp(h.net, '/pxelinux.0')).data.toString(), `generated for ${CLIENT_ADDR}`);
    assert.equal(sha((await fetchTftp(h.net, 'big.bin', { options: [['blksize', '1468'], ['windowsize', '16']] })).data), sha(files['big.bin']));
    await h.server.close();
  });

  it('tolerates malformed trailing options (NUL padding) as RFC 2347 asks', async () => {
    const h = start(filesSource(files));
    const padded = Buffer.concat([rrq('pxelinux.0', 'octet', 'blksize', '1024'), Buffer.alloc(3)]);
    const r = await fetchTftp(h.net, 'pxelinux.0', { raw: padded });
    assert.deepEqual(r.oack, [['blksize', '1024']]);
    assert.equal(sha(r.data), sha(files['pxelinux.0']));
    await h.server.close();
  });

  it('300 concurrent transfers all complete with the right bytes', async function () {
    this.timeout(30_000);
    const many: Record<string, Buffer> = {};
    for (let i = 0; i < 300; i++) many[`f${i}`] = bytes(1 + ((i * 7919) % 40_000), i + 10);
    const h = start(filesSource(many), { initialTimeoutMs: 1000 });
    const results = await Promise.all(
      Object.keys(many).map((name, i) => fetchTftp(h.net, name, { options: i % 3 === 0 ? [] : [['blksize', String(512 + i)], ['windowsize', String(1 + (i % 8))], ['tsize', '0']], retransmitMs: 2000 })),
    );
    results.forEach((r, i) => assert.equal(sha(r.data), sha(many[`f${i}`]!), `f${i}`));
    await h.settled(300);
    assert.ok(h.reports.every((r) => r.status === 'complete'));
    assert.equal(h.server.activeTransfers(), 0);
    await h.server.close();
  });

  it('abort closes the listener, every transfer port and every content', async () => {
    const net = new MemoryNetwork();
    const ctl = new AbortController();
    const src = filesSource(files);
    const h = start(src, { signal: ctl.signal, initialTimeoutMs: 1000 }, net);
    const pendings = [0, 1, 2].map(() => fetchTftp(net, 'big.bin', { silent: true }).catch(() => null));
    await new Promise((res) => setTimeout(res, 10));
    assert.equal(h.server.activeTransfers(), 3);
    ctl.abort();
    await h.server.close();
    assert.equal(h.server.activeTransfers(), 0);
    assert.equal(src.closes, 3);
    // Only the three silent clients' ports are left.
    assert.equal(net.openPorts, 3);
    assert.deepEqual(h.reports.map((r) => r.status), ['error', 'error', 'error']);
    void pendings;
  });

  describe('request decoding decisions', () => {
    it('decodeRequest cuts malformed trailing options and keeps the good ones', () => {
      const cases: [Buffer, TftpOption[], boolean][] = [
        [rrq('a', 'octet', 'blksize', '1024'), [['blksize', '1024']], false],
        [Buffer.concat([rrq('a', 'octet', 'blksize', '1024'), Buffer.alloc(2)]), [['blksize', '1024']], true],
        [Buffer.concat([rrq('a', 'octet', 'tsize', '0'), Buffer.from('blksize')]), [['tsize', '0']], true],
        [Buffer.concat([rrq('a', 'octet', 'tsize', '0', 'blksize'), Buffer.from('51')]), [['tsize', '0']], true],
        [rrq('a', 'octet', 'tsize', '0', 'TSIZE', '0'), [['tsize', '0']], true],
      ];
      for (const [wire, options, repaired] of cases) {
        const r = decodeRequest(wire, 255);
        assert.equal(r.packet.op, 'RRQ');
        assert.deepEqual(r.packet.op === 'RRQ' ? r.packet.options : null, options);
        assert.equal(r.repaired, repaired);
      }
    });

    it('selectRequestErrorReply answers malformed requests only', () => {
      const reply = (wire: Buffer): number | null => {
        try {
          decodeRequest(wire, 255);
        } catch (e) {
          assert.ok(e instanceof DecodeError);
          return selectRequestErrorReply(wire, e)?.code ?? null;
        }
        assert.fail('expected a decode error');
      };
      assert.equal(reply(Buffer.from([1])), null);
      assert.equal(reply(Buffer.from([0, 9])), null);
      assert.equal(reply(Buffer.from([0, 4, 0])), null);
      assert.equal(reply(rrq('a'.repeat(256))), 2);
      assert.equal(reply(rrq('a\0b')), 2);
      assert.equal(reply(rrq('a', 'binary')), 4);
      assert.equal(reply(Buffer.from('\0\x01abc')), 4);
      assert.equal(reply(rrq('')), 1);
    });
  });
});
