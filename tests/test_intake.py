"""Tests for autograder.intake: what is taken from a submission, and what is reported."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.intake import restore_graded_cells, stage_submission


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
