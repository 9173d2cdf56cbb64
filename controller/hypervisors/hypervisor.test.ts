import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRackforgeError } from '../../lib/errors.ts';
import { isoTime, parseRegistration, selectState, viewOf } from './hypervisor.ts';
import { makeRecord } from './registry-store-contract.ts';

const TOKEN = '0123456789abcdef0123456789abcdef';
const valid = (): Record<string, unknown> => ({
  system: 'node1', hostname: 'node1', macs: ['52:54:00:AA:00:01', '52-54-00-aa-00-02'], token: TOKEN,
  cpus: 4, memory_mb: 8192, disks: [{ name: 'vda', size_bytes: 21474836480 }],
});

describe('parseRegistration', () => {
  it('accepts a valid body, lower-casing MACs (colon form) and the hostname', () => {
    assert.deepEqual(parseRegistration({ ...valid(), hostname: 'Node1' }), {
      system: 'node1', hostname: 'node1', macs: ['52:54:00:aa:00:01', '52:54:00:aa:00:02'], token: TOKEN,
      cpus: 4, memory_mb: 8192, disks: [{ name: 'vda', size_bytes: 21474836480 }],
    });
  });

  it('accepts the limits themselves', () => {
    const macs = Array.from({ length: 16 }, (_, i) => `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`);
    const disks = Array.from({ length: 64 }, (_, i) => ({ name: `d${i}`, size_bytes: i === 0 ? 0 : Number.MAX_SAFE_INTEGER }));
    for (const over of [
      { cpus: 1 }, { cpus: 1024 }, { memory_mb: 1 }, { memory_mb: 2 ** 24 }, { macs }, { disks }, { disks: [] },
      { hostname: 'a'.repeat(63) }, { hostname: 'a' }, { hostname: 'x-1' }, { system: 'web-01.lab_a' },
    ]) {
      assert.doesNotThrow(() => parseRegistration({ ...valid(), ...over }), JSON.stringify(over).slice(0, 80));
    }
  });

  const macs17 = Array.from({ length: 17 }, (_, i) => `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`);
  const disks65 = Array.from({ length: 65 }, (_, i) => ({ name: `d${i}`, size_bytes: 1 }));
  const table: Array<[string, unknown, string]> = [
    ['not an object', [1, 2], 'body'],
    ['null', null, 'body'],
    ['a string', 'x', 'body'],
    ['unknown field', { ...valid(), rack: 'r9' }, 'rack'],
    ['__proto__ key', JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(valid()).slice(1)}`), '__proto__'],
    ['missing system', { ...valid(), system: undefined }, 'system'],
    ['missing token', (() => { const v = valid(); delete v['token']; return v; })(), 'token'],
    ['system with a slash', { ...valid(), system: 'a/b' }, 'system'],
    ['system empty', { ...valid(), system: '' }, 'system'],
    ['system a number', { ...valid(), system: 7 }, 'system'],
    ['hostname with a dot', { ...valid(), hostname: 'node1.lab' }, 'hostname'],
    ['hostname of 64', { ...valid(), hostname: 'a'.repeat(64) }, 'hostname'],
    ['hostname ending in -', { ...valid(), hostname: 'node-' }, 'hostname'],
    ['token upper-case', { ...valid(), token: TOKEN.toUpperCase() }, 'token'],
    ['token short', { ...valid(), token: TOKEN.slice(1) }, 'token'],
    ['cpus 0', { ...valid(), cpus: 0 }, 'cpus'],
    ['cpus 1025', { ...valid(), cpus: 1025 }, 'cpus'],
    ['cpus 1.5', { ...valid(), cpus: 1.5 }, 'cpus'],
    ['cpus "4"', { ...valid(), cpus: '4' }, 'cpus'],
    ['memory_mb 0', { ...valid(), memory_mb: 0 }, 'memory_mb'],
    ['memory_mb 2^24+1', { ...valid(), memory_mb: 2 ** 24 + 1 }, 'memory_mb'],
    ['memory_mb negative', { ...valid(), memory_mb: -1 }, 'memory_mb'],
    ['macs not an array', { ...valid(), macs: '52:54:00:aa:00:01' }, 'macs'],
    ['macs empty', { ...valid(), macs: [] }, 'macs'],
    ['macs 17', { ...valid(), macs: macs17 }, 'macs'],
    ['a bad MAC', { ...valid(), macs: ['52:54:00:aa:00:01', '52:54:00:aa:00'] }, 'macs[1]'],
    ['a MAC that is a number', { ...valid(), macs: [5] }, 'macs[0]'],
    ['a repeated MAC', { ...valid(), macs: ['52:54:00:aa:00:01', '52-54-00-AA-00-01'] }, 'macs[1]'],
    ['disks not an array', { ...valid(), disks: {} }, 'disks'],
    ['disks 65', { ...valid(), disks: disks65 }, 'disks'],
    ['a disk not an object', { ...valid(), disks: ['vda'] }, 'disks[0]'],
    ['a disk with an unknown field', { ...valid(), disks: [{ name: 'vda', size_bytes: 1, model: 'x' }] }, 'disks[0].model'],
    ['a disk without size', { ...valid(), disks: [{ name: 'vda' }] }, 'disks[0].size_bytes'],
    ['a disk of negative size', { ...valid(), disks: [{ name: 'vda', size_bytes: -1 }] }, 'disks[0].size_bytes'],
    ['a disk of fractional size', { ...valid(), disks: [{ name: 'vda', size_bytes: 0.5 }] }, 'disks[0].size_bytes'],
    ['a disk beyond 2^53', { ...valid(), disks: [{ name: 'vda', size_bytes: 2 ** 53 }] }, 'disks[0].size_bytes'],
    ['a disk name with a slash', { ...valid(), disks: [{ name: '/dev/vda', size_bytes: 1 }] }, 'disks[0].name'],
    ['a repeated disk name', { ...valid(), disks: [{ name: 'vda', size_bytes: 1 }, { name: 'vda', size_bytes: 2 }] }, 'disks[1].name'],
  ];
  for (const [label, body, field] of table) {
    it(`refuses ${label}: CONTROLLER_BAD_REQUEST naming ${field}`, () => {
      assert.throws(() => parseRegistration(body), (e: unknown) => {
        assert.ok(isRackforgeError(e, 'CONTROLLER_BAD_REQUEST'), String(e));
        assert.equal(e.details['field'], field);
        assert.ok(e.message.startsWith(`${field}: `), e.message);
        return true;
      });
    });
  }

  it('answers any JSON value with a request or CONTROLLER_BAD_REQUEST, nothing else', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.record({
      system: fc.string(), hostname: fc.string(), macs: fc.array(fc.string()), token: fc.string(),
      cpus: fc.integer(), memory_mb: fc.double(), disks: fc.array(fc.jsonValue()),
    })), (v) => {
      try {
        parseRegistration(v);
      } catch (e) {
        if (!isRackforgeError(e, 'CONTROLLER_BAD_REQUEST')) throw e;
      }
    }), { numRuns: 2000 });
  });
});

describe('selectState', () => {
  const at = (iso: string) => ({ last_heartbeat: iso });
  const t0 = Date.parse('2023-11-14T22:13:20.000Z') / 1000;
  const table: Array<[number, 'registered' | 'down']> = [[0, 'registered'], [14.999, 'registered'], [15, 'registered'], [15.001, 'down'], [3600, 'down'], [-5, 'registered']];
  for (const [age, want] of table) {
    it(`a heartbeat ${age} s old with a 15 s limit is ${want}`, () => {
      assert.equal(selectState(at('2023-11-14T22:13:20.000Z'), t0 + age, 15), want);
    });
  }
  it('an unreadable time is down', () => {
    assert.equal(selectState(at('yesterday'), t0, 15), 'down');
  });
});

describe('viewOf and isoTime', () => {
  it('shows the first MAC as mac and never the credential hash', () => {
    const v = viewOf(makeRecord('node1'), 'down');
    assert.equal(v.mac, '52:54:00:00:00:01');
    assert.equal(v.state, 'down');
    assert.equal('credential_hash' in v, false);
    assert.deepEqual(Object.keys(v), ['name', 'hostname', 'mac', 'macs', 'state', 'cpus', 'memory_mb', 'disks', 'rack', 'datacentre', 'registered_at', 'last_heartbeat']);
  });
  it('isoTime keeps milliseconds', () => {
    assert.equal(isoTime(1_700_000_000.25), '2023-11-14T22:13:20.250Z');
  });
});
