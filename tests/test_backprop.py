"""Tests for nnlib.backprop and nnlib.gradcheck."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from numpy.testing import assert_allclose

from nnlib import backprop, debugging, gradcheck, network, testing
from nnlib.activations import ACTIVATIONS
from nnlib.backprop import (
    backpropagation,
    layer_gradient_norms,
    loss_value,
    numerical_gradient,
    relative_error,
)
from nnlib.losses import LOSSES, output_activations

HIDDEN = [name for name, activation in ACTIVATIONS.items() if activation.elementwise]
# every loss with the output activations it fits
OUTPUTS = {loss: output_activations(loss) for loss in LOSSES}
DEPTHS = [1, 2, 3]


def make_problem(depth, hidden, output, loss, seed=0, n_samples=5, width=4, n_out=3):
    """A small random network and batch for a gradient check."""
    rng = np.random.default_rng(seed)
    sizes = [3] + [width] * (depth - 1) + [n_out]
    weights, _ = network.init_params(sizes, seed=seed)
    biases = [rng.normal(scale=0.5, size=n) for n in sizes[1:]]
    X = rng.normal(size=(n_samples, 3))
    if loss == "mse":
        Y = rng.normal(size=(n_samples, n_out))
    elif loss in ("binary_cross_entropy", "sigmoid_cross_entropy"):
        Y = rng.integers(0, 2, size=(n_samples, n_out)).astype(float)
    else:
        Y = np.eye(n_out)[rng.integers(0, n_out, size=n_samples)]
    return X, Y, weights, biases, [hidden] * (depth - 1) + [output]


CASES = [
    (depth, hidden, output, loss)
    for loss, outputs in OUTPUTS.items()
    for output, depth in itertools.product(outputs, DEPTHS)
    for hidden in (HIDDEN if depth > 1 else [None])
]


@pytest.mark.parametrize(("depth", "hidden", "output", "loss"), CASES)
def test_backpropagation_passes_gradient_check(depth, hidden, output, loss):
    """Does backpropagation agree with numerical gradients to 1e-7?"""
    X, Y, weights, biases, names = make_problem(depth, hidden, output, loss)
    error = gradcheck.check_backprop(X, Y, weights, biases, names, loss, tolerance=1e-7)
    assert error < 1e-7


def test_backprop_hand_worked_single_neuron():
    """Does a one-neuron network give the gradients worked out by hand?"""
    X, Y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    weights, biases = [np.array([[0.5, -0.5]])], [np.array([0.25])]
    # z = 0.5*1 - 0.5*2 + 0.25 = -0.25, identity: yhat = -0.25
    # mse gradient dL/dyhat = 2 (yhat - y) / N = 2 * (-1.25) = -2.5 = delta
    # dW = delta * x = [-2.5, -5.0];  db = -2.5
    dW, db = backpropagation(X, Y, weights, biases, ["identity"], "mse")
    assert_allclose(dW[0], [[-2.5, -5.0]])
    assert_allclose(db[0], [-2.5])


def test_backprop_is_the_mean_of_per_sample_gradients():
    """Is the batch gradient the average of the notes' per-sample gradients?"""
    X, Y, weights, biases, names = make_problem(3, "tanh", "sigmoid", "binary_cross_entropy",
                                                n_samples=6)
    dW, db = backpropagation(X, Y, weights, biases, names, "binary_cross_entropy")
    per_sample = [backpropagation(X[i:i + 1], Y[i:i + 1], weights, biases, names,
                                  "binary_cross_entropy") for i in range(6)]
    for layer in range(3):
        assert_allclose(dW[layer], np.mean([g[0][layer] for g in per_sample], axis=0))
        assert_allclose(db[layer], np.mean([g[1][layer] for g in per_sample], axis=0))


