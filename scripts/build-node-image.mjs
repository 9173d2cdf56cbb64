#!/usr/bin/env node
// Builds the rackforge hypervisor-node OS from Debian packages, without root, mounts or loop
// devices, into build/node/ (see docs/node-image.md):
//
//   vmlinuz            the Debian kernel (linux-image-<abi>-amd64, the one linux-image-amd64 depends on)
//   initrd.img         the INSTALLER initramfs: busybox-static, the NIC/disk modules, installer-init.sh
//   node.img           the NODE DISK IMAGE: MBR (syslinux mbr.bin) + one FAT partition holding
//                      syslinux, vmlinuz and the RUNTIME initramfs (node-init.sh as /init)
//   node.img.sha256    sha256sum line for node.img
//   build-info.json    kernel, package versions, sizes, checksums, and the key of the inputs
//
// A second run with the same inputs (this script, profiles/node-image/*, the Debian package
// versions) is a no-op. Missing Debian packages are named with the apt-get command to run.
// Plain JavaScript on purpose: scripts/setup.mjs calls it before tsx is known to be installed.
//
//   node scripts/build-node-image.mjs [--quiet] [--force]
//   import { buildNodeImage } from './scripts/build-node-image.mjs'; buildNodeImage({ quiet: true })
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync,
  rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from './build-lock.mjs';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
export const OUT_DIR = join(root, 'build', 'node');
const CACHE_DIR = join(root, 'build', 'cache');
const PROFILE_DIR = join(root, 'profiles', 'node-image');

/** Drivers both initramfs images load: QEMU's e1000 and virtio NICs and the virtio disk. Their dependencies are added. */
export const MODULES = ['e1000', 'virtio_net', 'virtio_blk', 'virtio_pci'];

/** Debian packages the build reads from the host. The kernel is downloaded, not installed. */
export const PACKAGES = [
  ['busybox-static', 'the whole userland of both initramfs images is /bin/busybox'],
  ['syslinux', 'the syslinux installer writes the FAT boot sector and ldlinux.sys of node.img (via mtools)'],
  ['syslinux-common', "mbr.bin (node.img's master boot record) and ldlinux.c32"],
  ['mtools', 'formats and fills the FAT partition of node.img without mounting it'],
];

/** FAT partition start: 1 MiB, the usual alignment. */
const PART_OFFSET = 1024 * 1024;
const MBR_BIN = '/usr/lib/syslinux/mbr/mbr.bin';
const BUSYBOX = '/bin/busybox';

const PROFILE_FILES = ['installer-init.sh', 'node-init.sh', 'rf-lib.sh', 'udhcpc.script', 'syslinux.cfg'];

