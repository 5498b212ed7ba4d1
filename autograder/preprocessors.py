"""nbgrader preprocessors that make autograding fair to correct code.

They slot into nbgrader's own ``Autograde.autograde_preprocessors`` list in
place of, and right after, its ``Execute``:

- ``ResilientExecute`` runs each cell like ``Execute``, but a cell that kills
  the kernel or will not stop when interrupted only fails itself: the kernel
  is restarted, the cells that ran fine are replayed, and grading goes on.
  It also enforces a wall-clock limit per notebook, and skips what only
  draws: the course's demonstration cells (tagged ``demo``), which no test
  depends on, and ``%matplotlib`` lines. A set-up cell (before the first
  graded or answer cell) that times out, hangs or kills the kernel is run once
  more in a new kernel; if it fails so again, every cell below fails at once,
  since all of them need it: a library that hangs on import costs two cell
  timeouts, not one per cell. Afterwards it puts the kernels' working folder back
  as it was before they ran (``restore_folder``), so that nothing they wrote, replaced
  or linked reaches the course; what it had to stop, and how long the kernel ran, it
  reports on the grader's own channel (``Reports``).
- ``ForgiveStderr`` keeps warnings printed on stderr by a test cell from
  costing its points (nbgrader scores any stderr output as a failure).
"""

import copy
import json
import os
import shutil
from pathlib import Path
from queue import Empty
from time import monotonic

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, List, Unicode

from .inert import shown
from .intake import read_submission
from .kernel import GRADER_KEEPS
from .settings import DISK_FULL_BYTES, Settings

# Error names this module writes into outputs; the grader's report looks for them.
KERNEL_DIED = "KernelDied"
KERNEL_STUCK = "KernelUnresponsive"
SETUP_HUNG = "SetupFailedTwice"  # the set-up hung or killed the kernel again in a new one
TIME_LIMIT = "SubmissionTimeLimit"
OUTPUT_CUT = "output-cut"  # the grader's report (and flag) that a cell's output was cut
DISK_FULL = "disk-full"  # ... and that the kernel left its working folder's disk full
KERNEL_SECONDS = "kernel-seconds"  # ... and how long a notebook's kernel run took
LINKS_REMOVED = "links-removed"  # ... and that the kernels left symbolic links in their folder
CELL_TIMEOUT = "CellTimeoutError"  # nbgrader's own name for a cell that timed out
TRUSTED_FAILED = "TrustedCheckFailed"  # the trusted run of visible tests failed, the kernel run not
HIDDEN_FAILED = "HiddenTestFailed"  # a hidden test failed in the trusted run (never in the kernel)


class Reports:
    """The grader's own reports on one submission: JSON lines in a file that the grading
    process alone writes, in a folder no sandbox sees (``grade.reports_path``). What a
    student's code prints, on any stream, never lands there, so it cannot forge one.
    """

    def __init__(self, path):
        self.path = Path(path) if path else None

    def add(self, kind, **fields):
        if self.path is not None:
            with open(self.path, "a") as stream:
                stream.write(json.dumps({"kind": kind, **fields}) + "\n")

    def read(self, kind=None):
        """Every report (of ``kind``), in order."""
        try:
            lines = self.path.read_text().splitlines() if self.path else []
        except OSError:
            return []
        found = [json.loads(line) for line in lines if line.strip()]
        return [r for r in found if kind is None or r.get("kind") == kind]


def error_output(name, message):
    """An error output like the ones a kernel produces."""
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


