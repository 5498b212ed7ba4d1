"""Backpropagations with one planted bug each, for Exercise 5.8 (provided code).

``CASES`` maps the names ``"A"`` to ``"E"`` to five functions with the
signature of ``backprop.backpropagation``::

    dW, db = CASES["A"](X, Y, weights, biases, activations, loss)

Each one is a correct backpropagation but for one bug from ``BUGS``, planted
at one place. Which bug, and where, is drawn once with a seeded generator, so
that the cases are told apart by what they compute, which your gradient check
(Exercises 5.2 and 5.3) measures, and not by reading this file.
``debugging_network()`` gives the network to check them on; every case also
accepts any other network, batch, activations and loss, so that you can test
what you suspect.

The bugs are ones that often slip into a hand-written backpropagation:

``"missing 1/N"``
    the output layer's delta is not divided by the batch size;
``"transposed product"``
    a matrix product takes a transposed factor (this only runs when that
    matrix is square, which is why such a bug can hide);
``"derivative at a"``
    a hidden layer's ``f'`` is evaluated at its activations ``A`` instead of
    its weighted sums ``Z``;
``"softmax without the row maximum"``
    the softmax is recomputed without subtracting each row's maximum first.
"""

import numpy as np

from ._checks import as_float_array
from .gradcheck import _dW_errors
from .losses import get_loss
from .network import check_network, forward_pass_with_cache

BUGS = ("missing 1/N", "transposed product", "derivative at a",
        "softmax without the row maximum")


def debugging_network():
    """The network of Exercise 5.8: layer sizes 4-5-5-5-3, tanh, softmax cross-entropy.

    Returns
    -------
    X : ndarray, shape (6, 4)
    Y : ndarray, shape (6, 3)
        One-hot targets.
    weights, biases : lists of 4 ndarrays
    activations : list of 4 str
    loss : str
    """
    rng = np.random.default_rng(58)
    sizes = [4, 5, 5, 5, 3]
    # 1.5 times Xavier's spread: the tanh units work in their bend, not only at their middle
    weights = [rng.normal(scale=1.5 / np.sqrt(n_in), size=(n_out, n_in))
               for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(scale=0.5, size=n_out) for n_out in sizes[1:]]
    X = rng.normal(size=(6, 4))
    Y = np.eye(3)[rng.integers(0, 3, size=6)]
    return X, Y, weights, biases, ["tanh", "tanh", "tanh", "softmax"], "softmax_cross_entropy"


def _planted(bug, layer, place):
    """A backpropagation with ``bug`` planted in layer ``layer`` (at ``place``)."""

    def backpropagation(X, Y, weights, biases, activations, loss):
        X, weights, biases, funcs = check_network(X, weights, biases, activations)
        loss = get_loss(loss)
        output, cache = forward_pass_with_cache(X, weights, biases, activations)
        Y = as_float_array(Y, "Y", ndim=2)
        n_layers, n_samples = len(weights), len(X)
        logits = cache.Z[-1]
        if loss.takes_logits:
            probabilities = output
            if bug == "softmax without the row maximum" and funcs[-1].name == "softmax":
                exponentials = np.exp(logits)
                probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
            delta = (probabilities - Y) / n_samples
        else:
            delta = funcs[-1].backward(loss.derivative(output, Y), logits)
        if bug == "missing 1/N":
            delta = delta * n_samples
        dW, db = [None] * n_layers, [None] * n_layers
        for number in range(n_layers, 0, -1):
            i, here = number - 1, number == layer
            A_prev = cache.A[number - 1]
            if bug == "transposed product" and here and place == "dW":
                dW[i] = A_prev.T @ delta
            else:
                dW[i] = delta.T @ A_prev
            db[i] = delta.sum(axis=0)
            if number > 1:
                W = weights[i]
                if bug == "transposed product" and here and place == "back":
                    W = W.T
                at = cache.Z[number - 1]
                if bug == "derivative at a" and number - 1 == layer:
                    at = cache.A[number - 1]
                delta = funcs[i - 1].backward(delta @ W, at)
        return dW, db

    return backpropagation


# (bug, layer, place) of each case, dealt to the names A-E by a seeded shuffle
_PLANTS = [("derivative at a", 2, "back"), ("missing 1/N", 4, "delta"),
           ("transposed product", 3, "back"), ("softmax without the row maximum", 4, "delta"),
           ("transposed product", 3, "dW")]
_ORDER = np.random.default_rng(5_8).permutation(len(_PLANTS))
_PLANTED = {name: _PLANTS[k] for name, k in zip("ABCDE", _ORDER)}
CASES = {name: _planted(*plant) for name, plant in _PLANTED.items()}


def _shows_first(name):
    """The layer where case ``name`` shows first, by the grader's own gradient check.

    The highest-numbered layer whose ``dW`` fails (relative error not below
    1e-7) on the network of ``debugging_network()``, or, if none fails there,
    on the same network with logits in the thousands.
    """
    X, Y, weights, biases, activations, loss = debugging_network()
    for scale in (1.0, 2000.0):
        scaled = weights[:-1] + [scale * weights[-1]]
        with np.errstate(over="ignore", invalid="ignore"):
            errors = _dW_errors(CASES[name], X, Y, scaled, biases, activations, loss)
        wrong = [i + 1 for i, error in enumerate(errors) if not error < 1e-7]
        if wrong:
            return max(wrong)
    return None

__all__ = ["BUGS", "CASES", "debugging_network"]
