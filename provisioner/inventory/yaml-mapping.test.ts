import assert from 'node:assert/strict';
import fc from 'fast-check';
import { YamlSubsetError, parseYamlMapping } from './yaml-mapping.ts';

describe('parseYamlMapping (mgmt_parameters)', () => {
  const ok: Array<[string, unknown]> = [
    ['a: 1', { a: 1 }],
    ['a: 1\nb: two\nc: true\nd: ~\ne: 1.5\nf: "quoted: yes"\ng: \'it\'\'s\'', { a: 1, b: 'two', c: true, d: null, e: 1.5, f: 'quoted: yes', g: "it's" }],
    ['# comment\nrole: web # trailing\nurl: http://x/#frag', { role: 'web', url: 'http://x/#frag' }],
    ['outer:\n  inner: 1\n  list:\n    - a\n    - b\nnext: 2', { outer: { inner: 1, list: ['a', 'b'] }, next: 2 }],
    ['items:\n- one\n- two', { items: ['one', 'two'] }],
    ['users:\n  - name: a\n    uid: 1\n  - name: b', { users: [{ name: 'a', uid: 1 }, { name: 'b' }] }],
    ['empty:', { empty: null }],
    ['{a: 1, b: [x, y], c: {d: e}}', { a: 1, b: ['x', 'y'], c: { d: 'e' } }],
    ['{"a": {"b": [1, 2]}}', { a: { b: [1, 2] } }],
    ['---\nx: 1', { x: 1 }],
    ['flow: [1, two]', { flow: [1, 'two'] }],
  ];
  for (const [text, expected] of ok) it(`${JSON.stringify(text)}`, () => assert.deepEqual(parseYamlMapping(text), expected));

  const bad = ['badyaml', '', '- a\n- b', '[1, 2]', '"just a string"', 'a: 1\n  b: 2', 'a: &anchor 1', 'a: [1, 2', '{a: 1', 'key without colon\nb: 1', '\ta: 1'];
  for (const text of bad) it(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => parseYamlMapping(text), YamlSubsetError));

  it('only ever returns a mapping or throws YamlSubsetError', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
      try {
        const v = parseYamlMapping(text);
        assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v));
      } catch (e) {
        if (!(e instanceof YamlSubsetError)) throw e;
      }
    }), { numRuns: 2000 });
  });
});
