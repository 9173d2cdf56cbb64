#!/usr/bin/env node
// Installs what `npm start` / `npm test` need and is missing: npm packages, then Debian
// packages (apt-get when root; otherwise prints the exact command and stops).
// Plain JavaScript on purpose: it runs before any dependency (tsx included) is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'test';

/** Debian packages per job. The reason is printed when something is missing. */
const DEBIAN = {
  start: [],
  test: [
    ['python3', "Debian's python3 runs the Cobbler client scripts in the tests"],
    ['ansible', 'the real community.general Cobbler module and inventory plugin are tested against the API'],
    ['openssl', 'the HTTPS tests make a throwaway certificate'],
    ['curl', "curl's TFTP client is a real peer for the TFTP codec tests"],
  ],
};

function npmPackagesMissing() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  if (names.some((n) => !existsSync(join(root, 'node_modules', n, 'package.json')))) return true;
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(lock) && (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs + 1000)) return true;
  // The native SQLite binding is built at install time; a half-finished install lacks it.
  return !existsSync(join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
}

function installNpm() {
  const useCi = existsSync(join(root, 'package-lock.json'));
  console.error(`setup: installing npm packages (npm ${useCi ? 'ci' : 'install'}; the SQLite binding compiles from source, about a minute)`);
  const r = spawnSync('npm', [useCi ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('setup: npm install failed; python3, make and g++ are needed to build better-sqlite3');
    process.exit(r.status ?? 1);
  }
}

function debianMissing(list) {
  return list.filter(([name]) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function installDebian(missing) {
  const names = missing.map(([n]) => n);
  for (const [n, why] of missing) console.error(`setup: missing Debian package ${n}: ${why}`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`;
  if (!isRoot) {
    console.error(`setup: run as root, then try again:\n  sudo sh -c '${cmd}'`);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...names]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) { console.error(`setup: apt-get ${args[0]} failed`); process.exit(r.status ?? 1); }
  }
}

if (!(mode in DEBIAN)) { console.error(`setup: unknown mode ${mode} (start or test)`); process.exit(2); }
if (npmPackagesMissing()) installNpm();
const missing = existsSync('/usr/bin/dpkg-query') ? debianMissing(DEBIAN[mode]) : [];
if (missing.length > 0) installDebian(missing);
