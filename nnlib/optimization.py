"""Making training work: optimizers, schedules, regularization, batch normalization.

Notebook 6 trained with plain gradient descent, ``w <- w - eta * g``. This module holds
what notebook 8 adds to it, each piece a small function with its state made explicit:

- **optimizers** that remember past gradients: momentum, RMSProp and Adam. Each takes the
  parameter lists and the gradients exactly as ``training.gradient_descent_update`` does,
  plus an ``OptimizerState``, and returns new parameters and a new state
  (``init_state`` makes the first one). Nothing is kept between calls anywhere else.
- **learning-rate schedules**: pure functions of the step number.
- **regularization**: the L2 penalty and its gradient, inverted dropout (a forward pass that
  returns its mask, a backward pass that uses it), and early stopping on a validation curve.
- **batch normalization**: forward (training and evaluation modes) and backward.

``train_model`` (provided) puts them together into one training loop; every piece it uses
is one of these functions or one from an earlier notebook.
"""

from typing import NamedTuple

import numpy as np

from ._checks import (
    as_float_array,
    check_count,
    check_fraction,
    check_non_negative,
    check_positive,
    check_same_shape,
    checked_run,
    inputs_checked,
    unknown_name_error,
)
from ._exercises import ExerciseNotDone
from .backprop import backpropagation, check_loss_fits, loss_value, output_delta
from .losses import get_loss
from .network import check_network, init_params
from .training import _stop_on_divergence, check_gradients, gradient_descent_update

# ---------------------------------------------------------------- optimizer state


class OptimizerState(NamedTuple):
    """What an optimizer remembers between steps; every field shaped like the gradients.

    Attributes
    ----------
    velocity : pair (list of K arrays, list of K arrays)
        Momentum's velocity, or Adam's first moment ``m``: a running average of past
        gradients, one array per weight matrix and one per bias vector.
    squares : pair (list of K arrays, list of K arrays)
        RMSProp's, or Adam's second moment ``v``: a running average of squared gradients.
    step : int
        How many updates have been made with this state (Adam's ``t``).
    """

    velocity: tuple
    squares: tuple
    step: int


class Update(NamedTuple):
    """What an optimizer returns; unpacks as ``weights, biases, state``."""

    weights: list
    biases: list
    state: OptimizerState


def init_state(weights, biases):
    """The state before the first step: zero velocities and squares, step 0.

    Parameters
    ----------
    weights, biases : lists of K arrays
        The parameters the state is for.

    Returns
    -------
    OptimizerState
    """
    def zeros():
        return ([np.zeros(np.shape(W)) for W in weights], [np.zeros(np.shape(b)) for b in biases])

    return OptimizerState(velocity=zeros(), squares=zeros(), step=0)


def _check_step(weights, biases, gradients, state, learning_rate):
    """The checks every optimizer makes; returns ``(dW, dB, state, learning_rate)``.

    The state comes back as an ``OptimizerState`` (any triple of the same fields is taken).
    """
    dW, dB = check_gradients(weights, biases, gradients)
    try:
        state = OptimizerState(*state)
    except TypeError:
        raise TypeError(f"state must be an OptimizerState (start with "
                        f"init_state(weights, biases)), got {type(state).__name__}") from None
    check_gradients(weights, biases, state.velocity, "velocity", ("velocity", "velocity"))
    check_gradients(weights, biases, state.squares, "squares", ("squares", "squares"))
    return dW, dB, state, check_positive(learning_rate, "learning_rate")



# ---------------------------------------------------------------- optimizers


def sgd_update(weights, biases, gradients, state, learning_rate):
    """Plain gradient descent with the optimizers' signature (provided).

    ``training.gradient_descent_update`` (Exercise 6.1) makes the step; the state is
    passed on with its step count increased, so that every optimizer can be called alike.

    Returns
    -------
    Update
    """
    _, _, state, _ = _check_step(weights, biases, gradients, state, learning_rate)
    new_weights, new_biases = gradient_descent_update(weights, biases, gradients, learning_rate)
    return Update(new_weights, new_biases, state._replace(step=state.step + 1))


