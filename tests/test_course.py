"""Is a built course the one source of its grading, wherever it is graded?

Each test builds a course from a copy of ``solutions/``, grades submissions of
01-perceptron (its points: ``test_grading.POINTS``) and looks at what was recorded.
"""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_grading import ASSIGNMENT, AUTO, POINTS, SETTINGS, make_submission

from autograder import course, grade, release, report

pytestmark = pytest.mark.slow
STEP_VISIBLE = ('assert_close(step(np.array([0.0])), [0.0], "step([0.0])",',
                'assert_close(step(np.array([0.0])), [1.0], "step([0.0])",')
PREDICT_HIDDEN = ("assert_close(perceptron_predict(X, np.array([1.0, 1.0]), -2.0), [0.0],",
                  "assert_close(perceptron_predict(X, np.array([1.0, 1.0]), -2.0), [1.0],")


def solutions_copy(folder, *edits):
    """A copy of the master copy, with ``(old, new)`` edits made to notebook 01's tests."""
    shutil.copytree(release.SOURCE_NOTEBOOKS, folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    path = folder / "01_perceptron.ipynb"
    text = path.read_text()
    for old, new in edits:
        old, new = old.replace('"', '\\"'), new.replace('"', '\\"')  # as JSON spells them
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    return folder


def built(tmp_path, *edits, students=("complete",)):
    solutions = solutions_copy(tmp_path / "solutions", *edits)
    course_dir = tmp_path / "course"
    course.build_course(course_dir, solutions)
    for student in students:
        make_submission(course_dir, student)
    return course_dir


def test_an_edited_test_changes_both_verdicts_alike(tmp_path):
    """After an instructor edits a visible and a hidden test and rebuilds, does a correct
    student lose exactly those cells' points, without being flagged?"""
    course_dir = built(tmp_path, STEP_VISIBLE, PREDICT_HIDDEN)
    [outcome] = grade.grade_course(course_dir, settings=SETTINGS, progress=False)
    assert outcome.status == "graded", outcome.problems
    assert outcome.score == AUTO - POINTS["test-step"] - POINTS["test-perceptron-predict"]
    assert "suspected-tampering" not in outcome.flags
    verdicts = {name: (v["nbgrader"], v["trusted_visible"], v["trusted"])
                for name, v in outcome.verdicts.items()}
    edited = {"test-step": (False, False, False), "test-perceptron-predict": (True, True, False)}
    assert verdicts == {grade_id: edited.get(grade_id, (True, True, True))
                        for grade_id in POINTS if grade_id != "why-no-xor"}


def test_a_copy_of_the_course_grades_the_same_without_the_repository(tmp_path, course_copy):
    """Does a copy of a course, graded by a copy of the grader that has no solutions/ beside
    it (as after a plain pip install), give the same grades and verdicts?"""
    students = ("complete", "blank")
    course_dir = course_copy(tmp_path / "course")
    make_submission(course_dir, "complete")
    make_submission(course_dir, "blank", module=None, answer="blank")
    moved = tmp_path / "elsewhere" / "course"
    shutil.copytree(course_dir, moved)
    installed = tmp_path / "site"
    shutil.copytree(release.ROOT / "autograder", installed / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    here = {o.student: (o.score, o.verdicts) for o in
            grade.grade_course(course_dir, settings=SETTINGS, progress=False)}
    env = {**os.environ, "PYTHONPATH": str(installed)}
    probe = subprocess.run([sys.executable, "-c", "from autograder import release; "
                            "print(release.ROOT, release.REFERENCE_LIBRARY.exists())"],
                           cwd=installed, env=env, capture_output=True, text=True)
    assert probe.stdout.split() == [str(installed), "False"], probe.stderr
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(moved),
                          "--cell-timeout", str(SETTINGS.cell_timeout)],
                         cwd=installed, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    there = {s: grade.load_outcome(moved, ASSIGNMENT, s) for s in students}
    assert {s: (o.score, o.verdicts) for s, o in there.items()} == here
    assert here["complete"][0] == AUTO and here["blank"][0] == 0


def test_a_crash_after_nbgrader_exports_no_unverified_score(tmp_path):
    """When the trusted step fails after nbgrader scored a submission, do the gradebook and
    both exports hold 0 for it, with the failure named?"""
    course_dir = built(tmp_path)
    broken = course_dir / course.GRADING / "nnlib" / "perceptron.py"
    broken.write_text("raise ImportError('the reference library is damaged')\n")
    [outcome] = grade.grade_course(course_dir, settings=SETTINGS, progress=False)
    assert outcome.status == "failed"
    assert any("damaged" in problem for problem in outcome.problems)
    assert outcome.score == 0
    with open(report.export_grades(course_dir, tmp_path / "grades.csv")) as handle:
        [row] = [r for r in csv.DictReader(handle) if r["assignment"] == ASSIGNMENT]
    assert float(row["score"]) == 0
    with open(report.export_cells(course_dir, tmp_path / "cells.csv")) as handle:
        cells = list(csv.DictReader(handle))
    assert cells and all(float(r["auto_score"] or 0) == 0 for r in cells)


def test_a_course_without_its_grading_folder_is_refused(tmp_path):
    """Is a folder that is not a built course refused with what to do?"""
    (tmp_path / "submitted").mkdir()
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path)],
                            cwd=release.ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "python -m autograder course" in result.stderr


