"""ResilientExecute on small notebooks, in a real kernel: what a grader does when a cell
hangs, and when the notebook's set-up does."""

import tempfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.preprocessors import CELL_TIMEOUT, KERNEL_STUCK, SETUP_HUNG, ResilientExecute

pytestmark = pytest.mark.slow  # every test here starts kernels

HANGS = ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
         "while True:\n    pass\n")


def graded(source, grade_id):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "grade_id": grade_id, "points": 1, "schema_version": 3}
    return cell


class Counted(ResilientExecute):
    """ResilientExecute that counts the kernels it starts."""

    kernels = 0

    def setup_kernel(self, **kwargs):
        type(self).kernels += 1
        return super().setup_kernel(**kwargs)


def run(cells, folder=None):
    """Run ``cells`` with the kernel working in ``folder`` (a temporary one by default)."""
    Counted.kernels = 0
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    executor = Counted(timeout=2, responsive_timeout=1, shutdown_kernel="immediate")
    with tempfile.TemporaryDirectory() as scratch:
        executor.preprocess(notebook, {"metadata": {"path": str(folder or scratch)}})
    return notebook, Counted.kernels


def errors(cell):
    return [output.ename for output in cell.outputs if output.output_type == "error"]


def test_a_set_up_that_hangs_twice_fails_every_cell_below_at_once():
    """Is a hung set-up cell tried once more in a new kernel, and then every cell below it
    failed without running (two timeouts, not one per cell)?"""
    cells = [new_code_cell("x = 1"), new_code_cell(HANGS)] + [
        graded(f"assert x == 1  # test {i}", f"test-{i}") for i in range(4)]
    notebook, kernels = run(cells)
    assert kernels == 2, f"expected the first kernel and one for the retry, got {kernels}"
    assert CELL_TIMEOUT in errors(notebook.cells[1]) and KERNEL_STUCK in errors(notebook.cells[1])
    for cell in notebook.cells[2:]:
        assert errors(cell) == [SETUP_HUNG], cell.outputs
        assert "cell 1" in cell.outputs[0].evalue


def test_a_hung_cell_after_the_set_up_fails_alone():
    """Does a graded cell that hangs cost only itself: the kernel restarts, the set-up is
    replayed, and the cells below still pass?"""
    cells = [new_code_cell("x = 1"), graded(HANGS, "test-hangs"),
             graded("assert x == 1", "test-after"), graded("assert x + 1 == 2", "test-last")]
    notebook, kernels = run(cells)
    assert kernels == 2
    assert KERNEL_STUCK in errors(notebook.cells[1])
    assert errors(notebook.cells[2]) == [] and errors(notebook.cells[3]) == []


def test_a_set_up_that_hangs_once_is_forgiven():
    """Does a set-up cell that hangs only the first time (a slow start) cost nothing once
    the second try in a new kernel finishes?"""
    flaky = ("import os, signal\nif not os.path.exists('tried-once'):\n"
             "    open('tried-once', 'w').close()\n"
             "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass\n"
             "y = 2\n")
    import os
    import tempfile

    folder = tempfile.mkdtemp()
    cells = [new_code_cell(f"import os\nos.chdir({folder!r})\nx = 1"), new_code_cell(flaky),
             graded("assert x == 1 and y == 2", "test-both")]
    notebook, kernels = run(cells)
    assert kernels == 2
    assert errors(notebook.cells[1]) == [] and errors(notebook.cells[2]) == []
    assert os.path.exists(os.path.join(folder, "tried-once"))
    nbformat.validate(notebook)


def test_nothing_the_kernel_writes_is_left_in_its_folder(tmp_path):
    """Are the files and folders the kernel wrote where it runs removed once it is done, and
    what was there before it started (the submission nbgrader copied) kept?"""
    (tmp_path / "nnlib").mkdir()
    (tmp_path / "nnlib" / "mine.py").write_text("x = 1\n")
    cells = [new_code_cell("import os\nos.makedirs('made/deeper')\n"
                           "open('made/deeper/leak.txt', 'w').write('kernel')\n"
                           "open('nnlib/extra.py', 'w').write('y = 2')")]
    notebook, _ = run(cells, tmp_path)
    assert errors(notebook.cells[0]) == []
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "nnlib", "nnlib/mine.py"]
