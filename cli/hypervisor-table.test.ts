import assert from 'node:assert/strict';
import { controllerBaseUrl } from './controller-client.ts';
import { renderBytes, renderHypervisorTable } from './hypervisor-table.ts';

describe('controllerBaseUrl', () => {
  const table: Array<[string, string]> = [
    ['http://127.0.0.1:5080/cobbler_api', 'http://127.0.0.1:5080/api/v1'],
    ['http://h:5080/cobbler_api/', 'http://h:5080/api/v1'],
    ['https://h/prov/cobbler_api', 'https://h/prov/api/v1'],
    ['http://h:25151/RPC2', 'http://h:25151/api/v1'],
    ['http://h:25151/', 'http://h:25151/api/v1'],
    ['http://[::1]:5080/cobbler_api?x=1#y', 'http://[::1]:5080/api/v1'],
  ];
  for (const [from, to] of table) it(`${from} → ${to}`, () => assert.equal(controllerBaseUrl(from), to));
});

describe('renderBytes', () => {
  const table: Array<[number, string]> = [
    [0, '0B'], [1023, '1023B'], [1024, '1KiB'], [1536, '1.5KiB'], [20 * 2 ** 30, '20GiB'], [2 ** 24 * 2 ** 20, '16TiB'],
    [1.25 * 2 ** 30, '1.3GiB'], [-1, '?'], [NaN, '?'],
  ];
  for (const [n, want] of table) it(`${n} → ${want}`, () => assert.equal(renderBytes(n), want));
});

describe('renderHypervisorTable', () => {
  it('aligns columns, shows - for missing values and ? for control characters', () => {
    const lines = renderHypervisorTable([
      { name: 'n1', state: 'registered', cpus: 4, memory_mb: 4096, disks: [{ name: 'vda', size_bytes: 2 ** 30 }], rack: 'r\u001b[31m', datacentre: null, mac: 'aa:bb:cc:dd:ee:ff', last_heartbeat: 'T' },
      { name: 'node-long-name', state: 'down', cpus: 1, memory_mb: 512, disks: [], rack: 'r2', datacentre: 'dc', mac: '00:00:00:00:00:01', last_heartbeat: 'T2' },
    ]);
    assert.deepEqual(lines, [
      'NAME            STATE       CPUS  MEMORY  DISKS  RACK    DATACENTRE  MAC                LAST-HEARTBEAT',
      'n1              registered  4     4GiB    1GiB   r?[31m  -           aa:bb:cc:dd:ee:ff  T',
      'node-long-name  down        1     512MiB  -      r2      dc          00:00:00:00:00:01  T2',
    ]);
  });
});
