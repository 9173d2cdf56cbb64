// The client side of one TCP connection (RFC 9293), as little of it as one HTTP GET needs,
// without I/O: SYN with MSS 1460 and a 65535-byte window (no scaling, no SACK, no
// timestamps), the request once established, in-order data ACKed cumulatively, out-of-order
// segments dropped with a duplicate ACK so that the server (Linux) retransmits, FIN answered
// with our own FIN, RST fatal. SYN, request data and FIN are retransmitted with exponential
// backoff and a bounded number of tries. The caller owns the addresses and the timer.
import { seqAdd, seqLt, type TcpFlags, type TcpSegment } from '../../provisioner/protocol/tcp.ts';

export const SYNTHETIC_MSS = 1460;
export const SYNTHETIC_WINDOW = 65535;

/** A segment to send; the caller adds ports and addresses. */
export interface TcpOut {
  seq: number;
  ack: number;
  flags: Partial<TcpFlags>;
  window: number;
  mss?: number;
  payload?: Buffer;
}

export interface TcpClientOptions {
  isn: number;
  /** First retransmission timeout; doubled on each retry. */
  rtoMs: number;
  /** Retransmissions of one segment before the connection fails. */
  retries: number;
  /** Silence from the server (nothing outstanding from us) tolerated before failing. */
  idleMs: number;
  /** Sent once the connection is established. */
  request: Buffer;
}

export interface TcpStep {
  send: TcpOut[];
  /** Re-arm the connection's timer (null: cancel it); absent: leave it. */
  waitMs?: number | null;
  /** New in-order bytes, in order (views into received frames: copy what you keep). */
  data: Buffer[];
  /** The server finished sending (its FIN arrived in order). */
  eof?: boolean;
  /** Both sides closed: the connection may be forgotten. */
  closed?: boolean;
  failed?: string;
}

type State = 'syn-sent' | 'established' | 'fin-wait-1' | 'fin-wait-2' | 'closing' | 'last-ack' | 'closed';

export class TcpClient {
  private state: State = 'syn-sent';
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private rcvNxt = 0;
  private peerMss = 536;
  private tries = 0;
  private sendBuffer: Buffer;
  /** Sequence number of our FIN once we decided to close. */
  private finSeq: number | undefined;
  private peerFin = false;

  constructor(private readonly o: TcpClientOptions) {
    this.iss = o.isn >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sendBuffer = o.request;
  }

  get phase(): State {
    return this.state;
  }

  start(): TcpStep {
    return { send: [this.syn()], waitMs: this.o.rtoMs, data: [] };
  }

  /** We are done reading (the response is complete): send FIN after any unsent data. */
  close(): TcpStep {
    if (this.state !== 'established') return { send: [], data: [] };
    this.state = 'fin-wait-1';
    return { send: [this.fin()], waitMs: this.rto(), data: [] };
  }

  receive(s: TcpSegment): TcpStep {
    const out: TcpStep = { send: [], data: [] };
    if (this.state === 'closed') return out;
    if (s.flags.rst) {
      // RFC 5961's check, reduced: a reset must fall in our receive window (or, before the
      // handshake, acknowledge our SYN), so a stray one cannot kill the connection.
      const inWindow = ((s.seq - this.rcvNxt) >>> 0) < SYNTHETIC_WINDOW;
      if (this.state === 'syn-sent' ? !(s.flags.ack && s.ack === this.sndNxt) : !inWindow) return out;
      return this.fail(this.state === 'syn-sent' ? 'connection refused (RST)' : 'connection reset by peer (RST)');
    }
    if (this.state === 'syn-sent') return this.synSent(s);
    if (s.flags.syn) {
      // Our ACK of the SYN-ACK was lost: acknowledge again.
      out.send.push(this.ackOnly());
      return out;
    }
    if (!s.flags.ack) return out;

    // Acknowledgement of what we sent.
    if (seqLt(this.sndUna, s.ack) && !seqLt(this.sndNxt, s.ack)) {
      // sendBuffer[0] is the byte at sndUna; a FIN's sequence number lies past the buffer.
      const acked = Math.min(this.sendBuffer.length, (s.ack - this.sndUna) >>> 0);
      if (acked > 0) this.sendBuffer = this.sendBuffer.subarray(acked);
      this.sndUna = s.ack;
      this.tries = 0;
    }
    const ourFinAcked = this.finSeq !== undefined && s.ack === seqAdd(this.finSeq, 1);

    // Data: only the next expected bytes are taken.
    const len = s.payload.length;
    let ackNeeded = false;
    if (len > 0 || s.flags.fin) {
      const offset = (this.rcvNxt - s.seq) | 0;
      if (offset < 0) {
        // A hole before this segment: drop it and say again what we have, so the sender
        // retransmits the missing bytes.
        out.send.push(this.ackOnly());
        return this.withTimer(out);
      }
      if (offset < len) {
        const fresh = s.payload.subarray(offset);
        out.data.push(fresh);
        this.rcvNxt = seqAdd(this.rcvNxt, fresh.length);
      }
      ackNeeded = true;
      if (s.flags.fin && !this.peerFin && seqAdd(s.seq, len) === this.rcvNxt) {
        this.peerFin = true;
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
        out.eof = true;
      }
    }

    switch (this.state) {
      case 'established':
        if (this.peerFin) {
          // The server closed (HTTP `Connection: close`): close our side at once.
          this.state = 'last-ack';
          out.send.push(this.fin());
          ackNeeded = false;
        }
        break;
      case 'fin-wait-1':
        if (this.peerFin && ourFinAcked) return this.closed(out, true);
        if (this.peerFin) this.state = 'closing';
        else if (ourFinAcked) this.state = 'fin-wait-2';
        break;
      case 'fin-wait-2':
        if (this.peerFin) return this.closed(out, true);
        break;
      case 'closing':
        if (ourFinAcked) return this.closed(out, ackNeeded);
        break;
      case 'last-ack':
        if (ourFinAcked) return this.closed(out, false);
        break;
    }
    if (ackNeeded) out.send.push(this.ackOnly());
    return this.withTimer(out);
  }

