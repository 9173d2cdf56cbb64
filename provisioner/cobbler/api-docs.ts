// docs/api.md is rendered from the method table itself, so the documented surface and the
// served one cannot drift apart (api-docs.test.ts compares them).
import type { MethodSpec } from './methods.ts';

const ACCESS_TEXT = { open: 'none', read: 'none (unless `auth_required_for_reads`)', write: 'token' } as const;

export function renderApiDocs(table: ReadonlyMap<string, MethodSpec>): string {
  const lines = [
    '# Cobbler-compatible XML-RPC API',
    '',
    '<!-- Generated from provisioner/cobbler/methods.ts by `npm run docs`; do not edit. -->',
    '',
    'Endpoint: `POST /cobbler_api` (and `/`, `/RPC2` on the optional `--xmlrpc-port`).',
    'Arguments are positional, with Python truthiness, as Cobbler 3.3.7 takes them. Every',
    'return value has `None` replaced by `"~"`. Every error is a fault with `faultCode` 1.',
    'Methods marked *token* need a live token from `login`; values of secret fields',
    '(`power_pass`, secret settings) are masked for callers without one.',
    'Also served: `system.multicall`, `system.listMethods`, `system.methodHelp`.',
    '',
    '| method | arguments | auth | what it does |',
    '| --- | --- | --- | --- |',
  ];
  for (const name of [...table.keys()].sort()) {
    const spec = table.get(name)!;
    const args = spec.signature.params.map((p) => (p.optional ? `${p.name}=${pyDefault(p.default)}` : p.name)).join(', ');
    lines.push(`| \`${name}\` | \`${args}\` | ${ACCESS_TEXT[spec.access]} | ${spec.help.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n') + '\n';
}

function pyDefault(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return typeof v === 'string' ? `"${v}"` : String(v);
}
