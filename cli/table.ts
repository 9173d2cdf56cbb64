// Aligned text tables for people: columns padded to their widest cell, two spaces apart, the
// last column left ragged so long values (URLs, file names) do not pad every line.

/** A cell as text: '-' for nothing, control characters (a terminal escape in a name) as '?'. */
export function cell(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '-';
  if (typeof v !== 'string' || v === '') return '-';
  return v.replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** Rows (the first is usually the header) as aligned lines. */
export function renderColumns(rows: readonly (readonly string[])[]): string[] {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd());
}
