"""Explorers for notebook 03: XOR with a 2-2-1 network, and the signal through depth."""

import functools
import inspect

import numpy as np
from ipywidgets import Dropdown

from .. import datasets, network
from ._explorer import (
    FIGURE_WIDTH,
    Explorer,
    artists,
    grid,
    missing_function,
    round_up,
    slider,
    static,
)
from .perceptron import LIMITS, boundary_line

# ---------------------------------------------------------------- XOR by hand

XOR_ACTIVATIONS = ("sigmoid", "sigmoid")
# The nine parameters of a 2-2-1 network, named after their place in the arrays:
# W1[j, k] is the weight from input k to hidden unit j, W2[0, j] from hidden unit j
# to the output.
XOR_PARAMETERS = ("w1_00", "w1_01", "b1_0", "w1_10", "w1_11", "b1_1", "w2_00", "w2_01", "b2_0")


def xor_params(w1_00, w1_01, b1_0, w1_10, w1_11, b1_1, w2_00, w2_01, b2_0):
    """The nine numbers as nnlib's parameter lists.

    Returns
    -------
    weights : list ``[W1, W2]``, shapes (2, 2) and (1, 2)
    biases : list ``[b1, b2]``, shapes (2,) and (1,)
    """
    weights = [np.array([[w1_00, w1_01], [w1_10, w1_11]]), np.array([[w2_00, w2_01]])]
    biases = [np.array([b1_0, b1_1]), np.array([b2_0])]
    return weights, biases


def xor_network_view(w1_00=1.0, w1_01=1.0, b1_0=0.0, w1_10=1.0, w1_11=1.0, b1_1=0.0,
                     w2_00=1.0, w2_01=1.0, b2_0=0.0):
    """What a 2-2-1 sigmoid network computes on the square around the XOR inputs.

    Parameters
    ----------
    w1_00, w1_01, b1_0 : float
        Hidden unit 0: its weights from ``x1`` and ``x2`` (row 0 of ``W1``) and its bias.
    w1_10, w1_11, b1_1 : float
        Hidden unit 1, likewise (row 1 of ``W1``).
    w2_00, w2_01, b2_0 : float
        The output unit: its weights from the two hidden units (``W2``) and its bias.

    Returns
    -------
    dict
        ``X`` (4, 2) and ``y`` (4,): the XOR truth table; ``output`` (4,): the
        network's output; ``right`` (4,) bool, whether ``output > 0.5`` matches
        ``y``; ``n_right``; ``surface`` (R, R): the output over a grid spanning
        ``LIMITS``; ``hidden_lines``: for each hidden unit, two points of the
        line where its weighted sum is 0, or None; ``weights``, ``biases``.
        While ``forward_pass`` is a stub, the output's entries are None and
        ``missing`` is its error.
    """
    weights, biases = xor_params(w1_00, w1_01, b1_0, w1_10, w1_11, b1_1, w2_00, w2_01, b2_0)
    X, y = datasets.logic_gate("xor")
    hidden_lines = [boundary_line(weights[0][j], biases[0][j]) for j in range(2)]
    view = dict(X=X, y=y, output=None, right=None, n_right=None, surface=None,
                hidden_lines=hidden_lines, weights=weights, biases=biases, missing=None)
    try:
        output = network.forward_pass(X, weights, biases, XOR_ACTIVATIONS)[:, 0]
        _, _, points = grid(*LIMITS, resolution=XOR_GRID)
        surface = network.forward_pass(points, weights, biases, XOR_ACTIVATIONS)[:, 0]
    except NotImplementedError as error:
        view["missing"] = error
        return view
    right = (output > 0.5) == (y == 1.0)
    view.update(output=output, right=right, n_right=int(right.sum()),
                surface=surface.reshape(XOR_GRID, XOR_GRID))
    return view


XOR_GRID = 81


