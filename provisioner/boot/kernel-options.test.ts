import assert from 'node:assert/strict';
import type { ItemRecord, Value } from '../inventory/types.ts';
import { bootWorld } from './boot-fixtures.ts';
import { selectBootTarget } from './boot-target.ts';
import { buildKernelOptions, KERNEL_LINE_WARN_LENGTH, substitute, type KernelOptionsInput } from './kernel-options.ts';

const TOKEN = '0123456789abcdef0123456789abcdef';
const SVC = 'http://10.0.0.1/cblr/svc/op';

function distro(fields: Record<string, Value>): ItemRecord {
  return { name: 'd', uid: 'u', ctime: 0, mtime: 0, breed: 'redhat', os_version: 'rhel9', arch: 'x86_64', ...fields };
}
function system(fields: Record<string, Value> = {}): ItemRecord {
  return { name: 'node1', uid: 'u2', ctime: 0, mtime: 0, hostname: '', interfaces: {}, serial_device: -1, serial_baud_rate: -1, ...fields };
}
function input(over: Partial<KernelOptionsInput> & { blended?: Record<string, Value> }): KernelOptionsInput {
  return {
    kind: 'system', name: 'node1', distro: distro({}), system: system(),
    ...over,
    blended: { server: '10.0.0.1', http_server: '10.0.0.1', autoinstall: 'sample.ks', kernel_options: {}, ...(over.blended ?? {}) },
  };
}

