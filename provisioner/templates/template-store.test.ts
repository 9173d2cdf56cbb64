import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirTemplateStore, MemoryTemplateStore, checkTemplateName, type TemplateStore } from './template-store.ts';

const BAD = ['', '../etc/passwd', '/etc/passwd', 'a/../../b', 'a\u0000b', 'a//b', '.hidden', 'x'.repeat(256), 'sp ace'];

for (const [label, make] of [
  ['memory', () => ({ s: new MemoryTemplateStore() as TemplateStore, done: () => {} })],
  ['directory', () => { const d = mkdtempSync(join(tmpdir(), 'rf-tpl-')); return { s: new DirTemplateStore(d) as TemplateStore, done: () => rmSync(d, { recursive: true }) }; }],
] as const) {
  describe(`${label} template store`, () => {
    it('writes, lists sorted, reads and removes', () => {
      const { s, done } = make();
      s.write('sample.ks', '# one\n');
      s.write('sub/node.seed', 'd-i x\n');
      assert.deepEqual(s.list(), ['sample.ks', 'sub/node.seed']);
      assert.equal(s.read('sub/node.seed'), 'd-i x\n');
      assert.equal(s.remove('sample.ks'), true);
      assert.equal(s.remove('sample.ks'), false);
      assert.equal(s.read('sample.ks'), undefined);
      done();
    });
    it('refuses names that could escape the root', () => {
      const { s, done } = make();
      for (const bad of BAD) assert.throws(() => s.write(bad, 'x'), /invalid template name/, JSON.stringify(bad));
      done();
    });
  });
}

describe('directory template store on disk', () => {
  it('keeps templates across reopen and ignores symlinks out of the root', () => {
    const d = mkdtempSync(join(tmpdir(), 'rf-tpl-'));
    const outside = mkdtempSync(join(tmpdir(), 'rf-out-'));
    writeFileSync(join(outside, 'secret'), 'top secret');
    symlinkSync(join(outside, 'secret'), join(d, 'link.ks'));
    symlinkSync(outside, join(d, 'escape'));
    const s = new DirTemplateStore(d);
    s.write('kept.ks', 'k');
    assert.deepEqual(new DirTemplateStore(d).list(), ['kept.ks']);
    assert.equal(s.read('link.ks'), undefined);
    assert.throws(() => s.write('escape/x.ks', 'x'), /leaves the templates directory/);
    assert.equal(existsSync(join(outside, 'x.ks')), false);
    rmSync(d, { recursive: true }); rmSync(outside, { recursive: true });
  });
  it('checkTemplateName accepts ordinary names', () => {
    for (const ok of ['default.ks', 'ubuntu/preseed.seed', 'a_b-c+d.cfg']) assert.equal(checkTemplateName(ok), ok);
  });
});
