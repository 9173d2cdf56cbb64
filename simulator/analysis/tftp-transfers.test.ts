import assert from 'node:assert/strict';
import { DecodeError } from '../../lib/errors.ts';
import { encodeTftp, type TftpOption } from '../../provisioner/protocol/tftp.ts';
import { bootFileBytes } from './capture-fixtures.ts';
import { TFTP_STALL_SECONDS, TftpTransfers, summarizeTftp, type TftpTransferState } from './tftp-transfers.ts';

const MAC = '52:54:00:12:34:01';
const C = '10.0.0.51';
const S = '10.0.0.1';
const CPORT = 2070;
const SPORT = 40001;
const SEC = 1_000_000_000n;

/** Drives a tracker the way the analyzer does, one datagram per frame, 1 ms apart. */
class Wire {
  readonly t = new TftpTransfers();
  frame = 0;
  ns = 0n;
  private tick(): void {
    this.frame++;
    this.ns += 1_000_000n;
  }
  rrq(filename: string, options: TftpOption[] = [], port = CPORT): TftpTransferState {
    this.tick();
    return this.t.request(this.frame, this.ns, MAC, C, port, S, { op: 'RRQ', filename, mode: 'octet', options }).transfer;
  }
  server(p: Buffer, o: { port?: number; wire?: number; clientPort?: number } = {}): TftpTransferState | undefined {
    this.tick();
    return this.t.datagram(this.frame, this.ns, S, o.port ?? SPORT, C, o.clientPort ?? CPORT, p, o.wire ?? p.length);
  }
  client(p: Buffer, o: { port?: number; clientPort?: number } = {}): TftpTransferState | undefined {
    this.tick();
    return this.t.datagram(this.frame, this.ns, C, o.clientPort ?? CPORT, S, o.port ?? SPORT, p, p.length);
  }
  data(block: number, data: Buffer, o: { wire?: number } = {}): void {
    this.server(encodeTftp({ op: 'DATA', block, data }), o);
  }
  ack(block: number): void {
    this.client(encodeTftp({ op: 'ACK', block }));
  }
  /** Sends a file block by block (block numbers from `wire`), ACKing each. */
  send(content: Buffer, blksize: number, wire: (n: number) => number = (n) => n & 0xffff): void {
    const blocks = Math.floor(content.length / blksize) + 1;
    for (let n = 1; n <= blocks; n++) {
      this.data(wire(n), content.subarray((n - 1) * blksize, Math.min(n * blksize, content.length)));
      this.ack(wire(n));
    }
  }
  report(extraNs = 0n) {
    return this.t.report(0n, this.ns + extraNs);
  }
}

