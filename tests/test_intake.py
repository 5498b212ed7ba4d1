"""Tests for autograder.intake: what is taken from a submission, and what is reported."""

import json
import os
import socket
import threading

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import intake as intake_module
from autograder.intake import (
    fingerprint_files,
    read_submission,
    restore_graded_cells,
    stage_submission,
)


def graded(source, grade_id, grade=True, locked=True):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": grade, "solution": False, "locked": locked,
                                 "grade_id": grade_id, "points": 1, "schema_version": 3}
    return cell


@pytest.fixture
def source(tmp_path):
    """An assignment source folder with one notebook: setup, text, a test cell."""
    folder = tmp_path / "source"
    (folder / "nnlib").mkdir(parents=True)
    (folder / "nnlib" / "helpers.py").write_text("x = 1\n")
    notebook = new_notebook(cells=[graded("import nnlib", "setup", grade=False),
                                   new_markdown_cell("text"),
                                   graded("assert True", "test-one")])
    nbformat.write(notebook, folder / "nb.ipynb")
    return folder


def submit(tmp_path, source, edit=None):
    folder = tmp_path / "submitted"
    folder.mkdir()
    notebook = nbformat.read(source / "nb.ipynb", as_version=4)
    if edit:
        notebook = edit(notebook)
    (folder / "nb.ipynb").write_text(json.dumps(notebook))
    (folder / "nnlib").mkdir()
    (folder / "nnlib" / "mine.py").write_text("def f():\n    return 1\n")
    return folder


def test_only_notebooks_and_library_files_are_taken(tmp_path, source):
    """Is a numpy.py next to the notebook ignored and reported, and nnlib/*.py taken?"""
    submitted = submit(tmp_path, source)
    (submitted / "numpy.py").write_text("evil = True\n")
    (submitted / "nnlib" / "helpers.py").write_text("x = 2\n")  # provided: not reported
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert sorted(p.name for p in intake.staged.iterdir()) == ["nb.ipynb", "nnlib"]
    assert (intake.staged / "nnlib" / "mine.py").is_file()
    assert intake.flags == ["ignored-files"]
    assert "numpy.py" in intake.problems[0] and "helpers.py" not in intake.problems[0]


def test_unreadable_and_missing_notebooks_are_reported(tmp_path, source):
    """Are invalid JSON and a missing notebook named, with nothing staged for them?"""
    submitted = submit(tmp_path, source)
    (submitted / "nb.ipynb").write_text('{"cells": [')
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert intake.flags == ["invalid-notebook"]
    assert "nb.ipynb is not a readable" in intake.problems[0]
    assert not (intake.staged / "nb.ipynb").exists()
    (submitted / "nb.ipynb").unlink()
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert intake.flags == ["missing-notebook"]


@pytest.mark.parametrize("depth", [intake_module.MAX_NOTEBOOK_DEPTH + 1, 200_000])
def test_a_notebook_nested_too_deeply_is_reported_not_parsed(tmp_path, source, depth):
    """Is JSON nested past the bound (just past it, or deeper than Python can recurse)
    reported as an invalid notebook instead of crashing intake?"""
    submitted = submit(tmp_path, source)
    nested = "[" * depth + "]" * depth
    (submitted / "nb.ipynb").write_text(f'{{"cells": [], "metadata": {{"x": {nested}}}}}')
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert intake.flags == ["invalid-notebook"]
    assert "nested" in intake.problems[0] and not (intake.staged / "nb.ipynb").exists()


def test_depth_is_measured_without_recursion():
    """Does nested_deeper tell the depth at the bound exactly, at any depth?"""
    value = []
    for _ in range(99_999):
        value = [value]
    assert intake_module.nested_deeper(value, 99_999)
    assert not intake_module.nested_deeper(value, 100_000)
    assert not intake_module.nested_deeper({"a": [1, {"b": 2}]}, 3)
    assert intake_module.nested_deeper({"a": [1, {"b": []}]}, 3)


