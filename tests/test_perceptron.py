"""Tests for nnlib.perceptron: step, perceptron_predict and perceptron_train."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import finite, float_arrays

from nnlib import datasets, perceptron

# Multiples of 1/4 in [-8, 8]: sums of a few of them are exact in float64, so
# the sign of X @ w + b does not depend on the order of the additions.
quarters = st.integers(-32, 32).map(lambda k: k / 4)


@st.composite
def perceptron_cases(draw):
    """Draw ``(X, w, b)`` with X of shape (N, D) and w of shape (D,)."""
    n_samples = draw(st.integers(1, 6))
    n_features = draw(st.integers(1, 4))
    X = draw(hnp.arrays(np.float64, (n_samples, n_features), elements=quarters))
    w = draw(hnp.arrays(np.float64, (n_features,), elements=quarters))
    b = draw(quarters)
    return X, w, b


# ---------------------------------------------------------------- step


def test_step_hand_values():
    """Is step 1 for positive scores and 0 for negative ones and for exactly 0?"""
    z = np.array([-3.0, -1e-12, 0.0, 1e-12, 2.5])
    np.testing.assert_array_equal(perceptron.step(z), [0.0, 0.0, 0.0, 1.0, 1.0])


def test_step_at_zero_is_zero():
    """Does a score of exactly 0 count as 'not positive', as in the notes?"""
    assert float(perceptron.step(0.0)) == 0.0
    assert float(perceptron.step(-0.0)) == 0.0


def test_step_keeps_shape_and_returns_float64():
    """Does step return float64 values in the shape of its input?"""
    z = np.arange(-3, 3).reshape(2, 3)  # integers in, floats out
    out = perceptron.step(z)
    assert out.shape == (2, 3)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])


def test_step_of_scalar_is_0d_array():
    """Does a scalar score give a 0-D float64 array, as documented?"""
    out = perceptron.step(2.0)
    assert isinstance(out, np.ndarray)
    assert out.shape == ()
    assert out.dtype == np.float64
    assert float(out) == 1.0


def test_step_does_not_mutate_input():
    """Is the input array left unchanged?"""
    z = np.array([-1.0, 0.0, 1.0])
    perceptron.step(z)
    np.testing.assert_array_equal(z, [-1.0, 0.0, 1.0])


def test_step_rejects_nan():
    """Is a nan score reported instead of silently classified?"""
    with pytest.raises(ValueError, match="z contains 1 non-finite"):
        perceptron.step([0.0, np.nan])


@given(float_arrays)
def test_step_outputs_only_zero_and_one(z):
    """Are the outputs of step always exactly 0.0 or 1.0, in the shape of z?"""
    out = perceptron.step(z)
    assert out.shape == z.shape
    assert np.all((out == 0.0) | (out == 1.0))
    np.testing.assert_array_equal(out == 1.0, z > 0)


@given(hnp.arrays(np.float64, st.integers(1, 20), elements=finite))
def test_step_is_monotone(z):
    """Does sorting the scores give outputs that never decrease?"""
    out = perceptron.step(np.sort(z))
    assert np.all(np.diff(out) >= 0)


# ---------------------------------------------------------------- perceptron_predict


def test_predict_hand_worked():
    """Does perceptron_predict give the hand-computed classes?"""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    w = np.array([0.5, -1.0])
    b = -0.2
    expected = [
        1.0,  # 1*0.5 + 0*(-1) - 0.2 =  0.3 > 0   -> 1
        0.0,  # 0*0.5 + 1*(-1) - 0.2 = -1.2 <= 0  -> 0
        0.0,  # 1*0.5 + 1*(-1) - 0.2 = -0.7 <= 0  -> 0
        0.0,  # 0*0.5 + 0*(-1) - 0.2 = -0.2 <= 0  -> 0
    ]
    np.testing.assert_array_equal(perceptron.perceptron_predict(X, w, b), expected)


def test_predict_score_exactly_zero_is_class_zero():
    """Is a sample lying exactly on the boundary classified as 0?"""
    # 1*1 + 1*1 - 2 = 0 <= 0 -> 0
    out = perceptron.perceptron_predict([[1.0, 1.0]], [1.0, 1.0], -2.0)
    np.testing.assert_array_equal(out, [0.0])


def test_predict_returns_float64_vector():
    """Does perceptron_predict return a float64 array of shape (N,)?"""
    out = perceptron.perceptron_predict(np.zeros((5, 3)), np.ones(3), 1.0)
    assert out.shape == (5,)
    assert out.dtype == np.float64


def test_predict_does_not_mutate_inputs():
    """Are X and w left unchanged?"""
    X = np.array([[1.0, -2.0], [3.0, 4.0]])
    w = np.array([0.5, 0.25])
    perceptron.perceptron_predict(X, w, 0.1)
    np.testing.assert_array_equal(X, [[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(w, [0.5, 0.25])


def test_predict_mismatched_shapes_name_both():
    """Does a w of the wrong length raise an error naming both shapes?"""
    with pytest.raises(ValueError, match=r"X has shape \(3, 2\) but w has shape \(3,\)"):
        perceptron.perceptron_predict(np.ones((3, 2)), np.ones(3), 0.0)


def test_predict_rejects_1d_X():
    """Is a single sample given as a 1-D X rejected with a reshape hint?"""
    with pytest.raises(ValueError, match=r"X must be 2-D.*reshape"):
        perceptron.perceptron_predict(np.ones(2), np.ones(2), 0.0)


def test_predict_rejects_vector_bias():
    """Is a bias that is not a scalar rejected?"""
    with pytest.raises(ValueError, match="b must be 0-D"):
        perceptron.perceptron_predict(np.ones((3, 2)), np.ones(2), [0.0, 1.0])


@given(perceptron_cases())
def test_predict_matches_step_row_by_row(case):
    """Does the vectorized prediction equal step(x . w + b) computed for each row?"""
    X, w, b = case
    row_by_row = [float(perceptron.step(float(np.dot(x, w)) + b)) for x in X]
    np.testing.assert_array_equal(perceptron.perceptron_predict(X, w, b), row_by_row)


# ---------------------------------------------------------------- perceptron_train


def test_train_first_epoch_on_and_by_hand():
    """Does one epoch on AND make exactly the hand-traced update?"""
    X, y = datasets.logic_gate("and")
    # Rule: y_hat = step(w.x + b); w += lr*(y - y_hat)*x; b += lr*(y - y_hat), lr = 1.
    # Start w = (0, 0), b = 0.
    #   x = (0,0), y = 0: z = 0 -> y_hat = 0, correct, no change
    #   x = (0,1), y = 0: z = 0 -> y_hat = 0, correct, no change
    #   x = (1,0), y = 0: z = 0 -> y_hat = 0, correct, no change
    #   x = (1,1), y = 1: z = 0 -> y_hat = 0, error +1: w = (0,0) + (1,1) = (1,1), b = 0 + 1 = 1
    w, b, mistakes = perceptron.perceptron_train(X, y, learning_rate=1.0, epochs=1)
    np.testing.assert_array_equal(w, [1.0, 1.0])
    assert b == 1.0
    assert mistakes == [1]


def test_train_second_epoch_on_and_by_hand():
    """Does the second epoch on AND continue from the first one's weights?"""
    X, y = datasets.logic_gate("and")
    # Start of epoch 2: w = (1, 1), b = 1 (see the first-epoch test).
    #   x = (0,0), y = 0: z = 1     -> 1, error -1: w = (1,1), b = 0
    #   x = (0,1), y = 0: z = 1     -> 1, error -1: w = (1,0), b = -1
    #   x = (1,0), y = 0: z = 1 - 1 = 0 -> 0, correct
    #   x = (1,1), y = 1: z = 1 + 0 - 1 = 0 -> 0, error +1: w = (2,1), b = 0
    w, b, mistakes = perceptron.perceptron_train(X, y, learning_rate=1.0, epochs=2)
    np.testing.assert_array_equal(w, [2.0, 1.0])
    assert b == 0.0
    assert mistakes == [1, 3]


