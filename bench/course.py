"""Benchmark: the course's own speed: explorers, worked notebooks, grading and start-up.

Four parts, all of their rows in the group "course":

- explorers: the CPU time of one slider change per explorer, rendering included, median over
  the changes (``bench/widgets.py`` measures; target under 30 ms each);
- notebooks: every worked notebook executed headless, one after the other, from copies in a
  temporary folder (target under 60 s in total on 2 cores);
- grading: stock serial ``nbgrader autograde`` against ``python -m autograder grade`` on a
  synthetic class (``bench/grading.py`` builds it), sandbox and trusted verdicts on;
- start-up: ``make lab``'s JupyterLab until ``/api/status`` answers, and a new kernel until
  notebook 01's setup cell is done.

    .venv/bin/python bench/course.py                      # everything, about 3.5 minutes
    .venv/bin/python bench/course.py --only notebooks startup
    .venv/bin/python bench/course.py --tiny               # smoke run, about 16 s

Not a test: timings on a shared machine are noisy, so compare them only within one run.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import nbformat
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import release, sandbox  # noqa: E402
from autograder.course import build_course, write_config  # noqa: E402
from autograder.notebooks import execute, problems, single_threaded_blas  # noqa: E402
from bench import grading, report, widgets  # noqa: E402
from bench.report import Row  # noqa: E402

GROUP = "course"
EXPLORER_TARGET_MS = 30
NOTEBOOKS_TARGET_S = 60
LAB_TARGET_S = 10
KERNEL_TARGET_S = 5
GRADING_TARGET = 4  # times stock serial nbgrader, sandbox and trusted verdicts on
TINY_NOTEBOOK = "00_introduction.ipynb"
FIRST_NOTEBOOK = "01_*.ipynb"  # whose setup cell a new kernel runs first
BIN = Path(sys.executable).parent


@contextmanager
def course_copy():
    """A temporary folder holding copies of the worked notebooks and their ``nnlib/``."""
    with tempfile.TemporaryDirectory(prefix="bench-course-") as folder:
        folder = Path(folder)
        for notebook in release.notebooks_in():
            shutil.copy(notebook, folder / notebook.name)
        shutil.copytree(release.REFERENCE_LIBRARY, folder / "nnlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        yield folder


def load():
    """The machine's load while measuring, for the notes of wall-clock figures."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


@contextmanager
def student_environment():
    """The environment of a student's kernel: ``bench/widgets.py`` sets MPLBACKEND=Agg for its
    own process (pyplot has read it by then), which kernels started from here must not get."""
    saved = os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


# ---------------------------------------------------------------- explorers


def explorer_rows(tiny=False, rounds=3):
    """One row per explorer: the median CPU milliseconds of a change, rendering included."""
    library = "nnlib_reference"
    release.import_library(release.REFERENCE_LIBRARY, library)
    names = list(widgets.EXPLORERS)[:1] if tiny else list(widgets.EXPLORERS)
    rows = []
    for name in names:
        if tiny:  # the first control's first two values: one or two changes
            module, factory, kwargs, moves = widgets.EXPLORERS[name]
            control, values = next(iter(moves.items()))
            entry = (module, factory, kwargs, {control: values[:2]})
            with mock.patch.dict(widgets.EXPLORERS, {name: entry}):
                timings, cold = widgets.measure(library, name, 1)
        else:
            timings, cold = widgets.measure(library, name, rounds)
        view, draw, render, total, first, worst = widgets.summary(timings, cold)
        changes = sum(len(ts) for ts in timings.values())
        note = (f"{changes} changes; view {view:.1f}, draw {draw:.1f}, render {render:.1f}; "
                f"first round {first:.1f}; slowest control {worst}")
        if total >= EXPLORER_TARGET_MS:
            parts = {"nnlib's view function": view, "draw": draw,
                     "Agg render (figure.canvas.draw)": render}
            bound = max(parts, key=parts.get)
            note += f"; bounded by the {bound}, {parts[bound] / total:.0%} of it"
        rows.append(Row(GROUP, f"explorer {name}: CPU ms per slider change (median)",
                        f"{total:.1f} ms", f"< {EXPLORER_TARGET_MS} ms",
                        total < EXPLORER_TARGET_MS, note))
    return rows


# ---------------------------------------------------------------- notebooks


def run_notebooks(folder, names):
    """(name, wall seconds, problems) of each notebook, executed in ``folder``, in order."""
    runs = []
    with student_environment():
        for name in names:
            start = time.perf_counter()
            executed = execute(folder / name, cwd=folder, allow_errors=True)
            runs.append((name, time.perf_counter() - start, problems(executed)))
    return runs


