"""Explorers for notebook 02: the activation functions, and their derivatives through depth."""

import functools

import numpy as np
from ipywidgets import Checkbox, Dropdown

from .. import activations
from ._explorer import FIGURE_WIDTH, Explorer, Stubs, artists, missing_function, slider, static

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
        the largest slope on the grid; ``activation``, ``alpha``. While the
        function or its derivative is a stub, what needs it is None and
        ``missing`` is the first stub's error.
    """
    z = np.linspace(-Z_LIMIT, Z_LIMIT, Z_POINTS)
    function, derivative = _function_and_derivative(activation, alpha)
    stubs = Stubs()
    value = output = slope = max_slope = None
    with stubs:
        value = function(z)
        output = output_range(activation, alpha)
    with stubs:
        slope = derivative(z)
        max_slope = float(slope.max())
    return dict(z=z, value=value, derivative=slope, range=output, max_derivative=max_slope,
                activation=activation, alpha=alpha, missing=stubs.error)


def _function_and_derivative(activation, alpha):
    """``f`` and ``f'`` from nnlib, with ``alpha`` passed to leaky ReLU only."""
    if activation == "leaky_relu":
        return (functools.partial(activations.leaky_relu, alpha=alpha),
                functools.partial(activations.leaky_relu_derivative, alpha=alpha))
    found = activations.get_activation(activation)
    return found.function, found.derivative


def _label(activation, alpha):
    if activation == "leaky_relu":
        return f"leaky ReLU (alpha = {alpha:.2f})"
    return LABELS[activation]


def draw_activation(axes, view):
    """Left: ``f(z)`` with its output range in the title. Right: ``f'(z)``."""
    if not artists(axes[0]):
        for ax, color, ylabel in zip(axes, ("#3465a4", "#cc0000"), ("$f(z)$", "$f'(z)$")):
            ax.axhline(0.0, color="#babdb6", linewidth=0.8)
            ax.axvline(0.0, color="#babdb6", linewidth=0.8)
            artists(ax)["curve"], = ax.plot([], [], color=color, linewidth=2)
            ax.set(xlim=(-Z_LIMIT, Z_LIMIT), xlabel="$z$", ylabel=ylabel)
            ax.locator_params(nbins=6)
        axes[1].set_ylim(-0.1, 1.2)
    label = _label(view["activation"], view["alpha"])
    value, slope = view["value"], view["derivative"]
    waiting = None if view["missing"] is None else missing_function(view["missing"])
    left, right = artists(axes[0])["curve"], artists(axes[1])["curve"]
    left.set_data(view["z"], value if value is not None else np.full_like(view["z"], np.nan))
    right.set_data(view["z"], slope if slope is not None else np.full_like(view["z"], np.nan))
    if value is not None:
        # the y range that fits the curve, at most -6 to 6 (where ReLU ends)
        low, high = float(value.min()), float(value.max())
        pad = 0.08 * max(high - low, 1e-3)
        axes[0].set_ylim(low - pad, high + pad)
        axes[0].set_title(f"{label}: range {view['range']}", fontsize="medium")
    else:
        axes[0].set_title(f"{label}: needs {waiting}", fontsize="medium")
    if slope is not None:
        axes[1].set_title(f"derivative: largest {view['max_derivative']:.3g}",
                          fontsize="medium")
    else:
        axes[1].set_title(f"derivative: needs {waiting}", fontsize="medium")


def activation_explorer(activation="sigmoid", alpha=0.01):
    """A dropdown of the activations (``NAMES``) and an alpha slider for leaky ReLU.

    The alpha slider is disabled unless leaky ReLU is chosen.
    """
    controls = {
        "activation": Dropdown(options=[(LABELS[n], n) for n in NAMES], value=activation,
                               description="activation"),
        "alpha": slider(alpha, 0.0, 0.5, 0.01, "alpha (leaky ReLU)"),
    }
    return Explorer(activation_view, draw_activation, controls, ncols=2,
                    figsize=(FIGURE_WIDTH, 3.6), active=_alpha_for_leaky_relu)


def _alpha_for_leaky_relu(activation, alpha):
    """The controls that matter: alpha only for leaky ReLU."""
    return {"activation", "alpha"} if activation == "leaky_relu" else {"activation"}


