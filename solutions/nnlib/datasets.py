"""Small datasets for the course (provided code, not an exercise).

Everything here is generated on the spot or read from data that ships with
scikit-learn, so nothing is downloaded. Every random draw takes a ``seed``:
the same call always returns the same data.

Inputs follow the nnlib convention, one sample per row: ``X`` has shape
``(N, D)`` and dtype float64. Two-class datasets return ``y`` of shape
``(N,)`` holding ``0.0`` and ``1.0``, with the classes as balanced as ``N``
allows (for odd ``N``, class 0 gets the extra sample).
"""

import numbers
from typing import NamedTuple

import numpy as np

from . import _digit_split
from ._checks import (
    as_float_array,
    check_count,
    check_fraction,
    check_non_negative,
    unknown_name_error,
)

__all__ = [
    "logic_gate",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_curve",
    "load_digits",
    "load_digits_split",
    "DigitsSplit",
    "one_hot",
]

# The four inputs of a two-input gate, always in this order: 00, 01, 10, 11.
_GATE_INPUTS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
_GATE_TARGETS = {
    "and": (0.0, 0.0, 0.0, 1.0),
    "or": (0.0, 1.0, 1.0, 1.0),
    "xor": (0.0, 1.0, 1.0, 0.0),
}


def logic_gate(name):
    """Return the truth table of a two-input logic gate.

    Parameters
    ----------
    name : {"and", "or", "xor"}
        The gate, case-insensitive.

    Returns
    -------
    X : ndarray of float64, shape (4, 2)
        The inputs ``00, 01, 10, 11``, one per row, in that order.
    y : ndarray of float64, shape (4,)
        The gate's output for each row of ``X``.

    Raises
    ------
    ValueError
        If ``name`` is not a known gate; the message lists the known ones.

    Examples
    --------
    >>> X, y = logic_gate("XOR")
    >>> y
    array([0., 1., 1., 0.])
    """
    key = name.lower() if isinstance(name, str) else None
    if key not in _GATE_TARGETS:
        raise unknown_name_error("logic gate", name, _GATE_TARGETS)
    return np.array(_GATE_INPUTS), np.array(_GATE_TARGETS[key])


