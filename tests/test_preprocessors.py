"""Tests for autograder.preprocessors that need no kernel."""

import os

from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.intake import read_submission
from autograder.preprocessors import ForgiveStderr, HideTestCode, Reports, restore_folder


def graded_cell(outputs, grade_id="test-x", points=2):
    cell = new_code_cell("secret_hidden_check()\nassert value == 42")
    cell.id = grade_id  # a random id could spell "1e9" or "secret" by chance
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "grade_id": grade_id, "points": points, "schema_version": 3}
    cell.outputs = outputs
    return cell


def test_stderr_of_a_test_cell_becomes_stdout():
    """Is a warning on stderr kept as text but no longer scored as a failure?"""
    notebook = new_notebook(cells=[graded_cell([new_output("stream", name="stderr",
                                                         text="RuntimeWarning: overflow\n")])])
    ForgiveStderr().preprocess(notebook, {})
    output = notebook.cells[0].outputs[0]
    assert output.name == "stdout" and "RuntimeWarning: overflow" in output.text


def test_stderr_of_other_cells_is_left_alone():
    """Does ForgiveStderr touch only grade cells?"""
    cell = new_code_cell("print(1)")
    cell.outputs = [new_output("stream", name="stderr", text="x\n")]
    notebook = new_notebook(cells=[cell])
    ForgiveStderr().preprocess(notebook, {})
    assert notebook.cells[0].outputs[0].name == "stderr"


def test_feedback_shows_name_verdict_and_hint_only():
    """Does a failed test cell keep only its name, 'failed' and the hint?"""
    error = new_output("error", ename="AssertionError",
                       evalue="f([1e9]): expected 1.0, got nan.\nHint: use the stable form",
                       traceback=["secret_hidden_check()", "assert value == 42"])
    notebook = new_notebook(cells=[graded_cell([error])])
    HideTestCode().preprocess(notebook, {})
    cell = notebook.cells[0]
    assert cell.source == "# test-x (2 points): failed"
    assert cell.outputs[0].text == "failed\nHint: use the stable form\n"
    assert "secret" not in str(cell) and "1e9" not in str(cell)


def test_feedback_for_a_passed_cell_and_a_dead_kernel():
    """Does a passing cell say 'passed', and a kernel death say what happened?"""
    passed = graded_cell([new_output("stream", name="stdout", text="internal value 42\n")])
    died = graded_cell([new_output("error", ename="KernelDied", evalue="the kernel died",
                                 traceback=[])], grade_id="test-y")
    notebook = new_notebook(cells=[passed, died])
    HideTestCode().preprocess(notebook, {})
    assert notebook.cells[0].outputs[0].text == "passed\n"
    assert notebook.cells[1].outputs[0].text == "failed\nHint: the kernel died\n"


def test_feedback_drops_outputs_that_show_test_code():
    """Is a student's own cell that printed a line of a later test stripped of that output?"""
    test = graded_cell([])
    test.source = "hidden_expected = secret_reference_answer(42)\nassert value == hidden_expected"
    leak = new_code_cell("print(stolen)")
    leak.outputs = [new_output("stream", name="stdout",
                               text="hidden_expected = secret_reference_answer(42)\n")]
    honest = new_code_cell("print(1 + 1)")
    honest.outputs = [new_output("stream", name="stdout", text="2\n")]
    notebook = new_notebook(cells=[leak, honest, test])
    HideTestCode().preprocess(notebook, {})
    assert "secret_reference_answer" not in str(notebook.cells[0].outputs)
    assert "showed code of the tests" in notebook.cells[0].outputs[0].text
    assert notebook.cells[1].outputs[0].text == "2\n"


def test_feedback_explains_an_overruled_test():
    """Does a test the trusted check overruled read 'failed' with the check's message?"""
    overruled = graded_cell([new_output(
        "error", ename="TrustedCheckFailed", evalue="sigmoid on random inputs of shape (3, 4): "
        "wrong values\nHint: the grader checked your functions again", traceback=[])])
    notebook = new_notebook(cells=[overruled])
    HideTestCode().preprocess(notebook, {})
    text = notebook.cells[0].outputs[0].text
    assert text.startswith("failed\nHint: sigmoid on random inputs of shape (3, 4)")


def test_the_kernel_folder_is_put_back_without_following_a_link(tmp_path):
    """Are files a kernel replaced by links (to a file, to a folder) put back from the copy
    read before it ran, what it added removed, and no link target touched or read?"""
    folder, outside = tmp_path / "work", tmp_path / "outside"
    (folder / "nnlib").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (outside / "secret.txt").chmod(0o600)
    (folder / "nnlib" / "mine.py").write_text("mine")
    (folder / "graded.ipynb").write_text("{}")
    before = read_submission(folder)
    (folder / "nnlib" / "mine.py").unlink()
    (folder / "nnlib" / "mine.py").symlink_to(outside / "secret.txt")
    (folder / "graded.ipynb").write_text("forged")
    (folder / "added").symlink_to(outside)
    (folder / "new.txt").write_text("new")
    links = restore_folder(folder, before)
    assert sorted(os.listdir(folder)) == ["graded.ipynb", "nnlib"]
    assert (folder / "nnlib" / "mine.py").read_text() == "mine"
    assert not (folder / "nnlib" / "mine.py").is_symlink()
    assert (folder / "graded.ipynb").read_text() == "{}"
    assert (outside / "secret.txt").read_text() == "secret"
    assert (outside / "secret.txt").stat().st_mode & 0o777 == 0o600
    assert links == [f"added -> {outside}", f"nnlib/mine.py -> {outside / 'secret.txt'}"]


def test_reports_are_read_back_by_kind(tmp_path):
    """Does the grader's report channel hand back what was added, by kind, in order?"""
    reports = Reports(tmp_path / "r.jsonl")
    reports.add("output-cut", text="a")
    reports.add("kernel-seconds", notebook="nb", seconds=1.5)
    reports.add("output-cut", text="b")
    assert [r["text"] for r in reports.read("output-cut")] == ["a", "b"]
    assert reports.read("kernel-seconds") == [{"kind": "kernel-seconds", "notebook": "nb",
                                               "seconds": 1.5}]
    assert Reports("").read() == [] and Reports(tmp_path / "none.jsonl").read() == []
