"""Grading on a Dask cluster (``autograder.cluster``): a real ``LocalCluster`` of worker
processes grades a small class into a gradebook on a real PostgreSQL server.

Each submission must get the score and flags it gets locally (``test_grading.CLASS``); the
attack suite (``test_attacks``) grades its whole class both ways and compares them cell by
cell. Here: a second run grades nothing, and a worker killed mid-task loses nothing."""


import pytest

from autograder import cluster, course, grade, record, task
from autograder.__main__ import main

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow  # every test here starts a Dask cluster of worker processes

from test_grading import (  # noqa: E402
    ASSIGNMENT,
    CLASS,
    NOTEBOOK,
    SETTINGS,
    cell_scores,
    make_submission,
)

# a few of the class (test_grading grades all of it): full marks, a wrong function, a stub,
# a kernel that dies, and an unreadable notebook
STUDENTS = ["complete", "wrong-step", "partial", "kernel-dies", "invalid-json"]


def on_postgres(course_dir, postgres_server):
    """Give the built ``course_dir`` a new, empty gradebook in a PostgreSQL database that
    knows its assignment."""
    (course_dir / "gradebook.db").unlink(missing_ok=True)
    course.write_config(course_dir, db_url=postgres_server.database())
    course.register_assignments(course_dir, [ASSIGNMENT])


@pytest.fixture(scope="module")
def graded_on_cluster(tmp_path_factory, postgres_server):
    """A class graded on the cluster into PostgreSQL, then graded again by the command line."""
    remote = tmp_path_factory.mktemp("cluster") / "course"
    course.build_course(remote, db_url=postgres_server.database())  # course DIR --db-url URL
    for student in STUDENTS:
        make_submission(remote, student, **CLASS[student][0])
    (remote / "submitted" / "invalid-json" / ASSIGNMENT / NOTEBOOK).write_text('{"cells": [')
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster_:
        outcomes = cluster.grade_on_cluster(remote, cluster_.scheduler_address,
                                            settings=SETTINGS, progress=False)
        # the command line, run again: nothing changed, so nothing is graded again
        code = main(["grade", str(remote), "--scheduler", cluster_.scheduler_address,
                     "--cell-timeout", str(SETTINGS.cell_timeout),
                     "--submission-timeout", str(SETTINGS.submission_timeout)])
    again = [grade.load_outcome(remote, ASSIGNMENT, student) for student in STUDENTS]
    return remote, outcomes, (code, again)


def test_each_submission_gets_on_the_cluster_what_it_gets_locally(graded_on_cluster):
    """Does each submission get its local score and flags, recorded in PostgreSQL, with its
    autograded notebook and the worker that graded it?"""
    remote, outcomes, _ = graded_on_cluster
    assert course.load_config(remote).CourseDirectory.db_url.startswith("postgresql://")
    scores = cell_scores(remote)
    for outcome in outcomes:
        _, points, flags = CLASS[outcome.student]
        assert (outcome.status, outcome.score) == ("graded", points), outcome
        assert set(flags) <= set(outcome.flags) and "retried" not in outcome.flags, outcome
        assert outcome.worker.startswith("tcp://"), outcome
        assert grade.load_outcome(remote, ASSIGNMENT, outcome.student) == outcome
        cells = {cell: score for (student, cell), score in scores.items()
                 if student == outcome.student}
        assert sum(score or 0 for score in cells.values()) == points, cells
        if outcome.student != "invalid-json":
            assert (remote / "autograded" / outcome.student / ASSIGNMENT / NOTEBOOK).is_file()


