"""Tests for the student release: autograder.release and the generated nnlib/."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from libraries import released_library

from autograder import release
from nnlib._exercises import VALIDATE_WIDTH
from nnlib.activations import ACTIVATIONS
from nnlib.autograd import Graph
from nnlib.losses import LOSSES
from nnlib.optimization import BatchNormCache, init_state

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "nnlib"
STUDENT = ROOT / "nnlib"

X2 = np.array([[0.0, 1.0], [1.0, 0.0]])
PARAMS = ([np.ones((1, 2))], [np.zeros(1)])
# Valid arguments for every exercise function, so that only the stub can fail. The functions
# of the registries get theirs from there: one row of two scores suits every activation
# (softmax wants 2-D), and a row of probabilities against a one-hot row suits every loss.
REGISTERED_CALLS = {
    **{function.__name__: ([[0.0, 1.0]],)
       for activation in ACTIVATIONS.values()
       for function in (activation.function, activation.derivative) if function is not None},
    **{function.__name__: ([[0.5, 0.5]], [[1.0, 0.0]])
       for loss in LOSSES.values() for function in (loss.function, loss.derivative)},
}
# The other exercises, by hand.
OTHER_CALLS = {
    "step": ([0.5],),
    "perceptron_predict": (X2, np.ones(2), 0.0),
    "perceptron_train": (X2, np.array([0.0, 1.0])),
    "init_params": ([2, 1],),
    "forward_pass": (X2, *PARAMS, ["identity"]),
    "forward_pass_with_cache": (X2, *PARAMS, ["identity"]),
    "count_parameters": ([2, 3, 1],),
    "multiply_adds": ([2, 3, 1], 4),
    "numerical_gradient": (np.sum, [1.0]),
    "relative_error": ([1.0], [1.0]),
    "output_delta": ([[0.5]], [[0.0]], [[1.0]], ACTIVATIONS["sigmoid"], LOSSES["mse"]),
    "backpropagation": (X2, np.ones((2, 1)), *PARAMS, ["identity"], "mse"),
    "layer_gradient_norms": (X2, np.ones((2, 1)), *PARAMS, ["identity"], "mse"),
    "gradient_descent_update": (*PARAMS, ([np.ones((1, 2))], [np.ones(1)]), 0.1),
    "train_network": (X2, np.ones((2, 1)), [2, 1], ["identity"]),
    "count_dead_units": (X2, [np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)],
                         ["relu", "identity"]),
    **{update: (*PARAMS, ([np.ones((1, 2))], [np.ones(1)]), init_state(*PARAMS), 0.1)
       for update in ("momentum_update", "rmsprop_update", "adam_update")},
    "step_schedule": (3, 0.1),
    "cosine_schedule": (3, 0.1, 10),
    "l2_penalty": (PARAMS[0], 0.1),
    "l2_gradient": (PARAMS[0], 0.1),
    "dropout_forward": (X2, 0.5),
    "dropout_backward": (X2, X2),
    "batchnorm_forward": (X2, np.ones(2), np.zeros(2)),
    "batchnorm_backward": (X2, BatchNormCache(X2, np.ones(2), np.ones(2))),
    "early_stopping": ([1.0, 0.5],),
    "local_derivatives": ("mul", (2.0, 3.0), 6.0),
    "topological_order": ([(1,), ()], 0),
    "backward_pass": (Graph(["add", "input", "input"], [(1, 2), (), ()], [3.0, 1.0, 2.0],
                            [None] * 3, 0),),
    "scalar_gradients": (X2, np.ones((2, 1)), *PARAMS, ["identity"], "mse"),
    "unbroadcast": (np.ones((2, 3)), (3,)),
    "array_vjp": ("sum", 1.0, (np.ones(2),), 2.0),
    "tensor_gradients": (X2, np.ones((2, 1)), *PARAMS, ["identity"], "mse"),
}
CALLS = {**REGISTERED_CALLS, **OTHER_CALLS}


def exercises():
    """(module, function, label) for every solution region of the reference library."""
    found = []
    for path in sorted(REFERENCE.glob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for line in lines[node.lineno - 1:node.end_lineno]:
                    if release.BEGIN in line:
                        found.append((path.stem, node.name, line.split(release.BEGIN)[1].strip()))
    return found


def solution_lines(text):
    """The non-blank lines strictly inside solution regions."""
    inside, lines = False, []
    for line in text.splitlines():
        if release.BEGIN in line:
            inside = True
        elif release.END in line:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


# ---------------------------------------------------------------- the committed student copy


def test_student_library_is_in_sync():
    """Is nnlib/ exactly what `make release` would write from solutions/nnlib?"""
    stale = release.stale_files()
    assert stale == [], f"nnlib/ is stale in {stale}: run `make release` and commit the result"


def test_release_check_command_agrees():
    """Does `python -m autograder release --check` exit 0 on the committed copy?"""
    result = subprocess.run([sys.executable, "-m", "autograder", "release", "--check"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_exercise_is_numbered_once_and_called_here():
    """Does every exercise have a unique label, and arguments to call it with here?"""
    found = exercises()
    labels = [label for _, _, label in found]
    assert len(labels) == len(set(labels)), f"duplicate exercise labels: {labels}"
    assert all(label.startswith("Exercise ") for label in labels), labels
    names = {name for _, name, _ in found}
    missing = sorted(f"{module}.{name}" for module, name, _ in found if name not in CALLS)
    assert missing == [], (
        f"no arguments to call {', '.join(missing)} with: register it in ACTIVATIONS or "
        f"LOSSES, or add valid arguments for it to OTHER_CALLS in {Path(__file__).name}")
    stale = sorted(set(OTHER_CALLS) - names)
    assert stale == [], (
        f"OTHER_CALLS in {Path(__file__).name} has arguments for {', '.join(stale)}, which "
        f"are no exercise: remove them")


@pytest.mark.parametrize(("module", "function", "label"), exercises())
def test_every_stub_raises_naming_its_exercise(module, function, label, tmp_path):
    """Does each stub raise ExerciseNotDone (a NotImplementedError) with its label, and say in
    one line what to do, once earlier notebooks are done?"""
    own = next(n for n, name in release.NOTEBOOK_MODULES.items() if name == module)
    student = released_library(tmp_path / "nnlib", f"student_nnlib_{module}_{function}",
                               complete=release.modules_before(own))
    func = getattr(getattr(student, module), function)
    student.this_notebook(own)
    with pytest.raises(student.ExerciseNotDone) as raised:
        func(*CALLS[function])
    assert isinstance(raised.value, NotImplementedError)
    assert str(raised.value) == label
    assert f"implement {function}" in label
    exercise = label.split(":")[0]
    one = f"{exercise} is not done yet: implement `{function}` in nnlib/{module}.py."
    two = f"{exercise} is not done yet.\nImplement `{function}` in nnlib/{module}.py."
    shown = "\n".join(raised.value._render_traceback_())  # what IPython shows
    assert shown == (one if len(one) <= VALIDATE_WIDTH else two)  # what Validate shows whole


def test_an_earlier_notebooks_stub_says_this_notebook_needs_it(tmp_path):
    """In notebook 6, does a stub of notebook 3 say it belongs there and is needed here?"""
    student = released_library(tmp_path / "nnlib", "student_nnlib_earlier")
    student.this_notebook(6)
    with pytest.raises(NotImplementedError) as raised:
        student.training.train_network(*CALLS["train_network"])
    assert raised.value._render_traceback_() == [
        "Exercise 3.1 (notebook 3) is not done yet; this notebook needs it.",
        "Implement `init_params` in nnlib/network.py."]
    student.this_notebook(3)
    assert raised.value._render_traceback_() == [
        "Exercise 3.1 is not done yet: implement `init_params` in nnlib/network.py."]


def test_only_modules_with_stubs_import_the_error():
    """Does every student module with a stub import ExerciseNotDone, and no other module?"""
    for path in sorted(STUDENT.glob("*.py")):
        text = path.read_text()
        has_stub = f"raise {release.STUB_ERROR}(" in text
        assert (release.STUB_IMPORT in text) == has_stub or path.name == "__init__.py", path.name


@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.py")), ids=lambda p: p.name)
def test_no_solution_line_reaches_students(path):
    """Does no line from inside a solution region appear in the student copy?"""
    student_text = (STUDENT / path.name).read_text()
    student_lines = {line.strip() for line in student_text.splitlines()}
    leaked = [line for line in solution_lines(path.read_text()) if line in student_lines]
    assert leaked == []
    assert release.BEGIN not in student_text and release.END not in student_text


def test_reference_solutions_are_complete():
    """Does the reference library itself run every exercise without a stub?"""
    import nnlib

    assert Path(nnlib.__file__).parent == REFERENCE
    for module, function, _ in exercises():
        getattr(getattr(nnlib, module), function)(*CALLS[function])


# ---------------------------------------------------------------- the generator


def test_strip_solutions_replaces_a_region_with_the_labelled_stub():
    """Is a region replaced by nbgrader's stub carrying the label, indented like the marker?"""
    source = ("def f(x):\n"
              "    y = x\n"
              "    ### BEGIN SOLUTION Exercise 9.1: implement f\n"
              "    return y + 1\n"
              "    ### END SOLUTION\n")
    assert release.strip_solutions(source) == (
        "from ._exercises import ExerciseNotDone\n"
        "\n"
        "\n"
        "def f(x):\n"
        "    y = x\n"
        "    # YOUR CODE HERE\n"
        '    raise ExerciseNotDone("Exercise 9.1: implement f")\n')


