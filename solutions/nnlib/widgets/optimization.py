"""Explorers for notebook 08: an optimizer race on a loss surface, regularization against
overfitting, and batch normalization through depth."""

import functools
from typing import NamedTuple

import numpy as np
from ipywidgets import Dropdown, SelectionSlider
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.lines import Line2D

from .. import activations, backprop, datasets, network, optimization, training
from ._explorer import (
    FIGURE_WIDTH,
    Explorer,
    Stubs,
    artists,
    as_readout,
    decision_boundary,
    decision_shade,
    grid,
    log_slider,
    missing_function,
    one_blas_thread,
    round_up,
    slider,
    static,
)
from .network import INIT_ACTIVATIONS
from .training import (
    B_LIMITS,
    CLASS_COLOURS,
    ESCAPE,
    SURFACE_START,
    SURFACE_X,
    SURFACE_Y,
    TEST_COLOUR,
    TRAINING_COLOUR,
    W_LIMITS,
    loss_surface,
    surface_loss,
)

# ---------------------------------------------------------------- the optimizer race

# Every optimizer of the registry takes part, its path drawn in its colour (grey for one
# added later) and named in the legend as here.
RACE_COLOURS = {"sgd": "#cc0000", "momentum": "#3465a4", "rmsprop": "#4e9a06",
                "adam": "#f57900"}
RACE_NAMES = {"sgd": "SGD", "momentum": "momentum", "rmsprop": "RMSProp", "adam": "Adam"}
RACE_STEPS = 200  # the steps slider's end: SGD at rate 0.16 leaves the valley at step 146
# The loss axis (log scale), above each surface's minimum.
LOSS_FLOOR, LOSS_CEILING = 1e-9, 1e3


class Surface(NamedTuple):
    """A two-parameter loss for the race: the first parameter is a 1x1 weight, the second a
    1-element bias, so that every optimizer updates them as it would a network's."""

    label: str
    loss: object  # (x, y) arrays of shape (G,) -> losses (G,)
    gradient: object  # (x, y) floats -> (dL/dx, dL/dy); None: backpropagation computes it
    start: tuple
    x_limits: tuple
    y_limits: tuple
    minima: tuple  # the (x, y) of every minimum
    axis_labels: tuple


def _saddle_loss(x, y):
    """``x**2 - y**2 + y**4 / 4``: a saddle at (0, 0) between minima at (0, +-sqrt 2)."""
    return x ** 2 - y ** 2 + y ** 4 / 4.0


def _saddle_gradient(x, y):
    return 2.0 * x, -2.0 * y + y ** 3


def _banana_loss(x, y):
    """Rosenbrock's banana valley, ``(y - x**2)**2 + (1 - x)**2 / 20``: minimum 0 at (1, 1).

    The classic ``(1 - x)**2 + 100 (y - x**2)**2``, with a floor 20 (not 100) times flatter
    than its walls and divided by 20, so that rates near 0.1 suit it as they suit the valley.
    """
    return (y - x ** 2) ** 2 + (1.0 - x) ** 2 / 20.0


def _banana_gradient(x, y):
    return -4.0 * x * (y - x ** 2) - (1.0 - x) / 10.0, 2.0 * (y - x ** 2)


SURFACES = {
    # notebook 6's one-unit MSE, its gradient computed by backpropagation
    "valley": Surface("notebook 6's valley", surface_loss, None, SURFACE_START, W_LIMITS,
                      B_LIMITS, (tuple(loss_surface()[3]),), ("weight $w$", "bias $b$")),
    # a hair off the ridge y = 0: exactly on it, the gradient never points off it
    "saddle": Surface("a saddle", _saddle_loss, _saddle_gradient, (-2.0, 1e-4), (-2.5, 2.5),
                      (-2.5, 2.5), ((0.0, -np.sqrt(2.0)), (0.0, np.sqrt(2.0))),
                      ("$x$", "$y$")),
    "rosenbrock": Surface("the banana valley", _banana_loss, _banana_gradient, (-1.5, 2.0),
                          (-2.0, 2.0), (-1.0, 3.0), ((1.0, 1.0),), ("$x$", "$y$")),
}


