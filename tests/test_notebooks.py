"""Tests of the course notebooks: the master copies in solutions/ and the student copies."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import release
from autograder.notebooks import execute

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
STUDENT_MESSAGES = ("Exercise ", "replace this line with your answer", "set ")

pytestmark = pytest.mark.skipif(not SOURCES, reason="no notebooks yet")


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def outputs(notebook, kind):
    """Errors as (cell id, name, message), or stderr texts as (cell id, text)."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error" and kind == "error":
                found.append((cell.get("id"), output.ename, output.evalue))
            elif output.get("name") == "stderr" and kind == "stderr":
                found.append((cell.get("id"), output.text))
    return found


def region_lines(source, begin, end, inside_wanted=True):
    """Stripped, non-blank lines inside ``begin``/``end`` regions (or outside them)."""
    inside, lines = False, []
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside == inside_wanted and line.strip():
            lines.append(line.strip())
    return lines


# ---------------------------------------------------------------- the master copies


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_solution_notebook_runs_clean(path):
    """Does the worked notebook run top to bottom with no error and nothing on stderr?"""
    notebook = execute(path, path.parent)
    assert outputs(notebook, "error") == []
    assert outputs(notebook, "stderr") == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_solution_notebook_is_saved_executed(path):
    """Is the worked notebook saved with the outputs of one clean top-to-bottom run?"""
    notebook = nbformat.read(path, as_version=4)
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), "re-run the notebook top to bottom"
    assert outputs(notebook, "error") == [] and outputs(notebook, "stderr") == []
    assert "widgets" not in notebook.metadata, "save without widget state"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_nbgrader_metadata_is_valid(path):
    """Are grade_ids unique, points positive, test cells locked, and a written question there?"""
    notebook = nbformat.read(path, as_version=4)
    metas = [nbgrader_meta(cell) for cell in notebook.cells if nbgrader_meta(cell)]
    ids = [meta["grade_id"] for meta in metas]
    assert len(ids) == len(set(ids)), f"duplicate grade_ids in {ids}"
    assert all(meta["schema_version"] == 3 for meta in metas)
    graded = [meta for meta in metas if meta["grade"]]
    assert graded and all(meta["points"] > 0 for meta in graded)
    tests = [meta for meta in graded if not meta["solution"]]
    assert tests and all(meta["locked"] for meta in tests)
    written = [cell for cell in notebook.cells if cell.cell_type == "markdown"
               and nbgrader_meta(cell).get("grade") and nbgrader_meta(cell).get("solution")]
    if path.stem != "07_capstone":
        assert written, "every notebook has at least one manually graded written question"
    first = notebook.cells[0] if notebook.cells[0].cell_type == "code" else notebook.cells[1]
    assert "%autoreload 2" in first.source and "nnlib.check_setup()" in first.source


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_plain_code_cell_is_a_tagged_demo(path):
    """Is every code cell without nbgrader metadata tagged "demo" (skipped when grading)?"""
    notebook = nbformat.read(path, as_version=4)
    untagged = [cell.get("id") for cell in notebook.cells
                if cell.cell_type == "code" and not nbgrader_meta(cell)
                and "demo" not in cell.metadata.get("tags", [])]
    assert untagged == []


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_tests_do_not_depend_on_demo_cells(path, tmp_path):
    """Without its demo cells, as the grader runs it, does the worked notebook still pass?"""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells if "demo" not in c.metadata.get("tags", [])]
    shutil.copytree(path.parent / "nnlib", tmp_path / "nnlib")
    nbformat.write(notebook, tmp_path / path.name)
    executed = execute(tmp_path / path.name, tmp_path)
    assert outputs(executed, "error") == [] and outputs(executed, "stderr") == []


@pytest.mark.slow
def test_nbgrader_validate_passes_on_every_solution_notebook():
    """Does `nbgrader validate` accept every master notebook?"""
    release.put_venv_on_path()
    result = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "validate",
                             *[str(p) for p in SOURCES]], cwd=ROOT / "solutions",
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Success! Your notebook passes all the tests.") == len(SOURCES), (
        result.stdout)


# ---------------------------------------------------------------- the student copies


def test_student_notebooks_are_in_sync():
    """Are notebooks/ exactly what nbgrader generate_assignment makes of solutions/?"""
    assert release.stale_notebooks() == [], "run `make release` and commit notebooks/"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_no_solution_or_hidden_test_reaches_students(path):
    """Does no line of a solution, a hidden test or a model answer appear in notebooks/?"""
    source = nbformat.read(path, as_version=4)
    student = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
    secret, visible = set(), set()
    for cell in source.cells:
        meta = nbgrader_meta(cell)
        lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
        hidden = region_lines(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        solution = region_lines(cell.source, "BEGIN SOLUTION", "END SOLUTION")
        if meta.get("solution") and not solution:  # a whole-cell answer
            solution = lines
        secret.update(hidden + solution)
        if not (meta.get("solution") and solution == lines):
            outside = region_lines(cell.source, "BEGIN", "END", inside_wanted=False)
            visible.update(outside)
    student_text = "\n".join(cell.source for cell in student.cells)
    student_lines = {line.strip() for line in student_text.splitlines()}
    leaked = sorted((secret - visible) & student_lines)
    assert leaked == []
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in student_text
    assert "widgets" not in student.metadata
    assert all(not cell.get("outputs") for cell in student.cells if cell.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_student_notebook_fails_only_with_not_implemented(path):
    """Against the stubbed nnlib/, does every failing cell say what to implement?"""
    notebook = execute(ROOT / "notebooks" / path.name, ROOT / "notebooks", allow_errors=True)
    errors = outputs(notebook, "error")
    assert errors, "the stubs should make at least one test cell fail"
    unexpected = [e for e in errors if e[1] != "NotImplementedError"
                  or not e[2].startswith(STUDENT_MESSAGES)]
    assert unexpected == []
    assert outputs(notebook, "stderr") == []


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_implementing_what_the_notebook_asks_passes_every_visible_test(path, tmp_path):
    """With the stubs filled by the reference bodies, does the student notebook run clean?"""
    release.release_library(release.REFERENCE_LIBRARY, tmp_path / "nnlib",
                            complete=release.MODULE_ORDER)
    student = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
    answers = {nbgrader_meta(c)["grade_id"]: c.source
               for c in nbformat.read(path, as_version=4).cells if nbgrader_meta(c).get("solution")}
    for cell in student.cells:
        if nbgrader_meta(cell).get("solution") and cell.cell_type == "code":
            cell.source = answers[nbgrader_meta(cell)["grade_id"]]
    filled = tmp_path / path.name
    nbformat.write(student, filled)
    notebook = execute(filled, tmp_path)
    assert outputs(notebook, "error") == []
    assert outputs(notebook, "stderr") == []
    setup_output = json.dumps([c.get("outputs", []) for c in notebook.cells[:3]])
    assert f"the student copy in {tmp_path / 'nnlib'}" in setup_output
