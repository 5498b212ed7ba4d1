"""Grading on a Dask cluster: one task per submission, graded on a worker, recorded here.

``python -m autograder grade DIR --scheduler ADDRESS`` sends one task per (student,
assignment) to the Dask scheduler at ADDRESS; without ``--scheduler``, grading stays local
(``grade.grade_course``). Both grade through the same steps (``grade.grade_job``), in the
same sandbox, with the same trusted verdicts.

A task carries what it needs:

- the submission as intake read it here (``intake.read_submission``: its files as bytes,
  its folders and the entries it refused), so that the worker reads nothing of it again and
  never recreates a link;
- the course's grading bundle (``prepare``): its config, ``source/``, ``release/``,
  ``grading/`` and an empty SQLite gradebook that knows the assignments (whatever database
  the course's own gradebook is: only this side writes that one). By default the bundle is
  shipped, packed, to each worker once, by a worker plugin (``BundlePlugin``), so that a
  worker that joins or restarts later gets it too: that suits workers that share nothing
  with this machine. (A scattered bundle would not do: Dask forgets a task whose worker
  dies while it holds scattered data, even when other workers hold copies of it.) With
  ``shared=True`` (``--shared-course``) a task carries only the bundle's path inside the
  course directory, for workers that mount the same file system at the same path; nothing
  is sent.

On the worker, a task grades in a scratch copy of the bundle (its gradebook a copy of the
empty one) and returns the outcome, the automatic scores of each cell and the autograded
notebooks. Only this side writes the course: for each result, the gradebook first (the
course's own, whatever database it is), then the autograded notebooks, then the outcome,
atomically and last. A task whose worker dies is run again elsewhere by Dask; its result
comes back once and is recorded once, and the outcome says it was retried. A run killed here
and started again grades only what has no current outcome.
"""

import contextlib
import faulthandler
import hashlib
import io
import shutil
import socket
import tarfile
import tempfile
from dataclasses import asdict
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from . import grade
from .course import GRADING, Course, load_config, open_gradebook, register_assignments
from .intake import read_submission

BUNDLED = ("nbgrader_config.py", "source", "release", GRADING)
BUNDLE = "cluster-bundle"  # under grade.WORK
# Appended to the bundle's copy of the course's config: a worker writes its scratch gradebook
# beside it, never the course's database (which may be a PostgreSQL server it cannot reach).
BUNDLE_GRADEBOOK = """
# autograder.cluster: the grading bundle's own gradebook, a scratch SQLite file beside
# this config, whatever database the course's gradebook is.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(root, "gradebook.db")
"""


# ---------------------------------------------------------------- the bundle


def prepare(course_dir, assignments):
    """Write the grading bundle into ``DIR/autograder_work/cluster-bundle/course`` and return
    that folder: the course's own files that grading reads, and a gradebook that knows
    ``assignments`` but no student (nbgrader's ``generate_assignment`` makes it)."""
    course_dir = Path(course_dir).resolve()
    target = course_dir / grade.WORK / BUNDLE / "course"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in BUNDLED:
        _copy(course_dir / name, target / name)
    with open(target / "nbgrader_config.py", "a") as config:
        config.write(BUNDLE_GRADEBOOK)
    register_assignments(target, assignments)
    return target


