import assert from 'node:assert/strict';
import { decodeTftp, encodeTftp, negotiateOptions, type TftpPacket } from '../../provisioner/protocol/tftp.ts';
import { VirtualClock } from './clock.ts';
import { TftpRead, type TftpReadOptions, type TftpReadResult, type TftpStep } from './tftp-client.ts';

const TID = 4321;
const through = (p: TftpPacket): TftpPacket => decodeTftp(encodeTftp(p));

interface Wire {
  /** Packets as they left each side, in order. */
  toServer: TftpPacket[];
  toClient: TftpPacket[];
}

/**
 * Runs one read against a lock-step server written here with the codec (negotiateOptions for
 * the OACK, its own retransmission), in virtual time. `drop(dir, n)` loses the n-th packet
 * (from 1) of a direction; `dup(n)` delivers the n-th DATA twice.
 */
async function run(file: Buffer | null, o: Partial<TftpReadOptions> & {
  drop?: (dir: 'up' | 'down', n: number) => boolean; dup?: (n: number) => boolean; options?: boolean; silent?: boolean; errorCode?: number;
} = {}): Promise<{ result: TftpReadResult; wire: Wire; ports: number[] }> {
  const clock = new VirtualClock(0);
  const wire: Wire = { toServer: [], toClient: [] };
  const ports: number[] = [];
  const read = new TftpRead({ filename: 'pxelinux.0', keepData: true, timeoutMs: 1000, retries: 5, ...o });
  let result: TftpReadResult | undefined;
  let up = 0;
  let down = 0;
  let cancelClient = (): void => {};
  let cancelServer = (): void => {};
  // Server state: blocks go out a window at a time from the last ACK (RFC 7440).
  let blksize = 512;
  let windowsize = 1;
  let acked = 0;
  let lastBlockNo = 0;
  let window: TftpPacket[] = [];
  let serverTries = 0;

  const toClient = (p: TftpPacket): void => {
    wire.toClient.push(p);
    down++;
    if (o.drop?.('down', down)) return;
    const copies = p.op === 'DATA' && o.dup?.(p.block) ? 2 : 1;
    for (let i = 0; i < copies; i++) clock.setTimer(5, () => apply(read.receive(through(p), TID)));
  };
  const sendWindow = (packets: TftpPacket[]): void => {
    window = packets;
    for (const p of packets) toClient(p);
    cancelServer();
    serverTries = 0;
    armServer();
  };
  const armServer = (): void => {
    cancelServer = clock.setTimer(1500, () => {
      if (window.length === 0 || ++serverTries > 5) return;
      for (const p of window) toClient(p);
      armServer();
    });
  };
  const blockData = (n: number): TftpPacket => ({ op: 'DATA', block: n & 0xffff, data: file!.subarray((n - 1) * blksize, n * blksize) });
  const windowFrom = (n: number): TftpPacket[] => {
    const out: TftpPacket[] = [];
    for (let b = n; b < n + windowsize && b <= lastBlockNo; b++) out.push(blockData(b));
    return out;
  };
  const server = (p: TftpPacket, port: number): void => {
    ports.push(port);
    if (o.silent) return;
    if (p.op === 'RRQ') {
      if (window.length > 0) return; // a retransmitted RRQ while the transfer runs
      if (!file) { sendWindow([{ op: 'ERROR', code: (o.errorCode ?? 1) as 1, message: 'File not found' }]); window = []; return; }
      const n = negotiateOptions(p.options, { maxBlksize: 1468, maxWindowsize: 8, fileSize: file.length });
      blksize = o.options === false ? 512 : n.blksize;
      windowsize = o.options === false ? 1 : n.windowsize;
      lastBlockNo = Math.floor(file.length / blksize) + 1;
      if (o.options !== false && n.oack.length > 0) { sendWindow([{ op: 'OACK', options: n.oack }]); return; }
      sendWindow(windowFrom(1));
      return;
    }
    if (p.op === 'ERROR') { cancelServer(); window = []; return; }
    if (p.op === 'ACK' && file) {
      // Block numbers wrap; this harness's files stay below 65536 blocks.
      if (p.block < acked || p.block > lastBlockNo) return;
      acked = p.block;
      if (acked === lastBlockNo) { cancelServer(); window = []; return; }
      sendWindow(windowFrom(acked + 1));
    }
  };
  const apply = (step: TftpStep): void => {
    if (step.send) {
      const p = step.send.packet;
      const port = step.send.to ?? read.serverPort ?? 69;
      wire.toServer.push(p);
      up++;
      if (!o.drop?.('up', up)) clock.setTimer(5, () => server(through(p), port));
    }
    if (step.waitMs === null) cancelClient();
    else if (step.waitMs !== undefined) {
      cancelClient();
      cancelClient = clock.setTimer(step.waitMs, () => apply(read.timeout()));
    }
    if (step.done) result = step.done;
  };
  apply(read.start());
  await clock.run(() => result !== undefined, 10_000_000);
  assert.ok(result, 'the read finished');
  return { result, wire, ports };
}

