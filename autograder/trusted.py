"""Verdicts computed where student code cannot reach.

The points of a graded test cell are decided twice: by nbgrader, inside the
student's kernel, where a determined student can patch the checks; and here,
by a trusted process that never executes student code. The student's nnlib
functions run in a sandboxed *worker* (see ``sandbox``) that only ever sends
back numbers; the trusted side compares them with the reference library and
runs the numerical gradient checks itself (``verdicts.CHECKS``). A cell earns
its points only when both say it passed.
"""

import base64
import importlib
import io
import json
import os
import pkgutil
import secrets
import select
import shutil
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from . import release, sandbox


class Mismatch(AssertionError):
    """A trusted check failed; the message names what was checked, never hidden values."""

    suspicious = False


class Suspicious(Mismatch):
    """The student's code sent back something that is not plain numbers, or garbled the channel."""

    suspicious = True


class StudentError(Exception):
    """The student's function raised an exception (or the worker could not run it)."""

    def __init__(self, type_name, message):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message = type_name, message


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()  # a notebook variable that is absent or not made of numbers


# ---------------------------------------------------------------- the sandboxed worker

# The worker runs inside the sandbox with the student's nnlib importable. It
# reads one JSON request per line and answers one JSON line; everything it
# sends back is numbers (npy without pickles), strings, lists and None.
WORKER = r'''
import base64, copy, importlib, io, json, os, sys
import numpy as np

requests = os.fdopen(os.dup(0), "rb")
replies = os.fdopen(os.dup(1), "wb")
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
os.dup2(2, 1)  # what student code prints must not mix with the replies
sys.stdout = sys.stderr
sys.path.insert(0, os.getcwd())


class Unencodable(Exception):
    pass


def encode(value, depth=0):
    if depth > 20:
        raise Unencodable("nested too deeply")
    if value is None:
        return None
    if isinstance(value, str):
        return {"s": value}
    if isinstance(value, (np.ndarray, np.generic, bool, int, float)):
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise Unencodable(f"an array of dtype {array.dtype}")
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        encoded = {"a": base64.b64encode(buffer.getvalue()).decode()}
        kind = type(value)
        if isinstance(value, np.ndarray) and kind is not np.ndarray:
            encoded["t"] = kind.__module__ + "." + kind.__qualname__  # e.g. np.matrix
        return encoded
    if isinstance(value, (list, tuple)):
        return {"l": [encode(item, depth + 1) for item in value]}
    raise Unencodable(f"a {type(value).__name__}")


def decode(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if "s" in value:
        return value["s"]
    if "l" in value:
        return [decode(item) for item in value["l"]]
    array = np.load(io.BytesIO(base64.b64decode(value["a"])), allow_pickle=False)
    return array[()] if array.ndim == 0 else array


def call(request):
    module, name = request["function"].rsplit(".", 1)
    function = getattr(importlib.import_module("nnlib." + module), name)
    args = [decode(a) for a in request["args"]]
    kwargs = {k: decode(v) for k, v in request["kwargs"].items()}
    records = []
    if request.get("record"):
        kwargs["progress"] = lambda *values: records.append(copy.deepcopy(list(values)))
    if request.get("strict"):
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            value = function(*args, **kwargs)
    else:
        value = function(*args, **kwargs)
    reply = {"value": encode(value)}
    if request.get("record"):
        reply["records"] = encode(records)
    if request.get("unchanged"):
        reply["args"] = encode(args)
        reply["kwargs"] = {k: encode(v) for k, v in kwargs.items() if k != "progress"}
    return reply


def notebook(request):
    namespace = {"__name__": "__main__"}
    for source in request["cells"]:
        try:
            exec(compile(source, "<cell>", "exec"), namespace)
        except BaseException:
            pass
    values = {}
    for name in request["names"]:
        try:
            values[name] = encode(namespace[name])
        except (KeyError, Unencodable):
            values[name] = {"missing": True}
    return {"values": values}


while True:
    line = requests.readline()
    if not line:
        break
    request = json.loads(line)
    try:
        reply = {"ok": True, **(call(request) if request["op"] == "call" else notebook(request))}
    except Unencodable as error:
        reply = {"ok": False, "type": "Unencodable", "message": str(error)}
    except BaseException as error:
        reply = {"ok": False, "type": type(error).__name__, "message": str(error)[:2000]}
    reply["id"] = request["id"]
    replies.write(json.dumps(reply).encode() + b"\n")
    replies.flush()
'''

MAX_REPLY = 64 * 2 ** 20


def encode(value):
    """Arguments for the worker: numbers, strings, None and lists of them."""
    if value is None or isinstance(value, (bool, int, float)):
        return value  # plain Python numbers stay plain (an int argument must stay an int)
    if isinstance(value, str):
        return {"s": value}
    if isinstance(value, (list, tuple)):
        return {"l": [encode(item) for item in value]}
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot send {type(value).__name__} to the worker")
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return {"a": base64.b64encode(buffer.getvalue()).decode()}


