"""Tests for nnlib.activations: values, derivatives, stability, registry."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from strategies import batches, finite, float_arrays

from nnlib import activations as act
from nnlib.gradcheck import _numerical_gradient as numerical_gradient
from nnlib.gradcheck import check_derivative, check_gradient

ELEMENTWISE = [name for name, activation in act.ACTIVATIONS.items() if activation.elementwise]


# ---------------------------------------------------------------- hand-worked values


def test_sigmoid_hand_values():
    """Does sigmoid match values worked out by hand?"""
    # 1 / (1 + e^0) = 1/2;  1 / (1 + e^-ln3) = 1 / (1 + 1/3) = 3/4;  1 / (1 + e^ln3) = 1/4
    assert_allclose(act.sigmoid([0.0, np.log(3.0), -np.log(3.0)]), [0.5, 0.75, 0.25])


def test_sigmoid_derivative_hand_values():
    """Is sigmoid'(z) = s(1 - s) at the points worked out by hand?"""
    # s = 1/2 -> 1/2 * 1/2 = 0.25;  s = 3/4 -> 3/4 * 1/4 = 0.1875
    assert_allclose(act.sigmoid_derivative([0.0, np.log(3.0)]), [0.25, 0.1875])


def test_tanh_hand_values():
    """Does tanh match (e^z - e^-z) / (e^z + e^-z) worked out by hand?"""
    # z = ln 2: (2 - 1/2) / (2 + 1/2) = 1.5 / 2.5 = 0.6;  tanh'(ln 2) = 1 - 0.36 = 0.64
    assert_allclose(act.tanh([np.log(2.0)]), [0.6])
    assert_allclose(act.tanh_derivative([np.log(2.0)]), [0.64])


def test_relu_and_leaky_relu_hand_values():
    """Do ReLU and leaky ReLU keep positives and treat negatives as documented?"""
    z = [-2.0, 0.0, 3.0]
    assert_array_equal(act.relu(z), [0.0, 0.0, 3.0])
    # leaky: max(0.1 * -2, -2) = -0.2;  0 -> 0;  3 -> 3
    assert_allclose(act.leaky_relu(z, alpha=0.1), [-0.2, 0.0, 3.0])
    assert_array_equal(act.relu_derivative(z), [0.0, 0.0, 1.0])
    assert_allclose(act.leaky_relu_derivative(z, alpha=0.1), [0.1, 0.1, 1.0])


def test_softmax_hand_values():
    """Does softmax of [0, ln 3] give [1/4, 3/4]?"""
    # e^0 = 1, e^ln3 = 3, total 4 -> [1/4, 3/4]
    assert_allclose(act.softmax([[0.0, np.log(3.0)]]), [[0.25, 0.75]])


# ---------------------------------------------------------------- stability


def test_sigmoid_is_finite_at_plus_minus_1000(capfd):
    """Does sigmoid(+-1000) give 1 and 0 without overflow warnings on stderr?"""
    values = act.sigmoid([-1000.0, 1000.0])
    assert_array_equal(values, [0.0, 1.0])
    assert_array_equal(act.sigmoid_derivative([-1000.0, 1000.0]), [0.0, 0.0])
    assert capfd.readouterr().err == ""


def test_sigmoid_keeps_the_tiny_values_the_literal_formula_rounds_to_0():
    """Between z = -745 and z = -709.78, exp(-z) overflows but sigmoid(z) is still a (subnormal)
    float64: is each one right to 10 digits, against the formula in 28-digit decimals?"""
    z = np.array([-709.0, -710.0, -712.0, -715.0, -720.0])
    expected = [float(1 / (1 + (-Decimal(v)).exp())) for v in z.tolist()]   # 1.2e-308 ... 2.0e-313
    assert min(expected) > 0.0
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert_allclose(act.sigmoid(z), expected, rtol=1e-10, atol=0)


def test_softmax_of_huge_logits(capfd):
    """Does softmax of logits around 1e4 stay finite and correct?"""
    z = np.array([[1e4, 1e4 + np.log(3.0)], [-1e4, -1e4]])
    # shifting by the row max leaves [0, ln 3] and [0, 0]
    assert_allclose(act.softmax(z), [[0.25, 0.75], [0.5, 0.5]])
    assert capfd.readouterr().err == ""


# ---------------------------------------------------------------- derivatives


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_numerical_gradient(name):
    """Does every element-wise derivative pass a numerical gradient check?"""
    rng = np.random.default_rng(0)
    z = rng.uniform(-3, 3, size=(4, 5))
    z[np.abs(z) < 0.05] = 0.5  # stay clear of the kink of (leaky) ReLU
    activation = act.get_activation(name)
    check_derivative(activation.function, activation.derivative, z)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_leaky_relu_derivative_for_other_alphas(alpha):
    """Does the leaky ReLU derivative follow alpha?"""
    z = np.array([-1.5, -0.3, 0.4, 2.0])
    check_derivative(lambda v: act.leaky_relu(v, alpha),
                     lambda v: act.leaky_relu_derivative(v, alpha), z)


