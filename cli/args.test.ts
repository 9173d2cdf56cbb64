import assert from 'node:assert/strict';
import { isRackforgeError } from '../lib/errors.ts';
import { indexSpecs, parseArgs, type OptionSpec, type ParseSettings } from './args.ts';
import { CLIENT_COMMANDS } from './commands.ts';
import { INTERFACE_FIELDS, itemFields, OBJECT_TYPES, fieldLabel } from './item-options.ts';
import { GLOBAL_OPTIONS } from './main.ts';

const SPECS: OptionSpec[] = [
  { flag: 'name', key: 'name', kind: 'string' },
  { flag: 'mac-address', key: 'mac_address', kind: 'string', aliases: ['mac'] },
  { flag: 'recursive', key: 'recursive', kind: 'boolean' },
  { flag: 'systems', key: 'systems', kind: 'list' },
  { flag: 'format', key: 'format', kind: 'string', choices: ['text', 'json'] },
  { flag: 'help', key: 'help', kind: 'boolean', short: 'h' },
];

const CMD: ParseSettings = { command: 'system add' };

describe('parseArgs', () => {
  const accepted: Array<[string, string[], ParseSettings, Record<string, unknown>, string[]]> = [
    ['--name=value', ['--name=n1'], CMD, { name: 'n1' }, []],
    ['--name value', ['--name', 'n1'], CMD, { name: 'n1' }, []],
    ['empty value with =', ['--name='], CMD, { name: '' }, []],
    ['= inside the value', ['--name=a=b'], CMD, { name: 'a=b' }, []],
    ['value with spaces', ['--name', 'a b'], CMD, { name: 'a b' }, []],
    ['negative number as separate value', ['--name', '-1'], CMD, { name: '-1' }, []],
    ['single-dash value with =', ['--name=-x'], CMD, { name: '-x' }, []],
    ['value starting with -- needs =', ['--name=--weird'], CMD, { name: '--weird' }, []],
    ['boolean flag', ['--recursive'], CMD, { recursive: true }, []],
    ['alias lands on the field key', ['--mac', 'aa:bb:cc:dd:ee:ff'], CMD, { mac_address: 'aa:bb:cc:dd:ee:ff' }, []],
    ['repeated list option', ['--systems', 'a', '--systems=b,c'], CMD, { systems: ['a', 'b,c'] }, []],
    ['choice', ['--format', 'json'], CMD, { format: 'json' }, []],
    ['short flag', ['-h'], CMD, { help: true }, []],
    ['-- ends options', ['--name', 'n', '--', '--recursive'], { command: 'x', maxPositionals: 1 }, { name: 'n' }, ['--recursive']],
    ['positionals when allowed', ['a', '--recursive', 'b'], { command: 'x', maxPositionals: 2 }, { recursive: true }, ['a', 'b']],
    ['lone - is a positional', ['-'], { command: 'x', maxPositionals: 1 }, {}, ['-']],
    ['nothing', [], CMD, {}, []],
  ];
  for (const [title, argv, settings, options, positionals] of accepted) {
    it(`accepts ${title}`, () => {
      const parsed = parseArgs(argv, SPECS, settings);
      assert.deepEqual(parsed.options, options);
      assert.deepEqual(parsed.positionals, positionals);
    });
  }

  const refused: Array<[string, string[], string]> = [
    ['unknown long option', ['--foo'], "unknown option --foo for 'system add'"],
    ['unknown long option with value', ['--foo=1'], "unknown option --foo for 'system add'"],
    ['underscore spelling', ['--mac_address=x'], "unknown option --mac_address for 'system add'"],
    ['unknown short option', ['-x'], "unknown option -x for 'system add'"],
    ['bundled shorts', ['-hx'], "unknown option -hx for 'system add'"],
    ['single-dash long name', ['-name', 'x'], "unknown option -name for 'system add'"],
    ['missing value at the end', ['--name'], "option --name for 'system add' needs a value"],
    ['forgotten value before another option', ['--name', '--recursive'],
      "option --name for 'system add' needs a value (write --name=VALUE for a value starting with --)"],
    ['value for a boolean', ['--recursive=true'], "option --recursive for 'system add' takes no value"],
    ['string option twice', ['--name', 'a', '--name=b'], "option --name for 'system add' is given more than once"],
    ['option and its alias', ['--mac', 'a', '--mac-address', 'b'], "option --mac-address for 'system add' is given more than once"],
    ['boolean twice', ['--recursive', '--recursive'], "option --recursive for 'system add' is given more than once"],
    ['value outside the choices', ['--format', 'yaml'], "option --format for 'system add' must be one of text, json (got 'yaml')"],
    ['positional argument', ['n1'], "unexpected argument 'n1' for 'system add'"],
    ['positional after --', ['--', 'n1'], "unexpected argument 'n1' for 'system add'"],
  ];
  for (const [title, argv, message] of refused) {
    it(`refuses ${title}`, () => {
      assert.throws(() => parseArgs(argv, SPECS, CMD), (e: unknown) => {
        assert.ok(isRackforgeError(e, 'CLI_USAGE'), String(e));
        assert.equal(e.message, message);
        return true;
      });
    });
  }

  it('stops at the first positional when asked, leaving it and the rest unparsed', () => {
    const parsed = parseArgs(['--name', 'n', 'system', 'add', '--foo'], SPECS, { command: 'rackforge', stopAtPositional: true });
    assert.deepEqual(parsed.options, { name: 'n' });
    assert.deepEqual(parsed.rest, ['system', 'add', '--foo']);
  });

  it('refuses an option table that spells two options the same', () => {
    assert.throws(() => indexSpecs([
      { flag: 'mac', key: 'a', kind: 'string' },
      { flag: 'mac-address', key: 'b', kind: 'string', aliases: ['mac'] },
    ]), /--mac is declared twice/);
  });
});

