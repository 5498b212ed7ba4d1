"""Autograde every submission of a course: in parallel, resumable, nothing lost.

Each submission (one student, one assignment) is a *job*:

1. intake stages only the files a student submits and reports problems;
2. nbgrader's ``Autograde`` grades the staged copy, with ``ResilientExecute``
   and ``ForgiveStderr`` in its pipeline;
3. the outcome is written to ``autograder_work/results/<assignment>/<student>.json``.

Jobs run in a pool of worker processes that import nbgrader once. A job that
outlives its wall-clock limit has its worker killed (with its kernels) and is
recorded as failed. A job whose submission and settings have not changed
since it was graded is skipped, so a killed run resumes where it stopped,
and a second run changes nothing (failed jobs are tried again).
"""

import faulthandler
import hashlib
import json
import multiprocessing
import os
import queue
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import course as course_module
from .intake import stage_submission
from .notebooks import single_threaded_blas
from .preprocessors import (
    CELL_TIMEOUT,
    KERNEL_DIED,
    KERNEL_STUCK,
    OUTPUT_CUT,
    TIME_LIMIT,
    TRUSTED_FAILED,
    error_output,
)

WORK = "autograder_work"
FLAGGED_ERRORS = {KERNEL_DIED: "kernel-died", KERNEL_STUCK: "kernel-unresponsive",
                  CELL_TIMEOUT: "cell-timeout", TIME_LIMIT: "time-limit",
                  "MemoryError": "out-of-memory", "RecursionError": "recursion-limit"}


@dataclass(frozen=True)
class Settings:
    """Grading limits; part of every job's fingerprint."""

    cell_timeout: int = 30
    submission_timeout: int = 600
    memory_mb: int = 3072
    processes: int = 96
    file_size_mb: int = 64

    def job_limit(self):
        """Wall-clock seconds after which the watchdog kills a grading job."""
        return self.submission_timeout * 2 + 120

    def limits(self):
        """The sandbox's limits for these settings."""
        from .sandbox import Limits

        return Limits(cpu_seconds=self.submission_timeout + 60, memory_mb=self.memory_mb,
                      processes=self.processes, file_size_mb=self.file_size_mb)


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
    verdicts: dict = field(default_factory=dict)  # grade_id -> {"nbgrader", "trusted", "message"}
    events: list = field(default_factory=list)  # what the sandbox reported


def discover(course_dir, assignment=None, student=None):
    """All (assignment, student) pairs under ``submitted/``, sorted."""
    submitted = Path(course_dir) / "submitted"
    jobs = []
    for student_dir in sorted(p for p in submitted.glob("*") if p.is_dir()):
        for assignment_dir in sorted(p for p in student_dir.glob("*") if p.is_dir()):
            if assignment in (None, assignment_dir.name) and student in (None, student_dir.name):
                jobs.append((assignment_dir.name, student_dir.name))
    return jobs


def fingerprint(folder, settings):
    """A hash of every file of a submission and of the grading settings."""
    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
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
    """Write an outcome atomically: a reader sees the old file or the new one."""
    path = result_path(course_dir, outcome.assignment, outcome.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(outcome), indent=1))
    os.replace(partial, path)


# ---------------------------------------------------------------- one job


