"""Explorer for notebook 09: a computation graph, and the backward pass through it step by step."""

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from ipywidgets import Dropdown
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from .. import autograd
from ._explorer import FIGURE_WIDTH, Explorer, Stubs, artists, missing_function, slider, static

# ---------------------------------------------------------------- the expressions


class Expression(NamedTuple):
    """A small function of two numbers, recorded as a graph by ``autograd.Value``.

    Attributes
    ----------
    formula : str
        How the title writes it.
    build : callable
        ``build(x, y) -> Value``: computes f from the ``Value``s of ``x`` and ``y``.
    """

    formula: str
    build: Callable


# the neuron's weights and bias: micrograd's, so that at x = 2, y = 0 the sum is
# n = 0.8814 and tanh(n) = 1 / sqrt(2)
NEURON_W, NEURON_V, NEURON_B = -3.0, 1.0, 6.8813735870195432


def _neuron(x, y):
    w = autograd.Value(NEURON_W, label="w")
    v = autograd.Value(NEURON_V, label="v")
    b = autograd.Value(NEURON_B, label="b")
    return (x * w + y * v + b).tanh()


EXPRESSIONS = {
    "shared": Expression("x·y + x", lambda x, y: x * y + x),
    "square": Expression("(x + y)²", lambda x, y: (x + y) ** 2),
    "softplus": Expression("log(1 + exp(x·y))", lambda x, y: (1 + (x * y).exp()).log()),
    "neuron": Expression(f"tanh(x·w + y·v + b) with w = {NEURON_W:g}, v = {NEURON_V:g}, "
                         f"b = {NEURON_B:.4g}", _neuron),
}
# how a box names its operation (the others by their name in autograd.OPS)
OP_SYMBOLS = {"add": "+", "mul": "×"}


def expression_graph(expression, x, y):
    """The graph of one expression at ``(x, y)``, as plain data, and a name for each node.

    Provided code only (``Value`` and its ``graph``): no exercise is needed for it.

    Parameters
    ----------
    expression : str
        A name of ``EXPRESSIONS``.
    x, y : float

    Returns
    -------
    graph : autograd.Graph
        P nodes; the root, f, is node 0.
    names : list of str, length P
        A leaf's label (``"x"``, ``"w"``), or its number for a constant that the
        expression mixed in (``"1"``); an operation's symbol (``"×"``, ``"tanh"``,
        ``"** 2"``).
    """
    if expression not in EXPRESSIONS:
        raise ValueError(f"expression must be one of {', '.join(EXPRESSIONS)}, "
                         f"got {expression!r}")
    f = EXPRESSIONS[expression].build(autograd.Value(x, label="x"),
                                      autograd.Value(y, label="y"))
    graph, nodes = f.graph()
    return graph, [_name(node) for node in nodes]


def _name(node):
    if node.op == "input":
        return node.label or f"{node.data:g}"
    if node.op == "pow":
        return f"** {node.attribute:g}"
    return OP_SYMBOLS.get(node.op, node.op)


def backward_steps(expression):
    """The number of steps of the backward pass of an expression: its operations."""
    parents, _, _ = _layout(expression)
    return sum(1 for inputs in parents if inputs)


# ---------------------------------------------------------------- the layout

COLUMN, ROW = 1.7, 1.0  # between the centres of boxes, left to right and top to bottom
BOX_WIDTH, BOX_HEIGHT = 1.2, 0.8
XLIM, YLIM = (-4.2, 4.2), (-2.25, 1.95)  # room for five columns and four rows


@functools.lru_cache(maxsize=16)
def _layout(expression):
    """The structure of an expression's graph and where it is drawn (the same at any x, y).

    Returns
    -------
    parents : tuple of tuple of int, length P
    positions : ndarray, shape (P, 2), read-only
    edges : tuple of (int, int, ndarray of shape (Q, 2))
        For every input of every operation: the input's node, the operation's node, and
        the points of the arrow between them.
    """
    graph, _ = expression_graph(expression, 1.0, 1.0)
    parents = tuple(tuple(inputs) for inputs in graph.parents)
    positions, edges = graph_layout(parents)
    positions.flags.writeable = False
    return parents, positions, tuple(edges)


