"""Activation functions and their derivatives.

A layer computes a weighted sum ``Z`` and then applies an activation function
element by element, ``A = f(Z)``. Without that non-linear ``f``, a stack of
layers collapses into one matrix product: still a linear model.

Each function below takes an array of any shape and returns a new float64
array of the same shape. Each derivative is taken with respect to ``z`` and is
evaluated at ``z`` (not at ``f(z)``), so ``sigmoid_derivative(z)`` is
``d sigmoid(z) / dz``. The functions sit next to their derivatives, and the
registry at the end of the file finds both by name.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, unknown_name_error
from ._exercises import ExerciseNotDone

# ---------------------------------------------------------------- sigmoid


def sigmoid(z):
    """Logistic sigmoid, ``1 / (1 + exp(-z))``, squashing any number into (0, 1).

    Written literally, that formula overflows for large negative ``z``; you derive a
    form that does not in Exercise 2.1, part a.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
        Values in [0, 1]; finite even for ``z = +-1000``.

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    """
    z = as_float_array(z, "z")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.1: implement sigmoid")


def sigmoid_derivative(z):
    """Derivative of the sigmoid, ``d sigmoid(z) / dz``, evaluated at ``z``.

    You derive it in Exercise 2.2, part a.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
        The slope of the sigmoid at each entry; finite for any ``z``.
    """
    z = as_float_array(z, "z")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.2: implement sigmoid_derivative")


# ---------------------------------------------------------------- tanh


def tanh(z):
    """Hyperbolic tangent, ``(e^z - e^-z) / (e^z + e^-z)``, with range (-1, 1).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float_array(z, "z")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.3: implement tanh")


def tanh_derivative(z):
    """Derivative of tanh, ``d tanh(z) / dz``, evaluated at ``z``.

    You derive it in Exercise 2.4, part a.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
        The slope of tanh at each entry; finite for any ``z``.
    """
    z = as_float_array(z, "z")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.4: implement tanh_derivative")


# ---------------------------------------------------------------- ReLU


def relu(z):
    """Rectified linear unit, ``max(0, z)``, with range [0, inf).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float_array(z, "z")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.5: implement relu")


def relu_derivative(z):
    """Derivative of ReLU, ``d relu(z) / dz``, evaluated at ``z``.

    You derive it in Exercise 2.6, part a. At the kink ``z = 0``, where no
    derivative exists, nnlib takes the slope from the left.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float_array(z, "z")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.6: implement relu_derivative")


# ---------------------------------------------------------------- leaky ReLU


def leaky_relu(z, alpha=0.01):
    """Leaky ReLU, ``max(alpha * z, z)`` for a small ``0 <= alpha < 1``.

    The small slope for negative ``z`` keeps a gradient flowing through
    neurons that a plain ReLU would leave dead.

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01
        Slope for negative inputs, in [0, 1).

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float_array(z, "z")
    alpha = _check_alpha(alpha)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.7: implement leaky_relu")


def leaky_relu_derivative(z, alpha=0.01):
    """Derivative of leaky ReLU, ``d leaky_relu(z, alpha) / dz``, evaluated at ``z``.

    You derive it in Exercise 2.8, part a. At the kink ``z = 0``, nnlib takes
    the slope from the left, as for ReLU.

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01
        Leaky ReLU's slope parameter, in [0, 1).

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float_array(z, "z")
    alpha = _check_alpha(alpha)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.8: implement leaky_relu_derivative")


def _check_alpha(alpha):
    if not np.isscalar(alpha) or not 0.0 <= float(alpha) < 1.0:
        raise ValueError(f"alpha must be a number in [0, 1), got {alpha!r}")
    return float(alpha)


# ---------------------------------------------------------------- identity


def identity(z):
    """The linear output ``f(z) = z``, for regression output layers.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, a copy of ``z``
    """
    return as_float_array(z, "z")


def identity_derivative(z):
    """Derivative of the identity: ones of ``z``'s shape."""
    return np.ones_like(as_float_array(z, "z"))


# ---------------------------------------------------------------- softmax


def softmax(z):
    """Softmax over each row: ``exp(z_c) / sum_k exp(z_k)``.

    It turns a row of scores (logits) into probabilities that sum to 1, for
    an output layer that picks one of ``C`` classes.

    Parameters
    ----------
    z : array_like, shape (N, C)
        One row of logits per sample.

    Returns
    -------
    ndarray, shape (N, C)
        Non-negative rows summing to 1; finite even for logits near 1e4.
    """
    z = as_float_array(z, "z", ndim=2)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 2.9: implement softmax")


def softmax_backward(dA, z):
    """Gradient through softmax: ``dZ`` from the upstream gradient ``dA``.

    Softmax mixes the entries of a row, so its derivative is a ``C x C``
    Jacobian per sample, ``J = diag(s) - s s^T``. Multiplying by it gives
    ``dZ = s * (dA - sum(dA * s))`` row by row, without building ``J``.

    Parameters
    ----------
    dA : ndarray, shape (N, C)
        Gradient of the loss with respect to ``softmax(z)``.
    z : ndarray, shape (N, C)

    Returns
    -------
    ndarray, shape (N, C)
    """
    s = softmax(z)
    return s * (dA - np.sum(dA * s, axis=1, keepdims=True))


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Activation:
    """An activation function together with what backprop needs from it.

    Attributes
    ----------
    name : str
    function : callable
        ``Z -> A``, same shape.
    derivative : callable or None
        ``Z -> dA/dZ`` element by element; None where the Jacobian is not
        diagonal (softmax).
    output_range : tuple of float
        ``(low, high)``: every output lies in ``[low, high]`` (either may be
        infinite). A loss that needs probabilities fits only activations
        whose range lies in ``[0, 1]`` (see ``losses.Loss.fits``).
    """

    name: str
    function: Callable
    derivative: Callable | None
    output_range: tuple[float, float]

    def __call__(self, z):
        return self.function(z)

    @property
    def elementwise(self):
        """True when each output depends on its own input alone: every activation but softmax.

        Only those have a ``derivative``; any of them can serve in a hidden layer.
        """
        return self.derivative is not None

    def backward(self, dA, z):
        """Chain rule through this activation: ``dZ = dA * f'(Z)``.

        Parameters
        ----------
        dA : ndarray, shape (N, n)
            Gradient of the loss with respect to this activation's output.
        z : ndarray, shape (N, n)
            The pre-activation that went in.

        Returns
        -------
        ndarray, shape (N, n)
        """
        if self.derivative is None:
            return softmax_backward(dA, z)
        return dA * self.derivative(z)


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, sigmoid_derivative, (0.0, 1.0)),
        Activation("tanh", tanh, tanh_derivative, (-1.0, 1.0)),
        Activation("relu", relu, relu_derivative, (0.0, np.inf)),
        # with the default alpha > 0; alpha = 0 would make it a ReLU
        Activation("leaky_relu", leaky_relu, leaky_relu_derivative, (-np.inf, np.inf)),
        Activation("identity", identity, identity_derivative, (-np.inf, np.inf)),
        Activation("softmax", softmax, None, (0.0, 1.0)),
    )
}


def get_activation(name):
    """Look an activation up by name.

    Parameters
    ----------
    name : str
        One of ``ACTIVATIONS``: sigmoid, tanh, relu, leaky_relu, identity,
        softmax.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise unknown_name_error("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]
