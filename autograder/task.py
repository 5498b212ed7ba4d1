"""The one grading task: a submission in, a plain ``Result`` out.

Every executor runs ``grade_task``: a grading process of the local pool (``grade.Pool``) and
a Dask worker (``cluster``) alike. It grades in a scratch copy of the course's *grading
bundle* (``prepare``) and touches nothing of the course: the result carries nbgrader's
per-cell scores, the trusted verdicts, flags and problems (in its ``Outcome``) and the
autograded files. ``record.record`` alone writes them into the course.

The bundle is the part of the course that grading reads (its config, ``source/``,
``release/``, ``grading/``) and a gradebook of its own that knows the assignments and no
student, so that a task's scratch gradebook is a copy of it. It is made once and kept in
``autograder_work/bundle/course``, remade when the course's files change.
"""

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import grade
from .course import GRADING, open_gradebook, register_assignments

BUNDLED = ("nbgrader_config.py", "source", "release", GRADING)
BUNDLE = "bundle"  # under grade.WORK
STAMP = "stamp.json"  # beside the bundle's course folder: what it was made from
# Appended to the bundle's copy of the course's config: a task writes its scratch gradebook
# beside it, never the course's database (which may be a PostgreSQL server it cannot reach).
BUNDLE_GRADEBOOK = """
# autograder.task: the grading bundle's own gradebook, a scratch SQLite file beside
# this config, whatever database the course's gradebook is.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(root, "gradebook.db")
"""


@dataclass
class Result:
    """What grading one submission produced: plain data, sent between processes.

    Attributes
    ----------
    outcome : grade.Outcome
        Status, flags, problems, the trusted verdicts (its ``score`` is filled in when it
        is recorded).
    gradebook : dict or None
        What the task's scratch gradebook held of the submission (``gradebook_entry``) when
        it was graded and every score confirmed; None otherwise (it then scores nothing).
    autograded : dict of str to bytes
        The autograded files, relative path -> content.
    """

    outcome: "grade.Outcome"
    gradebook: dict | None = None
    autograded: dict = field(default_factory=dict)


def failed(assignment, student, digest, flag, problem):
    """The result of a task that could not run or finish: a failed outcome, nothing scored."""
    return Result(grade.Outcome(assignment, student, "failed", flags=[flag], problems=[problem],
                                fingerprint=digest))


# ---------------------------------------------------------------- the bundle


def prepare(course_dir, assignments):
    """The course's grading bundle (``autograder_work/bundle/course``), knowing at least
    ``assignments``: made when missing, remade when a bundled file of the course changed,
    and told only of the assignments it does not know yet otherwise (nbgrader's
    ``generate_assignment`` records each one, about half a second)."""
    course_dir = Path(course_dir).resolve()
    home = course_dir / grade.WORK / BUNDLE
    target, stamp = home / "course", home / STAMP
    inputs = _digest(course_dir)
    try:
        made = json.loads(stamp.read_text())
    except (OSError, ValueError):
        made = {}
    known = set(made.get("assignments", [])) if made.get("inputs") == inputs else None
    if known is None:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in BUNDLED:
            _copy(course_dir / name, target / name)
        with open(target / "nbgrader_config.py", "a") as config:
            config.write(BUNDLE_GRADEBOOK)
        known = set()
    missing = sorted(set(assignments) - known)
    if missing or not stamp.exists():
        register_assignments(target, missing)
        partial = stamp.with_suffix(".partial")
        partial.write_text(json.dumps({"inputs": inputs,
                                       "assignments": sorted(known | set(missing))}))
        partial.replace(stamp)
    return target


def _digest(course_dir):
    """A hash of every bundled file of the course (paths and bytes)."""
    digest = hashlib.sha256()
    for name in BUNDLED:
        path = course_dir / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(course_dir)).encode() + b"\0")
                digest.update(file.read_bytes())
    return digest.hexdigest()


def _copy(source, target):
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    elif source.exists():
        shutil.copy2(source, target)


def scratch_course(bundle, assignment, target):
    """Copy into ``target`` what grading ``assignment`` reads of the bundle: its config and
    gradebook, ``grading/``, and the assignment's own ``source/`` and ``release/``."""
    bundle, target = Path(bundle), Path(target)
    target.mkdir(parents=True)
    for name in ("nbgrader_config.py", "gradebook.db", GRADING,
                 f"source/{assignment}", f"release/{assignment}"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        _copy(bundle / name, target / name)
    return target


# ---------------------------------------------------------------- the task


def grade_task(bundle, assignment, student, submission, digest, settings):
    """Grade one submission in a scratch copy of the bundle and return its ``Result``.

    Parameters
    ----------
    bundle : path-like
        The grading bundle's folder (``prepare``), as this process sees it.
    assignment, student : str
    submission : intake.Submission
        What intake read of the submission: nothing is read from ``submitted/`` here.
    digest : str
        Its fingerprint with the settings (``grade.combined_fingerprint``).
    settings : Settings
    """
    scratch = Path(tempfile.mkdtemp(prefix="nn-course-task-"))
    try:
        course_dir = scratch_course(bundle, assignment, scratch / "course")
        outcome = grade.grade_job(course_dir, assignment, student, settings,
                                  submission=submission, digest=digest)
        entry = gradebook_entry(course_dir, assignment, student) \
            if outcome.status == "graded" else None
        autograded = course_dir / "autograded" / student / assignment
        return Result(outcome, entry, grade.folder_files(autograded))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def gradebook_entry(course_dir, assignment, student):
    """What the gradebook of ``course_dir`` holds of the submission, as plain data (None if
    nothing): its timestamp and, per notebook, the late penalty and each cell's automatic
    score, whether it needs grading by hand, and its automatic comment."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course_dir) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return None
        return {
            "timestamp": submission.timestamp,
            "notebooks": {notebook.name: {
                "late_submission_penalty": notebook.late_submission_penalty,
                "grades": {g.cell.name: [g.auto_score, g.needs_manual_grade]
                           for g in notebook.grades},
                "comments": {c.cell.name: c.auto_comment for c in notebook.comments},
            } for notebook in submission.notebooks},
        }
