import assert from 'node:assert/strict';
import { SeededRandom } from '../../lib/clock.ts';
import { InstallTokens, MemoryTokenStore } from './install-tokens.ts';

describe('InstallTokens', () => {
  const make = () => { const store = new MemoryTokenStore(); return { store, tokens: new InstallTokens(store, new SeededRandom(11)) }; };

  it('issues one token per system and keeps it until it is retired', () => {
    const { tokens } = make();
    const a = tokens.tokenFor('web01');
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.equal(tokens.tokenFor('web01'), a);
    assert.notEqual(tokens.tokenFor('db01'), a);
    assert.equal(tokens.peek('web01'), a);
    assert.equal(tokens.peek('other'), undefined);
  });

  const table: Array<[string, (t: InstallTokens, own: string, foreign: string) => boolean, boolean]> = [
    ['own token', (t, own) => t.check('web01', own), true],
    ['foreign token', (t, _own, foreign) => t.check('web01', foreign), false],
    ['missing token', (t) => t.check('web01', undefined), false],
    ['empty token', (t) => t.check('web01', ''), false],
    ['upper-cased token', (t, own) => t.check('web01', own.toUpperCase()), false],
    ['truncated token', (t, own) => t.check('web01', own.slice(0, 31)), false],
    ['token of an unknown system', (t, own) => t.check('nobody', own), false],
  ];
  for (const [label, fn, want] of table) {
    it(`check: ${label} → ${want}`, () => {
      const { tokens } = make();
      const own = tokens.tokenFor('web01');
      const foreign = tokens.tokenFor('db01');
      assert.equal(fn(tokens, own, foreign), want);
    });
  }

  it('retire: nopxe cannot be replayed, post triggers still pass, the next install gets a fresh token', () => {
    const { tokens } = make();
    const first = tokens.tokenFor('web01');
    tokens.retire('web01');
    assert.equal(tokens.check('web01', first), false);
    assert.equal(tokens.checkIssued('web01', first), true);
    assert.equal(tokens.peek('web01'), undefined);
    const second = tokens.tokenFor('web01');
    assert.notEqual(second, first);
    assert.equal(tokens.check('web01', first), false);
    assert.equal(tokens.checkIssued('web01', first), false);
    assert.equal(tokens.check('web01', second), true);
    tokens.retire('web01');
    tokens.retire('web01');
    assert.equal(tokens.checkIssued('web01', second), true);
  });

  it('revoke forgets the token', () => {
    const { tokens, store } = make();
    const t = tokens.tokenFor('web01');
    tokens.revoke('web01');
    assert.equal(store.get('web01'), undefined);
    assert.equal(tokens.checkIssued('web01', t), false);
  });
});
