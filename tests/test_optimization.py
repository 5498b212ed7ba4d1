"""Tests for nnlib.optimization: optimizers, schedules, regularization, batch normalization,
early stopping and the training loop that puts them together (notebook 8)."""

import inspect
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from strategies import batches, finite

from nnlib import datasets, network
from nnlib import optimization as opt
from nnlib.activations import get_activation
from nnlib.backprop import backpropagation, loss_value
from nnlib.gradcheck import _numerical_gradient as numerical_gradient
from nnlib.gradcheck import check_gradient
from nnlib.losses import get_loss
from nnlib.training import gradient_descent_update

# The parameters every optimizer takes before its options (the registry lists the rest).
COMMON_PARAMETERS = ["weights", "biases", "gradients", "state", "learning_rate"]


def one_weight(w=1.0, b=0.0):
    """A one-layer network with one input, one output: ``[[w]]`` and ``[b]``."""
    return [np.array([[w]])], [np.array([b])]


def gradient_of(dw, db=0.0):
    """The gradients of ``one_weight``'s parameters, as backpropagation returns them."""
    return [np.array([[dw]])], [np.array([db])]


def small_problem(seed=0):
    """Two layers' parameters and gradients of matching shapes, drawn at random."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(3, 2)), rng.normal(size=(1, 3))]
    biases = [rng.normal(size=3), rng.normal(size=1)]
    gradients = ([rng.normal(size=w.shape) for w in weights],
                 [rng.normal(size=b.shape) for b in biases])
    return weights, biases, gradients


def copies(arrays_):
    """New arrays equal to the given ones, to compare with after a call."""
    return [np.array(a, copy=True) for a in arrays_]


# ---------------------------------------------------------------- optimizer state


def test_init_state_is_zeros_shaped_like_the_parameters_at_step_0():
    """Does init_state give zero velocities and squares shaped like each parameter, step 0?"""
    weights, biases, _ = small_problem()
    state = opt.init_state(weights, biases)
    assert state.step == 0
    for pair in (state.velocity, state.squares):
        assert [v.shape for v in pair[0]] == [(3, 2), (1, 3)]
        assert [v.shape for v in pair[1]] == [(3,), (1,)]
        for v in pair[0] + pair[1]:
            assert_array_equal(v, 0.0)


# ---------------------------------------------------------------- optimizers


def test_momentum_update_hand_worked_two_steps():
    """Does momentum follow the docstring's example: velocity 1, then 1.9?"""
    weights, biases = one_weight(1.0, 0.5)
    state = opt.init_state(weights, biases)
    gradients = gradient_of(1.0, -2.0)
    weights, biases, state = opt.momentum_update(weights, biases, gradients, state, 0.1,
                                                 momentum=0.9)
    # v = 0.9*0 + 1 = 1: w = 1 - 0.1*1 = 0.9;  v_b = -2: b = 0.5 + 0.2 = 0.7
    assert_allclose(state.velocity[0][0], [[1.0]], rtol=1e-12)
    assert_allclose(weights[0], [[0.9]], rtol=1e-12)
    assert_allclose(biases[0], [0.7], rtol=1e-12)
    weights, biases, state = opt.momentum_update(weights, biases, gradients, state, 0.1,
                                                 momentum=0.9)
    # v = 0.9*1 + 1 = 1.9: w = 0.9 - 0.19 = 0.71;  v_b = 0.9*(-2) - 2 = -3.8: b = 0.7 + 0.38
    assert_allclose(state.velocity[0][0], [[1.9]], rtol=1e-12)
    assert_allclose(state.velocity[1][0], [-3.8], rtol=1e-12)
    assert_allclose(weights[0], [[0.71]], rtol=1e-12)
    assert_allclose(biases[0], [1.08], rtol=1e-12)
    assert state.step == 2


def test_momentum_0_is_gradient_descent():
    """With momentum=0, is the step gradient_descent_update's, whatever the old velocity?"""
    weights, biases, gradients = small_problem()
    state = opt.momentum_update(weights, biases, gradients, opt.init_state(weights, biases),
                                0.1).state  # a non-zero velocity, which momentum=0 must ignore
    new_weights, new_biases, _ = opt.momentum_update(weights, biases, gradients, state, 0.3,
                                                     momentum=0.0)
    expected_weights, expected_biases = gradient_descent_update(weights, biases, gradients, 0.3)
    for got, expected in zip(new_weights + new_biases, expected_weights + expected_biases):
        assert_array_equal(got, expected)


def test_momentum_passes_the_squares_on_unchanged():
    """Does momentum leave state.squares as it found them (they are RMSProp's)?"""
    weights, biases, gradients = small_problem()
    state = opt.rmsprop_update(weights, biases, gradients, opt.init_state(weights, biases),
                               0.1).state
    new = opt.momentum_update(weights, biases, gradients, state, 0.1).state
    for got, before in zip(new.squares[0] + new.squares[1], state.squares[0] + state.squares[1]):
        assert_array_equal(got, before)


@pytest.mark.parametrize(("momentum", "stable_rate", "unstable_rate"),
                         [(0.9, 0.29, 0.31), (0.5, 0.23, 0.24), (0.0, 0.15, 0.16)])