def graph_layout(parents):
    """Place a graph left to right: each operation right of its inputs, by depth.

    An operation's column is its depth, the longest path to it from a leaf; a leaf
    stands in the column just left of the first operation that uses it (so a constant
    sits next to where it is used). From the right, the nodes of a column are stacked
    in the order of the nodes they feed, each near them. An arrow that skips columns
    passes through a slot kept free in each of them, so that it crosses no box.

    Parameters
    ----------
    parents : sequence of tuple of int, length P
        As ``Graph.parents``; every node feeds node 0, the root.

    Returns
    -------
    positions : ndarray, shape (P, 2)
        Each box's centre, the graph centred on (0, 0).
    edges : list of (int, int, ndarray of shape (Q, 2))
        For every input of every operation, in the order of ``parents``: the input's
        node, the operation's node, and the points of the arrow, from the right side of
        the input's box to the left side of the operation's.
    """
    depth = {}

    def longest(node):  # the graph is a few nodes deep: recursion is fine
        if node not in depth:
            depth[node] = 1 + max((longest(p) for p in parents[node]), default=-1)
        return depth[node]

    edges = [(p, node) for node, inputs in enumerate(parents) for p in inputs]
    column = {node: longest(node) for node, inputs in enumerate(parents) if inputs}
    for node, inputs in enumerate(parents):
        if not inputs:
            users = [column[user] for p, user in edges if p == node]
            column[node] = min(users, default=1) - 1
    # the items of each column: its nodes, and the slots of arrows passing through it
    items = {("node", node): column[node] for node in range(len(parents))}
    chains = []  # per edge: the items it goes through, from its input to its operation
    for index, (p, user) in enumerate(edges):
        through = [("slot", index, c) for c in range(column[p] + 1, column[user])]
        items.update((item, item[2]) for item in through)
        chains.append([("node", p), *through, ("node", user)])
    feeds = {item: [] for item in items}  # item -> the items it points to
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            feeds[a].append(b)
    height = {}
    for c in range(max(items.values()), -1, -1):
        members = [item for item in items if items[item] == c]
        near = {item: np.mean([height[b] for b in feeds[item]]) if feeds[item] else 0.0
                for item in members}
        members.sort(key=lambda item: -near[item])  # stable: ties keep the inputs' order
        middle = np.mean(list(near.values()))
        for rank, item in enumerate(members):
            height[item] = middle + ((len(members) - 1) / 2 - rank) * ROW
    centre = np.array([max(items.values()) / 2 * COLUMN,
                       (max(height.values()) + min(height.values())) / 2])
    positions = np.array([[column[n] * COLUMN, height[("node", n)]]
                          for n in range(len(parents))]) - centre
    return positions, _arrows(chains, height, items, positions, centre)


def _arrows(chains, height, items, positions, centre):
    """The points of each edge's arrow (see ``graph_layout``)."""
    half = BOX_WIDTH / 2
    arrows = []
    for chain in chains:
        (_, start), *through, (_, end) = chain
        points = [positions[start] + (half, 0.0)]
        for item in through:
            x, y = items[item] * COLUMN - centre[0], height[item] - centre[1]
            points += [(x - half, y), (x + half, y)]
        points.append(positions[end] - (half, 0.0))
        arrows.append([start, end, np.array(points)])
    # the arrows into one box end at points spread down its left side, ordered as the
    # boxes they come from (so they do not cross)
    for end in {arrow[1] for arrow in arrows}:
        into = sorted((a for a in arrows if a[1] == end), key=lambda a: -a[2][-2][1])
        for rank, arrow in enumerate(into):
            arrow[2][-1, 1] += ((len(into) - 1) / 2 - rank) * 0.22 * BOX_HEIGHT
    return [(start, end, points) for start, end, points in arrows]


# ---------------------------------------------------------------- the backward pass


