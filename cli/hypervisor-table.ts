// `rackforge node list` as text: one aligned row per hypervisor, in the order the server
// listed them (by name). Pure: values in, lines out.
import { cell, renderColumns } from './table.ts';

export const NODE_COLUMNS = ['NAME', 'STATE', 'CPUS', 'MEMORY', 'DISKS', 'RACK', 'DATACENTRE', 'MAC', 'LAST-HEARTBEAT'] as const;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** 1536 → "1.5KiB", 21474836480 → "20GiB": binary units, at most one decimal, no space. */
export function renderBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
  const text = u === 0 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
  return text + UNITS[u];
}

const str = cell;

function diskCell(disks: unknown): string {
  if (!Array.isArray(disks) || disks.length === 0) return '-';
  return disks.map((d) => renderBytes(typeof d === 'object' && d !== null ? Number((d as Record<string, unknown>)['size_bytes']) : NaN)).join('+');
}

export function renderHypervisorTable(items: readonly unknown[]): string[] {
  const rows: string[][] = [[...NODE_COLUMNS]];
  for (const item of items) {
    const h = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const mem = h['memory_mb'];
    rows.push([
      str(h['name']), str(h['state']), str(h['cpus']),
      typeof mem === 'number' ? renderBytes(mem * 1024 * 1024) : '-',
      diskCell(h['disks']), str(h['rack']), str(h['datacentre']), str(h['mac']), str(h['last_heartbeat']),
    ]);
  }
  return renderColumns(rows);
}
