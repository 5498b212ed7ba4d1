"""The sandboxed runner: runs a student's functions and notebook cells on request.

It runs inside the sandbox (``python -c`` with the audit hook first, see
``trusted.Runner``) with the student's ``nnlib`` in its working folder. It reads
one JSON request per line on stdin and writes one JSON reply per line; everything
it sends is in the format of ``wire``. What student code prints goes to stderr,
never into the replies. Requests:

``{"op": "call", "function": "activations.sigmoid", "args": ..., "kwargs": ..., "errstate": ...}``
    Call a function of the student's nnlib. The reply has its ``value``, the arguments
    it ``changed`` (sent back so the grader can copy them into its own), and the calls
    made to callback arguments (``callbacks``), which the grader replays.
``{"op": "exec", "source": "..."}``
    Run a notebook cell of the student's in the notebook's namespace.
``{"op": "values", "names": [...]}``
    The notebook variables of these names.
``{"op": "load"}``
    Import every module of the student's nnlib (the first request of every runner): a
    library that hangs on import shows here, before any test waits on it. An import that
    raises is left for the call that needs the module, which raises it again.

A request whose code raises, anything at all (``SystemExit`` and ``KeyboardInterrupt``
too), is answered with the error as text (``wire.error_of``) and the runner goes on.

This module imports nothing but numpy, the standard library and ``wire``.
"""

import copy
import importlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from autograder import wire
from autograder.inert import shown


class Session:
    """The runner's state: the notebook namespace and the student's nnlib."""

    def __init__(self):
        self.namespace = {"__name__": "__main__"}

    def name_of(self, value):
        """``"module.name"`` for a function or class that the student's nnlib defines."""
        return wire.name_in("nnlib", value)

    def resolve(self, kind, name):
        module, _, attribute = name.rpartition(".")
        try:
            return getattr(importlib.import_module(f"nnlib.{module}"), attribute)
        except (ImportError, AttributeError) as error:
            raise wire.Garbled(f"nnlib has no {name} ({error})") from None

    def call(self, request):
        calls = []

        def callback(index):
            def record(*args, **kwargs):
                calls.append([index, wire.encode([list(args), kwargs], self.name_of)])

            return record

        args = wire.decode(request["args"], self.resolve, callback=callback)
        kwargs = wire.decode(request["kwargs"], self.resolve, callback=callback)
        arguments = [args, kwargs]  # alive until the reply is made: ids stay unique
        before = copy.deepcopy(arguments)
        identities = wire.refs(arguments)
        function = self.resolve("f", request["function"])
        with np.errstate(**request.get("errstate", {})):
            value = function(*args, **kwargs)
        changed = [[index, wire.encode(arg, self.name_of)]
                   for index, arg in enumerate(args) if not wire.same(before[0][index], arg)]
        changed += [[key, wire.encode(arg, self.name_of)]
                    for key, arg in kwargs.items() if not wire.same(before[1][key], arg)]
        return {"value": wire.encode(value, self.name_of, lambda v: identities.get(id(v))),
                "changed": changed, "callbacks": calls}

    def exec(self, request):
        exec(compile(request["source"], "<cell>", "exec"), self.namespace)  # noqa: S102
        return {}

    def load(self, request):
        for path in sorted(Path("nnlib").glob("*.py")):
            name = "nnlib" if path.stem == "__init__" else f"nnlib.{path.stem}"
            try:
                importlib.import_module(name)
            except Exception:  # noqa: S110 - raised again where the module is used
                pass
        return {}

    def values(self, request):
        values = {}
        for name in request["names"]:
            if name not in self.namespace:
                values[name] = {"missing": "not defined"}
                continue
            try:
                values[name] = {"value": wire.encode(self.namespace[name], self.name_of)}
            except wire.Unencodable as error:
                values[name] = {"missing": str(error)}
        return {"values": values}


def serve(requests, replies):
    session = Session()
    handlers = {"call": session.call, "exec": session.exec, "values": session.values,
                "load": session.load}
    for line in requests:
        request = json.loads(line)
        try:
            reply = {"ok": True, **handlers[request["op"]](request)}
        except wire.Unencodable as error:
            reply = {"ok": False, "type": "Unencodable", "module": "",
                     "message": shown(str(error), wire.MAX_MESSAGE)}
        except BaseException as error:  # the student's code raised (SystemExit too): go on
            reply = wire.error_of(error)
        reply["id"] = request["id"]
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


def main():
    """Serve requests on the original stdin and stdout; student output goes to stderr."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.path.insert(0, os.getcwd())  # the student's nnlib
    serve(requests, replies)


if __name__ == "__main__":
    main()
