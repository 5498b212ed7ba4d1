"""Explorers for notebook 01: a perceptron's decision boundary, and its training."""

import numpy as np
from ipywidgets import Dropdown
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba_array

from .. import datasets, perceptron
from ._explorer import (
    FIGURE_WIDTH,
    Explorer,
    Stubs,
    artists,
    grid,
    missing_function,
    slider,
    static,
)

GATES = ("and", "or", "xor")
LIMITS = (-0.5, 1.5)


def perceptron_view(w1=1.0, w2=1.0, b=-1.5, gate="and"):
    """Where a perceptron ``(w, b)`` puts the four inputs of a logic gate.

    Parameters
    ----------
    w1, w2 : float
        The weights.
    b : float
        The bias.
    gate : {"and", "or", "xor"}

    Returns
    -------
    dict
        ``X`` (4, 2) and ``y`` (4,): the gate; ``line``: two points
        ``(xs, ys)`` of the boundary ``w.x + b = 0``, or None when both
        weights are 0; ``prediction`` (4,); ``wrong`` (4,) bool, the
        misclassified inputs; ``n_wrong``; ``regions`` (R, R): the prediction
        over a grid spanning ``LIMITS``. While ``perceptron_predict`` is a
        stub, the last four are None and ``missing`` is its error.
    """
    X, y = datasets.logic_gate(gate)
    w = np.array([w1, w2])
    stubs = Stubs()
    prediction = wrong = n_wrong = regions = None
    with stubs:
        prediction = perceptron.perceptron_predict(X, w, b)
        _, _, points = grid(*LIMITS, resolution=61)
        regions = perceptron.perceptron_predict(points, w, b).reshape(61, 61)
        wrong = prediction != y
        n_wrong = int(wrong.sum())
    return dict(X=X, y=y, prediction=prediction, wrong=wrong, n_wrong=n_wrong,
                regions=regions, line=boundary_line(w, b), w=w, b=b, gate=gate,
                missing=stubs.error)


def boundary_line(w, b, limits=LIMITS):
    """Two points of the line ``w[0] x + w[1] y + b = 0`` spanning ``limits``.

    Returns
    -------
    tuple of two ndarrays of shape (2,), or None when ``w`` is zero.
    """
    w1, w2 = w
    low, high = limits
    if w2 != 0:
        xs = np.array([low, high])
        return xs, -(w1 * xs + b) / w2
    if w1 != 0:
        return np.full(2, -b / w1), np.array([low, high])
    return None


# the regions predicted 0 and 1, as pixels: an image of colours draws in a third of the time
# that a colormap takes
REGION_PIXELS = (to_rgba_array(["#dde6f3", "#f7e1c8"]) * 255).round().astype(np.uint8)


def draw_perceptron(axes, view):
    """Draw the gate's points, the predicted regions and the boundary."""
    ax = axes[0]
    made = artists(ax)
    if not made:  # the first draw: what every later draw updates
        made["regions"] = ax.imshow(REGION_PIXELS[np.zeros((2, 2), int)],
                                    extent=(*LIMITS, *LIMITS), origin="lower",
                                    interpolation="nearest")
        made["zeros"] = ax.scatter([], [], s=120, c="#3465a4", label="target 0", zorder=3)
        made["ones"] = ax.scatter([], [], s=120, c="#f57900", marker="s", label="target 1",
                                  zorder=3)
        made["wrong"] = ax.scatter([], [], s=400, facecolors="none", edgecolors="#cc0000",
                                   linewidths=2.5, label="misclassified", zorder=4)
        made["line"], = ax.plot([], [], color="black", linewidth=2)
        ax.set(xlim=LIMITS, ylim=LIMITS, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
        ax.locator_params(nbins=5)
        static(ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
                         fontsize="small", frameon=False))
    X, y = view["X"], view["y"]
    made["zeros"].set_offsets(X[y == 0])
    made["ones"].set_offsets(X[y == 1])
    made["line"].set_data(*(view["line"] if view["line"] is not None else ([], [])))
    done = view["missing"] is None
    made["regions"].set_visible(done)
    made["wrong"].set_offsets(X[view["wrong"]] if done else np.empty((0, 2)))
    if done:
        predicted_one = np.asarray(view["regions"], float) >= 0.5
        made["regions"].set_data(REGION_PIXELS[predicted_one.astype(int)])
        title = f"{view['gate'].upper()}: {view['n_wrong']} of 4 misclassified"
    else:
        title = f"{view['gate'].upper()}: the regions need {missing_function(view['missing'])}"
    ax.set_title(title, fontsize="medium")


