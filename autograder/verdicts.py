"""Trusted checks: what every auto-graded test cell verifies, decided outside the student's reach.

One check per ``grade_id`` of the master notebooks. A check mirrors its cell, visible and hidden
tests alike: it calls the student's nnlib functions through ``student`` (a proxy to a sandbox
that only ever sends numbers back) and compares what comes back with the reference library
``ref``, or with numerical gradients computed here from ``ref``'s forward functions. Next to the
cell's own inputs it draws fresh ones of the same kinds from ``rng``, a generator seeded
unpredictably at grading time, so no answer can be computed in advance.

A check returns None when the behaviour is right and raises ``Mismatch`` otherwise. A
``StudentError`` (the student's function raised) that escapes a check also fails it. Messages
say what was checked in general terms, never a hidden test's literal values.

Checks are registered with ``@check(grade_id)`` in ``CHECKS`` and called as
``CHECKS[grade_id](student, ref, rng)``.
"""

import functools

import numpy as np

from .trusted import MISSING, Mismatch, StudentError

CHECKS = {}


def check(grade_id):
    """Register ``fn(student, ref, rng) -> None`` as the trusted check of ``grade_id``.

    Parameters
    ----------
    grade_id : str
        The nbgrader ``grade_id`` of the test cell the check mirrors.

    Returns
    -------
    callable
        A decorator that returns the function unchanged.
    """

    def register(function):
        if grade_id in CHECKS:
            raise ValueError(f"a trusted check for {grade_id!r} is already registered")
        CHECKS[grade_id] = function
        return function

    return register


# ---------------------------------------------------------------- comparing what came back


def _fail(what, expected, got, hint=""):
    message = f"{what}: expected {expected}, got {got}."
    if hint:
        message += f"\nHint: {hint}"
    raise Mismatch(message)


def _describe(value):
    """A short name for the kind of a returned value, for messages."""
    if value is MISSING:
        return "no numbers (the name is still None, not defined, or not made of numbers)"
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def numbers(got, what, hint=""):
    """``got`` as a float64 array, or ``Mismatch`` if it is not made of numbers.

    Parameters
    ----------
    got : object
        A decoded return value (array, list of arrays, None, str, ...).
    what : str
        What produced it, for the message.
    hint : str

    Returns
    -------
    ndarray of float64
    """
    if got is None:
        _fail(what, "numbers", "None",
              hint or "the function does not return anything; add a return statement")
    if got is MISSING or isinstance(got, str):
        _fail(what, "numbers", _describe(got), hint)
    try:
        return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(what, "an array of numbers", _describe(got), hint)


def close(got, expected, what, rtol=1e-7, atol=1e-10, hint="", show_error=True):
    """Check that ``got`` equals ``expected`` up to rounding, as ``nnlib.testing.assert_close``.

    Parameters
    ----------
    got : object
        A decoded return value.
    expected : array_like
        The right answer, computed here.
    what : str
        What was checked, e.g. ``"sigmoid on random inputs of shape (3, 4)"``.
    rtol, atol : float
        Relative and absolute tolerance, as in ``numpy.allclose``.
    hint : str
    show_error : bool, default True
        Whether the message gives the largest error; not for a single hidden answer, which
        the error and the student's own value would give away.

    Raises
    ------
    Mismatch
        When ``got`` is missing, not numbers, of another shape, not finite where ``expected``
        is, or off; the message gives the shapes and the largest error, not the values.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = numbers(got, what, hint)
    if got.shape != expected.shape:
        _fail(what, f"an array of shape {expected.shape}", f"shape {got.shape}", hint)
    finite = np.isfinite(got)
    if not np.all(finite) and np.all(np.isfinite(expected)):
        _fail(what, "finite values", f"{got.size - np.count_nonzero(finite)} nan or inf",
              hint or "a value overflowed or divided by zero")
    right = np.isclose(got, expected, rtol=rtol, atol=atol)
    if not np.all(right):
        off = f"{got.size - np.count_nonzero(right)} of {got.size} entries off"
        if show_error:
            with np.errstate(invalid="ignore", over="ignore"):
                off += f", by up to {float(np.nanmax(np.abs(got - expected))):.3g}"
        _fail(what, "the right values up to rounding", off, hint)


def is_float64(got, what):
    """Check that a returned array has dtype float64."""
    dtype = getattr(got, "dtype", None)
    if dtype != np.float64:
        _fail(what, "float64 values", f"dtype {dtype}" if dtype is not None else _describe(got))


def is_number(got, what):
    """Check that ``got`` is one number (a 0-d array once decoded)."""
    value = numbers(got, what)
    if value.ndim != 0:
        _fail(what, "one number", f"an array of shape {value.shape}",
              "return a float, e.g. float(np.sum(...) / n)")
    return value


def shaped(got, shape, what, hint=""):
    """Check the shape of a returned array and return it as float64."""
    value = numbers(got, what, hint)
    if value.shape != tuple(shape):
        _fail(what, f"an array of shape {tuple(shape)}", f"shape {value.shape}", hint)
    return value


def entries(got, count, what, hint=""):
    """Check that ``got`` is a list or tuple (decoded as a list) of ``count`` entries.

    Parameters
    ----------
    got : object
    count : int or None
        The number of entries expected; None accepts any.
    what : str
    hint : str

    Returns
    -------
    list
    """
    if not isinstance(got, list):
        _fail(what, "a list or tuple", _describe(got), hint)
    if count is not None and len(got) != count:
        _fail(what, f"{count} entries", f"{len(got)}", hint)
    return got


def raises(student, error_type, match, what, function, *args, **kwargs):
    """Check that the student's ``function(*args, **kwargs)`` raises ``error_type``.

    Parameters
    ----------
    student : proxy
    error_type : str
        The exception's class name, e.g. ``"ValueError"``.
    match : str
        Text the error message must contain.
    what : str
    function : str
        ``"module.function"`` in the student's nnlib.
    *args, **kwargs
        Its arguments.
    """
    try:
        student.call(function, *args, **kwargs)
    except StudentError as error:
        if error.type_name != error_type:
            _fail(what, error_type, f"{error.type_name}: {error.message}")
        if match not in error.message:
            _fail(what, f"a {error_type} mentioning {match!r}", repr(error.message))
        return
    _fail(what, f"{error_type} to be raised", "a return value")


def strict(student, what, hint, function, *args, **kwargs):
    """Call the student's function with floating-point warnings turned into errors.

    Returns
    -------
    object
        The decoded return value.

    Raises
    ------
    Mismatch
        When the call overflowed, divided by zero or made a nan.
    """
    try:
        return student.call(function, *args, _strict=True, **kwargs)
    except StudentError as error:
        if error.type_name != "FloatingPointError":
            raise
        raise Mismatch(f"{what}: expected finite values without a floating-point warning, got "
                       f"the warning '{error.message}'.\nHint: {hint}") from None


def gradient(ref, analytic, function, x, what, tolerance=1e-7, hint=""):
    """Check an analytic gradient against central differences computed here.

    Parameters
    ----------
    ref : module
        The reference nnlib, whose ``gradcheck`` computes the numerical gradient.
    analytic : object
        The gradient the student's code returned.
    function : callable
        ``x -> float`` built from reference functions only.
    x : ndarray
        The point.
    what : str
    tolerance : float, default 1e-7
        Largest relative error accepted, as in ``nnlib.testing.assert_gradient``.
    hint : str
    """
    numerical = ref.gradcheck.numerical_gradient(function, np.asarray(x, dtype=np.float64))
    matches_numerical(ref, analytic, numerical, what, tolerance, hint)


def matches_numerical(ref, analytic, numerical, what, tolerance=1e-7, hint=""):
    """Check an analytic gradient against a numerical one computed here beforehand.

    As ``nnlib.gradcheck.check_gradient``: same shape, finite, and a relative error
    ``||a - n|| / (||a|| + ||n||)`` below ``tolerance``.
    """
    analytic = shaped(analytic, numerical.shape, what,
                      "a gradient has the shape of what it differentiates")
    if not np.all(np.isfinite(analytic)):
        _fail(what, "finite values", "nan or inf", "look for an overflow or a division by zero")
    error = ref.gradcheck.relative_error(analytic, numerical)
    if not error < tolerance:
        _fail(what, f"a relative error below {tolerance:g} against a numerical gradient",
              f"{error:.3g}", hint)


def reference(what, function, *args, **kwargs):
    """Run a reference function on values that came from the student.

    The reference checks its inputs; a ``ValueError`` or ``TypeError`` there means the
    student's values do not fit, which is a ``Mismatch``.
    """
    try:
        return function(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise Mismatch(f"{what}: {error}") from None


def answer(values, name):
    """A notebook variable the student must set, or ``Mismatch`` while it is not set."""
    value = values[name]
    if value is MISSING or value is None:
        _fail(name, "a value set in the answer cell", _describe(value),
              f"set {name} in the exercise cell, then run it")
    return value


def whole_number(value, name):
    """A notebook answer that must be a whole number, as an int."""
    if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu"):
        _fail(name, "a whole number", _describe(value))
    return int(value)


def _seed(rng):
    return int(rng.integers(0, 2**31))


def _shape(rng, ndim, low=1, high=6):
    return tuple(int(n) for n in rng.integers(low, high, size=ndim))


# ---------------------------------------------------------------- 1. the perceptron


@check("test-step")
def check_step(student, ref, rng):
    """step against the reference, on the cell's inputs, tiny ones and random ones."""
    inputs = [("the worked example", np.array([-2.0, 0.5, 3.0])),
              ("z = 0", np.array([0.0])),
              ("tiny inputs of both signs", np.array([1e-300, -1e-300, 5e-324, -5e-324])),
              ("random inputs of shape (3, 4, 5)", rng.normal(size=(3, 4, 5)))]
    for kind, z in inputs:
        got = student.call("perceptron.step", z, _unchanged=True)
        close(got, ref.perceptron.step(z), f"step on {kind}",
              hint="return 1.0 where z > 0 and 0.0 elsewhere, comparing with 0 directly")
        is_float64(got, f"step on {kind}")