def test_heavy_ball_is_stable_below_2_times_1_plus_momentum(momentum, stable_rate,
                                                             unstable_rate):
    """On f(w) = lam/2 w^2, does the heavy ball converge for lr*lam < 2(1 + momentum) and
    diverge just above?"""
    lam = 12.81
    # the bound on the rate is 2(1 + mu) / lam: 3.8/12.81 = 0.2966 (mu 0.9), 3/12.81 = 0.2342
    # (mu 0.5), 2/12.81 = 0.1561 (mu 0, plain gradient descent). Below it, the roots of
    # z^2 - (1 + mu - lr lam) z + mu lie inside the unit circle (largest 0.949, 0.875, 0.922);
    # above it, one lies beyond -1 (-1.451, -1.133, -1.050): 200 steps multiply w by at least
    # 1.05^200 ~ 1.7e4.
    for rate, converges in ((stable_rate, True), (unstable_rate, False)):
        assert (rate * lam < 2 * (1 + momentum)) == converges
        weights, biases = one_weight(1.0)
        state = opt.init_state(weights, biases)
        for _ in range(200):
            gradients = gradient_of(lam * weights[0][0, 0])
            weights, biases, state = opt.momentum_update(weights, biases, gradients, state,
                                                         rate, momentum=momentum)
        final = abs(weights[0][0, 0])
        assert (final < 1e-3) if converges else (final > 1e3), (rate, final)


def test_rmsprop_update_hand_worked_two_steps():
    """Does RMSProp's first step follow the docstring (s = 0.1 g^2), and its second too?"""
    weights, biases = one_weight(1.0, 0.5)
    state = opt.init_state(weights, biases)
    weights, biases, state = opt.rmsprop_update(weights, biases, gradient_of(2.0, 0.0), state,
                                                0.01, decay=0.9)
    # s = 0.1 * 2^2 = 0.4;  step = 0.01 * 2 / sqrt(0.4) = 0.01 * sqrt(10) = 0.0316227766
    # (eps = 1e-8 changes it by 5e-10); the bias: g = 0 and s = 0, step 0 / (0 + eps) = 0
    assert_allclose(state.squares[0][0], [[0.4]], rtol=1e-12)
    assert_allclose(weights[0], [[1.0 - 0.0316227766]], rtol=1e-9)
    assert_array_equal(biases[0], [0.5])
    weights, biases, state = opt.rmsprop_update(weights, biases, gradient_of(1.0, 0.0), state,
                                                0.01, decay=0.9)
    # s = 0.9 * 0.4 + 0.1 * 1 = 0.46;  step = 0.01 / sqrt(0.46) = 0.01 * 1.474419562
    assert_allclose(state.squares[0][0], [[0.46]], rtol=1e-12)
    assert_allclose(weights[0], [[1.0 - 0.0316227766 - 0.01474419562]], rtol=1e-9)
    assert state.step == 2


# gradient entries of either sign, big enough (>= 1e-2) that eps = 1e-8 hardly counts
nonzero_gradients = arrays(np.float64, (2, 3), elements=st.one_of(
    st.floats(-1e2, -1e-2), st.floats(1e-2, 1e2)))


@given(nonzero_gradients, st.floats(0.1, 10.0))
def test_rmsprop_first_step_does_not_depend_on_the_gradients_scale(dW, c):
    """Does multiplying every gradient by c > 0 leave RMSProp's first step (nearly) as it was?"""
    weights, biases = [np.zeros((2, 3))], [np.zeros(2)]
    state = opt.init_state(weights, biases)
    db = np.array([1.0, -1.0])
    plain = opt.rmsprop_update(weights, biases, ([dW], [db]), state, 0.1)
    scaled = opt.rmsprop_update(weights, biases, ([c * dW], [c * db]), state, 0.1)
    # each step is 0.1 g / (sqrt(0.1) |g| + eps): 0.1 sign(g) / sqrt(0.1) up to eps / (0.3 c|g|),
    # at most 1e-8 / 3e-4 ~ 3e-5 here
    assert_allclose(scaled.weights[0], plain.weights[0], rtol=1e-4)
    assert_allclose(plain.weights[0], -np.sign(dW) * math.sqrt(0.1), rtol=1e-4)


def test_rmsprop_passes_the_velocity_on_unchanged():
    """Does RMSProp leave state.velocity as it found it (it is momentum's)?"""
    weights, biases, gradients = small_problem()
    state = opt.momentum_update(weights, biases, gradients, opt.init_state(weights, biases),
                                0.1).state
    new = opt.rmsprop_update(weights, biases, gradients, state, 0.1).state
    for got, before in zip(new.velocity[0] + new.velocity[1],
                           state.velocity[0] + state.velocity[1]):
        assert_array_equal(got, before)


def test_adam_update_hand_worked_two_steps():
    """Does Adam's first step move by about lr, and its second match the hand arithmetic?"""
    weights, biases = one_weight(1.0, 0.0)
    state = opt.init_state(weights, biases)
    weights, biases, state = opt.adam_update(weights, biases, gradient_of(2.0, -0.001), state,
                                             0.1)
    # m = 0.1 * 2 = 0.2, v = 0.001 * 4 = 0.004; m_hat = 0.2 / 0.1 = 2, v_hat = 0.004 / 0.001 = 4
    # step = 0.1 * 2 / (2 + 1e-8) = 0.1 up to 5e-10: w = 0.9. The bias's gradient is 2000 times
    # smaller and moves it as far: step = 0.1 * 0.001 / (0.001 + 1e-8) = 0.1 / 1.00001
    assert_allclose(state.velocity[0][0], [[0.2]], rtol=1e-12)
    assert_allclose(state.squares[0][0], [[0.004]], rtol=1e-12)
    assert_allclose(weights[0], [[0.9]], rtol=1e-8)
    assert_allclose(biases[0], [0.1 / 1.00001], rtol=1e-8)
    assert state.step == 1
    weights, biases, state = opt.adam_update(weights, biases, gradient_of(1.0, -0.001), state,
                                             0.1)
    # m = 0.9 * 0.2 + 0.1 * 1 = 0.28,  v = 0.999 * 0.004 + 0.001 * 1 = 0.004996
    # m_hat = 0.28 / (1 - 0.81) = 1.473684211,  v_hat = 0.004996 / (1 - 0.998001) = 2.499249625
    # step = 0.1 * 1.473684211 / sqrt(2.499249625) = 0.1 * 1.473684211 / 1.580901523
    #      = 0.1 * 0.9321796388:  w = 0.9 - 0.09321796388 = 0.80678203612
    assert_allclose(state.velocity[0][0], [[0.28]], rtol=1e-12)
    assert_allclose(state.squares[0][0], [[0.004996]], rtol=1e-12)
    assert_allclose(weights[0], [[0.80678203612]], rtol=1e-8)
    assert state.step == 2


