// Per-machine boot events: every boot-relevant request (DHCP, TFTP, HTTP, install callbacks)
// becomes one event, queryable by system name or MAC through the API and CLI.

export const BOOT_EVENT_KINDS = [
  'dhcp-discover', 'dhcp-offer', 'dhcp-request', 'dhcp-ack', 'dhcp-nak', 'dhcp-decline', 'dhcp-release', 'dhcp-inform',
  'proxy-offer', 'proxy-ack',
  'tftp-file', 'tftp-error',
  'http-file', 'http-error',
  'autoinstall', 'callback', 'sync-problem',
  // An installer's or installed node's own report (installer-started, image-written, rebooted,
  // failed), or the controller accepting the node (registered); detail starts with the stage.
  'install',
] as const;
export type BootEventKind = (typeof BOOT_EVENT_KINDS)[number];

export interface BootEvent {
  /** Seconds since the epoch (the injected clock). */
  at: number;
  kind: BootEventKind;
  /** Lowercase colon MAC, when the request identifies one. */
  mac?: string;
  /** Inventory system name, when the request maps to one. */
  system?: string;
  /** Client address, when known. */
  ip?: string;
  /** Human-readable specifics: the file, the offered address, the error. */
  detail: string;
}

export interface BootEventSink {
  record(event: BootEvent): void;
}

export const nullBootEventSink: BootEventSink = { record() {} };