def race_view(surface="valley", learning_rate=0.1, momentum=0.9, beta1=0.9, beta2=0.999,
              steps=100):
    """SGD, momentum, RMSProp and Adam from the same start on a two-parameter surface.

    Each optimizer is the update function of ``optimization.OPTIMIZERS``, applied to a
    1x1 weight (the first coordinate) and a 1-element bias (the second). On the valley,
    ``backprop.backpropagation`` computes the gradient of notebook 6's one-unit MSE; the
    other surfaces are plain numpy. A path of ``RACE_STEPS`` steps is computed once per
    setting of its optimizer; fewer steps show its beginning. A path that leaves the box
    ``|x|, |y| <= ESCAPE`` has diverged and stops there.

    Parameters
    ----------
    surface : {"valley", "saddle", "rosenbrock"}
    learning_rate : float > 0
        The same for every optimizer.
    momentum : float in [0, 1)
        Of the momentum optimizer.
    beta1, beta2 : float in [0, 1)
        Of Adam. RMSProp keeps its default ``decay=0.9``.
    steps : int, 0 to ``RACE_STEPS``

    Returns
    -------
    dict
        ``paths``: optimizer name -> (K + 1, 2) array of the points visited, ``K <= steps``;
        ``losses``: name -> (K + 1,) the loss at each; ``diverged``: name -> the step at
        which the path left the box (when that step is shown), else None; ``missing_by``:
        name -> the error of the stub its path needs, else None; ``xx``, ``yy``, ``zz``
        (R, R): the loss over a grid; ``minima`` (M, 2); ``minimum_loss``; ``start`` (2,);
        ``label``, ``x_limits``, ``y_limits``, ``axis_labels``; the arguments. ``missing``
        is the first stub's error, or None.
    """
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; known surfaces are: "
                         f"{', '.join(SURFACES)}")
    chosen = SURFACES[surface]
    settings = dict(momentum=momentum, beta1=beta1, beta2=beta2)
    xx, yy, zz = _surface_grid(surface)
    view = dict(surface=surface, label=chosen.label, xx=xx, yy=yy, zz=zz,
                minima=np.array(chosen.minima), start=np.array(chosen.start),
                minimum_loss=float(chosen.loss(*np.array(chosen.minima[:1]).T)[0]),
                x_limits=chosen.x_limits, y_limits=chosen.y_limits,
                axis_labels=chosen.axis_labels, learning_rate=learning_rate, steps=steps,
                paths={}, losses={}, diverged={}, missing_by={}, **settings)
    for name, optimizer in optimization.OPTIMIZERS.items():
        # the settings this optimizer takes, as (keyword, value) pairs; the rest are defaults
        options = tuple((key, settings[key]) for key in optimizer.options if key in settings)
        path, diverged, stubs = np.array([chosen.start]), None, Stubs()
        with stubs:
            path, diverged = _race_path(surface, optimizer.update, backprop.backpropagation,
                                        training.gradient_descent_update, learning_rate,
                                        options, max(steps, RACE_STEPS))
        view["missing_by"][name] = stubs.error
        shown = path[:steps + 1]
        view["paths"][name] = shown
        view["losses"][name] = chosen.loss(shown[:, 0], shown[:, 1])
        view["diverged"][name] = diverged if diverged is not None and diverged < len(shown) \
            else None
    view["missing"] = next((e for e in view["missing_by"].values() if e is not None), None)
    return view


@functools.lru_cache(maxsize=3)
def _surface_grid(surface, resolution=81):
    """The loss over a grid of the surface's window: ``xx``, ``yy``, ``zz`` (R, R), read-only."""
    if surface == "valley":
        ww, bb, zz, _ = loss_surface(resolution)
        return ww, bb, zz
    chosen = SURFACES[surface]
    xx, yy = np.meshgrid(np.linspace(*chosen.x_limits, resolution),
                         np.linspace(*chosen.y_limits, resolution))
    zz = chosen.loss(xx, yy)
    for array in (xx, yy, zz):
        array.flags.writeable = False
    return xx, yy, zz


@functools.lru_cache(maxsize=256)
def _race_path(surface, update, backpropagation, gradient_descent_update, learning_rate,
               options, steps):
    """The points after each of up to ``steps`` updates, and the step that left the box.

    Cached by the settings and by nnlib's functions: the optimizer's ``update``,
    ``backpropagation`` (the valley's gradient) and ``gradient_descent_update`` (which
    ``sgd_update`` calls), so that an edited function is run anew.

    Returns
    -------
    path : ndarray, shape (K + 1, 2), read-only
    diverged : int or None
    """
    chosen = SURFACES[surface]
    weights, biases = [np.array([[chosen.start[0]]])], [np.array([chosen.start[1]])]
    state = optimization.init_state(weights, biases)
    path, diverged = [chosen.start], None
    for step in range(1, steps + 1):
        if chosen.gradient is None:
            gradients = backpropagation(SURFACE_X, SURFACE_Y, weights, biases, ["identity"],
                                        "mse")
        else:
            dx, dy = chosen.gradient(weights[0][0, 0], biases[0][0])
            gradients = ([np.array([[dx]])], [np.array([dy])])
        weights, biases, state = update(weights, biases, gradients, state, learning_rate,
                                        **dict(options))
        path.append((float(weights[0][0, 0]), float(biases[0][0])))
        if max(abs(path[-1][0]), abs(path[-1][1])) > ESCAPE:
            diverged = step
            break
    path = np.array(path)
    path.flags.writeable = False
    return path, diverged


