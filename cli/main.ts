// The `rackforge` command: global options, dispatch to the server commands (serve, start)
// or to the client commands of the table in commands.ts, and the single place where
// errors become one stderr line and an exit code (2 usage, 1 anything else).
import { RackforgeError, isRackforgeError } from '../lib/errors.ts';
import { parseArgs, indexSpecs, type OptionSpec, type OptionValue } from './args.ts';
import { CobblerClient } from './api-client.ts';
import { selectCommand, selectGroup, type CommandDef } from './commands.ts';
import { renderCommandHelp, renderGroupHelp, renderTopHelp, renderTypeHelp } from './help.ts';
import { defaultIo, type CliIo } from './io.ts';
import { OBJECT_TYPES, type ObjectType } from './item-options.ts';
import { login, resolveServerUrl } from './session.ts';

export type { CliIo };
export { defaultIo };

/** Valid before the command and after it (unless the command has its own option of that name). */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    flag: 'server', key: 'server_url', kind: 'string', metavar: 'URL',
    help: 'XML-RPC endpoint; host or host:port means http://HOST/cobbler_api (default $RACKFORGE_SERVER, else http://127.0.0.1:5080/cobbler_api)',
  },
  { flag: 'username', key: 'username', kind: 'string', metavar: 'USER', help: 'user to log in as for writes (default $RACKFORGE_USER, else cobbler)' },
  { flag: 'password', key: 'password', kind: 'string', metavar: 'PASSWORD', help: 'password for writes (default $RACKFORGE_PASSWORD; prefer the variable, arguments are visible to other users)' },
  { flag: 'data', key: 'data_dir', kind: 'string', metavar: 'DIR', help: 'server data directory holding web.ss (default $RACKFORGE_DATA, else ${XDG_DATA_HOME:-~/.local/share}/rackforge)' },
  { flag: 'help', key: 'help', kind: 'boolean', short: 'h', help: 'show help' },
];
const VERSION_FLAG: OptionSpec = { flag: 'version', key: 'version', kind: 'boolean', help: 'same as the version command' };
const GLOBAL_KEYS = new Set(GLOBAL_OPTIONS.map((g) => g.key));

type Options = Record<string, OptionValue>;

const isObjectType = (w: string): w is ObjectType => (OBJECT_TYPES as readonly string[]).includes(w);

function mergeGlobals(into: Options, from: Readonly<Options>, command: string): void {
  for (const [key, value] of Object.entries(from)) {
    if (!GLOBAL_KEYS.has(key)) continue;
    if (key in into && key !== 'help') {
      const spec = GLOBAL_OPTIONS.find((g) => g.key === key) as OptionSpec;
      throw new RackforgeError('CLI_USAGE', `option --${spec.flag} for '${command}' is given more than once`);
    }
    into[key] = value;
  }
}

/** Global options whose spellings the command does not use itself (system's --server is a field). */
function globalsFor(def: CommandDef): OptionSpec[] {
  const own = indexSpecs(def.options);
  return GLOBAL_OPTIONS.filter((g) => !own.has(`--${g.flag}`) && !(g.short && own.has(`-${g.short}`)));
}

async function runCommand(def: CommandDef, args: readonly string[], globals: Options, io: CliIo): Promise<number> {
  const command = def.words.join(' ');
  const ownGlobals = globalsFor(def);
  const parsed = parseArgs(args, [...def.options, ...ownGlobals], { command, maxPositionals: def.maxPositionals ?? 0 });
  mergeGlobals(globals, parsed.options, command);
  if (globals['help'] === true) {
    io.out(renderCommandHelp(def, ownGlobals));
    return 0;
  }
  const commandOptions: Options = {};
  const ownKeys = new Set(def.options.map((s) => s.key));
  for (const [k, v] of Object.entries(parsed.options)) if (ownKeys.has(k)) commandOptions[k] = v;

  const api = new CobblerClient(resolveServerUrl(globals['server_url'] as string | undefined, io.env));
  let token: Promise<string> | undefined;
  return def.run({
    io,
    options: commandOptions,
    positionals: parsed.positionals,
    api,
    login: () => (token ??= login(api, {
      username: globals['username'] as string | undefined,
      password: globals['password'] as string | undefined,
      dataDir: globals['data_dir'] as string | undefined,
      env: io.env,
    })),
  });
}

