"""Tests for nnlib.training: the update step and the training loop."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nnlib import datasets, network
from nnlib.backprop import backpropagation
from nnlib.training import count_dead_units, gradient_descent_update, train_network


def test_gradient_descent_update_hand_worked():
    """Is the update w - lr * dL/dw, in new arrays?"""
    weights, biases = [np.array([[1.0, 2.0]])], [np.array([0.5])]
    gradients = ([np.array([[0.5, -1.0]])], [np.array([2.0])])
    new_w, new_b = gradient_descent_update(weights, biases, gradients, learning_rate=0.1)
    # 1 - 0.1*0.5 = 0.95;  2 - 0.1*(-1) = 2.1;  0.5 - 0.1*2 = 0.3
    assert_allclose(new_w[0], [[0.95, 2.1]])
    assert_allclose(new_b[0], [0.3])
    assert_array_equal(weights[0], [[1.0, 2.0]])  # the old ones are unchanged
    assert_array_equal(biases[0], [0.5])


def test_gradient_descent_update_errors():
    """Are a gradient of the wrong shape and a bad learning rate reported?"""
    weights, biases = [np.zeros((1, 2))], [np.zeros(1)]
    with pytest.raises(ValueError, match=r"dW of layer 1 has shape \(2, 1\) but the weights"):
        gradient_descent_update(weights, biases, ([np.zeros((2, 1))], [np.zeros(1)]), 0.1)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got -1"):
        gradient_descent_update(weights, biases, ([np.zeros((1, 2))], [np.zeros(1)]), -1)


def test_2_2_1_network_solves_xor():
    """Does a 2-2-1 network trained with train_network compute XOR?"""
    X, y = datasets.logic_gate("xor")
    result = train_network(X, y.reshape(-1, 1), [2, 2, 1], ["tanh", "sigmoid"],
                           loss="binary_cross_entropy", learning_rate=1.0, epochs=2000,
                           batch_size=None, seed=0)
    prediction = network.forward_pass(X, result.weights, result.biases, ["tanh", "sigmoid"])
    assert_array_equal((prediction[:, 0] > 0.5).astype(float), y)
    assert result.history[-1] < 0.05
    assert len(result.history) == 2000


def test_batch_size_one_is_the_notes_per_sample_loop():
    """Does batch_size=1 without shuffling reproduce the notes' TrainNeuralNetwork?"""
    X, y = datasets.logic_gate("or")
    Y = y.reshape(-1, 1)
    names = ["sigmoid", "sigmoid"]
    result = train_network(X, Y, [2, 3, 1], names, loss="mse", learning_rate=0.5, epochs=5,
                           batch_size=1, shuffle=False, seed=7)
    weights, biases = network.init_params([2, 3, 1], seed=7)
    for _ in range(5):
        for x, target in zip(X, Y):
            gradients = backpropagation(x[None, :], target[None, :], weights, biases, names,
                                        "mse")
            weights, biases = gradient_descent_update(weights, biases, gradients, 0.5)
    for trained, by_hand in zip(result.weights + result.biases, weights + biases):
        assert_allclose(trained, by_hand, rtol=1e-13)


def test_training_is_seeded_and_the_loss_falls():
    """Do two runs with one seed agree, and does the loss fall on moons?"""
    X, y = datasets.make_moons(n_samples=100, seed=0)
    kwargs = dict(layer_sizes=[2, 16, 1], activations=["tanh", "sigmoid"],
                  loss="binary_cross_entropy", learning_rate=1.0, epochs=100, seed=3)
    first = train_network(X, y.reshape(-1, 1), **kwargs)
    second = train_network(X, y.reshape(-1, 1), **kwargs)
    assert first.history == second.history
    assert first.history[-1] < 0.25 * first.history[0]


def test_start_weights_are_not_modified():
    """Does training from given weights leave those arrays untouched?"""
    weights, biases = network.init_params([2, 2, 1], seed=0)
    saved = [w.copy() for w in weights]
    X, y = datasets.logic_gate("and")
    train_network(X, y.reshape(-1, 1), [2, 2, 1], ["tanh", "sigmoid"], epochs=3,
                  weights=weights, biases=biases)
    for before, after in zip(saved, weights):
        assert_array_equal(before, after)


