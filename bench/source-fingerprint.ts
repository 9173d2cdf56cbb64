// SHA-256 over the server's sources, printed by the benchmarks so that a set of figures can be
// tied to the code it measured while several people edit the tree.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The first 16 hex digits of a SHA-256 over bin, cli, lib and provisioner (.ts/.js/.json, tests
 * excluded), file names included, in sorted order.
 */
export function sourceFingerprint(): { sha256: string; files: number } {
  const hash = createHash('sha256');
  let files = 0;
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(ROOT, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (/\.(ts|js|json)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) {
        hash.update(`${path}\0`).update(readFileSync(join(ROOT, path))).update('\0');
        files++;
      }
    }
  };
  for (const dir of ['bin', 'cli', 'lib', 'provisioner']) walk(dir);
  return { sha256: hash.digest('hex').slice(0, 16), files };
}