def test_train_learning_rate_scales_the_first_update():
    """Does the learning rate scale the size of each update?"""
    X, y = datasets.logic_gate("and")
    # Same first epoch as above, but each step is 0.5 * (y - y_hat) * x:
    # only (1,1) is wrong, so w = 0.5 * (1, 1) = (0.5, 0.5) and b = 0.5.
    w, b, mistakes = perceptron.perceptron_train(X, y, learning_rate=0.5, epochs=1)
    np.testing.assert_array_equal(w, [0.5, 0.5])
    assert b == 0.5
    assert mistakes == [1]


@pytest.mark.parametrize("gate", ["and", "or"])
def test_train_converges_on_separable_gates(gate):
    """Does training reach an epoch with no mistake on AND and OR, and fit every row?"""
    X, y = datasets.logic_gate(gate)
    w, b, mistakes = perceptron.perceptron_train(X, y, epochs=100)
    assert mistakes[-1] == 0
    assert len(mistakes) < 100
    np.testing.assert_array_equal(perceptron.perceptron_predict(X, w, b), y)


def test_train_full_history_on_and():
    """Does the whole run on AND match the hand trace, stopping after the clean epoch?"""
    X, y = datasets.logic_gate("and")
    # Continuing the hand trace of the first two epochs gives 3, 2, 1 and then
    # 0 mistakes, ending at w = (2, 1), b = -2: 2*x1 + x2 - 2 > 0 only for (1,1).
    w, b, mistakes = perceptron.perceptron_train(X, y)
    assert mistakes == [1, 3, 3, 2, 1, 0]
    np.testing.assert_array_equal(w, [2.0, 1.0])
    assert b == -2.0


