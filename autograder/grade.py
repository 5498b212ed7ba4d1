"""Autograde every submission of a course: in parallel, resumable, nothing lost.

Each submission (one student, one assignment) is a *job*. It is read once, here
(``examined``), and graded by one task (``task.grade_task``) in a scratch copy of the
course's grading bundle, through a pipeline of small steps (``STEPS``), each a function of
the ``Job``:

1. ``stage``: intake stages only the files a student submits and reports problems;
2. ``autograde``: nbgrader's ``Autograde`` runs the visible tests in the sandboxed
   kernel (``ResilientExecute``, ``ForgiveStderr`` and nbgrader's own ``ClearHiddenTests``
   in its pipeline: no hidden test is ever sent to the kernel);
3. ``verify``: the trusted process runs every test cell, hidden tests included
   (``trusted``);
4. ``combine``: a cell keeps its points only when both verdicts pass; disagreement on
   the visible part is flagged as tampering;
5. ``flag``: kernel deaths, timeouts and the sandbox's reports become flags.

The task returns a plain ``task.Result``, which this process records (``record.record``):
the gradebook, then the autograded notebooks, then the outcome in
``autograder_work/results/<assignment>/<student>.json``. A step that fails stops the job,
which is recorded as failed and scores nothing: its scratch gradebook is thrown away.

Tasks run in a pool of *grading processes* that import nbgrader once. A job that
outlives its wall-clock limit has its grading process killed (with its kernels) and is
recorded as failed. A job whose submission and settings have not changed
since it was graded is skipped, so a killed run resumes where it stopped,
and a second run changes nothing (a failed job is tried again, until it has failed
``MAX_FAILURES`` times in a row with the same files and settings).
"""

import faulthandler
import hashlib
import itertools
import json
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import record, sandbox, task
from .course import Course, load_api, load_config, open_gradebook
from .enclosure import Enclosure, enclose, exhausted
from .inert import check_name
from .intake import fingerprint_files, read_submission, stage_submission
from .notebooks import single_threaded_blas
from .preprocessors import (
    CELL_TIMEOUT,
    DISK_FULL,
    HIDDEN_FAILED,
    KERNEL_DIED,
    KERNEL_SECONDS,
    KERNEL_STUCK,
    LINKS_REMOVED,
    OUTPUT_CUT,
    SETUP_HUNG,
    TIME_LIMIT,
    TRUSTED_FAILED,
    ForgiveStderr,
    Reports,
    ResilientExecute,
    error_output,
)
from .sandbox import SandboxedKernelManager
from .settings import Settings
from .trusted import Verdict, trusted_verdicts

WORK = "autograder_work"
FLAGGED_ERRORS = {KERNEL_DIED: "kernel-died", KERNEL_STUCK: "kernel-unresponsive",
                  SETUP_HUNG: "setup-failed-twice",
                  CELL_TIMEOUT: "cell-timeout", TIME_LIMIT: "time-limit",
                  "MemoryError": "out-of-memory", "RecursionError": "recursion-limit"}
# the grader's reports that are flags, by that name
GRADER_REPORTS = (OUTPUT_CUT, DISK_FULL, LINKS_REMOVED)
# A job that failed this many times in a row, with the same files and settings, is left alone
# (recorded failed) until ``--force`` asks for it again.
MAX_FAILURES = 2


@dataclass
class Outcome:
    """The recorded result of one job."""

    assignment: str
    student: str
    status: str  # "graded" or "failed"
    score: float = 0.0
    max_score: float = 0.0
    problems: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    seconds: float = 0.0
    fingerprint: str = ""
    sandbox: str = ""  # "bubblewrap", or "rlimits" when only resource limits applied
    bounds: str = ""  # what bounded the submission's memory and disk in total
    # grade_id -> {"nbgrader", "trusted_visible", "trusted", "message"}
    verdicts: dict = field(default_factory=dict)
    events: list = field(default_factory=list)  # what the sandbox reported
    worker: str = ""  # the Dask worker that graded it (grading on a cluster), else empty
    failures: int = 0  # times in a row it failed with these files and settings (``pending``)

    def flag(self, flag, problem=None):
        if flag not in self.flags:
            self.flags.append(flag)
        if problem:
            self.problems.append(problem)


