"""Headless tests of the notebook 01 explorers: set a control, check what is shown."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nnlib.widgets import friendly_message
from nnlib.widgets.perceptron import boundary_explorer, perceptron_view, training_explorer


def test_perceptron_view_marks_the_misclassified_inputs():
    """Does the view count the inputs on the wrong side of the boundary?"""
    # w = (1, 1), b = -1.5: only (1, 1) scores above 0 -> exactly AND
    assert perceptron_view(1.0, 1.0, -1.5, "and")["n_wrong"] == 0
    # the same perceptron on OR gets (0, 1) and (1, 0) wrong
    view = perceptron_view(1.0, 1.0, -1.5, "or")
    assert view["wrong"].tolist() == [False, True, True, False]


def test_moving_the_bias_moves_the_line_and_the_count():
    """Does a bias slider move the drawn boundary and update the title?"""
    explorer = boundary_explorer()
    line = explorer.axes[0].lines[0]
    before = np.array(line.get_ydata())
    explorer.controls["b"].value = -0.5
    after = np.array(explorer.axes[0].lines[0].get_ydata())
    # the line is x2 = -(x1 + b): b from -1.5 to -0.5 lowers it by 1
    assert_allclose(after - before, [-1.0, -1.0])
    # on AND, (0, 1) and (1, 0) now score 0.5 > 0 but their target is 0
    assert explorer.view_data["wrong"].tolist() == [False, True, True, False]
    assert "2 of 4 misclassified" in explorer.axes[0].get_title()


def test_xor_always_has_a_mistake():
    """Does every slider setting leave at least one XOR input misclassified?"""
    explorer = boundary_explorer(gate="xor")
    for w1 in (-2.0, -0.5, 1.0, 2.0):
        for b in (-2.0, -0.3, 0.4, 1.5):
            explorer.set(w1=w1, b=b)
            assert explorer.view_data["n_wrong"] >= 1


def test_training_replay_moves_epoch_by_epoch():
    """Does the epoch slider replay training until OR is learned?"""
    explorer = training_explorer(gate="or", epoch=1)
    assert not explorer.view_data["converged"]
    first_bars = len(explorer.axes[1].patches)
    explorer.controls["epoch"].value = 10
    assert explorer.view_data["converged"]
    assert explorer.view_data["n_wrong"] == 0
    assert len(explorer.axes[1].patches) > first_bars
    assert explorer.axes[1].get_title() == "converged"


def test_an_unimplemented_function_gets_a_friendly_message(student_nnlib):
    """Does an explorer over the stubbed library say what to implement instead of failing?"""
    from importlib import import_module

    widgets = import_module(f"{student_nnlib.__name__}.widgets.perceptron")
    explorer = widgets.boundary_explorer()
    assert explorer.view_data is None
    assert "implement perceptron_predict in nnlib/perceptron.py first (Exercise 1.2)" in (
        explorer.status.value)
    assert explorer.widget is not None  # it still displays


def test_friendly_message_without_an_exercise_label():
    """Does a NotImplementedError without a label still read sensibly?"""
    try:
        raise NotImplementedError("not yet")
    except NotImplementedError as error:
        assert friendly_message(error).endswith("not yet")


@pytest.mark.parametrize("gate", ["and", "or", "xor"])
def test_explorer_renders_as_a_widget_with_a_static_image(gate):
    """Does the explorer give a widget bundle plus a PNG for pages without a kernel?"""
    bundle = boundary_explorer(gate=gate)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert len(bundle["image/png"]) > 1000


def test_explorers_skip_all_work_during_autograding(monkeypatch):
    """Does an explorer compute and draw nothing while nbgrader autogrades?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    explorer = boundary_explorer()
    assert explorer.figure is None and explorer.view_data is None
    assert "not drawn during autograding" in explorer.status.value
    assert "image/png" not in explorer._repr_mimebundle_()
