import assert from 'node:assert/strict';
import type { ItemRecord, Value } from '../../provisioner/inventory/types.ts';
import { buildKernelOptions } from '../../provisioner/boot/kernel-options.ts';
import { renderPxelinuxMenu, renderPxelinuxSystem } from '../../provisioner/boot/pxelinux-config.ts';
import type { BootEntry } from '../../provisioner/boot/boot-entry.ts';
import { clientUuidFor, formatUuid } from './dhcp-client.ts';
import {
  BootFlowError, initrdsOf, parsePxelinuxConfig, pxelinuxConfigCandidates, pxelinuxPathPrefix, pxelinuxResolve, runBootFlow,
  selectAutoinstallUrls, selectPxelinuxLabel, type BootFetcher, type BootFlowInput, type FetchResult,
} from './pxelinux-flow.ts';

const MAC = '52:54:00:ab:cd:01';
const IP = '192.168.1.100';

function kernelArgs(breed: string, osVersion: string, template: string): string[] {
  const distro: ItemRecord = { name: 'd', uid: 'u', ctime: 0, mtime: 0, breed, os_version: osVersion, arch: 'x86_64' };
  const system: ItemRecord = { name: 'node1', uid: 'u2', ctime: 0, mtime: 0, hostname: 'node1', interfaces: {}, serial_device: -1, serial_baud_rate: -1 };
  const blended: Record<string, Value> = { server: '10.0.0.1', http_server: '10.0.0.1:8080', autoinstall: template, kernel_options: {} };
  return buildKernelOptions({ kind: 'system', name: 'node1', distro, system, blended, token: 'tok' }).args;
}

function entry(args: string[], over: Partial<BootEntry> = {}): BootEntry {
  return { name: 'node1', local: false, kernelPath: '/images/d/vmlinuz', initrdPaths: ['/images/d/initrd.img'], args, warnings: [], ...over };
}

/** A fetcher over fixed trees that records what was asked, in order. */
function fetcher(tftp: Record<string, string | Buffer>, http: Record<string, string> = {}, fail: Record<string, string> = {}): BootFetcher & { asked: string[] } {
  const asked: string[] = [];
  const answer = (key: string, value: string | Buffer | undefined): FetchResult => {
    if (fail[key]) return { ok: false, notFound: false, error: fail[key]! };
    if (value === undefined) return { ok: false, notFound: true, error: `TFTP error 1 for ${key}: File not found` };
    const data = Buffer.isBuffer(value) ? value : Buffer.from(value);
    return { ok: true, bytes: data.length, data };
  };
  return {
    asked,
    async tftp(path, o) {
      asked.push(`tftp:${path}${o.probe ? ' probe' : ''}${o.windowsize ? ` w${o.windowsize} b${o.blksize}` : ''}`);
      const r = answer(path, tftp[path]);
      return r.ok && o.probe ? { ok: true, bytes: 0, tsize: r.bytes } : r;
    },
    async http(url) { asked.push(`http:${url}`); return answer(url, http[url]); },
  };
}

const input = (over: Partial<BootFlowInput> = {}): BootFlowInput => ({ firmware: 'bios', mac: MAC, ip: IP, uuid: clientUuidFor(MAC), bootFile: 'pxelinux.0', fetch: 'all', ...over });
const LOADERS = { 'pxelinux.0': 'nbp', 'ldlinux.c32': 'ld', 'menu.c32': 'm', 'libutil.c32': 'u', '/images/d/vmlinuz': 'k', '/images/d/initrd.img': 'i' };

