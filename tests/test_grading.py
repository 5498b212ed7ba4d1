"""End-to-end tests of the instructor tooling: build a course, grade a synthetic class.

The class is made from the release of assignment 01-perceptron. ``POINTS`` holds what
each of its graded cells is worth, read from the master notebook; ``AUTO`` is the sum of
its test cells (the written question is graded by hand and scores nothing
automatically), ``MAX`` the notebook's whole.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import course, definitions, grade, release, report

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01-perceptron"
NOTEBOOK = "01_perceptron.ipynb"
SETTINGS = grade.Settings(cell_timeout=10, submission_timeout=120)

pytestmark = pytest.mark.slow


def graded_points():
    """grade_id -> points of every graded cell of the master notebook."""
    notebook = nbformat.read(ROOT / "solutions" / NOTEBOOK, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
            for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")}


POINTS = graded_points()
MAX = sum(POINTS.values())
AUTO = MAX - POINTS["why-no-xor"]


def reference_module():
    return release.drop_markers((release.REFERENCE_LIBRARY / "perceptron.py").read_text())


def replace_body(text, label, new_body):
    """Swap the reference body of one exercise for ``new_body`` (already indented)."""
    source = (release.REFERENCE_LIBRARY / "perceptron.py").read_text()
    start = source.index(f"### BEGIN SOLUTION {label}")
    body = source[source.index("\n", start) + 1:source.index("    ### END SOLUTION", start)]
    assert body in text
    return text.replace(body, new_body)


def answers():
    """The source notebook's solution cells, by grade_id."""
    notebook = nbformat.read(ROOT / "solutions" / NOTEBOOK, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


def make_submission(course_dir, student, module="reference", notebook_edit=None, answer=None,
                    other_answers="reference"):
    """A submission from the release: the given perceptron.py (None: the stubs), answers filled.

    ``answer`` is the code of the answer-gates cell ("blank" leaves every answer cell as
    released); the other answer cells get the reference answers, or stay as released with
    ``other_answers="blank"``.
    """
    folder = course_dir / "submitted" / student / ASSIGNMENT
    shutil.copytree(course_dir / "release" / ASSIGNMENT, folder)
    return fill_submission(folder, module, notebook_edit, answer, other_answers)


def fill_submission(folder, module="reference", notebook_edit=None, answer=None,
                    other_answers="reference"):
    """Do the work in a released copy of 01 in ``folder``, as ``make_submission`` says."""
    if module == "reference":
        module = reference_module()
    if module is not None:
        (folder / "nnlib" / "perceptron.py").write_text(module)
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    filled = answers()
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in filled or answer == "blank":
            continue
        if answer and grade_id == "answer-gates":
            cell.source = answer
        elif other_answers == "reference":
            cell.source = filled[grade_id]
    if notebook_edit:
        notebook = notebook_edit(notebook)
    if notebook is not None:  # written as plain JSON: nbformat.write would mend duplicate ids
        (folder / NOTEBOOK).write_text(json.dumps(notebook, indent=1))
    return folder


def cell_scores(course_dir):
    """{(student, grade cell): automatic score} from the course's gradebook, whatever
    database it is."""
    found = {}
    with course.open_gradebook(course_dir) as book:
        for submission in book.assignment_submissions(ASSIGNMENT):
            for notebook in submission.notebooks:
                for row in notebook.grades:
                    found[(submission.student.id, row.cell.name)] = row.auto_score
    return found


def drop_cell(grade_id):
    def edit(notebook):
        notebook.cells = [c for c in notebook.cells
                          if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
        return notebook
    return edit


def strip_metadata(grade_id):
    def edit(notebook):
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                del cell.metadata["nbgrader"]
        return notebook
    return edit


def duplicate_ids(notebook):
    for cell in notebook.cells[:4]:
        cell["id"] = "same-id"
    return notebook


BODY_TRAIN = "Exercise 1.5: implement perceptron_train"
WRONG_OR = ("w_and, b_and = np.array([1.0, 1.0]), -1.5\n"
            "w_or, b_or = np.array([1.0, 1.0]), -1.5  # wrong: this is AND again\n")

TRAIN = POINTS["test-perceptron-train"]
# student -> (how to build it, expected auto score, flags that must be reported)
CLASS = {
    "complete": (dict(), AUTO, []),
    "blank": (dict(module=None, answer="blank"), 0, []),
    "wrong-step": (dict(module=reference_module().replace(
        "return np.where(z > 0, 1.0, 0.0)", "return np.where(z > 0, 1.0, 0.0).astype(np.float32)"
    )), AUTO - POINTS["test-step"], []),
    "wrong-predict": (dict(module=reference_module().replace(
        "    return step(X @ w + b)\n",
        "    if X.shape[0] > 45:\n        return np.zeros(X.shape[0])\n    return step(X @ w + b)\n"
    )), AUTO - POINTS["test-perceptron-predict"], []),
    "wrong-gates": (dict(answer=WRONG_OR), AUTO - POINTS["test-gates-by-hand"], []),
    "wrong-train": (dict(module=reference_module().replace(
        "        if n_wrong == 0:\n            break\n", "")), AUTO - TRAIN, []),
    "partial": (dict(module=replace_body(reference_module(), BODY_TRAIN,
                                         "    raise NotImplementedError\n")), AUTO - TRAIN, []),
    "warnings": (dict(module=reference_module().replace(
        "    return np.where(z > 0, 1.0, 0.0)",
        "    import warnings\n    warnings.warn('harmless')\n    np.log(np.zeros(1))\n"
        "    return np.where(z > 0, 1.0, 0.0)")), AUTO, []),
    "kernel-dies": (dict(module=replace_body(reference_module(), BODY_TRAIN,
                                             "    import os\n    os._exit(1)\n")),
                    AUTO - TRAIN, ["kernel-died"]),
    "endless-loop": (dict(module=replace_body(reference_module(), BODY_TRAIN,
                                              "    while True:\n        pass\n")),
                     AUTO - TRAIN, ["cell-timeout"]),
    "ignores-sigint": (dict(module=replace_body(
        reference_module(), BODY_TRAIN,
        "    import signal\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "    while True:\n        pass\n")), AUTO - TRAIN, ["kernel-unresponsive"]),
    # its library never finishes importing: the set-up cell is tried twice, then every
    # cell fails at once, and the trusted run, which would wait on the same import, is skipped
    "hangs-on-import": (dict(module="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                    "while True:\n    pass\n"), 0, ["setup-failed-twice"]),
    "invalid-json": (dict(notebook_edit=lambda nb: None), 0, ["invalid-notebook"]),
    "missing-notebook": (dict(notebook_edit=lambda nb: None), 0, ["missing-notebook"]),
    "deleted-test-cell": (dict(notebook_edit=drop_cell("test-step")), AUTO, ["restored-cells"]),
    "stripped-metadata": (dict(notebook_edit=strip_metadata("test-perceptron-train")), AUTO,
                          ["restored-cells"]),
    "duplicate-ids": (dict(notebook_edit=duplicate_ids), AUTO, ["duplicate-cell-ids"]),
    "syntax-error": (dict(module=reference_module().replace("def step(z):", "def step(z)")), 0,
                     ["nnlib-syntax-error"]),
}


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory, course_copy):
    """A course with the whole class submitted, graded by a run killed halfway and resumed."""
    course_dir = course_copy(tmp_path_factory.mktemp("course"))
    assert course.Course(course_dir).assignments[0] == ASSIGNMENT
    for student, (how, _, _) in CLASS.items():
        make_submission(course_dir, student, **how)
    folder = course_dir / "submitted"
    (folder / "invalid-json" / ASSIGNMENT / NOTEBOOK).write_text('{"cells": [')
    (folder / "missing-notebook" / ASSIGNMENT / NOTEBOOK).unlink(missing_ok=True)
    results = course_dir / grade.WORK / "results" / ASSIGNMENT
    command = [sys.executable, "-m", "autograder", "grade", str(course_dir), "--parallel", "2",
               "--cell-timeout", str(SETTINGS.cell_timeout),
               "--submission-timeout", str(SETTINGS.submission_timeout)]
    # first run: its main process is killed once three submissions are graded; its grading
    # processes must die with it
    first = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while len(list(results.glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    children = subprocess.run(["pgrep", "-P", str(first.pid)], capture_output=True, text=True)
    processes = [int(pid) for pid in children.stdout.split()]
    assert len(processes) >= 2
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    time.sleep(1)
    alive = [pid for pid in processes if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
    assert alive == [], "grading processes outlived the killed run"
    survived = {p.stem: p.stat().st_mtime_ns for p in results.glob("*.json")}
    assert 3 <= len(survived) < len(CLASS), "the first run should be stopped partway"
    time.sleep(0.05)
    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stdout + second.stderr
    return course_dir, survived, second.stdout


def outcomes(course_dir):
    return {s: grade.load_outcome(course_dir, ASSIGNMENT, s) for s in CLASS}


@pytest.mark.parametrize("student", list(CLASS))
def test_each_submission_gets_its_exact_score(graded_course, student):
    """Does every synthetic submission earn exactly what it should, with its problems reported?"""
    course_dir, _, summary = graded_course
    _, expected_score, expected_flags = CLASS[student]
    outcome = grade.load_outcome(course_dir, ASSIGNMENT, student)
    assert outcome.status == "graded", outcome.problems
    assert (outcome.score, outcome.max_score) == (expected_score, MAX)
    for flag in expected_flags:
        assert flag in outcome.flags, outcome
    if expected_flags:
        assert f"- {student} / {ASSIGNMENT}" in summary


def test_exports_agree_with_the_outcomes(graded_course):
    """Do grades.csv (nbgrader's format) and the per-cell CSV hold one row per grade?"""
    course_dir, _, _ = graded_course
    with open(course_dir / "grades.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r["assignment"] == ASSIGNMENT]
    assert sorted(r["student_id"] for r in rows) == sorted(CLASS)
    for row in rows:
        assert float(row["score"]) == CLASS[row["student_id"]][1]
    with open(course_dir / "grades_by_cell.csv") as handle:
        cells = list(csv.DictReader(handle))
    keys = [(r["student"], r["cell"]) for r in cells]
    assert len(keys) == len(set(keys)) == len(POINTS) * len(CLASS)  # every graded cell


def test_interrupted_run_resumed_without_losing_or_redoing_a_grade(graded_course):
    """Were the submissions graded before the kill kept as they were, and the rest added?"""
    course_dir, survived, _ = graded_course
    results = course_dir / grade.WORK / "results" / ASSIGNMENT
    for student, mtime in survived.items():
        assert (results / f"{student}.json").stat().st_mtime_ns == mtime
    assert sorted(p.stem for p in results.glob("*.json")) == sorted(CLASS)
    api = course.load_api(course_dir)
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        submissions = gradebook.assignment_submissions(ASSIGNMENT)
        assert sorted(s.student_id for s in submissions) == sorted(CLASS)


def test_a_second_run_changes_nothing(graded_course):
    """Does rerunning grade (resuming, then forced for a few) give identical results?"""
    course_dir, _, _ = graded_course
    before = {s: o.score for s, o in outcomes(course_dir).items()}
    again = grade.grade_course(course_dir, settings=SETTINGS, progress=False)
    assert {o.student: o.score for o in again} == before
    some = ["complete", "wrong-predict", "kernel-dies"]
    for student in some:
        forced = grade.grade_course(course_dir, student=student, settings=SETTINGS,
                                    force=True, progress=False)
        assert [o.score for o in forced] == [before[student]]
    table = report.summarize(again)
    assert table[0]["submissions"] == len(CLASS)


def test_feedback_never_shows_hidden_tests(graded_course):
    """Does feedback keep test names, verdicts and hints but no test code?"""
    from autograder import feedback

    course_dir, _, _ = graded_course
    results = feedback.generate_feedback(course_dir, ASSIGNMENT)
    assert all(success for _, success, _ in results)
    html = (course_dir / "feedback" / "wrong-predict" / ASSIGNMENT / "01_perceptron.html")
    text = html.read_text()
    assert "test-perceptron-predict (2 points): failed" in text
    assert "compute X @ w + b for the whole batch" in text  # the failing hidden test's hint
    assert not shown_hidden_tests(text)


def test_the_formgraders_feedback_button_shows_no_hidden_test(graded_course):
    """The formgrader's Generate Feedback button runs nbgrader with the course's config alone:
    does that feedback leave the hidden tests out too?"""
    course_dir, _, _ = graded_course
    result = course.load_api(course_dir).generate_feedback(ASSIGNMENT, "wrong-predict",
                                                           force=True)
    assert result["success"], result.get("log")
    text = (course_dir / "feedback" / "wrong-predict" / ASSIGNMENT / "01_perceptron.html"
            ).read_text()
    assert "test-perceptron-predict (2 points): failed" in text
    assert not shown_hidden_tests(text)


def shown_hidden_tests(text, notebook=ROOT / "solutions" / NOTEBOOK):
    """The code lines of the notebook's hidden tests that a page's ``text`` shows."""
    source = nbformat.read(notebook, as_version=4)
    hidden = set()
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if definitions.BEGIN_HIDDEN in line:
                inside = True
            elif definitions.END_HIDDEN in line:
                inside = False
            elif inside and len(line.strip()) > 12:
                hidden.add(line.strip())
    assert hidden, f"{notebook.name} has no hidden tests to look for"
    found = [line for line in hidden if line.replace('"', "&quot;") in text or line in text]
    if json.dumps(definitions.BEGIN_HIDDEN)[1:-1] in text:
        found.append(definitions.BEGIN_HIDDEN)
    return found


def test_demo_cells_are_not_run_when_grading(graded_course):
    """Are the course's demo cells skipped while every test cell runs?"""
    course_dir, _, _ = graded_course
    notebook = nbformat.read(course_dir / "autograded" / "complete" / ASSIGNMENT / NOTEBOOK,
                             as_version=4)
    demos = [c for c in notebook.cells if "demo" in c.metadata.get("tags", [])]
    tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")
             and c.cell_type == "code"]
    assert demos and all(c.execution_count is None and not c.outputs for c in demos)
    assert tests and all(c.execution_count for c in tests)


def test_complete_submissions_of_every_assignment_earn_every_automatic_point(graded_course):
    """Does a complete submission of each later assignment earn all its auto-graded points?"""
    course_dir, _, _ = graded_course
    expected = {}
    for name, notebook, module in course.assignments()[1:]:
        folder = course_dir / "submitted" / "complete-all" / name
        shutil.copytree(course_dir / "release" / name, folder)
        source = nbformat.read(notebook, as_version=4)
        filled = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                  if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
        student = nbformat.read(folder / notebook.name, as_version=4)
        for cell in student.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in filled:
                cell.source = filled[grade_id]
        nbformat.write(student, folder / notebook.name)
        if module:
            (folder / "nnlib" / f"{module}.py").write_text(release.drop_markers(
                (release.REFERENCE_LIBRARY / f"{module}.py").read_text()))
        expected[name] = sum(c.metadata["nbgrader"]["points"] for c in source.cells
                             if c.metadata.get("nbgrader", {}).get("grade")
                             and not c.metadata["nbgrader"].get("solution"))
    graded = grade.grade_course(course_dir, student="complete-all", settings=SETTINGS,
                                progress=False)
    assert {o.assignment: o.score for o in graded} == expected
    assert all(o.status == "graded" and not o.flags for o in graded)


@pytest.mark.parametrize("change", ["as submitted", "edited secret", "linked timestamp",
                                    "missing"])
def test_feedback_carries_the_keys_release_feedback_reads(tmp_path, change):
    """Are the submission's timestamp and secret written beside its feedback when they are
    nbgrader's, and replaced (and said) when the student edited, linked or removed them?"""
    from autograder import feedback

    submitted = tmp_path / "submitted" / "ann" / ASSIGNMENT
    target = tmp_path / "feedback" / "ann" / ASSIGNMENT
    submitted.mkdir(parents=True)
    target.mkdir(parents=True)
    keys = {"timestamp.txt": "2026-12-07 21:05:03.123456 UTC",
            "submission_secret.txt": "ab" * 64}
    for name, text in keys.items():
        (submitted / name).write_text(text)
    if change == "edited secret":
        (submitted / "submission_secret.txt").write_text("\x1b]0;owned\x07" + "ab" * 60)
    elif change == "linked timestamp":
        (submitted / "timestamp.txt").unlink()
        (submitted / "timestamp.txt").symlink_to(tmp_path / "feedback")
    elif change == "missing":
        (submitted / "submission_secret.txt").unlink()
    said = feedback.release_keys(tmp_path, ASSIGNMENT, "ann")
    written = {name: (target / name).read_text() for name in keys}
    for name, pattern in feedback.RELEASE_KEYS.items():
        assert pattern.fullmatch(written[name]), f"{name} holds {written[name]!r}"
    if change == "as submitted":
        assert said is None and written == keys
    else:
        assert said and "cannot fetch" in said and "\x1b" not in said, said
        replaced = "timestamp.txt" if change == "linked timestamp" else "submission_secret.txt"
        assert replaced in said and written[replaced] != keys[replaced]
