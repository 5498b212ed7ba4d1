"""Headless tests of the notebook 06 explorers: set a control, check what is shown."""

import base64
from importlib import import_module

import numpy as np
import pytest
from explorers import assert_every_control_matters, fresh_picture, picture
from libraries import released_library
from matplotlib.collections import PathCollection
from numpy.testing import assert_allclose

from nnlib import backprop, datasets, network, training
from nnlib.widgets import training as widgets_training
from nnlib.widgets.training import (
    PLAYGROUND_NOISE,
    PLAYGROUND_TEST_SEED,
    SURFACE_X,
    SURFACE_Y,
    descent_explorer,
    descent_view,
    playground_data,
    playground_explorer,
    playground_view,
    training_monitor,
)

# ---------------------------------------------------------------- the loss surface


def test_one_step_moves_against_the_gradient():
    """Is the first step of the path (w, b) - lr * dL/d(w, b) for the unit's MSE?"""
    view = descent_view(learning_rate=0.1, steps=1, w0=-1.0, b0=2.0)
    x, y = SURFACE_X[:, 0], SURFACE_Y[:, 0]
    error = -1.0 * x + 2.0 - y
    gradient = np.array([2.0 * np.mean(error * x), 2.0 * np.mean(error)])
    assert_allclose(view["path"][1], np.array([-1.0, 2.0]) - 0.1 * gradient)
    assert_allclose(view["losses"][0], np.mean(error**2))


def test_the_steps_slider_lengthens_the_drawn_path():
    """Does the steps slider add points to the drawn path and to the loss curve?"""
    explorer = descent_explorer(learning_rate=0.05, steps=5)
    assert len(explorer.axes[0].lines[0].get_xdata()) == 6  # the start and 5 steps
    explorer.controls["steps"].value = 40
    assert len(explorer.axes[0].lines[0].get_xdata()) == 41
    assert len(explorer.axes[1].lines[0].get_ydata()) == 41
    assert "after 40 steps" in explorer.axes[0].get_title()


def test_small_good_and_large_learning_rates():
    """Does a tiny rate crawl, a good one arrive and a large one diverge, as the titles say?"""
    explorer = descent_explorer(learning_rate=0.001, steps=50)
    slow = explorer.view_data["losses"]
    assert slow[-1] > 10 * explorer.view_data["surface"].min()
    explorer.controls["learning_rate"].value = 0.14
    good = explorer.view_data
    assert good["losses"][-1] < 1.5 * good["surface"].min()
    assert_allclose(good["path"][-1], good["minimum"], atol=0.3)
    explorer.controls["learning_rate"].value = 0.5
    view = explorer.view_data
    assert view["diverged"] and len(view["path"]) < 51  # stopped early, no overflow warning
    assert np.all(np.isfinite(view["losses"]))
    assert "diverged after" in explorer.axes[0].get_title()
    # the drawing stays on the contour plot's window even though the path left it
    assert explorer.axes[0].get_xlim() == widgets_training.W_LIMITS


def test_a_rate_just_above_the_limit_oscillates_with_a_rising_loss():
    """Is a slowly diverging path reported as rising rather than as finished?"""
    explorer = descent_explorer(learning_rate=0.16, steps=50)
    losses = explorer.view_data["losses"]
    assert not explorer.view_data["diverged"] and losses[-1] > losses[0]
    assert "rising" in explorer.axes[0].get_title()


# ---------------------------------------------------------------- the playground