def packed(folder):
    """``folder`` as the bytes of a gzipped tar, its one top-level entry ``course``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname="course")
    return buffer.getvalue()


_UNPACKED = {}  # per worker process: the bundle's digest -> its unpacked folder


def unpack(data):
    """Unpack the packed bundle ``data`` on this worker, once per worker process; return
    its digest."""
    digest = hashlib.sha256(data).hexdigest()
    if digest not in _UNPACKED:
        folder = Path(tempfile.mkdtemp(prefix="nn-course-bundle-"))
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(folder, filter="data")
        _UNPACKED[digest] = folder / "course"
    return digest


def unpacked(bundle):
    """The bundle's folder on this worker: ``("path", folder)`` on a shared file system, or
    ``("packed", digest)`` for one that ``BundlePlugin`` unpacked here."""
    kind, value = bundle
    if kind == "path":
        return Path(value)
    if value not in _UNPACKED:
        raise RuntimeError(f"this worker has no grading bundle {value[:12]} (was the "
                           "nn-course-bundle plugin registered?)")
    return _UNPACKED[value]


class BundlePlugin(WorkerPlugin):
    """Gives every worker the packed bundle: those running now, and any that joins later."""

    name = "nn-course-bundle"

    def __init__(self, data):
        self.data = data

    def setup(self, worker):
        unpack(self.data)


def _copy(source, target):
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    elif source.exists():
        shutil.copy2(source, target)


# ---------------------------------------------------------------- on the worker


def grade_remote(bundle, assignment, student, submission, digest, settings):
    """Grade one submission on a worker, in a scratch copy of the bundle.

    A watchdog ends the worker process, with every thread's stack on its stderr, if the task
    takes longer than ``settings.job_limit()`` (the grader itself stuck: a submission's own
    code is bounded by the cell and notebook timeouts). Dask then runs the task again on
    another worker, and after its ``allowed-failures`` gives up on it, which is recorded as
    ``grader-failed``. So a worker runs one task at a time (``dask worker --nthreads 1``).

    Returns
    -------
    dict
        ``outcome`` (an ``Outcome`` as a dict), ``gradebook`` (what ``_gradebook_entry``
        read back, or None), ``autograded`` (relative path -> bytes), ``events`` (bytes) and
        ``worker`` (where it ran).
    """
    from .notebooks import single_threaded_blas

    grade.quiet_gradebook()
    single_threaded_blas()  # as many kernels at once as the worker has threads
    faulthandler.dump_traceback_later(settings.job_limit(), exit=True)
    scratch = Path(tempfile.mkdtemp(prefix="nn-course-task-"))
    try:
        course_dir = scratch / "course"
        shutil.copytree(unpacked(bundle), course_dir, symlinks=True)
        grade._add_students(course_dir, {student})
        outcome = grade.grade_job(course_dir, assignment, student, settings,
                                  submission=submission, digest=digest)
        autograded = course_dir / "autograded" / student / assignment
        events = grade.events_path(course_dir, assignment, student)
        reports = grade.reports_path(course_dir, assignment, student)
        return {
            "outcome": asdict(outcome),
            "gradebook": _gradebook_entry(course_dir, assignment, student),
            "autograded": grade.folder_files(autograded),
            "events": events.read_bytes() if events.is_file() else b"",
            "reports": reports.read_bytes() if reports.is_file() else b"",
            "worker": _worker_name(),
        }
    finally:
        faulthandler.cancel_dump_traceback_later()
        shutil.rmtree(scratch, ignore_errors=True)


def _worker_name():
    from distributed import get_worker

    try:
        return get_worker().address
    except ValueError:  # not on a Dask worker
        return socket.gethostname()


def _gradebook_entry(course_dir, assignment, student):
    """What the scratch gradebook holds of the submission, as plain data (None if nothing):
    its timestamp and, per notebook, the late penalty and each cell's automatic score,
    whether it needs grading by hand, and its automatic comment."""
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


# ---------------------------------------------------------------- recorded here


def record(course_dir, result, gradebook=None):
    """Write one task's result into the course: gradebook, autograded notebooks, then the
    outcome (last, atomically: until it is there, the submission counts as not graded).

    ``gradebook``, an open ``nbgrader.api.Gradebook`` of the course, saves opening one per
    result (the run keeps one open); without it, one is opened."""
    outcome = grade.Outcome(**result["outcome"])
    entry = result.get("gradebook")
    if outcome.status == "graded" and entry is not None:
        opened = open_gradebook(course_dir) if gradebook is None \
            else contextlib.nullcontext(gradebook)
        with opened as book:
            outcome.score, outcome.max_score = _write_gradebook(book, outcome, entry)
    else:
        grade.revoke_scores(course_dir, outcome.assignment, outcome.student)
    grade.replace_folder(Path(course_dir) / "autograded" / outcome.student / outcome.assignment,
                         lambda new: grade.write_files(new, result.get("autograded") or {}))
    for key, path in (("events", grade.events_path), ("reports", grade.reports_path)):
        written = path(course_dir, outcome.assignment, outcome.student)
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_bytes(result.get(key) or b"")
    grade.save_outcome(course_dir, outcome)
    return outcome


def _write_gradebook(gradebook, outcome, entry):
    """Write what the worker's gradebook held of a submission into ``gradebook``; return
    the submission's (score, max_score). Each notebook's grades and comments are read with
    their cells' names in one query, not loaded cell by cell."""
    from nbgrader.api import Comment, Grade

    db = gradebook.db
    gradebook.update_or_create_student(outcome.student)
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