def draw_race(axes, view):
    """The contours with each optimizer's path; the loss above the minimum at each step."""
    ax, curve = axes
    made = artists(ax)
    if not made:
        _make_race_artists(ax, curve, made, list(view["paths"]))
    surface = view["surface"]
    if made["surface"] != surface:  # a surface's contours are made once, then shown or hidden
        if surface not in made["contours"]:
            above = view["zz"] - view["minimum_loss"]
            levels = np.geomspace(max(above.max(), 1.0) * 1e-4, above.max(), 15)
            # grey, under the coloured paths
            made["contours"][surface] = ax.contour(view["xx"], view["yy"], above, levels=levels,
                                                   colors="#a0a29d", linewidths=0.8)
        for name, contours in made["contours"].items():
            contours.set_visible(name == surface)
        made["minima"].set_data(view["minima"][:, 0], view["minima"][:, 1])
        made["start"].set_data(view["start"][:1], view["start"][1:])
        x_label, y_label = view["axis_labels"]
        ax.set(xlim=view["x_limits"], ylim=view["y_limits"], xlabel=x_label, ylabel=y_label)
        made["surface"] = surface
    texts = made["legend"].get_texts()
    for i, (name, path) in enumerate(view["paths"].items()):
        made[name].set_data(path[:, 0], path[:, 1])
        # a diverged path zigzags across the window: drawn faint, so that the others show
        made[name].set_alpha(0.35 if view["diverged"][name] is not None else 1.0)
        above = np.maximum(view["losses"][name] - view["minimum_loss"], LOSS_FLOOR / 10)
        made[f"{name} loss"].set_data(np.arange(len(path)), above)
        texts[i].set_text(_race_label(name, view))
    curve.set_xlim(0, round_up(max(view["steps"], 1)))  # round: the axis changes seldom
    title = f"{view['label']}, learning rate {as_readout(view['learning_rate'])}"
    if view["missing"] is not None:
        title += f"\n(needs {missing_function(view['missing'])})"
    ax.set_title(title, fontsize="medium")


def _make_race_artists(ax, curve, made, names):
    """The race's artists, made on the first draw and updated later; a path and a loss curve
    for each optimizer of ``names``, in their order in the legend."""
    made["surface"], made["contours"] = None, {}
    for name in names:
        colour = RACE_COLOURS.get(name, "#555753")
        made[name], = ax.plot([], [], "o-", color=colour, markersize=2, linewidth=1.2,
                              zorder=3)
        made[f"{name} loss"], = curve.semilogy([], [], color=colour, label=" ")
    made["minima"], = ax.plot([], [], marker="*", markersize=14, color="black",
                              linestyle="none", zorder=4)
    made["start"], = ax.plot([], [], marker="s", markersize=7, color="black", linestyle="none",
                             zorder=4)
    curve.set(xlabel="step", ylabel="loss above the minimum (log scale)",
              ylim=(LOSS_FLOOR, LOSS_CEILING))
    curve.set_yticks(10.0 ** np.arange(-9, 4, 3))
    curve.minorticks_off()
    static(curve.set_title("loss after each step", fontsize="medium"))
    made["legend"] = curve.legend(loc="lower left", fontsize="small")


def _race_label(name, view):
    """The legend's line for one optimizer: its settings, and its final loss or fate."""
    settings = {"momentum": f" {view['momentum']:g}",
                "adam": f" (β1 {view['beta1']:g}, β2 {view['beta2']:g})"}.get(name, "")
    head = f"{RACE_NAMES.get(name, name)}{settings}"
    if view["missing_by"][name] is not None:
        return f"{head}: needs {missing_function(view['missing_by'][name])}"
    if view["diverged"][name] is not None:
        return f"{head}: diverged at step {view['diverged'][name]}"
    losses = view["losses"][name]
    rising = ", rising" if losses[-1] > losses[0] else ""
    return f"{head}: loss {losses[-1]:.4g}{rising}"


# Learning rates of two significant digits, 1.0, 1.1, ... 9.9 times each power of 10: the
# momentum limit on the valley, 2 (1 + 0.9) / 12.81 = 0.297, lies between 0.29 and 0.30.
FINE_MANTISSAS = tuple(m / 10 for m in range(10, 100))