def test_duplicate_cell_ids_are_renumbered(tmp_path, source):
    """Are duplicated cell ids renumbered so that nbgrader can read the notebook?"""
    def duplicate(notebook):
        for cell in notebook.cells:
            cell["id"] = "same"
        return notebook

    intake = stage_submission(submit(tmp_path, source, duplicate), source, tmp_path / "staged")
    ids = [c["id"] for c in json.loads((intake.staged / "nb.ipynb").read_text())["cells"]]
    assert len(set(ids)) == len(ids) == 3
    assert "duplicate-cell-ids" in intake.flags


def test_deleted_test_cell_is_put_back_after_its_predecessor(tmp_path, source):
    """Is a deleted grade cell restored right after the cell that preceded it?"""
    def delete(notebook):
        notebook.cells = notebook.cells[:2]
        return notebook

    intake = stage_submission(submit(tmp_path, source, delete), source, tmp_path / "staged")
    staged = nbformat.read(intake.staged / "nb.ipynb", as_version=4)
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in staged.cells] == [
        "setup", None, "test-one"]
    assert "restored-cells" in intake.flags and "test-one" in intake.problems[0]


def test_restore_inserts_at_the_start_when_nothing_precedes(source):
    """With every earlier cell gone, does the restored cell go first?"""
    original = nbformat.read(source / "nb.ipynb", as_version=4)
    stripped = new_notebook(cells=[new_code_cell("print(1)")])
    assert restore_graded_cells(stripped, original) == ["test-one"]
    assert stripped.cells[0].metadata["nbgrader"]["grade_id"] == "test-one"


def test_syntax_error_in_the_library_is_named(tmp_path, source):
    """Is a syntax error in nnlib reported with the file and line?"""
    submitted = submit(tmp_path, source)
    (submitted / "nnlib" / "mine.py").write_text("def f(:\n    pass\n")
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert intake.flags == ["nnlib-syntax-error"]
    assert intake.problems[0].startswith("nnlib/mine.py line 1:")


# A submission is untrusted bytes: links, pipes and oversized files are refused, never followed.

SOLUTION = "def perceptron_predict(X, w, b):\n    return 'the instructor solution'\n"


def staged_files(intake):
    return sorted(p.relative_to(intake.staged).as_posix() for p in intake.staged.rglob("*")
                  if p.is_file())


def refusals(intake):
    return [p for p in intake.problems if p.startswith("files that could not be taken")]


def test_a_symlinked_library_folder_is_refused(tmp_path, source):
    """Is a symlinked nnlib/ into a folder holding a solution refused, and nothing staged?"""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "perceptron.py").write_text(SOLUTION)
    submitted = submit(tmp_path, source)
    (submitted / "nnlib" / "mine.py").unlink()
    (submitted / "nnlib").rmdir()
    (submitted / "nnlib").symlink_to(solutions, target_is_directory=True)
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert staged_files(intake) == ["nb.ipynb"]
    assert not (intake.staged / "nnlib").exists()
    assert intake.flags == ["refused-files"]
    assert refusals(intake) == ["files that could not be taken safely were not read and count "
                                "as missing: nnlib (a symbolic link)"]


def test_a_symlinked_module_is_refused(tmp_path, source):
    """Is a symlinked nnlib/perceptron.py refused, while the real nnlib/mine.py is staged?"""
    solution = tmp_path / "solution.py"
    solution.write_text(SOLUTION)
    submitted = submit(tmp_path, source)
    (submitted / "nnlib" / "perceptron.py").symlink_to(solution)
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert staged_files(intake) == ["nb.ipynb", "nnlib/mine.py"]
    assert intake.flags == ["refused-files"]
    assert "nnlib/perceptron.py (a symbolic link)" in intake.problems[0]


def test_a_symlinked_notebook_counts_as_missing(tmp_path, source):
    """Is a notebook linked to the instructor's source refused and reported missing?"""
    submitted = submit(tmp_path, source)
    (submitted / "nb.ipynb").unlink()
    (submitted / "nb.ipynb").symlink_to(source / "nb.ipynb")
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert staged_files(intake) == ["nnlib/mine.py"]
    assert intake.flags == ["refused-files", "missing-notebook"]
    assert "nb.ipynb (a symbolic link)" in intake.problems[0]
    assert intake.problems[1] == "nb.ipynb is missing from the submission (a symbolic link)"


