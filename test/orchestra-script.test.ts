// The Ubuntu Orchestra walkthrough's automation script, run unchanged (apart from the URL)
// by Debian's python3 against a server this test starts.
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, rpc, runPython, seedProfile, startTestServer, type TestServer } from './helpers/provisioner.ts';

const SCRIPT = `
import xmlrpc.client
server = xmlrpc.client.Server(URL)
token = server.login("cobbler","${ADMIN_PASSWORD}")
system_id = server.new_system(token)
server.modify_system(system_id, "name","new-machine",token)
server.modify_system(system_id, "hostname","new-machine.example.com",token)
server.modify_system(system_id, "modify_interface", {
    "macaddress-eth0" : "10:20:30:40:50:60",
    "ipaddress-eth0" : "192.168.16.20",
    "dnsname-eth0" : "new-machine.example.com",
}, token)
server.modify_system(system_id,"profile","lucid-i386-juju",token)
server.save_system(system_id, token)
server.sync(token)
print("ok")
`;

describe('Orchestra walkthrough script (python3 xmlrpc.client)', function () {
  this.timeout(60_000);
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    const token = await rpc(srv.apiUrl, 'login', 'cobbler', ADMIN_PASSWORD) as string;
    await seedProfile(srv.apiUrl, token);
  });
  after(async () => srv?.stop());

  it('runs unchanged and leaves the system as described', async () => {
    assert.equal((await runPython(srv.apiUrl, SCRIPT)).trim(), 'ok');
    const sys = await rpc(srv.apiUrl, 'get_system', 'new-machine') as Record<string, any>;
    assert.equal(sys.name, 'new-machine');
    assert.equal(sys.hostname, 'new-machine.example.com');
    assert.equal(sys.profile, 'lucid-i386-juju');
    assert.equal(sys.interfaces.eth0.mac_address, '10:20:30:40:50:60');
    assert.equal(sys.interfaces.eth0.ip_address, '192.168.16.20');
    assert.equal(sys.interfaces.eth0.dns_name, 'new-machine.example.com');
    assert.equal(sys.netboot_enabled, false);
    const found = await rpc(srv.apiUrl, 'find_system', { mac_address: '10:20:30:40:50:60' }) as string[];
    assert.deepEqual(found, ['new-machine']);
  });

  it('refuses the same script a second time: name, MAC, IP and hostname are taken', async () => {
    await assert.rejects(runPython(srv.apiUrl, SCRIPT), /already exists|already/);
    assert.deepEqual(await rpc(srv.apiUrl, 'get_item_names', 'system'), ['new-machine']);
  });

  it('survives a restart of the server (the store is on disk)', async () => {
    const { startProvisioner } = await import('../cli/compose-provisioner.ts');
    const { silentLogger } = await import('../lib/log.ts');
    await srv.close();
    const again = await startProvisioner({ dataDir: srv.dataDir, httpPort: 0, log: silentLogger });
    try {
      // Every stored record can be encoded ahead of the first listing (distro, profile, system).
      assert.equal(await again.dispatcher.warm(new AbortController().signal), 3);
      const sys = await rpc(again.apiUrl, 'get_system', 'new-machine') as Record<string, any>;
      assert.equal(sys.interfaces.eth0.mac_address, '10:20:30:40:50:60');
      // The admin password set on first start still works; no new password was generated.
      assert.equal(again.generatedPassword, undefined);
      assert.equal((await rpc(again.apiUrl, 'login', 'cobbler', ADMIN_PASSWORD) as string).length, 36);
    } finally {
      await again.close();
    }
    srv.close = async () => {};
  });
});
