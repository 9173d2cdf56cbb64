import assert from 'node:assert/strict';
import { selectBootChoice, type BootRequest, type MachineBoot } from './boot-choice.ts';

const policy = { httpBase: 'http://10.0.0.1:8080', unknownMachines: 'menu' as const };
const mac = '52:54:00:00:00:01';
const known: MachineBoot = { system: 'node1', netboot: true, bootLoaders: [] };
const req = (r: Partial<BootRequest>): BootRequest => ({ userClasses: [], mac, ...r });

describe('selectBootChoice', () => {
  const cases: Array<[string, BootRequest, MachineBoot | null, string]> = [
    ['no option 93 (dhclient, udhcpc): BIOS loader', req({}), known, 'pxelinux.0'],
    ['arch 0 BIOS', req({ arch: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }), known, 'pxelinux.0'],
    ['arch 0 with only ipxe allowed', req({ arch: 0 }), { ...known, bootLoaders: ['ipxe'] }, 'undionly.kpxe'],
    ['arch 7 x64 UEFI', req({ arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003016' }), known, 'ipxe.efi'],
    ['arch 9 x64 UEFI', req({ arch: 9 }), known, 'ipxe.efi'],
    ['arch 7 with grub only', req({ arch: 7 }), { ...known, bootLoaders: ['grub'] }, 'grub/grubx64.efi'],
    ['arch 11 ARM64 UEFI', req({ arch: 11 }), known, 'grub/grubaa64.efi'],
    ['arch 10 ARM32 UEFI', req({ arch: 10 }), known, 'grub/armv7.efi'],
    ['arch 16 HTTP boot gets a URL', req({ arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003000' }), known, 'http://10.0.0.1:8080/boot/ipxe.efi'],
    ['arch 19 ARM64 HTTP boot', req({ arch: 19, vendorClass: 'HTTPClient:Arch:00019:UNDI:003000' }), known, 'http://10.0.0.1:8080/boot/grub/grubaa64.efi'],
    ['iPXE ROM on BIOS (Cobbler default, enable_ipxe off): chain-loads pxelinux', req({ arch: 0, userClasses: ['iPXE'] }), known, 'pxelinux.0'],
    ['iPXE on BIOS allowed only ipxe: script URL, not undionly.kpxe again', req({ arch: 0, userClasses: ['iPXE'] }), { ...known, bootLoaders: ['ipxe'] }, `http://10.0.0.1:8080/cblr/svc/op/ipxe/mac/${mac}`],
    ['iPXE on UEFI: script URL, not ipxe.efi again', req({ arch: 7, userClasses: ['iPXE'] }), known, `http://10.0.0.1:8080/cblr/svc/op/ipxe/mac/${mac}`],
    ['explicit filename on the system', req({ arch: 0 }), { ...known, filename: 'custom/boot.0' }, 'custom/boot.0'],
    ['unknown MAC with the menu policy', req({ arch: 0 }), null, 'pxelinux.0'],
  ];
  for (const [name, r, m, file] of cases) {
    it(name, () => {
      const c = selectBootChoice(r, m, policy);
      assert.equal(c.kind, 'boot', JSON.stringify(c));
      assert.equal(c.kind === 'boot' && c.file, file);
    });
  }
  it('enable_ipxe: BIOS PXE ROMs get undionly.kpxe, and iPXE then its script', () => {
    const p = { ...policy, enableIpxe: true };
    assert.deepEqual([selectBootChoice(req({ arch: 0 }), known, p), selectBootChoice(req({ arch: 0, userClasses: ['iPXE'] }), known, p)].map((c) => c.kind === 'boot' && c.file),
      ['undionly.kpxe', `http://10.0.0.1:8080/cblr/svc/op/ipxe/mac/${mac}`]);
  });
  it('netboot disabled: no boot file, and says why', () => {
    const c = selectBootChoice(req({ arch: 0 }), { ...known, netboot: false }, policy);
    assert.equal(c.kind, 'no-boot');
    assert.match(c.reason, /netboot is disabled for node1/);
  });
  it('unknown MAC with the ignore policy is ignored', () => {
    assert.equal(selectBootChoice(req({ arch: 0 }), null, { ...policy, unknownMachines: 'ignore' }).kind, 'ignore');
  });
  it('EFI IA32 and unknown architectures get no boot file', () => {
    assert.equal(selectBootChoice(req({ arch: 6 }), known, policy).kind, 'no-boot');
    assert.equal(selectBootChoice(req({ arch: 99 }), known, policy).kind, 'no-boot');
  });
  it('boot loaders that exclude every option for the firmware: no boot file', () => {
    assert.equal(selectBootChoice(req({ arch: 0 }), { ...known, bootLoaders: ['grub'] }, policy).kind, 'no-boot');
  });
});
