// One TFTP read (RFC 1350, options RFC 2347/2348/2349) as a PXE ROM or pxelinux does it,
// without I/O: RRQ with blksize 1456 and tsize, OACK → ACK 0, DATA in lock-step (window 1)
// with an ACK each, duplicates re-ACKed, the last packet retransmitted on silence with a
// bounded number of tries. The caller owns the UDP port and the timer.
import type { TftpPacket } from '../../provisioner/protocol/tftp.ts';
import { parseOptionValue } from '../../provisioner/protocol/tftp.ts';

/** Fits a 1500-byte MTU: 1456 + 4 (TFTP) + 8 (UDP) + 20 (IP) = 1488; what PXE ROMs ask for. */
export const PXE_BLKSIZE = 1456;
export const TFTP_SERVER_PORT = 69;

export interface TftpReadOptions {
  filename: string;
  blksize?: number;
  /** Ask for the size with tsize 0 (default true). */
  tsize?: boolean;
  /** Keep the bytes (configs); otherwise only count them (kernels: 500 nodes × 8 MB would not fit). */
  keepData: boolean;
  /** Refuse files larger than this (default 64 MiB; a kept file 1 MiB). */
  maxBytes?: number;
  /** Wait for an answer before retransmitting. */
  timeoutMs: number;
  /** Retransmissions before giving up. */
  retries: number;
}

export type TftpReadResult =
  | { ok: true; bytes: number; data?: Buffer; blksize: number; tsize?: number }
  | { ok: false; message: string; errorCode?: number; notFound: boolean };

/** `to` undefined: the server's transfer port (TID) once known, else port 69. */
export interface TftpStep {
  send?: { packet: TftpPacket; to?: number };
  waitMs?: number | null;
  done?: TftpReadResult;
}

type State = 'requesting' | 'receiving' | 'finished';

export class TftpRead {
  private state: State = 'requesting';
  private peerPort: number | undefined;
  private blksize = 512;
  private readonly askBlksize: number;
  private tsize: number | undefined;
  private lastBlock = 0;
  private bytes = 0;
  private chunks: Buffer[] = [];
  private lastSent: TftpPacket | undefined;
  private timeouts = 0;
  private finalAck: TftpPacket | undefined;
  private readonly maxBytes: number;

  constructor(private readonly o: TftpReadOptions) {
    this.askBlksize = o.blksize ?? PXE_BLKSIZE;
    this.maxBytes = o.maxBytes ?? (o.keepData ? 1 << 20 : 64 << 20);
  }

  /** The server's transfer port, once it answered. */
  get serverPort(): number | undefined {
    return this.peerPort;
  }

  get finished(): boolean {
    return this.state === 'finished';
  }

  start(): TftpStep {
    const options: Array<[string, string]> = [['blksize', String(this.askBlksize)]];
    if (this.o.tsize !== false) options.push(['tsize', '0']);
    const rrq: TftpPacket = { op: 'RRQ', filename: this.o.filename, mode: 'octet', options };
    this.lastSent = rrq;
    return { send: { packet: rrq, to: TFTP_SERVER_PORT }, waitMs: this.o.timeoutMs };
  }

  receive(p: TftpPacket, fromPort: number): TftpStep {
    if (this.state === 'finished') {
      // Dallying (RFC 1350 §6): our last ACK was lost and the server sends the last block again.
      if (p.op === 'DATA' && fromPort === this.peerPort && this.finalAck && p.block === this.lastBlock) return { send: { packet: this.finalAck } };
      return {};
    }
    if (this.peerPort === undefined) {
      this.peerPort = fromPort;
    } else if (fromPort !== this.peerPort) {
      // Another server (or an old transfer) answering: tell it, keep ours (RFC 1350 §4).
      return { send: { packet: { op: 'ERROR', code: 5, message: 'Unknown transfer ID' }, to: fromPort } };
    }
    switch (p.op) {
      case 'ERROR':
        return this.fail(`TFTP error ${p.code} for ${this.o.filename}: ${p.message}`, p.code);
      case 'OACK':
        return this.oack(p.options);
      case 'DATA':
        return this.data(p.block, p.data);
      default:
        return this.abort(4, `unexpected ${p.op} during a read of ${this.o.filename}`);
    }
  }

