"""The perceptron: a single neuron with a hard yes/no output.

A perceptron gives a sample ``x`` a score ``z = w . x + b`` and answers 1 if
the score is positive, 0 otherwise. The weights ``w`` and the bias ``b`` fix a
line (a hyperplane when there are more than two features) and the answer says
on which side of it the sample lies.

Training moves that line one mistake at a time: whenever a sample lands on the
wrong side, the rule pushes ``w`` and ``b`` a little towards classifying it
correctly. If some line separates the two classes perfectly (as for AND and
OR), the rule is guaranteed to find one after finitely many mistakes. If no
such line exists (as for XOR), it keeps making mistakes forever; that failure
is what motivates networks with hidden layers.

For a batch, the samples are the rows of ``X`` (shape ``(N, D)``), so the
per-sample score ``w . x + b`` becomes the vector ``X @ w + b`` of shape
``(N,)``.
"""

import numpy as np

from ._checks import as_float_array, check_count, check_positive
from ._exercises import ExerciseNotDone

__all__ = ["step", "perceptron_predict", "perceptron_train"]


def step(z):
    """Heaviside step: 1 where ``z`` is positive, 0 elsewhere (including at 0).

    Parameters
    ----------
    z : array_like of float, any shape
        Scores. Must be finite.

    Returns
    -------
    ndarray of float64, same shape as ``z``
        ``1.0`` where ``z > 0`` and ``0.0`` where ``z <= 0``. Always an
        array: a scalar ``z`` gives a 0-D array (use ``float(...)`` to get a
        Python number).

    Examples
    --------
    >>> step([-2.0, 0.0, 0.5])
    array([0., 0., 1.])
    >>> float(step(3))
    1.0
    """
    z = as_float_array(z, "z")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 1.1: implement step")


def perceptron_predict(X, w, b):
    """Classify every row of ``X`` with the perceptron ``(w, b)``.

    Row ``i`` gets ``step(X[i] @ w + b)``; all rows are computed at once as
    ``step(X @ w + b)``.

    Parameters
    ----------
    X : array_like of float, shape (N, D)
        Samples, one per row.
    w : array_like of float, shape (D,)
        One weight per feature.
    b : float
        Bias.

    Returns
    -------
    ndarray of float64, shape (N,)
        ``1.0`` or ``0.0`` for each sample.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, ``w`` is not 1-D, ``b`` is not a scalar, an input
        is not finite, or ``w`` does not have one entry per column of ``X``.

    Examples
    --------
    >>> perceptron_predict([[1.0, 0.0], [0.0, 1.0]], w=[0.5, -1.0], b=-0.2)
    array([1., 0.])
    """
    X, w, b = _check_model(X, w, b)
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 1.2: implement perceptron_predict")


def perceptron_train(X, y, learning_rate=1.0, epochs=100):
    """Learn ``w`` and ``b`` with the perceptron learning rule.

    Start from ``w = 0`` (shape ``(D,)``) and ``b = 0``. In each epoch, visit
    the samples in order and, for sample ``x`` with target ``y``::

        y_hat = step(w . x + b)
        w = w + learning_rate * (y - y_hat) * x
        b = b + learning_rate * (y - y_hat)

    A correct guess gives ``y - y_hat = 0`` and changes nothing; a wrong one
    gives ``+1`` or ``-1`` and moves the boundary towards the right answer.
    Training stops after the first epoch with no mistake, or after ``epochs``
    epochs.

    The rule is *online*: the prediction for a sample uses the weights left
    by the previous sample, so the loop over samples cannot be replaced by one
    matrix product. It is the only loop over samples in this module.

    Parameters
    ----------
    X : array_like of float, shape (N, D)
        Training samples, one per row. Must be finite, with ``N >= 1``.
    y : array_like of float, shape (N,)
        Targets, each ``0`` or ``1``.
    learning_rate : float, default 1.0
        Step size, ``> 0``.
    epochs : int, default 100
        Maximum number of passes over the data, ``>= 1``.

    Returns
    -------
    w : ndarray of float64, shape (D,)
        Learned weights.
    b : float
        Learned bias.
    mistakes : list of int
        ``mistakes[e]`` is the number of samples misclassified (and so the
        number of updates made) during epoch ``e``. One entry per epoch run:
        if training converged, the last entry is ``0`` and the list can be
        shorter than ``epochs``.

    Raises
    ------
    ValueError
        If an argument has the wrong shape, ``y`` holds a value other than 0
        or 1, ``learning_rate <= 0`` or ``epochs`` is not a positive integer.

    Examples
    --------
    >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    >>> w, b, mistakes = perceptron_train(X, y=[0, 0, 0, 1])
    >>> perceptron_predict(X, w, b)
    array([0., 0., 0., 1.])
    >>> mistakes[-1]
    0
    """
    X, y = _check_training_data(X, y)
    learning_rate = check_positive(learning_rate, "learning_rate")
    epochs = check_count(epochs, "epochs")
    # YOUR CODE HERE
    raise ExerciseNotDone("Exercise 1.5: implement perceptron_train")


def _check_model(X, w, b):
    """Return ``X`` (N, D), ``w`` (D,) as float64 arrays and ``b`` as a float."""
    X = as_float_array(X, "X", ndim=2)
    w = as_float_array(w, "w", ndim=1)
    b = float(as_float_array(b, "b", ndim=0))
    if w.shape[0] != X.shape[1]:
        raise ValueError(
            f"X has shape {X.shape} but w has shape {w.shape}; w needs one weight "
            f"per column of X, so shape ({X.shape[1]},)"
        )
    return X, w, b


def _check_training_data(X, y):
    """Return ``X`` (N, D) and ``y`` (N,) as float64 arrays of 0/1 targets."""
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    if X.shape[0] == 0:
        raise ValueError(f"X has no samples (shape {X.shape}); need at least one row")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X has shape {X.shape} but y has shape {y.shape}; y needs one target "
            f"per row of X, so shape ({X.shape[0]},)"
        )
    bad = ~np.isin(y, (0.0, 1.0))
    if np.any(bad):
        raise ValueError(
            f"y must contain only 0 and 1, but y[{int(np.argmax(bad))}] is "
            f"{float(y[bad][0])!r} ({int(np.count_nonzero(bad))} bad value(s))"
        )
    return X, y
