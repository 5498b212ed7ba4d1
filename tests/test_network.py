"""Tests for nnlib.network: initialization and the forward pass."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nnlib import network


def test_init_params_shapes_and_zero_biases():
    """Does init_params follow the (n_out, n_in) convention with zero biases?"""
    weights, biases = network.init_params([4, 3, 2], seed=0)
    assert [W.shape for W in weights] == [(3, 4), (2, 3)]
    assert [b.shape for b in biases] == [(3,), (2,)]
    assert all(np.all(b == 0) for b in biases)
    assert all(W.dtype == np.float64 for W in weights)


def test_init_params_is_seeded():
    """Does the same seed give the same weights, and another seed others?"""
    first, _ = network.init_params([5, 4, 1], seed=3)
    again, _ = network.init_params([5, 4, 1], seed=3)
    other, _ = network.init_params([5, 4, 1], seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize(("method", "expected_std"), [
    ("xavier", np.sqrt(2.0 / (400 + 100))),  # sqrt(2 / 500) = 0.0632...
    ("he", np.sqrt(2.0 / 400)),              # sqrt(2 / 400) = 0.0707...
])
def test_init_scale(method, expected_std):
    """Do Xavier and He draw weights with their standard deviations?"""
    weights, _ = network.init_params([400, 100], method=method, seed=0)
    # 40,000 draws: the sample std is within 2% of the true one
    assert weights[0].std() == pytest.approx(expected_std, rel=0.02)
    assert abs(weights[0].mean()) < 0.1 * expected_std


@pytest.mark.parametrize(("method", "sizes"), [("he", [300, 400]), ("he", [50, 400]),
                                             ("xavier", [300, 100]), ("xavier", [50, 400])])
def test_init_keeps_the_mean_square_as_exercise_3_1_derives(method, sizes):
    """Does a layer drawn by init_params multiply the mean square of a seeded signal by 1:
    forward through a ReLU with He, on average over forward and backward with Xavier?"""
    (W,), _ = network.init_params(sizes, method=method, seed=0)
    rng = np.random.default_rng(100)   # not the weights' seed: signals independent of them
    z_before = rng.normal(size=(2000, sizes[0]))
    if method == "he":
        factor = np.mean((np.maximum(z_before, 0.0) @ W.T) ** 2) / np.mean(z_before ** 2)
    else:
        d = rng.normal(size=(2000, sizes[1]))
        forward = np.mean((z_before @ W.T) ** 2) / np.mean(z_before ** 2)
        backward = np.mean((d @ W) ** 2) / np.mean(d ** 2)
        # 300 inputs, 100 outputs: forward 2 * 300 / 400 = 1.5, backward 2 * 100 / 400 = 0.5
        factor = (forward + backward) / 2
    # 400 or 100 rows of weights and 2,000 signals: a sampling error of 1% to 3%
    assert factor == pytest.approx(1.0, abs=0.1)


def test_init_params_errors():
    """Are bad layer sizes and unknown methods reported clearly?"""
    with pytest.raises(ValueError, match="at least two positive integers"):
        network.init_params([3])
    with pytest.raises(ValueError, match="at least two positive integers"):
        network.init_params([3, 0, 1])
    with pytest.raises(ValueError, match="unknown initialization method 'glorot'.*'he'.*'xavier'"):
        network.init_params([3, 1], method="glorot")


def test_forward_pass_hand_worked():
    """Does a 2-2-1 network compute what we work out by hand?"""
    X = np.array([[1.0, 2.0]])
    weights = [np.array([[1.0, -1.0], [0.5, 0.5]]), np.array([[2.0, -3.0]])]
    biases = [np.array([0.0, -1.0]), np.array([1.0])]
    # layer 1: z = [1 - 2 + 0, 0.5 + 1 - 1] = [-1, 0.5] -> relu -> [0, 0.5]
    # layer 2: z = 2*0 - 3*0.5 + 1 = -0.5 -> identity -> -0.5
    out = network.forward_pass(X, weights, biases, ["relu", "identity"])
    assert_allclose(out, [[-0.5]])


def test_forward_pass_is_row_by_row_the_notes_formula():
    """Is row i of the batch output the notes' per-sample W a + b for sample i?"""
    rng = np.random.default_rng(0)
    weights, biases = network.init_params([3, 4, 2], seed=1)
    biases = [rng.normal(size=b.shape) for b in biases]
    X = rng.normal(size=(6, 3))
    batch = network.forward_pass(X, weights, biases, ["tanh", "sigmoid"])
    for i, x in enumerate(X):
        a = np.tanh(weights[0] @ x + biases[0])
        a = 1 / (1 + np.exp(-(weights[1] @ a + biases[1])))
        assert_allclose(batch[i], a, rtol=1e-12)


