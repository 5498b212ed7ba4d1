"""Explorer for notebook 04: MSE and binary cross-entropy for one prediction and its target."""

import numpy as np
from ipywidgets import Dropdown

from .. import activations, losses
from ._explorer import Explorer, slider

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
        the dict of dL/dz there.
    """
    if not 0.0 < prediction < 1.0:
        raise ValueError(f"prediction must lie strictly between 0 and 1, got {prediction!r}")
    p = np.linspace(0.005, 0.995, 199)
    now = [prediction]
    loss = {"mse": losses.mse([now], [[target]]),
            "bce": losses.binary_cross_entropy([now], [[target]])}
    slope = {"mse": float(_gradients(losses.mse_derivative, now, target)[0]),
             "bce": float(_gradients(losses.binary_cross_entropy_derivative, now, target)[0])}
    z = np.linspace(-Z_LIMIT, Z_LIMIT, 241)
    p_of_z = activations.sigmoid(z)
    slope_of_z = activations.sigmoid_derivative(z)
    z_now = float(np.log(prediction / (1.0 - prediction)))  # the z with sigmoid(z) = p
    slope_now = float(activations.sigmoid_derivative(z_now))
    return dict(
        p=p, target=target, prediction=prediction, loss=loss, slope=slope,
        mse=_per_point(losses.mse, p, target),
        bce=_per_point(losses.binary_cross_entropy, p, target),
        z=z, z_now=z_now,
        mse_dz=_gradients(losses.mse_derivative, p_of_z, target) * slope_of_z,
        bce_dz=_gradients(losses.binary_cross_entropy_derivative, p_of_z, target) * slope_of_z,
        dz={name: value * slope_now for name, value in slope.items()},
    )


COLORS = {"mse": "#3465a4", "bce": "#cc0000"}
NAMES = {"mse": "MSE", "bce": "cross-entropy"}


def draw_loss(axes, view):
    """Left: both losses against the prediction, with tangents. Right: dL/dz."""
    ax = axes[0]
    p_now = view["prediction"]
    for name in ("mse", "bce"):
        ax.plot(view["p"], view[name], color=COLORS[name],
                label=f"{NAMES[name]}: dL/dp = {view['slope'][name]:.3g}")
        # the tangent at the current prediction, over a width of 0.2
        xs = np.array([p_now - 0.1, p_now + 0.1])
        ax.plot(xs, view["loss"][name] + view["slope"][name] * (xs - p_now), ":",
                color=COLORS[name], linewidth=2)
        ax.plot([p_now], [view["loss"][name]], "o", color=COLORS[name], markersize=7)
    ax.set(xlim=(0.0, 1.0), ylim=(0.0, 5.0), xlabel="prediction $p$", ylabel="loss",
           title=f"target y = {view['target']:g}, prediction p = {p_now:.2f}")
    ax.legend(loc="upper center", fontsize="small")

    ax = axes[1]
    ax.axhline(0.0, color="#babdb6", linewidth=0.8)
    for name in ("mse", "bce"):
        ax.plot(view["z"], view[f"{name}_dz"], color=COLORS[name],
                label=f"{NAMES[name]}: dL/dz = {view['dz'][name]:.3g}")
        ax.plot([view["z_now"]], [view["dz"][name]], "o", color=COLORS[name], markersize=7)
    ax.set(xlim=(-Z_LIMIT, Z_LIMIT), ylim=(-1.1, 1.1), xlabel="$z$, with $p$ = sigmoid($z$)",
           ylabel="dL/dz", title=f"through a sigmoid: z = {view['z_now']:.2f}")
    ax.legend(loc="upper left", fontsize="small")
    ax.figure.subplots_adjust(wspace=0.3)


def loss_explorer(target=1.0, prediction=0.2):
    """A target dropdown (0 or 1) and a prediction slider over both losses."""
    controls = {
        "target": Dropdown(options=[("0", 0.0), ("1", 1.0)], value=target,
                           description="target y"),
        "prediction": slider(prediction, 0.01, 0.99, 0.01, "prediction p"),
    }
    return Explorer(loss_view, draw_loss, controls, ncols=2, figsize=(10.0, 4.2))
