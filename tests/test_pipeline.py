"""Does each step of the grading pipeline (``grade.STEPS``) do its one job?

The steps run on a ``grade.Job`` for submissions of 01-perceptron in one built course.
"""

import argparse
import dataclasses
import json
import shutil

import nbformat
import pytest
from test_grading import ASSIGNMENT, AUTO, MAX, NOTEBOOK, SETTINGS, make_submission

from autograder import course, grade, record, settings, task
from autograder.intake import read_submission
from autograder.preprocessors import (
    HIDDEN_FAILED,
    KERNEL_DIED,
    TRUSTED_FAILED,
    Reports,
    error_output,
)
from autograder.trusted import Verdict

# nbgrader's gradebook warns of its own session use (SAWarning, a RuntimeWarning, which the
# suite turns into errors); here nbgrader runs in this process, not in a grading process
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]
CELLS = {"test-step": 1, "test-perceptron-predict": 2, "test-gates-by-hand": 2,
         "test-perceptron-train": 3}


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory, course_copy):
    return course_copy(tmp_path_factory.mktemp("pipeline"))


_students = iter(range(10**6))


def job_for(course_dir, **how):
    student = f"s{next(_students)}"
    make_submission(course_dir, student, **how)
    outcome = grade.Outcome(ASSIGNMENT, student, "graded")
    return grade.Job(course.Course(course_dir), ASSIGNMENT, student, SETTINGS, outcome)


def auto_scores(job):
    with job.gradebook() as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, job.student)
        return {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades
                if g.name in CELLS}


def autograded(course_dir):
    job = job_for(course_dir)
    grade.stage(job)
    grade.autograde(job)
    return job


def test_stage_reports_intake_problems_and_configures_the_kernel_run(course_dir):
    """Does stage copy intake's flags and give nbgrader a pipeline without hidden tests?"""
    job = job_for(course_dir)
    (job.submitted / "notes.txt").write_text("not part of a submission")
    grade.stage(job)
    assert "ignored-files" in job.outcome.flags
    preprocessors = job.config.Autograde.autograde_preprocessors
    assert preprocessors[0].__name__ == "ClearHiddenTests"
    assert job.config.SandboxedKernelManager.limits == dataclasses.asdict(SETTINGS.limits())


def test_autograde_and_verify_skip_a_submission_without_notebooks(course_dir):
    """Is a submission with no notebook left ungraded, with no trusted run?"""
    job = job_for(course_dir)
    (job.submitted / NOTEBOOK).unlink()
    grade.stage(job)
    grade.autograde(job)
    grade.verify(job)
    assert not job.graded and job.verdicts == {}


def test_combine_keeps_only_points_both_verdicts_confirm(course_dir):
    """Does combine keep a cell's points only when both pass, flag a disagreement on the
    visible part, treat a hidden failure as an ordinary one, and zero an unchecked cell?"""
    job = autograded(course_dir)
    assert auto_scores(job) == CELLS  # nbgrader: the complete submission passes everything
    job.verdicts = {
        "test-step": Verdict(True, True, notebook="01_perceptron"),
        "test-perceptron-predict": Verdict(True, False, "AssertionError: x\nHint: look",
                                           notebook="01_perceptron"),
        "test-gates-by-hand": Verdict(False, False, "AssertionError: y",
                                      notebook="01_perceptron"),
    }
    grade.combine(job)
    assert auto_scores(job) == {"test-step": 1, "test-perceptron-predict": 0,
                                "test-gates-by-hand": 0, "test-perceptron-train": 0}
    assert job.verified
    assert "suspected-tampering" in job.outcome.flags
    assert "unverified-cell" in job.outcome.flags
    assert sum("suspected tampering" in p for p in job.outcome.problems) == 1
    notebook = nbformat.read(job.autograded / NOTEBOOK, as_version=4)
    errors = {c.metadata["nbgrader"]["grade_id"]: [o.ename for o in c.outputs
                                                   if o.output_type == "error"]
              for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") in CELLS}
    assert errors == {"test-step": [], "test-perceptron-predict": [HIDDEN_FAILED],
                      "test-gates-by-hand": [TRUSTED_FAILED], "test-perceptron-train": []}


def test_flag_names_kernel_deaths_and_sandbox_reports(course_dir):
    """Do a dead kernel in the graded notebook and a sandbox report become flags?"""
    job = autograded(course_dir)
    path = job.autograded / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    next(c for c in notebook.cells if c.cell_type == "code").outputs.append(
        error_output(KERNEL_DIED, "gone"))
    nbformat.write(notebook, path)
    job.events.write_text("[sandbox] open /etc/shadow\n[sandbox] output of cell 3 cut\n")
    Reports(job.reports).add("disk-full", text="less than 1 MiB free")
    grade.flag(job)
    assert {"kernel-died", "sandbox-events", "disk-full"} <= set(job.outcome.flags)
    assert "output-cut" not in job.outcome.flags  # a line on the sandbox's channel
    assert job.outcome.events == ["open /etc/shadow", "output of cell 3 cut"]


def test_a_submission_named_as_a_pattern_is_refused_not_staged(course_dir):
    """Does discover refuse a student id that nbgrader would read as a glob, and a folder
    that names no assignment, and does stage refuse such a job given to it anyway?"""
    make_submission(course_dir, "*")
    make_submission(course_dir, "fine")
    (course_dir / "submitted" / "fine" / "99-unknown").mkdir()
    jobs, refused = grade.discover(course_dir)
    assert (ASSIGNMENT, "fine") in jobs and not [job for job in jobs if job[1] == "*"]
    assert {(o.student, o.assignment, o.status) for o in refused} == {
        ("*", "", "refused"), ("fine", "99-unknown", "refused")}
    job = grade.Job(course.Course(course_dir), ASSIGNMENT, "*", SETTINGS,
                    grade.Outcome(ASSIGNMENT, "*", "graded"))
    with pytest.raises(ValueError, match="student id is not graded"):
        grade.stage(job)
    shutil.rmtree(course_dir / "submitted" / "*")


def test_a_job_that_keeps_failing_is_left_alone_until_forced(course_dir):
    """Is a submission that failed twice in a row, unchanged, left failed by the next run
    (and said so), graded again when forced or when it changes?"""
    job = job_for(course_dir)
    key = (ASSIGNMENT, job.student)
    current = grade.fingerprint(job.submitted, SETTINGS)
    for tries in (1, 2):
        assert grade.pending(course_dir, [key], SETTINGS) == ({}, [key])
        grade.save_outcome(course_dir, grade.Outcome(*key, "failed", fingerprint=current))
        assert grade.load_outcome(course_dir, *key).failures == tries
    done, todo = grade.pending(course_dir, [key], SETTINGS)
    assert todo == [] and "left alone" in done[key].problems[-1]
    assert grade.pending(course_dir, [key], SETTINGS, force=True) == ({}, [key])
    (job.submitted / "notes.txt").write_text("changed")
    assert grade.pending(course_dir, [key], SETTINGS) == ({}, [key])


def graded_result(course_dir, student, steps):
    """The ``task.Result`` of grading ``student``'s submission through ``steps`` in a scratch
    copy of the course's bundle (as every executor does)."""
    submitted = course_dir / "submitted"
    submission = read_submission(submitted / student / ASSIGNMENT, root=submitted)
    digest = grade.combined_fingerprint(submission.fingerprint(), SETTINGS)
    bundle = task.prepare(course_dir, [ASSIGNMENT])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grade, "STEPS", steps)
        return task.grade_task(bundle, ASSIGNMENT, student, submission, digest, SETTINGS)