def fine_log_slider(value, low, high, description):
    """A slider over the two-digit values from ``10**low`` to ``10**high`` (``FINE_MANTISSAS``
    in each decade); its readout writes each value as ``as_readout`` does."""
    values = {float(f"{m:.1f}e{power}") for power in range(low, high) for m in FINE_MANTISSAS}
    values = sorted(values | {float(f"1e{high}"), float(value)})
    return SelectionSlider(options=[(as_readout(v), v) for v in values], value=float(value),
                           description=description, continuous_update=True,
                           style={"description_width": "initial"})


BETA2_CHOICES = (0.5, 0.9, 0.99, 0.999, 0.9999)


def race_explorer(surface="valley", learning_rate=0.1, momentum=0.9, beta1=0.9, beta2=0.999,
                  steps=100):
    """A surface dropdown, the shared learning rate, each optimizer's settings and the steps."""
    controls = {
        "surface": Dropdown(options=[(s.label, key) for key, s in SURFACES.items()],
                            value=surface, description="surface"),
        "learning_rate": fine_log_slider(learning_rate, -3, 0, "learning rate"),
        "momentum": slider(momentum, 0.0, 0.99, 0.01, "momentum"),
        "beta1": slider(beta1, 0.0, 0.99, 0.01, "Adam β1"),
        "beta2": SelectionSlider(options=sorted({*BETA2_CHOICES, beta2}), value=beta2,
                                 description="Adam β2", continuous_update=True,
                                 style={"description_width": "initial"}),
        "steps": slider(steps, 0, RACE_STEPS, 1, "steps", integer=True),
    }
    return Explorer(race_view, draw_race, controls, ncols=2, figsize=(FIGURE_WIDTH, 4.2))


# ---------------------------------------------------------------- regularization

# Few, noisy training points and a wide network: without regularization it learns the noise.
FIT_SAMPLES, FIT_VALIDATION_SAMPLES, FIT_NOISE = 60, 200, 0.25
FIT_VALIDATION_SEED = 10_000  # the validation points of seed s are drawn with seed s + this
FIT_SIZES = (2, 64, 64, 1)
FIT_ACTIVATIONS = ("tanh", "tanh", "sigmoid")
FIT_LOSS = "sigmoid_cross_entropy"
# Adam, full batch: one update per epoch, 300 updates in about 0.15 s
FIT_TRAINING = dict(optimizer="adam", learning_rate=0.01, epochs=300, batch_size=None)
FIT_LIMITS = (-1.6, 2.6)
FIT_GRID = 61
L2_CHOICES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
# The nnlib functions that training runs, by module: a regularized network is kept per
# setting and per these functions, so that an edited one is trained anew.
FIT_FUNCTIONS = ((optimization, ("train_model", "adam_update", "l2_penalty", "l2_gradient",
                                 "dropout_forward", "dropout_backward")),
                 (backprop, ("backpropagation", "loss_value")),
                 (network, ("init_params", "forward_pass")))


@functools.lru_cache(maxsize=8)
def _fit_data(seed):
    """The regularization explorer's moons: ``X`` (60, 2), ``y`` (60,), and the validation
    points ``X_val`` (200, 2), ``y_val`` (200,), drawn with seed ``seed + 10_000``; read-only."""
    X, y = datasets.make_moons(FIT_SAMPLES, noise=FIT_NOISE, seed=seed)
    X_val, y_val = datasets.make_moons(FIT_VALIDATION_SAMPLES, noise=FIT_NOISE,
                                       seed=seed + FIT_VALIDATION_SEED)
    for array in (X, y, X_val, y_val):
        array.flags.writeable = False
    return dict(X=X, y=y, X_val=X_val, y_val=y_val)