def test_playground_learns_xor_and_draws_the_loss_curve():
    """Does the playground draw one loss value per epoch and a boundary that fits XOR?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, learning_rate=1.0,
                                   epochs=60)
    assert explorer.view_data["accuracy"] >= 0.95
    assert len(explorer.axes[1].lines[0].get_ydata()) == 60
    title = explorer.axes[0].get_title()
    # the title names the noise as the slider does ("noise level 1.00"), then the σ it gives
    assert "xor, noise level 1.00 (σ = 0.15)" in title and "60 of 60 epochs" in title
    explorer.controls["epochs"].value = 20
    assert len(explorer.axes[1].lines[0].get_ydata()) == 20


def test_one_hidden_unit_cannot_draw_a_circle():
    """Does the circles data need more than one hidden unit, as the title shows?"""
    explorer = playground_explorer(dataset="circles", hidden_units=1, epochs=60)
    assert explorer.view_data["accuracy"] < 0.8
    explorer.controls["hidden_units"].value = 8
    assert explorer.view_data["accuracy"] > 0.9 and explorer.view_data["test_accuracy"] > 0.9
    title = explorer.axes[0].get_title()
    assert title.startswith("circles, noise") and "epochs: 9" in title and "on test" in title


def test_progress_receives_the_network_while_it_trains():
    """Does the view pass growing snapshots to `progress`, ending where it ends?"""
    snapshots = []
    final = playground_view("moons", hidden_units=4, epochs=40, progress=snapshots.append,
                            frames=4)
    assert [len(s["history"]) for s in snapshots] == [10, 20, 30]
    assert len(final["history"]) == 40
    assert_allclose(snapshots[-1]["history"], final["history"][:30])
    assert snapshots[0]["probability"].shape == final["probability"].shape


def test_the_button_replays_training_frame_by_frame():
    """Does the button redraw the figure several times and finish on the trained network?"""
    explorer = playground_explorer(dataset="moons", hidden_units=4, epochs=40)
    trained = explorer.view_data
    button, frame, states = explorer.train_button, explorer.frame, set()
    explorer.frame = lambda view: states.add((button.disabled, button.description)) or frame(view)
    button.click()
    assert states == {(True, "training...")}, f"while replaying, the button was {states}"
    assert (button.disabled, button.description) == (False, "watch it train")
    assert explorer.frames_drawn == 20  # 19 snapshots on the way, then the final picture
    assert_allclose(explorer.view_data["history"], trained["history"])
    assert "40 of 40 epochs" in explorer.axes[0].get_title()
    assert explorer.train_button in explorer.widget.children[0].children


def test_the_playground_says_it_is_training_while_it_trains():
    """While a setting trains, does the status line say so, and is it cleared afterwards?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, epochs=20)
    said, view = [], explorer.view
    explorer.view = lambda **values: said.append(explorer.status.value) or view(**values)
    explorer.controls["epochs"].value = 30
    assert said == ["<i>training the network...</i>"], f"while training the status said {said}"
    assert explorer.status.value == "", f"after training it says {explorer.status.value!r}"


def test_the_page_can_tell_an_explorer_that_trains():
    """Is the box of an explorer that trains marked as such (the browser test's latency table
    reports it apart), and the box of one that does not, not?"""
    from nnlib.widgets._explorer import TRAINS_CLASS

    assert TRAINS_CLASS in playground_explorer(epochs=20).widget._dom_classes
    assert TRAINS_CLASS not in descent_explorer().widget._dom_classes


def test_the_noise_level_scales_the_scatter_around_the_shape():
    """Does noise level 0 put the points on the shape, and level 2 double every offset?"""
    corners, labels = datasets.logic_gate("xor")
    X0, y0 = playground_data("xor", noise=0.0)
    assert_allclose(X0, corners[np.arange(200) % 4])
    X1, _ = playground_data("xor", noise=1.0)
    X2, _ = playground_data("xor", noise=2.0)
    assert_allclose(X2 - X0, 2.0 * (X1 - X0))  # the same draws, twice as far out
    assert np.std(X1 - X0) == pytest.approx(PLAYGROUND_NOISE["xor"], rel=0.1)
    # noise-free moons: class 0 on the unit circle, class 1 on the circle around (1, 0.5)
    X, y = playground_data("moons", noise=0.0)
    assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    assert_allclose(np.hypot(X[y == 1, 0] - 1.0, X[y == 1, 1] - 0.5), 1.0)


@pytest.mark.parametrize("noise", [-0.5, np.nan, np.inf, "high"])
def test_a_bad_noise_level_is_refused(noise):
    """Is a negative, infinite or non-numeric noise level a ValueError naming the noise?"""
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        playground_data("moons", noise=noise)


