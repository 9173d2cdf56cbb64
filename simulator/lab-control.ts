// The running lab's control interface: a small JSON-over-HTTP service on a unix socket in the
// lab's state folder. `rackforge lab status|power|add-node|remove-node|capture|down` are its
// clients; the lab's runner implements LabController. Errors keep their rackforge code, so
// the CLI can print the same one line a local failure would give.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ERROR_CODES, RackforgeError, isRackforgeError, type ErrorCode } from '../lib/errors.ts';
import type { PowerAction, QemuNodeStatus } from './qemu-node.ts';
import type { HubCaptureStatus } from './hub-capture.ts';

export interface BootProgress {
  /** The newest boot event the provisioner recorded for one of the node's MACs. */
  kind: string;
  detail: string;
  at: string;
  ip?: string;
}

export interface LabNodeStatus extends QemuNodeStatus {
  kind: 'qemu';
  macs: string[];
  rack?: string;
  datacentre?: string;
  firmware: string;
  console?: { port: number; socket: string };
  serialLog: string;
  qemuLog: string;
  boot?: BootProgress;
}

export interface SyntheticSummary {
  nodes: number;
  /** How many are in each stage (done, failed, dhcp-ack ...). */
  stages: Record<string, number>;
  failed: Array<{ name: string; error: string }>;
}

export interface LabStatus {
  lab: string;
  file: string;
  stateDir: string;
  ownerPid: number;
  runnerPid: number;
  accel: string;
  /** Why that accelerator: the KVM probe's answer, or "asked for with --accel". */
  accelReason: string;
  api: { url: string; apiUrl: string; uiUrl: string };
  bootUrl: string;
  networks: Array<{ name: string; group: string; port: number; subnet: string; capture?: HubCaptureStatus }>;
  nodes: LabNodeStatus[];
  synthetic: SyntheticSummary & { detail?: unknown[] };
}

export interface LabController {
  status(o: { syntheticDetail: boolean }): Promise<LabStatus>;
  power(node: string, action: PowerAction): Promise<LabNodeStatus>;
  addNode(definition: unknown): Promise<LabNodeStatus>;
  removeNode(node: string): Promise<void>;
  /** Starts a pcap stream of the network on `out`; it ends when `out` closes or the lab goes down. */
  liveCapture(network: string, out: Writable): void;
  down(): Promise<void>;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  LAB_UNKNOWN_NODE: 404,
  LAB_UNKNOWN_NETWORK: 404,
  LAB_INVALID: 400,
  CLI_USAGE: 400,
};

async function readJson(req: IncomingMessage, limit = 1 << 20): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RackforgeError('CLI_USAGE', 'request body too large');
    parts.push(chunk as Buffer);
  }
  const text = Buffer.concat(parts).toString('utf8');
  if (text === '') return {};
  try { return JSON.parse(text); } catch { throw new RackforgeError('CLI_USAGE', 'request body is not JSON'); }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const POWER_ACTIONS: readonly PowerAction[] = ['on', 'off', 'reset', 'cycle'];

async function route(lab: LabController, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://lab');
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const m = req.method ?? 'GET';
  if (m === 'GET' && parts.length === 1 && parts[0] === 'status') return send(res, 200, await lab.status({ syntheticDetail: url.searchParams.get('synthetic') === 'detail' }));
  if (m === 'POST' && parts.length === 3 && parts[0] === 'nodes' && parts[2] === 'power') {
    const body = await readJson(req) as { action?: unknown };
    const action = body.action;
    if (typeof action !== 'string' || !(POWER_ACTIONS as readonly string[]).includes(action)) {
      throw new RackforgeError('CLI_USAGE', `power action must be one of ${POWER_ACTIONS.join(', ')}, got ${JSON.stringify(action)}`);
    }
    return send(res, 200, await lab.power(parts[1]!, action as PowerAction));
  }
  if (m === 'POST' && parts.length === 1 && parts[0] === 'nodes') return send(res, 201, await lab.addNode((await readJson(req) as { node?: unknown }).node));
  if (m === 'DELETE' && parts.length === 2 && parts[0] === 'nodes') { await lab.removeNode(parts[1]!); return send(res, 200, { removed: parts[1] }); }
  if (m === 'GET' && parts.length === 3 && parts[0] === 'captures' && parts[2] === 'live') {
    res.writeHead(200, { 'content-type': 'application/vnd.tcpdump.pcap' });
    lab.liveCapture(parts[1]!, res);
    return;
  }
  if (m === 'POST' && parts.length === 1 && parts[0] === 'down') {
    send(res, 202, { down: true });
    // Answer first: the socket this request came on is one of the things going away.
    setImmediate(() => { void lab.down(); });
    return;
  }
  send(res, 404, { error: { code: 'CLI_USAGE', message: `no such lab control request: ${m} ${url.pathname}` } });
}

export function serveLabControl(lab: LabController, socketPath: string): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer((req, res) => {
    route(lab, req, res).catch((e: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      const message = e instanceof Error ? e.message : String(e);
      if (isRackforgeError(e)) send(res, STATUS_OF[e.code] ?? 409, { error: { code: e.code, message } });
      else send(res, 500, { error: { code: 'INTERNAL', message } });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => { server.off('error', reject); resolve(server); });
  });
}

/** A request to a lab's control socket; errors come back as the RackforgeError the lab threw. */
export function callLab<T>(socketPath: string, method: string, path: string, body?: unknown, o: { timeoutMs?: number } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      socketPath, method, path,
      headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      timeout: o.timeoutMs ?? 120_000,
    }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        let parsed: unknown;
        try { parsed = JSON.parse(Buffer.concat(parts).toString('utf8')); } catch { reject(new RackforgeError('LAB_NOT_RUNNING', `the lab answered ${res.statusCode} with a body that is not JSON`)); return; }
        const err = (parsed as { error?: { code?: string; message?: string } }).error;
        if ((res.statusCode ?? 500) >= 400 && err) {
          const code = (err.code && err.code in ERROR_CODES ? err.code : 'LAB_START_FAILED') as ErrorCode;
          reject(new RackforgeError(code, err.message ?? 'lab request failed'));
          return;
        }
        resolve(parsed as T);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`the lab did not answer ${method} ${path} in time`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new RackforgeError('LAB_NOT_RUNNING', 'the lab is not up (no one answers on its control socket)'));
      else reject(e);
    });
    req.end(payload);
  });
}

/** Opens a live pcap stream from the lab; resolves with the response stream. */
export function openLabStream(socketPath: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'GET', path }, (res) => {
      if ((res.statusCode ?? 500) >= 400) {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          try {
            const err = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { error: { code: string; message: string } }).error;
            reject(new RackforgeError((err.code in ERROR_CODES ? err.code : 'LAB_START_FAILED') as ErrorCode, err.message));
          } catch { reject(new RackforgeError('LAB_NOT_RUNNING', `the lab answered ${res.statusCode}`)); }
        });
        return;
      }
      resolve(res);
    });
    req.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new RackforgeError('LAB_NOT_RUNNING', 'the lab is not up (no one answers on its control socket)') : e));
    req.end();
  });
}
