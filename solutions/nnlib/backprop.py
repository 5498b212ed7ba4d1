"""Backpropagation: the gradient of the loss for every weight and bias.

The forward pass remembers each layer's ``Z`` and ``A``. Going backwards,
``delta = dL/dZ`` of a layer gives that layer's gradients and, through its
weights, the ``delta`` of the layer before it (the chain rule)::

    dW = delta.T @ A_prev          # (n_l, N) @ (N, n_{l-1}) -> (n_l, n_{l-1})
    db = delta.sum(axis=0)         # (n_l,)
    dA_prev = delta @ W            # (N, n_l) @ (n_l, n_{l-1}) -> (N, n_{l-1})
    delta_prev = f'(Z_prev) * dA_prev

These are the notes' per-sample ``delta a^T`` and ``W^T delta``, summed over
the batch. The losses already divide by ``N``, so nothing here does.
"""

from ._checks import as_float_array, check_same_shape
from .activations import get_activation
from .losses import get_loss, output_activations
from .network import check_network, forward_pass_with_cache


def output_delta(output, logits, target, output_activation, loss):
    """``delta = dL/dZ`` of the output layer.

    Provided code. For most losses this is the chain rule ``dL/dA * f'(Z)``;
    a loss that takes logits (softmax cross-entropy) differentiates with
    respect to ``Z`` directly.

    Parameters
    ----------
    output : ndarray, shape (N, C)
        The output layer's activation ``A[L]``.
    logits : ndarray, shape (N, C)
        The output layer's weighted sum ``Z[L]``.
    target : ndarray, shape (N, C)
    output_activation : activations.Activation
    loss : losses.Loss

    Returns
    -------
    ndarray, shape (N, C)
    """
    if loss.takes_logits:
        return loss.derivative(logits, target)
    return output_activation.backward(loss.derivative(output, target), logits)


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
    weights : list of L arrays, ``weights[l]`` of shape (n_{l+1}, n_l)
    biases : list of L arrays, ``biases[l]`` of shape (n_{l+1},)
    activations : list of L str
        One activation name per layer.
    loss : str
        A name from ``losses.LOSSES``.

    Returns
    -------
    dW : list of L ndarrays
        ``dW[l]`` has the shape of ``weights[l]``.
    db : list of L ndarrays
        ``db[l]`` has the shape of ``biases[l]``.
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    loss = get_loss(loss)
    check_loss_fits(loss, funcs[-1])
    output, cache = forward_pass_with_cache(X, weights, biases, activations)
    Y = as_float_array(Y, "Y", ndim=2)
    check_same_shape(Y, output, "Y", "the network's output")
    ### BEGIN SOLUTION Exercise 5.2: implement backpropagation
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


__all__ = ["backpropagation", "check_loss_fits", "loss_value", "output_delta"]