def momentum_update(weights, biases, gradients, state, learning_rate, momentum=0.9):
    """One step of gradient descent with momentum (the heavy ball).

    For every parameter ``w`` with gradient ``g`` and velocity ``v``::

        v <- momentum * v + g
        w <- w - learning_rate * v

    With ``momentum=0`` this is plain gradient descent. The velocities are in
    ``state.velocity``; ``state.squares`` is passed on unchanged.

    Parameters
    ----------
    weights, biases : lists of K arrays
    gradients : tuple (dW, dB)
        As ``backpropagation`` returns them.
    state : OptimizerState
        From ``init_state`` or from the previous step.
    learning_rate : float > 0
    momentum : float in [0, 1), default 0.9

    Returns
    -------
    Update
        ``(new_weights, new_biases, new_state)``, new arrays; the new state's
        ``velocity`` holds the new velocities and its ``step`` is one more.

    Examples
    --------
    One weight, gradient 1 twice, learning rate 0.1, momentum 0.9: the velocity
    is 1, then 0.9 + 1 = 1.9, so the weight moves by 0.1, then by 0.19.
    """
    dW, dB, state, learning_rate = _check_step(weights, biases, gradients, state,
                                               learning_rate)
    momentum = check_fraction(momentum, "momentum", zero_allowed=True)
    (vW, vB) = state.velocity
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.1: implement momentum_update")


def rmsprop_update(weights, biases, gradients, state, learning_rate, decay=0.9, eps=1e-8):
    """One RMSProp step: each entry's step divided by its recent gradient size.

    For every parameter ``w`` with gradient ``g`` and running average of squares ``s``::

        s <- decay * s + (1 - decay) * g**2
        w <- w - learning_rate * g / (sqrt(s) + eps)

    The averages are in ``state.squares``; ``state.velocity`` is passed on unchanged.

    Parameters
    ----------
    weights, biases, gradients, state, learning_rate
        As in ``momentum_update``.
    decay : float in [0, 1), default 0.9
    eps : float > 0, default 1e-8
        Keeps the division finite where ``s`` is 0.

    Returns
    -------
    Update

    Examples
    --------
    One weight, gradient 2, from ``s = 0`` with decay 0.9: ``s = 0.1 * 4 = 0.4`` and the
    step is ``learning_rate * 2 / sqrt(0.4)``, about ``3.16 * learning_rate``.
    """
    dW, dB, state, learning_rate = _check_step(weights, biases, gradients, state,
                                               learning_rate)
    decay = check_fraction(decay, "decay", zero_allowed=True)
    eps = check_positive(eps, "eps")
    (sW, sB) = state.squares
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.3: implement rmsprop_update")


def adam_update(weights, biases, gradients, state, learning_rate, beta1=0.9, beta2=0.999,
                eps=1e-8, weight_decay=0.0):
    """One Adam step, with bias correction and optional decoupled weight decay (AdamW).

    With ``t = state.step + 1``, for every parameter ``w`` with gradient ``g``::

        m <- beta1 * m + (1 - beta1) * g            (state.velocity)
        v <- beta2 * v + (1 - beta2) * g**2         (state.squares)
        m_hat = m / (1 - beta1**t),  v_hat = v / (1 - beta2**t)
        w <- w - learning_rate * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w)

    The weight-decay term uses the weight before this step, and applies to weights only,
    not to biases. With ``weight_decay=0`` this is Adam.

    Parameters
    ----------
    weights, biases, gradients, state, learning_rate
        As in ``momentum_update``.
    beta1, beta2 : float in [0, 1), defaults 0.9 and 0.999
    eps : float > 0, default 1e-8
    weight_decay : float >= 0, default 0.0

    Returns
    -------
    Update
        The new state holds the new ``m``, the new ``v`` and ``step = t``.

    Examples
    --------
    The first step, from a zero state: ``m_hat = g`` and ``v_hat = g**2``, so every
    entry moves by ``learning_rate * g / (|g| + eps)``: about ``learning_rate``, whatever
    the size of its gradient.
    """
    dW, dB, state, learning_rate = _check_step(weights, biases, gradients, state,
                                               learning_rate)
    beta1 = check_fraction(beta1, "beta1", zero_allowed=True)
    beta2 = check_fraction(beta2, "beta2", zero_allowed=True)
    eps = check_positive(eps, "eps")
    weight_decay = check_non_negative(weight_decay, "weight_decay")
    (mW, mB), (vW, vB) = state.velocity, state.squares
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.4: implement adam_update")