def test_the_manifest_lists_every_graded_cell_with_its_points(tmp_path, course_copy):
    """Does grading/course.json name each assignment's module and every graded cell?"""
    course_dir = course_copy(tmp_path / "course")
    built_course = course.Course(course_dir)
    assert built_course.assignments == [name for name, _, _ in course.assignments()]
    # the module of each assignment's notebook, None for the capstone, which has none
    assert [built_course.module(a) for a in built_course.assignments] == [
        release.NOTEBOOK_MODULES.get(int(a[:2])) for a in built_course.assignments]
    assert None in [built_course.module(a) for a in built_course.assignments]
    first = {c["grade_id"]: c["points"] for c in built_course.cells(ASSIGNMENT)}
    # the master notebook's graded code cells, read with nbformat (the manifest comes from
    # autograder.definitions); the written question is graded by hand and not listed
    assert first == {grade_id: points for grade_id, points in POINTS.items()
                     if grade_id != "why-no-xor"}
    assert {"test-step", "test-perceptron-train"} <= set(first)
    assert (built_course.reference / "perceptron.py").read_text() == (
        release.REFERENCE_LIBRARY / "perceptron.py").read_text()
    assert Path(course_dir / "nbgrader_config.py").read_text().count(str(course_dir)) == 0


def test_the_gradebook_database_named_once_is_kept_by_rebuilds(tmp_path):
    """Does ``--db-url`` name the gradebook's database, does a rebuild without it keep that
    one, and does ``--db-url ""`` go back to SQLite in the course folder?"""
    url = "postgresql://grader@dbhost/nncourse"

    def db_url():
        return course.load_config(tmp_path).CourseDirectory.db_url

    course.write_config(tmp_path, db_url=url)
    assert db_url() == url
    course.write_config(tmp_path)  # what `course DIR` does again, without --db-url
    assert db_url() == url
    course.write_config(tmp_path, db_url="")
    assert db_url() == f"sqlite:///{tmp_path / 'gradebook.db'}?timeout=120"


def test_the_course_keeps_the_exchange_it_was_given(tmp_path):
    """Does ``course DIR --exchange PATH`` name a shared exchange, does a rebuild without it
    keep that one, and does ``--exchange ""`` go back to the course's own folder?"""
    shared = tmp_path / "srv" / "exchange"

    def root():
        return course.load_config(tmp_path).Exchange.root

    course.write_config(tmp_path, exchange=shared)
    assert root() == str(shared)
    course.write_config(tmp_path)
    assert root() == str(shared)
    course.write_config(tmp_path, exchange="")
    assert root() == str(tmp_path / "exchange")