def test_progress_prints_and_calls_back(capsys):
    """Does progress=True print ten lines, and a callable see every epoch?"""
    X, y = datasets.logic_gate("and")
    train_network(X, y.reshape(-1, 1), [2, 1], ["sigmoid"], epochs=20, progress=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 11  # epoch 1, then every second epoch: 2, 4, ..., 20
    assert lines[-1].startswith("epoch 20/20  loss ")
    seen = []
    train_network(X, y.reshape(-1, 1), [2, 1], ["sigmoid"], epochs=4,
                  progress=lambda epoch, loss, w, b: seen.append((epoch, loss)))
    assert [epoch for epoch, _ in seen] == [0, 1, 2, 3]


def test_divergence_stops_with_a_clear_error(capfd):
    """Does a huge learning rate stop training with a hint instead of nan and warnings?"""
    X, y = datasets.make_moons(n_samples=50, seed=0)
    with pytest.raises(FloatingPointError, match="learning rate is probably too large"):
        train_network(X, 10 * y.reshape(-1, 1), [2, 16, 1], ["relu", "identity"],
                      learning_rate=50.0, epochs=50)
    assert capfd.readouterr().err == ""


def test_bad_arguments_are_reported():
    """Are mismatched sample counts and bad epochs named?"""
    X, y = datasets.logic_gate("and")
    with pytest.raises(ValueError, match=r"X has 4 samples \(shape \(4, 2\)\) but Y has 3"):
        train_network(X, y[:3].reshape(-1, 1), [2, 1], ["sigmoid"])
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        train_network(X, y.reshape(-1, 1), [2, 1], ["sigmoid"], epochs=0)


@pytest.mark.slow
def test_mlp_reaches_95_percent_on_held_out_digits():
    """Does a 64-32-10 MLP reach at least 95% accuracy on digits it never saw?"""
    X_train, X_test, y_train, y_test = datasets.load_digits(seed=0)
    names = ["relu", "softmax"]
    result = train_network(X_train, datasets.one_hot(y_train, 10), [64, 32, 10], names,
                           loss="softmax_cross_entropy", learning_rate=0.5, epochs=30,
                           batch_size=32, init="he", seed=0)
    predicted = network.forward_pass(X_test, result.weights, result.biases, names).argmax(axis=1)
    accuracy = np.mean(predicted == y_test)
    assert accuracy >= 0.95, f"held-out accuracy {accuracy:.3f} is below 0.95"


# ---------------------------------------------------------------- dead units


def test_count_dead_units_hand_worked():
    """Is a unit dead exactly when its activation is 0 for every sample?"""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    weights = [np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]]), np.array([[1.0, 1.0, 1.0]])]
    biases = [np.array([0.0, 0.5, 0.0]), np.array([0.0])]
    # unit 0: z = 1, 1, 2 (alive); unit 1: z = -0.5, -0.5, -1.5 (dead);
    # unit 2: z = 1, -1, 0: relu gives 1, 0, 0, zero for some samples only (alive)
    assert count_dead_units(X, weights, biases, ["relu", "sigmoid"]) == [1]
    # leaky relu gives -0.005, -0.005, -0.015 for unit 1: never exactly 0
    assert count_dead_units(X, weights, biases, ["leaky_relu", "sigmoid"]) == [0]


def test_count_dead_units_one_entry_per_hidden_layer():
    """Is there one count per hidden layer, and none for the output layer or a 1-layer net?"""
    X = np.array([[1.0], [2.0]])
    weights = [np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0], [0.0, 0.0], [-1.0, 0.0]]),
               np.array([[1.0, 1.0, 1.0]])]
    biases = [np.array([0.0, -1.0]), np.zeros(3), np.array([-10.0])]
    # layer 1: z = [1, -2], [2, -3] -> unit 1 dead; layer 2: z = [1, 0, -1], [2, 0, -2]
    # -> units 1 and 2 dead; the output (relu(z) = 0 for both samples) is not counted
    names = ["relu", "relu", "relu"]
    assert count_dead_units(X, weights, biases, names) == [1, 2]
    assert count_dead_units(X, weights[:1], biases[:1], ["relu"]) == []


def test_count_dead_units_after_too_large_a_learning_rate():
    """Does a too-large learning rate kill ReLU units that a small one leaves alive, and does
    the same training with leaky ReLU leave none dead?"""
    X, y = datasets.make_moons(n_samples=100, noise=0.2, seed=0)
    kwargs = dict(layer_sizes=[2, 16, 16, 1], loss="sigmoid_cross_entropy", epochs=10,
                  batch_size=16, init="he", seed=0)
    relu, leaky = ["relu", "relu", "sigmoid"], ["leaky_relu", "leaky_relu", "sigmoid"]
    gentle = train_network(X, y.reshape(-1, 1), activations=relu, learning_rate=0.05, **kwargs)
    harsh = train_network(X, y.reshape(-1, 1), activations=relu, learning_rate=3.0, **kwargs)
    spared = train_network(X, y.reshape(-1, 1), activations=leaky, learning_rate=3.0, **kwargs)
    # measured: [0, 2] (two units of layer 2 are dead from the start) and [10, 12]
    assert sum(count_dead_units(X, gentle.weights, gentle.biases, relu)) <= 3
    assert sum(count_dead_units(X, harsh.weights, harsh.biases, relu)) >= 15
    assert count_dead_units(X, spared.weights, spared.biases, leaky) == [0, 0]


def test_a_dead_unit_gets_no_gradient():
    """Are the gradients of a dead unit's incoming weights and bias exactly 0?"""
    X = np.array([[1.0], [2.0]])
    weights = [np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])]
    biases = [np.array([0.0, -1.0]), np.array([0.0])]
    assert count_dead_units(X, weights, biases, ["relu", "identity"]) == [1]
    dW, db = backpropagation(X, np.array([[3.0], [0.0]]), weights, biases,
                             ["relu", "identity"], "mse")
    assert dW[0][1, 0] == 0.0 and db[0][1] == 0.0
    assert dW[0][0, 0] != 0.0


