"""Input checks shared by every nnlib module (provided code, not an exercise).

They turn bad input into an error that names the problem, instead of a numpy
traceback three calls deeper or a silent ``nan``.
"""

import numbers

import numpy as np


def as_float_array(value, name, ndim=None, allow_nonfinite=False):
    """Return ``value`` as a new float64 array, checking it on the way.

    Parameters
    ----------
    value : array_like
        Anything ``np.asarray`` accepts.
    name : str
        How the error messages refer to the value (e.g. ``"X"``).
    ndim : int or tuple of int, optional
        The accepted number(s) of dimensions.
    allow_nonfinite : bool, default False
        If False, ``nan`` and ``inf`` entries raise ``ValueError``.

    Returns
    -------
    ndarray of float64
        A copy: changing it never changes ``value``.
    """
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        kind = type(value).__name__
        raise TypeError(f"{name} must be an array of numbers, got {kind}") from error
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(f"{d}-D" for d in allowed)
            one_sample = 2 in allowed and array.ndim == 1
            hint = " (for one sample, use x.reshape(1, -1))" if one_sample else ""
            raise ValueError(f"{name} must be {wanted}, got shape {array.shape}{hint}")
    if not allow_nonfinite and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} non-finite value(s) (nan or inf)")
    return array


def check_same_shape(first, second, first_name, second_name):
    """Raise ``ValueError`` naming both shapes unless the arrays match."""
    if first.shape != second.shape:
        raise ValueError(
            f"{first_name} has shape {first.shape} but {second_name} has shape "
            f"{second.shape}; they must be the same"
        )


def unknown_name_error(kind, name, known):
    """Build the ``ValueError`` for a name missing from a registry."""
    names = ", ".join(repr(k) for k in sorted(known))
    return ValueError(f"unknown {kind} {name!r}; the known ones are: {names}")


def check_count(value, name):
    """Return ``value`` as an int, raising ``ValueError`` unless it is an integer ``>= 1``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_positive(value, name):
    """Return ``value`` as a float, raising ``ValueError`` unless it is finite and ``> 0``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0.0 < value < np.inf):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)
