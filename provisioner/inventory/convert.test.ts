import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRackforgeError } from '../../lib/errors.ts';
import {
  dictAnnihilate, dictToKernelArgs, inputBoolean, inputInt, inputStringOrDict, inputStringOrList, inputStringOrListNoInherit,
  isStrFloat, isStrInt, shlexSplit, uniquify,
} from './convert.ts';
import { INHERIT } from './types.ts';

function refuses(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => isRackforgeError(e, 'ITEM_INVALID_FIELD'));
}

describe('shlexSplit (Python shlex.split)', () => {
  const cases: Array<[string, string[]]> = [
    ['a b  c', ['a', 'b', 'c']],
    ['', []],
    ['   ', []],
    ["a='b c' d", ['a=b c', 'd']],
    ['a="b c" d', ['a=b c', 'd']],
    ['a="b \\"c\\""', ['a=b "c"']],
    ["'a''b'", ['ab']],
    ['a\\ b c', ['a b', 'c']],
    ['""', ['']],
    ['x # not a comment', ['x', '#', 'not', 'a', 'comment']],
    ["console=ttyS0,115200n8 ks='http://h/ks?a=1&b=2'", ['console=ttyS0,115200n8', 'ks=http://h/ks?a=1&b=2']],
  ];
  for (const [input, expected] of cases) it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(shlexSplit(input), expected));
  for (const bad of ["a 'b", 'a "b', 'a\\']) it(`refuses ${JSON.stringify(bad)}`, () => refuses(() => shlexSplit(bad)));
});

describe('inputStringOrDict', () => {
  it('parses repeated keys into lists and bare words into null', () => {
    assert.deepEqual(inputStringOrDict('a=1 b=2 c=3 c=4 d'), { a: '1', b: '2', c: ['3', '4'], d: null });
    assert.deepEqual(inputStringOrDict('a=1 b=2 c=3 c=4 c=5 d e'), { a: '1', b: '2', c: ['3', '4', '5'], d: null, e: null });
  });
  it('keeps the last value when multiples are not allowed', () => {
    assert.deepEqual(inputStringOrDict('c=3 c=4', false), { c: '4' });
  });
  it('splits on the first "=" only and honours quoting', () => {
    assert.deepEqual(inputStringOrDict("ks=http://x/?a=b append='quiet splash'"), { ks: 'http://x/?a=b', append: 'quiet splash' });
  });
  it('passes <<inherit>> and mappings through, drops the empty key', () => {
    assert.equal(inputStringOrDict(INHERIT), INHERIT);
    assert.deepEqual(inputStringOrDict({ a: 1, '': 2 }), { a: 1 });
    assert.deepEqual(inputStringOrDict('=x a=1'), { a: '1' });
  });
  it('"", "delete" and null mean empty', () => {
    for (const v of ['', 'delete', null, undefined]) assert.deepEqual(inputStringOrDict(v), {});
  });
  it('refuses lists and scalars', () => {
    for (const v of [['a=1'], 5, true]) refuses(() => inputStringOrDict(v));
  });
  it('keeps "__proto__" as a plain key', () => {
    const d = inputStringOrDict('__proto__=x a=1');
    assert.equal(Object.getPrototypeOf(d), Object.prototype);
    assert.deepEqual(Object.keys(d), ['__proto__', 'a']);
  });
});

describe('inputStringOrList', () => {
  const cases: Array<[unknown, unknown]> = [
    ['a b', ['a', 'b']],
    ['a,b c', ['a,b', 'c']],
    ["'a b' c", ['a b', 'c']],
    ['', []],
    ['delete', []],
    [null, []],
    [false, []],
    [['x', 'y'], ['x', 'y']],
    [INHERIT, INHERIT],
  ];
  for (const [input, expected] of cases) it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(inputStringOrList(input), expected));
  it('the no-inherit form treats <<inherit>> as a word', () => assert.deepEqual(inputStringOrListNoInherit(INHERIT), [INHERIT]));
  it('refuses mappings and true', () => {
    refuses(() => inputStringOrList({ a: 1 }));
    refuses(() => inputStringOrList(true));
  });
});

describe('inputBoolean', () => {
  const truthy = ['true', 'True', 'TRUE', '1', 'on', 'yes', 'Y', 'y', true, 1];
  const falsy = ['false', '0', 'off', 'no', 'n', '', 'maybe', INHERIT, false, 0, 2];
  for (const v of truthy) it(`${JSON.stringify(v)} → true`, () => assert.equal(inputBoolean(v), true));
  for (const v of falsy) it(`${JSON.stringify(v)} → false`, () => assert.equal(inputBoolean(v), false));
  for (const v of [null, undefined, [], {}]) it(`refuses ${JSON.stringify(v)}`, () => refuses(() => inputBoolean(v)));
});

describe('inputInt and friends', () => {
  it('accepts integers and their decimal text', () => {
    assert.equal(inputInt(4), 4);
    assert.equal(inputInt('4'), 4);
    assert.equal(inputInt('-1'), -1);
  });
  for (const v of ['a', '1.5', '', ' 1', '01', '+1', 1.5, true, null, [1]]) {
    it(`refuses ${JSON.stringify(v)} with a message naming the value`, () => {
      assert.throws(() => inputInt(v, 'virt_cpus'), (e: unknown) => isRackforgeError(e, 'ITEM_INVALID_FIELD') && /^virt_cpus: .* is not an integer$/.test((e as Error).message));
    });
  }
  it('isStrInt / isStrFloat follow Python\'s round-trip rule', () => {
    assert.ok(isStrInt('10') && !isStrInt('010') && !isStrInt('1.0'));
    assert.ok(isStrFloat('5') && isStrFloat('5.0') && isStrFloat('1.25'));
    assert.ok(!isStrFloat('1.50') && !isStrFloat('a') && !isStrFloat('1e3') && !isStrFloat(''));
  });
});

describe('dictToKernelArgs (utils.dict_to_string)', () => {
  const cases: Array<[unknown, string]> = [
    [{ a: '1', b: '2' }, 'a=1 b=2 '],
    [{ c: ['3', '4'] }, 'c=3 c=4 '],
    [{ quiet: null, ro: '' }, 'quiet ro '],
    [{ append: 'a b' }, "append='a b' "],
    [{ l: ['x y', 'z'] }, "l='x y' l=z "],
    [{ n: 5, t: true, f: false }, 'n=5 t=True f '],
    [{ s: ' padded ' }, 's=padded '],
    [{}, ''],
  ];
  for (const [input, expected] of cases) it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(dictToKernelArgs(input as never), expected));
  it('returns non-mappings unchanged', () => {
    assert.equal(dictToKernelArgs('already text'), 'already text');
    assert.equal(dictToKernelArgs(INHERIT), INHERIT);
  });
  it('round-trips through inputStringOrDict for simple tokens', () => {
    fc.assert(fc.property(
      fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/), fc.oneof(fc.constant(null), fc.stringMatching(/^[a-z0-9.:/,]{1,8}$/))),
      (d) => assert.deepEqual(inputStringOrDict(dictToKernelArgs(d) as string), { ...d }),
    ));
  });
});

describe('dictAnnihilate and uniquify', () => {
  it('"!key" removes key and itself; a lone "!" stays', () => {
    assert.deepEqual(dictAnnihilate({ a: '1', '!a': null, b: '2', '!c': null, '!': 'x' }), { b: '2', '!': 'x' });
  });
  it('uniquify keeps first occurrences in order', () => {
    assert.deepEqual(uniquify(['a', 'b', 'a', 'c', 'b']), ['a', 'b', 'c']);
  });
});
