"""The exercises' numbers: defined once by the master notebooks' headings (``exercises``).

Inserting an exercise takes its heading in the master notebook and its solution region in the
module, then ``python -m autograder renumber``: every later number moves up by one, in the
notebooks, the library, the tests and the README, and the release is made from that.
"""

import re
import shutil

import nbformat
import pytest

from autograder import definitions, exercises, release

NEW = '''

def clip_input(z):
    """``z`` clipped to [-10, 10] (an exercise inserted by the test)."""
    ### BEGIN SOLUTION Exercise 1.99: implement clip_input
    return np.clip(z, -10.0, 10.0)
    ### END SOLUTION
'''


def test_the_course_is_numbered_in_order_and_agrees_with_its_modules():
    """Do the repository's headings number every notebook's exercises 1, 2, 3..., with
    each module's solution region naming an exercise heading of its notebook?"""
    assert exercises.problems() == []
    assert exercises.renumbering() == {}
    assert len(exercises.module_labels()) >= 50


@pytest.mark.parametrize("text, expected", [
    ("Exercises 2.3 to 2.5, and Exercise 2.4", "Exercises 2.4 to 2.6, and Exercise 2.5"),
    ("### Exercise 2.4 and 2.5: two at once", "### Exercise 2.5 and 2.6: two at once"),
    ("[link](02_activations.ipynb#Exercise-2.3-and-2.4:-x)",
     "[link](02_activations.ipynb#Exercise-2.4-and-2.5:-x)"),
    ("question 2.5, exercises 2.3, 2.4", "question 2.6, exercises 2.4, 2.5"),
    ("a rate of 2.3, scaled by 2.4", "a rate of 2.3, scaled by 2.4"),
    ("Exercise 3.3 is not 2.3", "Exercise 3.3 is not 2.3"),
])
def test_only_references_to_exercises_are_renumbered(text, expected):
    """Are the numbers in references to exercises and questions mapped all at once (2.3 to
    2.4 and 2.4 to 2.5 without chaining), and no other number?"""
    mapping = {(2, 3): (2, 4), (2, 4): (2, 5), (2, 5): (2, 6)}
    assert exercises.renumbered(text, mapping) == expected


def test_an_exercise_inserted_in_the_module_and_the_notebook_is_renumbered_and_released(
        tmp_path):
    """An exercise added in a scratch copy by editing only the master notebook and the
    module: does ``problems`` say the numbers are out of order, and ``renumber`` then number
    it 1.2, move every later exercise of notebook 1 up by one wherever it is named (the
    notebook's text, the module, a test, the README), and leave a course whose release
    stubs it with its new label?"""
    solutions = tmp_path / "solutions"
    shutil.copytree(release.SOURCE_NOTEBOOKS, solutions,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_one.py").write_text('HINT = "see Exercise 1.2 and 1.5"\n')
    (tmp_path / "README.md").write_text("Exercise 1.1, then Exercise 1.2; Exercise 2.2.\n")
    path = solutions / "01_perceptron.ipynb"
    notebook = nbformat.read(path, as_version=4)
    before = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "markdown"
                  and "### Exercise 1.2:" in cell.source)
    notebook.cells.insert(before, nbformat.v4.new_markdown_cell(
        "### Exercise 1.99: clip the input\n\nImplement `clip_input` in `nnlib/perceptron.py`."))
    nbformat.write(notebook, path)
    module = solutions / "nnlib" / "perceptron.py"
    module.write_text(module.read_text() + NEW)
    old = exercises.headings(path)[0]

    assert any("expected 1.1, 1.2" in problem for problem in exercises.problems(solutions))
    changed = exercises.renumber(tmp_path)
    assert {"solutions/01_perceptron.ipynb", "solutions/nnlib/perceptron.py",
            "tests/test_one.py", "README.md"} <= set(changed)
    assert exercises.problems(solutions) == []
    assert exercises.headings(path)[0] == [(1, k) for k in range(1, len(old) + 1)]
    labels = exercises.module_labels(solutions)
    assert labels[(1, 2)] == ("perceptron", "clip_input")
    assert labels[(1, 3)] == ("perceptron", "perceptron_predict")
    assert (tmp_path / "tests" / "test_one.py").read_text() == \
        'HINT = "see Exercise 1.3 and 1.6"\n'
    assert (tmp_path / "README.md").read_text() == \
        "Exercise 1.1, then Exercise 1.3; Exercise 2.2.\n"
    text = nbformat.read(path, as_version=4)
    assert "(Exercise 1.4 below)" in "".join(cell.source for cell in text.cells)

    assert "clip_input" in definitions.student_functions(module.read_text(), "perceptron.py")
    release.release_library(solutions / "nnlib", tmp_path / "nnlib")
    stub = (tmp_path / "nnlib" / "perceptron.py").read_text()
    assert 'ExerciseNotDone("Exercise 1.2: implement clip_input")' in stub
    assert 'ExerciseNotDone("Exercise 1.3: implement perceptron_predict")' in stub
    written = release.release_notebooks(solutions, tmp_path / "notebooks")
    assert [p.name for p in written] == [p.name for p in release.notebooks_in(solutions)]


