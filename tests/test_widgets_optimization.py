"""Headless tests of the notebook 08 explorers: set a control, check what is shown."""

from importlib import import_module

import numpy as np
import pytest
from explorers import assert_every_control_matters, status_names
from libraries import released_library
from numpy.testing import assert_allclose

from nnlib import network, optimization
from nnlib.widgets import optimization as widgets_optimization
from nnlib.widgets._explorer import TRAINS_CLASS, artists
from nnlib.widgets.optimization import (
    batchnorm_explorer,
    batchnorm_view,
    race_explorer,
    race_view,
    regularization_explorer,
    regularization_view,
)
from nnlib.widgets.training import descent_view


def legend(explorer):
    """The race's legend lines, one per optimizer."""
    return [text.get_text() for text in explorer.axes[1].get_legend().get_texts()]


# ---------------------------------------------------------------- the optimizer race
#
# The valley is notebook 6's: the MSE of w * x + b on x = 0, 0.5, ..., 4. Its Hessian is
# 2 [[mean x**2, mean x], [mean x, 1]] = 2 [[51/9, 2], [2, 1]], whose largest eigenvalue is
# 6.667 + sqrt(6.667**2 - 4 * 1.667) = 12.81. Plain gradient descent is stable below
# 2 / 12.81 = 0.156; the heavy ball with momentum 0.9 below 2 (1 + 0.9) / 12.81 = 0.297.


def test_the_race_starts_with_notebook_6s_descent():
    """On the valley, is SGD's path the one of notebook 6's descent explorer, step for step?"""
    race = race_view(learning_rate=0.05, steps=30)
    descent = descent_view(learning_rate=0.05, steps=30)
    assert_allclose(race["paths"]["sgd"], descent["path"], rtol=1e-12)
    assert_allclose(race["losses"]["sgd"], descent["losses"], rtol=1e-12)
    assert len(race["paths"]["adam"]) == 31  # the start and 30 steps


def test_the_first_step_of_each_optimizer():
    """From a zero state, does SGD step by -rate * g, momentum likewise (its velocity is g),
    RMSProp by rate / sqrt(1 - 0.9) per coordinate and Adam by the rate itself?"""
    view = race_view(learning_rate=0.1, steps=1)
    steps = {name: path[1] - path[0] for name, path in view["paths"].items()}
    # at (w, b) = (-1.5, 4) the gradient is (-11.195, -2.220): SGD moves by 0.1 times that
    assert_allclose(steps["sgd"], [1.1195418, 0.2219781], rtol=1e-6)
    assert_allclose(steps["momentum"], steps["sgd"], rtol=1e-12)
    # RMSProp: s = 0.1 g**2, so each coordinate moves by 0.1 |g| / sqrt(0.1 g**2) = 0.3162
    assert_allclose(steps["rmsprop"], [0.3162278, 0.3162278], rtol=1e-6)
    # Adam: m_hat = g, v_hat = g**2, so each coordinate moves by 0.1 |g| / (|g| + 1e-8)
    assert_allclose(steps["adam"], [0.1, 0.1], rtol=1e-8)


@pytest.mark.parametrize("rate, diverged", [(0.15, None), (0.16, 146)])
def test_sgd_diverges_just_above_2_over_the_largest_eigenvalue(rate, diverged):
    """Does plain gradient descent stay in the valley at 0.15 and leave it at 0.16 (limit 0.156),
    where |1 - 0.16 * 12.81| = 1.05 lets the error grow 5 % per step?"""
    view = race_view(learning_rate=rate, steps=200)
    assert view["diverged"]["sgd"] == diverged
    if diverged is None:
        assert_allclose(view["paths"]["sgd"][-1], view["minima"][0], atol=1e-3)


@pytest.mark.parametrize("rate, diverged", [(0.29, None), (0.30, 33), (0.31, 17)])
def test_momentum_diverges_just_above_its_limit(rate, diverged):
    """Does momentum 0.9 stay finite at 0.29 and diverge at 0.30 and 0.31 (limit 0.297), and
    does the legend say at which step?"""
    explorer = race_explorer(learning_rate=rate, steps=200)
    view = explorer.view_data
    assert view["diverged"]["momentum"] == diverged
    assert view["diverged"]["sgd"] is not None  # far above SGD's 0.156
    assert np.all(np.isfinite(view["losses"]["momentum"]))  # stopped before any overflow
    if diverged is None:
        # it spirals in by sqrt(0.9) = 0.949 per step: at the valley's least-squares loss
        assert legend(explorer)[1] == "momentum 0.9: loss 0.05967"
    else:
        assert legend(explorer)[1] == f"momentum 0.9: diverged at step {diverged}"


