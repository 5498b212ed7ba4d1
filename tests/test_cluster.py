"""Grading on a Dask cluster (``autograder.cluster``): a real ``LocalCluster`` of worker
processes grades a small class into a gradebook on a real PostgreSQL server, and what it
records must equal local grading (into SQLite), cell by cell."""

import shutil

import pytest

from autograder import cluster, course, grade
from autograder.__main__ import main

distributed = pytest.importorskip("distributed")

from test_grading import ASSIGNMENT, CLASS, NOTEBOOK, SETTINGS, make_submission  # noqa: E402

# a few of the class (test_grading grades all of it): full marks, a wrong function, a stub,
# a kernel that dies, and an unreadable notebook
STUDENTS = ["complete", "wrong-step", "partial", "kernel-dies", "invalid-json"]


def cell_scores(course_dir):
    """{(student, grade cell): automatic score} from the course's gradebook."""
    found = {}
    with course.open_gradebook(course_dir) as book:
        for submission in book.assignment_submissions(ASSIGNMENT):
            for notebook in submission.notebooks:
                for row in notebook.grades:
                    found[(submission.student.id, row.cell.name)] = row.auto_score
    return found


@pytest.fixture(scope="module")
def two_courses(tmp_path_factory, postgres_server):
    """The same class in two copies of a course: one graded locally into SQLite, one on the
    cluster into PostgreSQL."""
    local = tmp_path_factory.mktemp("local") / "course"
    course.build_course(local)
    for student in STUDENTS:
        make_submission(local, student, **CLASS[student][0])
    (local / "submitted" / "invalid-json" / ASSIGNMENT / NOTEBOOK).write_text('{"cells": [')
    remote = local.parent.parent / "remote-course"
    shutil.copytree(local, remote, symlinks=True)
    (remote / "gradebook.db").unlink()
    course.write_config(remote, db_url=postgres_server.database())
    course.register_assignments(remote, [ASSIGNMENT])
    local_outcomes = grade.grade_course(local, workers=2, settings=SETTINGS, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster_:
        remote_outcomes = cluster.grade_on_cluster(remote, cluster_.scheduler_address,
                                                   settings=SETTINGS, progress=False)
        # the command line, run again: nothing changed, so nothing is graded again
        code = main(["grade", str(remote), "--scheduler", cluster_.scheduler_address,
                     "--cell-timeout", str(SETTINGS.cell_timeout),
                     "--submission-timeout", str(SETTINGS.submission_timeout)])
    again = [grade.load_outcome(remote, ASSIGNMENT, student) for student in STUDENTS]
    return local, remote, local_outcomes, remote_outcomes, (code, again)


def test_the_cluster_records_what_local_grading_records_cell_by_cell(two_courses):
    """Does every cell of every submission get the same automatic score both ways?"""
    local, remote, local_outcomes, remote_outcomes, _ = two_courses
    assert course.load_config(remote).CourseDirectory.db_url.startswith("postgresql://")
    expected = cell_scores(local)
    assert expected and cell_scores(remote) == expected
    by_student = {o.student: o for o in remote_outcomes}
    for outcome in local_outcomes:
        other = by_student[outcome.student]
        assert (other.status, other.score, other.max_score) == \
            (outcome.status, outcome.score, outcome.max_score), other
        assert set(other.flags) == set(outcome.flags), (outcome.flags, other.flags)
        assert other.score == CLASS[outcome.student][1]


def test_the_cluster_writes_the_autograded_notebooks_and_says_where_each_ran(two_courses):
    """Are the autograded files those of local grading, and is each outcome recorded, naming
    its worker?"""
    local, remote, _, remote_outcomes, _ = two_courses

    def files(course_dir, student):
        folder = course_dir / "autograded" / student / ASSIGNMENT
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())

    assert any(files(local, student) for student in STUDENTS)
    for outcome in remote_outcomes:
        assert outcome.worker.startswith("tcp://"), outcome
        assert files(remote, outcome.student) == files(local, outcome.student), outcome.student
        assert grade.load_outcome(remote, ASSIGNMENT, outcome.student) == outcome


def test_a_second_run_on_the_cluster_grades_nothing_again(two_courses):
    """Does `grade DIR --scheduler ADDRESS` run again keep every current outcome as it was
    (workers included), writing the exports?"""
    _, remote, _, remote_outcomes, (code, again) = two_courses
    assert code == 0
    assert sorted(again, key=lambda o: o.student) == \
        sorted(remote_outcomes, key=lambda o: o.student)
    assert (remote / "grades.csv").is_file() and (remote / "grades_by_cell.csv").is_file()


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(two_courses):
    """Kill the worker process that is grading a submission: is the submission graded again
    on another worker, recorded once with its right score, and flagged as retried?"""
    import os
    import signal
    import threading
    import time

    _, remote, _, _, _ = two_courses
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
