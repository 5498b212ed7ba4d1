"""Does the trusted run of the course's own test cells give the verdicts a kernel would?

Everything here goes through the real sandboxed runner. A small library checks what a
proxy must carry across (changed arguments, returned arguments, exceptions, named
tuples, callbacks, numpy's error state); then every graded cell of the course runs
against the reference, the stubs, libraries with one bug (mutants) and libraries with
another right way of writing an exercise, once directly in this process (as a kernel
would run the cell, hidden tests included) and once through the proxies.
"""

import builtins
import importlib.abc
import itertools
import shutil
import sys
import time
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
from libraries import import_library

from autograder import definitions, release, sandbox, trusted, wire
from autograder.course import Course, assignments
from autograder.preprocessors import TIME_LIMIT
from autograder.settings import Settings

LIMITS = Settings().limits()
_names = itertools.count()

# ---------------------------------------------------------------- what a proxy carries

DEMO = '''
from typing import NamedTuple

import numpy as np


class Pair(NamedTuple):
    first: object
    second: object


def scale_in_place(x, factor):
    ### BEGIN SOLUTION Exercise 9.1: scale
    x *= factor
    return x
    ### END SOLUTION


def append_to(items, value):
    ### BEGIN SOLUTION Exercise 9.2: append
    items.append(value)
    return [value]
    ### END SOLUTION


def pair(a, b):
    ### BEGIN SOLUTION Exercise 9.3: pair
    return Pair(a, (b, [b]))
    ### END SOLUTION


def fail(kind):
    ### BEGIN SOLUTION Exercise 9.4: fail
    if kind == "value":
        raise ValueError("a bad value")
    if kind == "custom":
        class Mine(Exception):
            pass
        raise Mine("my own")
    if kind == "exit":
        raise SystemExit(3)
    if kind == "interrupt":
        raise KeyboardInterrupt("interrupted")
    if kind == "generator-exit":
        raise GeneratorExit("closed")
    if kind == "value-subclass":
        class MyValueError(ValueError):
            pass
        raise MyValueError("mine, but a ValueError")
    if kind.startswith("claims "):  # a class that says it lives in a module
        raise type("Claimed", (Exception,), {"__module__": kind[len("claims "):]})("import me")
    if kind == "noisy":
        raise ValueError("\\x1b[2J\\x1b[H\\u202e\\ud800" + "x" * 10 ** 6)
    return np.log(np.array([0.0]))
    ### END SOLUTION


def count(n, progress=None):
    ### BEGIN SOLUTION Exercise 9.5: count
    for i in range(n):
        progress(i, np.float64(i) / 2)
    return n
    ### END SOLUTION


def matrix():
    ### BEGIN SOLUTION Exercise 9.6: matrix
    return np.matrix([[1.0]])
    ### END SOLUTION


def provided(x):
    """Provided code: runs in the trusted process, calling the student's scale_in_place."""
    return scale_in_place(np.array(x, dtype=float), 2.0)
'''


@pytest.fixture()
def demo(tmp_path):
    """The demo library as a trusted package, its exercises proxies into a real runner."""
    library = tmp_path / "reference"
    library.mkdir()
    (library / "__init__.py").write_text("from . import demo\n")
    (library / "demo.py").write_text(DEMO)
    workdir = Path(sandbox.private_dir())
    shutil.copytree(library, workdir / "nnlib")
    runner = trusted.Runner(workdir, sandbox.Sandbox(LIMITS), tmp_path / "events.log", 20)
    student = trusted.Student(runner)
    package = trusted.trusted_library(library, "demo", student)
    yield package.demo
    runner.stop()
    trusted.forget_library(package)
    shutil.rmtree(workdir, ignore_errors=True)


def test_student_functions_are_proxies_and_provided_ones_are_not(demo):
    """Are exactly the functions with a solution region proxied?"""
    assert demo.scale_in_place.__student__ == "demo.scale_in_place"
    assert not hasattr(demo.provided, "__student__")
    assert demo.scale_in_place.__doc__ == demo.scale_in_place.__wrapped__.__doc__


@pytest.mark.slow  # starts a trusted runner
def test_changed_arguments_are_copied_back_and_returned_ones_are_the_same_object(demo):
    """Does an in-place change reach the caller's array, and is a returned argument that very
    array, as in a kernel?"""
    x = np.array([1.0, 2.0])
    got = demo.scale_in_place(x, 3.0)
    assert got is x
    np.testing.assert_array_equal(x, [3.0, 6.0])
    items = [1]
    assert demo.append_to(items, 5) == [5]
    assert items == [1, 5]


@pytest.mark.slow  # starts a trusted runner
def test_named_tuples_are_rebuilt_from_the_reference_types(demo):
    """Does a named tuple come back as the reference's class, with tuples and lists kept?"""
    got = demo.pair(np.float64(1.5), 2)
    assert type(got) is demo.Pair
    assert got.second == (2, [2]) and isinstance(got.first, np.float64)


@pytest.mark.slow  # starts a trusted runner
def test_exceptions_are_raised_again_by_type(demo):
    """Is a ValueError a ValueError here, and are other types and SystemExit plain errors?"""
    with pytest.raises(ValueError, match="a bad value"):
        demo.fail("value")
    with pytest.raises(trusted.StudentException, match="Mine: my own"):
        demo.fail("custom")
    with pytest.raises(trusted.StudentException, match="SystemExit"):
        demo.fail("exit")


class ImportRecorder(importlib.abc.MetaPathFinder):
    """Records the name of every module an import looks for (and finds none itself)."""

    def __init__(self):
        self.names = []

    def find_spec(self, name, path=None, target=None):
        self.names.append(name)


@pytest.fixture()
def imports(monkeypatch):
    """The names of the modules imported, or tried, during the test (failed imports too)."""
    recorder = ImportRecorder()
    monkeypatch.setattr(sys, "meta_path", [recorder, *sys.meta_path])
    return recorder.names


# Modules an error's class may claim to live in. Importing numpy.f2py.__main__ runs f2py's
# command line on the grader's argv, which ends in SystemExit (issue 19); it then leaves
# sys.modules, its package numpy.f2py does not. The other does not exist.
CLAIMED_MODULES = ["numpy.f2py.__main__", "numpy.zzz_evil"]


def looked_for(names, modules=CLAIMED_MODULES):
    """Which of ``modules``, or of their packages below numpy, an import looked for."""
    wanted = {".".join(m.split(".")[:n]) for m in modules for n in range(2, m.count(".") + 2)}
    return sorted(wanted & set(names))


@pytest.mark.slow  # starts a trusted runner
@pytest.mark.parametrize("module", CLAIMED_MODULES)
def test_the_module_an_error_claims_is_never_imported(demo, imports, module):
    """Is an error whose class claims to live in a numpy module a StudentException here,
    with that module (and its package) never looked for?"""
    loaded = set(sys.modules)
    with pytest.raises(trusted.StudentException, match="Claimed: import me"):
        demo.fail(f"claims {module}")
    assert not looked_for(imports)
    assert not {m for m in set(sys.modules) - loaded if m.startswith("numpy")}


@pytest.mark.slow  # starts a trusted runner
@pytest.mark.parametrize("kind, name", [("exit", "SystemExit"), ("interrupt", "KeyboardInterrupt"),
                                        ("generator-exit", "GeneratorExit")])