def graph_view(expression="shared", x=2.0, y=-3.0, step=None):
    """An expression's graph, its values, and its gradients after some steps of the backward
    pass.

    The backward pass is ``backward_pass``'s loop, run here step by step: it goes through
    ``topological_order``'s nodes backwards, from f, and at each operation passes the
    operation's gradient to its inputs with ``chain_rule`` (``grad`` times each
    ``local_derivatives``). A node used twice receives two gradients, one at each step of
    the operations that use it: it shows the first, then their sum.

    Parameters
    ----------
    expression : str
        A name of ``EXPRESSIONS``.
    x, y : float
        The inputs.
    step : int, optional
        How many operations the backward pass has processed, 0 to their number K
        (``backward_steps(expression)``; more counts as K). Default: K, the whole pass.

    Returns
    -------
    dict
        ``expression``, ``formula``, ``x``, ``y``; the graph, of P nodes, f first:
        ``names`` (P,) str, ``ops`` (P,) str, ``parents`` (P,) tuples of int, ``values``
        (P,); its picture: ``positions`` (P, 2) and ``edges`` (input, operation, points
        (Q, 2)); ``steps``: K, ``step``. Once ``local_derivatives``,
        ``topological_order``, ``backward_pass`` and what they use are written:
        ``grads`` (P,): d f / d node so far, NaN where no gradient has arrived yet (at
        step 0 only f's own, 1); ``current``: the node processed at this step (None at
        step 0); ``passed``: the gradients it passed to its inputs, and ``local``: each
        node's local derivatives (tuples, in the order of ``parents``); ``done``: the
        processed nodes; ``order``: ``topological_order``'s list, and ``topological``:
        whether it puts every node after its inputs; ``final`` (P,): what
        ``backward_pass`` returns, and ``agrees``: whether it is the loop's last
        ``grads``. Until then those are None, and ``missing`` is the first stub's error.
    """
    graph, names = expression_graph(expression, x, y)
    parents, positions, edges = _layout(expression)
    steps = backward_steps(expression)
    if step is not None and step < 0:
        raise ValueError(f"step must be 0 or more, got {step!r}")
    step = steps if step is None else min(int(step), steps)
    view = dict(expression=expression, formula=EXPRESSIONS[expression].formula, x=float(x),
                y=float(y), names=names, ops=list(graph.ops), parents=list(parents),
                values=np.array(graph.values), positions=positions, edges=edges, steps=steps,
                step=step, grads=None, current=None, passed=(), local=None, done=(),
                order=None, topological=None, final=None, agrees=None, missing=None)
    stubs = Stubs()
    with stubs:
        local, order, history, final = _backward(
            expression, float(x), float(y), autograd.local_derivatives,
            autograd.topological_order, autograd.backward_pass, autograd.chain_rule,
            autograd.unbroadcast)
    view["missing"] = stubs.error
    if stubs.error is not None:
        return view
    grads, current, passed = history[min(step, len(history) - 1)]
    last = np.nan_to_num(history[-1][0])  # (a node no gradient reached has 0)
    view.update(grads=np.array(grads), current=current, passed=passed, local=local,
                done=tuple(h[1] for h in history[1:step + 1]), order=order,
                topological=_is_topological(order, parents), final=np.array(final),
                agrees=bool(np.allclose(final, last, rtol=1e-12, atol=1e-12)))
    return view


@functools.lru_cache(maxsize=512)
def _backward(expression, x, y, local_derivatives, topological_order, backward_pass,
              chain_rule, unbroadcast):
    """The backward pass of an expression at (x, y), one state per step.

    Cached by the settings and by nnlib's functions (``chain_rule`` calls
    ``local_derivatives`` and ``unbroadcast``), so that an edited function is run anew.
    Each student function gets a graph of its own, which it may change without harm.

    Returns
    -------
    local : tuple of tuple of float
        Each node's local derivatives (``()`` for a leaf).
    order : tuple of int
        ``topological_order``'s list.
    history : tuple of (tuple of float, int or None, tuple of float)
        After each step, 0 to K: the gradients (P,) so far (NaN where none arrived),
        the node just processed and the gradients it passed to its inputs.
    final : tuple of float
        ``backward_pass``'s gradients (P,).
    """
    graph, _ = expression_graph(expression, x, y)
    local = tuple(tuple(float(d) for d in local_derivatives(
        op, tuple(graph.values[i] for i in inputs), value, attribute)) if inputs else ()
        for op, inputs, value, attribute in zip(graph.ops, graph.parents, graph.values,
                                                graph.attributes))
    order = tuple(int(node) for node in topological_order(list(graph.parents), graph.root))
    final = tuple(float(g) for g in backward_pass(expression_graph(expression, x, y)[0]))
    grads = [np.nan] * len(graph.ops)
    grads[graph.root] = 1.0
    history = [(tuple(grads), None, ())]
    for node in reversed(order):  # backward_pass's loop, one state kept per operation
        inputs = graph.parents[node]
        if not inputs:
            continue
        gradient = 0.0 if np.isnan(grads[node]) else grads[node]
        passed = tuple(float(g) for g in chain_rule(
            graph.ops[node], gradient, tuple(graph.values[i] for i in inputs),
            graph.values[node], graph.attributes[node]))
        for parent, g in zip(inputs, passed):
            grads[parent] = g if np.isnan(grads[parent]) else grads[parent] + g
        history.append((tuple(grads), node, passed))
    return local, order, tuple(history), final


