import assert from 'node:assert/strict';
import { SeededRandom } from '../../lib/clock.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { ensureAdminUser } from './admin-bootstrap.ts';

describe('password hashes', () => {
  it('verifies the right password and refuses others', async () => {
    const h = hashPassword('s3cret', new SeededRandom(1));
    assert.match(h, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword('s3cret', h), true);
    assert.equal(await verifyPassword('s3cret ', h), false);
    assert.equal(await verifyPassword('', h), false);
  });
  it('salts: the same password hashes differently', () => {
    const r = new SeededRandom(7);
    assert.notEqual(hashPassword('x', r), hashPassword('x', r));
  });
  it('refuses malformed encodings instead of throwing', async () => {
    for (const bad of ['', 'plain', 'scrypt$1$2', 'md5$a$b$c$d$e', 'scrypt$16384$8$1$c2FsdA==$']) assert.equal(await verifyPassword('x', bad), false);
  });
  it('bootstraps the admin once, generating a password only when none is given', async () => {
    const store = new MemoryStore();
    const first = ensureAdminUser(store, { random: new SeededRandom(3), now: 1 });
    assert.equal(first.created, true);
    assert.ok(first.generatedPassword && first.generatedPassword.length >= 20);
    assert.ok(await verifyPassword(first.generatedPassword!, store.getUser('cobbler')!.passwordHash));
    assert.deepEqual(ensureAdminUser(store, { password: 'other', random: new SeededRandom(4), now: 2 }), { created: false });
    const s2 = new MemoryStore();
    const r = ensureAdminUser(s2, { password: 'given', random: new SeededRandom(5), now: 1 });
    assert.deepEqual(r, { created: true });
    assert.ok(await verifyPassword('given', s2.getUser('cobbler')!.passwordHash));
  });
});
