// What a synthetic node is and how far it got: the vocabulary the fleet reports in and the
// lab runner prints.
import type { Firmware } from './dhcp-client.ts';

export interface SyntheticNodeSpec {
  name: string;
  /** Lower-case aa:bb:cc:dd:ee:ff. */
  mac: string;
  firmware: Firmware;
}

/** In boot order; the last three are final. */
export type SyntheticStage =
  | 'dhcp-discover' | 'dhcp-ack' | 'boot-file' | 'config' | 'kernel' | 'initrd' | 'autoinstall'
  | 'done' | 'local-boot' | 'failed';

export const FINAL_STAGES: ReadonlySet<SyntheticStage> = new Set(['done', 'local-boot', 'failed']);

export interface SyntheticNodeEvent {
  stage: SyntheticStage;
  /** Milliseconds, from the fleet's clock. */
  at: number;
  detail?: string;
}

export interface SyntheticNodeStatus {
  name: string;
  mac: string;
  stage: SyntheticStage;
  ip?: string;
  bootFile?: string;
  /** The pxelinux configuration file that was found, e.g. pxelinux.cfg/01-52-54-00-00-00-01. */
  config?: string;
  error?: string;
  startedAt?: number;
  finishedAt?: number;
  events: SyntheticNodeEvent[];
}