def test_the_test_points_are_held_out_from_the_same_distribution():
    """Are the test points 100 fresh draws of the same generator, with their own seed?"""
    X, y = playground_data("moons", seed=3)
    X_test, y_test = playground_data("moons", seed=3, test=True)
    expected = datasets.make_moons(100, noise=PLAYGROUND_NOISE["moons"],
                                   seed=3 + PLAYGROUND_TEST_SEED)
    assert_allclose(X_test, expected[0])
    assert_allclose(y_test, expected[1])
    assert X.shape == (200, 2) and X_test.shape == (100, 2)
    assert not np.any(np.all(np.isclose(X[:, None], X_test[None]), axis=2))  # none shared
    assert_allclose(playground_data("moons", seed=3, test=True)[0], X_test)  # seeded


def test_the_view_trains_with_binary_cross_entropy_from_the_logits():
    """Is the view's network the one train_network makes with sigmoid_cross_entropy, and
    are both accuracies and both loss curves those of that network?"""
    view = playground_view("moons", hidden_units=4, epochs=30, noise=0.5, batch_size=64)
    X, y = playground_data("moons", noise=0.5)
    X_test, y_test = playground_data("moons", noise=0.5, test=True)
    names = ["tanh", "sigmoid"]
    weights, biases, history = training.train_network(
        X, y.reshape(-1, 1), [2, 4, 1], names, loss="sigmoid_cross_entropy",
        learning_rate=0.5, epochs=30, batch_size=64, init="xavier", seed=0)
    assert_allclose(view["history"], history, rtol=1e-12)
    test_loss = backprop.loss_value(X_test, y_test.reshape(-1, 1), weights, biases, names,
                                    "sigmoid_cross_entropy")
    assert len(view["test_history"]) == 30
    assert view["test_history"][-1] == pytest.approx(test_loss, rel=1e-12)
    right = (network.forward_pass(X_test, weights, biases, names)[:, 0] > 0.5) == (y_test == 1)
    assert view["test_accuracy"] == pytest.approx(np.mean(right))
    assert_allclose(view["X_test"], X_test)
    assert view["sigma"] == pytest.approx(0.075)  # half the moons' usual 0.15


def test_full_batch_takes_one_step_per_epoch():
    """Is batch size 200 (or None) full-batch gradient descent, one update per epoch?"""
    full = playground_view("xor", hidden_units=3, epochs=5, batch_size=None)
    assert playground_view("xor", hidden_units=3, epochs=5, batch_size=200) == full
    X, y = playground_data("xor")
    weights, biases = network.init_params([2, 3, 1], "xavier", seed=0)
    names = ["tanh", "sigmoid"]
    losses = []
    for _ in range(5):  # each epoch: the loss before the step, then one step on all 200
        losses.append(backprop.loss_value(X, y.reshape(-1, 1), weights, biases, names,
                                          "sigmoid_cross_entropy"))
        gradients = backprop.backpropagation(X, y.reshape(-1, 1), weights, biases, names,
                                             "sigmoid_cross_entropy")
        weights, biases = training.gradient_descent_update(weights, biases, gradients, 0.5)
    assert_allclose(full["history"], losses, rtol=1e-12)


def test_the_batch_size_control_offers_full_batch_and_names_it():
    """Does the dropdown offer the full batch, and does the title say which batches?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, epochs=20)
    options = dict(explorer.controls["batch_size"].options)
    assert options["200 (full batch)"] == 200 and options["32"] == 32
    assert "mini-batches of 32" in explorer.axes[0].get_title()
    explorer.controls["batch_size"].value = 200
    assert "full batch" in explorer.axes[0].get_title()
    small = dict(dataset="xor", hidden_units=2, epochs=10)
    assert playground_explorer(**small, batch_size=None).controls["batch_size"].value == 200
    offered = playground_explorer(**small, batch_size=10).controls["batch_size"].options
    assert ("10", 10) in offered  # a size given that the list lacks is added to it


def test_test_points_are_drawn_hollow_beside_the_filled_training_points():
    """Are the 100 test points drawn in the class's colour with a hollow face?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, epochs=20)
    y, y_test = explorer.view_data["y"], explorer.view_data["y_test"]
    zeros = explorer.axes[0].collections[0]
    trained = np.sum(y == 0)
    assert len(zeros.get_offsets()) == trained + np.sum(y_test == 0)
    faces = zeros.get_facecolors()
    assert np.all(faces[:trained, 3] == 1.0) and np.all(faces[trained:, 3] == 0.0)
    assert len(explorer.axes[1].lines) == 2  # the training and the test loss
    assert_allclose(explorer.axes[1].lines[1].get_ydata(), explorer.view_data["test_history"])


