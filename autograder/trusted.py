"""The trusted verdict: the course's own test cells, run where student code cannot reach.

nbgrader runs a test cell's visible part in the student's sandboxed kernel. Here, in
the grader's own process, the same cell runs again, visible and hidden parts, from the
course's source notebook (``definitions``), against a *trusted nnlib*: the course's
reference library in which every function the student writes (each function holding a
solution region of the assignment's own module) is a proxy. A proxy sends its
arguments to a sandboxed runner (``runner``) that runs the student's function and sends
back only plain data (``wire``):

- arguments the student's code changed are copied back into the caller's objects, and a
  returned argument is that very object, so ``x is y`` and "do not modify the input"
  tests see what the kernel sees;
- an exception travels as text (its type's name and bases, its message) and is raised
  again as the first of its classes found in a table of Python's, numpy's and nnlib's own
  exception classes (``known_errors``), any other as ``StudentException``: nothing the
  student names is ever imported, and ``SystemExit`` or ``KeyboardInterrupt`` is an
  ordinary failure of the cell;
- named tuples and dataclasses of nnlib are rebuilt from the reference's classes;
- calls to callbacks (``progress=...``) are replayed, in order, when the call returns;
- numpy's floating-point error state (``np.errstate``) travels with every call.

Answer-cell variables are fetched from the runner after it ran the student's own cells.
A cell's trusted verdict says whether its visible part passed and whether the whole
cell did; ``grade`` combines it with nbgrader's. Each notebook's run may have a time
budget (what the kernel's run left of the notebook's time limit): every request to the
runner ends by then, and the cells it leaves are failed with the kernel's ``TIME_LIMIT``.
"""

import ast
import builtins
import contextlib
import copy
import functools
import importlib
import importlib.util
import json
import math
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from . import definitions, sandbox, wire
from .inert import shown
from .preprocessors import TIME_LIMIT, is_demo

MAX_REPLY = 64 * 2 ** 20
MAX_MESSAGE = wire.MAX_MESSAGE
GRADER_PACKAGE = Path(__file__).resolve().parent


class Stopped(BaseException):
    """The trusted run of a cell cannot go on. A BaseException, so no test can catch it."""

    suspicious = False


class RunnerDied(Stopped):
    """The runner ended or stopped answering (the student's code crashed or hung)."""


class TimedOut(RunnerDied):
    """A request ran past its timeout; the runner was stopped."""


class OutOfTime(Stopped):
    """The notebook's time limit (both runs together) is reached: none of its cells run on."""


class Suspicious(Stopped):
    """The runner sent something that is not plain data, or garbled the channel."""

    suspicious = True


class StudentException(Exception):
    """The student's code raised an exception of no type in the grader's table
    (``known_errors``); its message is ``"TypeName: message"``."""


# ---------------------------------------------------------------- the sandboxed runner


WORKER_PROGRAM = (f"import sys; sys.path.insert(0, {str(GRADER_PACKAGE.parent)!r}); "
                  "from autograder.runner import main; main()")


