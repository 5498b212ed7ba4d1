"""Shared test set-up: figures are drawn off-screen; hypothesis does not time tests."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Hypothesis times its tests (a deadline per example, a health check on slow input
# generation); on a shared, noisy machine those are timed tests, and a stall of a second
# failed one (tests/test_wire.py, in CI). Correctness is all the suite asserts.
settings.register_profile("shared-machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")


@pytest.fixture(scope="session")
def student_nnlib(tmp_path_factory):
    """The student library, every exercise stubbed, imported as a package of its own."""
    from libraries import released_library

    return released_library(tmp_path_factory.mktemp("student") / "nnlib", "stubbed_nnlib")


# What a quick test (not marked slow) may not start: a kernel, a sandbox, a trusted runner,
# a Dask cluster or a JupyterLab server. ``-m "not slow"`` is the quick run.
HEAVY_COMMANDS = ("ipykernel", "bwrap", "autograder.runner", "distributed",
                  "dask", "jupyter", "chromium", "postgres", "nbgrader")


def _watch_heavy(started):
    """Record in ``started`` each kernel, sandbox, cluster or server started (by
    ``subprocess.Popen``) and each process of multiprocessing, until the returned function
    undoes the watch. What was started still runs: failing inside a library's thread could
    leave the test waiting."""
    import multiprocessing.process
    import subprocess

    real_popen, real_start = subprocess.Popen.__init__, multiprocessing.process.BaseProcess.start

    def popen(self, args, *rest, **options):
        words = [str(word) for word in (args if isinstance(args, (list, tuple)) else [args])]
        heavy = [name for name in HEAVY_COMMANDS if any(name in word for word in words)]
        if heavy:
            started.append(f"{heavy[0]} ({' '.join(words)[:200]})")
        real_popen(self, args, *rest, **options)

    def start(self):
        started.append(f"a process of multiprocessing ({self.name})")
        real_start(self)

    subprocess.Popen.__init__, multiprocessing.process.BaseProcess.start = popen, start

    def undo():
        subprocess.Popen.__init__, multiprocessing.process.BaseProcess.start = (real_popen,
                                                                                 real_start)
    return undo


def _quick_phase(item):
    """Watch one phase (set-up or call) of a test not marked slow: fail it if it started
    anything heavy, its fixtures' set-up included (mark the test slow)."""
    if item.get_closest_marker("slow"):
        yield
        return
    started = []
    undo = _watch_heavy(started)
    try:
        outcome = yield
    finally:
        undo()
    if started and outcome.excinfo is None:
        outcome.force_exception(pytest.fail.Exception(
            f"a quick test started {started[0]}; mark it @pytest.mark.slow", pytrace=False))


# Set-up and call only: a tear-down may stop what a session's fixture started (a server).
pytest_runtest_setup = pytest.hookimpl(hookwrapper=True)(_quick_phase)
pytest_runtest_call = pytest.hookimpl(hookwrapper=True)(_quick_phase)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test opened (explorers keep theirs open for the notebook)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL server on loopback (``tests/postgres.py``), skipped with the
    reason where none can run; ``postgres_server.database()`` gives a new database's URL."""
    import postgres

    why = postgres.unavailable()
    if why:
        pytest.skip(why)
    server = postgres.Server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory):
    """``course_copy(folder)`` puts into ``folder`` (new or empty) a copy of a course built
    once per run from the repository's ``solutions/``, and returns it: a built course is
    self-contained (its grading bundle too), so each test module grades its own copy instead of
    building one."""
    import shutil
    from pathlib import Path

    from autograder import course

    built = tmp_path_factory.mktemp("built") / "course"
    course.build_course(built)  # with its grading bundle: a copy's files are the same, so a
    # copy reuses it

    def copy(folder):
        shutil.copytree(built, folder, symlinks=True, dirs_exist_ok=True)
        return Path(folder)

    return copy
