"""Explorer for notebook 04: MSE and binary cross-entropy for one prediction and its target."""

import functools

import numpy as np
from ipywidgets import Dropdown

from .. import activations, losses
from ._explorer import FIGURE_WIDTH, Explorer, Stubs, artists, missing_function, slider

Z_LIMIT = 6.0


def _per_point(loss, predictions, target):
    """``loss`` of each prediction on its own (a batch of one), shape (G,)."""
    return np.array([loss([[p]], [[target]]) for p in predictions])


def _gradients(derivative, predictions, target):
    """dL/dp for each prediction on its own, shape (G,).

    One row of G outputs is a batch of one sample: its derivative is each
    output's own derivative, with no 1/N to spread.
    """
    row = np.asarray(predictions, dtype=np.float64).reshape(1, -1)
    return derivative(row, np.full_like(row, target))[0]


LOSSES = {"mse": (losses.mse, losses.mse_derivative),
          "bce": (losses.binary_cross_entropy, losses.binary_cross_entropy_derivative)}


def loss_view(target=1.0, prediction=0.2):
    """MSE and binary cross-entropy of one prediction, and their gradients.

    Parameters
    ----------
    target : {0.0, 1.0}
        The label ``y``.
    prediction : float in (0, 1)
        The current prediction ``p``, e.g. the output of a sigmoid unit.

    Returns
    -------
    dict
        ``p`` (G,): predictions in (0, 1); ``mse``, ``bce`` (G,): the losses
        at each of them; ``prediction``, ``target``; ``loss`` and ``slope``:
        dicts with the MSE (``"mse"``) and cross-entropy (``"bce"``) loss and
        dL/dp at the current prediction; and, through a sigmoid output
        ``p = sigmoid(z)``: ``z`` (G,), ``mse_dz`` and ``bce_dz`` (G,):
        dL/dz = dL/dp * sigmoid'(z); ``z_now``, ``dz``: the current ``z`` and
        the dict of dL/dz there. While a loss, its derivative or the sigmoid
        is a stub, what needs it is None (or missing from the dicts) and
        ``missing`` is the first stub's error.
    """
    if not 0.0 < prediction < 1.0:
        raise ValueError(f"prediction must lie strictly between 0 and 1, got {prediction!r}")
    p = np.linspace(0.005, 0.995, 199)
    z = np.linspace(-Z_LIMIT, Z_LIMIT, 241)
    z_now = float(np.log(prediction / (1.0 - prediction)))  # the z with sigmoid(z) = p
    view = dict(p=p, target=target, prediction=prediction, z=z, z_now=z_now, loss={},
                slope={}, dz={}, mse=None, bce=None, mse_dz=None, bce_dz=None)
    stubs = Stubs()
    now = [prediction]
    for name, (loss, derivative) in LOSSES.items():
        with stubs:
            view[name] = _curve(loss, target)
            view["loss"][name] = loss([now], [[target]])
        with stubs:
            view["slope"][name] = float(_gradients(derivative, now, target)[0])
    with stubs:
        p_of_z = activations.sigmoid(z)
        slope_of_z = activations.sigmoid_derivative(z)
        slope_now = float(activations.sigmoid_derivative(z_now))
        for name, (_, derivative) in LOSSES.items():
            if name in view["slope"]:
                view[f"{name}_dz"] = _gradients(derivative, p_of_z, target) * slope_of_z
                view["dz"][name] = view["slope"][name] * slope_now
    view["missing"] = stubs.error
    return view


@functools.lru_cache(maxsize=8)
def _curve(loss, target):
    """``loss`` at each of the 199 plotted predictions, for one target (cached)."""
    curve = _per_point(loss, np.linspace(0.005, 0.995, 199), target)
    curve.flags.writeable = False
    return curve


COLORS = {"mse": "#3465a4", "bce": "#cc0000"}
NAMES = {"mse": "MSE", "bce": "cross-entropy"}


def draw_loss(axes, view):
    """Left: both losses against the prediction, with tangents. Right: dL/dz."""
    left, right = axes
    made = artists(left)
    if not made:
        for name in LOSSES:
            made[name], = left.plot([], [], color=COLORS[name], label=" ")
            made[f"{name} tangent"], = left.plot([], [], ":", color=COLORS[name], linewidth=2)
            made[f"{name} now"], = left.plot([], [], "o", color=COLORS[name], markersize=7)
            made[f"{name}_dz"], = right.plot([], [], color=COLORS[name], label=" ")
            made[f"{name} dz now"], = right.plot([], [], "o", color=COLORS[name],
                                                 markersize=7)
        left.set(xlim=(0.0, 1.0), ylim=(0.0, 5.0), xlabel="prediction $p$", ylabel="loss")
        made["legend"] = left.legend(loc="upper center", fontsize="small")
        right.axhline(0.0, color="#babdb6", linewidth=0.8)
        right.set(xlim=(-Z_LIMIT, Z_LIMIT), ylim=(-1.1, 1.1),
                  xlabel="$z$, with $p$ = sigmoid($z$)", ylabel="dL/dz")
        made["legend dz"] = right.legend(loc="upper left", fontsize="small")
    p_now = view["prediction"]
    for i, name in enumerate(LOSSES):
        curve, loss, slope = view[name], view["loss"].get(name), view["slope"].get(name)
        made[name].set_data(view["p"], curve if curve is not None else [np.nan] * 199)
        made[f"{name} now"].set_data([p_now], [loss if loss is not None else np.nan])
        # the tangent at the current prediction, over a width of 0.2
        xs = np.array([p_now - 0.1, p_now + 0.1])
        tangent = [np.nan] * 2 if slope is None or loss is None else loss + slope * (xs - p_now)
        made[f"{name} tangent"].set_data(xs, tangent)
        made["legend"].get_texts()[i].set_text(
            f"{NAMES[name]}: dL/dp = " + ("?" if slope is None else f"{slope:.3g}"))
        dz_curve, dz = view[f"{name}_dz"], view["dz"].get(name)
        made[f"{name}_dz"].set_data(view["z"], dz_curve if dz_curve is not None
                                    else [np.nan] * len(view["z"]))
        made[f"{name} dz now"].set_data([view["z_now"]], [np.nan if dz is None else dz])
        made["legend dz"].get_texts()[i].set_text(
            f"{NAMES[name]}: dL/dz = " + ("?" if dz is None else f"{dz:.3g}"))
    title = f"target y = {view['target']:g}, prediction p = {p_now:.2f}"
    if view["missing"] is not None:
        title += f" (needs {missing_function(view['missing'])})"
    left.set_title(title, fontsize="medium")
    right.set_title(f"through a sigmoid: z = {view['z_now']:.2f}", fontsize="medium")


def loss_explorer(target=1.0, prediction=0.2):
    """A target dropdown (0 or 1) and a prediction slider over both losses."""
    controls = {
        "target": Dropdown(options=[("0", 0.0), ("1", 1.0)], value=target,
                           description="target y"),
        "prediction": slider(prediction, 0.01, 0.99, 0.01, "prediction p"),
    }
    return Explorer(loss_view, draw_loss, controls, ncols=2, figsize=(FIGURE_WIDTH, 3.8))