@check("test-perceptron-predict")
def check_perceptron_predict(student, ref, rng):
    """perceptron_predict against the reference, on the worked example, z = 0 and random data."""
    cases = [("the worked example", np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.5, -1.0]),
              -0.2),
             ("a sample with z = 0", np.array([[1.0, 1.0]]), np.array([1.0, 1.0]), -2.0)]
    for n, d in [(1, 1), (7, 3), (50, 10)]:
        cases.append((f"random X of shape {(n, d)}", rng.normal(size=(n, d)),
                      rng.normal(size=d), float(rng.normal())))
    for kind, X, w, b in cases:
        got = student.call("perceptron.perceptron_predict", X, w, b)
        close(got, ref.perceptron.perceptron_predict(X, w, b), f"perceptron_predict on {kind}",
              hint="compute X @ w + b for the whole batch, then apply step")


@check("test-gates-by-hand")
def check_gates_by_hand(student, ref, rng):
    """The AND and OR perceptrons of the answer cell classify the four inputs right."""
    values = student.variables("01_perceptron.ipynb", ["w_and", "b_and", "w_or", "b_or"])
    for gate in ("and", "or"):
        w = shaped(answer(values, f"w_{gate}"), (2,), f"w_{gate}", "one weight per input")
        b = numbers(answer(values, f"b_{gate}"), f"b_{gate}")
        if b.size != 1:
            _fail(f"b_{gate}", "one number", f"an array of shape {b.shape}")
        b = float(b.reshape(-1)[0])
        X, y = ref.datasets.logic_gate(gate)
        what = f"your {gate.upper()} perceptron on the inputs 00, 01, 10, 11"
        hint = "use the explorer: move the line until no point has a red ring"
        close(reference(what, ref.perceptron.perceptron_predict, X, w, b), y, what, hint=hint)
        # the cell runs the student's perceptron_predict on the answer
        close(student.call("perceptron.perceptron_predict", X, w, b), y,
              f"{what}, with your perceptron_predict", hint=hint)


def _separable_data(rng, n=40, d=3, margin=0.2):
    """Random samples labelled by a random hyperplane, at least ``margin`` away from it."""
    normal = rng.normal(size=d)
    normal /= np.linalg.norm(normal)
    offset = float(rng.normal(scale=0.5))
    X = rng.normal(size=(n, d))
    side = np.where(X @ normal + offset > 0, 1.0, -1.0)
    X = X + margin * side[:, None] * normal
    return X, (side > 0).astype(float)


def _perceptron_run(student, ref, X, y, kind, predict=False, **kwargs):
    """perceptron_train against the reference: the same w, b and mistakes per epoch.

    With ``predict``, the student's perceptron_predict must also classify ``X`` right with
    the learned ``w`` and ``b``, as the cell checks.
    """
    got = entries(student.call("perceptron.perceptron_train", X, y, _unchanged=True, **kwargs),
                  3, f"perceptron_train on {kind}", "return w, b, mistakes")
    w, b, mistakes = ref.perceptron.perceptron_train(X, y, **kwargs)
    close(got[2], mistakes, f"mistakes per epoch of perceptron_train on {kind}", rtol=0,
          atol=0, hint="start from w = 0, b = 0, visit the samples in order, update after "
                       "every mistake and stop after the first epoch without one")
    close(got[0], w, f"w after perceptron_train on {kind}",
          hint="w moves by learning_rate * (y - y_hat) * x")
    close(got[1], b, f"b after perceptron_train on {kind}",
          hint="b moves by learning_rate * (y - y_hat)")
    if predict:
        close(student.call("perceptron.perceptron_predict", X, numbers(got[0], "w"),
                           float(numbers(got[1], "b"))), y,
              f"your perceptron_predict after training on {kind}")
    return got


@check("test-perceptron-train")
def check_perceptron_train(student, ref, rng):
    """perceptron_train follows the reference's updates on the gates and random separable data."""
    X, y = ref.datasets.logic_gate("and")
    _perceptron_run(student, ref, X, y, "AND for one epoch", learning_rate=1.0, epochs=1)
    _perceptron_run(student, ref, X, y, "AND with the default arguments")
    for gate in ("and", "or"):
        X, y = ref.datasets.logic_gate(gate)
        _perceptron_run(student, ref, X, y, gate.upper(), predict=True, epochs=50)
    X, y = ref.datasets.logic_gate("xor")
    got = _perceptron_run(student, ref, X, y, "XOR", epochs=int(rng.integers(20, 40)))
    if np.min(numbers(got[2], "mistakes on XOR")) <= 0:
        raise Mismatch("perceptron_train on XOR: expected a mistake in every epoch")
    X, y = _separable_data(rng)
    _perceptron_run(student, ref, X, y, "random separable data of shape (40, 3)", predict=True,
                    learning_rate=float(rng.uniform(0.1, 1.0)), epochs=1000)


# ---------------------------------------------------------------- 2. activations


def _activation_values(student, function, expected, inputs, **kwargs):
    """An activation against the reference: values, float64, input unchanged."""
    short = function.split(".")[-1]
    for kind, z in inputs:
        what = f"{short} on {kind}"
        got = student.call(function, z, _unchanged=True, **kwargs)
        close(got, expected(z, **kwargs), what,
              hint=f"{short} works entry by entry on arrays of any shape")
        is_float64(got, what)


def _random_inputs(rng, shapes, draw):
    return [(f"random inputs of shape {shape}", draw(size=shape)) for shape in shapes]


@check("test-sigmoid")
def check_sigmoid(student, ref, rng):
    """sigmoid against the reference; symmetric and increasing on random sorted inputs."""
    inputs = [("[0, ln 3, -ln 3]", np.array([0.0, np.log(3.0), -np.log(3.0)]))]
    inputs += _random_inputs(rng, [(7,), (3, 4), (2, 3, 4)],
                             functools.partial(rng.uniform, -10.0, 10.0))
    _activation_values(student, "activations.sigmoid", ref.activations.sigmoid, inputs)
    z = np.sort(rng.uniform(-30.0, 30.0, size=61))
    got = numbers(student.call("activations.sigmoid", z), "sigmoid on random inputs")
    close(student.call("activations.sigmoid", -z), 1.0 - got,
          "sigmoid(-z) against 1 - sigmoid(z) for random z in [-30, 30]", atol=1e-15,
          hint="the sigmoid is symmetric: sigmoid(-z) = 1 - sigmoid(z)")
    if got.shape != z.shape or not np.all(np.diff(got) >= 0):
        raise Mismatch("sigmoid on sorted random inputs: expected increasing values")


SIGMOID_HINT = ("exp overflowed; use the stable form: 1 / (1 + e^-z) for z >= 0 and "
                "e^z / (1 + e^z) for z < 0, both computed from exp(-|z|)")


@check("test-sigmoid-stable")
def check_sigmoid_stable(student, ref, rng):
    """sigmoid of very large |z| is finite, right and raises no floating-point warning."""
    magnitudes = 10.0 ** rng.uniform(0.0, 300.0, size=12)
    z = np.concatenate([[-1000.0, 1000.0, -745.0, 710.0],
                        magnitudes * rng.choice([-1.0, 1.0], size=12)])
    got = strict(student, "sigmoid of very large |z|", SIGMOID_HINT, "activations.sigmoid", z)
    close(got, ref.activations.sigmoid(z), "sigmoid of very large |z|", hint=SIGMOID_HINT)


def _stable_derivative(student, rng, function, name, hint):
    """A derivative at z = -1000 and 1000, and random |z| up to 1e4: 0, without a warning."""
    z = np.concatenate([[-1000.0, 1000.0],
                        10.0 ** rng.uniform(3.0, 4.0, size=4) * rng.choice([-1.0, 1.0], 4)])
    got = strict(student, f"{name} at very large |z|", hint, function, z)
    close(got, np.zeros(z.shape), f"{name} at very large |z|", hint=hint)


@check("test-sigmoid-derivative")
def check_sigmoid_derivative(student, ref, rng):
    """sigmoid_derivative against a numerical gradient and the reference; at most 1/4; stable."""
    z = np.array([0.0, np.log(3.0)])
    close(student.call("activations.sigmoid_derivative", z),
          ref.activations.sigmoid_derivative(z), "sigmoid_derivative at [0, ln 3]",
          hint="sigmoid'(z) = s * (1 - s) with s = sigmoid(z); evaluate it at z, not at s")
    z = rng.uniform(-6.0, 6.0, size=(4, 5))
    gradient(ref, student.call("activations.sigmoid_derivative", z),
             lambda v: np.sum(ref.activations.sigmoid(v)), z,
             "sigmoid_derivative on random z of shape (4, 5) against a numerical gradient",
             hint="sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z))")
    z = rng.uniform(-20.0, 20.0, size=(3, 2, 2))
    what = "sigmoid_derivative on random z of shape (3, 2, 2)"
    got = student.call("activations.sigmoid_derivative", z)
    close(got, ref.activations.sigmoid_derivative(z), what)
    is_float64(got, what)
    if not np.all(numbers(got, what) <= 0.25):
        raise Mismatch(f"{what}: expected values of at most 0.25")
    _stable_derivative(student, rng, "activations.sigmoid_derivative", "sigmoid_derivative",
                       "use your stable sigmoid inside the derivative")


@check("test-tanh")
def check_tanh(student, ref, rng):
    """tanh against the reference on the cell's and random inputs; stable for large |z|."""
    inputs = [("[0, ln 2, -ln 2]", np.array([0.0, np.log(2.0), -np.log(2.0)]))]
    inputs += _random_inputs(rng, [(6,), (3, 4), (2, 2, 3)],
                             functools.partial(rng.uniform, -5.0, 5.0))
    _activation_values(student, "activations.tanh", ref.activations.tanh, inputs)
    hint = "exp overflowed; use np.tanh, which is stable"
    z = np.concatenate([[-1000.0, 1000.0],
                        10.0 ** rng.uniform(2.0, 4.0, size=6) * rng.choice([-1.0, 1.0], 6)])
    got = strict(student, "tanh of very large |z|", hint, "activations.tanh", z)
    close(got, ref.activations.tanh(z), "tanh of very large |z|", hint=hint)