def grading_config(course_dir, settings):
    """The course's nbgrader config plus the grader's pipeline and limits."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from .preprocessors import ForgiveStderr, ResilientExecute
    from .sandbox import SandboxedKernelManager

    config = course_module.load_config(course_dir)
    config.CourseDirectory.submitted_directory = f"{WORK}/intake"
    # intake already put back deleted graded cells (see intake.restore_graded_cells)
    config.Autograde.autograde_preprocessors = [
        ResilientExecute, ForgiveStderr, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    config.ResilientExecute.timeout = settings.cell_timeout
    config.ResilientExecute.submission_timeout = settings.submission_timeout
    config.ResilientExecute.shutdown_kernel = "immediate"
    config.ResilientExecute.kernel_manager_class = SandboxedKernelManager
    limits = settings.limits()
    config.SandboxedKernelManager.cpu_seconds = limits.cpu_seconds
    config.SandboxedKernelManager.memory_mb = limits.memory_mb
    config.SandboxedKernelManager.processes = limits.processes
    config.SandboxedKernelManager.file_size_mb = limits.file_size_mb
    return config


def events_path(course_dir, assignment, student):
    return Path(course_dir) / WORK / "events" / assignment / f"{student}.log"


def grade_job(course_dir, assignment, student, settings):
    """Grade one submission with nbgrader; never raises, always returns an Outcome."""
    from nbgrader.api import Gradebook

    from . import sandbox
    from .trusted import trusted_verdicts

    start = time.perf_counter()
    course_dir = Path(course_dir).resolve()
    submitted = course_dir / "submitted" / student / assignment
    outcome = Outcome(assignment, student, "graded",
                      fingerprint=fingerprint(submitted, settings), sandbox=sandbox.detect())
    events = events_path(course_dir, assignment, student)
    try:
        events.parent.mkdir(parents=True, exist_ok=True)
        events.write_bytes(b"")
        own = {name: module for name, _, module in course_module.assignments()}.get(assignment)
        intake = stage_submission(submitted, course_dir / "source" / assignment,
                                  course_dir / WORK / "intake" / student / assignment,
                                  release=course_dir / "release" / assignment, own_module=own)
        outcome.problems, outcome.flags = intake.problems, intake.flags
        config = grading_config(course_dir, settings)
        config.SandboxedKernelManager.events_file = str(events)
        config.ResilientExecute.events_file = str(events)
        graded = False
        if any(intake.staged.glob("*.ipynb")):
            api = course_module.load_api(course_dir, config)
            result = api.autograde(assignment, student, force=True, create=True)
            if not result["success"]:  # a passing failure of nbgrader's: try again, say so
                first = _last_error(result)
                result = api.autograde(assignment, student, force=True, create=True)
                second = "graded it" if result["success"] else "failed too"
                outcome.problems.append(f"nbgrader failed on the first try ({first}); "
                                        f"the second try {second}")
            graded = result["success"]
            if not graded:
                outcome.status = "failed"
                outcome.problems.append("nbgrader could not grade it: " + _last_error(result))
        outcome.flags += _execution_flags(course_dir / "autograded" / student / assignment)
        trusted = {}
        if graded:
            trusted = trusted_verdicts(course_dir / "source" / assignment, intake.staged, own,
                                       events, settings.limits(), timeout=settings.cell_timeout)
        with Gradebook(config.CourseDirectory.db_url,
                       config.CourseDirectory.course_id) as gradebook:
            gradebook.update_or_create_student(student)
            if graded:
                _combine_verdicts(gradebook, assignment, student, trusted, outcome)
                _mark_overruled(course_dir / "autograded" / student / assignment, trusted,
                                outcome)
            submission = gradebook.update_or_create_submission(assignment, student)
            outcome.score, outcome.max_score = submission.score, submission.max_score
        outcome.events = sandbox.read_events(events)
        cut = [event.startswith(OUTPUT_CUT) for event in outcome.events]
        if any(cut):
            outcome.flags.append("output-cut")
        if not all(cut):
            outcome.flags.append("sandbox-events")
        if outcome.events:
            outcome.problems += [f"the sandbox reported: {event}" for event in outcome.events]
    except Exception as error:  # a job must always leave a record behind
        outcome.status = "failed"
        outcome.problems.append(f"grading crashed: {type(error).__name__}: {error}")
    outcome.seconds = round(time.perf_counter() - start, 2)
    return outcome


def _combine_verdicts(gradebook, assignment, student, trusted, outcome):
    """A test cell keeps its points only if the trusted check passed too; record both."""
    from nbgrader.api import MissingEntry

    for grade_id, verdict in trusted.items():
        try:
            grade = gradebook.find_grade(grade_id, verdict.notebook, assignment, student)
        except MissingEntry:  # the notebook was not graded
            continue
        cell = grade.cell
        if grade.auto_score is None or not cell.max_score:
            continue
        if verdict.suspicious and "suspicious-values" not in outcome.flags:
            outcome.flags.append("suspicious-values")
            outcome.problems.append(f"suspicious values: {cell.name}: {verdict.message}")
        in_notebook = grade.auto_score >= cell.max_score
        outcome.verdicts[cell.name] = {"nbgrader": in_notebook, "trusted": verdict.passed,
                                       "message": verdict.message}
        if in_notebook and not verdict.passed:
            grade.auto_score = 0.0
            outcome.problems.append(
                f"suspected tampering: {cell.name} passed its tests in the notebook, but the "
                f"trusted check failed: {verdict.message}")
        elif verdict.passed and not in_notebook:
            outcome.problems.append(
                f"suspected tampering: {cell.name} failed its tests in the notebook, but the "
                "trusted check passed (0 points; look at the notebook)")
        else:
            continue
        if "suspected-tampering" not in outcome.flags:
            outcome.flags.append("suspected-tampering")
    gradebook.db.commit()


def _mark_overruled(folder, trusted, outcome):
    """Show, in the graded notebook, each test the trusted check overruled and why.

    Formgrader and the feedback then say "failed" with the check's message
    (which names what was checked, never hidden values) instead of "passed".
    """
    import nbformat

    overruled = {name for name, v in outcome.verdicts.items() if v["nbgrader"] and not v["trusted"]}
    for name in {trusted[grade_id].notebook for grade_id in overruled}:
        path = Path(folder) / f"{name}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in overruled:
                cell.outputs.append(error_output(
                    TRUSTED_FAILED, f"{trusted[grade_id].message}\nHint: the grader checked "
                    "your functions again outside the notebook, and they failed there"))
        nbformat.write(notebook, path)


def _add_students(course_dir, students):
    """Put every student in the gradebook first: two workers grading two assignments of a new
    student would otherwise both try to add them, and one of them would fail."""
    from nbgrader.api import Gradebook

    config = course_module.load_config(course_dir)
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gradebook:
        for student in sorted(students):
            gradebook.update_or_create_student(student)


def _last_error(result):
    """The gist of nbgrader's failure: its error lines and the exceptions it names."""
    text = "\n".join(filter(None, [result.get("log"), result.get("error")])).splitlines()
    gist = [line.strip() for line in text if "ERROR" in line or
            (line[:1].isalpha() and ("Error:" in line or "Exception:" in line))]
    gist = list(dict.fromkeys(gist))[-6:]
    return " | ".join(gist) if gist else (text[-1] if text else "no details")