def discover(course_dir, assignment=None, student=None):
    """The submissions under ``submitted/``: ``(jobs, refused)``, each sorted.

    ``jobs`` are the (assignment, student) pairs to grade. A folder whose name fails
    ``inert.check_name``, or that names no assignment of the course, is never graded:
    nbgrader would read its name as a glob pattern (``*`` matches every student) or a path.
    It is returned in ``refused`` as an ``Outcome`` with status ``"refused"`` and the reason,
    which the summary lists (its name escaped) and nothing records. Links are not followed.
    """
    submitted = Path(course_dir) / "submitted"
    known = set(Course(course_dir).assignments)
    jobs, refused = [], []
    for student_dir in _folders(submitted):
        if student not in (None, student_dir.name):
            continue
        why = check_name(student_dir.name)
        if why:
            refused.append(_refusal("", student_dir.name, f"the student id {why}"))
            continue
        for assignment_dir in _folders(student_dir):
            if assignment not in (None, assignment_dir.name):
                continue
            if assignment_dir.name in known:
                jobs.append((assignment_dir.name, student_dir.name))
            else:
                refused.append(_refusal(assignment_dir.name, student_dir.name,
                                        "the folder names no assignment of this course"))
    return jobs, refused


def _real_dir(path):
    return path.is_dir() and not path.is_symlink()


def _folders(folder):
    """The real folders in ``folder`` (hidden ones too), sorted; none if it is missing."""
    return sorted(p for p in folder.iterdir() if _real_dir(p)) if _real_dir(folder) else []


def _refusal(assignment, student, reason):
    return Outcome(assignment, student, "refused", flags=["invalid-name"],
                   problems=[f"submitted/{student}/{assignment}: not graded, {reason}"])


def fingerprint(folder, settings):
    """A hash of a submission (as intake reads it, links never followed) and the settings."""
    return combined_fingerprint(fingerprint_files(folder, root=Path(folder).parent.parent),
                                settings)


def combined_fingerprint(files_digest, settings):
    """The fingerprint of a submission whose files hash to ``files_digest``, under ``settings``."""
    digest = hashlib.sha256(json.dumps(settings.fingerprint(), sort_keys=True).encode())
    digest.update(files_digest.encode())
    return digest.hexdigest()


def result_path(course_dir, assignment, student):
    return Path(course_dir) / WORK / "results" / assignment / f"{student}.json"


def load_outcome(course_dir, assignment, student):
    path = result_path(course_dir, assignment, student)
    try:
        return Outcome(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save_outcome(course_dir, outcome):
    """Write an outcome atomically: a reader sees the old file or the new one.

    A failure counts the failures before it of the same files under the same settings
    (``failures``), so that ``pending`` leaves alone a job that fails again and again.
    """
    path = result_path(course_dir, outcome.assignment, outcome.student)
    if outcome.status == "failed":
        before = load_outcome(course_dir, outcome.assignment, outcome.student)
        again = (before is not None and before.status == "failed"
                 and before.fingerprint == outcome.fingerprint)
        outcome.failures = before.failures + 1 if again else 1
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(outcome), indent=1))
    os.replace(partial, path)


def events_path(course_dir, assignment, student):
    """What the sandbox reported (its processes' stderr and stdout): student-writable."""
    return Path(course_dir) / WORK / "events" / assignment / f"{student}.log"


def reports_path(course_dir, assignment, student):
    """The grader's own reports on a submission (``preprocessors.Reports``): written by the
    grading process only, in a folder no sandbox sees."""
    return Path(course_dir) / WORK / "reports" / assignment / f"{student}.jsonl"


# ---------------------------------------------------------------- one job