class BuildError extends Error {}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: opts.encoding ?? 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw new BuildError(`build-node-image: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.toString().trim();
    throw new BuildError(`build-node-image: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})${out ? `:\n${out}` : ''}`);
  }
  return r.stdout;
}

function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

/** Installed versions of `names`; throws naming the apt-get command when some are missing. */
function installedVersions(names) {
  const versions = {};
  const missing = [];
  for (const name of names) {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', name], { encoding: 'utf8' });
    const [status, version] = (r.stdout ?? '').split('\t');
    if (r.status === 0 && status?.includes('install ok installed') && version) versions[name] = version;
    else missing.push(name);
  }
  if (missing.length > 0) {
    const why = PACKAGES.filter(([n]) => missing.includes(n)).map(([n, w]) => `  ${n}: ${w}`).join('\n');
    throw new BuildError(`build-node-image: missing Debian packages:\n${why}\nrun (as root): apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`);
  }
  return versions;
}

/** Debian control fields of `pkg`'s candidate version, from the apt lists (no network). */
function aptShow(pkg) {
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', pkg], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) return undefined;
  const fields = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (m) fields[m[1]] = m[2];
  }
  return fields;
}

/** Identifies the state of apt's package lists: it changes with every `apt-get update`. */
function aptListsStamp() {
  const dir = '/var/lib/apt/lists';
  if (!existsSync(dir)) return '';
  const parts = readdirSync(dir).filter((f) => f.includes('_Packages')).sort().map((f) => {
    const st = statSync(join(dir, f));
    return `${f}:${st.size}:${st.mtimeMs}`;
  });
  return sha256(parts.join('\n'));
}

/**
 * The kernel package: the linux-image-<abi>-amd64 that linux-image-amd64 depends on, and its
 * version. apt-cache takes about a second here (Debian's container images keep no pkgcache.bin),
 * so the answer is reused while apt's lists are unchanged. Without apt lists (offline, never
 * updated) the newest cached .deb is used.
 */
function resolveKernel(listsStamp) {
  const previous = readInfo();
  if (listsStamp && previous?.aptLists === listsStamp && previous.kernel?.package && previous.kernel?.version) {
    return { package: previous.kernel.package, version: previous.kernel.version };
  }
  const meta = aptShow('linux-image-amd64');
  for (const dep of meta?.Depends?.split(',') ?? []) {
    const m = /^\s*(linux-image-[0-9]\S*-amd64)(?:\s*\(=\s*([^)\s]+)\))?/.exec(dep);
    if (!m) continue;
    const version = m[2] ?? aptShow(m[1])?.Version;
    if (version) return { package: m[1], version };
  }
  const debDir = join(CACHE_DIR, 'debs');
  const cached = existsSync(debDir) ? readdirSync(debDir).filter((f) => /^linux-image-[0-9].*-amd64_.*\.deb$/.test(f)).sort() : [];
  const last = cached.at(-1);
  if (last) {
    const [pkg, version] = last.split('_');
    return { package: pkg, version: version.replace(/%3a/gi, ':') };
  }
  throw new BuildError('build-node-image: apt knows no linux-image-amd64 (no package lists?) and no kernel .deb is cached\nrun (as root): apt-get update');
}

function debFileName(pkg, version) {
  return `${pkg}_${version.replace(/:/g, '%3a')}_amd64.deb`;
}

/** The kernel .deb, from build/cache/debs or downloaded with `apt-get download` (no root needed). */
function fetchKernelDeb(kernel) {
  const debDir = join(CACHE_DIR, 'debs');
  mkdirSync(debDir, { recursive: true });
  const want = join(debDir, debFileName(kernel.package, kernel.version));
  if (existsSync(want)) return want;
  console.error(`build-node-image: downloading ${kernel.package} ${kernel.version} (apt-get download, about 70 MB)`);
  const tmp = mkdtempSync(join(debDir, '.download-'));
  try {
    const r = spawnSync('apt-get', ['download', `${kernel.package}=${kernel.version}`], { cwd: tmp, encoding: 'utf8' });
    const got = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (r.status !== 0 || !got) {
      throw new BuildError(`build-node-image: apt-get download ${kernel.package}=${kernel.version} failed:\n${(r.stderr ?? '').trim()}\n` +
        'the Debian archive must be reachable; if the version is gone, run (as root): apt-get update');
    }
    renameSync(join(tmp, got), want);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // Older kernels are of no further use.
  for (const f of readdirSync(debDir)) {
    if (/^linux-image-[0-9].*-amd64_.*\.deb$/.test(f) && f !== basename(want)) rmSync(join(debDir, f), { force: true });
  }
  return want;
}

/** Module file contents, decompressed: Debian's 6.1 ships plain .ko, later kernels .ko.xz or .ko.zst. */
function readModule(path) {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.ko.xz')) return run(BUSYBOX, ['unxz', '-c', path], { encoding: 'buffer' });
  if (path.endsWith('.ko.zst')) {
    const r = spawnSync('zstd', ['-dc', path], { maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new BuildError(`build-node-image: ${path} is zstd-compressed; run (as root): apt-get install -y zstd`);
    return r.stdout;
  }
  if (path.endsWith('.ko.gz')) return run(BUSYBOX, ['gunzip', '-c', path], { encoding: 'buffer' });
  throw new BuildError(`build-node-image: unknown module format ${path}`);
}

/** The `depends=` field of a module's .modinfo section (NUL-separated key=value strings). */
function moduleDepends(buf) {
  const at = buf.indexOf(Buffer.from('\0depends='));
  if (at < 0) return [];
  const start = at + '\0depends='.length;
  const end = buf.indexOf(0, start);
  return buf.subarray(start, end).toString('latin1').split(',').filter(Boolean);
}

const normalize = (name) => name.replace(/-/g, '_');

/**
 * The wanted modules and their dependencies in load order (dependencies first). The .deb has no
 * modules.dep (depmod runs at install time), so each module's depends= field is read instead;
 * modules built into the kernel (modules.builtin) are skipped.
 */
function resolveModules(modDir, wanted) {
  const files = new Map();
  const walk = (dir) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(ent.name)) files.set(normalize(ent.name.replace(/\.ko.*$/, '')), p);
    }
  };
  walk(join(modDir, 'kernel'));
  const builtinFile = join(modDir, 'modules.builtin');
  const builtin = new Set(existsSync(builtinFile)
    ? readFileSync(builtinFile, 'utf8').split('\n').filter(Boolean).map((l) => normalize(basename(l).replace(/\.ko.*$/, '')))
    : []);
  const order = [];
  const seen = new Set();
  const visit = (name, chain) => {
    const n = normalize(name);
    if (seen.has(n) || builtin.has(n)) return;
    if (chain.includes(n)) throw new BuildError(`build-node-image: module dependency cycle ${[...chain, n].join(' -> ')}`);
    const path = files.get(n);
    if (!path) throw new BuildError(`build-node-image: module ${n} is not in this kernel (wanted by ${chain.join(' -> ') || 'MODULES'})`);
    const data = readModule(path);
    for (const dep of moduleDepends(data)) visit(dep, [...chain, n]);
    seen.add(n);
    order.push({ name: n, data, from: path.slice(modDir.length + 1) });
  };
  for (const m of wanted) visit(m, []);
  return order;
}

// ---- newc cpio, written here so that /dev/console and root ownership need no root ----

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** A gzip'd newc archive of `entries` ({ path, mode, data?, target?, rdev? }), owner 0:0, mtime 0. */
export function writeNewcCpio(entries) {
  const chunks = [];
  let ino = 1;
  const pad4 = (n) => (4 - (n % 4)) % 4;
  const add = (name, mode, data, rmajor = 0, rminor = 0) => {
    const nameBuf = Buffer.from(`${name}\0`);
    const fields = [ino++, mode, 0, 0, (mode & 0o170000) === S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rmajor, rminor, nameBuf.length, 0];
    const header = `070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`;
    chunks.push(Buffer.from(header, 'ascii'), nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)), data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) {
    if (e.target !== undefined) add(e.path, S_IFLNK | 0o777, Buffer.from(e.target));
    else if (e.rdev) add(e.path, S_IFCHR | e.mode, Buffer.alloc(0), e.rdev[0], e.rdev[1]);
    else if (e.data === undefined) add(e.path, S_IFDIR | e.mode, Buffer.alloc(0));
    else add(e.path, S_IFREG | e.mode, e.data);
  }
  add('TRAILER!!!', 0, Buffer.alloc(0));
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}

/** Entries of one initramfs: busybox with every applet link, the modules, the shared shell library and `init`. */
function initramfsEntries(init, modules) {
  const entries = [];
  for (const d of ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'run', 'etc', 'lib', 'lib/modules', 'lib/rackforge', 'root', 'mnt']) {
    entries.push({ path: d, mode: d === 'tmp' ? 0o1777 : 0o755 });
  }
  // The kernel opens /dev/console for init's stdio before /init can mount devtmpfs.
  entries.push({ path: 'dev/console', mode: 0o600, rdev: [5, 1] }, { path: 'dev/null', mode: 0o666, rdev: [1, 3] });
  entries.push({ path: 'bin/busybox', mode: 0o755, data: readFileSync(BUSYBOX) });
  const applets = run(BUSYBOX, ['--list-full']).split('\n').filter(Boolean);
  for (const a of applets) {
    if (a === 'bin/busybox') continue;
    const depth = a.split('/').length - 1;
    entries.push({ path: a, target: `${'../'.repeat(depth)}bin/busybox` });
  }
  for (const m of modules) entries.push({ path: `lib/modules/${m.name}.ko`, mode: 0o644, data: m.data });
  entries.push({ path: 'lib/modules/load-order', mode: 0o644, data: Buffer.from(`${modules.map((m) => m.name).join('\n')}\n`) });
  entries.push({ path: 'lib/rackforge/rf-lib.sh', mode: 0o644, data: readFileSync(join(PROFILE_DIR, 'rf-lib.sh')) });
  entries.push({ path: 'etc/udhcpc.script', mode: 0o755, data: readFileSync(join(PROFILE_DIR, 'udhcpc.script')) });
  entries.push({ path: 'etc/hostname', mode: 0o644, data: Buffer.from('rackforge\n') });
  entries.push({ path: 'init', mode: 0o755, data: readFileSync(join(PROFILE_DIR, init)) });
  return entries;
}

// ---- node.img: MBR + one FAT partition, filled with mtools and made bootable by syslinux ----

function mtoolsEnv() {
  // The partition has no floppy geometry; mtools must not refuse it.
  return { ...process.env, MTOOLS_SKIP_CHECK: '1' };
}

/** Writes node.img at `path` holding `files` ({ name: path-on-host }) and returns its layout. */
function writeNodeImage(path, files) {
  const content = Object.values(files).reduce((n, f) => n + statSync(f).size, 0);
  // Room for syslinux (ldlinux.sys + ldlinux.c32, about 150 KiB), FAT overhead and a kernel a little larger.
  const partMiB = Math.max(8, Math.ceil((content + 3 * 1024 * 1024) / (1024 * 1024)));
  const partSectors = partMiB * 2048;
  const total = PART_OFFSET + partMiB * 1024 * 1024;
  writeFileSync(path, Buffer.alloc(0));
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(1), 0, 1, total - 1);
  } finally {
    closeSync(fd);
  }
  const img = `${path}@@${PART_OFFSET}`;
  const env = mtoolsEnv();
  // 64 heads x 32 sectors: one cylinder per MiB. -H: hidden sectors = the partition's LBA start,
  // which syslinux's boot sector adds to find its files on the disk.
  run('mformat', ['-i', img, '-t', String(partMiB), '-h', '64', '-s', '32', '-H', String(PART_OFFSET / 512), '-v', 'RACKFORGE', '-N', '52464e31', '::'], { env });
  for (const [name, src] of Object.entries(files)) run('mcopy', ['-i', img, '-m', src, `::/${name}`], { env });
  run('syslinux', ['--offset', String(PART_OFFSET), '--install', path], { env });
  const listing = run('mdir', ['-i', img, '-a', '-b', '::/'], { env });
  if (!/ldlinux\.sys/i.test(listing)) throw new BuildError(`build-node-image: syslinux did not install ldlinux.sys:\n${listing}`);

  const buf = readFileSync(path);
  const bootSector = buf.subarray(PART_OFFSET, PART_OFFSET + 512);
  const fatType = bootSector.toString('ascii', 82, 90).startsWith('FAT32') ? 'FAT32' : bootSector.toString('ascii', 54, 62).trim();
  const partType = { FAT12: 0x01, FAT16: 0x0e, FAT32: 0x0c }[fatType];
  if (partType === undefined) throw new BuildError(`build-node-image: mformat wrote an unknown FAT type "${fatType}"`);
  const mbr = readFileSync(MBR_BIN);
  if (mbr.length > 440) throw new BuildError(`build-node-image: ${MBR_BIN} is ${mbr.length} bytes, more than the 440 of MBR boot code`);
  const sector0 = Buffer.alloc(512);
  mbr.copy(sector0, 0);
  sector0.writeUInt32LE(0x52464e31, 440); // disk signature "RFN1": fixed, so that images of the same inputs agree
  const entry = Buffer.alloc(16);
  entry[0] = 0x80; // active: mbr.bin boots the active partition
  entry.set([0xfe, 0xff, 0xff], 1); // CHS unused: mbr.bin and SeaBIOS address by LBA
  entry[4] = partType;
  entry.set([0xfe, 0xff, 0xff], 5);
  entry.writeUInt32LE(PART_OFFSET / 512, 8);
  entry.writeUInt32LE(partSectors, 12);
  entry.copy(sector0, 446);
  sector0[510] = 0x55;
  sector0[511] = 0xaa;
  const fd2 = openSync(path, 'r+');
  try {
    writeSync(fd2, sector0, 0, 512, 0);
  } finally {
    closeSync(fd2);
  }
  return { bytes: total, partition: { startBytes: PART_OFFSET, sizeBytes: partMiB * 1024 * 1024, type: `0x${partType.toString(16).padStart(2, '0')}`, fs: fatType } };
}

// ---- inputs, lock, build ----

function inputsKey(versions, kernel) {
  const h = createHash('sha256');
  h.update(readFileSync(SELF));
  for (const f of PROFILE_FILES) h.update(`\0${f}\0`).update(readFileSync(join(PROFILE_DIR, f)));
  h.update(JSON.stringify({ versions, kernel, modules: MODULES }));
  return h.digest('hex');
}

function readInfo() {
  try {
    return JSON.parse(readFileSync(join(OUT_DIR, 'build-info.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

const OUTPUTS = ['vmlinuz', 'initrd.img', 'node.img', 'node.img.sha256', 'build-info.json'];

function isUpToDate(key) {
  const info = readInfo();
  if (!info || info.inputsKey !== key) return false;
  return OUTPUTS.every((f) => existsSync(join(OUT_DIR, f)) && (info.files?.[f] === undefined || statSync(join(OUT_DIR, f)).size === info.files[f].bytes));
}

/** Holds a lock while building, so `npm test` and `npm start` never build into one directory at once. */
function withLock(fn) {
  mkdirSync(join(root, 'build'), { recursive: true });
  return withBuildLock(join(root, 'build', '.node-image.lock'), fn, {
    staleMs: 600_000, waitMs: 600_000, onTimeout: (m) => new BuildError(`build-node-image: ${m}`),
  });
}

function build(versions, kernel, key, listsStamp, log) {
  const started = Date.now();
  const deb = fetchKernelDeb(kernel);
  // Under build/ rather than the system temp dir: the outputs are renamed into build/node/.
  const work = mkdtempSync(join(root, 'build', '.work-'));
  try {
    log(`unpacking ${basename(deb)}`);
    const unpacked = join(work, 'deb');
    run('dpkg-deb', ['-x', deb, unpacked]);
    const kernelFile = readdirSync(join(unpacked, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!kernelFile) throw new BuildError(`build-node-image: ${basename(deb)} has no boot/vmlinuz-*`);
    const release = kernelFile.slice('vmlinuz-'.length);
    const modules = resolveModules(join(unpacked, 'lib', 'modules', release), MODULES);
    log(`kernel ${release}; modules in load order: ${modules.map((m) => m.name).join(' ')}`);

    const stage = join(work, 'out');
    mkdirSync(stage);
    renameSync(join(unpacked, 'boot', kernelFile), join(stage, 'vmlinuz'));
    rmSync(unpacked, { recursive: true, force: true });
    writeFileSync(join(stage, 'initrd.img'), writeNewcCpio(initramfsEntries('installer-init.sh', modules)));
    const runtimeInitrd = join(work, 'node-initrd.img');
    writeFileSync(runtimeInitrd, writeNewcCpio(initramfsEntries('node-init.sh', modules)));
    log('writing node.img (mformat, mcopy, syslinux, mbr.bin)');
    const layout = writeNodeImage(join(stage, 'node.img'), {
      'syslinux.cfg': join(PROFILE_DIR, 'syslinux.cfg'),
      vmlinuz: join(stage, 'vmlinuz'),
      'initrd.img': runtimeInitrd,
    });
    const describe = (p) => {
      const data = readFileSync(p);
      return { bytes: data.length, sha256: sha256(data) };
    };
    const files = {
      vmlinuz: describe(join(stage, 'vmlinuz')),
      'initrd.img': describe(join(stage, 'initrd.img')),
      'node.img': describe(join(stage, 'node.img')),
    };
    writeFileSync(join(stage, 'node.img.sha256'), `${files['node.img'].sha256}  node.img\n`);
    files['node.img.sha256'] = describe(join(stage, 'node.img.sha256'));
    const info = {
      inputsKey: key,
      aptLists: listsStamp,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 100) / 10,
      kernel: { package: kernel.package, version: kernel.version, release },
      packages: versions,
      modules: modules.map((m) => ({ name: m.name, from: m.from, bytes: m.data.length })),
      nodeImage: {
        ...layout,
        runtimeInitrd: describe(runtimeInitrd),
        kernelCommandLine: /APPEND\s+(.*)/.exec(readFileSync(join(PROFILE_DIR, 'syslinux.cfg'), 'utf8'))?.[1]?.trim(),
        configArea: { where: 'last 1 MiB of the disk the image is written to', bytes: 1024 * 1024, magic: '# rackforge-node-config v1' },
      },
      files,
    };
    writeFileSync(join(stage, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
    mkdirSync(OUT_DIR, { recursive: true });
    // build-info.json last: it is the stamp that says the other files belong together.
    for (const f of OUTPUTS) renameSync(join(stage, f), join(OUT_DIR, f));
    return info;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Builds build/node/ unless it is up to date with its inputs. Returns { built, info }; throws an
 * Error naming what is missing (a Debian package with its apt-get command, the archive) on failure.
 */
export function buildNodeImage({ quiet = false, force = false } = {}) {
  // Quiet still says when it builds and what it built: a first build takes a while and downloads.
  const log = (msg) => { if (!quiet) console.error(`build-node-image: ${msg}`); };
  const announce = (msg) => console.error(`build-node-image: ${msg}`);
  const versions = installedVersions(PACKAGES.map(([n]) => n));
  for (const f of [BUSYBOX, MBR_BIN]) if (!existsSync(f)) throw new BuildError(`build-node-image: ${f} is missing; run (as root): apt-get install --reinstall -y busybox-static syslinux-common`);
  const listsStamp = aptListsStamp();
  const kernel = resolveKernel(listsStamp);
  const key = inputsKey(versions, kernel);
  if (!force && isUpToDate(key)) {
    log(`up to date (${OUT_DIR})`);
    return { built: false, info: readInfo() };
  }
  return withLock(() => {
    if (!force && isUpToDate(key)) return { built: false, info: readInfo() }; // another process built it while we waited
    announce(`building ${OUT_DIR} from ${kernel.package} ${kernel.version}`);
    const info = build(versions, kernel, key, listsStamp, log);
    announce(`built ${OUT_DIR} in ${info.buildSeconds} s: node.img ${info.files['node.img'].bytes} bytes, initrd.img ${info.files['initrd.img'].bytes} bytes`);
    return { built: true, info };
  });
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  try {
    buildNodeImage({ quiet: process.argv.includes('--quiet'), force: process.argv.includes('--force') });
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