def _execution_flags(folder):
    """Flags for kernel deaths, stuck cells and time limits seen in the graded notebooks."""
    import nbformat

    flags = set()
    for path in Path(folder).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") in FLAGGED_ERRORS:
                    flags.add(FLAGGED_ERRORS[output["ename"]])
    return sorted(flags)


# ---------------------------------------------------------------- the pool


def _worker(course_dir, settings, jobs, results):
    """A worker process: grade jobs from the queue until it sends None."""
    os.setpgrp()  # its own process group, so a watchdog can kill it with its kernels
    _die_with_parent()
    single_threaded_blas()  # N kernels at once on N cores
    while True:
        job = jobs.get()
        if job is None:
            return
        results.put(("start", job, time.monotonic()))
        # if the watchdog has to kill this job, the stack shows where it was stuck
        stack = Path(course_dir) / WORK / "stuck" / job[0] / f"{job[1]}.txt"
        stack.parent.mkdir(parents=True, exist_ok=True)
        with open(stack, "w") as dump:
            faulthandler.dump_traceback_later(max(settings.job_limit() - 30, 1), file=dump)
            outcome = grade_job(course_dir, *job, settings)
            faulthandler.cancel_dump_traceback_later()
        if stack.stat().st_size == 0:
            stack.unlink()
        save_outcome(course_dir, outcome)
        results.put(("done", job, outcome))