@check("test-tanh-derivative")
def check_tanh_derivative(student, ref, rng):
    """tanh_derivative against a numerical gradient; float64, in (0, 1]; stable."""
    z = np.array([0.0, np.log(2.0)])
    close(student.call("activations.tanh_derivative", z), ref.activations.tanh_derivative(z),
          "tanh_derivative at [0, ln 2]", hint="tanh'(z) = 1 - tanh(z)**2")
    z = rng.uniform(-4.0, 4.0, size=(3, 5))
    what = "tanh_derivative on random z of shape (3, 5)"
    got = student.call("activations.tanh_derivative", z)
    gradient(ref, got, lambda v: np.sum(ref.activations.tanh(v)), z,
             f"{what} against a numerical gradient", hint="tanh'(z) = 1 - tanh(z)**2")
    is_float64(got, what)
    values = numbers(got, what)
    if not np.all((values > 0.0) & (values <= 1.0)):
        raise Mismatch(f"{what}: expected values in (0, 1]")
    _stable_derivative(student, rng, "activations.tanh_derivative", "tanh_derivative",
                       "exp overflowed; use np.tanh, which is stable")


@check("test-relu")
def check_relu(student, ref, rng):
    """relu against the reference, on the cell's inputs, random ones and huge ones."""
    inputs = [("[-2, 0, 3]", np.array([-2.0, 0.0, 3.0])),
              ("huge inputs of both signs", np.array([1e308, -1e308]) * rng.uniform(0.1, 1.0))]
    inputs += _random_inputs(rng, [(9,), (4, 3), (2, 3, 2)], rng.normal)
    _activation_values(student, "activations.relu", ref.activations.relu, inputs)


def _away_from_kink(rng, shape, replacement):
    z = rng.normal(size=shape)
    return np.where(np.abs(z) < 0.1, replacement, z)


@check("test-relu-derivative")
def check_relu_derivative(student, ref, rng):
    """relu_derivative against a numerical gradient and the reference; 0 at the kink; float64."""
    z = np.array([-2.0, 3.0, 0.0])
    close(student.call("activations.relu_derivative", z), ref.activations.relu_derivative(z),
          "relu_derivative at [-2, 3, 0]",
          hint="1 where z > 0 strictly and 0 elsewhere, also at the kink z = 0")
    z = _away_from_kink(rng, (4, 5), 0.5)
    gradient(ref, student.call("activations.relu_derivative", z),
             lambda v: np.sum(ref.activations.relu(v)), z,
             "relu_derivative on random z of shape (4, 5) against a numerical gradient")
    z = rng.normal(size=(2, 3, 4))
    what = "relu_derivative on random z of shape (2, 3, 4)"
    got = student.call("activations.relu_derivative", z)
    is_float64(got, what)
    close(got, ref.activations.relu_derivative(z), what,
          hint="only 0.0 and 1.0: convert z > 0 with .astype(float), or use np.where")


@check("test-leaky-relu")
def check_leaky_relu(student, ref, rng):
    """leaky_relu against the reference, with the default and with random alphas (and 0)."""
    _activation_values(student, "activations.leaky_relu", ref.activations.leaky_relu,
                       [("[-2, 0, 3] with alpha=0.1", np.array([-2.0, 0.0, 3.0]))], alpha=0.1)
    _activation_values(student, "activations.leaky_relu", ref.activations.leaky_relu,
                       [("a negative input with the default alpha", np.array([-2.0]))])
    for shape, alpha in [((8,), float(rng.uniform(0.05, 0.5))), ((3, 4), 0.0),
                         ((2, 2, 3), float(rng.uniform(0.01, 0.1)))]:
        _activation_values(student, "activations.leaky_relu", ref.activations.leaky_relu,
                           _random_inputs(rng, [shape], rng.normal), alpha=alpha)


@check("test-leaky-relu-derivative")
def check_leaky_relu_derivative(student, ref, rng):
    """leaky_relu_derivative against numerical gradients (random alphas) and the default alpha."""
    z = np.array([-2.0, 0.0, 3.0])
    close(student.call("activations.leaky_relu_derivative", z, alpha=0.1),
          ref.activations.leaky_relu_derivative(z, alpha=0.1),
          "leaky_relu_derivative at [-2, 0, 3] with alpha=0.1",
          hint="1 where z > 0 and alpha elsewhere (also at z = 0)")
    z = _away_from_kink(rng, (4, 5), -0.5)
    for alpha in (0.01, float(rng.uniform(0.05, 0.9))):
        gradient(ref, student.call("activations.leaky_relu_derivative", z, alpha=alpha),
                 lambda v, alpha=alpha: np.sum(ref.activations.leaky_relu(v, alpha=alpha)), z,
                 "leaky_relu_derivative on random z with a given alpha against a numerical "
                 "gradient", hint="use the alpha argument for z <= 0")
    what = "leaky_relu_derivative on random z with the default alpha"
    got = student.call("activations.leaky_relu_derivative", z)
    is_float64(got, what)
    close(got, ref.activations.leaky_relu_derivative(z), what)


@check("test-softmax")
def check_softmax(student, ref, rng):
    """softmax against the reference, rows summing to 1, unchanged by a constant per row."""
    inputs = [("the worked example", np.array([[0.0, 0.0, np.log(2.0)], [1.0, 1.0, 1.0]]))]
    inputs += _random_inputs(rng, [(1, 1), (1, 4), (6, 3), (10, 7)],
                             functools.partial(rng.normal, 0.0, 3.0))
    _activation_values(student, "activations.softmax", ref.activations.softmax, inputs)
    z = rng.normal(size=(4, 5))
    close(student.call("activations.softmax", z + rng.uniform(-100.0, 100.0, size=(4, 1))),
          ref.activations.softmax(z), "softmax(z + a random constant per row)",
          hint="normalize each row separately (axis=1, keepdims=True); adding a constant to "
               "a row must not change its probabilities")


def huge_logits(rng, n, c, low=3.0, high=300.0):
    """Rows of logits of random sizes 10**low to 10**high, mixed in one batch, with a tie."""
    scale = 10.0 ** rng.uniform(low, high, size=(n, 1))
    Z = rng.normal(size=(n, c)) * scale
    Z[0] = -scale[0, 0]  # a row of equal, very negative logits
    return Z


@check("test-softmax-stable")
def check_softmax_stable(student, ref, rng):
    """softmax of logits up to about 1e300 is right and raises no floating-point warning."""
    hint = "exp overflowed; subtract each row's maximum before taking exp"
    worked = np.array([[1e4, 1e4, 1e4 + np.log(2.0)], [-1e4, 0.0, 1e4]])
    for kind, z in [("logits near 1e4", worked),
                    ("a batch of rows of huge logits", huge_logits(rng, 5, 3))]:
        got = strict(student, f"softmax of {kind}", hint, "activations.softmax", z)
        close(got, ref.activations.softmax(z), f"softmax of {kind}", hint=hint)


# ---------------------------------------------------------------- 3. the forward pass


def _init_params(student, sizes, what, **kwargs):
    """init_params: one (n_out, n_in) float64 matrix and one zero float64 bias per layer."""
    got = entries(student.call("network.init_params", sizes, **kwargs), 2, what,
                  "return two lists, weights and biases")
    layers = len(sizes) - 1
    hint = "one layer between each pair of neighbouring sizes"
    weights = entries(got[0], layers, f"the weights of {what}", hint)
    biases = entries(got[1], layers, f"the biases of {what}", hint)
    for layer, (W, b) in enumerate(zip(weights, biases)):
        shaped(W, (sizes[layer + 1], sizes[layer]), f"weights[{layer}] of {what}",
               "a weight matrix is (n_out, n_in): one row per unit of the layer")
        close(b, np.zeros(sizes[layer + 1]), f"biases[{layer}] of {what}",
              hint="biases start at zero, one per unit of the layer")
        is_float64(W, f"weights[{layer}] of {what}")
        is_float64(b, f"biases[{layer}] of {what}")
    return [numbers(W, what) for W in weights]


@check("test-init-params-shapes")
def check_init_params_shapes(student, ref, rng):
    """init_params: shapes, zero biases and float64 for several sizes; distinct random weights."""
    _init_params(student, [3, 4, 2], "init_params([3, 4, 2])", seed=_seed(rng))
    random_sizes = [int(n) for n in rng.integers(1, 9, size=int(rng.integers(2, 6)))]
    for sizes in ([5, 1], [2, 7, 7, 3], [1, 1, 1, 1, 1], random_sizes):
        _init_params(student, sizes, f"init_params({sizes}, method='he')", method="he",
                     seed=_seed(rng))
    sizes = [int(rng.integers(3, 7)), int(rng.integers(3, 7))]
    (W,) = _init_params(student, sizes, f"init_params({sizes})", seed=_seed(rng))
    if not (np.all(W != 0.0) and np.unique(W).size == W.size):
        raise Mismatch(f"init_params({sizes}): expected {W.size} different, non-zero random "
                       f"weights. Hint: draw each weight at random; all zeros or copies leave "
                       f"the units symmetric")


def _parameters(got, layers, what):
    """A decoded (weights, biases) pair as two lists of float64 arrays."""
    got = entries(got, 2, what, "return two lists, weights and biases")
    return tuple([numbers(a, f"{name} of {what}") for a in entries(part, layers, f"{name} of "
                                                                   f"{what}")]
                 for part, name in zip(got, ["weights", "biases"]))


def student_init(student, sizes, seed, method="xavier"):
    """The student's ``init_params(sizes, method, seed)``: where the cells start from.

    Several cells build their networks with the student's own ``init_params``; so do their
    checks, after checking the shapes.
    """
    what = f"init_params({sizes}, method={method!r})"
    weights, biases = _parameters(student.call("network.init_params", sizes, method=method,
                                               seed=seed), len(sizes) - 1, what)
    for layer, (W, b) in enumerate(zip(weights, biases)):
        shaped(W, (sizes[layer + 1], sizes[layer]), f"weights[{layer}] of {what}")
        shaped(b, (sizes[layer + 1],), f"biases[{layer}] of {what}")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            _fail(f"layer {layer + 1} of {what}", "finite numbers", "nan or inf")
    return weights, biases