def test_adam_bias_correction_makes_the_first_step_lr_not_3_16_lr():
    """Is the first step corrected? Uncorrected, m / sqrt(v) would be (1 - b1) / sqrt(1 - b2)
    = 0.1 / sqrt(0.001) = 3.162 times larger."""
    weights, biases = one_weight(0.0, 0.0)
    state = opt.init_state(weights, biases)
    new = opt.adam_update(weights, biases, gradient_of(5.0, 0.0), state, 0.01)
    m, v = new.state.velocity[0][0][0, 0], new.state.squares[0][0][0, 0]
    # m = 0.1 * 5 = 0.5, v = 0.001 * 25 = 0.025: uncorrected, 0.01 * 0.5 / sqrt(0.025) = 0.0316
    uncorrected = 0.01 * m / math.sqrt(v)
    assert uncorrected == pytest.approx(0.0316227766, rel=1e-9)
    # corrected: 0.01 * 5 / (5 + 1e-8), that is 0.01 up to 2e-11
    assert -new.weights[0][0, 0] == pytest.approx(0.01, rel=1e-8)


@given(nonzero_gradients)
def test_adam_first_step_is_lr_times_the_sign_of_the_gradient(dW):
    """From a zero state, does every entry move by about lr against its gradient's sign?"""
    weights, biases = [np.zeros((2, 3))], [np.zeros(2)]
    new = opt.adam_update(weights, biases, ([dW], [np.zeros(2)]), opt.init_state(weights, biases),
                          0.05)
    # 0.05 g / (|g| + eps) = 0.05 sign(g) / (1 + eps / |g|), eps / |g| <= 1e-6 here
    assert_allclose(new.weights[0], -0.05 * np.sign(dW), rtol=1e-6)
    assert_array_equal(new.biases[0], 0.0)  # a zero gradient does not move, and is not nan


def test_adam_weight_decay_is_decoupled_and_spares_the_biases():
    """Does weight_decay subtract lr * wd * W from the weights only, leaving Adam's moments and
    the biases as plain Adam has them? And is weight_decay=0 plain Adam?"""
    weights, biases = [np.array([[3.0, -2.0]])], [np.array([1.0])]
    gradients = ([np.array([[0.5, 4.0]])], [np.array([-1.0])])
    state = opt.init_state(weights, biases)
    plain = opt.adam_update(weights, biases, gradients, state, 0.1)
    decayed = opt.adam_update(weights, biases, gradients, state, 0.1, weight_decay=0.1)
    zero = opt.adam_update(weights, biases, gradients, state, 0.1, weight_decay=0)
    # lr * wd * W = 0.1 * 0.1 * [3, -2] = [0.03, -0.02], taken from the weights before the step
    assert_allclose(plain.weights[0] - decayed.weights[0], [[0.03, -0.02]], rtol=1e-9)
    assert_array_equal(decayed.biases[0], plain.biases[0])
    # decoupled: the decay does not pass through m and v (it is not added to the gradient)
    for got, expected in zip(decayed.state.velocity[0] + decayed.state.squares[0],
                             plain.state.velocity[0] + plain.state.squares[0]):
        assert_array_equal(got, expected)
    assert_array_equal(zero.weights[0], plain.weights[0])
    assert_array_equal(zero.biases[0], plain.biases[0])


@pytest.mark.parametrize("name", list(opt.OPTIMIZERS))
def test_every_optimizer_leaves_its_inputs_alone_and_counts_its_steps(name):
    """Does every optimizer return new arrays, leaving weights, biases, gradients and state
    as they were, with the new state's step one more?"""
    update = opt.OPTIMIZERS[name].update
    weights, biases, gradients = small_problem()
    state = update(weights, biases, gradients, opt.init_state(weights, biases), 0.1).state
    assert state.step == 1
    before = [copies(weights), copies(biases), copies(gradients[0]), copies(gradients[1])]
    before += [copies(part) for pair in (state.velocity, state.squares) for part in pair]
    new = update(weights, biases, gradients, state, 0.1)
    after = [weights, biases, gradients[0], gradients[1]]
    after += [part for pair in (state.velocity, state.squares) for part in pair]
    for saved, now in zip(before, after):
        for a, b in zip(saved, now):
            assert_array_equal(a, b)
    assert new.state.step == 2 and state.step == 1
    assert not any(np.shares_memory(a, b) for a in new.weights for b in weights)


def test_an_optimizer_refuses_a_state_that_is_not_an_optimizer_state():
    """Is a state that is not an OptimizerState refused, pointing to init_state?"""
    weights, biases, gradients = small_problem()
    with pytest.raises(TypeError, match=r"start with init_state\(weights, biases\)"):
        opt.adam_update(weights, biases, gradients, None, 0.1)


