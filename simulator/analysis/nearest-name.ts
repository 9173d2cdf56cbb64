// "Did you mean …?" for file names: the closest of a set of names by edit distance. Pure.

/** Levenshtein distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `name` (leading slashes ignored, so "/pxelinux.0" matches
 * "pxelinux.0"), ties broken by the candidate's own order (ascending text). undefined when
 * there is no candidate other than the name itself.
 */
export function nearestName(name: string, candidates: Iterable<string>): { name: string; distance: number } | undefined {
  const strip = (s: string): string => s.replace(/^\/+/, '');
  const target = strip(name);
  let best: { name: string; distance: number } | undefined;
  for (const c of candidates) {
    const s = strip(c);
    if (s === target) continue;
    const d = editDistance(target, s);
    if (!best || d < best.distance || (d === best.distance && c < best.name)) best = { name: c, distance: d };
  }
  return best;
}
