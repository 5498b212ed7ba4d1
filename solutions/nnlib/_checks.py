"""Input checks shared by every nnlib module (provided code, not an exercise).

They turn bad input into an error that names the problem, instead of a numpy
traceback three calls deeper or a silent ``nan``.
"""

import contextvars
import functools
import numbers

import numpy as np

# Inside a training run, whose inputs were checked once at the door (``inputs_checked``),
# arrays that are already float64 pass ``as_float_array`` unscanned.
_CHECKED = contextvars.ContextVar("nnlib_inputs_checked", default=False)
# ... and the forward pass of a batch is made once, for the loss and for backpropagation.
_LAST_FORWARD = contextvars.ContextVar("nnlib_last_forward", default=None)


def as_float_array(value, name, ndim=None, allow_nonfinite=False, shared=False):
    """Return ``value`` as a float64 array, checking it on the way.

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
    shared : bool, default False
        If True, a float64 array comes back as itself, not copied: for callers that
        never write into the result and hand it to no code that might.

    Returns
    -------
    ndarray of float64
        A copy, unless ``shared``: changing it never changes ``value``.
    """
    if _CHECKED.get() and type(value) is np.ndarray and value.dtype == np.float64:
        # checked at the door of the training run: not scanned again
        return value if shared else value.copy()
    try:
        array = (np.asarray(value, dtype=np.float64) if shared
                 else np.array(value, dtype=np.float64, copy=True))
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


def check_non_negative(value, name):
    """Return ``value`` as a float, raising ``ValueError`` unless it is finite and ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < np.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_fraction(value, name, zero_allowed=False):
    """Return ``value`` as a float, raising ``ValueError`` unless it lies in ``(0, 1)``, or in
    ``[0, 1)`` when ``zero_allowed`` (a rate, a decay, a momentum)."""
    number = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if not (number and (0.0 <= value if zero_allowed else 0.0 < value) and value < 1.0):
        bounds = "in [0, 1)" if zero_allowed else "strictly between 0 and 1"
        raise ValueError(f"{name} must be a number {bounds}, got {value!r}")
    return float(value)


# ---------------------------------------------------------------- checked once, at the door


def checked_run(function):
    """Run ``function`` in a context of its own, where ``inputs_checked`` may switch the
    checks of the calls it makes to their lean form; every call starts with them on."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return contextvars.copy_context().run(function, *args, **kwargs)

    return wrapper


def inputs_checked():
    """Say that the current ``checked_run`` has checked its inputs.

    From here on, in that run only, float64 arrays pass ``as_float_array`` without being
    scanned again (still copied unless ``shared``: a function may write into its copy), and
    ``shared_forward`` functions reuse their last result for the same arguments.
    """
    _CHECKED.set(True)
    _LAST_FORWARD.set({})


def shared_forward(forward):
    """In a checked run, make ``forward(X, weights, biases, activations)`` once per batch.

    The training loop asks for the loss of a batch (``loss_value``) and for its gradients
    (``backpropagation``) at the same weights: both start with the same forward pass. The
    result of a call is kept with its arguments and returned once more, to the next call
    with the very same arrays; then it is let go, so that no cache outlives its batch (the
    next batch's forward pass would otherwise hold two). Outside a checked run, every call
    computes.
    """

    @functools.wraps(forward)
    def wrapper(X, weights, biases, activations):
        last = _LAST_FORWARD.get()
        if last is None:
            return forward(X, weights, biases, activations)
        arguments = (X, *weights, *biases)
        kept = last.pop("kept", None)
        if (kept is not None and kept["activations"] == list(activations)
                and len(kept["arguments"]) == len(arguments)
                and all(a is b for a, b in zip(kept["arguments"], arguments))):
            return kept["result"]
        result = forward(X, weights, biases, activations)
        last["kept"] = dict(arguments=arguments, activations=list(activations), result=result)
        return result

    return wrapper


def with_checks(function, *args):
    """Call ``function(*args)`` with every check on, even inside a checked run (for code that
    is not the run's own, such as a ``progress`` callback)."""
    context = contextvars.copy_context()
    context.run(_CHECKED.set, False)
    context.run(_LAST_FORWARD.set, None)
    return context.run(function, *args)
