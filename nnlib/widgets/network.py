"""Explorers for notebook 03: XOR with a 2-2-1 network, and the signal through depth."""

import inspect

import numpy as np
from ipywidgets import Dropdown

from .. import datasets, network
from ._explorer import Explorer, grid, slider
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
        ``y``; ``n_right``; ``surface`` (R, R): the output over a grid (``xx``,
        ``yy``); ``hidden_lines``: for each hidden unit, two points of the line
        where its weighted sum is 0, or None; ``weights``, ``biases``.
    """
    weights, biases = xor_params(w1_00, w1_01, b1_0, w1_10, w1_11, b1_1, w2_00, w2_01, b2_0)
    X, y = datasets.logic_gate("xor")
    output = network.forward_pass(X, weights, biases, XOR_ACTIVATIONS)[:, 0]
    xx, yy, points = grid(*LIMITS, resolution=81)
    surface = network.forward_pass(points, weights, biases, XOR_ACTIVATIONS)[:, 0]
    right = (output > 0.5) == (y == 1.0)
    hidden_lines = [boundary_line(weights[0][j], biases[0][j]) for j in range(2)]
    return dict(X=X, y=y, output=output, right=right, n_right=int(right.sum()), xx=xx, yy=yy,
                surface=surface.reshape(xx.shape), hidden_lines=hidden_lines, weights=weights,
                biases=biases)


def draw_xor_network(axes, view):
    """The output as a colour map, its 0.5 contour, the hidden units' lines and the inputs."""
    ax = axes[0]
    ax.contourf(view["xx"], view["yy"], view["surface"], levels=np.linspace(0.0, 1.0, 11),
                cmap="RdBu_r", alpha=0.6)
    surface = view["surface"]
    if surface.min() < 0.5 < surface.max():  # contour() warns when the level is absent
        ax.contour(view["xx"], view["yy"], surface, levels=[0.5], colors="black",
                   linewidths=2)
    for j, (line, color) in enumerate(zip(view["hidden_lines"], ("#4e9a06", "#75507b"))):
        if line is not None:
            ax.plot(*line, linestyle="--", color=color, linewidth=1.5,
                    label=f"hidden unit {j}: z = 0")
    X, y, right = view["X"], view["y"], view["right"]
    ax.scatter(X[y == 0, 0], X[y == 0, 1], s=120, c="#204a87", edgecolors="white",
               label="target 0", zorder=3)
    ax.scatter(X[y == 1, 0], X[y == 1, 1], s=120, c="#f57900", marker="s",
               edgecolors="white", label="target 1", zorder=3)
    ax.scatter(X[~right, 0], X[~right, 1], s=400, facecolors="none", edgecolors="#cc0000",
               linewidths=2.5, label="wrong", zorder=4)
    for (x1, x2), out in zip(X, view["output"]):
        ax.annotate(f"{out:.2f}", (x1, x2), xytext=(10, 8), textcoords="offset points",
                    fontsize="small", zorder=5)
    ax.set(xlim=LIMITS, ylim=LIMITS, xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
           title=f"XOR: {view['n_right']} of 4 right (output > 0.5 means 1)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize="x-small")
    ax.figure.tight_layout()


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
    return Explorer(xor_network_view, draw_xor_network, controls, figsize=(5.5, 5.5))


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


def init_view(method="xavier", activation="tanh", depth=10, width=100, n_samples=500, seed=0):
    """How much the activations still vary between inputs, layer after layer.

    A batch of standard normal inputs goes through ``depth`` layers of
    ``width`` units, all with the same activation and zero biases. The
    weights come from ``network.init_params``; the fixed-std choices rescale
    the He draws to that standard deviation.

    Parameters
    ----------
    method : {"xavier", "he", "small", "large"}
    activation : str
        The activation of every layer.
    depth : int
        Number of layers ``L``.
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
        every activation of the last layer; ``method``, ``label``,
        ``activation``, ``depth``.
    """
    sizes = [width] * (depth + 1)
    if method in FIXED_STD:
        weights, biases = network.init_params(sizes, method="he", seed=seed)
        weight_std = FIXED_STD[method]
        weights = [W * (weight_std / np.sqrt(2.0 / width)) for W in weights]
    else:
        weights, biases = network.init_params(sizes, method=method, seed=seed)
        weight_std = float(np.sqrt(2.0 / (2 * width) if method == "xavier" else 2.0 / width))
    X = np.random.default_rng(seed + 1).normal(size=(n_samples, width))
    _, cache = network.forward_pass_with_cache(X, weights, biases, [activation] * depth)
    spread = np.array([A.std(axis=0).mean() for A in cache.A])
    return dict(layers=np.arange(depth + 1), spread=spread, weight_std=weight_std,
                last=cache.A[-1].ravel(), method=method, label=INIT_CHOICES[method],
                activation=activation, depth=depth)


def draw_init(axes, view):
    """The spread per layer (log scale), and a histogram of the last layer's activations."""
    ax = axes[0]
    ax.semilogy(view["layers"], view["spread"], marker="o", color="#3465a4")
    ax.axhline(1.0, color="#888a85", linestyle=":", linewidth=1)
    spread = view["spread"]
    ax.set_ylim(min(spread.min() / 3, 1e-2), max(spread.max() * 3, 3.0))
    ax.set(xlabel="layer", ylabel="spread of the activations over the batch",
           title=f"{view['label']}, {view['activation']}: "
                 f"{view['spread'][-1]:.2g} after {_layers(view['depth'])}")
    ax = axes[1]
    ax.hist(view["last"], bins=50, color="#888a85")
    ax.set(xlabel=f"activation in layer {view['depth']}", ylabel="count",
           title="the last layer's activations")
    ax.figure.tight_layout()


def init_explorer(method="xavier", activation="tanh", depth=10):
    """Dropdowns for the initialization and the activation, a slider for the depth."""
    controls = {
        "method": Dropdown(options=[(label, key) for key, label in INIT_CHOICES.items()],
                           value=method, description="weights"),
        "activation": Dropdown(options=INIT_ACTIVATIONS, value=activation,
                               description="activation"),
        "depth": slider(depth, 1, 30, 1, "depth L", integer=True),
    }
    return Explorer(init_view, draw_init, controls, ncols=2, figsize=(10.0, 4.0))


def _layers(count):
    return f"{count} layer" if count == 1 else f"{count} layers"
