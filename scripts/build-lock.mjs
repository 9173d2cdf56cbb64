// A lock directory held while something builds into a shared place, so two runs (npm test and
// npm start, or two test runs) never build into one tree at once. mkdir is atomic; a lock older
// than `staleMs` belongs to a build that died and is taken over.
import { mkdirSync, rmSync, statSync } from 'node:fs';

export function withBuildLock(lock, fn, { staleMs = 300_000, waitMs = 180_000, onTimeout = (m) => new Error(m) } = {}) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > staleMs) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw onTimeout(`waited too long for ${lock} (remove it if no build is running)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
