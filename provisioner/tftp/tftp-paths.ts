// Turns the filename of a read request into root-relative path segments, or says why not.
// Pure: no file system here; whether the path exists or escapes through a symlink is the
// source's business (tftp-sources.ts), this only decides what the client asked for.
//
// Accepted spellings, because real boot ROMs send them:
// - a leading '/' means the root, as tftpd-hpa -s does ("/pxelinux.0" = "pxelinux.0");
// - '\' is a separator too (Windows clients and WDS-style PXE menus send "boot\x64\wdsnbp.com");
// - '.' and empty segments collapse ("a//./b" = "a/b").
// Refused: any '..' segment (even one that would stay inside the root: no client needs it,
// and refusing is easier to audit than resolving), NUL and other control characters, names
// longer than the limit, and names that come down to nothing (the root itself).

export const TFTP_PATH_REFUSALS = {
  TFTP_PATH_EMPTY: 'the name is empty or names the root directory',
  TFTP_PATH_TOO_LONG: 'the name is longer than the limit',
  TFTP_PATH_NUL: 'the name contains a NUL byte',
  TFTP_PATH_CONTROL_CHAR: 'the name contains a control character',
  TFTP_PATH_DOT_DOT: 'the name contains a ".." segment',
} as const;
export type TftpPathRefusal = keyof typeof TFTP_PATH_REFUSALS;

export type TftpPathResult =
  | { ok: true; /** Root-relative, '/'-joined, never empty. */ path: string; segments: string[] }
  | { ok: false; reason: TftpPathRefusal; message: string };

export interface TftpPathLimits {
  /** Longest name in bytes (latin1 code units, as the codec decodes them); default 255. */
  maxBytes?: number;
  /**
   * Absolute spellings of the root that clients may use, e.g. "/srv/tftp" for configs written
   * for a tftpd without -s: "/srv/tftp/pxelinux.0" then means "pxelinux.0". Without it, every
   * absolute name is root-relative.
   */
  rootAliases?: readonly string[];
}

const DEFAULT_MAX_BYTES = 255;

export function normaliseTftpPath(name: string, limits: TftpPathLimits = {}): TftpPathResult {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  // The codec decodes names as latin1, so one code unit is one byte on the wire.
  if (name.length > maxBytes) return refuse('TFTP_PATH_TOO_LONG', `the name is ${name.length} bytes, more than ${maxBytes}`);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0) return refuse('TFTP_PATH_NUL', `the name has a NUL byte at ${i}`);
    if (c < 0x20 || c === 0x7f) return refuse('TFTP_PATH_CONTROL_CHAR', `the name has control character 0x${c.toString(16).padStart(2, '0')} at ${i}`);
  }
  const segments = splitSegments(name);
  if (segments.includes('..')) return refuse('TFTP_PATH_DOT_DOT', 'the name has a ".." segment');
  let rest = segments;
  for (const alias of limits.rootAliases ?? []) {
    const prefix = splitSegments(alias);
    if (prefix.length > 0 && startsWith(segments, prefix)) {
      rest = segments.slice(prefix.length);
      break;
    }
  }
  if (rest.length === 0) return refuse('TFTP_PATH_EMPTY', 'the name names the root directory');
  return { ok: true, path: rest.join('/'), segments: rest };
}

function splitSegments(name: string): string[] {
  return name.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
}

function startsWith(segments: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((p, i) => segments[i] === p);
}

function refuse(reason: TftpPathRefusal, message: string): TftpPathResult {
  return { ok: false, reason, message };
}
