// The client commands as one table: each entry names its words, its options and the
// XML-RPC calls it makes (the same calls Cobbler 3.3.7's CLI makes, research note §1.5.1).
// Help text and option parsing are both generated from this table.
import { readFile } from 'node:fs/promises';
import { RackforgeError } from '../lib/errors.ts';
import type { OptionSpec, OptionValue } from './args.ts';
import type { CobblerClient, XmlRpcValue } from './api-client.ts';
import type { CliIo } from './io.ts';
import {
  FIELD_ALIASES, INTERFACE_FIELDS, OBJECT_TYPES, fieldLabel, fieldToFlag, itemFields, type ObjectType,
} from './item-options.ts';
import { isPlainObject, pyStr, renderDumpvars, renderItemReport, renderJson } from './render.ts';
import { ControllerClient, controllerBaseUrl } from './controller-client.ts';
import { renderHypervisorTable } from './hypervisor-table.ts';
import { SYSTEM_NAME_OPTION, systemNameOf, systemStatusCommand } from './system-status-command.ts';

export interface CommandContext {
  readonly io: CliIo;
  /** This command's options, by key (global options are not included). */
  readonly options: Readonly<Record<string, OptionValue>>;
  /** Positional words after the command (only for commands that take them). */
  readonly positionals: readonly string[];
  readonly api: CobblerClient;
  /** Logs in (once) and returns the token. */
  login(): Promise<string>;
}

export interface CommandDef {
  readonly words: readonly string[];
  readonly summary: string;
  /** What follows the words in the usage line, e.g. `--name NAME [options]`. */
  readonly synopsis: string;
  readonly options: readonly OptionSpec[];
  /** How many positional words may follow the options (default none). */
  readonly maxPositionals?: number;
  run(ctx: CommandContext): Promise<number>;
}

export const OBJECT_ACTIONS = ['add', 'copy', 'dumpvars', 'edit', 'find', 'list', 'remove', 'rename', 'report'] as const;
export type ObjectAction = (typeof OBJECT_ACTIONS)[number];

/** get_blended_data only knows profiles and systems, so only they have dumpvars (as in Cobbler). */
export function actionsFor(type: ObjectType): readonly ObjectAction[] {
  return OBJECT_ACTIONS.filter((a) => a !== 'dumpvars' || type === 'profile' || type === 'system');
}

const usage = (message: string): RackforgeError => new RackforgeError('CLI_USAGE', message);

// ---------------------------------------------------------------- option tables

function aliasesOf(field: string): string[] {
  return Object.entries(FIELD_ALIASES).filter(([, f]) => f === field).map(([alias]) => alias);
}

function fieldOption(field: string, group: string): OptionSpec {
  const aliases = aliasesOf(field);
  return {
    flag: fieldToFlag(field), key: field, kind: 'string', metavar: 'VALUE', group, help: fieldLabel(field),
    ...(aliases.length > 0 ? { aliases } : {}),
  };
}

const NAME: OptionSpec = { flag: 'name', key: 'name', kind: 'string', metavar: 'NAME', help: 'object name' };
const NEWNAME: OptionSpec = { flag: 'newname', key: 'newname', kind: 'string', metavar: 'NAME', help: 'new object name' };
const RECURSIVE: OptionSpec = { flag: 'recursive', key: 'recursive', kind: 'boolean', help: 'also remove child objects' };
const IN_PLACE: OptionSpec = {
  flag: 'in-place', key: 'in_place', kind: 'boolean',
  help: 'merge into dict fields (kernel options, autoinstall meta, …) instead of replacing them; ~key deletes key',
};
const INTERFACE: OptionSpec = {
  flag: 'interface', key: 'interface', kind: 'string', metavar: 'IFNAME', group: 'interface options',
  help: 'the interface the interface options apply to (default: the only one, else "default")',
};
const DELETE_INTERFACE: OptionSpec = {
  flag: 'delete-interface', key: 'delete_interface', kind: 'boolean', group: 'interface options', help: 'delete --interface',
};
const RENAME_INTERFACE: OptionSpec = {
  flag: 'rename-interface', key: 'rename_interface', kind: 'string', metavar: 'IFNAME', group: 'interface options',
  help: 'rename --interface to this name',
};
const FORMAT: OptionSpec = {
  flag: 'format', key: 'format', kind: 'string', metavar: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json',
};
const JSON_FLAG: OptionSpec = { flag: 'json', key: 'json', kind: 'boolean', help: 'same as --format json' };

