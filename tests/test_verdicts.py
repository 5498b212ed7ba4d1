"""Do the trusted checks agree with the notebooks' test cells?

The checks run here against an in-process stand-in for the sandbox proxy: the reference library
must pass every check, the stubbed student library fail every one, and libraries with one bug
(or one other right way of writing an exercise) must get the same verdict from a check as from
the notebook cell it mirrors, which runs here too.
"""

import contextlib
import copy
import io
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
from libraries import import_library

from autograder import release
from autograder.trusted import MISSING, Mismatch, StudentError
from autograder.verdicts import CHECKS, close, raises

ANSWER_CHECKS = {"test-gates-by-hand", "test-xor-by-hand", "test-gradient-by-hand",
                 "test-digits-accuracy"}
SEEDS = (0, 1, 2)


# ---------------------------------------------------------------- the proxy, in process


def _check_encodable(value):
    """Raise TypeError for an argument the real proxy could not send."""
    if value is None or isinstance(value, (bool, int, float, str, np.ndarray)):
        if isinstance(value, np.generic):
            raise TypeError(f"a numpy scalar {value!r} cannot be sent; use int() or float()")
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_encodable(item)
        return
    raise TypeError(f"a {type(value).__name__} cannot be sent to the student's code")


def decode(value):
    """A return value as the proxy hands it back: arrays, lists, None or str."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (np.ndarray, np.generic, bool, int, float)):
        array = np.array(value)
        if array.dtype == object:
            raise Mismatch(f"returned an array of objects, not numbers: {value!r}")
        return array
    if isinstance(value, (list, tuple)):
        return [decode(item) for item in value]
    raise Mismatch(f"returned a {type(value).__name__}, not numbers")


def _same(before, after):
    """Whether nested arguments are unchanged: same arrays (dtype, shape, values)."""
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and before.dtype == after.dtype
                and before.shape == after.shape and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, (list, tuple)):
        return (type(before) is type(after) and len(before) == len(after)
                and all(_same(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    return before == after


@contextlib.contextmanager
def _numpy_errors(strict):
    """Warnings stay warnings (as in the sandbox); with ``strict`` they become errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if strict:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                yield
        else:
            yield


@contextlib.contextmanager
def _as_nnlib(library):
    """Let ``import nnlib`` (and ``from nnlib.x import y``) find ``library`` for a while."""
    def ours(key):
        return key == "nnlib" or key.startswith("nnlib.")

    saved = {key: module for key, module in sys.modules.items() if ours(key)}
    for key in saved:
        del sys.modules[key]
    prefix = library.__name__
    sys.modules["nnlib"] = library
    for key, module in list(sys.modules.items()):
        if key.startswith(prefix + "."):
            sys.modules["nnlib" + key[len(prefix):]] = module
    try:
        yield
    finally:
        for key in [key for key in sys.modules if ours(key)]:
            del sys.modules[key]
        sys.modules.update(saved)


@contextlib.contextmanager
def _working_directory(folder):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _student_cells(path):
    """Sources of the code cells a student's answers come from: no grade cell, no demo."""
    for cell in nbformat.read(path, as_version=4).cells:
        grade = cell.metadata.get("nbgrader", {}).get("grade", False)
        if cell.cell_type != "code" or grade or "demo" in cell.metadata.get("tags", []):
            continue
        yield "\n".join(line for line in cell.source.splitlines()
                        if not line.lstrip().startswith("%"))


def _variable(value):
    try:
        _check_encodable(value)
        return decode(value)
    except (TypeError, Mismatch):
        return MISSING


