"""Benchmark: grading throughput on a Dask ``LocalCluster`` against local grading with the
same number of processes; the time to record a result here; what a hung submission costs;
and, on paper, the time 70,000 notebooks would take on 100 workers.

One synthetic class (``bench/grading.make_class``: every student submits every assignment)
is graded in fresh copies of one course: by ``python -m autograder grade --parallel W`` and by
``cluster.grade_on_cluster`` on a ``LocalCluster`` of W single-threaded worker processes, for
each W. Recording: one graded result is recorded again for many students, into SQLite and
into PostgreSQL (a throw-away server, ``tests/postgres.py``) by one process and by
several (``record.Recorders``). A hung submission: a library that loops forever on import,
ignoring SIGINT, graded at the default cell timeout. The estimate takes the cluster's
measured core-seconds per notebook, the scheduler's measured overhead per task and the
fastest measured recording, and assumes 100 workers of this machine's speed; the three
run at once, so the slowest of them bounds the run.

    .venv/bin/python bench/cluster.py --students 2

Not a test: timings on a shared machine are noisy, so compare them only within one run.
"""

import argparse
import copy
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/postgres.py: a throw-away PostgreSQL server

from autograder import cluster, course, grade, record, release, task  # noqa: E402
from autograder.course import build_course  # noqa: E402
from autograder.intake import read_submission  # noqa: E402
from autograder.settings import Settings  # noqa: E402
from bench import grading, report  # noqa: E402
from bench.report import Row  # noqa: E402

GROUP = "cluster"
MOOC = (70_000, 100)  # notebooks, workers
RECORDED = 40  # results recorded per way of recording
# a library whose import never ends and ignores SIGINT (issue 13: 280.7 s a notebook before
# the set-up was given up after two tries)
HANGS_ON_IMPORT = ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "while True:\n    pass\n")


def scheduling_overhead(address, tasks=200):
    """Seconds per task of the scheduler's round trip, from tasks that do nothing."""
    from distributed import Client, wait

    with Client(address) as client:
        client.gather(client.map(abs, range(10), pure=False))  # connections warm
        start = time.perf_counter()
        wait(client.map(abs, range(tasks), pure=False))
        return (time.perf_counter() - start) / tasks


