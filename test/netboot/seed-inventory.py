# Creates a distro, a profile and systems through the Cobbler API, as an automation script would.
# argv: URL PASSWORD then one or more NAME=MAC[=IP][=netboot-off]
import sys, xmlrpc.client
url, password, *systems = sys.argv[1:]
s = xmlrpc.client.ServerProxy(url)
t = s.login('cobbler', password)
d = s.new_distro(t)
for k, v in [('name', 'lab-distro'), ('arch', 'x86_64'), ('breed', 'debian'), ('os_version', 'bookworm'),
             ('kernel', '/boot/lab/vmlinuz'), ('initrd', '/boot/lab/initrd.img')]:
    s.modify_distro(d, k, v, t)
s.save_distro(d, t)
p = s.new_profile(t)
s.modify_profile(p, 'name', 'lab-profile', t)
s.modify_profile(p, 'distro', 'lab-distro', t)
s.save_profile(p, t)
for spec in systems:
    parts = spec.split('=')
    name, mac = parts[0], parts[1]
    ip = parts[2] if len(parts) > 2 and parts[2] else ''
    h = s.new_system(t)
    s.modify_system(h, 'name', name, t)
    s.modify_system(h, 'profile', 'lab-profile', t)
    s.modify_system(h, 'hostname', name, t)
    iface = {'macaddress-eth0': mac}
    if ip:
        iface['ipaddress-eth0'] = ip
    s.modify_system(h, 'modify_interface', iface, t)
    s.modify_system(h, 'netboot_enabled', not (len(parts) > 3 and parts[3] == 'netboot-off'), t)
    s.save_system(h, t)
print('seeded', len(systems))
