"""Take a submission in: check it, and stage only the files a student submits.

The staged copy is what nbgrader grades. The submission itself is never
modified, so nothing is lost; every problem is reported by name.

A submission is untrusted bytes: it is read once, by ``read_submission``,
which never follows a symbolic link and reads nothing but regular files.
Everything after that works on the listing it returns, never on the
submission's paths.
"""

import errno
import hashlib
import itertools
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from .inert import shown
from .release import BEGIN

ALLOWED_LIBRARY = "nnlib"
SKIPPED = frozenset({".ipynb_checkpoints", "__pycache__"})

# Limits on what one submission may make intake hold in memory.
MAX_FILE_BYTES = 64 * 2**20
MAX_TOTAL_BYTES = 256 * 2**20
MAX_ENTRIES = 10_000  # files and folders
MAX_DEPTH = 32  # folders inside folders
# A notebook is parsed only this far: lists and objects nested deeper (a course notebook goes
# 7 deep, a widget's saved state about 12) are refused before nbformat recurses into them.
MAX_NOTEBOOK_DEPTH = 64

KINDS = {stat.S_IFLNK: "a symbolic link", stat.S_IFIFO: "a named pipe",
         stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


@dataclass
class Submission:
    """What a submission folder holds, as ``read_submission`` found it.

    Attributes
    ----------
    files : dict of str to bytes
        Relative POSIX path -> content, for every regular file read.
    refused : list of (str, str)
        Relative path and reason, e.g. ``("nnlib", "a symbolic link")``, for
        every entry that was not read. ``"."`` is the submission folder itself.
    folders : list of str
        Relative paths of the real folders read (they may be empty).
    """

    files: dict[str, bytes] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)

    def fingerprint(self):
        """A sha256 hex digest of the files, the folders and the refused entries."""
        digest = hashlib.sha256()
        for path, data in sorted(self.files.items()):
            digest.update(b"file\0" + os.fsencode(path) + b"\0"
                          + len(data).to_bytes(8, "big") + data)
        for path in sorted(self.folders):
            digest.update(b"folder\0" + os.fsencode(path) + b"\0")
        for path, reason in sorted(self.refused):
            digest.update(b"refused\0" + os.fsencode(path) + b"\0" + reason.encode() + b"\0")
        return digest.hexdigest()


class _Refused(Exception):
    """An entry that is not read; its message is the reason."""


@dataclass
class _Budget:
    entries: int = 0
    size: int = 0
    exhausted: bool = False


def read_submission(folder, root=None):
    """List a submission folder without following links, reading only regular files.

    Every entry is opened with ``O_NOFOLLOW`` relative to its parent folder's
    descriptor, so no path through a link is ever taken; a symbolic link (to
    a file, a folder, or nowhere), a named pipe, a socket or a device is
    refused and never opened, and a link's target is never read. Folders named
    in ``SKIPPED`` are passed over unread. A file over ``MAX_FILE_BYTES``, files
    beyond ``MAX_TOTAL_BYTES`` in all, entries beyond ``MAX_ENTRIES`` and
    folders deeper than ``MAX_DEPTH`` are refused, so that a submission cannot
    exhaust memory. Hard links are ordinary files here: they cannot be told
    from a copy.

    Parameters
    ----------
    folder : Path
        The submission, e.g. ``submitted/<student>/<assignment>``. If it is a
        symbolic link (or not a folder), nothing is read and the returned
        listing refuses ``"."``; if it does not exist, the listing is empty.
    root : Path, optional
        A folder above ``folder`` that the caller trusts, e.g.
        ``<course>/submitted``. Each folder between the two is then opened
        without following links too, so that ``submitted/<student>`` being a
        link is refused as well. Without it, only the last part of ``folder``
        is checked and the path leading to it is trusted.

    Returns
    -------
    Submission
    """
    submission = Submission()
    try:
        descriptor = _open_folder(Path(os.path.abspath(folder)), root)
    except FileNotFoundError:
        return submission
    except _Refused as refusal:
        submission.refused.append((".", str(refusal)))
        return submission
    except OSError as error:
        submission.refused.append((".", f"unreadable ({error.strerror})"))
        return submission
    try:
        _read_folder(descriptor, "", 0, submission, _Budget())
    finally:
        os.close(descriptor)
    return submission


