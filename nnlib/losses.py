"""Loss functions and their derivatives.

A loss turns a batch of predictions and targets into one number that
training drives down. Every loss here is averaged over the ``N`` samples of
the batch (the notes' ``m``) and summed over the ``C`` outputs of a sample.

=======================  ====================  ==============================
loss                     compares              its derivative is taken w.r.t.
=======================  ====================  ==============================
mse                      any outputs           the prediction
binary_cross_entropy     probabilities (0, 1)  the prediction
sigmoid_cross_entropy    logits (scores)       the logits (binary, stable)
softmax_cross_entropy    logits (scores)       the logits (the stable form)
=======================  ====================  ==============================
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, check_same_shape, unknown_name_error
from ._exercises import ExerciseNotDone
from .activations import ACTIVATIONS, get_activation, sigmoid, softmax

# The clipping constant epsilon_clip: predictions are clipped this far inside (0, 1)
# before taking a logarithm, so that a prediction of exactly 0 or 1 gives a large but
# finite loss.
EPSILON = np.finfo(np.float64).eps


def _pair(prediction, target, prediction_name="prediction"):
    """Check a (prediction, target) pair: same 2-D shape, finite values."""
    prediction = as_float_array(prediction, prediction_name, ndim=2)
    target = as_float_array(target, "target", ndim=2)
    check_same_shape(prediction, target, prediction_name, "target")
    return prediction, target


# ---------------------------------------------------------------- MSE


def mse(prediction, target):
    """Mean squared error, ``(1/N) sum_i sum_c (prediction_ic - target_ic)**2``.

    Parameters
    ----------
    prediction : array_like, shape (N, C)
    target : array_like, shape (N, C)

    Returns
    -------
    float
        Zero exactly when the prediction equals the target.

    Examples
    --------
    >>> mse([[1.0], [3.0]], [[0.0], [1.0]])   # ((1-0)**2 + (3-1)**2) / 2
    2.5
    """
    prediction, target = _pair(prediction, target)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.1: implement mse")


def mse_derivative(prediction, target):
    """Gradient of ``mse`` with respect to the prediction (Exercise 4.2: you derive it).

    Parameters
    ----------
    prediction : array_like, shape (N, C)
    target : array_like, shape (N, C)

    Returns
    -------
    ndarray, shape (N, C)
    """
    prediction, target = _pair(prediction, target)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.2: implement mse_derivative")


# ---------------------------------------------------------------- binary cross-entropy


def binary_cross_entropy(prediction, target):
    """Binary cross-entropy, ``-(1/N) sum [t log p + (1 - t) log(1 - p)]``.

    Parameters
    ----------
    prediction : array_like, shape (N, C)
        Probabilities in [0, 1], e.g. the output of a sigmoid layer. They are
        clipped to ``[EPSILON, 1 - EPSILON]`` so that 0 and 1 stay finite.
    target : array_like, shape (N, C)
        Labels in [0, 1] (usually exactly 0 or 1).

    Returns
    -------
    float
        Non-negative; (almost) zero when the prediction equals a 0/1 target.
    """
    prediction, target = _pair(prediction, target)
    _check_probabilities(prediction, "prediction")
    _check_probabilities(target, "target")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.3: implement binary_cross_entropy")


def binary_cross_entropy_derivative(prediction, target):
    """Gradient of ``binary_cross_entropy`` with respect to the prediction.

    Exercise 4.4: you derive it. The prediction is clipped exactly as in the loss,
    so that the result stays finite at predictions of exactly 0 and 1.

    Parameters
    ----------
    prediction : array_like, shape (N, C)
    target : array_like, shape (N, C)

    Returns
    -------
    ndarray, shape (N, C)
    """
    prediction, target = _pair(prediction, target)
    _check_probabilities(prediction, "prediction")
    _check_probabilities(target, "target")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.4: implement binary_cross_entropy_derivative")


def _check_probabilities(values, name):
    if np.any(values < 0.0) or np.any(values > 1.0):
        raise ValueError(
            f"{name} must lie in [0, 1] for binary cross-entropy, got values from "
            f"{values.min():.4g} to {values.max():.4g}; use a sigmoid output layer"
        )


# ---------------------------------------------------------------- binary cross-entropy from logits


def sigmoid_cross_entropy(logits, target):
    """Binary cross-entropy of ``sigmoid(logits)``, computed from the logits.

    Exercise 4.7: you derive it from the logits, in a form that never rounds a
    probability to 0 or 1 and never overflows, so that the loss is exact for logits
    of any size.

    Parameters
    ----------
    logits : array_like, shape (N, C)
        Scores before the sigmoid (the output layer's ``Z``).
    target : array_like, shape (N, C)
        Labels in [0, 1] (usually exactly 0 or 1).

    Returns
    -------
    float
        Non-negative (for targets in [0, 1]).
    """
    logits, target = _pair(logits, target, "logits")
    _check_probabilities(target, "target")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.7: implement sigmoid_cross_entropy")


def sigmoid_cross_entropy_derivative(logits, target):
    """Gradient of ``sigmoid_cross_entropy`` with respect to the logits.

    Exercise 4.8: you derive it, through the sigmoid, and simplify it until it is
    finite and exact for logits of any size.

    Parameters
    ----------
    logits : array_like, shape (N, C)
    target : array_like, shape (N, C)

    Returns
    -------
    ndarray, shape (N, C)
    """
    logits, target = _pair(logits, target, "logits")
    _check_probabilities(target, "target")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.8: implement sigmoid_cross_entropy_derivative")


# ---------------------------------------------------------------- softmax cross-entropy


def softmax_cross_entropy(logits, target):
    """Cross-entropy of ``softmax(logits)`` against one-hot targets.

    Exercise 4.5: you derive it from the logits, in a form that never takes the
    logarithm of a probability that rounded to 0 and never overflows.

    Parameters
    ----------
    logits : array_like, shape (N, C)
        Scores before the softmax (the output layer's ``Z``).
    target : array_like, shape (N, C)
        One-hot rows (or probability rows summing to 1).

    Returns
    -------
    float
        Non-negative.
    """
    logits, target = _pair(logits, target, "logits")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.5: implement softmax_cross_entropy")


def softmax_cross_entropy_derivative(logits, target):
    """Gradient of ``softmax_cross_entropy`` with respect to the logits.

    Exercise 4.6: you derive it, through the softmax, and simplify it until it is
    finite for logits of any size.

    Parameters
    ----------
    logits : array_like, shape (N, C)
    target : array_like, shape (N, C)

    Returns
    -------
    ndarray, shape (N, C)
    """
    logits, target = _pair(logits, target, "logits")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 4.6: implement softmax_cross_entropy_derivative")


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Loss:
    """A loss with its derivative, and what it needs from the output layer.

    Attributes
    ----------
    name : str
    function : callable
        ``(output, target) -> float``.
    derivative : callable
        ``(output, target) -> ndarray`` of the output's shape.
    takes_logits : bool
        If True, ``output`` is the output layer's pre-activation ``Z`` and the
        derivative is taken with respect to it (the output activation, which
        must be ``output_activation``, is folded into the loss).
    output_activation : str or None
        The output activation this loss requires, if any.
    prediction_range : tuple of float
        ``(low, high)``: the values the loss accepts as predictions, e.g.
        ``(0, 1)`` for probabilities; unbounded by default.
    """

    name: str
    function: Callable
    derivative: Callable
    takes_logits: bool = False
    output_activation: str | None = None
    prediction_range: tuple[float, float] = (-np.inf, np.inf)

    def __call__(self, output, target):
        return self.function(output, target)

    def fits(self, activation):
        """Whether ``activation`` can be the output layer's activation for this loss.

        A loss that folds its activation in (``output_activation``) fits that one
        alone; any other loss fits every activation whose ``output_range`` lies
        within its ``prediction_range``. This is the one definition of the rule:
        ``output_activations`` and ``backprop.check_loss_fits`` both ask it.

        Parameters
        ----------
        activation : str or activations.Activation

        Returns
        -------
        bool
        """
        activation = get_activation(activation)
        if self.output_activation is not None:
            return activation.name == self.output_activation
        low, high = activation.output_range
        return self.prediction_range[0] <= low and high <= self.prediction_range[1]


LOSSES = {
    loss.name: loss
    for loss in (
        Loss("mse", mse, mse_derivative),
        Loss(
            "binary_cross_entropy",
            binary_cross_entropy,
            binary_cross_entropy_derivative,
            prediction_range=(0.0, 1.0),
        ),
        Loss(
            "sigmoid_cross_entropy",
            sigmoid_cross_entropy,
            sigmoid_cross_entropy_derivative,
            takes_logits=True,
            output_activation="sigmoid",
        ),
        Loss(
            "softmax_cross_entropy",
            softmax_cross_entropy,
            softmax_cross_entropy_derivative,
            takes_logits=True,
            output_activation="softmax",
        ),
    )
}


def get_loss(name):
    """Look a loss up by name.

    Parameters
    ----------
    name : str
        One of ``LOSSES``: mse, binary_cross_entropy, sigmoid_cross_entropy,
        softmax_cross_entropy.

    Returns
    -------
    Loss

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise unknown_name_error("loss", name, LOSSES)
    return LOSSES[name]


def output_activations(loss):
    """The names of the activations an output layer can have for ``loss``.

    Derived from ``activations.ACTIVATIONS`` with ``Loss.fits``: a newly
    registered activation is listed wherever its ``output_range`` fits.

    Parameters
    ----------
    loss : str or Loss
        A name from ``LOSSES``.

    Returns
    -------
    list of str
        In the order of ``ACTIVATIONS``.

    Raises
    ------
    ValueError
        For an unknown loss; the message lists the known ones.

    Examples
    --------
    >>> output_activations("binary_cross_entropy")   # outputs within [0, 1]
    ['sigmoid', 'softmax']
    >>> output_activations("softmax_cross_entropy")  # softmax is folded into the loss
    ['softmax']
    """
    loss = get_loss(loss)
    return [name for name, activation in ACTIVATIONS.items() if loss.fits(activation)]