def grading_config(course_dir, settings, intake, enclosure=None):
    """The course's nbgrader config plus the grader's pipeline and limits, reading the
    submission from ``intake`` (relative to the course: a job's own, see ``Job.intake_root``);
    with an ``enclosure.Enclosure``, the kernels join its cgroups and the autograded folder,
    the kernel's working folder, is in its tmpfs."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearHiddenTests,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )


    config = load_config(course_dir)
    config.CourseDirectory.submitted_directory = intake
    # intake already put back deleted graded cells (see intake.restore_graded_cells);
    # ClearHiddenTests: the kernel runs the visible tests only, the trusted process the rest
    config.Autograde.autograde_preprocessors = [
        ClearHiddenTests, ResilientExecute, ForgiveStderr, IgnorePattern,
        ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
        CheckCellMetadata]
    config.ResilientExecute.timeout = settings.cell_timeout
    config.ResilientExecute.submission_timeout = settings.submission_timeout
    config.ResilientExecute.shutdown_kernel = "immediate"
    config.ResilientExecute.kernel_manager_class = SandboxedKernelManager
    config.SandboxedKernelManager.limits = asdict(settings.limits())
    if enclosure is not None:
        config.SandboxedKernelManager.enclosure = asdict(enclosure)
        if enclosure.scratch:  # absolute: nbgrader joins it to the course root unchanged
            config.CourseDirectory.autograded_directory = os.path.join(enclosure.scratch,
                                                                       "autograded")
    return config


@dataclass
class Job:
    """One submission on its way through the steps."""

    course: Course
    assignment: str
    student: str
    settings: Settings
    outcome: Outcome
    intake: object = None  # intake.Intake, once staged
    config: object = None  # the nbgrader config, once staged
    graded: bool = False  # nbgrader scored it: the gradebook holds in-kernel scores
    verified: bool = False  # the gradebook holds only what both verdicts confirmed
    verdicts: dict = field(default_factory=dict)  # grade_id -> trusted.Verdict
    submission: object = None  # intake.Submission read elsewhere (a cluster's task), or None
    enclosure: Enclosure = field(default_factory=Enclosure)  # its bounds in total

    @property
    def submitted(self):
        return self.course.root / "submitted" / self.student / self.assignment

    @property
    def published(self):
        """The course's autograded folder of the submission (feedback reads it)."""
        return self.course.root / "autograded" / self.student / self.assignment

    @property
    def autograded(self):
        """Where nbgrader writes the autograded submission while it is graded: in the
        enclosure's tmpfs when there is one (``publish`` copies it to the course)."""
        if self.enclosure.scratch:
            return Path(self.enclosure.scratch) / "autograded" / self.student / self.assignment
        return self.published

    @property
    def events(self):
        return events_path(self.course.root, self.assignment, self.student)

    @property
    def intake_root(self):
        """Where the submission is staged for nbgrader, relative to the course: a folder of
        this job's own, so that nbgrader (which reads a student id as a glob pattern) finds
        nothing there but this one (assignment, student)."""
        return f"{WORK}/intake/{self.assignment}/{self.student}"

    @property
    def reports(self):
        return reports_path(self.course.root, self.assignment, self.student)

    def gradebook(self):
        return open_gradebook(self.course.root, self.config)


def stage(job):
    """Intake: stage what may be graded, and the nbgrader config that grades it.

    The names are checked first (``inert.check_name``), and the submission is staged in
    the job's own intake folder (``Job.intake_root``).
    """
    for what, name in (("assignment", job.assignment), ("student id", job.student)):
        why = check_name(name)
        if why:
            raise ValueError(f"the {what} is not graded: {why}")
    for path in (job.events, job.reports):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    job.intake = stage_submission(
        job.submitted, job.course.source(job.assignment),
        job.course.root / job.intake_root / job.student / job.assignment,
        release=job.course.release(job.assignment), own_module=job.course.module(job.assignment),
        root=job.course.root / "submitted", submission=job.submission)
    job.outcome.problems += job.intake.problems
    job.outcome.flags += job.intake.flags
    job.config = grading_config(job.course.root, job.settings, job.intake_root, job.enclosure)
    job.config.SandboxedKernelManager.events_file = str(job.events)
    job.config.ResilientExecute.reports_file = str(job.reports)


def autograde(job):
    """nbgrader's autograde, run once more if it fails (a passing failure), and said so."""
    if not any(job.intake.staged.glob("*.ipynb")):
        return
    api = load_api(job.course.root, job.config)
    result = api.autograde(job.assignment, job.student, force=True, create=True)
    if not result["success"]:
        first = _last_error(result)
        result = api.autograde(job.assignment, job.student, force=True, create=True)
        second = "graded it" if result["success"] else "failed too"
        job.outcome.problems.append(f"nbgrader failed on the first try ({first}); "
                                    f"the second try {second}")
    # from here on the gradebook may hold in-kernel scores, which only `combine` confirms
    job.graded = True
    if not result["success"]:
        job.outcome.status = "failed"
        job.outcome.problems.append("nbgrader could not grade it: " + _last_error(result))
        job.graded = False


