"""Headless tests of the notebook 02 explorers: set a control, check what is shown."""

from importlib import import_module

import numpy as np
import pytest
from explorers import assert_every_control_matters, fresh_picture, picture
from numpy.testing import assert_allclose

from nnlib.widgets.activations import (
    NAMES,
    activation_explorer,
    activation_view,
    depth_explorer,
    depth_view,
    output_range,
)


def test_activation_view_holds_the_function_and_its_derivative():
    """Does the view give sigmoid(0) = 0.5 and the largest slope 0.25 over [-6, 6]?"""
    view = activation_view("sigmoid")
    assert view["z"][0] == -6.0 and view["z"][-1] == 6.0
    middle = np.flatnonzero(view["z"] == 0.0)[0]
    assert view["value"][middle] == pytest.approx(0.5)
    assert view["max_derivative"] == pytest.approx(0.25)
    assert view["range"] == "(0, 1)"


@pytest.mark.parametrize("name, expected", [("sigmoid", "(0, 1)"), ("tanh", "(-1, 1)"),
                                            ("relu", "[0, ∞)"), ("leaky_relu", "(-∞, ∞)")])
def test_every_activation_has_its_range(name, expected):
    """Is each activation's output range the one the notes give?"""
    assert output_range(name) == expected


def test_choosing_an_activation_redraws_both_curves_and_the_title():
    """Does the dropdown replace the curves and put the new range in the title?"""
    explorer = activation_explorer()
    assert "sigmoid: range (0, 1)" in explorer.axes[0].get_title()
    explorer.controls["activation"].value = "relu"
    z = explorer.axes[0].lines[-1].get_xdata()
    assert_allclose(explorer.axes[0].lines[-1].get_ydata(), np.maximum(z, 0.0))
    # ReLU' is 0 left of 0 and 1 right of it
    assert_allclose(explorer.axes[1].lines[-1].get_ydata(), np.where(z > 0, 1.0, 0.0))
    assert "ReLU: range [0, ∞)" in explorer.axes[0].get_title()
    assert "largest 1" in explorer.axes[1].get_title()


def test_alpha_slider_sets_the_leaky_slope():
    """Does alpha set leaky ReLU's slope for z < 0, and does alpha = 0 make it a ReLU?"""
    explorer = activation_explorer(activation="leaky_relu", alpha=0.1)
    # f(-6) = 0.1 * -6 = -0.6;  f'(-6) = alpha = 0.1
    assert explorer.axes[0].lines[-1].get_ydata()[0] == pytest.approx(-0.6)
    assert explorer.axes[1].lines[-1].get_ydata()[0] == pytest.approx(0.1)
    assert "alpha = 0.10" in explorer.axes[0].get_title()
    explorer.controls["alpha"].value = 0.0
    assert explorer.view_data["value"][0] == 0.0
    assert explorer.view_data["range"] == "[0, ∞)"
    assert "range [0, ∞)" in explorer.axes[0].get_title()


def test_alpha_does_not_change_the_other_activations():
    """Is alpha ignored by sigmoid, tanh and ReLU?"""
    for name in ("sigmoid", "tanh", "relu"):
        assert_allclose(activation_view(name, alpha=0.3)["value"],
                        activation_view(name, alpha=0.0)["value"])


def test_depth_view_multiplies_one_derivative_per_layer():
    """Is the running product the cumulative product of f'(z_l), below 0.25**L for sigmoid?"""
    view = depth_view("sigmoid", depth=12)
    s = 1.0 / (1.0 + np.exp(-view["z"]))
    assert_allclose(view["factors"], s * (1.0 - s))
    assert_allclose(view["product"], np.cumprod(s * (1.0 - s)))
    assert np.all(view["product"] <= view["bound"])
    assert_allclose(view["bound"], 0.25 ** np.arange(1, 13))


def test_depth_views_share_their_pre_activations():
    """Do all activations see the same z_l for a seed, and a deeper chain extend a shorter one?"""
    short, deep = depth_view("tanh", depth=5), depth_view("relu", depth=20)
    assert_allclose(short["z"], deep["z"][:5])
    assert not np.allclose(depth_view("tanh", seed=1)["z"], depth_view("tanh", seed=0)["z"])


def test_the_spread_scales_the_draws_of_a_seed():
    """Are the z_l for a spread of 2 twice those of the default spread, and does sigmoid's
    product fall with the spread?"""
    assert_allclose(depth_view("sigmoid", spread=2.0)["z"], 2.0 * depth_view("sigmoid")["z"])
    finals = [depth_view("sigmoid", depth=30, spread=spread)["final"] for spread in (1.0, 2.0, 3.0)]
    assert finals[0] > finals[1] > finals[2]


def test_relu_on_its_active_side_keeps_the_product_at_one():
    """On the active side, does ReLU's product stay 1 while sigmoid's and tanh's shrink?"""
    for name in ("relu", "leaky_relu"):
        assert depth_view(name, depth=30, active_side=True)["final"] == 1.0
    assert depth_view("sigmoid", depth=30, active_side=True)["final"] < 0.25 ** 30
    assert depth_view("tanh", depth=30, active_side=True)["final"] < 1e-3


def test_relu_with_both_signs_reports_the_first_zero():
    """With negative z allowed, is ReLU's product exactly 0 from the first inactive layer on?"""
    view = depth_view("relu", depth=30)
    first = view["first_zero"]
    assert first is not None and view["z"][first - 1] <= 0.0 and np.all(view["z"][:first - 1] > 0)
    assert np.all(view["product"][first - 1:] == 0.0)
    # leaky ReLU multiplies by alpha = 0.01 instead: small, but never 0
    assert depth_view("leaky_relu", depth=30)["first_zero"] is None


