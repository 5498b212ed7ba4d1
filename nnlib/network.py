"""Multi-layer networks: parameters and the forward pass.

A network with layer sizes ``[n_0, n_1, ..., n_K]`` has ``K`` layers with
weights (the notes call their number ``L``; in this course ``L`` is the loss).
Layer ``l`` owns a weight matrix ``W`` of shape ``(n_l, n_{l-1})``, a bias ``b``
of shape ``(n_l,)`` and the name of its activation. One sample ``a`` goes
through it as the notes' ``z = W a + b``, then ``f(z)``; a batch has its
samples as the rows of ``A`` (shape ``(N, n_{l-1})``) and gives ``Z`` and the
next ``A`` of shape ``(N, n_l)``, row ``i`` holding sample ``i``'s values.
"""

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_count, shared_forward, unknown_name_error
from ._exercises import ExerciseNotDone
from .activations import get_activation

# ---------------------------------------------------------------- parameters

INIT_METHODS = ("xavier", "he")


def check_layer_sizes(layer_sizes):
    """Check that ``layer_sizes`` lists at least two positive integers.

    Provided code, shared by ``init_params``, ``count_parameters`` and
    ``multiply_adds``.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[D, H_1, ..., C]``.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        When there are fewer than two sizes or one is not a positive integer.
    """
    sizes = list(layer_sizes)
    if len(sizes) < 2 or not all(isinstance(n, (int, np.integer)) and n > 0 for n in sizes):
        raise ValueError(
            f"layer_sizes must list at least two positive integers (inputs and outputs), "
            f"got {layer_sizes!r}"
        )
    return [int(n) for n in sizes]


def init_params(layer_sizes, method="xavier", seed=0):
    """Random weights and zero biases for a network.

    Weights are drawn from a normal distribution with mean 0 and a standard
    deviation, computed from each layer's own sizes, that keeps the size of the
    signal about the same from layer to layer. You derive both in Exercise 3.1,
    part a:

    - ``"xavier"`` (Glorot), for tanh (sigmoid, whose slope is at most 1/4,
      still loses signal with depth);
    - ``"he"``, for ReLU and leaky ReLU.

    Parameters
    ----------
    layer_sizes : sequence of int, length K + 1
        ``[D, H_1, ..., C]``: inputs, hidden layer widths, outputs.
    method : {"xavier", "he"}, default "xavier"
    seed : int, default 0
        Seed of the random generator: the same seed gives the same weights.

    Returns
    -------
    weights : list of K ndarrays
        ``weights[l]`` has shape ``(layer_sizes[l + 1], layer_sizes[l])``.
    biases : list of K ndarrays
        ``biases[l]`` has shape ``(layer_sizes[l + 1],)``, all zeros.
    """
    sizes = check_layer_sizes(layer_sizes)
    if method not in INIT_METHODS:
        raise unknown_name_error("initialization method", method, INIT_METHODS)
    rng = np.random.default_rng(seed)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 3.1: implement init_params")


def check_network(X, weights, biases, activations):
    """Check that inputs, parameters and activations fit together.

    Provided code: every function that runs a network calls it first, so a
    mistake is reported with the layer it happened in.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights : list of K array_like, ``weights[l]`` of shape (n_{l+1}, n_l)
    biases : list of K array_like, ``biases[l]`` of shape (n_{l+1},)
    activations : list of K str
        Activation names, one per layer (see ``activations.ACTIVATIONS``).

    Returns
    -------
    X : ndarray, shape (N, D)
    weights, biases : lists of float64 ndarrays
        The arrays themselves where they are float64 already (no function that runs
        a network writes into them), converted copies otherwise.
    activations : list of activations.Activation

    Raises
    ------
    ValueError
        Naming the layer and both shapes when something does not fit, or the
        known activation names when one is unknown.
    """
    X = as_float_array(X, "X", ndim=2, shared=True)
    if not (len(weights) == len(biases) == len(activations)) or len(weights) == 0:
        raise ValueError(
            f"need one weight matrix, one bias vector and one activation per layer, got "
            f"{len(weights)} weights, {len(biases)} biases and {len(activations)} activations"
        )
    checked_w, checked_b, funcs = [], [], []
    width = X.shape[1]
    for layer, (W, b, name) in enumerate(zip(weights, biases, activations), start=1):
        W = as_float_array(W, f"weights of layer {layer}", ndim=2, shared=True)
        b = as_float_array(b, f"biases of layer {layer}", ndim=1, shared=True)
        if W.shape[1] != width:
            source = f"X of shape {X.shape}" if layer == 1 else f"layer {layer - 1}"
            raise ValueError(
                f"layer {layer}: weights have shape {W.shape}, so the layer expects "
                f"{W.shape[1]} inputs, but it receives {width} (from {source})"
            )
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"layer {layer}: biases have shape {b.shape} but weights have shape "
                f"{W.shape}; expected biases of shape ({W.shape[0]},)"
            )
        checked_w.append(W)
        checked_b.append(b)
        funcs.append(get_activation(name))
        width = W.shape[0]
    return X, checked_w, checked_b, funcs