def _init_weights(student, sizes, **kwargs):
    """The weight matrices of the student's ``init_params(sizes, **kwargs)``, as arrays."""
    weights, _ = _parameters(student.call("network.init_params", sizes, **kwargs),
                             len(sizes) - 1, f"init_params({sizes})")
    for W in weights:
        if W.size == 0 or not np.all(np.isfinite(W)):
            _fail(f"the weights of init_params({sizes})", "finite numbers",
                  f"an array of shape {W.shape} with nan, inf or nothing in it")
    return weights


def _std_close(W, std, what, hint=""):
    """The sample std of a weight matrix, within 3% of ``std`` (at least 20,000 draws)."""
    off = abs(float(np.std(W)) / std - 1.0)
    if not off <= 0.03:
        _fail(f"std of the weights of {what}", "within 3% of the method's std",
              f"{off:.1%} off", hint)


@check("test-init-params-scale")
def check_init_params_scale(student, ref, rng):
    """init_params draws with Xavier's and He's std, per layer, mean 0, reproducible by seed.

    Statistical: the student's generator may draw differently from the reference's, so the
    sample std and mean are checked, not the values.
    """
    hint = "Xavier: std = sqrt(2 / (n_in + n_out)); He: std = sqrt(2 / n_in)"
    for method, std in [("xavier", np.sqrt(2 / 500)), ("he", np.sqrt(2 / 400))]:
        (W,) = _init_weights(student, [400, 100], method=method, seed=_seed(rng))
        _std_close(W, std, f"init_params([400, 100], method={method!r})", hint)
    for method in ("xavier", "he"):
        weights = _init_weights(student, [300, 200, 100], method=method, seed=_seed(rng))
        for W, (n_in, n_out) in zip(weights, [(300, 200), (200, 100)]):
            std = np.sqrt(2 / (n_in + n_out)) if method == "xavier" else np.sqrt(2 / n_in)
            what = f"the ({n_out}, {n_in}) layer with {method!r}"
            _std_close(W, std, what, "compute the std from each layer's own n_in and n_out")
            # the mean's standard error is std / 141 or less: 0.1 * std is over 14 of them
            if not abs(np.mean(W)) < 0.1 * std:
                raise Mismatch(f"mean of the weights of {what}: expected about 0")
    (W,) = _init_weights(student, [400, 100], seed=_seed(rng))
    _std_close(W, np.sqrt(2 / 500), "init_params([400, 100]) with the default method",
               "method='xavier' is the default")
    seed = _seed(rng)
    first, again, other = (_init_weights(student, [6, 5, 2], method="he", seed=s)
                           for s in (seed, seed, seed + 1))
    for a, b in zip(first, again):
        if a.shape != b.shape or not np.array_equal(a, b):
            _fail("init_params with the same seed twice", "the same weights", "different ones",
                  "draw every weight from the generator rng made from the seed")
    if first[0].shape == other[0].shape and np.allclose(first[0], other[0]):
        raise Mismatch("init_params with two different seeds: expected different weights")


def worked_network():
    """The cells' worked example: X, weights, biases and activations of a 2-2-1 network."""
    return (np.array([[2.0, -1.0], [0.0, 1.0]]),
            [np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([[4.0, -2.0]])],
            [np.array([0.5, 1.0]), np.array([-1.0])], ["relu", "identity"])


def random_network(rng, sizes, n_samples):
    """Random X, weights and biases, all standard normal, for layer ``sizes``."""
    weights = [rng.normal(size=(n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=n_out) for n_out in sizes[1:]]
    return rng.normal(size=(n_samples, sizes[0])), weights, biases


@check("test-forward-pass")
def check_forward_pass(student, ref, rng):
    """forward_pass against the reference; inputs unchanged; one row as a list; shape errors."""
    networks = [("the worked 2-2-1 network", *worked_network())]
    for sizes, names in [([3, 1], ["sigmoid"]), ([4, 5, 3], ["tanh", "softmax"]),
                         ([2, 6, 6, 6, 2], ["relu", "tanh", "sigmoid", "identity"])]:
        X, weights, biases = random_network(rng, sizes, 7)
        networks.append((f"a random {sizes} network with {names}", X, weights, biases, names))
    for kind, X, weights, biases, names in networks:
        what = f"forward_pass on {kind}"
        got = student.call("network.forward_pass", X, weights, biases, names, _unchanged=True)
        close(got, ref.network.forward_pass(X, weights, biases, names), what,
              hint="apply every layer in order: Z = A @ W.T + b, then that layer's activation")
        is_float64(got, what)
    _, weights, biases = random_network(rng, [2, 3, 1], 1)
    row = rng.normal(size=(1, 2))
    close(student.call("network.forward_pass", row.tolist(), weights=weights, biases=biases,
                       activations=["tanh", "identity"]),
          ref.network.forward_pass(row, weights, biases, ["tanh", "identity"]),
          "forward_pass on one sample given as a nested list")
    _check_shape_errors(student, rng)


def _check_shape_errors(student, rng):
    """Shapes that do not fit: a ValueError naming the layer and both shapes."""
    n, d, h = (int(k) for k in rng.integers(2, 6, size=3))
    weights = [np.zeros((h, d)), np.zeros((1, h + 1))]
    raises(student, "ValueError", "layer 2", "forward_pass whose second layer does not fit "
           "the first", "network.forward_pass", np.zeros((n, d)), weights,
           [np.zeros(h), np.zeros(1)], ["relu", "identity"])
    raises(student, "ValueError", f"from X of shape {(n, d + 1)}", "forward_pass with X too "
           "wide for the first layer", "network.forward_pass", np.zeros((n, d + 1)),
           [np.zeros((h, d))], [np.zeros(h)], ["relu"])
    raises(student, "ValueError", f"expected biases of shape ({h},)", "forward_pass with "
           "biases that do not fit the weights", "network.forward_pass", np.zeros((n, d)),
           [np.zeros((h, d))], [np.zeros(h + 1)], ["relu"])


@check("test-forward-pass-with-cache")
def check_forward_pass_with_cache(student, ref, rng):
    """forward_pass_with_cache: the output and every cached A and Z match the reference."""
    networks = [("the worked 2-2-1 network", *worked_network()),
                ("a random [3, 5, 4, 2] network", *random_network(rng, [3, 5, 4, 2], 6),
                 ["tanh", "relu", "sigmoid"])]
    for kind, X, weights, biases, names in networks:
        what = f"forward_pass_with_cache on {kind}"
        got = entries(student.call("network.forward_pass_with_cache", X, weights, biases, names,
                                   _unchanged=True), 2, what, "return output, ForwardCache(A, Z)")
        output, cache = ref.network.forward_pass_with_cache(X, weights, biases, names)
        close(got[0], output, f"the output of {what}",
              hint="the output is the same as forward_pass's, the last entry of A")
        A, Z = entries(got[1], 2, f"the cache of {what}", "return ForwardCache(A=..., Z=...)")
        hint = "index 0 is the input layer (A[0] = X, Z[0] = None), then one entry per layer"
        A = entries(A, len(cache.A), f"cache.A of {what}", hint)
        Z = entries(Z, len(cache.Z), f"cache.Z of {what}", hint)
        if Z[0] is not None:
            _fail(f"cache.Z[0] of {what}", "None", _describe(Z[0]))
        close(A[0], X, f"cache.A[0] of {what}", hint="A[0] is the input X")
        for layer in range(1, len(cache.A)):
            close(Z[layer], cache.Z[layer], f"cache.Z[{layer}] of {what}",
                  hint="Z[l] = A[l - 1] @ W.T + b with the parameters of layer l")
            close(A[layer], cache.A[layer], f"cache.A[{layer}] of {what}",
                  hint="A[l] is layer l's activation of Z[l]")


@check("test-xor-by-hand")
def check_xor_by_hand(student, ref, rng):
    """The 2-2-1 sigmoid network of the answer cell computes XOR."""
    names = ["W1", "b1", "W2", "b2"]
    values = student.variables("03_forward_pass.ipynb", names)
    shapes = {"W1": (2, 2), "b1": (2,), "W2": (1, 2), "b2": (1,)}
    params = {name: shaped(answer(values, name), shapes[name], name,
                           "two hidden units with two inputs each, one output")
              for name in names}
    weights, biases = [params["W1"], params["W2"]], [params["b1"], params["b2"]]
    X, y = ref.datasets.logic_gate("xor")
    what = "your network's output > 0.5 on the inputs 00, 01, 10, 11"
    hint = "use the explorer: OR and NAND in the hidden layer, AND at the output"
    output = reference(what, ref.network.forward_pass, X, weights, biases, ["sigmoid"] * 2)
    close((output[:, 0] > 0.5).astype(float), y, what, hint=hint)
    # the cell runs the student's forward_pass on the answer
    got = shaped(student.call("network.forward_pass", X, weights, biases, ["sigmoid"] * 2),
                 (4, 1), f"{what}, with your forward_pass")
    close((got[:, 0] > 0.5).astype(float), y, f"{what}, with your forward_pass", hint=hint)


# ---------------------------------------------------------------- 4. losses


def _loss_value(student, function, expected, prediction, target, what, hint=""):
    """A loss: one non-negative number equal to the reference, inputs unchanged."""
    got = is_number(student.call(function, prediction, target, _unchanged=True), what)
    close(got, expected(prediction, target), what, hint=hint)
    if not got >= 0.0:
        raise Mismatch(f"{what}: expected a loss >= 0")
    return got


def conditioned(ref, draw, loss, derivative, tries=5):
    """A (prediction, target) pair from ``draw()`` where a gradient check is meaningful.

    When the gradient nearly vanishes (a prediction almost equal to its target), the relative
    error of even the right gradient is rounding noise; a pair where the reference's own
    derivative is not 10 times inside the tolerance is drawn again (up to ``tries`` times).
    """
    for _ in range(tries):
        P, T = draw()
        numerical = ref.gradcheck.numerical_gradient(lambda v, T=T: loss(v, T), P)
        if ref.gradcheck.relative_error(derivative(P, T), numerical) < 1e-8:
            break
    return P, T


@check("test-mse")
def check_mse(student, ref, rng):
    """mse: one non-negative number equal to the reference; 0 for a perfect prediction."""
    hint = "(1/N) sum over samples and outputs of (prediction - target)**2"
    cases = [("the worked example", np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])),
             ("one sample with two outputs", np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])),
             ("one huge error", np.array([[10.0 ** rng.uniform(100, 150)]]), np.zeros((1, 1)))]
    for n, c in [(1, 1), (5, 1), (4, 3), (10, 6)]:
        cases.append((f"random arrays of shape {(n, c)}", rng.normal(size=(n, c)),
                      rng.normal(size=(n, c))))
    for kind, P, T in cases:
        _loss_value(student, "losses.mse", ref.losses.mse, P, T, f"mse on {kind}", hint)
    P = rng.normal(size=(4, 3))
    close(student.call("losses.mse", P, P), 0.0, "mse(P, P) for random P",
          hint="a perfect prediction has zero loss")


