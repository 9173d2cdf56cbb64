// Where the bytes of a read request come from. The server asks a TftpSource for a
// root-relative path (already normalised by tftp-paths.ts) and gets a TftpContent it reads
// by offset, or null when the source has nothing by that name. Sources compose: generated
// content (boot menus rendered from the inventory) is put in front of the tftp root with
// chainSources, and the composition root decides the order.
//
// rootDirSource is the one that touches the disk. The npm TFTP servers follow symlinks out
// of their root; this one resolves the real path of every request and refuses anything whose
// real path is not under the real path of the root, then checks the opened descriptor again,
// so a symlink swapped in between the check and the open does not get through either.
import { constants } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { RackforgeError } from '../../lib/errors.ts';
import type { Endpoint } from '../net/datagram.ts';
import { normaliseTftpPath } from './tftp-paths.ts';

export interface TftpContent {
  /** Length in bytes of what will be sent (after any conversion). */
  size: number;
  /**
   * Up to `length` bytes from `offset`; shorter only at the end of the content. The buffer
   * may be a view into storage the content keeps: read it, do not write to it.
   */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void> | void;
  /** What is served, for logs (a real path, "generated:menu"). */
  label?: string;
}

export interface TftpSource {
  /**
   * The content for a root-relative path, or null when this source has nothing by that name.
   * Throws TftpSourceError to say "refuse" (access violation) or "stop looking" (not found).
   */
  open(path: string, client: Endpoint): Promise<TftpContent | null>;
}

/** The source error codes (registered in lib/errors.ts). */
export type TftpSourceErrorCode = 'TFTP_ACCESS_VIOLATION' | 'TFTP_NOT_FOUND';

/** "Refuse" or "stop looking": the codes are in the one registry, the class lets the server tell them apart. */
export class TftpSourceError extends RackforgeError {
  declare readonly code: TftpSourceErrorCode;
  constructor(code: TftpSourceErrorCode, message?: string) {
    super(code, message);
    this.name = 'TftpSourceError';
  }
}

export function isTftpSourceError(e: unknown, code?: TftpSourceErrorCode): e is TftpSourceError {
  return e instanceof TftpSourceError && (code === undefined || e.code === code);
}

/** Content served from memory. The buffer is shared, not copied. */
export function bufferContent(buf: Buffer, label?: string): TftpContent {
  return {
    size: buf.length,
    read: async (offset, length) => buf.subarray(offset, offset + length),
    close() {},
    ...(label === undefined ? {} : { label }),
  };
}

/**
 * The first source that answers wins. A source that throws TFTP_NOT_FOUND counts as null
 * (the next one is asked); any other error, TFTP_ACCESS_VIOLATION included, ends the search:
 * a generator that refuses a name must not be overruled by a same-named file in the root.
 */
export function chainSources(...sources: TftpSource[]): TftpSource {
  return {
    async open(path, client) {
      for (const source of sources) {
        let content: TftpContent | null;
        try {
          content = await source.open(path, client);
        } catch (e) {
          if (isTftpSourceError(e, 'TFTP_NOT_FOUND')) continue;
          throw e;
        }
        if (content) return content;
      }
      return null;
    },
  };
}

/**
 * Content computed per request (menus and configs from the inventory). The generator returns
 * null for names it does not serve; strings are sent as UTF-8.
 */
export function generatedSource(
  generate: (path: string, client: Endpoint) => Promise<Buffer | string | null> | Buffer | string | null,
  label = 'generated',
): TftpSource {
  return {
    async open(path, client) {
      const out = await generate(path, client);
      if (out === null) return null;
      return bufferContent(typeof out === 'string' ? Buffer.from(out, 'utf8') : out, `${label}:${path}`);
    },
  };
}

export interface RootDirOptions {
  /**
   * Re-check the opened descriptor through /proc/self/fd (Linux) to close the window between
   * realpath and open; default true where /proc exists.
   */
  verifyDescriptor?: boolean;
}