def depth_view(activation="sigmoid", depth=10, active_side=False, seed=0, spread=1.0):
    """The product of the activation's derivatives through a chain of layers.

    Backpropagation multiplies the gradient by ``f'(z_l)`` once per layer.
    Here each layer ``l`` gets one random pre-activation ``z_l ~ N(0, spread**2)``
    (the same ones for every activation, for a given seed and spread) and the running
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
        them (``even`` says so).
    seed : int
    spread : float, default 1.0
        The standard deviation of the ``z_l``: the draws of ``N(0, 1)`` for
        this seed, multiplied by ``spread``.

    Returns
    -------
    dict
        ``layers`` (L,): 1..depth; ``z`` (L,); ``bound`` (L,): ``0.25**l``,
        sigmoid's largest possible product; ``factors`` (L,): ``f'(z_l)``;
        ``product`` (L,): the running product; ``final``: the product through
        all layers; ``first_zero``: the first layer whose factor is 0, or
        None; ``even``: whether ``f'(|z|) = f'(z)`` here, so that
        ``active_side`` changes nothing. While the derivative is a stub, the
        last five are None and ``missing`` is its error.
    """
    z = spread * np.random.default_rng(seed).normal(size=MAX_DEPTH)[:depth]
    layers = np.arange(1, depth + 1)
    view = dict(layers=layers, z=np.abs(z) if active_side else z, bound=0.25 ** layers,
                factors=None, product=None, final=None, first_zero=None, even=None,
                activation=activation, active_side=active_side, spread=spread, missing=None)
    derivative = activations.get_activation(activation).derivative
    try:
        factors = derivative(view["z"])
        even = bool(np.allclose(derivative(np.abs(z)), derivative(z), rtol=1e-12, atol=0))
    except NotImplementedError as error:
        view["missing"] = error
        return view
    product = np.cumprod(factors)
    zeros = np.flatnonzero(factors == 0.0)
    view.update(factors=factors, product=product, final=float(product[-1]), even=even,
                first_zero=int(zeros[0]) + 1 if zeros.size else None)
    return view


def draw_depth(axes, view):
    """The running product on a log scale, next to sigmoid's bound ``0.25**L``."""
    ax = axes[0]
    made = artists(ax)
    if not made:
        made["bound"], = ax.plot([], [], "--", color="#888a85",
                                 label="$0.25^L$ (sigmoid at best)")
        ax.axhline(1.0, color="#babdb6", linewidth=0.8)
        made["product"], = ax.plot([], [], "o-", color="#3465a4", markersize=4,
                                   label="$f'(z_1) \\cdots f'(z_L)$ of the activation chosen")
        ax.set(yscale="log", xlim=(0.5, MAX_DEPTH + 0.5), ylim=(FLOOR, 10.0),
               xlabel="number of layers $K$", ylabel="$f'(z_1) \\cdots f'(z_K)$")
        ax.set_yticks(10.0 ** np.arange(-30, 1, 10))
        ax.minorticks_off()
        # nothing is drawn below 1e-20 in its corner (0.25**30 is 1e-18)
        static(ax.legend(loc="lower left", fontsize="small"))
    layers, product = view["layers"], view["product"]
    made["bound"].set_data(layers, view["bound"])
    name = LABELS[view["activation"]]
    if product is None:
        made["product"].set_data([], [])
        ax.set_title(f"{name}: the product needs {missing_function(view['missing'])}",
                     fontsize="medium")
        return
    shown = np.where(product > FLOOR, product, np.nan)  # log scale: 0 cannot be drawn
    made["product"].set_data(layers, shown)
    if view["first_zero"] is not None:
        title = f"{name}: exactly 0 from layer {view['first_zero']} on (a unit with z <= 0)"
    else:
        title = f"{name}: after {layers[-1]} layers: {view['final']:.3g}"
    if view["active_side"] and view["even"]:
        title += " (f' is even: |z| changes nothing)"
    ax.set_title(title, fontsize="medium")


def depth_explorer(activation="sigmoid", depth=10, active_side=False, seed=0, spread=1.0):
    """A depth slider, an activation dropdown and the spread of ``z`` for the product of
    derivatives."""
    controls = {
        "activation": Dropdown(options=[(LABELS[n], n) for n in NAMES], value=activation,
                               description="activation"),
        "depth": slider(depth, 1, MAX_DEPTH, 1, "layers K", integer=True),
        "active_side": Checkbox(value=active_side, description="only z > 0 (active side)"),
        "seed": slider(seed, 0, 9, 1, "random seed", integer=True),
        "spread": slider(spread, 0.5, 3.0, 0.5, "spread of z (its std)"),
    }
    return Explorer(depth_view, draw_depth, controls, figsize=(6.6, 4.0))
