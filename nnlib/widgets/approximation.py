"""Explorer for notebook 07: how many hidden units a curve needs (universal approximation)."""

import functools

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import Dropdown
from matplotlib.collections import LineCollection

from .. import datasets, losses, network, training
from ._explorer import FIGURE_WIDTH, Explorer, artists, missing_function, slider

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
        ``hidden_units``. While training needs a stub, the network's parts are
        None and ``missing`` is the stub's error. Each setting is trained once
        and kept.
    """
    X, Y = datasets.make_curve(CURVE_SAMPLES, kind)
    x, target = datasets.make_curve(400, kind)
    try:
        fitted = _fit(training.train_network, network.forward_pass, kind, hidden_units, epochs,
                      seed)
    except NotImplementedError as error:
        fitted = dict(fit=None, units=None, output_bias=None, mse=None, history=[],
                      missing=error)
    return dict(X=X, Y=Y, x=x[:, 0], target=target[:, 0], kind=kind,
                hidden_units=hidden_units, **fitted)


@functools.lru_cache(maxsize=256)
def _fit(train_network, forward_pass, kind, hidden_units, epochs, seed):
    """The trained network's part of ``approximation_view``, kept per setting.

    Cached by the settings and by nnlib's two functions: moving the slider
    back to a number of units shows the network trained for it before.
    """
    X, Y = datasets.make_curve(CURVE_SAMPLES, kind)
    names = ["tanh", "identity"]
    start_weights, start_biases = spread_init(hidden_units, seed)
    weights, biases, history = train_network(
        X, Y, [1, hidden_units, 1], names, loss="mse",
        learning_rate=0.3 / np.sqrt(hidden_units), epochs=epochs, batch_size=None,
        shuffle=False, seed=seed, weights=start_weights, biases=start_biases)
    x, _ = datasets.make_curve(400, kind)
    fit = forward_pass(x, weights, biases, names)
    hidden = forward_pass(x, weights[:1], biases[:1], names[:1])
    return dict(fit=fit[:, 0], units=hidden * weights[1][0], output_bias=float(biases[1][0]),
                mse=losses.mse(forward_pass(X, weights, biases, names), Y),
                history=list(history), missing=None)


def draw_approximation(axes, view):
    """The target and the network's fit; and the hidden units it adds up."""
    ax, terms = axes
    made = artists(ax)
    if not made:
        made["target"], = ax.plot([], [], color="black", linewidth=1.5, label="target")
        made["fit"], = ax.plot([], [], color="#cc0000", linewidth=2, label="network")
        made["points"], = ax.plot([], [], "o", color="black", markersize=2.5,
                                  label="training points")
        ax.set(xlim=(-np.pi, np.pi), ylim=(-1.5, 1.5), xlabel="$x$")
        ax.legend(loc="lower right", fontsize="small")
        made["terms"] = LineCollection([], linewidths=1, alpha=0.7,
                                       colors=plt.rcParams["axes.prop_cycle"].by_key()["color"])
        terms.add_collection(made["terms"])
        terms.set(xlim=(-np.pi, np.pi), xlabel="$x$")
        terms.set_title("each hidden unit's term $v_j \\tanh(w_j x + b_j)$", fontsize="medium")
    x = view["x"]
    made["target"].set_data(x, view["target"])
    made["points"].set_data(view["X"][:, 0], view["Y"][:, 0])
    units = "unit" if view["hidden_units"] == 1 else "units"
    if view["fit"] is None:
        made["fit"].set_data([], [])
        made["terms"].set_segments([])
        ax.set_title(f"{view['kind']}: the fit needs {missing_function(view['missing'])}",
                     fontsize="medium")
        return
    made["fit"].set_data(x, view["fit"])
    made["terms"].set_segments([np.column_stack([x, term]) for term in view["units"].T])
    # a round, symmetric range (1, 2 or 5 times a power of 10): the axis changes seldom
    reach = float(np.abs(view["units"]).max()) * 1.05
    power = 10.0 ** np.floor(np.log10(max(reach, 1e-6)))
    reach = next(m * power for m in (1, 2, 5, 10) if m * power >= reach)
    terms.set_ylim(-reach, reach)
    ax.set_title(f"{view['kind']}, {view['hidden_units']} hidden {units}: "
                 f"MSE {view['mse']:.4f}", fontsize="medium")


def approximation_explorer(kind="sine", hidden_units=5):
    """A curve dropdown and a hidden-units slider (1 to 50) for ``approximation_view``.

    Each setting is trained once, when first chosen (about a second), and
    kept: moving back to it is immediate.
    """
    units = slider(hidden_units, 1, 50, 1, "hidden units", integer=True)
    units.continuous_update = False  # train once the slider is released
    controls = {
        "kind": Dropdown(options=CURVE_KINDS, value=kind, description="curve"),
        "hidden_units": units,
    }
    return Explorer(approximation_view, draw_approximation, controls, ncols=2,
                    figsize=(FIGURE_WIDTH, 3.8), busy="training the network...")
