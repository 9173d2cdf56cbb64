// The HTTP around the API: Cobbler's own XML-RPC port (/, /RPC2), CORS as Cobbler sends it.
import assert from 'node:assert/strict';
import { silentLogger } from '../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from '../cli/compose-provisioner.ts';
import { rpc } from './helpers/provisioner.ts';

describe('HTTP surface', function () {
  this.timeout(20_000);
  let srv: RunningProvisioner;
  before(async () => { srv = await startProvisioner({ httpPort: 0, xmlrpcPort: 0, adminPassword: 'pw', log: silentLogger }); });
  after(async () => srv?.close());

  it('answers on the extra XML-RPC port at / and /RPC2, sharing sessions with /cobbler_api', async () => {
    assert.ok(srv.xmlrpcUrl);
    assert.notEqual(srv.xmlrpcUrl, srv.url);
    const token = await rpc(`${srv.xmlrpcUrl}/`, 'login', 'cobbler', 'pw') as string;
    assert.equal(await rpc(`${srv.xmlrpcUrl}/RPC2`, 'token_check', token), true);
    assert.equal(await rpc(srv.apiUrl, 'token_check', token), true);
  });

  it('sends CORS headers like Cobbler and answers OPTIONS with 200', async () => {
    const pre = await fetch(srv.apiUrl, { method: 'OPTIONS' });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Content-Type/);
    const res = await fetch(srv.apiUrl, { method: 'POST', body: "<?xml version='1.0'?><methodCall><methodName>ping</methodName><params></params></methodCall>" });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('content-type') ?? '', /text\/xml/);
    assert.match(await res.text(), /<boolean>1<\/boolean>/);
  });
});
