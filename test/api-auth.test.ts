// Authentication and secrets at the API: writes need a live token, tokens slide and expire,
// reads stay open unless the setting closes them, secrets only reach token holders.
import assert from 'node:assert/strict';
import { ManualClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from '../cli/compose-provisioner.ts';
import { rpc, seedProfile } from './helpers/provisioner.ts';

const fault = (re: RegExp) => (e: any) => { assert.equal(e.fault?.faultCode, 1); assert.match(e.fault.faultString, re); return true; };

describe('API authentication and secrets', function () {
  this.timeout(30_000);
  let srv: RunningProvisioner;
  const clock = new ManualClock(1_800_000_000.25);

  before(async () => {
    srv = await startProvisioner({ httpPort: 0, adminPassword: 'pw', log: silentLogger, clock });
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'pw') as string;
    await seedProfile(srv.apiUrl, token, 'p1');
    const h = await rpc(srv.apiUrl, 'new_system', token) as string;
    await rpc(srv.apiUrl, 'modify_system', h, 'name', 'bmc1', token);
    await rpc(srv.apiUrl, 'modify_system', h, 'profile', 'p1', token);
    await rpc(srv.apiUrl, 'modify_system', h, 'power_type', 'ipmilanplus', token);
    await rpc(srv.apiUrl, 'modify_system', h, 'power_user', 'admin', token);
    await rpc(srv.apiUrl, 'modify_system', h, 'power_pass', 'hunter2', token);
    await rpc(srv.apiUrl, 'save_system', h, token);
  });
  after(async () => srv?.close());

  it('refuses wrong passwords and unknown users with the same fault', async () => {
    await assert.rejects(rpc(srv.apiUrl, 'login', 'cobbler', 'nope'), fault(/login failed \(cobbler\)/));
    await assert.rejects(rpc(srv.apiUrl, 'login', 'mallory', 'pw'), fault(/login failed \(mallory\)/));
    // No shared secret without a data directory: login("", anything) never succeeds.
    await assert.rejects(rpc(srv.apiUrl, 'login', '', ''), fault(/login failed/));
    await assert.rejects(rpc(srv.apiUrl, 'login', '', -1), fault(/login failed/));
  });

  it('masks power_pass unless the caller holds a live token', async () => {
    const open = await rpc(srv.apiUrl, 'get_system', 'bmc1') as Record<string, unknown>;
    assert.equal(open.power_pass, '');
    assert.equal(open.power_user, 'admin');
    const all = await rpc(srv.apiUrl, 'get_systems') as Array<Record<string, unknown>>;
    assert.equal(all[0]!.power_pass, '');
    const rendered = await rpc(srv.apiUrl, 'get_system_as_rendered', 'bmc1') as Record<string, unknown>;
    assert.equal(rendered.power_pass, '');
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'pw') as string;
    const full = await rpc(srv.apiUrl, 'get_system', 'bmc1', false, false, token) as Record<string, unknown>;
    assert.equal(full.power_pass, 'hunter2');
    // Ansible's find_system({"name": n}, token): the token sits in `expand`, and still counts.
    const found = await rpc(srv.apiUrl, 'find_system', { name: 'bmc1' }, token) as Array<Record<string, unknown>>;
    assert.equal(found[0]!.power_pass, 'hunter2');
  });

  it('slides tokens: an hour after the last use they expire, each use renews them', async () => {
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'pw') as string;
    assert.equal(token.length, 36);
    clock.advance(3000);
    assert.equal(await rpc(srv.apiUrl, 'token_check', token), true);
    clock.advance(3000); // 6000 s after login, 3000 s after last use
    assert.equal(typeof await rpc(srv.apiUrl, 'new_system', token), 'string');
    clock.advance(3601);
    assert.equal(await rpc(srv.apiUrl, 'token_check', token), false);
    await assert.rejects(rpc(srv.apiUrl, 'new_system', token), fault(/invalid token/));
  });

  it('logout revokes the token', async () => {
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'pw') as string;
    assert.equal(await rpc(srv.apiUrl, 'logout', token), true);
    await assert.rejects(rpc(srv.apiUrl, 'remove_system', 'bmc1', token), fault(/invalid token/));
    assert.equal(await rpc(srv.apiUrl, 'has_item', 'system', 'bmc1'), true);
  });

  it('new-object handles expire after ten minutes without use', async () => {
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'pw') as string;
    const h = await rpc(srv.apiUrl, 'new_distro', token) as string;
    assert.match(h, /^___NEW___distro::/);
    clock.advance(601);
    await assert.rejects(rpc(srv.apiUrl, 'modify_distro', h, 'name', 'late', token), fault(/invalid or expired object handle/));
  });
});

describe('API with reads closed by setting', function () {
  this.timeout(30_000);
  let srv: RunningProvisioner;
  before(async () => {
    srv = await startProvisioner({ httpPort: 0, adminPassword: 'pw', log: silentLogger, settings: { auth_required_for_reads: true } });
  });
  after(async () => srv?.close());

  it('refuses reads without a token and answers them with one', async () => {
    await assert.rejects(rpc(srv.apiUrl, 'get_systems'), fault(/invalid token/));
    await assert.rejects(rpc(srv.apiUrl, 'get_settings'), fault(/invalid token/));
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', 'pw') as string;
    assert.deepEqual(await rpc(srv.apiUrl, 'get_systems', token), []);
    // version, ping and login stay open so clients can negotiate and log in.
    assert.equal(await rpc(srv.apiUrl, 'ping'), true);
    assert.equal(await rpc(srv.apiUrl, 'version'), 3.307);
  });
});
