// KVM only where it works: /dev/kvm existing is not enough, and neither is a guest that runs a
// few real-mode instructions. On nested hosts without unrestricted-guest support, SeaBIOS and a
// boot sector run under KVM, but iPXE's switches between real and protected mode stop QEMU
// with "KVM internal error ... emulation failure" seconds later, and the lab's machines then
// never boot. So the probe runs what the lab runs: SeaBIOS network-booting the e1000's iPXE
// ROM. KVM is used only when that iPXE sends its first frame (a DHCP or IPv6 request, captured
// with filter-dump). The probe's NIC sits alone on a QEMU-internal hub: the frame goes nowhere.
//
// The answer holds until the host reboots or QEMU changes, so it is kept in a small cache file
// (keyed by the kernel's boot id and QEMU's version) and a failing host costs its ~10 s once.
// A probe that only ran out of time is not kept: the next lab asks again.
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export type Accel = 'tcg' | 'kvm';

export interface ProbeOutcome {
  ok: boolean;
  why: string;
  /** False when the probe only ran out of time (a loaded host, say): not worth remembering. */
  conclusive: boolean;
}

/** pcap global header length: a capture longer than this holds a frame. */
const PCAP_HEADER_BYTES = 24;

/**
 * What the probe machine has shown so far: ok once it sent a frame; failed on a KVM error, on
 * exiting by itself, or at the deadline; undefined while it is still on its way.
 */
export function probeVerdict(seen: { framesBytes: number; stderr: string; exited: boolean; timedOut: boolean }): ProbeOutcome | undefined {
  if (seen.framesBytes > PCAP_HEADER_BYTES) return { ok: true, why: '', conclusive: true };
  const lines = seen.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const kvmError = lines.find((l) => /error|failure/i.test(l) && !/warning:/.test(l));
  if (kvmError) return { ok: false, why: kvmError, conclusive: true };
  if (seen.exited) return { ok: false, why: lines.find((l) => !/warning:/.test(l)) ?? 'the probe machine exited before its network boot sent anything', conclusive: true };
  if (seen.timedOut) return { ok: false, why: 'the probe machine\'s iPXE sent nothing in time', conclusive: false };
  return undefined;
}

export async function probeKvm(o: { timeoutMs?: number; cacheFile?: string } = {}): Promise<{ accel: Accel; reason: string }> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  }
  const key = await hostKey();
  const cached = o.cacheFile && key ? readCache(o.cacheFile, key) : undefined;
  if (cached) return { accel: cached.accel, reason: `${cached.reason} (probed ${cached.at})` };
  const r = await runsUnder('kvm', o.timeoutMs ?? 20_000);
  const answer = r.ok
    ? { accel: 'kvm' as const, reason: 'a probe machine network-booted iPXE under KVM' }
    : { accel: 'tcg' as const, reason: `KVM does not work here: ${r.why}` };
  if (o.cacheFile && key && r.conclusive) writeCache(o.cacheFile, { key, ...answer, at: new Date().toISOString() });
  return answer;
}

/** Network-boots the probe machine with the given accelerator; ok when its iPXE sends a frame. */
export async function runsUnder(accel: Accel, timeoutMs: number): Promise<ProbeOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'rf-accel-probe-'));
  try {
    const frames = join(dir, 'probe.pcap');
    const proc = execa('qemu-system-x86_64', [
      '-accel', accel, '-machine', 'pc', '-m', '64', '-nodefaults', '-no-user-config', '-display', 'none',
      '-netdev', 'hubport,id=probe0,hubid=0',
      '-device', 'e1000,netdev=probe0,bootindex=1',
      '-object', `filter-dump,id=dump0,netdev=probe0,file=${frames}`,
      '-boot', 'strict=on',
    ], { reject: false, stdin: 'ignore', stdout: 'ignore', buffer: false });
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => { if (stderr.length < 16_384) stderr += d; });
    let exited = false;
    void proc.then(() => { exited = true; });
    const until = Date.now() + timeoutMs;
    let verdict: ProbeOutcome | undefined;
    while (!verdict) {
      await new Promise((r) => setTimeout(r, 50));
      let framesBytes = 0;
      try { framesBytes = statSync(frames).size; } catch { /* not created yet */ }
      verdict = probeVerdict({ framesBytes, stderr, exited, timedOut: Date.now() >= until });
    }
    proc.kill('SIGKILL');
    await proc;
    return verdict;
  } catch (e) {
    return { ok: false, why: (e as Error).message, conclusive: false };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface CacheEntry { key: string; accel: Accel; reason: string; at: string }

/** This boot of this host with this QEMU; undefined when either cannot be read (no caching). */
async function hostKey(): Promise<string | undefined> {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const v = await execa('qemu-system-x86_64', ['--version'], { reject: false, timeout: 10_000 });
    const version = String(v.stdout ?? '').split('\n')[0]?.trim();
    return boot && version ? `${boot} ${version}` : undefined;
  } catch {
    return undefined;
  }
}

function readCache(file: string, key: string): CacheEntry | undefined {
  try {
    const e = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheEntry>;
    if (e.key !== key || (e.accel !== 'kvm' && e.accel !== 'tcg') || typeof e.reason !== 'string' || typeof e.at !== 'string') return undefined;
    return e as CacheEntry;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, e: CacheEntry): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(e)}\n`);
    renameSync(tmp, file);
  } catch { /* a cache that cannot be written only costs the next probe */ }
}
