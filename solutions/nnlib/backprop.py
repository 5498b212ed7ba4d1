"""Backpropagation: the gradient of the loss for every weight and bias.

Notebook 5 builds it in this order: first the tools that check a gradient,
a numerical gradient and a relative error (Exercises 5.2 and 5.3); then the
batch form of the notes' per-sample rules (Exercise 5.4, in the notebook);
the output layer's delta (Exercise 5.5) and ``backpropagation`` itself
(Exercise 5.6), which you check with your own tools (Exercise 5.7) before
you hunt planted bugs with them (Exercise 5.8, ``nnlib/debugging.py``); and
the size of each layer's gradient (Exercise 5.10).

The forward pass remembers each layer's ``Z`` and ``A``. Going backwards,
``delta = dL/dZ`` of a layer, of shape (N, n_l), gives that layer's gradients
and, through its weights, the ``delta`` of the layer before it (the chain
rule). The losses already divide by ``N``, so nothing after the output
layer's delta does.
"""

import numpy as np

from ._checks import as_float_array, check_same_shape
from .activations import get_activation
from .losses import get_loss, output_activations
from .network import check_network, forward_pass_with_cache


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function by central differences.

    Entry ``i`` of the result is ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, where
    ``e_i`` is 1 at entry ``i`` and 0 elsewhere; its error shrinks like ``h**2``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for an array of ``x``'s shape.
    x : array_like, any shape
        Where to take the gradient. It is not modified.
    h : float, default 1e-5
        The step.

    Returns
    -------
    ndarray of float64, same shape as ``x``

    Examples
    --------
    >>> numerical_gradient(lambda v: v[0] ** 2 + 3 * v[1], [2.0, 5.0]).round(6)
    array([4., 3.])
    """
    x = as_float_array(x, "x")  # a copy: nudging it leaves the caller's array alone
    ### BEGIN SOLUTION Exercise 5.2: implement numerical_gradient
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + h
        above = float(f(x.copy()))
        x[index] = kept - h
        below = float(f(x.copy()))
        x[index] = kept
        grad[index] = (above - below) / (2.0 * h)
    return grad
    ### END SOLUTION


def relative_error(a, b):
    """How far apart two gradients are, relative to their size.

    ``||a - b|| / (||a|| + ||b||)``, with the Euclidean (Frobenius) norm over all
    entries, and 0 when both are zero. It lies between 0 (equal) and 1
    (opposite); below 1e-7 in float64, two gradients agree.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> relative_error([3.0, 4.0], [3.0, 4.0])
    0.0
    """
    a = as_float_array(a, "a", allow_nonfinite=True)
    b = as_float_array(b, "b", allow_nonfinite=True)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    ### BEGIN SOLUTION Exercise 5.3: implement relative_error
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)
    ### END SOLUTION


def output_delta(output, logits, target, output_activation, loss):
    """``delta = dL/dZ`` of the output layer, for a whole batch.

    Parameters
    ----------
    output : array_like, shape (N, C)
        The output layer's activation ``A`` (``output_activation`` of ``logits``).
    logits : array_like, shape (N, C)
        The output layer's weighted sums ``Z``.
    target : array_like, shape (N, C)
    output_activation : activations.Activation
        The output layer's activation; ``output_activation.backward(dA, Z)``
        multiplies ``dA = dL/dA`` by its derivative at ``Z``.
    loss : losses.Loss
        ``loss.derivative(output, target)`` is ``dL/dA``. When
        ``loss.takes_logits`` is True (softmax cross-entropy with a softmax
        output, sigmoid cross-entropy with a sigmoid output), the activation
        is folded into the loss, which is a function of ``logits``.

    Returns
    -------
    ndarray of float64, shape (N, C)
        The derivative of the batch's loss with respect to every entry of ``logits``.
    """
    # read, never written: no copies on the training loop's path (as check_network does)
    output = as_float_array(output, "output", ndim=2, shared=True)
    logits = as_float_array(logits, "logits", ndim=2, shared=True)
    target = as_float_array(target, "target", ndim=2, shared=True)
    ### BEGIN SOLUTION Exercise 5.5: implement output_delta
    if loss.takes_logits:
        # the activation's slope cancels against the loss's (notebook 4): (P - Y) / N
        return (output - target) / len(target)
    return output_activation.backward(loss.derivative(output, target), logits)
    ### END SOLUTION


def check_loss_fits(loss, output_activation):
    """Raise ``ValueError`` if ``loss`` needs another output activation (``Loss.fits``).

    The message names the activations that fit (``losses.output_activations``).
    """
    if not loss.fits(output_activation):
        fitting = " or ".join(repr(name) for name in output_activations(loss))
        raise ValueError(
            f"the loss {loss.name!r} needs {fitting} as the output layer's activation, "
            f"got {output_activation.name!r}"
        )


def backpropagation(X, Y, weights, biases, activations, loss):
    """Gradients of the loss for all layers (the notes' BackpropagationPass).

    Parameters
    ----------
    X : array_like, shape (N, D)
    Y : array_like, shape (N, C)
        Targets, the shape of the network's output.
    weights : list of arrays, one per layer, ``weights[i]`` of shape (n_{i+1}, n_i)
    biases : list of arrays, one per layer, ``biases[i]`` of shape (n_{i+1},)
    activations : list of str
        One activation name per layer.
    loss : str
        A name from ``losses.LOSSES``.

    Returns
    -------
    dW : list of ndarrays, one per layer
        ``dW[i]`` has the shape of ``weights[i]``.
    db : list of ndarrays, one per layer
        ``db[i]`` has the shape of ``biases[i]``.
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    loss = get_loss(loss)
    check_loss_fits(loss, funcs[-1])
    output, cache = forward_pass_with_cache(X, weights, biases, activations)
    Y = as_float_array(Y, "Y", ndim=2)
    check_same_shape(Y, output, "Y", "the network's output")
    ### BEGIN SOLUTION Exercise 5.6: implement backpropagation
    n_layers = len(weights)
    dW, db = [None] * n_layers, [None] * n_layers
    delta = output_delta(output, cache.Z[-1], Y, funcs[-1], loss)
    for layer in range(n_layers, 0, -1):
        i = layer - 1  # position of this layer in the parameter lists
        dW[i] = delta.T @ cache.A[layer - 1]
        db[i] = delta.sum(axis=0)
        if layer > 1:
            delta = funcs[i - 1].backward(delta @ weights[i], cache.Z[layer - 1])
    return dW, db
    ### END SOLUTION


def layer_gradient_norms(X, Y, weights, biases, activations, loss):
    """The size of each layer's weight gradient: ``||dL/dW||`` per layer.

    Parameters
    ----------
    X, Y, weights, biases, activations, loss
        As in ``backpropagation``.

    Returns
    -------
    ndarray of float64, shape (number of layers,)
        Entry ``i`` is the Frobenius norm (the square root of the sum of the
        squares of all entries) of ``dW[i]``, the gradient of ``weights[i]``.
    """
    ### BEGIN SOLUTION Exercise 5.10: implement layer_gradient_norms
    dW, _ = backpropagation(X, Y, weights, biases, activations, loss)
    return np.array([np.linalg.norm(gradient) for gradient in dW])
    ### END SOLUTION


def loss_value(X, Y, weights, biases, activations, loss):
    """The loss of the network on ``(X, Y)``: what ``backpropagation`` differentiates.

    Parameters
    ----------
    X, Y, weights, biases, activations, loss
        As in ``backpropagation``.

    Returns
    -------
    float
    """
    loss = get_loss(loss)
    check_loss_fits(loss, get_activation(activations[-1]))
    output, cache = forward_pass_with_cache(X, weights, biases, activations)
    return loss(cache.Z[-1] if loss.takes_logits else output, Y)


__all__ = ["backpropagation", "check_loss_fits", "layer_gradient_norms", "loss_value",
           "numerical_gradient", "output_delta", "relative_error"]
