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


@pytest.fixture(autouse=True)
def _quick_tests_start_nothing_heavy(request, monkeypatch):
    """Fail a test not marked slow that starts a kernel, a sandbox, a cluster or a server, or
    a process of multiprocessing: mark it slow, so that the quick run stays quick."""
    if request.node.get_closest_marker("slow"):
        return
    import multiprocessing.process
    import subprocess

    real = subprocess.Popen.__init__

    def popen(self, args, *rest, **options):
        words = [str(word) for word in (args if isinstance(args, (list, tuple)) else [args])]
        heavy = [name for name in HEAVY_COMMANDS if any(name in word for word in words)]
        if heavy:
            pytest.fail(f"a quick test started {heavy[0]} ({' '.join(words)[:200]}); "
                        "mark it @pytest.mark.slow")
        real(self, args, *rest, **options)

    def start(self):
        pytest.fail(f"a quick test started a process ({self.name}); mark it @pytest.mark.slow")

    monkeypatch.setattr(subprocess.Popen, "__init__", popen)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)


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
    self-contained, so each test module grades its own copy instead of building one (and
    making its grading bundle)."""
    import shutil
    from pathlib import Path

    from autograder import course, task

    built = tmp_path_factory.mktemp("built") / "course"
    course.build_course(built)
    # its grading bundle too, made once: a copy's files are the same, so the copy reuses it
    task.prepare(built, course.Course(built).assignments)

    def copy(folder):
        shutil.copytree(built, folder, symlinks=True, dirs_exist_ok=True)
        return Path(folder)

    return copy