@pytest.mark.parametrize(("imports", "expected"), [
    ("import numpy as np\n\nfrom ._checks import a\nfrom .network import b\n",
     "import numpy as np\n\nfrom ._checks import a\n{import}\nfrom .network import b\n"),
    ("import numpy as np\n\nfrom ._checks import (\n    a,\n)\n",
     "import numpy as np\n\nfrom ._checks import (\n    a,\n)\n{import}\n"),
    ("import numpy as np\n", "import numpy as np\n\n{import}\n"),
    ('"""Doc."""\n', '"""Doc."""\n\n{import}\n'),
])
def test_the_errors_import_goes_where_isort_puts_it(imports, expected):
    """Is the import of ExerciseNotDone placed in sorted order among the module's imports?"""
    region = "\n\ndef f():\n    ### BEGIN SOLUTION Exercise 9.1: implement f\n    return 1\n" \
             "    ### END SOLUTION\n"
    stripped = release.strip_solutions(imports + region)
    assert stripped.startswith(expected.replace("{import}", release.STUB_IMPORT))


@pytest.mark.parametrize(("source", "message"), [
    ("### BEGIN SOLUTION Exercise 1\n### BEGIN SOLUTION Exercise 2\n### END SOLUTION\n",
     "encountered nested begin solution"),
    ("### BEGIN SOLUTION Exercise 1\nx = 1\n", "no end solution"),
    ("x = 1\n### END SOLUTION\n", "2: 'END SOLUTION' without a matching"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "1: 'BEGIN SOLUTION' needs an exercise "
                                                      "label"),
])
def test_malformed_markers_are_errors(source, message):
    """Are nested, unterminated, unmatched and unlabelled markers refused, naming the file?"""
    with pytest.raises(release.ReleaseError, match=f"broken.py:?.*{message}"):
        release.strip_solutions(source, "broken.py")


