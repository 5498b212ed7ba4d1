"""Explorers for notebook 06: gradient descent on a loss surface, a training playground, and
a progress display for any training (``training_monitor``)."""

import base64
import functools
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import HTML, Button, Dropdown, HBox, Image, IntProgress, VBox
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import backprop, datasets, network, training
from ..activations import get_activation
from ._explorer import (
    DRAWING,
    FIGURE_WIDTH,
    PNG_DPI,
    SCREEN_DPI,
    STYLE,
    Backdrop,
    Explorer,
    artists,
    as_readout,
    decision_boundary,
    decision_shade,
    frame_png,
    grid,
    log_slider,
    missing_function,
    round_up,
    slider,
    static,
)
from .activations import NAMES as NONLINEAR_ACTIVATIONS

# ---------------------------------------------------------------- a loss surface

# A single linear unit, prediction = w * x + b, fitted by MSE to nine points
# near the line y = 0.5 x + 1. Its loss is a bowl in (w, b), long and narrow
# because the inputs lie far from 0: it is steep across the valley and flat
# along it, so one learning rate cannot suit both directions.
SURFACE_X = np.linspace(0.0, 4.0, 9).reshape(-1, 1)
SURFACE_Y = 0.5 * SURFACE_X + 1.0 + np.random.default_rng(6).normal(0.0, 0.2, SURFACE_X.shape)
SURFACE_START = (-1.5, 4.0)
W_LIMITS = (-2.0, 3.0)
B_LIMITS = (-2.0, 5.0)
# A path is stopped once it leaves this box: it has diverged, and numbers
# further out would only overflow.
ESCAPE = 1e3


MAX_STEPS = 100  # the steps slider's end


def surface_loss(w, b):
    """MSE of the unit ``w * x + b`` on the surface data, for many ``(w, b)`` at once.

    Plain numpy (the picture of the bowl is provided, not an exercise).

    Parameters
    ----------
    w, b : ndarray, shape (G,)
        One weight and one bias per model.

    Returns
    -------
    ndarray, shape (G,)
    """
    # G one-unit models side by side: column g is model g's prediction for every x
    output = SURFACE_X * np.ravel(w) + np.ravel(b)
    return np.mean((output - SURFACE_Y) ** 2, axis=0)


@functools.lru_cache(maxsize=1)
def loss_surface(resolution=81):
    """The loss over a grid of ``(w, b)`` in ``W_LIMITS x B_LIMITS``, and its minimum.

    Returns
    -------
    ww, bb, surface : ndarray, shape (R, R)
    minimum : ndarray, shape (2,)
        The least-squares ``(w, b)``.
    """
    ww, bb = np.meshgrid(np.linspace(*W_LIMITS, resolution), np.linspace(*B_LIMITS, resolution))
    surface = surface_loss(ww.ravel(), bb.ravel()).reshape(ww.shape)
    design = np.column_stack([SURFACE_X[:, 0], np.ones(len(SURFACE_X))])
    minimum = np.linalg.lstsq(design, SURFACE_Y[:, 0], rcond=None)[0]
    for array in (ww, bb, surface, minimum):
        array.flags.writeable = False
    return ww, bb, surface, minimum


def descent_view(learning_rate=0.05, steps=30, w0=SURFACE_START[0], b0=SURFACE_START[1]):
    """Gradient descent on the loss of one linear unit, from ``(w0, b0)``.

    Each step computes the gradient with ``backprop.backpropagation`` and
    moves with ``training.gradient_descent_update``. The path of
    ``MAX_STEPS`` steps is computed once per rate and start; fewer steps show
    its beginning.

    Parameters
    ----------
    learning_rate : float
    steps : int, 0 to ``MAX_STEPS``
        How many updates to take (fewer if the path diverges).
    w0, b0 : float
        The starting weight and bias.

    Returns
    -------
    dict
        ``path`` (K + 1, 2): the ``(w, b)`` visited, ``K <= steps``;
        ``losses`` (K + 1,): the loss at each of them; ``diverged``: whether
        the path left the box ``|w|, |b| <= ESCAPE`` (it then stops there);
        ``ww``, ``bb``, ``surface`` (R, R): the loss over a grid;
        ``minimum`` (2,): the best ``(w, b)``; ``learning_rate``, ``steps``.
        While a function of the path is a stub, ``path`` holds the start
        only and ``missing`` is the stub's error.
    """
    ww, bb, surface, minimum = loss_surface()
    view = dict(ww=ww, bb=bb, surface=surface, minimum=minimum, learning_rate=learning_rate,
                steps=steps, diverged=False, missing=None)
    try:
        path, diverged = _descent_path(backprop.backpropagation,
                                       training.gradient_descent_update, learning_rate,
                                       float(w0), float(b0), max(steps, MAX_STEPS))
    except NotImplementedError as error:
        path, diverged, view["missing"] = np.array([[w0, b0]]), False, error
    shown = path[:steps + 1]
    view.update(path=shown, losses=surface_loss(shown[:, 0], shown[:, 1]),
                diverged=diverged and len(shown) == len(path))
    return view