def regularization_view(l2=0.0, dropout=0.0, seed=0):
    """A wide network on few noisy points, trained with L2 and dropout by ``train_model``.

    The network is ``[2, 64, 64, 1]``, tanh then a sigmoid output, trained on 60 noisy
    moons with binary cross-entropy from the logits, by Adam (rate 0.01) for 300 full-batch
    epochs (``FIT_TRAINING``); 200 validation points from the same distribution never take
    part. Without regularization it fits the training points almost perfectly and the
    validation loss climbs back up.

    Parameters
    ----------
    l2 : float >= 0
        The L2 strength (the notes' lambda).
    dropout : float in [0, 1)
        The dropout rate of both hidden layers, in training.
    seed : int
        Seeds the data, the initial weights, the order and the dropout masks.

    Returns
    -------
    dict
        ``X`` (N, 2), ``y`` (N,), ``X_val`` (M, 2), ``y_val`` (M,): the points;
        ``history`` (E,): the training loss of each epoch, with its L2 term, as
        ``train_model`` reports it; ``validation`` (E,): the validation loss after each
        epoch; ``best_epoch``: the epoch (from 1) of the lowest validation loss;
        ``train_loss``, ``validation_loss``: the final network's loss on each set, without
        the L2 term; ``accuracy``, ``validation_accuracy``; ``weight_norm``: the square
        root of the sum of every weight squared; ``xx``, ``yy``, ``probability`` (R, R): the
        network's output over a grid; ``l2``, ``dropout``, ``epochs``. While training needs
        a stub, all but the points are None (``history`` and ``validation`` empty) and
        ``missing`` is the stub's error. Each setting is trained once and kept.
    """
    functions = tuple(getattr(module, name) for module, names in FIT_FUNCTIONS
                      for name in names)
    try:
        trained = _regularized(functions, float(l2), float(dropout), seed)
    except NotImplementedError as error:
        trained = dict(history=[], validation=[], best_epoch=None, train_loss=None,
                       validation_loss=None, accuracy=None, validation_accuracy=None,
                       weight_norm=None, xx=None, yy=None, probability=None, missing=error)
    return dict(_fit_data(seed), l2=l2, dropout=dropout, epochs=FIT_TRAINING["epochs"],
                **trained)


@functools.lru_cache(maxsize=128)
def _regularized(functions, l2, dropout, seed):
    """The trained part of ``regularization_view``, kept per setting and per nnlib function."""
    data = _fit_data(seed)
    Y, Y_val = data["y"].reshape(-1, 1), data["y_val"].reshape(-1, 1)
    names = list(FIT_ACTIVATIONS)
    with one_blas_thread():  # small products: one thread is fastest, on a busy machine by far
        model = optimization.train_model(data["X"], Y, list(FIT_SIZES), names, loss=FIT_LOSS,
                                         seed=seed, l2=l2, dropout=dropout,
                                         validation=(data["X_val"], Y_val), **FIT_TRAINING)
    weights, biases = model.weights, model.biases
    xx, yy, points = grid(*FIT_LIMITS, resolution=FIT_GRID)
    probability = network.forward_pass(points, weights, biases, names)[:, 0].reshape(xx.shape)

    def accuracy(X, y):
        return float(np.mean((network.forward_pass(X, weights, biases, names)[:, 0] > 0.5)
                             == (y == 1.0)))

    history, validation = np.array(model.history), np.array(model.validation)
    for array in (history, validation, xx, yy, probability):  # kept: shared by every view
        array.flags.writeable = False
    return dict(history=history, validation=validation,
                best_epoch=int(np.argmin(validation)) + 1,
                train_loss=float(backprop.loss_value(data["X"], Y, weights, biases, names,
                                                     FIT_LOSS)),
                validation_loss=float(validation[-1]),
                accuracy=accuracy(data["X"], data["y"]),
                validation_accuracy=accuracy(data["X_val"], data["y_val"]),
                weight_norm=float(np.sqrt(sum(np.sum(W ** 2) for W in weights))),
                xx=xx, yy=yy, probability=probability, missing=None)


def draw_regularization(axes, view):
    """Left: the training and validation loss per epoch. Right: the decision boundary."""
    curve, ax = axes
    made = artists(ax)
    if not made:
        _make_regularization_artists(curve, ax, made)
        _draw_fit_points(made, view)
    setting = f"L2 λ = {as_readout(view['l2'])}, dropout {view['dropout']:.2f}"
    trained = view["probability"] is not None
    for name in ("probability", "boundary", "best"):
        made[name].set_visible(trained)
    epochs = np.arange(1, len(view["history"]) + 1)
    made["history"].set_data(epochs, view["history"])
    made["validation"].set_data(epochs, view["validation"])
    if not trained:
        curve.set_title(f"{setting}\ntraining needs {missing_function(view['missing'])}",
                        fontsize="medium")
        ax.set_title("the data", fontsize="medium")
        return
    best = view["best_epoch"]
    made["best"].set_data([best], [view["validation"][best - 1]])
    gap = view["validation_loss"] - view["train_loss"]
    curve.set_title(f"{setting}\nat the end: training {view['train_loss']:.3f}, "
                    f"validation {view['validation_loss']:.3f} (gap {gap:.3f})",
                    fontsize="medium")
    made["probability"].set_data(decision_shade(view["probability"]))
    made["boundary"].set_segments(decision_boundary(view["xx"], view["yy"], view["probability"]))
    ax.set_title(f"{view['accuracy']:.0%} right on training, "
                 f"{view['validation_accuracy']:.0%} on validation\n"
                 f"weights' norm {view['weight_norm']:.3g}", fontsize="medium")