def test_the_boundary_is_drawn_where_the_output_crosses_one_half():
    """Does every point of the black line lie in a grid cell whose corners straddle 0.5?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, learning_rate=1.0,
                                   epochs=60)
    view = explorer.view_data
    axis, probability = view["xx"][0], view["probability"]
    segments = explorer.axes[0].collections[2].get_segments()
    assert segments and sum(len(piece) for piece in segments) > 20
    for x1, x2 in np.concatenate(segments):
        j = min(np.searchsorted(axis, x1), len(axis) - 1)
        i = min(np.searchsorted(axis, x2), len(axis) - 1)
        cell = probability[max(i - 1, 0):i + 1, max(j - 1, 0):j + 1]
        assert cell.min() <= 0.5 <= cell.max(), (x1, x2, cell)

def test_each_hidden_unit_is_a_small_map_of_its_output():
    """Is each map the first layer's output over the plane, on the activation's scale?"""
    view = playground_view("circles", hidden_units=3, epochs=20)
    side = widgets_training.PLAYGROUND_UNIT_GRID
    assert view["units"].shape == (3, side, side)
    assert_allclose(view["unit_limits"], [[-1.0, 1.0]] * 3)  # tanh's range
    explorer = playground_explorer(dataset="circles", hidden_units=3, epochs=20)
    assert explorer.axes[2].images[0].get_array().shape == (side + 2, 3 * (side + 2))


def test_the_unit_maps_come_from_the_trained_first_layer(monkeypatch):
    """Does each small map show tanh(W1 x + b1) over the plane, for the trained W1, b1?"""
    kept = {}
    train_network = training.train_network

    def keeping(*args, **kwargs):
        kept["result"] = train_network(*args, **kwargs)
        return kept["result"]

    monkeypatch.setattr(widgets_training.training, "train_network", keeping)
    view = playground_view("xor", hidden_units=2, epochs=10, seed=4)
    W1, b1 = kept["result"].weights[0], kept["result"].biases[0]
    side = widgets_training.PLAYGROUND_UNIT_GRID
    low, high = widgets_training.PLAYGROUND_LIMITS["xor"]
    # row i, column j of a map is the point (x1, x2) = (axis[j], axis[i])
    axis = np.linspace(low, high, side)
    for i, j in [(0, 0), (0, side - 1), (side - 1, 0), (7, 12)]:
        point = np.array([axis[j], axis[i]])
        assert_allclose(view["units"][:, i, j], np.tanh(W1 @ point + b1), rtol=1e-12)


def test_a_dead_relu_unit_is_a_flat_map_and_the_others_use_their_own_range():
    """With ReLU units, is each map scaled from 0 to its own highest output, and a unit
    that is 0 everywhere shown in the lowest colour?"""
    units = np.array([[[0.0, 1.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])
    limits = widgets_training._unit_limits(units, "relu")
    assert_allclose(limits, [[0.0, 4.0], [0.0, 1.0]])  # the dead unit: 0 to 0 + 1
    mosaic = widgets_training.unit_mosaic(units, limits)
    # each 2 x 2 map inside a 1-pixel blank frame: a 4 x 8 image
    assert mosaic.shape == (4, 8)
    assert_allclose(mosaic[1:3, 1:3], [[0.0, 0.25], [0.5, 1.0]])  # 0/4, 1/4, 2/4, 4/4
    assert_allclose(mosaic[1:3, 5:7], 0.0)
    assert np.all(np.isnan(mosaic[0])) and np.all(np.isnan(mosaic[:, 3:5]))
    # leaky ReLU is unbounded both ways: the unit's own lowest and highest output
    assert_allclose(widgets_training._unit_limits(units - 1.0, "leaky_relu"),
                    [[-1.0, 3.0], [-1.0, 0.0]])


def test_a_wide_layer_shows_its_first_units():
    """Does a layer of 32 units show its first 16 maps, centred in the row?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, epochs=20)
    image = explorer.axes[2].images[0]
    assert image.get_extent() == [6.0, 10.0, 0, 1]  # 4 maps in the middle of 16 places
    explorer.controls["hidden_units"].value = 32
    assert image.get_extent() == [0.0, 16.0, 0, 1]
    assert image.get_array().shape[1] == 16 * (widgets_training.PLAYGROUND_UNIT_GRID + 2)