def make_moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    Parameters
    ----------
    n_samples : int, default 200
        Total number of samples ``N``, ``>= 1``.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate,
        ``>= 0``.
    seed : int, default 0
        Seed for the noise and the shuffling.

    Returns
    -------
    X : ndarray of float64, shape (N, 2)
        Points, one per row, in shuffled order.
    y : ndarray of float64, shape (N,)
        Class of each point, ``0.0`` or ``1.0``.
    """
    n_samples = check_count(n_samples, "n_samples")
    noise = check_non_negative(noise, "noise")
    seed = _check_seed(seed)
    from sklearn.datasets import make_moons as sk_make_moons  # imported here: sklearn is slow

    X, y = sk_make_moons(_split_in_two(n_samples), noise=noise, random_state=seed)
    return X.astype(np.float64), y.astype(np.float64)


def make_circles(n_samples=200, noise=0.05, factor=0.5, seed=0):
    """A small circle inside a large one (scikit-learn's ``make_circles``).

    Class 0 is the outer circle (radius 1), class 1 the inner one.

    Parameters
    ----------
    n_samples : int, default 200
        Total number of samples ``N``, ``>= 1``.
    noise : float, default 0.05
        Standard deviation of the Gaussian noise added to each coordinate,
        ``>= 0``.
    factor : float, default 0.5
        Radius of the inner circle relative to the outer one, in ``[0, 1)``.
    seed : int, default 0
        Seed for the noise and the shuffling.

    Returns
    -------
    X : ndarray of float64, shape (N, 2)
        Points, one per row, in shuffled order.
    y : ndarray of float64, shape (N,)
        Class of each point, ``0.0`` (outer) or ``1.0`` (inner).
    """
    n_samples = check_count(n_samples, "n_samples")
    noise = check_non_negative(noise, "noise")
    seed = _check_seed(seed)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0.0 <= factor < 1.0:
        raise ValueError(f"factor must be a number in [0, 1), got {factor!r}")
    from sklearn.datasets import make_circles as sk_make_circles

    X, y = sk_make_circles(
        _split_in_two(n_samples), noise=noise, factor=factor, random_state=seed
    )
    return X.astype(np.float64), y.astype(np.float64)


def make_spirals(n_samples=200, noise=0.1, turns=1.5, seed=0):
    """Two spiral arms wound around each other.

    Both arms start near the origin and wind outwards to radius 1; arm 1 is
    arm 0 rotated by half a turn. No straight line, and no single circle,
    separates them, so a classifier has to bend its boundary several times.

    Parameters
    ----------
    n_samples : int, default 200
        Total number of samples ``N``, ``>= 1``.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate,
        ``>= 0``.
    turns : float, default 1.5
        How many full turns each arm makes, ``> 0``.
    seed : int, default 0
        Seed for the noise and the shuffling.

    Returns
    -------
    X : ndarray of float64, shape (N, 2)
        Points, one per row, in shuffled order.
    y : ndarray of float64, shape (N,)
        Arm of each point, ``0.0`` or ``1.0``; class 0 has ``N - N // 2``
        points and class 1 has ``N // 2``.
    """
    n_samples = check_count(n_samples, "n_samples")
    noise = check_non_negative(noise, "noise")
    seed = _check_seed(seed)
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not 0.0 < turns < np.inf:
        raise ValueError(f"turns must be a finite number > 0, got {turns!r}")
    n_class_0, n_class_1 = _split_in_two(n_samples)
    y = np.concatenate([np.zeros(n_class_0), np.ones(n_class_1)])
    # Position along the arm, from near the centre (0.1) to the rim (1.0).
    t = np.concatenate([np.linspace(0.1, 1.0, n_class_0), np.linspace(0.1, 1.0, n_class_1)])
    angle = 2.0 * np.pi * turns * t + np.pi * y
    X = t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    rng = np.random.default_rng(seed)
    X = X + rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(n_samples)
    return X[order], y[order]


_CURVES = {
    "sine": np.sin,
    "step": lambda x: np.where(x > 0, 1.0, 0.0),
    "abs": lambda x: np.abs(x) / np.pi,
    "bumps": lambda x: np.sin(3.0 * x) * np.exp(-(x**2) / 4.0),
}


def make_curve(n_samples=100, kind="sine", noise=0.0, seed=0):
    """Samples of a 1-D function on ``[-pi, pi]``, for regression demos.

    Parameters
    ----------
    n_samples : int, default 100
        Number of points ``N``, ``>= 1``.
    kind : {"sine", "step", "abs", "bumps"}, default "sine"
        The function: ``sin(x)``; ``1`` for ``x > 0`` else ``0``;
        ``|x| / pi``; or the wiggly ``sin(3x) * exp(-x**2 / 4)``.
    noise : float, default 0.0
        Standard deviation of the Gaussian noise added to ``Y``, ``>= 0``.
        With ``0`` the targets are exactly the function's values.
    seed : int, default 0
        Seed for the noise.

    Returns
    -------
    X : ndarray of float64, shape (N, 1)
        Evenly spaced points from ``-pi`` to ``pi`` (both included when
        ``N >= 2``), in increasing order.
    Y : ndarray of float64, shape (N, 1)
        The function at each point, plus noise.

    Raises
    ------
    ValueError
        If ``kind`` is unknown (the message lists the known kinds) or an
        argument is out of range.
    """
    if not isinstance(kind, str) or kind not in _CURVES:
        raise unknown_name_error("curve kind", kind, _CURVES)
    n_samples = check_count(n_samples, "n_samples")
    noise = check_non_negative(noise, "noise")
    seed = _check_seed(seed)
    X = np.linspace(-np.pi, np.pi, n_samples).reshape(-1, 1)
    Y = _CURVES[kind](X)
    if noise > 0.0:
        rng = np.random.default_rng(seed)
        Y = Y + rng.normal(scale=noise, size=Y.shape)
    return X, Y


def load_digits(test_size=0.25, seed=0):
    """The 8x8 handwritten digits bundled with scikit-learn, split in two.

    The 1797 images are flattened to 64 pixels per row and scaled from
    ``0..16`` to ``[0, 1]``. The split is stratified, so each digit is
    represented in the same proportion in both parts.

    Parameters
    ----------
    test_size : float, default 0.25
        Fraction of the images held out for testing, strictly between 0 and 1.
    seed : int, default 0
        Seed for the split.

    Returns
    -------
    X_train : ndarray of float64, shape (N_train, 64)
        Training images, one per row, pixels in ``[0, 1]``.
    X_test : ndarray of float64, shape (N_test, 64)
        Test images.
    y_train : ndarray of int64, shape (N_train,)
        Digit shown in each training image, ``0`` to ``9``.
    y_test : ndarray of int64, shape (N_test,)
        Digit shown in each test image.
    """
    test_size = check_fraction(test_size, "test_size")
    seed = _check_seed(seed)
    X, y = _digit_images()
    return _stratified_split(X, y, test_size, seed)


class DigitsSplit(NamedTuple):
    """What ``load_digits_split`` returns; unpacks in this order."""

    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray


def load_digits_split(validation_size=0.2, test_size=0.2, seed=0):
    """The 8x8 digits split three ways: training, validation and test.

    The images are the same as ``load_digits``'s. First the test part is
    held out (stratified, ``ceil(test_size * 1797)`` images); then the
    validation part is taken from the rest (stratified too), so that it is
    ``validation_size`` of all the images, rounded up. Train on the first
    part, choose hyperparameters by the second, and measure the chosen model
    once on the third.

    Parameters
    ----------
    validation_size : float, default 0.2
        Fraction of all the images used for validation, in ``(0, 1)``.
    test_size : float, default 0.2
        Fraction of all the images held out for the final test, in ``(0, 1)``;
        the two fractions add up to less than 1.
    seed : int, default 0
        Seed for both splits.

    Returns
    -------
    DigitsSplit
        ``(X_train, X_val, X_test, y_train, y_val, y_test)``: images of shape
        ``(N_part, 64)`` in float64 with pixels in ``[0, 1]``, and digits of
        shape ``(N_part,)`` in int64. With the defaults the parts hold 1077,
        360 and 360 images.

    Raises
    ------
    ValueError
        If a fraction is outside ``(0, 1)``, or the two leave no training images.
    """
    validation_size = check_fraction(validation_size, "validation_size")
    test_size = check_fraction(test_size, "test_size")
    if validation_size + test_size >= 1.0:
        raise ValueError(
            f"validation_size + test_size must be below 1 to leave images for training, got "
            f"{validation_size!r} + {test_size!r}"
        )
    seed = _check_seed(seed)
    X, y = _digit_images()
    arguments = {"validation_size": validation_size, "test_size": test_size, "seed": seed}
    if arguments == _digit_split.DEFAULTS:  # every notebook's split, kept: no scikit-learn
        parts = [_digit_split.rows(part) for part in ("train", "val", "test")]
        return DigitsSplit(*(X[rows] for rows in parts), *(y[rows] for rows in parts))
    X_rest, X_test, y_rest, y_test = _stratified_split(X, y, test_size, seed)
    # validation_size is a share of all the images; of the rest it is this much
    X_train, X_val, y_train, y_val = _stratified_split(
        X_rest, y_rest, validation_size / (1.0 - test_size), seed
    )
    return DigitsSplit(X_train, X_val, X_test, y_train, y_val, y_test)


def _digit_images():
    """scikit-learn's 1797 digits: pixels (1797, 64) in [0, 1] and labels (1797,) int64.

    Read from the file scikit-learn ships them in, as its ``load_digits`` reads it, without
    importing scikit-learn (which takes most of a second).
    """
    import gzip
    import importlib.util
    from pathlib import Path

    package = importlib.util.find_spec("sklearn").submodule_search_locations[0]
    with gzip.open(Path(package) / "datasets" / "data" / "digits.csv.gz") as file:
        data = np.loadtxt(file, delimiter=",")
    return data[:, :-1] / 16.0, data[:, -1].astype(np.int64)


def _stratified_split(X, y, held_out, seed):
    """``X_kept, X_held, y_kept, y_held``, every class in the same share in both parts."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=held_out, stratify=y, random_state=seed)


def one_hot(labels, n_classes=None):
    """Turn class labels into one-hot rows.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Class of each sample, whole numbers ``>= 0`` (floats such as ``1.0``
        are accepted, ``1.5`` is not).
    n_classes : int, optional
        Number of classes ``C``. Defaults to ``max(labels) + 1``.

    Returns
    -------
    ndarray of float64, shape (N, C)
        Row ``i`` is all zeros except a ``1.0`` in column ``labels[i]``, so
        ``one_hot(labels).argmax(axis=1)`` gives the labels back.

    Raises
    ------
    ValueError
        If a label is not a whole number, is negative, or is ``>= n_classes``,
        or if ``labels`` is empty and ``n_classes`` is not given.

    Examples
    --------
    >>> one_hot([2, 0, 1])
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """
    values = as_float_array(labels, "labels", ndim=1)
    fractional = values != np.round(values)
    if np.any(fractional):
        raise ValueError(
            f"labels must be whole numbers, but labels[{int(np.argmax(fractional))}] is "
            f"{float(values[fractional][0])!r}"
        )
    if np.any(values < 0):
        raise ValueError(f"labels must be >= 0, but the smallest is {int(values.min())}")
    if n_classes is None:
        if values.size == 0:
            raise ValueError("labels is empty, so n_classes cannot be inferred; pass n_classes")
        n_classes = int(values.max()) + 1
    n_classes = check_count(n_classes, "n_classes")
    if values.size and values.max() >= n_classes:
        raise ValueError(
            f"labels must be < n_classes = {n_classes}, but the largest is {int(values.max())}"
        )
    encoded = np.zeros((values.shape[0], n_classes))
    encoded[np.arange(values.shape[0]), values.astype(np.int64)] = 1.0
    return encoded


def _split_in_two(n_samples):
    """Return the class sizes ``(n - n // 2, n // 2)``: class 0 gets the odd sample."""
    return n_samples - n_samples // 2, n_samples // 2




def _check_seed(seed):
    """Return ``seed`` as an int, raising ``ValueError`` unless it is in ``[0, 2**32 - 1]``."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer from 0 to 2**32 - 1, got {seed!r}")
    return int(seed)