def graded_on_cluster(course_dir, workers):
    """(seconds, scheduler overhead per task) on a fresh LocalCluster of ``workers``."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local:
        overhead = scheduling_overhead(local.scheduler_address)
        start = time.perf_counter()
        cluster.grade_on_cluster(course_dir, local.scheduler_address, settings=Settings(),
                                 progress=False)
        return time.perf_counter() - start, overhead


def one_result(course_dir, assignment, student):
    """A graded result of ``student``, as a worker returns it (graded here, not on Dask)."""
    bundle = task.prepare(course_dir, [assignment])
    submission = read_submission(course_dir / "submitted" / student / assignment,
                                 root=course_dir / "submitted")
    return task.grade_task(bundle, assignment, student, submission, "bench", Settings())


def recording_seconds(course_dir, result, recorders, count=RECORDED):
    """Seconds per result to record ``count`` copies of ``result`` (for new students)."""
    students = [f"recorded-{index:03d}" for index in range(count + 1)]

    def submit(student):
        one = copy.deepcopy(result)
        one.outcome.student = student
        recording.submit(one, lambda outcome: None)

    with record.Recorders(course_dir, recorders) as recording:
        submit(students[0])  # the recorder processes started, their sessions open
        recording.wait()
        start = time.perf_counter()
        for student in students[1:]:
            submit(student)
        recording.wait()
        return (time.perf_counter() - start) / count


def recording_rows(base, tmp, result):
    """Rows: ms to record a result, SQLite against PostgreSQL, one process or several."""
    import os

    import postgres

    ways = [("SQLite", 1)]
    why = postgres.unavailable()
    server = None if why else postgres.Server()
    if server:
        ways += [("PostgreSQL", 1), ("PostgreSQL", os.cpu_count() or 2)]
    measured = {}
    try:
        for database, recorders in ways:
            folder = Path(tmp) / f"record-{database}-{recorders}"
            shutil.copytree(base, folder)
            if database == "PostgreSQL":
                (folder / "gradebook.db").unlink()
                course.write_config(folder, db_url=server.database())
                course.register_assignments(folder, [result.outcome.assignment])
            measured[(database, recorders)] = recording_seconds(folder, result, recorders)
    finally:
        if server:
            server.stop()
    first = measured[("SQLite", 1)]
    rows = [Row(GROUP, f"recording a result here: {database}, {n} process(es)",
                f"{seconds * 1e3:.0f} ms", "", None,
                f"{report.ratio(seconds / first, 1)} SQLite with one process; {RECORDED} "
                "results into each, after one that started the recorders"
                + ("" if n == 1 else ", handed to the processes"))
            for (database, n), seconds in measured.items()]
    if why:
        rows.append(Row(GROUP, "recording a result here: PostgreSQL", "skipped", note=why))
    return rows, min(measured.values())


def hung_row(base, tmp):
    """Row: worker seconds for a notebook whose library hangs on import, default timeouts."""
    folder = Path(tmp) / "hung"
    shutil.copytree(base, folder)
    name, notebook, module = course.assignments()[0]
    submission = folder / "submitted" / "hangs-on-import" / name
    shutil.copytree(folder / "release" / name, submission)
    (submission / "nnlib" / f"{module}.py").write_text(HANGS_ON_IMPORT)
    settings = Settings()
    start = time.perf_counter()
    [outcome] = grade.grade_course(folder, parallel=1, assignment=name,
                                   student="hangs-on-import", settings=settings, progress=False)
    seconds = time.perf_counter() - start
    limit = 3 * settings.cell_timeout
    return Row(GROUP, "a notebook whose library hangs on import, ignoring SIGINT",
               f"{seconds:.0f} s", f"<= {limit} s (two {settings.cell_timeout} s cell "
               "timeouts and kernel starts)", seconds <= limit,
               f"flags {', '.join(outcome.flags)}; before the set-up was given up after two "
               "tries: 280.7 s (160.3 s autograde, 120.2 s trusted run)")


def results(tiny=False, students=2, worker_counts=(1, 2)):
    what = "grading on a cluster: notebooks per second"
    if tiny:
        return [Row(GROUP, what, "skipped", note="--tiny: even one student's 7 notebooks, "
                    "graded four times, take minutes")]
    release.put_venv_on_path()
    grade.quiet_gradebook()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        base = Path(tmp) / "base"
        names = build_course(base)
        pristine = Path(tmp) / "pristine"
        shutil.copytree(base, pristine)
        grading.make_class(base, students)
        total = students * len(names)
        measured = {}
        for workers in worker_counts:
            local_dir, remote_dir = Path(tmp) / f"local-{workers}", Path(tmp) / f"remote-{workers}"
            shutil.copytree(base, local_dir)
            shutil.copytree(base, remote_dir)
            local = grading.timed([sys.executable, "-m", "autograder", "grade", str(local_dir),
                                   "--parallel", str(workers)], ROOT)
            remote, overhead = graded_on_cluster(remote_dir, workers)
            agree = grading.scores(local_dir) == grading.scores(remote_dir)
            measured[workers] = (remote, overhead)
            rows.append(Row(GROUP, f"{what}, {workers} worker process(es)",
                            f"{total / remote:.2f}/s", "", None,
                            f"local grading with {workers} process(es): {total / local:.2f}/s "
                            f"({total} notebooks: cluster {remote:.0f} s, local {local:.0f} s, "
                            f"cluster / local time {remote / local:.2f}); scores "
                            + ("agree" if agree else "DIFFER")))
        result = one_result(base, names[1], "student00")
        found, per_record = recording_rows(pristine, tmp, result)
        rows += found
        rows.append(hung_row(pristine, tmp))
    workers = max(measured)
    remote, overhead = measured[workers]
    per_notebook = remote * workers / total  # worker core-seconds per notebook, all included
    notebooks, fleet = MOOC
    parts = {"grading": notebooks * per_notebook / fleet,
             "recording here": notebooks * per_record,
             "scheduling": notebooks * overhead}
    bound = max(parts, key=parts.get)
    rows.append(Row(
        GROUP, f"on paper: {notebooks:,} notebooks on {fleet} workers",
        f"{parts[bound] / 3600:.1f} h", "", None,
        f"the slowest of three that run at once, {bound}: grading {notebooks:,} x "
        f"{per_notebook:.2f} core-s per notebook (measured with {workers} workers, the "
        f"cluster's whole time) / {fleet} = {parts['grading'] / 3600:.1f} h; recording "
        f"{notebooks:,} x {per_record * 1e3:.0f} ms (the fastest way measured above) = "
        f"{parts['recording here'] / 3600:.1f} h; scheduling {notebooks:,} x "
        f"{overhead * 1e3:.1f} ms = {parts['scheduling'] / 3600:.2f} h; one core would "
        f"grade for {notebooks * per_notebook / 3600:.0f} h"))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="no grading (the smoke test)")
    args = parser.parse_args(argv)
    print(report.markdown(results(args.tiny, args.students)))


if __name__ == "__main__":
    main()
