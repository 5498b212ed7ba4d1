"""Explorers for notebook 05: a tiny network's computational graph, and the cost of backprop."""

import contextlib
import functools
import time

import numpy as np
from ipywidgets import Dropdown
from matplotlib.patches import Circle

from .. import backprop, network
from ._explorer import Explorer, slider

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
    output, cache = network.forward_pass_with_cache(X, weights, biases, GRAPH_ACTIVATIONS)
    dW, db = backprop.backpropagation(X, Y, weights, biases, GRAPH_ACTIVATIONS, "mse")
    loss = backprop.loss_value(X, Y, weights, biases, GRAPH_ACTIVATIONS, "mse")
    dz_out = float(db[1][0])
    return dict(x=float(x), target=float(target), z_hidden=cache.Z[1][0],
                a_hidden=cache.A[1][0], y_hat=float(output[0, 0]), loss=float(loss),
                dz_out=dz_out, da_hidden=dz_out * weights[1][0], dz_hidden=db[0],
                dw_in=dW[0][:, 0], dw_out=dW[1][0], w_in=weights[0][:, 0],
                w_out=weights[1][0])


def draw_graph(axes, view):
    """Nodes as circles and edges as lines; forward values in black, gradients in red."""
    ax = axes[0]
    pos = NODE_POSITIONS
    edges = [("x", "h1", "w_1", view["w_in"][0], view["dw_in"][0]),
             ("x", "h2", "w_2", view["w_in"][1], view["dw_in"][1]),
             ("h1", "out", "v_1", view["w_out"][0], view["dw_out"][0]),
             ("h2", "out", "v_2", view["w_out"][1], view["dw_out"][1])]
    box = dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1.0)
    for start, end, name, weight, gradient in edges:
        (x0, y0), (x1, y1) = pos[start], pos[end]
        ax.plot([x0, x1], [y0, y1], color="#888a85", linewidth=1.5, zorder=1)
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        ax.text(mx, my + 0.03, f"${name}$ = {weight:.2f}", color=FORWARD_COLOR,
                ha="center", va="bottom", fontsize="small", bbox=box, zorder=4)
        ax.text(mx, my - 0.03, rf"$\partial L/\partial {name}$ = {gradient:.3f}",
                color=BACKWARD_COLOR, ha="center", va="top", fontsize="small", bbox=box,
                zorder=4)
    ax.plot([pos["out"][0], pos["loss"][0]], [0.0, 0.0], color="#888a85", linewidth=1.5,
            zorder=1)
    labels = {"x": "$x$", "h1": "$h_1$", "h2": "$h_2$", "out": r"$\hat y$", "loss": "$L$"}
    for node, (px, py) in pos.items():
        ax.add_patch(_circle((px, py), node == "loss"))
        ax.text(px, py, labels[node], ha="center", va="center", fontsize="large", zorder=3)
    forward, backward = _node_texts(view)
    gap = NODE_RADIUS + 0.05
    for node, (px, py) in pos.items():
        if node == "h2":  # both below the node, forward nearer to it
            near, far, va, sign = forward[node], backward[node], "top", -1.0
        elif node == "h1":  # both above the node
            near, far, va, sign = forward[node], backward[node], "bottom", 1.0
        else:  # forward above, backward below
            ax.text(px, py + gap, forward[node], color=FORWARD_COLOR, ha="center",
                    va="bottom", fontsize="small")
            ax.text(px, py - gap, backward[node], color=BACKWARD_COLOR, ha="center",
                    va="top", fontsize="small")
            continue
        ax.text(px, py + sign * gap, near, color=FORWARD_COLOR, ha="center", va=va,
                fontsize="small")
        ax.text(px, py + sign * (gap + 0.3), far, color=BACKWARD_COLOR, ha="center", va=va,
                fontsize="small")
    ax.set(xlim=(-0.6, 6.8), ylim=(-2.2, 2.2), aspect="equal",
           title=rf"$L = (\hat y - y)^2$ = {view['loss']:.4f}   "
                 "(black: forward values, red: gradients)")
    ax.set_axis_off()