def verify(job):
    """The trusted verdict on every test cell, hidden tests included.

    Where the kernel could not get past a notebook's set-up (``SETUP_HUNG``), its cells
    scored nothing there and cannot score here: the trusted run, which would wait on the
    same import, is skipped, and each cell fails with the kernel's reason.

    One time limit per notebook (``--submission-timeout``) covers both runs: the trusted
    run of a notebook has what its kernel run left of it.
    """
    if not job.graded:
        return
    cells = job.course.cells(job.assignment)
    stuck = _notebooks_with_error(job.autograded, SETUP_HUNG)
    if stuck and stuck >= {cell["notebook"] for cell in cells}:
        job.verdicts = {cell["grade_id"]: Verdict(
            False, False, f"{SETUP_HUNG}: not run, the notebook's set-up did not finish "
            "twice in the kernel", notebook=cell["notebook"]) for cell in cells}
        return
    spent = {report["notebook"]: report["seconds"]
             for report in Reports(job.reports).read(KERNEL_SECONDS)}
    budgets = {cell["notebook"]: max(0.0, job.settings.submission_timeout
                                     - spent.get(cell["notebook"], 0.0)) for cell in cells}
    job.verdicts = trusted_verdicts(job.course, job.assignment, job.intake.staged,
                                    job.events, job.settings.limits(),
                                    timeout=job.settings.cell_timeout, enclosure=job.enclosure,
                                    budgets=budgets)


def combine(job):
    """A test cell keeps its points only when both verdicts say it passed; record both."""
    if not job.graded:
        return
    from nbgrader.api import MissingEntry

    outcome, notes = job.outcome, {}
    tests = {cell["grade_id"] for cell in job.course.cells(job.assignment)}
    with job.gradebook() as gradebook:
        try:
            submission = gradebook.find_submission(job.assignment, job.student)
        except MissingEntry:
            return
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                cell = grade.cell
                if cell.name not in tests or grade.auto_score is None or not cell.max_score:
                    continue  # written answers (nbgrader scores an unchanged one 0)
                verdict = job.verdicts.get(cell.name)
                kernel = grade.auto_score >= cell.max_score
                if verdict is None:  # nothing confirmed it
                    grade.auto_score = 0.0
                    outcome.flag("unverified-cell", f"{cell.name}: no trusted verdict; 0 points")
                    continue
                outcome.verdicts[cell.name] = {
                    "nbgrader": kernel, "trusted_visible": verdict.visible,
                    "trusted": verdict.passed, "message": verdict.message}
                if verdict.timed_out:  # not a disagreement: the trusted run ran out of time
                    outcome.flag("time-limit", f"{cell.name}: {verdict.message}")
                    grade.auto_score = 0.0
                    if kernel:
                        notes[cell.name] = (notebook.name, error_output(TIME_LIMIT,
                                                                        verdict.message))
                    continue
                if verdict.suspicious:
                    outcome.flag("suspicious-values",
                                 f"suspicious values: {cell.name}: {verdict.message}")
                if kernel != verdict.visible:
                    outcome.flag("suspected-tampering", _tampering(cell.name, kernel, verdict))
                if not (kernel and verdict.passed):
                    grade.auto_score = 0.0
                if kernel and not verdict.visible:
                    notes[cell.name] = (notebook.name, error_output(
                        TRUSTED_FAILED, f"{verdict.message}\nHint: the grader ran this cell "
                        "again outside the notebook, and it failed there"))
                elif kernel and not verdict.passed:
                    notes[cell.name] = (notebook.name, error_output(
                        HIDDEN_FAILED, f"a hidden test failed: {verdict.message}"))
        gradebook.db.commit()
    job.verified = True
    _add_outputs(job.autograded, notes)


def _tampering(name, kernel, verdict):
    if kernel:
        return (f"suspected tampering: {name} passed its tests in the notebook, but the "
                f"trusted run of the same tests failed: {verdict.message}")
    return (f"suspected tampering: {name} failed its tests in the notebook, but the trusted "
            "run of the same tests passed (0 points; look at the notebook)")


def _add_outputs(folder, notes):
    """Show in the graded notebook why a cell lost the points its kernel run gave it.

    Formgrader and the feedback then say "failed", with the hint of the message.
    """
    import nbformat

    for name in {notebook for notebook, _ in notes.values()}:
        path = Path(folder) / f"{name}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in notes:
                cell.outputs.append(notes[grade_id][1])
        nbformat.write(notebook, path)