def test_softmax_backward_matches_numerical_gradient():
    """Is softmax_backward the product of the softmax Jacobian with dA?"""
    rng = np.random.default_rng(1)
    z, upstream = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    numerical = numerical_gradient(lambda v: np.sum(act.softmax(v) * upstream), z)
    check_gradient(act.softmax_backward(upstream, z), numerical, "softmax_backward")


# ---------------------------------------------------------------- properties


@given(float_arrays)
def test_ranges(z):
    """Does each activation stay in its documented range?"""
    s = act.sigmoid(z)
    assert np.all((s >= 0) & (s <= 1))
    t = act.tanh(z)
    assert np.all((t >= -1) & (t <= 1))
    assert np.all(act.relu(z) >= 0)
    assert np.all((act.sigmoid_derivative(z) >= 0) & (act.sigmoid_derivative(z) <= 0.25))
    assert np.all((act.tanh_derivative(z) >= 0) & (act.tanh_derivative(z) <= 1))


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
@given(z=batches())
def test_outputs_lie_in_the_declared_output_range(name, z):
    """Does every registered activation keep its outputs within its output_range?"""
    activation = act.get_activation(name)
    low, high = activation.output_range
    outputs = activation(z)
    assert np.all((outputs >= low) & (outputs <= high)), (name, outputs.min(), outputs.max())


@given(float_arrays)
def test_symmetries(z):
    """Is sigmoid(-z) = 1 - sigmoid(z), tanh odd, and relu(z) - relu(-z) = z?"""
    assert_allclose(act.sigmoid(-z), 1 - act.sigmoid(z), atol=1e-15)
    assert_allclose(act.tanh(-z), -act.tanh(z), atol=0)
    assert_allclose(act.relu(z) - act.relu(-z), z, atol=0)
    assert_allclose(act.sigmoid_derivative(-z), act.sigmoid_derivative(z), atol=1e-15)


@given(float_arrays, st.floats(min_value=0.0, max_value=0.99))
def test_monotone(z, alpha):
    """Are all four activations non-decreasing?"""
    ordered = np.sort(z.ravel())
    for values in (act.sigmoid(ordered), act.tanh(ordered), act.relu(ordered),
                   act.leaky_relu(ordered, alpha)):
        assert np.all(np.diff(values) >= 0)


@given(batches(), finite)
def test_softmax_rows_are_distributions(z, shift):
    """Do softmax rows sum to 1, and ignore a constant added to a row?"""
    p = act.softmax(z)
    assert np.all(p >= 0)
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(act.softmax(z + shift), p, atol=1e-12)


# ---------------------------------------------------------------- registry and input


def test_registry_has_every_activation():
    """Does the registry hold the four activations, identity and softmax?"""
    assert set(act.ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "identity",
                                    "softmax"}
    assert act.get_activation("tanh").function is act.tanh
    # softmax mixes a row: it alone has no entry-by-entry derivative
    assert [name for name, a in act.ACTIVATIONS.items() if not a.elementwise] == ["softmax"]


def test_unknown_activation_lists_known_names():
    """Does an unknown name get an error listing the valid ones?"""
    with pytest.raises(ValueError, match="unknown activation 'sigmod'.*'sigmoid'.*'tanh'"):
        act.get_activation("sigmod")


def test_non_finite_input_is_reported():
    """Is nan reported instead of silently propagated?"""
    with pytest.raises(ValueError, match="z contains 1 non-finite"):
        act.relu([1.0, np.nan])


def test_bad_alpha_is_reported():
    """Is a leaky ReLU slope outside [0, 1) rejected?"""
    with pytest.raises(ValueError, match="alpha must be a number in"):
        act.leaky_relu([1.0], alpha=1.5)


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_inputs_are_not_mutated_and_dtype_is_float64(name):
    """Does every activation leave its input alone and return float64?"""
    z = np.array([[-1.0, 0.5, 2.0]])
    before = z.copy()
    out = act.get_activation(name)(z)
    assert_array_equal(z, before)
    assert out.dtype == np.float64
    assert out is not z
    assert act.sigmoid([1, 2]).dtype == np.float64  # integers in, float64 out


@pytest.mark.parametrize(("name", "exercise"), [
    ("sigmoid_derivative", "2.2"), ("tanh_derivative", "2.4"), ("relu_derivative", "2.6"),
    ("leaky_relu_derivative", "2.8")])
def test_a_derivative_the_student_derives_names_its_exercise_not_its_formula(name, exercise):
    """Does the docstring of a derivative the student derives give the exercise and the shapes,
    but not the result (the student copy keeps docstrings)?"""
    doc = getattr(act, name).__doc__
    assert f"Exercise {exercise}, part a" in doc and "same shape as ``z``" in doc
    for formula in ["(1 - s", "1 - s)", "1 - t", "tanh(z)**2", "tanh(z) ** 2", "1 where",
                    "else alpha", "np.where", "s * ("]:
        assert formula not in doc, f"{name}'s docstring gives {formula!r} away"