class Optimizer(NamedTuple):
    """An optimizer by name: its update and the hyperparameters it takes (besides the rate)."""

    name: str
    update: object
    options: tuple


OPTIMIZERS = {o.name: o for o in (
    Optimizer("sgd", sgd_update, ()),
    Optimizer("momentum", momentum_update, ("momentum",)),
    Optimizer("rmsprop", rmsprop_update, ("decay", "eps")),
    Optimizer("adam", adam_update, ("beta1", "beta2", "eps", "weight_decay")),
)}


def get_optimizer(name):
    """Look an optimizer up by name (one of ``OPTIMIZERS``); ``ValueError`` lists the names."""
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise unknown_name_error("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name]


# ---------------------------------------------------------------- learning-rate schedules


def _check_step_number(step):
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise ValueError(f"step must be a whole number >= 0, got {step!r}")
    return int(step)


def step_schedule(step, base_rate, drop=0.5, every=10):
    """The learning rate at ``step`` when it is multiplied by ``drop`` every ``every`` steps.

    Parameters
    ----------
    step : int >= 0
        The update (or epoch) number, counted from 0.
    base_rate : float > 0
        The rate of steps ``0 .. every - 1``.
    drop : float in (0, 1), default 0.5
    every : int >= 1, default 10

    Returns
    -------
    float

    Examples
    --------
    With ``base_rate=0.1``, ``drop=0.5``, ``every=10``: 0.1 for steps 0 to 9, 0.05 for
    steps 10 to 19, 0.025 from step 20.
    """
    step = _check_step_number(step)
    base_rate = check_positive(base_rate, "base_rate")
    drop = check_fraction(drop, "drop")
    every = check_count(every, "every")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.5: implement step_schedule")


def cosine_schedule(step, base_rate, total_steps, warmup_steps=0, final_rate=0.0):
    """Linear warm-up, then half a cosine from ``base_rate`` down to ``final_rate``.

    - Warm-up, ``step < warmup_steps``: ``base_rate * (step + 1) / warmup_steps``, rising
      in equal steps to ``base_rate``.
    - Then, with ``progress = (step - warmup_steps) / (total_steps - warmup_steps)``
      (at most 1: after ``total_steps`` the rate stays at ``final_rate``)::

          final_rate + (base_rate - final_rate) * (1 + cos(pi * progress)) / 2

    Parameters
    ----------
    step : int >= 0
    base_rate : float > 0
    total_steps : int >= 1
        Where the cosine ends, warm-up included.
    warmup_steps : int, 0 <= warmup_steps < total_steps, default 0
    final_rate : float, 0 <= final_rate <= base_rate, default 0.0

    Returns
    -------
    float

    Examples
    --------
    ``base_rate=1``, ``total_steps=12``, ``warmup_steps=2``: steps 0 and 1 give 0.5 and
    1.0; step 2 is the top of the cosine (1.0), step 7 half way down (0.5), step 12 and
    after give 0.
    """
    step = _check_step_number(step)
    base_rate = check_positive(base_rate, "base_rate")
    total_steps = check_count(total_steps, "total_steps")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)) \
            or not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_steps must be a whole number in [0, total_steps = "
                         f"{total_steps}), got {warmup_steps!r}")
    if isinstance(final_rate, bool) or not isinstance(final_rate, (int, float, np.number)) \
            or not 0.0 <= final_rate <= base_rate:
        raise ValueError(f"final_rate must lie in [0, base_rate = {base_rate}], "
                         f"got {final_rate!r}")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.6: implement cosine_schedule")


# ---------------------------------------------------------------- L2 regularization



def l2_penalty(weights, strength):
    """The L2 term added to the loss: ``strength / 2`` times the sum of every weight squared.

    Only the weight matrices are penalized, not the biases: a bias shifts a unit
    without making the network more sensitive to its inputs.

    Parameters
    ----------
    weights : list of K arrays
    strength : float >= 0
        The notes' lambda.

    Returns
    -------
    float

    Examples
    --------
    ``l2_penalty([np.array([[1.0, 2.0]]), np.array([[3.0]])], 0.1)`` is
    ``0.05 * (1 + 4 + 9) = 0.7``.
    """
    weights = [as_float_array(W, f"weights[{i}]", ndim=2) for i, W in enumerate(weights)]
    strength = check_non_negative(strength, "strength")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.7: implement l2_penalty")


