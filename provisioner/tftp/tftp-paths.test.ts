import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normaliseTftpPath, TFTP_PATH_REFUSALS, type TftpPathRefusal } from './tftp-paths.ts';

describe('normaliseTftpPath', () => {
  const accepted: [string, string][] = [
    ['pxelinux.0', 'pxelinux.0'],
    ['/pxelinux.0', 'pxelinux.0'],
    ['pxelinux.cfg/01-52-54-00-12-34-56', 'pxelinux.cfg/01-52-54-00-12-34-56'],
    ['boot\\x64\\wdsnbp.com', 'boot/x64/wdsnbp.com'],
    ['\\boot\\bcd', 'boot/bcd'],
    ['a//b///c', 'a/b/c'],
    ['./a/./b/.', 'a/b'],
    ['a/b/', 'a/b'],
    ['//a', 'a'],
    ['a\\/b', 'a/b'],
    ['...', '...'],
    ['a..b/..c/d..', 'a..b/..c/d..'],
    ['grub/x86_64-efi/normal.mod', 'grub/x86_64-efi/normal.mod'],
    ['caf\u00e9/\u00ff', 'caf\u00e9/\u00ff'], // latin1-decoded UTF-8 bytes pass through
    ['/etc/passwd', 'etc/passwd'], // root-relative: looked up under the root, not /etc
    ['C:\\boot\\x', 'C:/boot/x'],
    ['a'.repeat(255), 'a'.repeat(255)],
  ];
  for (const [input, path] of accepted) {
    it(`${JSON.stringify(input).slice(0, 40)} -> ${JSON.stringify(path).slice(0, 40)}`, () => {
      const r = normaliseTftpPath(input);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.path, path);
      assert.deepEqual(r.segments, path.split('/'));
    });
  }

  const refused: [string, string, TftpPathRefusal][] = [
    ['empty', '', 'TFTP_PATH_EMPTY'],
    ['the root', '/', 'TFTP_PATH_EMPTY'],
    ['dots and slashes only', './/.\\', 'TFTP_PATH_EMPTY'],
    ['dot-dot', '../etc/passwd', 'TFTP_PATH_DOT_DOT'],
    ['absolute dot-dot', '/../../etc/passwd', 'TFTP_PATH_DOT_DOT'],
    ['inner dot-dot', 'a/../../b', 'TFTP_PATH_DOT_DOT'],
    ['dot-dot that stays inside', 'a/b/../c', 'TFTP_PATH_DOT_DOT'],
    ['backslash dot-dot', '..\\..\\windows\\win.ini', 'TFTP_PATH_DOT_DOT'],
    ['mixed separators dot-dot', 'a\\../b', 'TFTP_PATH_DOT_DOT'],
    ['trailing dot-dot', 'a/..', 'TFTP_PATH_DOT_DOT'],
    ['NUL', 'a\0b', 'TFTP_PATH_NUL'],
    ['newline', 'a\nb', 'TFTP_PATH_CONTROL_CHAR'],
    ['tab', 'a\tb', 'TFTP_PATH_CONTROL_CHAR'],
    ['escape', '\x1b[31m', 'TFTP_PATH_CONTROL_CHAR'],
    ['DEL', 'a\x7f', 'TFTP_PATH_CONTROL_CHAR'],
    ['256 bytes', 'a'.repeat(256), 'TFTP_PATH_TOO_LONG'],
  ];
  for (const [name, input, reason] of refused) {
    it(`refuses ${name} (${reason})`, () => {
      const r = normaliseTftpPath(input);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.reason, reason);
      assert.ok(r.reason in TFTP_PATH_REFUSALS);
      assert.ok(r.message.length > 0);
    });
  }

  it('the length limit is configurable', () => {
    assert.equal(normaliseTftpPath('abcd', { maxBytes: 3 }).ok, false);
    assert.equal(normaliseTftpPath('a'.repeat(300), { maxBytes: 300 }).ok, true);
  });

  it('root aliases strip an absolute spelling of the root', () => {
    const limits = { rootAliases: ['/srv/tftp', '/var/lib/tftpboot/'] };
    const path = (s: string): string | null => {
      const r = normaliseTftpPath(s, limits);
      return r.ok ? r.path : null;
    };
    assert.equal(path('/srv/tftp/pxelinux.0'), 'pxelinux.0');
    assert.equal(path('/var/lib/tftpboot/grub/grub.cfg'), 'grub/grub.cfg');
    assert.equal(path('/srv/tftpx/a'), 'srv/tftpx/a');
    assert.equal(path('pxelinux.0'), 'pxelinux.0');
    assert.equal(path('/srv/tftp'), null);
    assert.equal(path('/srv/tftp/../etc/passwd'), null);
  });

  it('property: an accepted path never has a ".." segment, an empty segment, a NUL or a backslash', () => {
    const piece = fc.constantFrom('a', 'b', '.', '..', '/', '\\', '\0', '\n', 'x.y', '\u00e9', '');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (parts) => {
        const r = normaliseTftpPath(parts.join(''));
        if (!r.ok) return;
        assert.ok(r.path.length > 0);
        assert.ok(!r.path.startsWith('/'));
        for (const s of r.segments) {
          assert.notEqual(s, '..');
          assert.notEqual(s, '.');
          assert.notEqual(s, '');
          assert.ok(!/[\0\\/\n]/.test(s));
        }
        // Normalising a normalised path changes nothing.
        assert.deepEqual(normaliseTftpPath(r.path), r);
      }),
      { numRuns: 2000 },
    );
  });
});
