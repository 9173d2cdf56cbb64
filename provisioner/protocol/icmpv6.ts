// ICMPv6 (RFC 4443) as far as a lab network needs it: any message to its type, code and body,
// with the checksum checked against the IPv6 pseudo-header; router solicitations and router
// advertisements (RFC 4861 §4.1, §4.2) to their fields and options. Pure: bytes in, a value
// out, or a DecodeError naming the field and offset.
//
// Options are kept in wire order as (type, data) with data the bytes after the 2-byte option
// header; the source link-layer address (type 1) of an Ethernet sender is also given as a MAC.
import { DecodeError } from '../../lib/errors.ts';
import { macFromBytes, macToBytes } from './ethernet.ts';
import { finishChecksum, sumWords } from './ipv4.ts';
import { IPV6_NEXT_HEADER, ipv6PseudoHeaderSum } from './ipv6.ts';

export const ICMPV6_TYPE = { ROUTER_SOLICITATION: 133, ROUTER_ADVERTISEMENT: 134 } as const;
export const NDP_OPTION = { SOURCE_LINK_LAYER_ADDRESS: 1 } as const;

export const ICMPV6_DECODE_ERRORS = {
  ICMPV6_TRUNCATED: 'the message is shorter than its 4-byte header, or than its type\'s fixed fields',
  ICMPV6_BAD_CHECKSUM: 'the checksum does not match the message and its IPv6 pseudo-header',
  ICMPV6_BAD_OPTION: 'a neighbour discovery option has length 0 or runs past the message',
} as const;
export type Icmpv6DecodeErrorCode = keyof typeof ICMPV6_DECODE_ERRORS;

export interface NdpOption { type: number; data: Buffer }

export interface Icmpv6Message {
  type: number;
  code: number;
  /** Everything after the 4-byte header. */
  body: Buffer;
}

export interface RouterSolicitation {
  options: NdpOption[];
  sourceMac?: string;
}

export interface RouterAdvertisement {
  curHopLimit: number;
  managed: boolean;
  other: boolean;
  /** Seconds; 0: not a default router. */
  routerLifetime: number;
  reachableTimeMs: number;
  retransTimerMs: number;
  options: NdpOption[];
  sourceMac?: string;
}

/** Decodes one ICMPv6 message carried from srcIp to dstIp, checksum included. */
export function decodeIcmpv6(b: Buffer, srcIp: string, dstIp: string): Icmpv6Message {
  if (b.length < 4) throw new DecodeError('ICMPV6_TRUNCATED', b.length < 1 ? 'type' : b.length < 2 ? 'code' : 'checksum', Math.min(b.length, 2), `a ${b.length}-byte message is shorter than the 4-byte ICMPv6 header`);
  const sum = finishChecksum(sumWords(b, 0, b.length, ipv6PseudoHeaderSum(srcIp, dstIp, IPV6_NEXT_HEADER.ICMPV6, b.length)));
  if (sum !== 0) throw new DecodeError('ICMPV6_BAD_CHECKSUM', 'checksum', 2, `checksum 0x${b.readUInt16BE(2).toString(16).padStart(4, '0')} does not match the message`);
  return { type: b[0]!, code: b[1]!, body: Buffer.from(b.subarray(4)) };
}

export function decodeRouterSolicitation(m: Icmpv6Message): RouterSolicitation {
  if (m.body.length < 4) throw new DecodeError('ICMPV6_TRUNCATED', 'reserved', 4 + m.body.length, `a router solicitation needs 4 reserved bytes, ${m.body.length} given`);
  const options = decodeOptions(m.body, 4);
  return { options, ...sourceMacOf(options) };
}

