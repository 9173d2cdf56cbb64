// The read transfer as a pure state machine: events in (start, ACK, timeout, the client's
// ERROR), a new state and actions out (send OACK / a window of DATA, arm the timer, finish).
// The serving loop (tftp-server.ts) reads the blocks, sends and keeps the timer; every
// decision about what to send when is here, where a table and a simulated lossy loop can
// test it without sockets or clocks.
//
// Blocks are numbered from 1 in absolute terms (block n carries bytes (n-1)*blksize up to
// n*blksize); the wire number is n mod 65536, so a file over 65535 blocks rolls over to 0 as
// tftpd-hpa, curl, atftp, iPXE and EDK2 expect. The last block is the first one shorter than
// blksize, zero bytes long when the size is a multiple of blksize.
//
// Retransmission (RFC 1123 4.2.3.1, RFC 7440):
// - only a timeout retransmits; a duplicate ACK never does, or every duplicate would double
//   the traffic from then on (the Sorcerer's Apprentice);
// - an ACK inside the window that was sent (the client saw a gap) restarts the window after
//   the acknowledged block; an ACK of the whole window sends the next one;
// - the delay starts at the negotiated timeout (or the default) and doubles per consecutive
//   timeout up to a cap; progress resets it; too many timeouts in a row end the transfer.
import { negotiateOptions, type TftpMode, type TftpOption } from '../protocol/tftp.ts';

export type TransferStatus = 'complete' | 'not-found' | 'access-violation' | 'timeout' | 'aborted-by-client' | 'error';

export interface TransferPlan {
  /** Bytes to send (after netascii conversion). */
  size: number;
  blksize: number;
  windowsize: number;
  /** Options to acknowledge; empty means no OACK, DATA 1 goes first. */
  oack: readonly TftpOption[];
  initialTimeoutMs: number;
  maxTimeoutMs: number;
  /** Consecutive timeouts tolerated; one more ends the transfer with 'timeout'. */
  maxRetries: number;
}

export type TransferPhase = 'idle' | 'oack' | 'data' | 'done';

export interface TransferState {
  readonly plan: TransferPlan;
  readonly phase: TransferPhase;
  /** Highest block the client has acknowledged (0: none yet, or the OACK). */
  readonly acked: number;
  /** Highest block sent in the current window (acked when nothing is outstanding). */
  readonly sentTo: number;
  /** Delay of the timer armed now. */
  readonly timeoutMs: number;
  /** Consecutive timeouts without progress. */
  readonly retries: number;
  /** Packets (DATA blocks and OACKs) sent again. */
  readonly retransmits: number;
}

export type TransferEvent =
  | { type: 'start' }
  /** `block` is the wire number, 0-65535. */
  | { type: 'ack'; block: number }
  | { type: 'timeout' }
  | { type: 'error'; code: number; message: string };

export type TransferAction =
  | { type: 'send-oack'; options: readonly TftpOption[]; retransmit: boolean }
  /** Blocks first..first+count-1, absolute numbers. */
  | { type: 'send-data'; first: number; count: number; retransmit: boolean }
  | { type: 'arm-timer'; delayMs: number }
  | { type: 'cancel-timer' }
  | { type: 'finish'; status: TransferStatus; message?: string };

export interface TransferStep {
  state: TransferState;
  actions: TransferAction[];
}

export const TRANSFER_DEFAULTS = {
  /** When the client did not negotiate a timeout; tftpd-hpa also starts at 1 s. */
  initialTimeoutMs: 1000,
  maxTimeoutMs: 8000,
  /** 1+2+4+8+8+8 s: a client silent for half a minute is gone. */
  maxRetries: 5,
} as const;

export interface PlanLimits {
  maxBlksize: number;
  maxWindowsize: number;
  initialTimeoutMs?: number;
  maxTimeoutMs?: number;
  maxRetries?: number;
}

/**
 * Negotiates the request's options against the content and the server limits. tsize is
 * acknowledged for octet only: in netascii the size on the wire is not the size on disk, and
 * tftpd-hpa does not answer it there either.
 */
export function planTransfer(mode: TftpMode, requested: readonly TftpOption[], size: number, limits: PlanLimits): TransferPlan {
  const n = negotiateOptions(requested, {
    maxBlksize: limits.maxBlksize,
    maxWindowsize: limits.maxWindowsize,
    ...(mode === 'octet' ? { fileSize: size } : {}),
  });
  const initial = n.timeoutSeconds !== null ? n.timeoutSeconds * 1000 : (limits.initialTimeoutMs ?? TRANSFER_DEFAULTS.initialTimeoutMs);
  return {
    size,
    blksize: n.blksize,
    windowsize: n.windowsize,
    oack: n.oack,
    initialTimeoutMs: initial,
    maxTimeoutMs: Math.max(initial, limits.maxTimeoutMs ?? TRANSFER_DEFAULTS.maxTimeoutMs),
    maxRetries: limits.maxRetries ?? TRANSFER_DEFAULTS.maxRetries,
  };
}

/** Number of the last block: the first one shorter than blksize. */
export function lastBlock(plan: Pick<TransferPlan, 'size' | 'blksize'>): number {
  return Math.floor(plan.size / plan.blksize) + 1;
}

