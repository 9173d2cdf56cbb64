// Bad input at the API: each is answered with a fault that names the problem, the server
// stays up, and the store is unchanged.
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, rpc, seedProfile, startTestServer, type TestServer } from './helpers/provisioner.ts';
import { decodeMethodResponse } from '../provisioner/protocol/xmlrpc.ts';

async function raw(url: string, body: string | Buffer): Promise<{ status: number; fault?: { faultCode: number; faultString: string } }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "text/xml" }, body: typeof body === "string" ? body : new Uint8Array(body) });
  const text = Buffer.from(await res.arrayBuffer());
  const out = decodeMethodResponse(text);
  return { status: res.status, ...('fault' in out ? { fault: out.fault } : {}) };
}

describe('API bad input', function () {
  this.timeout(60_000);
  let srv: TestServer;
  let token: string;
  let snapshot: string;

  const state = async () => JSON.stringify(await Promise.all(['distro', 'profile', 'system'].map((t) => rpc(srv.apiUrl, 'get_items', t))));

  before(async () => {
    srv = await startTestServer({ maxBodyBytes: 1024 * 1024 });
    token = await rpc(srv.apiUrl, 'login', 'cobbler', ADMIN_PASSWORD) as string;
    await seedProfile(srv.apiUrl, token, 'p1');
    const h = await rpc(srv.apiUrl, 'new_system', token) as string;
    await rpc(srv.apiUrl, 'modify_system', h, 'name', 's1', token);
    await rpc(srv.apiUrl, 'modify_system', h, 'profile', 'p1', token);
    await rpc(srv.apiUrl, 'modify_system', h, 'hostname', 's1.example.com', token);
    await rpc(srv.apiUrl, 'modify_system', h, 'modify_interface', { 'macaddress-eth0': 'aa:bb:cc:dd:ee:01', 'ipaddress-eth0': '10.0.0.1' }, token);
    await rpc(srv.apiUrl, 'save_system', h, token);
    snapshot = await state();
  });
  afterEach(async () => {
    // The server is still up and nothing changed.
    assert.equal(await rpc(srv.apiUrl, 'ping'), true);
    assert.equal(await state(), snapshot);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'mac_address'), false);
    assert.equal(({} as Record<string, unknown>).mac_address, undefined);
  });
  after(async () => srv?.stop());

  const wire: Array<[string, string | (() => string), RegExp]> = [
    ['not XML', 'hello', /malformed XML-RPC request/],
    ['truncated XML', '<?xml version="1.0"?><methodCall><methodName>ping</methodName><params>', /malformed/],
    ['wrong root element', '<methodResponse><params/></methodResponse>', /malformed/],
    ['bad int', '<methodCall><methodName>get_system</methodName><params><param><value><int>x1</int></value></param></params></methodCall>', /int/],
    ['billion laughs', `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><methodCall><methodName>get_system</methodName><params><param><value><string>&lol3;</string></value></param></params></methodCall>`, /malformed.*(DOCTYPE|entit)/i],
    ['external entity', `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>get_system</methodName><params><param><value><string>&xxe;</string></value></param></params></methodCall>`, /malformed.*(DOCTYPE|entit)/i],
    ['deep nesting', () => `<methodCall><methodName>ping</methodName><params><param>${'<value><array><data>'.repeat(5000)}${'</data></array></value>'.repeat(5000)}</param></params></methodCall>`, /malformed.*(deep|nest|depth)/i],
    ['body over the limit', () => `<methodCall><methodName>ping</methodName><params><param><value><string>${'a'.repeat(2 * 1024 * 1024)}</string></value></param></params></methodCall>`, /exceeds the limit/],
  ];
  for (const [name, body, expected] of wire) {
    it(`refuses ${name} with a fault`, async () => {
      const r = await raw(srv.apiUrl, typeof body === 'function' ? body() : body);
      assert.equal(r.status, 200);
      assert.equal(r.fault?.faultCode, 1);
      assert.match(r.fault!.faultString, expected);
      assert.doesNotMatch(r.fault!.faultString, /root:x:0/);
    });
  }

  const calls: Array<[string, () => unknown[], RegExp]> = [
    ['unknown method', () => ['no_such_method'], /unknown remote method 'no_such_method'/],
    ['private method', () => ['_dispatch'], /forbidden method/],
    ['too many arguments', () => ['get_system_handle', 's1', 'x', 'y'], /TypeError.*takes from 2 to 3 positional arguments but 4 were given/],
    ['too few arguments', () => ['modify_system', 'x'], /TypeError.*missing 3 required positional arguments: 'attribute', 'arg' and 'token'/],
    ['wrong argument type', () => ['get_system', { a: 1 }], /name must be a string/],
    ['unknown handle', () => ['modify_system', 'system::nope', 'hostname', 'x', token], /invalid or expired object handle/],
    ['write without token', () => ['new_system', ''], /invalid token/],
    ['write with a forged token', () => ['remove_system', 's1', 'A'.repeat(36)], /invalid token/],
    ['invalid MAC', () => ['__edit', 'modify_interface', { 'macaddress-eth0': 'zz:zz' }], /MAC/i],
    ['invalid IP', () => ['__edit', 'modify_interface', { 'ipaddress-eth0': '10.0.0.256' }], /IPv4|ip/i],
    ['invalid name', () => ['__edit', 'name', 'bad/name'], /name/],
    ['prototype-polluting interface name', () => ['__edit', 'modify_interface', { 'macaddress-__proto__': 'aa:bb:cc:dd:ee:99' }], /invalid interface name/],
    ['unknown collection', () => ['get_items', 'spaceship'], /collection name spaceship not supported/],
    ['duplicate MAC at save', () => ['__save', { 'macaddress-eth0': 'AA:BB:CC:DD:EE:01' }], /aa:bb:cc:dd:ee:01.*s1|s1.*aa:bb:cc:dd:ee:01/i],
    ['duplicate IP at save', () => ['__save', { 'ipaddress-eth0': '10.0.0.1' }], /10\.0\.0\.1/],
    ['duplicate hostname at save', () => ['__save', { 'macaddress-eth0': 'aa:bb:cc:dd:ee:02' }, 'S1.example.com'], /hostname.*s1\.example\.com/i],
    ['missing profile at save', () => ['__profile', 'badprofile'], /badprofile/],
  ];
  for (const [name, make, expected] of calls) {
    it(`faults on ${name}`, async () => {
      const [method, ...args] = make() as [string, ...any[]];
      let p: Promise<unknown>;
      if (method === '__edit') {
        const h = await rpc(srv.apiUrl, 'new_system', token) as string;
        p = rpc(srv.apiUrl, 'modify_system', h, args[0], args[1], token);
      } else if (method === '__save' || method === '__profile') {
        const h = await rpc(srv.apiUrl, 'new_system', token) as string;
        await rpc(srv.apiUrl, 'modify_system', h, 'name', 's2', token);
        if (method === '__save') {
          await rpc(srv.apiUrl, 'modify_system', h, 'profile', 'p1', token);
          await rpc(srv.apiUrl, 'modify_system', h, 'modify_interface', args[0], token);
          if (args[1]) await rpc(srv.apiUrl, 'modify_system', h, 'hostname', args[1], token);
          p = rpc(srv.apiUrl, 'save_system', h, token);
        } else {
          p = rpc(srv.apiUrl, 'modify_system', h, 'profile', args[0], token).then(() => rpc(srv.apiUrl, 'save_system', h, token));
        }
      } else {
        p = rpc(srv.apiUrl, method, ...(args as any[]));
      }
      await assert.rejects(p, (e: any) => {
        assert.equal(e.fault?.faultCode, 1);
        assert.match(e.fault.faultString, expected);
        return true;
      });
    });
  }

  it('answers a GET on /cobbler_api with 405, not a crash', async () => {
    const res = await fetch(srv.apiUrl);
    assert.equal(res.status, 405);
  });
});
