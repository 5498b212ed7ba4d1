"""Explorers for notebook 01: a perceptron's decision boundary, and its training."""

import numpy as np
from ipywidgets import Dropdown

from .. import datasets, perceptron
from ._explorer import Explorer, grid, slider

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
        ``X`` (4, 2) and ``y`` (4,): the gate; ``prediction`` (4,);
        ``wrong`` (4,) bool, the misclassified inputs; ``n_wrong``;
        ``regions`` (R, R): the prediction over a grid (``xx``, ``yy``);
        ``line``: two points ``(xs, ys)`` of the boundary ``w.x + b = 0``, or
        None when both weights are 0.
    """
    X, y = datasets.logic_gate(gate)
    w = np.array([w1, w2])
    prediction = perceptron.perceptron_predict(X, w, b)
    xx, yy, points = grid(*LIMITS, resolution=61)
    regions = perceptron.perceptron_predict(points, w, b).reshape(xx.shape)
    wrong = prediction != y
    return dict(X=X, y=y, prediction=prediction, wrong=wrong, n_wrong=int(wrong.sum()),
                xx=xx, yy=yy, regions=regions, line=boundary_line(w, b), w=w, b=b, gate=gate)


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


def draw_perceptron(axes, view):
    """Draw the gate's points, the predicted regions and the boundary."""
    ax = axes[0]
    ax.contourf(view["xx"], view["yy"], view["regions"], levels=[-0.5, 0.5, 1.5],
                colors=["#dde6f3", "#f7e1c8"])
    X, y, wrong = view["X"], view["y"], view["wrong"]
    ax.scatter(X[y == 0, 0], X[y == 0, 1], s=120, c="#3465a4", label="target 0", zorder=3)
    ax.scatter(X[y == 1, 0], X[y == 1, 1], s=120, c="#f57900", marker="s", label="target 1",
               zorder=3)
    ax.scatter(X[wrong, 0], X[wrong, 1], s=400, facecolors="none", edgecolors="#cc0000",
               linewidths=2.5, label="misclassified", zorder=4)
    if view["line"] is not None:
        ax.plot(*view["line"], color="black", linewidth=2)
    ax.set(xlim=LIMITS, ylim=LIMITS, xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
           title=f"{view['gate'].upper()}: {view['n_wrong']} of 4 misclassified")
    ax.legend(loc="upper left", fontsize="small", framealpha=0.9)


def boundary_explorer(w1=1.0, w2=1.0, b=-1.5, gate="and"):
    """Sliders for ``w1``, ``w2`` and ``b`` moving the boundary over AND, OR or XOR."""
    controls = {
        "w1": slider(w1, -2.0, 2.0, 0.1, "w1"),
        "w2": slider(w2, -2.0, 2.0, 0.1, "w2"),
        "b": slider(b, -3.0, 3.0, 0.1, "b"),
        "gate": Dropdown(options=GATES, value=gate, description="gate"),
    }
    return Explorer(perceptron_view, draw_perceptron, controls, figsize=(5.0, 5.0))


def training_view(gate="or", epoch=1, learning_rate=1.0):
    """The perceptron after ``epoch`` epochs of the learning rule.

    Returns
    -------
    dict
        Everything ``perceptron_view`` returns for the weights reached, plus
        ``mistakes``: the list of mistakes per epoch so far, and
        ``converged``: whether an epoch made no mistake.
    """
    X, y = datasets.logic_gate(gate)
    w, b, mistakes = perceptron.perceptron_train(X, y, learning_rate=learning_rate,
                                                 epochs=epoch)
    view = perceptron_view(w[0], w[1], b, gate)
    view.update(mistakes=mistakes, converged=mistakes[-1] == 0)
    return view


def draw_training(axes, view):
    """The boundary after the chosen epoch, and the mistakes per epoch."""
    draw_perceptron(axes[:1], view)
    ax = axes[1]
    epochs = np.arange(1, len(view["mistakes"]) + 1)
    ax.bar(epochs, view["mistakes"], color="#888a85")
    ax.set(xlabel="epoch", ylabel="mistakes in the epoch", ylim=(0, 4.5),
           title="converged" if view["converged"] else "still learning")


def training_explorer(gate="or", epoch=1, learning_rate=1.0):
    """Replay perceptron training epoch by epoch with an epoch slider."""
    controls = {
        "gate": Dropdown(options=GATES, value=gate, description="gate"),
        "epoch": slider(epoch, 1, 20, 1, "epoch", integer=True),
        "learning_rate": slider(learning_rate, 0.1, 2.0, 0.1, "learning rate"),
    }
    return Explorer(training_view, draw_training, controls, ncols=2, figsize=(9.0, 4.2))