class InProcessStudent:
    """The semantics of the trusted side's ``student`` proxy, run in this process.

    Parameters
    ----------
    library : module
        A copy of nnlib, imported under a name of its own.
    notebooks : Path
        The folder of the notebooks whose answer cells ``variables`` runs.
    """

    def __init__(self, library, notebooks):
        self.library, self.notebooks = library, Path(notebooks)

    def call(self, function, *args, _strict=False, _unchanged=False, _record_progress=False,
             **kwargs):
        _check_encodable(list(args) + list(kwargs.values()))
        module_name, name = function.split(".")
        target = getattr(getattr(self.library, module_name), name)
        args, kwargs = copy.deepcopy((args, kwargs))
        before = copy.deepcopy((args, kwargs))
        records = []
        options = dict(kwargs)
        if _record_progress:
            options["progress"] = lambda *values: records.append(decode(copy.deepcopy(values)))
        try:
            with _numpy_errors(_strict):
                value = target(*args, **options)
        except Exception as error:
            raise StudentError(type(error).__name__, str(error)) from None
        if _unchanged and not _same(before, (args, kwargs)):
            raise Mismatch(f"{function} modified its input")
        value = decode(value)
        return (value, records) if _record_progress else value

    def variables(self, notebook, names):
        namespace = {"__name__": "__main__"}
        with _as_nnlib(self.library), _working_directory(self.notebooks), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for source in _student_cells(self.notebooks / notebook):
                try:
                    exec(compile(source, notebook, "exec"), namespace)
                except Exception:
                    pass
        return {name: _variable(namespace.get(name, MISSING)) for name in names}


class GivenAnswers(InProcessStudent):
    """A student whose notebook variables are given (names not given are MISSING)."""

    def __init__(self, library, notebooks, answers):
        super().__init__(library, notebooks)
        self.answers = answers

    def variables(self, notebook, names):
        return {name: _variable(self.answers.get(name, MISSING)) for name in names}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def ref():
    return import_library(release.REFERENCE_LIBRARY, "verdicts_ref_nnlib")


@pytest.fixture(scope="session")
def reference_student():
    library = import_library(release.REFERENCE_LIBRARY, "verdicts_student_nnlib")
    return InProcessStudent(library, release.SOURCE_NOTEBOOKS)


@pytest.fixture(scope="session")
def stubbed_student(student_nnlib):
    return InProcessStudent(student_nnlib, release.STUDENT_NOTEBOOKS)


_copies = iter(range(10**6))


def mutant(tmp_path, module, old, new):
    """The reference library with ``old`` replaced by ``new`` (once) in ``module``.py."""
    folder = tmp_path / "nnlib"
    shutil.copytree(release.REFERENCE_LIBRARY, folder)
    path = folder / f"{module}.py"
    source = path.read_text()
    assert source.count(old) == 1, f"{old!r} is not in {module}.py exactly once"
    path.write_text(source.replace(old, new))
    return import_library(folder, f"verdicts_mutant_{next(_copies)}")


def run(grade_id, student, ref, seed=0):
    CHECKS[grade_id](student, ref, np.random.default_rng(seed))