  timeout(): TftpStep {
    if (this.state === 'finished') return {};
    if (this.timeouts >= this.o.retries) {
      this.state = 'finished';
      const what = this.bytes === 0 && this.lastBlock === 0 && this.peerPort === undefined ? 'no answer to the read request' : `no DATA after block ${this.lastBlock}`;
      return { waitMs: null, done: { ok: false, message: `TFTP timeout for ${this.o.filename}: ${what} (${this.o.retries} retransmissions)`, notFound: false } };
    }
    this.timeouts++;
    return { send: { packet: this.lastSent!, ...(this.lastSent!.op === 'RRQ' ? { to: TFTP_SERVER_PORT } : {}) }, waitMs: this.o.timeoutMs };
  }

  private oack(options: readonly (readonly [string, string])[]): TftpStep {
    if (this.state !== 'requesting') {
      // Our ACK 0 was lost and the server repeats its OACK.
      return this.lastBlock === 0 ? this.ack(0) : {};
    }
    let blksize = 512;
    for (const [name, value] of options) {
      const n = parseOptionValue(value);
      if (name === 'blksize') {
        if (n === null || n < 8 || n > this.askBlksize) return this.abort(8, `the server's blksize ${value} is not 8-${this.askBlksize}`);
        blksize = n;
      } else if (name === 'tsize' && this.o.tsize !== false) {
        if (n === null) return this.abort(8, `the server's tsize ${value} is not a number`);
        if (n > this.maxBytes) return this.abort(3, `${this.o.filename} is ${n} bytes, more than ${this.maxBytes}`);
        this.tsize = n;
      } else {
        // RFC 2347: a server may only acknowledge options the client asked for.
        return this.abort(8, `the server acknowledged option ${name}, which was not requested`);
      }
    }
    this.blksize = blksize;
    this.state = 'receiving';
    return this.ack(0);
  }

  private data(block: number, data: Buffer): TftpStep {
    if (this.state === 'requesting') {
      // No OACK: the server ignored our options and sends 512-byte blocks (RFC 1350).
      if (block !== 1) return {};
      this.blksize = 512;
      this.state = 'receiving';
    }
    const expected = (this.lastBlock + 1) & 0xffff;
    if (block !== expected) {
      // A duplicate: ACK it again so that a server waiting for that ACK moves on.
      return block === this.lastBlock ? this.ack(this.lastBlock) : {};
    }
    if (data.length > this.blksize) return this.abort(4, `block ${block} carries ${data.length} bytes, more than blksize ${this.blksize}`);
    this.bytes += data.length;
    if (this.bytes > this.maxBytes) return this.abort(3, `${this.o.filename} exceeds ${this.maxBytes} bytes`);
    // DATA is a view into a received frame, which is not ours to keep.
    if (this.o.keepData && data.length > 0) this.chunks.push(Buffer.from(data));
    this.lastBlock = block;
    if (data.length < this.blksize) {
      this.state = 'finished';
      this.finalAck = { op: 'ACK', block };
      const result: TftpReadResult = {
        ok: true, bytes: this.bytes, blksize: this.blksize,
        ...(this.o.keepData ? { data: Buffer.concat(this.chunks) } : {}),
        ...(this.tsize !== undefined ? { tsize: this.tsize } : {}),
      };
      this.chunks = [];
      return { send: { packet: this.finalAck }, waitMs: null, done: result };
    }
    return this.ack(block);
  }

  private ack(block: number): TftpStep {
    this.timeouts = 0;
    const p: TftpPacket = { op: 'ACK', block };
    this.lastSent = p;
    return { send: { packet: p }, waitMs: this.o.timeoutMs };
  }

  private abort(code: 3 | 4 | 8, message: string): TftpStep {
    this.state = 'finished';
    return {
      send: { packet: { op: 'ERROR', code, message: message.slice(0, 200) } },
      waitMs: null,
      done: { ok: false, message: `TFTP transfer of ${this.o.filename} aborted: ${message}`, errorCode: code, notFound: false },
    };
  }

  private fail(message: string, code: number): TftpStep {
    this.state = 'finished';
    return { waitMs: null, done: { ok: false, message, errorCode: code, notFound: code === 1 } };
  }
}
