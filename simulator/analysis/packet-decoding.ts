// From a captured packet to its decoded layers, and the few facts about a packet that the
// layers alone do not give: how long a payload really was when the capture cut the frame
// short, where in the frame a layer starts (for decode problems), and capture times as the
// report prints them. Pure; the per-packet path of the analyzer, so nothing here allocates
// beyond what the codecs do.
import { DecodeError } from '../../lib/errors.ts';
import { decodeLinkFrame, type DecodedFrame } from '../../provisioner/protocol/frames.ts';
import type { CapturedPacket } from '../../provisioner/protocol/pcap.ts';
import type { UdpDatagram } from '../../provisioner/protocol/udp.ts';
import type { DecodeProblem } from './capture-report.ts';

/**
 * Decodes the link layer named by the packet's link type and everything above it; a frame the
 * capture cut short decodes as far as its bytes go. Throws DecodeError for a bad link header.
 */
export function decodeCapturedFrame(p: CapturedPacket): DecodedFrame {
  // Checksums are not verified (Wireshark's default too): nothing in the analysis depends on
  // them, captures on a sending host hold offloaded ones, and they are the bulk of the cost.
  return decodeLinkFrame(p.linktype, p.data, p.originalLength > p.capturedLength ? { originalLength: p.originalLength, checksums: false } : NO_CHECKSUMS);
}

const NO_CHECKSUMS = { checksums: false } as const;

/** Whether the capture kept fewer bytes than were on the wire. */
export function isCut(p: CapturedPacket): boolean {
  return p.originalLength > p.capturedLength;
}

/** Where `view` starts within the frame (views of the codecs point into p.data). */
export function offsetInFrame(p: CapturedPacket, view: Buffer): number {
  return view.byteOffset - p.data.byteOffset;
}

/**
 * The length a transport payload had on the wire. For a frame cut by the snapshot length the
 * decoded view is short; the bytes that were not kept are counted from the original length.
 */
export function wirePayloadLength(p: CapturedPacket, payload: Buffer): number {
  if (!isCut(p)) return payload.length;
  return Math.max(payload.length, p.originalLength - offsetInFrame(p, payload));
}

/** A UDP payload's length on the wire: from the UDP length field when the frame was cut short. */
export function wireUdpPayloadLength(p: CapturedPacket, udp: UdpDatagram): number {
  if (!isCut(p)) return udp.payload.length;
  const lengthField = offsetInFrame(p, udp.payload) - 4;
  if (lengthField >= 0 && lengthField + 2 <= p.data.length) {
    const n = p.data.readUInt16BE(lengthField) - 8;
    if (n >= udp.payload.length) return n;
  }
  return wirePayloadLength(p, udp.payload);
}

/** A DecodeError (or anything thrown while handling one packet) as a report line. */
export function decodeProblem(frame: number, e: unknown, base = 0): DecodeProblem {
  if (e instanceof DecodeError) {
    // DecodeError appends " (field at offset N)" with the codec's own offset; the report gives the frame's.
    const suffix = ` (${e.field} at offset ${e.offset})`;
    const message = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
    return { frame, offset: base + e.offset, code: e.code, field: e.field, message };
  }
  return { frame, offset: base, code: 'ANALYSIS_FAILED', field: '', message: e instanceof Error ? e.message : String(e) };
}

const NS_PER_US = 1000n;

/** Seconds from `first` to `ns`, truncated to the microsecond. */
export function secondsSince(first: bigint, ns: bigint): number {
  return Number((ns - first) / NS_PER_US) / 1e6;
}

/** Seconds between two times, truncated to the microsecond. */
export function durationSeconds(from: bigint, to: bigint): number {
  return to > from ? Number((to - from) / NS_PER_US) / 1e6 : 0;
}

/** ISO 8601 UTC with microseconds: 2024-05-01T10:00:00.123456Z. */
export function isoMicros(ns: bigint): string {
  const us = ns / NS_PER_US;
  const ms = Number(us / 1000n);
  const micros = Number(((us % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const whole = new Date(ms - (ms % 1000 + 1000) % 1000).toISOString().slice(0, 19);
  return `${whole}.${String(micros).padStart(6, '0')}Z`;
}