const fileOf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 255));

describe('TftpRead (a PXE ROM reading a file)', () => {
  it('asks for blksize 1456 and tsize, ACKs the OACK with block 0 and reads the file', async () => {
    const file = fileOf(10_000);
    const { result, wire, ports } = await run(file);
    assert.deepEqual(wire.toServer[0], { op: 'RRQ', filename: 'pxelinux.0', mode: 'octet', options: [['tsize', '0'], ['blksize', '1456']] });
    assert.deepEqual(wire.toClient[0], { op: 'OACK', options: [['blksize', '1456'], ['tsize', '10000']] });
    assert.deepEqual(wire.toServer[1], { op: 'ACK', block: 0 });
    assert.deepEqual(wire.toServer.slice(2).map((p) => (p.op === 'ACK' ? p.block : -1)), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(ports[0], 69);
    assert.ok(ports.slice(1).every((p) => p === TID), 'everything after the RRQ goes to the transfer port');
    assert.ok(result.ok);
    assert.equal(result.bytes, 10_000);
    assert.equal(result.blksize, 1456);
    assert.equal(result.tsize, 10_000);
    assert.deepEqual(result.data, file);
  });

  it('reads 512-byte blocks from a server that ignores the options', async () => {
    const file = fileOf(1024);
    const { result, wire } = await run(file, { options: false });
    assert.ok(result.ok);
    assert.equal(result.blksize, 512);
    assert.deepEqual(result.data, file);
    // 1024 = 2 × 512: the end is an empty third block.
    assert.deepEqual(wire.toServer.slice(1).map((p) => (p.op === 'ACK' ? p.block : -1)), [1, 2, 3]);
  });

  it('re-ACKs a duplicate DATA and keeps its bytes once', async () => {
    const file = fileOf(5000);
    const { result, wire } = await run(file, { dup: (b) => b === 2 });
    assert.ok(result.ok);
    assert.deepEqual(result.data, file);
    assert.equal(wire.toServer.filter((p) => p.op === 'ACK' && p.block === 2).length, 2);
  });

  it('survives losing every 3rd packet in each direction', async () => {
    const file = fileOf(30_000);
    const { result, wire } = await run(file, { drop: (_d, n) => n % 3 === 0, retries: 10 });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.data, file);
    assert.ok(wire.toServer.filter((p) => p.op === 'RRQ').length >= 1);
  });

  it('retransmits a lost RRQ', async () => {
    const { result, wire } = await run(fileOf(100), { drop: (d, n) => d === 'up' && n === 1 });
    assert.ok(result.ok);
    assert.equal(wire.toServer.filter((p) => p.op === 'RRQ').length, 2);
  });

  it('fails with the server message on ERROR 1 and says it was not found', async () => {
    const { result } = await run(null);
    assert.deepEqual(result, { ok: false, message: 'TFTP error 1 for pxelinux.0: File not found', errorCode: 1, notFound: true });
    const denied = await run(null, { errorCode: 2 });
    assert.equal(denied.result.ok, false);
    assert.equal(!denied.result.ok && denied.result.notFound, false);
  });

  it('gives up on a silent server after its retries, with a clear error', async () => {
    const { result, wire } = await run(fileOf(100), { silent: true, retries: 3 });
    assert.deepEqual(result, { ok: false, message: 'TFTP timeout for pxelinux.0: no answer to the read request (3 retransmissions)', notFound: false });
    assert.equal(wire.toServer.length, 4);
  });

  it('gives up when DATA stops coming, naming the last block', async () => {
    const { result } = await run(fileOf(20_000), { drop: (d, n) => d === 'down' && n >= 4, retries: 2 });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.message : '', /no DATA after block 2 \(2 retransmissions\)/);
  });

  it('answers a packet from a stranger port with ERROR 5 and carries on', () => {
    const r = new TftpRead({ filename: 'f', keepData: true, timeoutMs: 1000, retries: 3 });
    r.start();
    r.receive({ op: 'OACK', options: [['blksize', '1456']] }, 1000);
    const stranger = r.receive({ op: 'DATA', block: 1, data: Buffer.alloc(10) }, 2000);
    assert.deepEqual(stranger.send, { packet: { op: 'ERROR', code: 5, message: 'Unknown transfer ID' }, to: 2000 });
    assert.equal(stranger.done, undefined);
    const end = r.receive({ op: 'DATA', block: 1, data: Buffer.from('hello') }, 1000);
    assert.deepEqual(end.done, { ok: true, bytes: 5, blksize: 1456, data: Buffer.from('hello') });
  });

  it('refuses an OACK with an option it did not ask for, or a larger blksize', () => {
    const r = new TftpRead({ filename: 'f', keepData: false, timeoutMs: 1000, retries: 3 });
    r.start();
    const step = r.receive({ op: 'OACK', options: [['windowsize', '8']] }, 1000);
    assert.deepEqual(step.send, { packet: { op: 'ERROR', code: 8, message: 'the server acknowledged option windowsize, which was not requested' } });
    assert.equal(step.done?.ok, false);
    const r2 = new TftpRead({ filename: 'f', keepData: false, timeoutMs: 1000, retries: 3 });
    r2.start();
    assert.equal(r2.receive({ op: 'OACK', options: [['blksize', '1468']] }, 1000).send?.packet.op, 'ERROR');
  });

  it('re-ACKs the last block after finishing, when the server repeats it', () => {
    const r = new TftpRead({ filename: 'f', keepData: false, timeoutMs: 1000, retries: 3 });
    r.start();
    r.receive({ op: 'DATA', block: 1, data: Buffer.alloc(3) }, 1000);
    assert.deepEqual(r.receive({ op: 'DATA', block: 1, data: Buffer.alloc(3) }, 1000).send, { packet: { op: 'ACK', block: 1 } });
  });

  it('follows the block number through 65535 back to 0', () => {
    const r = new TftpRead({ filename: 'big', keepData: false, timeoutMs: 1000, retries: 3, blksize: 8, maxBytes: 1 << 30 });
    r.start();
    r.receive({ op: 'OACK', options: [['blksize', '8']] }, 7);
    const full = Buffer.alloc(8);
    for (let n = 1; n <= 65_540; n++) {
      const step = r.receive({ op: 'DATA', block: n & 0xffff, data: full }, 7);
      assert.ok(step.send?.packet.op === 'ACK' && step.send.packet.block === (n & 0xffff), `block ${n}`);
    }
    const end = r.receive({ op: 'DATA', block: 65_541 & 0xffff, data: Buffer.alloc(1) }, 7);
    assert.deepEqual(end.done, { ok: true, bytes: 65_540 * 8 + 1, blksize: 8 });
  });

  it('reads with a window of 4 as EDK2 asks, one ACK per window', async () => {
    const file = fileOf(20_000);
    const { result, wire } = await run(file, { blksize: 1468, windowsize: 4, tsize: false });
    assert.deepEqual(wire.toServer[0], { op: 'RRQ', filename: 'pxelinux.0', mode: 'octet', options: [['blksize', '1468'], ['windowsize', '4']] });
    assert.deepEqual(wire.toClient[0], { op: 'OACK', options: [['blksize', '1468'], ['windowsize', '4']] });
    assert.ok(result.ok);
    assert.deepEqual(result.data, file);
    // 20000 / 1468: 14 blocks, the last short: ACK 0, then 4, 8, 12 and the final 14.
    assert.deepEqual(wire.toServer.slice(1).map((p) => (p.op === 'ACK' ? p.block : -1)), [0, 4, 8, 12, 14]);
  });

  it('recovers a window with a lost block by ACKing the last block in order', async () => {
    const file = fileOf(30_000);
    const { result, wire } = await run(file, { blksize: 1468, windowsize: 4, drop: (d, n) => d === 'down' && (n === 3 || n === 9 || n === 10) });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.data, file);
    const acks = wire.toServer.filter((p) => p.op === 'ACK').map((p) => (p.op === 'ACK' ? p.block : -1));
    assert.ok(acks.includes(1), `the gap after block 1 was answered at once: ${acks}`);
  });

  it("probes the size as EDK2 does: tsize, blksize and windowsize, then ERROR 8 'User aborted the transfer'", async () => {
    const { result, wire } = await run(fileOf(12_345), { probe: true, blksize: 1468, windowsize: 4 });
    assert.deepEqual(wire.toServer.map((p) => p.op), ['RRQ', 'ERROR']);
    assert.deepEqual(wire.toServer[0], { op: 'RRQ', filename: 'pxelinux.0', mode: 'octet', options: [['tsize', '0'], ['blksize', '1468'], ['windowsize', '4']] });
    assert.deepEqual(wire.toServer[1], { op: 'ERROR', code: 8, message: 'User aborted the transfer' });
    assert.deepEqual(result, { ok: true, bytes: 0, blksize: 1468, tsize: 12_345 });
  });

  it('refuses a file larger than its limit, from tsize or while reading', () => {
    const r = new TftpRead({ filename: 'cfg', keepData: true, timeoutMs: 1000, retries: 3, maxBytes: 100 });
    r.start();
    const step = r.receive({ op: 'OACK', options: [['blksize', '1456'], ['tsize', '5000']] }, 1);
    assert.equal(step.send?.packet.op === 'ERROR' && step.send.packet.code, 3);
    assert.match(!step.done?.ok ? step.done!.message : '', /cfg is 5000 bytes, more than 100/);
  });
});