def read_small_file(folder, name, limit, root=None):
    """The bytes of the regular file ``name`` in ``folder``, read as a submission is (no
    link followed; the folders below ``root`` checked too), or None when it is missing,
    not a regular file, unreadable or larger than ``limit`` bytes."""
    try:
        parent = _open_folder(Path(os.path.abspath(folder)), root)
    except (OSError, _Refused):
        return None
    try:
        descriptor, status = _open_entry(name, parent)
    except (OSError, _Refused):
        return None
    finally:
        os.close(parent)
    try:
        return _read_at_most(descriptor, limit) if stat.S_ISREG(status.st_mode) else None
    finally:
        os.close(descriptor)


def fingerprint_files(folder, root=None):
    """A sha256 hex digest of a submission, as intake reads it, for the resume check.

    It covers the sorted relative paths and bytes of every file
    ``read_submission`` reads, the folders, and each refused entry as its
    path and reason. A refused link is never followed, so what it points to
    does not change the digest: only adding, removing or replacing the link
    does (its target cannot change the grade either). The grader combines
    this with its settings, e.g.
    ``hashlib.sha256(settings_json + fingerprint_files(folder).encode())``.

    Parameters
    ----------
    folder, root : Path
        As for ``read_submission``.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return read_submission(folder, root).fingerprint()


def _open_folder(folder, root):
    """A descriptor of ``folder``, each part below ``root`` (or the last part) checked."""
    if root is None:
        parent, names = folder.parent, [folder.name] if folder.name else []
    else:
        root = Path(os.path.abspath(root))
        parent, names = root, folder.relative_to(root).parts
    descriptor = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    for name in names:
        try:
            child, status = _open_entry(name, descriptor)
        finally:
            os.close(descriptor)
        if not stat.S_ISDIR(status.st_mode):
            os.close(child)
            raise _Refused("a file, not a folder")
        descriptor = child
    return descriptor


def _open_entry(name, parent):
    """Open a regular file or a folder ``name`` inside the folder ``parent``, never a link.

    Returns the descriptor and its status; raises ``_Refused`` for anything
    else, and ``OSError`` when the entry cannot be examined.
    """
    before = os.stat(name, dir_fd=parent, follow_symlinks=False)
    kind = stat.S_IFMT(before.st_mode)
    if kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise _Refused(KINDS.get(kind, "not a regular file"))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
    if kind == stat.S_IFDIR:
        flags |= os.O_DIRECTORY
    try:
        descriptor = os.open(name, flags, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):  # replaced since it was examined
            raise _Refused("changed while it was being read") from None
        raise
    status = os.fstat(descriptor)
    if (status.st_dev, status.st_ino, stat.S_IFMT(status.st_mode)) != (
            before.st_dev, before.st_ino, kind):
        os.close(descriptor)
        raise _Refused("changed while it was being read")
    return descriptor, status


def _read_folder(descriptor, prefix, depth, submission, budget):
    """Add the entries of the open folder ``descriptor`` (at ``prefix``) to ``submission``."""
    left = MAX_ENTRIES - budget.entries
    here = prefix.rstrip("/") or "."
    try:
        with os.scandir(descriptor) as entries:
            names = sorted(entry.name for entry in itertools.islice(entries, left + 1))
    except OSError as error:
        submission.refused.append((here, f"unreadable ({error.strerror})"))
        return
    if len(names) > left:
        submission.refused.append((here, f"more than {MAX_ENTRIES} files and folders; "
                                         "the rest was not read"))
        budget.exhausted = True
        return
    budget.entries += len(names)
    for name in names:
        if budget.exhausted:
            return
        if name in SKIPPED:
            continue
        path = f"{prefix}{name}"
        try:
            child, status = _open_entry(name, descriptor)
        except FileNotFoundError:  # removed since it was listed
            continue
        except _Refused as refusal:
            submission.refused.append((path, str(refusal)))
            continue
        except OSError as error:
            submission.refused.append((path, f"unreadable ({error.strerror})"))
            continue
        try:
            if stat.S_ISDIR(status.st_mode):
                _read_child_folder(child, path, depth + 1, submission, budget)
            else:
                _read_file(child, path, status.st_size, submission, budget)
        finally:
            os.close(child)


def _read_child_folder(descriptor, path, depth, submission, budget):
    if depth > MAX_DEPTH:
        submission.refused.append((path, f"nested more than {MAX_DEPTH} folders deep"))
        return
    submission.folders.append(path)
    _read_folder(descriptor, f"{path}/", depth, submission, budget)


def _read_file(descriptor, path, size, submission, budget):
    left = MAX_TOTAL_BYTES - budget.size
    limit = min(MAX_FILE_BYTES, left)
    data = None if size > limit else _read_at_most(descriptor, limit)
    if data is not None:
        budget.size += len(data)
        submission.files[path] = data
    elif size > MAX_FILE_BYTES or left >= MAX_FILE_BYTES:
        submission.refused.append((path, f"larger than {MAX_FILE_BYTES} bytes"))
    else:
        submission.refused.append((path, f"over the {MAX_TOTAL_BYTES} bytes that a whole "
                                         "submission may hold"))


def _read_at_most(descriptor, limit):
    """The file's bytes, or None if it holds more than ``limit`` (it may grow as it is read)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(descriptor, min(2**20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


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


