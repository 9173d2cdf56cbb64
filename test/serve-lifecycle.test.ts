// `npx rackforge serve` stopped the way a script stops it (SIGTERM to npx): npm exec does not
// pass the signal on, so the server notices its parent is gone and shuts down, freeing the port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { REPO_ROOT, cleanEnv } from './helpers/cli-processes.ts';

const portOpen = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

describe('serve under npx', function () {
  this.timeout(60_000);
  it('shuts down when npx is terminated', async () => {
    const npx = spawn('npx', ['rackforge', 'serve', '--memory', '--http-port', '0'], { cwd: REPO_ROOT, env: cleanEnv({ RACKFORGE_ADMIN_PASSWORD: 'pw' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 40_000);
      npx.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) { clearTimeout(t); resolve(Number(m[1])); }
      });
    });
    assert.equal(await portOpen(port), true);
    npx.kill('SIGTERM');
    let open = true;
    for (let i = 0; i < 24 && open; i++) { await new Promise((r) => setTimeout(r, 250)); open = await portOpen(port); }
    assert.equal(open, false, 'the server still listens after npx was terminated');
    } finally {
      // Whatever is left of npx's process group (a server that outlived it included) goes now.
      try { process.kill(-npx.pid!, 'SIGKILL'); } catch { /* already gone */ }
      npx.stdout!.destroy(); npx.stderr!.destroy();
    }
  });
});
