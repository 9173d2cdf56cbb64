// QemuNode against the real qemu-system-x86_64 (TCG): a machine QEMU pauses by itself is a
// crash, reported with why, and the machine can be powered on again.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../lib/log.ts';
import { labPaths } from './lab-paths.ts';
import type { LabNode } from './lab-definition.ts';
import { QemuNode, type QemuNodeStatus } from './qemu-node.ts';

/** A boot sector: `mov dx,0x505; mov al,1; out dx,al` (pvpanic: "panicked"), then hlt for ever. */
function panicSector(): Buffer {
  const s = Buffer.alloc(512);
  Buffer.from([0xba, 0x05, 0x05, 0xb0, 0x01, 0xee, 0xf4, 0xeb, 0xfd]).copy(s);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

describe('QemuNode with QEMU', function () {
  this.timeout(60_000);
  let dir: string;
  let node: QemuNode | undefined;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rf-qnode-')); });
  afterEach(async () => {
    await node?.destroy();
    node = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a guest that panics is reported as crashed with the cause, and powers on again', async () => {
    const def: LabNode = {
      name: 'p1', firmware: 'bios', cpus: 1, memoryMiB: 32, disks: [{ name: 'disk0', sizeBytes: 1 << 20 }], nics: [],
      boot: ['disk'], power: { control: 'qmp', initial: 'on' }, line: 1,
    };
    const paths = labPaths(dir).node('p1');
    const changes: string[] = [];
    node = new QemuNode({
      node: def, networks: () => [], paths, host: { accel: 'tcg', ovmfCode: '/usr/share/OVMF/OVMF_CODE.fd' },
      ovmfVarsTemplate: '/usr/share/OVMF/OVMF_VARS.fd', log: createLogger({ level: 'error' }), onChange: (s) => changes.push(s.power),
    });
    // The node's disk, made before power on: the runner keeps an existing disk's content.
    mkdirSync(paths.dir, { recursive: true });
    writeFileSync(paths.disk('disk0'), panicSector());
    for (let round = 1; round <= 2; round++) {
      await node.power('on');
      const until = Date.now() + 30_000;
      while (node.status().power !== 'crashed' && Date.now() < until) await sleep(100);
      const st: QemuNodeStatus = node.status();
      assert.equal(st.power, 'crashed', `round ${round}: ${JSON.stringify(st)}`);
      assert.equal(st.lastExit?.reason, 'crash');
      assert.equal(st.lastExit?.cause, 'the guest panicked (pvpanic)');
      assert.equal(st.pid, undefined, 'the paused QEMU was ended, not left running');
    }
    assert.deepEqual(changes, ['starting', 'on', 'crashed', 'starting', 'on', 'crashed']);
  });
});