class Runner:
    """A sandboxed process that runs the student's code on request (``autograder.runner``).

    Each new process loads the student's library first. One that cannot, twice in a row
    (an import that hangs or ends the process), is given up: every later request fails at
    once, instead of each test waiting out the timeout on the same import.

    Each request may take ``timeout`` seconds, and no more than the time left of a budget
    (``limit_time``): a request the budget cuts short raises ``OutOfTime``, and so does
    every request once it is spent, without starting a process.
    """

    load_tries = 2

    def __init__(self, workdir, box, events_file, timeout):
        self.workdir, self.sandbox = Path(workdir), box
        self.events_file, self.timeout = Path(events_file), timeout
        self.process = None
        self.failed_loads = 0
        self.given_up = None  # why every request now fails at once
        self.budget = self.deadline = None  # seconds, and when they end (time.monotonic)

    def limit_time(self, seconds):
        """From now on, requests together end within ``seconds`` (None: no such bound)."""
        self.budget = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def time_left(self):
        """Seconds left of the budget (``math.inf`` without one)."""
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def out_of_time(self):
        """The error of a request the budget cut short or left unsent."""
        return OutOfTime(f"{TIME_LIMIT}: not run, the notebook's time limit was reached "
                         f"(both runs together: the kernel's run left {max(self.budget, 0):.1f}"
                         " s of it to the trusted run)")

    def start(self):
        argv, env = self.sandbox.command(sandbox.python_command(WORKER_PROGRAM), self.workdir,
                                         read_only=[GRADER_PACKAGE])
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

    def request(self, request):
        """Send one request and wait for its reply; a dead or stuck runner is stopped."""
        if self.given_up:
            raise RunnerDied(self.given_up)
        if self.time_left() <= 0:
            raise self.out_of_time()
        if self.process is None:
            self.start()
            try:
                self._exchange({"op": "load"})
            except RunnerDied as error:  # not OutOfTime: a load the budget cut short is no fault
                self.failed_loads += 1
                if self.failed_loads >= self.load_tries:
                    self.given_up = (f"the student's library did not load ({error}), "
                                     f"{self.failed_loads} times, each in a new process; does "
                                     "it hang or crash when it is imported?")
                    raise RunnerDied(self.given_up) from None
                raise
            self.failed_loads = 0
        return self._exchange(request)

    def _exchange(self, request):
        request = {**request, "id": secrets.token_hex(8)}
        left = self.time_left()
        if left <= 0:
            raise self.out_of_time()
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.stop()
            raise RunnerDied("the student's code ended the process (os._exit, a crash or "
                             "running out of memory)") from None
        try:
            line = self._read_line(min(self.timeout, left))
        except TimedOut:
            if left <= self.timeout:  # the budget ended no later than the timeout
                raise self.out_of_time() from None
            raise
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
                raise TimedOut(f"the student's code did not finish within {timeout:g} s")
            chunk = os.read(stream.fileno(), 2 ** 20)
            if not chunk:
                self.stop()
                raise RunnerDied("the student's code ended the process (os._exit, a crash or "
                                 "running out of memory)")
            chunks.append(chunk)
            if chunk.endswith(b"\n") or sum(map(len, chunks)) > MAX_REPLY:
                break
        data = b"".join(chunks)
        if len(data) > MAX_REPLY or data.count(b"\n") != 1:
            self.stop()
            raise Suspicious("the student's code garbled the grader's channel")
        return data


# ---------------------------------------------------------------- the student, by proxy


def error_table(modules, named=None):
    """``(module, qualified name) -> class`` for the exception classes of ``modules``.

    Only ``Exception``'s subclasses, without ``Exception`` itself: an error that is none of
    them (``SystemExit``, ``KeyboardInterrupt``, a class of the student's own) becomes a
    ``StudentException``, which no test mistakes for another and which cannot end the
    grader.

    Parameters
    ----------
    modules : iterable of module
        Modules the grader imported itself.
    named : callable, optional
        ``module name -> the name under which the runner knows it`` (the trusted nnlib's
        private name back to ``nnlib``); a class counts where it is defined.
    """
    table = {}
    for module in modules:
        for kind in vars(module).values():
            if isinstance(kind, type) and issubclass(kind, Exception) and kind is not Exception:
                if named is None:
                    table[kind.__module__, kind.__qualname__] = kind
                elif kind.__module__ == module.__name__:
                    table[named(module.__name__), kind.__qualname__] = kind
    return table


# Python's and numpy's public exceptions, e.g. ("numpy.linalg", "LinAlgError")
KNOWN_ERRORS = error_table([builtins, np.exceptions, np.linalg])


def known_errors(package):
    """The table an error from the runner is looked up in: ``KNOWN_ERRORS`` and the exception
    classes of the trusted nnlib ``package``, as the runner names them
    (``("nnlib._exercises", "ExerciseNotDone")``)."""
    prefix = package.__name__
    modules = [m for name, m in list(sys.modules.items())
               if name == prefix or name.startswith(prefix + ".")]
    return {**KNOWN_ERRORS,
            **error_table(modules, named=lambda name: "nnlib" + name[len(prefix):])}


def raised_again(reply, known):
    """The exception to raise here for one the student's code raised in the runner.

    Parameters
    ----------
    reply : dict
        The runner's reply (``wire.error_of``): names and a message, nothing else.
    known : dict
        ``(module, qualified name) -> class`` (``known_errors``). The error becomes the first
        class of its method resolution order found there, so a student's subclass of
        ``ValueError`` is caught by ``except ValueError`` as in a kernel; else a
        ``StudentException``. No name is ever imported.
    """
    type_name, bases, message = wire.read_error(reply)
    for key in bases:
        kind = known.get(key)
        if kind is not None:
            try:
                return kind(message)
            except Exception:  # a constructor that wants more than a message: its base
                continue
    return StudentException(f"{type_name}: {message}")


