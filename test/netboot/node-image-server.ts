// Stand-ins for the provisioner and the controller in test/node-image.test.ts: the routes the
// node installer and the installed node call, at the URL shapes of the real ones, each request
// recorded as one JSON line in LOG so the test's shell loop can grep for progress and the test
// can assert on the exact order and content.
//   node-image-server.ts HOST PORT DIR LOG CREDENTIAL
// DIR holds `autoinstall` (served at /auto), `node.img` and `node.img.sha256` (served at
// /cblr/links/rackforge-node/). Registration answers CREDENTIAL with heartbeat_seconds 2.
import { appendFileSync, createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

const [host = '10.99.0.1', portText = '80', dir = '.', log = 'requests.log', credential = 'c0ffee'] = process.argv.slice(2);

function record(entry: Record<string, unknown>): void {
  appendFileSync(log, `${JSON.stringify({ at: Date.now(), ...entry })}\n`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body)).on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${host}`);
  const path = url.pathname;
  let m: RegExpExecArray | null;
  if (req.method === 'GET' && path === '/auto') {
    record({ kind: 'autoinstall' });
    reply(res, 200, readFileSync(join(dir, 'autoinstall'), 'utf8'));
  } else if (req.method === 'GET' && (m = /^\/cblr\/links\/rackforge-node\/(node\.img(?:\.sha256)?)$/.exec(path))) {
    const file = join(dir, m[1]!);
    if (!existsSync(file)) return reply(res, 404, 'no such file\n');
    record({ kind: 'download', file: m[1] });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  } else if (req.method === 'GET' && (m = /^\/cblr\/svc\/op\/event\/system\/([^/]+)\/token\/([^/]+)\/stage\/([^/]+)$/.exec(path))) {
    record({ kind: 'event', system: m[1], token: m[2], stage: m[3], detail: url.searchParams.get('detail') });
    reply(res, 200, 'ok\n');
  } else if (req.method === 'GET' && (m = /^\/cblr\/svc\/op\/nopxe\/system\/([^/]+)\/token\/([^/]+)$/.exec(path))) {
    record({ kind: 'nopxe', system: m[1], token: m[2] });
    reply(res, 200, 'True\n');
  } else if (req.method === 'POST' && path === '/api/v1/hypervisors') {
    const raw = await readBody(req);
    let body: unknown;
    try { body = JSON.parse(raw); } catch { body = undefined; }
    record({ kind: 'register', contentType: req.headers['content-type'], raw, body });
    if (body === undefined) return reply(res, 400, '{"error":"bad json"}', 'application/json');
    const system = (body as { system?: string }).system ?? 'unknown';
    reply(res, 201, JSON.stringify({ name: system, credential, heartbeat_seconds: 2 }), 'application/json');
  } else if (req.method === 'POST' && (m = /^\/api\/v1\/hypervisors\/([^/]+)\/heartbeat$/.exec(path))) {
    const raw = await readBody(req);
    record({ kind: 'heartbeat', name: m[1], authorization: req.headers.authorization, raw });
    reply(res, 200, '{}', 'application/json');
  } else {
    record({ kind: 'unknown', method: req.method, path });
    reply(res, 404, 'not found\n');
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((e: unknown) => {
    record({ kind: 'error', message: String(e) });
    if (!res.headersSent) reply(res, 500, 'error\n');
  });
});
server.listen(Number(portText), host, () => console.log(`listening on ${host}:${portText}`));