# ---------------------------------------------------------------- the registry


def other_values(optimizer):
    """Each of the optimizer's options at half its default (0.01 where the default is 0)."""
    parameters = inspect.signature(optimizer.update).parameters
    return {option: parameters[option].default / 2 or 0.01 for option in optimizer.options}


def test_get_optimizer_names_the_known_optimizers():
    """Does an unknown optimizer's error list every known one, and a known name come back?"""
    with pytest.raises(ValueError, match="unknown optimizer 'nesterov'") as error:
        opt.get_optimizer("nesterov")
    for name in opt.OPTIMIZERS:
        assert repr(name) in str(error.value)
        assert opt.get_optimizer(name) is opt.OPTIMIZERS[name]
    adam = opt.OPTIMIZERS["adam"]
    assert opt.get_optimizer(adam) is adam
    with pytest.raises(ValueError, match="unknown optimizer 3"):
        opt.get_optimizer(3)


@pytest.mark.parametrize("name", list(opt.OPTIMIZERS))
def test_every_optimizer_takes_exactly_its_listed_options(name):
    """Are an optimizer's listed options exactly its update's keyword parameters, and does each
    one change the step?"""
    optimizer = opt.OPTIMIZERS[name]
    parameters = inspect.signature(optimizer.update).parameters
    assert list(parameters)[:5] == COMMON_PARAMETERS
    assert tuple(list(parameters)[5:]) == optimizer.options
    weights, biases, gradients = small_problem()
    # a second step: from a zero state, neither momentum nor beta1 changes the first one
    state = optimizer.update(weights, biases, gradients, opt.init_state(weights, biases),
                             0.1).state
    default = optimizer.update(weights, biases, gradients, state, 0.1)
    for option, value in other_values(optimizer).items():
        changed = optimizer.update(weights, biases, gradients, state, 0.1, **{option: value})
        assert not np.array_equal(changed.weights[0], default.weights[0]), option


# ---------------------------------------------------------------- learning-rate schedules


def test_step_schedule_docstring_example():
    """With base 0.1, drop 0.5 every 10: 0.1 for steps 0-9, 0.05 for 10-19, 0.025 from 20?"""
    rates = [opt.step_schedule(step, 0.1, drop=0.5, every=10) for step in (0, 9, 10, 19, 20, 29)]
    assert_allclose(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], rtol=1e-12)


def test_cosine_schedule_docstring_example():
    """base 1, 12 steps, 2 of warm-up: 0.5, 1.0, then 1.0 at the top, 0.5 at step 7, 0 at 12?"""
    rates = [opt.cosine_schedule(step, 1.0, total_steps=12, warmup_steps=2)
             for step in (0, 1, 2, 7, 12, 40)]
    # step 7: progress (7 - 2) / (12 - 2) = 0.5, (1 + cos(pi/2)) / 2 = 0.5
    assert_allclose(rates, [0.5, 1.0, 1.0, 0.5, 0.0, 0.0], rtol=1e-12, atol=1e-15)


def test_cosine_schedule_hand_worked_with_a_final_rate():
    """Does the cosine run from base_rate down to final_rate, not to 0?"""
    # total 8, warm-up 2: step 4 has progress 2/6 = 1/3, (1 + cos(pi/3)) / 2 = 0.75:
    # 0.1 + (0.5 - 0.1) * 0.75 = 0.4;  step 5: progress 1/2, 0.1 + 0.4 * 0.5 = 0.3
    rates = [opt.cosine_schedule(step, 0.5, 8, warmup_steps=2, final_rate=0.1)
             for step in (4, 5, 8, 100)]
    assert_allclose(rates, [0.4, 0.3, 0.1, 0.1], rtol=1e-12)


@st.composite
def cosine_settings(draw):
    total = draw(st.integers(1, 40))
    base = draw(st.floats(1e-4, 10.0))
    return dict(base_rate=base, total_steps=total, warmup_steps=draw(st.integers(0, total - 1)),
                final_rate=base * draw(st.floats(0.0, 1.0)))


@given(cosine_settings())
def test_cosine_schedule_warms_up_linearly_then_never_rises(settings_):
    """Does the warm-up climb in equal steps to base_rate, the cosine then never rise, and the
    rate stay at final_rate from total_steps on?"""
    base, total, warmup = (settings_[k] for k in ("base_rate", "total_steps", "warmup_steps"))
    rates = [opt.cosine_schedule(step, **settings_) for step in range(total + 5)]
    for step in range(warmup):
        assert rates[step] == pytest.approx(base * (step + 1) / warmup, rel=1e-12)
    after = rates[warmup:]
    assert after[0] == pytest.approx(base, rel=1e-12)
    assert all(later <= earlier for earlier, later in zip(after, after[1:]))
    assert rates[total:] == [pytest.approx(settings_["final_rate"], rel=1e-12, abs=1e-300)] * 5


@given(st.floats(1e-4, 10.0), st.floats(0.01, 0.99), st.integers(1, 20))
def test_step_schedule_never_rises(base, drop, every):
    """Is the step schedule non-increasing, and does it drop exactly at multiples of every?"""
    rates = [opt.step_schedule(step, base, drop=drop, every=every) for step in range(5 * every)]
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:]))
    assert rates[every - 1] == base and rates[every] < base