def _make_regularization_artists(curve, ax, made):
    """The regularization explorer's artists, made on the first draw and updated later."""
    made["history"], = curve.plot([], [], color=TRAINING_COLOUR)
    made["validation"], = curve.plot([], [], color=TEST_COLOUR, linestyle="--")
    made["best"], = curve.plot([], [], "o", color=TEST_COLOUR, markersize=6,
                               markerfacecolor="none")
    # up to 1: a strong L2 term starts the training curve higher, out of the picture
    curve.set(xlim=(0, FIT_TRAINING["epochs"]), ylim=(0.0, 1.0), xlabel="epoch",
              ylabel="mean loss")
    keys = [Line2D([], [], color=TRAINING_COLOUR, marker="o", markerfacecolor="grey",
                   markeredgecolor="grey", markersize=4),
            Line2D([], [], color=TEST_COLOUR, linestyle="--", marker="o",
                   markerfacecolor="none", markeredgecolor="grey", markersize=4),
            Line2D([], [], color=TEST_COLOUR, marker="o", markerfacecolor="none",
                   linestyle="none", markersize=6)]
    static(curve.legend(keys, ["training, with the L2 term (filled points)",
                               "validation (hollow points)", "lowest validation loss"],
                        loc="upper right", fontsize="small"))
    made["probability"] = ax.imshow(decision_shade(np.full((2, 2), 0.5)), origin="lower",
                                    interpolation="bilinear", extent=(*FIT_LIMITS, *FIT_LIMITS))
    made["boundary"] = ax.add_collection(LineCollection([], colors="black", linewidths=1.5))
    ax.set(xlim=FIT_LIMITS, ylim=FIT_LIMITS, aspect="equal", xlabel="$x_1$", ylabel="$x_2$")
    ax.locator_params(nbins=5)


def _draw_fit_points(made, view):
    """The training points filled and the validation points hollow, in their class's colour."""
    ax = made["probability"].axes
    for label, colour in enumerate(CLASS_COLOURS):
        trained = view["X"][view["y"] == label]
        checked = view["X_val"][view["y_val"] == label]
        ax.scatter(*checked.T, s=14, facecolors="none", edgecolors=colour, linewidths=0.8)
        ax.scatter(*trained.T, s=22, color=colour, edgecolors="white", linewidths=0.5)


def regularization_explorer(l2=0.0, dropout=0.0):
    """An L2-strength slider (0 and 1e-4 to 0.1) and a dropout-rate slider (0 to 0.5).

    Each setting trains once, when first chosen (a fraction of a second), and is kept.
    """
    controls = {
        "l2": SelectionSlider(options=[(as_readout(v), v) for v in sorted({*L2_CHOICES, l2})],
                              value=l2, description="L2 strength λ",
                              style={"description_width": "initial"}),
        "dropout": slider(dropout, 0.0, 0.5, 0.05, "dropout rate"),
    }
    for control in controls.values():
        control.continuous_update = False  # train once the slider is released
    return Explorer(regularization_view, draw_regularization, controls, ncols=2,
                    figsize=(FIGURE_WIDTH, 4.0), busy="training the network...")


# ---------------------------------------------------------------- batch normalization

NORM_DEPTH = 30  # the deepest network of the depth slider
NORM_BINS = 48
# Where the histograms of an activation without a bound (ReLU above) stop: values
# further out are counted in the last bin.
UNBOUNDED_TOP = 3.0
SATURATED = 0.01  # within 1 % of its range from a bound, a bounded unit is saturated