def _is_topological(order, parents):
    """Does ``order`` list every node once, each after all of its inputs?"""
    seen = set()
    for node in order:
        if node in seen or not 0 <= node < len(parents) or not seen.issuperset(parents[node]):
            return False
        seen.add(node)
    return len(seen) == len(parents)


# ---------------------------------------------------------------- the drawing

FORWARD_COLOR, BACKWARD_COLOR, EDGE_COLOR = "black", "#cc0000", "#888a85"
FACES = {"leaf": "#dde6f3", "operation": "#eeeeec", "root": "#f7e1c8",
         "current": "#fcd975"}


def draw_graph(axes, view):
    """Boxes left to right, each with its name, value and gradient; arrows from inputs to
    operations, those of the step's operation in red.

    Each expression's boxes and arrows are made the first time it is shown, then shown or
    hidden; a move of a slider only changes texts and colours.
    """
    ax = axes[0]
    made = artists(ax)
    if not made:
        ax.set(xlim=XLIM, ylim=YLIM)
        ax.set_axis_off()
        static(ax.text(0.5, 0.0, "black: values (forward pass), red: gradients d f / d node "
                       "(backward pass)", ha="center", va="bottom", fontsize="small",
                       color="#555753", transform=ax.transAxes))
        made["graphs"], made["shown"] = {}, None
    expression = view["expression"]
    if expression not in made["graphs"]:
        made["graphs"][expression] = _make_graph(ax, view)
    if made["shown"] != expression:
        for name, graph in made["graphs"].items():
            for artist in graph["all"]:
                artist.set_visible(name == expression)
        made["shown"] = expression
    graph, current = made["graphs"][expression], view["current"]
    grads = view["grads"] if view["grads"] is not None else [np.nan] * len(view["names"])
    fed = set(view["parents"][current]) if current is not None else set()
    for node, (value, grad) in enumerate(zip(view["values"], grads)):
        graph["values"][node].set_text(f"value {value:.4g}")
        graph["grads"][node].set_text("" if np.isnan(grad) else f"grad {grad:.4g}")
        graph["grads"][node].set_fontweight("bold" if node in fed else "normal")
        box = graph["boxes"][node]
        box.set_facecolor(FACES["current"] if node == current else _face(view, node))
        box.set_linewidth(2.5 if node == current else 1.2)
        box.set_edgecolor(BACKWARD_COLOR if node == current else "#2e3436")
    for (_, end, _), arrow in zip(view["edges"], graph["arrows"]):
        arrow.set_color(BACKWARD_COLOR if end == current else EDGE_COLOR)
        arrow.set_linewidth(2.0 if end == current else 1.2)
        arrow.set_zorder(2 if end == current else 1)
    ax.set_title(_title(view), fontsize="medium")