def _named_rows(db, model, notebook_id):
    """(row, its cell's name) for each ``model`` row (Grade or Comment) of a notebook."""
    from nbgrader.api import BaseCell

    return db.query(model, BaseCell.name).join(BaseCell, model.cell_id == BaseCell.id) \
        .filter(model.notebook_id == notebook_id).all()


# ---------------------------------------------------------------- the run


def grade_on_cluster(course_dir, scheduler, assignment=None, student=None, settings=None,
                     force=False, progress=True, shared=False, recorders=1):
    """Grade every submission under ``course_dir/submitted`` that needs it, on a Dask cluster.

    Parameters
    ----------
    course_dir : path-like
    scheduler : str or distributed.Client-compatible address (e.g. a ``LocalCluster``)
        Where the Dask scheduler listens, e.g. ``"tcp://10.0.0.5:8786"``.
    assignment, student, settings, force, progress
        As in ``grade.grade_course``.
    shared : bool
        The workers see the course directory at the same path: send them its path, not
        the packed bundle.
    recorders : int, default 1
        Processes recording results here at once (``Recorders``), for a gradebook on a
        database server (SQLite takes one writer at a time).

    Returns
    -------
    list of Outcome
        One per submission, whether graded now or earlier; ``worker`` says where each
        graded now ran.
    """
    from distributed import Client, as_completed

    course_dir = Path(course_dir).resolve()
    settings = settings or grade.Settings()
    grade.quiet_gradebook()  # this side writes the gradebook
    Course(course_dir)  # a clear error now, rather than one per task
    jobs, refused = grade.discover(course_dir, assignment, student)
    outcomes, todo = grade.pending(course_dir, jobs, settings, force)
    if not todo:
        return [outcomes[job] for job in jobs] + refused
    folder = prepare(course_dir, sorted({name for name, _ in todo}))
    grade._add_students(course_dir, {name for _, name in todo})
    bar = grade.Progress(len(todo)) if progress else None

    def recorded(outcome):
        outcomes[(outcome.assignment, outcome.student)] = outcome
        if bar:
            bar.update(outcome)

    with Client(scheduler) as client, Recorders(course_dir, recorders) as recording:
        if shared:
            bundle = ("path", str(folder))
        else:
            data = packed(folder)
            client.register_plugin(BundlePlugin(data), name=BundlePlugin.name)
            bundle = ("packed", hashlib.sha256(data).hexdigest())
        tasks = {}
        for name, who in todo:
            submission = read_submission(course_dir / "submitted" / who / name,
                                         root=course_dir / "submitted")
            digest = grade.combined_fingerprint(submission.fingerprint(), settings)
            future = client.submit(grade_remote, bundle, name, who, submission, digest, settings,
                                   key=f"grade-{name}-{who}-{digest[:12]}", pure=False)
            tasks[future.key] = (name, who, digest, future)
        for future in as_completed([task[-1] for task in tasks.values()]):
            name, who, digest, _ = tasks[future.key]
            recording.submit(_result(client, future, name, who, digest), recorded)
    return [outcomes[job] for job in jobs] + refused


def _result(client, future, assignment, student, digest):
    """The result of one finished task (or of its failure, with the submission's fingerprint
    ``digest``), as ``record`` takes it."""
    key = future.key

    def times_retried(dask_scheduler=None):
        """On the scheduler (sent by value: it needs no autograder there): how many
        workers died while running the task."""
        task = dask_scheduler.tasks.get(key)
        return task.suspicious if task is not None else 0

    retried = client.run_on_scheduler(times_retried)
    try:
        result = future.result()
    except Exception as error:  # the task itself failed: record that, never lose the job
        outcome = grade.Outcome(assignment, student, "failed", flags=["grader-failed"],
                                fingerprint=digest,
                                problems=[f"grading on the cluster failed: "
                                          f"{type(error).__name__}: {error}"])
        result = {"outcome": asdict(outcome), "gradebook": None}
    future.release()  # its bytes live on here only until recorded
    result["outcome"]["worker"] = result.get("worker", "")
    if retried:
        result["outcome"]["flags"].append("retried")
        result["outcome"]["problems"].append(
            f"graded again on another worker after {retried} worker(s) died running it")
    return result


# ---------------------------------------------------------------- recording, in parallel


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
