// A small strict command-line parser. Long options only (plus declared one-letter
// shorts), `--name=value` or `--name value`, flags without values, repeatable list
// options, and `--` to end options. Anything it does not know is a usage error, never
// silently ignored: a typo in `--mac-adress` must not provision a machine without a MAC.
import { RackforgeError } from '../lib/errors.ts';

export type OptionKind = 'string' | 'boolean' | 'list';
export type OptionValue = string | boolean | string[];

export interface OptionSpec {
  /** Long name without dashes, e.g. `mac-address`. */
  readonly flag: string;
  /** Where the value lands in `ParsedArgs.options`, e.g. `mac_address`. */
  readonly key: string;
  readonly kind: OptionKind;
  /** Other long names for the same option, e.g. `mac`. */
  readonly aliases?: readonly string[];
  /** One-letter form, e.g. `h`. */
  readonly short?: string;
  readonly choices?: readonly string[];
  readonly help?: string;
  /** Placeholder for the value in help text. */
  readonly metavar?: string;
  /** Heading under which help lists the option. */
  readonly group?: string;
}

export interface ParseSettings {
  /** Names the command in error messages: `unknown option --foo for 'system add'`. */
  readonly command: string;
  /** Stop at the first positional argument and hand it and the rest back unparsed. */
  readonly stopAtPositional?: boolean;
  /** How many positional arguments are allowed (default none). */
  readonly maxPositionals?: number;
}

export interface ParsedArgs {
  readonly options: Record<string, OptionValue>;
  readonly positionals: string[];
  /** With `stopAtPositional`: the first positional and everything after it. */
  readonly rest: string[];
}

const usage = (message: string): RackforgeError => new RackforgeError('CLI_USAGE', message);

/** Indexes specs by every spelling; refuses a table where two options share a spelling. */
export function indexSpecs(specs: readonly OptionSpec[]): Map<string, OptionSpec> {
  const byName = new Map<string, OptionSpec>();
  const add = (name: string, spec: OptionSpec): void => {
    const prior = byName.get(name);
    if (prior && prior !== spec) throw new Error(`option table: ${name} is declared twice`);
    byName.set(name, spec);
  };
  for (const spec of specs) {
    add(`--${spec.flag}`, spec);
    for (const a of spec.aliases ?? []) add(`--${a}`, spec);
    if (spec.short) add(`-${spec.short}`, spec);
  }
  return byName;
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], settings: ParseSettings): ParsedArgs {
  const byName = indexSpecs(specs);
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const where = `for '${settings.command}'`;

  const store = (spec: OptionSpec, written: string, value: string | true): void => {
    if (spec.kind === 'list') {
      const list = options[spec.key];
      if (Array.isArray(list)) list.push(value as string);
      else options[spec.key] = [value as string];
      return;
    }
    if (spec.key in options) throw usage(`option ${written} ${where} is given more than once`);
    if (typeof value === 'string' && spec.choices && !spec.choices.includes(value)) {
      throw usage(`option ${written} ${where} must be one of ${spec.choices.join(', ')} (got '${value}')`);
    }
    options[spec.key] = value;
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (settings.stopAtPositional) break;
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const written = eq >= 0 ? arg.slice(0, eq) : arg;
    const spec = byName.get(written);
    if (!spec) throw usage(`unknown option ${written} ${where}`);
    if (spec.kind === 'boolean') {
      if (eq >= 0) throw usage(`option ${written} ${where} takes no value`);
      store(spec, written, true);
      continue;
    }
    if (eq >= 0) {
      store(spec, written, arg.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    // A value that looks like another long option is far more often a forgotten value
    // (`--name --profile p`) than a real one; such values must use the `=` form.
    if (next === undefined || next.startsWith('--')) {
      throw usage(`option ${written} ${where} needs a value${next === undefined ? '' : ` (write ${written}=VALUE for a value starting with --)`}`);
    }
    store(spec, written, next);
    i++;
  }

  const rest = argv.slice(i);
  if (!settings.stopAtPositional) {
    positionals.push(...rest);
    const max = settings.maxPositionals ?? 0;
    if (positionals.length > max) throw usage(`unexpected argument '${positionals[max]}' ${where}`);
    return { options, positionals, rest: [] };
  }
  return { options, positionals, rest };
}