class ResilientExecute(Execute):
    """nbgrader's ``Execute`` that survives dead and stuck kernels, cell by cell."""

    submission_timeout = Integer(
        Settings().submission_timeout,
        help="Wall-clock seconds for a whole notebook; cells not reached score 0."
    ).tag(config=True)

    max_restarts = Integer(
        3, help="Kernel restarts allowed per notebook before the remaining cells are skipped."
    ).tag(config=True)

    responsive_timeout = Integer(
        5, help="Seconds an interrupted kernel has to answer before it is restarted."
    ).tag(config=True)

    skip_magics = List(
        Unicode(), ["%matplotlib"],
        help="Lines starting with these are left out when a cell runs: no one sees figures "
        "while grading, and the interactive backend costs a second per notebook.",
    ).tag(config=True)

    skip_tags = List(
        Unicode(), ["demo"],
        help="Cells with one of these tags and no nbgrader metadata are not run: the "
        "course's demonstrations and explorers, which no test depends on.",
    ).tag(config=True)

    max_output_chars = Integer(
        GRADER_KEEPS, help="Output kept per cell; the rest is dropped as it arrives, so a "
        "cell that prints without end cannot exhaust the grader's memory (the kernel itself "
        "sends at most twice as much, ``kernel.KERNEL_KEEPS``).",
    ).tag(config=True)

    reports_file = Unicode("", help="Append the grader's reports (``Reports``) to this file: "
                           "what it had to stop, and how long each notebook ran.").tag(config=True)

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``max_output_chars`` of each cell's output: of the printed text that
        crosses the limit, the part before it, then a line saying the rest was cut."""
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str))
        used = self._output_used.get(cell_index, 0)
        self._output_used[cell_index] = used + size
        if used + size <= self.max_output_chars:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.max_output_chars:  # the first output over the limit
            room = self.max_output_chars - used
            if msg.get("msg_type") == "stream" and isinstance(content.get("text"), str):
                kept = {**msg, "content": {**content, "text": content["text"][:room]}}
                super().output(outs, kept, display_id, cell_index)
            outs.append(new_output("stream", name="stdout", text=(
                f"\n[output cut: more than {self.max_output_chars} characters]\n")))
            Reports(self.reports_file).add(OUTPUT_CUT, text=(
                f"output of cell {cell_index} cut at {self.max_output_chars} characters"))
        return None

    def preprocess(self, nb, resources=None, km=None):
        """Execute every code cell, recovering from kernel deaths and stuck cells."""
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self._output_used = {}
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        path = self.resources.get("metadata", {}).get("path")  # the kernel's working folder
        folder = Path(path) if path else None
        before = read_submission(folder) if folder else None  # nothing there is a link yet
        started = monotonic()
        cell_timeout, deadline = self.timeout, started + self.submission_timeout
        ran_fine, start, restarts, failed_setup = [], 0, 0, None
        while start < len(self.nb.cells):
            if restarts > self.max_restarts:
                self._skip(start, KERNEL_DIED, "not run: the kernel had to be restarted "
                           f"{restarts - 1} times in this notebook")
                break
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                self._replay(ran_fine)
                start = self._run_from(start, ran_fine, cell_timeout, deadline, resources)
            if self._failed_setup(start - 1):
                if failed_setup == start - 1:  # the second time, in a new kernel
                    self._skip(start, SETUP_HUNG, f"not run: the set-up cell above (cell "
                               f"{start - 1}) did not finish twice, the second time in a new "
                               "kernel, and every cell below needs it (does the library hang "
                               "or crash when it is imported?)")
                    break
                failed_setup, start = start - 1, start - 1  # once more, in a new kernel
            restarts += 1
        self.timeout = cell_timeout
        self.set_widgets_metadata()
        reports = Reports(self.reports_file)
        reports.add(KERNEL_SECONDS, notebook=self.resources.get("unique_key", ""),
                    seconds=round(monotonic() - started, 3))
        if folder is not None:  # nbgrader always names it; a bare run in this folder keeps all
            if shutil.disk_usage(folder).free < DISK_FULL_BYTES:
                reports.add(DISK_FULL, text=f"the kernel left less than {DISK_FULL_BYTES} bytes "
                            "free where it runs")
            links = restore_folder(folder, before)
            if links:
                reports.add(LINKS_REMOVED, text="the kernel left symbolic links in its working "
                            "folder, removed unread: " + ", ".join(links[:10]))
        return self.nb, self.resources

    def _run_from(self, start, ran_fine, cell_timeout, deadline, resources):
        """Run cells from ``start``; return where to resume after a restart (or the end)."""
        for index in range(start, len(self.nb.cells)):
            cell = self.nb.cells[index]
            if cell.cell_type != "code" or self._skipped(cell):
                continue
            remaining = deadline - monotonic()
            if remaining < 1:
                self._skip(index, TIME_LIMIT, "not run: the notebook's time limit of "
                           f"{self.submission_timeout} s was reached")
                return len(self.nb.cells)
            self.timeout = int(min(cell_timeout or remaining, remaining))
            runnable = self._for_grading(cell)
            try:
                self.preprocess_cell(runnable, resources, index)
            except DeadKernelError:
                cell.outputs = runnable.outputs + [error_output(
                    KERNEL_DIED, "the kernel died while running this cell (os._exit, a crash "
                    "or running out of memory); it was restarted for the cells below")]
                return index + 1
            except CellTimeoutError:  # no output at all before the timeout
                runnable.outputs.append(error_output(
                    CELL_TIMEOUT, f"this cell did not finish within {self.timeout} s"))
            cell.outputs, cell.execution_count = runnable.outputs, runnable.execution_count
            if self._timed_out(cell) and not self._responsive():
                cell.outputs.append(error_output(
                    KERNEL_STUCK, f"this cell ran past {self.timeout} s and did not stop when "
                    "interrupted; the kernel was restarted for the cells below"))
                return index + 1
            if self._timed_out(cell) and self._failed_setup(index):
                return index + 1  # a set-up that timed out is tried once more, in a new kernel
            if not any(out.output_type == "error" for out in cell.outputs):
                ran_fine.append(index)
        return len(self.nb.cells)

    def _failed_setup(self, index):
        """Did cell ``index``, a set-up cell, time out, hang or kill the kernel?"""
        if not 0 <= index < len(self.nb.cells):
            return False
        graded = [i for i, cell in enumerate(self.nb.cells)
                  if utils.is_grade(cell) or utils.is_solution(cell)]
        if index >= (graded[0] if graded else len(self.nb.cells)):
            return False
        return any(out.output_type == "error" and out.ename in (CELL_TIMEOUT, KERNEL_STUCK,
                                                                  KERNEL_DIED)
                   for out in self.nb.cells[index].outputs)

    def _for_grading(self, cell):
        """The cell itself, or a copy without the lines of ``skip_magics``."""
        lines = cell.source.splitlines()
        kept = [line for line in lines if not line.lstrip().startswith(tuple(self.skip_magics))]
        if len(kept) == len(lines):
            return cell
        runnable = copy.deepcopy(cell)
        runnable.source = "\n".join(kept)
        return runnable

    def _skipped(self, cell):
        return is_demo(cell, self.skip_tags)

    def _replay(self, indices):
        """Re-run cells that succeeded before a restart, discarding their outputs."""
        for index in indices:
            try:
                self.execute_cell(copy.deepcopy(self._for_grading(self.nb.cells[index])), index,
                                  store_history=False)
            except DeadKernelError:  # pragma: no cover - the cell behaved differently this time
                return

    def _skip(self, start, name, message):
        for cell in self.nb.cells[start:]:
            if cell.cell_type == "code":
                cell.outputs = [error_output(name, message)]

    @staticmethod
    def _timed_out(cell):
        return any(out.output_type == "error" and out.ename == CELL_TIMEOUT
                   for out in cell.outputs)

    def _responsive(self):
        """Does the kernel answer a request within ``responsive_timeout`` seconds?"""
        msg_id = self.kc.kernel_info()
        deadline = monotonic() + self.responsive_timeout

        async def answered():
            while monotonic() < deadline:
                try:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=0.25))
                except Empty:
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    return True
            return False

        return run_sync(answered)()


def restore_folder(folder, before):
    """Put ``folder`` back as ``before`` (an ``intake.Submission`` read of it) holds it.

    Everything in it goes first, without following a link: what the kernels wrote, and
    any file they replaced, emptied or turned into a link (to the course's solutions, say,
    which nbgrader would then change the mode of, or publish). Then the folders and files
    the grader put there are written again from the copy read before the kernels ran. So
    nothing the kernels left reaches the course, nbgrader has room to write the graded
    notebook, and the trusted run after it has the submission's disk (``enclosure``).

    Returns
    -------
    list of str
        The links the kernels left, as ``path -> target`` (escaped for a report).
    """
    links = []
    for parent, folders, files in os.walk(folder):  # never into a link
        for name in folders + files:
            path = os.path.join(parent, name)
            if os.path.islink(path):
                links.append(shown(f"{os.path.relpath(path, folder)} -> {os.readlink(path)}",
                                   limit=300))
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    for relative in sorted(before.folders):
        (folder / relative).mkdir(parents=True, exist_ok=True)
    for relative, data in before.files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    return sorted(links)


def is_demo(cell, tags=("demo",)):
    """A demonstration cell: tagged so, and without nbgrader metadata. No test needs it."""
    tagged = set(cell.metadata.get("tags", [])) & set(tags)
    return bool(tagged) and not cell.metadata.get("nbgrader")


class ForgiveStderr(NbGraderPreprocessor):
    """Relabel stderr output of grade cells as stdout, so warnings cost nothing.

    nbgrader gives 0 points to a test cell with any stderr output, such as a
    numpy RuntimeWarning from an otherwise correct answer. The text is kept
    (the student still sees it in the feedback); only errors lose points.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
                    output.text = "[printed on stderr]\n" + output.text
        return cell, resources


