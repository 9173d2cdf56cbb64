// One TFTP read (RFC 1350, options RFC 2347/2348/2349/7440) as a PXE ROM, pxelinux or EDK2
// does it, without I/O: RRQ with tsize and blksize (and windowsize for EDK2), OACK → ACK 0,
// DATA ACKed once per window (lock-step for window 1), duplicates and gaps answered with an
// ACK of the last in-order block, the last packet retransmitted on silence with a bounded
// number of tries. EDK2's size probe (RRQ, OACK, then ERROR 8) is a read with `probe`.
// The caller owns the UDP port and the timer.
import type { TftpPacket } from '../../provisioner/protocol/tftp.ts';
import { parseOptionValue } from '../../provisioner/protocol/tftp.ts';

/** Fits a 1500-byte MTU: 1456 + 4 (TFTP) + 8 (UDP) + 20 (IP) = 1488; what PXE ROMs ask for. */
export const PXE_BLKSIZE = 1456;
/** EDK2: the IPv4 MTU less IP, UDP and TFTP headers. */
export const EDK2_BLKSIZE = 1468;
/** EDK2's PcdPxeTftpWindowSize default. */
export const EDK2_WINDOWSIZE = 4;
/** The message EDK2 aborts its size probe with. */
export const EDK2_ABORT_MESSAGE = 'User aborted the transfer';
export const TFTP_SERVER_PORT = 69;

export interface TftpReadOptions {
  filename: string;
  blksize?: number;
  /** Ask for the size with tsize 0 (default true). */
  tsize?: boolean;
  /** Ask for a window (RFC 7440); without it the transfer is lock-step. */
  windowsize?: number;
  /** Only learn the size: abort with ERROR 8 once the server answers (EDK2's GetFileSize). */
  probe?: boolean;
  /** Keep the bytes (configs); otherwise only count them (kernels: 500 nodes × 8 MB would not fit). */
  keepData: boolean;
  /** Refuse files larger than this (default: 1 MiB when kept, else 4 GiB: counting costs no memory). */
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
  private windowsize = 1;
  /** In-order blocks received since the last ACK. */
  private unacked = 0;
  /** A gap in the current window has been answered already. */
  private gapAcked = false;
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
    this.maxBytes = o.maxBytes ?? (o.keepData ? 1 << 20 : 2 ** 32);
  }

  /** The server's transfer port, once it answered. */
  get serverPort(): number | undefined {
    return this.peerPort;
  }

  get finished(): boolean {
    return this.state === 'finished';
  }

  start(): TftpStep {
    // pxelinux and EDK2 both put tsize first.
    const options: Array<[string, string]> = [];
    if (this.o.tsize !== false) options.push(['tsize', '0']);
    options.push(['blksize', String(this.askBlksize)]);
    if (this.o.windowsize !== undefined && this.o.windowsize > 1) options.push(['windowsize', String(this.o.windowsize)]);
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
    if (this.lastSent!.op === 'RRQ') return { send: { packet: this.lastSent!, to: TFTP_SERVER_PORT }, waitMs: this.o.timeoutMs };
    // An incomplete window: acknowledge what arrived, and the server goes on from there.
    this.unacked = 0;
    this.lastSent = { op: 'ACK', block: this.lastBlock };
    return { send: { packet: this.lastSent }, waitMs: this.o.timeoutMs };
  }

  private oack(options: readonly (readonly [string, string])[]): TftpStep {
    if (this.state !== 'requesting') {
      // Our ACK 0 was lost and the server repeats its OACK.
      return this.lastBlock === 0 ? this.ack(0) : {};
    }
    let blksize = 512;
    let windowsize = 1;
    for (const [name, value] of options) {
      const n = parseOptionValue(value);
      if (name === 'blksize') {
        if (n === null || n < 8 || n > this.askBlksize) return this.abort(8, `the server's blksize ${value} is not 8-${this.askBlksize}`);
        blksize = n;
      } else if (name === 'tsize' && this.o.tsize !== false) {
        if (n === null) return this.abort(8, `the server's tsize ${value} is not a number`);
        if (n > this.maxBytes && !this.o.probe) return this.abort(3, `${this.o.filename} is ${n} bytes, more than ${this.maxBytes}`);
        this.tsize = n;
      } else if (name === 'windowsize' && (this.o.windowsize ?? 1) > 1) {
        if (n === null || n < 1 || n > this.o.windowsize!) return this.abort(8, `the server's windowsize ${value} is not 1-${this.o.windowsize}`);
        windowsize = n;
      } else {
        // RFC 2347: a server may only acknowledge options the client asked for.
        return this.abort(8, `the server acknowledged option ${name}, which was not requested`);
      }
    }
    this.blksize = blksize;
    this.windowsize = windowsize;
    if (this.o.probe) return this.endProbe();
    this.state = 'receiving';
    return this.ack(0);
  }

  /** EDK2 has what it asked for (or learns the server takes no options): it aborts the read. */
  private endProbe(): TftpStep {
    this.state = 'finished';
    return {
      send: { packet: { op: 'ERROR', code: 8, message: EDK2_ABORT_MESSAGE } },
      waitMs: null,
      done: { ok: true, bytes: 0, blksize: this.blksize, ...(this.tsize !== undefined ? { tsize: this.tsize } : {}) },
    };
  }

  private data(block: number, data: Buffer): TftpStep {
    if (this.state === 'requesting') {
      // No OACK: the server ignored our options and sends 512-byte blocks one by one (RFC 1350).
      if (block !== 1) return {};
      this.blksize = 512;
      this.windowsize = 1;
      if (this.o.probe) return this.endProbe();
      this.state = 'receiving';
    }
    const expected = (this.lastBlock + 1) & 0xffff;
    if (block !== expected) {
      // A duplicate, or a gap in a window: say again what we have, so that the server
      // resends from there (RFC 7440 §4). Within a window, once per loss is enough.
      if (this.windowsize > 1 && this.gapAcked) return {};
      this.gapAcked = true;
      return this.ack(this.lastBlock);
    }
    if (data.length > this.blksize) return this.abort(4, `block ${block} carries ${data.length} bytes, more than blksize ${this.blksize}`);
    this.bytes += data.length;
    if (this.bytes > this.maxBytes) return this.abort(3, `${this.o.filename} exceeds ${this.maxBytes} bytes`);
    // DATA is a view into a received frame, which is not ours to keep.
    if (this.o.keepData && data.length > 0) this.chunks.push(Buffer.from(data));
    this.lastBlock = block;
    this.gapAcked = false;
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
    this.unacked++;
    if (this.unacked >= this.windowsize) return this.ack(block);
    this.timeouts = 0;
    return { waitMs: this.o.timeoutMs };
  }

  private ack(block: number): TftpStep {
    this.timeouts = 0;
    this.unacked = 0;
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
