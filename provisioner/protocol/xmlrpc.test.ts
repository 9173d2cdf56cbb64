import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import {
  decodeMethodCall,
  decodeMethodResponse,
  encodeFault,
  encodeMethodCall,
  encodeMethodResponse,
  XmlRpcDouble,
  XmlRpcEncoded,
  type XmlRpcValue,
} from './xmlrpc.ts';

const PYTHON = '/usr/bin/python3';
const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/** Runs a Python 3 snippet with `input` on stdin and returns its stdout. */
function python(script: string, input = ''): string {
  return execFileSync(PYTHON, ['-c', script], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function requirePython(ctx: Mocha.Context): void {
  if (!existsSync(PYTHON)) ctx.skip();
}

function call(paramsXml: string, methodName = 'm'): string {
  return `<?xml version='1.0'?><methodCall><methodName>${methodName}</methodName><params>${paramsXml}</params></methodCall>`;
}

function param(valueXml: string): string {
  return call(`<param>${valueXml}</param>`);
}

function decodeOne(valueXml: string): XmlRpcValue {
  const { params } = decodeMethodCall(param(valueXml));
  assert.equal(params.length, 1);
  return params[0] as XmlRpcValue;
}

/** What a value reads back as: numbers, bigints in the safe range and doubles all become numbers. */
function normalise(v: XmlRpcValue): XmlRpcValue {
  if (typeof v === 'number') return v === 0 ? 0 : v;
  if (typeof v === 'bigint') return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (v instanceof XmlRpcDouble) return v.value;
  if (v instanceof XmlRpcEncoded) return v;
  if (v === null || typeof v !== 'object' || v instanceof Date || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(normalise);
  const out: { [k: string]: XmlRpcValue } = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, { value: normalise(v[k] as XmlRpcValue), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function roundTrip(v: XmlRpcValue): void {
  const response = decodeMethodResponse(encodeMethodResponse(v));
  assert.deepStrictEqual(response, { value: normalise(v) });
  const { methodName, params } = decodeMethodCall(encodeMethodCall('system.echo', [v, v]));
  assert.equal(methodName, 'system.echo');
  assert.deepStrictEqual(params, [normalise(v), normalise(v)]);
}

const TRICKY = 'ünï😀 <&> ]]> "q"';

describe('xmlrpc codec', () => {
  describe('round-trip', () => {
    const cases: [string, XmlRpcValue][] = [
      ['null', null],
      ['true', true],
      ['false', false],
      ['zero', 0],
      ['negative int', -42],
      ['int32 bounds', [2 ** 31 - 1, -(2 ** 31)]],
      ['2^40 as number', 2 ** 40],
      ['2^40 as bigint (comes back as number)', 2n ** 40n],
      ['2^63-1 bigint', 2n ** 63n - 1n],
      ['-2^63 bigint', -(2n ** 63n)],
      ['beyond 64 bits', 2n ** 100n],
      ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
      ['unsafe integral number (sent as double)', 2 ** 60],
      ["Cobbler's version()", 3.307],
      ['0.1', 0.1],
      ['negative double', -2.5e-7],
      ['huge double', 1.7976931348623157e308],
      ['tiny double', 5e-324],
      ['integral float forced to double', new XmlRpcDouble(1700000000)],
      ['negative zero double', new XmlRpcDouble(-0)],
      ['empty string', ''],
      ['unicode and markup', TRICKY],
      ['CRLF and CR', 'a\r\nb\rc\n'],
      ['tabs and spaces kept', '  \t x \t  '],
      ['date', new Date(Date.UTC(2026, 0, 1, 12, 34, 56))],
      ['date in year 1', (() => { const d = new Date(0); d.setUTCFullYear(1, 0, 1); return d; })()],
      ['empty buffer', Buffer.alloc(0)],
      ['all bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
      ['empty array', []],
      ['empty struct', {}],
      ['struct with awkward keys', { '': 1, 'a b': 2, '<&>': 3, __proto__x: 4, [TRICKY]: 5 }],
      [
        'Cobbler system',
        {
          name: 'node01',
          ctime: 1700000000.123456,
          mtime: new XmlRpcDouble(1700000000),
          netboot_enabled: true,
          kernel_options: { quiet: '~', console: 'ttyS0,115200' },
          interfaces: { eth0: { mac_address: '52:54:00:12:34:56', ip_address: '10.0.0.5', static_routes: [], management: false } },
          owners: ['admin'],
          profile: '<<inherit>>',
        },
      ],
      ['nested arrays', [[[[]]], [1, [2, [3, 'x']]]]],
    ];
    for (const [name, value] of cases) {
      it(name, () => roundTrip(value));
    }

    it('keeps a struct key named __proto__ as a key, not a prototype', () => {
      const v: { [k: string]: XmlRpcValue } = {};
      Object.defineProperty(v, '__proto__', { value: 'p', enumerable: true, writable: true, configurable: true });
      const out = decodeMethodResponse(encodeMethodResponse(v));
      assert.ok('value' in out);
      const decoded = out.value as { [k: string]: XmlRpcValue };
      assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
      assert.deepEqual(Object.keys(decoded), ['__proto__']);
      assert.equal(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value, 'p');
    });

    it('round-trips faults', () => {
      const fault = { faultCode: 1, faultString: "<class 'cobbler.cexceptions.CX'>:'login failed (cobbler)'" };
      assert.deepStrictEqual(decodeMethodResponse(encodeFault(fault)), { fault });
    });

    it("writes Python's layout byte for byte (anchors §1.1b)", () => {
      assert.equal(
        encodeMethodCall('login', ['cobbler', 'cobbler']),
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>login</methodName>\n<params>\n" +
          '<param>\n<value><string>cobbler</string></value>\n</param>\n' +
          '<param>\n<value><string>cobbler</string></value>\n</param>\n</params>\n</methodCall>\n',
      );
      assert.equal(
        encodeFault({ faultCode: 1, faultString: "<class 'cobbler.cexceptions.CX'>:'login failed (cobbler)'" }),
        "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n" +
          '<member>\n<name>faultCode</name>\n<value><int>1</int></value>\n</member>\n' +
          "<member>\n<name>faultString</name>\n<value><string>&lt;class 'cobbler.cexceptions.CX'&gt;:'login failed (cobbler)'</string></value>\n</member>\n" +
          '</struct></value>\n</fault>\n</methodResponse>\n',
      );
    });

    it('writes CR as a character reference, so parsers do not turn it into LF', () => {
      assert.match(encodeMethodResponse('a\r\nb'), /<string>a&#13;\nb<\/string>/);
    });
  });

  describe('golden: Python 3 xmlrpc.client', () => {
    it("decodes the requests Python's client sends", function () {
      requirePython(this);
      const script = String.raw`
import json, datetime, xmlrpc.client as x
calls = [
  x.dumps(('cobbler', 'cobbler'), methodname='login'),
  x.dumps((0, -1, 2**31 - 1, -2**31, True, False), methodname='ints'),
  x.dumps((3.307, 0.1, 1700000000.0, -2.5e-07, 1e16, 1e-05, float('inf'), float('-inf')), methodname='doubles'),
  x.dumps(('ünï😀 <&> ]]> "q"', '', '  x  ', 'a\r\nb'), methodname='strings'),
  x.dumps(([], {}, [1, ['two', [3.5]]], {'interfaces': {'eth0': {'mac_address': '52:54:00:12:34:56', 'static_routes': []}}, 'name_servers': ['10.0.0.2']}), methodname='get_systems'),
  x.dumps((None, x.Binary(bytes(range(256))), x.DateTime('20260101T12:34:56'), datetime.datetime(1999, 12, 31, 23, 59, 58)), methodname='misc', allow_none=True),
  x.dumps((), methodname='version'),
]
print(json.dumps(calls))
`;
      const calls = JSON.parse(python(script)) as string[];
      const decoded = calls.map((body) => decodeMethodCall(body));
      assert.deepStrictEqual(decoded, [
        { methodName: 'login', params: ['cobbler', 'cobbler'] },
        { methodName: 'ints', params: [0, -1, 2 ** 31 - 1, -(2 ** 31), true, false] },
        { methodName: 'doubles', params: [3.307, 0.1, 1700000000, -2.5e-7, 1e16, 1e-5, Infinity, -Infinity] },
        // Python sends CR raw; XML end-of-line handling makes it LF, exactly as Cobbler's expat does.
        { methodName: 'strings', params: [TRICKY, '', '  x  ', 'a\nb'] },
        {
          methodName: 'get_systems',
          params: [[], {}, [1, ['two', [3.5]]], { interfaces: { eth0: { mac_address: '52:54:00:12:34:56', static_routes: [] } }, name_servers: ['10.0.0.2'] }],
        },
        {
          methodName: 'misc',
          params: [null, Buffer.from(Array.from({ length: 256 }, (_, i) => i)), new Date(Date.UTC(2026, 0, 1, 12, 34, 56)), new Date(Date.UTC(1999, 11, 31, 23, 59, 58))],
        },
        { methodName: 'version', params: [] },
      ]);
      // The same CR seen by Python's own parser: a LF.
      assert.equal(python("import xmlrpc.client as x; print(repr(x.loads(x.dumps(('a\\r\\nb',)))[0][0]))").trim(), "'a\\nb'");
    });

    it('decodes hand-written <i8> and <ex:i8> the way Python does', function () {
      requirePython(this);
      const body = call(
        ['<i8>8589934592</i8>', '<i8>9223372036854775807</i8>', '<ex:i8>-9223372036854775808</ex:i8>', '<i4>7</i4>', '<int>99999999999999999999</int>']
          .map((v) => `<param><value>${v}</value></param>`)
          .join(''),
        'big',
      ).replace('<methodCall>', '<methodCall xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">');
      const expected = [8589934592, 2n ** 63n - 1n, -(2n ** 63n), 7, 99999999999999999999n];
      assert.deepStrictEqual(decodeMethodCall(body).params, expected);
      const seen = python('import sys, xmlrpc.client as x; print(repr(x.loads(sys.stdin.read())[0]))', body).trim();
      assert.equal(seen, `(${expected.map(String).join(', ')})`);
    });

    it('Python reads our responses with the right types', function () {
      requirePython(this);
      const value: XmlRpcValue = {
        int: 42,
        big: 2n ** 40n,
        neg: -7,
        double: 3.307,
        floatStamp: new XmlRpcDouble(1700000000),
        yes: true,
        no: false,
        text: TRICKY,
        cr: 'a\r\nb',
        nothing: null,
        when: new Date(Date.UTC(2026, 0, 1, 12, 34, 56)),
        bytes: Buffer.from([0, 1, 254, 255]),
        list: [1, 'two', [3.5, []], {}],
        interfaces: { eth0: { mac_address: '52:54:00:12:34:56', static: true } },
      };
      const script = String.raw`
import sys, json, xmlrpc.client as x
def tag(v):
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', str(v)]
    if isinstance(v, float): return ['float', repr(v)]
    if isinstance(v, str): return ['str', v]
    if v is None: return ['none', None]
    if isinstance(v, x.Binary): return ['bytes', v.data.hex()]
    if isinstance(v, x.DateTime): return ['datetime', v.value]
    if isinstance(v, list): return ['list', [tag(i) for i in v]]
    if isinstance(v, dict): return ['dict', [[k, tag(i)] for k, i in v.items()]]
    return ['unknown', repr(v)]
params, method = x.loads(sys.stdin.buffer.read())
print(json.dumps([method, [tag(p) for p in params]]))
`;
      const [method, [seen]] = JSON.parse(python(script, encodeMethodResponse(value))) as [null, unknown[]];
      assert.equal(method, null);
      assert.deepStrictEqual(seen, [
        'dict',
        [
          ['int', ['int', '42']],
          ['big', ['int', '1099511627776']],
          ['neg', ['int', '-7']],
          ['double', ['float', '3.307']],
          ['floatStamp', ['float', '1700000000.0']],
          ['yes', ['bool', true]],
          ['no', ['bool', false]],
          ['text', ['str', TRICKY]],
          ['cr', ['str', 'a\r\nb']],
          ['nothing', ['none', null]],
          ['when', ['datetime', '20260101T12:34:56']],
          ['bytes', ['bytes', '0001feff']],
          ['list', ['list', [['int', '1'], ['str', 'two'], ['list', [['float', '3.5'], ['list', []]]], ['dict', []]]]],
          ['interfaces', ['dict', [['eth0', ['dict', [['mac_address', ['str', '52:54:00:12:34:56']], ['static', ['bool', true]]]]]]]],
        ],
      ]);
      const fault = python('import sys, xmlrpc.client as x\ntry:\n  x.loads(sys.stdin.read())\nexcept x.Fault as f:\n  print(f.faultCode, f.faultString)', encodeFault({ faultCode: 1, faultString: "<class 'X'>:'no'" }));
      assert.equal(fault, "1 <class 'X'>:'no'\n");
    });

    it("writes doubles exactly as Python's repr()", function () {
      requirePython(this);
      const edges = [1e-4, 9.999999999999999e-5, 1e-5, 1e16, 9999999999999998, 1e15, 1e21, 1e22, 2 ** 53, 2 ** 53 + 2, 0.1 + 0.2, 5e-324, 1.7976931348623157e308, -1.5e-10, 123.456, 100, -0];
      const doubles = [...edges, ...fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), { numRuns: 3000, seed: 7 })];
      const xml = encodeMethodResponse(doubles.map((d) => new XmlRpcDouble(d)));
      const ours = [...xml.matchAll(/<double>([^<]*)<\/double>/g)].map((m) => m[1]);
      const theirs = JSON.parse(python('import sys, json, xmlrpc.client as x\nprint(json.dumps([repr(v) for v in x.loads(sys.stdin.read())[0][0]]))', xml)) as string[];
      assert.deepStrictEqual(ours, theirs);
    });

    it("writes exactly what Python's marshaller writes for the same values (property)", function () {
      requirePython(this);
      // Values Python can re-marshal unchanged: ints within int32, no CR (Python writes it raw).
      const samples = fc.sample(pythonSafeValue, { numRuns: 60, seed: 20260101 });
      const ours = samples.map((v) => encodeMethodResponse(v));
      const script = String.raw`
import sys, json, xmlrpc.client as x
out = []
for body in json.load(sys.stdin):
    params, _ = x.loads(body)
    out.append(x.dumps(params, methodresponse=True, allow_none=True))
print(json.dumps(out))
`;
      const theirs = JSON.parse(python(script, JSON.stringify(ours))) as string[];
      assert.equal(theirs.length, ours.length);
      for (let i = 0; i < ours.length; i++) assert.equal(ours[i], theirs[i], `sample ${i}`);
    });
  });

  describe('golden: the xmlrpc npm package (baalexander) as a second reference', () => {
    const require = createRequire(import.meta.url);
    const serializer = require('xmlrpc/lib/serializer.js') as {
      serializeMethodCall(method: string, params: unknown[]): string;
      serializeMethodResponse(value: unknown): string;
      serializeFault(fault: unknown): string;
    };
    const dateFormatter = require('xmlrpc/lib/date_formatter.js') as { setOpts(opts?: object): void };
    const Deserializer = require('xmlrpc/lib/deserializer.js') as new () => {
      deserializeMethodResponse(stream: NodeJS.ReadableStream, cb: (err: Error | null, value: unknown) => void): void;
    };

    const params = [
      'cobbler',
      42,
      -7,
      2 ** 40,
      3.307,
      true,
      null,
      TRICKY,
      new Date(Date.UTC(2026, 0, 1, 12, 34, 56)),
      Buffer.from('hello'),
      [1, ['x', []]],
      { interfaces: { eth0: { mac_address: '52:54:00:12:34:56' } }, empty: {} },
    ];

    it('its serializer output decodes with ours', () => {
      dateFormatter.setOpts({ local: false });
      try {
        const body = serializer.serializeMethodCall('get_systems', params);
        assert.deepStrictEqual(decodeMethodCall(body), { methodName: 'get_systems', params });
        assert.deepStrictEqual(decodeMethodResponse(serializer.serializeMethodResponse(params)), { value: params });
        assert.deepStrictEqual(decodeMethodResponse(serializer.serializeFault({ faultCode: 1, faultString: 'x' })), { fault: { faultCode: 1, faultString: 'x' } });
      } finally {
        dateFormatter.setOpts();
      }
    });

    it('its deserializer reads our output', async () => {
      // Without the Date: that library reads zone-less times as local time.
      const value0 = params.filter((p) => !(p instanceof Date));
      const body = encodeMethodResponse(value0);
      const stream = new PassThrough();
      const value = await new Promise<unknown>((resolve, reject) => {
        new Deserializer().deserializeMethodResponse(stream, (err, v) => (err ? reject(err) : resolve(v)));
        stream.end(body);
      });
      assert.deepStrictEqual(value, value0);
    });
  });

  describe('lenient where real clients need it', () => {
    const cases: [string, string, XmlRpcValue][] = [
      ['untyped value is a string', '<value>plain text</value>', 'plain text'],
      ['untyped value keeps whitespace', '<value>  two  spaces </value>', '  two  spaces '],
      ['<value/> (kolo/xmlrpc nil) is ""', '<value/>', ''],
      ['<value></value> is ""', '<value></value>', ''],
      ['whitespace around a typed value', '<value>\n  <int>5</int>\n</value>', 5],
      ['<i4>', '<value><i4>-12</i4></value>', -12],
      ['<int> with sign and spaces', '<value><int> +7 </int></value>', 7],
      ['<int> -0 is 0', '<value><int>-0</int></value>', 0],
      ['<i8> beyond 2^53 is bigint', '<value><i8>9007199254740993</i8></value>', 9007199254740993n],
      ['<i8> at MAX_SAFE_INTEGER is number', '<value><i8>9007199254740991</i8></value>', Number.MAX_SAFE_INTEGER],
      ['<nil/>', '<value><nil/></value>', null],
      ['<ex:nil/>', '<value><ex:nil/></value>', null],
      ['<double> exponent', '<value><double>1e+16</double></value>', 1e16],
      ['<double> NaN as Python writes it', '<value><double>nan</double></value>', Number.NaN],
      ['<string> whitespace kept', '<value><string>\n\t x \n</string></value>', '\n\t x \n'],
      ['<string/>', '<value><string/></value>', ''],
      ['CDATA inside <string>', '<value><string><![CDATA[<b>&amp;</b>]]></string></value>', '<b>&amp;</b>'],
      ['comment inside <string>', '<value><string>a<!-- c -->b</string></value>', 'ab'],
      ['predefined entities and character references', '<value><string>&lt;&gt;&amp;&quot;&apos;&#13;&#x1F600;</string></value>', '<>&"\'\r😀'],
      ['raw CRLF becomes LF', '<value><string>a\r\nb\rc</string></value>', 'a\nb\nc'],
      ['dateTime basic', '<value><dateTime.iso8601>20260101T12:34:56</dateTime.iso8601></value>', new Date(Date.UTC(2026, 0, 1, 12, 34, 56))],
      ['dateTime extended with Z', '<value><dateTime.iso8601>2026-01-01T12:34:56Z</dateTime.iso8601></value>', new Date(Date.UTC(2026, 0, 1, 12, 34, 56))],
      ['dateTime with offset', '<value><dateTime.iso8601>2026-01-01T14:34:56+02:00</dateTime.iso8601></value>', new Date(Date.UTC(2026, 0, 1, 12, 34, 56))],
      ['dateTime with negative offset', '<value><dateTime.iso8601>20260101T07:04:56-0530</dateTime.iso8601></value>', new Date(Date.UTC(2026, 0, 1, 12, 34, 56))],
      ['dateTime with fraction', '<value><dateTime.iso8601>2026-01-01T12:34:56.250Z</dateTime.iso8601></value>', new Date(Date.UTC(2026, 0, 1, 12, 34, 56, 250))],
      ['dateTime leap day', '<value><dateTime.iso8601>20240229T00:00:00</dateTime.iso8601></value>', new Date(Date.UTC(2024, 1, 29))],
      ['base64 with line breaks', '<value><base64>\naGVs\nbG8=\n</base64></value>', Buffer.from('hello')],
      ['empty base64', '<value><base64></base64></value>', Buffer.alloc(0)],
      ['empty array', '<value><array><data/></array></value>', []],
      ['duplicate struct members: last wins', '<value><struct><member><name>a</name><value>1</value></member><member><name>b</name><value>2</value></member><member><name>a</name><value>3</value></member></struct></value>', { a: '3', b: '2' }],
      ['member value before name', '<value><struct><member><value><int>1</int></value><name>a</name></member></struct></value>', { a: 1 }],
      ['struct name kept verbatim', '<value><struct><member><name> a b </name><value/></member></struct></value>', { ' a b ': '' }],
    ];
    for (const [name, xml, expected] of cases) {
      it(name, () => assert.deepStrictEqual(decodeOne(xml), expected));
    }

    it('accepts empty and missing <params>', () => {
      assert.deepStrictEqual(decodeMethodCall('<methodCall><methodName>version</methodName><params/></methodCall>'), { methodName: 'version', params: [] });
      assert.deepStrictEqual(decodeMethodCall('<methodCall><methodName>version</methodName></methodCall>'), { methodName: 'version', params: [] });
    });

    it("accepts a request as Go's kolo/xmlrpc writes it (cobblerclient, terraform)", () => {
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<methodCall><methodName>find_system</methodName><params><param><value><struct>' +
        '<member><name>mac_address</name><value><string>52:54:00:12:34:56</string></value></member></struct></value></param>' +
        '<param><value><i4>0</i4></value></param><param><value/></param></params></methodCall>';
      assert.deepStrictEqual(decodeMethodCall(Buffer.from(body)), { methodName: 'find_system', params: [{ mac_address: '52:54:00:12:34:56' }, 0, ''] });
    });

    it('accepts a BOM, an ISO-8859-1 body and method names with dots, colons and slashes', () => {
      assert.equal(decodeMethodCall(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(param('<value>x</value>'))])).params[0], 'x');
      const latin1 = Buffer.from("<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>m</methodName><params><param><value>\xfc</value></param></params></methodCall>", 'latin1');
      assert.deepStrictEqual(decodeMethodCall(latin1).params, ['ü']);
      assert.equal(decodeMethodCall(call('', 'system.multicall:v2/x_y')).methodName, 'system.multicall:v2/x_y');
    });

    it('accepts exactly maxDepth nested arrays and structs', () => {
      const nested = (n: number): string => (n === 0 ? '<value>x</value>' : n % 2 ? `<value><array><data>${nested(n - 1)}</data></array></value>` : `<value><struct><member><name>k</name>${nested(n - 1)}</member></struct></value>`);
      assert.doesNotThrow(() => decodeMethodCall(param(nested(64))));
      assert.doesNotThrow(() => decodeMethodCall(param(nested(3)), { maxDepth: 3 }));
    });

    it('decodes a Python-style response and a Buffer body', () => {
      const body = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>Qk7v==</string></value>\n</param>\n</params>\n</methodResponse>\n";
      assert.deepStrictEqual(decodeMethodResponse(Buffer.from(body)), { value: 'Qk7v==' });
    });
  });

  describe('malformed input', () => {
    const nestedArrays = (n: number): string => `${'<value><array><data>'.repeat(n)}${'</data></array></value>'.repeat(n)}`;
    const billionLaughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('') +
      ']><methodCall><methodName>&lol9;</methodName></methodCall>';
    const member = (inner: string): string => `<value><struct><member>${inner}</member></struct></value>`;
    const cases: { name: string; body: string | Buffer; code: string; limits?: { maxBytes?: number; maxDepth?: number }; response?: boolean; message?: RegExp }[] = [
      { name: 'not XML', body: 'hello world', code: 'XMLRPC_MALFORMED' },
      { name: 'empty body', body: '', code: 'XMLRPC_MALFORMED' },
      { name: 'whitespace only', body: ' \n ', code: 'XMLRPC_MALFORMED' },
      { name: 'truncated', body: param('<value><string>abc</string></value>').slice(0, 60), code: 'XMLRPC_MALFORMED' },
      { name: 'mismatched tags', body: '<methodCall><methodName>m</methodCall></methodName>', code: 'XMLRPC_MALFORMED' },
      { name: 'wrong root', body: '<methodResponse><params/></methodResponse>', code: 'XMLRPC_MALFORMED', message: /expected <methodCall>/ },
      { name: 'unknown root', body: '<html/>', code: 'XMLRPC_MALFORMED' },
      { name: 'two roots', body: '<methodCall><methodName>m</methodName></methodCall><methodCall/>', code: 'XMLRPC_MALFORMED' },
      { name: 'unknown element', body: param('<value><float>1.5</float></value>'), code: 'XMLRPC_MALFORMED', message: /unknown element <float>/ },
      { name: 'element in the wrong place', body: call('<value>x</value>'), code: 'XMLRPC_MALFORMED', message: /<value> is not allowed inside <params>/ },
      { name: 'element inside a scalar', body: param('<value><string><b/></string></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'two typed children in one value', body: param('<value><int>1</int><int>2</int></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'two values in one param', body: param('<value>1</value><value>2</value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'param without value', body: call('<param></param>'), code: 'XMLRPC_MALFORMED' },
      { name: 'array without data', body: param('<value><array></array></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'two methodNames', body: '<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>', code: 'XMLRPC_MALFORMED' },
      { name: 'missing methodName', body: '<methodCall><params/></methodCall>', code: 'XMLRPC_MALFORMED' },
      { name: 'empty methodName', body: call('', ''), code: 'XMLRPC_BAD_VALUE', message: /methodName is empty/ },
      { name: 'methodName with a space', body: call('', 'get system'), code: 'XMLRPC_BAD_VALUE' },
      { name: "<int>abc</int>", body: param('<value><int>abc</int></value>'), code: 'XMLRPC_BAD_VALUE', message: /<int> value 'abc' is not an integer/ },
      { name: '<int>1.5</int>', body: param('<value><int>1.5</int></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'empty <i4>', body: param('<value><i4></i4></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: '<int> with 5000 digits', body: param(`<value><int>${'9'.repeat(5000)}</int></value>`), code: 'XMLRPC_BAD_VALUE' },
      { name: '<boolean>2</boolean>', body: param('<value><boolean>2</boolean></value>'), code: 'XMLRPC_BAD_VALUE', message: /<boolean> value '2' is not a boolean/ },
      { name: '<boolean>true</boolean>', body: param('<value><boolean>true</boolean></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: '<double>x</double>', body: param('<value><double>x</double></value>'), code: 'XMLRPC_BAD_VALUE', message: /<double> value 'x' is not a number/ },
      { name: 'empty <double>', body: param('<value><double/></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'bad base64 characters', body: param('<value><base64>!!!!</base64></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'base64 without padding', body: param('<value><base64>aGVsbG8</base64></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'base64 padding in the middle', body: param('<value><base64>aG==bG8=</base64></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'dateTime month 13', body: param('<value><dateTime.iso8601>20261301T00:00:00</dateTime.iso8601></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'dateTime 30 February', body: param('<value><dateTime.iso8601>20260230T00:00:00</dateTime.iso8601></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'dateTime 24:00', body: param('<value><dateTime.iso8601>20260101T24:00:00</dateTime.iso8601></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'dateTime prose', body: param('<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: '<nil> with content', body: param('<value><nil>x</nil></value>'), code: 'XMLRPC_BAD_VALUE' },
      { name: 'struct member without name', body: param(member('<value>1</value>')), code: 'XMLRPC_MALFORMED', message: /without <name>/ },
      { name: 'struct member without value', body: param(member('<name>a</name>')), code: 'XMLRPC_MALFORMED', message: /member 'a' without <value>/ },
      { name: 'struct member with two names', body: param(member('<name>a</name><name>b</name><value/>')), code: 'XMLRPC_MALFORMED' },
      { name: 'text directly in a struct', body: param('<value><struct>oops<member><name>a</name><value/></member></struct></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'text between elements', body: call('<param>junk<value>1</value></param>'), code: 'XMLRPC_MALFORMED', message: /text 'junk' is not allowed inside <param>/ },
      { name: 'text beside a typed value', body: param('<value>x<int>1</int></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'text after the root', body: '<methodCall><methodName>m</methodName></methodCall>junk', code: 'XMLRPC_MALFORMED' },
      { name: 'billion laughs (DOCTYPE with nested entities)', body: billionLaughs, code: 'XMLRPC_ENTITY' },
      { name: 'XXE', body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>&xxe;</methodName></methodCall>', code: 'XMLRPC_ENTITY' },
      { name: 'DOCTYPE without a subset', body: '<!DOCTYPE methodCall><methodCall><methodName>m</methodName></methodCall>', code: 'XMLRPC_ENTITY' },
      { name: 'undefined entity', body: param('<value><string>&foo;</string></value>'), code: 'XMLRPC_ENTITY', message: /&foo;/ },
      { name: 'HTML entity', body: param('<value><string>&nbsp;</string></value>'), code: 'XMLRPC_ENTITY' },
      { name: 'character reference to NUL', body: param('<value><string>&#0;</string></value>'), code: 'XMLRPC_ENTITY' },
      { name: 'character reference to a surrogate', body: param('<value><string>&#xD800;</string></value>'), code: 'XMLRPC_ENTITY' },
      { name: 'bare ampersand', body: param('<value><string>a & b</string></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'raw NUL character', body: param('<value><string>a\u0000b</string></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'lone surrogate', body: param('<value><string>a\uD800b</string></value>'), code: 'XMLRPC_MALFORMED' },
      { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from(param('<value>')), Buffer.from([0xc3, 0x28]), Buffer.from('</value></param></params></methodCall>')]), code: 'XMLRPC_MALFORMED' },
      { name: 'UTF-16 body', body: Buffer.from(`\ufeff${param('<value>x</value>')}`, 'utf16le'), code: 'XMLRPC_MALFORMED' },
      { name: 'unsupported declared encoding', body: Buffer.from(`<?xml version="1.0" encoding="ebcdic"?>${param('<value>x</value>')}`), code: 'XMLRPC_MALFORMED' },
      { name: 'processing instruction', body: `<?php echo 1 ?>${param('<value>x</value>')}`, code: 'XMLRPC_MALFORMED' },
      { name: '100,000 nested arrays', body: param(nestedArrays(100_000)), code: 'XMLRPC_TOO_DEEP' },
      { name: 'maxDepth + 1 nested arrays', body: param(nestedArrays(65)), code: 'XMLRPC_TOO_DEEP' },
      { name: 'custom maxDepth', body: param(nestedArrays(3)), code: 'XMLRPC_TOO_DEEP', limits: { maxDepth: 2 } },
      { name: 'body over maxBytes', body: param('<value>x</value>'), code: 'XMLRPC_TOO_LARGE', limits: { maxBytes: 50 } },
      { name: 'multi-byte body over maxBytes', body: param(`<value>${'ü'.repeat(100)}</value>`), code: 'XMLRPC_TOO_LARGE', limits: { maxBytes: 180 } },
      { name: 'Buffer over maxBytes', body: Buffer.alloc(1025, 0x20), code: 'XMLRPC_TOO_LARGE', limits: { maxBytes: 1024 } },
      { name: 'response with two params', body: '<methodResponse><params><param><value/></param><param><value/></param></params></methodResponse>', code: 'XMLRPC_MALFORMED', response: true },
      { name: 'response with no params', body: '<methodResponse><params/></methodResponse>', code: 'XMLRPC_MALFORMED', response: true },
      { name: 'response with params and fault', body: '<methodResponse><params><param><value/></param></params><fault><value/></fault></methodResponse>', code: 'XMLRPC_MALFORMED', response: true },
      { name: 'empty response', body: '<methodResponse/>', code: 'XMLRPC_MALFORMED', response: true },
      { name: 'fault without faultCode', body: '<methodResponse><fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>', code: 'XMLRPC_BAD_VALUE', response: true },
      { name: 'fault that is not a struct', body: '<methodResponse><fault><value>oops</value></fault></methodResponse>', code: 'XMLRPC_BAD_VALUE', response: true },
    ];

    for (const c of cases) {
      it(`${c.name} → ${c.code}`, () => {
        const run = (): unknown => (c.response ? decodeMethodResponse(c.body, c.limits) : decodeMethodCall(c.body, c.limits));
        assert.throws(run, (err: unknown) => {
          assert.ok(err instanceof DecodeError, `expected a DecodeError, got ${String(err)}`);
          assert.equal(err.code, c.code, err.message);
          assert.ok(Number.isInteger(err.offset) && err.offset >= 0, `offset ${err.offset}`);
          assert.ok(err.field.length > 0);
          if (c.message) assert.match(err.message, c.message);
          return true;
        });
      });
    }

    it('refuses deep nesting while streaming, at the first array too many', () => {
      const body = param(nestedArrays(100_000));
      const err = (() => {
        try {
          decodeMethodCall(body);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof DecodeError);
      // The 65th <array> starts 64 openings of "<value><array><data>" (20 chars) after the first.
      assert.equal(err.offset, body.indexOf('<array>') + 64 * 20);
      assert.equal(err.field, 'array');
    });

    it('names the element and position of a bad value', () => {
      const body = param('<value><struct><member><name>n</name><value><int>x1</int></value></member></struct></value>');
      assert.throws(
        () => decodeMethodCall(body),
        (err: unknown) => err instanceof DecodeError && err.field === 'int' && err.offset === body.indexOf('<int>'),
      );
    });

    it('does not echo entities from a DTD', () => {
      assert.throws(() => decodeMethodCall(billionLaughs), (err: unknown) => err instanceof DecodeError && !err.message.includes('lollol'));
    });
  });

  describe('encoding refuses what the wire cannot carry', () => {
    const cases: [string, () => string, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
      ['NaN', () => encodeMethodResponse(Number.NaN), RangeError, /NaN is not representable/],
      ['Infinity', () => encodeMethodResponse(Infinity), RangeError, /Infinity/],
      ['XmlRpcDouble(-Infinity)', () => encodeMethodResponse(new XmlRpcDouble(-Infinity)), RangeError, /-Infinity/],
      ['NUL in a string', () => encodeMethodResponse({ a: [1, { b: 'x\u0000' }] }), RangeError, /params\[0\]\.a\[1\]\.b: U\+0000 at index 1/],
      ['lone surrogate', () => encodeMethodResponse(['ok', '\uDC00']), RangeError, /params\[0\]\[1\]: U\+DC00/],
      ['U+FFFE', () => encodeMethodResponse('\uFFFE'), RangeError, /U\+FFFE/],
      ['control character in a key', () => encodeMethodResponse({ 'a\u0001': 1 }), RangeError, /U\+0001/],
      ['undefined', () => encodeMethodResponse({ a: undefined as unknown as XmlRpcValue }), TypeError, /params\[0\]\.a: undefined has no XML-RPC form/],
      ['a function', () => encodeMethodCall('m', [(() => 1) as unknown as XmlRpcValue]), TypeError, /function/],
      ['a Map', () => encodeMethodResponse(new Map() as unknown as XmlRpcValue), TypeError, /Map is not a struct/],
      ['an invalid Date', () => encodeMethodResponse(new Date(Number.NaN)), RangeError, /invalid/],
      ['year 10000', () => encodeMethodResponse(new Date(Date.UTC(10000, 0, 1))), RangeError, /year 10000/],
      ['a cycle', () => { const a: XmlRpcValue[] = []; a.push(a); return encodeMethodResponse(a); }, RangeError, /cycle/],
      ['a bad methodName', () => encodeMethodCall('a<b', []), RangeError, /methodName/],
      ['a fractional faultCode', () => encodeFault({ faultCode: 1.5, faultString: 'x' }), RangeError, /faultCode/],
    ];
    for (const [name, run, type, message] of cases) {
      it(name, () => assert.throws(run, (err: unknown) => err instanceof type && message.test((err as Error).message)));
    }

    it('keeps valid surrogate pairs and the characters next to the forbidden range', () => {
      roundTrip('😀\uD7FF\uE000\uFFFD\t\n');
    });
  });

  describe('properties', () => {
    const tokens = [
      '<methodCall>', '</methodCall>', '<methodName>', '</methodName>', 'm', '<params>', '</params>', '<param>', '</param>',
      '<value>', '</value>', '<value/>', '<int>', '</int>', '<i8>', '</i8>', '<boolean>', '</boolean>', '<double>', '</double>',
      '<string>', '</string>', '<base64>', '</base64>', '<dateTime.iso8601>', '</dateTime.iso8601>', '<array>', '</array>',
      '<data>', '</data>', '<struct>', '</struct>', '<member>', '</member>', '<name>', '</name>', '<nil/>', '<ex:nil/>',
      '1', '-1', '0', 'x', '9999999999999999999', '1.5', 'aGk=', '20260101T00:00:00', ' ', '\n', '&amp;', '&lt;', '&foo;', '&#13;',
      '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '<!DOCTYPE x [<!ENTITY a "b">]>', '<', '>', '&', '"', "'", '\u0000', '\uD800',
    ];
    const tokenSoup = fc.array(fc.constantFrom(...tokens), { maxLength: 60 }).map((t) => t.join(''));
    const prefixed = tokenSoup.map((t) => `<methodCall><methodName>m</methodName><params><param>${t}`);

    function totalDecode(body: string | Buffer, response = false): void {
      try {
        const out = response ? decodeMethodResponse(body) : decodeMethodCall(body);
        assert.ok(typeof out === 'object' && out !== null);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }

    it('any string decodes to a MethodCall or throws DecodeError', () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => totalDecode(s)), { numRuns: 2000 });
    });

    it('any bytes decode to a MethodCall or throw DecodeError', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => totalDecode(Buffer.from(b))), { numRuns: 2000 });
    });

    it('XML-RPC token soup decodes to a value or throws DecodeError', () => {
      fc.assert(
        fc.property(fc.oneof(tokenSoup, prefixed), fc.boolean(), (s, response) => totalDecode(response ? s.replace(/methodCall/g, 'methodResponse') : s, response)),
        { numRuns: 5000 },
      );
    });

    it('a valid request with a few bytes changed decodes or throws DecodeError', () => {
      const junk = fc.constantFrom('', '<', '>', '&', '<value>', '</value>', '<int>', '</struct>', '<member>', '</name>', '\u0000', 'x', '<!DOCTYPE a>', '&foo;', '<![CDATA[', '<!--');
      const edit = fc.tuple(fc.nat(), fc.nat(6), junk);
      fc.assert(
        fc.property(fc.array(anyValue, { maxLength: 3 }), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), (params, edits, response) => {
          let body = response ? encodeMethodResponse(params) : encodeMethodCall('m', params);
          for (const [at, remove, insert] of edits) {
            const p = at % (body.length + 1);
            body = body.slice(0, p) + insert + body.slice(p + remove);
          }
          totalDecode(body, response);
        }),
        { numRuns: 2000 },
      );
    });

    it('any value tree round-trips', () => {
      fc.assert(fc.property(anyValue, (v) => roundTrip(v)), { numRuns: 500 });
    });

    it("encoded output holds only XML characters and Python's framing", () => {
      fc.assert(
        fc.property(anyValue, (v) => {
          const xml = encodeMethodResponse(v);
          assert.ok(XML_CHARS.test(xml));
          assert.ok(xml.startsWith("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"));
        }),
        { numRuns: 200 },
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Arbitraries

const xmlString = fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => XML_CHARS.test(s));
const wholeSecondDate = fc
  .date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));

const scalar: fc.Arbitrary<XmlRpcValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => new XmlRpcDouble(d)),
  xmlString,
  wholeSecondDate,
  fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
);

const { anyValue } = fc.letrec<{ anyValue: XmlRpcValue }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('anyValue'), { maxLength: 5 }),
    fc.dictionary(xmlString, tie('anyValue'), { maxKeys: 5, noNullPrototype: true }),
  ),
}));

/** Values Python's marshaller writes back unchanged: ints within int32, strings without CR. */
const pythonSafeValue: fc.Arbitrary<XmlRpcValue> = fc.letrec<{ v: XmlRpcValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isSafeInteger(d)),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => new XmlRpcDouble(d)),
    xmlString.filter((s) => !s.includes('\r')),
    wholeSecondDate,
    fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(xmlString.filter((s) => !s.includes('\r')), tie('v'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).v;

describe('pre-encoded values', () => {
  it('an XmlRpcEncoded fragment from encodeValue decodes exactly like the value it came from', async () => {
    const { encodeValue, XmlRpcEncoded, encodeMethodResponse: enc, decodeMethodResponse: dec } = await import('./xmlrpc.ts');
    const value = { name: 's1', interfaces: { eth0: { mac_address: 'aa:bb:cc:dd:ee:ff' } }, n: 3, ok: true, tags: ['a', '<b>'] };
    const direct = enc([value, value]);
    const cached = enc([new XmlRpcEncoded(encodeValue(value)), value]);
    assert.equal(cached, direct);
    assert.deepEqual(dec(cached), { value: [value, value] });
  });
});
