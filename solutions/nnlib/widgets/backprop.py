"""Explorers for notebook 05: a tiny network's computational graph, and the cost of backprop."""

import functools
import time

import numpy as np
from ipywidgets import Dropdown
from matplotlib.patches import Circle

from .. import backprop, network
from ._explorer import (
    FIGURE_WIDTH,
    Explorer,
    artists,
    missing_function,
    one_blas_thread,
    slider,
    static,
)

# ---------------------------------------------------------------- the computational graph

GRAPH_ACTIVATIONS = ("sigmoid", "identity")
FORWARD_COLOR, BACKWARD_COLOR = "black", "#cc0000"
# where the nodes sit: the input, the two hidden units, the output and the loss
NODE_POSITIONS = {"x": (0.0, 0.0), "h1": (2.2, 1.0), "h2": (2.2, -1.0), "out": (4.4, 0.0),
                  "loss": (6.2, 0.0)}
NODE_RADIUS = 0.25


def graph_view(x=1.0, target=0.0, w1=1.0, w2=-0.5, v1=1.5, v2=-1.0, b1=0.0, b2=0.0, c=0.0):
    """Forward values and gradients of a 1-2-1 network with an MSE loss on one sample.

    The hidden units use the sigmoid, the output the identity:
    ``h_j = sigmoid(w_j x + b_j)``, ``y_hat = v1 h1 + v2 h2 + c``,
    ``L = (y_hat - target)**2``.

    Parameters
    ----------
    x : float
        The input.
    target : float
        The target ``y``.
    w1, w2 : float
        Weights from the input to hidden units 1 and 2 (``W1``, shape (2, 1)).
    v1, v2 : float
        Weights from the hidden units to the output (``W2``, shape (1, 2)).
    b1, b2, c : float
        Biases of the hidden units and of the output.

    Returns
    -------
    dict
        Forward: ``x``, ``target``, ``z_hidden`` (2,), ``a_hidden`` (2,),
        ``y_hat``, ``loss``. Backward: ``dz_out`` (dL/dz of the output, which is
        dL/dy_hat and dL/dc), ``da_hidden`` (2,) (dL/da of the hidden units),
        ``dz_hidden`` (2,) (dL/dz, which is dL/db), ``dw_in`` (2,) (dL/dw1,
        dL/dw2), ``dw_out`` (2,) (dL/dv1, dL/dv2). And the weights ``w_in`` and
        ``w_out``, each (2,).
    """
    X, Y = np.array([[x]]), np.array([[target]])
    weights = [np.array([[w1], [w2]]), np.array([[v1, v2]])]
    biases = [np.array([b1, b2]), np.array([c])]
    view = dict(x=float(x), target=float(target), w_in=weights[0][:, 0], w_out=weights[1][0],
                z_hidden=None, a_hidden=None, y_hat=None, loss=None, dz_out=None,
                da_hidden=None, dz_hidden=None, dw_in=None, dw_out=None, missing=None)
    try:
        output, cache = network.forward_pass_with_cache(X, weights, biases, GRAPH_ACTIVATIONS)
        view.update(z_hidden=cache.Z[1][0], a_hidden=cache.A[1][0], y_hat=float(output[0, 0]),
                    loss=float((output[0, 0] - target) ** 2))
        dW, db = backprop.backpropagation(X, Y, weights, biases, GRAPH_ACTIVATIONS, "mse")
        loss = backprop.loss_value(X, Y, weights, biases, GRAPH_ACTIVATIONS, "mse")
    except NotImplementedError as error:
        view["missing"] = error
        return view
    dz_out = float(db[1][0])
    view.update(loss=float(loss), dz_out=dz_out, da_hidden=dz_out * weights[1][0],
                dz_hidden=db[0], dw_in=dW[0][:, 0], dw_out=dW[1][0])
    return view


# the graph's edges: from, to, the weight's name, and where it sits in the view
EDGES = (("x", "h1", "w₁", "w_in", 0), ("x", "h2", "w₂", "w_in", 1),
         ("h1", "out", "v₁", "w_out", 0), ("h2", "out", "v₂", "w_out", 1))
GRADIENT_KEYS = {"w_in": "dw_in", "w_out": "dw_out"}
NODE_LABELS = {"x": "$x$", "h1": "$h_1$", "h2": "$h_2$", "out": r"$\hat y$", "loss": "$L$"}


