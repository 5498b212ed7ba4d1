"""Benchmark: grading throughput on a Dask ``LocalCluster`` against local grading with the
same number of processes, and, on paper, the time 70,000 notebooks would take on 100 workers.

One synthetic class (``bench/grading.make_class``: every student submits every assignment)
is graded in fresh copies of one course: by ``python -m autograder grade --workers W`` and by
``cluster.grade_on_cluster`` on a ``LocalCluster`` of W single-threaded worker processes, for
each W. The estimate takes the cluster's measured core-seconds per notebook, the scheduler's
measured overhead per task and the submitting side's measured time to record one result (it
records them one after another), and assumes 100 workers of this machine's speed.

    .venv/bin/python bench/cluster.py --students 2

Not a test: timings on a shared machine are noisy, so compare them only within one run.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import cluster, release  # noqa: E402
from autograder.course import build_course  # noqa: E402
from autograder.settings import Settings  # noqa: E402
from bench import grading, report  # noqa: E402
from bench.report import Row  # noqa: E402

GROUP = "cluster"
MOOC = (70_000, 100)  # notebooks, workers


def scheduling_overhead(address, tasks=200):
    """Seconds per task of the scheduler's round trip, from tasks that do nothing."""
    from distributed import Client, wait

    with Client(address) as client:
        client.gather(client.map(abs, range(10), pure=False))  # connections warm
        start = time.perf_counter()
        wait(client.map(abs, range(tasks), pure=False))
        return (time.perf_counter() - start) / tasks


def graded_on_cluster(course_dir, workers):
    """(seconds, seconds spent recording here, scheduler overhead per task) on a fresh
    LocalCluster of ``workers`` processes."""
    from distributed import LocalCluster

    recording = []
    record = cluster.record

    def timed_record(*args):
        start = time.perf_counter()
        try:
            return record(*args)
        finally:
            recording.append(time.perf_counter() - start)

    cluster.record = timed_record
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as local:
            overhead = scheduling_overhead(local.scheduler_address)
            start = time.perf_counter()
            cluster.grade_on_cluster(course_dir, local.scheduler_address, settings=Settings(),
                                     progress=False)
            seconds = time.perf_counter() - start
    finally:
        cluster.record = record
    return seconds, sum(recording), overhead


def results(tiny=False, students=2, worker_counts=(1, 2)):
    what = "grading on a cluster: notebooks per second"
    if tiny:
        return [Row(GROUP, what, "skipped", note="--tiny: even one student's 7 notebooks, "
                    "graded four times, take minutes")]
    release.put_venv_on_path()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        base = Path(tmp) / "base"
        names = build_course(base)
        grading.make_class(base, students)
        total = students * len(names)
        measured = {}
        for workers in worker_counts:
            local_dir, remote_dir = Path(tmp) / f"local-{workers}", Path(tmp) / f"remote-{workers}"
            shutil.copytree(base, local_dir)
            shutil.copytree(base, remote_dir)
            local = grading.timed([sys.executable, "-m", "autograder", "grade", str(local_dir),
                                   "--workers", str(workers)], ROOT)
            remote, recording, overhead = graded_on_cluster(remote_dir, workers)
            agree = grading.scores(local_dir) == grading.scores(remote_dir)
            measured[workers] = (remote, recording, overhead)
            rows.append(Row(GROUP, f"{what}, {workers} worker process(es)",
                            f"{total / remote:.2f}/s", "", None,
                            f"local grading with {workers} process(es): {total / local:.2f}/s "
                            f"({total} notebooks: cluster {remote:.0f} s, local {local:.0f} s, "
                            f"cluster / local time {remote / local:.2f}); scores "
                            + ("agree" if agree else "DIFFER")))
    workers = max(measured)
    remote, recording, overhead = measured[workers]
    per_notebook = remote * workers / total  # worker core-seconds per notebook, all included
    per_record = recording / total
    notebooks, fleet = MOOC
    estimate = notebooks * per_notebook / fleet + notebooks * (overhead + per_record)
    rows.append(Row(
        GROUP, f"on paper: {notebooks:,} notebooks on {fleet} workers", f"{estimate / 3600:.1f} h",
        "", None,
        f"{notebooks:,} x {per_notebook:.2f} core-s per notebook (measured with {workers} "
        f"workers, the cluster's whole time) / {fleet}, plus {notebooks:,} x "
        f"({overhead * 1e3:.1f} ms of scheduling per task + {per_record * 1e3:.0f} ms to "
        f"record a result here, one after another) = {notebooks * per_notebook / fleet / 3600:.1f}"
        f" h + {notebooks * (overhead + per_record) / 3600:.1f} h; one core would take "
        f"{notebooks * per_notebook / 3600:.0f} h"))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="no grading (the smoke test)")
    args = parser.parse_args(argv)
    print(report.markdown(results(args.tiny, args.students)))


if __name__ == "__main__":
    main()
