// Autoinstall files (kickstart, preseed, cloud-init user-data) rendered with Liquid, strictly:
// a variable the data lacks, an unknown filter or tag, a missing snippet are errors naming
// the variable or snippet, the template and the line. `{% if x %}` on an absent key is
// allowed (false), as is `{{ x | default: ... }}`. Templates reach nothing but snippets,
// looked up by name in the snippets store; rendering writes nothing.
import { Liquid, type FS } from 'liquidjs';
import { RackforgeError, isRackforgeError } from '../../lib/errors.ts';
import { FIELDS } from '../inventory/fields.ts';
import { SECRET_SETTINGS } from '../inventory/settings.ts';
import { ITEM_TYPES, type Value } from '../inventory/types.ts';
import { checkTemplateName, type TemplateStore } from './template-store.ts';

export interface AutoinstallSources {
  templates: TemplateStore;
  snippets: TemplateStore;
}

export interface RenderLimits {
  /** Snippet inclusions per render (a snippet including itself stops here). */
  maxIncludes: number;
  maxOutputBytes: number;
  /** Wall-clock budget of one render. */
  renderMs: number;
  /** Characters parsed per template or snippet. */
  maxParseChars: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = Object.freeze({
  maxIncludes: 200,
  maxOutputBytes: 4 * 1024 * 1024,
  renderMs: 5_000,
  maxParseChars: 2 * 1024 * 1024,
});

/** What the install-time URLs give a template, beyond the blended data. */
export interface InstallVariables {
  install_token: string;
  nopxe_url: string;
  pre_trigger_url: string;
  post_trigger_url: string;
}

/**
 * Never handed to templates: an autoinstall file is served to anyone who asks for it.
 * default_password_crypted stays available: it is the root password hash the installer
 * needs, which is what Cobbler keeps it for.
 */
const WITHHELD: ReadonlySet<string> = new Set([
  ...SECRET_SETTINGS.filter((k) => k !== 'default_password_crypted'),
  ...ITEM_TYPES.flatMap((t) => FIELDS[t].filter((f) => f.secret).map((f) => f.name)),
]);

/**
 * Cobbler's generate_autoinstall data: the blended data with autoinstall_meta keys hoisted to
 * the top level (they win over blended keys), http_server and server, and the install URLs.
 * Secrets (power_pass, LDAP and TSIG keys) are withheld.
 */
export function autoinstallVariables(blended: Record<string, Value>, install: InstallVariables): Record<string, Value> {
  const vars: Record<string, Value> = {};
  for (const [k, v] of Object.entries(blended)) if (!WITHHELD.has(k)) vars[k] = v;
  const meta = blended['autoinstall_meta'];
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
    for (const [k, v] of Object.entries(meta)) if (!WITHHELD.has(k)) vars[k] = v;
  }
  if (typeof vars['server'] !== 'string') vars['server'] = '';
  if (typeof vars['http_server'] !== 'string') vars['http_server'] = vars['server'];
  return { ...vars, ...install };
}

