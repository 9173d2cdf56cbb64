// MAC and IPv4 addresses as branded types: parse once at the edge, trust afterwards.
import { RackforgeError } from './errors.ts';

export type Mac = string & { readonly __brand: 'Mac' };
export type Ipv4 = string & { readonly __brand: 'Ipv4' };

const MAC_RE = /^([0-9a-f]{2})([:-]?)([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/** Accepts aa:bb:cc:dd:ee:ff, aa-bb-…, aabbccddeeff (any case); returns lower-case colon form. */
export function parseMac(text: string): Mac {
  const m = MAC_RE.exec(text.trim());
  if (!m) throw new RackforgeError('ITEM_INVALID_FIELD', `invalid MAC address '${text}'`, { field: 'mac_address' });
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase() as Mac;
}

export function isMac(text: string): boolean {
  return MAC_RE.test(text.trim());
}

export function parseIpv4(text: string): Ipv4 {
  const parts = text.trim().split('.');
  const ok = parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
  if (!ok) throw new RackforgeError('ITEM_INVALID_FIELD', `invalid IPv4 address '${text}'`, { field: 'ip_address' });
  return parts.join('.') as Ipv4;
}

export function isIpv4(text: string): boolean {
  try { parseIpv4(text); return true; } catch { return false; }
}

/** The address as an unsigned 32-bit number (for ranges and ordering). Throws like parseIpv4. */
export function ipv4ToInt(ip: string): number {
  // Hot in the DHCP server: one pass over the characters, the same rules as parseIpv4.
  let n = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return slowIpv4ToInt(ip); // leading zero: let parseIpv4 refuse it
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return slowIpv4ToInt(ip);
    } else if (c === 46 && digits > 0) {
      n = n * 256 + part;
      part = 0; digits = 0; dots++;
    } else {
      return slowIpv4ToInt(ip);
    }
  }
  if (dots !== 4) return slowIpv4ToInt(ip);
  return n;
}

function slowIpv4ToInt(ip: string): number {
  const p = parseIpv4(ip).split('.').map(Number) as [number, number, number, number];
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function intToIpv4(n: number): Ipv4 {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.') as Ipv4;
}
