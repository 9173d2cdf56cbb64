// The golden captures and what a person checked in each (captures/golden/manifest.json; how
// they are made: captures/golden/README.md and scripts/golden-captures.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './netns.ts';

export const GOLDEN_DIR = join(REPO_ROOT, 'captures', 'golden');

export interface GoldenExpectation {
  mac: string;
  /** A FINDING_CODES code the diagnosis must give this machine. */
  code: string;
  /** Frames read by hand in tshark that the finding must cite (it may cite more). */
  frames: number[];
  /** Words the finding's summary must contain (the file not found and the nearest name, the other server…). */
  summaryIncludes?: string[];
}

export interface GoldenCapture {
  name: string;
  file: string;
  path: string;
  madeBy: 'lab' | 'dumpcap';
  /** Frames in the file, as capinfos counts them. */
  frames: number;
  expect: GoldenExpectation[];
  /** Codes a machine must NOT get (a normal event that looks like a fault, e.g. pxelinux's config search misses). */
  absent: Array<{ mac: string; code: string; why: string }>;
  /** A good boot: no machine may have an error finding. */
  clean: boolean;
}

interface ManifestEntry { file: string; madeBy: 'lab' | 'dumpcap'; frames: number; expect: GoldenExpectation[]; absent?: GoldenCapture['absent']; clean?: boolean }

export function goldenCaptures(): GoldenCapture[] {
  const manifest = JSON.parse(readFileSync(join(GOLDEN_DIR, 'manifest.json'), 'utf8')) as { captures: Record<string, ManifestEntry> };
  return Object.entries(manifest.captures).map(([name, e]) => ({
    name, file: e.file, path: join(GOLDEN_DIR, e.file), madeBy: e.madeBy, frames: e.frames, expect: e.expect, absent: e.absent ?? [], clean: e.clean === true,
  }));
}
