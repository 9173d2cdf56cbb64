import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Endpoint } from '../net/datagram.ts';
import {
  bufferContent,
  chainSources,
  encodeNetascii,
  generatedSource,
  isTftpSourceError,
  netasciiContent,
  rootDirSource,
  TftpSourceError,
  type TftpContent,
  type TftpSource,
} from './tftp-sources.ts';

const CLIENT: Endpoint = { address: '192.0.2.10', port: 2070 };

async function readAll(c: TftpContent, chunk = 4096): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = 0; at < c.size; ) {
    const b = await c.read(at, chunk);
    if (b.length === 0) break;
    parts.push(Buffer.from(b));
    at += b.length;
  }
  return Buffer.concat(parts);
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TftpSourceError, `expected TftpSourceError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a TftpSourceError');
}

describe('tftp sources', () => {
  describe('rootDirSource', () => {
    let base: string;
    let root: string;
    let outside: string;
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const small = Buffer.from('hello pxe\n');

    before(() => {
      base = mkdtempSync(join(tmpdir(), 'rf-tftp-src-'));
      root = join(base, 'root');
      outside = join(base, 'outside');
      mkdirSync(join(root, 'pxelinux.cfg'), { recursive: true });
      mkdirSync(outside);
      writeFileSync(join(root, 'pxelinux.0'), small);
      writeFileSync(join(root, 'big.img'), big);
      writeFileSync(join(root, 'pxelinux.cfg', 'default'), 'DEFAULT local\n');
      writeFileSync(join(outside, 'secret'), 'secret\n');
      symlinkSync('/etc/passwd', join(root, 'passwd'));
      symlinkSync(join(outside, 'secret'), join(root, 'secret-abs'));
      symlinkSync('../outside/secret', join(root, 'secret-rel'));
      symlinkSync(outside, join(root, 'outdir'));
      symlinkSync('pxelinux.0', join(root, 'alias.0'));
      symlinkSync('pxelinux.cfg', join(root, 'cfgdir'));
      symlinkSync('loop-b', join(root, 'loop-a'));
      symlinkSync('loop-a', join(root, 'loop-b'));
      symlinkSync('missing-target', join(root, 'dangling'));
      execFileSync('mkfifo', [join(root, 'fifo')]);
    });
    after(() => rmSync(base, { recursive: true, force: true }));

    const open = (path: string): Promise<TftpContent | null> => rootDirSource(root).open(path, CLIENT);

    it('serves a regular file with its size', async () => {
      const c = await open('pxelinux.0');
      assert.ok(c);
      assert.equal(c.size, small.length);
      assert.deepEqual(await readAll(c), small);
      await c.close();
    });

    it('serves files in subdirectories and through symlinks that stay inside the root', async () => {
      for (const p of ['pxelinux.cfg/default', 'cfgdir/default', 'alias.0']) {
        const c = await open(p);
        assert.ok(c, p);
        await c.close();
      }
    });

    it('streams: positioned reads of any range, short only at the end', async () => {
      const c = await open('big.img');
      assert.ok(c);
      assert.equal(c.size, big.length);
      for (const [off, len] of [[0, 1], [0, 65536], [1_000_003, 1468], [big.length - 5, 100], [big.length, 10], [big.length + 10, 10]] as const) {
        const got = await c.read(off, len);
        assert.deepEqual(got, big.subarray(off, off + len), `read(${off}, ${len})`);
      }
      assert.deepEqual(await readAll(c, 1468 * 16), big);
      await c.close();
    });

    it('keeps reading the opened file after it is unlinked (descriptor, not path)', async () => {
      const p = join(root, 'tmp.bin');
      const data = randomBytes(100_000);
      writeFileSync(p, data);
      const c = await open('tmp.bin');
      assert.ok(c);
      unlinkSync(p);
      assert.deepEqual(await readAll(c), data);
      await c.close();
    });

    it('missing names, dangling symlinks and paths through a file are not found', async () => {
      for (const p of ['nope', 'pxelinux.cfg/nope', 'dangling', 'pxelinux.0/x']) assert.equal(await open(p), null, p);
    });

    it('directories are not found', async () => {
      for (const p of ['pxelinux.cfg', 'cfgdir']) assert.equal(await open(p), null, p);
    });

    it('symlinks out of the root are access violations', async () => {
      for (const p of ['passwd', 'secret-abs', 'secret-rel', 'outdir/secret']) {
        assert.equal(await refusal(open(p)), 'TFTP_ACCESS_VIOLATION', p);
      }
    });

    it('symlink loops and FIFOs are access violations (and a FIFO does not hang the open)', async () => {
      assert.equal(await refusal(open('loop-a')), 'TFTP_ACCESS_VIOLATION');
      assert.equal(await refusal(open('fifo')), 'TFTP_ACCESS_VIOLATION');
    });

    it('refuses names that are not normalised root-relative paths', async () => {
      for (const p of ['../outside/secret', '/etc/passwd', 'a/../pxelinux.0', './pxelinux.0', 'a//b', 'a\\b', '', 'x\0y']) {
        assert.equal(await refusal(open(p)), 'TFTP_ACCESS_VIOLATION', JSON.stringify(p));
      }
    });

    it('a root that is itself a symlink works', async () => {
      const link = join(base, 'root-link');
      symlinkSync(root, link);
      const c = await rootDirSource(link).open('pxelinux.0', CLIENT);
      assert.ok(c);
      await c.close();
      assert.equal(await refusal(rootDirSource(link).open('passwd', CLIENT)), 'TFTP_ACCESS_VIOLATION');
    });
  });

  describe('bufferContent, generatedSource, chainSources', () => {
    it('bufferContent reads slices of the buffer', async () => {
      const c = bufferContent(Buffer.from('0123456789'), 'menu');
      assert.equal(c.size, 10);
      assert.equal(c.label, 'menu');
      assert.equal((await c.read(3, 4)).toString(), '3456');
      assert.equal((await c.read(8, 4)).toString(), '89');
      assert.equal((await c.read(10, 4)).length, 0);
    });

    it('generatedSource turns strings into UTF-8 content and null into not mine', async () => {
      const src = generatedSource((path, client) => (path === 'menu.ipxe' ? `#!ipxe\necho ${client.address} \u00e9\n` : null));
      const c = await src.open('menu.ipxe', CLIENT);
      assert.ok(c);
      assert.equal((await readAll(c)).toString('utf8'), '#!ipxe\necho 192.0.2.10 \u00e9\n');
      assert.equal(c.label, 'generated:menu.ipxe');
      assert.equal(await src.open('other', CLIENT), null);
    });

    const fixed = (name: string, body: string): TftpSource => ({ open: async (p) => (p === name ? bufferContent(Buffer.from(body)) : null) });
    const throwing = (e: Error): TftpSource => ({ open: async () => { throw e; } });

    it('the first source that answers wins, in the order given', async () => {
      const chain = chainSources(fixed('a', 'first'), fixed('a', 'second'), fixed('b', 'b'));
      assert.equal((await readAll((await chain.open('a', CLIENT))!)).toString(), 'first');
      assert.equal((await readAll((await chain.open('b', CLIENT))!)).toString(), 'b');
      assert.equal(await chain.open('c', CLIENT), null);
    });

    it('TFTP_NOT_FOUND falls through; an access violation stops the search', async () => {
      const notFound = chainSources(throwing(new TftpSourceError('TFTP_NOT_FOUND')), fixed('a', 'root'));
      assert.equal((await readAll((await notFound.open('a', CLIENT))!)).toString(), 'root');
      const denied = chainSources(throwing(new TftpSourceError('TFTP_ACCESS_VIOLATION', 'not for you')), fixed('a', 'root'));
      assert.equal(await refusal(denied.open('a', CLIENT)), 'TFTP_ACCESS_VIOLATION');
      const broken = chainSources(throwing(new Error('inventory down')), fixed('a', 'root'));
      await assert.rejects(broken.open('a', CLIENT), (e: unknown) => !isTftpSourceError(e) && (e as Error).message === 'inventory down');
    });
  });

  describe('netascii', () => {
    it('encodes LF as CR LF and CR as CR NUL', () => {
      assert.deepEqual(encodeNetascii(Buffer.from('a\nb\rc\r\nd')), Buffer.from('a\r\nb\r\0c\r\0\r\nd', 'latin1'));
      assert.deepEqual(encodeNetascii(Buffer.alloc(0)), Buffer.alloc(0));
    });

    it('netasciiContent has the converted size and gives the same bytes for any read pattern', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 200_000 }),
          fc.integer(),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 200_000 })), { maxLength: 8 }),
          async (length, seed, reads) => {
            // Plenty of line ends, so that expansions straddle the 64 KiB conversion chunks.
            const src = Buffer.alloc(length);
            let x = seed | 0 || 1;
            for (let i = 0; i < length; i++) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              const r = (x >>> 0) % 8;
              src[i] = r === 0 ? 0x0a : r === 1 ? 0x0d : 0x20 + ((x >>> 8) & 0x5f);
            }
            const want = encodeNetascii(src);
            const c = await netasciiContent(bufferContent(src));
            assert.equal(c.size, want.length);
            for (const [o, len] of reads) {
              const off = o % (want.length + 1);
              assert.deepEqual(await c.read(off, len), want.subarray(off, off + len));
            }
            assert.deepEqual(await readAll(c, 1468 * 16), want);
          },
        ),
        { numRuns: 30 },
      );
    });

    it('netasciiContent closes what it wraps', async () => {
      let closed = 0;
      const inner: TftpContent = { ...bufferContent(Buffer.from('x\n')), close: () => void closed++ };
      const c = await netasciiContent(inner);
      await c.close();
      assert.equal(closed, 1);
    });
  });
});