def decode(value):
    """What the worker sent, read without trusting it: only plain numbers survive."""
    if value is None:
        return None
    if not isinstance(value, dict) or not 1 <= len(value) <= 2:
        raise Suspicious("the student's code sent back something that is not numbers")
    subclass = value.get("t")
    if subclass is not None and not str(subclass).startswith("numpy."):
        raise Suspicious(f"the student's code returned an instance of {str(subclass)[:80]}, "
                         "an array subclass that can redefine comparisons")
    (kind, payload), = ((k, v) for k, v in value.items() if k != "t")
    if kind == "s" and isinstance(payload, str):
        return payload
    if kind == "l" and isinstance(payload, list):
        return [decode(item) for item in payload]
    if kind == "a" and isinstance(payload, str):
        try:
            array = np.load(io.BytesIO(base64.b64decode(payload)), allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise Suspicious(f"the student's code sent back unreadable numbers ({error})") from None
        if array.dtype.kind not in "biuf" or array.dtype.names:
            raise Suspicious(f"the student's code sent back an array of dtype {array.dtype}")
        return array
    raise Suspicious("the student's code sent back something that is not numbers")


class WorkerDied(Exception):
    pass


class Worker:
    """A sandboxed process that runs the student's functions on request."""

    def __init__(self, workdir, sandbox, events_file, timeout):
        self.workdir, self.sandbox = Path(workdir), sandbox
        self.events_file, self.timeout = Path(events_file), timeout
        self.process = None

    def start(self):
        argv, env = self.sandbox.command(sandbox.python_command(WORKER), self.workdir)
        env["NBGRADER_EXECUTION"] = "autograde"
        with open(self.events_file, "ab") as events:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=events, env=env, cwd=self.workdir,
                                            start_new_session=True)

    def stop(self):
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                stream.close()
            self.process = None
        self.sandbox.kill_leftovers()

    def request(self, request, timeout=None):
        """Send one request and wait for its reply; a dead or stuck worker is stopped."""
        if self.process is None:
            self.start()
        request = {**request, "id": secrets.token_hex(8)}
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.stop()
            raise WorkerDied("the student's code ended the process (os._exit, a crash or "
                             "running out of memory)") from None
        line = self._read_line(timeout or self.timeout)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or reply.get("id") != request["id"]:
            self.stop()
            raise Suspicious("the student's code garbled the grader's channel")
        return reply

    def _read_line(self, timeout):
        stream, deadline, chunks = self.process.stdout, time.monotonic() + timeout, []
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stream], [], [], left)[0]:
                self.stop()
                raise WorkerDied(f"the student's code did not finish within {timeout} s")
            chunk = os.read(stream.fileno(), 2 ** 20)
            if not chunk:
                self.stop()
                raise WorkerDied("the student's code ended the process (os._exit, a crash or "
                                 "running out of memory)")
            chunks.append(chunk)
            if chunk.endswith(b"\n") or sum(map(len, chunks)) > MAX_REPLY:
                break
        data = b"".join(chunks)
        if len(data) > MAX_REPLY or data.count(b"\n") != 1:
            self.stop()
            raise Suspicious("the student's code garbled the grader's channel")
        return data


class Student:
    """The student's code, as the trusted checks see it: functions that return numbers."""

    def __init__(self, worker, notebooks):
        self.worker, self.notebooks = worker, notebooks  # notebook name -> list of cell sources

    def call(self, function, *args, _strict=False, _unchanged=False, _record_progress=False,
             **kwargs):
        request = {"op": "call", "function": function, "args": [encode(a) for a in args],
                   "kwargs": {k: encode(v) for k, v in kwargs.items()}, "strict": _strict,
                   "unchanged": _unchanged, "record": _record_progress}
        try:
            reply = self.worker.request(request)
        except WorkerDied as error:
            raise Mismatch(f"{function}: {error}") from None
        if not reply.get("ok"):
            if reply.get("type") == "Unencodable":
                raise Suspicious(f"{function} returned {reply.get('message')}, not numbers")
            raise StudentError(str(reply.get("type")), str(reply.get("message")))
        value = decode(reply.get("value"))
        if _unchanged:
            after = [decode(reply.get("args")), {k: decode(v) for k, v in
                                                 (reply.get("kwargs") or {}).items()}]
            if not _same_values([list(args), kwargs], after):
                raise Mismatch(f"{function} modified its input; hint: do not modify the "
                               "arrays you are given (work on a copy)")
        if _record_progress:
            return value, decode(reply.get("records"))
        return value

    def variables(self, notebook, names):
        cells = self.notebooks.get(notebook, [])
        try:
            reply = self.worker.request({"op": "notebook", "cells": cells, "names": list(names)})
        except WorkerDied as error:
            raise Mismatch(f"running {notebook}: {error}") from None
        values = reply.get("values") if reply.get("ok") else None
        if not isinstance(values, dict):
            raise Mismatch(f"running {notebook} failed")
        return {name: MISSING if not isinstance(values.get(name), dict) or "missing" in
                values[name] else decode(values[name]) for name in names}


