#!/usr/bin/env node
// Builds the native addons (today: provisioner/net/native, the interface-aware UDP socket the
// DHCP server uses) with the node-gyp that ships with npm. Rebuilds only when the .node file is
// missing or older than its sources, so running it again is a quick no-op.
// Plain JavaScript on purpose: it runs before any dependency (tsx included) is installed.
//
//   node scripts/build-native.mjs [--quiet]
//   import { buildNative } from './scripts/build-native.mjs'; buildNative({ quiet: true })
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from './build-lock.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each addon: its directory (holding binding.gyp) and the file node-gyp produces. */
export const ADDONS = [
  { dir: join(root, 'provisioner', 'net', 'native'), output: join('build', 'Release', 'iface_udp.node') },
];

const SOURCE_RE = /\.(c|cc|cpp|h|gyp|gypi)$/;

function newestSourceMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (!SOURCE_RE.test(name)) continue;
    newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  }
  return newest;
}

function isUpToDate(addon) {
  const out = join(addon.dir, addon.output);
  return existsSync(out) && statSync(out).mtimeMs >= newestSourceMtime(addon.dir);
}

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** How to run node-gyp: npm's own copy first (no network, matches this npm), then PATH. */
function findNodeGyp() {
  const fromEnv = process.env.npm_config_node_gyp;
  if (fromEnv && existsSync(fromEnv)) return [process.execPath, fromEnv];
  const npmDirs = [];
  if (process.env.npm_execpath) npmDirs.push(resolve(dirname(process.env.npm_execpath), '..'));
  const prefix = resolve(dirname(process.execPath), '..');
  npmDirs.push(join(prefix, 'lib', 'node_modules', 'npm'), '/usr/lib/node_modules/npm', '/usr/local/lib/node_modules/npm');
  const npmCli = onPath('npm');
  if (npmCli) {
    // npm on PATH is usually a symlink to <npm>/bin/npm-cli.js
    try {
      const real = spawnSync('realpath', [npmCli], { encoding: 'utf8' }).stdout.trim();
      if (real) npmDirs.push(resolve(dirname(real), '..'));
    } catch {
      /* no realpath */
    }
  }
  for (const npmDir of npmDirs) {
    if (!existsSync(join(npmDir, 'package.json'))) continue;
    try {
      const script = createRequire(join(npmDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
      return [process.execPath, script];
    } catch {
      /* this npm has no node-gyp */
    }
  }
  const global = onPath('node-gyp');
  return global ? [global] : undefined;
}

/**
 * Where Node's headers are, so node-gyp never tries to download them: npm's `nodedir` setting
 * (environment or `npm config get`), else the prefix this node was installed into when it
 * carries include/node/node_api.h (distribution packages and official tarballs do).
 */
function findNodeDir() {
  const usable = (v) => (v && v !== 'undefined' && v !== 'null' ? v : undefined);
  let dir = usable(process.env.npm_config_nodedir);
  if (!dir) {
    const r = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (r.status === 0) dir = usable(r.stdout.trim());
  }
  if (dir) return dir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

/** Names of the build tools that are not installed, with what each is for. */
export function missingTools() {
  const tools = [
    ['python3', 'runs gyp'],
    ['make', 'runs the generated Makefile'],
    ['cc', 'compiles the C sources; Debian package gcc'],
    ['g++', 'links the addon'],
  ];
  return tools.filter(([cmd]) => !onPath(cmd)).map(([cmd, why]) => `${cmd} (${why})`);
}

/** Holds a lock while building so two test runs never run node-gyp in one tree at once. */
function withLock(dir, fn) {
  const lock = join(tmpdir(), `rackforge-native-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.lock`);
  return withBuildLock(lock, fn, { onTimeout: (m) => new Error(`build-native: ${m}`) });
}

function buildOne(addon, quiet) {
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) {
    throw new Error('build-native: node-gyp not found; it ships with npm (install npm, or `npm install -g node-gyp`)');
  }
  const nodedir = findNodeDir();
  const args = [...nodeGyp.slice(1), 'rebuild', '--directory', addon.dir];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  if (!quiet) console.error(`build-native: building ${addon.dir} (node-gyp${nodedir ? `, headers from ${nodedir}` : ''})`);
  const r = spawnSync(nodeGyp[0], args, { cwd: root, encoding: 'utf8', stdio: quiet ? 'pipe' : 'inherit' });
  if (r.status === 0 && existsSync(join(addon.dir, addon.output))) return;
  const lines = [`build-native: node-gyp failed for ${addon.dir} (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`];
  if (quiet) lines.push(`${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd());
  const missing = missingTools();
  if (missing.length > 0) {
    lines.push(`build-native: missing build tools: ${missing.join(', ')}`);
    lines.push('build-native: on Debian/Ubuntu: apt-get install -y python3 make gcc g++');
  }
  if (!nodedir) lines.push("build-native: Node's headers were not found next to node and npm's nodedir is unset; node-gyp needs them (or network access to download them)");
  throw new Error(lines.join('\n'));
}

/**
 * Builds every addon whose .node file is missing or older than its sources.
 * Returns the directories it built; throws an Error saying what is missing on failure.
 */
export function buildNative({ quiet = false } = {}) {
  const built = [];
  for (const addon of ADDONS) {
    if (isUpToDate(addon)) continue;
    withLock(addon.dir, () => {
      if (isUpToDate(addon)) return; // another process built it while we waited
      buildOne(addon, quiet);
      built.push(addon.dir);
    });
  }
  if (!quiet) console.error(built.length === 0 ? 'build-native: native addons are up to date' : `build-native: built ${built.length} addon(s)`);
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    buildNative({ quiet: process.argv.includes('--quiet') });
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
