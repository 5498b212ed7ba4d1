"""Explorers for notebook 02: the activation functions, and their derivatives through depth."""

import numpy as np
from ipywidgets import Checkbox, Dropdown

from .. import activations
from ._explorer import Explorer, slider

# The dropdowns offer the registry's non-linear element-wise activations: not identity (a
# straight line) nor softmax (it mixes a row).
NAMES = tuple(name for name, activation in activations.ACTIVATIONS.items()
              if activation.elementwise and name != "identity")
# How the figures write a name; any other is written as it is named, with spaces.
_SPELLINGS = {"relu": "ReLU", "leaky_relu": "leaky ReLU"}
LABELS = {name: _SPELLINGS.get(name, name.replace("_", " ")) for name in NAMES}
Z_LIMIT = 6.0
Z_POINTS = 241  # the plotted z: -6 to 6 in steps of 0.05
MAX_DEPTH = 30
# The smallest product the depth figure shows; a product of 0 is drawn as missing.
FLOOR = 1e-30


def output_range(activation, alpha=0.01):
    """The set of values ``activation`` can output, written as an interval.

    The bounds are the registry's ``Activation.output_range``. A finite bound
    is closed when the function reaches it over the plotted ``z`` in [-6, 6],
    as ReLU reaches 0 for every ``z <= 0``; otherwise it is only approached.

    Parameters
    ----------
    activation : str
        One of ``NAMES``.
    alpha : float
        Leaky ReLU's slope for negative inputs; with 0 it is a plain ReLU.

    Returns
    -------
    str
        E.g. ``"(0, 1)"``.
    """
    if activation == "leaky_relu" and alpha == 0:
        activation = "relu"
    found = activations.get_activation(activation)
    low, high = found.output_range
    values = found(np.linspace(-Z_LIMIT, Z_LIMIT, Z_POINTS))
    left = "[" if values.min() == low else "("
    right = "]" if values.max() == high else ")"
    return f"{left}{_bound(low)}, {_bound(high)}{right}"


def _bound(value):
    """``-inf``, ``inf`` and ``1.0`` as the notes write them: ``-∞``, ``∞``, ``1``."""
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:g}"


def _function_and_derivative(activation, z, alpha):
    """``f(z)`` and ``f'(z)`` from nnlib, passing ``alpha`` to leaky ReLU only."""
    if activation == "leaky_relu":
        return (activations.leaky_relu(z, alpha=alpha),
                activations.leaky_relu_derivative(z, alpha=alpha))
    found = activations.get_activation(activation)
    return found.function(z), found.derivative(z)


def activation_view(activation="sigmoid", alpha=0.01):
    """An activation function and its derivative over ``z`` in [-6, 6].

    Parameters
    ----------
    activation : str
        One of ``NAMES``.
    alpha : float, default 0.01
        Leaky ReLU's slope for ``z < 0``; ignored by the others.

    Returns
    -------
    dict
        ``z`` (G,): the grid; ``value`` (G,): ``f(z)``; ``derivative`` (G,):
        ``f'(z)``; ``range``: the output range as text; ``max_derivative``:
        the largest slope on the grid; ``activation``, ``alpha``.
    """
    z = np.linspace(-Z_LIMIT, Z_LIMIT, Z_POINTS)
    value, derivative = _function_and_derivative(activation, z, alpha)
    return dict(z=z, value=value, derivative=derivative, range=output_range(activation, alpha),
                max_derivative=float(derivative.max()), activation=activation, alpha=alpha)


def _label(activation, alpha):
    if activation == "leaky_relu":
        return f"leaky ReLU (alpha = {alpha:.2f})"
    return LABELS[activation]


def draw_activation(axes, view):
    """Left: ``f(z)`` with its output range in the title. Right: ``f'(z)``."""
    label = _label(view["activation"], view["alpha"])
    for ax in axes:
        ax.axhline(0.0, color="#babdb6", linewidth=0.8)
        ax.axvline(0.0, color="#babdb6", linewidth=0.8)
        ax.set(xlim=(-Z_LIMIT, Z_LIMIT), xlabel="$z$")
    axes[0].plot(view["z"], view["value"], color="#3465a4", linewidth=2)
    axes[0].set(ylabel="$f(z)$", title=f"{label}: range {view['range']}")
    axes[1].plot(view["z"], view["derivative"], color="#cc0000", linewidth=2)
    axes[1].set(ylim=(-0.1, 1.2), ylabel="$f'(z)$",
                title=f"derivative: largest {view['max_derivative']:.3g}")
    axes[0].figure.subplots_adjust(wspace=0.3)