def grade_cells():
    """grade_id -> (notebook name, source) of every auto-graded code cell."""
    cells = {}
    for path in sorted(release.SOURCE_NOTEBOOKS.glob("0*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade"):
                cells[meta["grade_id"]] = (path.name, cell.source)
    return cells


def cell_passes(grade_id, student):
    """Does the notebook's own test cell (hidden tests included) pass for this student?

    The cell runs, as in nbgrader, after the notebook's setup and answer cells, with
    ``import nnlib`` finding the student's library.
    """
    notebook, source = grade_cells()[grade_id]
    namespace = {"__name__": "__main__"}
    with _as_nnlib(student.library), _working_directory(student.notebooks), \
            warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for cell in _student_cells(student.notebooks / notebook):
            with contextlib.suppress(Exception):
                exec(compile(cell, notebook, "exec"), namespace)
        try:
            exec(compile(source, grade_id, "exec"), namespace)
        except Exception:
            return False
    return True


def check_passes(grade_id, student, ref, seed=0):
    try:
        run(grade_id, student, ref, seed)
    except (Mismatch, StudentError):
        return False
    return True


# ---------------------------------------------------------------- coverage


def test_every_graded_cell_has_exactly_one_check():
    """Is there a check for each auto-graded cell, and none for a cell that does not exist?"""
    ids = [meta["grade_id"]
           for path in sorted(release.SOURCE_NOTEBOOKS.glob("0*.ipynb"))
           for cell in nbformat.read(path, as_version=4).cells
           if cell.cell_type == "code" and (meta := cell.metadata.get("nbgrader", {})).get("grade")]
    assert len(ids) == len(set(ids)) == 39
    assert set(CHECKS) == set(ids)


# ---------------------------------------------------------------- reference and stubs


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("grade_id", sorted(CHECKS))
def test_reference_passes(grade_id, seed, reference_student, ref):
    """Does the reference solution, answers included, pass every check whatever the draw?"""
    run(grade_id, reference_student, ref, seed)


def test_reference_passes_all_checks_in_a_few_seconds(reference_student, ref):
    """Is one complete submission checked quickly (the digits data already loaded)?"""
    run("test-digits-accuracy", reference_student, ref)
    start = time.perf_counter()
    for grade_id in CHECKS:
        run(grade_id, reference_student, ref, seed=7)
    assert time.perf_counter() - start < 20.0


@pytest.mark.parametrize("grade_id", sorted(CHECKS))
def test_stubbed_library_fails(grade_id, stubbed_student, ref):
    """Does the released library, every exercise a stub, fail every check?"""
    with pytest.raises((Mismatch, StudentError)):
        run(grade_id, stubbed_student, ref)


@pytest.mark.parametrize("grade_id", sorted(ANSWER_CHECKS))
def test_answers_still_none_fail(grade_id, reference_student, ref):
    """With a complete library but the released notebooks' answers (None), do answers fail?"""
    student = InProcessStudent(reference_student.library, release.STUDENT_NOTEBOOKS)
    with pytest.raises(Mismatch, match="answer cell"):
        run(grade_id, student, ref)


def test_variables_come_from_the_answer_cells(reference_student):
    """Does the stand-in proxy run the answer cells and decode what they set?"""
    got = reference_student.variables("07_capstone.ipynb",
                                      ["hidden_sizes", "epochs", "no_such_name"])
    assert isinstance(got["hidden_sizes"], list) and got["hidden_sizes"][0].ndim == 0
    assert got["epochs"].dtype.kind == "i"
    assert got["no_such_name"] is MISSING


# ---------------------------------------------------------------- wrong answers


@pytest.mark.parametrize("grade_id, answers", [
    ("test-gates-by-hand", {"w_and": np.array([1.0, 1.0]), "b_and": -0.5,
                            "w_or": np.array([1.0, 1.0]), "b_or": -0.5}),
    ("test-gates-by-hand", {"w_and": np.array([1.0, 1.0, 1.0]), "b_and": -1.5,
                            "w_or": np.array([1.0, 1.0]), "b_or": -0.5}),
    ("test-xor-by-hand", {"W1": np.array([[6.0, 6.0], [-6.0, -6.0]]), "b1": np.array([-3.0, 9.0]),
                          "W2": np.array([[6.0, 6.0]]), "b2": np.array([-3.0])}),
    ("test-xor-by-hand", {"W1": np.ones((2, 2)), "b1": np.zeros(2), "W2": np.ones((2, 1)),
                          "b2": np.zeros(1)}),
    ("test-gradient-by-hand", {"dL_dw2": 1.0, "dL_dw1": 2.0, "dL_db1": 4.0}),
    ("test-gradient-by-hand", {"dL_dw2": 1.0, "dL_dw1": [1.0], "dL_db1": 2.0}),
    ("test-gradient-by-hand", {"dL_dw2": 1.0, "dL_dw1": 1.0}),
    ("test-digits-accuracy", {"hidden_sizes": (64,), "learning_rate": 0.2, "epochs": 100,
                              "batch_size": 32}),
    ("test-digits-accuracy", {"hidden_sizes": (64,), "learning_rate": 0.2, "epochs": 20.0,
                              "batch_size": 32}),
    ("test-digits-accuracy", {"hidden_sizes": (2,), "learning_rate": 0.2, "epochs": 2,
                              "batch_size": 32}),
])
def test_wrong_answers_fail(grade_id, answers, reference_student, ref):
    """Do wrong, misshapen, mistyped or missing answers fail their check?"""
    student = GivenAnswers(reference_student.library, reference_student.notebooks, answers)
    with pytest.raises(Mismatch):
        run(grade_id, student, ref)


def test_right_answers_given_as_lists_pass(reference_student, ref):
    """Are answers written as plain lists and ints accepted, as the cells accept them?"""
    answers = {"w_and": [1, 1], "b_and": -1.5, "w_or": (1.0, 1.0), "b_or": -0.5,
               "hidden_sizes": 64, "learning_rate": 0.2, "epochs": 20, "batch_size": 32}
    student = GivenAnswers(reference_student.library, reference_student.notebooks, answers)
    run("test-gates-by-hand", student, ref)
    run("test-digits-accuracy", student, ref)


# ---------------------------------------------------------------- mutants

NAIVE_SIGMOID = ("activations",
                 "    e = np.exp(-np.abs(z))\n"
                 "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                 "    return 1.0 / (1.0 + np.exp(-z))")
ONES_RELU_DERIVATIVE = ("activations", "    return np.where(z > 0, 1.0, 0.0)\n",
                        "    return np.ones_like(z)\n")
STEP_AT_ZERO = ("perceptron", "    return np.where(z > 0, 1.0, 0.0)",
                "    return np.where(z >= 0, 1.0, 0.0)")
NAIVE_SOFTMAX = ("activations", "    shifted = np.exp(z - z.max(axis=1, keepdims=True))",
                 "    shifted = np.exp(z)")
SIGMOID_DERIVATIVE_AT_S = ("activations", "    s = sigmoid(z)\n    return s * (1.0 - s)",
                           "    return z * (1.0 - z)")
MSE_MEAN = ("losses", "    return float(np.sum((prediction - target) ** 2) / n)",
            "    return float(np.mean((prediction - target) ** 2))")
BCE_OTHER_EPSILON = ("losses", "EPSILON = np.finfo(np.float64).eps", "EPSILON = 1e-15")
DW_WRONG_SIGN = ("backprop", "        dW[i] = delta.T @ cache.A[layer - 1]",
                 "        dW[i] = -(delta.T @ cache.A[layer - 1])")
DW_TRANSPOSED = ("backprop", "        dW[i] = delta.T @ cache.A[layer - 1]",
                 "        dW[i] = (delta.T @ cache.A[layer - 1]).T")
DB_MEAN = ("backprop", "        db[i] = delta.sum(axis=0)", "        db[i] = delta.mean(axis=0)")
HE_TOO_SMALL = ("network", "else np.sqrt(2.0 / n_in)", "else np.sqrt(1.0 / n_in)")
INIT_OTHER_DRAWS = ("network", "weights.append(rng.normal(0.0, std, size=(n_out, n_in)))",
                    "weights.append(rng.normal(0.0, std, size=(n_in, n_out)).T.copy())")
INIT_UNSEEDED = ("network", "weights.append(rng.normal(0.0, std, size=(n_out, n_in)))",
                 "weights.append(np.random.normal(0.0, std, size=(n_out, n_in)))")
DROPS_LAST_BATCH = ("training", "for start in range(0, n, batch_size):",
                    "for start in range(0, n - batch_size + 1, batch_size):")
NEVER_SHUFFLES = ("training", "order = rng.permutation(n) if shuffle else np.arange(n)",
                  "order = np.arange(n)")
GLOBAL_SHUFFLE = ("training", "order = rng.permutation(n) if shuffle else np.arange(n)",
                  "order = np.random.permutation(n) if shuffle else np.arange(n)")
UNWEIGHTED_HISTORY = ("training",
                      "loss_value(Xb, Yb, weights, biases, activations, loss) * len(batch)",
                      "loss_value(Xb, Yb, weights, biases, activations, loss) * batch_size")
NO_PROGRESS = ("training", "        report(epoch, history[-1], weights, biases)\n", "")
PERCEPTRON_NO_STOP = ("perceptron", "        if n_wrong == 0:\n            break\n", "")
CACHE_WITHOUT_INPUT = ("network", "    A_list, Z_list = [X], [None]", "    A_list, Z_list = [], []")


# name: (edit, the checks it fails, checks it still passes)
MUTANTS = {
    "naive-sigmoid": (NAIVE_SIGMOID, {"test-sigmoid-stable"}, {"test-sigmoid"}),
    "relu-derivative-ones": (ONES_RELU_DERIVATIVE, {"test-relu-derivative"}, {"test-relu"}),
    "step-fires-at-zero": (STEP_AT_ZERO, {"test-step", "test-perceptron-predict"}, set()),
    "naive-softmax": (NAIVE_SOFTMAX, {"test-softmax-stable"}, {"test-softmax"}),
    # the gradient check's cell differentiates the student's own loss: a wrong loss fails it
    "mse-mean": (MSE_MEAN, {"test-mse", "test-backprop-gradient-check"},
                 {"test-mse-derivative"}),
    # the training cells compare with a loop of the student's own backpropagation
    "sigmoid-derivative-at-s": (SIGMOID_DERIVATIVE_AT_S,
                                {"test-sigmoid-derivative", "test-backprop-gradient-check"},
                                {"test-train-network-per-sample", "test-train-network-batches"}),
    "bce-other-epsilon": (BCE_OTHER_EPSILON, {"test-bce-stable", "test-bce-derivative"},
                          {"test-bce"}),
    "dW-wrong-sign": (DW_WRONG_SIGN, {"test-backprop-gradient-check",
                                      "test-backprop-single-neuron", "test-backprop-batch"},
                      {"test-backprop-shapes"}),
    "dW-transposed": (DW_TRANSPOSED, {"test-backprop-gradient-check", "test-backprop-shapes"},
                      set()),
    "db-mean": (DB_MEAN, {"test-backprop-gradient-check", "test-backprop-batch"},
                {"test-backprop-shapes"}),
    "he-too-small": (HE_TOO_SMALL, {"test-init-params-scale"}, {"test-init-params-shapes"}),
    "init-other-draws": (INIT_OTHER_DRAWS, set(),
                         {"test-init-params-scale", "test-init-params-shapes",
                          "test-train-network-per-sample", "test-train-network-batches"}),
    "init-unseeded": (INIT_UNSEEDED, {"test-init-params-scale"}, {"test-init-params-shapes"}),
    "drops-last-batch": (DROPS_LAST_BATCH, {"test-train-network-batches"},
                         {"test-train-network-per-sample"}),
    "never-shuffles": (NEVER_SHUFFLES, {"test-train-network-seeds"},
                       {"test-train-network-batches"}),
    "global-shuffle": (GLOBAL_SHUFFLE, {"test-train-network-seeds"},
                       {"test-train-network-per-sample"}),
    "unweighted-history": (UNWEIGHTED_HISTORY, {"test-train-network-batches"},
                           {"test-train-network-per-sample"}),
    "no-progress": (NO_PROGRESS, {"test-train-network-xor"}, {"test-train-network-batches"}),
    "perceptron-never-stops": (PERCEPTRON_NO_STOP, {"test-perceptron-train"},
                               {"test-perceptron-predict"}),
    "cache-without-input": (CACHE_WITHOUT_INPUT, {"test-forward-pass-with-cache"},
                            {"test-forward-pass"}),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_mutant_fails_the_checks_of_the_cells_it_fails(name, tmp_path, reference_student, ref):
    """Does a library with one bug fail the checks whose cells it fails, and pass the others?"""
    edit, fails, passes = MUTANTS[name]
    student = InProcessStudent(mutant(tmp_path, *edit), reference_student.notebooks)
    verdicts = {grade_id: (cell_passes(grade_id, student), check_passes(grade_id, student, ref))
                for grade_id in fails | passes}
    assert verdicts == {**{g: (False, False) for g in fails}, **{g: (True, True) for g in passes}}


# name: (edit, the checks of the cells it touches, which it must pass like the cells)
HONEST_VARIANTS = {
    "sigmoid-logaddexp": (("activations", NAIVE_SIGMOID[1],
                           "    return np.exp(-np.logaddexp(0.0, -z))"),
                          {"test-sigmoid", "test-sigmoid-stable", "test-sigmoid-derivative"}),
    "tanh-from-sigmoid": (("activations", "    return np.tanh(z)\n",
                           "    return 2.0 * sigmoid(2.0 * z) - 1.0\n"), {"test-tanh"}),
    "relu-mask": (("activations", "    return np.maximum(z, 0.0)", "    return z * (z > 0)"),
                  {"test-relu", "test-forward-pass"}),
    "bce-log": (("losses", "np.log1p(-p)) / n)", "np.log(1.0 - p)) / n)"),
                {"test-bce", "test-bce-stable"}),
    "dW-other-product": (("backprop", DW_WRONG_SIGN[1],
                          "        dW[i] = (cache.A[layer - 1].T @ delta).T"),
                         {"test-backprop-gradient-check", "test-backprop-batch",
                          "test-train-network-per-sample", "test-train-network-batches"}),
    "perceptron-if": (("perceptron", "            error = y_i - float(step(x_i @ w + b))",
                       "            error = y_i - (1.0 if np.dot(w, x_i) + b > 0 else 0.0)"),
                      {"test-perceptron-train"}),
    "init-other-draws": (INIT_OTHER_DRAWS, {"test-init-params-scale", "test-init-params-shapes",
                                            "test-backprop-gradient-check",
                                            "test-train-network-per-sample",
                                            "test-train-network-batches"}),
}


@pytest.mark.parametrize("name", HONEST_VARIANTS)
def test_honest_variant_passes_like_the_cells(name, tmp_path, reference_student, ref):
    """Does another right way to write an exercise pass its cells and their checks alike?"""
    edit, grade_ids = HONEST_VARIANTS[name]
    student = InProcessStudent(mutant(tmp_path, *edit), reference_student.notebooks)
    for grade_id in sorted(grade_ids):
        assert cell_passes(grade_id, student), grade_id
        for seed in SEEDS:
            run(grade_id, student, ref, seed)


def test_forward_pass_that_modifies_its_input_fails(reference_student, ref):
    """Is a forward_pass that scales the caller's weights in place caught?"""
    library = import_library(release.REFERENCE_LIBRARY, "verdicts_modifying_nnlib")
    original = library.network.forward_pass

    def forward_pass(X, weights, biases, activations):
        output = original(X, weights, biases, activations)
        weights[0] *= 2.0
        return output

    library.network.forward_pass = forward_pass
    student = InProcessStudent(library, reference_student.notebooks)
    with pytest.raises(Mismatch, match="modified its input"):
        run("test-forward-pass", student, ref)
    run("test-forward-pass-with-cache", student, ref)


def test_sigmoid_overflow_is_reported_as_a_warning(tmp_path, reference_student, ref):
    """Does the naive sigmoid fail the stability check with a message about the warning?"""
    student = InProcessStudent(mutant(tmp_path, *NAIVE_SIGMOID), reference_student.notebooks)
    with pytest.raises(Mismatch, match="without a floating-point warning"):
        run("test-sigmoid-stable", student, ref)


# ---------------------------------------------------------------- helpers


def test_close_reports_shapes_and_error_not_values():
    """Does close say what differs (shape, count, largest error) without the expected values?"""
    close(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9], "same")
    with pytest.raises(Mismatch, match=r"shape \(2,\).*shape \(3,\)"):
        close(np.zeros(3), [0.123456, 0.654321], "f on x")
    with pytest.raises(Mismatch, match="1 of 2 entries off, by up to 0.5") as error:
        close(np.array([0.123456, 1.0]), [0.123456, 1.5], "f on x")
    assert "0.123456" not in str(error.value)
    with pytest.raises(Mismatch) as error:
        close(np.array(3.0), 2.0, "an answer", show_error=False)
    assert "1 of 1 entries off" in str(error.value) and "by up to" not in str(error.value)
    for missing in (None, MISSING, "text", [np.zeros(2), np.zeros(3)]):
        with pytest.raises(Mismatch):
            close(missing, [0.0, 0.0], "f on x")
    with pytest.raises(Mismatch, match="nan or inf"):
        close(np.array([np.inf, 0.0]), [1.0, 0.0], "f on x")


def test_raises_wants_the_right_error_and_message(reference_student):
    """Does raises fail when nothing is raised, another error is, or the message differs?"""
    call = ("network.forward_pass", np.zeros((2, 3)), [np.zeros((1, 2))], [np.zeros(1)],
            ["relu"])
    raises(reference_student, "ValueError", "from X of shape (2, 3)", "bad X", *call)
    with pytest.raises(Mismatch, match="mentioning"):
        raises(reference_student, "ValueError", "layer 7", "bad X", *call)
    with pytest.raises(Mismatch, match="TypeError"):
        raises(reference_student, "TypeError", "", "bad X", *call)
    with pytest.raises(Mismatch, match="to be raised"):
        raises(reference_student, "ValueError", "", "fine", "activations.relu", np.zeros(2))
