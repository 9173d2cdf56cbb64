import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { assertDecodeError, decodedOrRefused, hex } from './decode-testing.ts';
import {
  decodeTftp,
  encodeTftp,
  negotiateOptions,
  parseOptionValue,
  TFTP_ERROR_CODES,
  type NegotiationLimits,
  type TftpErrorCode,
  type TftpOption,
  type TftpPacket,
} from './tftp.ts';

/** Builds a datagram from an opcode and NUL-terminated latin1 strings. */
const req = (opcode: number, ...strings: string[]): Buffer =>
  Buffer.concat([Buffer.from([0, opcode]), ...strings.map((s) => Buffer.from(s + '\0', 'latin1'))]);

describe('tftp codec', () => {
  describe('round-trip', () => {
    const packets: TftpPacket[] = [
      { op: 'RRQ', filename: 'pxelinux.0', mode: 'octet', options: [] },
      { op: 'RRQ', filename: 'pxelinux.cfg/01-52-54-00-12-34-56', mode: 'netascii', options: [['blksize', '1468'], ['tsize', '0'], ['windowsize', '16'], ['x-vendor', '']] },
      { op: 'WRQ', filename: 'upload.bin', mode: 'octet', options: [] },
      { op: 'WRQ', filename: 'mbox', mode: 'mail', options: [['tsize', '4194304']] },
      { op: 'RRQ', filename: 'caf\u00e9/\u00ff\u0001', mode: 'octet', options: [] },
      { op: 'DATA', block: 1, data: Buffer.from('hello') },
      { op: 'DATA', block: 65535, data: Buffer.alloc(0) },
      { op: 'DATA', block: 0, data: Buffer.alloc(65464, 0xab) },
      { op: 'ACK', block: 0 },
      { op: 'ACK', block: 65535 },
      { op: 'ERROR', code: 1, message: 'File not found' },
      { op: 'ERROR', code: 8, message: '' },
      { op: 'OACK', options: [['blksize', '1468'], ['tsize', '1000']] },
    ];
    for (const p of packets) {
      it(`${p.op} ${JSON.stringify(p).slice(0, 80)}`, () => {
        const wire = encodeTftp(p);
        assert.deepEqual(decodeTftp(wire), p);
        assert.deepEqual(encodeTftp(decodeTftp(wire)), wire);
      });
    }

    it('encodes byte-exact layouts', () => {
      assert.equal(encodeTftp({ op: 'ACK', block: 258 }).toString('hex'), '00040102');
      assert.equal(encodeTftp({ op: 'ERROR', code: 5, message: 'x' }).toString('hex'), '0005000578' + '00');
      assert.equal(encodeTftp({ op: 'OACK', options: [['tsize', '9']] }).toString('hex'), '0006' + Buffer.from('tsize\x009\x00').toString('hex'));
    });

    it('keeps filename bytes through latin1 (UTF-8 names survive unchanged)', () => {
      const utf8Name = Buffer.from('bo\u00eete/\u65e5\u672c', 'utf8');
      const wire = Buffer.concat([Buffer.from([0, 1]), utf8Name, Buffer.from('\0octet\0')]);
      const p = decodeTftp(wire);
      assert.equal(p.op, 'RRQ');
      assert.deepEqual(encodeTftp(p), wire);
    });

    it('refuses to encode values with no wire form', () => {
      const bad: TftpPacket[] = [
        { op: 'RRQ', filename: '', mode: 'octet', options: [] },
        { op: 'RRQ', filename: 'a\0b', mode: 'octet', options: [] },
        { op: 'RRQ', filename: '\u0100', mode: 'octet', options: [] },
        { op: 'RRQ', filename: 'a', mode: 'binary' as 'octet', options: [] },
        { op: 'RRQ', filename: 'a', mode: 'octet', options: [['blksize', '8'], ['BLKSIZE', '9']] },
        { op: 'RRQ', filename: 'a', mode: 'octet', options: [['', '1']] },
        { op: 'DATA', block: 65536, data: Buffer.alloc(0) },
        { op: 'DATA', block: 1, data: Buffer.alloc(65465) },
        { op: 'ACK', block: -1 },
        { op: 'ACK', block: 1.5 },
        { op: 'ERROR', code: 9 as TftpErrorCode, message: '' },
        { op: 'OACK', options: [] },
      ];
      for (const p of bad) assert.throws(() => encodeTftp(p), RangeError, JSON.stringify(p));
    });

    it('names the error codes', () => {
      assert.equal(TFTP_ERROR_CODES.OPTION_REFUSED, 8);
      assert.deepEqual(Object.values(TFTP_ERROR_CODES), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });

  describe('golden decode of real client packets', () => {
    // Captured from curl 7.88.1 (Debian 12) against a node:dgram listener on 127.0.0.1.
    it('curl tftp://127.0.0.1/pxelinux.0 (tsize, blksize 512, timeout 6)', () => {
      const wire = hex('00017078656c696e75782e30006f63746574007473697a65003000626c6b73697a65003531320074696d656f7574003600');
      assert.deepEqual(decodeTftp(wire), {
        op: 'RRQ', filename: 'pxelinux.0', mode: 'octet',
        options: [['tsize', '0'], ['blksize', '512'], ['timeout', '6']],
      });
    });
    it('curl --tftp-blksize 1468 tftp://127.0.0.1/pxelinux.cfg/01-52-54-00-12-34-56', () => {
      const wire = hex('00017078656c696e75782e6366672f30312d35322d35342d30302d31322d33342d3536006f63746574007473697a65003000626c6b73697a6500313436380074696d656f7574003600');
      const p = decodeTftp(wire);
      assert.deepEqual(p, {
        op: 'RRQ', filename: 'pxelinux.cfg/01-52-54-00-12-34-56', mode: 'octet',
        options: [['tsize', '0'], ['blksize', '1468'], ['timeout', '6']],
      });
      assert.deepEqual(encodeTftp(p), wire);
    });
    it('curl --tftp-no-options tftp://127.0.0.1/x (no options, as tftp-hpa sends)', () => {
      assert.deepEqual(decodeTftp(hex('000178006f6374657400')), { op: 'RRQ', filename: 'x', mode: 'octet', options: [] });
    });
    // Hand-built, byte-exact: tftp-hpa and atftp were not installed where this was written.
    it('tftp-hpa `-m netascii` style upper-case mode and atftp option names are normalised', () => {
      assert.deepEqual(decodeTftp(req(1, 'f4m.bin', 'NetASCII', 'BlkSize', '1468', 'WINDOWSIZE', '8')), {
        op: 'RRQ', filename: 'f4m.bin', mode: 'netascii', options: [['blksize', '1468'], ['windowsize', '8']],
      });
    });
    it('an OACK as tftpd-hpa sends it', () => {
      assert.deepEqual(decodeTftp(req(6, 'blksize', '1468', 'tsize', '4194304', 'timeout', '2')), {
        op: 'OACK', options: [['blksize', '1468'], ['tsize', '4194304'], ['timeout', '2']],
      });
    });

    const CURL = '/usr/bin/curl';
    /** Runs curl against a loopback listener and returns the first datagram it sends. */
    function captureCurl(args: string[]): Promise<Buffer> {
      return new Promise((resolve, reject) => {
        const sock = dgram.createSocket('udp4');
        let first: Buffer | undefined;
        sock.on('error', reject);
        sock.on('message', (msg, rinfo) => {
          if (first) return;
          first = msg;
          // Answer ERROR so the client gives up at once.
          sock.send(encodeTftp({ op: 'ERROR', code: 1, message: 'no' }), rinfo.port, rinfo.address);
        });
        sock.bind(0, '127.0.0.1', () => {
          const { port } = sock.address();
          const url = `tftp://127.0.0.1:${port}/pxelinux.0`;
          execFile(CURL, ['-sS', '--max-time', '5', '-o', '/dev/null', ...args, url], () => {
            sock.close();
            if (first) resolve(first);
            else reject(new Error('curl sent nothing'));
          });
        });
      });
    }
    it('live: curl on loopback sends what the golden bytes say', async function () {
      const wire = await captureCurl(['--tftp-blksize', '1468']);
      const p = decodeTftp(wire);
      assert.equal(p.op, 'RRQ');
      if (p.op !== 'RRQ') return;
      assert.equal(p.filename, 'pxelinux.0');
      assert.equal(p.mode, 'octet');
      assert.deepEqual(new Map(p.options).get('blksize'), '1468');
      assert.deepEqual(new Map(p.options).get('tsize'), '0');
    });
  });

  describe('malformed input', () => {
    const long = 'a'.repeat(256);
    const table: [string, Buffer, string, string, number][] = [
      ['empty datagram', Buffer.alloc(0), 'TFTP_TRUNCATED', 'opcode', 0],
      ['1-byte datagram', Buffer.from([0]), 'TFTP_TRUNCATED', 'opcode', 0],
      ['opcode 0', hex('0000'), 'TFTP_BAD_OPCODE', 'opcode', 0],
      ['opcode 7', hex('000700'), 'TFTP_BAD_OPCODE', 'opcode', 0],
      ['opcode 0x0100', hex('0100'), 'TFTP_BAD_OPCODE', 'opcode', 0],
      ['RRQ with nothing', hex('0001'), 'TFTP_UNTERMINATED_STRING', 'filename', 2],
      ['RRQ unterminated filename', Buffer.from('\0\x01abc'), 'TFTP_UNTERMINATED_STRING', 'filename', 2],
      ['RRQ without mode', req(1, 'abc'), 'TFTP_UNTERMINATED_STRING', 'mode', 6],
      ['RRQ unterminated mode', Buffer.from('\0\x01abc\0octet'), 'TFTP_UNTERMINATED_STRING', 'mode', 6],
      ['RRQ empty filename', req(1, '', 'octet'), 'TFTP_EMPTY_FILENAME', 'filename', 2],
      ['RRQ 256-byte filename', req(1, long, 'octet'), 'TFTP_NAME_TOO_LONG', 'filename', 257],
      ['RRQ NUL inside filename', req(1, 'a', 'b', 'octet'), 'TFTP_NUL_IN_FILENAME', 'filename', 3],
      ['RRQ mode binary', req(1, 'a', 'binary'), 'TFTP_BAD_MODE', 'mode', 4],
      ['RRQ empty mode', req(1, 'a', ''), 'TFTP_BAD_MODE', 'mode', 4],
      ['RRQ option without value', req(1, 'a', 'octet', 'blksize'), 'TFTP_BAD_OPTION', 'option blksize', 10],
      ['RRQ option unterminated value', Buffer.concat([req(1, 'a', 'octet', 'blksize'), Buffer.from('512')]), 'TFTP_UNTERMINATED_STRING', 'option blksize value', 18],
      ['RRQ option unterminated name', Buffer.concat([req(1, 'a', 'octet'), Buffer.from('blk')]), 'TFTP_UNTERMINATED_STRING', 'option name', 10],
      ['RRQ empty option name', req(1, 'a', 'octet', '', '1'), 'TFTP_BAD_OPTION', 'option name', 10],
      ['RRQ trailing NUL padding', Buffer.concat([req(1, 'a', 'octet'), Buffer.from([0, 0])]), 'TFTP_BAD_OPTION', 'option name', 10],
      ['RRQ duplicate option', req(1, 'a', 'octet', 'blksize', '512', 'BLKSIZE', '1024'), 'TFTP_DUPLICATE_OPTION', 'option blksize', 22],
      ['WRQ empty filename', req(2, '', 'octet'), 'TFTP_EMPTY_FILENAME', 'filename', 2],
      ['DATA 3 bytes', hex('000300'), 'TFTP_TRUNCATED', 'block', 2],
      ['DATA 65465 bytes', Buffer.concat([hex('00030001'), Buffer.alloc(65465)]), 'TFTP_DATA_TOO_LONG', 'data', 65468],
      ['ACK 2 bytes', hex('0004'), 'TFTP_TRUNCATED', 'block', 2],
      ['ACK 3 bytes', hex('000400'), 'TFTP_TRUNCATED', 'block', 2],
      ['ACK 5 bytes', hex('0004000100'), 'TFTP_TRAILING_BYTES', 'ack', 4],
      ['ERROR 3 bytes', hex('000500'), 'TFTP_TRUNCATED', 'code', 2],
      ['ERROR code 9', hex('0005000900'), 'TFTP_BAD_ERROR_CODE', 'code', 2],
      ['ERROR unterminated message', hex('0005000141'), 'TFTP_UNTERMINATED_STRING', 'message', 4],
      ['ERROR no message', hex('00050001'), 'TFTP_UNTERMINATED_STRING', 'message', 4],
      ['ERROR trailing bytes', hex('000500014100ff'), 'TFTP_TRAILING_BYTES', 'message', 6],
      ['OACK empty', hex('0006'), 'TFTP_EMPTY_OACK', 'options', 2],
      ['OACK option without value', req(6, 'tsize'), 'TFTP_BAD_OPTION', 'option tsize', 2],
      ['OACK duplicate', req(6, 'tsize', '1', 'tsize', '1'), 'TFTP_DUPLICATE_OPTION', 'option tsize', 10],
    ];
    for (const [name, bytes, code, field, offset] of table) {
      it(`${name} -> ${code}`, () => assertDecodeError(() => decodeTftp(bytes), code, field, offset));
    }

    it('the filename limit is configurable', () => {
      const wire = req(1, 'a'.repeat(300), 'octet');
      assert.equal((decodeTftp(wire, { maxFilenameBytes: 300 }) as { filename: string }).filename.length, 300);
      assert.throws(() => decodeTftp(req(1, 'abcd', 'octet'), { maxFilenameBytes: 3 }), (e: unknown) => e instanceof DecodeError && e.code === 'TFTP_NAME_TOO_LONG' && e.offset === 5);
    });

    it('decodes a Uint8Array that is a view into a larger buffer', () => {
      const outer = new Uint8Array(16).fill(0xee);
      outer.set([0, 3, 0, 7, 1, 2], 5);
      const p = decodeTftp(outer.subarray(5, 11));
      assert.deepEqual(p, { op: 'DATA', block: 7, data: Buffer.from([1, 2]) });
    });
  });

  describe('properties', () => {
    it('arbitrary bytes give a TftpPacket or a DecodeError, nothing else', () => {
      const interesting = fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.tuple(fc.integer({ min: 0, max: 7 }), fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }), fc.constantFrom(...Buffer.from('octet\0blksize\0tsize\x000\0'))), { maxLength: 80 }))
          .map(([op, rest]) => Uint8Array.from([0, op, ...rest])),
      );
      fc.assert(
        fc.property(interesting, (bytes) => {
          const p = decodedOrRefused(() => decodeTftp(bytes), { input: bytes });
          if (!p) return;
          // Whatever decodes re-encodes; requests and options come back canonical.
          assert.deepEqual(decodeTftp(encodeTftp(p)), p);
        }),
        { numRuns: 5000 },
      );
    });

    const latin1 = (min: number, max: number) =>
      fc.array(fc.integer({ min: 1, max: 255 }), { minLength: min, maxLength: max }).map((a) => String.fromCharCode(...a));
    const options = fc.uniqueArray(fc.tuple(latin1(1, 12).map((s) => s.toLowerCase()), latin1(0, 12)), {
      selector: ([n]) => n,
      maxLength: 6,
    }).map((a) => a.map(([n, v]) => [n, v] as TftpOption));
    const packet: fc.Arbitrary<TftpPacket> = fc.oneof(
      fc.record({ op: fc.constantFrom('RRQ' as const, 'WRQ' as const), filename: latin1(1, 255), mode: fc.constantFrom('netascii' as const, 'octet' as const, 'mail' as const), options }),
      fc.record({ op: fc.constant('DATA' as const), block: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a)) }),
      fc.record({ op: fc.constant('ACK' as const), block: fc.integer({ min: 0, max: 65535 }) }),
      fc.record({ op: fc.constant('ERROR' as const), code: fc.integer({ min: 0, max: 8 }).map((c) => c as TftpErrorCode), message: latin1(0, 40) }),
      fc.record({ op: fc.constant('OACK' as const), options: options.filter((o) => o.length > 0) }),
    );
    it('arbitrary valid packets round-trip', () => {
      // fc.record builds null-prototype objects; spread to compare with the decoder's plain ones.
      fc.assert(fc.property(packet, (p) => assert.deepEqual(decodeTftp(encodeTftp(p)), { ...p })), { numRuns: 2000 });
    });
    it('parseOptionValue accepts exactly the digit strings', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 20 }), (s) => {
          const n = parseOptionValue(s);
          if (/^[0-9]{1,15}$/.test(s)) assert.equal(n, Number(s));
          else assert.equal(n, null);
        }),
      );
    });
  });

  describe('parseOptionValue', () => {
    const table: [string, number | null][] = [
      ['0', 0], ['512', 512], ['65464', 65464], ['007', 7], ['999999999999999', 999999999999999],
      ['', null], ['-1', null], ['+1', null], [' 1', null], ['1 ', null], ['0x10', null], ['1e3', null],
      ['1.0', null], ['12a', null], ['a12', null], ['\uff11', null], ['1000000000000000', null],
    ];
    for (const [input, want] of table) it(`${JSON.stringify(input)} -> ${want}`, () => assert.equal(parseOptionValue(input), want));
  });

  describe('negotiateOptions', () => {
    const limits: NegotiationLimits = { maxBlksize: 1468, maxWindowsize: 16, fileSize: 4194304 };
    const table: [string, TftpOption[], NegotiationLimits, TftpOption[], { blksize: number; windowsize: number; timeoutSeconds: number | null }][] = [
      ['no options: no OACK', [], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['curl defaults', [['tsize', '0'], ['blksize', '512'], ['timeout', '6']], limits,
        [['blksize', '512'], ['timeout', '6'], ['tsize', '4194304']], { blksize: 512, windowsize: 1, timeoutSeconds: 6 }],
      ['blksize clamped to server max', [['blksize', '65464']], limits, [['blksize', '1468']], { blksize: 1468, windowsize: 1, timeoutSeconds: null }],
      ['blksize clamped to MTU hint', [['blksize', '9000']], { maxBlksize: 65464, maxWindowsize: 1, mtu: 1500 }, [['blksize', '1468']], { blksize: 1468, windowsize: 1, timeoutSeconds: null }],
      ['blksize 8 kept', [['blksize', '8']], limits, [['blksize', '8']], { blksize: 8, windowsize: 1, timeoutSeconds: null }],
      ['blksize 7 ignored', [['blksize', '7']], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['blksize 65465 ignored', [['blksize', '65465']], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['blksize junk ignored', [['blksize', '1468x'], ['tsize', '0']], limits, [['tsize', '4194304']], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['tsize without a known size ignored', [['tsize', '0']], { maxBlksize: 1468, maxWindowsize: 16 }, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['tsize nonzero ignored', [['tsize', '5']], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['tsize of an empty file', [['tsize', '0']], { ...limits, fileSize: 0 }, [['tsize', '0']], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['timeout 0 ignored', [['timeout', '0']], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['timeout 256 ignored', [['timeout', '256']], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['timeout 255 kept', [['timeout', '255']], limits, [['timeout', '255']], { blksize: 512, windowsize: 1, timeoutSeconds: 255 }],
      ['windowsize clamped', [['windowsize', '64']], limits, [['windowsize', '16']], { blksize: 512, windowsize: 16, timeoutSeconds: null }],
      ['windowsize 0 ignored', [['windowsize', '0']], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['windowsize 65536 ignored', [['windowsize', '65536']], limits, [], { blksize: 512, windowsize: 1, timeoutSeconds: null }],
      ['unknown options ignored, order canonical, names case-insensitive', [['WindowSize', '8'], ['x-foo', '1'], ['TSIZE', '0'], ['BlkSize', '1024']], limits,
        [['blksize', '1024'], ['tsize', '4194304'], ['windowsize', '8']], { blksize: 1024, windowsize: 8, timeoutSeconds: null }],
      ['first of a repeated option wins', [['blksize', '1024'], ['blksize', '8']], limits, [['blksize', '1024']], { blksize: 1024, windowsize: 1, timeoutSeconds: null }],
    ];
    for (const [name, requested, lim, oack, rest] of table) {
      it(name, () => assert.deepEqual(negotiateOptions(requested, lim), { oack, ...rest }));
    }
    it('refuses limits out of range', () => {
      assert.throws(() => negotiateOptions([], { maxBlksize: 7, maxWindowsize: 1 }), RangeError);
      assert.throws(() => negotiateOptions([], { maxBlksize: 512, maxWindowsize: 0 }), RangeError);
      assert.throws(() => negotiateOptions([], { maxBlksize: 512, maxWindowsize: 1, mtu: 67 }), RangeError);
      assert.throws(() => negotiateOptions([], { maxBlksize: 512, maxWindowsize: 1, fileSize: -1 }), RangeError);
    });
    it('is deterministic whatever the request order', () => {
      fc.assert(
        fc.property(fc.shuffledSubarray([['blksize', '1400'], ['tsize', '0'], ['timeout', '3'], ['windowsize', '4'], ['x', 'y']] as TftpOption[]), (opts) => {
          const names = negotiateOptions(opts, limits).oack.map(([n]) => n);
          assert.deepEqual(names, [...names].sort());
          assert.deepEqual(negotiateOptions(opts, limits), negotiateOptions([...opts].reverse(), limits));
        }),
      );
    });
  });
});
