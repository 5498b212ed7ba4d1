"""Take a submission in: check it, and stage only the files a student submits.

The staged copy is what nbgrader grades. The submission itself is never
modified, so nothing is lost; every problem is reported by name.
"""

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .release import BEGIN

ALLOWED_LIBRARY = "nnlib"


@dataclass
class Intake:
    """What intake found in one submission.

    Attributes
    ----------
    staged : Path
        The folder nbgrader grades.
    problems : list of str
        Human-readable reasons, e.g. ``"01_perceptron.ipynb: invalid JSON ..."``.
    flags : list of str
        Short machine-readable tags, e.g. ``"invalid-json"``.
    """

    staged: Path
    problems: list = field(default_factory=list)
    flags: list = field(default_factory=list)

    def report(self, flag, problem):
        if flag not in self.flags:
            self.flags.append(flag)
        self.problems.append(problem)


def grade_ids(notebook):
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")]


def stage_submission(submitted, source, staged, release=None, own_module=None):
    """Copy what may be graded from ``submitted`` to ``staged``, checking it on the way.

    Only the notebooks and ``nnlib/*.py`` are taken. Other files the
    assignment provides are replaced by nbgrader with the instructor's copies;
    anything else is ignored and reported.

    Parameters
    ----------
    submitted : Path
        ``submitted/<student>/<assignment>``.
    source : Path
        ``source/<assignment>``: tells which notebooks and grade cells to expect.
    staged : Path
        Replaced by the staged copy.
    release : Path, optional
        ``release/<assignment>``: what the student was given. Changes to its
        locked cells and to nnlib modules other than ``own_module`` are reported
        (nbgrader grades with the originals).
    own_module : str, optional
        The nnlib module the student writes in this assignment.

    Returns
    -------
    Intake
    """
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    intake = Intake(staged)
    expected = sorted(p.name for p in source.glob("*.ipynb"))
    for name in expected:
        _stage_notebook(submitted / name, source / name, staged / name, intake)
        if release is not None and (staged / name).is_file():
            _report_locked_changes(staged / name, Path(release) / name, intake)
    _stage_library(submitted / ALLOWED_LIBRARY, staged / ALLOWED_LIBRARY, intake)
    if release is not None:
        _report_replaced_modules(staged / ALLOWED_LIBRARY, Path(release) / ALLOWED_LIBRARY,
                                 own_module, intake)
    if (submitted / "timestamp.txt").is_file():
        shutil.copy(submitted / "timestamp.txt", staged / "timestamp.txt")
    provided = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}
    ignored = sorted(
        relative for relative in (p.relative_to(submitted) for p in submitted.rglob("*")
                                  if p.is_file())
        if relative.as_posix() not in provided | {"timestamp.txt"}
        and not _is_library_file(relative)
        and not {".ipynb_checkpoints", "__pycache__"} & set(relative.parts))
    ignored = [relative.as_posix() for relative in ignored]
    if ignored:
        intake.report("ignored-files", f"files that are not part of a submission were ignored: "
                                       f"{', '.join(ignored)}")
    return intake


def _is_library_file(relative):
    return (len(relative.parts) == 2 and relative.parts[0] == ALLOWED_LIBRARY
            and relative.suffix == ".py")


def _stage_notebook(path, source_path, target, intake):
    name = path.name
    if not path.is_file():
        intake.report("missing-notebook", f"{name} is missing from the submission")
        return
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
            raise ValueError("it has no list of cells")
        notebook = nbformat.from_dict(raw)
    except (ValueError, UnicodeDecodeError) as error:
        intake.report("invalid-notebook", f"{name} is not a readable notebook ({error}); "
                                          f"it scores 0")
        return
    seen, duplicates = set(), 0
    for cell in notebook.cells:
        if cell.get("id") in seen or not cell.get("id"):
            cell["id"] = f"restored-{len(seen)}-{duplicates}"
            duplicates += 1
        seen.add(cell["id"])
    if duplicates:
        intake.report("duplicate-cell-ids", f"{name}: {duplicates} cell id(s) were duplicated or "
                                            f"missing and were renumbered")
    missing = restore_graded_cells(notebook, nbformat.read(source_path, as_version=4))
    if missing:
        intake.report("restored-cells", f"{name}: graded cell(s) {', '.join(missing)} were deleted "
                                        f"or lost their metadata; the originals were put back")
    nbformat.write(notebook, target)


def restore_graded_cells(notebook, source):
    """Put back graded cells missing from ``notebook``, after their source predecessor.

    nbgrader's own ``OverwriteCells.add_missing_cells`` assumes the cell
    before a missing one is a grade or solution cell, and fails on our
    locked set-up cell; this does the same job for any predecessor, found by
    grade_id or by cell id.

    Returns
    -------
    list of str
        The grade_ids put back.
    """
    def key(cell):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        return grade_id or f"id:{cell.get('id')}"

    restored = []
    for position, cell in enumerate(source.cells):
        if not cell.metadata.get("nbgrader", {}).get("grade") or key(cell) in grade_ids(notebook):
            continue
        present = [key(c) for c in notebook.cells]
        before = [key(c) for c in source.cells[:position] if key(c) in present]
        index = present.index(before[-1]) + 1 if before else 0
        copy = nbformat.from_dict(json.loads(json.dumps(cell)))
        copy["id"] = f"restored-{key(cell)}"
        notebook.cells.insert(index, copy)
        restored.append(key(cell))
    return restored


LOCKED_KEYS = ("grade", "solution", "locked", "points", "task")


def _report_locked_changes(staged, given, intake):
    """Report locked cells (tests, set-up) whose code or grading metadata was changed."""
    if not given.is_file():
        return
    original = {c.metadata["nbgrader"]["grade_id"]: c for c in nbformat.read(given, 4).cells
                if c.metadata.get("nbgrader", {}).get("locked")}
    changed = []
    for cell in nbformat.read(staged, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        before = original.get(meta.get("grade_id"))
        if before is None:
            continue
        old = before.metadata["nbgrader"]
        if cell.source != before.source or any(meta.get(k) != old.get(k) for k in LOCKED_KEYS):
            changed.append(meta["grade_id"])
    if changed:
        intake.report("modified-locked-cells", f"{staged.name}: locked cell(s) "
                                               f"{', '.join(changed)} were changed; they are "
                                               "graded as released")


def _report_replaced_modules(staged, given, own_module, intake):
    """Report nnlib modules, other than the student's own, that differ from the release."""
    changed = [path.name for path in sorted(staged.glob("*.py"))
               if path.stem != own_module and (given / path.name).is_file()
               and path.read_bytes() != (given / path.name).read_bytes()]
    if changed:
        intake.report("replaced-files", f"nnlib/{', nnlib/'.join(changed)} differ from the "
                                        "release; the course's copies are used instead")


def _stage_library(folder, target, intake):
    if not folder.is_dir():
        return
    target.mkdir()
    for path in sorted(folder.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            compile(text, f"nnlib/{path.name}", "exec")
        except SyntaxError as error:
            intake.report("nnlib-syntax-error", f"nnlib/{path.name} line {error.lineno}: "
                                                f"{error.msg}; it cannot be imported")
        if BEGIN in text:
            intake.report("solution-markers", f"nnlib/{path.name} contains solution markers")
        shutil.copy(path, target / path.name)