@check("test-mse-derivative")
def check_mse_derivative(student, ref, rng):
    """mse_derivative against numerical gradients of the reference mse; zero at the target."""
    P, T = np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])
    close(student.call("losses.mse_derivative", P, T), ref.losses.mse_derivative(P, T),
          "mse_derivative on the worked example",
          hint="2 (prediction - target) / N: check the factor 2 and the 1/N")
    for n, c in [(1, 1), (3, 2), (6, 4)]:
        P, T = conditioned(ref, lambda n=n, c=c: (rng.normal(size=(n, c)), rng.normal(size=(n, c))),
                           ref.losses.mse, ref.losses.mse_derivative)
        what = f"mse_derivative on random arrays of shape {(n, c)}"
        got = student.call("losses.mse_derivative", P, T, _unchanged=True)
        gradient(ref, got, lambda v, T=T: ref.losses.mse(v, T), P,
                 f"{what} against a numerical gradient", hint="2 (prediction - target) / N")
        is_float64(got, what)
        close(student.call("losses.mse_derivative", T, T), np.zeros((n, c)),
              f"mse_derivative(T, T) for random T of shape {(n, c)}")


def _binary_targets(rng, shape):
    """Draws of targets of both kinds the cells use: 0/1 labels and numbers in [0, 1]."""
    return [("0/1 targets", lambda: rng.integers(0, 2, size=shape).astype(float)),
            ("targets in [0, 1]", lambda: rng.uniform(0.0, 1.0, size=shape))]


@check("test-bce")
def check_bce(student, ref, rng):
    """binary_cross_entropy: one non-negative number equal to the reference, inputs unchanged."""
    hint = "-(1/N) sum [y log p + (1 - y) log(1 - p)] over samples and outputs"
    cases = [("the worked example", np.array([[0.5], [0.75]]), np.array([[1.0], [0.0]])),
             ("one sample with two outputs", np.array([[0.5, 0.75]]), np.array([[1.0, 0.0]]))]
    for n, c in [(1, 1), (6, 1), (5, 3)]:
        P = rng.uniform(0.01, 0.99, size=(n, c))
        for kind, targets in _binary_targets(rng, (n, c)):
            cases.append((f"random predictions of shape {(n, c)} and {kind}", P, targets()))
    for kind, P, T in cases:
        _loss_value(student, "losses.binary_cross_entropy", ref.losses.binary_cross_entropy, P,
                    T, f"binary_cross_entropy on {kind}", hint)


@check("test-bce-stable")
def check_bce_stable(student, ref, rng):
    """binary_cross_entropy at predictions exactly 0 and 1: finite, clipped at EPSILON."""
    hint = ("clip the prediction to [EPSILON, 1 - EPSILON] before taking any log (use "
            "nnlib's EPSILON, the float64 machine epsilon, not another value)")
    n, c = _shape(rng, 2)
    P = rng.integers(0, 2, size=(n, c)).astype(float)
    for kind, T in [("completely wrong 0/1 targets", 1.0 - P), ("mixed 0/1 targets",
                                                               rng.integers(0, 2, (n, c)) * 1.0)]:
        what = f"binary_cross_entropy at predictions exactly 0 and 1 with {kind}"
        got = strict(student, what, hint, "losses.binary_cross_entropy", P, T)
        close(got, ref.losses.binary_cross_entropy(P, T), what, hint=hint)
    what = "binary_cross_entropy at predictions exactly 0 and 1 equal to the targets"
    got = is_number(strict(student, what, hint, "losses.binary_cross_entropy", P, P.copy()), what)
    if not 0.0 <= got < 1e-12:
        _fail(what, "(almost) 0", f"{float(got):.3g}", hint)


@check("test-bce-derivative")
def check_bce_derivative(student, ref, rng):
    """binary_cross_entropy_derivative against numerical gradients; finite at 0 and 1."""
    function = "losses.binary_cross_entropy_derivative"
    P, T = np.array([[0.5], [0.75]]), np.array([[1.0], [0.0]])
    close(student.call(function, P, T), ref.losses.binary_cross_entropy_derivative(P, T),
          "binary_cross_entropy_derivative on the worked example",
          hint="(p - y) / (p (1 - p)) / N")
    for n, c in [(1, 1), (4, 1), (3, 3)]:
        for kind, targets in _binary_targets(rng, (n, c)):
            P, T = conditioned(ref, lambda n=n, c=c, targets=targets: (
                rng.uniform(0.05, 0.95, size=(n, c)), targets()),
                ref.losses.binary_cross_entropy, ref.losses.binary_cross_entropy_derivative)
            what = f"binary_cross_entropy_derivative for shape {(n, c)} and {kind}"
            got = student.call(function, P, T)
            gradient(ref, got, lambda v, T=T: ref.losses.binary_cross_entropy(v, T), P,
                     f"{what} against a numerical gradient", hint="(p - y) / (p (1 - p)) / N")
            is_float64(got, what)
    hint = "clip the prediction to [EPSILON, 1 - EPSILON], as in the loss"
    n, c = _shape(rng, 2)
    P = rng.integers(0, 2, size=(n, c)).astype(float)
    T = np.concatenate([1.0 - P[:1], rng.integers(0, 2, size=(n - 1, c))]).astype(float)
    what = "binary_cross_entropy_derivative at predictions exactly 0 and 1"
    close(strict(student, what, hint, function, P, T),
          ref.losses.binary_cross_entropy_derivative(P, T), what, hint=hint)


@check("test-softmax-ce")
def check_softmax_ce(student, ref, rng):
    """softmax_cross_entropy against the reference, for one-hot and probability targets."""
    hint = "log-sum-exp of each row minus sum_c y_c z_c, averaged over the N rows"
    cases = [("the worked example", np.array([[0.0, np.log(3.0)], [0.0, 0.0]]),
              np.array([[0.0, 1.0], [1.0, 0.0]]))]
    for n, c in [(1, 2), (5, 3), (8, 10)]:
        Z = rng.normal(scale=3.0, size=(n, c))
        cases.append((f"random logits of shape {(n, c)} and one-hot targets", Z,
                      ref.datasets.one_hot(rng.integers(0, c, size=n), c)))
        cases.append((f"random logits of shape {(n, c)} and probability rows as targets", Z,
                      rng.dirichlet(np.ones(c), size=n)))
    for kind, Z, Y in cases:
        _loss_value(student, "losses.softmax_cross_entropy", ref.losses.softmax_cross_entropy, Z,
                    Y, f"softmax_cross_entropy on {kind}", hint)


def large_logit_rows(rng, n, c):
    """Logits with one entry per row of size 1e3 to 1e4, and one-hot targets.

    The big entry is positive in the first row and of either sign in the others.

    Returns
    -------
    Z : ndarray, shape (n, c)
    at_big, elsewhere : ndarray, shape (n, c)
        One-hot rows: the class of the big entry, and another class.
    """
    Z = rng.normal(size=(n, c))
    big = rng.integers(0, c, size=n)
    signs = np.concatenate([[1.0], rng.choice([-1.0, 1.0], size=n - 1)])
    Z[np.arange(n), big] = rng.uniform(1e3, 1e4, size=n) * signs
    other = (big + rng.integers(1, c, size=n)) % c
    return Z, np.eye(c)[big], np.eye(c)[other]


@check("test-softmax-ce-stable")
def check_softmax_ce_stable(student, ref, rng):
    """softmax_cross_entropy of logits near 1e4 is finite and right, without a warning."""
    hint = ("compute log(sum(exp(z))) as m + log(sum(exp(z - m))) with m the row maximum, and "
            "never take the log of softmax(z)")
    big, at_big, elsewhere = large_logit_rows(rng, int(rng.integers(1, 5)),
                                              int(rng.integers(2, 6)))
    cases = [(np.array([[1e4, 0.0]]), np.array([[0.0, 1.0]])),
             (np.array([[1e4, 0.0]]), np.array([[1.0, 0.0]])), (big, at_big), (big, elsewhere)]
    for Z, Y in cases:
        what = f"softmax_cross_entropy of logits of shape {Z.shape} with entries near 1e4"
        got = strict(student, what, hint, "losses.softmax_cross_entropy", Z, Y)
        close(got, ref.losses.softmax_cross_entropy(Z, Y), what, hint=hint)