class HideTestCode(NbGraderPreprocessor):
    """Feedback without the code of the tests (nbgrader issues #917 and #1363).

    Each test cell is replaced by its name, pass or fail, and the hint of its
    failure message; tracebacks and printed values, which can show the hidden
    tests, are dropped.
    """

    min_line = 20  # shorter lines of test code are too common to count as a leak

    def preprocess(self, nb, resources):
        """Remember the lines of every test, then hide them everywhere."""
        self._test_lines = {
            line.strip() for cell in nb.cells if cell.cell_type == "code"
            and utils.is_grade(cell) and not utils.is_solution(cell)
            for line in cell.source.splitlines() if len(line.strip()) >= self.min_line}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and not (utils.is_grade(cell) and not utils.is_solution(cell)):
            return self._without_test_code(cell), resources
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        errors = [out for out in cell.outputs if out.output_type == "error"]
        name = cell.metadata["nbgrader"]["grade_id"]
        points = cell.metadata["nbgrader"].get("points", 0)
        verdict = "failed" if errors else "passed"
        cell.source = f"# {name} ({points:g} points): {verdict}"
        text = verdict
        if errors:
            text += f"\nHint: {self._hint(errors[-1])}"
        cell.outputs = [new_output("stream", name="stdout", text=text + "\n")]
        return cell, resources

    def _without_test_code(self, cell):
        """Drop outputs of the student's own cells that show a line of a test."""
        kept = []
        for output in cell.get("outputs", []):
            text = json.dumps(output.get("text", "")) + json.dumps(output.get("data", {}))
            text += json.dumps(output.get("traceback", []))
            if any(json.dumps(line)[1:-1] in text for line in getattr(self, "_test_lines", ())):
                kept.append(new_output("stream", name="stdout", text=(
                    "[output removed: it showed code of the tests]\n")))
            else:
                kept.append(output)
        cell.outputs = kept
        return cell

    @staticmethod
    def _hint(error):
        if error.ename in FEEDBACK_SAFE_ERRORS:
            return error.evalue or "the cell did not finish in time; look for an endless loop"
        lines = [line for line in str(error.evalue).splitlines() if line.startswith("Hint:")]
        if lines:
            return lines[-1][len("Hint:"):].strip()
        if error.ename == HIDDEN_FAILED:  # its message may hold the hidden test's values
            return "a hidden test failed; test your function on more inputs of your own"
        if error.ename in NOT_DONE_ERRORS:
            return f"not implemented yet ({error.evalue})"
        return f"the test raised {error.ename}; run the visible tests in your notebook"


# A stub's error (nnlib's ExerciseNotDone, or a plain one) says only which exercise is missing.
NOT_DONE_ERRORS = {"NotImplementedError", "ExerciseNotDone"}
# Our own error messages say nothing about the tests, so feedback may show them.
FEEDBACK_SAFE_ERRORS = {KERNEL_DIED, KERNEL_STUCK, SETUP_HUNG, TIME_LIMIT, CELL_TIMEOUT,
                        TRUSTED_FAILED}
