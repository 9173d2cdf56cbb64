import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { assertDecodeError, assertDecodesOrRefuses, decodedOrRefused } from './decode-testing.ts';
import {
  HTTP_DECODE_ERRORS, HTTP_MAX_HEAD_BYTES, decodeHttpHead, encodeHttpHead, httpContentLength, httpHeader, startsLikeHttp,
  type HttpHead, type HttpHeadInput,
} from './http1.ts';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

// Real bytes, recorded on loopback: what curl 7.88.1 sent to a socket server on 127.0.0.1 ...
const CURL_GET = 'GET /boot/ubuntu/vmlinuz HTTP/1.1\r\nHost: 127.0.0.1:35305\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n';
const CURL_POST = 'POST /api/v1/nopxe/node1 HTTP/1.1\r\nHost: 127.0.0.1:35305\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n' +
  'Content-Type: application/json\r\nContent-Length: 24\r\n\r\n{"event":"install-done"}';
// ... and what express 5 (this project's dependency) answered a plain socket client.
const EXPRESS_OK = 'HTTP/1.1 200 OK\r\nX-Powered-By: Express\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\n' +
  'ETag: W/"27-zZx1MSOlfsFpuEniRtvTLs1QaqQ"\r\nDate: Mon, 23 Nov 2026 07:40:24 GMT\r\nConnection: close\r\n\r\n#!ipxe\nchain http://10.0.0.1/boot.ipxe\n';
const EXPRESS_404 = "HTTP/1.1 404 Not Found\r\nX-Powered-By: Express\r\nContent-Security-Policy: default-src 'none'\r\nX-Content-Type-Options: nosniff\r\n" +
  'Content-Type: text/html; charset=utf-8\r\nContent-Length: 146\r\nDate: Mon, 23 Nov 2026 07:40:24 GMT\r\nConnection: close\r\n\r\n' +
  '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /missing</pre>\n</body>\n</html>\n';

