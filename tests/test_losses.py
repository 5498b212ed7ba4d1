"""Tests for nnlib.losses: hand values, derivatives, stability, properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from strategies import batch_pairs, batches

from nnlib import losses
from nnlib.activations import ACTIVATIONS, Activation
from nnlib.gradcheck import _numerical_gradient as numerical_gradient
from nnlib.gradcheck import check_gradient

# ---------------------------------------------------------------- hand-worked values


def test_mse_hand_value():
    """Is MSE the batch mean of the squared errors?"""
    # ((1 - 0)**2 + (3 - 1)**2) / 2 = (1 + 4) / 2 = 2.5
    assert losses.mse([[1.0], [3.0]], [[0.0], [1.0]]) == pytest.approx(2.5)
    # derivative 2 (p - t) / N = [2*1/2, 2*2/2] = [1, 2]
    assert_allclose(losses.mse_derivative([[1.0], [3.0]], [[0.0], [1.0]]), [[1.0], [2.0]])


def test_binary_cross_entropy_hand_value():
    """Is BCE -(1/N) sum [t log p + (1-t) log(1-p)]?"""
    # sample 1: t=1, p=0.5 -> -log 0.5 = ln 2;  sample 2: t=0, p=0.75 -> -log 0.25 = ln 4
    # mean: (ln 2 + ln 4) / 2 = 3 ln 2 / 2 = 1.0397207708...
    assert losses.binary_cross_entropy([[0.5], [0.75]], [[1.0], [0.0]]) == pytest.approx(
        1.0397207708399179)
    # derivative (p - t) / (p (1 - p)) / N: (0.5-1)/(0.25)/2 = -1;  0.75/(0.1875)/2 = 2
    assert_allclose(losses.binary_cross_entropy_derivative([[0.5], [0.75]], [[1.0], [0.0]]),
                    [[-1.0], [2.0]])


def test_softmax_cross_entropy_hand_value():
    """Is softmax cross-entropy -log of the true class's probability?"""
    # logits [0, ln 3] -> probabilities [1/4, 3/4]; true class 1 -> -ln(3/4) = 0.2876820724...
    assert losses.softmax_cross_entropy([[0.0, np.log(3.0)]], [[0.0, 1.0]]) == pytest.approx(
        0.2876820724517809)
    # gradient p - t = [1/4 - 0, 3/4 - 1] = [0.25, -0.25]
    assert_allclose(losses.softmax_cross_entropy_derivative([[0.0, np.log(3.0)]], [[0.0, 1.0]]),
                    [[0.25, -0.25]])


# ---------------------------------------------------------------- stability


def test_bce_at_exact_zero_and_one(capfd):
    """Are predictions of exactly 0 and 1 finite, right and silent?"""
    right = losses.binary_cross_entropy([[0.0], [1.0]], [[0.0], [1.0]])
    wrong = losses.binary_cross_entropy([[1.0], [0.0]], [[0.0], [1.0]])
    gradient = losses.binary_cross_entropy_derivative([[0.0], [1.0]], [[1.0], [0.0]])
    assert 0.0 <= right < 1e-12
    # clipped at eps = 2**-52: -log(eps) = 52 ln 2 = 36.04365338911715
    assert wrong == pytest.approx(36.04365338911715)
    assert np.all(np.isfinite(gradient))
    assert capfd.readouterr().err == ""


def test_sigmoid_cross_entropy_equals_bce_of_the_sigmoid_and_stays_exact():
    """Is the loss from logits the BCE of sigmoid(z) where both are exact, and exactly
    softplus(z) - y z (|z| for a wrong sign, ~0 for a right one) at |z| = 500?"""
    rng = np.random.default_rng(7)
    Z, T = rng.normal(scale=2.0, size=(6, 2)), rng.integers(0, 2, (6, 2)).astype(float)
    probabilities = 1.0 / (1.0 + np.exp(-Z))
    assert losses.sigmoid_cross_entropy(Z, T) == pytest.approx(
        losses.binary_cross_entropy(probabilities, T), rel=1e-12)
    assert losses.sigmoid_cross_entropy([[500.0], [-500.0]], [[0.0], [1.0]]) == 500.0
    assert losses.sigmoid_cross_entropy([[500.0], [-500.0]], [[1.0], [0.0]]) < 1e-200


def test_softmax_cross_entropy_of_huge_logits(capfd):
    """Does softmax cross-entropy stay finite for logits around 1e4?"""
    logits = np.array([[1e4, 1e4 - np.log(3.0)]])
    # softmax -> [3/4, 1/4]; class 1 is true: -ln(1/4) = ln 4 = 1.3862943611...
    assert losses.softmax_cross_entropy(logits, [[0.0, 1.0]]) == pytest.approx(1.3862943611198906)
    assert np.all(np.isfinite(losses.softmax_cross_entropy_derivative(logits, [[0.0, 1.0]])))
    assert capfd.readouterr().err == ""