@check("test-softmax-ce-derivative")
def check_softmax_ce_derivative(student, ref, rng):
    """softmax_cross_entropy_derivative against numerical gradients; rows sum to 0; stable."""
    function = "losses.softmax_cross_entropy_derivative"
    Z, Y = np.array([[0.0, np.log(3.0)], [0.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    close(student.call(function, Z, Y), ref.losses.softmax_cross_entropy_derivative(Z, Y),
          "softmax_cross_entropy_derivative on the worked example",
          hint="(softmax(logits) - target) / N")
    for n, c in [(1, 2), (4, 3), (6, 5)]:
        Z, Y = conditioned(ref, lambda n=n, c=c: (
            rng.normal(scale=2.0, size=(n, c)),
            ref.datasets.one_hot(rng.integers(0, c, size=n), c)),
            ref.losses.softmax_cross_entropy, ref.losses.softmax_cross_entropy_derivative)
        what = f"softmax_cross_entropy_derivative for logits of shape {(n, c)}"
        got = student.call(function, Z, Y)
        gradient(ref, got, lambda v, Y=Y: ref.losses.softmax_cross_entropy(v, Y), Z,
                 f"{what} against a numerical gradient", hint="(softmax(logits) - target) / N")
        is_float64(got, what)
        close(numbers(got, what).sum(axis=1), np.zeros(n), f"row sums of {what}",
              hint="softmax rows and one-hot rows both sum to 1, so each row sums to 0")
    hint = "use the stable softmax of notebook 2 (subtract the row maximum)"
    big, _, elsewhere = large_logit_rows(rng, int(rng.integers(1, 5)), int(rng.integers(2, 6)))
    for Z, Y in [(np.array([[1e4, 0.0]]), np.array([[0.0, 1.0]])), (big, elsewhere)]:
        what = f"softmax_cross_entropy_derivative of logits of shape {Z.shape} near 1e4"
        close(strict(student, what, hint, function, Z, Y),
              ref.losses.softmax_cross_entropy_derivative(Z, Y), what, hint=hint)


# ---------------------------------------------------------------- 5. backpropagation


@check("test-gradient-by-hand")
def check_gradient_by_hand(student, ref, rng):
    """The three gradients of the answer cell are the ones backpropagation gives."""
    names = ["dL_dw2", "dL_dw1", "dL_db1"]
    values = student.variables("05_backprop.ipynb", names)
    for name in names:
        value = numbers(answer(values, name), name)
        if value.ndim != 0 or not np.isfinite(value):
            _fail(name, "a plain number", _describe(values[name]))
    # the notebook's chain: x = 0.5, w1 = 2, b1 = -1 (sigmoid), w2 = 4, b2 = 0, y = 1, MSE
    dW, db = ref.backprop.backpropagation(
        np.array([[0.5]]), np.array([[1.0]]), [np.array([[2.0]]), np.array([[4.0]])],
        [np.array([-1.0]), np.array([0.0])], ["sigmoid", "identity"], "mse")
    hint = "work backwards link by link: dL/dy_hat, then dy_hat/dh, dh/dz1, dz1/dw1"
    close(values["dL_dw1"], 0.5 * float(values["dL_db1"]), "dL_dw1 compared with 0.5 * dL_db1",
          hint="dz1/dw1 = x = 0.5 while dz1/db1 = 1; everything before z1 is shared")
    close(values["dL_dw2"], dW[1][0, 0], "dL_dw2", hint=hint, show_error=False)
    close(values["dL_db1"], db[0][0], "dL_db1", hint=hint, show_error=False)
    close(values["dL_dw1"], dW[0][0, 0], "dL_dw1", hint=hint, show_error=False)


def _gradients(student, X, Y, weights, biases, names, loss, what, **options):
    """The student's (dW, db): two lists with one entry per layer."""
    got = entries(student.call("backprop.backpropagation", X, Y, weights, biases, names, loss,
                               **options), 2, what, "return two lists, dW and db")
    hint = "one gradient per layer"
    return (entries(got[0], len(weights), f"dW of {what}", hint),
            entries(got[1], len(biases), f"db of {what}", hint))


def _gradients_close(student, ref, X, Y, weights, biases, names, loss, what, **options):
    """backpropagation against the reference's gradients."""
    dW, db = _gradients(student, X, Y, weights, biases, names, loss, what, **options)
    ref_dW, ref_db = ref.backprop.backpropagation(X, Y, weights, biases, names, loss)
    hint = ("dW = delta.T @ A_prev and db = delta.sum(axis=0); delta_prev = (delta @ W) * "
            "f'(Z_prev)")
    for layer in range(len(weights)):
        close(dW[layer], ref_dW[layer], f"dW[{layer}] of {what}", hint=hint)
        close(db[layer], ref_db[layer], f"db[{layer}] of {what}", hint=hint)
        is_float64(dW[layer], f"dW[{layer}] of {what}")
        is_float64(db[layer], f"db[{layer}] of {what}")
    return dW, db


@check("test-backprop-single-neuron")
def check_backprop_single_neuron(student, ref, rng):
    """backpropagation for one neuron (identity and sigmoid) against the reference."""
    X, Y = np.array([[2.0, -1.0], [0.0, 1.0]]), np.array([[0.0], [1.0]])
    _gradients_close(student, ref, X, Y, [np.array([[1.0, 1.0]])], [np.array([0.5])],
                     ["identity"], "mse", "backpropagation on the worked example")
    for name in ("identity", "sigmoid"):
        n, d = _shape(rng, 2)
        X, weights, biases = random_network(rng, [d, 1], n)
        _gradients_close(student, ref, X, rng.normal(size=(n, 1)), weights, biases, [name],
                         "mse", f"backpropagation for a random {name} neuron")


@check("test-backprop-shapes")
def check_backprop_shapes(student, ref, rng):
    """backpropagation returns one dW and one db per layer, shaped like the parameters."""
    networks = [([3, 5, 4, 2], ["relu", "tanh", "identity"], "xavier")]
    for sizes in ([4, 1], [1, 3, 1], [2, 7, 1, 5, 3]):
        networks.append((sizes, ["tanh"] * (len(sizes) - 2) + ["sigmoid"], "he"))
    for sizes, names, method in networks:
        weights, biases = student_init(student, sizes, _seed(rng), method=method)
        X, Y = rng.normal(size=(5, sizes[0])), rng.uniform(size=(5, sizes[-1]))
        what = f"backpropagation on a {sizes} network"
        dW, db = _gradients(student, X, Y, weights, biases, names, "mse", what)
        for layer, (W, b) in enumerate(zip(weights, biases)):
            shaped(dW[layer], W.shape, f"dW[{layer}] of {what}",
                   "a gradient has the shape of what it differentiates: dW[i] like weights[i]")
            shaped(db[layer], b.shape, f"db[{layer}] of {what}",
                   "sum delta over the samples (axis 0) to get one entry per unit")


HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
OUTPUTS_OF_LOSS = {"mse": ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"),
                   "binary_cross_entropy": ("sigmoid", "softmax"),
                   "softmax_cross_entropy": ("softmax",)}


def backprop_cases(rng):
    """A random part of the cell's grid of activations, losses and depths.

    Every (loss, output activation) pair once at a random depth, and every hidden
    activation once more inside a network of depth 2 or 3; plus the cell's visible case.

    Returns
    -------
    list of (sizes, names, loss)
    """
    pairs = [(loss, output) for loss, outputs in OUTPUTS_OF_LOSS.items() for output in outputs]
    cases = [([3, 4, 2], ["tanh", "identity"], "mse")]
    draws = [(pair, int(rng.integers(1, 4)), rng.choice(HIDDEN_ACTIVATIONS)) for pair in pairs]
    draws += [(pairs[rng.integers(len(pairs))], int(rng.integers(2, 4)), hidden)
              for hidden in HIDDEN_ACTIVATIONS]
    for (loss, output), depth, hidden in draws:
        sizes = [2] + [3] * (depth - 1) + [2]
        cases.append((sizes, [str(hidden)] * (depth - 1) + [output], loss))
    return cases


def _targets(rng, loss, shape):
    if loss == "mse":
        return rng.normal(size=shape)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=shape).astype(float)
    return np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]


def numerical_gradients(ref, X, Y, weights, biases, names, loss):
    """Central-difference dW and db of the reference loss, layer by layer."""
    def loss_of(new_weights, new_biases):
        return ref.backprop.loss_value(X, Y, new_weights, new_biases, names, loss)

    dW = [ref.gradcheck.numerical_gradient(
        lambda W, i=i: loss_of(weights[:i] + [W] + weights[i + 1:], biases), weights[i])
        for i in range(len(weights))]
    db = [ref.gradcheck.numerical_gradient(
        lambda b, i=i: loss_of(weights, biases[:i] + [b] + biases[i + 1:]), biases[i])
        for i in range(len(biases))]
    return dW, db


def _agrees(ref, analytic, numerical, tolerance):
    return all(ref.gradcheck.relative_error(a, n) < tolerance for a, n in zip(analytic, numerical))


def _gradient_check_case(student, ref, rng, sizes, names, loss, tries=5):
    """Random data, and weights from the student's init_params, as in the cell.

    A ReLU kink within the step of the central differences spoils the numerical gradient
    itself (about 1 draw in 700 fails the check, 1 in 200 comes within 10 times of failing
    it); a draw where the reference's own gradients are not 10 times inside the tolerance is
    replaced (up to ``tries`` times), so that only a wrong gradient can fail, never rounding.

    Returns
    -------
    X, Y, weights, biases, (numerical dW, numerical db)
    """
    n_samples = 5 if sizes[0] == 3 else 4
    for _ in range(tries):
        weights, _ = student_init(student, sizes, _seed(rng))
        biases = [rng.normal(scale=0.5, size=n) for n in sizes[1:]]
        X, Y = rng.normal(size=(n_samples, sizes[0])), _targets(rng, loss, (n_samples, sizes[-1]))
        numerical = numerical_gradients(ref, X, Y, weights, biases, names, loss)
        dW, db = ref.backprop.backpropagation(X, Y, weights, biases, names, loss)
        if _agrees(ref, dW + db, numerical[0] + numerical[1], tolerance=1e-8):
            break
    return X, Y, weights, biases, numerical


@check("test-backprop-gradient-check")
def check_backprop_gradient_check(student, ref, rng):
    """backpropagation against numerical gradients computed here, for a sample of the grid.

    The cell differentiates the student's own loss (``loss_value`` runs the student's forward
    pass and loss); here the reference's is differentiated, and the student's loss must give
    the same value, so that a wrong loss fails here as it fails the cell.
    """
    for sizes, names, loss in backprop_cases(rng):
        X, Y, weights, biases, (num_dW, num_db) = _gradient_check_case(student, ref, rng, sizes,
                                                                       names, loss)
        what = f"backpropagation with activations {names} and loss {loss!r}"
        close(student.call("backprop.loss_value", X, Y, weights, biases, names, loss),
              ref.backprop.loss_value(X, Y, weights, biases, names, loss),
              f"the loss that the gradient check differentiates (backprop.loss_value), with "
              f"activations {names} and loss {loss!r}",
              hint="loss_value runs your forward_pass_with_cache and your loss function")
        dW, db = _gradients(student, X, Y, weights, biases, names, loss, what)
        hint = ("check the chain rule factor by factor; a factor of 2 or a missing 1/N shows as "
                "a constant ratio")
        for layer in range(len(weights)):
            for got, numerical, kind in [(dW[layer], num_dW[layer], "dW"),
                                         (db[layer], num_db[layer], "db")]:
                matches_numerical(ref, got, numerical, f"{what}: {kind} of layer {layer + 1}",
                                  hint=hint)


@check("test-backprop-batch")
def check_backprop_batch(student, ref, rng):
    """Batch gradients are the mean of per-sample ones and match the reference; inputs kept."""
    weights, biases = student_init(student, [2, 3, 1], _seed(rng))
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    names = ["tanh", "identity"]
    what = "backpropagation on a random batch of 4"
    dW, db = _gradients_close(student, ref, X, Y, weights, biases, names, "mse", what)
    singles = [_gradients(student, X[i:i + 1], Y[i:i + 1], weights, biases, names, "mse",
                          "backpropagation on one sample") for i in range(4)]
    hint = "sum over the batch with delta.T @ A_prev; the loss's 1/N makes it a mean"
    for layer in range(2):
        for part, name, shape in [(0, "dW", weights[layer].shape), (1, "db", biases[layer].shape)]:
            single = [shaped(g[part][layer], shape, f"{name}[{layer}] of one sample")
                      for g in singles]
            close((dW, db)[part][layer], np.mean(single, axis=0),
                  f"{name}[{layer}] of {what} compared with the mean of the single-sample "
                  f"{name}", hint=hint)
    X, weights, biases = random_network(rng, [3, 4, 2], 7)
    _gradients_close(student, ref, X, rng.normal(size=(7, 2)), weights, biases, names, "mse",
                     "backpropagation on a random [3, 4, 2] network and 7 samples",
                     _unchanged=True)


# ---------------------------------------------------------------- 6. gradient descent


@check("test-gradient-descent-update")
def check_gradient_descent_update(student, ref, rng):
    """gradient_descent_update against the reference, every layer, new arrays, inputs kept."""
    cases = [("the worked example", [np.array([[0.2, -0.4]])], [np.array([0.1])],
              ([np.array([[1.0, -2.0]])], [np.array([0.5])]), 0.5)]
    _, weights, biases = random_network(rng, [3, 5, 4, 2], 1)
    gradients = ([rng.normal(size=W.shape) for W in weights],
                 [rng.normal(size=b.shape) for b in biases])
    cases.append(("a random 3-layer network", weights, biases, gradients,
                  float(rng.uniform(0.01, 1.0))))
    hint = "step against the gradient: w - learning_rate * dW, for every layer"
    for kind, weights, biases, gradients, learning_rate in cases:
        what = f"gradient_descent_update on {kind}"
        got = entries(student.call("training.gradient_descent_update", weights, biases,
                                   gradients, learning_rate, _unchanged=True), 2, what,
                      "return new_weights, new_biases")
        expected = ref.training.gradient_descent_update(weights, biases, gradients,
                                                        learning_rate)
        for part, name in enumerate(["weights", "biases"]):
            new = entries(got[part], len(weights), f"new {name} of {what}", "update every layer")
            for layer, value in enumerate(new):
                close(value, expected[part][layer], f"new {name}[{layer}] of {what}", hint=hint)
                is_float64(value, f"new {name}[{layer}] of {what}")


def _training(student, what, *args, **kwargs):
    """train_network's result, checked to hold three entries: weights, biases, history."""
    return entries(student.call("training.train_network", *args, **kwargs), 3, what,
                   "return TrainingResult(weights, biases, history)")


def _same_training(got, expected, what, rtol=1e-7, parts=("weights", "biases", "history")):
    """Compare a student's (weights, biases, history) with the expected ones, part by part."""
    hints = {"weights": "one update per batch, batches in order when shuffle=False",
             "biases": "the biases take the same step: b - learning_rate * db",
             "history": "history[e] is the mean over the samples of the loss before each "
                        "update: each batch's loss times its size, divided by N"}
    for part, name in enumerate(["weights", "biases"]):
        if name in parts:
            values = entries(got[part], len(expected[part]), f"{name} of {what}")
            for layer, value in enumerate(values):
                close(value, expected[part][layer], f"{name}[{layer}] of {what}", rtol=rtol,
                      hint=hints[name])
    if "history" in parts:
        close(got[2], expected[2], f"history of {what}", rtol=rtol, hint=hints["history"])


def students_loop(student, X, Y, weights, biases, names, learning_rate, epochs, batch_size,
                  history=True):
    """The cells' own training loop, made of the student's functions, as the cells make it.

    The cells compare ``train_network`` with a loop of the student's ``backpropagation`` and
    ``gradient_descent_update`` (and ``forward_pass`` for the history), so that a mistake
    in those is not counted twice; so does this. MSE loss, samples in order.

    Returns
    -------
    weights, biases : lists of ndarrays
    history : list of float, or None when ``history`` is False
    """
    n, losses = len(X), []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, n, batch_size):
            Xb, Yb = X[start:start + batch_size], Y[start:start + batch_size]
            if history:
                prediction = shaped(student.call("network.forward_pass", Xb, weights, biases,
                                                 names), Yb.shape, "forward_pass on a batch")
                with np.errstate(over="ignore", invalid="ignore"):
                    total += float(np.sum((prediction - Yb) ** 2))
            gradients = entries(student.call("backprop.backpropagation", Xb, Yb, weights, biases,
                                             names, "mse"), 2, "backpropagation on a batch")
            weights, biases = _parameters(
                student.call("training.gradient_descent_update", weights, biases, gradients,
                             learning_rate), len(weights), "gradient_descent_update")
        losses.append(total / n)
    return weights, biases, losses if history else None


