"""Replay of the Go client cobbler/cobblerclient (v0.5.x, the 3.3 line used by
terraform-provider-cobbler), research note §1.5.4, in the order it makes its calls:

  CreateSystem     extended_version() -> version_tuple decides the get_system arity (> 3.3.3:
                   get_system(name, flatten, resolved, token)); get_system must answer "~";
                   new_system; modify_system for EVERY struct field, name first, inheritable
                   fields sent as the literal "<<inherit>>"; each must answer True;
                   save_system(handle, token, "new"); get_system again
  CreateInterface  get_item_handle("system", name, token); modify_system(handle, "modify_interface",
                   {"<field>-<nic>": ...} with the underscore field names of the Go struct, every
                   field); save_system(handle, token, "bypass")
  DeleteInterface  modify_system(handle, "delete_interface", nic, token); save
  RenameInterface  modify_system(handle, "rename_interface", {"interface": old, "rename_interface": new}, token); save
  copy/rename/remove, find_system(criteria, expand, token), find_items, find_items_paged,
  get_systems("", token), get_systems_since(float), background_sync + get_task_status polling,
  get_events, get_event_log.

Prerequisite: profile argv[2] exists (default lucid-i386-juju).
"""
import re
import sys
import time
import xmlrpc.client

from rf_replay import Replay

INHERIT = "<<inherit>>"


def system_fields(name, profile):
    """The System struct as cobblerclient sends it for a new system (NewSystem() defaults + ours)."""
    return [
        ("name", name),
        ("comment", "managed by terraform"),
        ("kernel_options", {"console": "ttyS0,115200"}),
        ("kernel_options_post", INHERIT),
        ("autoinstall_meta", INHERIT),
        ("template_files", {}),
        ("owners", INHERIT),
        ("boot_files", INHERIT),
        ("fetchable_files", INHERIT),
        ("mgmt_classes", INHERIT),
        ("mgmt_parameters", INHERIT),
        ("autoinstall", INHERIT),
        ("boot_loaders", INHERIT),
        ("enable_ipxe", INHERIT),
        ("filename", INHERIT),
        ("gateway", "10.99.0.1"),
        ("hostname", name + ".example.com"),
        ("ipv6_default_device", ""),
        ("image", ""),
        ("name_servers", ["10.99.0.53"]),
        ("name_servers_search", ["example.com"]),
        ("netboot_enabled", True),
        ("next_server_v4", INHERIT),
        ("next_server_v6", INHERIT),
        ("power_address", ""),
        ("power_id", ""),
        ("power_identity_file", ""),
        ("power_options", ""),
        ("power_pass", ""),
        ("power_type", "ipmilanplus"),
        ("power_user", ""),
        ("profile", profile),
        ("proxy", INHERIT),
        ("redhat_management_key", INHERIT),
        ("serial_baud_rate", -1),
        ("serial_device", -1),
        ("server", INHERIT),
        ("status", "production"),
        ("virt_auto_boot", INHERIT),
        ("virt_cpus", INHERIT),
        ("virt_disk_driver", INHERIT),
        ("virt_file_size", INHERIT),
        ("virt_pxe_boot", False),
        ("virt_path", INHERIT),
        ("virt_ram", INHERIT),
        ("virt_type", INHERIT),
    ]


def interface_map(nic, mac, ip, dns, management):
    """structs.Map(Interface) keyed "<mapstructure tag>-<nic>": every field, underscore names."""
    fields = {
        "bonding_opts": "", "bridge_opts": "", "cnames": [], "connected_mode": False, "dhcp_tag": "",
        "dns_name": dns, "if_gateway": "", "ip_address": ip, "ipv6_address": "", "ipv6_default_gateway": "",
        "ipv6_mtu": "", "ipv6_prefix": "", "ipv6_secondaries": [], "ipv6_static_routes": [],
        "interface_master": "", "interface_type": "na", "mac_address": mac, "mtu": "",
        "management": management, "netmask": "255.255.255.0", "static": True, "static_routes": [],
        "virt_bridge": "",
    }
    return {"%s-%s" % (k, nic): v for k, v in fields.items()}


def create_system(r, tag, conn, token, name, profile):
    r.call(tag + ".get_system(before)", conn.get_system, name, False, False, token)
    handle = r.call(tag + ".new_system", conn.new_system, token)
    answers = {}
    for field, value in system_fields(name, profile):
        answers[field] = r.call(tag + ".modify_system." + field, conn.modify_system, handle, field, value, token)
    r.note(tag + ".modify_answers_not_true", sorted(k for k, v in answers.items() if v is not True))
    r.call(tag + ".save_system(new)", conn.save_system, handle, token, "new")
    return r.call(tag + ".get_system(after)", conn.get_system, name, False, False, token)