def test_forward_pass_with_cache_matches_and_keeps_every_layer():
    """Does the cached pass return the same output and every Z and A by layer number?"""
    weights, biases = network.init_params([3, 5, 4, 2], seed=2)
    X = np.random.default_rng(3).normal(size=(7, 3))
    names = ["relu", "tanh", "softmax"]
    output, cache = network.forward_pass_with_cache(X, weights, biases, names)
    assert_allclose(output, network.forward_pass(X, weights, biases, names))
    assert [a.shape for a in cache.A] == [(7, 3), (7, 5), (7, 4), (7, 2)]
    assert cache.Z[0] is None
    assert [z.shape for z in cache.Z[1:]] == [(7, 5), (7, 4), (7, 2)]
    assert_array_equal(cache.A[0], X)
    assert_allclose(cache.A[1], np.maximum(cache.Z[1], 0))


def test_mismatched_layer_names_the_layer_and_both_shapes():
    """Does a weight matrix that does not fit name the layer and both shapes?"""
    weights, biases = network.init_params([3, 4, 2], seed=0)
    weights[1] = np.zeros((2, 5))
    message = r"layer 2: weights have shape \(2, 5\).*expects 5 inputs, but it receives 4"
    with pytest.raises(ValueError, match=message):
        network.forward_pass(np.zeros((1, 3)), weights, biases, ["relu", "identity"])
    with pytest.raises(ValueError, match=r"receives 6 \(from X of shape \(1, 6\)\)"):
        network.forward_pass(np.zeros((1, 6)), *network.init_params([3, 1]), ["relu"])


def test_bad_biases_and_counts_are_reported():
    """Are wrong bias shapes and missing activations reported?"""
    weights, biases = network.init_params([3, 2], seed=0)
    with pytest.raises(ValueError, match=r"layer 1: biases have shape \(3,\).*expected biases"):
        network.forward_pass(np.zeros((1, 3)), weights, [np.zeros(3)], ["relu"])
    with pytest.raises(ValueError, match="one activation per layer, got 1 weights, 1 biases "
                                         "and 2 activations"):
        network.forward_pass(np.zeros((1, 3)), weights, biases, ["relu", "relu"])
    with pytest.raises(ValueError, match="unknown activation 'rectifier'"):
        network.forward_pass(np.zeros((1, 3)), weights, biases, ["rectifier"])


def test_one_dimensional_input_gets_a_hint():
    """Does a single sample passed as a vector get the reshape hint?"""
    with pytest.raises(ValueError, match=r"X must be 2-D, got shape \(3,\).*reshape\(1, -1\)"):
        network.forward_pass(np.zeros(3), *network.init_params([3, 1]), ["relu"])


def test_non_finite_input_is_reported():
    """Is an inf in X reported instead of flowing through?"""
    with pytest.raises(ValueError, match="X contains 1 non-finite"):
        network.forward_pass([[np.inf, 0.0]], *network.init_params([2, 1]), ["sigmoid"])


def test_forward_pass_does_not_mutate_inputs():
    """Are X, the weights and the biases left as they were?"""
    weights, biases = network.init_params([2, 3, 1], seed=0)
    X = np.array([[1.0, -1.0]])
    saved = [X.copy()] + [w.copy() for w in weights] + [b.copy() for b in biases]
    network.forward_pass_with_cache(X, weights, biases, ["relu", "sigmoid"])
    for before, after in zip(saved, [X] + weights + biases):
        assert_array_equal(before, after)


# ---------------------------------------------------------------- what a network costs


