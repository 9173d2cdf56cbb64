// Safe HTML from templates: every interpolated value is escaped unless it is already Html
// (built by this tag). Inventory names, MACs and boot-event details come from API users and
// from the network, so nothing reaches a page unescaped.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** HTML that is already safe: produced by `html`, or by joining such pieces. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/** `html\`<td>${name}</td>\``: the literal parts are trusted, the values escaped. Arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}