def test_count_dead_units_does_not_mutate_and_reports_bad_shapes():
    """Are the inputs left alone, and a weight matrix that does not fit named?"""
    weights, biases = network.init_params([2, 3, 1], seed=0)
    X = np.array([[1.0, -1.0]])
    saved = [X.copy()] + [w.copy() for w in weights] + [b.copy() for b in biases]
    count_dead_units(X, weights, biases, ["relu", "sigmoid"])
    for before, after in zip(saved, [X] + weights + biases):
        assert_array_equal(before, after)
    with pytest.raises(ValueError, match="layer 1: weights have shape"):
        count_dead_units(np.zeros((1, 5)), weights, biases, ["relu", "sigmoid"])


# ---------------------------------------------------------------- checked once, at the door


def test_a_training_run_makes_each_batch_forward_pass_once(monkeypatch):
    """Do loss_value and backpropagation share one forward pass per batch inside a training
    run, while outside it every call computes?"""
    from nnlib import _checks

    calls = []

    @_checks.shared_forward
    def forward(X, weights, biases, activations):
        calls.append(1)
        return X @ weights[0].T + biases[0]

    X, weights, biases = np.ones((2, 3)), [np.ones((1, 3))], [np.zeros(1)]
    forward(X, weights, biases, ["identity"])
    forward(X, weights, biases, ["identity"])
    assert len(calls) == 2  # outside a checked run

    @_checks.checked_run
    def run():
        _checks.inputs_checked()
        first = forward(X, weights, biases, ["identity"])
        again = forward(X, weights, biases, ["identity"])
        other = forward(X, [np.ones((1, 3))], biases, ["identity"])  # equal, not the same
        return first, again, other

    first, again, other = run()
    assert len(calls) == 2 + 2 and again is first and other is not first
    forward(X, weights, biases, ["identity"])
    assert len(calls) == 5  # the run's state ended with it


def test_inside_a_run_float64_arrays_pass_unchecked_and_outside_checks_are_back():
    """Does a checked run skip scanning float64 arrays (and only those), copying them unless
    the caller asks to share them, and does its end, or a progress callback, bring the
    checks back?"""
    from nnlib import _checks

    bad = np.array([[np.nan, 1.0]])

    @_checks.checked_run
    def run():
        _checks.inputs_checked()
        copied = _checks.as_float_array(bad, "x")
        shared = _checks.as_float_array(bad, "x", shared=True)
        with pytest.raises(ValueError, match="x contains 1 non-finite"):
            _checks.with_checks(_checks.as_float_array, bad, "x")
        with pytest.raises(TypeError, match="x must be an array of numbers"):
            _checks.as_float_array("text", "x")
        return copied, shared

    copied, shared = run()
    assert shared is bad
    assert copied is not bad and np.array_equal(copied, bad, equal_nan=True)
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        _checks.as_float_array(bad, "x")
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        _checks.as_float_array(bad, "x", shared=True)
    good = np.array([[0.5, 1.0]])
    assert _checks.as_float_array(good, "x", shared=True) is good
    assert _checks.as_float_array(good, "x") is not good
    np.testing.assert_array_equal(_checks.as_float_array([[1, 2]], "x", shared=True), [[1.0, 2.0]])


def test_a_function_that_writes_into_its_copy_leaves_the_callers_array_alone_in_a_run():
    """Inside a checked run, does numerical_gradient (which nudges its copy of x in place)
    still leave the caller's x as it was?"""
    from nnlib import _checks, backprop, gradcheck

    original = [1.0, -2.0, 0.5]
    x = np.array(original)

    @_checks.checked_run
    def run(numerical_gradient):
        _checks.inputs_checked()
        nudged = []  # was the caller's x nudged while f ran?

        def f(v):
            nudged.append(not np.array_equal(x, original))
            return float(np.sum(v ** 2))

        return numerical_gradient(f, x), nudged

    for numerical_gradient in (backprop.numerical_gradient, gradcheck._numerical_gradient):
        grad, nudged = run(numerical_gradient)
        assert len(nudged) == 6 and not any(nudged), numerical_gradient.__module__
        np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)


def test_train_network_checks_its_inputs_at_the_door_and_a_callback_keeps_its_checks():
    """Is a non-finite X still refused, and does a progress callback that passes nnlib bad
    input still get the error?"""
    X, Y = datasets.logic_gate("xor")
    Y = Y.reshape(-1, 1)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains 1 non-finite"):
        train_network(bad, Y, [2, 2, 1], ["tanh", "identity"], epochs=1)

    def callback(epoch, loss, weights, biases):
        network.forward_pass(np.array([[np.inf, 0.0]]), weights, biases, ["tanh", "identity"])

    with pytest.raises(ValueError, match="X contains 1 non-finite"):
        train_network(X, Y, [2, 2, 1], ["tanh", "identity"], epochs=1, progress=callback)