def test_release_removes_stale_files_and_is_idempotent(tmp_path):
    """Does a release into a folder drop files with no source, and change nothing when rerun?"""
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.py").write_text("x = 1\n### BEGIN SOLUTION Exercise 1: a\nx = 2\n"
                                 "### END SOLUTION\n")
    target = tmp_path / "dst"
    target.mkdir()
    (target / "old.py").write_text("left over\n")
    release.release_library(source, target)
    assert sorted(p.name for p in target.iterdir()) == ["a.py"]
    assert "x = 2" not in (target / "a.py").read_text()
    assert release.stale_files(source, target) == []
    first = (target / "a.py").stat().st_mtime_ns
    release.release_library(source, target)
    assert (target / "a.py").stat().st_mtime_ns == first
    (target / "a.py").write_text("edited by hand\n")
    assert release.stale_files(source, target) == ["a.py"]


def test_complete_modules_keep_their_solutions(tmp_path):
    """Does an assignment library keep earlier notebooks' modules whole and strip the rest?"""
    release.release_library(REFERENCE, tmp_path, complete=["perceptron", "activations"])
    activations = (tmp_path / "activations.py").read_text()
    assert "BEGIN SOLUTION" not in activations and "np.maximum(z, 0.0)" in activations
    network = (tmp_path / "network.py").read_text()
    assert "BEGIN SOLUTION" not in network and 'raise ExerciseNotDone("Exercise 3.1' in network
    with pytest.raises(ValueError, match="unknown module.*'activation'"):
        release.release_library(REFERENCE, tmp_path, complete=["activation"])


def test_library_kind_tells_reference_from_student(tmp_path):
    """Does nnlib know whether it is the reference or a student copy?"""
    import nnlib

    assert nnlib.library_kind() == "reference"
    student = released_library(tmp_path / "nnlib", "student_nnlib_kind", complete=["perceptron"])
    assert student.library_kind() == "student"



def test_check_setup_wants_the_local_copy_or_a_student_copy(tmp_path, monkeypatch, capsys):
    """Does check_setup accept the copy next to the notebook, and refuse the solutions elsewhere?"""
    import nnlib

    monkeypatch.chdir(REFERENCE.parent)  # solutions/: its own nnlib is the one imported
    nnlib.check_setup()
    assert "the reference copy in" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)  # no nnlib/ here: the reference is the wrong one
    with pytest.raises(RuntimeError, match="imported the reference solutions"):
        nnlib.check_setup()
    (tmp_path / "nnlib").mkdir()  # a local nnlib/ that was not imported
    with pytest.raises(RuntimeError, match="has its own nnlib/"):
        nnlib.check_setup()
