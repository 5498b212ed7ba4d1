"""Gradient descent and the training loop.

Each step moves every parameter a little against its gradient,
``w <- w - eta * dL/dw`` (eta, the learning rate). One epoch visits every sample once, in
mini-batches of ``batch_size`` samples: ``batch_size=1`` is the notes'
per-sample loop, ``batch_size=N`` is full-batch gradient descent.
"""

import functools
from typing import NamedTuple

import numpy as np

from ._checks import (
    as_float_array,
    check_count,
    check_positive,
    check_same_shape,
    checked_run,
    inputs_checked,
    with_checks,
)
from ._exercises import ExerciseNotDone
from .backprop import backpropagation, check_loss_fits, loss_value
from .losses import get_loss
from .network import check_network, forward_pass_with_cache, init_params


def check_gradients(weights, biases, gradients, name="gradients", parts=("dW", "db")):
    """Check that ``gradients`` is a pair ``(dW, dB)`` shaped like the parameters.

    Provided code, shared by ``gradient_descent_update`` and the optimizers of
    notebook 8 (whose velocities are such pairs too).

    Parameters
    ----------
    weights, biases : lists of K arrays
    gradients : pair of lists of K arrays
    name : str
        What the pair is, for the messages (``"gradients"``, ``"velocity"``).
    parts : pair of str
        What its two lists are called, for the messages.

    Returns
    -------
    dW, dB : lists of ndarrays
        The two lists, as given.

    Raises
    ------
    ValueError
        For a missing layer or a shape that differs from its parameter's.
    """
    try:
        dW, dB = gradients
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (dW, dB) of lists, as backpropagation "
                         f"returns, got {type(gradients).__name__}") from None
    if not len(weights) == len(biases) == len(dW) == len(dB):
        raise ValueError(
            f"need as many {name} as layers: got {len(weights)} weights, {len(biases)} "
            f"biases, {len(dW)} for the weights and {len(dB)} for the biases"
        )
    for layer, (W, b, gW, gb) in enumerate(zip(weights, biases, dW, dB), start=1):
        check_same_shape(np.asarray(gW), np.asarray(W), f"{parts[0]} of layer {layer}",
                         f"the weights of layer {layer}")
        check_same_shape(np.asarray(gb), np.asarray(b), f"{parts[1]} of layer {layer}",
                         f"the biases of layer {layer}")
    return dW, dB


def gradient_descent_update(weights, biases, gradients, learning_rate):
    """One gradient descent step (the notes' GradientDescentUpdate).

    Parameters
    ----------
    weights : list of K arrays, ``weights[l - 1]`` of shape (n_l, n_{l-1})
    biases : list of K arrays, ``biases[l - 1]`` of shape (n_l,)
    gradients : tuple (dW, dB)
        As returned by ``backpropagation``: lists shaped like ``weights``
        and ``biases``.
    learning_rate : float
        Step size, > 0.

    Returns
    -------
    new_weights, new_biases : lists of ndarrays
        New arrays; the inputs are left unchanged.
    """
    dW, dB = check_gradients(weights, biases, gradients)
    learning_rate = check_positive(learning_rate, "learning_rate")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 6.1: implement gradient_descent_update")


class TrainingResult(NamedTuple):
    """What ``train_network`` returns; unpacks as ``weights, biases, history``."""

    weights: list
    biases: list
    history: list


def _stop_on_divergence(train):
    """Turn numpy's overflow inside ``train`` into one clear error.

    With a learning rate that is too large the weights grow without bound;
    instead of warnings and a history full of nan, training stops at the
    first overflow and says what probably went wrong.
    """

    @functools.wraps(train)
    def wrapper(*args, **kwargs):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            try:
                return train(*args, **kwargs)
            except FloatingPointError as error:
                raise FloatingPointError(
                    f"training diverged ({error}); the learning rate is probably too large"
                ) from None

    return wrapper


