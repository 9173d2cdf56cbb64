// A QEMU Machine Protocol client over the node's unix socket: the lab's power control.
// QMP is line-delimited JSON; after the greeting, `qmp_capabilities` leaves negotiation
// mode, then every command gets exactly one `return` or `error`, in order, with
// asynchronous `event` messages interleaved.
import { connect, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  constructor(readonly command: string, readonly qmpClass: string, desc: string) {
    super(`QMP ${command}: ${qmpClass}: ${desc}`);
    this.name = 'QmpError';
  }
}

export interface QmpClient {
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
  onEvent(cb: (e: QmpEvent) => void): void;
  /** Resolves when the socket closes (QEMU exited or closed it). */
  readonly closed: Promise<void>;
  close(): void;
}

interface Pending { command: string; resolve(v: unknown): void; reject(e: Error): void }

/** Connects, waits for the greeting and negotiates capabilities. */
export async function connectQmp(path: string, o: { timeoutMs?: number } = {}): Promise<QmpClient> {
  const socket: Socket = connect(path);
  const pending: Pending[] = [];
  const listeners: Array<(e: QmpEvent) => void> = [];
  let buffered = '';
  let greeted: (() => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const greeting = new Promise<void>((resolve, reject) => { greeted = resolve; failed = reject; });
  const timer = setTimeout(() => { failed?.(new Error(`QMP ${path}: no greeting within ${o.timeoutMs ?? 5000} ms`)); socket.destroy(); }, o.timeoutMs ?? 5000);

  socket.setEncoding('utf8');
  socket.on('error', (e) => failed?.(e));
  socket.on('close', () => {
    clearTimeout(timer);
    failed?.(new Error(`QMP ${path}: closed before the greeting`));
    for (const p of pending.splice(0)) p.reject(new Error(`QMP ${p.command}: connection closed (QEMU exited)`));
  });
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
      if ('QMP' in msg) { greeted?.(); greeted = undefined; failed = undefined; continue; }
      if ('event' in msg) { for (const l of listeners) l(msg as unknown as QmpEvent); continue; }
      const p = pending.shift();
      if (!p) continue;
      if ('error' in msg) {
        const err = msg.error as { class?: string; desc?: string };
        p.reject(new QmpError(p.command, err.class ?? 'GenericError', err.desc ?? 'failed'));
      } else p.resolve(msg.return);
    }
  });

  await greeting;
  clearTimeout(timer);
  const client: QmpClient = {
    execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (socket.destroyed) { reject(new Error(`QMP ${command}: not connected`)); return; }
        pending.push({ command, resolve: resolve as (v: unknown) => void, reject });
        socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
      });
    },
    onEvent(cb) { listeners.push(cb); },
    closed,
    close() { socket.end(); socket.destroy(); },
  };
  await client.execute('qmp_capabilities');
  return client;
}

/** Waits for a unix socket QEMU creates at start-up to accept connections. */
export async function waitForSocket(path: string, o: { timeoutMs: number; alive?: () => boolean }): Promise<void> {
  const until = Date.now() + o.timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(path);
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (o.alive && !o.alive()) throw new Error(`the process exited before ${path} appeared`);
    if (Date.now() > until) throw new Error(`${path} did not appear within ${o.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