def _number(value, digits):
    """A number as the graph writes it; ``?`` while the function computing it is a stub."""
    return "?" if value is None else f"{value:.{digits}f}"


def draw_graph(axes, view):
    """Nodes as circles and edges as lines; forward values in black, gradients in red.

    The labels are plain text (``∂L/∂w₁``), not mathtext: most of them change
    on every move of a slider, and mathtext is parsed again for every new
    string.
    """
    ax = axes[0]
    made = artists(ax)
    if not made:
        _draw_graph_frame(ax, made)
    for _, _, name, key, j in EDGES:
        gradients = view[GRADIENT_KEYS[key]]
        made[f"{name} gradient"].set_text(
            f"∂L/∂{name} = {_number(None if gradients is None else gradients[j], 3)}")
    forward, backward = _node_texts(view)
    for node in NODE_POSITIONS:
        made[f"{node} forward"].set_text(forward[node])
        if node != "loss":
            made[f"{node} backward"].set_text(backward[node])
    if view["missing"] is not None:
        title = f"the ? need {missing_function(view['missing'])}"
    else:
        title = f"L = (ŷ - y)² = {view['loss']:.4f}"
    ax.set_title(title, fontsize="medium")


def _draw_graph_frame(ax, made):
    """The parts of the graph that never move, and empty texts for the numbers."""
    pos = NODE_POSITIONS
    box = dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1.0)
    for start, end, name, _, _ in EDGES:
        (x0, y0), (x1, y1) = pos[start], pos[end]
        static(ax.plot([x0, x1], [y0, y1], color="#888a85", linewidth=1.5, zorder=1)[0])
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        # the weight's name; its value is the slider's (drawn once: fewer texts to draw
        # on every move of a slider)
        static(ax.text(mx, my + 0.03, name, color=FORWARD_COLOR, ha="center", va="bottom",
                       fontsize="small", bbox=box, zorder=4))
        made[f"{name} gradient"] = ax.text(mx, my - 0.03, "", color=BACKWARD_COLOR,
                                           ha="center", va="top", fontsize="small", bbox=box,
                                           zorder=4)
    static(ax.plot([pos["out"][0], pos["loss"][0]], [0.0, 0.0], color="#888a85",
                   linewidth=1.5, zorder=1)[0])
    # the edges, the nodes and their names never change: drawn once (see Backdrop)
    for node, (px, py) in pos.items():
        static(ax.add_patch(_circle((px, py), node == "loss")))
        static(ax.text(px, py, NODE_LABELS[node], ha="center", va="center", fontsize="large",
                       zorder=3))
    gap = NODE_RADIUS + 0.05
    for node, (px, py) in pos.items():
        if node == "h2":  # both below the node, forward nearer to it
            forward, backward, va = (py - gap, py - gap - 0.3, "top")
            backward_va = va
        elif node == "h1":  # both above the node
            forward, backward, va = (py + gap, py + gap + 0.3, "bottom")
            backward_va = va
        else:  # forward above, backward below
            forward, backward, va, backward_va = py + gap, py - gap, "bottom", "top"
        made[f"{node} forward"] = ax.text(px, forward, "", color=FORWARD_COLOR, ha="center",
                                          va=va, fontsize="small")
        made[f"{node} backward"] = ax.text(px, backward, "", color=BACKWARD_COLOR,
                                           ha="center", va=backward_va, fontsize="small")
    static(made["loss backward"]).set_text("∂L/∂L = 1")  # always
    static(ax.text(0.5, 0.0, "black: forward values, red: gradients", ha="center",
                   va="bottom", fontsize="small", color="#555753", transform=ax.transAxes))
    ax.set(xlim=(-0.6, 6.8), ylim=(-2.2, 2.2), aspect="equal")
    ax.set_axis_off()


def _circle(center, is_loss):
    """A node of the graph."""
    return Circle(center, NODE_RADIUS, facecolor="#f7e1c8" if is_loss else "#dde6f3",
                  edgecolor="#2e3436", linewidth=1.5, zorder=2)