def restore(original, new):
    """Make ``original`` hold ``new``, in place where it can; return what to hold now."""
    if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
        if original.shape == new.shape and original.flags.writeable:
            np.copyto(original, new, casting="unsafe")
            return original
        return new
    if isinstance(original, list) and isinstance(new, list):
        original[:] = [restore(o, n) for o, n in zip(original, new)] + new[len(original):]
        return original
    if isinstance(original, dict) and isinstance(new, dict):
        for key in [k for k in original if k not in new]:
            del original[key]
        for key, value in new.items():
            original[key] = restore(original[key], value) if key in original else value
        return original
    if isinstance(original, tuple) and type(original) is type(new) and len(original) == len(new):
        for o, n in zip(original, new):
            restore(o, n)
        return original
    return new


class Student:
    """The student's code as the trusted process sees it: proxies into one runner."""

    def __init__(self, runner):
        self.runner = runner
        self.library = None  # the trusted nnlib package, once built
        self.errors = KNOWN_ERRORS  # where errors are looked up (``known_errors``)

    # names of nnlib's functions and classes, both ways
    def name_of(self, value):
        dotted = getattr(value, "__student__", None)
        if isinstance(dotted, str):
            return dotted
        return wire.name_in(self.library.__name__, value)

    def resolve(self, kind, name):
        module, _, attribute = str(name).rpartition(".")
        found = None if attribute.startswith("__") else getattr(
            sys.modules.get(f"{self.library.__name__}.{module}"), attribute, None)
        if kind == "f" and callable(found) and not isinstance(found, type):
            return found
        if kind == "nt" and isinstance(found, type) and issubclass(found, tuple) \
                and hasattr(found, "_fields"):
            return found
        if kind == "dc" and isinstance(found, type) and hasattr(found, "__dataclass_fields__"):
            return found
        raise wire.Garbled(f"nnlib has no {kind} named {str(name)[:80]}")

    def call(self, function, args, kwargs):
        """Run the student's ``function`` (``"module.name"``) in the runner, as if here."""
        callbacks = []

        def callback_of(value):
            callbacks.append(value)
            return len(callbacks) - 1

        try:
            request = {"op": "call", "function": function,
                       "args": wire.encode(list(args), self.name_of, callback_of=callback_of),
                       "kwargs": wire.encode(dict(kwargs), self.name_of,
                                             callback_of=callback_of),
                       "errstate": np.geterr()}
        except wire.Unencodable as error:
            raise TypeError(f"{function}: cannot send {error} to the student's code") from None
        reply = self.runner.request(request)
        if not reply.get("ok"):
            if reply.get("type") == "Unencodable":
                _, _, message = wire.read_error(reply)
                raise Suspicious(f"{function} returned {message[:200]}, not plain data")
            raise raised_again(reply, self.errors)
        arguments = [list(args), dict(kwargs)]
        try:
            for key, value in reply.get("changed") or []:
                new = wire.decode(value, self.resolve)
                if isinstance(key, int) and 0 <= key < len(args):
                    restore(args[key], new)
                elif isinstance(key, str) and key in kwargs:
                    restore(kwargs[key], new)
                else:
                    raise wire.Garbled("a changed argument that was never passed")
            value = wire.decode(reply.get("value"), self.resolve,
                                ref=lambda path: wire.follow(arguments, path))
            calls = [(index, wire.decode(values, self.resolve))
                     for index, values in reply.get("callbacks") or []]
        except wire.Garbled as error:
            raise Suspicious(f"{function} sent back something that is not plain data "
                             f"({error})") from None
        for index, values in calls:
            if not (isinstance(index, int) and 0 <= index < len(callbacks)
                    and isinstance(values, list) and len(values) == 2):
                raise Suspicious(f"{function}: a call to a callback that was never passed")
            callbacks[index](*values[0], **values[1])
        return value

    def proxy(self, module):
        """``function -> proxy`` for the functions the student writes in ``module``."""
        def make(function):
            dotted = f"{module}.{function.__name__}"

            @functools.wraps(function)
            def student_function(*args, **kwargs):
                return self.call(dotted, args, kwargs)

            student_function.__student__ = dotted
            return student_function

        return make

    def run_cells(self, sources):
        """Run the student's notebook cells in the runner; their errors are theirs."""
        for source in sources:
            self.runner.request({"op": "exec", "source": source})

    def variables(self, names):
        """The runner's notebook variables of these names that are plain data."""
        reply = self.runner.request({"op": "values", "names": list(names)})
        values = reply.get("values") if reply.get("ok") else None
        if not isinstance(values, dict):
            raise Suspicious("the runner's notebook variables came back garbled")
        found = {}
        for name in names:
            entry = values.get(name)
            if isinstance(entry, dict) and "value" in entry:
                try:
                    found[name] = wire.decode(entry["value"], self.resolve)
                except wire.Garbled as error:
                    raise Suspicious(f"the notebook variable {name} is not plain data "
                                     f"({error})") from None
        return found


