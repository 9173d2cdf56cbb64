import assert from 'node:assert/strict';
import { DecodeError } from '../../lib/errors.ts';
import { encodeUdpFrame } from '../../provisioner/protocol/frames.ts';
import type { CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import { decodeCapturedFrame, decodeProblem, durationSeconds, isoMicros, secondsSince, wirePayloadLength, wireUdpPayloadLength } from './packet-decoding.ts';

function packet(data: Buffer, originalLength = data.length, linktype = 1): CapturedPacket {
  return { number: 1, offset: 24, interfaceId: 0, linktype, timestampNs: 0n, capturedLength: data.length, originalLength, data };
}

describe('packet-decoding', () => {
  const frame = encodeUdpFrame({ srcMac: '52:54:00:00:00:01', dstMac: '52:54:00:00:00:02', srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 40000, dstPort: 2000, payload: Buffer.alloc(1460, 1) });

  it('a whole frame: payload lengths as decoded', () => {
    const p = packet(frame);
    const f = decodeCapturedFrame(p);
    assert.equal(wireUdpPayloadLength(p, f.udp!), 1460);
    assert.equal(wirePayloadLength(p, f.udp!.payload), 1460);
    assert.equal(f.truncated, undefined);
  });

  it('a frame cut by the snapshot length: the UDP length field, or the original length', () => {
    const p = packet(frame.subarray(0, 96), frame.length);
    const f = decodeCapturedFrame(p);
    assert.equal(f.truncated, true);
    assert.equal(f.udp!.payload.length, 96 - 42);
    assert.equal(wireUdpPayloadLength(p, f.udp!), 1460);
    assert.equal(wirePayloadLength(p, f.udp!.payload), 1460);
  });

  it('an unknown link type is a DecodeError', () => {
    assert.throws(() => decodeCapturedFrame(packet(frame, frame.length, 105)), (e: unknown) => e instanceof DecodeError && e.code === 'FRAME_UNKNOWN_LINKTYPE');
  });

  it('decode problems: frame offsets, the message without the codec\'s own offset', () => {
    const e = new DecodeError('TFTP_BAD_OPCODE', 'opcode', 0, 'opcode 9 is not a TFTP opcode');
    assert.deepEqual(decodeProblem(7, e, 42), { frame: 7, offset: 42, code: 'TFTP_BAD_OPCODE', field: 'opcode', message: 'opcode 9 is not a TFTP opcode' });
    assert.deepEqual(decodeProblem(8, new TypeError('boom')), { frame: 8, offset: 0, code: 'ANALYSIS_FAILED', field: '', message: 'boom' });
  });

  it('times: seconds since the first packet to the microsecond, ISO with microseconds', () => {
    assert.equal(secondsSince(1_000_000_000n, 3_500_123_999n), 2.500123);
    assert.equal(durationSeconds(5n, 4n), 0);
    assert.equal(durationSeconds(0n, 1_000_000n), 0.001);
    assert.equal(isoMicros(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456Z');
    assert.equal(isoMicros(0n), '1970-01-01T00:00:00.000000Z');
  });
});