def flag(job):
    """Flags for what the kernel and the sandbox ran into.

    The grader's own reports come from its own channel (``Reports``); a line that a
    student's code printed, however it is shaped, is at most a sandbox event.
    """
    outcome = job.outcome
    for name in _execution_flags(job.autograded):
        outcome.flag(name)
    for report in Reports(job.reports).read():
        if report["kind"] in GRADER_REPORTS:
            outcome.flag(report["kind"], f"the grader reported: {report['text']}")
    outcome.events = sandbox.read_events(job.events)
    for event in outcome.events:
        outcome.flag("sandbox-events", f"the sandbox reported: {event}")
    for name, problem in exhausted(job.enclosure, job.settings):
        outcome.flag(name, problem)


STEPS = (stage, autograde, verify, combine, flag)


def grade_job(course_dir, assignment, student, settings, submission=None, digest=None):
    """Grade one submission through ``STEPS``; never raises, always returns an Outcome.

    ``submission`` and its fingerprint ``digest``, when given, are what intake read of it
    elsewhere (``cluster``): then nothing is read from ``submitted/``.
    """
    start = time.perf_counter()
    course = Course(course_dir)
    submitted = course.root / "submitted" / student / assignment
    outcome = Outcome(assignment, student, "graded",
                      fingerprint=digest or fingerprint(submitted, settings),
                      sandbox=sandbox.detect())
    job = Job(course, assignment, student, settings, outcome, submission=submission)
    with enclose(settings) as job.enclosure:
        outcome.bounds = job.enclosure.bounds
        for step in STEPS:
            try:
                step(job)
            except Exception as error:  # a job must always leave a record behind
                outcome.status = "failed"
                outcome.problems.append(f"grading crashed ({step.__name__}): "
                                        f"{type(error).__name__}: {error}")
                break
        try:
            publish(job)
        except OSError as error:
            outcome.status = "failed"
            outcome.problems.append(f"could not copy the autograded notebooks out: {error}")
    if job.graded and not job.verified and outcome.status == "graded":
        outcome.status = "failed"
        outcome.problems.append("no trusted verdict confirmed nbgrader's scores")
    outcome.seconds = round(time.perf_counter() - start, 2)
    return outcome


def publish(job):
    """Put the autograded submission, graded in the enclosure's tmpfs, into the course
    (replacing what an earlier grading left there); nothing to do without a tmpfs.

    Only regular files are copied, read without following a link (``folder_files``)."""
    if job.autograded == job.published or not job.autograded.is_dir():
        return
    files = folder_files(job.autograded)
    replace_folder(job.published, lambda new: write_files(new, files))


def folder_files(folder):
    """``{relative POSIX path: bytes}`` of the regular files in ``folder``, read as intake
    reads a submission: a link, a pipe or a device is never opened or followed."""
    return read_submission(folder).files


def write_files(folder, files):
    """Write ``files`` (relative path -> bytes, as ``folder_files`` reads them) into
    ``folder``."""
    for relative, data in files.items():
        path = Path(folder) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def replace_folder(folder, fill):
    """Make ``folder`` what ``fill(new)`` puts into a new folder beside it, swapped in by one
    rename once complete (what an earlier grading left there goes)."""
    folder = Path(folder)
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    fill(partial)
    partial.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)


def _last_error(result):
    """The gist of nbgrader's failure: its error lines and the exceptions it names."""
    text = "\n".join(filter(None, [result.get("log"), result.get("error")])).splitlines()
    gist = [line.strip() for line in text if "ERROR" in line or
            (line[:1].isalpha() and ("Error:" in line or "Exception:" in line))]
    gist = list(dict.fromkeys(gist))[-6:]
    return " | ".join(gist) if gist else (text[-1] if text else "no details")


def _error_names(folder):
    """``{notebook name without .ipynb: the names of its error outputs}`` of the graded
    notebooks in ``folder``."""
    import nbformat

    return {path.stem: {output["ename"] for cell in nbformat.read(path, as_version=4).cells
                        for output in cell.get("outputs", [])
                        if output.get("output_type") == "error" and "ename" in output}
            for path in Path(folder).glob("*.ipynb")}


def _notebooks_with_error(folder, ename):
    """The names (without .ipynb) of the graded notebooks with an error output ``ename``."""
    return {name for name, enames in _error_names(folder).items() if ename in enames}


def _execution_flags(folder):
    """Flags for kernel deaths, stuck cells and time limits seen in the graded notebooks."""
    seen = set().union(*_error_names(folder).values())
    return sorted({FLAGGED_ERRORS[name] for name in seen if name in FLAGGED_ERRORS})


