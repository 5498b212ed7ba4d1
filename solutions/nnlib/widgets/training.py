"""Explorers for notebook 06: gradient descent on a loss surface, and a training playground."""

import numpy as np
from ipywidgets import Button, Dropdown, FloatLogSlider

from .. import backprop, datasets, network, training
from ._explorer import Explorer, grid, slider
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


def surface_loss(w, b):
    """MSE of the unit ``w * x + b`` on the surface data, for many ``(w, b)`` at once.

    Parameters
    ----------
    w, b : ndarray, shape (G,)
        One weight and one bias per model.

    Returns
    -------
    ndarray, shape (G,)
    """
    # G one-unit models side by side are one layer with G outputs:
    # column g of the output is model g's prediction for every x.
    output = network.forward_pass(SURFACE_X, [np.reshape(w, (-1, 1))], [np.ravel(b)],
                                  ["identity"])
    return np.mean((output - SURFACE_Y) ** 2, axis=0)


def descent_view(learning_rate=0.05, steps=30, w0=SURFACE_START[0], b0=SURFACE_START[1]):
    """Gradient descent on the loss of one linear unit, from ``(w0, b0)``.

    Each step computes the gradient with ``backprop.backpropagation`` and
    moves with ``training.gradient_descent_update``.

    Parameters
    ----------
    learning_rate : float
    steps : int
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
    """
    weights, biases = [np.array([[w0]])], [np.array([b0])]
    path = [(w0, b0)]
    diverged = False
    for _ in range(steps):
        gradients = backprop.backpropagation(SURFACE_X, SURFACE_Y, weights, biases,
                                             ["identity"], "mse")
        weights, biases = training.gradient_descent_update(weights, biases, gradients,
                                                           learning_rate)
        path.append((weights[0][0, 0], biases[0][0]))
        if max(abs(path[-1][0]), abs(path[-1][1])) > ESCAPE:
            diverged = True
            break
    path = np.array(path)
    axis_w = np.linspace(*W_LIMITS, 81)
    axis_b = np.linspace(*B_LIMITS, 81)
    ww, bb = np.meshgrid(axis_w, axis_b)
    surface = surface_loss(ww.ravel(), bb.ravel()).reshape(ww.shape)
    design = np.column_stack([SURFACE_X[:, 0], np.ones(len(SURFACE_X))])
    minimum = np.linalg.lstsq(design, SURFACE_Y[:, 0], rcond=None)[0]
    return dict(path=path, losses=surface_loss(path[:, 0], path[:, 1]), diverged=diverged,
                ww=ww, bb=bb, surface=surface, minimum=minimum,
                learning_rate=learning_rate, steps=steps)


def draw_descent(axes, view):
    """The contours with the path of the iterates, and the loss at each step."""
    ax = axes[0]
    levels = np.geomspace(view["surface"].min() * 1.05, view["surface"].max(), 14)
    ax.contour(view["ww"], view["bb"], view["surface"], levels=levels, cmap="viridis_r",
               linewidths=1)
    path = view["path"]
    ax.plot(path[:, 0], path[:, 1], "o-", color="#cc0000", markersize=3, linewidth=1.2)
    ax.plot(*view["minimum"], marker="*", markersize=14, color="black", linestyle="none")
    ax.plot(*path[0], marker="s", markersize=7, color="#cc0000", linestyle="none")
    ax.set(xlim=W_LIMITS, ylim=B_LIMITS, xlabel="weight $w$", ylabel="bias $b$")
    final = view["losses"][-1]
    if view["diverged"]:
        title = f"diverged after {len(path) - 1} steps"
    elif final > view["losses"][0]:
        title = f"loss {final:.4g} after {len(path) - 1} steps, and rising"
    else:
        title = f"loss {final:.4g} after {len(path) - 1} steps"
    ax.set_title(f"learning rate {view['learning_rate']:.3g}: {title}", fontsize="medium")
    ax = axes[1]
    ax.semilogy(np.arange(len(path)), view["losses"], "o-", color="#cc0000", markersize=3)
    ax.axhline(view["surface"].min(), color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel="step", ylabel="loss (log scale)", xlim=(0, max(view["steps"], 1)),
           title="loss after each step")


def descent_explorer(learning_rate=0.05, steps=30):
    """A learning-rate slider (log scale) and a steps slider for ``descent_view``."""
    controls = {
        "learning_rate": FloatLogSlider(value=learning_rate, base=10, min=-3, max=0, step=0.05,
                                        description="learning rate", readout_format=".3f",
                                        continuous_update=True,
                                        style={"description_width": "initial"}),
        "steps": slider(steps, 0, 100, 1, "steps", integer=True),
    }
    return Explorer(descent_view, draw_descent, controls, ncols=2, figsize=(10.0, 4.2))


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
        (the view then shows the last finite network).
    """
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


def _playground_snapshot(X, y, dataset, names, weights, biases, history, epochs, diverged):
    """The playground's view dict for one state of the network."""
    xx, yy, points = grid(*PLAYGROUND_LIMITS[dataset], resolution=61)
    probability = network.forward_pass(points, weights, biases, names)[:, 0].reshape(xx.shape)
    predicted = network.forward_pass(X, weights, biases, names)[:, 0] > 0.5
    return dict(X=X, y=y, xx=xx, yy=yy, probability=probability, history=list(history),
                accuracy=float(np.mean(predicted == (y == 1.0))), epochs=epochs,
                dataset=dataset, diverged=diverged)


def draw_playground(axes, view):
    """The decision regions with the data, and the loss curve."""
    ax = axes[0]
    ax.contourf(view["xx"], view["yy"], view["probability"], levels=np.linspace(0, 1, 11),
                cmap="RdBu_r", alpha=0.45, vmin=0.0, vmax=1.0)
    ax.contour(view["xx"], view["yy"], view["probability"], levels=[0.5], colors="black",
               linewidths=1.5)
    X, y = view["X"], view["y"]
    ax.scatter(X[y == 0, 0], X[y == 0, 1], s=18, c="#204a87", edgecolors="white",
               linewidths=0.5, label="class 0")
    ax.scatter(X[y == 1, 0], X[y == 1, 1], s=18, c="#a40000", marker="s", edgecolors="white",
               linewidths=0.5, label="class 1")
    limits = PLAYGROUND_LIMITS[view["dataset"]]
    ax.set(xlim=limits, ylim=limits, aspect="equal", xlabel="$x_1$", ylabel="$x_2$")
    done = len(view["history"])
    if view["diverged"]:
        title = f"diverged in epoch {done + 1}: learning rate too large?"
    else:
        title = f"{view['accuracy']:.0%} right after {done} of {view['epochs']} epochs"
    ax.set_title(f"{view['dataset']}: {title}", fontsize="medium")
    ax = axes[1]
    if done:
        ax.plot(np.arange(1, done + 1), view["history"], color="#cc0000")
    ax.set(xlim=(0, view["epochs"]), ylim=(0, max([0.8, *view["history"]]) * 1.05),
           xlabel="epoch", ylabel="mean loss", title="training loss per epoch")


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
        "learning_rate": FloatLogSlider(value=learning_rate, base=10, min=-2, max=1, step=0.1,
                                        description="learning rate", readout_format=".3f",
                                        style={"description_width": "initial"}),
        "epochs": slider(epochs, 10, 300, 10, "epochs", integer=True),
    }
    for name in ("hidden_units", "hidden_layers", "learning_rate", "epochs"):
        controls[name].continuous_update = False  # train once the slider is released
    return PlaygroundExplorer(playground_view, draw_playground, controls, ncols=2,
                              figsize=(10.0, 4.4))
