"""Headless tests of the notebook 03 explorers: set a control, check what is shown."""

from importlib import import_module

import numpy as np
import pytest
from explorers import assert_every_control_matters
from numpy.testing import assert_allclose

from nnlib import network
from nnlib.widgets._explorer import artists
from nnlib.widgets.network import (
    INIT_CHOICES,
    init_explorer,
    init_view,
    xor_network_explorer,
    xor_network_view,
)

# hidden unit 0 ~ OR, hidden unit 1 ~ NAND, output ~ AND of the two: XOR
XOR_SOLUTION = dict(w1_00=6.0, w1_01=6.0, b1_0=-3.0, w1_10=-6.0, w1_11=-6.0, b1_1=9.0,
                    w2_00=6.0, w2_01=6.0, b2_0=-9.0)


def test_xor_view_computes_the_network_by_hand():
    """Does the view give the 2-2-1 sigmoid network's output on the four inputs?"""
    view = xor_network_view(**XOR_SOLUTION)
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    # input (0, 0): h = sigmoid([-3, 9]), output = sigmoid(6 h0 + 6 h1 - 9)
    h = sigmoid(np.array([-3.0, 9.0]))
    assert_allclose(view["output"][0], sigmoid(6 * h[0] + 6 * h[1] - 9))
    assert view["n_right"] == 4 and view["right"].all()
    assert view["surface"].shape == (81, 81)
    assert 0.0 < view["surface"].min() < 0.5 < view["surface"].max() < 1.0


def test_equal_hidden_units_cannot_solve_xor():
    """Do two identical hidden units (the defaults) leave XOR half wrong?"""
    view = xor_network_view()
    # both hidden units compute sigmoid(x1 + x2): the output is > 0.5 everywhere
    assert (view["output"] > 0.5).all()
    assert view["right"].tolist() == [False, True, True, False]
    assert_allclose(view["hidden_lines"][0], view["hidden_lines"][1])


def test_sliders_reshape_the_surface_and_update_the_count():
    """Do the nine sliders change the colour map, the title and the red rings?"""
    explorer = xor_network_explorer()
    assert len(explorer.controls) == 9
    assert explorer.controls["w1_01"].description == "W1[0,1]"
    assert "2 of 4 right" in explorer.axes[0].get_title()
    rings = artists(explorer.axes[0])["wrong"]
    rings_before = rings.get_offsets().shape[0]
    surface_before = explorer.view_data["surface"].copy()
    explorer.set(**XOR_SOLUTION)
    assert "4 of 4 right" in explorer.axes[0].get_title()
    assert rings_before == 2
    assert rings.get_offsets().shape[0] == 0  # no red ring left
    assert not np.allclose(explorer.view_data["surface"], surface_before)
    labels = sorted(text.get_text() for text in explorer.axes[0].texts)
    assert labels == ["0.06", "0.06", "0.92", "0.92"]


def test_hidden_unit_lines_follow_their_sliders():
    """Does the dashed line of hidden unit 0 move with its bias?"""
    explorer = xor_network_explorer(**XOR_SOLUTION)
    line = explorer.axes[0].lines[0]
    # the line 6 x1 + 6 x2 - 3 = 0 is x2 = 0.5 - x1
    assert_allclose(line.get_xdata() + line.get_ydata(), [0.5, 0.5])
    explorer.controls["b1_0"].value = -6.0
    line = explorer.axes[0].lines[0]
    assert_allclose(line.get_xdata() + line.get_ydata(), [1.0, 1.0])


def test_unknown_starting_value_is_refused():
    """Is a misspelled parameter name reported instead of ignored?"""
    with pytest.raises(TypeError, match="unknown parameter"):
        xor_network_explorer(w1_22=1.0)


@pytest.mark.parametrize(("method", "expected_std"), [
    ("xavier", np.sqrt(2 / (50 + 50))), ("he", np.sqrt(2 / 50)), ("small", 0.01),
    ("large", 1.0)])
def test_init_view_draws_weights_of_the_chosen_scale(method, expected_std):
    """Does each choice use the standard deviation it names (measured on the drawn weights,
    so as not to show Exercise 3.1's formulas: 7,500 draws, a relative sampling error of about
    0.8%, four times that allowed; the fixed scales are set exactly)?"""
    view = init_view(method=method, depth=3, width=50, n_samples=20)
    fixed = method in ("small", "large")
    assert view["weight_std"] == pytest.approx(expected_std, rel=1e-12 if fixed else 0.035)
    assert view["spread"].shape == (4,)
    assert view["spread"][0] == pytest.approx(1.0, abs=0.1)  # standard normal inputs
    assert view["last"].shape == (20 * 50,)


