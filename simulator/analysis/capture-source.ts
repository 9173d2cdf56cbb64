// Feeds a CaptureReader from a file, a file still being written, or stdin. The only I/O around
// the pure reader: it owns the file handle, the polling and the abort signal.
//
// Files are read with positioned reads into two reused buffers (the reader copies only the
// unfinished tail out of them), so memory stays flat and files past 2 GiB work. A corrupt or cut
// short capture is not an exception here: every packet before the problem is delivered and the
// DecodeError is returned, because a report of what was readable is what a person debugging a
// boot wants. Only I/O failures (no such file, a directory, a read error) throw.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DecodeError } from '../../lib/errors.ts';
import { CaptureReader, type CapturedPacket } from '../../provisioner/protocol/pcap.ts';

export interface CaptureSourceOptions {
  /** At end of file keep polling for growth until `signal` aborts; an incomplete record at the end is waited for. Ignored for stdin, which is read to its end. */
  follow?: boolean;
  /** Stops reading (between chunks); readCapture then returns normally with what it read. */
  signal?: AbortSignal;
  /** Bytes per read; default 1 MiB. */
  chunkBytes?: number;
  /** How often a followed file is checked for growth; default 200 ms. */
  pollMs?: number;
}

export interface CaptureReadResult {
  format: 'pcap' | 'pcapng' | undefined;
  /** Packets delivered to onPacket. */
  packets: number;
  /** Bytes read from the source. */
  bytes: number;
  /** Why reading stopped before the end of the data; every packet before error.offset was delivered. */
  error?: DecodeError;
}

const DEFAULT_CHUNK_BYTES = 1 << 20;
const DEFAULT_POLL_MS = 200;

/**
 * Reads a capture from a file path, or from stdin when `source` is '-', calling onPacket for each
 * packet in file order (its `data` is a view valid only during the call). Never throws a
 * DecodeError: returns it in `error` after delivering every packet before it. Throws an Error
 * naming the source for I/O failures. An exception from onPacket propagates.
 */
export async function readCapture(source: string, onPacket: (p: CapturedPacket) => void, o: CaptureSourceOptions = {}): Promise<CaptureReadResult> {
  if (source === '-') return readCaptureStream(process.stdin, onPacket, { ...o, name: 'stdin' });
  let fh: FileHandle;
  for (;;) {
    try {
      fh = await open(source, 'r');
      break;
    } catch (e) {
      // Following a file that is not there yet (a lab about to start): wait for it, as tail -F does.
      if (!o.follow || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(source, e);
      if (o.signal?.aborted) return { format: undefined, packets: 0, bytes: 0 };
      try {
        await sleep(o.pollMs ?? DEFAULT_POLL_MS, undefined, o.signal ? { signal: o.signal } : {});
      } catch {
        return { format: undefined, packets: 0, bytes: 0 };
      }
    }
  }
  try {
    // A FIFO (`lab capture --live --output FIFO`) or a character device cannot be read at
    // positions: it is a stream, read to its end like stdin.
    if (!(await fh.stat()).isFile()) return await readCaptureStream(fh.createReadStream({ autoClose: false }), onPacket, { ...o, name: source });
    return await readFromHandle(fh, source, onPacket, o);
  } finally {
    await fh.close();
  }
}

/**
 * Reads a capture from a byte stream (a pipe, a socket, stdin) to its end, or until `o.signal`
 * aborts. Same results and errors as readCapture; `o.name` names the stream in I/O errors.
 */
export async function readCaptureStream(
  stream: AsyncIterable<Uint8Array | string>,
  onPacket: (p: CapturedPacket) => void,
  o: Pick<CaptureSourceOptions, 'signal'> & { name?: string } = {},
): Promise<CaptureReadResult> {
  const name = o.name ?? 'the capture stream';
  const state = new ReadState(onPacket);
  if (o.signal?.aborted) return state.result();
  const it = stream[Symbol.asyncIterator]();
  // An abort must end a wait for data that may never come (an idle pipe).
  const aborted = Symbol('aborted');
  let onAbort: (() => void) | undefined;
  const abortedPromise = new Promise<typeof aborted>((resolve) => {
    onAbort = () => resolve(aborted);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array | string> | typeof aborted;
      try {
        next = await Promise.race([it.next(), abortedPromise]);
      } catch (e) {
        throw ioError(name, e);
      }
      if (next === aborted) {
        // Let the stream go; its pending read, if any, is abandoned.
        void it.return?.().catch(() => {});
        return state.result();
      }
      if (next.done) break;
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'latin1') : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      if (!state.push(chunk)) {
        // Corrupt: nothing after this can be read, so the rest of the stream is not waited for.
        void it.return?.().catch(() => {});
        return state.result();
      }
    }
    state.end();
    return state.result();
  } finally {
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
  }
}