# ---------------------------------------------------------------- the pool


def quiet_gradebook():
    """Hide the SQLAlchemy warnings that nbgrader's gradebook raises about its own session use.

    nbgrader 0.9 builds a submission's rows before its session holds them (``nbgrader/api.py``,
    ``update_or_create_submission``) and SQLAlchemy warns (``SAWarning``) on every submission,
    though nothing is lost. Only SAWarnings raised from nbgrader's own modules are hidden; call
    this in every process that uses the gradebook (the grading processes are spawned, not forked).
    """
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader(\.|$)")


def _grading_process(bundle, course_dir, settings, tasks, results):
    """A grading process of the pool: run ``task.grade_task`` on each task from the queue,
    until it sends None, and send back each ``task.Result``."""
    os.setpgrp()  # its own process group, so a watchdog can kill it with its kernels
    quiet_gradebook()
    _die_with_parent()
    single_threaded_blas()  # N kernels at once on N cores
    while True:
        item = tasks.get()
        if item is None:
            return
        assignment, student, submission, digest = item
        job = (assignment, student)
        results.put(("start", job, time.monotonic()))
        # if the watchdog has to kill this job, the stack shows where it was stuck
        stack = Path(course_dir) / WORK / "stuck" / assignment / f"{student}.txt"
        stack.parent.mkdir(parents=True, exist_ok=True)
        with open(stack, "w") as dump:
            faulthandler.dump_traceback_later(max(settings.job_limit() - 30, 1), file=dump)
            result = task.grade_task(bundle, assignment, student, submission, digest, settings)
            faulthandler.cancel_dump_traceback_later()
        if stack.stat().st_size == 0:
            stack.unlink()
        results.put(("done", job, result))


def _die_with_parent():
    """Ask Linux to kill this process if the grading run is killed (no orphan keeps grading)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Ctrl-C still stops the pool cleanly
        pass


class Pool:
    """N grading processes, with a watchdog on each task's wall-clock time."""

    def __init__(self, bundle, course_dir, settings, size):
        self.args = (str(bundle), str(course_dir), settings)
        self.settings = settings
        self.context = multiprocessing.get_context("spawn")
        self.results = self.context.Queue()
        self.processes = {}  # process -> its task queue
        for _ in range(size):
            self._spawn()

    def _spawn(self):
        tasks = self.context.Queue()
        process = self.context.Process(target=_grading_process, daemon=True,
                                       args=(*self.args, tasks, self.results))
        process.start()
        self.processes[process] = tasks
        return process

    def run(self, todo, on_result):
        """Grade every task of the iterable ``todo`` (``(assignment, student, submission,
        digest)``, taken from it only as a process is free); call ``on_result(result)`` with
        each ``task.Result`` as it comes back, a failed one for a task whose process died or
        ran out of time."""
        todo = iter(todo)
        busy = {}  # process -> (task, start time or None)
        hard_limit = self.settings.job_limit()
        while True:
            for process, tasks in list(self.processes.items()):
                if process not in busy:
                    item = next(todo, None)
                    if item is not None:
                        tasks.put(item)
                        busy[process] = (item, None)
            if not busy:
                return
            try:
                kind, job, payload = self.results.get(timeout=1)
            except queue.Empty:
                kind = None
            if kind == "start":
                process = self._owner(busy, job)
                busy[process] = (busy[process][0], payload)
            elif kind == "done":
                del busy[self._owner(busy, job)]
                on_result(payload)
            for process, (item, started) in list(busy.items()):
                overdue = started is not None and time.monotonic() - started > hard_limit
                if overdue or not process.is_alive():
                    self._replace(process)
                    del busy[process]
                    reason = (f"grading took longer than {hard_limit} s and was stopped"
                              if overdue else "the grading process died")
                    assignment, student, _, digest = item
                    on_result(task.failed(assignment, student, digest, "grader-killed", reason))

    @staticmethod
    def _owner(busy, job):
        return next(p for p, (item, _) in busy.items() if tuple(item[:2]) == tuple(job))

    def _replace(self, process):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.join(5)
        del self.processes[process]
        self._spawn()

    def close(self):
        for tasks in self.processes.values():
            tasks.put(None)
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:  # it ended meanwhile, or before it made its group
                    process.kill()


# ---------------------------------------------------------------- the run