def test_the_rate_slider_is_fine_enough_to_find_the_momentum_limit():
    """Does the rate slider offer 0.29, 0.30 and 0.31 (and 0.15, 0.16), written as the title
    writes them?"""
    explorer = race_explorer()
    rate = explorer.controls["learning_rate"]
    offered = {value for _, value in rate.options}
    assert {0.001, 0.15, 0.16, 0.29, 0.3, 0.31, 1.0} <= offered
    rate.value = 0.29
    assert rate.label == "0.29"
    assert explorer.axes[0].get_title() == "notebook 6's valley, learning rate 0.29"


def test_a_path_shown_before_it_diverges_is_said_to_rise():
    """At 0.16 after 100 steps SGD has not yet left the box: is its loss said to be rising?"""
    explorer = race_explorer(learning_rate=0.16, steps=100)
    assert explorer.view_data["diverged"]["sgd"] is None
    assert legend(explorer)[0].endswith(", rising")
    explorer.controls["steps"].value = 200
    assert legend(explorer)[0] == "SGD: diverged at step 146"


def test_on_the_saddle_sgd_lingers_and_the_others_escape():
    """From 1e-4 off the ridge with rate 0.1, SGD's y grows by 1 + 2 * 0.1 per step: is it only
    1e-4 * 1.2**30 = 0.0237 after 30 steps, while the other three are near a minimum?"""
    view = race_view("saddle", learning_rate=0.1, steps=30)
    assert view["paths"]["sgd"][-1, 1] == pytest.approx(1e-4 * 1.2 ** 30, rel=1e-3)
    for name in ("momentum", "rmsprop", "adam"):
        assert abs(view["paths"][name][-1, 1]) > 1.0, name
    # the loss is x**2 - y**2 + y**4 / 4: 0 at the saddle, -1 at the minima (0, +-sqrt 2)
    assert view["losses"]["sgd"][-1] > -0.01 and view["minimum_loss"] == pytest.approx(-1.0)
    later = race_view("saddle", learning_rate=0.1, steps=100)
    assert_allclose(later["paths"]["sgd"][-1], [0.0, np.sqrt(2.0)], atol=1e-6)  # it got out


def test_in_the_banana_valley_momentum_gets_furthest():
    """Along the curved floor of (y - x**2)**2 + (1 - x)**2 / 20, does momentum reach the
    minimum (1, 1) in 100 steps at rate 0.1 while SGD has hardly moved?"""
    explorer = race_explorer(surface="rosenbrock")
    view = explorer.view_data
    assert_allclose(view["paths"]["momentum"][-1], [1.0, 1.0], atol=0.05)
    assert view["losses"]["sgd"][-1] > 0.2  # it starts at 0.0625 + 2.5**2 / 20 = 0.375
    assert view["losses"]["sgd"][0] == pytest.approx(0.375)
    assert legend(explorer)[0] == f"SGD: loss {view['losses']['sgd'][-1]:.4g}"
    assert explorer.axes[0].get_xlabel() == "$x$"


def test_a_diverged_path_stays_inside_the_window_and_is_drawn_faint():
    """Does a diverged path leave the contour plot's window as it was, drawn faint?"""
    explorer = race_explorer(learning_rate=0.5, steps=50)
    lines = artists(explorer.axes[0])
    assert explorer.axes[0].get_xlim() == widgets_optimization.W_LIMITS
    assert lines["sgd"].get_alpha() == 0.35 and lines["adam"].get_alpha() == 1.0


