"""Headless tests of the notebook 09 explorer: set a control, check what is shown."""

from importlib import import_module

import numpy as np
import pytest
from explorers import assert_every_control_matters, status_names
from matplotlib.patches import FancyBboxPatch

from nnlib import autograd
from nnlib.gradcheck import _numerical_gradient as numerical_gradient
from nnlib.gradcheck import check_gradient
from nnlib.widgets.autograd import (
    BOX_HEIGHT,
    BOX_WIDTH,
    EXPRESSIONS,
    backward_steps,
    expression_graph,
    graph_explorer,
    graph_view,
)


def grad_of(view, name):
    """The gradient the view shows for the node called ``name``."""
    return view["grads"][view["names"].index(name)]


def shown_texts(explorer):
    """The texts of the figure that are visible (the shown expression's)."""
    return [t.get_text() for t in explorer.axes[0].texts if t.get_visible()]


def test_shared_input_ends_with_the_sum_of_both_paths():
    """Does x in x·y + x end with d f / d x = y + 1, and y with x?"""
    view = graph_view("shared", x=2.0, y=-3.0)
    # f = 2 * -3 + 2 = -4
    assert view["values"][0] == -4.0
    # d f / d x = y + 1 = -3 + 1 = -2;  d f / d y = x = 2;  d f / d (x·y) = 1
    assert grad_of(view, "x") == -2.0
    assert grad_of(view, "y") == 2.0
    assert grad_of(view, "×") == 1.0
    assert view["step"] == view["steps"] == 2 and view["agrees"] and view["topological"]


def test_after_the_first_step_x_holds_only_its_first_contribution():
    """Step by step, does x show the gradient of the + alone, then the sum with the ×'s?"""
    view = graph_view("shared", x=2.0, y=-3.0, step=1)
    # step 1 processes f's + : it passes 1 * 1 = 1 to each of its inputs, the × and x
    assert view["names"][view["current"]] == "+"
    assert view["passed"] == (1.0, 1.0)
    assert grad_of(view, "x") == 1.0 and grad_of(view, "×") == 1.0
    assert np.isnan(grad_of(view, "y"))  # nothing has reached y yet
    view = graph_view("shared", x=2.0, y=-3.0, step=2)
    # step 2 processes the × (grad 1): 1 * y = -3 to x, so x holds 1 + -3 = -2; 1 * x = 2 to y
    assert view["names"][view["current"]] == "×"
    assert view["passed"] == (-3.0, 2.0) and view["local"][view["current"]] == (-3.0, 2.0)
    assert grad_of(view, "x") == -2.0 and grad_of(view, "y") == 2.0


def test_step_0_shows_only_the_values():
    """At step 0, is f's own gradient 1 the only one, in the view and in the figure?"""
    view = graph_view("shared", x=2.0, y=-3.0, step=0)
    assert view["current"] is None and view["done"] == ()
    assert view["grads"][0] == 1.0 and np.isnan(view["grads"][1:]).all()
    explorer = graph_explorer("shared", x=2.0, y=-3.0, step=0)
    texts = shown_texts(explorer)
    assert [t for t in texts if t.startswith("grad")] == ["grad 1"]
    # x = 2, y = -3, x·y = -6, f = -4
    assert {"value 2", "value -3", "value -6", "value -4"} <= set(texts)
    assert "step 0 of 2" in explorer.axes[0].get_title()


def test_the_neuron_matches_micrograd_by_hand():
    """Are the neuron's gradients at x = 2, y = 0 micrograd's numbers?"""
    view = graph_view("neuron", x=2.0, y=0.0)
    # n = 2 * -3 + 0 * 1 + 6.8814 = 0.8814;  f = tanh(n) = 0.7071 = 1 / sqrt(2)
    assert view["values"][0] == pytest.approx(np.sqrt(0.5), rel=1e-12)
    # d f / d n = 1 - f**2 = 0.5, passed unchanged by both +; then through the products:
    # d f / d x = 0.5 * w = -1.5, d f / d w = 0.5 * x = 1, d f / d y = 0.5 * v = 0.5,
    # d f / d v = 0.5 * y = 0, d f / d b = 0.5
    expected = {"x": -1.5, "w": 1.0, "y": 0.5, "v": 0.0, "b": 0.5, "tanh": 1.0}
    for name, grad in expected.items():
        assert grad_of(view, name) == pytest.approx(grad, rel=1e-12, abs=1e-15), name
    assert view["steps"] == 5  # two products, two sums and the tanh


@pytest.mark.parametrize("expression", list(EXPRESSIONS))
def test_the_gradients_of_x_and_y_pass_a_central_difference_check(expression):
    """Do the full pass's d f / d x and d f / d y match central differences of f?"""
    # (not where the neuron saturates: at (-0.7, 1.3), tanh(10.3) leaves gradients of 1e-8,
    # of which central differences keep only four digits)
    for x, y in [(2.0, -3.0), (1.5, 0.5)]:
        view = graph_view(expression, x=x, y=y)
        numerical = numerical_gradient(
            lambda p: expression_graph(expression, p[0], p[1])[0].values[0], [x, y])
        check_gradient([grad_of(view, "x"), grad_of(view, "y")], numerical,
                       name=f"{expression} at ({x}, {y})")