def course_scores(course_dir, student):
    with course.open_gradebook(course_dir) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return submission.score, {g.name: g.auto_score for nb in submission.notebooks
                                  for g in nb.grades if g.name in CELLS}


def test_a_task_touches_nothing_of_the_course_and_record_writes_it(course_dir):
    """Does a task grade in a scratch copy (the course's gradebook, autograded folder and
    results untouched) and return a plain result that ``record`` writes: the gradebook's
    scores, the autograded notebook, then the outcome with the score?"""
    job = job_for(course_dir)
    result = graded_result(course_dir, job.student, grade.STEPS)
    assert result.outcome.status == "graded", result.outcome.problems
    assert not job.published.exists()
    assert grade.load_outcome(course_dir, ASSIGNMENT, job.student) is None
    with course.open_gradebook(course_dir) as gradebook:
        assert job.student not in {s.id for s in gradebook.students}
    assert NOTEBOOK in result.autograded
    outcome = record.record(course_dir, result)
    assert (outcome.score, outcome.max_score) == (AUTO, MAX)
    assert course_scores(course_dir, job.student) == (AUTO, CELLS)
    assert (job.published / NOTEBOOK).read_bytes() == result.autograded[NOTEBOOK]
    assert grade.load_outcome(course_dir, ASSIGNMENT, job.student).score == AUTO


def test_a_step_that_fails_after_nbgrader_scores_nothing(course_dir):
    """When a step after autograde raises, is the job failed, the problem named, and does the
    course's gradebook hold 0 for it, even where an earlier grading scored it?"""
    def broken(job):
        raise RuntimeError("the trusted run fell over")

    job = job_for(course_dir)
    record.record(course_dir, graded_result(course_dir, job.student, grade.STEPS))
    assert course_scores(course_dir, job.student)[0] == AUTO
    result = graded_result(course_dir, job.student, (grade.stage, grade.autograde, broken))
    assert result.outcome.status == "failed" and result.gradebook is None
    assert any("broken" in p and "fell over" in p for p in result.outcome.problems)
    outcome = record.record(course_dir, result)
    assert outcome.score == 0
    assert course_scores(course_dir, job.student) == (0, dict.fromkeys(CELLS, 0))


def test_every_setting_has_its_option():
    """Does the command line offer every grading limit, with the settings' defaults?"""
    parser = argparse.ArgumentParser()
    settings.add_options(parser)
    assert settings.from_options(parser.parse_args([])) == settings.Settings()
    args = parser.parse_args(["--cell-timeout", "5", "--memory-mb", "512"])
    assert settings.from_options(args) == settings.Settings(cell_timeout=5, memory_mb=512)
    names = {f.name for f in dataclasses.fields(settings.Settings)}
    assert names == set(json.loads(json.dumps(settings.Settings().fingerprint())))


def test_the_progress_bar_counts_only_what_it_grades():
    """Do jobs found current (skipped) leave the total, and does the bar end its line once,
    when the last graded one is done or when it is closed early?"""
    import io

    stream = io.StringIO()
    bar = grade.Progress(4, stream)
    bar.skip()
    bar.update(grade.Outcome("a", "s1", "graded"))
    bar.skip()
    bar.update(grade.Outcome("a", "s2", "failed"))
    assert stream.getvalue().endswith("2/2 graded, 1 failed, ~0 s left \n")
    bar.close()
    assert stream.getvalue().count("\n") == 1
    early = io.StringIO()
    bar = grade.Progress(3, early)
    bar.update(grade.Outcome("a", "s1", "graded"))
    bar.close()
    assert "1/3 graded, 0 failed" in early.getvalue() and early.getvalue().endswith("\n")
    assert early.getvalue().count("\n") == 1