class Progress:
    """A one-line progress bar on stderr: done / total, failures, time left."""

    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.failed, self.stream = total, 0, 0, stream
        self.start = time.monotonic()
        self.open = False  # a line is drawn, not yet ended

    def skip(self):
        """One job fewer to grade: its recorded outcome was current."""
        self.total -= 1

    def update(self, outcome):
        self.done += 1
        self.failed += outcome.status != "graded"
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * max(self.total - self.done, 0)
        width = 30
        bar = "#" * int(width * min(self.done / max(self.total, 1), 1))
        self.stream.write(f"\r[{bar:<{width}}] {self.done}/{self.total} graded, "
                          f"{self.failed} failed, ~{left:.0f} s left ")
        self.stream.flush()
        self.open = True
        if self.done == self.total:
            self.close()

    def close(self):
        """End the line, if one is drawn."""
        if self.open:
            self.stream.write("\n")
            self.open = False


def examined(course_dir, jobs, settings, force=False):
    """For each job in ``jobs``, in order and one at a time: ``(job, Outcome)`` when its
    recorded outcome is current, else ``(job, (submission, digest))``, the submission as
    intake read it (``intake.Submission``) and its fingerprint: the one reading of it that
    grading uses.

    A recorded outcome is current when the submission's files and the settings are those
    it was graded with, and it was graded, or it failed ``MAX_FAILURES`` times in a row
    (then it stays failed, and says so, until ``force`` grades it again).
    """
    submitted = Path(course_dir) / "submitted"
    for job in jobs:
        submission = read_submission(submitted / job[1] / job[0], root=submitted)
        digest = combined_fingerprint(submission.fingerprint(), settings)
        recorded = load_outcome(course_dir, *job)
        if recorded and recorded.fingerprint == digest and not force and (
                recorded.status == "graded" or recorded.failures >= MAX_FAILURES):
            if recorded.status == "failed":
                recorded.problems.append(
                    f"failed {recorded.failures} times in a row with these files and settings;"
                    " left alone (grade --force tries it again)")
            yield job, recorded
        else:
            yield job, (submission, digest)


def pending(course_dir, jobs, settings, force=False):
    """``examined``, split: ``({(assignment, student): Outcome}`` of the current ones, and
    the list of the jobs to grade)."""
    outcomes, todo = {}, []
    for job, found in examined(course_dir, jobs, settings, force):
        if isinstance(found, Outcome):
            outcomes[job] = found
        else:
            todo.append(job)
    return outcomes, todo


def grade_course(course_dir, parallel=None, assignment=None, student=None,
                 settings=None, force=False, progress=True):
    """Grade every submission under ``course_dir/submitted`` that needs it.

    Parameters
    ----------
    course_dir : path-like
    parallel : int, optional
        Submissions graded at a time, each by a grading process of its own; the number of
        cores by default.
    assignment, student : str, optional
        Only these.
    settings : Settings, optional
        The grading limits; the defaults of ``Settings`` when omitted.
    force : bool
        Regrade even submissions whose recorded outcome is current.
    progress : bool
        Show the progress bar.

    Returns
    -------
    list of Outcome
        One per submission, whether graded now or earlier, then one per folder of
        ``submitted/`` that was refused (``discover``).
    """
    course_dir = Path(course_dir).resolve()
    settings = settings or Settings()
    Course(course_dir)  # a clear error now, rather than one per job
    jobs, refused = discover(course_dir, assignment, student)
    outcomes = {}
    bar = Progress(len(jobs)) if progress else None

    def to_grade():
        """The jobs to grade, each read as it is handed to a grading process."""
        for job, found in examined(course_dir, jobs, settings, force):
            if not isinstance(found, Outcome):
                yield (*job, *found)
                continue
            outcomes[job] = found
            if bar:
                bar.skip()

    def recorded(outcome):
        outcomes[(outcome.assignment, outcome.student)] = outcome
        if bar:
            bar.update(outcome)

    todo = to_grade()
    first = next(todo, None)
    if first is not None:
        bundle = task.prepare(course_dir, sorted({name for name, _ in jobs}))
        size = min(parallel or os.cpu_count() or 1, len(jobs))
        with record.Recorders(course_dir) as recording:
            pool = Pool(bundle, course_dir, settings, size)
            try:
                pool.run(itertools.chain([first], todo),
                         lambda result: recording.submit(result, recorded))
            finally:
                pool.close()
    if bar:
        bar.close()
    return [outcomes[job] for job in jobs] + refused
