"""Numerical gradient checking: the test every backward function must pass.

An analytic gradient (a derivative written by hand, or backpropagation) is
compared with a numerical one from central differences::

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h)

whose error shrinks like ``h**2``. Provided code, used alike by the tests,
the notebooks and the grader.

Students write their own ``numerical_gradient`` and ``relative_error`` in
``backprop.py`` (Exercises 5.2 and 5.3). This module keeps private copies of
both, ``_numerical_gradient`` and ``_relative_error``, and uses only those:
the checks below judge every other exercise (the derivatives of notebooks 2
and 4, backpropagation), so a mistake in the student's gradient check must
never turn a right answer elsewhere into a wrong one, or a wrong one into a
right one.
"""

import numpy as np

from ._checks import as_float_array
from .backprop import backpropagation, loss_value

# float64 keeps about 16 digits; h ~ 1e-5 balances the h**2 truncation error
# of central differences against the rounding error eps / h.
DEFAULT_STEP = 1e-5
DEFAULT_TOLERANCE = 1e-7


def _numerical_gradient(f, x, h=DEFAULT_STEP):
    """Gradient of a scalar function by central differences (the trusted copy).

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for an array ``x`` of ``x``'s shape.
    x : array_like, any shape
        Where to take the gradient. It is not modified.
    h : float, default 1e-5
        Step size.

    Returns
    -------
    ndarray, same shape as ``x``
    """
    x = as_float_array(x, "x")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = float(f(x.copy()))
        x[index] = original - h
        f_minus = float(f(x.copy()))
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad


def _relative_error(a, b):
    """Size of the difference relative to the size of the gradients (the trusted copy).

    ``||a - b|| / (||a|| + ||b||)`` with Euclidean norms over all entries,
    and 0 when both are zero. Below 1e-7 in float64, two gradients agree.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
    """
    a = as_float_array(a, "a", allow_nonfinite=True)
    b = as_float_array(b, "b", allow_nonfinite=True)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)


def check_gradient(analytic, numerical, name="gradient", tolerance=DEFAULT_TOLERANCE):
    """Assert that an analytic gradient matches a numerical one.

    Parameters
    ----------
    analytic : array_like
        The gradient under test.
    numerical : array_like
        The gradient from central differences (``_numerical_gradient``).
    name : str
        What the gradient is, for the message (e.g. ``"dW of layer 2"``).
    tolerance : float, default 1e-7

    Returns
    -------
    float
        The relative error, when the check passes.

    Raises
    ------
    AssertionError
        Saying what was expected, what came back and where to look.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise AssertionError(
            f"{name}: expected shape {numerical.shape}, got {analytic.shape}. Hint: a "
            f"gradient has the shape of what it differentiates."
        )
    if not np.all(np.isfinite(analytic)):
        raise AssertionError(f"{name}: got non-finite values {analytic}. Hint: look for an "
                             f"overflow or a division by zero.")
    error = _relative_error(analytic, numerical)
    if not error < tolerance:
        worst = np.unravel_index(np.argmax(np.abs(analytic - numerical)), analytic.shape)
        raise AssertionError(
            f"{name}: relative error {error:.3g} is above {tolerance:g}.\n"
            f"  expected (numerical): {numerical.ravel()[:6]}\n"
            f"  got (analytic):       {analytic.ravel()[:6]}\n"
            f"  largest difference at index {tuple(int(i) for i in worst)}: expected "
            f"{numerical[worst]:.6g}, got {analytic[worst]:.6g}.\n"
            f"  Hint: check the chain rule factor by factor; a factor of 2 or a missing "
            f"1/N shows as a constant ratio {_ratio(analytic, numerical)}."
        )
    return error


def _ratio(analytic, numerical):
    mask = np.abs(numerical) > 1e-12
    if not np.any(mask):
        return "(numerical gradient is zero)"
    ratios = analytic[mask] / numerical[mask]
    return f"(analytic / numerical is {np.median(ratios):.4g} here)"


def check_derivative(function, derivative, z, name=None, tolerance=DEFAULT_TOLERANCE):
    """Check an element-wise derivative, e.g. ``sigmoid_derivative``.

    For an element-wise ``f``, the gradient of ``sum(f(z))`` is ``f'(z)``.

    Parameters
    ----------
    function, derivative : callable
        ``z -> ndarray`` of ``z``'s shape.
    z : array_like, any shape
        Points to check at (keep them away from kinks, such as 0 for ReLU).
    name : str, optional
    tolerance : float, default 1e-7

    Returns
    -------
    float
        The relative error.
    """
    z = as_float_array(z, "z")
    numerical = _numerical_gradient(lambda v: np.sum(function(v)), z)
    name = name or getattr(derivative, "__name__", "derivative")
    return check_gradient(derivative(z), numerical, name, tolerance)


def check_backprop(X, Y, weights, biases, activations, loss, tolerance=DEFAULT_TOLERANCE):
    """Check ``backpropagation`` against numerical gradients, layer by layer.

    Parameters
    ----------
    X, Y, weights, biases, activations, loss
        As in ``backprop.backpropagation``. Keep the network small: every
        parameter costs two forward passes.
    tolerance : float, default 1e-7

    Returns
    -------
    float
        The largest relative error over all layers.
    """
    dW, db = backpropagation(X, Y, weights, biases, activations, loss)
    weights = [np.array(W, dtype=np.float64) for W in weights]
    biases = [np.array(b, dtype=np.float64) for b in biases]
    errors = []
    for i in range(len(weights)):

        def loss_of_w(W, i=i):
            return loss_value(X, Y, weights[:i] + [W] + weights[i + 1 :], biases,
                              activations, loss)

        def loss_of_b(b, i=i):
            return loss_value(X, Y, weights, biases[:i] + [b] + biases[i + 1 :],
                              activations, loss)

        errors.append(check_gradient(dW[i], _numerical_gradient(loss_of_w, weights[i]),
                                     f"dW of layer {i + 1}", tolerance))
        errors.append(check_gradient(db[i], _numerical_gradient(loss_of_b, biases[i]),
                                     f"db of layer {i + 1}", tolerance))
    return max(errors)


def _dW_errors(backprop, X, Y, weights, biases, activations, loss):
    """The relative error of each layer's ``dW`` from ``backprop``, by the grader's own check.

    Parameters
    ----------
    backprop : callable
        A function with the signature of ``backprop.backpropagation`` (e.g. one of
        ``debugging.CASES``).
    X, Y, weights, biases, activations, loss
        As in ``backprop.backpropagation``.

    Returns
    -------
    list of float
        Entry ``i`` compares ``dW[i]`` with central differences of the loss as a
        function of ``weights[i]`` alone (``nan`` where either is not finite).
    """
    dW, _ = backprop(X, Y, weights, biases, activations, loss)
    weights = list(weights)

    def loss_of(W, i):
        return loss_value(X, Y, weights[:i] + [W] + weights[i + 1:], biases, activations, loss)

    return [_relative_error(dW[i], _numerical_gradient(lambda W, i=i: loss_of(W, i), weights[i]))
            for i in range(len(weights))]