def test_gradient_shapes_match_parameters():
    """Does every gradient have the shape of the parameter it differentiates?"""
    X, Y, weights, biases, names = make_problem(3, "relu", "softmax", "softmax_cross_entropy")
    dW, db = backpropagation(X, Y, weights, biases, names, "softmax_cross_entropy")
    assert [g.shape for g in dW] == [w.shape for w in weights]
    assert [g.shape for g in db] == [b.shape for b in biases]


@pytest.mark.parametrize("z", [50.0, -50.0, 500.0, -500.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_sigmoid_cross_entropy_keeps_the_gradient_of_a_saturated_unit(z, y):
    """With the loss computed from the logits, is dL/dz = p - y even where the sigmoid has
    rounded to 0 or 1? (Through binary_cross_entropy it is 0 there: the clipped loss times a
    slope of exactly 0.)"""
    from nnlib.activations import sigmoid

    X, Y = np.array([[1.0]]), np.array([[y]])
    dW, db = backpropagation(X, Y, [np.array([[z]])], [np.zeros(1)], ["sigmoid"],
                             "sigmoid_cross_entropy")
    expected = sigmoid(np.array([[z]]))[0, 0] - y  # dz/dW = x = 1 and dz/db = 1
    assert abs(dW[0][0, 0] - expected) <= 1e-12 and abs(db[0][0] - expected) <= 1e-12


def test_softmax_cross_entropy_needs_a_softmax_output():
    """Is softmax cross-entropy with a sigmoid output refused with a clear message?"""
    X, Y, weights, biases, _ = make_problem(2, "relu", "softmax", "softmax_cross_entropy")
    with pytest.raises(ValueError, match="'softmax_cross_entropy' needs 'softmax'.*got 'sigmoid'"):
        backpropagation(X, Y, weights, biases, ["relu", "sigmoid"], "softmax_cross_entropy")


def test_binary_cross_entropy_needs_outputs_within_0_and_1():
    """Is binary cross-entropy with a tanh output refused, naming the activations that fit?"""
    X, Y, weights, biases, _ = make_problem(2, "relu", "sigmoid", "binary_cross_entropy")
    with pytest.raises(ValueError, match="'binary_cross_entropy' needs 'sigmoid' or 'softmax' "
                                         "as the output layer's activation, got 'tanh'"):
        backpropagation(X, Y, weights, biases, ["relu", "tanh"], "binary_cross_entropy")


def test_target_shape_must_match_output():
    """Does a target of the wrong shape name both shapes?"""
    X, Y, weights, biases, names = make_problem(2, "relu", "identity", "mse")
    with pytest.raises(ValueError, match=r"Y has shape \(5, 2\) but the network's output has "
                                         r"shape \(5, 3\)"):
        backpropagation(X, Y[:, :2], weights, biases, names, "mse")


# ---------------------------------------------------------------- Exercises 5.2 and 5.3

# moderate entries of any small shape, where central differences are accurate to ~1e-10
points = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=4),
                elements=st.floats(-3.0, 3.0, allow_nan=False))
SCALAR_FUNCTIONS = [testing.sum_of_squares, testing.sum_of_cubes, testing.log_sum_exp,
                    testing.coupled_sines]


def test_numerical_gradient_hand_worked():
    """Does the student's central difference of x0**2 + 3 x1 at (2, 5) give (4, 3)?"""
    # d/dx0 = 2 x0 = 4, d/dx1 = 3; for a quadratic, ((2 + h)^2 - (2 - h)^2) / 2h = 8h / 2h = 4
    grad = numerical_gradient(lambda x: x[0] ** 2 + 3 * x[1], [2.0, 5.0])
    assert_allclose(grad, [4.0, 3.0], rtol=1e-9)
    assert grad.dtype == np.float64


def test_numerical_gradient_is_central():
    """Is it the central difference, off by exactly h**2 for x**3, not a one-sided one?"""
    # (f(1 + h) - f(1 - h)) / 2h = (6h + 2h^3) / 2h = 3 + h^2; one-sided: 3 + 3h + h^2
    assert_allclose(numerical_gradient(testing.sum_of_cubes, [1.0], h=1e-3), [3.000001],
                    rtol=1e-9)