@pytest.mark.parametrize(("call", "name"), [
    (lambda: opt.step_schedule(-1, 0.1), "step"),
    (lambda: opt.step_schedule(2.0, 0.1), "step"),
    (lambda: opt.step_schedule(0, 0.0), "base_rate"),
    (lambda: opt.step_schedule(0, 0.1, drop=1.0), "drop"),
    (lambda: opt.step_schedule(0, 0.1, every=0), "every"),
    (lambda: opt.cosine_schedule(0, 0.1, total_steps=0), "total_steps"),
    (lambda: opt.cosine_schedule(0, 0.1, total_steps=10, warmup_steps=10), "warmup_steps"),
    (lambda: opt.cosine_schedule(0, 0.1, total_steps=10, final_rate=0.2), "final_rate"),
    (lambda: opt.cosine_schedule(0, -0.1, total_steps=10), "base_rate"),
])
def test_schedules_name_a_bad_argument(call, name):
    """Does a bad schedule argument raise ValueError starting with the argument's name?"""
    with pytest.raises(ValueError, match=f"^{name} must"):
        call()


# ---------------------------------------------------------------- L2 regularization


def test_l2_penalty_and_gradient_hand_worked():
    """Is the penalty strength/2 * sum(W^2), and its gradient strength * W?"""
    weights = [np.array([[1.0, 2.0]]), np.array([[3.0]])]
    # 0.1 / 2 * (1 + 4 + 9) = 0.05 * 14 = 0.7
    assert opt.l2_penalty(weights, 0.1) == pytest.approx(0.7, rel=1e-12)
    gradient = opt.l2_gradient(weights, 0.1)
    assert_allclose(gradient[0], [[0.1, 0.2]], rtol=1e-12)
    assert_allclose(gradient[1], [[0.3]], rtol=1e-12)


def test_l2_gradient_passes_the_gradient_check():
    """Does l2_gradient match central differences of l2_penalty, layer by layer?"""
    weights, _, _ = small_problem(seed=4)
    gradient = opt.l2_gradient(weights, 0.3)
    for i in range(len(weights)):

        def penalty(W, i=i):
            return opt.l2_penalty(weights[:i] + [W] + weights[i + 1:], 0.3)

        check_gradient(gradient[i], numerical_gradient(penalty, weights[i]), f"dW {i}")


def test_l2_strength_0_gives_nothing_and_biases_are_not_penalized():
    """Does strength 0 give a zero penalty and zero gradients, and is a bias vector (1-D)
    refused rather than penalized?"""
    weights, biases, _ = small_problem()
    assert opt.l2_penalty(weights, 0.0) == 0.0
    for gradient in opt.l2_gradient(weights, 0):
        assert_array_equal(gradient, 0.0)
    with pytest.raises(ValueError, match=r"weights\[1\] must be 2-D"):
        opt.l2_penalty([weights[0], biases[0]], 0.1)
    with pytest.raises(ValueError, match="strength must be a finite number >= 0, got -0.1"):
        opt.l2_gradient(weights, -0.1)


# ---------------------------------------------------------------- dropout


def test_dropout_mask_is_seeded_and_scaled():
    """Does one seed give one mask, with entries 0 or 1/(1 - rate), and output A * mask?"""
    A = np.arange(1.0, 41.0).reshape(5, 8)
    first = opt.dropout_forward(A, 0.25, seed=3)
    again = opt.dropout_forward(A, 0.25, seed=3)
    other = opt.dropout_forward(A, 0.25, seed=4)
    assert_array_equal(first.mask, again.mask)
    assert not np.array_equal(first.mask, other.mask)
    # 1 / (1 - 0.25) = 4/3
    assert set(np.unique(first.mask)) <= {0.0, 4.0 / 3.0}
    assert_array_equal(first.output, A * first.mask)
    assert_array_equal(A, np.arange(1.0, 41.0).reshape(5, 8))  # A itself is left alone


def test_dropout_with_a_generator_draws_a_new_mask_each_call():
    """Passed a Generator, as the training loop does, does each call draw a new mask?"""
    rng = np.random.default_rng(0)
    A = np.ones((4, 10))
    assert not np.array_equal(opt.dropout_forward(A, 0.5, rng).mask,
                              opt.dropout_forward(A, 0.5, rng).mask)


def test_dropout_mask_averages_to_1():
    """Over a million entries, is the mean of the mask 1 (expected value kept) and the share
    dropped the rate?"""
    mask = opt.dropout_forward(np.ones((1000, 1000)), 0.5, seed=0).mask
    # each entry is 0 or 2 with probability 1/2: variance 1, so the mean of 10^6 has a standard
    # deviation of 0.001; 0.005 is five of them
    assert abs(mask.mean() - 1.0) < 0.005
    assert abs(np.mean(mask == 0.0) - 0.5) < 0.0025


def test_dropout_in_evaluation_and_at_rate_0_is_the_identity():
    """Does evaluation mode, or rate 0, pass A through with a mask of ones?"""
    A = np.random.default_rng(1).normal(size=(3, 4))
    for dropped in (opt.dropout_forward(A, 0.5, training=False), opt.dropout_forward(A, 0.0)):
        assert_array_equal(dropped.output, A)
        assert_array_equal(dropped.mask, 1.0)


def test_dropout_backward_passes_the_gradient_check():
    """With the mask fixed by the seed, does dropout_backward match central differences of
    sum(dropout_forward(A) * upstream)?"""
    rng = np.random.default_rng(2)
    A, upstream = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    mask = opt.dropout_forward(A, 0.4, seed=11).mask
    assert 0 < np.count_nonzero(mask) < mask.size  # some dropped, some kept

    def f(a):
        return np.sum(opt.dropout_forward(a, 0.4, seed=11).output * upstream)

    check_gradient(opt.dropout_backward(upstream, mask), numerical_gradient(f, A), "dA")


