import assert from 'node:assert/strict';
import { editDistance, nearestName } from './nearest-name.ts';
import { formatBytes, formatRate, formatSeconds } from './summary-text.ts';

describe('nearest-name', () => {
  it('edit distance', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('pxelinux.0', 'pxelinux.0'), 0);
    assert.equal(editDistance('pxelinux.0', 'lpxelinux.0'), 1);
    assert.equal(editDistance('pxelinux.O', 'pxelinux.0'), 1);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('the closest other name, leading slashes ignored, ties by name', () => {
    assert.deepEqual(nearestName('bios/pxelinux.0', ['pxelinux.0', 'grub/grubx64.efi']), { name: 'pxelinux.0', distance: 5 });
    assert.deepEqual(nearestName('/pxelinux.0', ['pxelinux.0', 'lpxelinux.0']), { name: 'lpxelinux.0', distance: 1 });
    assert.deepEqual(nearestName('pxelinux.cfg/01-aa', ['pxelinux.cfg/01-ab', 'pxelinux.cfg/01-ac']), { name: 'pxelinux.cfg/01-ab', distance: 1 });
    assert.equal(nearestName('x', []), undefined);
    assert.equal(nearestName('x', ['x', '/x']), undefined);
  });
});

describe('summary-text', () => {
  it('bytes, seconds, rates', () => {
    assert.deepEqual([0, 999, 1000, 42_400, 8_300_000, 123_456_789, 2e12].map(formatBytes), ['0 B', '999 B', '1.0 kB', '42.4 kB', '8.3 MB', '123 MB', '2.0 TB']);
    assert.deepEqual([0.0521, 3.44, 125.4].map(formatSeconds), ['0.052 s', '3.4 s', '125 s']);
    assert.equal(formatRate(1_234_567), '1.2 MB/s');
  });
});
