import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertDecodeError, assertDecodesOrRefuses, hex, macArb } from './decode-testing.ts';
import { ETHERTYPE } from './ethernet.ts';
import {
  ARPHRD, LINUX_COOKED_DECODE_ERRORS, LINUX_PACKET_TYPE, decodeLinuxSll, decodeLinuxSll2, encodeLinuxSll, encodeLinuxSll2,
  type LinuxCookedHeader, type LinuxCookedHeaderInput,
} from './linux-cooked.ts';

const MAC = '52:54:00:12:34:56';
// The IPv6 packet of a link-local UDP datagram to ff02::1 (captured, see ipv6.test.ts).
const PACKET = hex('600800f7001b1101 fe80000000000000505400fffe123456 ff020000000000000000000000000001 9c409c41001b816d 7261636b666f7267652068656c6c6f2076360a');

describe('linux cooked capture codec', () => {
  describe('round-trip', () => {
    const cases: [string, LinuxCookedHeaderInput, Partial<LinuxCookedHeader>][] = [
      ['an outgoing Ethernet frame', { packetType: LINUX_PACKET_TYPE.OUTGOING, arphrdType: ARPHRD.ETHER, address: MAC, protocol: ETHERTYPE.IPV6, interfaceIndex: 3, payload: PACKET }, { addressLength: 6 }],
      ['loopback, no address', { packetType: LINUX_PACKET_TYPE.HOST, arphrdType: ARPHRD.LOOPBACK, address: '', protocol: ETHERTYPE.IPV4, interfaceIndex: 1, payload: Buffer.from('x') }, { addressLength: 0 }],
      ['a 3-byte address, LLC', { packetType: 1, arphrdType: ARPHRD.NONE, address: 'aabbcc', protocol: 4, interfaceIndex: 0, payload: Buffer.alloc(0) }, { addressLength: 3 }],
      ['an 8-byte address claiming 20 (InfiniBand)', { packetType: 2, arphrdType: 32, address: '0011223344556677', addressLength: 20, protocol: 0x8915, interfaceIndex: 0xffffffff, payload: Buffer.alloc(3) }, {}],
    ];
    for (const [name, input, extra] of cases) {
      it(`SLL: ${name}`, () => {
        const wire = encodeLinuxSll(input);
        assert.equal(wire.length, 16 + input.payload.length);
        const { interfaceIndex: _i, ...rest } = input;
        assert.deepEqual(decodeLinuxSll(wire), { ...rest, version: 1, ...extra });
      });
      it(`SLL2: ${name}`, () => {
        const wire = encodeLinuxSll2(input);
        assert.equal(wire.length, 20 + input.payload.length);
        assert.deepEqual(decodeLinuxSll2(wire), { ...input, version: 2, ...extra });
      });
    }
  });

  describe('golden', () => {
    // dumpcap -i any in a network namespace made for the capture (Linux 6.x, libpcap 1.10), the
    // datagram above sent on a veth: the outgoing copy on one end, the multicast copy on the other.
    // tshark: sll.pkttype 4 / 2, sll.hatype 1, sll.src.eth 52:54:00:12:34:56, sll.etype 0x86dd.
    it('SLL (link type 113), outgoing and received multicast', () => {
      for (const [bytes, packetType] of [[hex('0004 0001 0006 5254001234560000 86dd'), 4], [hex('0002 0001 0006 5254001234560000 86dd'), 2]] as const) {
        const wire = Buffer.concat([bytes, PACKET]);
        const h = decodeLinuxSll(wire);
        assert.deepEqual(h, { version: 1, packetType, arphrdType: 1, address: MAC, addressLength: 6, protocol: ETHERTYPE.IPV6, payload: PACKET });
        assert.deepEqual(encodeLinuxSll(h), wire);
      }
    });
    // dumpcap -i any -y LINUX_SLL2, same traffic; tshark: sll.ifindex 3 (the sender) and 2.
    it('SLL2 (link type 276), with the interface index', () => {
      for (const [bytes, packetType, interfaceIndex] of [[hex('86dd 0000 00000003 0001 04 06 5254001234560000'), 4, 3], [hex('86dd 0000 00000002 0001 02 06 5254001234560000'), 2, 2]] as const) {
        const wire = Buffer.concat([bytes, PACKET]);
        const h = decodeLinuxSll2(wire);
        assert.deepEqual(h, { version: 2, packetType, arphrdType: 1, address: MAC, addressLength: 6, protocol: ETHERTYPE.IPV6, interfaceIndex, payload: PACKET });
        assert.deepEqual(encodeLinuxSll2(h), wire);
      }
    });
    // Headers written by hand, fed to text2pcap -l 113, and read back with tshark: a loopback
    // packet with no address (sll.hatype 772, sll.halen 0, no sll.src.*) and an LLC frame with a
    // 3-byte address (sll.src.other "aabbcc", sll.ltype 0x0004; the unused bytes ignored).
    it('SLL with no address, and with a 3-byte one', () => {
      assert.deepEqual(decodeLinuxSll(hex('0000 0304 0000 0000000000000000 86dd')), {
        version: 1, packetType: 0, arphrdType: 772, address: '', addressLength: 0, protocol: 0x86dd, payload: Buffer.alloc(0),
      });
      const h = decodeLinuxSll(hex('0001 fffe 0003 aabbccddeeff0011 0004'));
      assert.equal(h.address, 'aabbcc');
      assert.equal(h.protocol, 4);
    });
  });

  describe('malformed input', () => {
    const sll: [string, Buffer, string, number][] = [
      ['empty', Buffer.alloc(0), 'packetType', 0],
      ['1 byte', hex('00'), 'packetType', 0],
      ['ends in the ARPHRD type', hex('000400'), 'arphrdType', 2],
      ['ends at the address length', hex('00040001'), 'addressLength', 4],
      ['ends in the address', hex('000400010006525400'), 'address', 6],
      ['15 bytes', hex('000400010006 5254001234560000 86'), 'protocol', 14],
    ];
    for (const [name, bytes, field, offset] of sll) {
      it(`SLL: ${name} -> SLL_TRUNCATED`, () => assertDecodeError(() => decodeLinuxSll(bytes), 'SLL_TRUNCATED', field, offset));
    }
    const sll2: [string, Buffer, string, number][] = [
      ['empty', Buffer.alloc(0), 'protocol', 0],
      ['ends in the reserved field', hex('86dd00'), 'reserved', 2],
      ['ends in the interface index', hex('86dd0000 0000'), 'interfaceIndex', 4],
      ['ends at the ARPHRD type', hex('86dd0000 00000003'), 'arphrdType', 8],
      ['ends at the packet type', hex('86dd0000 00000003 0001'), 'packetType', 10],
      ['ends at the address length', hex('86dd0000 00000003 0001 04'), 'addressLength', 11],
      ['19 bytes', hex('86dd0000 00000003 0001 04 06 52540012345600'), 'address', 12],
    ];
    for (const [name, bytes, field, offset] of sll2) {
      it(`SLL2: ${name} -> SLL_TRUNCATED`, () => assertDecodeError(() => decodeLinuxSll2(bytes), 'SLL_TRUNCATED', field, offset));
    }
    it('an SLL header is not an SLL2 one: the same 20 bytes read differently', () => {
      const wire = Buffer.concat([hex('0004 0001 0006 5254001234560000 86dd'), PACKET]);
      assert.equal(decodeLinuxSll2(wire).protocol, 4);
    });
  });

  describe('encode refuses what has no wire form', () => {
    const ok: LinuxCookedHeaderInput = { packetType: 0, arphrdType: 1, address: MAC, protocol: 0x0800, payload: Buffer.alloc(0) };
    const table: [string, LinuxCookedHeaderInput, 'both' | 'sll2'][] = [
      ['a 9-byte address', { ...ok, address: '001122334455667788' }, 'both'],
      ['an odd number of hex digits', { ...ok, address: 'abc' }, 'both'],
      ['a malformed MAC', { ...ok, address: '52:54:00:12:34' }, 'both'],
      ['protocol 65536', { ...ok, protocol: 65536 }, 'both'],
      ['packet type -1', { ...ok, packetType: -1 }, 'both'],
      ['packet type 256 in a byte', { ...ok, packetType: 256 }, 'sll2'],
      ['address length 256 in a byte', { ...ok, address: '0011223344556677', addressLength: 256 }, 'sll2'],
      ['address length shorter than the address', { ...ok, addressLength: 5 }, 'both'],
      ['address length 7 for a 6-byte address', { ...ok, addressLength: 7 }, 'both'],
      ['interface index 2^32', { ...ok, interfaceIndex: 2 ** 32 }, 'sll2'],
    ];
    for (const [name, h, which] of table) {
      it(name, () => {
        if (which === 'both') assert.throws(() => encodeLinuxSll(h), RangeError);
        assert.throws(() => encodeLinuxSll2(h), RangeError);
      });
    }
  });

  describe('properties', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      // Plausible address lengths, around the 6 and the 8 that matter.
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 30 }))
        .map(([a, len, rest]) => Uint8Array.from([...a, 0, len, ...rest])),
      fc.tuple(fc.uint8Array({ minLength: 11, maxLength: 11 }), fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 30 }))
        .map(([a, len, rest]) => Uint8Array.from([...a, len, ...rest])),
    );
    const sameAfterReencoding = (h: LinuxCookedHeader, encode: (i: LinuxCookedHeaderInput) => Buffer, decode: (b: Buffer) => LinuxCookedHeader): void => {
      assert.deepEqual(decode(encode(h)), h);
      assert.ok(h.addressLength === 6 ? /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(h.address) : /^([0-9a-f]{2}){0,8}$/.test(h.address), h.address);
    };
    it('arbitrary bytes give an SLL header or a DecodeError, nothing else', () => {
      assertDecodesOrRefuses({ bytes, decode: (b) => decodeLinuxSll(b), codes: LINUX_COOKED_DECODE_ERRORS, check: (h) => sameAfterReencoding(h, encodeLinuxSll, decodeLinuxSll) });
    });
    it('arbitrary bytes give an SLL2 header or a DecodeError, nothing else', () => {
      assertDecodesOrRefuses({ bytes, decode: (b) => decodeLinuxSll2(b), codes: LINUX_COOKED_DECODE_ERRORS, check: (h) => sameAfterReencoding(h, encodeLinuxSll2, decodeLinuxSll2) });
    });
    it('arbitrary headers with a MAC address round-trip through both versions', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 0xffff }), macArb, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 50 }),
          (packetType, arphrdType, address, protocol, interfaceIndex, u) => {
            const payload = Buffer.from(u);
            const h = { packetType, arphrdType, address, protocol, payload };
            assert.deepEqual(decodeLinuxSll(encodeLinuxSll(h)), { ...h, version: 1, addressLength: 6 });
            assert.deepEqual(decodeLinuxSll2(encodeLinuxSll2({ ...h, interfaceIndex })), { ...h, version: 2, addressLength: 6, interfaceIndex });
          }),
        { numRuns: 2000 },
      );
    });
  });
});