def _circle(center, is_loss):
    """A node of the graph."""
    return Circle(center, NODE_RADIUS, facecolor="#f7e1c8" if is_loss else "#dde6f3",
                  edgecolor="#2e3436", linewidth=1.5, zorder=2)


def _node_texts(view):
    """The forward text and the backward text of each node."""
    z, a, dz, da = view["z_hidden"], view["a_hidden"], view["dz_hidden"], view["da_hidden"]
    forward = {"x": f"x = {view['x']:.2f}",
               "out": rf"$\hat y$ = {view['y_hat']:.3f}",
               "loss": f"y = {view['target']:.2f}\nL = {view['loss']:.4f}"}
    backward = {"x": "", "out": rf"$\partial L/\partial \hat y$ = {view['dz_out']:.3f}",
                "loss": r"$\partial L/\partial L$ = 1"}
    for j in range(2):
        forward[f"h{j + 1}"] = f"z = {z[j]:.3f}   a = {a[j]:.3f}"
        backward[f"h{j + 1}"] = (rf"$\partial L/\partial a$ = {da[j]:.3f}   "
                                 rf"$\partial L/\partial z$ = {dz[j]:.3f}")
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
    return Explorer(graph_view, draw_graph, controls, figsize=(10.0, 5.0))


# ---------------------------------------------------------------- the cost of backprop

WIDTHS = (64, 128, 192, 256, 320, 384, 448, 512)
DEPTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


def complexity_view(vary="width", widths=WIDTHS, depths=DEPTHS, fixed_depth=3,
                    fixed_width=256, n_samples=64, repeats=5, seed=0):
    """Time the forward pass and backpropagation as the width or the depth grows.

    Every network has ``L`` layers of ``n`` units (ReLU, identity output) and
    sees a batch of ``n_samples`` inputs with an MSE loss. Each time is the
    smallest CPU time of ``repeats`` runs, with matrix products on one
    thread. Next to the measurements, the view fits the model
    ``time = k * L * n**2`` (least squares, one constant ``k`` per curve) that
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
        and ``width`` (P,) of each network; ``cost`` (P,): ``L * n**2``;
        ``forward`` and ``backward`` (P,): CPU seconds for ``forward_pass`` and for
        ``backpropagation`` (which runs its own forward pass);
        ``forward_fit`` and ``backward_fit`` (P,): the fitted ``k * L * n**2``;
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
    with _one_thread():
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


def _one_thread():
    """Run numpy's matrix products on one thread while timing.

    The times then count operations, not how well the products are spread over
    cores, and they stay short on a busy machine, where competing threads can
    make a product many times slower. Without threadpoolctl (installed with
    scikit-learn), nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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


def draw_complexity(axes, view):
    """Measured times with their fitted ``k L n^2`` curves, and the backward / forward ratio."""
    ax = axes[0]
    sizes, ms = view["sizes"], 1e3
    ax.plot(sizes, view["forward"] * ms, "o", color="#3465a4", label="forward_pass")
    ax.plot(sizes, view["forward_fit"] * ms, "--", color="#3465a4", label=r"fit $k\,L\,n^2$")
    ax.plot(sizes, view["backward"] * ms, "s", color="#cc0000", label="backpropagation")
    ax.plot(sizes, view["backward_fit"] * ms, "--", color="#cc0000", label=r"fit $k\,L\,n^2$")
    if view["vary"] == "width":
        xlabel, fixed = "width n (units per layer)", f"L = {view['depth'][0]} layers"
    else:
        xlabel, fixed = "depth L (layers)", f"n = {view['width'][0]} units"
    ax.set(xlabel=xlabel, ylabel="CPU milliseconds (best of several runs)", ylim=(0, None),
           title=f"time against {view['vary']} ({fixed})")
    ax.legend(fontsize="small")
    ax = axes[1]
    ax.bar(np.arange(len(sizes)), view["ratio"], color="#888a85",
           tick_label=[str(s) for s in sizes])
    ax.set(xlabel=xlabel, ylabel="backpropagation / forward_pass",
           title=f"backprop costs {np.median(view['ratio']):.1f} forward passes (median)")
    ax.figure.tight_layout()


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
    return Explorer(view, draw_complexity, controls, ncols=2, figsize=(10.0, 4.0))