/** Renders the named template from `sources.templates` with `variables`. */
export async function renderAutoinstall(
  sources: AutoinstallSources, template: string, variables: Record<string, unknown>, limits: RenderLimits = DEFAULT_RENDER_LIMITS,
): Promise<string> {
  let name: string;
  try {
    name = checkTemplateName(template);
  } catch {
    throw new RackforgeError('TEMPLATE_INVALID', `invalid autoinstall template name ${JSON.stringify(template)}`, { template });
  }
  const text = sources.templates.read(name);
  if (text === undefined) throw new RackforgeError('TEMPLATE_NOT_FOUND', `autoinstall template '${name}' not found`, { template: name });

  // Which text is which file, to name the snippet an error comes from.
  const loaded = new Map<string, string>([[text, `template ${name}`]]);
  let includes = 0;
  const snippetText = (file: string): string => {
    const body = sources.snippets.read(file);
    if (body === undefined) throw new RackforgeError('TEMPLATE_NOT_FOUND', `snippet '${file}' not found`, { template: name, snippet: file });
    return body;
  };
  const fs: FS = {
    resolve: (_root, file) => {
      try {
        return checkTemplateName(file);
      } catch {
        throw new RackforgeError('TEMPLATE_INVALID', `invalid snippet name ${JSON.stringify(file)}`, { template: name, snippet: file });
      }
    },
    exists: async (file) => { snippetText(file); return true; },
    existsSync: (file) => { snippetText(file); return true; },
    readFile: async (file) => read(file),
    readFileSync: (file) => read(file),
    contains: async () => true,
    containsSync: () => true,
  };
  function read(file: string): string {
    if (++includes > limits.maxIncludes) {
      throw new RackforgeError('TEMPLATE_LIMIT', `more than ${limits.maxIncludes} snippet inclusions (does a snippet include itself?)`, { template: name, snippet: file });
    }
    const body = snippetText(file);
    if (!loaded.has(body)) loaded.set(body, `snippet ${file}`);
    return body;
  }

  const liquid = new Liquid({
    fs,
    root: ['snippets'],
    relativeReference: false,
    extname: '',
    cache: false,
    strictVariables: true,
    strictFilters: true,
    lenientIf: true,
    ownPropertyOnly: true,
    jsTruthy: false,
    parseLimit: limits.maxParseChars,
    renderLimit: limits.renderMs,
    memoryLimit: 64 * 1024 * 1024,
  });

  let out: string;
  try {
    const parsed = liquid.parse(text, name);
    out = await liquid.render(parsed, {}, { globals: variables, renderLimit: limits.renderMs });
  } catch (e) {
    throw explain(e, name, loaded);
  }
  if (Buffer.byteLength(out) > limits.maxOutputBytes) {
    throw new RackforgeError('TEMPLATE_LIMIT', `template ${name}: output exceeds ${limits.maxOutputBytes} bytes`, { template: name });
  }
  return out;
}

interface LiquidLike extends Error {
  token?: { input?: string; getPosition?: () => [number, number] };
  originalError?: Error & { variableName?: string };
}

/** A liquidjs or store error as a RackforgeError naming the template/snippet, line and variable. */
function explain(e: unknown, template: string, loaded: Map<string, string>): RackforgeError {
  const err = e as LiquidLike;
  const original = err?.originalError;
  const token = err?.token;
  const source = (token?.input !== undefined ? loaded.get(token.input) : undefined) ?? `template ${template}`;
  const line = token?.getPosition ? token.getPosition()[0] : undefined;
  const where = `${source}${line !== undefined ? ` line ${line}` : ''}${source === `template ${template}` ? '' : ` (rendering template ${template})`}`;
  const inner = isRackforgeError(original) ? original : isRackforgeError(e) ? e : undefined;
  if (inner) {
    return new RackforgeError(inner.code, `${where}: ${inner.message}`, { ...inner.details, template, ...(line !== undefined ? { line } : {}) });
  }
  const undefinedVar = original?.variableName ?? /^undefined variable: ([^,]+)/.exec(err?.message ?? '')?.[1];
  if (err?.name === 'UndefinedVariableError' || undefinedVar !== undefined && /undefined variable/.test(err?.message ?? '')) {
    return new RackforgeError('TEMPLATE_MISSING_VARIABLE', `${where}: missing variable '${undefinedVar ?? '?'}'`, {
      template, variable: undefinedVar, ...(line !== undefined ? { line } : {}),
    });
  }
  const text = (original?.message ?? err?.message ?? String(e)).replace(/, (file:\S+, )?line:\d+, col:\d+$/, '');
  const limit = /limit exceeded/i.test(text);
  return new RackforgeError(limit ? 'TEMPLATE_LIMIT' : 'TEMPLATE_INVALID', `${where}: ${text}`, { template, ...(line !== undefined ? { line } : {}) });
}
