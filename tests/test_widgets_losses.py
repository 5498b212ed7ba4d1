"""Headless tests of the notebook 04 explorer: set a control, check what is shown."""

from importlib import import_module

import numpy as np
import pytest
from explorers import assert_every_control_matters
from numpy.testing import assert_allclose

from nnlib.widgets.losses import loss_explorer, loss_view


def test_loss_view_at_a_hand_worked_prediction():
    """Are the losses and slopes at p = 0.2, y = 1 the ones worked out by hand?"""
    view = loss_view(target=1.0, prediction=0.2)
    # MSE: (0.2 - 1)**2 = 0.64, slope 2 (0.2 - 1) = -1.6
    assert view["loss"]["mse"] == pytest.approx(0.64)
    assert view["slope"]["mse"] == pytest.approx(-1.6)
    # cross-entropy: -ln 0.2 = 1.6094..., slope (0.2 - 1) / (0.2 * 0.8) = -5
    assert view["loss"]["bce"] == pytest.approx(-np.log(0.2))
    assert view["slope"]["bce"] == pytest.approx(-5.0)
    # through a sigmoid, z = ln(0.2 / 0.8) and sigmoid'(z) = 0.2 * 0.8 = 0.16:
    # MSE -1.6 * 0.16 = -0.256;  cross-entropy p - y = -0.8
    assert view["z_now"] == pytest.approx(np.log(0.25))
    assert view["dz"]["mse"] == pytest.approx(-0.256)
    assert view["dz"]["bce"] == pytest.approx(-0.8)


def test_loss_curves_over_the_predictions():
    """Are the curves (p - y)**2 and -log of the probability of the target?"""
    view = loss_view(target=0.0, prediction=0.5)
    p = view["p"]
    assert 0.0 < p.min() and p.max() < 1.0
    assert_allclose(view["mse"], p ** 2)
    assert_allclose(view["bce"], -np.log(1.0 - p))


def test_cross_entropy_gradient_through_a_sigmoid_is_p_minus_y():
    """Is dL/dz for cross-entropy p - y, and MSE's 2 (p - y) p (1 - p)?"""
    view = loss_view(target=1.0)
    p = 1.0 / (1.0 + np.exp(-view["z"]))
    assert_allclose(view["bce_dz"], p - 1.0, atol=1e-12)
    assert_allclose(view["mse_dz"], 2.0 * (p - 1.0) * p * (1.0 - p), atol=1e-12)


def test_moving_the_prediction_moves_the_markers_and_the_legend():
    """Does the prediction slider move both markers and update the slopes in the legend?"""
    explorer = loss_explorer(target=1.0, prediction=0.5)
    explorer.controls["prediction"].value = 0.1
    ax = explorer.axes[0]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert [line.get_xdata()[0] for line in markers] == [0.1, 0.1]
    # MSE at 0.1: 0.81;  cross-entropy: -ln 0.1
    assert_allclose([line.get_ydata()[0] for line in markers], [0.81, -np.log(0.1)])
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    # slopes 2 (0.1 - 1) = -1.8 and (0.1 - 1) / (0.1 * 0.9) = -10
    assert legend == ["MSE: dL/dp = -1.8", "cross-entropy: dL/dp = -10"]
    assert ax.get_title() == "target y = 1, prediction p = 0.10"


def test_confident_wrong_prediction_blows_up_cross_entropy_only():
    """As p goes to 0 with y = 1, does only cross-entropy's slope grow without bound?"""
    explorer = loss_explorer(target=1.0, prediction=0.5)
    slopes = []
    for p in (0.5, 0.1, 0.01):
        explorer.controls["prediction"].value = p
        slopes.append(explorer.view_data["slope"])
    assert all(abs(s["mse"]) <= 2.0 for s in slopes)
    # (0.01 - 1) / (0.01 * 0.99) = -100, fifty times the slope -2 at p = 0.5
    assert slopes[-1]["bce"] == pytest.approx(-100.0) and slopes[0]["bce"] == -2.0
    # but through the sigmoid, it is MSE's gradient that fades: 2 * -0.99 * 0.0099 ~ -0.0196
    assert abs(explorer.view_data["dz"]["mse"]) < 0.02
    assert explorer.view_data["dz"]["bce"] == pytest.approx(-0.99)
    right = explorer.axes[1]
    assert [line.get_xdata()[0] for line in right.lines if line.get_marker() == "o"] == [
        pytest.approx(np.log(0.01 / 0.99))] * 2


def test_changing_the_target_mirrors_the_curves():
    """Does target 0 draw the mirror image of target 1's curves?"""
    explorer = loss_explorer(target=1.0)
    curves_for_one = [np.array(line.get_ydata()) for line in explorer.axes[0].lines[::3]]
    explorer.controls["target"].value = 0.0
    curves_for_zero = [np.array(line.get_ydata()) for line in explorer.axes[0].lines[::3]]
    for one, zero in zip(curves_for_one, curves_for_zero):
        assert_allclose(zero, one[::-1])
    assert explorer.axes[0].get_title().startswith("target y = 0")


def test_a_prediction_outside_0_1_is_refused():
    """Does the view refuse a prediction of exactly 0 or 1 with a clear error?"""
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            loss_view(prediction=bad)


def test_every_control_changes_the_figure():
    """Do the target and the prediction each change the picture?"""
    assert_every_control_matters(loss_explorer(), dict(target=0.0, prediction=0.6))


def test_before_the_exercises_the_axes_and_the_question_marks_are_drawn(student_nnlib):
    """Over the stubbed library, does the explorer say to implement mse first, and draw?"""
    widgets = import_module(f"{student_nnlib.__name__}.widgets.losses")
    explorer = widgets.loss_explorer()
    assert "implement mse in nnlib/losses.py first (Exercise 4.1)" in explorer.status.value
    assert explorer.view_data["loss"] == {}
    legend = [text.get_text() for text in explorer.axes[0].get_legend().get_texts()]
    assert legend == ["MSE: dL/dp = ?", "cross-entropy: dL/dp = ?"]
    assert "needs mse (Exercise 4.1)" in explorer.axes[0].get_title()
    explorer.controls["prediction"].value = 0.7
    assert "p = 0.70" in explorer.axes[0].get_title()
    assert explorer.widget is not None


def test_explorer_renders_with_a_static_image():
    """Does the explorer give a widget bundle with a PNG?"""
    bundle, _ = loss_explorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert len(bundle["image/png"]) > 1000
