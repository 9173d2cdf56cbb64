// Numbers as the one-line summaries print them. Pure.

/** 512 B, 42.4 kB, 8.3 MB, 1.2 GB (decimal units, as Wireshark's statistics use). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** 0.052 s, 3.4 s, 125 s. */
export function formatSeconds(s: number): string {
  if (s < 1) return `${s.toFixed(3)} s`;
  if (s < 100) return `${s.toFixed(1)} s`;
  return `${Math.round(s)} s`;
}

/** 1.2 MB/s */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}