async function printHelpTopic(words: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = words;
  if (first === undefined) io.out(renderTopHelp(GLOBAL_OPTIONS));
  else if (first === 'lab' && second === undefined) io.out((await import('./lab.ts')).renderLabHelp());
  else if (first === 'capture' && second === undefined) io.out((await import('./capture.ts')).renderCaptureHelp());
  else if (first === 'serve' || first === 'start') io.out(`see 'rackforge ${first} --help'`);
  else if (isObjectType(first) && second === undefined) io.out(renderTypeHelp(first));
  else if (selectGroup(first).length > 0 && second === undefined) io.out(renderGroupHelp(first));
  else {
    const def = selectCommand(words);
    if (!def) throw new RackforgeError('CLI_USAGE', `no help for '${words.join(' ')}': unknown command`);
    io.out(renderCommandHelp(def, globalsFor(def)));
  }
  return 0;
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const head = parseArgs(argv, [...GLOBAL_OPTIONS, VERSION_FLAG], { command: 'rackforge', stopAtPositional: true });
  const globals: Options = {};
  mergeGlobals(globals, head.options, 'rackforge');
  const [word, ...afterWord] = head.rest;

  if (word === undefined) {
    if (head.options['version'] === true) return runCommand(selectCommand(['version']) as CommandDef, [], globals, io);
    if (globals['help'] === true) return printHelpTopic([], io);
    io.err(renderTopHelp(GLOBAL_OPTIONS));
    return 2;
  }
  if (head.options['version'] === true) throw new RackforgeError('CLI_USAGE', `--version takes no command (got '${word}')`);

  if (word === 'serve' || word === 'start') {
    // The server parses its own options; hand it everything but the command word.
    const at = argv.length - head.rest.length;
    const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
    const server = await import('./serve.ts');
    return word === 'serve' ? server.runServe(rest, io) : server.runStart(rest, io);
  }

  if (word === 'lab') {
    // The lab has its own sub-commands and options (see cli/lab.ts).
    const lab = await import('./lab.ts');
    return lab.runLab(afterWord, io);
  }

  if (word === 'capture') {
    // Reads capture files; needs no server (see cli/capture.ts).
    const capture = await import('./capture.ts');
    return capture.runCapture(afterWord, io);
  }

  if (word === 'help') {
    const topic = parseArgs(afterWord, GLOBAL_OPTIONS, { command: 'help', maxPositionals: 2 });
    return printHelpTopic(topic.positionals, io);
  }

  // `<type> <action>`, and the other two-word commands (`node list`) the same way.
  if (isObjectType(word) || selectGroup(word).length > 0) {
    const mid = parseArgs(afterWord, GLOBAL_OPTIONS, { command: word, stopAtPositional: true });
    mergeGlobals(globals, mid.options, word);
    const [action, ...tail] = mid.rest;
    if (action === undefined) {
      if (globals['help'] === true) return printHelpTopic([word], io);
      io.err(isObjectType(word) ? renderTypeHelp(word) : renderGroupHelp(word));
      return 2;
    }
    const def = selectCommand([word, action]);
    if (!def) throw new RackforgeError('CLI_USAGE', `unknown action '${action}' for '${word}' (see 'rackforge ${word} --help')`);
    return runCommand(def, tail, globals, io);
  }

  const def = selectCommand([word]);
  if (!def) throw new RackforgeError('CLI_USAGE', `unknown command '${word}' (see 'rackforge --help')`);
  return runCommand(def, afterWord, globals, io);
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    // Exactly one line, whatever the server put in its fault text.
    const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
    if (isRackforgeError(err)) {
      io.err(`rackforge: ${oneLine(err.message)}`);
      return err.code === 'CLI_USAGE' ? 2 : 1;
    }
    io.err(`rackforge: internal error: ${oneLine(err instanceof Error ? err.message : String(err))}`);
    if (io.env['RACKFORGE_DEBUG'] && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}