def l2_gradient(weights, strength):
    """The gradient of ``l2_penalty`` with respect to each weight matrix.

    Parameters
    ----------
    weights : list of K arrays
    strength : float >= 0

    Returns
    -------
    list of K ndarrays
        Entry ``i`` has the shape of ``weights[i]``; add it to ``dW[i]``.
    """
    weights = [as_float_array(W, f"weights[{i}]", ndim=2) for i, W in enumerate(weights)]
    strength = check_non_negative(strength, "strength")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.8: implement l2_gradient")


# ---------------------------------------------------------------- dropout


class Dropped(NamedTuple):
    """What ``dropout_forward`` returns; unpacks as ``output, mask``."""

    output: np.ndarray
    mask: np.ndarray


def dropout_forward(A, rate, seed=0, training=True):
    """Inverted dropout: zero each entry with probability ``rate``, scale the rest up.

    In training, every entry of ``A`` is kept with probability ``1 - rate`` and then
    divided by ``1 - rate``, so that its expected value is unchanged; in evaluation
    (``training=False``), ``A`` passes unchanged. The mask is drawn as
    ``np.random.default_rng(seed).random(A.shape) >= rate``: the same seed gives the
    same mask, which is what a gradient check needs.

    Parameters
    ----------
    A : array_like, shape (N, H)
        A layer's activations.
    rate : float in [0, 1)
        The probability of dropping an entry.
    seed : int or numpy.random.Generator, default 0
        A Generator is drawn from (a training loop passes one, for a new mask each batch).
    training : bool, default True

    Returns
    -------
    Dropped
        ``output`` (N, H) is ``A * mask``; ``mask`` (N, H) holds ``0`` for a dropped
        entry and ``1 / (1 - rate)`` for a kept one (all ones in evaluation mode).
    """
    A = as_float_array(A, "A", ndim=2)
    rate = check_fraction(rate, "rate", zero_allowed=True)
    rng = np.random.default_rng(seed)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.10: implement dropout_forward")


def dropout_backward(d_output, mask):
    """The gradient through dropout: ``dL/dA`` from ``dL/d(output)`` and the forward mask.

    Parameters
    ----------
    d_output : array_like, shape (N, H)
        The gradient of the loss with respect to dropout's output.
    mask : array_like, shape (N, H)
        The mask ``dropout_forward`` returned.

    Returns
    -------
    ndarray, shape (N, H)
    """
    d_output = as_float_array(d_output, "d_output", ndim=2)
    mask = as_float_array(mask, "mask", ndim=2)
    check_same_shape(d_output, mask, "d_output", "mask")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.11: implement dropout_backward")


# ---------------------------------------------------------------- batch normalization


class RunningStats(NamedTuple):
    """Batch normalization's estimate of each unit's mean and variance, for evaluation."""

    mean: np.ndarray
    var: np.ndarray


class BatchNormCache(NamedTuple):
    """What ``batchnorm_backward`` needs from the forward pass (training mode)."""

    normalized: np.ndarray  # (N, H): the batch after subtracting its mean and scaling
    inv_std: np.ndarray  # (H,): 1 / sqrt(var + eps), var the batch's variance
    gamma: np.ndarray  # (H,)


class Normalized(NamedTuple):
    """What ``batchnorm_forward`` returns; unpacks as ``output, cache, running``."""

    output: np.ndarray
    cache: BatchNormCache
    running: RunningStats