def test_dropout_backward_refuses_a_mask_of_another_shape():
    """Does a mask that does not fit the gradient name both shapes?"""
    with pytest.raises(ValueError, match=r"d_output has shape \(2, 3\) but mask has shape "
                                         r"\(3, 2\)"):
        opt.dropout_backward(np.ones((2, 3)), np.ones((3, 2)))


# ---------------------------------------------------------------- batch normalization


def test_batchnorm_training_output_has_mean_beta_and_std_gamma():
    """In training, is each output column gamma * (Z - mean) / std + beta, worked by hand?"""
    Z = np.array([[1.0, 10.0], [3.0, 20.0]])
    gamma, beta = np.array([2.0, 0.5]), np.array([1.0, -1.0])
    out = opt.batchnorm_forward(Z, gamma, beta, eps=1e-12)
    # column 0: mean 2, variance 1: normalized -1, 1 -> 2 * (-1, 1) + 1 = -1, 3
    # column 1: mean 15, variance 25: normalized -1, 1 -> 0.5 * (-1, 1) - 1 = -1.5, -0.5
    assert_allclose(out.output, [[-1.0, -1.5], [3.0, -0.5]], rtol=1e-10)
    assert_allclose(out.output.mean(axis=0), beta, rtol=1e-10)
    assert_allclose(out.output.std(axis=0), gamma, rtol=1e-10)


def test_batchnorm_running_statistics_move_by_momentum():
    """Do the running statistics start at mean 0, variance 1, and move 10% of the way to each
    batch's?"""
    Z = np.array([[1.0, 10.0], [3.0, 20.0]])  # batch mean [2, 15], variance [1, 25]
    gamma, beta = np.ones(2), np.zeros(2)
    first = opt.batchnorm_forward(Z, gamma, beta, momentum=0.9).running
    # 0.9 * [0, 0] + 0.1 * [2, 15] = [0.2, 1.5];  0.9 * [1, 1] + 0.1 * [1, 25] = [1.0, 3.4]
    assert_allclose(first.mean, [0.2, 1.5], rtol=1e-12)
    assert_allclose(first.var, [1.0, 3.4], rtol=1e-12)
    second = opt.batchnorm_forward(Z, gamma, beta, running=first, momentum=0.9).running
    # 0.9 * [0.2, 1.5] + [0.2, 1.5] = [0.38, 2.85];  0.9 * [1, 3.4] + [0.1, 2.5] = [1.0, 5.56]
    assert_allclose(second.mean, [0.38, 2.85], rtol=1e-12)
    assert_allclose(second.var, [1.0, 5.56], rtol=1e-12)


def test_batchnorm_evaluation_uses_the_running_statistics():
    """In evaluation, are the running mean and variance used (even for one sample), and
    returned unchanged, with no cache?"""
    running = opt.RunningStats(np.array([1.0, 10.0]), np.array([4.0, 25.0]))
    out = opt.batchnorm_forward([[3.0, 20.0]], [2.0, 0.5], [1.0, -1.0], running=running,
                                training=False, eps=1e-12)
    # (3 - 1) / 2 = 1 -> 2 * 1 + 1 = 3;  (20 - 10) / 5 = 2 -> 0.5 * 2 - 1 = 0
    assert_allclose(out.output, [[3.0, 0.0]], rtol=1e-10, atol=1e-12)
    assert out.cache is None
    assert_array_equal(out.running.mean, [1.0, 10.0])
    assert_array_equal(out.running.var, [4.0, 25.0])


def test_batchnorm_refuses_what_it_cannot_normalize():
    """Are evaluation without running statistics, a training batch of 1, a gamma of the wrong
    size and an evaluation cache in backward refused with a message?"""
    Z, ones = np.ones((3, 2)), np.ones(2)
    with pytest.raises(ValueError, match="evaluation mode needs the running statistics"):
        opt.batchnorm_forward(Z, ones, ones, training=False)
    with pytest.raises(ValueError, match="a batch of 1 sample has no variance"):
        opt.batchnorm_forward(Z[:1], ones, ones)
    with pytest.raises(ValueError, match=r"gamma has shape \(3,\) but Z has 2 columns"):
        opt.batchnorm_forward(Z, np.ones(3), ones)
    with pytest.raises(TypeError, match="cache must be the BatchNormCache"):
        opt.batchnorm_backward(Z, None)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchnorm_backward_passes_the_gradient_check(seed):
    """Do dZ, dgamma and dbeta match central differences of sum(output * upstream)?"""
    rng = np.random.default_rng(seed)
    Z, upstream = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)

    def f(Z_, gamma_, beta_):
        return np.sum(opt.batchnorm_forward(Z_, gamma_, beta_).output * upstream)

    dZ, dgamma, dbeta = opt.batchnorm_backward(upstream, opt.batchnorm_forward(Z, gamma,
                                                                               beta).cache)
    check_gradient(dZ, numerical_gradient(lambda x: f(x, gamma, beta), Z), "dZ")
    check_gradient(dgamma, numerical_gradient(lambda x: f(Z, x, beta), gamma), "dgamma")
    check_gradient(dbeta, numerical_gradient(lambda x: f(Z, gamma, x), beta), "dbeta")


@given(batches(max_samples=6, max_outputs=3).filter(lambda Z: len(Z) >= 2),
       st.data())
