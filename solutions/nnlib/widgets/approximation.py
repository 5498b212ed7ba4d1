"""Explorer for notebook 07: how many hidden units a curve needs (universal approximation)."""

import numpy as np
from ipywidgets import Dropdown

from .. import datasets, losses, network, training
from ._explorer import Explorer, slider

CURVE_KINDS = ("sine", "step", "abs", "bumps")
CURVE_SAMPLES = 100
EPOCHS = 1000


def spread_init(hidden_units, seed=0):
    """Starting weights for ``[1, H, 1]`` whose hidden units switch at spread-out places.

    Unit ``j`` computes ``tanh(w_j x + b_j)``, which switches from -1 to 1
    around ``x = -b_j / w_j``. With zero biases every unit would switch at
    ``x = 0``; here the switch points start evenly spaced inside
    ``[-pi, pi]`` and the slopes alternate in sign, so that from the first
    step each unit can bend the curve in a different place.

    Parameters
    ----------
    hidden_units : int
        ``H``, at least 1.
    seed : int, default 0

    Returns
    -------
    weights : list of two ndarrays, shapes (H, 1) and (1, H)
    biases : list of two ndarrays, shapes (H,) and (1,)
    """
    weights, biases = network.init_params([1, hidden_units, 1], method="he", seed=seed)
    signs = np.where(np.arange(hidden_units) % 2 == 0, 1.0, -1.0)
    slopes = 2.0 * np.abs(weights[0][:, 0]) * signs
    switch_at = np.linspace(-np.pi, np.pi, hidden_units + 2)[1:-1]
    return [slopes.reshape(-1, 1), weights[1]], [-slopes * switch_at, biases[1]]


def approximation_view(kind="sine", hidden_units=5, epochs=EPOCHS, seed=0):
    """Fit a ``[1, H, 1]`` network (tanh hidden, identity output) to a curve.

    Trained with ``training.train_network`` by full-batch gradient descent
    on the MSE, from ``spread_init``, with learning rate ``0.3 / sqrt(H)``
    (the output sums ``H`` units, so its gradient grows with ``H``).

    Parameters
    ----------
    kind : {"sine", "step", "abs", "bumps"}
        The target, from ``datasets.make_curve``.
    hidden_units : int
        ``H``.
    epochs : int
    seed : int

    Returns
    -------
    dict
        ``X`` (100, 1), ``Y`` (100, 1): the training points; ``x`` (400,),
        ``target`` (400,), ``fit`` (400,): the curve and the network on a
        fine grid; ``units`` (400, H): each hidden unit's contribution
        ``W2[0, j] * tanh(W1[j] x + b1[j])`` to the output; ``mse``: the final
        training loss; ``history``: the loss per epoch; ``kind``,
        ``hidden_units``.
    """
    X, Y = datasets.make_curve(CURVE_SAMPLES, kind)
    names = ["tanh", "identity"]
    start_weights, start_biases = spread_init(hidden_units, seed)
    weights, biases, history = training.train_network(
        X, Y, [1, hidden_units, 1], names, loss="mse",
        learning_rate=0.3 / np.sqrt(hidden_units), epochs=epochs, batch_size=None,
        shuffle=False, seed=seed, weights=start_weights, biases=start_biases)
    x, target = datasets.make_curve(400, kind)
    fit = network.forward_pass(x, weights, biases, names)
    hidden = network.forward_pass(x, weights[:1], biases[:1], names[:1])
    return dict(X=X, Y=Y, x=x[:, 0], target=target[:, 0], fit=fit[:, 0],
                units=hidden * weights[1][0], output_bias=float(biases[1][0]),
                mse=losses.mse(network.forward_pass(X, weights, biases, names), Y),
                history=list(history), kind=kind, hidden_units=hidden_units)


def draw_approximation(axes, view):
    """The target and the network's fit; and the hidden units it adds up."""
    ax = axes[0]
    ax.plot(view["x"], view["target"], color="black", linewidth=1.5, label="target")
    ax.plot(view["x"], view["fit"], color="#cc0000", linewidth=2, label="network")
    ax.plot(view["X"][:, 0], view["Y"][:, 0], "o", color="black", markersize=2.5,
            label="training points")
    units = "unit" if view["hidden_units"] == 1 else "units"
    ax.set(xlim=(-np.pi, np.pi), ylim=(-1.5, 1.5), xlabel="$x$",
           title=f"{view['kind']}, {view['hidden_units']} hidden {units}: "
                 f"MSE {view['mse']:.4f}")
    ax.legend(loc="lower right", fontsize="small")
    ax = axes[1]
    ax.plot(view["x"], view["units"], linewidth=1, alpha=0.7)
    ax.set(xlim=(-np.pi, np.pi), xlabel="$x$",
           title="each hidden unit's term $v_j \\tanh(w_j x + b_j)$ in the output")


def approximation_explorer(kind="sine", hidden_units=5):
    """A curve dropdown and a hidden-units slider (1 to 50) for ``approximation_view``."""
    units = slider(hidden_units, 1, 50, 1, "hidden units", integer=True)
    units.continuous_update = False  # train once the slider is released
    controls = {
        "kind": Dropdown(options=CURVE_KINDS, value=kind, description="curve"),
        "hidden_units": units,
    }
    return Explorer(approximation_view, draw_approximation, controls, ncols=2,
                    figsize=(10.0, 4.0))