# ---------------------------------------------------------------- the trusted nnlib


def _with_proxies(source, names, filename):
    """The module's code, each named function replaced by ``__student__(function)``."""
    tree = ast.parse(source, filename)
    body = []
    for node in tree.body:
        body.append(node)
        if isinstance(node, ast.FunctionDef) and node.name in names:
            body.append(ast.parse(f"{node.name} = __student__({node.name})").body[0])
    tree.body = body
    return compile(ast.fix_missing_locations(tree), filename, "exec")


def trusted_library(folder, own_module, student):
    """The course's reference nnlib, with the student's functions of ``own_module`` proxied.

    It is imported under a private name, so it never meets another copy of nnlib.
    """
    folder = Path(folder)
    name = f"nnlib_trusted_{secrets.token_hex(6)}"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    student.library = package
    if own_module:
        path = folder / f"{own_module}.py"
        source = path.read_text()
        own_spec = importlib.util.spec_from_file_location(f"{name}.{own_module}", path)
        own = importlib.util.module_from_spec(own_spec)
        sys.modules[own_spec.name] = own
        own.__dict__["__student__"] = student.proxy(own_module)
        exec(_with_proxies(source, definitions.student_functions(source, path.name), str(path)),  # noqa: S102
             own.__dict__)
        del own.__dict__["__student__"]
    spec.loader.exec_module(package)
    package.check_setup = lambda: None  # it checks a student's kernel; there is none here
    student.errors = known_errors(package)
    return package


def forget_library(package):
    for name in [n for n in sys.modules if n == package.__name__
                 or n.startswith(package.__name__ + ".")]:
        del sys.modules[name]


def importer(package):
    """An ``__import__`` under which ``nnlib`` is ``package``."""
    def trusted_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "nnlib" or name.startswith("nnlib.")):
            module = importlib.import_module(package.__name__ + name[len("nnlib"):])
            return module if fromlist else package
        return builtins.__import__(name, globals, locals, fromlist, level)

    return trusted_import


# ---------------------------------------------------------------- running the tests


@dataclass
class Verdict:
    """The trusted verdict on one graded cell."""

    visible: bool  # its visible part passed (what the kernel ran)
    passed: bool  # the whole cell passed, hidden tests included
    message: str = ""  # the first failure, "Type: message"
    suspicious: bool = False  # the student's code sent back something other than plain data
    notebook: str = ""  # the notebook (file name without .ipynb) the cell belongs to
    timed_out: bool = False  # the notebook's time limit stopped it (message: TIME_LIMIT)


def describe(error):
    """``"Type: message"``, short and printable (a message can hold the student's text)."""
    return shown(f"{type(error).__name__}: {error}", MAX_MESSAGE, keep="\n\t")


def out_of_time(test, error):
    """The verdict on a cell that the notebook's time limit stopped or left unrun."""
    return Verdict(False, False, str(error), notebook=test.notebook, timed_out=True)


def run_test(test, namespace):
    """Run one ``definitions.TestCell`` in ``namespace()`` (a fresh namespace per call)."""
    error, index = _run_segments(test, namespace)
    if error is None:
        return Verdict(True, True, notebook=test.notebook)
    if isinstance(error, OutOfTime):
        return out_of_time(test, error)
    first, suspicious = error, error_is_suspicious(error)
    visible = test.segments[index].hidden
    if visible and any(not s.hidden for s in test.segments[index + 1:]):
        # a hidden part failed, but the kernel also ran the visible parts after it
        later, _ = _run_segments(test, namespace, hidden=False)
        if isinstance(later, OutOfTime):
            return out_of_time(test, later)
        if later is not None:
            visible, first = False, later
            suspicious = suspicious or error_is_suspicious(later)
    return Verdict(visible, False, describe(first), suspicious, test.notebook)


def _run_segments(test, namespace, hidden=True):
    """Run the cell's segments (visible only, without ``hidden``) in a fresh namespace.

    Returns
    -------
    (BaseException or None, int or None)
        The first error and the index of the segment that raised it.
    """
    scope = namespace()
    for index, segment in enumerate(test.segments):
        if segment.hidden and not hidden:
            continue
        try:
            # what a test prints is for the student's kernel, not the grader's terminal
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
                    contextlib.redirect_stderr(sink):
                exec(compile(segment.source, f"<{test.grade_id}>", "exec"), scope)  # noqa: S102
        except (Exception, Stopped) as error:
            return error, index
    return None, None