def test_train_full_history_on_or():
    """Does the whole run on OR match the hand trace?"""
    X, y = datasets.logic_gate("or")
    # Epoch 1: only (0,1) is wrong         -> w = (0,1), b = 1
    # Epoch 2: (0,0) wrong -> b = 0; (1,0) wrong -> w = (1,1), b = 1
    # Epoch 3: (0,0) wrong -> b = 0; the rest are right
    # Epoch 4: no mistake: x1 + x2 + 0 > 0 for every input but (0,0)
    w, b, mistakes = perceptron.perceptron_train(X, y)
    assert mistakes == [1, 2, 1, 0]
    np.testing.assert_array_equal(w, [1.0, 1.0])
    assert b == 0.0


def test_train_cannot_fit_xor():
    """Does the perceptron keep making mistakes on XOR, for every epoch it is given?"""
    X, y = datasets.logic_gate("xor")
    w, b, mistakes = perceptron.perceptron_train(X, y, epochs=100)
    assert len(mistakes) == 100
    assert min(mistakes) > 0
    assert np.any(perceptron.perceptron_predict(X, w, b) != y)


def test_train_returns_documented_types():
    """Are w a float64 (D,) array, b a Python float and mistakes a list of ints?"""
    X, y = datasets.logic_gate("or")
    w, b, mistakes = perceptron.perceptron_train(X, y)
    assert isinstance(w, np.ndarray)
    assert w.shape == (2,)
    assert w.dtype == np.float64
    assert type(b) is float
    assert isinstance(mistakes, list)
    assert all(type(m) is int for m in mistakes)


def test_train_stops_once_an_epoch_is_clean():
    """Does the perceptron stop once an epoch makes no mistake?"""
    # Already separated by w = 0, b = 0: every sample is class 0 and z = 0 -> 0.
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([0.0, 0.0])
    w, b, mistakes = perceptron.perceptron_train(X, y, epochs=50)
    assert mistakes == [0]
    np.testing.assert_array_equal(w, [0.0, 0.0])
    assert b == 0.0


def test_train_does_not_mutate_inputs():
    """Are X and y left unchanged by training?"""
    X, y = datasets.logic_gate("and")
    X_before, y_before = X.copy(), y.copy()
    perceptron.perceptron_train(X, y)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_train_accepts_lists():
    """Does training accept plain Python lists as well as arrays?"""
    w, b, mistakes = perceptron.perceptron_train([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 1])
    np.testing.assert_array_equal(w, [1.0, 1.0])
    assert b == 0.0
    assert mistakes == [1, 2, 1, 0]


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.ones(4), np.ones(4), r"X must be 2-D"),
        (np.ones((4, 2)), np.ones((4, 1)), r"y must be 1-D"),
        (np.ones((4, 2)), np.ones(3), r"X has shape \(4, 2\) but y has shape \(3,\)"),
        (np.ones((4, 2)), [0, 1, 2, 1], r"y must contain only 0 and 1, but y\[2\] is 2\.0"),
        (np.ones((4, 2)), [0, -1, 1, 1], r"y must contain only 0 and 1, but y\[1\] is -1\.0"),
        ([[0, np.inf], [1, 1]], [0, 1], r"X contains 1 non-finite"),
        (np.ones((0, 2)), np.ones(0), r"X has no samples"),
    ],
)
def test_train_rejects_bad_data(X, y, message):
    """Is bad training data rejected with a message that names the problem?"""
    with pytest.raises(ValueError, match=message):
        perceptron.perceptron_train(X, y)


@pytest.mark.parametrize("learning_rate", [0.0, -1.0, np.inf, np.nan, "fast", True])
def test_train_rejects_bad_learning_rate(learning_rate):
    """Is a learning rate that is not a finite positive number rejected?"""
    X, y = datasets.logic_gate("and")
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        perceptron.perceptron_train(X, y, learning_rate=learning_rate)


@pytest.mark.parametrize("epochs", [0, -3, 2.5, 10.0, None, True])
def test_train_rejects_bad_epochs(epochs):
    """Is an epoch count that is not a positive integer rejected?"""
    X, y = datasets.logic_gate("and")
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        perceptron.perceptron_train(X, y, epochs=epochs)
