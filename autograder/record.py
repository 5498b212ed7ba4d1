"""Recording results into the course: the one path from a ``task.Result`` to the gradebook.

``record`` writes, for one result, the gradebook first (the course's own, whatever database
it is), then the autograded notebooks, then the outcome, atomically and last: until the
outcome is there, the submission counts as not graded, and the next run grades it again.
Local grading (``grade.grade_course``) and grading on a cluster (``cluster``) both record
here, in the process that runs the grading, never in the one that graded: scores that no
trusted verdict confirmed never reach the course's gradebook.
"""

import contextlib
from pathlib import Path

from . import grade
from .course import load_config, open_gradebook


def record(course_dir, result, gradebook=None):
    """Write one ``task.Result`` into the course; return its outcome, with its score.

    A result that was not graded, or whose scores were not all confirmed
    (``Result.gradebook`` None), scores nothing: the submission is in the gradebook with 0
    automatic points, whatever an earlier grading of it scored.

    ``gradebook``, an open ``nbgrader.api.Gradebook`` of the course, saves opening one per
    result (a run keeps one open); without it, one is opened.
    """
    outcome, entry = result.outcome, result.gradebook
    opened = open_gradebook(course_dir) if gradebook is None \
        else contextlib.nullcontext(gradebook)
    with opened as book:
        if outcome.status == "graded" and entry is not None:
            outcome.score, outcome.max_score = _write_gradebook(book, outcome, entry)
        else:
            outcome.score, outcome.max_score = _score_nothing(book, outcome)
    grade.replace_folder(Path(course_dir) / "autograded" / outcome.student / outcome.assignment,
                         lambda new: grade.write_files(new, result.autograded or {}))
    grade.save_outcome(course_dir, outcome)
    return outcome


def _write_gradebook(gradebook, outcome, entry):
    """Write what the task's gradebook held of a submission into ``gradebook``; return
    the submission's (score, max_score). Each notebook's grades and comments are read with
    their cells' names in one query, not loaded cell by cell."""
    from nbgrader.api import Comment, Grade

    db = gradebook.db
    _add_student(gradebook, outcome.student)
    submission = gradebook.update_or_create_submission(
        outcome.assignment, outcome.student, timestamp=entry["timestamp"])
    with db.no_autoflush:
        for notebook in submission.notebooks:
            found = entry["notebooks"].get(notebook.name)
            if found is None:
                continue
            notebook.late_submission_penalty = found["late_submission_penalty"]
            for row, name in _named_rows(db, Grade, notebook.id):
                if name in found["grades"]:
                    row.auto_score, row.needs_manual_grade = found["grades"][name]
            for row, name in _named_rows(db, Comment, notebook.id):
                if name in found["comments"]:
                    row.auto_comment = found["comments"][name]
    db.commit()
    return submission.score, submission.max_score


def _score_nothing(gradebook, outcome):
    """Put the submission in ``gradebook`` with every automatic score 0 (points given by hand
    stay); return its (score, max_score). If the gradebook cannot be changed, the submission
    is removed from it instead, so that no export shows a score nothing confirmed."""
    db = gradebook.db
    try:
        _add_student(gradebook, outcome.student)
        submission = gradebook.update_or_create_submission(outcome.assignment, outcome.student)
        for notebook in submission.notebooks:
            for row in notebook.grades:
                if row.auto_score is not None:
                    row.auto_score = 0.0
        db.commit()
        return submission.score, submission.max_score
    except Exception:
        db.rollback()
        gradebook.remove_submission(outcome.assignment, outcome.student)
        return 0.0, 0.0


def _add_student(gradebook, student):
    """Put ``student`` in ``gradebook`` if missing. Two recorders recording two assignments of
    a new student may both add them; the second finds the first's row."""
    from nbgrader.api import InvalidEntry, MissingEntry

    try:
        gradebook.find_student(student)
    except MissingEntry:
        try:
            gradebook.add_student(student)
        except InvalidEntry:  # added meanwhile by another recorder (nbgrader rolled back)
            gradebook.find_student(student)


def _named_rows(db, model, notebook_id):
    """(row, its cell's name) for each ``model`` row (Grade or Comment) of a notebook."""
    from nbgrader.api import BaseCell

    return db.query(model, BaseCell.name).join(BaseCell, model.cell_id == BaseCell.id) \
        .filter(model.notebook_id == notebook_id).all()


class Recorders:
    """Records results into the course, here: in this process, or in several at once.

    Recording a result is mostly Python work in nbgrader and SQLAlchemy (threads would wait
    on one another), so a gradebook on a database server can be written by ``count``
    processes, each with a session of its own; each result is recorded by one of them. Once
    a recorder dies, what it held and every later result are recorded here. SQLite takes
    one writer at a time, so there ``count`` is always 1. (On a 2-core machine that also
    runs the database server, two recorders measured no faster than one: bench/cluster.py.)
    """

    def __init__(self, course_dir, count=1):
        self.course_dir = Path(course_dir)
        url = load_config(course_dir).CourseDirectory.db_url
        self.count = 1 if url.startswith("sqlite") else max(1, count or 1)
        self.pool = self.gradebook = None
        self.pending = {}  # concurrent future -> (result, its callback)

    def __enter__(self):
        grade.quiet_gradebook()  # this process writes the gradebook
        if self.count > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                self.count, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_recorder, initargs=(str(self.course_dir),))
        return self

    def submit(self, result, done):
        """Record ``result``; call ``done(outcome)`` here once it is recorded."""
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is not None:
            try:
                self.pending[self.pool.submit(_record_here, result)] = (result, done)
            except BrokenProcessPool:  # a recorder died: this and the rest are recorded here
                self.pool.shutdown(wait=False)
                self.pool = None
            else:
                self._collect(block=False)
                return
        done(self._record_locally(result))

    def _record_locally(self, result):
        """Record ``result`` in this process (its gradebook opened on first use)."""
        if self.gradebook is None:
            self.gradebook = open_gradebook(self.course_dir).__enter__()
        return record(self.course_dir, result, self.gradebook)

    def wait(self):
        """Return once every result submitted so far is recorded."""
        self._collect(block=True)

    def _collect(self, block):
        from concurrent.futures import FIRST_COMPLETED, wait

        while self.pending:
            finished, _ = wait(list(self.pending), timeout=None if block else 0,
                               return_when=FIRST_COMPLETED)
            if not finished:
                return
            for future in finished:
                result, done = self.pending.pop(future)
                try:
                    outcome = future.result()
                except Exception:  # its recorder died or failed: record it here, once
                    outcome = self._record_locally(result)
                done(outcome)

    def __exit__(self, *exc):
        try:
            if self.pool is not None:
                self.wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown()
            if self.gradebook is not None:
                self.gradebook.close()


_RECORDER = {}  # in a recorder process: the course and its open gradebook


def _start_recorder(course_dir):
    grade.quiet_gradebook()
    _RECORDER.update(course_dir=course_dir, gradebook=open_gradebook(course_dir).__enter__())


def _record_here(result):
    return record(_RECORDER["course_dir"], result, _RECORDER["gradebook"])
