"""Headless tests of the notebook 07 explorer: hidden units against the quality of a fit."""

from importlib import import_module

import numpy as np
from explorers import assert_every_control_matters
from numpy.testing import assert_allclose

from nnlib import network
from nnlib.widgets.approximation import approximation_explorer, approximation_view, spread_init


def test_spread_init_puts_the_switch_points_inside_the_interval():
    """Does unit j of the starting network switch (tanh(w x + b) = 0) at its own place?"""
    weights, biases = spread_init(4, seed=0)
    assert [w.shape for w in weights] == [(4, 1), (1, 4)]
    assert [b.shape for b in biases] == [(4,), (1,)]
    switch_at = -biases[0] / weights[0][:, 0]
    # four points evenly inside [-pi, pi]: -pi + k * 2pi/5 for k = 1..4
    assert_allclose(switch_at, -np.pi + np.arange(1, 5) * 2 * np.pi / 5)
    assert np.all(np.sign(weights[0][:, 0]) == [1, -1, 1, -1])


def test_the_view_reports_the_fit_it_draws():
    """Is the MSE in the view the mean squared gap between the fit and the curve?"""
    view = approximation_view("abs", hidden_units=3, epochs=50)
    assert view["units"].shape == (400, 3) and len(view["history"]) == 50
    # the output is the hidden units' terms plus the output bias
    assert_allclose(view["units"].sum(axis=1) + view["output_bias"], view["fit"])
    assert np.isclose(view["mse"], view["history"][-1], rtol=0.05)


def test_more_hidden_units_fit_the_bumps_better():
    """Does the slider from 1 to 20 units shrink the MSE shown in the title?"""
    explorer = approximation_explorer(kind="bumps", hidden_units=1)
    one = explorer.view_data["mse"]
    assert "1 hidden unit: MSE" in explorer.axes[0].get_title()
    explorer.controls["hidden_units"].value = 20
    twenty = explorer.view_data["mse"]
    assert twenty < 0.05 * one
    assert f"20 hidden units: MSE {twenty:.4f}" in explorer.axes[0].get_title()
    assert len(explorer.axes[1].collections[0].get_segments()) == 20  # a term per unit
    fit_line = explorer.axes[0].lines[1]
    assert_allclose(fit_line.get_ydata(), explorer.view_data["fit"])


def test_the_curve_dropdown_changes_the_target():
    """Does choosing another curve redraw the target, and is training seeded?"""
    explorer = approximation_explorer(kind="sine", hidden_units=3)
    sine = explorer.view_data
    assert_allclose(explorer.axes[0].lines[0].get_ydata(), np.sin(sine["x"]))
    explorer.controls["kind"].value = "step"
    assert_allclose(explorer.axes[0].lines[0].get_ydata(), (explorer.view_data["x"] > 0) * 1.0)
    assert explorer.axes[0].get_title().startswith("step, 3 hidden units")
    explorer.controls["kind"].value = "sine"
    assert_allclose(explorer.view_data["fit"], sine["fit"])


def test_the_fit_is_the_trained_network():
    """Is the drawn fit the forward pass of a [1, H, 1] tanh network?"""
    view = approximation_view("sine", hidden_units=2, epochs=1)
    weights, biases = spread_init(2)
    # one full-batch step cannot move the network far from its start
    start = network.forward_pass(view["x"].reshape(-1, 1), weights, biases,
                                 ["tanh", "identity"])[:, 0]
    assert np.max(np.abs(view["fit"] - start)) < 0.5


def test_every_control_changes_the_figure():
    """Do the curve and the number of hidden units each change the picture?"""
    assert_every_control_matters(approximation_explorer(kind="sine", hidden_units=3),
                                 dict(kind="abs", hidden_units=4))


def test_each_setting_is_trained_once():
    """Does moving back to a setting reuse the network trained for it?"""
    first = approximation_view("step", hidden_units=2, epochs=20)
    again = approximation_view("step", hidden_units=2, epochs=20)
    assert again["fit"] is first["fit"]


def test_before_the_exercises_the_target_is_drawn(student_nnlib):
    """Over the stubbed library, does the explorer draw the curve and name what it needs?"""
    module = import_module(f"{student_nnlib.__name__}.widgets.approximation")
    explorer = module.approximation_explorer()
    assert "implement init_params in nnlib/network.py first (Exercise 3.1)" in (
        explorer.status.value)
    target = explorer.axes[0].lines[0]
    assert_allclose(target.get_ydata(), np.sin(explorer.view_data["x"]))
    assert len(explorer.axes[0].lines[1].get_xdata()) == 0  # no fit yet
    assert "init_params (Exercise 3.1)" in explorer.axes[0].get_title()
    assert explorer.widget is not None