def test_an_optimizer_still_to_write_is_named_in_its_legend_line(monkeypatch):
    """With Adam a stub, are the other three paths drawn and Adam's line left at the start?"""

    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 8.4: implement adam_update")

    monkeypatch.setitem(optimization.OPTIMIZERS, "adam",
                        optimization.Optimizer("adam", stub, ("beta1", "beta2", "eps")))
    explorer = race_explorer(steps=20)
    assert legend(explorer)[3] == "Adam (β1 0.9, β2 0.999): needs adam_update (Exercise 8.4)"
    assert len(explorer.view_data["paths"]["adam"]) == 1
    assert len(explorer.view_data["paths"]["rmsprop"]) == 21
    assert status_names(explorer, "implement adam_update")
    assert explorer.axes[0].get_title().endswith("(needs adam_update (Exercise 8.4))")


@pytest.mark.parametrize("surface, other", [("valley", "saddle"), ("saddle", "rosenbrock"),
                                            ("rosenbrock", "valley")])
def test_every_control_of_the_race_changes_the_figure(surface, other):
    """On each surface, do the rate, momentum, both betas and the steps each change the
    picture, and so does choosing another surface?"""
    explorer = race_explorer(surface=surface, steps=60)
    assert_every_control_matters(explorer, dict(learning_rate=0.05, momentum=0.5, beta1=0.5,
                                                beta2=0.9, steps=40, surface=other))


def test_an_unknown_surface_is_refused():
    """Does the view name the surfaces it knows?"""
    with pytest.raises(ValueError, match="known surfaces are: valley, saddle, rosenbrock"):
        race_view("bowl")


# ---------------------------------------------------------------- regularization


def test_without_regularization_the_network_overfits():
    """Does the wide network fit its 60 training points almost perfectly while the validation
    loss climbs back up after its lowest point?"""
    view = regularization_view()
    assert view["train_loss"] < 0.01
    assert view["validation_loss"] > 0.4
    assert view["validation_loss"] > min(view["validation"]) + 0.3
    assert view["best_epoch"] < 0.5 * view["epochs"]
    assert view["accuracy"] == 1.0
    assert len(view["history"]) == len(view["validation"]) == 300


def test_the_view_is_what_train_model_gives():
    """Are the curves those of train_model with Adam, L2 and dropout, the final losses those of
    its network, and the validation points 200 fresh draws?"""
    view = regularization_view(l2=1e-3, dropout=0.1)
    X, y, X_val, y_val = view["X"], view["y"], view["X_val"], view["y_val"]
    model = optimization.train_model(
        X, y.reshape(-1, 1), [2, 64, 64, 1], ["tanh", "tanh", "sigmoid"],
        loss="sigmoid_cross_entropy", optimizer="adam", learning_rate=0.01, epochs=300,
        batch_size=None, seed=0, l2=1e-3, dropout=0.1, validation=(X_val, y_val.reshape(-1, 1)))
    assert_allclose(view["history"], model.history, rtol=1e-12)
    assert_allclose(view["validation"], model.validation, rtol=1e-12)
    norm = np.sqrt(sum(np.sum(W ** 2) for W in model.weights))
    assert view["weight_norm"] == pytest.approx(norm, rel=1e-12)
    assert X.shape == (60, 2) and X_val.shape == (200, 2)
    assert not np.any(np.all(np.isclose(X[:, None], X_val[None]), axis=2))  # none shared
    # the map is the network's output over the square
    output = network.forward_pass(np.array([[view["xx"][0, 0], view["yy"][0, 0]]]),
                                  model.weights, model.biases, ["tanh", "tanh", "sigmoid"])
    assert view["probability"][0, 0] == pytest.approx(output[0, 0], rel=1e-12)


def test_l2_shrinks_the_weights_and_the_gap():
    """Does a moderate L2 term shrink the weights' norm and the gap between validation and
    training loss, and a strong one make the network too simple?"""
    free, moderate, strong = (regularization_view(l2=l2) for l2 in (0.0, 3e-3, 1e-2))
    assert moderate["weight_norm"] < 0.5 * free["weight_norm"]
    assert moderate["train_loss"] > 10 * free["train_loss"]  # the fit to the noise is given up
    gap = {name: v["validation_loss"] - v["train_loss"]
           for name, v in (("free", free), ("moderate", moderate), ("strong", strong))}
    assert gap["moderate"] < 0.3 * gap["free"]
    assert moderate["validation_loss"] < 0.5 * free["validation_loss"]
    # too strong: both losses high, the boundary nearly a line
    assert strong["train_loss"] > 0.25 and strong["validation_loss"] > moderate["validation_loss"]