def test_base_exceptions_are_ordinary_failures(demo, kind, name):
    """Are SystemExit, KeyboardInterrupt and GeneratorExit of the student's code a
    StudentException here, which a test cell can fail with and the grader survives, and is
    the runner still there for the next call?"""
    with pytest.raises(trusted.StudentException, match=f"^{name}"):
        demo.fail(kind)
    with pytest.raises(ValueError, match="a bad value"):
        demo.fail("value")


@pytest.mark.slow  # starts a trusted runner
def test_a_subclass_of_a_known_error_is_caught_as_its_base(demo):
    """Is a student's subclass of ValueError caught by `except ValueError`, as in a kernel?"""
    with pytest.raises(ValueError, match="mine, but a ValueError"):
        demo.fail("value-subclass")


@pytest.mark.slow  # starts a trusted runner
def test_a_huge_message_full_of_control_characters_arrives_short_and_printable(demo):
    """Does a megabyte of message with terminal escapes, a bidi override and a lone surrogate
    arrive cut short, escaped, and writable as UTF-8?"""
    with pytest.raises(ValueError) as raised:
        demo.fail("noisy")
    message = str(raised.value)
    assert len(message) <= wire.MAX_MESSAGE
    assert message.startswith("\\x1b[2J\\x1b[H\\u202e\\ud800xxx")
    assert message.isprintable()
    message.encode("utf-8")


# ---------------------------------------------------------------- the table of known errors


def test_the_table_holds_the_errors_tests_expect_and_none_that_ends_a_process():
    """Does the table hold the errors the course's tests expect (assert_raises(ValueError),
    except FloatingPointError, ...) and numpy's public ones, and neither Exception itself
    nor SystemExit, KeyboardInterrupt or GeneratorExit?"""
    known = trusted.KNOWN_ERRORS
    for name in ["ValueError", "TypeError", "FloatingPointError", "AssertionError",
                 "NotImplementedError", "ZeroDivisionError", "RuntimeWarning"]:
        assert known["builtins", name] is getattr(builtins, name)
    assert known["numpy.linalg", "LinAlgError"] is np.linalg.LinAlgError
    assert known["numpy.exceptions", "AxisError"] is np.exceptions.AxisError
    for name in ["Exception", "BaseException", "SystemExit", "KeyboardInterrupt",
                 "GeneratorExit", "BaseExceptionGroup"]:
        assert ("builtins", name) not in known
    assert all(issubclass(kind, Exception) and kind is not Exception for kind in known.values())


def test_nnlibs_own_errors_are_known_by_the_names_the_runner_gives_them():
    """Is a stub's ExerciseNotDone, of nnlib._exercises in the runner, raised again as the
    trusted nnlib's own class, a NotImplementedError, with its label?"""
    student = trusted.Student(runner=None)
    package = trusted.trusted_library(release.REFERENCE_LIBRARY, None, student)
    try:
        kind = student.errors["nnlib._exercises", "ExerciseNotDone"]
        assert kind is package.ExerciseNotDone and issubclass(kind, NotImplementedError)
        reply = {"type": "ExerciseNotDone", "message": "Exercise 1.1: implement step",
                 "bases": [["nnlib._exercises", "ExerciseNotDone"],
                           ["builtins", "NotImplementedError"], ["builtins", "RuntimeError"],
                           ["builtins", "Exception"], ["builtins", "BaseException"],
                           ["builtins", "object"]]}
        error = trusted.raised_again(reply, student.errors)
        assert type(error) is kind and str(error) == "Exercise 1.1: implement step"
    finally:
        trusted.forget_library(package)


def bases(*names):
    return [["builtins", name] for name in names]


@pytest.mark.parametrize("reply, expected", [
    # the first class of the MRO that the table holds, its base when its constructor wants more
    ({"type": "Mine", "bases": [["nnlib.perceptron", "Mine"], *bases("ValueError")]},
     ValueError),
    ({"type": "UnicodeDecodeError", "bases": bases("UnicodeDecodeError", "UnicodeError")},
     UnicodeError),
    ({"type": "ExceptionGroup", "bases": bases("ExceptionGroup", "BaseExceptionGroup",
                                               "Exception")}, trusted.StudentException),
    # what ends a process, or is no exception, or claims a module, is a StudentException
    ({"type": "SystemExit", "bases": bases("SystemExit", "BaseException", "object")},
     trusted.StudentException),
    ({"type": "X", "bases": bases("__import__", "eval", "open", "Exception")},
     trusted.StudentException),
    ({"type": "X", "bases": [["numpy.f2py.__main__", "main"], ["numpy.zzz_evil", "Error"],
                             ["os", "system"]]}, trusted.StudentException),
    # forged shapes: no bases, bases that are not [str, str] pairs, names that are not text
    ({}, trusted.StudentException),
    ({"type": 5, "bases": "builtins.ValueError", "message": ["x"]}, trusted.StudentException),
    ({"type": "X", "bases": [["builtins"], ["builtins", "ValueError", "x"], [1, 2],
                             "builtins.ValueError", ["builtins", "V" * 10 ** 6]]},
     trusted.StudentException),
])
def test_an_error_is_looked_up_by_name_and_nothing_is_imported(reply, expected, imports):
    """Does an error from the runner become the first of its classes in the table (never
    one that ends a process), or a StudentException, with no import tried on the way?"""
    error = trusted.raised_again({"ok": False, "message": "m", **reply}, trusted.KNOWN_ERRORS)
    assert type(error) is expected
    assert not imports


def test_an_errors_name_and_message_arrive_short_and_printable():
    """Are a forged type name and message, long and full of control characters, cut short
    and escaped in the StudentException and the verdict's message?"""
    reply = {"ok": False, "type": "Evil\x1b[2J\n" * 1000, "bases": [],
             "message": "\r\x00\x1b]0;pwned\x07\n" * 10 ** 5}
    error = trusted.raised_again(reply, trusted.KNOWN_ERRORS)
    text = str(error)
    assert len(text) <= wire.MAX_NAME + len(": ") + wire.MAX_MESSAGE
    assert text.startswith("Evil\\x1b[2J\\x0aEvil")
    assert all(c.isprintable() or c in "\n\t" for c in text)
    assert len(trusted.describe(error)) <= wire.MAX_MESSAGE


