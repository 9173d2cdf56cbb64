"""Replay of Ansible's community.general.cobbler_system module (plugins/modules/cobbler_system.py),
call for call, with the decisions it takes (research note §1.5.2).

The module opens xmlrpc_client.Server(url) WITHOUT allow_none, logs in, then:
  getsystem()      find_system({"name": name}, token)   -- the token lands in `expand`
  create           new_system, modify_system(name), one modify_system per property,
                   one modify_system(handle, "modify_interface", {...}), save_system(handle, token)
  update           [version()], get_system_handle(name[, token]), modify_system only for the keys
                   whose current value differs, modify_interface only if a NIC value differs, save
  query (no name)  get_systems()
  absent           remove_system(name, token)
The update path differs between releases: community.general 6.x (Debian's ansible 7.7) always
calls get_system_handle(name, token); later releases call version() and, when
Version(str(version())) >= Version("3.4.0") -- true for 3.307 -- get_system_handle(name).
Both are replayed.

Prerequisite: profile argv[2] exists (default lucid-i386-juju).
"""
import sys
import xmlrpc.client

from rf_replay import Replay, contains_none

IFPROPS_MAPPING = {
    "bondingopts": "bonding_opts", "bridgeopts": "bridge_opts", "connected_mode": "connected_mode",
    "cnames": "cnames", "dhcptag": "dhcp_tag", "dnsname": "dns_name", "ifgateway": "if_gateway",
    "interfacetype": "interface_type", "interfacemaster": "interface_master", "ipaddress": "ip_address",
    "ipv6address": "ipv6_address", "ipv6defaultgateway": "ipv6_default_gateway", "ipv6mtu": "ipv6_mtu",
    "ipv6prefix": "ipv6_prefix", "ipv6staticroutes": "ipv6_static_routes", "macaddress": "mac_address",
    "management": "management", "mtu": "mtu", "netmask": "netmask", "static": "static",
    "staticroutes": "static_routes", "virtbridge": "virt_bridge",
}


def version_at_least_3_4(v):
    """packaging.Version(str(v)) >= Version("3.4.0"), without packaging: 3.307 -> (3, 307) >= (3, 4)."""
    parts = tuple(int(x) for x in str(v).split("."))
    return parts + (0,) * (3 - len(parts)) >= (3, 4, 0)


def cobbler_system(r, tag, conn, token, name, state, properties=None, interfaces=None, handle_style="token"):
    """One module run. Returns the module's result dict (changed, system/systems)."""
    result = {"changed": False}
    found = r.call(tag + ".find_system", conn.find_system, {"name": name}, token) if name else []
    system = found[0] if found else {}

    if state == "query":
        if name:
            result["system"] = system
        else:
            result["systems"] = r.call(tag + ".get_systems", conn.get_systems)
        return result

    if state == "present":
        if system:
            if handle_style == "version":
                v = r.call(tag + ".version", conn.version)
                if version_at_least_3_4(v):
                    system_id = r.call(tag + ".get_system_handle(name)", conn.get_system_handle, name)
                else:
                    system_id = r.call(tag + ".get_system_handle(name, token)", conn.get_system_handle, name, token)
            else:
                system_id = r.call(tag + ".get_system_handle(name, token)", conn.get_system_handle, name, token)
            for key, value in (properties or {}).items():
                if key not in system:
                    r.note(tag + ".missing_property." + key, True)
                    continue
                if system[key] != value:
                    r.call(tag + ".modify_system." + key, conn.modify_system, system_id, key, value, token)
                    result["changed"] = True
        else:
            system_id = r.call(tag + ".new_system", conn.new_system, token)
            r.call(tag + ".modify_system.name", conn.modify_system, system_id, "name", name, token)
            result["changed"] = True
            for key, value in (properties or {}).items():
                r.call(tag + ".modify_system." + key, conn.modify_system, system_id, key, value, token)

        interface_properties = {}
        for device, values in (interfaces or {}).items():
            for key, value in values.items():
                current = system.get("interfaces", {}).get(device, {}).get(IFPROPS_MAPPING[key], None) if system else None
                if not system or current != value:
                    result["changed"] = True
                interface_properties["%s-%s" % (key, device)] = value
        if interface_properties and result["changed"]:
            r.call(tag + ".modify_interface", conn.modify_system, system_id, "modify_interface", interface_properties, token)
        if result["changed"]:
            r.call(tag + ".save_system", conn.save_system, system_id, token)

    elif state == "absent":
        if system:
            r.call(tag + ".remove_system", conn.remove_system, name, token)
            result["changed"] = True

    after = r.call(tag + ".find_system(after)", conn.find_system, {"name": name}, token)
    result["system"] = after[0] if after else {}
    return result


def main():
    r = Replay()
    profile = sys.argv[2] if len(sys.argv) > 2 else "lucid-i386-juju"
    conn = xmlrpc.client.Server(r.url)  # exactly as the module: no allow_none
    token = r.call("login", conn.login, "cobbler", "cobbler")

    name = "ans-replay-01"
    properties = {
        "profile": profile,
        "hostname": "ans-replay-01.example.com",
        "kernel_options": {"console": "ttyS0,115200", "nomodeset": "1"},
        "netboot_enabled": True,
        "name_servers": ["10.99.0.53", "10.99.0.54"],
        "comment": "replayed from cobbler_system",
        "status": "testing",
    }
    interfaces = {
        "eth0": {"macaddress": "52:54:00:1a:00:01", "ipaddress": "10.99.0.31",
                 "dnsname": "ans-replay-01.example.com", "netmask": "255.255.255.0",
                 "static": True, "management": True},
        "eth1": {"macaddress": "52:54:00:1a:00:02"},
    }

    r.note("before.find_system_result", r.call("before.find_system", conn.find_system, {"name": name}, token))
    created = cobbler_system(r, "create", conn, token, name, "present", properties, interfaces)
    r.note("create.result", created)
    again = cobbler_system(r, "rerun", conn, token, name, "present", properties, interfaces)
    r.note("rerun.result", again)

    # Update through the community.general 6.x path: get_system_handle(name, token).
    changed_props = dict(properties, netboot_enabled=False)
    upd1 = cobbler_system(r, "update2", conn, token, name, "present", changed_props, interfaces)
    r.note("update2.result", upd1)
    # Update through the newer path: version() then get_system_handle(name) (one argument).
    changed_ifaces = {"eth0": dict(interfaces["eth0"], ipaddress="10.99.0.32"), "eth1": interfaces["eth1"]}
    upd2 = cobbler_system(r, "update1", conn, token, name, "present", changed_props, changed_ifaces, handle_style="version")
    r.note("update1.result", upd2)

    # An attribute a system does not have: Cobbler's modify_item answers False (hasattr fails).
    handle = r.call("unknown_attr.get_system_handle", conn.get_system_handle, name, token)
    r.call("unknown_attr.modify_system", conn.modify_system, handle, "no_such_field", "x", token)

    queried = cobbler_system(r, "query", conn, token, name, "query")
    r.note("query.result", queried)
    all_systems = cobbler_system(r, "queryall", conn, token, None, "query")
    r.note("queryall.names", sorted(s["name"] for s in (all_systems.get("systems") or [])))
    r.note("queryall.has_none", contains_none(all_systems.get("systems")))

    removed = cobbler_system(r, "absent", conn, token, name, "absent")
    r.note("absent.result", removed)
    removed_again = cobbler_system(r, "absent_again", conn, token, name, "absent")
    r.note("absent_again.result", removed_again)

    r.call("sync", conn.sync, token)  # cobbler_sync: login, then sync(token)
    r.finish()


if __name__ == "__main__":
    main()