def test_a_link_out_of_a_real_library_folder_is_refused(tmp_path, source):
    """In a real nnlib/, is a relative link to ../../elsewhere.py refused, not followed?"""
    (tmp_path / "elsewhere.py").write_text(SOLUTION)
    submitted = submit(tmp_path, source)
    (submitted / "nnlib" / "perceptron.py").symlink_to("../../elsewhere.py")
    assert (submitted / "nnlib" / "perceptron.py").read_text() == SOLUTION  # the link works
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert staged_files(intake) == ["nb.ipynb", "nnlib/mine.py"]
    assert intake.flags == ["refused-files"]
    assert "nnlib/perceptron.py (a symbolic link)" in intake.problems[0]


def test_a_dangling_link_is_refused(tmp_path, source):
    """Are dangling links refused by name, not ignored and not an error?"""
    submitted = submit(tmp_path, source)
    (submitted / "nnlib" / "ghost.py").symlink_to(tmp_path / "nowhere.py")
    (submitted / "timestamp.txt").symlink_to("nowhere.txt")
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert staged_files(intake) == ["nb.ipynb", "nnlib/mine.py"]
    assert intake.flags == ["refused-files"]
    assert intake.problems[0].endswith(": nnlib/ghost.py (a symbolic link), "
                                       "timestamp.txt (a symbolic link)")


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_pipes_and_sockets_are_refused_without_hanging(tmp_path, source, kind):
    """Is a named pipe or a socket refused at once, though nobody writes to it?"""
    submitted = submit(tmp_path, source)
    special = submitted / "nnlib" / "special.py"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(special))
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(
        intake=stage_submission(submitted, source, tmp_path / "staged")), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "intake blocked on a special file"
    intake = outcome["intake"]
    reason = "a named pipe" if kind == "fifo" else "a socket"
    assert staged_files(intake) == ["nb.ipynb", "nnlib/mine.py"]
    assert intake.flags == ["refused-files"]
    assert intake.problems[0].endswith(f": nnlib/special.py ({reason})")


def test_a_file_over_the_size_cap_is_refused(tmp_path, source, monkeypatch):
    """Is a module larger than MAX_FILE_BYTES refused with the limit, and a small one kept?"""
    monkeypatch.setattr(intake_module, "MAX_FILE_BYTES", 100)
    submitted = submit(tmp_path, source)
    (submitted / "nnlib" / "big.py").write_text("x = 1\n" * 17)  # 6 * 17 = 102 bytes
    (submitted / "nnlib" / "edge.py").write_text("x = 1\n" * 16 + "#\n" * 2)  # 100 bytes
    (submitted / "nb.ipynb").write_text(" " * 101)
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert staged_files(intake) == ["nnlib/edge.py", "nnlib/mine.py"]
    assert intake.flags == ["refused-files", "missing-notebook"]
    assert intake.problems[0].endswith(": nb.ipynb (larger than 100 bytes), "
                                       "nnlib/big.py (larger than 100 bytes)")


def test_the_whole_submission_has_a_size_and_entry_cap(tmp_path, monkeypatch):
    """Past MAX_TOTAL_BYTES, are further files refused; past MAX_ENTRIES, is reading stopped?"""
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name in "abcd":
        (folder / name).write_bytes(b"12345")
    monkeypatch.setattr(intake_module, "MAX_TOTAL_BYTES", 12)  # a and b fit: 5 + 5 <= 12
    listing = read_submission(folder)
    assert listing.files == {"a": b"12345", "b": b"12345"}
    assert listing.refused == [("c", "over the 12 bytes that a whole submission may hold"),
                               ("d", "over the 12 bytes that a whole submission may hold")]
    monkeypatch.setattr(intake_module, "MAX_ENTRIES", 3)
    listing = read_submission(folder)
    assert listing.files == {}
    assert listing.refused == [(".", "more than 3 files and folders; the rest was not read")]
    (folder / "d").unlink()
    (folder / "nested").mkdir()
    (folder / "nested" / "e").write_bytes(b"")  # a, b, c, nested: 4 entries before e
    monkeypatch.setattr(intake_module, "MAX_TOTAL_BYTES", 100)
    monkeypatch.setattr(intake_module, "MAX_ENTRIES", 4)
    listing = read_submission(folder)
    assert sorted(listing.files) == ["a", "b", "c"] and listing.folders == ["nested"]
    assert listing.refused == [("nested", "more than 4 files and folders; the rest was not "
                                          "read")]