def test_the_layout_reads_left_to_right_and_no_arrow_crosses_a_box():
    """Is every input left of its operation, with x used twice by two arrows, and does
    every arrow miss the boxes it does not join?"""
    view = graph_view("shared")
    x = view["names"].index("x")
    assert sum(start == x for start, _, _ in view["edges"]) == 2
    for expression in EXPRESSIONS:
        view = graph_view(expression)
        positions = view["positions"]
        for start, end, points in view["edges"]:
            assert positions[start][0] < positions[end][0]
            assert (np.diff(points[:, 0]) > 0).all()
            samples = np.concatenate([np.linspace(a, b, 50) for a, b in zip(points, points[1:])])
            for node, (cx, cy) in enumerate(positions):
                if node in (start, end):
                    continue
                inside = ((np.abs(samples[:, 0] - cx) < BOX_WIDTH / 2)
                          & (np.abs(samples[:, 1] - cy) < BOX_HEIGHT / 2))
                assert not inside.any(), (expression, start, end, node)


def test_the_figure_shows_the_partial_gradient_then_the_sum():
    """Does the figure show x's first contribution, then the sum, and say what was passed?"""
    explorer = graph_explorer("shared", x=2.0, y=-3.0, step=1)
    ax = explorer.axes[0]
    assert sum(isinstance(p, FancyBboxPatch) and p.get_visible() for p in ax.patches) == 4
    assert shown_texts(explorer).count("grad 1") == 3  # f, the × and x
    assert "+ passes 1 × 1 = 1 to ×, 1 × 1 = 1 to x" in ax.get_title()
    explorer.controls["step"].value = 2
    texts = shown_texts(explorer)
    assert "grad -2" in texts and "grad 2" in texts
    assert "× passes 1 × -3 = -3 to x, 1 × 2 = 2 to y" in ax.get_title()
    assert ax.get_title().startswith("f(x, y) = x·y + x;   f(2, -3) = -4")


def test_another_expression_gets_its_own_number_of_steps():
    """Does the step slider span the new expression's operations, staying at the end?"""
    explorer = graph_explorer("shared", step=2)
    step = explorer.controls["step"]
    explorer.controls["expression"].value = "neuron"
    assert step.max == backward_steps("neuron") == 5 and step.value == 5
    explorer.controls["step"].value = 1
    explorer.controls["expression"].value = "square"
    assert step.max == 2 and step.value == 1
    assert explorer.view_data["expression"] == "square" and explorer.view_data["step"] == 1


def test_a_wrong_order_or_backward_pass_is_pointed_out(monkeypatch):
    """Does the title say when topological_order's list is not topological, or when
    backward_pass disagrees with the steps?"""
    # the search's order, f first: the × is processed after x has been passed on
    monkeypatch.setattr(autograd, "topological_order", lambda parents, root: [0, 1, 2, 3])
    view = graph_view("shared")
    assert not view["topological"]
    assert "not a topological order" in graph_explorer("shared").axes[0].get_title()
    monkeypatch.undo()
    monkeypatch.setattr(autograd, "backward_pass", lambda graph: [1.0, 0.0, 0.0, 0.0])
    assert not graph_view("shared")["agrees"]
    assert "backward_pass returns other gradients" in graph_explorer("shared").axes[0].get_title()


def test_an_unknown_expression_or_a_negative_step_is_refused():
    """Are a misspelled expression and a negative step reported?"""
    with pytest.raises(ValueError, match="shared, square, softplus, neuron"):
        graph_view("cube")
    with pytest.raises(ValueError, match="step must be 0 or more"):
        graph_view(step=-1)


def test_every_control_changes_the_figure():
    """Do the expression, x, y and the step each change the picture?"""
    assert_every_control_matters(graph_explorer(),
                                 dict(expression="neuron", x=1.0, y=0.5, step=3))


def test_before_the_exercises_the_graph_shows_its_values(student_nnlib):
    """Over the stubbed library, does the graph show its values and name Exercise 9.1?"""
    widgets = import_module(f"{student_nnlib.__name__}.widgets.autograd")
    explorer = widgets.graph_explorer("shared", x=2.0, y=-3.0)
    assert status_names(explorer, "implement local_derivatives in nnlib/autograd.py first "
                                  "(Exercise 9.1)")
    texts = shown_texts(explorer)
    assert {"value 2", "value -3", "value -6", "value -4"} <= set(texts)
    assert not [t for t in texts if t.startswith("grad")]
    assert "the gradients need local_derivatives (Exercise 9.1)" in explorer.axes[0].get_title()
    assert explorer.controls["step"].disabled
    explorer.controls["x"].value = 1.0
    assert "value -2" in shown_texts(explorer)  # 1 * -3 + 1


def test_the_first_exercise_not_done_is_named(student_nnlib, monkeypatch):
    """With local_derivatives and topological_order done, is backward_pass named next?"""
    student = import_module(f"{student_nnlib.__name__}.autograd")
    widgets = import_module(f"{student_nnlib.__name__}.widgets.autograd")
    for name in ("local_derivatives", "topological_order"):
        monkeypatch.setattr(student, name, getattr(autograd, name))
    view = widgets.graph_view("shared")
    assert "Exercise 9.3: implement backward_pass" in str(view["missing"])
    assert view["grads"] is None and view["values"][0] == -4.0
