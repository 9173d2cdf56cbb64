import assert from 'node:assert/strict';
import { selectTreeNames } from './tftp-export.ts';

describe('selectTreeNames', () => {
  it('menus always; per interface with a valid MAC its pxelinux and GRUB names, lowercase, sorted', () => {
    const names = selectTreeNames([
      { name: 'a', interfaces: { eth0: { mac_address: '52:54:00:AA:00:01' }, eth1: { mac_address: '' } } },
      { name: 'b', interfaces: { eth0: { mac_address: 'not-a-mac' } } },
      { name: 'c' },
    ]);
    assert.deepEqual(names, [
      'grub.cfg', 'grub/grub.cfg', 'grub/system/52:54:00:aa:00:01', 'grub/x86_64_menu_items.cfg',
      'ipxe/default.ipxe', 'pxelinux.cfg/01-52-54-00-aa-00-01', 'pxelinux.cfg/default',
    ]);
  });
});