# ---------------------------------------------------------------- forward pass


def forward_pass_loop(X, weights, biases, activations):
    """The notes' ForwardPass, one sample at a time.

    Provided code: the starting point of Exercise 3.2, which turns this loop
    over samples into one matrix product per layer. It is correct and slow.

    Parameters
    ----------
    X, weights, biases, activations
        As in ``forward_pass``.

    Returns
    -------
    ndarray, shape (N, C)
        Row ``i`` is the network's output for sample ``X[i]``.
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    outputs = []
    for x in X:  # one sample, shape (D,)
        a = x
        for W, b, activation in zip(weights, biases, funcs):
            z = W @ a + b  # the notes' z = W a + b, shape (n_l,)
            a = activation(z[np.newaxis])[0]  # nnlib's activations take a batch: here one row
        outputs.append(a)
    return np.array(outputs)


def forward_pass(X, weights, biases, activations):
    """Compute the network's output for a batch, one matrix product per layer.

    The same result as ``forward_pass_loop``, without a loop over samples.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights : list of K arrays, ``weights[l]`` of shape (n_{l+1}, n_l)
    biases : list of K arrays, ``biases[l]`` of shape (n_{l+1},)
    activations : list of K str
        One activation name per layer.

    Returns
    -------
    ndarray, shape (N, C)
        The last layer's activation.

    Examples
    --------
    >>> W, b = [np.array([[1.0, -1.0]])], [np.array([0.5])]
    >>> forward_pass([[2.0, 1.0]], W, b, ["relu"])    # relu(2 - 1 + 0.5)
    array([[1.5]])
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 3.2: implement forward_pass")


class ForwardCache(NamedTuple):
    """What the forward pass remembers for backpropagation.

    Both lists are indexed by layer number, as in the notes: ``A[0]`` is the
    input ``X``; for ``l = 1..K``, ``Z[l]`` is layer ``l``'s weighted sum and
    ``A[l] = f_l(Z[l])`` its activation. ``Z[0]`` is None (the input has no
    weighted sum).
    """

    A: list
    Z: list


@shared_forward
def forward_pass_with_cache(X, weights, biases, activations):
    """Forward pass that also returns every layer's ``Z`` and ``A``.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights, biases, activations
        As in ``forward_pass``.

    Returns
    -------
    output : ndarray, shape (N, C)
        Same as ``forward_pass``.
    cache : ForwardCache
        ``cache.A[l]`` and ``cache.Z[l]`` of shape (N, n_l), for l = 0..K.
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 3.3: implement forward_pass_with_cache")


# ---------------------------------------------------------------- what a network costs


def count_parameters(layer_sizes):
    """The number of weights and biases of a network.

    Parameters
    ----------
    layer_sizes : sequence of int, length K + 1
        ``[D, H_1, ..., C]``.

    Returns
    -------
    int
        Every entry of every weight matrix and bias vector, counted from the
        sizes alone.

    Examples
    --------
    >>> count_parameters([2, 3, 1])
    13
    """
    sizes = check_layer_sizes(layer_sizes)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 3.4: implement count_parameters")


def multiply_adds(layer_sizes, n_samples=1):
    """The multiply-adds of one forward pass over ``n_samples`` samples.

    A multiply-add is one product added to a running sum, the step of every
    weighted sum. Adding the biases and applying the activations is not
    counted.

    Parameters
    ----------
    layer_sizes : sequence of int, length K + 1
        ``[D, H_1, ..., C]``.
    n_samples : int, default 1
        Batch size ``N``, > 0.

    Returns
    -------
    int

    Examples
    --------
    >>> multiply_adds([2, 3, 1], n_samples=10)
    90
    """
    sizes = check_layer_sizes(layer_sizes)
    n_samples = check_count(n_samples, "n_samples")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 3.5: implement multiply_adds")