@_stop_on_divergence
@checked_run
def train_network(X, Y, layer_sizes, activations, loss="mse", learning_rate=0.1, epochs=100,
                  batch_size=32, init="xavier", seed=0, shuffle=True, weights=None,
                  biases=None, progress=False):
    """Train a network by mini-batch gradient descent (the notes' TrainNeuralNetwork).

    Parameters
    ----------
    X : array_like, shape (N, D)
    Y : array_like, shape (N, C)
    layer_sizes : sequence of int
        ``[D, H_1, ..., C]``; used to initialize when ``weights`` is None.
    activations : list of str
        One activation name per layer.
    loss : str, default "mse"
    learning_rate : float, default 0.1
    epochs : int, default 100
    batch_size : int or None, default 32
        Samples per update; 1 is the notes' per-sample loop, None the whole set.
    init : {"xavier", "he"}, default "xavier"
    seed : int, default 0
        Seeds the initial weights and the shuffling.
    shuffle : bool, default True
        Visit the samples in a new random order each epoch.
    weights, biases : lists of arrays, optional
        Start from these instead of a fresh ``init_params``; not modified.
    progress : bool or callable, default False
        True prints the loss ten times during training; a callable is called
        as ``progress(epoch, loss, weights, biases)`` after every epoch.

    Returns
    -------
    TrainingResult
        ``(weights, biases, history)``, where ``history[e]`` is the mean, over
        the N samples, of each sample's loss before the update of its batch in
        epoch ``e``.

    Raises
    ------
    FloatingPointError
        When the loss stops being finite, usually a learning rate too large.
    """
    X = as_float_array(X, "X", ndim=2)
    Y = as_float_array(Y, "Y", ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples (shape {X.shape}) but Y has "
                         f"{Y.shape[0]} (shape {Y.shape})")
    if weights is None or biases is None:
        weights, biases = init_params(layer_sizes, method=init, seed=seed)
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    check_loss_fits(get_loss(loss), funcs[-1])
    learning_rate = check_positive(learning_rate, "learning_rate")
    epochs = check_count(epochs, "epochs")
    n = X.shape[0]
    batch_size = n if batch_size is None else min(check_count(batch_size, "batch_size"), n)
    rng = np.random.default_rng(seed)
    report = _reporter(progress, epochs)
    history = []
    inputs_checked()  # all checked: the calls below skip re-checking (see _checks)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 6.2: implement train_network")


def _reporter(progress, epochs):
    """Turn the ``progress`` argument into a per-epoch callback.

    The callback also stops training once the loss is no longer finite.
    """
    every = max(1, epochs // 10)

    def report(epoch, loss, weights, biases):
        if not np.isfinite(loss):
            raise FloatingPointError(f"epoch {epoch + 1}: the loss became {loss}")
        if callable(progress):
            with_checks(progress, epoch, loss, weights, biases)
        elif progress and ((epoch + 1) % every == 0 or epoch == 0):
            print(f"epoch {epoch + 1:>{len(str(epochs))}}/{epochs}  loss {loss:.6f}")

    return report


# ---------------------------------------------------------------- after training


def count_dead_units(X, weights, biases, activations):
    """For each hidden layer, how many of its units output 0 for every sample of ``X``.

    A ReLU unit whose weighted sum is negative for every input is *dead*: its
    activation is 0 for all of them, so is its derivative, and no gradient
    reaches its weights any more. A unit that is 0 for some samples only is
    not dead.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights, biases, activations
        As in ``network.forward_pass``; the network has ``K >= 1`` layers.

    Returns
    -------
    list of K - 1 Python int
        Entry ``l - 1`` is the number of units ``j`` of hidden layer ``l``
        with ``A[l][i, j] == 0`` for every sample ``i``; the output layer is
        not counted (a network of one layer gives ``[]``). Python ints, not
        numpy integers (which print as ``np.int64(3)``).

    Examples
    --------
    >>> W = [np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])]
    >>> b = [np.array([0.0, -1.0]), np.array([0.0])]
    >>> count_dead_units([[1.0], [2.0]], W, b, ["relu", "identity"])  # z2 = -2, -3
    [1]
    """
    X, weights, biases, _ = check_network(X, weights, biases, activations)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 6.5: implement count_dead_units")
