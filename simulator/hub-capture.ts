// Capture of one lab network, taken at the hub itself: a member of the multicast group that
// only listens gets every frame any member sends exactly once (QEMU's filter-dump on a node's
// netdev sees that node's own frames twice, once sent and once looped back), stamped with the
// time it arrived. Frames go to <network>.pcap and to any live listeners; with a size limit
// the file rotates: the full file is renamed <network>.1.pcap (older ones shift up, the
// oldest beyond `keep` is deleted) and a new <network>.pcap starts with its own header, so
// every file opens in Wireshark on its own.
import { createWriteStream, existsSync, mkdirSync, openSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import type { Writable } from 'node:stream';
import { encodePcapHeader, encodePcapRecord } from '../provisioner/protocol/pcap.ts';
import type { FramePort } from './hub-port.ts';

export interface HubCaptureOptions {
  port: FramePort;
  /** The current file, e.g. captures/quickstart/provisioning.pcap */
  file: string;
  rotateBytes?: number;
  /** Rotated files kept besides the current one (default 5). */
  keep?: number;
  /** Unix epoch in nanoseconds; default: wall clock at start plus a monotonic offset. */
  nowNs?: () => bigint;
}

export interface HubCaptureStatus {
  file: string;
  frames: number;
  bytes: number;
  rotations: number;
  liveListeners: number;
}

export interface HubCapture {
  status(): HubCaptureStatus;
  /** Streams pcap (header, then every frame from now on) until the stream closes or the capture stops. */
  addListener(out: Writable): void;
  /** Resolves when everything received so far is on disk. */
  close(): Promise<void>;
}

/** Wall-clock nanoseconds that never go backwards within the process. */
export function monotonicEpochNs(): () => bigint {
  const base = BigInt(Date.now()) * 1_000_000n;
  const start = process.hrtime.bigint();
  return () => base + (process.hrtime.bigint() - start);
}

/** The name of the n-th rotated file: provisioning.pcap -> provisioning.2.pcap */
export function rotatedName(file: string, n: number): string {
  const base = basename(file);
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot) : '';
  return join(dirname(file), `${stem}.${n}${ext}`);
}

export function startHubCapture(o: HubCaptureOptions): HubCapture {
  const header = encodePcapHeader();
  const keep = o.keep ?? 5;
  const nowNs = o.nowNs ?? monotonicEpochNs();
  mkdirSync(dirname(o.file), { recursive: true });
  let out: WriteStream = open();
  let fileBytes = header.length;
  let frames = 0, bytes = 0, rotations = 0;
  let closed = false;
  const listeners = new Set<Writable>();

  function open(): WriteStream {
    // Opened now, not when the stream gets round to it: a rotation may rename the file at once.
    const s = createWriteStream('', { fd: openSync(o.file, 'w') });
    s.write(header);
    return s;
  }

  function rotate(): void {
    const old = out;
    old.end();
    // Renaming while the old stream flushes is safe: it writes to its descriptor, not the name.
    rmSync(rotatedName(o.file, keep), { force: true });
    for (let n = keep - 1; n >= 1; n--) {
      const from = rotatedName(o.file, n);
      if (existsSync(from)) renameSync(from, rotatedName(o.file, n + 1));
    }
    if (keep > 0) renameSync(o.file, rotatedName(o.file, 1));
    else rmSync(o.file, { force: true });
    out = open();
    fileBytes = header.length;
    rotations++;
  }

  o.port.onFrame((frame) => {
    if (closed) return;
    const record = encodePcapRecord(frame, nowNs());
    if (o.rotateBytes !== undefined && fileBytes + record.length > o.rotateBytes && fileBytes > header.length) rotate();
    out.write(record);
    fileBytes += record.length;
    frames++;
    bytes += frame.length;
    for (const l of listeners) {
      // A listener that cannot keep up loses frames rather than holding the lab's memory.
      if (l.writableLength > 16 * 1024 * 1024) continue;
      l.write(record);
    }
  });

  return {
    status: () => ({ file: o.file, frames, bytes, rotations, liveListeners: listeners.size }),
    addListener(l) {
      listeners.add(l);
      const drop = () => listeners.delete(l);
      l.once('close', drop);
      l.once('error', drop);
      l.write(header);
    },
    close() {
      closed = true;
      for (const l of listeners) l.end();
      listeners.clear();
      return new Promise((resolve) => out.end(() => resolve()));
    },
  };
}