def _one_unit_example(rng):
    """The worked example's kind: a single identity unit from zero, on random 1-D data."""
    n = int(rng.integers(2, 6))
    X = rng.normal(size=(n, 1))
    return X, 2.0 * X + rng.normal(scale=0.1, size=(n, 1))


def _one_unit_epoch(student, ref, rng, batch_size):
    """The cells' worked example and one like it: one epoch of a single identity unit."""
    kwargs = dict(loss="mse", learning_rate=0.1, epochs=1, batch_size=batch_size,
                  shuffle=False, weights=[np.zeros((1, 1))], biases=[np.zeros(1)])
    kind = "per-sample" if batch_size == 1 else "full-batch"
    for X, Y in [(np.array([[1.0], [2.0]]), np.array([[2.0], [4.0]])), _one_unit_example(rng)]:
        what = f"one {kind} epoch of a single identity unit on {len(X)} samples"
        _same_training(_training(student, what, X, Y, [1, 1], ["identity"], **kwargs),
                       ref.training.train_network(X, Y, [1, 1], ["identity"], **kwargs), what)


@check("test-train-network-per-sample")
def check_train_network_per_sample(student, ref, rng):
    """train_network with batch_size=1, in order: one update per sample, as the cell's loop."""
    _one_unit_epoch(student, ref, rng, batch_size=1)
    X, y = ref.datasets.logic_gate("and")
    names, seed = ["tanh", "sigmoid"], _seed(rng)
    what = "3 per-sample epochs on AND from init_params(layer_sizes, seed=seed)"
    got = _training(student, what, X, y.reshape(-1, 1), [2, 2, 1], names, loss="mse",
                    learning_rate=0.5, epochs=3, batch_size=1, shuffle=False, seed=seed)
    weights, biases = student_init(student, [2, 2, 1], seed)
    _same_training(got, students_loop(student, X, y.reshape(-1, 1), weights, biases, names, 0.5,
                                      3, 1, history=False), what, parts=("weights", "biases"))
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    names = ["sigmoid", "tanh", "identity"]
    weights, biases = student_init(student, [3, 4, 3, 2], _seed(rng))
    what = "4 per-sample epochs of a random 3-layer network"
    got = _training(student, what, X, Y, [3, 4, 3, 2], names, loss="mse", learning_rate=0.05,
                    epochs=4, batch_size=1, shuffle=False, weights=weights, biases=biases)
    _same_training(got, students_loop(student, X, Y, weights, biases, names, 0.05, 4, 1), what,
                   rtol=1e-10)
    entries(got[2], None, f"history of {what}", "history is a list, one mean loss per epoch")


@check("test-train-network-batches")
def check_train_network_batches(student, ref, rng):
    """train_network with mini-batches (a smaller last one) and the full batch."""
    _one_unit_epoch(student, ref, rng, batch_size=None)
    n = int(rng.integers(9, 14))
    X, Y = rng.normal(size=(n, 2)), rng.normal(size=(n, 1))
    names, seed = ["tanh", "identity"], _seed(rng)
    weights, biases = student_init(student, [2, 3, 1], seed)
    for batch_size in sorted({n - 1, *(int(k) for k in rng.integers(2, n - 1, size=2))}):
        what = f"3 epochs on {n} samples in batches of {batch_size}"
        got = _training(student, what, X, Y, [2, 3, 1], names, loss="mse", learning_rate=0.1,
                        epochs=3, batch_size=batch_size, shuffle=False, seed=seed)
        _same_training(got, students_loop(student, X, Y, weights, biases, names, 0.1, 3,
                                          batch_size), what, rtol=1e-10,
                       parts=("weights", "history"))
    kwargs = dict(loss="mse", learning_rate=0.1, epochs=3, seed=seed)
    full = _training(student, "training with batch_size=None", X, Y, [2, 3, 1], names,
                     batch_size=None, **kwargs)
    bigger = _training(student, f"training with batch_size above N={n}", X, Y, [2, 3, 1], names,
                       batch_size=n + int(rng.integers(1, 50)), **kwargs)
    close(bigger[2], numbers(full[2], "history with batch_size=None"),
          f"history with a batch size above N={n}, against batch_size=None",
          hint="a batch size above n is the full batch")