def _die_with_parent():
    """Ask Linux to kill this worker if the grading run is killed (no orphan keeps grading)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Ctrl-C still stops the pool cleanly
        pass


class Pool:
    """N worker processes with a watchdog on each job's wall-clock time."""

    def __init__(self, course_dir, settings, workers):
        self.course_dir, self.settings = course_dir, settings
        self.context = multiprocessing.get_context("spawn")
        self.results = self.context.Queue()
        self.workers = {}  # process -> its job queue
        for _ in range(workers):
            self._spawn()

    def _spawn(self):
        jobs = self.context.Queue()
        process = self.context.Process(target=_worker, daemon=True,
                                       args=(self.course_dir, self.settings, jobs, self.results))
        process.start()
        self.workers[process] = jobs
        return process

    def run(self, todo, on_done):
        """Grade every job in ``todo``; call ``on_done(outcome)`` as each finishes."""
        todo = list(todo)
        busy = {}  # process -> (job, start time or None)
        hard_limit = self.settings.job_limit()
        while todo or busy:
            for process, jobs in list(self.workers.items()):
                if process not in busy and todo:
                    job = todo.pop(0)
                    jobs.put(job)
                    busy[process] = (job, None)
            try:
                kind, job, payload = self.results.get(timeout=1)
            except queue.Empty:
                kind = None
            if kind == "start":
                process = self._owner(busy, job)
                busy[process] = (job, payload)
            elif kind == "done":
                del busy[self._owner(busy, job)]
                on_done(payload)
            for process, (job, started) in list(busy.items()):
                overdue = started is not None and time.monotonic() - started > hard_limit
                if overdue or not process.is_alive():
                    self._replace(process)
                    del busy[process]
                    reason = (f"grading took longer than {hard_limit} s and was stopped"
                              if overdue else "the grading worker died")
                    outcome = Outcome(job[0], job[1], "failed", problems=[reason],
                                      flags=["grader-killed"])
                    save_outcome(self.course_dir, outcome)
                    on_done(outcome)

    @staticmethod
    def _owner(busy, job):
        return next(p for p, (j, _) in busy.items() if j == tuple(job))

    def _replace(self, process):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.join(5)
        del self.workers[process]
        self._spawn()

    def close(self):
        for jobs in self.workers.values():
            jobs.put(None)
        for process in self.workers:
            process.join(10)
            if process.is_alive():
                os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------- the run


class Progress:
    """A one-line progress bar on stderr: done / total, failures, time left."""

    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.failed, self.stream = total, 0, 0, stream
        self.start = time.monotonic()

    def update(self, outcome):
        self.done += 1
        self.failed += outcome.status != "graded"
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        width = 30
        bar = "#" * int(width * self.done / max(self.total, 1))
        self.stream.write(f"\r[{bar:<{width}}] {self.done}/{self.total} graded, "
                          f"{self.failed} failed, ~{left:.0f} s left ")
        self.stream.flush()
        if self.done == self.total:
            self.stream.write("\n")


def grade_course(course_dir, workers=None, assignment=None, student=None,
                 settings=Settings(), force=False, progress=True):
    """Grade every submission under ``course_dir/submitted`` that needs it.

    Parameters
    ----------
    course_dir : path-like
    workers : int, optional
        Submissions graded at a time; the number of cores by default.
    assignment, student : str, optional
        Only these.
    settings : Settings
    force : bool
        Regrade even submissions whose recorded outcome is current.
    progress : bool
        Show the progress bar.

    Returns
    -------
    list of Outcome
        One per submission, whether graded now or earlier.
    """
    course_dir = Path(course_dir).resolve()
    jobs = discover(course_dir, assignment, student)
    outcomes, todo = {}, []
    for job in jobs:
        recorded = load_outcome(course_dir, *job)
        current = fingerprint(course_dir / "submitted" / job[1] / job[0], settings)
        if (recorded and recorded.status == "graded" and recorded.fingerprint == current
                and not force):
            outcomes[job] = recorded
        else:
            todo.append(job)
    if todo:
        bar = Progress(len(todo)) if progress else None

        def done(outcome):
            outcomes[(outcome.assignment, outcome.student)] = outcome
            if bar:
                bar.update(outcome)

        _add_students(course_dir, {student for _, student in todo})
        pool = Pool(course_dir, settings, min(workers or os.cpu_count() or 1, len(todo)))
        try:
            pool.run(todo, done)
        finally:
            pool.close()
    return [outcomes[job] for job in jobs]