def _make_graph(ax, view):
    """One expression's boxes, texts and arrows; its texts empty until ``draw_graph``."""
    graph = dict(boxes=[], values=[], grads=[], arrows=[])
    for _, _, points in view["edges"]:
        codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
        graph["arrows"].append(ax.add_patch(FancyArrowPatch(
            path=Path(points, codes), arrowstyle="-|>", mutation_scale=10, shrinkA=0,
            shrinkB=0, color=EDGE_COLOR, linewidth=1.2, zorder=1)))
    names = []
    for node, (cx, cy) in enumerate(view["positions"]):
        graph["boxes"].append(ax.add_patch(FancyBboxPatch(
            (cx - BOX_WIDTH / 2, cy - BOX_HEIGHT / 2), BOX_WIDTH, BOX_HEIGHT,
            boxstyle="round,pad=0,rounding_size=0.1", facecolor=_face(view, node),
            edgecolor="#2e3436", linewidth=1.2, zorder=3)))
        names.append(ax.text(cx, cy + 0.22, view["names"][node], ha="center",
                             va="center", fontsize="medium", zorder=4))
        graph["values"].append(ax.text(cx, cy, "", ha="center", va="center",
                                       color=FORWARD_COLOR, fontsize="small", zorder=4))
        graph["grads"].append(ax.text(cx, cy - 0.22, "", ha="center", va="center",
                                      color=BACKWARD_COLOR, fontsize="small", zorder=4))
    cx, cy = view["positions"][0]
    names.append(ax.text(cx, cy + BOX_HEIGHT / 2 + 0.06, "f", ha="center", va="bottom",
                         fontsize="medium", fontstyle="italic", zorder=4))
    graph["all"] = [*graph["arrows"], *graph["boxes"], *names, *graph["values"],
                    *graph["grads"]]
    return graph


def _face(view, node):
    if node == 0:
        return FACES["root"]
    return FACES["leaf"] if not view["parents"][node] else FACES["operation"]


def _title(view):
    """The formula with f's value, then what the step does (or what is missing)."""
    head = f"f(x, y) = {view['formula']};   f({view['x']:.2g}, {view['y']:.2g}) = " \
           f"{view['values'][0]:.4g}"
    if view["missing"] is not None:
        return f"{head}\n(the gradients need {missing_function(view['missing'])})"
    step, steps, current = view["step"], view["steps"], view["current"]
    if current is None:
        line = (f"step 0 of {steps}: the values of the forward pass; the backward pass "
                f"starts from d f / d f = 1")
    else:
        names, grad = view["names"], _passed_on(view)
        parts = [f"{grad:.4g} × {local:.4g} = {passed:.4g} to {names[p]}" for p, local, passed
                 in zip(view["parents"][current], view["local"][current], view["passed"])]
        line = f"step {step} of {steps}: {names[current]} passes " + ", ".join(parts)
    if not view["topological"]:
        line += "\n(topological_order's list is not a topological order)"
    elif not view["agrees"]:
        line += "\n(backward_pass returns other gradients than these steps)"
    return f"{head}\n{line}"


def _passed_on(view):
    """The gradient of the step's node when it was processed: what it passes on."""
    current = view["current"]
    grad = view["grads"][current]
    return 0.0 if np.isnan(grad) else float(grad)


def graph_explorer(expression="shared", x=2.0, y=-3.0, step=0):
    """A dropdown of expressions, sliders for x and y, and one for the backward pass's step.

    The step slider runs from 0 (the forward values) to the number of operations of the
    expression (the whole backward pass); choosing another expression keeps it at the
    end if it was there.
    """
    controls = {
        "expression": Dropdown(options=[(f"{name}: {e.formula.split(' with ')[0]}", name)
                                        for name, e in EXPRESSIONS.items()],
                               value=expression, description="f(x, y)"),
        "x": slider(x, -3.0, 3.0, 0.1, "x"),
        "y": slider(y, -3.0, 3.0, 0.1, "y"),
        "step": slider(step, 0, backward_steps(expression), 1, "backward step",
                       integer=True),
    }
    # observed before the explorer's own update, which then sees the new range
    controls["expression"].observe(functools.partial(_fit_steps, controls["step"]),
                                   names="value")
    return Explorer(graph_view, draw_graph, controls, figsize=(FIGURE_WIDTH, 4.3),
                    active=_active)


def _fit_steps(step, change):
    """Give the step slider the new expression's range, kept at its end if it was there."""
    at_end = step.value == step.max
    step.max = backward_steps(change["new"])
    if at_end:
        step.value = step.max


def _active(**values):
    """Every control; not the step while the backward pass needs an exercise not done."""
    names = set(values)
    return names if graph_view(**values)["missing"] is None else names - {"step"}
