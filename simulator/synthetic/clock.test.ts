import assert from 'node:assert/strict';
import { Deadline, VirtualClock } from './clock.ts';

describe('synthetic clock', () => {
  it('runs virtual timers in due order, same-time ones in creation order, skipping cancelled ones', () => {
    const c = new VirtualClock(0);
    const seen: string[] = [];
    c.setTimer(30, () => seen.push('c'));
    c.setTimer(10, () => seen.push('a'));
    const cancel = c.setTimer(20, () => seen.push('x'));
    c.setTimer(10, () => { seen.push('b'); c.setTimer(0, () => seen.push('b2')); });
    cancel();
    while (c.step()) { /* drain */ }
    assert.deepEqual(seen, ['a', 'b', 'b2', 'c']);
    assert.equal(c.now(), 30);
  });

  it('run() stops when the condition holds or time runs out', async () => {
    const c = new VirtualClock(0);
    let n = 0;
    const tick = (): void => { n++; c.setTimer(100, tick); };
    c.setTimer(100, tick);
    assert.equal(await c.run(() => n === 5), true);
    assert.equal(c.now(), 500);
    assert.equal(await c.run(() => false, 1000), false);
    assert.equal(c.now(), 1500);
  });

  it('a Deadline fires once at its latest arming and not after cancel', () => {
    const c = new VirtualClock(0);
    const fired: number[] = [];
    const d = new Deadline(c, () => fired.push(c.now()));
    d.arm(100);
    c.setTimer(50, () => d.arm(100));
    c.setTimer(120, () => d.arm(10));
    while (c.step()) { /* drain */ }
    assert.deepEqual(fired, [130]);
    d.arm(5);
    d.cancel();
    while (c.step()) { /* drain */ }
    assert.deepEqual(fired, [130]);
    assert.equal(d.armed, false);
  });
});