def test_numerical_gradient_does_not_mutate_and_keeps_the_shape():
    """Is x left as it was, and does the gradient of a (2, 3) x have shape (2, 3)?"""
    x = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    grad = numerical_gradient(testing.sum_of_squares, x)
    assert x.tolist() == [[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]
    assert_allclose(grad, 2 * x, rtol=1e-9, atol=1e-9)


def test_the_function_sees_one_nudged_entry_at_a_time():
    """Does every call of f see x with exactly one entry moved by h?"""
    x = np.array([1.0, 2.0, 3.0])
    seen = []
    numerical_gradient(lambda v: seen.append(v.copy()) or 0.0, x, h=0.5)
    moved = sorted(tuple(np.round(v - x, 12)) for v in seen)
    expected = sorted(tuple(s * 0.5 * np.eye(3)[i]) for i in range(3) for s in (1, -1))
    assert moved == expected


@settings(max_examples=40, deadline=None)
@given(points, st.sampled_from(SCALAR_FUNCTIONS))
def test_numerical_gradient_agrees_with_the_trusted_copy(x, function):
    """On random points and functions, is the student's gradient the grader's to 1e-9?"""
    ours = numerical_gradient(function, x)
    trusted = gradcheck._numerical_gradient(function, x)
    assert ours.shape == x.shape
    assert_allclose(ours, trusted, rtol=1e-9, atol=1e-9)


def test_relative_error_hand_worked():
    """Is the student's relative error ||a - b|| / (||a|| + ||b||), 0 for zeros, 1 for -a?"""
    # a = (3, 4), b = (3, 4.5): ||a - b|| = 0.5; ||a|| = 5, ||b|| = sqrt(29.25) = 5.408...
    assert relative_error([3.0, 4.0], [3.0, 4.5]) == pytest.approx(0.5 / (5.0 + np.sqrt(29.25)))
    assert relative_error(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0
    # ||a - (-a)|| = 2 ||a|| = ||a|| + ||-a||
    assert relative_error([[1.0, -2.0]], [[-1.0, 2.0]]) == pytest.approx(1.0)
    assert isinstance(relative_error([1.0], [2.0]), float)


def test_relative_error_refuses_mismatched_shapes():
    """Does comparing a (2,) with a (3,) array name both shapes?"""
    with pytest.raises(ValueError, match=r"shapes \(2,\) and \(3,\)"):
        relative_error([1.0, 2.0], [1.0, 2.0, 3.0])


pairs = array_shapes(min_dims=1, max_dims=3, max_side=4).flatmap(
    lambda shape: st.tuples(*[arrays(np.float64, shape, elements=st.floats(-1e3, 1e3))] * 2))


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_relative_error_is_symmetric_bounded_and_the_trusted_one(pair):
    """Is it symmetric, within [0, 1], and equal to the grader's copy?"""
    a, b = pair
    error = relative_error(a, b)
    assert 0.0 <= error <= 1.0 + 1e-12
    assert error == pytest.approx(relative_error(b, a), rel=1e-12, abs=1e-15)
    assert error == pytest.approx(gradcheck._relative_error(a, b), rel=1e-12, abs=1e-15)


def test_the_grader_never_uses_the_students_gradient_check(monkeypatch):
    """With the student's numerical_gradient and relative_error broken, do the grader's checks
    give the same verdicts? (They use gradcheck's private copies.)"""
    monkeypatch.setattr(backprop, "numerical_gradient", lambda f, x, h=1e-5: np.zeros(np.shape(x)))
    monkeypatch.setattr(backprop, "relative_error", lambda a, b: 0.0)
    X, Y, weights, biases, names = make_problem(2, "tanh", "identity", "mse")
    assert gradcheck.check_backprop(X, Y, weights, biases, names, "mse") < 1e-7
    x = np.array([1.0, -2.0])
    with pytest.raises(AssertionError, match="relative error"):
        testing.assert_gradient(4 * x, testing.sum_of_squares, x, "d(sum x^2), twice too large")


# ---------------------------------------------------------------- Exercise 5.10


def test_layer_gradient_norms_hand_worked():
    """Does the one-neuron network with dW = [[3, -1]] give [sqrt(10)]?"""
    # y_hat = [1.5, 1.5]; delta = 2 (y_hat - Y) / 2 = [[1.5], [0.5]]
    # dW = [[1.5 * 2 + 0.5 * 0, 1.5 * -1 + 0.5 * 1]] = [[3, -1]]; ||dW|| = sqrt(9 + 1)
    X, Y = np.array([[2.0, -1.0], [0.0, 1.0]]), np.array([[0.0], [1.0]])
    norms = layer_gradient_norms(X, Y, [np.array([[1.0, 1.0]])], [np.array([0.5])],
                                 ["identity"], "mse")
    assert norms.shape == (1,) and norms.dtype == np.float64
    assert_allclose(norms, [np.sqrt(10.0)])


def test_layer_gradient_norms_are_the_frobenius_norms_of_dW():
    """Is entry i the Frobenius norm of dW[i], layer by layer?"""
    X, Y, weights, biases, names = make_problem(3, "sigmoid", "softmax", "softmax_cross_entropy")
    dW, _ = backpropagation(X, Y, weights, biases, names, "softmax_cross_entropy")
    norms = layer_gradient_norms(X, Y, weights, biases, names, "softmax_cross_entropy")
    assert_allclose(norms, [np.sqrt(np.sum(g**2)) for g in dW])


def test_sigmoid_gradients_vanish_and_relu_ones_do_not():
    """In the notebook's seeded 10-layer networks, is the sigmoid's last-to-first ratio in the
    hundreds of thousands (the answer the notebook grades) while ReLU's stays small?"""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(200, 32)), rng.normal(size=(200, 1))
    ratios = {}
    for hidden, method in [("sigmoid", "xavier"), ("relu", "he")]:
        weights, biases = network.init_params([32] * 10 + [1], method=method, seed=1)
        norms = layer_gradient_norms(X, Y, weights, biases, [hidden] * 9 + ["identity"], "mse")
        ratios[hidden] = norms[-1] / norms[0]
    assert ratios["sigmoid"] == pytest.approx(630914.3, rel=1e-3)
    assert 0.2 < ratios["relu"] < 5.0


# ---------------------------------------------------------------- the grader's own checker


def test_trusted_numerical_gradient_hand_worked():
    """Does the grader's central difference of x0**2 + 3 x1 give [2 x0, 3]?"""
    # f(x) = x0^2 + 3 x1 at (2, 5): gradient (4, 3); central differences are exact for
    # quadratics up to rounding
    grad = gradcheck._numerical_gradient(lambda x: x[0] ** 2 + 3 * x[1], np.array([2.0, 5.0]))
    assert_allclose(grad, [4.0, 3.0], rtol=1e-9)


def test_trusted_numerical_gradient_does_not_mutate():
    """Is the point of evaluation left as it was?"""
    x = np.array([1.0, 2.0])
    gradcheck._numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    assert x.tolist() == [1.0, 2.0]


def test_trusted_relative_error_hand_worked():
    """Is the grader's relative error ||a - b|| / (||a|| + ||b||)?"""
    # a = (3, 4), b = (3, 4.5): ||a - b|| = 0.5; ||a|| = 5, ||b|| = sqrt(29.25) = 5.408...
    expected = 0.5 / (5.0 + np.sqrt(29.25))
    assert gradcheck._relative_error([3.0, 4.0], [3.0, 4.5]) == pytest.approx(expected)
    assert gradcheck._relative_error([0.0], [0.0]) == 0.0


def test_check_gradient_catches_a_wrong_factor():
    """Does the checker fail on a gradient off by a factor of 2, saying so?"""
    x = np.array([0.3, -1.2, 2.0])
    numerical = gradcheck._numerical_gradient(lambda v: float(np.sum(v ** 2)), x)
    with pytest.raises(AssertionError, match=r"relative error .* above 1e-07(.|\n)*expected "
                                             r"\(numerical\)(.|\n)*analytic / numerical is 2"):
        gradcheck.check_gradient(4 * x, numerical, "d(sum x^2)")


def test_check_backprop_catches_a_missing_derivative_factor():
    """Would a backprop that forgets f'(z) in the hidden layer fail the check?"""
    X, Y, weights, biases, names = make_problem(2, "tanh", "identity", "mse")
    dW, db = backpropagation(X, Y, weights, biases, names, "mse")
    # recompute layer 1's dW without the tanh derivative
    delta2 = 2 * (np.tanh(X @ weights[0].T + biases[0]) @ weights[1].T + biases[1] - Y) / len(X)
    wrong = (delta2 @ weights[1]).T @ X
    numerical = gradcheck._numerical_gradient(
        lambda W: _loss(X, Y, [W, weights[1]], biases, names), weights[0])
    gradcheck.check_gradient(dW[0], numerical, "correct dW1")
    with pytest.raises(AssertionError, match="dW1 without f'"):
        gradcheck.check_gradient(wrong, numerical, "dW1 without f'")


def _loss(X, Y, weights, biases, names):
    return loss_value(X, Y, weights, biases, names, "mse")


# ---------------------------------------------------------------- Exercise 5.5


@pytest.mark.parametrize(("output", "loss"), [(o, loss) for loss, outs in OUTPUTS.items()
                                               for o in outs])
def test_output_delta_is_the_gradient_of_the_loss_in_the_logits(output, loss):
    """For every loss and output activation it fits, is output_delta dL/dZ to 1e-7?"""
    from nnlib.activations import get_activation
    from nnlib.losses import get_loss

    rng = np.random.default_rng(55)
    activation, loss = get_activation(output), get_loss(loss)
    Z = rng.normal(scale=2.0, size=(5, 3))
    _, Y, *_ = make_problem(1, None, output, loss.name, n_out=3)
    delta = backprop.output_delta(activation(Z), Z, Y, activation, loss)
    folded = (lambda z: loss(z, Y)) if loss.takes_logits else (lambda z: loss(activation(z), Y))
    testing.assert_gradient(delta, folded, Z, f"output_delta({output}, {loss.name})")


def test_output_delta_hand_worked():
    """A sigmoid output with the MSE at z = 0, y = 1: is delta = -1 * 0.25?"""
    from nnlib.activations import get_activation
    from nnlib.losses import get_loss

    # a = 0.5; dL/da = 2 (0.5 - 1) / 1 = -1; sigmoid'(0) = 0.25
    got = backprop.output_delta([[0.5]], [[0.0]], [[1.0]], get_activation("sigmoid"),
                                get_loss("mse"))
    assert_allclose(got, [[-0.25]])


def test_output_delta_folds_a_saturated_sigmoid_to_p_minus_y():
    """At z = +-800, where sigma is exactly 1 or 0, is the folded delta p - y, not 0?"""
    from nnlib.activations import get_activation
    from nnlib.losses import get_loss

    got = backprop.output_delta([[1.0, 0.0]], [[800.0, -800.0]], [[0.0, 1.0]],
                                get_activation("sigmoid"), get_loss("sigmoid_cross_entropy"))
    assert_allclose(got, [[1.0, -1.0]], rtol=0, atol=1e-12)


# ---------------------------------------------------------------- Exercise 5.8


_dW_errors = gradcheck._dW_errors


def test_every_bug_of_the_menu_is_planted_and_the_names_do_not_give_them_away():
    """Is each bug of BUGS planted in some case, and are the cases dealt by a shuffle?"""
    planted = {bug for bug, _, _ in debugging._PLANTED.values()}
    assert planted == set(debugging.BUGS)
    assert sorted(debugging.CASES) == list("ABCDE")
    assert debugging._ORDER.tolist() != list(range(5))


def test_the_planted_bugs_show_where_the_notebook_says():
    """On the given network, is each case wrong exactly in the layers its bug reaches?"""
    network = debugging.debugging_network()
    wrong = {}
    for name, case in debugging.CASES.items():
        errors = _dW_errors(case, *network)
        wrong[debugging._PLANTED[name][1:]] = [
            i + 1 for i, e in enumerate(errors) if not e < 1e-7]
    assert wrong[(2, "back")] == [1, 2]          # f' at A in layer 2: layers 2 and 1
    assert wrong[(3, "back")] == [1, 2]          # W^(3) transposed in the step back
    assert wrong[(3, "dW")] == [3]               # dW^(3) transposed, nothing else
    assert wrong[(4, "delta")] in ([1, 2, 3, 4], [])  # missing 1/N; softmax passes here
    # the layer each hidden test grades: the highest failing one, here or with huge logits
    # (the softmax case fails only there, in every layer)
    shows_first = {("derivative at a", 2, "back"): 2, ("transposed product", 3, "back"): 2,
                   ("transposed product", 3, "dW"): 3, ("missing 1/N", 4, "delta"): 4,
                   ("softmax without the row maximum", 4, "delta"): 4}
    assert {name: debugging._shows_first(name) for name in debugging.CASES} == {
        name: shows_first[plant] for name, plant in debugging._PLANTED.items()}


def test_the_missing_mean_is_off_by_n_minus_1_over_n_plus_1():
    """Does the missing-1/N case give (N - 1)/(N + 1) in every layer, for N = 6 and 3?"""
    X, Y, *rest = debugging.debugging_network()
    case = next(c for n, c in debugging.CASES.items()
                if debugging._PLANTED[n][0] == "missing 1/N")
    assert_allclose(_dW_errors(case, X, Y, *rest), [5 / 7] * 4, rtol=1e-6)
    assert_allclose(_dW_errors(case, X[:3], Y[:3], *rest), [2 / 4] * 4, rtol=1e-6)


def test_the_naive_softmax_breaks_only_for_huge_logits():
    """Does the softmax case pass on the given network and give nan with logits in the
    thousands, where the reference still passes?"""
    X, Y, weights, biases, names, loss = debugging.debugging_network()
    case = next(c for n, c in debugging.CASES.items()
                if debugging._PLANTED[n][0].startswith("softmax"))
    assert max(_dW_errors(case, X, Y, weights, biases, names, loss)) < 1e-7
    huge = weights[:3] + [2000.0 * weights[3]]
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(_dW_errors(case, X, Y, huge, biases, names, loss)).all()
    assert max(_dW_errors(backpropagation, X, Y, huge, biases, names, loss)) < 1e-7


def test_derivative_at_a_vanishes_with_identity_units_and_transposition_does_not():
    """With identity hidden units (A = Z), is the f'-at-A case right and the transposed one not?"""
    X, Y, weights, biases, _, loss = debugging.debugging_network()
    linear = ["identity"] * 3 + ["softmax"]
    for name, case in debugging.CASES.items():
        bug = debugging._PLANTED[name][0]
        largest = max(_dW_errors(case, X, Y, weights, biases, linear, loss))
        if bug == "derivative at a":
            assert largest < 1e-7
        if bug == "transposed product":
            assert largest > 0.1


def test_relu_with_xavier_keeps_the_norms_level_but_small():
    """In the notebook's seeded 10-layer ReLU networks, do Xavier's norms stay within 10x of
    each other and all fall well below He's (the reading Exercise 5.11 grades)?"""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(200, 32)), rng.normal(size=(200, 1))
    norms = {}
    for method in ("xavier", "he"):
        weights, biases = network.init_params([32] * 10 + [1], method=method, seed=1)
        norms[method] = layer_gradient_norms(X, Y, weights, biases, ["relu"] * 9 + ["identity"],
                                             "mse")
    assert norms["xavier"].max() / norms["xavier"].min() < 10
    assert (norms["xavier"] < norms["he"] / 10).all()
