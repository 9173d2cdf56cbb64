// The analyzer never falls over: whole boots whose frames are randomly damaged (bytes flipped,
// frames cut short or lengthened, random frames slipped in, link types swapped) still give a
// report and a diagnosis, plain JSON, with every decode problem pointing at a real frame. A
// capture is evidence from a broken network; a bad packet is a finding, not a crash.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import { createCaptureAnalyzer } from './capture-analyzer.ts';
import { explainCapture, explainNetwork } from './diagnosis.ts';
import { ipxeLoop, nakLoop, noOffer, rogueDhcpServer, tftpNegotiationFailed, tftpNotFound, wrongArchitecture, type Scenario } from './capture-fixtures.ts';

const SCENARIOS: Array<() => Scenario> = [noOffer, nakLoop, rogueDhcpServer, tftpNegotiationFailed, tftpNotFound, wrongArchitecture, ipxeLoop];

type Damage =
  | { kind: 'flip'; frame: number; at: number; value: number }
  | { kind: 'cut'; frame: number; keep: number; snaplen: boolean }
  | { kind: 'random'; frame: number; bytes: Uint8Array }
  | { kind: 'linktype'; frame: number; linktype: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), frame: fc.nat(), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), frame: fc.nat(), keep: fc.nat({ max: 400 }), snaplen: fc.boolean() }),
  fc.record({ kind: fc.constant('random' as const), frame: fc.nat(), bytes: fc.uint8Array({ maxLength: 600 }) }),
  fc.record({ kind: fc.constant('linktype' as const), frame: fc.nat(), linktype: fc.constantFrom(1, 113, 276, 105) }),
);

function damaged(packets: readonly CapturedPacket[], damage: readonly Damage[]): CapturedPacket[] {
  const out = packets.map((p) => ({ ...p, data: Buffer.from(p.data) }));
  for (const d of damage) {
    const i = d.frame % out.length;
    const p = out[i]!;
    if (d.kind === 'flip' && p.data.length > 0) p.data[d.at % p.data.length] = d.value;
    else if (d.kind === 'cut') {
      p.data = p.data.subarray(0, Math.min(d.keep, p.data.length));
      p.capturedLength = p.data.length;
      // Either the snaplen cut it (the wire had more) or the frame really was that short.
      p.originalLength = d.snaplen ? Math.max(p.originalLength, p.capturedLength) : p.capturedLength;
    } else if (d.kind === 'random') {
      out.splice(i, 0, { ...p, data: Buffer.from(d.bytes), capturedLength: d.bytes.length, originalLength: d.bytes.length });
    } else if (d.kind === 'linktype') p.linktype = d.linktype;
  }
  // Frame numbers and offsets stay those of a file in this order.
  return out.map((p, n) => ({ ...p, number: n + 1 }));
}

describe('capture analyzer: damaged captures', () => {
  it('always gives a JSON report and a diagnosis; decode problems name frames that exist', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SCENARIOS.length - 1 }), fc.array(damageArb, { minLength: 1, maxLength: 12 }), (which, damage) => {
        const packets = damaged(SCENARIOS[which]!().packets, damage);
        const analyzer = createCaptureAnalyzer();
        for (const p of packets) analyzer.add(p);
        const report = analyzer.report();
        assert.equal(report.file.frames, packets.length);
        assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
        for (const problem of report.file.decodeProblems) {
          assert.ok(problem.frame >= 1 && problem.frame <= packets.length, `problem in frame ${problem.frame}`);
          assert.ok(problem.offset >= 0 && problem.offset <= (packets[problem.frame - 1]?.data.length ?? 0), `offset ${problem.offset}`);
        }
        const diagnoses = explainCapture(report);
        explainNetwork(report);
        for (const d of diagnoses) for (const f of d.findings) for (const n of f.frames) assert.ok(n >= 1 && n <= packets.length, `${f.code} cites frame ${n}`);
      }),
      { numRuns: 300 },
    );
  });
});