describe('buildKernelOptions', () => {
  const table: Array<[string, KernelOptionsInput, string[], string[]?]> = [
    ['redhat (el7+): inst.ks with the token', input({ token: TOKEN }), ['inst.ks.sendmac', `inst.ks=${SVC}/autoinstall/system/node1/token/${TOKEN}`]],
    ['redhat rhel6: kssendmac ks=', input({ distro: distro({ os_version: 'rhel6' }) }), ['kssendmac', `ks=${SVC}/autoinstall/system/node1`]],
    ['profile: no token in the URL', input({ kind: 'profile', name: 'p_1', token: TOKEN }), ['inst.ks.sendmac', `inst.ks=${SVC}/autoinstall/profile/p_1`]],
    ['http_port other than 80', input({ blended: { http_server: '10.0.0.1:8080' } }), ['inst.ks.sendmac', 'inst.ks=http://10.0.0.1:8080/cblr/svc/op/autoinstall/system/node1']],
    ['autoinstall_scheme https', input({ blended: { autoinstall_scheme: 'https' } }), ['inst.ks.sendmac', 'inst.ks=https://10.0.0.1/cblr/svc/op/autoinstall/system/node1']],
    ['no autoinstall template: no URL', input({ blended: { autoinstall: '' } }), []],
    ['autoinstall already a URL', input({ blended: { autoinstall: 'http://elsewhere/ks.cfg' } }), ['inst.ks.sendmac', 'inst.ks=http://elsewhere/ks.cfg']],
    ['debian system: d-i arguments, FQDN split', input({ distro: distro({ breed: 'debian', os_version: 'bookworm' }), system: system({ hostname: 'web.lab.example' }), token: TOKEN, blended: { autoinstall: 'sample.seed' } }),
      ['auto-install/enable=true', 'priority=critical', 'netcfg/choose_interface=auto', `url=${SVC}/autoinstall/system/node1/token/${TOKEN}`, 'hostname=web', 'domain=lab.example', 'suite=bookworm']],
    ['debian system without hostname: the system name, local.lan', input({ distro: distro({ breed: 'debian', os_version: 'bookworm' }), blended: { autoinstall: 'sample.seed' } }),
      ['auto-install/enable=true', 'priority=critical', 'netcfg/choose_interface=auto', `url=${SVC}/autoinstall/system/node1`, 'hostname=node1', 'domain=local.lan', 'suite=bookworm']],
    ['ubuntu profile: underscores dropped from the hostname', input({
      kind: 'profile', name: 'my_profile', distro: distro({ breed: 'ubuntu', os_version: 'focal' }), blended: { autoinstall: 'sample.seed' },
    }), ['auto-install/enable=true', 'priority=critical', 'netcfg/choose_interface=auto', `url=${SVC}/autoinstall/profile/my_profile`, 'hostname=myprofile', 'domain=local.lan', 'suite=focal']],
    ['debian with a management interface', input({
      distro: distro({ breed: 'debian', os_version: 'bookworm' }), system: system({ interfaces: { eno1: { mac_address: 'aa:bb:cc:dd:ee:ff', management: true } } }), blended: { autoinstall: 'sample.seed' },
    }), ['auto-install/enable=true', 'priority=critical', 'netcfg/choose_interface=auto', `url=${SVC}/autoinstall/system/node1`, 'netcfg/choose_interface=eno1', 'hostname=node1', 'domain=local.lan', 'suite=bookworm']],
    ['ubuntu with a cloud-init template: NoCloud, no d-i url=', input({ distro: distro({ breed: 'ubuntu', os_version: 'jammy' }), token: TOKEN, blended: { autoinstall: 'sample-autoinstall.yaml' } }),
      ['autoinstall', `ds=nocloud-net;s=${SVC}/autoinstall/system/node1/token/${TOKEN}/`]],
    ['suse: info= nopxe, autoyast=, netdevice= of the management MAC', input({
      distro: distro({ breed: 'suse', os_version: 'sles15' }), token: TOKEN, system: system({ interfaces: { eth0: { mac_address: 'aa:bb:cc:dd:ee:ff', management: true } } }),
    }), [`info=${SVC}/nopxe/system/node1/token/${TOKEN}`, `autoyast=${SVC}/autoinstall/system/node1/token/${TOKEN}`, 'netdevice=aa:bb:cc:dd:ee:ff']],
    ['generic breed: nothing', input({ distro: distro({ breed: 'generic' }) }), []],
    ['empty breed: nothing', input({ distro: distro({ breed: '' }) }), []],
    ['freebsd: ks=, ksdevice→interface, lang→locale', input({ distro: distro({ breed: 'freebsd' }), blended: { kernel_options: { ksdevice: 'em0', lang: 'C' } } }),
      ['interface=em0', 'locale=C', `ks=${SVC}/autoinstall/system/node1`]],
    ['esxi: ks= first', input({ distro: distro({ breed: 'vmware', os_version: 'esxi70' }), blended: { kernel_options: { a: '1' } } }), [`ks=${SVC}/autoinstall/system/node1`, 'a=1']],
    ['kernel_options in order: bare keys, lists, quoted values, ~ as None', input({
      blended: { autoinstall: '', kernel_options: { quiet: '', console: ['tty0', 'ttyS0,115200'], 'rd.break': null, title: 'two words', nomodeset: '~', z: 0 } },
    }), ['quiet', 'console=tty0', 'console=ttyS0,115200', 'rd.break', "title='two words'", 'nomodeset', 'z']],
    ['$variables from blended data and autoinstall_meta; loader syntax kept', input({
      blended: { autoinstall: '', kernel_options: { srv: '$server', m: '${mirror}', mac: '${net0/mac}', u: '$undefined_var' }, autoinstall_meta: { mirror: 'http://m' } },
    }), ['srv=10.0.0.1', 'm=http://m', 'mac=${net0/mac}', 'u=$undefined_var']],
    ['iPXE redhat: ksdevice=bootif becomes the iPXE MAC', input({ blended: { enable_ipxe: true, kernel_options: { ksdevice: 'bootif' } } }),
      ['ksdevice=${net0/mac}', 'inst.ks.sendmac', `inst.ks=${SVC}/autoinstall/system/node1`]],
    ['serial console on x86_64 systems', input({ blended: { autoinstall: '' }, system: system({ serial_device: 1, serial_baud_rate: -1 }) }), ['console=ttyS1,115200']],
    ['serial baud only', input({ blended: { autoinstall: '' }, system: system({ serial_baud_rate: 9600 }) }), ['console=ttyS0,9600']],
    ['no serial console for profiles', input({ kind: 'profile', system: undefined, blended: { autoinstall: '' } }), []],
    ['arm extras', input({ distro: distro({ arch: 'arm', breed: 'generic' }) }), ['fixrtc', 'vram=48M', 'omapfb.vram=0:24M']],
  ];
  for (const [label, inp, args, initrdExtra] of table) {
    it(label, () => {
      const ko = buildKernelOptions(inp);
      assert.deepEqual(ko.args, args);
      assert.equal(ko.line, args.join(' '));
      assert.deepEqual(ko.initrdExtra, initrdExtra ?? []);
      assert.deepEqual(ko.warnings, []);
    });
  }

  it('takes an initrd kernel option out of the line as an extra initrd', () => {
    const ko = buildKernelOptions(input({ blended: { autoinstall: '', kernel_options: { initrd: '/images/extra.img', quiet: '' } } }));
    assert.deepEqual(ko.initrdExtra, ['/images/extra.img']);
    assert.deepEqual(ko.args, ['quiet']);
  });

  it(`warns when the line reaches ${KERNEL_LINE_WARN_LENGTH} characters`, () => {
    const short = buildKernelOptions(input({ blended: { autoinstall: '', kernel_options: { x: 'a'.repeat(KERNEL_LINE_WARN_LENGTH - 3) } } }));
    assert.equal(short.line.length, KERNEL_LINE_WARN_LENGTH - 1);
    assert.deepEqual(short.warnings, []);
    const long = buildKernelOptions(input({ blended: { autoinstall: '', kernel_options: { x: 'a'.repeat(KERNEL_LINE_WARN_LENGTH - 2) } } }));
    assert.equal(long.line.length, KERNEL_LINE_WARN_LENGTH);
    assert.equal(long.warnings.length, 1);
    assert.match(long.warnings[0]!, /1023/);
  });

  it('blends distro, profile and system kernel_options in inheritance order (real inventory)', () => {
    const w = bootWorld();
    const t = selectBootTarget(w.inv, { system: 'web01' });
    assert.equal(t.kind, 'system');
    if (t.kind !== 'system') return;
    const ko = buildKernelOptions({ kind: 'system', name: 'web01', blended: t.blended, distro: t.distro!, system: t.system, token: TOKEN });
    assert.deepEqual(ko.args.slice(0, 3), ['vga=788', 'quiet', 'console=ttyS0,115200']);
    assert.ok(ko.args.includes(`url=${SVC}/autoinstall/system/web01/token/${TOKEN}`));
  });

  it('substitute leaves non-scalar values alone', () => {
    assert.equal(substitute('a=$d', { d: { x: 1 } }), 'a=$d');
    assert.equal(substitute('a=$n', { n: 3 }), 'a=3');
  });
});