def batchnorm_forward(Z, gamma, beta, running=None, training=True, momentum=0.9, eps=1e-5):
    """Batch normalization of a layer's weighted sums, one unit (column) at a time.

    Training: with ``mu`` and ``var`` the mean and (biased) variance of each column of
    the batch, ``normalized = (Z - mu) / sqrt(var + eps)`` and the output is
    ``gamma * normalized + beta``. The running statistics move towards the batch's:
    ``momentum * running + (1 - momentum) * batch`` (starting from mean 0 and variance 1
    when ``running`` is None), with the batch's biased variance as above. Evaluation: the
    same formula with the running mean and variance in place of the batch's; they are
    returned unchanged.

    Parameters
    ----------
    Z : array_like, shape (N, H)
    gamma, beta : array_like, shape (H,)
        The learned scale and shift.
    running : RunningStats, optional
        Required in evaluation mode.
    training : bool, default True
    momentum : float in [0, 1), default 0.9
    eps : float > 0, default 1e-5

    Returns
    -------
    Normalized
        ``output`` (N, H); ``cache``, for ``batchnorm_backward`` (None in evaluation
        mode); ``running``, the new running statistics.
    """
    Z = as_float_array(Z, "Z", ndim=2)
    gamma = as_float_array(gamma, "gamma", ndim=1)
    beta = as_float_array(beta, "beta", ndim=1)
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != Z.shape[1:]:
            raise ValueError(f"{name} has shape {value.shape} but Z has {Z.shape[1]} "
                             f"columns; it needs shape ({Z.shape[1]},)")
    momentum = check_fraction(momentum, "momentum", zero_allowed=True)
    eps = check_positive(eps, "eps")
    if running is not None:
        try:
            mean, var = running
        except (TypeError, ValueError):
            raise TypeError(f"running must be the RunningStats that batchnorm_forward "
                            f"returned, got {type(running).__name__}") from None
        running = RunningStats(as_float_array(mean, "running.mean", ndim=1),
                               as_float_array(var, "running.var", ndim=1))
        for name, value in zip(("running.mean", "running.var"), running):
            if value.shape != Z.shape[1:]:
                raise ValueError(f"{name} has shape {value.shape} but Z has {Z.shape[1]} "
                                 f"columns; it needs shape ({Z.shape[1]},)")
    if running is None and not training:
        raise ValueError("evaluation mode needs the running statistics; pass the running= "
                         "that training returned")
    if running is None:
        running = RunningStats(np.zeros(Z.shape[1]), np.ones(Z.shape[1]))
    if training and len(Z) < 2:
        raise ValueError(f"a batch of {len(Z)} sample has no variance to normalize by; "
                         "use batches of at least 2")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.13: implement batchnorm_forward")


class NormGradients(NamedTuple):
    """What ``batchnorm_backward`` returns; unpacks as ``dZ, dgamma, dbeta``."""

    dZ: np.ndarray
    dgamma: np.ndarray
    dbeta: np.ndarray


def batchnorm_backward(d_output, cache):
    """The gradients through batch normalization (training mode).

    Every output of a column depends on every ``Z`` of that column, through the
    batch's mean and variance: ``dZ`` is not ``d_output * gamma * inv_std`` alone.
    You derive it in Exercise 8.14, part a.

    Parameters
    ----------
    d_output : array_like, shape (N, H)
        The gradient of the loss with respect to the output.
    cache : BatchNormCache
        From ``batchnorm_forward`` in training mode.

    Returns
    -------
    NormGradients
        ``dZ`` (N, H), ``dgamma`` (H,), ``dbeta`` (H,).
    """
    try:
        cache = BatchNormCache(*cache)
    except TypeError:
        raise TypeError(f"cache must be the BatchNormCache of batchnorm_forward in training "
                        f"mode, got {type(cache).__name__}") from None
    d_output = as_float_array(d_output, "d_output", ndim=2)
    check_same_shape(d_output, cache.normalized, "d_output", "the forward pass's output")
    normalized, inv_std, gamma = cache
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.14: implement batchnorm_backward")


# ---------------------------------------------------------------- early stopping


class EarlyStop(NamedTuple):
    """What ``early_stopping`` returns: the epoch to keep, and the epoch training stops."""

    best: int
    stop: int | None


