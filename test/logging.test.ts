// Logs name the method and the outcome, never the arguments: passwords and tokens stay out.
import assert from 'node:assert/strict';
import { createLogger } from '../lib/log.ts';
import { startProvisioner } from '../cli/compose-provisioner.ts';
import { rpc } from './helpers/provisioner.ts';

describe('request logging', () => {
  it('logs calls at debug level without passwords or tokens', async () => {
    const lines: string[] = [];
    const srv = await startProvisioner({ httpPort: 0, adminPassword: 'S3cret-pw', log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) });
    try {
      const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'S3cret-pw') as string;
      await assert.rejects(rpc(srv.apiUrl, 'login', 'cobbler', 'wrong-pw-123'));
      await rpc(srv.apiUrl, 'token_check', token);
      const all = lines.join('\n');
      assert.match(all, /xml-rpc call method="login"/);
      assert.match(all, /xml-rpc call method="token_check"/);
      assert.match(all, /login failed/);
      for (const secret of ['S3cret-pw', 'wrong-pw-123', token]) assert.ok(!all.includes(secret), `log leaks ${secret.slice(0, 3)}…`);
    } finally {
      await srv.close();
    }
  });
});