def _same_values(sent, got):
    if isinstance(sent, dict):
        return isinstance(got, dict) and sent.keys() == got.keys() and all(
            _same_values(sent[k], got[k]) for k in sent)
    if isinstance(sent, (list, tuple)):
        return isinstance(got, list) and len(sent) == len(got) and all(
            _same_values(a, b) for a, b in zip(sent, got))
    if sent is None or isinstance(sent, str):
        return sent == got
    sent = np.asarray(sent)
    return isinstance(got, np.ndarray) and got.shape == sent.shape and np.array_equal(
        got, sent, equal_nan=True)


# ---------------------------------------------------------------- running the checks


@dataclass
class Verdict:
    """The trusted verdict on one graded cell."""

    passed: bool
    message: str = ""
    suspicious: bool = False  # the student's code sent back something other than numbers
    notebook: str = ""  # the notebook (file name without .ipynb) the cell belongs to


_REFERENCE = None


def reference_library():
    """The reference nnlib, imported under a name of its own (never the student's)."""
    global _REFERENCE
    if _REFERENCE is None:
        folder = release.REFERENCE_LIBRARY
        package = release.import_library(folder, "nnlib_reference")
        for module in pkgutil.iter_modules([str(folder)]):
            importlib.import_module(f"nnlib_reference.{module.name}")
        _REFERENCE = package
    return _REFERENCE


def student_library(source_library, staged_library, own_module, target):
    """The nnlib the worker imports: the instructor's modules, and the student's own one."""
    shutil.copytree(source_library, target, ignore=shutil.ignore_patterns("__pycache__"))
    if own_module:
        own = target / f"{own_module}.py"
        own.unlink(missing_ok=True)  # the source copy holds the solution
        submitted = Path(staged_library) / f"{own_module}.py"
        if submitted.is_file():
            shutil.copyfile(submitted, own)


def notebook_cells(notebook, graded_ids):
    """The code a notebook runs before its tests: its code cells but the graded ones."""
    from .preprocessors import is_demo

    cells = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade_id") in graded_ids or is_demo(cell):
            continue
        lines = [ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        cells.append("\n".join(lines))
    return cells


def graded_cells(source_dir):
    """``(notebook file name, grade_id)`` of every auto-graded code cell of an assignment."""
    found = []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                found.append((path.name, meta["grade_id"]))
    return found


def trusted_verdicts(source_dir, staged_dir, own_module, events_file, limits, timeout=30):
    """Run the trusted check of every graded cell of one submission.

    Parameters
    ----------
    source_dir : Path
        ``source/<assignment>`` of the course: its notebooks name the graded cells,
        its nnlib provides every module but the student's own.
    staged_dir : Path
        The submission as intake staged it (notebooks and ``nnlib/*.py``).
    own_module : str or None
        The nnlib module the student writes in this assignment.
    events_file : Path
        Where the sandbox's reports go.
    limits : sandbox.Limits
    timeout : float
        Seconds each call of the student's code may take.

    Returns
    -------
    dict
        grade_id -> Verdict, for every graded cell that has a trusted check.
    """
    from .verdicts import CHECKS

    reference, cells = reference_library(), graded_cells(source_dir)
    graded_ids = {grade_id for _, grade_id in cells}
    notebooks = {}
    for path in Path(staged_dir).glob("*.ipynb"):
        try:
            notebooks[path.name] = notebook_cells(nbformat.read(path, as_version=4), graded_ids)
        except Exception:  # an unreadable notebook has no answers
            notebooks[path.name] = []
    workdir = Path(sandbox.private_dir())
    verdicts = {}
    try:
        student_library(Path(source_dir) / "nnlib", Path(staged_dir) / "nnlib", own_module,
                        workdir / "nnlib")
        worker = Worker(workdir, sandbox.Sandbox(limits), events_file, timeout)
        student = Student(worker, notebooks)
        rng = np.random.default_rng(secrets.randbits(64))  # inputs no one can know in advance
        for notebook, grade_id in cells:
            if grade_id in CHECKS:
                verdicts[grade_id] = _run_check(CHECKS[grade_id], student, reference, rng)
                verdicts[grade_id].notebook = Path(notebook).stem
        worker.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return verdicts


def _run_check(check, student, reference, rng):
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(student, reference, rng)
    except Mismatch as error:
        return Verdict(False, str(error), suspicious=error.suspicious)
    except StudentError as error:
        return Verdict(False, f"raised {error.type_name}: {error.message}"[:500])
    except Exception as error:  # numbers that made the comparison itself fail
        return Verdict(False, f"could not be checked: {type(error).__name__}: {error}"[:500])
    return Verdict(True)