def early_stopping(validation_losses, patience=5):
    """Where training with early stopping would stop, and which epoch's weights it keeps.

    Epoch ``e`` (counted from 0) *improves* when its loss is strictly below every loss
    before it. Training stops at the first epoch that comes ``patience`` epochs after
    the last improvement; the weights kept are those of that last improvement.

    Parameters
    ----------
    validation_losses : sequence of float
        One validation loss per epoch so far (at least one).
    patience : int >= 1, default 5

    Returns
    -------
    EarlyStop
        ``best``: the epoch of the lowest loss before the stop (the first one, on a tie);
        ``stop``: the epoch at which training stops, or None if the losses given never
        ran out of patience (training would go on).

    Examples
    --------
    Losses ``[3, 2, 2.5, 1, 1.5, 1.2, 1.1]`` with patience 3: the last improvement is
    epoch 3 (loss 1); epochs 4, 5 and 6 do not improve, so training stops at epoch 6
    and keeps epoch 3.
    """
    losses = as_float_array(validation_losses, "validation_losses", ndim=1)
    if len(losses) == 0:
        raise ValueError("validation_losses is empty: give at least one epoch's loss")
    patience = check_count(patience, "patience")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 8.17: implement early_stopping")


# ---------------------------------------------------------------- training, put together


