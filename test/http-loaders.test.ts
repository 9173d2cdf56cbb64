// Boot loaders over HTTP (/boot/<name>) for UEFI HTTP-boot clients, fetched with curl.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startTestServer, type TestServer } from './helpers/provisioner.ts';
import { requireTools } from './helpers/tools.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// Asynchronous: the server runs in this process and must keep answering while curl waits.
const curl = async (...args: string[]): Promise<Buffer> =>
  (await promisify(execFile)('curl', ['-s', '--max-time', '10', ...args], { maxBuffer: 64 << 20, encoding: 'buffer' })).stdout;

describe('HTTP boot loaders', () => {
  let s: TestServer;
  before(async () => { requireTools(['curl']); s = await startTestServer({ memory: true }); });
  after(async () => { await s.stop(); });

  it('serves ipxe.efi from Debian\'s package, whole and by range, and records the fetch', async () => {
    const real = readFileSync('/usr/lib/ipxe/ipxe.efi');
    assert.equal(sha(await curl(`${s.url}/boot/ipxe.efi`)), sha(real));
    assert.deepEqual(await curl('-r', '100-199', `${s.url}/boot/ipxe.efi`), real.subarray(100, 200));
    const head = (await curl('-I', `${s.url}/boot/ipxe.efi`)).toString();
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /accept-ranges: bytes/i);
    assert.match(head, new RegExp(`content-length: ${real.length}`, 'i'));
    assert.ok(s.inventory.store.listBootEvents({}).some((e) => e.kind === 'http-file' && e.detail.startsWith('/boot/ipxe.efi')));
  });

  it('serves only known loader names: traversal and unknown names are 404', async () => {
    for (const path of ['/boot/../../etc/passwd', '/boot/%2e%2e/%2e%2e/etc/passwd', '/boot/ldlinux.c32/../../../../etc/passwd', '/boot/nope.efi', '/boot/']) {
      const code = (await curl('-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${s.url}${path}`)).toString();
      assert.equal(code, '404', path);
    }
  });
});