@functools.lru_cache(maxsize=64)
def _descent_path(backpropagation, gradient_descent_update, learning_rate, w0, b0, steps):
    """The ``(w, b)`` after each of up to ``steps`` updates, and whether they diverged.

    Cached by the settings and by nnlib's two functions.
    """
    weights, biases = [np.array([[w0]])], [np.array([b0])]
    path = [(w0, b0)]
    diverged = False
    for _ in range(steps):
        gradients = backpropagation(SURFACE_X, SURFACE_Y, weights, biases, ["identity"], "mse")
        weights, biases = gradient_descent_update(weights, biases, gradients, learning_rate)
        path.append((weights[0][0, 0], biases[0][0]))
        if max(abs(path[-1][0]), abs(path[-1][1])) > ESCAPE:
            diverged = True
            break
    path = np.array(path)
    path.flags.writeable = False
    return path, diverged


def draw_descent(axes, view):
    """The contours with the path of the iterates, and the loss at each step."""
    ax, curve = axes
    made = artists(ax)
    if not made:  # the surface never changes: its contours are drawn once
        levels = np.geomspace(view["surface"].min() * 1.05, view["surface"].max(), 14)
        static(ax.contour(view["ww"], view["bb"], view["surface"], levels=levels,
                          cmap="viridis_r", linewidths=1))
        made["path"], = ax.plot([], [], "o-", color="#cc0000", markersize=3, linewidth=1.2)
        ax.plot(*view["minimum"], marker="*", markersize=14, color="black", linestyle="none")
        made["start"], = ax.plot([], [], marker="s", markersize=7, color="#cc0000",
                                 linestyle="none")
        ax.set(xlim=W_LIMITS, ylim=B_LIMITS, xlabel="weight $w$", ylabel="bias $b$")
        made["losses"], = curve.semilogy([], [], "o-", color="#cc0000", markersize=3)
        curve.axhline(view["surface"].min(), color="grey", linestyle="--", linewidth=1)
        curve.set(xlabel="step", ylabel="loss (log scale)",
                  ylim=(view["surface"].min() / 2, 1e4))
        curve.set_title("loss after each step", fontsize="medium")
    path = view["path"]
    made["path"].set_data(path[:, 0], path[:, 1])
    made["start"].set_data(path[:1, 0], path[:1, 1])
    steps = np.arange(len(path))
    made["losses"].set_data(steps, view["losses"])
    losses = view["losses"]
    curve.set_xlim(0, round_up(max(view["steps"], 1)))  # round: the axis changes seldom
    final = losses[-1]
    if view["missing"] is not None:
        title = f"the path needs {missing_function(view['missing'])}"
    elif view["diverged"]:
        title = f"diverged after {len(path) - 1} steps"
    elif final > losses[0]:
        title = f"loss {final:.4g} after {len(path) - 1} steps, and rising"
    else:
        title = f"loss {final:.4g} after {len(path) - 1} steps"
    ax.set_title(f"learning rate {as_readout(view['learning_rate'])}: {title}", fontsize="medium")



def descent_explorer(learning_rate=0.05, steps=30):
    """A learning-rate slider (log scale) and a steps slider for ``descent_view``."""
    controls = {
        "learning_rate": log_slider(learning_rate, -3, 0, "learning rate"),
        "steps": slider(steps, 0, MAX_STEPS, 1, "steps", integer=True),
    }
    return Explorer(descent_view, draw_descent, controls, ncols=2, figsize=(FIGURE_WIDTH, 3.9))


# ---------------------------------------------------------------- the training playground

PLAYGROUND_DATASETS = ("moons", "circles", "spirals", "xor")
PLAYGROUND_ACTIVATIONS = NONLINEAR_ACTIVATIONS  # the choices of notebook 02's explorers
PLAYGROUND_LIMITS = {"moons": (-1.6, 2.6), "circles": (-1.5, 1.5), "spirals": (-1.3, 1.3),
                     "xor": (-0.6, 1.6)}
