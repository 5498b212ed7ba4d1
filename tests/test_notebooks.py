"""Tests of the course notebooks: the master copies in solutions/ and the student copies."""

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbgrader import utils

from autograder import release
from autograder.notebooks import execute
from nnlib._exercises import VALIDATE_WIDTH

ROOT = Path(__file__).resolve().parent.parent
SOURCES = release.notebooks_in(ROOT / "solutions")
FIRST = next((p for p in SOURCES if p.name.startswith("01_")), None)  # the first with exercises
RUN_ON = "raises-exception"  # JupyterLab's Run All (and nbclient) go on past such a cell
# What a student is shown for something not done yet: the lines of ExerciseNotDone.
TASK = r"(: i|\.\nI)mplement `\w+` in nnlib/\w+\.py\."  # on one line or two
NOT_DONE = {
    "own": re.compile(rf"Exercise (\d+)\.\d+ is not done yet{TASK}"),
    "earlier": re.compile(rf"Exercise (\d+)\.\d+ \(notebook (\d+)\) is not done yet; this "
                          rf"notebook needs it{TASK}"),
    "answer": re.compile(r"Not done yet: (replace this line with your answer|set \w+ in the "
                         r"exercise cell above, then run this cell)\."),
}
NEEDS = "**Needs from earlier notebooks:**"

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


def number(path):
    """The notebook's number: 6 for 06_gradient_descent."""
    return int(Path(path).name[:2])


def setup_index(notebook):
    return next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")


def listed_needs(notebook):
    """The earlier exercises the notebook's first cell names ("2.1-2.3" is 2.1, 2.2, 2.3)."""
    intro = notebook.cells[0].source
    if NEEDS not in intro:
        return set()
    paragraph = intro.split(NEEDS, 1)[1].split("Until", 1)[0]
    found = set()
    for first, start, last in re.findall(r"(\d+)\.(\d+)(?:-\d+\.(\d+))?", paragraph):
        found |= {f"Exercise {first}.{k}" for k in range(int(start), int(last or start) + 1)}
    return found