/** Field options of a type: its item fields, plus interface fields and --interface for systems. */
function fieldOptions(type: ObjectType): OptionSpec[] {
  const specs = itemFields(type).map((f) => fieldOption(f, `${type} fields`));
  if (type === 'system') specs.push(INTERFACE, ...INTERFACE_FIELDS.map((f) => fieldOption(f, 'interface options')));
  return specs;
}

function optionsFor(type: ObjectType, action: ObjectAction): OptionSpec[] {
  switch (action) {
    case 'add':
    case 'edit':
      return [...fieldOptions(type), ...(type === 'system' ? [DELETE_INTERFACE, RENAME_INTERFACE] : []), IN_PLACE];
    case 'find':
      return fieldOptions(type);
    case 'copy':
    case 'rename':
      return [NAME, NEWNAME];
    case 'remove':
      return [NAME, RECURSIVE];
    case 'report':
      return [NAME, FORMAT, JSON_FLAG];
    case 'dumpvars':
      return [NAME, FORMAT, JSON_FLAG];
    case 'list':
      return [];
  }
}

// ---------------------------------------------------------------- helpers

/** The options as xapi_object_edit/find_items take them: only what was given, keys sorted. */
function attributes(options: Readonly<Record<string, OptionValue>>, specs: readonly OptionSpec[]): Record<string, XmlRpcValue> {
  const keys = new Set(specs.map((s) => s.key));
  const out: Record<string, XmlRpcValue> = {};
  for (const key of Object.keys(options).sort()) {
    if (keys.has(key)) out[key] = options[key] as XmlRpcValue;
  }
  return out;
}

function requireString(options: Readonly<Record<string, OptionValue>>, key: string, command: string): string {
  const v = options[key];
  if (typeof v !== 'string' || v === '') throw usage(`--${key} is required for '${command}'`);
  return v;
}

function wantsJson(options: Readonly<Record<string, OptionValue>>, command: string): boolean {
  if (options['json'] === true && options['format'] === 'text') throw usage(`--json and --format text contradict each other for '${command}'`);
  return options['json'] === true || options['format'] === 'json';
}

function expectArray(v: XmlRpcValue, method: string, url: string): XmlRpcValue[] {
  if (!Array.isArray(v)) throw new RackforgeError('CLI_SERVER', `${url} answered ${method} with something other than a list`);
  return v;
}

// ---------------------------------------------------------------- object commands

function objectCommand(type: ObjectType, action: ObjectAction): CommandDef {
  const words = [type, action];
  const command = words.join(' ');
  const options = optionsFor(type, action);
  const base = { words, options };
  switch (action) {
    case 'add':
    case 'edit':
      return {
        ...base,
        summary: action === 'add' ? `create a ${type}` : `change fields of a ${type}`,
        synopsis: '--name NAME [field options]',
        async run(ctx) {
          const name = requireString(ctx.options, 'name', command);
          const token = await ctx.login();
          await ctx.api.call('xapi_object_edit', type, name, action, attributes(ctx.options, options), token);
          return 0;
        },
      };
    case 'copy':
    case 'rename':
      return {
        ...base,
        summary: `${action} a ${type}`,
        synopsis: '--name NAME --newname NAME',
        async run(ctx) {
          const name = requireString(ctx.options, 'name', command);
          const newname = requireString(ctx.options, 'newname', command);
          const token = await ctx.login();
          await ctx.api.call('xapi_object_edit', type, name, action, { name, newname }, token);
          return 0;
        },
      };
    case 'remove':
      return {
        ...base,
        summary: `remove a ${type}`,
        synopsis: '--name NAME [--recursive]',
        async run(ctx) {
          const name = requireString(ctx.options, 'name', command);
          const token = await ctx.login();
          await ctx.api.call('xapi_object_edit', type, name, 'remove', attributes(ctx.options, options), token);
          return 0;
        },
      };
    case 'list':
      return {
        ...base,
        summary: `list ${type} names`,
        synopsis: '',
        async run(ctx) {
          const names = expectArray(await ctx.api.call('get_item_names', type), 'get_item_names', ctx.api.url);
          for (const n of names.map(pyStr).sort()) ctx.io.out(n);
          return 0;
        },
      };
    case 'find':
      return {
        ...base,
        summary: `print the names of ${type}s matching every given field (globs allowed)`,
        synopsis: '[field options]',
        async run(ctx) {
          const found = await ctx.api.call('find_items', type, attributes(ctx.options, options), 'name', false);
          for (const n of expectArray(found, 'find_items', ctx.api.url)) ctx.io.out(pyStr(n));
          return 0;
        },
      };
    case 'report':
      return {
        ...base,
        summary: `show one ${type} (--name) or all of them`,
        synopsis: '[--name NAME] [--format text|json]',
        async run(ctx) {
          const json = wantsJson(ctx.options, command);
          const name = ctx.options['name'];
          if (typeof name === 'string') {
            const item = await ctx.api.call('get_item', type, name);
            if (!isPlainObject(item)) throw new RackforgeError('ITEM_NOT_FOUND', `no ${type} found: ${name}`);
            if (json) ctx.io.out(renderJson(item));
            else for (const l of renderItemReport(type, item)) ctx.io.out(l);
            return 0;
          }
          const items = expectArray(await ctx.api.call('get_items', type), 'get_items', ctx.api.url);
          if (json) {
            ctx.io.out(renderJson(items));
            return 0;
          }
          items.forEach((item, i) => {
            if (i > 0) ctx.io.out('');
            if (isPlainObject(item)) for (const l of renderItemReport(type, item)) ctx.io.out(l);
          });
          return 0;
        },
      };
    case 'dumpvars':
      return {
        ...base,
        summary: `show the variables templates see for a ${type} (inherited values resolved)`,
        synopsis: '--name NAME [--format text|json]',
        async run(ctx) {
          const name = requireString(ctx.options, 'name', command);
          const json = wantsJson(ctx.options, command);
          const data = await ctx.api.call('get_blended_data', type === 'profile' ? name : '', type === 'system' ? name : '');
          if (!isPlainObject(data)) throw new RackforgeError('ITEM_NOT_FOUND', `no ${type} found: ${name}`);
          if (json) ctx.io.out(renderJson(data));
          else for (const l of renderDumpvars(data)) ctx.io.out(l);
          return 0;
        },
      };
  }
}

