// The install-time URL scheme (Cobbler's /cblr/svc/op/...): built in one place so that the
// kernel command line, the rendered autoinstall files and the HTTP routes agree, and so that
// tokens can be recognised and redacted wherever a URL is logged.
import type { Value } from '../inventory/types.ts';

export type SvcKind = 'system' | 'profile';
export type TriggerMode = 'pre' | 'post' | 'firstboot';

/** `<scheme>://<http_server>` from blended data (http_server is server[:http_port]). */
export function svcBase(blended: Record<string, Value>): string {
  const scheme = blended['autoinstall_scheme'] === 'https' ? 'https' : 'http';
  return `${scheme}://${httpServer(blended)}`;
}

/** server[:port] as Cobbler's blender computes it; plain HTTP is used for kernels and initrds. */
export function httpServer(blended: Record<string, Value>): string {
  const hs = blended['http_server'];
  if (typeof hs === 'string' && hs !== '') return hs;
  const server = typeof blended['server'] === 'string' ? blended['server'] : '127.0.0.1';
  const port = blended['http_port'];
  return port === undefined || port === 80 || port === '80' ? server : `${server}:${String(port)}`;
}

const tokenPair = (token: string | undefined) => (token ? `/token/${token}` : '');

export function autoinstallUrl(base: string, kind: SvcKind, name: string, token?: string): string {
  return `${base}/cblr/svc/op/autoinstall/${kind}/${encodeURIComponent(name)}${tokenPair(token)}`;
}

export function nopxeUrl(base: string, system: string, token?: string): string {
  return `${base}/cblr/svc/op/nopxe/system/${encodeURIComponent(system)}${tokenPair(token)}`;
}

export function triggerUrl(base: string, mode: TriggerMode, kind: SvcKind, name: string, token?: string): string {
  return `${base}/cblr/svc/op/trig/mode/${mode}/${kind}/${encodeURIComponent(name)}${tokenPair(token)}`;
}

export function ipxeUrl(base: string, kind: SvcKind | 'mac', key: string): string {
  return `${base}/cblr/svc/op/ipxe/${kind}/${kind === 'mac' ? key : encodeURIComponent(key)}`;
}

/** Replaces install tokens in a path, query string or kernel line with "***". */
export function redactTokens(text: string): string {
  return text
    .replace(/(\/token\/)[^/?#\s'"]+/gi, '$1***')
    .replace(/([?&]token=)[^&#\s'"]+/gi, '$1***');
}
