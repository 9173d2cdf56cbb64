"""Shared plumbing for the client replays in this folder (stdlib only, Debian's python3).

Every call is a named step: its value, or the Fault (code and string), or the client-side
error is recorded and the replay carries on, so one broken call does not hide the others.
The script prints one JSON document {"steps": {...}} on its last line; the TypeScript test
(test/python-clients.test.ts) asserts on it. Run by hand:

    /usr/bin/python3 test/python/<script>.py http://127.0.0.1:PORT/cobbler_api
"""
import json
import os
import sys
import xmlrpc.client


class Replay:
    def __init__(self):
        self.url = sys.argv[1] if len(sys.argv) > 1 else os.environ["URL"]
        self.steps = {}

    def _record(self, name, entry):
        if name in self.steps:
            raise RuntimeError("step name used twice: " + name)
        self.steps[name] = entry

    def call(self, name, method, *args):
        """Calls method(*args) (a ServerProxy attribute); returns its value, or None after a failure."""
        try:
            value = method(*args)
        except xmlrpc.client.Fault as fault:
            self._record(name, {"fault": {"code": fault.faultCode, "string": fault.faultString}})
            return None
        except Exception as exc:  # transport or marshalling errors: recorded, not fatal
            self._record(name, {"error": "%s: %s" % (type(exc).__name__, exc)})
            return None
        self._record(name, {"ok": value})
        return value

    def note(self, name, value):
        """Records something the replay computed (a decision the real client takes, a check)."""
        self._record(name, {"ok": value})
        return value

    def finish(self):
        print(json.dumps({"steps": self.steps}, default=repr, sort_keys=True))


def contains_none(value):
    """Cobbler never sends <nil/>: a None anywhere in a decoded value is a compatibility bug."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(contains_none(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_none(v) for v in value)
    return False