describe('pxelinux flow', () => {
  it("searches configurations in pxelinux's order", () => {
    const uuid = clientUuidFor(MAC);
    assert.deepEqual(pxelinuxConfigCandidates(uuid, MAC, IP), [
      formatUuid(uuid), '01-52-54-00-ab-cd-01',
      'C0A80164', 'C0A8016', 'C0A801', 'C0A80', 'C0A8', 'C0A', 'C0', 'C', 'default',
    ]);
    assert.deepEqual(pxelinuxConfigCandidates(undefined, MAC, '10.0.0.5').slice(0, 2), ['01-52-54-00-ab-cd-01', '0A000005']);
  });

  it('resolves names against the boot file directory', () => {
    assert.equal(pxelinuxPathPrefix('pxelinux.0'), '');
    assert.equal(pxelinuxPathPrefix('bios/pxelinux.0'), 'bios/');
    assert.equal(pxelinuxResolve('bios/', 'ldlinux.c32'), 'bios/ldlinux.c32');
    assert.equal(pxelinuxResolve('bios/', '/images/d/vmlinuz'), '/images/d/vmlinuz');
    assert.equal(pxelinuxResolve('bios/', '::images/x'), 'images/x');
  });

  it("boots the per-system file the provisioner renders: its kernel, initrd and autoinstall URL", () => {
    const args = kernelArgs('debian', 'bookworm', 'sample.seed');
    const cfg = parsePxelinuxConfig(renderPxelinuxSystem(entry(args)));
    const choice = selectPxelinuxLabel(cfg);
    assert.ok(!('error' in choice));
    assert.deepEqual(choice.modules, []);
    assert.equal(choice.label.kernel, '/images/d/vmlinuz');
    assert.deepEqual(initrdsOf(choice.label), ['/images/d/initrd.img']);
    assert.deepEqual(selectAutoinstallUrls(choice.label.append!), ['http://10.0.0.1:8080/cblr/svc/op/autoinstall/system/node1/token/tok']);
  });

  it('finds the autoinstall URL on every breed line the provisioner writes', () => {
    const base = 'http://10.0.0.1:8080/cblr/svc/op/autoinstall/system/node1/token/tok';
    const table: Array<[string, string, string, string[]]> = [
      ['redhat', 'rhel9', 'sample.ks', [base]],
      ['redhat', 'rhel6', 'sample.ks', [base]],
      ['suse', 'sles15', 'sample.xml', [base]],
      ['ubuntu', 'focal', 'sample-autoinstall.yaml', [`${base}/user-data`, `${base}/meta-data`]],
      ['freebsd', 'freebsd13', 'sample.ks', [base]],
      ['generic', '', 'sample.ks', []],
    ];
    for (const [breed, version, template, urls] of table) {
      assert.deepEqual(selectAutoinstallUrls(kernelArgs(breed, version, template).join(' ')), urls, breed + version);
    }
    assert.deepEqual(selectAutoinstallUrls('initrd=x ks=nfs:10.0.0.1:/ks.cfg'), [], 'only HTTP is fetched');
    assert.deepEqual(selectAutoinstallUrls("auto url='http://10.0.0.1/p.seed'"), ['http://10.0.0.1/p.seed']);
  });

  it("runs the profile menu as Cobbler's `DEFAULT menu` does: menu.c32, then the ONTIMEOUT entry", () => {
    const menu = renderPxelinuxMenu([entry(['url=http://10.0.0.1/p'], { name: 'prof' })], { timeoutTarget: 'prof' });
    const choice = selectPxelinuxLabel(parsePxelinuxConfig(menu));
    assert.ok(!('error' in choice));
    assert.deepEqual(choice.modules, ['menu.c32', 'libutil.c32']);
    assert.equal(choice.label.name, 'prof');
    const local = selectPxelinuxLabel(parsePxelinuxConfig(renderPxelinuxMenu([entry([], { name: 'prof' })])));
    assert.ok(!('error' in local) && local.label.localboot === true && local.label.name === 'local');
  });

  it('reads LINUX, INITRD, UI and MENU DEFAULT, and rejects configs that boot nothing', () => {
    const cfg = parsePxelinuxConfig('# c\nUI vesamenu.c32\nMENU TITLE x\nLABEL a\n  LINUX a.k\nLABEL b\n  MENU DEFAULT\n  LINUX b.k\n  INITRD b1.img,b2.img\n  APPEND quiet\n');
    const c = selectPxelinuxLabel(cfg);
    assert.ok(!('error' in c));
    assert.deepEqual(c.modules, ['vesamenu.c32', 'libcom32.c32', 'libutil.c32']);
    assert.equal(c.label.name, 'b');
    assert.deepEqual(initrdsOf(c.label), ['b1.img', 'b2.img']);
    assert.deepEqual(selectPxelinuxLabel(parsePxelinuxConfig('LABEL a\n kernel k\n')), { error: 'no DEFAULT line' });
    assert.deepEqual(selectPxelinuxLabel(parsePxelinuxConfig('UI menu.c32\n')), { error: 'the menu menu.c32 has no entries' });
  });

  it('fetches in the order a BIOS machine does, stopping at the first configuration found', async () => {
    const url = 'http://10.0.0.1:8080/cblr/svc/op/autoinstall/system/node1/token/tok';
    const f = fetcher({ ...LOADERS, 'pxelinux.cfg/01-52-54-00-ab-cd-01': renderPxelinuxSystem(entry(kernelArgs('debian', 'bookworm', 'sample.seed'))) }, { [url]: 'd-i ...' });
    const stages: string[] = [];
    const r = await runBootFlow(input(), f, (s, d) => stages.push(`${s} ${d ?? ''}`.trim()));
    assert.deepEqual(r, { result: 'done', config: 'pxelinux.cfg/01-52-54-00-ab-cd-01', detail: 'label node1: fetched 1 autoinstall file(s)' });
    assert.deepEqual(f.asked, [
      'tftp:pxelinux.0', 'tftp:ldlinux.c32', `tftp:pxelinux.cfg/${formatUuid(clientUuidFor(MAC))}`, 'tftp:pxelinux.cfg/01-52-54-00-ab-cd-01',
      'tftp:/images/d/vmlinuz', 'tftp:/images/d/initrd.img', `http:${url}`,
    ]);
    assert.deepEqual(stages, [
      'boot-file pxelinux.0', 'config ldlinux.c32', 'config pxelinux.cfg/01-52-54-00-ab-cd-01',
      'kernel /images/d/vmlinuz', 'initrd /images/d/initrd.img', `autoinstall ${url}`,
    ]);
  });

  it('fetches kernels given as http:// URLs over HTTP', async () => {
    const cfg = 'DEFAULT x\nLABEL x\n kernel http://10.0.0.1/k\n append initrd=http://10.0.0.1/i\n';
    const f = fetcher({ ...LOADERS, 'pxelinux.cfg/default': cfg }, { 'http://10.0.0.1/k': 'k', 'http://10.0.0.1/i': 'i' });
    const r = await runBootFlow(input({ fetch: 'kernel' }), f, () => {});
    assert.equal(r.result, 'done');
    assert.deepEqual(f.asked.slice(-2), ['http:http://10.0.0.1/k', 'http:http://10.0.0.1/i']);
  });

  it('ends in local-boot for a LOCALBOOT entry, after loading the menu modules', async () => {
    const f = fetcher({ ...LOADERS, 'pxelinux.cfg/default': renderPxelinuxMenu([]) });
    const r = await runBootFlow(input(), f, () => {});
    assert.equal(r.result, 'local-boot');
    assert.equal(r.config, 'pxelinux.cfg/default');
    assert.deepEqual(f.asked.slice(-3), ['tftp:pxelinux.cfg/default', 'tftp:menu.c32', 'tftp:libutil.c32']);
  });

  it('stops early with fetch config or kernel', async () => {
    const cfg = renderPxelinuxSystem(entry(['url=http://10.0.0.1/p']));
    const f = fetcher({ ...LOADERS, 'pxelinux.cfg/01-52-54-00-ab-cd-01': cfg });
    assert.equal((await runBootFlow(input({ fetch: 'config' }), f, () => {})).result, 'done');
    assert.equal(f.asked.at(-1), 'tftp:pxelinux.cfg/01-52-54-00-ab-cd-01');
    const g = fetcher({ ...LOADERS, 'pxelinux.cfg/01-52-54-00-ab-cd-01': cfg });
    await runBootFlow(input({ fetch: 'kernel' }), g, () => {});
    assert.equal(g.asked.at(-1), 'tftp:/images/d/initrd.img');
  });

  it('fails with the stage and the error of the transfer that failed', async () => {
    const failing = async (f: BootFetcher, i = input()): Promise<BootFlowError> => {
      try {
        await runBootFlow(i, f, () => {});
      } catch (e) {
        assert.ok(e instanceof BootFlowError);
        return e;
      }
      assert.fail('the flow should fail');
    };
    const noNbp = await failing(fetcher({}));
    assert.equal(noNbp.stage, 'boot-file');
    assert.equal(noNbp.message, 'boot file pxelinux.0: TFTP error 1 for pxelinux.0: File not found');
    assert.match((await failing(fetcher({ 'pxelinux.0': 'x' }))).message, /^pxelinux: failed to load ldlinux\.c32/);
    const noCfg = await failing(fetcher({ 'pxelinux.0': 'x', 'ldlinux.c32': 'y' }));
    assert.equal(noCfg.stage, 'config');
    assert.match(noCfg.message, /unable to locate a configuration file \(tried .*01-52-54-00-ab-cd-01, C0A80164, .*, C, default\)/);
    const cfg = renderPxelinuxSystem(entry(['url=http://10.0.0.1/p']));
    const kernel = await failing(fetcher({ ...LOADERS, 'pxelinux.cfg/default': cfg }, {}, { '/images/d/vmlinuz': 'TFTP timeout' }));
    assert.equal(kernel.stage, 'kernel');
    const auto = await failing(fetcher({ ...LOADERS, 'pxelinux.cfg/default': cfg }, {}, { 'http://10.0.0.1/p': 'HTTP 500 Internal Server Error' }));
    assert.equal(auto.stage, 'autoinstall');
    assert.equal(auto.message, 'autoinstall http://10.0.0.1/p: HTTP 500 Internal Server Error');
    assert.match((await failing(fetcher({}), input({ bootFile: 'http://10.0.0.1/boot/pxelinux.0' }))).message, /PXE ROM loads its boot file over TFTP only/);
  });

  it('loads the boot file on UEFI as EDK2 does (size probe, then windowsize 4) and stops there', async () => {
    const f = fetcher({ 'ipxe.efi': Buffer.alloc(100), 'undionly.kpxe': 'x' });
    const uefi = await runBootFlow(input({ firmware: 'uefi', bootFile: 'ipxe.efi' }), f, () => {});
    assert.equal(uefi.result, 'done');
    assert.match(uefi.detail, /ipxe\.efi \(100 bytes\); a synthetic node does not execute EFI binaries/);
    const other = await runBootFlow(input({ bootFile: 'undionly.kpxe' }), f, () => {});
    assert.match(other.detail, /only pxelinux is emulated/);
    assert.deepEqual(f.asked, ['tftp:ipxe.efi probe w4 b1468', 'tftp:ipxe.efi w4 b1468', 'tftp:undionly.kpxe']);
  });

  it('fails a UEFI boot file whose size differs from the announced one', async () => {
    const f: BootFetcher = {
      tftp: async (_p, o) => (o.probe ? { ok: true, bytes: 0, tsize: 500 } : { ok: true, bytes: 400 }),
      http: async () => ({ ok: false, notFound: true, error: 'no' }),
    };
    await assert.rejects(runBootFlow(input({ firmware: 'uefi', bootFile: 'grubx64.efi' }), f, () => {}), /announced 500 bytes, received 400/);
  });
});