def error_is_suspicious(error):
    return isinstance(error, Stopped) and error.suspicious


def student_cells(notebook, tests):
    """The code the student's notebook runs apart from its tests: answers and own cells.

    Locked cells run as the course wrote them (nbgrader does the same); demo cells and
    test cells are left out, and so are magics.
    """
    test_ids = {t.grade_id for t in tests.tests}
    sources = []
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or grade_id in test_ids or is_demo(cell):
            continue
        sources.append(definitions.without_magics(cell.source))
    return sources


def notebook_namespace(tests, package, answers):
    """``() -> dict``: a fresh namespace with the setup run and the answers set."""
    base = {"__name__": "__main__",
            "__builtins__": dict(vars(builtins), __import__=importer(package))}
    for source in tests.setup:
        exec(compile(source, f"<{tests.name} setup>", "exec"), base)  # noqa: S102
    return lambda: {**base, **copy.deepcopy(answers)}


def student_library(source_library, staged_library, own_module, target):
    """The nnlib the runner imports: the instructor's modules, and the student's own one."""
    shutil.copytree(source_library, target, ignore=shutil.ignore_patterns("__pycache__"))
    if own_module:
        own = target / f"{own_module}.py"
        own.unlink(missing_ok=True)  # the source copy holds the solution
        submitted = Path(staged_library) / f"{own_module}.py"
        if submitted.is_file():
            shutil.copyfile(submitted, own)


def trusted_verdicts(course, assignment, staged_dir, events_file, limits, timeout,
                     enclosure=None, budgets=None):
    """Run every test cell of one submission in the trusted process.

    Parameters
    ----------
    course : course.Course
        The course directory: its source notebooks (the tests), its reference library and
        which module the assignment grades.
    assignment : str
    staged_dir : Path
        The submission as intake staged it (notebooks and ``nnlib/*.py``).
    events_file : Path
        Where the sandbox's reports go.
    limits : sandbox.Limits
    timeout : float
        Seconds each request to the student's code may take.
    enclosure : enclosure.Enclosure, optional
        The submission's bounds in total: the runner joins its cgroups and works in its
        tmpfs.
    budgets : dict, optional
        Notebook name (without ``.ipynb``) -> seconds its trusted run may take in all (its
        time limit less what its kernel's run took), answer cells included. A cell the
        budget cuts short, and every cell after it, fails with ``timed_out`` set. Without
        one, a notebook's run is bounded by ``timeout`` per request only.

    Returns
    -------
    dict
        grade_id -> Verdict, for every graded test cell of the assignment.
    """
    own = course.module(assignment)
    notebooks = definitions.read_assignment(course.source(assignment))
    box = sandbox.Sandbox(limits, enclosure=enclosure)
    workdir = Path(sandbox.private_dir(box.enclosure.scratch))
    verdicts = {}
    runner = Runner(workdir, box, events_file, timeout)
    student = Student(runner)
    package = None
    try:
        student_library(course.source(assignment) / "nnlib", Path(staged_dir) / "nnlib", own,
                        workdir / "nnlib")
        package = trusted_library(course.reference, own, student)
        for tests in notebooks:
            runner.limit_time((budgets or {}).get(tests.name))
            verdicts.update(_notebook_verdicts(tests, Path(staged_dir), student, package))
    finally:
        runner.stop()
        if package is not None:
            forget_library(package)
        shutil.rmtree(workdir, ignore_errors=True)
    return verdicts


def _notebook_verdicts(tests, staged_dir, student, package):
    path = staged_dir / f"{tests.name}.ipynb"
    answers = {}
    try:
        notebook = nbformat.read(path, as_version=4) if path.is_file() else None
    except Exception:  # an unreadable notebook has no answers
        notebook = None
    with _quietly():
        try:
            if notebook is not None:
                student.run_cells(student_cells(notebook, tests))
                answers = student.variables(tests.answers) if tests.answers else {}
        except Stopped:  # the student's cells killed the runner or ran out of time
            answers = {}
        namespace = notebook_namespace(tests, package, answers)
        runner = student.runner
        return {test.grade_id: run_test(test, namespace) if runner.time_left() > 0
                else out_of_time(test, runner.out_of_time()) for test in tests.tests}


@contextlib.contextmanager
def _quietly():
    """Floating-point warnings off, here: a test that wants them says so with np.errstate."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