def notebook_rows(folder, tiny=False):
    """One row: every worked notebook (only the introduction in --tiny) executed headless."""
    names = [TINY_NOTEBOOK] if tiny else [p.name for p in release.notebooks_in(folder)]
    runs = run_notebooks(folder, names)
    total = sum(seconds for _, seconds, _ in runs)
    slowest = max(runs, key=lambda run: run[1])
    found = [f"{name}: {p}" for name, _, ps in runs for p in ps]
    note = (f"{load()}; slowest {slowest[0]} {slowest[1]:.1f} s; "
            + ", ".join(f"{name[:2]} {seconds:.1f}" for name, seconds, _ in runs))
    if found:
        note += f"; {len(found)} problem(s), first: {found[0][:200]}"
    what = ("notebook 00 executed headless (--tiny)" if tiny else
            f"all {len(runs)} worked notebooks executed headless, one after the other")
    return [Row(GROUP, what, f"{total:.1f} s", f"< {NOTEBOOKS_TARGET_S} s on 2 cores",
                total < NOTEBOOKS_TARGET_S and not found, note)]


# ---------------------------------------------------------------- grading


def compare_graders(students, workers):
    """Stock serial nbgrader and the autograder on copies of one synthetic class.

    Returns
    -------
    (stock seconds, autograder seconds, submissions, differing scores, scores compared)
    """
    single_threaded_blas()  # the same BLAS setting for both graders' kernels
    release.put_venv_on_path()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        stock_dir, ours_dir = Path(tmp) / "stock", Path(tmp) / "ours"
        names = build_course(stock_dir)
        grading.make_class(stock_dir, students)
        shutil.copytree(stock_dir, ours_dir)  # the gradebook too, before any grading
        write_config(ours_dir)
        stock = sum(grading.timed([str(BIN / "nbgrader"), "autograde", name], stock_dir)
                    for name in names)
        ours = grading.timed([sys.executable, "-m", "autograder", "grade", str(ours_dir),
                              "--parallel", str(workers)], ROOT)
        stock_scores, our_scores = grading.scores(stock_dir), grading.scores(ours_dir)
        phases = grading.phase_seconds(ours_dir, "student00")
    differ = sorted(key for key in stock_scores if stock_scores[key] != our_scores.get(key))
    return stock, ours, students * len(names), differ, len(stock_scores), phases


def grading_rows(tiny=False, students=1, workers=2):
    """One row: how many times faster than stock nbgrader, and whether the scores agree."""
    what = "grading: stock serial nbgrader time / autograder time"
    target = f">= {GRADING_TARGET}x on 2 cores, scores agree"
    if tiny:
        return [Row(GROUP, what, "skipped", target, None,
                    "--tiny: the smallest class (1 student, 7 assignments) takes about 2 "
                    "minutes (one run: course built in 13 s, stock 69 s, autograder 27 s)")]
    mode = sandbox.detect()
    try:
        stock, ours, total, differ, compared, (phases, graded) = compare_graders(students,
                                                                                 workers)
    except SystemExit as failure:  # grading.timed exits when a grader fails
        return [Row(GROUP, what, "failed", target, False, str(failure)[:300])]
    note = (f"{students} student{'s' if students != 1 else ''} x {total // students} "
            f"assignments = {total} submissions; "
            f"stock {stock:.0f} s ({stock / total:.1f} s each), autograder {ours:.0f} s with "
            f"{workers} at a time, {load()}, sandbox: {mode}, trusted verdicts on; scores "
            + ("agree" if not differ else f"DIFFER in {len(differ)}: {differ[:3]}")
            + f" ({compared} compared)")
    if mode != "bubblewrap":
        note += "; without bubblewrap as root only resource limits applied"
    per_notebook = sum(phases.values()) / graded
    by_phase = ", ".join(f"{name} {seconds / graded:.2f}" for name, seconds in
                         sorted(phases.items(), key=lambda item: -item[1]))
    met = stock / ours >= GRADING_TARGET and not differ
    return [Row(GROUP, what, f"{stock / ours:.2f}x", target, met, note),
            Row(GROUP, "grading one notebook, serially, by phase", f"{per_notebook:.2f} s",
                "", None, f"stock serial nbgrader {stock / total:.2f} s a notebook in the same "
                f"run; seconds a notebook, mean of student00's {graded}: {by_phase}")]


# ---------------------------------------------------------------- start-up


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def lab_command(port):
    """``make lab LAB_ARGS="--no-browser --port=PORT --ServerApp.token=''"``'s command line."""
    command = [str(BIN / "jupyter"), "lab", f"--ServerApp.root_dir={ROOT}", "--no-browser",
               f"--port={port}", "--ServerApp.token="]
    if (ROOT / "notebooks").is_dir():
        command.append("--LabApp.default_url=/lab/tree/notebooks")
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command