def draw_xor_network(axes, view):
    """The output as a colour map, its 0.5 contour, the hidden units' lines and the inputs."""
    ax = axes[0]
    made = artists(ax)
    X, y = view["X"], view["y"]
    if not made:
        made["surface"] = ax.imshow(np.full((2, 2), 0.5), extent=(*LIMITS, *LIMITS),
                                    origin="lower", cmap="RdBu_r", vmin=0.0, vmax=1.0,
                                    alpha=0.6, interpolation="bilinear")
        made["hidden"] = [ax.plot([], [], linestyle="--", color=color, linewidth=1.5,
                                  label=f"hidden unit {j}: z = 0")[0]
                          for j, color in enumerate(("#4e9a06", "#75507b"))]
        ax.scatter(X[y == 0, 0], X[y == 0, 1], s=120, c="#204a87", edgecolors="white",
                   label="target 0", zorder=3)
        ax.scatter(X[y == 1, 0], X[y == 1, 1], s=120, c="#f57900", marker="s",
                   edgecolors="white", label="target 1", zorder=3)
        made["wrong"] = ax.scatter([], [], s=400, facecolors="none", edgecolors="#cc0000",
                                   linewidths=2.5, label="wrong", zorder=4)
        made["outputs"] = [ax.annotate("", (x1, x2), xytext=(10, 8),
                                       textcoords="offset points", fontsize="small", zorder=5)
                           for x1, x2 in X]
        made["contour"] = None
        ax.set(xlim=LIMITS, ylim=LIMITS, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
        ax.locator_params(nbins=5)
        # the ring marking a wrong point, smaller than on the map, and clear of its label
        static(ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2,
                         fontsize="small", markerscale=0.6, handletextpad=0.8,
                         columnspacing=1.5, frameon=False))
    for line, points in zip(made["hidden"], view["hidden_lines"]):
        line.set_data(*(points if points is not None else ([], [])))
    if made["contour"] is not None:
        made["contour"].remove()
        made["contour"] = None
    surface = view["surface"]
    made["surface"].set_visible(surface is not None)
    if surface is None:
        made["wrong"].set_offsets(np.empty((0, 2)))
        for text in made["outputs"]:
            text.set_text("")
        ax.set_title(f"XOR: the output needs {missing_function(view['missing'])}",
                     fontsize="medium")
        return
    made["surface"].set_data(surface)
    if surface.min() < 0.5 < surface.max():  # contour() warns when the level is absent
        made["contour"] = ax.contour(np.linspace(*LIMITS, XOR_GRID),
                                     np.linspace(*LIMITS, XOR_GRID), surface, levels=[0.5],
                                     colors="black", linewidths=2)
    made["wrong"].set_offsets(X[~view["right"]])
    for text, out in zip(made["outputs"], view["output"]):
        text.set_text(f"{out:.2f}")
    ax.set_title(f"XOR: {view['n_right']} of 4 right (output > 0.5 means 1)",
                 fontsize="medium")


def xor_network_explorer(**values):
    """Nine sliders, the parameters of a 2-2-1 sigmoid network, reshaping its output.

    Parameters
    ----------
    **values : float
        Starting values by the names of ``xor_network_view``; the others start
        at that function's defaults.
    """
    defaults = {name: parameter.default for name, parameter
                in inspect.signature(xor_network_view).parameters.items()}
    unknown = set(values) - set(XOR_PARAMETERS)
    if unknown:
        raise TypeError(f"unknown parameter(s) {sorted(unknown)}; known: {XOR_PARAMETERS}")
    start = {**defaults, **values}
    controls = {name: slider(start[name], -10.0, 10.0, 0.5, _label(name))
                for name in XOR_PARAMETERS}
    return Explorer(xor_network_view, draw_xor_network, controls, figsize=(4.8, 5.6))


def _label(name):
    """``"w1_01"`` -> ``"W1[0,1]"``, ``"b1_0"`` -> ``"b1[0]"``: the numpy index."""
    array, index = name.split("_")
    array = array.upper() if array.startswith("w") else array
    return f"{array}[{','.join(index)}]"


# ---------------------------------------------------------------- initialization

INIT_CHOICES = {
    "xavier": "Xavier",
    "he": "He",
    "small": "too small (std 0.01)",
    "large": "too large (std 1)",
}
FIXED_STD = {"small": 0.01, "large": 1.0}
INIT_ACTIVATIONS = ("tanh", "relu", "sigmoid")


INIT_DEPTH = 30  # the deepest network of the depth slider
HISTOGRAM_BINS = 50