def test_a_symlinked_submission_folder_is_refused_entirely(tmp_path, source):
    """Is a submission folder that is itself a link read as nothing, every notebook missing?"""
    real = submit(tmp_path, source)
    linked = tmp_path / "linked"
    linked.symlink_to(real, target_is_directory=True)
    assert read_submission(linked).files == {}
    assert read_submission(linked).refused == [(".", "a symbolic link")]
    intake = stage_submission(linked, source, tmp_path / "staged")
    assert staged_files(intake) == []
    assert intake.flags == ["refused-files", "missing-notebook"]
    assert intake.problems[1] == "nb.ipynb is missing from the submission (a symbolic link)"


def test_a_symlinked_student_folder_is_refused_below_the_root(tmp_path, source):
    """With root given, is submitted/<student> being a link refused too?"""
    root = tmp_path / "course" / "submitted"
    root.mkdir(parents=True)
    (root / "mallory").symlink_to(tmp_path, target_is_directory=True)
    submission = root / "mallory" / "source"  # resolves to the instructor's source folder
    assert "nb.ipynb" in read_submission(submission).files  # only the last part is checked
    listing = read_submission(submission, root=root)
    assert (listing.files, listing.refused) == ({}, [(".", "a symbolic link")])


def test_a_missing_or_file_submission_reads_as_nothing(tmp_path):
    """Is a missing folder an empty listing, and a file in its place refused?"""
    assert read_submission(tmp_path / "absent") == intake_module.Submission()
    (tmp_path / "file").write_text("not a folder")
    assert read_submission(tmp_path / "file").refused == [(".", "a file, not a folder")]


def test_checkpoints_and_caches_are_skipped_unread(tmp_path, source):
    """Are .ipynb_checkpoints and __pycache__ passed over, even when they hold links?"""
    submitted = submit(tmp_path, source)
    (submitted / ".ipynb_checkpoints").mkdir()
    (submitted / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").symlink_to(source / "nb.ipynb")
    (submitted / "nnlib" / "__pycache__").symlink_to(tmp_path, target_is_directory=True)
    (submitted / "timestamp.txt").write_text("2024-01-01 10:00:00")
    listing = read_submission(submitted)
    assert sorted(listing.files) == ["nb.ipynb", "nnlib/mine.py", "timestamp.txt"]
    assert listing.folders == ["nnlib"] and listing.refused == []
    intake = stage_submission(submitted, source, tmp_path / "staged")
    assert staged_files(intake) == ["nb.ipynb", "nnlib/mine.py", "timestamp.txt"]
    assert intake.flags == []


def test_the_fingerprint_follows_files_not_link_targets(tmp_path, source):
    """Does the fingerprint change with a file's bytes and a link's presence, not its target?

    A link is refused, never followed, so its entry is its path and reason: what
    it points to cannot change the grade, nor the fingerprint.
    """
    submitted = submit(tmp_path, source)
    first = fingerprint_files(submitted)
    assert len(first) == 64 and fingerprint_files(submitted) == first
    (submitted / "nnlib" / "mine.py").write_text("def f():\n    return 2\n")
    edited = fingerprint_files(submitted)
    assert edited != first
    link = submitted / "nnlib" / "perceptron.py"
    link.symlink_to(tmp_path / "one.py")
    linked = fingerprint_files(submitted)
    assert linked != edited
    link.unlink()
    link.symlink_to(tmp_path / "two.py")
    (tmp_path / "two.py").write_text(SOLUTION)
    assert fingerprint_files(submitted) == linked
    link.unlink()
    link.write_text(SOLUTION)
    assert fingerprint_files(submitted) not in {first, edited, linked}
    before = fingerprint_files(submitted)
    (submitted / "nnlib" / "empty").mkdir()  # an empty folder is staged too (nnlib/)
    assert fingerprint_files(submitted) != before
