"""nnlib: a small numpy neural-network library, written one exercise at a time.

Shape convention
----------------
Samples are rows. Everywhere in nnlib the letters mean:

=====  ===========================================================
``N``  number of samples in a batch (the notes' ``m``)
``D``  number of input features
``H``  number of units in a hidden layer
``C``  number of outputs (classes, or regression targets)
=====  ===========================================================

A network with layer sizes ``[n_0, n_1, ..., n_L]`` (``n_0 = D``, ``n_L = C``)
has, for every layer ``l = 1..L``, a weight matrix ``W`` of shape
``(n_l, n_{l-1})`` and a bias vector ``b`` of shape ``(n_l,)``. These are the
shapes of the notes, where one sample is a column vector ``a`` and a layer
computes ``z = W a + b``. For a batch we stack the samples as the rows of
``A`` (shape ``(N, n_{l-1})``), and the same layer becomes::

    Z = A @ W.T + b        # (N, n_{l-1}) @ (n_{l-1}, n_l) + (n_l,) -> (N, n_l)

Row ``i`` of ``Z`` is exactly the notes' ``z`` for sample ``i``. Gradients have
the shape of what they differentiate: ``dW`` is ``(n_l, n_{l-1})`` like ``W``.

Every function returns new arrays (inputs are never modified) in float64.
"""

from . import (
    activations,
    backprop,
    datasets,
    gradcheck,
    losses,
    network,
    perceptron,
    training,
)

__all__ = [
    "activations",
    "backprop",
    "datasets",
    "gradcheck",
    "losses",
    "network",
    "perceptron",
    "training",
]
