// Command groups with their own sub-command table (`rackforge lab …`, `rackforge capture …`):
// one way to list them, parse their options and print their help, so every group reads alike.
import { RackforgeError } from '../lib/errors.ts';
import { parseArgs, type OptionSpec, type OptionValue } from './args.ts';
import type { CliIo } from './io.ts';

export interface Subcommand {
  /** e.g. 'lab up FILE' (without 'rackforge'). */
  usage: string;
  summary: string;
  options: OptionSpec[];
  /** Positional words the sub-command needs, exactly. */
  positionals: number;
  run(pos: string[], o: Record<string, OptionValue>, io: CliIo): Promise<number>;
}

export const JSON_OPTION: OptionSpec = { flag: 'json', key: 'json', kind: 'boolean', help: 'machine-readable output' };
export const HELP_OPTION: OptionSpec = { flag: 'help', key: 'help', kind: 'boolean', short: 'h', help: 'show help' };

export const usageError = (m: string): RackforgeError => new RackforgeError('CLI_USAGE', m);

export function renderSubcommandHelp(group: string, table: Readonly<Record<string, Subcommand>>): string {
  return [`usage: rackforge ${group} COMMAND ...`, '', ...Object.values(table).map((s) => `  rackforge ${s.usage.padEnd(48)} ${s.summary}`)].join('\n');
}

/** Runs `rackforge GROUP WORD ARGS…` from the table: help, option parsing, positional count. */
export async function runSubcommand(group: string, table: Readonly<Record<string, Subcommand>>, argv: readonly string[], io: CliIo): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    (word === undefined ? io.err : io.out)(renderSubcommandHelp(group, table));
    return word === undefined ? 2 : 0;
  }
  const sub = Object.hasOwn(table, word) ? table[word] : undefined;
  if (!sub) throw usageError(`unknown ${group} command '${word}' (one of: ${Object.keys(table).join(', ')})`);
  const parsed = parseArgs(rest, sub.options, { command: `${group} ${word}`, maxPositionals: sub.positionals });
  if (parsed.options['help'] === true) {
    io.out(`usage: rackforge ${sub.usage}\n${sub.summary}\n`);
    for (const s of sub.options) io.out(`  --${s.flag}${s.metavar ? ' ' + s.metavar : ''}${s.choices ? ` (${s.choices.join('|')})` : ''}  ${s.help ?? ''}`);
    return 0;
  }
  if (parsed.positionals.length < sub.positionals) throw usageError(`usage: rackforge ${sub.usage}`);
  return sub.run(parsed.positionals, parsed.options, io);
}