def test_depth_slider_extends_the_drawn_curve():
    """Does the depth slider add points to the curve and update the title?"""
    explorer = depth_explorer(activation="sigmoid", depth=5)
    product_line = explorer.axes[0].lines[-1]
    assert len(product_line.get_xdata()) == 5
    explorer.controls["depth"].value = 20
    product_line = explorer.axes[0].lines[-1]
    assert len(product_line.get_xdata()) == 20
    assert_allclose(product_line.get_ydata(), explorer.view_data["product"])
    assert explorer.axes[0].get_yscale() == "log"
    assert (f"sigmoid: after 20 layers: {explorer.view_data['final']:.3g}"
            == explorer.axes[0].get_title())


def test_switching_to_relu_shows_where_the_product_dies():
    """Does ReLU with both signs leave the zero product undrawn and say where it died?"""
    explorer = depth_explorer(activation="sigmoid", depth=30)
    explorer.controls["activation"].value = "relu"
    first = explorer.view_data["first_zero"]
    shown = np.asarray(explorer.axes[0].lines[-1].get_ydata(), dtype=float)
    assert np.all(np.isnan(shown[first - 1:])) and np.all(shown[:first - 1] == 1.0)
    assert f"from layer {first}" in explorer.axes[0].get_title()
    explorer.controls["active_side"].value = True
    assert explorer.axes[0].get_title() == "ReLU: after 30 layers: 1"


def test_alpha_is_disabled_unless_leaky_relu_is_chosen():
    """Is the alpha slider disabled while it cannot change the figure?"""
    explorer = activation_explorer(activation="sigmoid")
    assert explorer.controls["alpha"].disabled
    explorer.controls["activation"].value = "leaky_relu"
    assert not explorer.controls["alpha"].disabled
    explorer.controls["activation"].value = "relu"
    assert explorer.controls["alpha"].disabled


@pytest.mark.parametrize("activation", NAMES)
def test_every_control_of_the_activation_explorer_changes_the_figure(activation):
    """From every activation, does each enabled control change the picture?"""
    other = next(name for name in NAMES if name != activation)
    assert_every_control_matters(activation_explorer(activation=activation, alpha=0.1),
                                 dict(alpha=0.3, activation=other))


def test_every_control_of_the_depth_explorer_changes_the_figure():
    """Do the depth, the seed, the active side, the activation and the spread change the
    picture?"""
    explorer = depth_explorer(activation="sigmoid", depth=10)
    assert_every_control_matters(explorer, dict(depth=20, seed=3, spread=2.0,
                                                active_side=True, activation="relu"))


def test_every_activation_is_drawn_before_it_is_chosen():
    """Are the dropdown's other choices drawn when the explorer is made, so that choosing one
    draws no tick again, and does drawing a choice leave the shown figure as it was?"""
    from nnlib.widgets._explorer import Backdrop

    explorer = activation_explorer("sigmoid")
    shown = picture(explorer)
    backdrop = next(a for a in explorer.figure.artists if isinstance(a, Backdrop))
    kept = set(backdrop._pictures)
    assert len(kept) >= len(NAMES), (
        f"expected kept pictures of the ticks for each of the {len(NAMES)} activations, "
        f"got {len(kept)}")
    explorer.prepare(activation="relu")
    assert np.array_equal(picture(explorer), shown), "drawing a choice changed the figure"
    for name in NAMES:
        explorer.controls["activation"].value = name
        assert np.array_equal(picture(explorer), fresh_picture(explorer))
        assert set(backdrop._pictures) == kept, (
            f"choosing {name} drew the ticks again: its picture was not kept beforehand")


def test_the_active_side_says_when_it_changes_nothing():
    """With sigmoid (an even derivative), does the title say |z| changes nothing?"""
    explorer = depth_explorer(activation="sigmoid", depth=10)
    explorer.controls["active_side"].value = True
    assert explorer.view_data["even"]
    assert "f' is even: |z| changes nothing" in explorer.axes[0].get_title()
    explorer.controls["activation"].value = "relu"
    assert not explorer.view_data["even"] and "even" not in explorer.axes[0].get_title()


def test_before_the_exercises_the_explorers_draw_what_they_can(student_nnlib):
    """Over the stubbed library, do both explorers draw what they can and say what is missing?"""
    widgets = import_module(f"{student_nnlib.__name__}.widgets.activations")
    explorer = widgets.activation_explorer()
    assert "implement sigmoid in nnlib/activations.py first (Exercise 2.1)" in (
        explorer.status.value)
    assert "needs sigmoid (Exercise 2.1)" in explorer.axes[0].get_title()
    explorer.controls["activation"].value = "leaky_relu"
    assert "implement leaky_relu in nnlib/activations.py first (Exercise 2.7)" in (
        explorer.status.value)
    depth = widgets.depth_explorer(activation="tanh")
    assert "implement tanh_derivative in nnlib/activations.py first (Exercise 2.4)" in (
        depth.status.value)
    # sigmoid's bound 0.25**L needs no exercise: it is drawn
    bound = depth.axes[0].lines[0]
    assert_allclose(bound.get_ydata(), 0.25 ** np.arange(1, 11))
    assert "tanh_derivative (Exercise 2.4)" in depth.axes[0].get_title()
    assert depth.widget is not None


def test_explorers_render_with_a_static_image():
    """Do both explorers give a widget bundle with a PNG, for every activation?"""
    for explorer in (activation_explorer(), depth_explorer()):
        for name in NAMES:
            explorer.controls["activation"].value = name
            assert explorer.view_data["activation"] == name
        bundle, _ = explorer._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert len(bundle["image/png"]) > 1000