def trained_outputs(student, ref, X, result, names, what):
    """The trained network's outputs on ``X``, by the reference and by the student's forward_pass.

    The cells compute them with the student's ``forward_pass``; the reference's must agree
    that the trained weights do the job, whatever ``forward_pass`` says.

    Returns
    -------
    list of (ndarray, str)
        Each output with the name of who computed it.
    """
    weights, biases = _parameters(result[:2], len(names), f"the result of {what}")
    by_reference = reference(f"the network after {what}", ref.network.forward_pass, X, weights,
                             biases, names)
    by_student = shaped(student.call("network.forward_pass", X, weights, biases, names),
                        by_reference.shape, f"your forward_pass after {what}")
    return [(by_reference, "computed here"), (by_student, "computed by your forward_pass")]


def xor_start():
    """The XOR cell's starting weights and biases."""
    return ([np.array([[0.6, -0.5], [-0.4, 0.7]]), np.array([[0.5, -0.3]])],
            [np.zeros(2), np.zeros(1)])


def _learns_xor(ref, history, weights, biases, names):
    X, y = ref.datasets.logic_gate("xor")
    output = ref.network.forward_pass(X, weights, biases, names)
    return history[-1] < 0.1 * history[0] and np.array_equal((output[:, 0] > 0.5) * 1.0, y)


def _xor_start(ref, rng, names, kwargs, tries=3):
    """The cell's starting weights, nudged at random, where the reference learns XOR."""
    X, y = ref.datasets.logic_gate("xor")
    start_weights, biases = xor_start()
    for _ in range(tries):
        weights = [W + rng.normal(scale=0.1, size=W.shape) for W in start_weights]
        result = ref.training.train_network(X, y.reshape(-1, 1), [2, 2, 1], names,
                                            weights=weights, biases=biases, **kwargs)
        if _learns_xor(ref, result.history, result.weights, result.biases, names):
            return weights, biases
    return start_weights, biases


@check("test-train-network-xor")
def check_train_network_xor(student, ref, rng):
    """train_network learns XOR in 500 full-batch epochs; progress is called every epoch."""
    X, y = ref.datasets.logic_gate("xor")
    names = ["tanh", "sigmoid"]
    kwargs = dict(loss="binary_cross_entropy", learning_rate=1.0, epochs=500, batch_size=None)
    weights, biases = _xor_start(ref, rng, names, kwargs)
    what = "500 full-batch epochs on XOR"
    got_w, got_b, history = _training(student, what, X, y.reshape(-1, 1), [2, 2, 1], names,
                                      weights=weights, biases=biases, **kwargs)
    history = shaped(history, (500,), f"history of {what}",
                     "append one mean loss per epoch")
    if not history[-1] < 0.1 * history[0]:
        raise Mismatch(f"loss of {what}: expected it to fall below a tenth of the first epoch's."
                       f"\nHint: check the sign of the update and that every epoch updates the "
                       f"weights")
    for output, by in trained_outputs(student, ref, X, [got_w, got_b], names, what):
        close((output[:, 0] > 0.5) * 1.0, y, f"the trained network's answers after {what}, {by}",
              hint="return the weights and biases after the last update")
    epochs = int(rng.integers(3, 8))
    what = f"{epochs} epochs on XOR in batches of 2 with a progress function"
    result, records = student.call("training.train_network", X, y.reshape(-1, 1), [2, 2, 1],
                                   names, loss="binary_cross_entropy", learning_rate=1.0,
                                   epochs=epochs, batch_size=2, weights=weights, biases=biases,
                                   seed=_seed(rng), _record_progress=True, _unchanged=True)
    _, _, history = entries(result, 3, what, "return TrainingResult(weights, biases, history)")
    hint = "call report(epoch, history[-1], weights, biases) after every epoch"
    records = [entries(record, 4, f"a progress call of {what}", hint)
               for record in entries(records, epochs, f"progress calls of {what}", hint)]
    close([record[0] for record in records], np.arange(epochs), f"epochs passed to progress in "
          f"{what}", rtol=0, atol=0, hint=hint)
    close([record[1] for record in records], numbers(history, f"history of {what}"),
          f"losses passed to progress in {what}", hint=hint)


@check("test-train-network-seeds")
def check_train_network_seeds(student, ref, rng):
    """The seed fixes training, another seed or shuffling changes it; divergence is reported."""
    X, y = ref.datasets.make_spirals(n_samples=60, seed=_seed(rng))
    Y = y.reshape(-1, 1)
    kwargs = dict(layer_sizes=[2, 8, 1], activations=["tanh", "sigmoid"],
                  loss="binary_cross_entropy", learning_rate=0.5, epochs=5, batch_size=8)
    seed = _seed(rng)
    first, second, other = (numbers(_training(student, "training on spirals", X, Y, seed=s,
                                              **kwargs)[2], "history")
                            for s in (seed, seed, seed + 1))
    if not np.array_equal(first, second):
        raise Mismatch("two trainings with the same seed: expected the same history, got "
                       "different ones.\nHint: shuffle with the generator rng made above the "
                       "loop, rng.permutation(n), not with np.random")
    if np.array_equal(first, other):
        raise Mismatch("trainings with two different seeds: expected different histories")
    kwargs.update(batch_size=1, epochs=2)
    in_order, shuffled = (_first_weights(student, X, Y, seed, shuffle, kwargs)
                          for shuffle in (False, True))
    if in_order.shape == shuffled.shape and np.allclose(in_order, shuffled):
        raise Mismatch("shuffle=True gave the same weights as shuffle=False.\nHint: visit the "
                       "samples in the order rng.permutation(n) when shuffle is True")
    _check_divergence(student, ref, rng)


def _first_weights(student, X, Y, seed, shuffle, kwargs):
    weights = entries(_training(student, "training on spirals", X, Y, seed=seed,
                                shuffle=shuffle, **kwargs)[0], 2, "weights")
    return numbers(weights[0], "weights[0]")


def _check_divergence(student, ref, rng):
    """A learning rate far too large stops training with a FloatingPointError."""
    X, Y = ref.datasets.make_curve(50, "sine")
    kwargs = dict(loss="mse", learning_rate=5.0, epochs=100, batch_size=10)
    seed = _seed(rng)
    try:
        ref.training.train_network(X, Y, [1, 16, 1], ["tanh", "identity"], seed=seed, **kwargs)
        seed = 0  # this draw happens not to diverge: use the cell's
    except FloatingPointError:
        pass
    raises(student, "FloatingPointError", "learning rate",
           "training on the sine curve with a learning rate far too large",
           "training.train_network", X, Y, [1, 16, 1], ["tanh", "identity"], seed=seed, **kwargs)


# ---------------------------------------------------------------- 7. capstone


@functools.lru_cache(maxsize=1)
def _digits(ref):
    return ref.datasets.load_digits(test_size=0.25, seed=0)


def _hyperparameters(student):
    """The capstone's answers, checked to be in the ranges the cell allows."""
    names = ["hidden_sizes", "learning_rate", "epochs", "batch_size"]
    values = student.variables("07_capstone.ipynb", names)
    for name in names:
        answer(values, name)
    sizes = values["hidden_sizes"]
    widths = [whole_number(h, "each hidden size")
              for h in (sizes if isinstance(sizes, list) else [sizes])]
    if not (1 <= len(widths) <= 3 and all(1 <= h <= 128 for h in widths)):
        _fail("hidden_sizes", "1 to 3 whole numbers from 1 to 128, e.g. (64,)",
              f"{len(widths)} sizes {widths}")
    epochs = whole_number(values["epochs"], "epochs")
    if not 1 <= epochs <= 60:
        _fail("epochs", "a whole number from 1 to 60 (to keep grading fast)", str(epochs))
    batch_size = whole_number(values["batch_size"], "batch_size")
    if batch_size < 16:
        _fail("batch_size", "a whole number >= 16 (to keep grading fast)", str(batch_size))
    learning_rate = numbers(values["learning_rate"], "learning_rate")
    if learning_rate.size != 1:
        _fail("learning_rate", "one number", _describe(values["learning_rate"]))
    return widths, float(learning_rate.reshape(-1)[0]), epochs, batch_size


@check("test-digits-accuracy")
def check_digits_accuracy(student, ref, rng):
    """The capstone network, trained by the student's train_network, reaches 93% held out."""
    widths, learning_rate, epochs, batch_size = _hyperparameters(student)
    X_train, X_test, y_train, y_test = _digits(ref)
    names = ["relu"] * len(widths) + ["softmax"]
    what = "training on the digits with your hyperparameters"
    result = _training(
        student, what, X_train, ref.datasets.one_hot(y_train, 10), [64, *widths, 10], names,
        loss="softmax_cross_entropy", learning_rate=learning_rate, epochs=epochs,
        batch_size=batch_size, init="he", seed=0)
    history = numbers(result[2], f"history of {what}")
    if history.shape != (epochs,) or not np.all(np.isfinite(history)):
        _fail(f"history of {what}", f"{epochs} finite losses",
              f"{history.size} losses, {history.size - np.count_nonzero(np.isfinite(history))} "
              f"of them nan or inf")
    for output, by in trained_outputs(student, ref, X_test, result, names, what):
        predicted = output.argmax(axis=1)
        accuracy = float(np.mean(predicted == y_test))
        if not accuracy >= 0.93:
            _fail(f"held-out accuracy, {by}", "at least 0.93", f"{accuracy:.3f}",
                  "look at the loss history: still falling steeply at the end means train "
                  "longer or raise the learning rate; jumping up and down means lower it")
        if np.unique(predicted).size != 10:
            raise Mismatch(f"the trained network's predictions, {by}: expected every one of the "
                           f"10 digits")
