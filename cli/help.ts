// Help text, rendered from the same tables that drive parsing, so the two cannot drift.
import type { OptionSpec } from './args.ts';
import { CLIENT_COMMANDS, actionsFor, selectCommand, selectGroup, type CommandDef } from './commands.ts';
import { OBJECT_TYPES, type ObjectType } from './item-options.ts';

function optionLines(specs: readonly OptionSpec[]): string[] {
  const rows = specs.map((s) => {
    const value = s.kind === 'boolean' ? '' : ` ${s.metavar ?? 'VALUE'}`;
    const names = [`--${s.flag}${value}`, ...(s.aliases ?? []).map((a) => `--${a}`), ...(s.short ? [`-${s.short}`] : [])];
    const help = (s.help ?? '') + (s.kind === 'list' ? ' (repeatable)' : '');
    return [names.join(', '), help] as const;
  });
  const width = Math.min(38, Math.max(0, ...rows.map(([n]) => n.length)));
  return rows.map(([n, h]) => (h === '' ? `  ${n}` : n.length > width ? `  ${n}\n  ${''.padEnd(width)}  ${h}` : `  ${n.padEnd(width)}  ${h}`));
}

function grouped(specs: readonly OptionSpec[], fallback: string): string[] {
  const groups = new Map<string, OptionSpec[]>();
  for (const s of specs) {
    const g = s.group ?? fallback;
    groups.set(g, [...(groups.get(g) ?? []), s]);
  }
  const out: string[] = [];
  for (const [g, list] of groups) out.push('', `${g}:`, ...optionLines(list));
  return out;
}

export function renderTopHelp(globals: readonly OptionSpec[]): string {
  const direct = CLIENT_COMMANDS.filter((c) => c.words.length === 1 || selectGroup(c.words[0] as string).includes(c));
  const rows: Array<[string, string]> = [
    ['serve', 'run the provisioner in the foreground (see rackforge serve --help)'],
    ['start', 'start the provisioner with the bundled defaults (see rackforge start --help)'],
    ['lab', 'build and run a lab: QEMU machines and rackforge on multicast hubs (see rackforge lab --help)'],
    ['capture', 'read a pcap/pcapng file: summary, per-machine boot timeline, explain, follow (see rackforge capture --help)'],
    ...direct.map((c): [string, string] => [c.words.join(' '), c.summary]),
    ['<type> <action>', `type: ${OBJECT_TYPES.join(', ')}`],
    ['', 'action: add, edit, copy, rename, remove, list, report, find; dumpvars (profile, system)'],
    ['help [command]', 'show help for a command'],
  ];
  const width = Math.max(...rows.map(([w]) => w.length));
  return [
    'usage: rackforge [global options] <command> [options]',
    '',
    'commands:',
    ...rows.map(([w, s]) => `  ${w.padEnd(width)}  ${s}`),
    '',
    "'rackforge <command> --help' and 'rackforge <type> <action> --help' list their options.",
    '',
    'global options (before the command, or after it unless the command has an option of that name):',
    ...optionLines(globals),
    '',
    'Writes log in with --password/RACKFORGE_PASSWORD as --username/RACKFORGE_USER (default cobbler),',
    'or else with the server\'s shared secret <data>/web.ss, as Cobbler\'s own CLI does on the server host.',
  ].join('\n');
}

export function renderTypeHelp(type: ObjectType): string {
  const defs = actionsFor(type).map((a) => selectCommand([type, a]) as CommandDef);
  const width = Math.max(...defs.map((d) => d.words.join(' ').length));
  return [
    `usage: rackforge ${type} <action> [options]`,
    '',
    'actions:',
    ...defs.map((d) => `  rackforge ${d.words.join(' ').padEnd(width)}  ${d.summary}`),
    '',
    `rackforge ${type} <action> --help lists the options of an action.`,
  ].join('\n');
}

/** Help of a command group that is not an object type (`rackforge node`). */
export function renderGroupHelp(word: string): string {
  const defs = selectGroup(word);
  const width = Math.max(...defs.map((d) => d.words.join(' ').length));
  return [
    `usage: rackforge ${word} <action> [options]`,
    '',
    'actions:',
    ...defs.map((d) => `  rackforge ${d.words.join(' ').padEnd(width)}  ${d.summary}`),
    '',
    `rackforge ${word} <action> --help lists the options of an action.`,
  ].join('\n');
}

export function renderCommandHelp(def: CommandDef, globals: readonly OptionSpec[]): string {
  const command = def.words.join(' ');
  return [
    `usage: rackforge ${command}${def.synopsis ? ' ' + def.synopsis : ''}`,
    '',
    def.summary,
    ...grouped(def.options, 'options'),
    ...(globals.length > 0 ? ['', 'global options:', ...optionLines(globals)] : []),
  ].join('\n');
}
