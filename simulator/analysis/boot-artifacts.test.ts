import assert from 'node:assert/strict';
import {
  archFromVendorClass, classifyBootPath, clientArchName, clientFirmware, contentFirmware, detectBootFileContent,
  firmwareMismatch, type BootArtifact, type BootFirmware,
} from './boot-artifacts.ts';
import { bootFileBytes } from './capture-fixtures.ts';

describe('boot-artifacts', () => {
  describe('classifyBootPath', () => {
    const cases: Array<[string, string | undefined, BootArtifact]> = [
      ['pxelinux.0', undefined, { role: 'boot-loader', firmware: 'bios' }],
      ['/lpxelinux.0', undefined, { role: 'boot-loader', firmware: 'bios' }],
      ['boot\\x86\\wdsnbp.com', undefined, { role: 'boot-loader', firmware: 'bios' }],
      ['grub/grubx64.efi', undefined, { role: 'boot-loader', firmware: 'efi-x64' }],
      ['shimx64.efi', undefined, { role: 'boot-loader', firmware: 'efi-x64' }],
      ['EFI/BOOT/BOOTAA64.EFI', undefined, { role: 'boot-loader', firmware: 'efi-arm64' }],
      ['grub/grubaa64.efi', undefined, { role: 'boot-loader', firmware: 'efi-arm64' }],
      ['efi/aa64/grub.efi', undefined, { role: 'boot-loader', firmware: 'efi-arm64' }],
      ['bootia32.efi', undefined, { role: 'boot-loader', firmware: 'efi-ia32' }],
      ['grub.efi', undefined, { role: 'boot-loader', firmware: 'efi' }],
      ['undionly.kpxe', undefined, { role: 'ipxe-binary', firmware: 'bios' }],
      ['ipxe.efi', undefined, { role: 'ipxe-binary', firmware: 'efi' }],
      ['snponly.efi', undefined, { role: 'ipxe-binary', firmware: 'efi' }],
      ['ipxe-arm64.efi', undefined, { role: 'ipxe-binary', firmware: 'efi-arm64' }],
      ['ldlinux.c32', undefined, { role: 'loader-module', firmware: 'bios' }],
      ['pxelinux.cfg/01-52-54-00-12-34-01', undefined, { role: 'loader-config' }],
      ['pxelinux.cfg/default', undefined, { role: 'loader-config' }],
      ['grub/grub.cfg-01-52-54-00-12-34-01', undefined, { role: 'loader-config' }],
      ['/ipxe/default.ipxe', undefined, { role: 'ipxe-script' }],
      ['http://10.0.0.1/cblr/svc/op/ipxe/mac/52:54:00:12:34:01', undefined, { role: 'ipxe-script', system: '52:54:00:12:34:01' }],
      ['/cblr/svc/op/gpxe/system/node1', undefined, { role: 'ipxe-script', system: 'node1' }],
      ['/cblr/links/debian12-x86_64/linux', undefined, { role: 'kernel', distro: 'debian12-x86_64' }],
      ['/cblr/links/debian12-x86_64/initrd.gz', undefined, { role: 'initrd', distro: 'debian12-x86_64' }],
      ['/images/rocky9/vmlinuz', undefined, { role: 'kernel', distro: 'rocky9' }],
      ['/cblr/images/rocky9/initrd.img', undefined, { role: 'initrd', distro: 'rocky9' }],
      ['images/debian12-x86_64/linux', undefined, { role: 'kernel', distro: 'debian12-x86_64' }],
      ['bzImage', undefined, { role: 'kernel' }],
      ['boot/initramfs-6.1.0.img', undefined, { role: 'initrd' }],
      ['rootfs.cpio.gz', undefined, { role: 'initrd' }],
      ['/cblr/svc/op/autoinstall/system/node1/token/abc', undefined, { role: 'autoinstall', system: 'node1' }],
      ['/cblr/svc/op/ks/profile/rocky9', undefined, { role: 'autoinstall', system: 'rocky9' }],
      ['/preseed.cfg', undefined, { role: 'autoinstall' }],
      ['/ks.cfg?x=1', undefined, { role: 'autoinstall' }],
      ['/nocloud/node1/user-data', undefined, { role: 'autoinstall' }],
      ['/cblr/svc/op/event/system/node1/token/T/stage/image-written?detail=ok', undefined, { role: 'install-event', stage: 'image-written', system: 'node1' }],
      ['/cblr/svc/op/trig/mode/post/system/node1', undefined, { role: 'install-trigger', stage: 'post', system: 'node1' }],
      ['/cblr/svc/op/nopxe/system/node1/token/T', undefined, { role: 'nopxe', system: 'node1' }],
      ['/cblr/svc/op/list/what/systems', undefined, { role: 'listing' }],
      ['/api/v1/hypervisors', 'POST', { role: 'registration' }],
      ['/api/v1/hypervisors', 'GET', { role: 'other' }],
      ['/api/v1/hypervisors/node1/heartbeat', 'POST', { role: 'heartbeat', system: 'node1' }],
      ['/favicon.ico', 'GET', { role: 'other' }],
    ];
    for (const [path, method, expected] of cases) {
      it(`${method ?? ''} ${path}`.trim(), () => assert.deepEqual(classifyBootPath(path, method), expected));
    }
  });

  describe('architectures', () => {
    it('names the RFC 4578 / IANA codes', () => {
      assert.equal(clientArchName(0), 'BIOS (x86)');
      assert.equal(clientArchName(7), 'x64 UEFI');
      assert.equal(clientArchName(9), 'x64 UEFI');
      assert.equal(clientArchName(11), 'ARM64 UEFI');
      assert.equal(clientArchName(16), 'x64 UEFI HTTP');
      assert.equal(clientArchName(19), 'ARM64 UEFI HTTP');
      assert.equal(clientArchName(500), 'arch 500');
    });
    it('maps a client architecture to its firmware', () => {
      assert.deepEqual([0, 6, 7, 9, 10, 11, 16, 19, 2].map(clientFirmware),
        ['bios', 'efi-ia32', 'efi-x64', 'efi-x64', 'efi-arm32', 'efi-arm64', 'efi-x64', 'efi-arm64', undefined]);
    });
    it('reads the Arch field of option 60', () => {
      assert.equal(archFromVendorClass('PXEClient:Arch:00007:UNDI:003016'), 7);
      assert.equal(archFromVendorClass('HTTPClient:Arch:00016:UNDI:003001'), 16);
      assert.equal(archFromVendorClass('PXEClient'), undefined);
      assert.equal(archFromVendorClass(undefined), undefined);
    });
    it('firmwareMismatch: BIOS vs UEFI, and two different UEFI CPUs', () => {
      const table: Array<[BootFirmware, BootFirmware, boolean]> = [
        ['bios', 'bios', false], ['bios', 'efi-x64', true], ['bios', 'efi', true], ['efi-x64', 'bios', true],
        ['efi-x64', 'efi-x64', false], ['efi-x64', 'efi', false], ['efi-arm64', 'efi-x64', true], ['efi-x64', 'efi-arm64', true],
        ['efi-ia32', 'efi-x64', true],
      ];
      for (const [client, file, want] of table) assert.equal(firmwareMismatch(client, file), want, `${client} given ${file}`);
    });
  });

  describe('detectBootFileContent', () => {
    it('reads the PE machine type', () => {
      assert.equal(detectBootFileContent(bootFileBytes(512, 0x8664)), 'pe-x64');
      assert.equal(detectBootFileContent(bootFileBytes(512, 0xaa64)), 'pe-arm64');
      assert.equal(detectBootFileContent(bootFileBytes(512, 0x014c)), 'pe-ia32');
      assert.equal(detectBootFileContent(bootFileBytes(512, 0x01c4)), 'pe-arm32');
      assert.equal(detectBootFileContent(bootFileBytes(512, 0x5064)), 'pe-other');
      assert.equal(contentFirmware('pe-arm64'), 'efi-arm64');
    });
    it('no MZ is a BIOS network boot program', () => {
      assert.equal(detectBootFileContent(bootFileBytes(512)), 'not-pe');
      assert.equal(contentFirmware('not-pe'), 'bios');
    });
    it('says nothing when the header is not all there', () => {
      assert.equal(detectBootFileContent(Buffer.from('M')), undefined);
      assert.equal(detectBootFileContent(bootFileBytes(512, 0x8664).subarray(0, 0x60)), undefined);
      const noPe = bootFileBytes(512, 0x8664);
      noPe.write('XX', 0x80, 'latin1');
      assert.equal(detectBootFileContent(noPe), 'pe-other');
    });
  });
});