@pytest.mark.slow  # starts a trusted runner
def test_numpy_error_state_travels_with_the_call(demo):
    """Does np.errstate(divide='raise') around a call make the student's log(0) raise?"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(divide="ignore"):
            assert np.isneginf(demo.fail("log"))[0]
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        demo.fail("log")


@pytest.mark.slow  # starts a trusted runner
def test_callbacks_are_replayed_in_order(demo):
    """Are the calls the student's code made to a callback made here, in order, with numbers
    of the same types?"""
    seen = []
    assert demo.count(3, progress=lambda i, half: seen.append((i, half))) == 3
    assert seen == [(0, 0.0), (1, 0.5), (2, 1.0)]
    assert all(isinstance(half, np.float64) for _, half in seen)


@pytest.mark.slow  # starts a trusted runner
def test_array_subclasses_are_suspicious_and_cannot_be_caught(demo):
    """Is an np.matrix return refused as suspicious, past any `except Exception`?"""
    with pytest.raises(trusted.Suspicious, match="not plain data"):
        try:
            demo.matrix()
        except Exception:  # what a test cell could write
            pytest.fail("a Suspicious reply must not be catchable as an Exception")


@pytest.mark.slow  # starts a trusted runner
def test_provided_code_calls_the_student_function(demo):
    """Does provided code of the student's module, run here, reach the student's function?"""
    np.testing.assert_array_equal(demo.provided([1.0]), [2.0])


# ---------------------------------------------------------------- definitions


def test_a_test_cell_that_borrows_a_name_is_refused():
    """Is a test cell that uses a variable of another test cell refused, naming it?"""
    tests = definitions.NotebookTests(
        "nb", ["import numpy as np"], ["w"],
        [definitions.TestCell("t", "nb", 1, "assert w == np.float64(x)",
                              definitions.split_hidden("assert w == np.float64(x)"))])
    with pytest.raises(definitions.DefinitionError, match="uses x"):
        definitions.check_notebook(tests)


def test_hidden_markers_inside_a_block_are_refused():
    """Is a hidden region that splits a for loop refused with a hint?"""
    source = "for i in range(2):\n    ### BEGIN HIDDEN TESTS\n    pass\n    ### END HIDDEN TESTS"
    with pytest.raises(definitions.DefinitionError, match="top level"):
        definitions.split_hidden(source)


def test_a_solution_outside_a_function_is_refused():
    """Is a solution region at module level refused (the grader takes whole functions)?"""
    source = "X = 1\n### BEGIN SOLUTION Exercise 1.1: x\nY = 2\n### END SOLUTION\n"
    with pytest.raises(definitions.DefinitionError, match="outside a top-level function"):
        definitions.student_functions(source)


# ---------------------------------------------------------------- every cell of the course


@pytest.fixture(scope="session")
def course(tmp_path_factory, course_copy):
    return Course(course_copy(tmp_path_factory.mktemp("trusted-course")))


def assignment_of(course, module):
    return next(a for a in course.assignments if course.module(a) == module)


def library_with(course, assignment, own_source, folder):
    """The assignment's student library with ``own_source`` as its own module."""
    shutil.copytree(course.source(assignment) / "nnlib", folder)
    module = course.module(assignment)
    if module:
        (folder / f"{module}.py").write_text(own_source)
    return folder


def direct_verdicts(course, assignment, library):
    """Every cell run in this process against ``library`` itself: what a kernel would say."""
    package = import_library(library, f"direct_nnlib_{next(_names)}")
    package.check_setup = lambda: None
    verdicts = {}
    for tests in definitions.read_assignment(course.source(assignment)):
        notebook = nbformat.read(course.source(assignment) / f"{tests.name}.ipynb", 4)
        scope = {"__name__": "__main__",
                 "__builtins__": {**vars(builtins), "__import__": trusted.importer(package)}}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for source in trusted.student_cells(notebook, tests):
                try:
                    exec(source, scope)  # noqa: S102
                except Exception:
                    pass
            answers = {name: scope[name] for name in tests.answers if name in scope}
            namespace = trusted.notebook_namespace(tests, package, answers)
            for test in tests.tests:
                verdicts[test.grade_id] = trusted.run_test(test, namespace)
    return verdicts


def proxied_verdicts(course, assignment, own_source, tmp_path):
    """Every cell run by ``trusted_verdicts``, the student's module in a real runner."""
    staged = tmp_path / "staged"
    shutil.copytree(course.source(assignment), staged, dirs_exist_ok=True)
    module = course.module(assignment)
    if module:
        (staged / "nnlib" / f"{module}.py").write_text(own_source)
    return trusted.trusted_verdicts(course, assignment, staged, tmp_path / "events.log",
                                    LIMITS, timeout=30)


def both_verdicts(course, assignment, own_source, tmp_path):
    direct = direct_verdicts(course, assignment,
                             library_with(course, assignment, own_source, tmp_path / "nnlib"))
    proxied = proxied_verdicts(course, assignment, own_source, tmp_path)
    return ({k: (v.visible, v.passed) for k, v in direct.items()},
            {k: (v.visible, v.passed) for k, v in proxied.items()})


def reference_source(module):
    return release.drop_markers((release.REFERENCE_LIBRARY / f"{module}.py").read_text())


def stubbed_source(module):
    return release.strip_solutions((release.REFERENCE_LIBRARY / f"{module}.py").read_text())


ASSIGNMENTS = [name for name, _, _ in assignments()]
WITH_MODULE = [name for name, _, module in assignments() if module]  # all but the capstone


@pytest.mark.slow  # starts a trusted runner
def test_every_graded_cell_has_a_trusted_verdict(course, tmp_path):
    """Does the trusted run give a verdict for every graded cell the course lists?"""
    for assignment in course.assignments:
        module = course.module(assignment)
        source = reference_source(module) if module else ""
        verdicts = proxied_verdicts(course, assignment, source, tmp_path / assignment)
        assert set(verdicts) == {c["grade_id"] for c in course.cells(assignment)}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_passes_every_cell_both_ways(assignment, course, tmp_path):
    """Does the reference pass every cell, visible and hidden, directly and by proxy?"""
    module = course.module(assignment)
    direct, proxied = both_verdicts(course, assignment,
                                    reference_source(module) if module else "", tmp_path)
    assert direct == proxied == {grade_id: (True, True) for grade_id in direct}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", WITH_MODULE)
def test_the_stubs_fail_like_a_kernel(assignment, course, tmp_path):
    """Does the student copy, every exercise stubbed, fail the same cells both ways?"""
    direct, proxied = both_verdicts(course, assignment,
                                    stubbed_source(course.module(assignment)), tmp_path)
    assert direct == proxied
    assert any(not passed for _, passed in proxied.values())


def edited(module, old, new):
    source = reference_source(module)
    assert source.count(old) == 1, f"{old!r} is not in {module}.py exactly once"
    return source.replace(old, new)


SIGMOID_STABLE = ("    e = np.exp(-np.abs(z))\n"
                  "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))")
DW = "        dW[i] = delta.T @ cache.A[layer - 1]"
INIT_DRAW = "weights.append(rng.normal(0.0, std, size=(n_out, n_in)))"
ORDER = "order = rng.permutation(n) if shuffle else np.arange(n)"