// ---------------------------------------------------------------- direct commands

const TASK_POLL_MS = 500;
const TASK_RUNNING = new Set(['running', 'notification']);

const syncCommand: CommandDef = {
  words: ['sync'],
  summary: 'regenerate boot files (and DHCP/DNS) on the server and wait for the task to finish',
  synopsis: '[--verbose] [--dhcp] [--dns] [--systems NAME[,NAME…]]',
  options: [
    { flag: 'verbose', key: 'verbose', kind: 'boolean', help: 'run the sync with more output' },
    { flag: 'dhcp', key: 'dhcp', kind: 'boolean', help: 'only write the DHCP configuration' },
    { flag: 'dns', key: 'dns', kind: 'boolean', help: 'only write the DNS configuration' },
    { flag: 'systems', key: 'systems', kind: 'list', metavar: 'NAMES', help: 'only sync these systems (comma-separated, repeatable)' },
  ],
  async run(ctx) {
    const { verbose, dhcp, dns, systems } = ctx.options;
    const names = Array.isArray(systems) ? systems.flatMap((s) => s.split(',')).filter((s) => s !== '') : [];
    if (Array.isArray(systems) && names.length === 0) throw usage(`--systems needs at least one system name for 'sync'`);
    if (names.length > 0 && (dhcp === true || dns === true)) throw usage(`--systems cannot be combined with --dhcp or --dns for 'sync'`);
    const token = await ctx.login();
    // Like Cobbler's CLI, send only the flags that were given.
    const flags: Record<string, XmlRpcValue> = {};
    if (verbose === true) flags['verbose'] = true;
    let taskId: XmlRpcValue;
    if (names.length > 0) {
      taskId = await ctx.api.call('background_syncsystems', { systems: names, ...flags }, token);
    } else {
      if (dhcp === true) flags['dhcp'] = true;
      if (dns === true) flags['dns'] = true;
      taskId = await ctx.api.call('background_sync', flags, token);
    }
    if (typeof taskId !== 'string') throw new RackforgeError('CLI_SERVER', `${ctx.api.url} answered the sync without a task id`);
    ctx.io.out(`task started: ${taskId}`);
    const state = await waitForTask(ctx, taskId);
    try {
      const log = await ctx.api.call('get_event_log', taskId);
      if (typeof log === 'string' && log !== '?' && log.trim() !== '') for (const l of log.trimEnd().split('\n')) ctx.io.out(l);
    } catch (err) {
      ctx.io.err(`rackforge: warning: could not fetch the task log: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (state === 'complete') {
      ctx.io.out('*** TASK COMPLETE ***');
      return 0;
    }
    ctx.io.out('!!! TASK FAILED !!!');
    return 1;
  },
};

/** Polls get_task_status until the task leaves the running states; returns the final state. */
async function waitForTask(ctx: CommandContext, taskId: string): Promise<string> {
  const sleep = ctx.io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    const status = await ctx.api.call('get_task_status', taskId);
    // [statetime, name, state, read_by_who]
    const state = Array.isArray(status) ? status[2] : undefined;
    if (typeof state !== 'string') throw new RackforgeError('CLI_SERVER', `${ctx.api.url} answered get_task_status without a state`);
    if (!TASK_RUNNING.has(state)) return state;
    await sleep(TASK_POLL_MS);
  }
}

async function clientVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

const versionCommand: CommandDef = {
  words: ['version'],
  summary: 'show the client version and the API version the server speaks',
  synopsis: '',
  options: [],
  async run(ctx) {
    const v = await ctx.api.call('extended_version');
    const api = isPlainObject(v) && typeof v['version'] === 'string' ? v['version'] : pyStr(v);
    ctx.io.out(`rackforge ${await clientVersion()} (Cobbler API ${api})`);
    return 0;
  },
};

const systemEventsCommand: CommandDef = {
  words: ['system', 'events'],
  summary: "a system's boot events: DHCP, TFTP and HTTP requests and install callbacks, oldest first",
  synopsis: 'NAME [--limit N] [--json]',
  maxPositionals: 1,
  options: [
    SYSTEM_NAME_OPTION,
    { flag: 'limit', key: 'limit', kind: 'string', metavar: 'N', help: 'only the newest N events' },
    { flag: 'json', key: 'json', kind: 'boolean', help: 'print a JSON array of {at, kind, mac, ip, detail}' },
  ],
  async run(ctx) {
    const name = systemNameOf('system events', ctx.positionals, ctx.options);
    const limitText = ctx.options['limit'];
    if (limitText !== undefined && (typeof limitText !== 'string' || !/^\d+$/.test(limitText))) throw usage(`--limit must be a whole number, got '${String(limitText)}'`);
    const events = await ctx.api.call('get_system_boot_events', name, limitText === undefined ? 0 : Number(limitText));
    if (!Array.isArray(events)) throw new RackforgeError('CLI_SERVER', `${ctx.api.url} answered get_system_boot_events without a list`);
    if (ctx.options['json'] === true) { ctx.io.out(renderJson(events)); return 0; }
    if (events.length === 0) { ctx.io.out(`no boot events for ${name}`); return 0; }
    for (const e of events) {
      if (!isPlainObject(e)) continue;
      const at = typeof e['at'] === 'number' ? new Date(e['at'] * 1000).toISOString() : '?';
      ctx.io.out(`${at}  ${String(e['kind']).padEnd(13)} ${String(e['mac'] ?? '').padEnd(17)} ${String(e['ip'] ?? '').padEnd(15)} ${String(e['detail'])}`);
    }
    return 0;
  },
};

// ---------------------------------------------------------------- controller commands

const nodeListCommand: CommandDef = {
  words: ['node', 'list'],
  summary: 'list the hypervisors registered with the controller, with their state and capacity',
  synopsis: '[--json]',
  options: [
    { flag: 'json', key: 'json', kind: 'boolean', help: 'print a JSON array of {name, mac, macs, state, cpus, memory_mb, disks, rack, datacentre, …}' },
  ],
  async run(ctx) {
    // The controller's REST API sits beside the Cobbler API and takes the same login token.
    const controller = new ControllerClient(controllerBaseUrl(ctx.api.url));
    const token = await ctx.login();
    const nodes = await controller.getJson('/hypervisors', token);
    if (!Array.isArray(nodes)) throw new RackforgeError('CLI_SERVER', `${controller.baseUrl}/hypervisors answered with something other than a list`);
    if (ctx.options['json'] === true) { ctx.io.out(renderJson(nodes)); return 0; }
    for (const l of renderHypervisorTable(nodes)) ctx.io.out(l);
    return 0;
  },
};

// ---------------------------------------------------------------- the table

export const CLIENT_COMMANDS: readonly CommandDef[] = [
  ...OBJECT_TYPES.flatMap((type) => actionsFor(type).map((action) => objectCommand(type, action))),
  systemEventsCommand,
  systemStatusCommand,
  nodeListCommand,
  syncCommand,
  versionCommand,
];

/** Two-word commands whose first word is not an object type (`node list`), by first word. */
export function selectGroup(word: string): CommandDef[] {
  if ((OBJECT_TYPES as readonly string[]).includes(word)) return [];
  return CLIENT_COMMANDS.filter((c) => c.words.length === 2 && c.words[0] === word);
}

export function selectCommand(words: readonly string[]): CommandDef | undefined {
  return CLIENT_COMMANDS.find((c) => c.words.length === words.length && c.words.every((w, i) => w === words[i]));
}
