// KVM only where it works: /dev/kvm existing is not enough (on some hosts QEMU opens it and
// then stops with "KVM internal error" at the first instruction). The probe boots a 512-byte
// boot sector under KVM that writes one byte to the serial port; KVM is used only if the byte
// arrives. Anything else means TCG.
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export type Accel = 'tcg' | 'kvm';

/** mov dx,0x3f8; mov al,'K'; out dx,al; hlt; jmp $-1 — then the 0x55AA boot signature. */
export function probeBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  Buffer.from([0xba, 0xf8, 0x03, 0xb0, 0x4b, 0xee, 0xf4, 0xeb, 0xfd]).copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export async function probeKvm(o: { timeoutMs?: number } = {}): Promise<{ accel: Accel; reason: string }> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  }
  const r = await runsUnder('kvm', o.timeoutMs ?? 3000);
  return r.ok ? { accel: 'kvm', reason: 'a probe machine ran under KVM' } : { accel: 'tcg', reason: `KVM does not work here: ${r.why}` };
}

/** Boots the probe sector with the given accelerator; ok when its byte reaches the serial port. */
export async function runsUnder(accel: Accel, timeoutMs: number): Promise<{ ok: boolean; why: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rf-accel-probe-'));
  try {
    const disk = join(dir, 'probe.img');
    const out = join(dir, 'serial.out');
    writeFileSync(disk, probeBootSector());
    // The machine halts after its byte and never exits: watch the serial file, then kill it.
    const proc = execa('qemu-system-x86_64', [
      '-accel', accel, '-machine', 'pc', '-m', '16', '-nodefaults', '-no-user-config', '-display', 'none',
      '-drive', `file=${disk},format=raw,if=ide`, '-serial', `file:${out}`, '-nic', 'none',
    ], { reject: false, stdin: 'ignore' });
    let ended = false;
    void proc.then(() => { ended = true; });
    const until = Date.now() + timeoutMs;
    let seen = false;
    while (!seen && !ended && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      try { seen = readFileSync(out, 'latin1').includes('K'); } catch { /* not created yet */ }
    }
    const exitedByItself = ended;
    proc.kill('SIGKILL');
    const r = await proc;
    if (seen) return { ok: true, why: '' };
    const lines = String(r.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return { ok: false, why: lines.find((l) => /error/i.test(l)) ?? (exitedByItself ? lines[0] ?? 'the probe machine exited silently' : 'the probe machine printed nothing in time') };
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