def readme_modules():
    """``{module: (notebook, what the row says)}`` of the README's "nnlib at a glance"."""
    text = (release.ROOT / "README.md").read_text().split("## nnlib at a glance", 1)[1]
    rows = re.findall(r"^\| `(\w+)` \| (\d+|\(provided\)) \| (.*) \|$", text, re.MULTILINE)
    return {module: (notebook, said) for module, notebook, said in rows}


def numbers_said(text, notebook):
    """The exercise numbers a row names: ``1.1, 1.2``, ranges ``2.1-2.9``, in its last
    parentheses."""
    found = set()
    for first, last in re.findall(r"(\d+\.\d+)(?:-(\d+\.\d+))?", text.rsplit("(", 1)[1]):
        start = int(first.split(".")[1])
        end = int(last.split(".")[1]) if last else start
        found |= {(notebook, k) for k in range(start, end + 1)}
    return found


def test_the_readme_lists_every_module_with_its_exercises():
    """Does the README's table of nnlib list, for each notebook's module, its notebook, every
    function the student implements and exactly the exercises that implement them?"""
    rows, labels = readme_modules(), exercises.module_labels()
    for notebook, module in release.NOTEBOOK_MODULES.items():
        assert module in rows, f"README's nnlib table has no row for {module}"
        said_notebook, said = rows[module]
        assert said_notebook == f"{notebook:02d}", (module, said_notebook)
        mine = {number: function for number, (owner, function) in labels.items()
                if owner == module}
        assert numbers_said(said, notebook) == set(mine), (
            f"{module}: the README names exercises {sorted(numbers_said(said, notebook))}, "
            f"the module {sorted(mine)}")
        for function in mine.values():
            assert f"`{function}`" in said or ("derivative" in function and "derivative" in said), (
                f"{module}: the README's row does not name {function}")


def test_each_notebooks_module_is_read_from_the_labels(tmp_path):
    """Is the module of each notebook the one whose solution regions name its exercises, and
    is a module holding two notebooks' exercises (or a notebook's in two modules) refused?"""
    assert release.NOTEBOOK_MODULES == {
        number: module for (number, _), (module, _) in sorted(exercises.module_labels().items())}
    assert 7 not in release.NOTEBOOK_MODULES  # the capstone's exercises use earlier modules
    library = tmp_path / "nnlib"
    shutil.copytree(release.REFERENCE_LIBRARY, library,
                    ignore=shutil.ignore_patterns("__pycache__"))
    moved = library / "autograd.py"
    moved.write_text(moved.read_text().replace("Exercise 9.1:", "Exercise 8.99:"))
    with pytest.raises(release.ReleaseError, match="autograd.py holds exercises of notebooks"):
        release.notebook_modules(library)
    moved.write_text(moved.read_text().replace("Exercise 9.", "Exercise 8."))
    with pytest.raises(release.ReleaseError, match="notebook 8 are in both"):
        release.notebook_modules(library)