/** Byte range of absolute block n. */
export function blockRange(plan: Pick<TransferPlan, 'size' | 'blksize'>, n: number): { offset: number; length: number } {
  const offset = (n - 1) * plan.blksize;
  return { offset, length: Math.max(0, Math.min(plan.blksize, plan.size - offset)) };
}

export function wireBlock(n: number): number {
  return n % 65536;
}

export function initialTransferState(plan: TransferPlan): TransferState {
  return { plan, phase: 'idle', acked: 0, sentTo: 0, timeoutMs: plan.initialTimeoutMs, retries: 0, retransmits: 0 };
}

const NOTHING: TransferAction[] = [];

export function stepTransfer(s: TransferState, e: TransferEvent): TransferStep {
  if (s.phase === 'done') return { state: s, actions: NOTHING };
  switch (e.type) {
    case 'start':
      if (s.phase !== 'idle') return { state: s, actions: NOTHING };
      if (s.plan.oack.length > 0) {
        return {
          state: update(s, { phase: 'oack' }),
          actions: [{ type: 'send-oack', options: s.plan.oack, retransmit: false }, { type: 'arm-timer', delayMs: s.timeoutMs }],
        };
      }
      return sendWindow(update(s, { phase: 'data' }), 1);

    case 'ack': {
      if (s.phase === 'oack') {
        // Anything but ACK 0 is not an answer to the OACK; the timer will resend it.
        if (e.block !== 0) return { state: s, actions: NOTHING };
        return sendWindow(update(s, { phase: 'data', timeoutMs: s.plan.initialTimeoutMs, retries: 0 }), 1);
      }
      if (s.phase !== 'data') return { state: s, actions: NOTHING };
      // Which outstanding block does this wire number mean? Count forward from the last ACK.
      const ahead = (e.block - wireBlock(s.acked) + 65536) % 65536;
      // 0: a duplicate of the last ACK. Beyond sentTo: not sent yet, or a stale ACK from an
      // earlier lap of the block counter. Neither moves anything, and neither retransmits.
      if (ahead === 0 || ahead > s.sentTo - s.acked) return { state: s, actions: NOTHING };
      const acked = s.acked + ahead;
      if (acked === lastBlock(s.plan)) {
        return { state: update(s, { acked, sentTo: acked, phase: 'done' }), actions: [{ type: 'cancel-timer' }, { type: 'finish', status: 'complete' }] };
      }
      return sendWindow(update(s, { acked, timeoutMs: s.plan.initialTimeoutMs, retries: 0 }), acked + 1);
    }

    case 'timeout': {
      if (s.phase !== 'oack' && s.phase !== 'data') return { state: s, actions: NOTHING };
      const retries = s.retries + 1;
      if (retries > s.plan.maxRetries) {
        return {
          state: update(s, { retries, phase: 'done' }),
          actions: [{ type: 'finish', status: 'timeout', message: `no answer after ${s.plan.maxRetries} retransmissions` }],
        };
      }
      const timeoutMs = Math.min(s.timeoutMs * 2, s.plan.maxTimeoutMs);
      if (s.phase === 'oack') {
        return {
          state: update(s, { retries, timeoutMs, retransmits: s.retransmits + 1 }),
          actions: [{ type: 'send-oack', options: s.plan.oack, retransmit: true }, { type: 'arm-timer', delayMs: timeoutMs }],
        };
      }
      const count = s.sentTo - s.acked;
      return {
        state: update(s, { retries, timeoutMs, retransmits: s.retransmits + count }),
        actions: [{ type: 'send-data', first: s.acked + 1, count, retransmit: true }, { type: 'arm-timer', delayMs: timeoutMs }],
      };
    }

    case 'error':
      // curl and EDK2 answer an OACK with ERROR 8 when they only wanted the size: not a failure.
      return {
        state: update(s, { phase: 'done' }),
        actions: [{ type: 'cancel-timer' }, { type: 'finish', status: 'aborted-by-client', message: `client sent ERROR ${e.code}${e.message ? `: ${e.message}` : ''}` }],
      };
  }
}

/**
 * A copy of `s` with some fields changed. Spelled out rather than `{ ...s, ...c }`: V8 spends
 * over a microsecond on that spread and this runs once per ACK.
 */
function update(s: TransferState, c: Partial<Omit<TransferState, 'plan'>>): TransferState {
  return {
    plan: s.plan,
    phase: c.phase ?? s.phase,
    acked: c.acked ?? s.acked,
    sentTo: c.sentTo ?? s.sentTo,
    timeoutMs: c.timeoutMs ?? s.timeoutMs,
    retries: c.retries ?? s.retries,
    retransmits: c.retransmits ?? s.retransmits,
  };
}

function sendWindow(s: TransferState, first: number): TransferStep {
  const count = Math.min(s.plan.windowsize, lastBlock(s.plan) - first + 1);
  return {
    state: update(s, { sentTo: first + count - 1 }),
    actions: [{ type: 'send-data', first, count, retransmit: false }, { type: 'arm-timer', delayMs: s.timeoutMs }],
  };
}