def boundary_explorer(w1=1.0, w2=1.0, b=-1.5, gate="and"):
    """Sliders for ``w1``, ``w2`` and ``b`` moving the boundary over AND, OR or XOR."""
    controls = {
        "w1": slider(w1, -2.0, 2.0, 0.1, "w1"),
        "w2": slider(w2, -2.0, 2.0, 0.1, "w2"),
        "b": slider(b, -3.0, 3.0, 0.1, "b"),
        "gate": Dropdown(options=GATES, value=gate, description="gate"),
    }
    return Explorer(perceptron_view, draw_perceptron, controls, figsize=(4.6, 4.9))


def training_view(gate="or", epoch=1, learning_rate=1.0):
    """The perceptron after ``epoch`` epochs of the learning rule.

    Training starts from ``w = 0, b = 0``, so every update adds
    ``learning_rate`` times ``+-x`` and ``+-1``: after any epoch, ``w`` and
    ``b`` are ``learning_rate`` times those of a rate of 1, and the line
    ``w.x + b = 0`` is the same. The figure shows ``w`` and ``b`` to make that
    visible.

    Returns
    -------
    dict
        Everything ``perceptron_view`` returns for the weights reached, plus
        ``mistakes``: the list of mistakes per epoch so far, ``converged``:
        whether an epoch made no mistake, and ``learning_rate``. While
        ``perceptron_train`` is a stub: the gate, ``missing`` its error, and
        None for the rest.
    """
    X, y = datasets.logic_gate(gate)
    stubs = Stubs()
    with stubs:
        w, b, mistakes = perceptron.perceptron_train(X, y, learning_rate=learning_rate,
                                                     epochs=epoch)
        view = perceptron_view(w[0], w[1], b, gate)
        view.update(mistakes=mistakes, converged=mistakes[-1] == 0,
                    learning_rate=learning_rate)
        return view
    return dict(X=X, y=y, prediction=None, wrong=None, n_wrong=None, regions=None, line=None,
                w=None, b=None, gate=gate, mistakes=None, converged=None,
                learning_rate=learning_rate, missing=stubs.error)


MAX_EPOCHS = 20


def draw_training(axes, view):
    """The boundary after the chosen epoch, with ``w`` and ``b``; the mistakes per epoch."""
    draw_perceptron(axes[:1], view)
    ax = axes[1]
    made = artists(ax)
    if not made:
        # one collection of bars: a fifth of the time that twenty rectangles take
        made["bars"] = ax.add_collection(PolyCollection([], facecolor="#888a85"))
        made["weights"] = axes[0].text(0.98, 0.02, "", transform=axes[0].transAxes,
                                       ha="right", va="bottom", fontsize="small")
        ax.set(xlabel="epoch", ylabel="mistakes in the epoch", ylim=(0, 4.5),
               xlim=(0.4, MAX_EPOCHS + 0.6))
        ax.locator_params(nbins=5)
    made["bars"].set_verts(_bars(view["mistakes"] or []))
    if view["missing"] is not None:
        made["weights"].set_text("")
        ax.set_title(f"training needs {missing_function(view['missing'])}", fontsize="medium")
        return
    w, b = view["w"], view["b"]
    made["weights"].set_text(f"w = ({w[0]:.3g}, {w[1]:.3g}), b = {b:.3g}\n"
                             f"(learning rate {view['learning_rate']:.3g} scales them)")
    ax.set_title("converged" if view["converged"] else "still learning", fontsize="medium")


def _bars(heights, width=0.8):
    """The corners of one bar per epoch (epoch ``i + 1`` is ``heights[i]`` high)."""
    return [[(x - width / 2, 0), (x - width / 2, h), (x + width / 2, h), (x + width / 2, 0)]
            for x, h in enumerate(heights, start=1)]


def training_explorer(gate="or", epoch=1, learning_rate=1.0):
    """Replay perceptron training epoch by epoch with an epoch slider.

    The learning rate scales ``w`` and ``b`` (shown in the corner) but, from
    ``w = 0``, never moves the line: see ``training_view``.
    """
    controls = {
        "gate": Dropdown(options=GATES, value=gate, description="gate"),
        "epoch": slider(epoch, 1, MAX_EPOCHS, 1, "epoch", integer=True),
        "learning_rate": slider(learning_rate, 0.1, 2.0, 0.1, "learning rate"),
    }
    return Explorer(training_view, draw_training, controls, ncols=2, figsize=(FIGURE_WIDTH, 4.3))