def gradients_with_dropout(X, Y, weights, biases, activations, loss, rate, seed=0):
    """Backpropagation with inverted dropout on every hidden layer's activations (provided).

    The forward pass of notebook 3 with ``dropout_forward`` after each hidden layer, and
    the backward pass of notebook 5 with ``dropout_backward`` at the same places: each
    layer's ``dA`` goes back through its mask before the activation's derivative. With
    ``rate=0`` the masks are all ones and the result is ``backpropagation``'s.

    Parameters
    ----------
    X, Y, weights, biases, activations, loss
        As in ``backprop.backpropagation``.
    rate : float in [0, 1)
    seed : int or numpy.random.Generator, default 0
        Draws the masks (one per hidden layer, in order).

    Returns
    -------
    dW, db : lists of ndarrays
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    loss_function = get_loss(loss)
    check_loss_fits(loss_function, funcs[-1])
    Y = as_float_array(Y, "Y", ndim=2)
    rng = np.random.default_rng(seed)
    A, inputs, sums, masks = X, [], [], []
    for layer, (W, b, f) in enumerate(zip(weights, biases, funcs), start=1):
        inputs.append(A)
        sums.append(A @ W.T + b)
        A = f(sums[-1])
        if layer < len(weights):
            A, mask = dropout_forward(A, rate, rng)
            masks.append(mask)
    check_same_shape(Y, A, "Y", "the network's output")
    delta = output_delta(A, sums[-1], Y, funcs[-1], loss_function)
    dW, db = [None] * len(weights), [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        dW[i], db[i] = delta.T @ inputs[i], delta.sum(axis=0)
        if i > 0:
            delta = funcs[i - 1].backward(dropout_backward(delta @ weights[i], masks[i - 1]),
                                          sums[i - 1])
    return dW, db


class TrainedModel(NamedTuple):
    """What ``train_model`` returns."""

    weights: list
    biases: list
    history: list  # each epoch's training loss, with its L2 term and every unit on (no dropout)
    validation: list  # the validation loss after each epoch ([] without validation data)
    best_epoch: int | None  # the epoch whose weights were kept, with early stopping
    rates: list  # the learning rate of every update


@_stop_on_divergence
@checked_run
def train_model(X, Y, layer_sizes, activations, loss="mse", optimizer="sgd", learning_rate=0.1,
                epochs=20, batch_size=32, seed=0, l2=0.0, dropout=0.0, schedule=None,
                validation=None, patience=None, init="xavier", **options):
    """Train a network with any of this module's pieces (provided).

    The loop of ``training.train_network``, with: an optimizer from ``OPTIMIZERS`` and
    its ``options`` (``momentum=0.9``, ``beta1=...``); a schedule, a function
    ``schedule(step) -> learning rate`` called before every update (``step`` counts
    updates from 0); the L2 term of strength ``l2`` added to the loss and its gradient;
    dropout of rate ``dropout`` on every hidden layer during training; and, with
    ``validation=(X_val, Y_val)``, the validation loss after every epoch, and early
    stopping after ``patience`` epochs without improvement (the weights of the best
    epoch are returned).

    Returns
    -------
    TrainedModel
    """
    X = as_float_array(X, "X", ndim=2)
    Y = as_float_array(Y, "Y", ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples (shape {X.shape}) but Y has "
                         f"{Y.shape[0]} (shape {Y.shape})")
    weights, biases = init_params(layer_sizes, method=init, seed=seed)
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    check_loss_fits(get_loss(loss), funcs[-1])
    chosen = get_optimizer(optimizer)
    unknown = set(options) - set(chosen.options)
    if unknown:
        raise ValueError(f"the optimizer {chosen.name!r} takes no option "
                         f"{', '.join(sorted(unknown))}; it takes: "
                         f"{', '.join(chosen.options) or 'none'}")
    learning_rate = check_positive(learning_rate, "learning_rate")
    epochs = check_count(epochs, "epochs")
    l2 = check_non_negative(l2, "l2")
    dropout = check_fraction(dropout, "dropout", zero_allowed=True)
    if patience is not None:
        patience = check_count(patience, "patience")
        if validation is None:
            raise ValueError("early stopping (patience=...) needs validation=(X_val, Y_val)")
    if validation is not None:
        X_val = as_float_array(validation[0], "X_val", ndim=2)
        Y_val = as_float_array(validation[1], "Y_val", ndim=2)
        if X_val.shape[1:] != X.shape[1:] or Y_val.shape[1:] != Y.shape[1:] \
                or len(X_val) != len(Y_val):
            raise ValueError(f"validation=(X_val, Y_val) must have the columns of X and Y, "
                             f"and as many rows each: got shapes {X_val.shape} and "
                             f"{Y_val.shape}, for X {X.shape} and Y {Y.shape}")
    n = X.shape[0]
    batch_size = n if batch_size is None else min(check_count(batch_size, "batch_size"), n)
    rng = np.random.default_rng(seed)
    state = init_state(weights, biases)
    history, checked, rates, kept = [], [], [], None
    inputs_checked()
    for _ in range(epochs):
        order, total = rng.permutation(n), 0.0
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            Xb, Yb = X[batch], Y[batch]
            batch_loss = loss_value(Xb, Yb, weights, biases, activations, loss)
            if l2:
                batch_loss += l2_penalty(weights, l2)
            total += batch_loss * len(batch)
            if dropout:
                dW, db = gradients_with_dropout(Xb, Yb, weights, biases, activations, loss,
                                                dropout, rng)
            else:
                dW, db = backpropagation(Xb, Yb, weights, biases, activations, loss)
            if l2:
                dW = [g + r for g, r in zip(dW, l2_gradient(weights, l2))]
            rate = learning_rate if schedule is None else schedule(state.step)
            if not (isinstance(rate, (int, float, np.number)) and 0.0 < rate < np.inf):
                raise ValueError(
                    f"schedule({state.step}) returned {rate!r}; a learning rate must be a "
                    f"number > 0 (a cosine schedule reaches 0 at total_steps: make it at least "
                    f"the number of updates, {epochs * -(-n // batch_size)}, or give a "
                    f"final_rate > 0)")
            rates.append(float(rate))
            weights, biases, state = chosen.update(weights, biases, (dW, db), state, rate,
                                                   **options)
        history.append(total / n)
        if not np.isfinite(history[-1]):
            raise FloatingPointError(f"epoch {len(history)}: the loss became {history[-1]}")
        if validation is not None:
            checked.append(loss_value(X_val, Y_val, weights, biases, activations, loss))
            stop = early_stopping(checked, patience) if patience else None
            if stop is not None and stop.best == len(checked) - 1:
                kept = (weights, biases)
            if stop is not None and stop.stop is not None:
                break
    best = None
    if patience:
        best = early_stopping(checked, patience).best
        weights, biases = kept
    return TrainedModel(weights, biases, history, checked, best, rates)


__all__ = ["BatchNormCache", "Dropped", "EarlyStop", "NormGradients", "Normalized",
           "OPTIMIZERS", "OptimizerState", "RunningStats", "TrainedModel", "Update",
           "adam_update", "batchnorm_backward", "batchnorm_forward", "cosine_schedule",
           "dropout_backward", "dropout_forward", "early_stopping", "get_optimizer",
           "gradients_with_dropout", "init_state", "l2_gradient", "l2_penalty",
           "momentum_update", "rmsprop_update", "sgd_update", "step_schedule",
           "train_model"]
