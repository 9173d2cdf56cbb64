// Every remote method, called with arbitrary argument lists: the answer is a value or a fault
// that names the problem, never an internal error, and the server keeps answering.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { silentLogger } from '../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from '../cli/compose-provisioner.ts';
import type { XmlRpcValue } from '../provisioner/protocol/xmlrpc.ts';

describe('API under arbitrary arguments', function () {
  this.timeout(120_000);
  let srv: RunningProvisioner;
  let token: string;

  before(async () => {
    srv = await startProvisioner({ httpPort: 0, adminPassword: 'pw', log: silentLogger });
    const login = await srv.dispatcher.call({ methodName: 'login', params: ['cobbler', 'pw'] });
    token = (login as { value: string }).value;
    const call = (m: string, ...p: XmlRpcValue[]) => srv.dispatcher.call({ methodName: m, params: p });
    const d = (await call('new_distro', token) as { value: string }).value;
    for (const [k, v] of [['name', 'd'], ['kernel', '/k'], ['initrd', '/i']]) await call('modify_distro', d, k!, v!, token);
    await call('save_distro', d, token);
  });
  after(async () => srv?.close());

  const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('d', 'system', 'profile', 'name', 'd::x', 'system::d', '___NEW___system::x', '~', '<<inherit>>', '*', '', 'macaddress-eth0', 'modify_interface'),
    fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
  const value: fc.Arbitrary<XmlRpcValue> = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('name', 'macaddress-eth0', 'interface', 'mac_address', '__proto__', 'profile')), tie('v'), { maxKeys: 3 })),
  })).v as fc.Arbitrary<XmlRpcValue>;

  it('answers every method with a value or a clear fault', async () => {
    const methods = [...srv.dispatcher.methods(), 'system.multicall', 'system.listMethods', 'system.methodHelp'];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...methods), fc.array(value, { maxLength: 6 }), fc.boolean(), async (method, params, withToken) => {
      const args = withToken ? [...params, token] : params;
      const out = await srv.dispatcher.call({ methodName: method, params: args });
      if ('fault' in out) {
        assert.equal(out.fault.faultCode, 1);
        assert.doesNotMatch(out.fault.faultString, /internal error: /, `${method}(${JSON.stringify(args)})`);
      }
    }), { numRuns: 3000, seed: 20261123 });
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'mac_address'), false);
    const ping = await srv.dispatcher.call({ methodName: 'ping', params: [] });
    assert.deepEqual(ping, { value: true });
  });
});