def test_dropout_changes_the_curves_and_helps():
    """Does dropout 0.2 train a different network, with a lower validation loss at the end?"""
    free, dropped = regularization_view(), regularization_view(dropout=0.2)
    assert not np.allclose(free["history"], dropped["history"])
    assert dropped["validation_loss"] < 0.5 * free["validation_loss"]
    assert dropped["train_loss"] > free["train_loss"]


def test_the_regularization_explorer_trains_each_setting_once_and_says_so():
    """Does moving back to a setting show the network trained before, does the status line say
    it is training while it trains, and is the box marked as one that trains?"""
    explorer = regularization_explorer()
    first = explorer.view_data["probability"]
    said, view = [], explorer.view
    explorer.view = lambda **values: said.append(explorer.status.value) or view(**values)
    explorer.controls["dropout"].value = 0.1
    explorer.controls["dropout"].value = 0.0
    assert said == ["<i>training the network...</i>"] * 2
    assert explorer.view_data["probability"] is first
    assert TRAINS_CLASS in explorer.widget._dom_classes
    title = explorer.axes[0].get_title()
    assert title == ("L2 λ = 0, dropout 0.00\n"
                     "at the end: training 0.001, validation 0.502 (gap 0.501)")


def test_every_control_of_the_regularization_explorer_changes_the_figure():
    """Do the L2 strength and the dropout rate each change the picture?"""
    explorer = regularization_explorer()
    assert [value for _, value in explorer.controls["l2"].options][:2] == [0.0, 1e-4]
    assert_every_control_matters(explorer, dict(l2=1e-3, dropout=0.2))


# ---------------------------------------------------------------- batch normalization


def test_the_first_layer_is_tanh_of_the_inputs_times_the_scaled_weights():
    """Is layer 1's spread that of tanh(X W.T), with W from init_params times the scale?"""
    view = batchnorm_view(depth=3, weight_scale=2.0)
    weights, _ = network.init_params([64] * 31, method="xavier", seed=0)
    X = np.random.default_rng(1).normal(size=(256, 64))
    A = np.tanh(X @ (2.0 * weights[0]).T)
    assert view["plain"]["spread"][0] == pytest.approx(A.std(axis=0).mean(), rel=1e-12)
    assert view["plain"]["mean"][0] == pytest.approx(A.mean(), abs=1e-12)
    assert view["weight_std"] == pytest.approx(2.0 * 0.125)  # Xavier: sqrt(2 / (64 + 64))
    assert view["plain"]["histogram"].shape == (3, widgets_optimization.NORM_BINS)
    assert_allclose(view["plain"]["histogram"].sum(axis=1), 1.0)


def test_small_weights_make_the_signal_vanish_and_batch_norm_restores_it():
    """With half of Xavier's std, does tanh's spread halve at every layer (tanh'(0) = 1), while
    with batch normalization the sums keep a spread of 1 and the activations 0.63 (the
    standard deviation of tanh of a standard normal)?"""
    view = batchnorm_view(depth=10, weight_scale=0.5)
    plain, normalized = view["plain"]["spread"], view["normalized"]["spread"]
    # 64 units of one draw: each layer's factor is near 0.5, their geometric mean nearer
    assert np.all(np.abs(plain[1:] / plain[:-1] - 0.5) < 0.05)
    assert (plain[-1] / plain[0]) ** (1 / 9) == pytest.approx(0.5, rel=0.03)
    assert plain[-1] < 1e-3
    # sqrt(var / (var + 1e-5)) with var about 0.25 * 0.4: 1 up to 1e-4
    assert_allclose(view["normalized"]["sum_spread"], 1.0, atol=1e-4)
    assert_allclose(normalized, 0.63, atol=0.02)


def test_large_weights_saturate_tanh_unless_normalized():
    """With 3 times Xavier's std, are a third of the tanh units stuck at +-1 without batch
    normalization, and about 2 % with it (|tanh z| >= 0.98 for |z| >= 2.3: 2.2 % of N(0, 1))?"""
    view = batchnorm_view(depth=10, weight_scale=3.0)
    assert np.all(view["plain"]["saturated"] > 0.3)
    assert_allclose(view["normalized"]["saturated"], 0.02, atol=0.006)
    assert batchnorm_view(activation="relu")["plain"]["saturated"] is None  # no upper bound