describe('tftp-transfers', () => {
  it('follows a plain RFC 1350 transfer to its last short block', () => {
    const w = new Wire();
    w.rrq('pxelinux.0');
    w.send(Buffer.alloc(1124, 1), 512);
    const [r] = w.report();
    assert.ok(r);
    assert.equal(r.result, 'complete');
    assert.equal(r.bytes, 1124);
    assert.equal(r.blocks, 3);
    assert.equal(r.blksize, 512);
    assert.equal(r.serverPort, SPORT);
    assert.deepEqual(r.frames, { requests: [1], oack: null, firstData: 2, lastData: 6, error: null });
    assert.equal(r.firstFrame, 1);
    assert.equal(r.lastFrame, 7);
    assert.equal(r.durationSeconds, 0.006);
    assert.equal(r.role, 'boot-loader');
    assert.equal(r.firmware, 'bios');
  });

  it('a file of whole blocks ends with an empty block', () => {
    const w = new Wire();
    w.rrq('f');
    w.send(Buffer.alloc(1024), 512);
    const [r] = w.report();
    assert.equal(r?.result, 'complete');
    assert.equal(r?.blocks, 3);
    assert.equal(r?.bytes, 1024);
  });

  it('takes blksize, windowsize and tsize from the OACK', () => {
    const w = new Wire();
    w.rrq('linux', [['tsize', '0'], ['blksize', '1456'], ['windowsize', '4']]);
    w.server(encodeTftp({ op: 'OACK', options: [['tsize', '5000'], ['blksize', '1456'], ['windowsize', '4']] }));
    w.ack(0);
    const content = Buffer.alloc(5000, 7);
    for (let n = 1; n <= 4; n++) w.data(n, content.subarray((n - 1) * 1456, n * 1456));
    w.ack(4);
    const [r] = w.report();
    assert.deepEqual(r?.requested, { tsize: '0', blksize: '1456', windowsize: '4' });
    assert.deepEqual(r?.granted, { tsize: '5000', blksize: '1456', windowsize: '4' });
    assert.equal(r?.blksize, 1456);
    assert.equal(r?.windowsize, 4);
    assert.equal(r?.tsize, 5000);
    assert.equal(r?.bytes, 5000);
    assert.equal(r?.result, 'complete');
    assert.equal(r?.frames.oack, 2);
    assert.equal(r?.optionsIgnored, false);
  });

  for (const [name, wire] of [['0', (n: number) => n & 0xffff], ['1', (n: number) => (n > 0xffff ? ((n - 1) % 0xffff) + 1 : n)]] as const) {
    it(`counts a file past block 65535 (rollover to ${name}) block by block`, () => {
      const w = new Wire();
      w.rrq('big.img', [['blksize', '8']]);
      w.server(encodeTftp({ op: 'OACK', options: [['blksize', '8']] }));
      w.ack(0);
      const content = Buffer.alloc(70_000 * 8 + 3, 1);
      w.send(content, 8, wire);
      const [r] = w.report();
      assert.equal(r?.result, 'complete');
      assert.equal(r?.blocks, 70_001);
      assert.equal(r?.bytes, content.length);
      assert.equal(r?.retransmittedBlocks, 0);
      assert.equal(r?.blocksMissing, 0);
      assert.equal(r?.duplicateAcks, 0);
    });
  }

  it('counts a DATA block sent again as a retransmission, not as bytes, and duplicate ACKs', () => {
    const w = new Wire();
    w.rrq('f');
    const block = Buffer.alloc(512, 1);
    w.data(1, block);
    w.ack(1);
    w.data(2, block);
    w.data(2, block); // the ACK was late: the server sent it again
    w.ack(2);
    w.ack(2);
    w.data(1, block); // a stale copy from much earlier
    w.data(3, Buffer.alloc(10));
    w.ack(3);
    w.data(3, Buffer.alloc(10)); // the last ACK was lost
    w.ack(3);
    const [r] = w.report();
    assert.equal(r?.result, 'complete');
    assert.equal(r?.blocks, 3);
    assert.equal(r?.bytes, 1034);
    assert.equal(r?.retransmittedBlocks, 3);
    assert.equal(r?.retransmittedBytes, 1034);
    assert.equal(r?.duplicateAcks, 2);
    assert.match(summarizeTftp(r!), /3 blocks re-sent/);
  });

  it('counts the bytes of frames the capture cut short from the wire length', () => {
    const w = new Wire();
    w.rrq('f', [['blksize', '1456']]);
    w.server(encodeTftp({ op: 'OACK', options: [['blksize', '1456']] }));
    w.ack(0);
    // Only 100 bytes of each DATA datagram were kept.
    w.server(encodeTftp({ op: 'DATA', block: 1, data: Buffer.alloc(1456) }).subarray(0, 100), { wire: 1460 });
    w.ack(1);
    w.server(encodeTftp({ op: 'DATA', block: 2, data: Buffer.alloc(700) }).subarray(0, 100), { wire: 704 });
    w.ack(2);
    const [r] = w.report();
    assert.equal(r?.bytes, 2156);
    assert.equal(r?.result, 'complete');
  });

  it('notes blocks the capture skipped', () => {
    const w = new Wire();
    w.rrq('f');
    w.data(1, Buffer.alloc(512));
    w.data(4, Buffer.alloc(512));
    w.data(5, Buffer.alloc(1));
    const [r] = w.report();
    assert.equal(r?.blocks, 3);
    assert.equal(r?.blocksMissing, 2);
    assert.match(summarizeTftp(r!), /2 blocks not in the capture/);
  });

  it('reads the first block for a PE header', () => {
    const w = new Wire();
    w.rrq('grub/grubx64.efi');
    w.send(bootFileBytes(600, 0xaa64), 512);
    const [r] = w.report();
    assert.equal(r?.content, 'pe-arm64');
    assert.equal(r?.firmware, 'efi-x64');
  });

  it('a server ERROR ends the transfer with its code and message', () => {
    const w = new Wire();
    w.rrq('pxelinux.cfg/default');
    w.server(encodeTftp({ op: 'ERROR', code: 1, message: 'File not found' }));
    const [r] = w.report();
    assert.equal(r?.result, 'error');
    assert.deepEqual(r?.error, { code: 1, name: 'file not found', message: 'File not found', by: 'server', frame: 2 });
    assert.equal(summarizeTftp(r!), 'TFTP RRQ pxelinux.cfg/default from 10.0.0.1: ERROR 1 (file not found) "File not found"');
  });

  it('EDK2\'s size probe: ERROR 8 after the OACK, then the same file again', () => {
    const w = new Wire();
    w.rrq('grubx64.efi', [['tsize', '0']]);
    w.server(encodeTftp({ op: 'OACK', options: [['tsize', '900']] }));
    w.client(encodeTftp({ op: 'ERROR', code: 8, message: 'User aborted the transfer' }));
    let [probe] = w.report();
    assert.equal(probe?.result, 'aborted');
    assert.equal(probe?.sizeProbe, false, 'not known to be a probe until the next request');
    w.rrq('grubx64.efi', [['blksize', '1456']], CPORT + 1);
    [probe] = w.report();
    assert.equal(probe?.sizeProbe, true);
    assert.equal(probe?.error?.by, 'client');
    assert.equal(w.t.reportOne(w.t.transfers()[0]!, 0n, w.ns).sizeProbe, true);
  });

  it('a request sent again before any answer is one transfer; unanswered it is no-response once the capture went on', () => {
    const w = new Wire();
    w.rrq('pxelinux.0');
    w.rrq('pxelinux.0');
    w.rrq('pxelinux.0');
    assert.equal(w.t.transfers().length, 1);
    assert.equal(w.report()[0]?.result, 'in-progress');
    const [r] = w.report(BigInt(TFTP_STALL_SECONDS) * SEC);
    assert.equal(r?.result, 'no-response');
    assert.equal(r?.requests, 3);
    assert.deepEqual(r?.frames.requests, [1, 2, 3]);
  });

  it('a transfer that stops is in-progress at the end of the capture, timed-out when the capture went on', () => {
    const w = new Wire();
    w.rrq('pxelinux.0');
    w.data(1, Buffer.alloc(512));
    w.ack(1);
    assert.equal(w.report()[0]?.result, 'in-progress');
    assert.equal(w.report(BigInt(TFTP_STALL_SECONDS) * SEC)[0]?.result, 'timed-out');
  });

  it('a new request from the same port ends the one before it', () => {
    const w = new Wire();
    w.rrq('a');
    w.data(1, Buffer.alloc(512));
    const r = w.t.request(++w.frame, w.ns, MAC, C, CPORT, S, { op: 'RRQ', filename: 'b', mode: 'octet', options: [] });
    assert.equal(r.started, true);
    assert.equal(r.closed?.filename, 'a');
    assert.equal(r.closed?.endFrame, 3);
    w.server(encodeTftp({ op: 'DATA', block: 1, data: Buffer.alloc(3) }), { port: SPORT + 1 });
    const [a, b] = w.report();
    assert.equal(a?.result, 'timed-out');
    assert.equal(b?.result, 'complete');
    assert.equal(b?.bytes, 3);
  });

  it('options asked for and answered with DATA: optionsIgnored, 512-byte blocks', () => {
    const w = new Wire();
    w.rrq('f', [['blksize', '1456'], ['tsize', '0']]);
    w.data(1, Buffer.alloc(512));
    const [r] = w.report();
    assert.equal(r?.optionsIgnored, true);
    assert.equal(r?.blksize, 512);
    assert.equal(r?.granted, null);
  });

  it('matches only its own endpoints; packets from a second server port do not count', () => {
    const w = new Wire();
    w.rrq('f');
    assert.equal(w.server(encodeTftp({ op: 'DATA', block: 1, data: Buffer.alloc(512) }), { clientPort: CPORT + 5 }), undefined);
    w.data(1, Buffer.alloc(512));
    assert.ok(w.server(encodeTftp({ op: 'DATA', block: 1, data: Buffer.alloc(512) }), { port: SPORT + 9 }));
    w.data(2, Buffer.alloc(1));
    const [r] = w.report();
    assert.equal(r?.blocks, 2);
    assert.equal(r?.retransmittedBlocks, 0);
    assert.equal(w.t.datagram(99, 0n, '10.9.9.9', 53, '10.9.9.8', 53, Buffer.alloc(4), 4), undefined);
  });

  it('a datagram of a transfer that is not TFTP is a DecodeError', () => {
    const w = new Wire();
    w.rrq('f');
    assert.throws(() => w.server(Buffer.from([0, 9, 0, 0])), (e: unknown) => e instanceof DecodeError && e.code === 'TFTP_BAD_OPCODE');
  });

  it('follows a write request (the client sends the data)', () => {
    const w = new Wire();
    w.frame++;
    w.t.request(w.frame, w.ns, MAC, C, CPORT, S, { op: 'WRQ', filename: 'log.txt', mode: 'octet', options: [] });
    w.server(encodeTftp({ op: 'ACK', block: 0 }));
    w.client(encodeTftp({ op: 'DATA', block: 1, data: Buffer.alloc(20) }));
    w.server(encodeTftp({ op: 'ACK', block: 1 }));
    const [r] = w.report();
    assert.equal(r?.op, 'WRQ');
    assert.equal(r?.result, 'complete');
    assert.equal(r?.bytes, 20);
  });
});