# name: (module, text of the reference, text of the mutant); each must fail some cell
MUTANTS = {
    "naive-sigmoid": ("activations", SIGMOID_STABLE, "    return 1.0 / (1.0 + np.exp(-z))"),
    "relu-derivative-ones": ("activations", "    return np.where(z > 0, 1.0, 0.0)\n",
                             "    return np.ones_like(z)\n"),
    "step-fires-at-zero": ("perceptron", "    return np.where(z > 0, 1.0, 0.0)",
                           "    return np.where(z >= 0, 1.0, 0.0)"),
    "naive-softmax": ("activations", "    shifted = np.exp(z - z.max(axis=1, keepdims=True))",
                      "    shifted = np.exp(z)"),
    "softmax-global-max": ("activations", "    shifted = np.exp(z - z.max(axis=1, keepdims=True))",
                           "    shifted = np.exp(z - z.max())"),
    "sigmoid-derivative-at-s": ("activations", "    s = sigmoid(z)\n    return s * (1.0 - s)",
                                "    return z * (1.0 - z)"),
    "mse-mean": ("losses", "    return float(np.sum((prediction - target) ** 2) / n)",
                 "    return float(np.mean((prediction - target) ** 2))"),
    "bce-other-epsilon": ("losses", "EPSILON = np.finfo(np.float64).eps", "EPSILON = 1e-15"),
    "sigmoid-ce-through-probabilities": (
        "losses", "    return (sigmoid(logits) - target) / n",
        "    s = sigmoid(logits)\n    p = np.clip(s, EPSILON, 1.0 - EPSILON)\n"
        "    return (p - target) / (p * (1.0 - p)) * s * (1.0 - s) / n"),
    "mse-derivative-by-size": ("losses", "    return 2.0 * (prediction - target) / n",
                               "    return 2.0 * (prediction - target) / prediction.size"),
    "bce-derivative-unclipped": ("losses", "    return (p - target) / (p * (1.0 - p)) / n",
                                 "    p = prediction\n"
                                 "    return (p - target) / (p * (1.0 - p)) / n"),
    "softmax-ce-derivative-unsimplified": (
        "losses", "    return (softmax(logits) - target) / n",
        "    p = softmax(logits)\n    g = -target / p / n\n"
        "    return p * (g - np.sum(g * p, axis=1, keepdims=True))"),
    "output-delta-without-f-prime": (
        "backprop",
        "    return output_activation.backward(loss.derivative(output, target), logits)",
        "    return loss.derivative(output, target)"),
    "output-delta-unfolded": (
        "backprop", "        return (output - target) / len(target)",
        "        return output_activation.backward(loss.derivative(logits, target), logits)"),
    "output-delta-without-mean": ("backprop", "        return (output - target) / len(target)",
                                  "        return output - target"),
    "dW-wrong-sign": ("backprop", DW, "        dW[i] = -(delta.T @ cache.A[layer - 1])"),
    "dW-transposed": ("backprop", DW, "        dW[i] = (delta.T @ cache.A[layer - 1]).T"),
    "db-mean": ("backprop", "        db[i] = delta.sum(axis=0)",
                "        db[i] = delta.mean(axis=0)"),
    "forward-difference": ("backprop",
                           "        x[index] = kept - h\n        below = float(f(x.copy()))",
                           "        x[index] = kept\n"
                           "        below = 2.0 * float(f(x.copy())) - above"),
    "numerical-gradient-leaves-x-nudged": ("backprop",
                                           "        x[index] = kept\n        grad[index]",
                                           "        grad[index]"),
    "relative-error-norm-of-sum": ("backprop",
                                   "    scale = np.linalg.norm(a) + np.linalg.norm(b)",
                                   "    scale = np.linalg.norm(a + b)"),
    "relative-error-by-b-only": ("backprop",
                                 "    scale = np.linalg.norm(a) + np.linalg.norm(b)",
                                 "    scale = np.linalg.norm(b)"),
    "layer-norms-of-db": ("backprop", "    dW, _ = backpropagation(X, Y, weights, biases,",
                          "    _, dW = backpropagation(X, Y, weights, biases,"),
    "layer-norms-spectral": ("backprop", "np.linalg.norm(gradient) for gradient in dW",
                             "np.linalg.norm(gradient, 2) for gradient in dW"),
    "forward-pass-untransposed": ("network", "        A = f(A @ W.T + b)",
                                  "        A = f(A @ W + b)"),
    "he-too-small": ("network", "else np.sqrt(2.0 / n_in)", "else np.sqrt(1.0 / n_in)"),
    "init-unseeded": ("network", INIT_DRAW,
                      "weights.append(np.random.normal(0.0, std, size=(n_out, n_in)))"),
    "cache-without-input": ("network", "    A_list, Z_list = [X], [None]",
                            "    A_list, Z_list = [], []"),
    "forward-modifies-weights": ("network", '    array([[1.5]])\n    """\n',
                                 '    array([[1.5]])\n    """\n    for W in weights:\n'
                                 "        W *= 1.0 + 1e-3\n"),
    "parameters-without-biases": ("network", "sum(n_in * n_out + n_out for n_in, n_out in",
                                  "sum(n_in * n_out for n_in, n_out in"),
    "multiply-adds-one-sample": ("network", "    return n_samples * sum(n_in * n_out",
                                 "    return sum(n_in * n_out"),
    "dead-counts-output-layer": ("training", "for A in cache.A[1:-1]]", "for A in cache.A[1:]]"),
    "dead-when-zero-for-any-sample": ("training", "np.all(A == 0.0, axis=0)",
                                      "np.any(A == 0.0, axis=0)"),
    "dead-counts-numpy-ints": ("training", "int(np.sum(np.all(A == 0.0, axis=0)))",
                               "np.sum(np.all(A == 0.0, axis=0))"),
    "drops-last-batch": ("training", "for start in range(0, n, batch_size):",
                         "for start in range(0, n - batch_size + 1, batch_size):"),
    "never-shuffles": ("training", ORDER, "order = np.arange(n)"),
    "global-shuffle": ("training", ORDER,
                       "order = np.random.permutation(n) if shuffle else np.arange(n)"),
    "unweighted-history": ("training",
                           "loss_value(Xb, Yb, weights, biases, activations, loss) * len(batch)",
                           "loss_value(Xb, Yb, weights, biases, activations, loss) * batch_size"),
    "no-progress": ("training", "        report(epoch, history[-1], weights, biases)\n", ""),
    "update-in-place": ("training", "    return new_weights, new_biases",
                        "    weights[:] = new_weights\n    return weights, new_biases"),
    "perceptron-never-stops": ("perceptron", "        if n_wrong == 0:\n            break\n", ""),
    "momentum-velocity-not-kept": ("optimization",
                                   "state._replace(velocity=(vW, vB), step=state.step + 1)",
                                   "state._replace(step=state.step + 1)"),
    "rmsprop-eps-inside-root": ("optimization",
                                "new_biases = [b - learning_rate * g / (np.sqrt(s) + eps)",
                                "new_biases = [b - learning_rate * g / np.sqrt(s + eps)"),
    "adam-no-bias-correction": ("optimization",
                                "return (m / (1.0 - beta1 ** t)) / "
                                "(np.sqrt(v / (1.0 - beta2 ** t)) + eps)",
                                "return m / (np.sqrt(v) + eps)"),
    "adam-step-off-by-one": ("optimization", "    t = state.step + 1\n",
                             "    t = max(state.step, 1)\n"),
    "adam-decays-biases": ("optimization",
                           "new_biases = [b - learning_rate * step(m, v) "
                           "for b, m, v in zip(biases, mB, vB)]",
                           "new_biases = [b - learning_rate * (step(m, v) + weight_decay * b)\n"
                           "                  for b, m, v in zip(biases, mB, vB)]"),
    "step-schedule-one-early": ("optimization", "drop ** (step // every)",
                                "drop ** ((step + 1) // every)"),
    "cosine-ignores-warmup-in-progress": (
        "optimization",
        "progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))",
        "progress = min(1.0, step / total_steps)"),
    "l2-without-half": ("optimization", "return float(strength / 2.0 * sum(",
                        "return float(strength * sum("),
    "dropout-not-inverted": ("optimization", "mask = (rng.random(A.shape) >= rate) / (1.0 - rate)",
                             "mask = (rng.random(A.shape) >= rate) * 1.0"),
    "dropout-keeps-with-probability-rate": ("optimization",
                                            "mask = (rng.random(A.shape) >= rate) / (1.0 - rate)",
                                            "mask = (rng.random(A.shape) < rate) / (1.0 - rate)"),
    "batchnorm-unbiased-variance": ("optimization", "mean, var = Z.mean(axis=0), Z.var(axis=0)",
                                    "mean, var = Z.mean(axis=0), Z.var(axis=0, ddof=1)"),
    "batchnorm-running-weights-swapped": (
        "optimization", "RunningStats(momentum * running.mean + (1.0 - momentum) * mean,",
        "RunningStats((1.0 - momentum) * running.mean + momentum * mean,"),
    "batchnorm-backward-direct-path-only": (
        "optimization",
        "    dZ = inv_std * (d_normalized - d_normalized.mean(axis=0)\n"
        "                    - normalized * np.mean(d_normalized * normalized, axis=0))",
        "    dZ = inv_std * d_normalized"),
    "early-stopping-ties-improve": ("optimization", "if losses[epoch] < losses[best]:",
                                    "if losses[epoch] <= losses[best]:"),
    "early-stopping-one-epoch-late": ("optimization", "elif epoch - best >= patience:",
                                      "elif epoch - best > patience:"),
    "backward-overwrites-shares": ("autograd", "grads[parent] = grads[parent] + grad",
                                   "grads[parent] = grad"),
    "backward-in-list-order": ("autograd",
                               "for node in reversed(topological_order(graph.parents, "
                               "graph.root)):",
                               "for node in range(len(graph.ops)):"),
    "tanh-derivative-at-the-input": ("autograd", "return (1.0 - output ** 2,)",
                                     "return (1.0 - a ** 2,)"),
    "sigmoid-derivative-at-the-input": ("autograd", "return (output * (1.0 - output),)",
                                        "return (a * (1.0 - a),)"),
    "pow-derivative-exponent-kept": ("autograd", "attribute * a ** (attribute - 1)",
                                     "attribute * a ** attribute"),
    "relu-derivative-one-at-zero": ("autograd",
                                    "np.where(a > 0, 1.0, 0.0) if np.ndim(a) else float(a > 0)",
                                    "np.where(a >= 0, 1.0, 0.0) if np.ndim(a) else float(a >= 0)"),
    # the order a search from the root meets the nodes, reversed: not a topological order
    "topological-order-breadth-first": (
        "autograd",
        "    order, done = [], set()\n    stack = [(root, False)]\n",
        "    order, done, queue = [], set(), [root]\n"
        "    while queue:\n"
        "        node = queue.pop(0)\n"
        "        if node not in done:\n"
        "            done.add(node)\n"
        "            order.append(node)\n"
        "            queue.extend(parents[node])\n"
        "    return order[::-1]\n"
        "    stack = [(root, False)]\n"),
    "unbroadcast-leading-axes-only": ("autograd",
                                      "grad = grad.sum(axis=kept, keepdims=True) if kept",
                                      "grad = grad.sum(axis=kept, keepdims=True) if False"),
    "softmax-ce-vjp-without-mean": ("autograd", "(probabilities - attribute) / len(a),)",
                                    "(probabilities - attribute),)"),
}