def test_batchnorm_dZ_columns_sum_to_zero(Z, data):
    """Does each column of dZ sum to 0? Adding a constant to a column of Z shifts its mean by
    that constant and leaves its variance, so the output does not change: the derivative along
    (1, ..., 1) in that column, the column's sum of dZ, is 0."""
    upstream = data.draw(arrays(np.float64, Z.shape, elements=finite))
    gamma = data.draw(arrays(np.float64, Z.shape[1:], elements=finite))
    cache = opt.batchnorm_forward(Z, gamma, np.zeros(Z.shape[1])).cache
    dZ = opt.batchnorm_backward(upstream, cache).dZ
    # the terms that cancel are each at most |gamma| * (|upstream| summed) * inv_std * 3
    scale = 3 * cache.inv_std * np.abs(gamma) * np.abs(upstream).sum(axis=0) + 1e-300
    assert np.all(np.abs(dZ.sum(axis=0)) <= 1e-12 * scale * len(Z))


# ---------------------------------------------------------------- early stopping


def test_early_stopping_docstring_example():
    """Losses [3, 2, 2.5, 1, 1.5, 1.2, 1.1], patience 3: keep epoch 3, stop at 6?"""
    assert opt.early_stopping([3, 2, 2.5, 1, 1.5, 1.2, 1.1], patience=3) == (3, 6)


def test_early_stopping_keeps_the_first_of_equal_losses():
    """Is a loss equal to the best no improvement, so that the first epoch is kept?"""
    # epoch 1 improves (1 < 2); epochs 2 and 3 tie at 1 and do not: 3 - 1 = 2 = patience
    assert opt.early_stopping([2, 1, 1, 1], patience=2) == (1, 3)


def test_early_stopping_that_never_runs_out_of_patience():
    """Does a curve that keeps improving, or is too short, give stop None?"""
    assert opt.early_stopping([5, 4, 3, 2], patience=1) == (3, None)
    assert opt.early_stopping([3], patience=1) == (0, None)
    assert opt.early_stopping([1, 2, 3], patience=3) == (0, None)  # 2 epochs after epoch 0


def test_early_stopping_patience_1_stops_at_the_first_non_improvement():
    """With patience 1, does training stop at the first epoch that does not improve?"""
    assert opt.early_stopping([3, 2, 2.5, 0.1], patience=1) == (1, 2)


def test_early_stopping_bad_arguments():
    """Are an empty curve and a patience of 0 refused?"""
    with pytest.raises(ValueError, match="validation_losses is empty"):
        opt.early_stopping([], patience=2)
    with pytest.raises(ValueError, match="patience must be a positive integer, got 0"):
        opt.early_stopping([1.0, 2.0], patience=0)


# ---------------------------------------------------------------- training, put together


def dropout_problem(loss, n_out, seed=0):
    """A 3-layer network (two hidden tanh layers) and a batch for ``loss``."""
    rng = np.random.default_rng(seed)
    weights, _ = network.init_params([3, 5, 4, n_out], seed=seed)
    biases = [rng.normal(scale=0.5, size=n) for n in (5, 4, n_out)]
    X = rng.normal(size=(6, 3))
    if loss == "mse":
        Y, output = rng.normal(size=(6, n_out)), "identity"
    else:
        Y, output = np.eye(n_out)[rng.integers(0, n_out, size=6)], "softmax"
    return X, Y, weights, biases, ["tanh", "tanh", output]


def test_gradients_with_dropout_at_rate_0_is_backpropagation():
    """With rate 0, are the gradients backpropagation's, exactly?"""
    X, Y, weights, biases, names = dropout_problem("mse", 2)
    dW, db = opt.gradients_with_dropout(X, Y, weights, biases, names, "mse", 0.0)
    expected_dW, expected_db = backpropagation(X, Y, weights, biases, names, "mse")
    for got, expected in zip(dW + db, expected_dW + expected_db):
        assert_array_equal(got, expected)


@pytest.mark.parametrize(("loss", "n_out"), [("mse", 2), ("softmax_cross_entropy", 3)])
def test_gradients_with_dropout_match_the_masked_loss(loss, n_out):
    """With rate 0.5 and a fixed seed, do the gradients match central differences of the loss
    of the network with the same masks (drawn as documented: one Generator, one mask per hidden
    layer, in order)?"""
    X, Y, weights, biases, names = dropout_problem(loss, n_out)
    rate, seed = 0.5, 5
    rng = np.random.default_rng(seed)
    masks = [(rng.random((6, width)) >= rate) / (1 - rate) for width in (5, 4)]
    assert all(0 < np.count_nonzero(m) < m.size for m in masks)
    loss_function = get_loss(loss)

    def masked_loss(weights_, biases_):
        A = X
        for layer, (W, b, name) in enumerate(zip(weights_, biases_, names)):
            Z = A @ W.T + b
            A = get_activation(name)(Z)
            if layer < 2:
                A = A * masks[layer]
        return loss_function(Z if loss_function.takes_logits else A, Y)

    dW, db = opt.gradients_with_dropout(X, Y, weights, biases, names, loss, rate, seed)
    for i in range(3):
        numerical_W = numerical_gradient(
            lambda W, i=i: masked_loss(weights[:i] + [W] + weights[i + 1:], biases), weights[i])
        numerical_b = numerical_gradient(
            lambda b, i=i: masked_loss(weights, biases[:i] + [b] + biases[i + 1:]), biases[i])
        check_gradient(dW[i], numerical_W, f"dW of layer {i + 1}")
        check_gradient(db[i], numerical_b, f"db of layer {i + 1}")
    plain_dW, _ = backpropagation(X, Y, weights, biases, names, loss)
    assert not np.allclose(dW[0], plain_dW[0])  # the masks made a difference


def moons(n_samples=60):
    """A small two-class problem, targets of shape (N, 1)."""
    X, y = datasets.make_moons(n_samples=n_samples, noise=0.1, seed=0)
    return X, y.reshape(-1, 1)


