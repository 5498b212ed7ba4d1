"""Checks for the notebooks' test cells (provided code).

Each check raises ``AssertionError`` with a message in three parts: what was
expected, what came back, and a hint toward the fix, e.g.::

    sigmoid(-1000): expected 0.0, got nan.
    Hint: exp(1000) overflowed; use the stable form for negative z.
"""

import numpy as np

from ._exercises import ExerciseNotDone
from .gradcheck import _numerical_gradient, check_gradient

__all__ = ["answer_given", "assert_close", "assert_gradient", "assert_raises",
           "assert_shape", "coupled_sines", "log_sum_exp", "sum_of_cubes", "sum_of_squares"]


def _show(value):
    """A short printable form of a value for a message."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=6, threshold=12, separator=", ")
        return text if value.ndim == 0 else f"{text} (shape {value.shape})"
    return repr(value)


def _fail(call, expected, got, hint):
    message = f"{call}: expected {expected}, got {got}."
    if hint:
        message += f"\nHint: {hint}"
    raise AssertionError(message)


def answer_given(value, name):
    """Stop with ``ExerciseNotDone`` while a notebook answer is still ``None``.

    Parameters
    ----------
    value : object
        The variable the exercise asks the student to set.
    name : str
        Its name, for the message.
    """
    if value is None:
        raise ExerciseNotDone(f"set {name} in the exercise cell above, then run this cell")


def assert_shape(got, shape, call, hint=""):
    """Check that ``got`` is an array of the given shape.

    Parameters
    ----------
    got : object
        What the student's code returned.
    shape : tuple of int
    call : str
        The call that produced ``got``, e.g. ``"forward_pass(X, ...)"``.
    hint : str
    """
    if got is None:
        _fail(call, f"an array of shape {shape}", "None",
              hint or "the function does not return anything; add a return statement")
    got_shape = np.shape(got)
    if got_shape != tuple(shape):
        _fail(call, f"an array of shape {tuple(shape)}", f"shape {got_shape}", hint)


def assert_close(got, expected, call, hint="", rtol=1e-7, atol=1e-10):
    """Check that ``got`` equals ``expected`` up to rounding.

    Parameters
    ----------
    got : array_like or float
        What the student's code returned.
    expected : array_like or float
        The right answer.
    call : str
        The call that produced ``got``.
    hint : str
        Where to look when they differ.
    rtol, atol : float
        Relative and absolute tolerance, as in ``numpy.allclose``.
    """
    expected = np.asarray(expected, dtype=np.float64)
    assert_shape(got, expected.shape, call, hint)
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(call, _show(expected), _show(got), hint or "return numbers, not other objects")
    if not np.all(np.isfinite(got_array)) and np.all(np.isfinite(expected)):
        _fail(call, _show(expected), _show(got_array),
              hint or "a value overflowed or divided by zero")
    if not np.allclose(got_array, expected, rtol=rtol, atol=atol):
        _fail(call, _show(expected), _show(got_array), hint)


def assert_raises(error_type, function, *args, call, match="", hint="", **kwargs):
    """Check that ``function(*args, **kwargs)`` raises ``error_type``.

    Parameters
    ----------
    error_type : type
        The exception class expected.
    function : callable
    *args, **kwargs
        Its arguments.
    call : str
        How the call reads, for the message.
    match : str
        Text the error message must contain.
    hint : str
    """
    try:
        result = function(*args, **kwargs)
    except error_type as error:
        if match and match not in str(error):
            _fail(call, f"{error_type.__name__} mentioning {match!r}", repr(str(error)), hint)
        return
    _fail(call, f"{error_type.__name__} to be raised", f"a return value {_show(result)}", hint)


def assert_gradient(analytic, function, x, call, hint="", tolerance=1e-7):
    """Check an analytic gradient against central differences of ``function``.

    Parameters
    ----------
    analytic : array_like
        The gradient the student's code computed at ``x``.
    function : callable
        ``x -> float``, whose gradient it should be.
    x : array_like
        The point.
    call : str
    hint : str
    tolerance : float, default 1e-7
        Largest relative error accepted.
    """
    x = np.asarray(x, dtype=np.float64)
    assert_shape(analytic, x.shape, call, hint)
    try:
        check_gradient(analytic, _numerical_gradient(function, x), call, tolerance)
    except AssertionError as error:
        raise AssertionError(f"{error}\nHint: {hint}" if hint else str(error)) from None


# ---------------------------------------------------------------- functions to check a checker with
# Scalar functions of one array whose gradients are known, for the tests of the student's own
# numerical_gradient (Exercise 5.2). They are nnlib functions and not lambdas because the
# grader runs the student's code in another process, and can hand it nnlib's functions (by
# name) but no function of its own.


def sum_of_squares(x):
    """``sum(x**2)`` over all entries; its gradient is ``2 x``."""
    return float(np.sum(np.square(x)))


def sum_of_cubes(x):
    """``sum(x**3)``; its gradient is ``3 x**2``.

    Central differences are off by exactly ``h**2`` in every entry; a one-sided
    difference ``(f(x + h) - f(x)) / h`` by about ``3 x h``.
    """
    return float(np.sum(np.asarray(x) ** 3))


def log_sum_exp(x):
    """``log(sum(exp(x)))`` over all entries; its gradient is the softmax of all entries."""
    x = np.asarray(x, dtype=np.float64)
    top = np.max(x)
    return float(top + np.log(np.sum(np.exp(x - top))))


def coupled_sines(x):
    """``sum_i sin(x_i) x_{i-1}`` over the flattened entries (``x_{-1}`` being the last).

    Each partial derivative depends on the neighbouring entries too:
    ``df/dx_j = cos(x_j) x_{j-1} + sin(x_{j+1})``.
    """
    flat = np.ravel(np.asarray(x, dtype=np.float64))
    return float(np.sum(np.sin(flat) * np.roll(flat, 1)))