def activation_explorer(activation="sigmoid", alpha=0.01):
    """A dropdown of the activations (``NAMES``) and an alpha slider for leaky ReLU."""
    controls = {
        "activation": Dropdown(options=[(LABELS[n], n) for n in NAMES], value=activation,
                               description="activation"),
        "alpha": slider(alpha, 0.0, 0.5, 0.01, "alpha (leaky ReLU)"),
    }
    return Explorer(activation_view, draw_activation, controls, ncols=2, figsize=(9.0, 3.8))


def depth_view(activation="sigmoid", depth=10, active_side=False, seed=0):
    """The product of the activation's derivatives through a chain of layers.

    Backpropagation multiplies the gradient by ``f'(z_l)`` once per layer.
    Here each layer ``l`` gets one random pre-activation ``z_l ~ N(0, 1)``
    (the same ones for every activation, for a given seed) and the running
    product ``f'(z_1) f'(z_2) ... f'(z_l)`` is computed for ``l = 1..depth``.

    Parameters
    ----------
    activation : str
        One of ``NAMES``.
        Leaky ReLU uses nnlib's default ``alpha``.
    depth : int, 1 to 30
    active_side : bool, default False
        If True, use ``|z_l|``: every unit on its active side (``z > 0``).
        Sigmoid and tanh have even derivatives, so this changes nothing for
        them.
    seed : int

    Returns
    -------
    dict
        ``layers`` (L,): 1..depth; ``z`` (L,); ``factors`` (L,): ``f'(z_l)``;
        ``product`` (L,): the running product; ``bound`` (L,): ``0.25**l``,
        sigmoid's largest possible product; ``final``: the product through all
        layers; ``first_zero``: the first layer whose factor is 0, or None.
    """
    z = np.random.default_rng(seed).normal(size=MAX_DEPTH)[:depth]
    if active_side:
        z = np.abs(z)
    factors = activations.get_activation(activation).derivative(z)
    product = np.cumprod(factors)
    layers = np.arange(1, depth + 1)
    zeros = np.flatnonzero(factors == 0.0)
    return dict(layers=layers, z=z, factors=factors, product=product, bound=0.25 ** layers,
                final=float(product[-1]), first_zero=int(zeros[0]) + 1 if zeros.size else None,
                activation=activation, active_side=active_side)


def draw_depth(axes, view):
    """The running product on a log scale, next to sigmoid's bound ``0.25**L``."""
    ax = axes[0]
    layers, product = view["layers"], view["product"]
    shown = np.where(product > FLOOR, product, np.nan)  # log scale: 0 cannot be drawn
    ax.plot(layers, view["bound"], "--", color="#888a85", label="$0.25^L$ (sigmoid at best)")
    ax.axhline(1.0, color="#babdb6", linewidth=0.8)
    ax.plot(layers, shown, "o-", color="#3465a4", markersize=4,
            label=f"product of {LABELS[view['activation']]}' over the layers")
    ax.set(yscale="log", xlim=(0.5, MAX_DEPTH + 0.5), ylim=(FLOOR, 10.0),
           xlabel="number of layers $L$", ylabel="$f'(z_1) \\cdots f'(z_L)$")
    if view["first_zero"] is not None:
        title = f"exactly 0 from layer {view['first_zero']} on (a unit with z <= 0)"
    else:
        title = f"after {layers[-1]} layers: {view['final']:.3g}"
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small")


def depth_explorer(activation="sigmoid", depth=10, active_side=False, seed=0):
    """A depth slider and an activation dropdown for the product of derivatives."""
    controls = {
        "activation": Dropdown(options=[(LABELS[n], n) for n in NAMES], value=activation,
                               description="activation"),
        "depth": slider(depth, 1, MAX_DEPTH, 1, "layers L", integer=True),
        "active_side": Checkbox(value=active_side, description="only z > 0 (active side)"),
        "seed": slider(seed, 0, 9, 1, "random seed", integer=True),
    }
    return Explorer(depth_view, draw_depth, controls, figsize=(7.0, 4.2))