# name: (module, text of the reference, another right way to write it)
HONEST = {
    "dead-units-any-nonzero": ("training", "int(np.sum(np.all(A == 0.0, axis=0)))",
                               "int(np.count_nonzero(~A.any(axis=0)))"),
    "sigmoid-logaddexp": ("activations", SIGMOID_STABLE,
                          "    return np.exp(-np.logaddexp(0.0, -z))"),
    "tanh-from-sigmoid": ("activations", "    return np.tanh(z)\n",
                          "    return 2.0 * sigmoid(2.0 * z) - 1.0\n"),
    "relu-mask": ("activations", "    return np.maximum(z, 0.0)", "    return z * (z > 0)"),
    "bce-log": ("losses", "np.log1p(-p)) / n)", "np.log(1.0 - p)) / n)"),
    "softplus-logaddexp": ("losses", "np.maximum(logits, 0.0) + np.log1p(np.exp(-np.abs(logits)))",
                           "np.logaddexp(0.0, logits)"),
    "bce-derivative-two-fractions": ("losses", "    return (p - target) / (p * (1.0 - p)) / n",
                                     "    return (-target / p + (1.0 - target) / (1.0 - p)) / n"),
    "output-delta-by-the-loss": ("backprop", "        return (output - target) / len(target)",
                                 "        return loss.derivative(logits, target)"),
    "dW-other-product": ("backprop", DW, "        dW[i] = (cache.A[layer - 1].T @ delta).T"),
    "numerical-gradient-without-copies": ("backprop", "        above = float(f(x.copy()))",
                                          "        above = float(f(x))"),
    "relative-error-by-sums": ("backprop", "    return float(np.linalg.norm(a - b) / scale)",
                               "    return float(np.sqrt(np.sum((a - b) ** 2)) / scale)"),
    "perceptron-if": ("perceptron", "            error = y_i - float(step(x_i @ w + b))",
                      "            error = y_i - (1.0 if np.dot(w, x_i) + b > 0 else 0.0)"),
    "forward-pass-column-form": ("network", "        A = f(A @ W.T + b)",
                                 "        A = f((W @ A.T + b[:, np.newaxis]).T)"),
    "init-other-draws": ("network", INIT_DRAW,
                         "weights.append(rng.normal(0.0, std, size=(n_in, n_out)).T.copy())"),
    "dropout-mask-where": ("optimization", "mask = (rng.random(A.shape) >= rate) / (1.0 - rate)",
                           "mask = np.where(rng.random(A.shape) >= rate, 1.0 / (1.0 - rate), 0.0)"),
    "batchnorm-backward-staged": (
        "optimization",
        "    dZ = inv_std * (d_normalized - d_normalized.mean(axis=0)\n"
        "                    - normalized * np.mean(d_normalized * normalized, axis=0))",
        "    n = len(d_output)\n"
        "    centred = normalized / inv_std\n"
        "    d_var = np.sum(d_normalized * centred, axis=0) * -0.5 * inv_std ** 3\n"
        "    d_mean = (-np.sum(d_normalized * inv_std, axis=0)\n"
        "              - 2.0 * d_var * centred.mean(axis=0))\n"
        "    dZ = d_normalized * inv_std + d_var * 2.0 * centred / n + d_mean / n"),
    "early-stopping-argmin": ("optimization",
                              "        if losses[epoch] < losses[best]:\n            best = epoch\n"
                              "        elif epoch - best >= patience:",
                              "        best = int(np.argmin(losses[:epoch + 1]))\n"
                              "        if epoch - best >= patience:"),
    "cosine-squared": ("optimization", "(1.0 + np.cos(np.pi * progress)) / 2.0",
                       "np.cos(np.pi * progress / 2.0) ** 2"),
    "topological-order-recursive": (
        "autograd",
        "    order, done = [], set()\n    stack = [(root, False)]\n",
        "    order, done = [], set()\n\n"
        "    def visit(node):\n"
        "        if node in done:\n"
        "            return\n"
        "        done.add(node)\n"
        "        for parent in parents[node]:\n"
        "            visit(parent)\n"
        "        order.append(node)\n\n"
        "    visit(root)\n"
        "    return order\n"
        "    stack = [(root, False)]\n"),
    "sigmoid-derivative-from-the-input": ("autograd", "return (output * (1.0 - output),)",
                                          "return (np.exp(-a) / (1.0 + np.exp(-a)) ** 2,)"),
    "tanh-derivative-cosh": ("autograd", "return (1.0 - output ** 2,)",
                             "return (1.0 / np.cosh(a) ** 2,)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", MUTANTS)
def test_a_mutant_gets_the_same_verdicts_both_ways(name, course, tmp_path):
    """Does a library with one bug fail the same cells, visible and hidden parts alike,
    directly and by proxy, and fail at least one?"""
    module, old, new = MUTANTS[name]
    direct, proxied = both_verdicts(course, assignment_of(course, module),
                                    edited(module, old, new), tmp_path)
    assert direct == proxied
    assert any(not passed for _, passed in proxied.values()), f"{name} passed every cell"


@pytest.mark.slow
@pytest.mark.parametrize("name", HONEST)
def test_another_right_way_passes_every_cell_both_ways(name, course, tmp_path):
    """Does another right way of writing an exercise pass every cell, directly and by proxy?"""
    module, old, new = HONEST[name]
    direct, proxied = both_verdicts(course, assignment_of(course, module),
                                    edited(module, old, new), tmp_path)
    assert direct == proxied == {grade_id: (True, True) for grade_id in direct}


# answer cell -> (the test cell that reads it, [(the cell's new code, (visible, passed))]).
# Wrong derivations fail both parts; other right ways of writing one pass; a number that
# passes the visible range but not the hidden tolerance fails only the hidden part. Code that
# starts with THEN runs after the reference's own answer (one value of several changed).
THEN = "# the reference's answer, then:\n"
ANSWERS = {
    "answer-gradient-by-hand": ("test-gradient-by-hand", [
        ("dL_dw2, dL_dw1, dL_db1 = 1.0, 1.0, 3.0", (False, False)),
        ("pass", (False, False)),
    ]),
    "answer-sigmoid-far": ("test-sigmoid-far", [
        ("sigmoid_far = 1.0 / (1.0 + np.exp(-z_far))", (False, False)),
        ("sigmoid_far = np.exp(z_far) / (1.0 + np.exp(z_far))", (False, False)),
        ("sigmoid_far = np.exp(-np.logaddexp(0.0, -z_far))", (True, True)),
    ]),
    "answer-sigmoid-slope": ("test-sigmoid-slope", [
        ("sigmoid_slope = s * (1.0 + s)", (False, False)),
        ("sigmoid_slope = s - s ** 2", (True, True)),
    ]),
    "answer-tanh-slope": ("test-tanh-slope", [
        ("tanh_slope = 1.0 - np.tanh(t) ** 2", (False, False)),
        ("tanh_slope = (1.0 - t) * (1.0 + t)", (True, True)),
    ]),
    "answer-relu-slope": ("test-relu-slope", [
        ("relu_slope = np.where(z_relu >= 0, 1.0, 0.0)", (False, False)),
        ("relu_slope = (z_relu > 0).astype(float)", (True, True)),
    ]),
    "answer-leaky-slope": ("test-leaky-slope", [
        ("leaky_slope = np.where(z_leaky > 0, 1.0, 0.0) + alpha * np.where(-z_leaky > 0, 1.0, 0.0)",
         (False, False)),
        ("leaky_slope = np.where(z_leaky <= 0, alpha, 1.0)", (True, True)),
    ]),
    "answer-softmax-shift": ("test-softmax-shift", [
        ("row_shifts = np.full(6, -Z_logits.max())", (False, False)),
        ("row_shifts = -np.max(Z_logits, axis=1)", (True, True)),
    ]),
    "answer-xavier-std": ("test-xavier-std", [
        ("xavier_std = np.sqrt(1.0 / sizes_in)", (False, False)),
        ("xavier_std = 2.0 / (sizes_in + sizes_out)", (False, False)),
        ("xavier_std = 1.0 / np.sqrt((sizes_in + sizes_out) / 2)", (True, True)),
    ]),
    "answer-he-std": ("test-he-std", [
        ("he_std = np.sqrt(1.0 / sizes_in)", (False, False)),
        ("he_std = np.sqrt(2.0) / np.sqrt(sizes_in)", (True, True)),
    ]),
    "answer-mse-derivative": ("test-mse-derivative-derived", [
        ("dL_dYhat = 2.0 * (Y_hat_mse - Y_mse) / Y_hat_mse.size", (False, False)),
        ("dL_dYhat = (Y_hat_mse - Y_mse) * (2.0 / len(Y_mse))", (True, True)),
    ]),
    "answer-bce-derivative": ("test-bce-derivative-derived", [
        ("dL_dP = (P_bce - Y_bce) / (P_bce * (1.0 - P_bce))", (False, False)),
        ("dL_dP = (-Y_bce / P_bce + (1.0 - Y_bce) / (1.0 - P_bce)) / len(P_bce)", (True, True)),
    ]),
    "answer-own-gradient-check": ("test-own-gradient-check", [
        (THEN + "missing_mean_error = 1 / 3", (True, False)),
    ]),
    "answer-debugging": ("test-debug-case-a", [
        (THEN + "diagnosis['A'] = (1, diagnosis['A'][1])", (True, False)),
    ]),
    "answer-epoch-batches": ("test-epoch-batches", [
        ("updates_per_epoch, epoch_loss = 3, float(np.mean(batch_losses))", (True, False)),
        ("updates_per_epoch, epoch_loss = 3, (4 * 0.52 + 4 * 0.31 + 2 * 0.94) / 10",
         (True, True)),
    ]),
    "answer-silent-units": ("test-silent-units", [
        ("dW1_silent, db1_silent, rising = np.zeros((2, 1)), np.zeros(2), [False, False]",
         (False, False)),
        (THEN + "rising = rising[::-1]", (True, False)),
    ]),
    "answer-softmax-ce": ("test-softmax-ce-derived", [
        ("P = np.exp(Z_ce - Z_ce.max(axis=1, keepdims=True))\nP /= P.sum(axis=1, keepdims=True)\n"
         "row_losses = -np.sum(Y_ce * np.log(P), axis=1)", (False, False)),
        ("row_losses = Z_ce.max() + np.log(np.exp(Z_ce - Z_ce.max()).sum(axis=1))"
         " - np.sum(Y_ce * Z_ce, axis=1)", (False, False)),
        ("row_losses = (np.logaddexp.reduce(Z_ce, axis=1)"
         " - np.sum(Y_ce * Z_ce, axis=1)).astype(np.float32)", (True, False)),
        ("row_losses = np.logaddexp.reduce(Z_ce, axis=1) - np.sum(Y_ce * Z_ce, axis=1)",
         (True, True)),
    ]),
    "answer-sigmoid-ce": ("test-sigmoid-ce-derived", [
        ("p = np.clip(1.0 / (1.0 + np.exp(-Z_bin)), 2.0 ** -52, 1.0 - 2.0 ** -52)\n"
         "entry_losses = -(Y_bin * np.log(p) + (1.0 - Y_bin) * np.log(1.0 - p))", (False, False)),
        ("entry_losses = Z_bin + np.log1p(np.exp(-Z_bin)) - Y_bin * Z_bin", (False, False)),
        ("entry_losses = Y_bin * np.logaddexp(0.0, -Z_bin)"
         " + (1.0 - Y_bin) * np.logaddexp(0.0, Z_bin)", (True, True)),
    ]),
    "answer-sigmoid-shrink-factor": ("test-sigmoid-shrink-factor", [
        ("shrink_factor = 0.105", (True, False)),
        ("shrink_factor = 0.147", (True, False)),
        ("shrink_factor = 0.1995", (True, False)),
        ("shrink_factor = 0.12", (True, True)),
    ]),
    "answer-momentum-rate": ("test-momentum-rate", [
        ("momentum_limit = 2 / 12.81", (True, False)),          # plain SGD's limit
        ("momentum_limit = 2 / 12.81 / (1 - 0.9)", (True, False)),
        ("momentum_limit = 3.8 / 12.813", (True, True)),
    ]),
    "answer-decoupled-decay": ("test-decoupled-decay", [
        ("l2_move, decoupled_move = 0.1 * 0.01 * 2, 0.1 * 0.01 * 2", (True, False)),
        ("l2_move, decoupled_move = 0.1, -0.002", (False, False)),
        ("l2_move, decoupled_move = 0.1, 0.1 * 0.01 * 2.0", (True, True)),
    ]),
    "answer-predict-regularization": ("test-predict-regularization", [
        (THEN + 'predicted_effects["gap"] = "up"', (True, False)),
        ('predicted_effects = {"training loss": "down", "gap": "down"}', (False, False)),
    ]),
    "answer-predict-last-std": ("test-predict-last-std", [
        ("predicted_std = 0.5", (True, False)),
        ("predicted_std = 0.5 * 10", (False, False)),
        ("predicted_std = 2.0 ** -10", (True, True)),
    ]),
    "answer-predict-grads": ("test-predict-grads", [
        ("predicted_grads = (1.0, 2.0)", (True, False)),          # the product's share only
        ("predicted_grads = -2.0", (False, False)),
        ("predicted_grads = [-2, 2]", (True, True)),
    ]),
    "answer-batchnorm-check": ("test-batchnorm-check", [
        (THEN + 'batchnorm_errors["dZ"] = 0.0', (True, False)),
        (THEN + 'batchnorm_errors["dZ"] = 0.5', (False, False)),
    ]),
}
ANSWER_CASES = [(answer, index) for answer, (_, cases) in ANSWERS.items()
                for index in range(len(cases))]


def assignment_with_cell(course, grade_id):
    """The assignment whose source notebook holds the cell ``grade_id``, and that notebook."""
    for assignment in course.assignments:
        for path in course.source(assignment).glob("*.ipynb"):
            cells = nbformat.read(path, 4).cells
            if any(c.metadata.get("nbgrader", {}).get("grade_id") == grade_id for c in cells):
                return assignment, path.name
    raise AssertionError(f"no notebook of the course has a cell {grade_id!r}")


@pytest.mark.slow
@pytest.mark.parametrize(("answer", "index"), ANSWER_CASES,
                         ids=[f"{a}-{i}" for a, i in ANSWER_CASES])
def test_an_answer_gets_its_verdict(answer, index, course, tmp_path):
    """Does a wrong derivation, or a missing answer, fail its cell, and another right way of
    writing it pass, when everything else is the reference's?"""
    test_id, cases = ANSWERS[answer]
    code, expected = cases[index]
    assignment, name = assignment_with_cell(course, answer)
    staged = tmp_path / "staged"
    shutil.copytree(course.source(assignment), staged)
    module = course.module(assignment)
    if module:
        (staged / "nnlib" / f"{module}.py").write_text(reference_source(module))
    notebook = nbformat.read(staged / name, 4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == answer:
            cell.source = cell.source + "\n" + code if code.startswith(THEN) else code
    nbformat.write(notebook, staged / name)
    verdicts = trusted.trusted_verdicts(course, assignment, staged, tmp_path / "e.log",
                                        LIMITS, timeout=30)
    assert (verdicts[test_id].visible, verdicts[test_id].passed) == expected
    others = {k: v.passed for k, v in verdicts.items() if k != test_id}
    assert all(others.values()), f"other cells failed: {[k for k, v in others.items() if not v]}"


@pytest.mark.parametrize("source, expected", [
    ("x = 1\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS", (True, True)),
    ("assert x == 2\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS", (False, False)),
    ("x = 1\n### BEGIN HIDDEN TESTS\nassert x == 2\n### END HIDDEN TESTS", (True, False)),
    ("### BEGIN HIDDEN TESTS\nassert x == 2\n### END HIDDEN TESTS\nassert x == 1", (True, False)),
    ("### BEGIN HIDDEN TESTS\nassert x == 2\n### END HIDDEN TESTS\nassert x == 3", (False, False)),
])
def test_the_visible_verdict_is_what_the_visible_parts_alone_say(source, expected):
    """Is a failure of a hidden part a failed cell whose visible verdict comes from the visible
    parts alone, including those after it (which the kernel runs too)?"""
    cell = definitions.TestCell("t", "nb", 1, source, definitions.split_hidden(source))
    verdict = trusted.run_test(cell, lambda: {"x": 1})
    assert (verdict.visible, verdict.passed) == expected
    assert bool(verdict.message) == (not verdict.passed)


def test_what_a_test_cell_prints_stays_off_the_graders_terminal(capfd):
    """Does a test cell's print, run in the grader's own process (a grading process's or a Dask
    worker's terminal), print nothing there, and still pass?"""
    source = "print('printed by the test')\nassert x == 1"
    cell = definitions.TestCell("t", "nb", 1, source, definitions.split_hidden(source))
    verdict = trusted.run_test(cell, lambda: {"x": 1})
    assert verdict.passed
    assert "printed by the test" not in "".join(capfd.readouterr())


# ---------------------------------------------------------------- a library that hangs


HANGS_ON_IMPORT = ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "while True:\n    pass\n")


def runner_for(tmp_path, source, timeout):
    """A trusted Runner whose student library is ``demo.py`` = ``source``, counting starts."""
    workdir = Path(sandbox.private_dir())
    (workdir / "nnlib").mkdir()
    (workdir / "nnlib" / "__init__.py").write_text("")
    (workdir / "nnlib" / "demo.py").write_text(source)
    runner = trusted.Runner(workdir, sandbox.Sandbox(LIMITS), tmp_path / "events.log", timeout)
    starts = []
    start = runner.start
    runner.start = lambda: (starts.append(1), start())[1]
    return runner, starts


@pytest.mark.slow  # starts a trusted runner
def test_a_library_that_hangs_on_import_is_given_up_after_two_new_processes(tmp_path):
    """Does every request after two failed loads fail at once, without a third process and
    its timeout?"""
    runner, starts = runner_for(tmp_path, HANGS_ON_IMPORT, timeout=2)
    try:
        messages = []
        for _ in range(4):
            with pytest.raises(trusted.RunnerDied) as raised:
                runner.request({"op": "values", "names": ["x"]})
            messages.append(str(raised.value))
        assert len(starts) == 2, f"expected two processes, {len(starts)} were started"
        assert "did not finish within 2 s" in messages[0]
        assert all("did not load" in m and "2 times" in m for m in messages[1:]), messages
    finally:
        runner.stop()
        shutil.rmtree(runner.workdir, ignore_errors=True)


@pytest.mark.slow  # starts a trusted runner
def test_a_library_that_raises_on_import_is_not_given_up(tmp_path):
    """Is an import that raises left to the calls that need it (each gets its error), with
    the process kept?"""
    runner, starts = runner_for(tmp_path, "raise ValueError('broken at import')\n", timeout=20)
    try:
        for _ in range(3):
            reply = runner.request({"op": "exec", "source": "import nnlib.demo"})
            assert reply["ok"] is False and "broken at import" in reply["message"], reply
        assert len(starts) == 1
    finally:
        runner.stop()
        shutil.rmtree(runner.workdir, ignore_errors=True)


# ---------------------------------------------------------------- errors the grader must survive


# Every request to the trusted runner raises the next of these, in turn. The first one's
# class claims to live in numpy.f2py.__main__, whose import runs f2py's command line on the
# grader's argv and ends in SystemExit (issue 19): a grader that imported it died, the
# job scored 0 and was retried on every run.
NAMED_ERRORS = '''
import itertools

import numpy as np


def _claiming(module):
    return type("Claimed", (Exception,), {"__module__": module})


_ERRORS = itertools.cycle([_claiming("numpy.f2py.__main__")("import my module"), SystemExit(0),
                           KeyboardInterrupt(), GeneratorExit(),
                           _claiming("numpy.zzz_evil")("import me")])


def step(z):
    raise next(_ERRORS)


def perceptron_predict(X, w, b):
    raise next(_ERRORS)


def perceptron_train(X, y, learning_rate=1.0, epochs=100):
    raise next(_ERRORS)
'''


@pytest.mark.slow  # starts a trusted runner
def test_errors_that_claim_modules_or_end_processes_fail_only_their_cells(course, tmp_path,
                                                                         imports):
    """Graded through the real runner, does each cell whose student function raises an error
    that claims a numpy module, SystemExit, KeyboardInterrupt or GeneratorExit fail as an
    ordinary failure, the cells that need no student function still pass, and is none of
    the claimed modules imported?"""
    loaded = set(sys.modules)
    verdicts = proxied_verdicts(course, assignment_of(course, "perceptron"), NAMED_ERRORS,
                                tmp_path)
    messages = {grade_id: verdicts[grade_id].message for grade_id in
                ["test-step", "test-perceptron-predict", "test-gates-by-hand",
                 "test-perceptron-train"]}
    assert messages == {
        "test-step": "StudentException: Claimed: import my module",
        "test-perceptron-predict": "StudentException: SystemExit: 0",
        "test-gates-by-hand": "StudentException: KeyboardInterrupt: ",
        "test-perceptron-train": "StudentException: GeneratorExit: "}
    assert all(v.passed == (g not in messages) and not v.timed_out and not v.suspicious
               for g, v in verdicts.items())
    assert not looked_for(imports)
    assert not {m for m in set(sys.modules) - loaded if m.startswith("numpy")}


@pytest.mark.slow  # starts a trusted runner
def test_a_stub_fails_with_its_own_error_not_a_student_exception(course, tmp_path):
    """Does a stub's ExerciseNotDone, raised in the runner, fail its cell as nnlib's own
    ExerciseNotDone (a NotImplementedError), naming its exercise?"""
    verdicts = proxied_verdicts(course, assignment_of(course, "perceptron"),
                                stubbed_source("perceptron"), tmp_path)
    assert verdicts["test-step"].message == "ExerciseNotDone: Exercise 1.1: implement step"


# ---------------------------------------------------------------- a time budget per notebook


# Time bounds below are generous on purpose (the machine is shared and loaded): the budget
# bounds every request to the runner; beyond it the trusted run does only the grader's own
# work (copying the library, importing the trusted nnlib, stopping the runner it cut short),
# far less than a cell timeout each, so a run must end within BUDGET + 2 * CELL_TIMEOUT.
# Without the budget, the same run sleeps in full: about 15 requests of SLEEP, 30 s. With a
# budget under the cell timeout, every request is cut by the budget, never by its timeout.
SLEEP, CELL_TIMEOUT, BUDGET = 2, 8, 6


def slow_in_the_runner(seconds):
    """The reference perceptron whose perceptron_predict and perceptron_train sleep
    ``seconds`` before they answer, far under the cell timeout (step stays quick)."""
    return reference_source("perceptron") + f'''

import time as _time


def _slowly(function):
    def slow(*args, **kwargs):
        _time.sleep({seconds})
        return function(*args, **kwargs)

    return slow


perceptron_predict, perceptron_train = map(_slowly, (perceptron_predict, perceptron_train))
'''


@pytest.fixture()
def starts(monkeypatch):
    """How many runner processes the test starts."""
    started = []
    start = trusted.Runner.start
    monkeypatch.setattr(trusted.Runner, "start",
                        lambda runner: (started.append(1), start(runner))[1])
    return started


def budgeted_verdicts(course, staged, tmp_path):
    """``trusted_verdicts`` of 01-perceptron with its notebook's BUDGET, and its seconds."""
    began = time.monotonic()
    verdicts = trusted.trusted_verdicts(
        course, assignment_of(course, "perceptron"), staged, tmp_path / "events.log", LIMITS,
        timeout=CELL_TIMEOUT, budgets={"01_perceptron": BUDGET})
    return verdicts, time.monotonic() - began


def staged_copy(course, own_source, tmp_path):
    staged = tmp_path / "staged"
    shutil.copytree(course.source(assignment_of(course, "perceptron")), staged)
    (staged / "nnlib" / "perceptron.py").write_text(own_source)
    return staged


def assert_timed_out(verdict):
    assert (verdict.visible, verdict.passed, verdict.timed_out) == (False, False, True)
    assert verdict.message.startswith(f"{TIME_LIMIT}: not run, the notebook's time limit")
    assert verdict.notebook == "01_perceptron" and not verdict.suspicious


@pytest.mark.slow  # starts a trusted runner
def test_a_notebook_past_its_budget_keeps_what_it_earned_and_times_out_the_rest(
        course, tmp_path, starts):
    """With a library right but slow in the runner, do the cells before the budget ran out
    pass, does every later one fail with TIME_LIMIT and timed_out set, does the run end
    within its bound, and is no new runner started for the cells the budget left?"""
    staged = staged_copy(course, slow_in_the_runner(SLEEP), tmp_path)
    verdicts, seconds = budgeted_verdicts(course, staged, tmp_path)
    timed_out = [v.timed_out for v in verdicts.values()]  # in the notebook's order
    assert True in timed_out and timed_out == sorted(timed_out), verdicts
    for verdict in verdicts.values():
        if verdict.timed_out:
            assert_timed_out(verdict)
        else:
            assert verdict.passed, verdict
    assert seconds <= BUDGET + 2 * CELL_TIMEOUT
    assert len(starts) == 1


@pytest.mark.slow  # starts a trusted runner
def test_the_answer_cells_count_against_the_budget(course, tmp_path, starts):
    """When a student's answer cell sleeps past the notebook's budget (in the runner only),
    is it cut at the budget, does every test cell time out, and is no runner started again?"""
    staged = staged_copy(course, reference_source("perceptron"), tmp_path)
    path = staged / "01_perceptron.ipynb"
    notebook = nbformat.read(path, 4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer-gates":
            cell.source += "\nimport time\ntime.sleep(60)\n"
    nbformat.write(notebook, path)
    verdicts, seconds = budgeted_verdicts(course, staged, tmp_path)
    for verdict in verdicts.values():
        assert_timed_out(verdict)
    assert seconds <= BUDGET + 2 * CELL_TIMEOUT
    assert len(starts) == 1


@pytest.mark.slow  # starts a trusted runner
def test_a_spent_budget_starts_no_runner_and_cannot_be_caught(tmp_path):
    """Does a request after the budget is spent fail at once, without starting a process,
    with an error no test cell's `except Exception` can catch; and does a notebook without a
    budget run as before?"""
    runner, started = runner_for(tmp_path, "", timeout=20)
    try:
        runner.limit_time(0)
        with pytest.raises(trusted.OutOfTime, match=TIME_LIMIT):
            runner.request({"op": "values", "names": ["x"]})
        assert not started and not issubclass(trusted.OutOfTime, Exception)
        runner.limit_time(None)
        assert runner.request({"op": "values", "names": ["x"]})["ok"]
        assert len(started) == 1
    finally:
        runner.stop()
        shutil.rmtree(runner.workdir, ignore_errors=True)
