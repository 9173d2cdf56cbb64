// Golden renderings of the PXELINUX, GRUB and iPXE files for one hand-made entry each way.
import assert from 'node:assert/strict';
import type { BootEntry } from './boot-entry.ts';
import { grubQuote, renderGrubCfg, renderGrubMenuItems, renderGrubSystem, renderRootGrubCfg } from './grub-config.ts';
import { renderIpxeMenu, renderIpxeSystem } from './ipxe-script.ts';
import { pxelinuxAppend, renderPxelinuxMenu, renderPxelinuxSystem } from './pxelinux-config.ts';

const NET: BootEntry = {
  name: 'web01', local: false,
  kernelPath: '/images/deb/linux', initrdPaths: ['/images/deb/initrd.gz'],
  kernelUrl: 'http://10.0.0.1/images/deb/linux', initrdUrls: ['http://10.0.0.1/images/deb/initrd.gz'],
  args: ['quiet', 'url=http://10.0.0.1/cblr/svc/op/autoinstall/system/web01/token/abc'], warnings: [],
};
const LOCAL: BootEntry = { name: 'db01', local: true, args: [], warnings: [] };
const CLOUD: BootEntry = { ...NET, name: 'ub', args: ['autoinstall', 'ds=nocloud-net;s=http://x/'] };

describe('PXELINUX files', () => {
  it('system with netboot: kernel, append with initrd, ipappend 2', () => {
    assert.equal(renderPxelinuxSystem(NET), [
      'timeout 1', 'prompt 0', 'default web01', 'ontimeout web01',
      'LABEL web01', '\tMENU LABEL web01', '\tkernel /images/deb/linux',
      '\tappend initrd=/images/deb/initrd.gz quiet url=http://10.0.0.1/cblr/svc/op/autoinstall/system/web01/token/abc',
      '\tipappend 2', '',
    ].join('\n'));
  });
  it('system without netboot: localboot -1', () => {
    assert.equal(renderPxelinuxSystem(LOCAL), ['totaltimeout 0', 'prompt 0', 'default db01', 'ontimeout db01', 'LABEL db01', '\tMENU LABEL db01', '\tlocalboot -1', ''].join('\n'));
  });
  it('extra initrds join the first with commas', () => {
    assert.equal(pxelinuxAppend({ ...NET, initrdPaths: ['/a', '/b'], args: [] }), 'initrd=/a,/b');
  });
  it('menu: local is the default entry, ONTIMEOUT local', () => {
    const text = renderPxelinuxMenu([NET]);
    assert.match(text, /^DEFAULT menu\nPROMPT 0\n/);
    assert.match(text, /\nONTIMEOUT local\n/);
    assert.match(text, /\nLABEL local\n\tMENU LABEL \(local\)\n\tMENU DEFAULT\n\tLOCALBOOT -1\n/);
    assert.match(text, /\nLABEL web01\n\tMENU LABEL web01\n\tkernel \/images\/deb\/linux\n/);
    assert.match(text, /\nMENU end\n$/);
    assert.match(renderPxelinuxMenu([], { timeoutTarget: 'p1' }), /\nONTIMEOUT p1\n/);
  });
});

describe('GRUB files', () => {
  it('system with netboot selects its own entry', () => {
    assert.equal(renderGrubSystem(NET), [
      'set system="web01"', 'set timeout=1', "set default='web01'",
      "menuentry 'web01' --class gnu-linux --class gnu --class os {",
      "  echo 'Loading kernel ...'",
      '  linux /images/deb/linux quiet url=http://10.0.0.1/cblr/svc/op/autoinstall/system/web01/token/abc',
      "  echo 'Loading initial ramdisk ...'",
      '  initrd /images/deb/initrd.gz',
      "  echo '...done'",
      '}', '',
    ].join('\n'));
  });
  it('system without netboot defaults to local', () => {
    assert.equal(renderGrubSystem(LOCAL), ['set system="db01"', 'set timeout=1', "set default='local'", ''].join('\n'));
  });
  it('quotes arguments GRUB would split (the NoCloud ds= with its ";")', () => {
    assert.match(renderGrubMenuItems([CLOUD]), /linux \/images\/deb\/linux autoinstall 'ds=nocloud-net;s=http:\/\/x\/'\n/);
    assert.equal(grubQuote('plain=1'), 'plain=1');
    assert.equal(grubQuote("it's"), "'it'\\''s'");
  });
  it('grub.cfg sources the per-MAC file, defines local, and sources the arch menu', () => {
    const cfg = renderGrubCfg();
    assert.match(cfg, /set mac=\$\{net_default_mac\}/);
    assert.match(cfg, /source "\$\{prefix\}\/system\/\$\{mac\}"/);
    assert.match(cfg, /menuentry 'local'/);
    assert.match(cfg, /source "\$\{prefix\}\/\$\{arch\}_menu_items.cfg"/);
    assert.doesNotMatch(cfg, /linuxefi|initrdefi/);
    assert.match(renderRootGrubCfg(), /source "\$\{prefix\}\/grub.cfg"/);
  });
});

describe('iPXE scripts', () => {
  it('system with netboot: kernel over HTTP with initrd=, initrd, boot', () => {
    assert.equal(renderIpxeSystem(NET), [
      '#!ipxe',
      'kernel http://10.0.0.1/images/deb/linux initrd=initrd.gz quiet url=http://10.0.0.1/cblr/svc/op/autoinstall/system/web01/token/abc',
      'initrd http://10.0.0.1/images/deb/initrd.gz',
      'boot', '',
    ].join('\n'));
  });
  it('system without netboot: exit on EFI/HP, else sanboot the first disk', () => {
    assert.equal(renderIpxeSystem(LOCAL), ['#!ipxe', 'iseq ${platform} efi && exit ||', 'iseq ${smbios/manufacturer} HP && exit ||', 'sanboot --no-describe --drive 0x80', ''].join('\n'));
  });
  it('menu: items, one label per profile, local last', () => {
    const text = renderIpxeMenu([NET, LOCAL], { macScriptUrl: 'http://10.0.0.1/cblr/svc/op/ipxe/mac/' });
    assert.match(text, /^#!ipxe\nchain --autofree http:\/\/10\.0\.0\.1\/cblr\/svc\/op\/ipxe\/mac\/\$\{net0\/mac\} \|\|\n/);
    assert.match(text, /\nisset \$\{menu-default\} \|\| set menu-default local\n/);
    assert.match(text, /\nitem local \(local\)\nitem web01 web01\nchoose /);
    assert.doesNotMatch(text, /item db01/);
    assert.match(text, /\n:web01\nkernel http:\/\/10\.0\.0\.1\/images\/deb\/linux initrd=initrd\.gz quiet /);
    assert.match(text, /\n:local\niseq \$\{platform\} efi && exit \|\|\n/);
  });
});