# ---------------------------------------------------------------- derivatives


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_derivative_matches_numerical_gradient(name):
    """Does each loss derivative pass a numerical gradient check?"""
    rng = np.random.default_rng(0)
    loss = losses.get_loss(name)
    if name == "mse":
        output, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    elif name == "binary_cross_entropy":
        output, target = rng.uniform(0.05, 0.95, size=(5, 3)), rng.integers(0, 2, (5, 3))
    elif name == "sigmoid_cross_entropy":
        output, target = rng.normal(scale=3.0, size=(5, 3)), rng.integers(0, 2, (5, 3))
    else:
        output, target = rng.normal(size=(5, 3)), np.eye(3)[rng.integers(0, 3, 5)]
    numerical = numerical_gradient(lambda v: loss(v, target), output)
    check_gradient(loss.derivative(output, target), numerical, f"{name} derivative")



def test_the_folded_gradients_are_the_chain_rule_through_the_output_activation():
    """Are the gradients with respect to the logits (Exercises 4.6 and 4.8) the chain rule's
    products, the probabilities' gradient times the softmax's Jacobian or the sigmoid's slope,
    where those products are finite?"""
    rng = np.random.default_rng(8)
    Z = rng.normal(scale=2.0, size=(5, 4))
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Y = np.eye(4)[rng.integers(0, 4, 5)]
    dL_dP = -Y / P / 5  # the derivative of -(1/N) sum y log p with respect to each p
    # row i of the product: dL/dp_i times the Jacobian diag(p_i) - p_i p_i^T
    chain = np.stack([g @ (np.diag(p) - np.outer(p, p)) for g, p in zip(dL_dP, P)])
    assert_allclose(losses.softmax_cross_entropy_derivative(Z, Y), chain, rtol=1e-12, atol=1e-15)
    T = rng.integers(0, 2, (5, 4)).astype(float)
    S = 1.0 / (1.0 + np.exp(-Z))
    chain = losses.binary_cross_entropy_derivative(S, T) * S * (1.0 - S)
    assert_allclose(losses.sigmoid_cross_entropy_derivative(Z, T), chain, rtol=1e-12, atol=1e-15)


def test_the_folded_gradients_stay_exact_where_the_chain_rule_breaks(capfd):
    """Where the probabilities round to exactly 0 or 1, do the gradients with respect to the
    logits stay (p - y) / N, silently, while the product through the probabilities does not?"""
    Z = np.array([[40.0], [-40.0], [800.0], [-800.0]])
    T = np.array([[0.0], [1.0], [0.0], [1.0]])
    # sigmoid(40) and sigmoid(800) round to 1, sigmoid(-800) to 0: (p - y) / 4 = +-1/4
    assert_allclose(losses.sigmoid_cross_entropy_derivative(Z, T),
                    [[0.25], [-0.25], [0.25], [-0.25]], atol=1e-17)
    S = 1.0 / (1.0 + np.exp(-np.clip(Z, -700, 700)))
    through_p = losses.binary_cross_entropy_derivative(S, T) * S * (1.0 - S)
    assert through_p[0, 0] == 0.0  # the clipped product loses the gradient: exactly 0
    # softmax: the right class's probability e^-800 rounds to 0; p - y = [-1, 1, 0] / 2
    logits = np.array([[0.0, 800.0, -5.0], [-1000.0, 0.0, 0.0]])
    target = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert_allclose(losses.softmax_cross_entropy_derivative(logits, target),
                    [[-0.5, 0.5, 0.0], [-0.5, 0.25, 0.25]], atol=1e-17)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("name", ["mse_derivative", "binary_cross_entropy_derivative",
                                  "softmax_cross_entropy_derivative",
                                  "sigmoid_cross_entropy_derivative"])
def test_a_derivative_the_student_derives_keeps_its_contract_not_its_formula(name):
    """Does the docstring of a derivative the student derives (Exercises 4.2-4.8) give its
    shapes and the exercise, but not the result?"""
    doc = getattr(losses, name).__doc__
    assert "shape (N, C)" in doc and "Exercise 4." in doc and "you derive it" in doc
    for formula in ["/ N", "p - t", "- target", "(1 - p)", "cancel"]:
        assert formula not in doc, f"{name}'s docstring gives {formula!r} away"


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sigmoid_cross_entropy"])
def test_a_loss_the_student_derives_keeps_its_contract_not_its_form(name):
    """Does the docstring of a loss from the logits that the student derives (Exercises 4.5
    and 4.7) give its shapes and the exercise, but not the stable form?"""
    doc = getattr(losses, name).__doc__
    assert "shape (N, C)" in doc and "Exercise 4." in doc and "you derive it" in doc
    for form in [
            "softplus", "log-sum-exp", "sum_c", "exp(", "e^", " max(", "maximum", "log(1", "- t"]:
        assert form not in doc, f"{name}'s docstring gives {form!r} away"


