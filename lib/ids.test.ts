import assert from 'node:assert/strict';
import { isRackforgeError } from './errors.ts';
import { isIpv4, isMac, parseIpv4, parseMac } from './ids.ts';

describe('MAC and IPv4 parsing', () => {
  it('normalises the MAC forms people type to lower-case colons', () => {
    for (const t of ['AA:BB:CC:DD:EE:0F', 'aa-bb-cc-dd-ee-0f', 'aabbccddee0f', ' aa:bb:cc:dd:ee:0f ']) assert.equal(parseMac(t), 'aa:bb:cc:dd:ee:0f');
  });
  it('refuses malformed MACs, naming the value', () => {
    for (const t of ['', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aa:bb-cc:dd:ee:ff', 'gg:bb:cc:dd:ee:ff', 'aa:b:cc:dd:ee:ff']) {
      assert.equal(isMac(t), false, t);
      assert.throws(() => parseMac(t), (e: unknown) => isRackforgeError(e, 'ITEM_INVALID_FIELD') && e.message.includes(`'${t}'`));
    }
  });
  it('accepts dotted quads and refuses everything else', () => {
    assert.equal(parseIpv4('10.0.0.255'), '10.0.0.255');
    for (const t of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4/24', '::1', '1.2.3.-4', '']) assert.equal(isIpv4(t), false, t);
  });
});

describe('ipv4ToInt / intToIpv4', () => {
  it('converts both ways, agreeing with parseIpv4 on what is valid', async () => {
    const { ipv4ToInt, intToIpv4 } = await import('./ids.ts');
    assert.equal(ipv4ToInt('0.0.0.0'), 0);
    assert.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4ToInt('10.1.2.3'), 0x0a010203);
    assert.equal(ipv4ToInt(' 10.1.2.3 '), 0x0a010203, 'trimmed, as parseIpv4');
    assert.equal(intToIpv4(0x0a010203), '10.1.2.3');
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1..2.3', '1.2.3.a', '1.2.3.4.', '.1.2.3.4', '1234.1.1.1']) {
      assert.throws(() => ipv4ToInt(bad), /invalid IPv4 address/, bad);
    }
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(Math.random() * 0x100000000);
      assert.equal(ipv4ToInt(intToIpv4(n)), n);
    }
  });
});