# The standard deviation of the noise at noise level 1, per dataset: a little scatter that
# keeps each shape recognisable (the arms of the spirals are only about 0.3 apart).
PLAYGROUND_NOISE = {"moons": 0.15, "circles": 0.08, "spirals": 0.04, "xor": 0.15}
PLAYGROUND_SAMPLES = 200  # training points
PLAYGROUND_TEST_SAMPLES = 100  # held-out points from the same distribution
PLAYGROUND_TEST_SEED = 10_000  # the test points of seed s are drawn with seed s + this
PLAYGROUND_BATCH = 32
# The batch sizes offered, the last being the whole training set (full-batch gradient
# descent). Smaller batches mean more updates per epoch: at 8 a default setting takes about
# 1.5 s to train, at 1 (the notes' per-sample loop) about 8 s, too slow for a slider.
PLAYGROUND_BATCHES = (16, 32, 64, PLAYGROUND_SAMPLES)
# Binary cross-entropy from the logits: its gradient sigmoid(z) - y never vanishes for a
# confidently wrong output, as binary_cross_entropy's does through the sigmoid.
PLAYGROUND_LOSS = "sigmoid_cross_entropy"
PLAYGROUND_GRID = 61  # points across the decision map
PLAYGROUND_UNIT_GRID = 25  # points across each hidden unit's small map
PLAYGROUND_UNITS_SHOWN = 16  # small maps in the row; a wider layer shows its first units


def playground_data(dataset="moons", seed=0, noise=1.0, test=False):
    """The playground's two-class data: the training points, or the held-out test points.

    Parameters
    ----------
    dataset : {"moons", "circles", "spirals", "xor"}
        ``"xor"`` is a cloud of points around the four inputs of the XOR
        gate, labelled like the gate.
    seed : int, default 0
    noise : float, default 1.0
        The noise level: the standard deviation of the Gaussian noise added
        to each coordinate, in multiples of the dataset's usual one
        (``PLAYGROUND_NOISE``); 0 puts every point exactly on its shape.
    test : bool, default False
        If True, ``PLAYGROUND_TEST_SAMPLES`` test points from the same
        distribution, drawn with the seed ``seed + PLAYGROUND_TEST_SEED``.

    Returns
    -------
    X : ndarray, shape (N, 2)
        ``N = 200`` training points, or 100 test points.
    y : ndarray, shape (N,)
        The class of each point, 0.0 or 1.0.

    Raises
    ------
    ValueError
        For an unknown dataset, or a noise level that is not a number >= 0.
    """
    if dataset not in PLAYGROUND_NOISE:
        raise ValueError(f"unknown dataset {dataset!r}; known datasets are: "
                         f"{', '.join(PLAYGROUND_DATASETS)}")
    if not (isinstance(noise, (int, float, np.number)) and 0 <= noise < np.inf):
        raise ValueError(f"noise must be a finite number >= 0 (a multiple of the dataset's "
                         f"usual noise), got {noise!r}")
    n = PLAYGROUND_TEST_SAMPLES if test else PLAYGROUND_SAMPLES
    seed = seed + PLAYGROUND_TEST_SEED if test else seed
    sigma = float(noise) * PLAYGROUND_NOISE[dataset]
    if dataset == "moons":
        return datasets.make_moons(n, noise=sigma, seed=seed)
    if dataset == "circles":
        return datasets.make_circles(n, noise=sigma, seed=seed)
    if dataset == "spirals":
        return datasets.make_spirals(n, noise=sigma, seed=seed)
    corners, labels = datasets.logic_gate("xor")
    rng = np.random.default_rng(seed)
    pick = np.arange(n) % 4
    return corners[pick] + rng.normal(0.0, sigma, (n, 2)), labels[pick]


@functools.lru_cache(maxsize=32)
def _playground_sets(dataset, seed, noise):
    """The training and test points as the view dict holds them, read-only.

    Made once per dataset, seed and noise level: the networks trained on
    them share the arrays, so the drawing sees that the points stay.
    """
    X, y = playground_data(dataset, seed, noise)
    X_test, y_test = playground_data(dataset, seed, noise, test=True)
    for array in (X, y, X_test, y_test):
        array.flags.writeable = False
    return dict(X=X, y=y, X_test=X_test, y_test=y_test, dataset=dataset,
                sigma=float(noise) * PLAYGROUND_NOISE[dataset])