async function readFromHandle(fh: FileHandle, path: string, onPacket: (p: CapturedPacket) => void, o: CaptureSourceOptions): Promise<CaptureReadResult> {
  const chunkBytes = o.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes ${chunkBytes} is not a positive integer`);
  const pollMs = o.pollMs ?? DEFAULT_POLL_MS;
  const state = new ReadState(onPacket);
  // Two buffers: the next read fills one while the reader parses the other, so the disk and the
  // parser work at the same time. Each is reused: the reader copies out the unfinished tail
  // before push returns.
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)] as const;
  const read = (which: 0 | 1, position: number) => fh.read(buffers[which], 0, chunkBytes, position).then((r) => r.bytesRead, (e: unknown) => Promise.reject(ioError(path, e)));
  let which: 0 | 1 = 0;
  let position = 0;
  let inFlight: Promise<number> | undefined = read(which, position);
  try {
    while (!o.signal?.aborted) {
      const bytesRead: number = await inFlight;
      inFlight = undefined;
      if (bytesRead === 0) {
        if (!o.follow) break;
        try {
          await sleep(pollMs, undefined, o.signal ? { signal: o.signal } : {});
        } catch (e) {
          if (o.signal?.aborted) break;
          throw e;
        }
        inFlight = read(which, position);
        continue;
      }
      position += bytesRead;
      const filled = buffers[which];
      which = which === 0 ? 1 : 0;
      inFlight = read(which, position);
      if (!state.push(filled.subarray(0, bytesRead))) return state.result();
    }
  } finally {
    // The handle is closed after this returns: no read may still be writing into a buffer.
    await inFlight?.catch(() => {});
  }
  // Stopped by the signal: what is left may be a record still being written, not a truncation.
  if (!o.signal?.aborted) state.end();
  return state.result();
}

/** A reader plus the counts, telling the reader's DecodeError from exceptions of onPacket. */
class ReadState {
  readonly #reader = new CaptureReader();
  readonly #deliver: (p: CapturedPacket) => void;
  #packets = 0;
  #bytes = 0;
  #error: DecodeError | undefined;
  #consumerThrew = false;

  constructor(onPacket: (p: CapturedPacket) => void) {
    this.#deliver = (p) => {
      this.#packets++;
      try {
        onPacket(p);
      } catch (e) {
        this.#consumerThrew = true;
        throw e;
      }
    };
  }

  /** false once the capture is found corrupt: stop reading. */
  push(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    return this.#guard(() => this.#reader.push(chunk, this.#deliver));
  }

  end(): void {
    this.#guard(() => this.#reader.end());
  }

  #guard(f: () => void): boolean {
    try {
      f();
      return true;
    } catch (e) {
      if (this.#consumerThrew || !(e instanceof DecodeError)) throw e;
      this.#error = e;
      return false;
    }
  }

  result(): CaptureReadResult {
    const r: CaptureReadResult = { format: this.#reader.format, packets: this.#packets, bytes: this.#bytes };
    if (this.#error) r.error = this.#error;
    return r;
  }
}

function ioError(source: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.code === 'EACCES' ? 'permission denied' : (err.message ?? String(e));
  return new Error(`cannot read capture ${source}: ${why}`, { cause: e });
}
