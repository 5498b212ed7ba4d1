"""Headless tests of the notebook 05 explorers: set a control, check what is shown."""

from importlib import import_module

import numpy as np
import pytest
from explorers import assert_every_control_matters
from matplotlib.patches import Circle
from numpy.testing import assert_allclose

from nnlib.widgets.backprop import complexity_explorer, complexity_view, graph_explorer, graph_view

QUICK = dict(widths=(8, 16, 32), depths=(1, 2, 3), fixed_depth=2, fixed_width=16,
             n_samples=4, repeats=1)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_graph_view_matches_the_chain_rule_by_hand():
    """Are the forward values and gradients those of the chain rule, factor by factor?"""
    view = graph_view(x=2.0, target=1.0, w1=0.0, w2=1.0, v1=2.0, v2=0.0)
    # z = (0, 2), a = (0.5, sigmoid(2)); y_hat = 2 * 0.5 + 0 = 1 = target, so every gradient is 0
    assert_allclose(view["a_hidden"], [0.5, sigmoid(2.0)])
    assert view["y_hat"] == pytest.approx(1.0) and view["loss"] == pytest.approx(0.0)
    assert_allclose(view["dw_in"], [0.0, 0.0], atol=1e-15)
    view = graph_view(x=2.0, target=0.0, w1=0.0, w2=1.0, v1=2.0, v2=0.0)
    # y_hat = 1, target 0: dL/dy_hat = 2 (1 - 0) = 2
    # dL/dv1 = 2 * a1 = 1; dL/da1 = 2 * v1 = 4; dL/dz1 = 4 * 0.25 = 1; dL/dw1 = 1 * x = 2
    assert view["dz_out"] == pytest.approx(2.0)
    assert_allclose(view["dw_out"], [1.0, 2.0 * sigmoid(2.0)])
    assert_allclose(view["da_hidden"], [4.0, 0.0])
    assert_allclose(view["dz_hidden"], [1.0, 0.0])
    assert_allclose(view["dw_in"], [2.0, 0.0])


def test_graph_draws_five_nodes_and_their_numbers():
    """Does the graph show five circles, four weights and their gradients?"""
    explorer = graph_explorer()
    ax = explorer.axes[0]
    assert sum(isinstance(p, Circle) for p in ax.patches) == 5
    texts = [t.get_text() for t in ax.texts]
    for name in ("w₁", "w₂", "v₁", "v₂"):
        assert sum(name in t for t in texts) == 2  # the weight and its gradient
    red = [t for t in ax.texts if t.get_color() == "#cc0000"]
    assert len(red) >= 4 + 3  # four edge gradients, the hidden and output nodes


def gradient_text(ax, name):
    """The text of the gradient label of a weight."""
    return next(t.get_text() for t in ax.texts if t.get_text().startswith(f"∂L/∂{name}"))


def test_moving_the_input_changes_the_numbers_shown():
    """Does the input slider change the forward values, the gradients and the title?"""
    explorer = graph_explorer(x=1.0)
    ax = explorer.axes[0]
    title, dw1 = ax.get_title(), gradient_text(ax, "w₁")
    explorer.controls["x"].value = -1.5
    view = explorer.view_data
    assert ax.get_title() != title
    assert f"{view['loss']:.4f}" in ax.get_title()
    assert gradient_text(ax, "w₁") != dw1
    assert gradient_text(ax, "w₁").endswith(f"= {view['dw_in'][0]:.3f}")
    assert any(t.get_text() == "x = -1.50" for t in ax.texts)


def test_the_target_moves_only_the_backward_numbers():
    """Does changing the target leave the forward values and change the gradients?"""
    explorer = graph_explorer(target=0.0)
    before = explorer.view_data
    explorer.controls["target"].value = 1.0
    after = explorer.view_data
    assert_allclose(after["a_hidden"], before["a_hidden"])
    assert after["y_hat"] == before["y_hat"]
    # dL/dy_hat = 2 (y_hat - target) drops by exactly 2
    assert after["dz_out"] == pytest.approx(before["dz_out"] - 2.0)
    assert any(t.get_text() == "y = 1.00\nL = " + f"{after['loss']:.4f}"
               for t in explorer.axes[0].texts)


