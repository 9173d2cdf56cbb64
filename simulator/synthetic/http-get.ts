// HTTP/1.1 GET as an installer's fetcher does it, without I/O: the request text, and an
// incremental response parser (status line, headers, then a body delimited by
// Content-Length, chunked transfer coding, or the end of the connection). Bytes go in as
// the TCP connection delivers them.

export const SYNTHETIC_USER_AGENT = 'rackforge-synthetic/0.1';
const MAX_HEAD_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export interface HttpUrl {
  host: string;
  port: number;
  /** Path and query, starting with "/". */
  path: string;
}

/** http://A.B.C.D[:port]/path; a synthetic node has no resolver, so the host must be an IPv4 address. */
export function parseHttpUrl(url: string): HttpUrl | { error: string } {
  const m = /^http:\/\/([^/:?#]+)(?::(\d{1,5}))?([^#]*)/i.exec(url);
  if (!m) return { error: /^https:/i.test(url) ? `${url}: HTTPS is not supported by synthetic nodes` : `${url} is not an http:// URL` };
  const host = m[1]!;
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.split('.').some((x) => Number(x) > 255)) {
    return { error: `${url}: the host is not an IPv4 address (synthetic nodes have no DNS)` };
  }
  const port = m[2] === undefined ? 80 : Number(m[2]);
  if (port < 1 || port > 65535) return { error: `${url}: port ${m[2]} is out of range` };
  const path = m[3] === '' ? '/' : m[3]!;
  return { host, port, path: path.startsWith('/') ? path : `/${path}` };
}

export function renderHttpGet(u: HttpUrl): Buffer {
  const host = u.port === 80 ? u.host : `${u.host}:${u.port}`;
  return Buffer.from(`GET ${u.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${SYNTHETIC_USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n`, 'latin1');
}

export interface HttpResponse {
  status: number;
  reason: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Body length in bytes (after removing the chunked coding). */
  bytes: number;
  /** The body, when the parser was asked to keep it. */
  body?: Buffer;
}

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'close' | 'complete' | 'error';

export class HttpResponseParser {
  private phase: Phase = 'head';
  private pending: Buffer = EMPTY;
  private status = 0;
  private reason = '';
  private headers: Record<string, string> = {};
  private remaining = 0;
  private bytes = 0;
  private chunks: Buffer[] = [];
  private problem: string | undefined;

  constructor(private readonly o: { keepBody: boolean; maxBodyBytes?: number }) {}

  get complete(): boolean {
    return this.phase === 'complete';
  }

  get error(): string | undefined {
    return this.problem;
  }

  /** Feeds bytes; returns true once the response is complete. Bytes after the end are ignored. */
  feed(chunk: Buffer): boolean {
    if (this.over()) return this.complete;
    let b = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = EMPTY;
    while (b.length > 0 && !this.over()) b = this.step(b);
    return this.complete;
  }

  private over(): boolean {
    return this.phase === 'complete' || this.phase === 'error';
  }

  /** The connection ended: completes a read-until-close body, or reports the truncation. */
  end(): boolean {
    if (this.phase === 'close') this.phase = 'complete';
    else if (this.phase !== 'complete' && this.phase !== 'error') {
      this.fail(this.phase === 'head' ? 'the connection closed before a complete response head' : `the connection closed inside the body (${this.bytes} bytes received)`);
    }
    return this.phase === 'complete';
  }

  result(): HttpResponse {
    return {
      status: this.status, reason: this.reason, headers: this.headers, bytes: this.bytes,
      ...(this.o.keepBody ? { body: Buffer.concat(this.chunks) } : {}),
    };
  }

  /** Consumes what it can of `b` and returns the rest (an empty buffer once it needs more). */
  private step(b: Buffer): Buffer {
    switch (this.phase) {
      case 'head': {
        const end = b.indexOf('\r\n\r\n');
        if (end < 0) return this.keep(b, 'the response head');
        const ok = this.parseHead(b.toString('latin1', 0, end));
        if (!ok) return EMPTY;
        return b.subarray(end + 4);
      }
      case 'length': {
        const take = Math.min(this.remaining, b.length);
        this.body(b.subarray(0, take));
        this.remaining -= take;
        if (this.remaining === 0) this.phase = 'complete';
        return b.subarray(take);
      }
      case 'close':
        this.body(b);
        return EMPTY;
      case 'chunk-size': {
        const eol = b.indexOf('\r\n');
        if (eol < 0) return this.keep(b, 'a chunk size line');
        const sizeText = b.toString('latin1', 0, eol).split(';')[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) { this.fail(`bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`); return EMPTY; }
        this.remaining = parseInt(sizeText, 16);
        this.phase = this.remaining === 0 ? 'trailer' : 'chunk-data';
        return b.subarray(eol + 2);
      }
      case 'chunk-data': {
        const take = Math.min(this.remaining, b.length);
        this.body(b.subarray(0, take));
        this.remaining -= take;
        if (this.remaining === 0) this.phase = 'chunk-crlf';
        return b.subarray(take);
      }
      case 'chunk-crlf': {
        if (b.length < 2) return this.keep(b, 'a chunk end');
        if (b[0] !== 0x0d || b[1] !== 0x0a) { this.fail('a chunk does not end with CRLF'); return EMPTY; }
        this.phase = 'chunk-size';
        return b.subarray(2);
      }
      case 'trailer': {
        const eol = b.indexOf('\r\n');
        if (eol < 0) return this.keep(b, 'the trailer');
        // An empty line ends the trailer; trailer fields are read past.
        if (eol === 0) this.phase = 'complete';
        return b.subarray(eol + 2);
      }
      default:
        return EMPTY;
    }
  }

  private keep(b: Buffer, what: string): Buffer {
    if (b.length > MAX_HEAD_BYTES) this.fail(`${what} is longer than ${MAX_HEAD_BYTES} bytes`);
    else this.pending = Buffer.from(b);
    return EMPTY;
  }

  private parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!m) { this.fail(`bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}`); return false; }
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) { this.fail(`bad header line ${JSON.stringify(line.slice(0, 80))}`); return false; }
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    if (status >= 100 && status < 200) {
      // An interim response: the real one follows.
      return true;
    }
    this.status = status;
    this.reason = m[2] ?? '';
    this.headers = headers;
    const te = headers['transfer-encoding']?.toLowerCase();
    const cl = headers['content-length'];
    if (status === 204 || status === 304) {
      this.phase = 'complete';
    } else if (te !== undefined && te.split(',').map((x) => x.trim()).pop() === 'chunked') {
      this.phase = 'chunk-size';
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl)) { this.fail(`bad Content-Length ${JSON.stringify(cl.slice(0, 20))}`); return false; }
      this.remaining = Number(cl);
      this.phase = this.remaining === 0 ? 'complete' : 'length';
    } else {
      this.phase = 'close';
    }
    return true;
  }

  private body(b: Buffer): void {
    if (b.length === 0) return;
    this.bytes += b.length;
    const max = this.o.maxBodyBytes ?? (this.o.keepBody ? 1 << 20 : Number.MAX_SAFE_INTEGER);
    if (this.bytes > max) { this.fail(`the body exceeds ${max} bytes`); return; }
    // TCP hands out views into received frames.
    if (this.o.keepBody) this.chunks.push(Buffer.from(b));
  }

  private fail(why: string): void {
    this.phase = 'error';
    this.problem = why;
  }
}
