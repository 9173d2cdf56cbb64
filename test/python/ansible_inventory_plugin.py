"""Replay of Ansible's community.general.cobbler inventory plugin (plugins/inventory/cobbler.py,
research note §1.5.3): Server(url, allow_none=True), login only when a user is configured,
get_profiles(token) / get_systems(token) (the token lands in `page`, which Cobbler ignores),
or get_profiles() / get_systems() without a user. Then the plugin's own reading of the data:
profile parents, hostnames, interfaces and the group_by keys, where the literal "<<inherit>>"
means "no group".

Expects the tree the TypeScript test seeds: profiles lucid-i386-juju and its sub-profile
juju-web, systems inv-web01, inv-db01, inv-nohost.
"""
import xmlrpc.client

from rf_replay import Replay, contains_none

GROUP_BY = ["mgmt_classes", "owners", "status"]


def plugin_view(profiles, systems):
    """What the plugin derives: profile edges and, per system, hostname and groups."""
    edges = []
    for p in profiles:
        if p["parent"]:
            edges.append([p["parent"], p["name"]])
        else:
            parts = p["name"].split("-")
            for i in range(len(parts) - 1):
                edges.append(["-".join(parts[: i + 1]), "-".join(parts[: i + 2])])
    hosts = {}
    for host in systems:
        hostname = host["hostname"]
        if hostname == "":
            for _, iface in host["interfaces"].items():
                if iface["management"] or not iface["static"]:
                    dns = iface.get("dns_name", None)
                    if dns is not None and dns != "":
                        hostname = dns
        if hostname == "":
            continue
        groups = [host["profile"]]
        for key in GROUP_BY:
            if host[key] == "<<inherit>>":
                continue
            groups.extend([host[key]] if isinstance(host[key], str) else host[key])
        hosts[hostname] = {"system": host["name"], "groups": groups}
    return {"edges": sorted(edges), "hosts": hosts}


def main():
    r = Replay()
    conn = xmlrpc.client.Server(r.url, allow_none=True)
    token = r.call("login", conn.login, "cobbler", "cobbler")
    profiles = r.call("get_profiles(token)", conn.get_profiles, token) or []
    systems = r.call("get_systems(token)", conn.get_systems, token) or []
    # Without a configured user the plugin calls both with no argument at all.
    anon_profiles = r.call("get_profiles()", conn.get_profiles) or []
    anon_systems = r.call("get_systems()", conn.get_systems) or []

    r.note("profiles.has_none", contains_none(profiles))
    r.note("systems.has_none", contains_none(systems))
    r.note("profiles.name_parent", sorted([p.get("name"), p.get("parent")] for p in profiles))
    r.note("anon.same_names", sorted(p["name"] for p in anon_profiles) == sorted(p["name"] for p in profiles)
           and sorted(s["name"] for s in anon_systems) == sorted(s["name"] for s in systems))
    # Every key the plugin reads must be present on every record (a KeyError kills the plugin).
    missing = []
    for s in systems:
        for key in ["name", "hostname", "interfaces", "profile"] + GROUP_BY:
            if key not in s:
                missing.append("%s.%s" % (s.get("name"), key))
        for ifname, iface in (s.get("interfaces") or {}).items():
            for key in ["management", "static"]:
                if key not in iface:
                    missing.append("%s.interfaces.%s.%s" % (s.get("name"), ifname, key))
    for p in profiles:
        for key in ["name", "parent"]:
            if key not in p:
                missing.append("profile %s.%s" % (p.get("name"), key))
    r.note("missing_keys", missing)
    r.note("raw_group_by", {s["name"]: {k: s.get(k) for k in GROUP_BY} for s in systems})
    try:
        r.note("view", plugin_view(profiles, systems))
    except Exception as exc:  # the plugin itself would crash here
        r.note("view_error", "%s: %s" % (type(exc).__name__, exc))
    r.finish()


if __name__ == "__main__":
    main()