describe('command option tables', () => {
  it('give every command unambiguous spellings, global options included', () => {
    for (const def of CLIENT_COMMANDS) {
      const own = indexSpecs(def.options);
      const globals = GLOBAL_OPTIONS.filter((g) => !own.has(`--${g.flag}`));
      assert.doesNotThrow(() => indexSpecs([...def.options, ...globals]), def.words.join(' '));
    }
  });

  it('offer no read-only or derived field', () => {
    for (const type of OBJECT_TYPES) {
      const fields = itemFields(type);
      for (const ro of ['uid', 'ctime', 'mtime', 'depth', 'is_subobject', 'kickstart', 'ks_meta', 'interfaces']) {
        assert.ok(!fields.includes(ro), `${type} offers ${ro}`);
      }
      assert.equal(fields.includes('parent'), type === 'profile' || type === 'menu', `${type} parent`);
      assert.ok(fields.includes('name') && fields.includes('comment'), type);
    }
  });

  it('derive options from field names, with Cobbler aliases and interface fields for systems', () => {
    const add = CLIENT_COMMANDS.find((c) => c.words.join(' ') === 'system add');
    assert.ok(add);
    const byName = indexSpecs(add.options);
    assert.equal(byName.get('--mac-address')?.key, 'mac_address');
    assert.equal(byName.get('--mac')?.key, 'mac_address');
    assert.equal(byName.get('--ip')?.key, 'ip_address');
    assert.equal(byName.get('--kopts')?.key, 'kernel_options');
    assert.equal(byName.get('--kickstart')?.key, 'autoinstall');
    assert.equal(byName.get('--netboot-enabled')?.key, 'netboot_enabled');
    assert.equal(byName.get('--power-address')?.key, 'power_address');
    assert.equal(byName.get('--delete-interface')?.kind, 'boolean');
    assert.equal(byName.get('--in-place')?.kind, 'boolean');
    for (const f of INTERFACE_FIELDS) assert.ok(byName.has(`--${f.replace(/_/g, '-')}`), f);
    const distroAdd = CLIENT_COMMANDS.find((c) => c.words.join(' ') === 'distro add');
    assert.ok(distroAdd);
    const distro = indexSpecs(distroAdd.options);
    assert.ok(distro.has('--kernel') && distro.has('--initrd') && distro.has('--breed') && distro.has('--arch'));
    assert.ok(!distro.has('--mac') && !distro.has('--interface') && !distro.has('--kickstart'));
  });

  it('labels fields for reports', () => {
    assert.equal(fieldLabel('mac_address'), 'MAC Address');
    assert.equal(fieldLabel('ipv6_default_gateway'), 'IPv6 Default Gateway');
    assert.equal(fieldLabel('netboot_enabled'), 'Netboot Enabled');
  });
});