def test_relu_with_twice_xaviers_std_explodes_unless_normalized():
    """Does ReLU's spread grow by about 2 / sqrt(2) = 1.41 per layer with weights twice Xavier's
    std (half the units pass), and stay put with batch normalization?"""
    view = batchnorm_view(depth=10, activation="relu", weight_scale=2.0)
    plain, normalized = view["plain"]["spread"], view["normalized"]["spread"]
    growth = (plain[-1] / plain[0]) ** (1 / 9)
    assert 1.2 < growth < 1.5 and plain[-1] > 10 * plain[0]
    assert_allclose(normalized, normalized[0], rtol=0.1)


def test_the_depth_slider_shows_the_first_layers_of_one_network():
    """Is a network of 5 layers the first 5 layers of the one of 30?"""
    short, deep = batchnorm_view(depth=5), batchnorm_view(depth=30)
    for key in ("plain", "normalized"):
        assert_allclose(short[key]["spread"], deep[key]["spread"][:5])
    explorer = batchnorm_explorer(depth=5)
    assert explorer.axes[0].get_xlim() == (0.5, 5.5)
    assert len(artists(explorer.axes[2])["plain violins"].get_paths()) == 5
    assert explorer.axes[0].get_title().startswith("without batch normalization\nlayer 5:")


def test_every_control_of_the_batchnorm_explorer_changes_the_figure():
    """Do the depth, the activation and the weights' scale each change the picture?"""
    assert_every_control_matters(batchnorm_explorer(),
                                 dict(depth=20, activation="relu", weight_scale=2.0))


# ---------------------------------------------------------------- before the exercises are done


def test_before_the_exercises_every_explorer_draws_and_says_what_is_missing(student_nnlib):
    """Over the stubbed library, does each explorer draw what it can and name a stub?"""
    module = import_module(f"{student_nnlib.__name__}.widgets.optimization")
    race = module.race_explorer(surface="saddle")
    assert status_names(race, "first (Exercise")
    assert all(len(path) == 1 for path in race.view_data["paths"].values())  # the start
    lines = legend(race)
    assert lines[0] == "SGD: needs gradient_descent_update (Exercise 6.1)"
    assert lines[1].startswith("momentum 0.9: needs momentum_update (Exercise 8.")
    assert "needs rmsprop_update" in lines[2] and "needs adam_update" in lines[3]
    assert race.axes[0].collections  # the contours need no exercise
    regularization = module.regularization_explorer()
    assert status_names(regularization, "first (Exercise")
    assert len(regularization.axes[1].collections) >= 4  # the points, and the boundary
    assert "training needs" in regularization.axes[0].get_title()
    norm = module.batchnorm_explorer()
    assert status_names(norm, "first (Exercise")
    assert "needs" in norm.axes[0].get_title() and "needs" in norm.axes[1].get_title()
    for explorer in (race, regularization, norm):
        assert explorer.widget is not None


@pytest.fixture(scope="module")
def nnlib_before_notebook_8(tmp_path_factory):
    """The student library as notebook 8 ships it: notebooks 1-6 done, optimization stubbed."""
    from autograder import release

    return released_library(tmp_path_factory.mktemp("before8") / "nnlib", "nnlib_before8",
                            complete=release.modules_before(8))


def test_at_notebook_8_the_explorers_ask_for_its_exercises(nnlib_before_notebook_8):
    """With notebooks 1-6 done, does each explorer draw what they allow and name the notebook 8
    function it needs?"""
    module = import_module("nnlib_before8.widgets.optimization")
    race = module.race_explorer()
    assert status_names(race, "implement momentum_update in nnlib/optimization.py first")
    assert legend(race)[0] == "SGD: loss 0.05974"  # notebook 6's descent is done
    assert len(race.view_data["paths"]["sgd"]) == 101
    regularization = module.regularization_explorer()
    # the explorer trains with Adam; at strength 0 the L2 pieces are not called
    assert status_names(regularization, "implement adam_update in nnlib/optimization.py first")
    norm = module.batchnorm_explorer()
    assert status_names(norm, "implement batchnorm_forward in nnlib/optimization.py first")
    assert norm.view_data["plain"] is not None and norm.view_data["normalized"] is None
    assert norm.axes[0].get_title().startswith("without batch normalization\nlayer 10:")