def test_divergence_is_shown_not_raised(monkeypatch):
    """Does a FloatingPointError from training end in a title instead of a traceback?"""

    def diverging(*args, progress, **kwargs):
        from nnlib.network import init_params

        weights, biases = init_params(args[2], seed=0)
        progress(0, 0.7, weights, biases)
        progress(1, 0.6, weights, biases)
        raise FloatingPointError("training diverged (overflow); the learning rate is too large")

    monkeypatch.setattr(widgets_training.training, "train_network", diverging)
    explorer = playground_explorer(dataset="moons", epochs=50)
    assert explorer.view_data["history"] == [0.7, 0.6]
    assert "diverged in epoch 3" in explorer.axes[0].get_title()


# ---------------------------------------------------------------- before the exercises are done


def test_before_the_exercises_the_surface_and_the_data_are_drawn(student_nnlib):
    """Over the stubbed library, do both explorers draw what they can and say what is missing?"""
    module = import_module(f"{student_nnlib.__name__}.widgets.training")
    descent = module.descent_explorer()
    assert "first (Exercise" in descent.status.value
    assert len(descent.view_data["path"]) == 1  # the start; the contours need no exercise
    assert descent.axes[0].collections  # the contours
    assert "the path needs" in descent.axes[0].get_title()
    playground = module.playground_explorer(dataset="xor")
    assert "first (Exercise 3." in playground.status.value
    points = sum(len(c.get_offsets()) for c in playground.axes[0].collections
                 if isinstance(c, PathCollection))
    assert points == 300  # the data: 200 training points and 100 test points
    assert not playground.axes[2].images[0].get_visible()  # no hidden units to show yet
    assert "training needs" in playground.axes[0].get_title()
    # only the data can change the picture now: the other controls and the button wait
    disabled = {name for name, control in playground.controls.items() if control.disabled}
    assert disabled == set(playground.controls) - {"dataset", "noise"}
    assert playground.train_button.disabled
    before = picture(playground)
    playground.controls["dataset"].value = "moons"
    assert not np.array_equal(picture(playground), before)
    before = picture(playground)
    playground.controls["noise"].value = 2.0
    assert not np.array_equal(picture(playground), before)
    assert playground.widget is not None


def test_every_control_of_the_descent_explorer_changes_the_figure():
    """Do the learning rate and the steps each change the picture?"""
    assert_every_control_matters(descent_explorer(), dict(learning_rate=0.1, steps=10))


def test_the_title_writes_the_rate_as_the_slider_shows_it():
    """Does the rate slider offer round values, and do its readout and the title write the value
    the code uses (0.05, not 0.0501)?"""
    explorer = descent_explorer(learning_rate=0.05)
    rate = explorer.controls["learning_rate"]
    assert {0.001, 0.05, 0.14, 0.16, 1.0} <= {value for _, value in rate.options}
    assert rate.value == 0.05 and rate.label == "0.05"
    assert explorer.axes[0].get_title().startswith("learning rate 0.05:")
    rate.value = 0.001
    assert rate.label == "0.001" and explorer.axes[0].get_title().startswith("learning rate 0.001:")
    assert descent_explorer(learning_rate=0.07).controls["learning_rate"].label == "0.07"


