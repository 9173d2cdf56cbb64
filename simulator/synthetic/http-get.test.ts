import assert from 'node:assert/strict';
import { HttpResponseParser, parseHttpUrl, renderHttpGet } from './http-get.ts';

/** Feeds `text` in pieces of `size` bytes; returns the parser. */
function parse(text: string | Buffer, size: number, keepBody = true, close = false): HttpResponseParser {
  const p = new HttpResponseParser({ keepBody });
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  for (let i = 0; i < b.length; i += size) p.feed(b.subarray(i, i + size));
  if (close) p.end();
  return p;
}

describe('HTTP GET for synthetic nodes', () => {
  it('parses http:// URLs with an IPv4 host, and refuses what a node cannot fetch', () => {
    assert.deepEqual(parseHttpUrl('http://10.60.0.1:8080/cblr/svc/op/autoinstall/system/n1'), { host: '10.60.0.1', port: 8080, path: '/cblr/svc/op/autoinstall/system/n1' });
    assert.deepEqual(parseHttpUrl('http://10.0.0.1'), { host: '10.0.0.1', port: 80, path: '/' });
    assert.deepEqual(parseHttpUrl('http://10.0.0.1/a?b=c#frag'), { host: '10.0.0.1', port: 80, path: '/a?b=c' });
    assert.match((parseHttpUrl('http://boot.example/x') as { error: string }).error, /no DNS/);
    assert.match((parseHttpUrl('https://10.0.0.1/x') as { error: string }).error, /HTTPS is not supported/);
    assert.match((parseHttpUrl('http://10.0.0.300/x') as { error: string }).error, /not an IPv4 address/);
    assert.match((parseHttpUrl('http://10.0.0.1:70000/x') as { error: string }).error, /out of range/);
    assert.match((parseHttpUrl('ftp://10.0.0.1/x') as { error: string }).error, /not an http:\/\/ URL/);
  });

  it('renders a GET with Host, the synthetic User-Agent and Connection: close', () => {
    const text = renderHttpGet({ host: '10.0.0.1', port: 8080, path: '/images/d/vmlinuz' }).toString();
    assert.equal(text, 'GET /images/d/vmlinuz HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nUser-Agent: rackforge-synthetic/0.1\r\nAccept: */*\r\nConnection: close\r\n\r\n');
    assert.match(renderHttpGet({ host: '10.0.0.1', port: 80, path: '/' }).toString(), /\r\nHost: 10\.0\.0\.1\r\n/);
  });

  const body = 'x'.repeat(3000);
  const cl = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3000\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n${body}`;

  it('reads a Content-Length body however the bytes are split', () => {
    for (const size of [1, 7, 100, 1460, 100_000]) {
      const p = parse(cl, size);
      assert.ok(p.complete, `pieces of ${size}`);
      const r = p.result();
      assert.equal(r.status, 200);
      assert.equal(r.reason, 'OK');
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.equal(r.headers['set-cookie'], 'a, b');
      assert.equal(r.bytes, 3000);
      assert.equal(r.body!.toString(), body);
    }
  });

  it('ignores bytes after the end of a Content-Length body', () => {
    const p = parse(`${cl}GARBAGE`, 50);
    assert.equal(p.result().bytes, 3000);
  });

  it('reads a chunked body with extensions and a trailer, however split', () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: y\r\n\r\n';
    for (const size of [1, 3, 1000]) {
      const p = parse(chunked, size);
      assert.ok(p.complete, `pieces of ${size}`);
      assert.equal(p.result().body!.toString(), 'helloabcdefghijklmnopqrstuvwxyz');
    }
  });

  it('reads until the connection closes without a length, and counts without keeping', () => {
    const p = parse('HTTP/1.0 200 OK\r\n\r\n' + body, 333, false);
    assert.equal(p.complete, false);
    assert.equal(p.end(), true);
    assert.equal(p.result().bytes, 3000);
    assert.equal(p.result().body, undefined);
  });

  it('skips an interim 100 response and completes a 404 with its body', () => {
    const p = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n# not found\n', 5);
    assert.ok(p.complete);
    assert.equal(p.result().status, 404);
    assert.equal(p.result().body!.toString(), '# not found\n');
  });

  it('reports malformed and truncated responses', () => {
    assert.match(parse('HTTP/2 200\r\n\r\n', 100).error!, /bad status line/);
    assert.match(parse('HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 100).error!, /bad header line/);
    assert.match(parse('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 100).error!, /bad Content-Length/);
    assert.match(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 100).error!, /bad chunk size/);
    assert.match(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 100, true, true).error!, /closed inside the body \(3 bytes received\)/);
    assert.match(parse('HTTP/1.1 200', 100, true, true).error!, /before a complete response head/);
    assert.match(parse(Buffer.alloc(70_000, 65), 1000).error!, /longer than 65536 bytes/);
  });

  it('refuses a kept body over its limit', () => {
    const p = new HttpResponseParser({ keepBody: true, maxBodyBytes: 10 });
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789'));
    assert.match(p.error!, /exceeds 10 bytes/);
  });
});