def _node_texts(view):
    """The forward text and the backward text of each node."""
    z, a, dz, da = view["z_hidden"], view["a_hidden"], view["dz_hidden"], view["da_hidden"]
    forward = {"x": f"x = {view['x']:.2f}",
               "out": f"ŷ = {_number(view['y_hat'], 3)}",
               "loss": f"y = {view['target']:.2f}\nL = {_number(view['loss'], 4)}"}
    backward = {"x": "", "out": f"∂L/∂ŷ = {_number(view['dz_out'], 3)}",
                "loss": "∂L/∂L = 1"}
    for j in range(2):
        zj, aj, dzj, daj = (None if v is None else v[j] for v in (z, a, dz, da))
        forward[f"h{j + 1}"] = f"z = {_number(zj, 3)}   a = {_number(aj, 3)}"
        backward[f"h{j + 1}"] = f"∂L/∂a = {_number(daj, 3)}   ∂L/∂z = {_number(dzj, 3)}"
    return forward, backward


def graph_explorer(x=1.0, target=0.0, w1=1.0, w2=-0.5, v1=1.5, v2=-1.0):
    """Sliders for the input, the target and the four weights of the 1-2-1 network."""
    controls = {
        "x": slider(x, -2.0, 2.0, 0.1, "input x"),
        "target": slider(target, -2.0, 2.0, 0.1, "target y"),
        "w1": slider(w1, -3.0, 3.0, 0.1, "w1"),
        "w2": slider(w2, -3.0, 3.0, 0.1, "w2"),
        "v1": slider(v1, -3.0, 3.0, 0.1, "v1"),
        "v2": slider(v2, -3.0, 3.0, 0.1, "v2"),
    }
    return Explorer(graph_view, draw_graph, controls, figsize=(FIGURE_WIDTH, 4.4))


# ---------------------------------------------------------------- the cost of backprop

WIDTHS = (64, 128, 192, 256, 320, 384, 448, 512)
DEPTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


def complexity_view(vary="width", widths=WIDTHS, depths=DEPTHS, fixed_depth=3,
                    fixed_width=256, n_samples=64, repeats=5, seed=0):
    """Time the forward pass and backpropagation as the width or the depth grows.

    See ``measure_complexity``, which this calls once per setting (the
    measurements are kept: moving back to a setting shows them again).
    """
    if vary not in ("width", "depth"):
        raise ValueError(f"vary must be 'width' or 'depth', got {vary!r}")
    return dict(_measured(network.forward_pass, backprop.backpropagation, vary, tuple(widths),
                          tuple(depths), fixed_depth, fixed_width, n_samples, repeats, seed))


@functools.lru_cache(maxsize=16)
def _measured(forward_pass, backpropagation, *settings):
    """``measure_complexity(*settings)``, kept per setting and per nnlib function."""
    return measure_complexity(*settings)


def measure_complexity(vary="width", widths=WIDTHS, depths=DEPTHS, fixed_depth=3,
                       fixed_width=256, n_samples=64, repeats=5, seed=0):
    """Time the forward pass and backpropagation as the width or the depth grows.

    Every network has ``d`` layers of ``n`` units (ReLU, identity output) and
    sees a batch of ``n_samples`` inputs with an MSE loss. Each time is the
    smallest CPU time of ``repeats`` runs, with matrix products on one
    thread. Next to the measurements, the view fits the model
    ``time = k * d * n**2`` (least squares, one constant ``k`` per curve) that
    the complexity analysis predicts.

    Parameters
    ----------
    vary : {"width", "depth"}
        Which size grows; the other stays at ``fixed_depth`` or ``fixed_width``.
    widths, depths : sequence of int
        The sizes tried.
    fixed_depth, fixed_width : int
    n_samples : int
        Batch size ``N``.
    repeats : int
    seed : int
        Seeds the weights and the batch.

    Returns
    -------
    dict
        ``vary``; ``sizes`` (P,): the widths or depths tried; ``depth`` (P,)
        and ``width`` (P,) of each network; ``cost`` (P,): ``d * n**2``;
        ``forward`` and ``backward`` (P,): CPU seconds for ``forward_pass`` and for
        ``backpropagation`` (which runs its own forward pass);
        ``forward_fit`` and ``backward_fit`` (P,): the fitted ``k * d * n**2``;
        ``ratio`` (P,): backward / forward.
    """
    if vary not in ("width", "depth"):
        raise ValueError(f"vary must be 'width' or 'depth', got {vary!r}")
    sizes = np.array(widths if vary == "width" else depths)
    depth = sizes if vary == "depth" else np.full(len(sizes), fixed_depth)
    width = sizes if vary == "width" else np.full(len(sizes), fixed_width)
    rng = np.random.default_rng(seed)
    problems = []
    for n_layers, n in zip(depth, width):
        weights, biases = network.init_params([int(n)] * (int(n_layers) + 1), "he", seed)
        names = ["relu"] * (int(n_layers) - 1) + ["identity"]
        X, Y = rng.normal(size=(n_samples, n)), rng.normal(size=(n_samples, n))
        problems.append((X, Y, weights, biases, names))
    forward = np.full(len(sizes), np.inf)
    backward = np.full(len(sizes), np.inf)
    # sweep over all sizes `repeats` times and keep each size's best time, so that a
    # moment of load on the machine spoils one run of a few sizes, not a whole size
    with one_blas_thread():
        for _ in range(repeats):
            for i, (X, Y, weights, biases, names) in enumerate(problems):
                forward[i] = min(forward[i], _time(network.forward_pass, X, weights, biases,
                                                   names))
                backward[i] = min(backward[i], _time(backprop.backpropagation, X, Y, weights,
                                                     biases, names, "mse"))
    cost = (depth * width**2).astype(float)
    return dict(vary=vary, sizes=sizes, depth=depth, width=width, cost=cost, forward=forward,
                backward=backward, forward_fit=_fit(cost, forward) * cost,
                backward_fit=_fit(cost, backward) * cost, ratio=backward / forward)