def main():
    r = Replay()
    profile = sys.argv[2] if len(sys.argv) > 2 else "lucid-i386-juju"
    conn = xmlrpc.client.Server(r.url)
    token = r.call("login", conn.login, "cobbler", "cobbler")
    r.call("extended_version", conn.extended_version, token)
    t0 = time.time() - 1.0

    name = "go-node"
    got = create_system(r, "create", conn, token, name, profile)
    if isinstance(got, dict):
        r.note("create.field_mismatches", {f: [v, got.get(f, "<missing>")] for f, v in system_fields(name, profile)
                                            if got.get(f, "<missing>") != v})
    r.call("create.get_system(resolved)", conn.get_system, name, False, True, token)

    # A second CreateSystem under the same name: cobblerclient checks get_system first, but a racing
    # client reaches save_system(handle, token, "new"), which must refuse the existing name.
    dup = r.call("dup.new_system", conn.new_system, token)
    r.call("dup.modify_system.name", conn.modify_system, dup, "name", name, token)
    r.call("dup.modify_system.profile", conn.modify_system, dup, "profile", profile, token)
    r.call("dup.save_system(new)", conn.save_system, dup, token, "new")

    # NICs, one CreateInterface per NIC.
    for nic, mac, ip, mgmt in [("eth0", "52:54:00:60:00:01", "10.99.0.41", True), ("eth1", "52:54:00:60:00:02", "10.99.0.42", False)]:
        h = r.call("nic.%s.get_item_handle" % nic, conn.get_item_handle, "system", name, token)
        r.call("nic.%s.modify_interface" % nic, conn.modify_system, h, "modify_interface",
               interface_map(nic, mac, ip, "%s-%s.example.com" % (name, nic), mgmt), token)
        r.call("nic.%s.save_system" % nic, conn.save_system, h, token, "bypass")
    r.call("nic.get_system", conn.get_system, name, False, False, token)

    h = r.call("delete_interface.get_item_handle", conn.get_item_handle, "system", name, token)
    r.call("delete_interface.modify_system", conn.modify_system, h, "delete_interface", "eth1", token)
    r.call("delete_interface.save_system", conn.save_system, h, token, "bypass")
    r.call("delete_interface.get_system", conn.get_system, name, False, False, token)

    h = r.call("rename_interface.get_item_handle", conn.get_item_handle, "system", name, token)
    r.call("rename_interface.modify_system", conn.modify_system, h, "rename_interface",
           {"interface": "eth0", "rename_interface": "eth2"}, token)
    r.call("rename_interface.save_system", conn.save_system, h, token, "bypass")
    r.call("rename_interface.get_system", conn.get_system, name, False, False, token)

    # Lookups.
    r.call("find_system(names)", conn.find_system, {"name": name}, False, token)
    r.call("find_system(mac,expand)", conn.find_system, {"mac_address": "52:54:00:60:00:01"}, True, token)
    r.call("get_systems", conn.get_systems, "", token)
    for extra in ["go-node-b", "go-node-c"]:
        create_system(r, "create_" + extra, conn, token, extra, profile)
    r.call("find_items", conn.find_items, "system", {"profile": profile}, "name", False)
    r.call("find_items_paged.p1", conn.find_items_paged, "system", {"profile": profile}, "name", 1, 2, token)
    r.call("find_items_paged.p2", conn.find_items_paged, "system", {"profile": profile}, "name", 2, 2, token)
    r.call("get_systems_since(t0)", conn.get_systems_since, t0)
    r.call("get_systems_since(future)", conn.get_systems_since, time.time() + 3600.0)

    # copy / rename / remove (by handle, by handle, by name).
    h = r.call("copy.get_item_handle", conn.get_item_handle, "system", name, token)
    r.call("copy.copy_system", conn.copy_system, h, "go-node-copy", token)
    r.call("copy.get_system", conn.get_system, "go-node-copy", False, False, token)
    h = r.call("rename.get_system_handle", conn.get_system_handle, "go-node-copy", token)
    r.call("rename.rename_system", conn.rename_system, h, "go-node-renamed", token)
    r.call("rename.get_system(old)", conn.get_system, "go-node-copy", False, False, token)
    r.call("rename.get_system(new)", conn.get_system, "go-node-renamed", False, False, token)
    r.call("remove.remove_system", conn.remove_system, "go-node-renamed", token, False)
    r.call("remove.get_system", conn.get_system, "go-node-renamed", False, False, token)

    # Tasks and events.
    event_id = r.call("background_sync", conn.background_sync, {"verbose": True, "dhcp": False, "dns": False}, token)
    status = None
    polls = 0
    deadline = time.time() + 30
    while isinstance(event_id, str) and time.time() < deadline:
        polls += 1
        try:
            status = conn.get_task_status(event_id)
        except xmlrpc.client.Fault as fault:
            status = {"fault": fault.faultString}
            break
        if status[2] != "running":
            break
        time.sleep(0.2)
    r.note("background_sync.final_status", status)
    r.note("background_sync.polls", polls)
    r.note("background_sync.id_shape", bool(isinstance(event_id, str) and re.match(r"^\d{4}-\d{2}-\d{2}_\d{6}_", event_id)))
    events = r.call("get_events", conn.get_events, "")
    r.note("get_events.has_sync", isinstance(events, dict) and event_id in events)
    if isinstance(events, dict) and event_id in events:
        r.note("get_events.entry", events[event_id])
    r.call("get_event_log", conn.get_event_log, event_id or "")
    r.call("get_event_log(unknown)", conn.get_event_log, "no-such-event")
    r.call("get_task_status(unknown)", conn.get_task_status, "no-such-event")

    sys_event = r.call("background_syncsystems", conn.background_syncsystems, {"systems": [name], "verbose": True}, token)
    sys_status = None
    deadline = time.time() + 30
    while isinstance(sys_event, str) and time.time() < deadline:
        sys_status = conn.get_task_status(sys_event)
        if sys_status[2] != "running":
            break
        time.sleep(0.2)
    r.note("background_syncsystems.final_status", sys_status)

    r.call("remove_all.go-node", conn.remove_system, name, token, False)
    r.finish()


if __name__ == "__main__":
    main()