def lab_seconds(timeout=60):
    """Seconds from starting JupyterLab as ``make lab`` does until ``/api/status`` answers."""
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_PATH=os.pathsep.join(
        filter(None, [str(ROOT / "lab-config"), os.environ.get("JUPYTER_CONFIG_PATH")])))
    env.pop("MPLBACKEND", None)
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        server = subprocess.Popen(lab_command(port), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            while not answers(f"http://127.0.0.1:{port}/api/status"):
                if server.poll() is not None or time.perf_counter() - start > timeout:
                    log.seek(0)
                    raise RuntimeError(f"JupyterLab did not answer on port {port}: "
                                       f"{log.read()[-500:].decode(errors='replace')}")
                time.sleep(0.05)
            return time.perf_counter() - start
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# What JupyterLab's start-up spends importing (found with -X importtime), in this order in one
# fresh Python, each beyond the ones before: jsonschema's optional rfc3987_syntax (it builds a
# grammar when imported), the rest of the server and JupyterLab, and nbgrader's assignment-list
# extension, which the server imports while loading its extensions.
SERVER_IMPORTS = ("rfc3987_syntax", "jupyterlab.labapp",
                  "nbgrader.server_extensions.assignment_list")
TIME_IMPORTS = """
import importlib, json, sys, time
spent = []
for module in sys.argv[1:]:
    start = time.perf_counter()
    try:
        importlib.import_module(module)
    except ImportError:
        continue
    spent.append((module, time.perf_counter() - start))
print(json.dumps(spent))
"""


def server_import_seconds():
    """(module, seconds) of ``SERVER_IMPORTS`` in one fresh Python, each beyond the ones before
    (a module that is not installed is left out)."""
    done = subprocess.run([sys.executable, "-c", TIME_IMPORTS, *SERVER_IMPORTS],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def setup_cell(folder):
    """The source of notebook 01's setup cell (grade_id ``setup``)."""
    notebook = nbformat.read(next(folder.glob(FIRST_NOTEBOOK)), as_version=4)
    return next(cell.source for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup")


def kernel_seconds(folder, timeout=60):
    """Seconds from starting a kernel in ``folder`` until it is ready, and until notebook 01's
    setup cell is done; and what the cell printed."""
    printed = []

    def keep(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            printed.append(f"{message['content']['ename']}: {message['content']['evalue']}")

    source = setup_cell(folder)
    with student_environment():
        start = time.perf_counter()
        manager = KernelManager(kernel_name="python3")
        manager.start_kernel(cwd=str(folder), stderr=subprocess.DEVNULL)  # its TCP warning
    client = manager.client()
    try:
        client.start_channels()
        client.wait_for_ready(timeout=timeout)
        ready = time.perf_counter() - start
        reply = client.execute_interactive(source, timeout=timeout, output_hook=keep)
        done = time.perf_counter() - start
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the setup cell failed: {''.join(printed)[-300:]}")
    return ready, done, "".join(printed).strip()


def startup_rows(folder, tiny=False):
    """Two rows: JupyterLab's start-up and a kernel's until its first cell; medians."""
    rounds = 1 if tiny else 3
    labs = [lab_seconds() for _ in range(rounds)]
    kernels = [kernel_seconds(folder) for _ in range(rounds)]
    lab = statistics.median(labs)
    ready = statistics.median(k[0] for k in kernels)
    done = statistics.median(k[1] for k in kernels)
    imports = "" if tiny else "; of it, importing " + ", then ".join(
        f"{module} {seconds:.1f} s" for module, seconds in server_import_seconds())
    return [
        Row(GROUP, "start-up: `make lab` (set up) until JupyterLab's /api/status answers",
            f"{lab:.1f} s", f"< {LAB_TARGET_S} s", lab < LAB_TARGET_S,
            f"median of {rounds}: " + ", ".join(f"{s:.1f}" for s in labs)
            + f" s, {load()}{imports}; target judged: a student waits for it once per "
            "session, the time a browser tab takes to open"),
        Row(GROUP, "start-up: new kernel until notebook 01's setup cell is done",
            f"{done:.1f} s", f"< {KERNEL_TARGET_S} s", done < KERNEL_TARGET_S,
            f"median of {rounds}, {load()}; kernel ready {ready:.1f} s, the cell (numpy, nnlib, "
            f"ipympl's backend) {done - ready:.1f} s more; target judged: every restart "
            f"costs it; printed: {kernels[0][2][:80]}"),
    ]


# ---------------------------------------------------------------- all together

PARTS = ("explorers", "notebooks", "grading", "startup")


def results(tiny=False, parts=PARTS, rounds=3, students=1, workers=2):
    """The rows of the chosen parts, in the order of ``PARTS``."""
    rows = []
    with course_copy() as folder:
        if "explorers" in parts:
            rows += explorer_rows(tiny, rounds)
        if "notebooks" in parts:
            rows += notebook_rows(folder, tiny)
        if "grading" in parts:
            rows += grading_rows(tiny, students, workers)
        if "startup" in parts:
            rows += startup_rows(folder, tiny)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true",
                        help="one explorer and change, notebook 00, one start-up each, no grading")
    parser.add_argument("--only", nargs="*", choices=PARTS, default=PARTS, metavar="PART",
                        help=f"some of {', '.join(PARTS)}")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each explorer control visits its values (default 3)")
    parser.add_argument("--students", type=int, default=1,
                        help="the synthetic class's size for grading (default 1: 7 submissions, "
                             "about 3 minutes; every third student leaves the module unwritten)")
    parser.add_argument("--parallel", type=int, default=2,
                        help="submissions the autograder grades at a time (default 2)")
    args = parser.parse_args(argv)
    rows = results(args.tiny, args.only, args.rounds, args.students, args.parallel)
    print(report.markdown(rows))
    return rows


if __name__ == "__main__":
    main()
