import assert from 'node:assert/strict';
import { bootWorld } from './boot-fixtures.ts';
import { parseBootPath, selectBootFile, type BootFile } from './boot-files.ts';

const TOKEN = 'f'.repeat(32);

describe('selectBootFile', () => {
  const w = bootWorld();
  const issued: string[] = [];
  const deps = { inventory: w.inv, tokenFor: (s: string) => { issued.push(s); return TOKEN; } };

  type Want = null | { disk: string } | { text: RegExp[]; not?: RegExp[]; system?: string; mac?: string };
  const table: Array<[string, Want]> = [
    ['pxelinux.cfg/01-52-54-00-aa-00-01', { text: [/^timeout 1$/m, /kernel \/images\/debian12\/linux/, /append initrd=\/images\/debian12\/initrd\.gz vga=788 quiet console=ttyS0,115200 /, /token\/f{32} /, /ipappend 2/], system: 'web01', mac: '52:54:00:aa:00:01' }],
    ['/pxelinux.cfg/01-52-54-00-AA-00-02', { text: [/default web01/], system: 'web01', mac: '52:54:00:aa:00:02' }],
    ['pxelinux.cfg/01-52-54-00-aa-00-03', { text: [/^totaltimeout 0$/m, /localboot -1/], not: [/kernel/, /token/], system: 'db01' }],
    ['pxelinux.cfg/01-de-ad-be-ef-00-01', null],
    ['pxelinux.cfg/C0A8000B', null],
    ['pxelinux.cfg/44454c4c-5300-1056-8050-b4c04f564e31', null],
    ['pxelinux.cfg/default', { text: [/^DEFAULT menu$/m, /^ONTIMEOUT local$/m, /^LABEL debian12-x86_64$/m, /^LABEL rocky9-x86_64$/m], not: [/^LABEL hidden$/m, /arm-debian/, /token/] }],
    ['grub/system/52:54:00:aa:00:01', { text: [/set default='web01'/, /linux \/images\/debian12\/linux /, /initrd \/images\/debian12\/initrd\.gz/], system: 'web01' }],
    ['grub/system/52:54:00:AA:00:01', { text: [/set default='web01'/], system: 'web01' }],
    ['grub/system/52:54:00:aa:00:03', { text: [/set default='local'/], system: 'db01' }],
    ['grub/system/00:00:00:00:00:00', null],
    ['grub/system/not-a-mac', null],
    ['grub/grub.cfg', { text: [/net_default_mac/] }],
    ['grub.cfg', { text: [/set prefix=\(\$\{root\}\)\/grub/] }],
    ['grub/x86_64_menu_items.cfg', { text: [/menuentry 'debian12-x86_64'/, /menuentry 'jammy-x86_64'/], not: [/arm-debian/, /hidden/] }],
    ['grub/aarch64_menu_items.cfg', { text: [/menuentry 'arm-debian'/], not: [/debian12-x86_64/] }],
    ['ipxe/default.ipxe', { text: [/^#!ipxe$/m, /^item debian12-x86_64 /m, /kernel http:\/\/10\.0\.0\.1\/images\/debian12\/linux /], not: [/arm-debian/] }],
    ['images/debian12/linux', { disk: '/srv/boot/debian12/linux' }],
    ['/images/debian12/initrd.gz', { disk: '/srv/boot/debian12/initrd.gz' }],
    ['grub/images/rocky9/vmlinuz', { disk: '/srv/boot/rocky9/vmlinuz' }],
    ['images/debian12/vmlinuz', null],
    ['images/debian12', null],
    ['images/nosuch/linux', null],
    ['images/debian12/linux/extra', null],
    ['images/../etc/passwd', null],
    ['images/debian12/../../../etc/passwd', null],
    ['images/./debian12/linux', null],
    ['images//debian12/linux', null],
    ['images\\debian12\\linux', null],
    ['images/debian12/linux\u0000', null],
    ['../images/debian12/linux', null],
    ['srv/boot/debian12/linux', null],
    ['', null],
    ['/', null],
    ['pxelinux.0', null],
  ];
  for (const [path, want] of table) {
    it(`${JSON.stringify(path)} → ${want === null ? 'null' : 'disk' in want ? `disk ${want.disk}` : 'text'}`, () => {
      const got: BootFile | null = selectBootFile(path, deps);
      if (want === null) { assert.equal(got, null); return; }
      assert.ok(got, 'expected a file');
      if ('disk' in want) {
        assert.equal(got.kind, 'disk');
        if (got.kind === 'disk') assert.equal(got.path, want.disk);
        return;
      }
      assert.equal(got.kind, 'text');
      if (got.kind !== 'text') return;
      for (const re of want.text) assert.match(got.text, re);
      for (const re of want.not ?? []) assert.doesNotMatch(got.text, re);
      if (want.system) assert.equal(got.system, want.system);
      if (want.mac) assert.equal(got.mac, want.mac);
    });
  }

  it('issues tokens only for systems that netboot', () => {
    issued.length = 0;
    selectBootFile('pxelinux.cfg/01-52-54-00-aa-00-03', deps);
    selectBootFile('pxelinux.cfg/default', deps);
    assert.deepEqual(issued, []);
    selectBootFile('pxelinux.cfg/01-52-54-00-aa-00-01', deps);
    assert.deepEqual(issued, ['web01']);
  });

  it('a system named "default" makes its profile the menu timeout', () => {
    const w2 = bootWorld();
    w2.add('system', { name: 'default', profile: 'rocky9-x86_64' });
    const f = selectBootFile('pxelinux.cfg/default', { inventory: w2.inv });
    assert.ok(f && f.kind === 'text');
    assert.match(f.text, /^ONTIMEOUT rocky9-x86_64$/m);
  });

  it('remote kernels are not files on disk', () => {
    const w2 = bootWorld();
    w2.add('distro', { name: 'remote', kernel: 'http://mirror/linux', initrd: 'http://mirror/initrd', breed: 'debian' });
    assert.equal(selectBootFile('images/remote/linux', { inventory: w2.inv }), null);
  });

  it('parseBootPath splits plain names and refuses the rest', () => {
    assert.deepEqual(parseBootPath('/grub/system/aa:bb'), ['grub', 'system', 'aa:bb']);
    assert.deepEqual(parseBootPath('//images/d/k'), ['images', 'd', 'k']);
    for (const bad of ['a/../b', 'a/./b', 'a//b', 'a\\b', 'a\nb', 'x'.repeat(2000)]) assert.equal(parseBootPath(bad), null, bad);
  });
});