MOONS_NET = dict(layer_sizes=[2, 8, 1], activations=["tanh", "sigmoid"],
                 loss="sigmoid_cross_entropy")


@pytest.mark.parametrize("name", list(opt.OPTIMIZERS))
def test_train_model_lowers_the_loss_with_every_optimizer(name):
    """Does every optimizer, with its listed options at their defaults, lower the loss on
    moons?"""
    X, Y = moons()
    result = opt.train_model(X, Y, **MOONS_NET, optimizer=name, learning_rate=0.05, epochs=30,
                             batch_size=16)
    # measured: the last epoch's loss is 0.43 to 0.64 of the first's
    assert len(result.history) == 30
    assert result.history[-1] < 0.75 * result.history[0]
    assert result.best_epoch is None and result.validation == []


@pytest.mark.parametrize("name", [name for name, o in opt.OPTIMIZERS.items() if o.options])
def test_train_model_hands_the_options_to_the_optimizer(name):
    """Does train_model accept each of the optimizer's listed options, and use them?"""
    X, Y = moons(20)
    kwargs = dict(**MOONS_NET, optimizer=name, epochs=2, batch_size=8)
    default = opt.train_model(X, Y, **kwargs)
    changed = opt.train_model(X, Y, **kwargs, **other_values(opt.OPTIMIZERS[name]))
    assert not np.array_equal(default.weights[0], changed.weights[0])


def test_train_model_asks_the_schedule_for_every_update():
    """Is schedule called with 0, 1, 2, ... before each update, and rates what it returned?"""
    X, Y = moons(10)
    calls = []

    def schedule(step):
        calls.append(step)
        return opt.step_schedule(step, 0.1, drop=0.5, every=3)

    result = opt.train_model(X, Y, **MOONS_NET, epochs=3, batch_size=4, schedule=schedule)
    # 10 samples in batches of 4: 3 updates an epoch, 9 in all
    assert calls == list(range(9))
    assert result.rates == [0.1] * 3 + [0.05] * 3 + [0.025] * 3
    constant = opt.train_model(X, Y, **MOONS_NET, epochs=3, batch_size=4, learning_rate=0.2)
    assert constant.rates == [0.2] * 9


def test_train_model_l2_shrinks_the_weights_and_counts_in_the_loss():
    """Does l2 > 0 end with smaller weights than l2 = 0, and is the L2 term in the history?"""
    X, Y = moons()
    kwargs = dict(**MOONS_NET, learning_rate=0.5, epochs=40, batch_size=None, seed=1)
    free = opt.train_model(X, Y, **kwargs)
    held = opt.train_model(X, Y, **kwargs, l2=0.05)

    def norm(weights):
        return sum(np.sum(W ** 2) for W in weights)

    assert norm(held.weights) < 0.8 * norm(free.weights)
    # full batch: the first epoch's loss is the loss at the initial weights, plus the L2 term
    weights, biases = network.init_params([2, 8, 1], seed=1)
    start = (loss_value(X, Y, weights, biases, MOONS_NET["activations"], MOONS_NET["loss"])
             + opt.l2_penalty(weights, 0.05))
    assert held.history[0] == pytest.approx(start, rel=1e-12)


def test_train_model_with_dropout_is_seeded():
    """Do two runs with dropout and one seed agree, and differ from a run without dropout?"""
    X, Y = moons(30)
    kwargs = dict(**MOONS_NET, epochs=3, batch_size=10, seed=2)
    first = opt.train_model(X, Y, **kwargs, dropout=0.3)
    second = opt.train_model(X, Y, **kwargs, dropout=0.3)
    without = opt.train_model(X, Y, **kwargs)
    assert first.history == second.history
    assert first.history != without.history


def test_train_model_stops_early_and_returns_the_best_epochs_weights():
    """With validation and patience, does training stop patience epochs after the best one and
    return weights whose validation loss is the lowest recorded?"""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = np.sin(X @ np.array([[1.0], [-1.0], [0.5]]))
    # the validation targets are half the training ones: as the network fits Y, the validation
    # loss first falls, then rises again
    names = ["tanh", "identity"]
    result = opt.train_model(X, Y, [3, 8, 1], names, optimizer="adam", learning_rate=0.1,
                             epochs=200, batch_size=None, validation=(X, 0.5 * Y), patience=5)
    best = result.best_epoch
    assert best > 0  # measured: 5
    assert len(result.validation) == len(result.history) == best + 5 + 1
    assert result.validation.index(min(result.validation)) == best
    kept = loss_value(X, 0.5 * Y, result.weights, result.biases, names, "mse")
    assert kept == result.validation[best]


def test_train_model_reports_bad_combinations():
    """Are patience without validation, an option the optimizer does not take, and an unknown
    optimizer refused with messages naming what is accepted?"""
    X, Y = moons(10)
    with pytest.raises(ValueError, match=r"early stopping \(patience=...\) needs validation"):
        opt.train_model(X, Y, **MOONS_NET, patience=3)
    with pytest.raises(ValueError, match="the optimizer 'sgd' takes no option momentum; "
                                         "it takes: none"):
        opt.train_model(X, Y, **MOONS_NET, optimizer="sgd", momentum=0.9)
    with pytest.raises(ValueError, match="the optimizer 'adam' takes no option decay; "
                                         "it takes: ") as error:
        opt.train_model(X, Y, **MOONS_NET, optimizer="adam", decay=0.9)
    for option in opt.OPTIMIZERS["adam"].options:
        assert option in str(error.value).split("it takes: ")[1]
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        opt.train_model(X, Y, **MOONS_NET, optimizer="adamw")