def test_complexity_view_has_one_point_per_size_and_an_L_n2_reference():
    """Does the reference curve grow like n**2 in width and like d in depth?"""
    view = complexity_view("width", **QUICK)
    assert view["sizes"].tolist() == [8, 16, 32]
    for key in ("forward", "backward", "forward_fit", "backward_fit", "ratio"):
        assert view[key].shape == (3,)
    assert (view["forward"] > 0).all() and (view["backward"] > 0).all()
    # doubling n multiplies d n**2 by 4
    assert_allclose(view["forward_fit"][1:] / view["forward_fit"][:-1], [4.0, 4.0])
    assert_allclose(view["cost"], [2 * 64, 2 * 256, 2 * 1024])
    view = complexity_view("depth", **QUICK)
    assert view["depth"].tolist() == [1, 2, 3] and view["width"].tolist() == [16] * 3
    assert_allclose(view["backward_fit"] / view["backward_fit"][0], [1.0, 2.0, 3.0])


def test_the_fit_is_the_least_squares_constant():
    """Is the fitted k the one that minimizes the squared error?"""
    view = complexity_view("width", **QUICK)
    k = view["forward_fit"][0] / view["cost"][0]
    residual = lambda c: np.sum((c * view["cost"] - view["forward"]) ** 2)  # noqa: E731
    assert residual(k) <= min(residual(k * 1.01), residual(k * 0.99))


def test_the_dropdown_switches_between_width_and_depth():
    """Does the dropdown change the x axis, the points and the reference curve?"""
    explorer = complexity_explorer(vary="width", **QUICK)
    ax = explorer.axes[0]
    assert ax.get_xlabel().startswith("width n")
    assert ax.get_title() == "time against width (K = 2 layers)"
    assert len(ax.lines) == 4 and len(ax.lines[0].get_xdata()) == 3
    assert_allclose(explorer.axes[1].lines[0].get_ydata(), explorer.view_data["ratio"])
    explorer.controls["vary"].value = "depth"
    assert ax.get_xlabel().startswith("depth K")
    assert ax.get_title() == "time against depth (n = 16 units)"
    assert ax.lines[0].get_xdata().tolist() == [1, 2, 3]
    fit = ax.lines[1].get_ydata()
    assert_allclose(fit / fit[0], [1.0, 2.0, 3.0])


def test_unknown_vary_is_refused():
    """Is a misspelled choice reported?"""
    with pytest.raises(ValueError, match="'width' or 'depth'"):
        complexity_view("height")


def test_every_control_of_the_graph_explorer_changes_the_figure():
    """Do the input, the target and the four weights each change the picture?"""
    assert_every_control_matters(graph_explorer(), dict(x=0.3, target=1.0, w1=2.0, w2=0.5,
                                                        v1=-1.0, v2=2.0))


def test_every_control_of_the_complexity_explorer_changes_the_figure():
    """Does the dropdown change the picture, and were both choices measured at once?"""
    explorer = complexity_explorer(vary="width", **QUICK)
    assert_every_control_matters(explorer, dict(vary="depth"))


def test_before_the_exercises_the_graph_shows_its_weights(student_nnlib):
    """Over the stubbed library, does the graph show its nodes and input, with ? for the rest?"""
    widgets = import_module(f"{student_nnlib.__name__}.widgets.backprop")
    explorer = widgets.graph_explorer(x=1.0)
    assert "first (Exercise 3." in explorer.status.value
    assert sum(isinstance(p, Circle) for p in explorer.axes[0].patches) == 5
    texts = [t.get_text() for t in explorer.axes[0].texts]
    assert "w₁" in texts and "∂L/∂w₁ = ?" in texts and "x = 1.00" in texts
    assert "ŷ = ?" in texts
    assert "the ? need" in explorer.axes[0].get_title()
    explorer.controls["x"].value = 2.0
    assert "x = 2.00" in [t.get_text() for t in explorer.axes[0].texts]


def test_over_the_stubbed_library_the_complexity_explorer_says_what_to_implement(student_nnlib):
    """Does the complexity explorer over the stubbed library say what to implement?"""
    widgets = import_module(f"{student_nnlib.__name__}.widgets.backprop")
    explorer = widgets.complexity_explorer(**QUICK)
    assert explorer.view_data is None
    assert "first (Exercise 3." in explorer.status.value
    assert explorer.widget is not None
