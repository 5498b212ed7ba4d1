"""Explorers for notebook 06: gradient descent on a loss surface, a training playground, and
a progress display for any training (``training_monitor``)."""

import base64
import functools
import os
import time
from io import BytesIO

import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from ipywidgets import HTML, Button, Dropdown, HBox, Image, IntProgress, VBox
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import backprop, datasets, network, training
from ._explorer import (
    PNG_DPI,
    STYLE,
    Backdrop,
    Explorer,
    artists,
    as_readout,
    grid,
    log_slider,
    missing_function,
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
    curve.set_xlim(0, _round_up(max(view["steps"], 1)))  # round: the axis changes seldom
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


def _round_up(count):
    """The smallest of 1, 2 or 5 times a power of 10 that is at least ``count`` (>= 1)."""
    power = 10 ** (len(str(int(count))) - 1)
    return next(m * power for m in (1, 2, 5, 10) if m * power >= count)


def descent_explorer(learning_rate=0.05, steps=30):
    """A learning-rate slider (log scale) and a steps slider for ``descent_view``."""
    controls = {
        "learning_rate": log_slider(learning_rate, -3, 0, 0.05, "learning rate"),
        "steps": slider(steps, 0, MAX_STEPS, 1, "steps", integer=True),
    }
    return Explorer(descent_view, draw_descent, controls, ncols=2, figsize=(9.0, 3.9))


# ---------------------------------------------------------------- the training playground

PLAYGROUND_DATASETS = ("moons", "circles", "spirals", "xor")
PLAYGROUND_ACTIVATIONS = NONLINEAR_ACTIVATIONS  # the choices of notebook 02's explorers
PLAYGROUND_LIMITS = {"moons": (-1.6, 2.6), "circles": (-1.5, 1.5), "spirals": (-1.3, 1.3),
                     "xor": (-0.6, 1.6)}
PLAYGROUND_SAMPLES = 200
PLAYGROUND_BATCH = 32


def playground_data(dataset="moons", seed=0):
    """The playground's two-class data.

    ``"xor"`` is a cloud of points around the four inputs of the XOR gate,
    labelled like the gate.

    Returns
    -------
    X : ndarray, shape (200, 2)
    y : ndarray, shape (200,)
    """
    n = PLAYGROUND_SAMPLES
    if dataset == "moons":
        return datasets.make_moons(n, noise=0.15, seed=seed)
    if dataset == "circles":
        return datasets.make_circles(n, noise=0.08, seed=seed)
    if dataset == "spirals":
        return datasets.make_spirals(n, noise=0.04, seed=seed)
    if dataset == "xor":
        corners, labels = datasets.logic_gate("xor")
        rng = np.random.default_rng(seed)
        pick = np.arange(n) % 4
        return corners[pick] + rng.normal(0.0, 0.15, (n, 2)), labels[pick]
    raise ValueError(f"unknown dataset {dataset!r}; known datasets are: "
                     f"{', '.join(PLAYGROUND_DATASETS)}")


def playground_view(dataset="moons", hidden_units=8, hidden_layers=1, activation="tanh",
                    learning_rate=0.5, epochs=100, seed=0, progress=None, frames=20):
    """Train an MLP on a two-class dataset with ``training.train_network``.

    The network is ``[2, H, ..., H, 1]`` with ``hidden_layers`` hidden
    layers of ``hidden_units`` units, a sigmoid output and binary
    cross-entropy, trained in mini-batches of 32 (He initialization for the
    ReLU family, Xavier otherwise).

    Parameters
    ----------
    dataset : {"moons", "circles", "spirals", "xor"}
    hidden_units, hidden_layers : int
    activation : str
        Of the hidden layers: one of ``PLAYGROUND_ACTIVATIONS``.
    learning_rate : float
    epochs : int
    seed : int
        Seeds the data, the initial weights and the shuffling.
    progress : callable, optional
        Called as ``progress(view)`` about ``frames`` times during training,
        with a dict like the one returned, for the network at that moment.
    frames : int

    Returns
    -------
    dict
        ``X`` (N, 2), ``y`` (N,): the data; ``xx``, ``yy``, ``probability``
        (R, R): the network's output over a grid; ``history``: the loss per
        epoch so far; ``accuracy``: the fraction of training points on the
        right side of 0.5; ``epochs``, ``dataset``; ``diverged``: None, or
        the message of the ``FloatingPointError`` that stopped training
        (the view then shows the last finite network); ``missing``: None, or
        the error of a stub training needs (the view then has the data only).
        Without ``progress``, a setting is trained once and kept.
    """
    X, y = playground_data(dataset, seed)
    settings = (dataset, hidden_units, hidden_layers, activation, learning_rate, epochs, seed)
    try:
        if progress is None:  # the same settings again: the same network, trained once
            return dict(_trained_playground(training.train_network, network.forward_pass,
                                            *settings))
        return _train_playground(*settings, progress=progress, frames=frames)
    except NotImplementedError as error:
        return dict(X=X, y=y, xx=None, yy=None, probability=None, history=[], accuracy=None,
                    epochs=epochs, dataset=dataset, diverged=None, missing=error)


@functools.lru_cache(maxsize=128)
def _trained_playground(train_network, forward_pass, *settings):
    """``_train_playground(*settings)``, kept per setting and per nnlib function."""
    return _train_playground(*settings)


def _train_playground(dataset, hidden_units, hidden_layers, activation, learning_rate, epochs,
                      seed, progress=None, frames=20):
    """Train the playground's network: see ``playground_view``."""
    X, y = playground_data(dataset, seed)
    sizes = [2] + [hidden_units] * hidden_layers + [1]
    names = [activation] * hidden_layers + ["sigmoid"]
    init = "he" if activation in ("relu", "leaky_relu") else "xavier"
    every = max(1, epochs // frames)
    last = {"history": []}  # the network after the latest finished epoch

    def on_epoch(epoch, loss, weights, biases):
        last["history"].append(loss)
        last.update(weights=weights, biases=biases)
        if progress is not None and (epoch + 1) % every == 0 and epoch + 1 < epochs:
            progress(_playground_snapshot(X, y, dataset, names, weights, biases,
                                          last["history"], epochs, None))

    try:
        weights, biases, history = training.train_network(
            X, y.reshape(-1, 1), sizes, names, loss="binary_cross_entropy",
            learning_rate=learning_rate, epochs=epochs, batch_size=PLAYGROUND_BATCH,
            init=init, seed=seed, progress=on_epoch)
    except FloatingPointError as error:
        if "weights" not in last:  # not even one epoch finished: show the start
            last["weights"], last["biases"] = network.init_params(sizes, init, seed)
        return _playground_snapshot(X, y, dataset, names, last["weights"], last["biases"],
                                    last["history"], epochs, str(error))
    return _playground_snapshot(X, y, dataset, names, weights, biases, list(history), epochs,
                                None)


PLAYGROUND_GRID = 61


def _playground_snapshot(X, y, dataset, names, weights, biases, history, epochs, diverged):
    """The playground's view dict for one state of the network."""
    xx, yy, points = grid(*PLAYGROUND_LIMITS[dataset], resolution=PLAYGROUND_GRID)
    probability = network.forward_pass(points, weights, biases, names)[:, 0].reshape(xx.shape)
    predicted = network.forward_pass(X, weights, biases, names)[:, 0] > 0.5
    return dict(X=X, y=y, xx=xx, yy=yy, probability=probability, history=list(history),
                accuracy=float(np.mean(predicted == (y == 1.0))), epochs=epochs,
                dataset=dataset, diverged=diverged, missing=None)


def draw_playground(axes, view):
    """The decision regions with the data, and the loss curve."""
    ax, curve = axes
    made = artists(ax)
    if not made:
        made["probability"] = ax.imshow(np.full((2, 2), 0.5), origin="lower", cmap="RdBu_r",
                                        alpha=0.45, vmin=0.0, vmax=1.0,
                                        interpolation="bilinear")
        made["zeros"] = ax.scatter([], [], s=14, c="#204a87", label="class 0")
        made["ones"] = ax.scatter([], [], s=14, c="#a40000", marker="s", label="class 1")
        made["contour"], made["dataset"] = None, None
        ax.set(aspect="equal", xlabel="$x_1$", ylabel="$x_2$")
        ax.locator_params(nbins=5)
        made["loss"], = curve.plot([], [], color="#cc0000")
        curve.set(xlabel="epoch", ylabel="mean loss")
        curve.set_title("training loss per epoch", fontsize="medium")
    X, y, dataset = view["X"], view["y"], view["dataset"]
    limits = PLAYGROUND_LIMITS[dataset]
    if made["dataset"] != (dataset, id(X)):
        made["zeros"].set_offsets(X[y == 0])
        made["ones"].set_offsets(X[y == 1])
        made["probability"].set_extent((*limits, *limits))
        ax.set(xlim=limits, ylim=limits)
        made["dataset"] = (dataset, id(X))
    if made["contour"] is not None:
        made["contour"].remove()
        made["contour"] = None
    probability = view["probability"]
    made["probability"].set_visible(probability is not None)
    history = view["history"]
    done = len(history)
    made["loss"].set_data(np.arange(1, done + 1), history)
    curve.set(xlim=(0, view["epochs"]), ylim=(0, max([0.8, *history]) * 1.05))
    if probability is None:
        ax.set_title(f"{dataset}: training needs {missing_function(view['missing'])}",
                     fontsize="medium")
        return
    made["probability"].set_data(probability)
    if probability.min() < 0.5 < probability.max():
        axis = np.linspace(*limits, PLAYGROUND_GRID)
        made["contour"] = ax.contour(axis, axis, probability, levels=[0.5], colors="black",
                                     linewidths=1.5)
    if view["diverged"]:
        title = f"diverged in epoch {done + 1}: learning rate too large?"
    else:
        title = f"{view['accuracy']:.0%} right after {done} of {view['epochs']} epochs"
    ax.set_title(f"{dataset}: {title}", fontsize="medium")


class PlaygroundExplorer(Explorer):
    """An Explorer with a button that replays training, redrawing as it goes.

    Moving a control shows the network after all its epochs; the button
    trains the same network again and draws it about 20 times on the way.

    Attributes
    ----------
    train_button : ipywidgets.Button
    frames_drawn : int
        How many pictures the last replay drew (for the tests).
    """

    def __init__(self, *args, **kwargs):
        self.train_button = Button(description="watch it train", icon="play")
        self.train_button.on_click(self.replay)
        self.frames_drawn = 0
        super().__init__(*args, **kwargs)

    def frame(self, view):
        """Draw one frame of the replay at once, while the kernel is busy training."""
        self.frames_drawn += 1
        self.show(view, now=True)

    def replay(self, button=None):
        """Train again, showing the network every few epochs."""
        self.frames_drawn = 0
        try:
            final = self.view(**self.values(), progress=self.frame)
        except NotImplementedError:
            self.update()  # shows what to implement
        else:
            self.frame(final)

    @property
    def widget(self):
        box = super().widget
        row = box.children[0]
        row.children = (*row.children, self.train_button)
        return box


def playground_explorer(dataset="moons", hidden_units=8, hidden_layers=1, activation="tanh",
                        learning_rate=0.5, epochs=100):
    """Controls for ``playground_view`` and a button to watch the training."""
    controls = {
        "dataset": Dropdown(options=PLAYGROUND_DATASETS, value=dataset, description="data"),
        "activation": Dropdown(options=PLAYGROUND_ACTIVATIONS, value=activation,
                               description="activation"),
        "hidden_units": slider(hidden_units, 1, 32, 1, "hidden units", integer=True),
        "hidden_layers": slider(hidden_layers, 1, 3, 1, "hidden layers", integer=True),
        "learning_rate": log_slider(learning_rate, -2, 1, 0.1, "learning rate"),
        "epochs": slider(epochs, 10, 300, 10, "epochs", integer=True),
    }
    for name in ("hidden_units", "hidden_layers", "learning_rate", "epochs"):
        controls[name].continuous_update = False  # train once the slider is released
    return PlaygroundExplorer(playground_view, draw_playground, controls, ncols=2,
                              figsize=(9.0, 4.0))


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
        shown = self.figure.get_figwidth() * plt.rcParams["figure.dpi"]  # a live figure's size
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
        self.figure.canvas.draw()
        buffer = BytesIO()
        PIL.Image.fromarray(np.asarray(self.figure.canvas.buffer_rgba())).save(
            buffer, format="png", compress_level=1)
        return buffer.getvalue()

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