def playground_view(dataset="moons", hidden_units=8, hidden_layers=1, activation="tanh",
                    learning_rate=0.5, epochs=100, noise=1.0, batch_size=PLAYGROUND_BATCH,
                    seed=0, progress=None, frames=20):
    """Train an MLP on a two-class dataset with ``training.train_network``; test it.

    The network is ``[2, H, ..., H, 1]`` with ``hidden_layers`` hidden
    layers of ``hidden_units`` units and a sigmoid output, trained with
    binary cross-entropy from the logits (``sigmoid_cross_entropy``) on the
    200 training points, in mini-batches of ``batch_size`` (He
    initialization for the ReLU family, Xavier otherwise). The 100 test
    points never take part in training: they show how well the network
    does on points it has not seen.

    Parameters
    ----------
    dataset : {"moons", "circles", "spirals", "xor"}
    hidden_units, hidden_layers : int
    activation : str
        Of the hidden layers: one of ``PLAYGROUND_ACTIVATIONS``.
    learning_rate : float
    epochs : int
    noise : float, default 1.0
        The data's noise level, in multiples of the dataset's usual noise
        (see ``playground_data``).
    batch_size : int or None, default 32
        Training points per update; None or 200 is full-batch gradient descent.
    seed : int
        Seeds the data, the initial weights and the shuffling.
    progress : callable, optional
        Called as ``progress(view)`` about ``frames`` times during training,
        with a dict like the one returned, for the network at that moment.
    frames : int

    Returns
    -------
    dict
        ``X`` (N, 2), ``y`` (N,): the training points; ``X_test`` (M, 2),
        ``y_test`` (M,): the test points; ``sigma``: the noise's standard
        deviation; ``xx``, ``yy``, ``probability`` (R, R): the network's
        output over a grid; ``units`` (H, S, S): each unit of the first
        hidden layer, its output over a coarser grid of the same square;
        ``unit_limits`` (H, 2): the low and high end of each unit's colour
        scale (the activation's range where it is finite, else the unit's
        own extremes over the square); ``history``, ``test_history``: the
        mean loss per epoch so far on the training and on the test points;
        ``accuracy``, ``test_accuracy``: the fraction of training and of
        test points on the right side of 0.5; ``epochs``, ``batch_size``,
        ``dataset``; ``diverged``: None, or the message of the
        ``FloatingPointError`` that stopped training (the view then shows
        the last finite network); ``missing``: None, or the error of a stub
        training needs (the view then has the data only, the rest None).
        Without ``progress``, a setting is trained once and kept.
    """
    batch_size = PLAYGROUND_SAMPLES if batch_size is None else batch_size
    settings = (dataset, hidden_units, hidden_layers, activation, learning_rate, epochs, noise,
                batch_size, seed)
    try:
        if progress is None:  # the same settings again: the same network, trained once
            return dict(_trained_playground(training.train_network, network.forward_pass,
                                            *settings))
        return _train_playground(*settings, progress=progress, frames=frames)
    except NotImplementedError as error:
        return dict(_playground_sets(dataset, seed, noise), xx=None, yy=None, probability=None,
                    units=None, unit_limits=None, history=[], test_history=[], accuracy=None,
                    test_accuracy=None, epochs=epochs, batch_size=batch_size, diverged=None,
                    missing=error)


@functools.lru_cache(maxsize=128)
def _trained_playground(train_network, forward_pass, *settings):
    """``_train_playground(*settings)``, kept per setting and per nnlib function."""
    return _train_playground(*settings)


