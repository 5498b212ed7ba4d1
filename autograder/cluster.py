"""Grading on a Dask cluster: one task per submission, graded on a worker, recorded here.

``python -m autograder grade DIR --scheduler ADDRESS`` sends one task per (student,
assignment) to the Dask scheduler at ADDRESS; without ``--scheduler``, grading stays local
(``grade.grade_course``). Both run the same task (``task.grade_task``), in the same sandbox,
with the same trusted verdicts, and record its result the same way (``record.record``).

A task carries what it needs:

- the submission as intake read it here (``intake.read_submission``: its files as bytes,
  its folders and the entries it refused), so that the worker reads nothing of it again and
  never recreates a link;
- the course's grading bundle (``task.prepare``). By default the bundle is shipped, packed,
  to each worker once, by a worker plugin (``BundlePlugin``), so that a worker that joins
  or restarts later gets it too: that suits workers that share nothing with this machine.
  (A scattered bundle would not do: Dask forgets a task whose worker dies while it holds
  scattered data, even when other workers hold copies of it.) With ``shared=True``
  (``--shared-course``) a task carries only the bundle's path inside the course directory,
  for workers that mount the same file system at the same path; nothing is sent.

A task whose worker dies is run again elsewhere by Dask; its result comes back once and is
recorded once, and the outcome says it was retried. A run killed here and started again
grades only what has no current outcome.
"""

import faulthandler
import hashlib
import io
import socket
import tarfile
import tempfile
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from . import grade, task
from .course import Course
from .record import Recorders

# ---------------------------------------------------------------- the bundle


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


# ---------------------------------------------------------------- on the worker


def grade_remote(bundle, assignment, student, submission, digest, settings):
    """Grade one submission on a worker: ``task.grade_task`` in the bundle as this worker has
    it, its ``Result`` saying which worker ran it.

    A watchdog ends the worker process, with every thread's stack on its stderr, if the task
    takes longer than ``settings.job_limit()`` (the grader itself stuck: a submission's own
    code is bounded by the cell and notebook timeouts). Dask then runs the task again on
    another worker, and after its ``allowed-failures`` gives up on it, which is recorded as
    ``grader-failed``. So a worker runs one task at a time (``dask worker --nthreads 1``).
    """
    from .notebooks import single_threaded_blas

    grade.quiet_gradebook()
    single_threaded_blas()  # as many kernels at once as the worker has threads
    faulthandler.dump_traceback_later(settings.job_limit(), exit=True)
    try:
        result = task.grade_task(unpacked(bundle), assignment, student, submission, digest,
                                 settings)
    finally:
        faulthandler.cancel_dump_traceback_later()
    result.outcome.worker = _worker_name()
    return result


def _worker_name():
    from distributed import get_worker

    try:
        return get_worker().address
    except ValueError:  # not on a Dask worker
        return socket.gethostname()


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
    Course(course_dir)  # a clear error now, rather than one per task
    jobs, refused = grade.discover(course_dir, assignment, student)
    outcomes, todo = {}, []
    for job, found in grade.examined(course_dir, jobs, settings, force):
        if isinstance(found, grade.Outcome):
            outcomes[job] = found
        else:
            todo.append((*job, *found))
    if not todo:
        return [outcomes[job] for job in jobs] + refused
    folder = task.prepare(course_dir, sorted({name for name, *_ in todo}))
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
        futures = {}
        for name, who, submission, digest in todo:
            future = client.submit(grade_remote, bundle, name, who, submission, digest, settings,
                                   key=f"grade-{name}-{who}-{digest[:12]}", pure=False)
            futures[future.key] = (name, who, digest, future)
        todo.clear()  # the submissions' bytes are the scheduler's now
        for future in as_completed([entry[-1] for entry in futures.values()]):
            name, who, digest, _ = futures.pop(future.key)
            recording.submit(_result(client, future, name, who, digest), recorded)
    return [outcomes[job] for job in jobs] + refused


def _result(client, future, assignment, student, digest):
    """The ``task.Result`` of one finished task, or of its failure (with the submission's
    fingerprint ``digest``), saying how often it was retried."""
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
        result = task.failed(assignment, student, digest, "grader-failed",
                             f"grading on the cluster failed: {type(error).__name__}: {error}")
    future.release()  # its bytes live on here only until recorded
    if retried:
        result.outcome.flag("retried", f"graded again on another worker after {retried} "
                            "worker(s) died running it")
    return result