def stage_submission(submitted, source, staged, release=None, own_module=None, root=None,
                     submission=None):
    """Copy what may be graded from ``submitted`` to ``staged``, checking it on the way.

    Only the notebooks, ``nnlib/*.py`` and ``timestamp.txt`` are taken, from
    the listing of ``read_submission``: an entry it refuses (a link, a pipe,
    a file too large...) is reported (flag ``refused-files``) and counts as
    missing. Other files the assignment provides are replaced by nbgrader
    with the instructor's copies; anything else is ignored and reported.

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
    root : Path, optional
        A trusted folder above ``submitted``, as for ``read_submission``.
    submission : Submission, optional
        What ``read_submission`` read from ``submitted`` elsewhere (grading on a cluster
        ships it to a Dask worker); ``submitted`` is not read then.

    Returns
    -------
    Intake
    """
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    intake = Intake(staged)
    if submission is None:
        submission = read_submission(submitted, root)
    refused = dict(submission.refused)
    if refused:
        listed = ", ".join(f"{shown(path)} ({reason})" for path, reason in submission.refused)
        intake.report("refused-files", f"files that could not be taken safely were not read "
                                       f"and count as missing: {listed}")
    expected = sorted(p.name for p in source.glob("*.ipynb"))
    for name in expected:
        _stage_notebook(name, submission.files.get(name), refused.get(name, refused.get(".")),
                        source / name,
                        staged / name, intake)
        if release is not None and (staged / name).is_file():
            _report_locked_changes(staged / name, Path(release) / name, intake)
    _stage_library(submission, staged / ALLOWED_LIBRARY, intake)
    if release is not None:
        _report_replaced_modules(staged / ALLOWED_LIBRARY, Path(release) / ALLOWED_LIBRARY,
                                 own_module, intake)
    if "timestamp.txt" in submission.files:
        (staged / "timestamp.txt").write_bytes(submission.files["timestamp.txt"])
    provided = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}
    ignored = [shown(path) for path in sorted(submission.files)
               if path not in provided | {"timestamp.txt"} and not _is_library_file(path)]
    if ignored:
        intake.report("ignored-files", f"files that are not part of a submission were ignored: "
                                       f"{', '.join(ignored)}")
    return intake


def _is_library_file(path):
    relative = PurePosixPath(path)
    return (len(relative.parts) == 2 and relative.parts[0] == ALLOWED_LIBRARY
            and relative.suffix == ".py")


def _stage_notebook(name, data, refusal, source_path, target, intake):
    if data is None:
        because = f" ({refusal})" if refusal else ""
        intake.report("missing-notebook", f"{name} is missing from the submission{because}")
        return
    try:
        try:
            raw = json.loads(data.decode("utf-8"))
        except RecursionError:
            raise ValueError("its JSON is nested too deeply to be read") from None
        if nested_deeper(raw, MAX_NOTEBOOK_DEPTH):
            raise ValueError(f"its JSON is nested more than {MAX_NOTEBOOK_DEPTH} levels deep")
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


def nested_deeper(value, limit):
    """Whether parsed JSON ``value`` holds lists or objects nested more than ``limit`` deep
    (walked without recursion, so that any depth can be measured)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return False


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


def _stage_library(submission, target, intake):
    if ALLOWED_LIBRARY not in submission.folders:
        return
    target.mkdir()
    for path in sorted(p for p in submission.files if _is_library_file(p)):
        data = submission.files[path]
        text = data.decode("utf-8", errors="replace")
        try:
            compile(text, path, "exec")
        except SyntaxError as error:
            intake.report("nnlib-syntax-error", f"{shown(path)} line {error.lineno}: "
                                                f"{error.msg}; it cannot be imported")
        if BEGIN in text:
            intake.report("solution-markers", f"{shown(path)} contains solution markers")
        (target / PurePosixPath(path).name).write_bytes(data)