# ---------------------------------------------------------------- the master copies


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
    first = notebook.cells[0] if notebook.cells[0].cell_type == "code" else notebook.cells[1]
    assert "%autoreload 2" in first.source and "nnlib.check_setup()" in first.source
    assert f"nnlib.this_notebook({number(path)})" in first.source
    graded = [meta for meta in metas if meta["grade"]]
    if number(path) == 0:  # the introduction: nothing to grade
        assert graded == [], "the introduction is no assignment"
        return
    assert graded and all(meta["points"] > 0 for meta in graded)
    tests = [meta for meta in graded if not meta["solution"]]
    assert tests and all(meta["locked"] for meta in tests)
    written = [cell for cell in notebook.cells if cell.cell_type == "markdown"
               and nbgrader_meta(cell).get("grade") and nbgrader_meta(cell).get("solution")]
    if path.stem != "07_capstone":
        assert written, "every notebook has at least one manually graded written question"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_plain_code_cell_is_a_tagged_demo(path):
    """Is every code cell without nbgrader metadata tagged "demo" (skipped when grading)?"""
    notebook = nbformat.read(path, as_version=4)
    untagged = [cell.get("id") for cell in notebook.cells
                if cell.cell_type == "code" and not nbgrader_meta(cell)
                and "demo" not in cell.metadata.get("tags", [])]
    assert untagged == []


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


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_written_answer_has_a_rubric_for_its_points(path):
    """Does each manually graded answer of the master copy end with a rubric whose
    "- k point(s):" items add up to the cell's points? (The answer, rubric included, never
    reaches students: see the test above.)"""
    for cell in nbformat.read(path, as_version=4).cells:
        meta = nbgrader_meta(cell)
        if not (cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade")):
            continue
        rubric = cell.source.split("**Rubric (", 1)
        assert len(rubric) == 2, f"{path.name}: answer {meta['grade_id']} has no rubric"
        given = sum(int(k) for k in re.findall(r"^- (\d+) points?:", rubric[1], re.MULTILINE))
        assert given == meta["points"], (
            f"{path.name}: the rubric of {meta['grade_id']} gives {given} points, the cell "
            f"is worth {meta['points']}")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_run_all_goes_on_past_every_cell_but_the_setup(path):
    """Does every code cell after the setup carry raises-exception, in both copies?"""
    for notebook in (nbformat.read(path, 4), nbformat.read(ROOT / "notebooks" / path.name, 4)):
        cells = notebook.cells[setup_index(notebook):]
        assert RUN_ON not in cells[0].metadata.get("tags", []), "a broken setup must stop Run All"
        untagged = [cell.get("id") for cell in cells[1:] if cell.cell_type == "code"
                    and RUN_ON not in cell.metadata.get("tags", [])]
        assert untagged == []


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_run_all_on_a_fresh_student_notebook(path):
    """Does Run All reach the last cell, each error a line or two saying what is not done?

    nbclient, like JupyterLab, stops at a failing cell unless it is tagged raises-exception.
    Every error must be ExerciseNotDone's short text (no traceback), naming an exercise of
    this notebook, or one of an earlier notebook as such; and every test cell must end in an
    error, so that nbgrader scores it 0.
    """
    notebook = execute(ROOT / "notebooks" / path.name, ROOT / "notebooks")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "Run All stopped early"
    assert outputs(notebook, "stderr") == []
    shown = []
    for cell in code:
        for output in cell.outputs:
            if output.output_type == "error":
                assert output.ename == "ExerciseNotDone", output.traceback
                shown.append("\n".join(output.traceback))
    assert bool(shown) == (number(path) > 0), "the stubs should make every test cell fail"
    for text in shown:
        kinds = {kind: pattern.fullmatch(text) for kind, pattern in NOT_DONE.items()}
        assert any(kinds.values()), f"not the short kind: {text!r}"
        if kinds["own"]:
            assert int(kinds["own"].group(1)) == number(path), text
        if kinds["earlier"]:
            exercise, named = kinds["earlier"].group(1, 2)
            assert exercise == named and int(named) < number(path), text
        assert all(len(line) <= VALIDATE_WIDTH for line in text.splitlines()), (
            "nbgrader cuts longer lines")
    tests = [cell for cell in code if utils.is_grade(cell) and not utils.is_solution(cell)]
    scores = [utils.determine_grade(cell, logging.getLogger())[0] for cell in tests]
    assert scores == [0] * len(tests)


# Each worked notebook runs headless once, here, traced. Elsewhere: in the browser by Run All
# (test_browser), and graded by nbgrader without its demo cells, whose verdict on every
# worked solution is full marks (test_grading's complete submissions): so no test depends
# on a demo cell.
@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_worked_notebook_runs_clean_and_its_top_names_the_earlier_exercises_it_uses(
        path, tmp_path):
    """Does the worked notebook run top to bottom with no error and nothing on stderr, and
    does its first cell list exactly the earlier notebooks' exercises that its cells call?"""
    notebook = nbformat.read(path, as_version=4)
    at = setup_index(notebook) + 1
    notebook.cells.insert(at, new_code_cell(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import exercise_calls\nexercise_calls.record(nnlib)"))
    notebook.cells.append(new_code_cell("print(exercise_calls.recorded())"))
    traced = tmp_path / path.name
    nbformat.write(notebook, traced)
    executed = execute(traced, path.parent, allow_errors=True, timeout=600)
    assert outputs(executed, "error") == []
    assert outputs(executed, "stderr") == []
    called = set(json.loads(executed.cells[-1].outputs[0].text))
    earlier = {label for label in called
               if int(label.split()[1].split(".")[0]) < number(path)}
    assert listed_needs(notebook) == earlier


@pytest.mark.slow
def test_validate_lists_what_is_left_briefly(tmp_path):
    """Does `nbgrader validate` on a fresh student notebook show each failing test cell with
    the short error only, never a traceback?"""
    shutil.copytree(ROOT / "nnlib", tmp_path / "nnlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "notebooks" / FIRST.name, tmp_path)
    release.put_venv_on_path()
    result = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "validate",
                             FIRST.name], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    errors = [block.split("\n\n")[0].strip()
              for block in result.stdout.split("The error was:\n\n")[1:]]
    assert "Traceback" not in result.stdout and "nnlib/testing.py" not in result.stdout
    assert errors == [
        "Exercise 1.1 is not done yet: implement `step` in nnlib/perceptron.py.",
        "Exercise 1.2 is not done yet.\n    Implement `perceptron_predict` in nnlib/perceptron.py.",
        "Not done yet: set b_low in the exercise cell above, then run this cell.",
        "Not done yet: set w_and in the exercise cell above, then run this cell.",
        "Exercise 1.5 is not done yet: implement `perceptron_train` in nnlib/perceptron.py.",
        "Not done yet: set or_updates in the exercise cell above, then run this cell.",
        "You did not provide a response.",
    ], result.stdout


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


# ---------------------------------------------------------------- the glossary

GLOSSARY = ROOT / "solutions" / "00_introduction.ipynb"
LINK = re.compile(r"\]\(((\d\d_\w+\.ipynb)#([^)\s]+))\)")
TAUGHT = re.compile(r"Taught in \[[^\]]+\]\((\d\d_\w+\.ipynb)#")


def anchors(path):
    """The ids JupyterLab gives a notebook's headings: the text with spaces as dashes."""
    found = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            found |= {line.lstrip("#").strip().replace(" ", "-")
                      for line in cell.source.splitlines() if line.startswith("#")}
    return found


def glossary():
    """Term anchor -> the notebook that teaches it, from the glossary's own entries."""
    taught = {}
    for cell in nbformat.read(GLOSSARY, as_version=4).cells:
        heading, _, text = cell.source.partition("\n")
        if heading.startswith("### ") and TAUGHT.search(text):
            taught[heading[4:].strip().replace(" ", "-")] = TAUGHT.search(text).group(1)
    return taught


def test_every_link_between_notebooks_reaches_a_heading():
    """Does every link from one notebook to a section of another name an existing heading?"""
    broken = []
    for path in SOURCES:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for link, target, anchor in LINK.findall(cell.source):
                    if anchor not in anchors(ROOT / "solutions" / target):
                        broken.append(f"{path.name}: {link}")
    assert broken == [], f"links to no heading: {broken}"


@pytest.mark.parametrize("path", [p for p in SOURCES if p != GLOSSARY], ids=lambda p: p.stem)
def test_each_notebook_links_the_glossary_terms_it_teaches(path):
    """Does the notebook's top list exactly the glossary terms the glossary says it teaches?"""
    expected = sorted(term for term, where in glossary().items() if where == path.name)
    intro = nbformat.read(path, as_version=4).cells[0].source
    line = next((line for line in intro.splitlines() if "Terms introduced here" in line), "")
    listed = sorted(anchor for _, target, anchor in LINK.findall(line)
                    if target == GLOSSARY.name and anchor != "Glossary")
    assert listed == expected, (
        f"{path.name} lists the terms {listed} in its 'Terms introduced here' line; the "
        f"glossary says it teaches {expected}")


# ---------------------------------------------------------------- the hidden-test audit

STATED = re.compile(r'^\s*# Stated: "(.+)"\s*$')


def flat(text):
    """Text with markdown emphasis and code marks dropped and whitespace runs as one space."""
    return " ".join(re.sub(r"[`*]", "", text).split())


def instructions_before(notebook, index, module):
    """What a student has read before cell ``index``: the markdown above it, the student copy
    of the notebook's module (its docstrings) and the library's conventions (its package
    docstring)."""
    texts = [cell.source for cell in notebook.cells[:index] if cell.cell_type == "markdown"]
    texts.append((ROOT / "nnlib" / "__init__.py").read_text())
    if module:
        texts.append((ROOT / "nnlib" / f"{module}.py").read_text())
    return flat("\n".join(texts))


@pytest.mark.parametrize("path", [p for p in SOURCES if number(p) > 0], ids=lambda p: p.stem)
def test_every_hidden_test_quotes_the_instruction_that_states_it(path):
    """Does each hidden-test region start by quoting, word for word, the instruction (the
    markdown above its cell or the module's docstrings) that tells the student what it checks?

    This is the hidden-test audit: a hidden test may only check what an honest student was
    told. Its ``# Stated: "..."`` lines name where; this test checks that the quotes are there.
    """
    from autograder.definitions import split_hidden

    notebook = nbformat.read(path, as_version=4)
    n = number(path)
    module = release.NOTEBOOK_MODULES.get(n)
    problems = []
    for index, cell in enumerate(notebook.cells):
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for segment in split_hidden(cell.source):
            if not segment.hidden:
                continue
            quotes = [m.group(1) for line in segment.source.strip().splitlines()
                      if (m := STATED.match(line))]
            if not quotes:
                problems.append(f"{meta['grade_id']}: a hidden region without a '# Stated:' line")
            read = instructions_before(notebook, index, module)
            problems += [f"{meta['grade_id']}: {quote!r} is not in the instructions above it"
                         for quote in quotes if flat(quote) not in read]
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------- tables kept by hand

README_ROW = re.compile(r"^\| `(\d\d_\w+)` \|", re.MULTILINE)
PATH_ROW = re.compile(r"^\| (\d+)\. [^|]+ \|", re.MULTILINE)


def test_the_readme_lists_every_notebook_in_course_order():
    """Does the README's table for students have one row per notebook, in course order, and
    no row for a notebook that does not exist?"""
    listed = README_ROW.findall((ROOT / "README.md").read_text())
    assert listed == [path.stem for path in SOURCES]


def test_the_path_through_the_course_lists_every_notebook_after_the_introduction():
    """Does the introduction's table of the path through the course number every notebook
    after it, in order?"""
    intro = "\n".join(cell.source for cell in nbformat.read(GLOSSARY, as_version=4).cells
                      if cell.cell_type == "markdown")
    numbers = [int(n) for n in PATH_ROW.findall(intro)]
    assert numbers == [number(path) for path in SOURCES if number(path) > 0]