def test_the_signal_dies_or_survives_as_the_notebook_says():
    """Does the spread vanish with tiny weights, explode with large ones, and stay with He?"""
    relu = {m: init_view(method=m, activation="relu", depth=10)["spread"][-1]
            for m in INIT_CHOICES}
    assert relu["small"] < 1e-10 and relu["large"] > 1e6
    assert 0.1 < relu["he"] < 1.0 and relu["xavier"] < 0.01
    tanh = {m: init_view(method=m, activation="tanh", depth=10)["spread"][-1]
            for m in ("small", "xavier")}
    assert tanh["small"] < 1e-10 and 0.1 < tanh["xavier"] < 1.0


def test_init_explorer_redraws_for_each_control():
    """Do the method, activation and depth controls change the curve, title and histogram?"""
    explorer = init_explorer(method="xavier", activation="tanh", depth=10)
    ax_curve, ax_hist = explorer.axes
    assert ax_curve.get_title().startswith("Xavier, tanh:")
    assert len(ax_curve.lines[0].get_xdata()) == 11
    explorer.controls["depth"].value = 4
    assert len(ax_curve.lines[0].get_xdata()) == 5
    assert ax_curve.get_title().endswith("after 4 layers")
    assert ax_hist.get_title() == "the activations in layer 4"
    explorer.set(method="small", activation="relu")
    assert ax_curve.get_title().startswith("too small (std 0.01), relu:")
    assert_allclose(ax_curve.lines[0].get_ydata(), explorer.view_data["spread"])
    assert explorer.view_data["spread"][-1] < 1e-4  # std 0.01 shrinks it over 10x a layer
    counts, edges, _ = ax_hist.patches[0].get_data()
    assert len(counts) == 50 and counts.sum() == explorer.view_data["last"].size
    explorer.controls["depth"].value = 1
    assert ax_curve.get_title().endswith("after 1 layer")


def test_the_first_layers_of_the_deep_network_are_a_shallow_network():
    """Is the view of depth K what a K-layer network computes (it shows a 30-layer one)?"""
    view = init_view(method="he", activation="relu", depth=4, width=20, n_samples=16)
    weights, biases = network.init_params([20] * 5, method="he", seed=0)
    X = np.random.default_rng(1).normal(size=(16, 20))
    _, cache = network.forward_pass_with_cache(X, weights, biases, ["relu"] * 4)
    assert_allclose(view["spread"], [A.std(axis=0).mean() for A in cache.A])
    assert_allclose(view["last"], cache.A[-1].ravel())


def test_every_control_of_the_xor_explorer_changes_the_figure():
    """Does each of the nine sliders change the picture?"""
    explorer = xor_network_explorer(**XOR_SOLUTION)
    assert_every_control_matters(explorer, {name: value + 1.0
                                            for name, value in XOR_SOLUTION.items()})


def test_every_control_of_the_init_explorer_changes_the_figure():
    """Do the weights, the activation and the depth each change the picture?"""
    assert_every_control_matters(init_explorer(), dict(method="he", activation="relu",
                                                       depth=4))


def test_before_the_exercises_the_xor_explorer_draws_the_hidden_lines(student_nnlib):
    """Over the stubbed library, are the inputs and the hidden units' lines drawn?"""
    widgets = import_module(f"{student_nnlib.__name__}.widgets.network")
    explorer = widgets.xor_network_explorer(**XOR_SOLUTION)
    assert "nnlib/network.py first (Exercise 3." in explorer.status.value
    line = explorer.axes[0].lines[0]
    # hidden unit 0: 6 x1 + 6 x2 - 3 = 0 is x2 = 0.5 - x1
    assert_allclose(line.get_xdata() + line.get_ydata(), [0.5, 0.5])
    assert not explorer.axes[0].images[0].get_visible()
    assert "the output needs" in explorer.axes[0].get_title()


def test_before_the_exercises_the_init_explorer_says_what_to_implement(student_nnlib):
    """Does the init explorer over the stubbed library (nothing to draw) say what to implement?"""
    widgets = import_module(f"{student_nnlib.__name__}.widgets.network")
    explorer = widgets.init_explorer()
    assert explorer.view_data is None
    assert "nnlib/network.py first (Exercise 3." in explorer.status.value
    assert explorer.widget is not None