describe('http1 head codec', () => {
  describe('round-trip', () => {
    const cases: [string, HttpHeadInput][] = [
      ['an iPXE kernel fetch', { kind: 'request', method: 'GET', target: '/boot/ubuntu/vmlinuz', version: 'HTTP/1.1', headers: [['host', '10.0.0.1'], ['user-agent', 'iPXE/1.21.1']] }],
      ['an absolute-form target, HTTP/1.0, no headers', { kind: 'request', method: 'GET', target: 'http://10.0.0.1/boot.ipxe?mac=52:54:00:12:34:56', version: 'HTTP/1.0', headers: [] }],
      ['an unusual method token', { kind: 'request', method: "M-SEARCH!#$%&'*+.^_`|~", target: '*', version: 'HTTP/1.1', headers: [['x', '']] }],
      ['a response with a reason', { kind: 'response', version: 'HTTP/1.1', status: 404, reason: 'Not Found', headers: [['content-length', '0']] }],
      ['a response with an empty reason and a repeated field', { kind: 'response', version: 'HTTP/1.1', status: 200, reason: '', headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] }],
      ['obs-text and inner whitespace in values', { kind: 'response', version: 'HTTP/2.0', status: 999, reason: 'caf\xe9 \t ok', headers: [['x-latin1', 'caf\xe9\tbar  baz']] }],
    ];
    for (const [name, input] of cases) {
      it(name, () => {
        const wire = encodeHttpHead(input);
        assert.deepEqual(decodeHttpHead(wire), { ...input, headLength: wire.length });
        assert.deepEqual(decodeHttpHead(Buffer.concat([wire, latin1('body bytes')])), { ...input, headLength: wire.length });
      });
    }
    it('field names decode lower-cased', () => {
      const h = decodeHttpHead(latin1('GET / HTTP/1.1\r\nContent-LENGTH: 3\r\n\r\n'));
      assert.deepEqual(h?.headers, [['content-length', '3']]);
    });
  });

  describe('golden', () => {
    it('curl GET', () => {
      const h = decodeHttpHead(latin1(CURL_GET));
      assert.deepEqual(h, {
        kind: 'request', method: 'GET', target: '/boot/ubuntu/vmlinuz', version: 'HTTP/1.1',
        headers: [['host', '127.0.0.1:35305'], ['user-agent', 'curl/7.88.1'], ['accept', '*/*']], headLength: CURL_GET.length,
      });
      assert.equal(encodeHttpHead(h!).toString('latin1'), CURL_GET.replace('Host', 'host').replace('User-Agent', 'user-agent').replace('Accept', 'accept'));
    });
    it('curl POST with its body after the head', () => {
      const h = decodeHttpHead(latin1(CURL_POST));
      assert.equal(h?.kind, 'request');
      assert.equal(h.kind === 'request' && h.method, 'POST');
      assert.equal(h.headLength, CURL_POST.length - 24);
      assert.equal(httpContentLength(h), 24);
      assert.equal(httpHeader(h, 'Content-Type'), 'application/json');
    });
    it('express 200 with a text body', () => {
      const h = decodeHttpHead(latin1(EXPRESS_OK));
      assert.ok(h && h.kind === 'response');
      assert.deepEqual([h.version, h.status, h.reason, h.headers.length], ['HTTP/1.1', 200, 'OK', 6]);
      assert.equal(httpHeader(h, 'etag'), 'W/"27-zZx1MSOlfsFpuEniRtvTLs1QaqQ"');
      assert.equal(httpContentLength(h), 39);
      assert.equal(EXPRESS_OK.length - h.headLength, 39, 'the body is exactly Content-Length bytes');
    });
    it('express 404', () => {
      const h = decodeHttpHead(latin1(EXPRESS_404));
      assert.ok(h && h.kind === 'response');
      assert.deepEqual([h.status, h.reason, httpContentLength(h), EXPRESS_404.length - h.headLength], [404, 'Not Found', 146, 146]);
      assert.equal(httpHeader(h, 'content-security-policy'), "default-src 'none'");
    });
    it('every proper prefix of each head is incomplete (null)', () => {
      for (const text of [CURL_GET, CURL_POST, EXPRESS_OK, EXPRESS_404]) {
        const wire = latin1(text);
        const head = decodeHttpHead(wire)!;
        for (let n = 0; n < head.headLength; n++) assert.equal(decodeHttpHead(wire.subarray(0, n)), null, `${n} bytes`);
      }
    });
  });

  describe('line ends and leniencies', () => {
    const want: HttpHead = { kind: 'request', method: 'GET', target: '/', version: 'HTTP/1.1', headers: [['host', 'a']], headLength: 0 };
    const table: [string, string][] = [
      ['lone LF line ends', 'GET / HTTP/1.1\nHost: a\n\n'],
      ['mixed line ends', 'GET / HTTP/1.1\r\nHost: a\n\r\n'],
      ['empty lines before the request line (RFC 9112 §2.2)', '\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['whitespace around a value', 'GET / HTTP/1.1\r\nHost: \t a \t \r\n\r\n'],
      ['no whitespace after the colon', 'GET / HTTP/1.1\r\nHost:a\r\n\r\n'],
    ];
    for (const [name, text] of table) {
      it(name, () => assert.deepEqual(decodeHttpHead(latin1(text)), { ...want, headLength: text.length }));
    }
    it('a status line without the space before an empty reason', () => {
      assert.deepEqual(decodeHttpHead(latin1('HTTP/1.1 204\r\n\r\n')), { kind: 'response', version: 'HTTP/1.1', status: 204, reason: '', headers: [], headLength: 16 });
    });
    it('only blank lines so far: incomplete', () => assert.equal(decodeHttpHead(latin1('\r\n\r\n\n')), null));
    it('a head ending exactly at the limit decodes; one byte more is too long', () => {
      const filler = (n: number) => `GET / HTTP/1.1\r\nx: ${'a'.repeat(n)}\r\n\r\n`;
      const exact = filler(HTTP_MAX_HEAD_BYTES - filler(0).length);
      assert.equal(exact.length, HTTP_MAX_HEAD_BYTES);
      assert.equal(decodeHttpHead(latin1(exact))?.headLength, HTTP_MAX_HEAD_BYTES);
      assertDecodeError(() => decodeHttpHead(latin1(filler(HTTP_MAX_HEAD_BYTES - filler(0).length + 1))), 'HTTP_HEAD_TOO_LONG', 'head', HTTP_MAX_HEAD_BYTES);
    });
    it('an incomplete head is null below the limit and too long at it', () => {
      const start = 'GET / HTTP/1.1\r\nx: ';
      assert.equal(decodeHttpHead(latin1(start + 'a'.repeat(HTTP_MAX_HEAD_BYTES - start.length - 1))), null);
      assertDecodeError(() => decodeHttpHead(latin1(start + 'a'.repeat(HTTP_MAX_HEAD_BYTES - start.length))), 'HTTP_HEAD_TOO_LONG', 'head', HTTP_MAX_HEAD_BYTES);
    });
  });

  describe('malformed input', () => {
    // [name, bytes, code, field, offset]
    const table: [string, string, string, string, number][] = [
      ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n', 'HTTP_BAD_START_LINE', 'method', 0],
      ['a leading space', ' GET / HTTP/1.1\r\n', 'HTTP_BAD_START_LINE', 'method', 0],
      ['a method with a bad character', 'GE(T / HTTP/1.1\r\n', 'HTTP_BAD_START_LINE', 'method', 2],
      ['a method alone', 'GET\r\n', 'HTTP_BAD_START_LINE', 'method', 3],
      ['two spaces after the method', 'GET  / HTTP/1.1\r\n', 'HTTP_BAD_START_LINE', 'target', 4],
      ['a target with a control byte', 'GET /a\x01b HTTP/1.1\r\n', 'HTTP_BAD_START_LINE', 'target', 6],
      ['a target with a non-ASCII byte', 'GET /caf\xe9 HTTP/1.1\r\n', 'HTTP_BAD_START_LINE', 'target', 8],
      ['HTTP/0.9: no version', 'GET /\r\n', 'HTTP_BAD_START_LINE', 'target', 5],
      ['a lower-case version', 'GET / http/1.1\r\n', 'HTTP_BAD_START_LINE', 'version', 6],
      ['a version with two-digit minor', 'GET / HTTP/1.11\r\n', 'HTTP_BAD_START_LINE', 'version', 6],
      ['a trailing space after the version', 'GET / HTTP/1.1 \r\n', 'HTTP_BAD_START_LINE', 'version', 6],
      ['a status line with no space after the version', 'HTTP/1.1200 OK\r\n', 'HTTP_BAD_START_LINE', 'version', 0],
      ['a two-digit status', 'HTTP/1.1 20 OK\r\n', 'HTTP_BAD_START_LINE', 'status', 9],
      ['a four-digit status', 'HTTP/1.1 2000 OK\r\n', 'HTTP_BAD_START_LINE', 'status', 9],
      ['a control byte in the reason', 'HTTP/1.1 200 O\x00K\r\n', 'HTTP_BAD_START_LINE', 'reason', 14],
      ['a bare CR in the start line', 'GET / HTTP/1.1\rHost: a\r\n\r\n', 'HTTP_BARE_CR', 'startLine', 14],
      ['a bare CR in a header line', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 'HTTP_BARE_CR', 'header', 23],
      ['CR CR LF', 'GET / HTTP/1.1\r\nHost: a\r\r\n\r\n', 'HTTP_BARE_CR', 'header', 23],
      ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n', 'HTTP_BAD_HEADER', 'name', 22],
      ['whitespace before the first header', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 'HTTP_BAD_HEADER', 'name', 16],
      ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'HTTP_BAD_HEADER', 'name', 20],
      ['no colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 'HTTP_BAD_HEADER', 'name', 20],
      ['an empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 'HTTP_BAD_HEADER', 'name', 16],
      ['a name with a bad character', 'GET / HTTP/1.1\r\nHo(st: a\r\n\r\n', 'HTTP_BAD_HEADER', 'name', 18],
      ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n', 'HTTP_BAD_HEADER', 'value', 23],
      ['DEL in a value', 'HTTP/1.1 200 OK\r\nX: \x7f\r\n\r\n', 'HTTP_BAD_HEADER', 'value', 20],
      // Complete lines are checked before the head ends: a bad first line is refused at once.
      ['a bad request line, head not ended', 'HELLO\r\n', 'HTTP_BAD_START_LINE', 'method', 5],
      ['a bad header, head not ended', 'GET / HTTP/1.1\r\nbad\r\nmore', 'HTTP_BAD_HEADER', 'name', 19],
    ];
    for (const [name, text, code, field, offset] of table) {
      it(`${name} -> ${code} ${field} at ${offset}`, () => assertDecodeError(() => decodeHttpHead(latin1(text)), code, field, offset));
    }
  });

  describe('encode refuses what has no wire form', () => {
    const req: HttpHeadInput = { kind: 'request', method: 'GET', target: '/', version: 'HTTP/1.1', headers: [] };
    const res: HttpHeadInput = { kind: 'response', version: 'HTTP/1.1', status: 200, reason: 'OK', headers: [] };
    const table: [string, HttpHeadInput][] = [
      ['an empty method', { ...req, method: '' }],
      ['a method with a space', { ...req, method: 'G T' }],
      ['an empty target', { ...req, target: '' }],
      ['a target with a space', { ...req, target: '/a b' }],
      ['a target with a non-ASCII character', { ...req, target: '/café' }],
      ['version HTTP/2', { ...req, version: 'HTTP/2' }],
      ['status 1000', { ...res, status: 1000 }],
      ['status 20.5', { ...res, status: 20.5 }],
      ['a CR in the reason', { ...res, reason: 'O\rK' }],
      ['a character above latin1 in the reason', { ...res, reason: 'ok \u2713' }],
      ['a field name with a colon', { ...res, headers: [['a:b', 'c']] }],
      ['a LF in a value', { ...res, headers: [['a', 'b\nc']] }],
      ['a value with a leading space', { ...res, headers: [['a', ' b']] }],
    ];
    for (const [name, h] of table) it(name, () => assert.throws(() => encodeHttpHead(h), RangeError));
  });

  describe('helpers', () => {
    const head = (...headers: [string, string][]): { headers: [string, string][] } => ({ headers });
    it('httpHeader: any case, absent, repeated joined with ", "', () => {
      assert.equal(httpHeader(head(['host', 'a']), 'HOST'), 'a');
      assert.equal(httpHeader(head(['host', 'a']), 'accept'), undefined);
      assert.equal(httpHeader(head(['accept', 'a'], ['host', 'h'], ['accept', 'b']), 'Accept'), 'a, b');
    });
    const lengths: [string, [string, string][], number | undefined][] = [
      ['a length', [['content-length', '146']], 146],
      ['zero', [['content-length', '0']], 0],
      ['leading zeros', [['content-length', '007']], 7],
      ['no field', [['host', 'a']], undefined],
      ['a list of one value', [['content-length', '5, 5']], 5],
      ['two equal fields', [['content-length', '5'], ['content-length', '5']], 5],
      ['two different fields', [['content-length', '5'], ['content-length', '6']], undefined],
      ['a sign', [['content-length', '+5']], undefined],
      ['not a number', [['content-length', 'five']], undefined],
      ['empty', [['content-length', '']], undefined],
      ['beyond 2^53', [['content-length', '9007199254740993']], undefined],
      ['with Transfer-Encoding, which overrides it', [['content-length', '5'], ['transfer-encoding', 'chunked']], undefined],
    ];
    for (const [name, headers, want] of lengths) it(`httpContentLength: ${name}`, () => assert.equal(httpContentLength(head(...headers)), want));
    const starts: [string, string, boolean][] = [
      ['a GET', 'GET / HTTP/1.1', true],
      ['a method and a space, nothing more yet', 'PROPFIND ', true],
      ['a response', 'HTTP/1.1 200 OK', true],
      ['"HTTP/" alone', 'HTTP/', true],
      ['"HTTP" cut short', 'HTTP', false],
      ['a token with no space yet', 'GET', false],
      ['empty', '', false],
      ['a leading space', ' GET /', false],
      ['TLS', '\x16\x03\x01\x02\x00', false],
      ['SSH', 'SSH-2.0-OpenSSH_9.2\r\n', false],
      ['a 32-character token', `${'A'.repeat(32)} /`, true],
      ['a 33-character token', `${'A'.repeat(33)} /`, false],
    ];
    for (const [name, text, want] of starts) it(`startsLikeHttp: ${name} -> ${want}`, () => assert.equal(startsLikeHttp(latin1(text)), want));
  });

  describe('properties', () => {
    const token = fc.string({ unit: fc.constantFrom(...'GETPOSTabcz09-!#.~'.split('')), minLength: 1, maxLength: 8 });
    const value = fc.string({ unit: fc.constantFrom(...'ab: /\t"\xe9'.split('')), maxLength: 12 }).map((s) => s.replace(/^[ \t]+|[ \t]+$/g, ''));
    const headers = fc.array(fc.tuple(token.map((t) => t.toLowerCase()), value), { maxLength: 5 });
    const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0');
    const headArb: fc.Arbitrary<HttpHeadInput> = fc.oneof(
      fc.record({ kind: fc.constant('request' as const), method: token, target: fc.string({ unit: fc.constantFrom(...'/abc?=&%:@*'.split('')), minLength: 1, maxLength: 12 }), version, headers }),
      fc.record({ kind: fc.constant('response' as const), version, status: fc.integer({ min: 0, max: 999 }), reason: value, headers }),
    ).map((h) => ({ ...h }));
    /** A decoded head re-encodes to one that decodes to the same values. */
    const stable = (h: HttpHead | null): void => {
      if (h === null) return;
      const { headLength: _l, ...input } = h;
      const again = decodeHttpHead(encodeHttpHead(input));
      assert.deepEqual(again && { ...again, headLength: 0 }, { ...h, headLength: 0 });
    };
    it('arbitrary bytes give a head, null or a DecodeError, nothing else', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        fc.array(fc.oneof(fc.constantFrom(13, 10, 32, 9, 58, 0x48, 0x54, 0x50, 0x2f, 0x31, 0x2e), fc.integer({ min: 0, max: 255 })), { maxLength: 80 }).map((a) => Uint8Array.from(a)),
      );
      assertDecodesOrRefuses({ bytes, decode: (b) => decodeHttpHead(b), codes: HTTP_DECODE_ERRORS, check: (h, b) => {
        stable(h);
        if (h) assert.ok(h.headLength <= b.length);
      } });
    });
    it('random mutations of valid heads give a head, null or a DecodeError, nothing else', () => {
      const mutated = fc.tuple(headArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }))
        .map(([h, edits]) => {
          const a = [...encodeHttpHead(h)];
          for (const [at, byte, how] of edits) {
            const i = at % (a.length + 1);
            if (how === 'set' && i < a.length) a[i] = byte;
            else if (how === 'insert') a.splice(i, 0, byte);
            else a.splice(i, 1);
          }
          return Uint8Array.from(a);
        });
      assertDecodesOrRefuses({ bytes: mutated, decode: (b) => decodeHttpHead(b), codes: HTTP_DECODE_ERRORS, check: stable });
    });
    it('valid heads round-trip, every prefix is null, and a body after them is left alone', () => {
      fc.assert(
        fc.property(headArb, fc.uint8Array({ maxLength: 20 }), (h, body) => {
          const wire = encodeHttpHead(h);
          assert.deepEqual(decodeHttpHead(Buffer.concat([wire, body])), { ...h, headLength: wire.length });
          for (let n = 0; n < wire.length; n++) assert.equal(decodeHttpHead(wire.subarray(0, n)), null);
        }),
        { numRuns: 1000 },
      );
    });
    it('a prefix of any input is null or fails the same way as the whole', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat(), (u, cut) => {
          const whole = Buffer.from(u);
          const prefix = whole.subarray(0, cut % (whole.length + 1));
          let failure: DecodeError | undefined;
          const got = decodedOrRefused(() => {
            try {
              return decodeHttpHead(prefix);
            } catch (e) {
              failure = e as DecodeError;
              throw e;
            }
          }, { codes: HTTP_DECODE_ERRORS });
          if (got === null) return;
          // Whatever a prefix already decided, the whole input decides the same.
          if (failure) assertDecodeError(() => decodeHttpHead(whole), failure.code, failure.field, failure.offset);
          else assert.deepEqual(decodeHttpHead(whole), got);
        }),
        { numRuns: 5000 },
      );
    });
  });
});