export function decodeRouterAdvertisement(m: Icmpv6Message): RouterAdvertisement {
  if (m.body.length < 12) throw new DecodeError('ICMPV6_TRUNCATED', 'routerLifetime', 4 + Math.min(m.body.length, 2), `a router advertisement needs 12 bytes of fields, ${m.body.length} given`);
  const options = decodeOptions(m.body, 12);
  return {
    curHopLimit: m.body[0]!,
    managed: (m.body[1]! & 0x80) !== 0,
    other: (m.body[1]! & 0x40) !== 0,
    routerLifetime: m.body.readUInt16BE(2),
    reachableTimeMs: m.body.readUInt32BE(4),
    retransTimerMs: m.body.readUInt32BE(8),
    options,
    ...sourceMacOf(options),
  };
}

/**
 * A router advertisement from srcIp to dstIp, checksum filled in; sourceMac becomes a source
 * link-layer address option unless `options` has one. RangeError for a value with no wire form.
 */
export function encodeRouterAdvertisement(ra: Omit<RouterAdvertisement, 'options'> & { options?: NdpOption[] }, srcIp: string, dstIp: string): Buffer {
  const given = ra.options ?? [];
  const hasSource = given.some((o) => o.type === NDP_OPTION.SOURCE_LINK_LAYER_ADDRESS);
  const options = [...given, ...(ra.sourceMac && !hasSource ? [{ type: NDP_OPTION.SOURCE_LINK_LAYER_ADDRESS, data: macToBytes(ra.sourceMac) }] : [])];
  for (const [name, v, max] of [['curHopLimit', ra.curHopLimit, 0xff], ['routerLifetime', ra.routerLifetime, 0xffff], ['reachableTimeMs', ra.reachableTimeMs, 0xffffffff], ['retransTimerMs', ra.retransTimerMs, 0xffffffff]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`cannot encode ${name} ${v}: not 0-${max}`);
  }
  const optionBytes = options.map((o) => {
    const total = o.data.length + 2;
    if (total % 8 !== 0 || total > 255 * 8 || o.type < 0 || o.type > 255) throw new RangeError(`cannot encode option type ${o.type} with ${o.data.length} data bytes: an option is a multiple of 8 bytes, at most 2040`);
    return Buffer.concat([Buffer.from([o.type, total / 8]), o.data]);
  });
  const out = Buffer.concat([Buffer.alloc(16), ...optionBytes]);
  out[0] = ICMPV6_TYPE.ROUTER_ADVERTISEMENT;
  out[4] = ra.curHopLimit;
  out[5] = (ra.managed ? 0x80 : 0) | (ra.other ? 0x40 : 0);
  out.writeUInt16BE(ra.routerLifetime, 6);
  out.writeUInt32BE(ra.reachableTimeMs, 8);
  out.writeUInt32BE(ra.retransTimerMs, 12);
  out.writeUInt16BE(finishChecksum(sumWords(out, 0, out.length, ipv6PseudoHeaderSum(srcIp, dstIp, IPV6_NEXT_HEADER.ICMPV6, out.length))), 2);
  return out;
}

/** Options from `start` of a message body (offsets in errors count from the ICMPv6 header). */
function decodeOptions(body: Buffer, start: number): NdpOption[] {
  const out: NdpOption[] = [];
  let at = start;
  while (at < body.length) {
    if (at + 2 > body.length) throw new DecodeError('ICMPV6_BAD_OPTION', 'options', 4 + at, 'an option header is cut off');
    const len = body[at + 1]! * 8;
    if (len === 0) throw new DecodeError('ICMPV6_BAD_OPTION', 'options', 4 + at + 1, `option type ${body[at]!} has length 0`);
    if (at + len > body.length) throw new DecodeError('ICMPV6_BAD_OPTION', 'options', 4 + at + 1, `option type ${body[at]!} of ${len} bytes runs past the message`);
    out.push({ type: body[at]!, data: Buffer.from(body.subarray(at + 2, at + len)) });
    at += len;
  }
  return out;
}

function sourceMacOf(options: readonly NdpOption[]): { sourceMac?: string } {
  const o = options.find((x) => x.type === NDP_OPTION.SOURCE_LINK_LAYER_ADDRESS && x.data.length === 6);
  return o ? { sourceMac: macFromBytes(o.data, 0) } : {};
}
