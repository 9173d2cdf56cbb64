import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildMethodTable } from './methods.ts';
import { renderApiDocs } from './api-docs.ts';

describe('docs/api.md', () => {
  it('is the rendering of the method table (run `npm run docs` after changing methods)', () => {
    const onDisk = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    assert.equal(onDisk, renderApiDocs(buildMethodTable()));
  });
  it('covers the type x verb grid for every object type', () => {
    const t = buildMethodTable();
    for (const type of ['distro', 'profile', 'system', 'image', 'repo', 'menu']) {
      for (const m of [`get_${type}`, `get_${type}s`, `find_${type}`, `get_${type}_handle`, `new_${type}`, `modify_${type}`,
        `save_${type}`, `copy_${type}`, `rename_${type}`, `remove_${type}`, `get_${type}s_since`, `get_${type}_as_rendered`]) {
        assert.ok(t.has(m), m);
      }
    }
  });
});