def _time(function, *args):
    """CPU seconds taken by one call.

    CPU time, unlike the clock on the wall, does not count the moments when
    other programs have the processor, so it measures the work itself.
    """
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def _fit(cost, seconds):
    """``k`` minimizing ``sum (k * cost - seconds)**2``."""
    return float(cost @ seconds / (cost @ cost))


COMPLEXITY_LINES = (("forward", "o", "#3465a4", "forward_pass"),
                    ("forward_fit", "--", "#3465a4", r"fit $k\,K\,n^2$"),
                    ("backward", "s", "#cc0000", "backpropagation"),
                    ("backward_fit", "--", "#cc0000", r"fit $k\,K\,n^2$"))


def draw_complexity(axes, view):
    """Measured times with their fitted ``k K n^2`` curves, and the backward / forward ratio."""
    ax, ratio = axes
    made = artists(ax)
    if not made:
        for key, style, color, label in COMPLEXITY_LINES:
            made[key], = ax.plot([], [], style, color=color, label=label)
        ax.set_ylabel("CPU milliseconds (best of several runs)")
        static(ax.legend(loc="upper left", fontsize="small"))
        made["ratio"], = ratio.plot([], [], "o-", color="#888a85")
        ratio.set_ylabel("backpropagation / forward_pass")
    sizes, ms = view["sizes"], 1e3
    for key, *_ in COMPLEXITY_LINES:
        made[key].set_data(sizes, view[key] * ms)
    made["ratio"].set_data(sizes, view["ratio"])
    if view["vary"] == "width":
        xlabel, fixed = "width n (units per layer)", f"K = {view['depth'][0]} layers"
    else:
        xlabel, fixed = "depth K (layers)", f"n = {view['width'][0]} units"
    highest = max(view["forward"].max(), view["backward"].max(), view["backward_fit"].max())
    span = (0.0, sizes.max() * 1.05)
    ax.set(xlabel=xlabel, xlim=span, ylim=(0, highest * ms * 1.1))
    ax.set_title(f"time against {view['vary']} ({fixed})", fontsize="medium")
    ratio.set(xlabel=xlabel, xlim=span, ylim=(0, view["ratio"].max() * 1.2))
    ratio.set_title(f"backprop costs {np.median(view['ratio']):.1f} forward passes (median)",
                    fontsize="medium")


def complexity_explorer(vary="width", **options):
    """A dropdown choosing whether the width or the depth grows.

    Parameters
    ----------
    vary : {"width", "depth"}
    **options
        Passed on to ``complexity_view`` (e.g. smaller ``widths`` for a quick look).
    """
    controls = {"vary": Dropdown(options=("width", "depth"), value=vary, description="vary")}
    view = functools.partial(complexity_view, **options)
    # (the explorer measures the other choice now, not when it is chosen: see Explorer.prepare)
    return Explorer(view, draw_complexity, controls, ncols=2, figsize=(FIGURE_WIDTH, 3.8))