/** Regular files under `root`; symlinks are followed only while they stay inside the root. */
export function rootDirSource(root: string, opts: RootDirOptions = {}): TftpSource {
  const verifyDescriptor = opts.verifyDescriptor ?? process.platform === 'linux';
  return {
    async open(path) {
      const norm = normaliseTftpPath(path, { maxBytes: Number.MAX_SAFE_INTEGER });
      // The server normalises before asking; a caller that did not gets a refusal, not a walk.
      if (!norm.ok || norm.path !== path) throw new TftpSourceError('TFTP_ACCESS_VIOLATION', `${JSON.stringify(path)} is not a normalised root-relative path`);
      const realRoot = await realpath(root);
      const inside = (p: string): boolean => p === realRoot || p.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);

      let real: string;
      try {
        real = await realpath(realRoot + sep + norm.segments.join(sep));
      } catch (e) {
        return notFoundOrThrow(e, path);
      }
      if (!inside(real)) throw new TftpSourceError('TFTP_ACCESS_VIOLATION', `${path} resolves outside the root`);
      const st = await stat(real).catch((e: unknown) => notFoundOrThrow(e, path));
      if (st === null || st.isDirectory()) return null;
      if (!st.isFile()) throw new TftpSourceError('TFTP_ACCESS_VIOLATION', `${path} is not a regular file`);

      let fh: FileHandle;
      try {
        // O_NOFOLLOW: the last component was a file a moment ago and must not be a symlink
        // now; O_NONBLOCK: should it have become a FIFO, open must not hang the server.
        fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch (e) {
        return notFoundOrThrow(e, path);
      }
      try {
        if (verifyDescriptor) {
          const actual = await readlink(`/proc/self/fd/${fh.fd}`);
          if (!inside(actual)) throw new TftpSourceError('TFTP_ACCESS_VIOLATION', `${path} changed to outside the root while opening`);
        }
        const fst = await fh.stat();
        if (!fst.isFile()) throw new TftpSourceError('TFTP_ACCESS_VIOLATION', `${path} is not a regular file`);
        return fileContent(fh, fst.size, real);
      } catch (e) {
        await fh.close().catch(() => {});
        throw e;
      }
    },
  };
}

function notFoundOrThrow(e: unknown, path: string): null {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return null;
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') throw new TftpSourceError('TFTP_ACCESS_VIOLATION', `${path}: ${code}`);
  throw e;
}

/** Positioned reads on an open descriptor: a 64 MB kernel is never held in memory whole. */
function fileContent(fh: FileHandle, size: number, label: string): TftpContent {
  return {
    size,
    label,
    async read(offset, length) {
      const want = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, offset + got);
        if (bytesRead === 0) break; // truncated underneath us; the caller sees a short read
        got += bytesRead;
      }
      return got === want ? buf : buf.subarray(0, got);
    },
    close: () => fh.close(),
  };
}

/**
 * RFC 764 NVT-ASCII as TFTP netascii uses it: LF becomes CR LF and CR becomes CR NUL, byte by
 * byte (tftpd-hpa does the same, so a Unix text file arrives with the client's line ends).
 */
export function encodeNetascii(src: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < src.length; i++) if (src[i] === 0x0a || src[i] === 0x0d) extra++;
  const out = Buffer.allocUnsafe(src.length + extra);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x0a) {
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    } else if (c === 0x0d) {
      out[o++] = 0x0d;
      out[o++] = 0x00;
    } else out[o++] = c;
  }
  return out;
}

const NETASCII_CHUNK = 64 * 1024;

/**
 * `inner` as netascii. The converted size is counted up front (one pass over the content) so
 * the transfer knows its last block; reads convert on the fly from the nearest checkpoint,
 * so a sequential transfer converts each byte once and a window restart converts a little
 * again. Takes ownership of `inner` (closes it).
 */
export async function netasciiContent(inner: TftpContent): Promise<TftpContent> {
  let extra = 0;
  for (let at = 0; at < inner.size; ) {
    const raw = await inner.read(at, NETASCII_CHUNK);
    if (raw.length === 0) break;
    for (let i = 0; i < raw.length; i++) if (raw[i] === 0x0a || raw[i] === 0x0d) extra++;
    at += raw.length;
  }
  const size = inner.size + extra;
  // Checkpoints: output offset -> input offset at input chunk boundaries, ascending.
  const outAt: number[] = [0];
  const inAt: number[] = [0];
  const checkpoint = (o: number, i: number): void => {
    if (o > outAt[outAt.length - 1]!) {
      outAt.push(o);
      inAt.push(i);
    }
  };
  return {
    size,
    label: `netascii:${inner.label ?? ''}`,
    async read(offset, length) {
      const end = Math.min(offset + length, size);
      if (offset >= end) return Buffer.alloc(0);
      let lo = 0;
      let hi = outAt.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (outAt[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      let o = outAt[lo]!;
      let i = inAt[lo]!;
      const out = Buffer.allocUnsafe(end - offset);
      let filled = 0;
      while (o < end) {
        const raw = await inner.read(i, NETASCII_CHUNK);
        if (raw.length === 0) break;
        const conv = encodeNetascii(raw);
        const from = Math.max(offset, o);
        const to = Math.min(end, o + conv.length);
        if (to > from) filled += conv.copy(out, from - offset, from - o, to - o);
        i += raw.length;
        o += conv.length;
        checkpoint(o, i);
      }
      return filled === out.length ? out : out.subarray(0, filled);
    },
    close: () => inner.close(),
  };
}