def init_view(method="xavier", activation="tanh", depth=10, width=100, n_samples=256, seed=0):
    """How much the activations still vary between inputs, layer after layer.

    A batch of standard normal inputs goes through layers of ``width``
    units, all with the same activation and zero biases. The weights come
    from ``network.init_params``; the fixed-std choices rescale the He draws
    to that standard deviation. The network computed is ``INIT_DEPTH`` (30)
    layers deep, once per setting; the view shows its first ``depth`` layers,
    which are what a network of ``depth`` layers would compute when
    ``init_params`` draws the layers one after the other.

    Parameters
    ----------
    method : {"xavier", "he", "small", "large"}
    activation : str
        The activation of every layer.
    depth : int, 1 to 30
        Number of layers ``L`` shown.
    width : int
        Units per layer (and inputs).
    n_samples : int
        Batch size ``N``.
    seed : int

    Returns
    -------
    dict
        ``layers`` (L + 1,): 0..L; ``spread`` (L + 1,): for each layer, the
        standard deviation of a unit's activation over the batch, averaged over
        the units (``spread[0]`` is the input's, about 1); ``weight_std``: the
        standard deviation the weights were drawn with; ``last`` (N * width,):
        every activation of layer L; ``counts`` (50,) and ``edges`` (51,): their
        histogram; ``method``, ``label``, ``activation``, ``depth``.
    """
    weight_std, spread, outputs = _signal(network.init_params, network.forward_pass_with_cache,
                                          method, activation, max(depth, INIT_DEPTH), width,
                                          n_samples, seed)
    last = outputs[depth]
    # over a round range (1, 2 or 5 times a power of 10), so that the axis changes seldom
    reach = round_up(float(np.abs(last).max()))
    counts, edges = np.histogram(last, bins=HISTOGRAM_BINS,
                                 range=(0.0 if last.min() >= 0 else -reach, reach))
    return dict(layers=np.arange(depth + 1), spread=spread[:depth + 1], weight_std=weight_std,
                last=last, counts=counts, edges=edges, method=method,
                label=INIT_CHOICES[method], activation=activation, depth=depth)



@functools.lru_cache(maxsize=32)
def _signal(init_params, forward_pass_with_cache, method, activation, depth, width, n_samples,
            seed):
    """The weight std, the spread per layer and every layer's activations (flat).

    Cached by the settings and by nnlib's two functions (a student who
    redefines them gets a fresh computation).
    """
    sizes = [width] * (depth + 1)
    if method in FIXED_STD:
        weights, biases = init_params(sizes, method="he", seed=seed)
        weight_std = FIXED_STD[method]
        weights = [W * (weight_std / np.sqrt(np.mean(W ** 2))) for W in weights]
    else:
        weights, biases = init_params(sizes, method=method, seed=seed)
        # measured from the drawn weights (Exercise 3.1 derives what it should be)
        weight_std = float(np.sqrt(np.mean([np.mean(W ** 2) for W in weights])))
    X = np.random.default_rng(seed + 1).normal(size=(n_samples, width))
    _, cache = forward_pass_with_cache(X, weights, biases, [activation] * depth)
    spread = np.array([A.std(axis=0).mean() for A in cache.A])
    return weight_std, spread, tuple(A.ravel() for A in cache.A)


def draw_init(axes, view):
    """The spread per layer (log scale), and a histogram of the last layer's activations."""
    ax, hist = axes
    made = artists(ax)
    if not made:
        made["spread"], = ax.semilogy([], [], marker="o", color="#3465a4", markersize=4)
        ax.axhline(1.0, color="#888a85", linestyle=":", linewidth=1)
        ax.set(xlim=(-0.5, INIT_DEPTH + 0.5), xlabel="layer",
               ylabel="spread of the activations over the batch")
        artists(hist)["bars"] = hist.stairs(np.zeros(HISTOGRAM_BINS), np.arange(51.0),
                                            fill=True, color="#888a85")
        hist.set(ylabel="count", xlabel="activation")
        hist.locator_params(nbins=5)
    spread = view["spread"]
    made["spread"].set_data(view["layers"], spread)
    # whole steps of 10**5, so that the axis changes seldom
    low = 10.0 ** (5 * np.floor(np.log10(max(min(spread.min() / 3, 1e-2), 1e-300)) / 5))
    high = 10.0 ** (5 * np.ceil(np.log10(max(spread.max() * 3, 3.0)) / 5))
    ax.set_ylim(low, high)
    ax.set_title(f"{view['label']}, {view['activation']}: "
                 f"{spread[-1]:.2g} after {_layers(view['depth'])}", fontsize="medium")
    counts, edges = view["counts"], view["edges"]
    artists(hist)["bars"].set_data(counts, edges)
    hist.set(xlim=(edges[0], edges[-1]), ylim=(0, round_up(counts.max() * 1.05)))
    hist.set_title(f"the activations in layer {view['depth']}", fontsize="medium")


def init_explorer(method="xavier", activation="tanh", depth=10):
    """Dropdowns for the initialization and the activation, a slider for the depth."""
    controls = {
        "method": Dropdown(options=[(label, key) for key, label in INIT_CHOICES.items()],
                           value=method, description="weights"),
        "activation": Dropdown(options=INIT_ACTIVATIONS, value=activation,
                               description="activation"),
        "depth": slider(depth, 1, 30, 1, "depth K", integer=True),
    }
    return Explorer(init_view, draw_init, controls, ncols=2, figsize=(FIGURE_WIDTH, 3.8))


def _layers(count):
    return f"{count} layer" if count == 1 else f"{count} layers"