def _train_playground(dataset, hidden_units, hidden_layers, activation, learning_rate, epochs,
                      noise, batch_size, seed, progress=None, frames=20):
    """Train the playground's network: see ``playground_view``."""
    data = _playground_sets(dataset, seed, noise)
    X_test, Y_test = data["X_test"], data["y_test"].reshape(-1, 1)
    sizes = [2] + [hidden_units] * hidden_layers + [1]
    names = [activation] * hidden_layers + ["sigmoid"]
    init = "he" if activation in ("relu", "leaky_relu") else "xavier"
    every = max(1, epochs // frames)
    # the network after the latest finished epoch, and the loss curves so far
    last = {"history": [], "test_history": []}

    def on_epoch(epoch, loss, weights, biases):
        last["history"].append(loss)
        last["test_history"].append(backprop.loss_value(X_test, Y_test, weights, biases, names,
                                                        PLAYGROUND_LOSS))
        last.update(weights=weights, biases=biases)
        if progress is not None and (epoch + 1) % every == 0 and epoch + 1 < epochs:
            progress(_playground_snapshot(data, names, weights, biases, last, epochs,
                                          batch_size, None))

    try:
        weights, biases, _ = training.train_network(
            data["X"], data["y"].reshape(-1, 1), sizes, names, loss=PLAYGROUND_LOSS,
            learning_rate=learning_rate, epochs=epochs, batch_size=batch_size, init=init,
            seed=seed, progress=on_epoch)
    except FloatingPointError as error:
        if "weights" not in last:  # not even one epoch finished: show the start
            last["weights"], last["biases"] = network.init_params(sizes, init, seed)
        return _playground_snapshot(data, names, last["weights"], last["biases"], last, epochs,
                                    batch_size, str(error))
    return _playground_snapshot(data, names, weights, biases, last, epochs, batch_size, None)


def _playground_snapshot(data, names, weights, biases, curves, epochs, batch_size, diverged):
    """The playground's view dict for one state of the network."""
    limits = PLAYGROUND_LIMITS[data["dataset"]]
    xx, yy, points = grid(*limits, resolution=PLAYGROUND_GRID)
    probability = network.forward_pass(points, weights, biases, names)[:, 0].reshape(xx.shape)
    side = PLAYGROUND_UNIT_GRID
    _, _, coarse = grid(*limits, resolution=side)
    units = network.forward_pass(coarse, weights[:1], biases[:1], names[:1]).T
    units = units.reshape(-1, side, side)
    return dict(data, xx=xx, yy=yy, probability=probability, units=units,
                unit_limits=_unit_limits(units, names[0]),
                history=list(curves["history"]), test_history=list(curves["test_history"]),
                accuracy=_accuracy(data["X"], data["y"], weights, biases, names),
                test_accuracy=_accuracy(data["X_test"], data["y_test"], weights, biases, names),
                epochs=epochs, batch_size=batch_size, diverged=diverged, missing=None)


def _accuracy(X, y, weights, biases, names):
    """The fraction of the points ``(X, y)`` the network puts on their class's side of 0.5."""
    predicted = network.forward_pass(X, weights, biases, names)[:, 0] > 0.5
    return float(np.mean(predicted == (y == 1.0)))


def _unit_limits(units, activation):
    """The colour scale of each unit's map, ``(H, 2)``: low and high end.

    The activation's range where it is finite (0 to 1 for the sigmoid,
    -1 to 1 for tanh), else the unit's own extreme over the square; a unit
    that is flat there (a dead ReLU) gets the colour of its low end.
    """
    low, high = get_activation(activation).output_range
    lows = np.full(len(units), low) if np.isfinite(low) else units.min(axis=(1, 2))
    highs = np.full(len(units), high) if np.isfinite(high) else units.max(axis=(1, 2))
    return np.column_stack([lows, np.where(highs > lows, highs, lows + 1.0)])


def unit_mosaic(units, unit_limits, gap=1):
    """The units' maps side by side in one image, each scaled to its colour scale.

    Parameters
    ----------
    units : ndarray, shape (H, S, S)
    unit_limits : ndarray, shape (H, 2)
    gap : int
        Blank (NaN) pixels around each map.

    Returns
    -------
    ndarray, shape (S + 2 gap, H (S + 2 gap))
        Values in [0, 1]: 0 at a unit's low end, 1 at its high end; NaN between maps.
    """
    count, side, _ = units.shape
    slot = side + 2 * gap
    mosaic = np.full((slot, count * slot), np.nan)
    low, high = unit_limits[:, :1, None], unit_limits[:, 1:, None]
    scaled = np.clip((units - low) / (high - low), 0.0, 1.0)
    for k in range(count):
        mosaic[gap:gap + side, k * slot + gap:k * slot + gap + side] = scaled[k]
    return mosaic


TRAINING_COLOUR, TEST_COLOUR = "#cc0000", "#2e3436"  # of the loss curves
CLASS_COLOURS = ("#204a87", "#a40000")


def draw_playground(axes, view):
    """The decision regions with the training and test points, the two loss curves, and a
    row of small maps, one per unit of the first hidden layer."""
    ax, curve, strip = axes
    made = artists(ax)
    if not made:
        _make_playground_artists(ax, curve, strip, made)
    _draw_points(ax, made, view)
    _draw_curves(curve, made, view)
    _draw_units(strip, made, view)
    batch = view["batch_size"]
    batches = "full batch" if batch >= len(view["X"]) else f"mini-batches of {batch}"
    # the slider's "noise level" (a multiple of the dataset's usual noise), then the σ it gives
    level = view["sigma"] / PLAYGROUND_NOISE[view["dataset"]]
    heading = f"{view['dataset']}, noise level {level:.2f} (σ = {view['sigma']:.2g}), {batches}"
    probability = view["probability"]
    made["probability"].set_visible(probability is not None)
    made["boundary"].set_visible(probability is not None)
    if probability is None:
        ax.set_title(f"{heading}\ntraining needs {missing_function(view['missing'])}",
                     fontsize="medium")
        return
    made["probability"].set_data(decision_shade(probability))
    made["boundary"].set_segments(decision_boundary(view["xx"], view["yy"], probability))
    done = len(view["history"])
    if view["diverged"]:
        result = f"diverged in epoch {done + 1}: learning rate too large?"
    else:
        result = (f"{done} of {view['epochs']} epochs: {view['accuracy']:.0%} right on "
                  f"training, {view['test_accuracy']:.0%} on test")
    ax.set_title(f"{heading}\n{result}", fontsize="medium")




def _make_playground_artists(ax, curve, strip, made):
    """The playground's artists, made on the first draw and updated later."""
    made["probability"] = ax.imshow(decision_shade(np.full((2, 2), 0.5)), origin="lower",
                                    interpolation="bilinear")
    # one collection per class, training points filled and test points hollow (two
    # collections draw faster than four)
    made["zeros"] = ax.scatter([], [], marker="o")
    made["ones"] = ax.scatter([], [], marker="s")
    # the decision boundary, where the output is 0.5 (a line collection: updated in
    # place, it draws in a fraction of the time of a new contour set per change)
    made["boundary"] = ax.add_collection(LineCollection([], colors="black", linewidths=1.5))
    made["dataset"] = None
    ax.set(aspect="equal", xlabel="$x_1$", ylabel="$x_2$")
    ax.locator_params(nbins=5)
    made["loss"], = curve.plot([], [], color=TRAINING_COLOUR)
    made["test_loss"], = curve.plot([], [], color=TEST_COLOUR, linestyle="--")
    curve.set(xlabel="epoch", ylabel="mean loss")
    static(curve.set_title("loss per epoch", fontsize="medium"))
    keys = [Line2D([], [], color=TRAINING_COLOUR, marker="o", markerfacecolor="grey",
                   markeredgecolor="grey", markersize=4),
            Line2D([], [], color=TEST_COLOUR, linestyle="--", marker="o",
                   markerfacecolor="none", markeredgecolor="grey", markersize=4)]
    static(curve.legend(keys, ["training (filled points)", "test (hollow points)"],
                        loc="upper right", fontsize="small"))
    made["units"] = strip.imshow(np.full((1, 1), np.nan), origin="lower", cmap="RdBu_r",
                                 vmin=0.0, vmax=1.0, interpolation="nearest")
    strip.set(xlim=(0, PLAYGROUND_UNITS_SHOWN), ylim=(0, 1), aspect="equal")
    strip.set_axis_off()
    static(strip.set_title(f"first hidden layer: each unit's output over the plane above "
                           f"(blue low, red high; at most {PLAYGROUND_UNITS_SHOWN} units shown)",
                           fontsize="medium"))


def _draw_points(ax, made, view):
    """The training and test points: redrawn only when the data change."""
    X, y, dataset = view["X"], view["y"], view["dataset"]
    if made["dataset"] == (dataset, id(X)):
        return
    X_test, y_test = view["X_test"], view["y_test"]
    for name, label, colour in (("zeros", 0, CLASS_COLOURS[0]), ("ones", 1, CLASS_COLOURS[1])):
        trained, tested = X[y == label], X_test[y_test == label]
        hollow = np.arange(len(trained) + len(tested)) >= len(trained)
        points = made[name]
        points.set_offsets(np.concatenate([trained, tested]))
        points.set_facecolors([(0.0, 0.0, 0.0, 0.0) if h else colour for h in hollow])
        points.set_edgecolors(colour)
        points.set_linewidths(1.0)
        points.set_sizes(np.where(hollow, 18.0, 14.0))
    limits = PLAYGROUND_LIMITS[dataset]
    made["probability"].set_extent((*limits, *limits))
    ax.set(xlim=limits, ylim=limits)
    made["dataset"] = (dataset, id(X))


def _draw_curves(curve, made, view):
    """The mean loss per epoch on the training points and on the test points."""
    history, tested = view["history"], view["test_history"]
    made["loss"].set_data(np.arange(1, len(history) + 1), history)
    made["test_loss"].set_data(np.arange(1, len(tested) + 1), tested)
    finite = [value for value in (*history, *tested) if np.isfinite(value)]
    curve.set(xlim=(0, view["epochs"]), ylim=(0, max([0.8, *finite]) * 1.05))


def _draw_units(strip, made, view):
    """The first hidden layer's units, each a small map of its output over the square."""
    units = view["units"]
    made["units"].set_visible(units is not None)
    if units is None:
        return
    shown = min(len(units), PLAYGROUND_UNITS_SHOWN)
    made["units"].set_data(unit_mosaic(units[:shown], view["unit_limits"][:shown]))
    start = (PLAYGROUND_UNITS_SHOWN - shown) / 2  # centred in the row
    made["units"].set_extent((start, start + shown, 0, 1))


class PlaygroundExplorer(Explorer):
    """An Explorer with a button that replays training, redrawing as it goes.

    Moving a control shows the network after all its epochs; the button
    trains the same network again and draws it about 20 times on the way.
    While training is a stub, the controls of the network and its training
    are disabled (only the data's can change the picture), and so is the
    button; the data's controls enable them again once it works.

    Attributes
    ----------
    train_button : ipywidgets.Button
    frames_drawn : int
        How many pictures the last replay drew (for the tests).
    """

    DATA_CONTROLS = ("dataset", "noise")
    BUTTON = "watch it train"

    def __init__(self, *args, **kwargs):
        self.train_button = Button(description=self.BUTTON, icon="play")
        self.train_button.on_click(self.replay)
        self.frames_drawn = 0
        super().__init__(*args, **kwargs)

    def update(self, change=None):
        """Recompute and redraw; disable what cannot act while training is a stub."""
        super().update(change)
        trains = self.view_data is not None and self.view_data.get("missing") is None
        for name, control in self.controls.items():
            control.disabled = name not in self.DATA_CONTROLS and not trains
        self.train_button.disabled = not trains

    def frame(self, view):
        """Draw one frame of the replay at once, while the kernel is busy training."""
        self.frames_drawn += 1
        self.show(view, now=True)

    def replay(self, button=None):
        """Train again, showing the network every few epochs; the button waits meanwhile."""
        self.frames_drawn = 0
        self.train_button.disabled, self.train_button.description = True, "training..."
        try:
            final = self.view(**self.values(), progress=self.frame)
        except NotImplementedError:
            self.update()  # shows what to implement (and disables the button)
        else:
            self.frame(final)
            self.train_button.disabled = False
        finally:
            self.train_button.description = self.BUTTON

    @property
    def widget(self):
        box = super().widget
        row = box.children[0]
        row.children = (*row.children, self.train_button)
        return box


def _batch_options(batch_size):
    """The batch-size dropdown's (label, value) pairs, with ``batch_size`` among them."""
    sizes = sorted({*PLAYGROUND_BATCHES, batch_size})
    return [(f"{size} (full batch)" if size >= PLAYGROUND_SAMPLES else str(size), size)
            for size in sizes]


def playground_explorer(dataset="moons", hidden_units=8, hidden_layers=1, activation="tanh",
                        learning_rate=0.5, epochs=100, noise=1.0, batch_size=PLAYGROUND_BATCH):
    """Controls for ``playground_view`` and a button to watch the training.

    ``batch_size`` None stands for the full batch, as in ``playground_view``.
    """
    batch_size = PLAYGROUND_SAMPLES if batch_size is None else batch_size
    controls = {
        "dataset": Dropdown(options=PLAYGROUND_DATASETS, value=dataset, description="data"),
        "noise": slider(noise, 0.0, 3.0, 0.25, "noise level"),
        "activation": Dropdown(options=PLAYGROUND_ACTIVATIONS, value=activation,
                               description="activation"),
        "hidden_units": slider(hidden_units, 1, 32, 1, "hidden units", integer=True),
        "hidden_layers": slider(hidden_layers, 1, 3, 1, "hidden layers", integer=True),
        "learning_rate": log_slider(learning_rate, -2, 1, "learning rate"),
        "batch_size": Dropdown(options=_batch_options(batch_size), value=batch_size,
                               description="batch size"),
        "epochs": slider(epochs, 10, 300, 10, "epochs", integer=True),
    }
    for name in ("noise", "hidden_units", "hidden_layers", "learning_rate", "epochs"):
        controls[name].continuous_update = False  # train once the slider is released
    return PlaygroundExplorer(playground_view, draw_playground, controls,
                              mosaic=[["map", "loss"], ["units", "units"]],
                              height_ratios=[4.0, 1.0], figsize=(FIGURE_WIDTH, 5.3),
                              busy="training the network...")


# ---------------------------------------------------------------- a progress display for training


class TrainingMonitor:
    """A progress bar and a live loss curve for ``training.train_network``.

    Pass it as ``progress=``: ``train_network`` calls it after every epoch
    as ``monitor(epoch, loss, weights, biases)``. It keeps every loss and
    redraws at most ``frames`` times in all (and never twice within
    ``min_seconds``), plus once at the end, so that drawing costs little
    next to training.

    The curve is a PNG in an ``ipywidgets.Image``, not an ipympl canvas:
    the kernel is busy training while it is drawn, and an ipympl canvas
    that the page has not yet been able to acknowledge cannot be drawn then.

    Parameters
    ----------
    epochs : int
        The ``epochs`` given to ``train_network``: the end of the bar.
    frames : int, default 50
    min_seconds : float, default 0.2
    title : str, optional

    Attributes
    ----------
    losses : list of float
        The mean loss of each epoch so far.
    bar : ipywidgets.IntProgress
    label : ipywidgets.HTML
        ``epoch e of E, loss L``.
    image : ipywidgets.Image or None
        The loss curve; None during autograding, when nothing is drawn.
    figure : matplotlib.figure.Figure or None
        What ``image`` shows (not itself on screen).
    frames_drawn : int
    """

    def __init__(self, epochs, frames=50, min_seconds=0.2, title="training loss"):
        self.epochs, self.min_seconds = epochs, min_seconds
        self.every = max(1, epochs // frames)
        self.losses, self.frames_drawn, self._last_draw = [], 0, -np.inf
        self.bar = IntProgress(value=0, min=0, max=epochs, description="training")
        self.label = HTML(f"epoch 0 of {epochs}")
        self.figure = self.image = self._display = None
        if os.environ.get("NBGRADER_EXECUTION") == "autograde":
            return
        # a figure of its own, outside pyplot, shown only as the image (at the saved pictures'
        # resolution); its ticks and title are drawn once (Backdrop) while the limits stay:
        # a frame then costs ~20 ms
        self.figure = Figure(figsize=(5.0, 2.4), dpi=PNG_DPI)
        FigureCanvasAgg(self.figure)
        with plt.rc_context(STYLE):
            self.ax = self.figure.add_subplot()
        self.line, = self.ax.plot([], [], color="#cc0000")
        self.ax.set(xlim=(0, epochs), xlabel="epoch", ylabel="mean loss")
        self.ax.set_title(title, fontsize="medium")
        self.figure.add_artist(Backdrop([self.ax]))
        static(self.ax.title)
        self.figure.tight_layout()
        shown = self.figure.get_figwidth() * SCREEN_DPI  # a live figure's size
        self.image = Image(format="png", value=self._png(), layout={"width": f"{shown:.0f}px"})

    def __call__(self, epoch, loss, weights=None, biases=None):
        """Record the loss of epoch ``epoch`` (counted from 0); redraw now and then."""
        self.losses.append(float(loss))
        done = epoch + 1
        last = done >= self.epochs
        if not last and (done % self.every or
                         time.perf_counter() - self._last_draw < self.min_seconds):
            return
        self.bar.value = min(done, self.epochs)
        self.label.value = f"epoch {done} of {self.epochs}, loss {loss:.4g}"
        if self.figure is not None:
            self._draw(last)

    def _draw(self, last=False):
        self.frames_drawn += 1
        self._last_draw = time.perf_counter()
        losses = np.asarray(self.losses)
        self.line.set_data(np.arange(1, len(losses) + 1), losses)
        finite = losses[np.isfinite(losses)]
        if finite.size:
            self.ax.set_ylim(0, float(finite.max()) * 1.05 or 1.0)
        self.image.value = self._png()
        if last and self._display is not None:  # a saved notebook shows the final curve
            self._display.update(self)

    def _png(self):
        """The figure as on screen, as PNG (fast compression: it is redrawn often)."""
        with DRAWING:
            self.figure.canvas.draw()
            return frame_png(self.figure.canvas.buffer_rgba())

    @property
    def widget(self):
        """The bar, the label and the loss curve in one box."""
        row = HBox([self.bar, self.label])
        return VBox([row] if self.image is None else [row, self.image])

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if self.image is not None:  # for pages shown without a kernel
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle


def training_monitor(epochs, **options):
    """Show a ``TrainingMonitor`` under the cell now, and return it for ``progress=``.

    Examples
    --------
    In a notebook cell::

        from nnlib.widgets.training import training_monitor

        result = training.train_network(X, Y, [2, 8, 1], ["tanh", "sigmoid"],
                                        loss="binary_cross_entropy", epochs=300,
                                        progress=training_monitor(300))
    """
    monitor = TrainingMonitor(epochs, **options)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return monitor
    if get_ipython() is not None:
        monitor._display = display(monitor, display_id=True)
    return monitor