  timeout(): TcpStep {
    const out: TcpStep = { send: [], data: [] };
    if (this.state === 'closed') return out;
    if (!this.outstanding()) {
      return this.fail(`no data from the server for ${this.o.idleMs} ms`);
    }
    if (this.tries >= this.o.retries) {
      const what = this.state === 'syn-sent' ? 'SYN' : this.finSeq !== undefined && this.sendBuffer.length === 0 ? 'FIN' : 'request';
      return this.fail(`${what} not acknowledged after ${this.o.retries} retransmissions`);
    }
    this.tries++;
    if (this.state === 'syn-sent') {
      out.send.push(this.syn());
    } else {
      // Go back to the oldest unacknowledged byte and send everything again.
      this.sndNxt = this.sndUna;
      out.send.push(...this.segments());
      if (this.finSeq !== undefined) out.send.push(this.fin());
    }
    out.waitMs = this.rto();
    return out;
  }

  private synSent(s: TcpSegment): TcpStep {
    const out: TcpStep = { send: [], data: [] };
    if (!(s.flags.syn && s.flags.ack)) return out;
    if (s.ack !== this.sndNxt) {
      // Not an answer to our SYN (an old connection's): reset it, as RFC 9293 §3.10.7.3 says.
      out.send.push({ seq: s.ack, ack: 0, flags: { rst: true }, window: 0 });
      return out;
    }
    this.rcvNxt = seqAdd(s.seq, 1);
    this.sndUna = s.ack;
    this.peerMss = s.mss ?? 536;
    this.state = 'established';
    this.tries = 0;
    const segs = this.segments();
    // The request carries the ACK of the SYN-ACK; an empty request would need a bare ACK.
    out.send.push(...(segs.length > 0 ? segs : [this.ackOnly()]));
    return this.withTimer(out);
  }

  /** The unsent part of the request, cut to the peer's MSS. */
  private segments(): TcpOut[] {
    const out: TcpOut[] = [];
    const mss = Math.min(SYNTHETIC_MSS, this.peerMss);
    let at = (this.sndNxt - this.sndUna) >>> 0;
    while (at < this.sendBuffer.length) {
      const chunk = this.sendBuffer.subarray(at, at + mss);
      const last = at + chunk.length >= this.sendBuffer.length;
      out.push({ seq: this.sndNxt, ack: this.rcvNxt, flags: { ack: true, ...(last ? { psh: true } : {}) }, window: SYNTHETIC_WINDOW, payload: chunk });
      this.sndNxt = seqAdd(this.sndNxt, chunk.length);
      at += chunk.length;
    }
    return out;
  }

  private syn(): TcpOut {
    return { seq: this.iss, ack: 0, flags: { syn: true }, window: SYNTHETIC_WINDOW, mss: SYNTHETIC_MSS };
  }

  private fin(): TcpOut {
    if (this.finSeq === undefined) {
      this.finSeq = seqAdd(this.sndUna, this.sendBuffer.length);
    }
    this.sndNxt = seqAdd(this.finSeq, 1);
    return { seq: this.finSeq, ack: this.rcvNxt, flags: { fin: true, ack: true }, window: SYNTHETIC_WINDOW };
  }

  private ackOnly(): TcpOut {
    return { seq: this.sndNxt, ack: this.rcvNxt, flags: { ack: true }, window: SYNTHETIC_WINDOW };
  }

  private outstanding(): boolean {
    return this.state === 'syn-sent' || this.sndUna !== this.sndNxt;
  }

  private rto(): number {
    return this.o.rtoMs * 2 ** Math.min(this.tries, 10);
  }

  private withTimer(out: TcpStep): TcpStep {
    out.waitMs = this.outstanding() ? this.rto() : this.o.idleMs;
    return out;
  }

  private closed(out: TcpStep, ack: boolean): TcpStep {
    if (ack) out.send.push(this.ackOnly());
    this.state = 'closed';
    out.closed = true;
    out.waitMs = null;
    return out;
  }

  private fail(why: string): TcpStep {
    this.state = 'closed';
    return { send: [], data: [], waitMs: null, closed: true, failed: why };
  }
}
