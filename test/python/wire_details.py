"""Wire-level details of Cobbler 3.3.7's XML-RPC answers, checked with raw HTTP (http.client)
and Python's own parser (research note §1.1, §1.1b):

- a failed login is a fault with faultCode <int>1</int> and faultString
  "<class 'cobbler.cexceptions.CX'>:'login failed (cobbler)'" (CX.__str__ is repr(value));
- an unknown method: CX("unknown remote method 'x'") -> repr uses double quotes;
- get_system of a missing name is the string "~" (None is never marshalled: no allow_none);
- login gives a 36-character token; version() is the double 3.307;
- system.multicall and system.listMethods;
- inputs a lenient server must take: untyped <value>text</value>, <i4>, <nil/>, empty <value/>
  (kolo/xmlrpc, used by cobblerclient, sends the last two).
"""
import http.client
import urllib.parse
import xmlrpc.client

from rf_replay import Replay


def call_xml(method, params_xml):
    return ("<?xml version='1.0'?>\n<methodCall><methodName>%s</methodName><params>%s</params></methodCall>\n"
            % (method, "".join("<param>%s</param>" % p for p in params_xml))).encode()


class Raw:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path

    def post(self, body, content_type="text/xml"):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("POST", self.path, body=body, headers={"Content-Type": content_type})
            res = conn.getresponse()
            data = res.read().decode("utf-8", "replace")
            return {"status": res.status, "content_type": res.getheader("Content-Type", ""), "body": data}
        finally:
            conn.close()


def decode(body):
    """Python's own parser: (value, None) or (None, {"code", "string"})."""
    try:
        params, _ = xmlrpc.client.loads(body)
        return params[0], None
    except xmlrpc.client.Fault as fault:
        return None, {"code": fault.faultCode, "string": fault.faultString}


def raw_step(r, raw, name, method, params_xml):
    res = raw.post(call_xml(method, params_xml))
    value, fault = decode(res["body"])
    r.note(name, {"http_status": res["status"], "content_type": res["content_type"], "body": res["body"],
                  "value": value, "fault": fault})
    return value


def s(text):
    return "<value><string>%s</string></value>" % text


def main():
    r = Replay()
    raw = Raw(r.url)
    server = xmlrpc.client.Server(r.url)

    raw_step(r, raw, "login_failed", "login", [s("cobbler"), s("wrong-password")])
    raw_step(r, raw, "unknown_method", "no_such_method", [])
    raw_step(r, raw, "private_method", "_dispatch", [])
    raw_step(r, raw, "get_system_missing", "get_system", [s("no-such-system")])
    token = raw_step(r, raw, "login_ok", "login", [s("cobbler"), s("cobbler")])
    raw_step(r, raw, "version", "version", [])
    raw_step(r, raw, "ping", "ping", [])
    raw_step(r, raw, "invalid_token", "new_system", [s("not-a-token")])
    raw_step(r, raw, "arity", "get_system_handle", [s("a"), s("b"), s("c"), s("d")])
    # Lenient input: untyped string, <i4>, <nil/>, empty <value/>, empty <params/>.
    raw_step(r, raw, "untyped_string", "get_system", ["<value>no-such-system</value>"])
    raw_step(r, raw, "nil_param", "get_systems", ["<value><nil/></value>", "<value><nil/></value>", s(token or "")])
    raw_step(r, raw, "empty_value_param", "get_systems", ["<value/>", "<value/>", s(token or "")])
    raw_step(r, raw, "i4_params", "find_items_paged",
             [s("system"), "<value><struct></struct></value>", s("name"), "<value><i4>1</i4></value>",
              "<value><i4>5</i4></value>", s(token or "")])

    # Through Python's client as well: the float, the token, the "~".
    r.call("py.version", server.version)
    r.call("py.version_type", lambda: type(server.version()).__name__)
    r.call("py.token_len", lambda: len(server.login("cobbler", "cobbler")))
    r.call("py.get_system_missing", server.get_system, "no-such-system")
    r.call("py.login_failed", server.login, "cobbler", "wrong-password")

    # system.multicall: Python's MultiCall sends one system.multicall with a list of {methodName, params}.
    multi = xmlrpc.client.MultiCall(server)
    multi.version()
    multi.ping()
    multi.get_system("no-such-system")
    multi.login("cobbler", "wrong-password")
    multi.get_item_names("system")
    results = []
    try:
        for value in multi():
            results.append({"ok": value})
    except xmlrpc.client.Fault as fault:
        # The iterator raises at the first fault entry; read the rest from the raw list.
        results.append({"fault": {"code": fault.faultCode, "string": fault.faultString}})
    except Exception as exc:
        results.append({"error": "%s: %s" % (type(exc).__name__, exc)})
    r.note("multicall.iterated", results)
    raw_step(r, raw, "multicall.raw", "system.multicall", [
        "<value><array><data>"
        "<value><struct><member><name>methodName</name><value><string>version</string></value></member>"
        "<member><name>params</name><value><array><data></data></array></value></member></struct></value>"
        "<value><struct><member><name>methodName</name><value><string>login</string></value></member>"
        "<member><name>params</name><value><array><data>%s%s</data></array></value></member></struct></value>"
        "<value><struct><member><name>methodName</name><value><string>ping</string></value></member>"
        "<member><name>params</name><value><array><data></data></array></value></member></struct></value>"
        "</data></array></value>" % (s("cobbler"), s("wrong-password"))])
    r.call("listMethods", server.system.listMethods)
    r.finish()


if __name__ == "__main__":
    main()