def test_a_second_run_on_the_cluster_grades_nothing_again(graded_on_cluster):
    """Does `grade DIR --scheduler ADDRESS` run again keep every current outcome as it was
    (workers included), writing the exports?"""
    remote, outcomes, (code, again) = graded_on_cluster
    assert code == 0
    assert sorted(again, key=lambda o: o.student) == sorted(outcomes, key=lambda o: o.student)
    assert (remote / "grades.csv").is_file() and (remote / "grades_by_cell.csv").is_file()


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(graded_on_cluster):
    """Kill the worker process that is grading a submission: is the submission graded again
    on another worker, recorded once with its right score, and flagged as retried?"""
    import os
    import signal
    import threading
    import time

    remote, _, _ = graded_on_cluster
    student, like = "killed-midway", "wrong-step"
    make_submission(remote, student, **CLASS[like][0])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster_:
        found = {}
        run = threading.Thread(target=lambda: found.update(outcomes=cluster.grade_on_cluster(
            remote, cluster_.scheduler_address, student=student, settings=SETTINGS,
            progress=False)))
        run.start()
        killed = None
        with distributed.Client(cluster_.scheduler_address) as watcher:
            deadline = time.monotonic() + 120
            while killed is None and time.monotonic() < deadline and run.is_alive():
                busy = [worker for worker, keys in watcher.processing().items()
                        if any(student in str(key) for key in keys)]
                if busy:  # grading takes seconds (a kernel starts): it is still running
                    pid = watcher.run(os.getpid, workers=busy)[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed = busy[0]
                time.sleep(0.2)
        run.join(600)
    assert killed, "the task was never seen running"
    [outcome] = found["outcomes"]
    assert outcome.status == "graded" and outcome.score == CLASS[like][1], outcome
    assert "retried" in outcome.flags and outcome.worker != killed, outcome
    results = list((remote / grade.WORK / "results" / ASSIGNMENT).glob(f"{student}.json*"))
    assert [path.name for path in results] == [f"{student}.json"]
    with course.open_gradebook(remote) as book:
        rows = [s for s in book.assignment_submissions(ASSIGNMENT) if s.student.id == student]
        assert len(rows) == 1 and rows[0].score == outcome.score
    assert grade.load_outcome(remote, ASSIGNMENT, student) == outcome


class EndsItsProcess:
    """Unpickled, it ends the process that unpickles it: in a result, a recorder that dies."""

    def __reduce__(self):
        import os

        return (os._exit, (1,))


def test_results_recorded_by_several_processes_are_each_recorded_once(graded_on_cluster):
    """Recorded by three processes at once into PostgreSQL, one of which dies halfway, does
    each of several results reach the gradebook and the results once, with its score?"""
    import copy

    from autograder.intake import read_submission

    remote, outcomes, _ = graded_on_cluster
    expected = {o.student: o.score for o in outcomes}["complete"]
    bundle = task.prepare(remote, [ASSIGNMENT])
    submission = read_submission(remote / "submitted" / "complete" / ASSIGNMENT,
                                 root=remote / "submitted")
    result = cluster.grade_remote(("path", str(bundle)), ASSIGNMENT, "complete", submission,
                                  "digest", SETTINGS)
    copies = [f"recorded-{index}" for index in range(6)]
    recorded = []
    with record.Recorders(remote, 3) as recorders:
        assert recorders.pool is not None
        for index, student in enumerate(copies):
            one = copy.deepcopy(result)
            one.outcome.student = student
            if index == 2:
                one.ends_its_recorder = EndsItsProcess()
            recorders.submit(one, recorded.append)
    assert recorders.gradebook is not None, "after its recorder died, nothing was recorded here"
    assert sorted(o.student for o in recorded) == copies
    assert all(o.score == expected for o in recorded), recorded
    with course.open_gradebook(remote) as book:
        rows = [s.student.id for s in book.assignment_submissions(ASSIGNMENT)]
    assert sorted(student for student in rows if student in copies) == copies
    for student in copies:
        assert grade.load_outcome(remote, ASSIGNMENT, student).score == expected


def test_a_task_that_hangs_the_grader_ends_its_worker_process(tmp_path):
    """When grading itself hangs on a worker (not the student's code, which the timeouts
    bound), does the watchdog end the worker process after the job's limit, saying where it
    was stuck, so that Dask can run the task elsewhere?"""
    import subprocess
    import sys
    import time

    program = f"""
import sys, time
sys.path.insert(0, {str(grade.__file__.rsplit("/", 2)[0])!r})
from autograder import cluster, grade, settings

class Quick(settings.Settings):
    def job_limit(self):
        return 2

def stuck(*args, **kwargs):
    time.sleep(600)

grade.grade_job = stuck
cluster.unpacked = lambda bundle: {str(tmp_path)!r}
cluster.grade_remote(("path", {str(tmp_path)!r}), "a", "s", None, "d", Quick())
"""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert time.monotonic() - start < 60
    assert done.returncode != 0
    assert "Timeout" in done.stderr and "in stuck" in done.stderr, done.stderr[-2000:]


class GradingEndsItsWorker(distributed.WorkerPlugin):
    """A worker plugin: on each worker, including those that restart, grading the student
    ``kills-workers`` ends the worker process (as a crash of the grader itself would)."""

    name = "grading-ends-its-worker"

    def setup(self, worker):
        import os

        from autograder import grade as grading

        real = grading.grade_job

        def grade_job(course_dir, assignment, student, *args, **kwargs):
            if student == "kills-workers":
                os._exit(1)
            return real(course_dir, assignment, student, *args, **kwargs)

        grading.grade_job = grade_job


def test_a_task_that_keeps_killing_its_workers_is_recorded_failed_and_the_rest_graded(
        graded_on_cluster):
    """When grading one submission ends every worker that tries it, does Dask give up on it
    after its allowed failures, is it recorded failed (grader-failed, retried), and is the
    submission beside it graded as usual?"""
    import dask

    remote, _, _ = graded_on_cluster
    for student in ("kills-workers", "graded-beside"):
        make_submission(remote, student, **CLASS["wrong-step"][0])
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster_:
        with distributed.Client(cluster_.scheduler_address) as client:
            client.register_plugin(GradingEndsItsWorker())
            outcomes = {o.student: o for o in cluster.grade_on_cluster(
                remote, cluster_.scheduler_address, settings=SETTINGS, progress=False)
                if o.student in ("kills-workers", "graded-beside")}
    failed, beside = outcomes["kills-workers"], outcomes["graded-beside"]
    assert failed.status == "failed" and {"grader-failed", "retried"} <= set(failed.flags), failed
    assert "KilledWorker" in " ".join(failed.problems), failed.problems
    assert grade.load_outcome(remote, ASSIGNMENT, "kills-workers") == failed
    assert (beside.status, beside.score) == ("graded", CLASS["wrong-step"][1]), beside
