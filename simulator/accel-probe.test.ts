import assert from 'node:assert/strict';
import { probeBootSector, runsUnder } from './accel-probe.ts';

describe('accelerator probe', function () {
  this.timeout(20_000);
  it('the probe sector is a bootable sector', () => {
    const s = probeBootSector();
    assert.equal(s.length, 512);
    assert.deepEqual([s[510], s[511]], [0x55, 0xaa]);
  });
  it('the probe machine prints its byte under TCG (so a silent KVM run really means KVM failed)', async () => {
    const r = await runsUnder('tcg', 10_000);
    assert.deepEqual(r, { ok: true, why: '' });
  });
});