# ---------------------------------------------------------------- properties

zero_one = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)),
                  elements=st.sampled_from([0.0, 1.0]))


@given(batch_pairs())
def test_mse_is_non_negative_and_zero_at_target(pair):
    """Is MSE >= 0, and exactly 0 when the prediction is the target?"""
    prediction, target = pair
    assert losses.mse(prediction, target) >= 0
    assert losses.mse(target, target) == 0.0


@given(zero_one, st.data())
def test_bce_is_non_negative_and_zero_at_target(target, data):
    """Is BCE >= 0 for any prediction, and ~0 when it equals a 0/1 target?"""
    prediction = data.draw(arrays(np.float64, target.shape, elements=st.floats(0.0, 1.0)))
    assert losses.binary_cross_entropy(prediction, target) >= 0
    assert losses.binary_cross_entropy(target, target) < 1e-12


@given(batches(), st.data())
def test_softmax_cross_entropy_is_non_negative_and_vanishes_at_target(logits, data):
    """Is softmax cross-entropy >= 0, and ~0 once the true logit leads by a wide margin?"""
    n, c = logits.shape
    classes = data.draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    target = np.eye(c)[classes]
    assert losses.softmax_cross_entropy(logits, target) >= 0
    # a lead of 50 leaves at most (C - 1) e^-50 ~ 6e-22 of probability elsewhere
    confident = 50.0 * target
    assert losses.softmax_cross_entropy(confident, target) < 1e-15


# ---------------------------------------------------------------- errors


def test_mismatched_shapes_name_both():
    """Does a shape mismatch name both shapes?"""
    message = r"prediction has shape \(2, 1\) but target has shape \(2, 2\)"
    with pytest.raises(ValueError, match=message):
        losses.mse([[1.0], [2.0]], [[1.0, 0.0], [0.0, 1.0]])


def test_bce_rejects_values_outside_zero_one():
    """Does BCE refuse a prediction that is not a probability?"""
    with pytest.raises(ValueError, match="must lie in \\[0, 1\\].*sigmoid"):
        losses.binary_cross_entropy([[1.5]], [[1.0]])


def test_unknown_loss_lists_known_names():
    """Does an unknown loss name get the list of known ones?"""
    with pytest.raises(ValueError, match="unknown loss 'cross_entropy'.*'binary_cross_entropy'"):
        losses.get_loss("cross_entropy")


def test_output_activations_follow_what_each_loss_needs():
    """Does MSE fit every activation, BCE those within [0, 1], and each cross-entropy from
    logits its own activation?"""
    assert losses.output_activations("mse") == list(ACTIVATIONS)
    # sigmoid and softmax output probabilities; tanh, leaky ReLU and identity go below 0,
    # ReLU and identity above 1
    fitting = losses.output_activations(losses.get_loss("binary_cross_entropy"))
    assert {"sigmoid", "softmax"} <= set(fitting)
    assert not {"tanh", "relu", "leaky_relu", "identity"} & set(fitting)
    assert losses.output_activations("softmax_cross_entropy") == ["softmax"]
    assert losses.output_activations("sigmoid_cross_entropy") == ["sigmoid"]
    with pytest.raises(ValueError, match="unknown loss 'bce'"):
        losses.output_activations("bce")


def test_a_newly_registered_activation_fits_by_its_output_range(monkeypatch):
    """Would a newly registered activation with outputs in [0, 1] be listed for BCE?"""
    hard_sigmoid = Activation("hard_sigmoid", lambda z: np.clip(z, 0.0, 1.0),
                              lambda z: ((z > 0) & (z < 1)).astype(float), (0.0, 1.0))
    monkeypatch.setitem(ACTIVATIONS, "hard_sigmoid", hard_sigmoid)
    assert "hard_sigmoid" in losses.output_activations("binary_cross_entropy")
    assert "hard_sigmoid" in losses.output_activations("mse")
    assert losses.output_activations("softmax_cross_entropy") == ["softmax"]
    assert losses.output_activations("sigmoid_cross_entropy") == ["sigmoid"]
    assert losses.get_loss("binary_cross_entropy").fits(hard_sigmoid)


def test_non_finite_prediction_is_reported():
    """Is a nan prediction reported by name?"""
    with pytest.raises(ValueError, match="prediction contains 1 non-finite"):
        losses.mse([[np.nan]], [[0.0]])


def test_inputs_are_not_mutated():
    """Do the losses leave their inputs unchanged?"""
    prediction, target = np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]])
    losses.binary_cross_entropy_derivative(prediction, target)
    losses.softmax_cross_entropy_derivative(prediction, target)
    assert prediction.tolist() == [[0.0, 1.0]] and target.tolist() == [[0.0, 1.0]]
