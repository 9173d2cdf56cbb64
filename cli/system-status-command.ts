// `rackforge system status NAME [--json]`: where a machine's install stands, stage by stage
// (dhcp, pxe-loaded, installer-started, image-written, nopxe, rebooted, registered), or the
// failure that ended it. Read from the server's get_system_install_status.
import { RackforgeError } from '../lib/errors.ts';
import type { OptionSpec, OptionValue } from './args.ts';
import type { CommandDef } from './commands.ts';
import { renderJson } from './render.ts';

const usage = (m: string) => new RackforgeError('CLI_USAGE', m);

/** `--name NAME`, for the system commands that also take the name as their first word. */
export const SYSTEM_NAME_OPTION: OptionSpec = { flag: 'name', key: 'name', kind: 'string', metavar: 'NAME', help: 'system name (or give it as the first word)' };

/** The system named by the first word or --name (exactly one of them). */
export function systemNameOf(command: string, positionals: readonly string[], options: Readonly<Record<string, OptionValue>>): string {
  const name = positionals[0] ?? options['name'];
  if (typeof name !== 'string' || name === '') throw usage(`'${command}' needs a system name`);
  if (positionals[0] !== undefined && options['name'] !== undefined) throw usage('give the system name once: as a word or with --name');
  return name;
}

export const systemStatusCommand: CommandDef = {
  words: ['system', 'status'],
  summary: "a system's install: each stage with its time, or the failure that ended it",
  synopsis: 'NAME [--json]',
  maxPositionals: 1,
  options: [
    SYSTEM_NAME_OPTION,
    { flag: 'json', key: 'json', kind: 'boolean', help: 'print a JSON array of {stage, at, detail}' },
  ],
  async run(ctx) {
    const name = systemNameOf('system status', ctx.positionals, ctx.options);
    const stages = await ctx.api.call('get_system_install_status', name);
    if (!Array.isArray(stages)) throw new RackforgeError('CLI_SERVER', `${ctx.api.url} answered get_system_install_status without a list`);
    if (ctx.options['json'] === true) { ctx.io.out(renderJson(stages)); return 0; }
    if (stages.length === 0) { ctx.io.out(`no install seen for ${name}`); return 0; }
    for (const s of stages as Array<Record<string, unknown>>) {
      ctx.io.out(`${String(s['at'])}  ${String(s['stage']).padEnd(17)} ${String(s['detail'] ?? '')}`);
    }
    return 0;
  },
};
