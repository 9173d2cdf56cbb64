import assert from 'node:assert/strict';
import { probeVerdict, runsUnder } from './accel-probe.ts';

describe('accelerator probe', function () {
  this.timeout(40_000);
  const base = { framesBytes: 0, stderr: '', exited: false, timedOut: false };
  it('a captured frame is success; a KVM error, an early exit or the deadline is failure; otherwise it waits', () => {
    assert.equal(probeVerdict(base), undefined);
    assert.equal(probeVerdict({ ...base, framesBytes: 24 }), undefined, 'the pcap header alone is no frame');
    assert.deepEqual(probeVerdict({ ...base, framesBytes: 90 }), { ok: true, why: '', conclusive: true });
    const kvm = 'qemu-system-x86_64: warning: host doesn\'t support requested feature: CPUID.01H:ECX.pni [bit 0]\nKVM internal error. Suberror: 1\nextra data[0]: 0x1\n';
    assert.deepEqual(probeVerdict({ ...base, stderr: kvm }), { ok: false, why: 'KVM internal error. Suberror: 1', conclusive: true });
    assert.deepEqual(probeVerdict({ ...base, stderr: 'qemu-system-x86_64: warning: hub 0 is not connected to host network\n' }), undefined, 'warnings are not failures');
    assert.deepEqual(probeVerdict({ ...base, exited: true, stderr: 'qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: Permission denied\n' }),
      { ok: false, why: 'qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: Permission denied', conclusive: true });
    assert.equal(probeVerdict({ ...base, exited: true })?.ok, false);
    assert.deepEqual(probeVerdict({ ...base, timedOut: true }), { ok: false, why: 'the probe machine\'s iPXE sent nothing in time', conclusive: false }, 'a timeout is not remembered');
  });
  it('under TCG the probe machine\'s iPXE sends a frame (so a silent KVM run really means KVM failed)', async () => {
    const r = await runsUnder('tcg', 30_000);
    assert.deepEqual(r, { ok: true, why: '', conclusive: true });
  });
});