def batchnorm_view(depth=10, activation="tanh", weight_scale=1.0, width=64, n_samples=256,
                   seed=0):
    """Random inputs through a deep network, without batch normalization and with it.

    ``N`` standard normal inputs of ``width`` features go through layers of ``width``
    units with zero biases and weights drawn by ``network.init_params`` (Xavier: std
    ``sqrt(2 / (width + width))``) times ``weight_scale``. Without normalization each layer
    computes ``A = f(A_prev @ W.T)``; with it, ``A = f(BN(A_prev @ W.T))``, ``BN`` being
    ``optimization.batchnorm_forward`` in training mode with ``gamma = 1`` and
    ``beta = 0``. Both networks share their weights. ``NORM_DEPTH`` layers are computed
    once per setting; the view shows the first ``depth``.

    Parameters
    ----------
    depth : int, 1 to ``NORM_DEPTH``
        Number of layers ``L`` shown.
    activation : {"tanh", "relu", "sigmoid"}
    weight_scale : float > 0
        1 is Xavier's standard deviation.
    width : int
        ``H``, units per layer.
    n_samples : int
        ``N``, the batch.
    seed : int
        Seeds the weights and the inputs.

    Returns
    -------
    dict
        ``layers`` (L,): 1..L; ``plain``, ``normalized``: for the network without and with
        batch normalization, a dict of ``mean`` (L,): the mean activation of each layer;
        ``spread`` (L,): the standard deviation of a unit's activation over the batch,
        averaged over the units; ``sum_spread`` (L,): the same for the sums that go into
        the activation (after normalizing, with it); ``histogram`` (L, B): the fraction of
        the layer's ``N * H`` activations in each of ``B`` bins; ``saturated`` (L,): the
        fraction within 1 % of a bound of the activation's range (None for ReLU).
        ``edges`` (B + 1,): the bins' edges; ``weight_std``; the arguments. Either network
        is None while a stub it needs is; ``missing`` is the first stub's error.
    """
    chosen = activations.get_activation(activation)
    if not chosen.elementwise:
        raise ValueError(f"{activation} is not an activation of hidden units; choose one of "
                         f"{', '.join(INIT_ACTIVATIONS)}")
    edges = _histogram_edges(chosen)
    view = dict(layers=np.arange(1, depth + 1), edges=edges, depth=depth,
                activation=activation, weight_scale=weight_scale,
                weight_std=weight_scale * np.sqrt(2.0 / (width + width)), plain=None,
                normalized=None)
    settings = (chosen, weight_scale, width, n_samples, seed, max(depth, NORM_DEPTH))
    stubs = Stubs()
    for key, normalize in (("plain", None), ("normalized", optimization.batchnorm_forward)):
        with stubs:
            statistics = _signal(network.init_params, normalize, *settings)
            view[key] = {name: None if value is None else value[:depth]
                         for name, value in statistics.items()}
    view["missing"] = stubs.error
    return view


@functools.lru_cache(maxsize=32)
def _signal(init_params, batchnorm_forward, activation, weight_scale, width, n_samples, seed,
            depth):
    """Each layer's statistics (see ``batchnorm_view``), without batch normalization when
    ``batchnorm_forward`` is None, else with it; read-only arrays.

    Cached by the settings and by nnlib's functions (the ``Activation`` holds its own).
    """
    weights, _ = init_params([width] * (depth + 1), method="xavier", seed=seed)
    A = np.random.default_rng(seed + 1).normal(size=(n_samples, width))
    ones, zeros = np.ones(width), np.zeros(width)
    low, high = activation.output_range
    edges = _histogram_edges(activation)
    bounded = np.isfinite(low) and np.isfinite(high)
    near = SATURATED * (high - low) if bounded else 0.0
    rows = []
    for W in weights:
        Z = A @ (weight_scale * W).T
        if batchnorm_forward is not None:
            Z = batchnorm_forward(Z, ones, zeros).output
        A = activation(Z)
        counts, _ = np.histogram(np.clip(A, edges[0], edges[-1]), bins=edges)
        rows.append((A.mean(), A.std(axis=0).mean(), Z.std(axis=0).mean(), counts / A.size,
                     np.mean((A <= low + near) | (A >= high - near)) if bounded else np.nan))
    mean, spread, sum_spread, histogram, saturated = (np.array(column) for column in zip(*rows))
    statistics = dict(mean=mean, spread=spread, sum_spread=sum_spread, histogram=histogram,
                      saturated=saturated if bounded else None)
    for array in statistics.values():
        if array is not None:
            array.flags.writeable = False
    return statistics


def _histogram_edges(activation):
    """The ``NORM_BINS + 1`` edges of the histograms: over the activation's range, cut at
    ``-UNBOUNDED_TOP`` and ``UNBOUNDED_TOP`` where it has no bound."""
    low, high = activation.output_range
    return np.linspace(low if np.isfinite(low) else -UNBOUNDED_TOP,
                       high if np.isfinite(high) else UNBOUNDED_TOP, NORM_BINS + 1)


NORM_COLOURS = {"plain": "#cc0000", "normalized": "#3465a4"}
NORM_TITLES = {"plain": "without batch normalization",
               "normalized": "with batch normalization (γ 1, β 0)"}


