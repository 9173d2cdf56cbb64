// Child process for the kill -9 test in sqlite-store.test.ts: opens the store in argv[2] and
// commits numbered transactions until killed, printing each committed number on stdout.
//
// Transaction n, all or nothing:
//   - puts system sys-n (two interfaces, profile prof-n) and profile prof-n;
//   - when n % 3 == 0, rewrites sys-(n-1): eth1 becomes eth9 with a new MAC and its hostname changes,
//     so that index rows are replaced, not only added;
//   - when n % 5 == 0, deletes sys-(n-2) and prof-(n-2);
//   - sets the counter record (repo crash-counter) to n.
// The parent derives what must exist from the counter alone, with crashExpectation().
import { SqliteStore } from './sqlite-store.ts';
import { makeInterface, makeItem, makeSystem } from './store-fixtures.ts';
import type { Store } from './store.ts';

export const COUNTER = 'crash-counter';

const hex = (b: number): string => (b & 0xff).toString(16).padStart(2, '0').toUpperCase();
const mac = (n: number, port: number): string => ['52', '54', hex(port), hex(n >> 16), hex(n >> 8), hex(n)].join(':');

export const sysName = (n: number): string => `sys-${n}`;
export const profName = (n: number): string => `prof-${n}`;

/** Whether sys-m/prof-m must exist once transactions 1..count have committed. */
export function crashExpectation(m: number, count: number): boolean {
  if (m < 1 || m > count) return false;
  const deleter = m + 2;
  return !(deleter <= count && deleter % 5 === 0);
}

export function crashStep(store: Store, n: number): void {
  store.transaction(() => {
    store.putItem('profile', makeItem(profName(n), { distro: 'crash-distro', mtime: n }));
    store.putItem('system', makeSystem(sysName(n), {
      eth0: makeInterface(mac(n, 0), `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`, `${sysName(n)}.crash.test`),
      eth1: makeInterface(mac(n, 1)),
    }, { hostname: sysName(n), profile: profName(n), mtime: n }));
    if (n % 3 === 0) {
      const prev = store.getItem('system', sysName(n - 1));
      if (prev) {
        const ifs = prev['interfaces'] as Record<string, Record<string, string>>;
        const { eth1: _gone, ...rest } = ifs;
        store.putItem('system', {
          ...prev,
          hostname: `${sysName(n - 1)}-renamed`,
          interfaces: { ...rest, eth9: makeInterface(mac(n, 9)) } as typeof prev['interfaces'],
          mtime: n,
        });
      }
    }
    if (n % 5 === 0) {
      store.deleteItem('system', sysName(n - 2));
      store.deleteItem('profile', profName(n - 2));
    }
    const counter = store.getItem('repo', COUNTER) ?? makeItem(COUNTER);
    store.putItem('repo', { ...counter, count: n, mtime: n });
  });
}

function main(dir: string): void {
  const store = SqliteStore.open(dir);
  let n = Number(store.getItem('repo', COUNTER)?.['count'] ?? 0);
  for (;;) {
    n += 1;
    crashStep(store, n);
    // Synchronous on a pipe: once written, the parent can read it even after SIGKILL.
    process.stdout.write(`${n}\n`);
  }
}

if (process.argv[1]?.endsWith('sqlite-store.crash-writer.ts')) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: sqlite-store.crash-writer.ts <dir>');
  main(dir);
}