def test_every_control_of_the_playground_changes_the_figure():
    """Does each control of the playground change the picture?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, epochs=20)
    assert_every_control_matters(explorer, dict(dataset="moons", activation="relu",
                                                hidden_units=3, hidden_layers=2,
                                                learning_rate=0.1, epochs=30, noise=2.0,
                                                batch_size=200))
    assert not any(control.disabled for control in explorer.controls.values())


def test_the_playground_trains_each_setting_once():
    """Does moving back to a setting show the network trained before, without training?"""
    explorer = playground_explorer(dataset="xor", hidden_units=4, epochs=20)
    first = explorer.view_data["probability"]
    explorer.controls["hidden_units"].value = 5
    explorer.controls["hidden_units"].value = 4
    assert explorer.view_data["probability"] is first


def test_kept_pictures_of_the_axes_match_a_fresh_drawing():
    """When the steps slider moves the loss axis back and forth, is the figure with the
    kept pictures of ticks and labels (Backdrop) the same as one drawn from scratch?"""
    explorer = descent_explorer(learning_rate=0.05, steps=10)
    # the loss axis ends at 100, 10, 20, 50, 1, 100, 10: more ranges than are kept
    for steps in (80, 10, 20, 50, 0, 100, 10):
        explorer.controls["steps"].value = steps
        assert np.array_equal(picture(explorer), fresh_picture(explorer)), (
            f"at {steps} steps, the figure drawn with kept pictures differs from a fresh one")


# ---------------------------------------------------------------- the training monitor


def test_the_monitor_follows_training_and_draws_now_and_then():
    """Does the monitor fill its bar and curve, drawing far fewer times than epochs?"""
    monitor = training_monitor(200, min_seconds=0.0)
    blank = monitor.image.value
    X, y = widgets_training.playground_data("xor")
    result = training.train_network(X, y.reshape(-1, 1), [2, 4, 1], ["tanh", "sigmoid"],
                                    loss="binary_cross_entropy", epochs=200,
                                    progress=monitor)
    assert monitor.losses == pytest.approx(result.history)
    assert monitor.bar.value == 200 and "epoch 200 of 200" in monitor.label.value
    assert monitor.frames_drawn == 50  # every 4 epochs
    assert_allclose(monitor.line.get_ydata(), result.history)
    assert bytes(monitor.image.value).startswith(b"\x89PNG") and monitor.image.value != blank
    assert monitor.image in monitor.widget.children
    # a page shown without a kernel gets the final curve as a picture
    shown = monitor._repr_mimebundle_()
    assert base64.b64decode(shown["image/png"]) == bytes(monitor.image.value)
    assert "application/vnd.jupyter.widget-view+json" in shown


def test_the_monitor_draws_nothing_while_grading(monkeypatch):
    """During autograding, does the monitor only count?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monitor = training_monitor(10)
    for epoch in range(10):
        monitor(epoch, 1.0 / (epoch + 1))
    assert monitor.figure is None and monitor.image is None and monitor.bar.value == 10


@pytest.fixture(scope="module")
def nnlib_up_to_notebook_5(tmp_path_factory):
    """The student library with the exercises of notebooks 1-5 done, training still stubbed."""
    from autograder import release

    return released_library(tmp_path_factory.mktemp("upto5") / "nnlib", "nnlib_upto5",
                            complete=release.modules_before(6))


def test_at_notebook_6_the_explorers_ask_for_its_exercises(nnlib_up_to_notebook_5):
    """With notebooks 1-5 done, does each explorer name the notebook 6 function it needs?"""
    module = import_module("nnlib_upto5.widgets.training")
    assert ("implement gradient_descent_update in nnlib/training.py first (Exercise 6.1)"
            in module.descent_explorer().status.value)
    explorer = module.playground_explorer()
    assert ("implement train_network in nnlib/training.py first (Exercise 6.2)"
            in explorer.status.value)
    explorer.train_button.click()  # the replay says the same, instead of raising
    assert "Exercise 6.2" in explorer.status.value