def draw_batchnorm(axes, view):
    """Top: each layer's histogram of activations, drawn as a violin, and their mean, without
    and with batch normalization. Bottom: the spread over the batch of each layer, both."""
    spread_ax = axes[2]
    made = artists(spread_ax)
    if not made:
        _make_batchnorm_artists(axes, made)
    edges, depth, layers = view["edges"], view["depth"], view["layers"]
    for ax, key in zip(axes[:2], NORM_TITLES):
        statistics = view[key]
        ax.set(xlim=(0.5, depth + 0.5), ylim=(edges[0], edges[-1]))
        if statistics is None:
            for part in ("violins", "mean", "spread"):
                made[f"{key} {part}"].set_visible(False)
            ax.set_title(f"{NORM_TITLES[key]}\nneeds {missing_function(view['missing'])}",
                         fontsize="medium")
            continue
        made[f"{key} violins"].set_verts(_violins(layers, statistics["histogram"], edges))
        made[f"{key} mean"].set_data(layers, statistics["mean"])
        made[f"{key} spread"].set_data(layers, statistics["spread"])
        for part in ("violins", "mean", "spread"):
            made[f"{key} {part}"].set_visible(True)
        ax.set_title(f"{NORM_TITLES[key]}\n{_layer_summary(statistics, depth)}",
                     fontsize="medium")
    spreads = [view[key]["spread"] for key in NORM_TITLES if view[key] is not None]
    spreads = np.concatenate([np.ones(1), *spreads])
    spreads = spreads[spreads > 0]  # a layer of dead ReLUs has none: log scale
    # whole steps of 10**3 past 0.1 and 10, so that the axis changes seldom
    low = 10.0 ** (3 * np.floor(np.log10(min(spreads.min() / 2, 0.1)) / 3))
    high = 10.0 ** (3 * np.ceil(np.log10(max(spreads.max() * 2, 10.0)) / 3))
    spread_ax.set(xlim=(0.5, depth + 0.5), ylim=(low, high))
    spread_ax.set_title(f"{view['activation']}, weights {as_readout(view['weight_scale'])} × "
                        f"Xavier's std ({view['weight_std']:.3g}): each layer's spread over "
                        "the batch", fontsize="medium")


def _violins(layers, histogram, edges):
    """One outline per layer: its histogram turned on its side, mirrored about the layer.

    The widest bin of each layer is 0.84 wide; a bin's width goes with the square root of
    its share, so that the tails show beside a peak.

    Returns
    -------
    list of ndarray, shape (2 B, 2)
    """
    centres = (edges[:-1] + edges[1:]) / 2
    outlines = []
    for layer, shares in zip(layers, histogram):
        half = 0.42 * np.sqrt(shares / shares.max())
        outlines.append(np.column_stack([np.concatenate([layer - half, (layer + half)[::-1]]),
                                         np.concatenate([centres, centres[::-1]])]))
    return outlines


def _layer_summary(statistics, depth):
    """E.g. ``"layer 10: mean 0.01, spread 0.0012, 85% saturated"``."""
    mean = round(float(statistics["mean"][-1]), 2) + 0.0  # + 0.0: 0.00, never -0.00
    summary = f"layer {depth}: mean {mean:.2f}, spread {statistics['spread'][-1]:.2g}"
    if statistics["saturated"] is not None:
        summary += f", {statistics['saturated'][-1]:.0%} saturated"
    return summary


def _make_batchnorm_artists(axes, made):
    """The batch-norm explorer's artists, made on the first draw and updated later."""
    spread_ax = axes[2]
    for ax, key in zip(axes[:2], NORM_TITLES):
        colour = NORM_COLOURS[key]
        made[f"{key} violins"] = ax.add_collection(PolyCollection(
            [], facecolors=colour, alpha=0.4, linewidths=0.0))
        made[f"{key} mean"], = ax.plot([], [], "o-", color="black", markersize=3,
                                       linewidth=1.0)
        ax.set(xlabel="layer", ylabel="activations (line: their mean)" if key == "plain" else "")
        made[f"{key} spread"], = spread_ax.semilogy([], [], "o-", color=colour,
                                                    markersize=3, label=NORM_TITLES[key])
    spread_ax.axhline(1.0, color="#888a85", linestyle=":", linewidth=1)
    spread_ax.set(xlabel="layer", ylabel="spread")
    spread_ax.minorticks_off()
    static(spread_ax.legend(loc="lower left", fontsize="small"))


def batchnorm_explorer(depth=10, activation="tanh", weight_scale=1.0):
    """A depth slider, an activation dropdown and the weights' scale (log) for
    ``batchnorm_view``."""
    controls = {
        "depth": slider(depth, 1, NORM_DEPTH, 1, "depth K", integer=True),
        "activation": Dropdown(options=INIT_ACTIVATIONS, value=activation,
                               description="activation"),
        "weight_scale": log_slider(weight_scale, -1, 1, "weight scale (× Xavier)"),
    }
    return Explorer(batchnorm_view, draw_batchnorm, controls,
                    mosaic=[["plain", "normalized"], ["spread", "spread"]],
                    height_ratios=[3.0, 2.0], figsize=(FIGURE_WIDTH, 6.0))