@pytest.mark.parametrize(("sizes", "expected"), [
    ([2, 3, 1], 13),             # (3*2 + 3) + (1*3 + 1) = 9 + 4
    ([784, 128, 10], 101_770),   # (128*784 + 128) + (10*128 + 10) = 100,480 + 1,290
    ([5, 1], 6),                 # one unit: 5 weights and 1 bias
    ([1, 1, 1, 1], 6),           # three layers of one weight and one bias each
])
def test_count_parameters_hand_worked(sizes, expected):
    """Does count_parameters add n_in * n_out weights and n_out biases per layer?"""
    assert network.count_parameters(sizes) == expected
    assert isinstance(network.count_parameters(sizes), int)


def test_count_parameters_matches_init_params():
    """Is the count the number of entries init_params creates?"""
    for sizes in ([3, 4, 2], [64, 32, 32, 10], [2, 7, 1]):
        weights, biases = network.init_params(sizes)
        assert network.count_parameters(sizes) == sum(W.size + b.size
                                                      for W, b in zip(weights, biases))


@pytest.mark.parametrize(("sizes", "n_samples", "expected"), [
    ([2, 3, 1], 1, 9),                 # 2*3 + 3*1 = 6 + 3
    ([2, 3, 1], 10, 90),               # ten samples: 10 * 9
    ([64, 128, 128, 10], 1, 25_856),   # 64*128 + 128*128 + 128*10 = 8,192 + 16,384 + 1,280
    ([4, 5, 3, 2], 6, 246),            # 6 * (4*5 + 5*3 + 3*2) = 6 * (20 + 15 + 6) = 6 * 41
])
def test_multiply_adds_hand_worked(sizes, n_samples, expected):
    """Does multiply_adds count n_in * n_out per layer and sample, biases not included?"""
    got = network.multiply_adds(sizes, n_samples=n_samples)
    assert got == expected
    assert isinstance(got, int)


def test_multiply_adds_is_quadratic_in_width_between_hidden_layers():
    """Does doubling the width of two neighbouring hidden layers quadruple their product?"""
    narrow = network.multiply_adds([1, 100, 100, 1])   # 100 + 10,000 + 100
    wide = network.multiply_adds([1, 200, 200, 1])     # 200 + 40,000 + 200
    assert (narrow, wide) == (10_200, 40_400)


def test_costs_reject_bad_sizes():
    """Are bad layer sizes and a bad sample count reported like init_params reports them?"""
    for function in (network.count_parameters, network.multiply_adds):
        with pytest.raises(ValueError, match="at least two positive integers"):
            function([3])
        with pytest.raises(ValueError, match="at least two positive integers"):
            function([3, 0, 1])
    with pytest.raises(ValueError, match="n_samples must be a positive integer, got 0"):
        network.multiply_adds([2, 1], n_samples=0)


def test_forward_pass_loop_is_the_notes_formula_and_agrees_with_the_batch():
    """Does the provided per-sample loop give, row by row, what forward_pass gives?"""
    rng = np.random.default_rng(4)
    weights, biases = network.init_params([3, 5, 4, 2], seed=5)
    biases = [rng.normal(size=b.shape) for b in biases]
    X = rng.normal(size=(6, 3))
    names = ["relu", "tanh", "softmax"]
    looped = network.forward_pass_loop(X, weights, biases, names)
    assert looped.shape == (6, 2) and looped.dtype == np.float64
    assert_allclose(looped, network.forward_pass(X, weights, biases, names), rtol=1e-12)
    # the hand-worked example of Exercise 3.2: relu hidden layer, identity output
    # sample 1: z1 = [2 - 2 + 0.5, -2 - 0.5 + 1] = [0.5, -1.5] -> [0.5, 0] -> 4 * 0.5 - 1 = 1
    # sample 2: z1 = [0 + 2 + 0.5, 0 + 0.5 + 1] = [2.5, 1.5] -> 4 * 2.5 - 2 * 1.5 - 1 = 6
    out = network.forward_pass_loop([[2.0, -1.0], [0.0, 1.0]],
                                    [np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([[4.0, -2.0]])],
                                    [np.array([0.5, 1.0]), np.array([-1.0])],
                                    ["relu", "identity"])
    assert_array_equal(out, [[1.0], [6.0]])
