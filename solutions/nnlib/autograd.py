"""Reverse-mode automatic differentiation: backpropagation on a graph (notebook 9).

Notebook 5 wrote backpropagation by hand, layer by layer, in matrix form. Here the same
chain rule runs on a *computation graph*: every operation records its inputs, and one
backward pass over the graph gives the gradient of its output with respect to every node.

A graph is plain data, a ``Graph`` of four lists indexed by node: the name of each node's
operation, the indices of its inputs, its value and its constant (a power's exponent). The
student writes what the chain rule needs from it:

- ``local_derivatives``: for each operation, the derivative of its output with respect to
  each input (Exercise 9.1);
- ``topological_order``: the nodes in an order where every node comes after its inputs
  (Exercise 9.2);
- ``backward_pass``: the gradients of every node, from the output back (Exercise 9.3);
- ``scalar_gradients`` and ``tensor_gradients``: a network's gradients, computed with each
  engine (Exercises 9.5 and 9.9);
- ``unbroadcast`` and ``array_vjp``: what arrays add to it (Exercises 9.7 and 9.8).

Two provided classes record graphs as they compute, through Python's operators: ``Value``
holds one number (a scalar engine in the spirit of Karpathy's micrograd), ``Tensor`` one
array. Their ``backward()`` hands the recorded ``Graph`` to ``backward_pass`` and stores each
node's gradient in its ``grad``. What the student writes takes and returns plain data only
(numbers, arrays, lists, a ``Graph``), never a ``Value``: the grader can then run it in its
sandbox and send the graph there and the gradients back as data.
"""

import collections
import inspect
import itertools
import numbers
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, unknown_name_error
from .activations import ACTIVATIONS, leaky_relu
from .backprop import check_loss_fits
from .losses import LOSSES, get_loss
from .network import check_network

# ---------------------------------------------------------------- the graph


class Graph(NamedTuple):
    """A computation graph as plain data; node ``i`` is described by entry ``i`` of each list.

    Attributes
    ----------
    ops : list of str
        The operation that made each node: ``"input"`` for a leaf (a number given, not
        computed), else a name of ``OPS``.
    parents : list of tuple of int
        The indices of each node's inputs, in the operation's order (``()`` for a leaf).
    values : list of float or ndarray
        Each node's value.
    attributes : list
        Each node's constant, None for most operations: the exponent of ``"pow"``, the
        one-hot targets of ``"softmax_cross_entropy"``.
    root : int
        The node whose gradient is taken: ``backward_pass`` differentiates it.
    """

    ops: list
    parents: list
    values: list
    attributes: list
    root: int


# name: (number of inputs, forward), the forward taking the inputs' values and the attribute
OPS = {
    "add": (2, lambda a, b, k: a + b),
    "mul": (2, lambda a, b, k: a * b),
    "pow": (1, lambda a, k: a ** k),
    "exp": (1, lambda a, k: np.exp(a)),
    "log": (1, lambda a, k: np.log(a)),
    "tanh": (1, lambda a, k: np.tanh(a)),
    "sigmoid": (1, lambda a, k: np.exp(-np.logaddexp(0.0, -a))),  # no overflow, as notebook 2
    "relu": (1, lambda a, k: np.maximum(a, 0.0)),
    # array operations (Tensor only): their chain rule is array_vjp's
    "matmul": (2, lambda a, b, k: a @ b),
    "sum": (1, lambda a, k: np.sum(a)),
    "softmax_cross_entropy": (1, lambda a, k: _softmax_cross_entropy(a, k)),
}
ARRAY_OPS = ("matmul", "sum", "softmax_cross_entropy")


def _softmax_cross_entropy(logits, targets):
    """The mean over rows of ``-sum(targets * log softmax(logits))``, in the stable form."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(targets * log_p) / len(logits)


# ---------------------------------------------------------------- the chain rule


def local_derivatives(op, inputs, output, attribute=None):
    """The derivative of one operation's output with respect to each of its inputs.

    Parameters
    ----------
    op : str
        One of ``"add"``, ``"mul"``, ``"pow"``, ``"exp"``, ``"log"``, ``"tanh"``,
        ``"sigmoid"``, ``"relu"``.
    inputs : tuple of float (or ndarrays of one shape, entry by entry)
        The values of the operation's inputs, in order: ``(a, b)`` or ``(a,)``.
    output : float (or ndarray)
        The operation's output, computed from them (``OPS[op]``): several derivatives are
        simplest written with it.
    attribute : float, optional
        The exponent ``k`` of ``"pow"`` (the output is ``a ** k``).

    Returns
    -------
    tuple
        One derivative per input, in order: ``d output / d a`` (and ``d output / d b``).
        For ``relu``, the derivative at 0 is 0 (as ``relu_derivative`` of notebook 2).

    Examples
    --------
    ``local_derivatives("mul", (2.0, 3.0), 6.0)`` is ``(3.0, 2.0)``: the output ``a * b``
    changes by ``b`` per unit of ``a`` and by ``a`` per unit of ``b``.
    """
    if op in ARRAY_OPS:
        raise ValueError(f"{op!r} is an array operation: its rule is array_vjp's, not a local "
                         f"derivative")
    if op not in OPS:
        raise unknown_name_error("scalar operation", op, [o for o in OPS if o not in ARRAY_OPS])
    ### BEGIN SOLUTION Exercise 9.1: implement local_derivatives
    if op == "add":
        return (1.0, 1.0)
    if op == "mul":
        a, b = inputs
        return (b, a)
    (a,) = inputs
    if op == "pow":
        return (attribute * a ** (attribute - 1),)
    if op == "exp":
        return (output,)
    if op == "log":
        return (1.0 / a,)
    if op == "tanh":
        return (1.0 - output ** 2,)
    if op == "sigmoid":
        return (output * (1.0 - output),)
    return (np.where(a > 0, 1.0, 0.0) if np.ndim(a) else float(a > 0),)  # relu
    ### END SOLUTION


def topological_order(parents, root):
    """The nodes the root depends on, each listed after all of its inputs.

    Parameters
    ----------
    parents : list of tuple of int
        ``parents[i]``: the indices of node ``i``'s inputs (``()`` for a leaf); a node may
        be the input of several others, and of one operation twice (``x * x``).
    root : int
        The node to start from.

    Returns
    -------
    list of int
        Every node reachable from ``root`` through ``parents`` (``root`` included), each
        exactly once, every node after all of its inputs; so ``root`` comes last. Nodes
        the root does not depend on are left out.

    Examples
    --------
    For ``parents = [(1, 2), (2,), ()]`` (node 0 uses nodes 1 and 2, node 1 uses node 2),
    the only such order is ``[2, 1, 0]``.
    """
    parents = [tuple(int(p) for p in entry) for entry in parents]
    for node in [root, *(p for entry in parents for p in entry)]:
        if isinstance(node, bool) or not isinstance(node, (int, np.integer)) \
                or not 0 <= node < len(parents):
            raise ValueError(f"every node index (the root, and every input in parents) must "
                             f"be an integer from 0 to {len(parents) - 1}, got {node!r}")
    ### BEGIN SOLUTION Exercise 9.2: implement topological_order
    order, done = [], set()
    stack = [(root, False)]
    while stack:  # depth first; a node is listed once all of its inputs are
        node, inputs_listed = stack.pop()
        if inputs_listed and node not in done:
            done.add(node)
            order.append(node)
        elif node not in done:
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(parents[node])
                         if parent not in done)
    return order
    ### END SOLUTION


def chain_rule(op, grad, inputs, output, attribute=None):
    """The gradients an operation passes to its inputs, from the gradient of its output.

    Provided: the vector-Jacobian product of notebook 5's backward step. For the
    operations of ``local_derivatives`` it multiplies ``grad`` by each local derivative,
    and sums the result back to the input's shape where numpy broadcast the input
    (``unbroadcast``, needed by arrays only); the array operations have their own rule
    (``array_vjp``).

    Returns
    -------
    tuple
        One gradient per input, each of that input's shape.
    """
    if op in ARRAY_OPS:
        return array_vjp(op, grad, inputs, output, attribute)
    shares = []
    for local, value in zip(local_derivatives(op, inputs, output, attribute), inputs):
        share = grad * local
        broadcast = np.shape(share) != np.shape(value)
        shares.append(unbroadcast(share, np.shape(value)) if broadcast else share)
    return tuple(shares)


def backward_pass(graph):
    """The gradient of the graph's root with respect to every node.

    Parameters
    ----------
    graph : Graph

    Returns
    -------
    list
        Entry ``i`` is ``d root / d node_i``, of the shape of ``graph.values[i]`` (a float
        for a number): 1 for the root itself, 0 for a node the root does not depend on.

    Notes
    -----
    Go through the nodes of ``topological_order`` backwards, from the root; each node
    passes its gradient to its inputs with ``chain_rule(op, grad, inputs, output,
    attribute)``. A node that is the input of several operations receives a gradient from
    each of them: they add up.
    """
    if not isinstance(graph, tuple) or len(graph) != len(Graph._fields):
        raise TypeError(f"graph must be a Graph, got {type(graph).__name__}")
    graph = Graph(*graph)
    n = len(graph.ops)
    if not (len(graph.parents) == len(graph.values) == len(graph.attributes) == n):
        raise ValueError(f"a Graph's four lists must have one entry per node: got "
                         f"{n} ops, {len(graph.parents)} parents, {len(graph.values)} values "
                         f"and {len(graph.attributes)} attributes")
    ### BEGIN SOLUTION Exercise 9.3: implement backward_pass
    grads = [np.zeros_like(value) if np.ndim(value) else 0.0 for value in graph.values]
    grads[graph.root] = np.ones_like(graph.values[graph.root]) \
        if np.ndim(graph.values[graph.root]) else 1.0
    for node in reversed(topological_order(graph.parents, graph.root)):
        inputs = graph.parents[node]
        if inputs:  # a leaf passes nothing on
            passed = chain_rule(graph.ops[node], grads[node],
                                tuple(graph.values[i] for i in inputs), graph.values[node],
                                graph.attributes[node])
            for parent, grad in zip(inputs, passed):
                grads[parent] = grads[parent] + grad
    return grads
    ### END SOLUTION


# ---------------------------------------------------------------- arrays


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the gradient of an input that numpy broadcast.

    When ``a`` of shape ``(H,)`` is added to ``Z`` of shape ``(N, H)``, numpy repeats it
    along a new first axis; every copy receives its own gradient, and ``a``'s gradient is
    their sum. In general: sum over the axes ``grad`` has in front of ``shape``, and over
    every axis where ``shape`` has 1 (keeping it).

    Parameters
    ----------
    grad : float or ndarray
        The gradient of the broadcast result.
    shape : tuple of int
        The input's shape; ``()`` for a number (then every entry of ``grad`` is summed,
        and a float is returned).

    Returns
    -------
    float or ndarray of shape ``shape``

    Examples
    --------
    ``unbroadcast(np.ones((4, 3)), (3,))`` is ``[4., 4., 4.]``;
    ``unbroadcast(np.ones((4, 3)), (4, 1))`` is ``[[3.], [3.], [3.], [3.]]``.
    """
    shape = tuple(int(n) for n in shape)
    try:
        fits = np.broadcast_shapes(shape, np.shape(grad)) == np.shape(grad)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"a gradient of shape {np.shape(grad)} cannot come from broadcasting "
                         f"an input of shape {shape}")
    ### BEGIN SOLUTION Exercise 9.7: implement unbroadcast
    grad = np.asarray(grad, dtype=np.float64)
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    kept = tuple(axis for axis, n in enumerate(shape) if n == 1 and grad.shape[axis] != 1)
    grad = grad.sum(axis=kept, keepdims=True) if kept else grad
    return float(grad) if shape == () else grad.reshape(shape).copy()
    ### END SOLUTION


def array_vjp(op, grad, inputs, output, attribute=None):
    """The chain rule of the array operations: the gradient of each input.

    Parameters
    ----------
    op : {"matmul", "sum", "softmax_cross_entropy"}
    grad : ndarray or float
        The gradient of the output (a float for ``sum`` and the loss, whose output is a
        number; an array of the output's shape for ``matmul``).
    inputs : tuple of ndarray
        ``(A, B)`` for ``matmul`` (the output is ``A @ B``, shapes ``(N, K)`` and
        ``(K, M)``); ``(A,)`` for ``sum`` (the output is the sum of every entry) and for
        ``softmax_cross_entropy`` (``A`` the logits, shape ``(N, C)``).
    output : ndarray or float
    attribute : ndarray, optional
        The one-hot targets ``Y`` (N, C) of ``softmax_cross_entropy``, whose output is the
        mean over the N rows of ``-sum_c Y log softmax(A)``.

    Returns
    -------
    tuple of ndarray
        One gradient per input, of its shape.
    """
    if op not in ARRAY_OPS:
        raise unknown_name_error("array operation", op, ARRAY_OPS)
    ### BEGIN SOLUTION Exercise 9.8: implement array_vjp
    if op == "matmul":
        a, b = inputs
        return (grad @ b.T, a.T @ grad)
    (a,) = inputs
    if op == "sum":
        return (grad * np.ones_like(a),)
    shifted = np.exp(a - a.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    return (grad * (probabilities - attribute) / len(a),)
    ### END SOLUTION


# ---------------------------------------------------------------- the recording classes

_created = itertools.count()


class _Node:
    """What ``Value`` and ``Tensor`` share: recording the graph, and ``backward``."""

    __slots__ = ("data", "grad", "op", "inputs", "attribute", "label", "_id")
    __array_ufunc__ = None  # an array on the left (Y - A) defers to the node's operators

    def __init__(self, data, op="input", inputs=(), attribute=None, label=""):
        self.data, self.op, self.inputs, self.attribute = data, op, tuple(inputs), attribute
        self.grad, self.label, self._id = None, label, next(_created)

    def _apply(self, op, *others, attribute=None):
        nodes = (self, *(other if isinstance(other, type(self)) else type(self)(other)
                         for other in others))
        _, forward = OPS[op]
        return type(self)(forward(*(node.data for node in nodes), attribute), op, nodes,
                          attribute)

    def graph(self):
        """This node's graph, as plain data: ``(Graph, nodes)``, ``nodes[i]`` the node of
        index ``i``; the root, this node, is index 0, the others in the order a search
        from it meets them (not a topological order)."""
        nodes, index, queue = [], {}, collections.deque([self])
        while queue:
            node = queue.popleft()
            if node._id in index:
                continue
            index[node._id] = len(nodes)
            nodes.append(node)
            queue.extend(node.inputs)
        graph = Graph(ops=[n.op for n in nodes],
                      parents=[tuple(index[i._id] for i in n.inputs) for n in nodes],
                      values=[n.data for n in nodes], attributes=[n.attribute for n in nodes],
                      root=0)
        return graph, nodes

    def backward(self):
        """Fill the ``grad`` of every node of this graph with ``d self / d node``
        (``backward_pass``)."""
        graph, nodes = self.graph()
        for node, grad in zip(nodes, backward_pass(graph)):
            node.grad = grad

    # operators: each builds one node, or a few from these primitives (micrograd's way)
    def __add__(self, other):
        return self._apply("add", other)

    def __mul__(self, other):
        return self._apply("mul", other)

    def __pow__(self, k):
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            raise TypeError(f"only a constant number can be an exponent, got {type(k).__name__}")
        return self._apply("pow", attribute=float(k))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, type(self)) else -np.asarray(other))

    def __truediv__(self, other):
        return self * (other ** -1.0 if isinstance(other, type(self)) else 1.0 / other)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return (-self) + other

    def __rtruediv__(self, other):
        return self ** -1.0 * other

    def exp(self):
        return self._apply("exp")

    def log(self):
        return self._apply("log")

    def tanh(self):
        return self._apply("tanh")

    def sigmoid(self):
        return self._apply("sigmoid")

    def relu(self):
        return self._apply("relu")


class Value(_Node):
    """One number that records the operations made with it (the scalar engine).

    ``Value(2.0) * Value(3.0) + 1`` is a ``Value`` of 7.0 whose graph holds the inputs, the
    product and the sum; ``.backward()`` then sets every ``.grad``. Numbers mixed in
    (``+ 1``) become leaves of their own.

    Parameters
    ----------
    data : float
    label : str, optional
        A name for drawings of the graph.
    """

    __slots__ = ()

    def __init__(self, data, op="input", inputs=(), attribute=None, label=""):
        if isinstance(data, _Node):
            raise TypeError(f"Value(...) takes a number, not a {type(data).__name__} (a Value "
                            f"and a Tensor do not mix)")
        super().__init__(float(data), op, inputs, attribute, label)

    def __repr__(self):
        grad = "" if self.grad is None else f", grad={self.grad:.6g}"
        return f"Value({self.data:.6g}{grad})"


class Tensor(_Node):
    """An array that records the operations made with it (the array engine).

    The operators work entry by entry, with numpy's broadcasting (``Z + b`` with ``b`` of
    shape ``(H,)``), and ``A @ B`` is the matrix product; ``.sum()`` adds every entry and
    ``.softmax_cross_entropy(Y)`` is the loss of notebook 4 (a number).

    Parameters
    ----------
    data : array_like
    label : str, optional
    """

    __slots__ = ()

    def __init__(self, data, op="input", inputs=(), attribute=None, label=""):
        if isinstance(data, _Node):
            raise TypeError(f"Tensor(...) takes an array, not a {type(data).__name__} (a Value "
                            f"and a Tensor do not mix)")
        data = np.asarray(data, dtype=np.float64) if op != "input" else \
            as_float_array(data, "data")
        super().__init__(data, op, inputs, attribute, label)

    def __matmul__(self, other):
        return self._apply("matmul", other)

    def sum(self):
        return self._apply("sum")

    def softmax_cross_entropy(self, targets):
        targets = as_float_array(targets, "targets", ndim=2)
        if targets.shape != np.shape(self.data):
            raise ValueError(f"targets have shape {targets.shape} but the logits have shape "
                             f"{np.shape(self.data)}; they must be the same")
        return self._apply("softmax_cross_entropy", attribute=targets)

    @property
    def shape(self):
        return np.shape(self.data)

    def __repr__(self):
        return f"Tensor(shape {self.shape})"


# ---------------------------------------------------------------- networks, two ways

# leaky ReLU's slope for z < 0, read from notebook 2's function: one definition
LEAKY_ALPHA = inspect.signature(leaky_relu).parameters["alpha"].default


def value_activation(name, row):
    """An activation of notebook 2 applied to one sample's weighted sums, as ``Value``s.

    Provided, from the operations of ``Value``: leaky ReLU is
    ``alpha * z + (1 - alpha) * relu(z)`` (with ``leaky_relu``'s default ``alpha``; its slope
    at 0 is ``alpha``, as ``leaky_relu_derivative``'s), softmax is
    ``exp(z - m) / sum(exp(z - m))`` with ``m`` the row's largest value (a constant: the
    shift changes no probability, so no gradient flows through it).

    Parameters
    ----------
    name : str
        A name of ``activations.ACTIVATIONS``.
    row : list of Value
        One sample's ``z``, one ``Value`` per unit.

    Returns
    -------
    list of Value
    """
    if name in ("sigmoid", "tanh", "relu"):
        return [getattr(z, name)() for z in row]
    if name == "identity":
        return list(row)
    if name == "leaky_relu":
        return [LEAKY_ALPHA * z + (1.0 - LEAKY_ALPHA) * z.relu() for z in row]
    if name == "softmax":
        top = max(z.data for z in row)
        shifted = [(z - top).exp() for z in row]
        total = _sum(shifted)
        return [e / total for e in shifted]
    raise unknown_name_error("activation", name, ACTIVATIONS)


def value_loss(name, logits, outputs, targets):
    """A loss of notebook 4 over a batch, as one ``Value``.

    Provided. The losses that take logits (``Loss.takes_logits``) read ``logits``, the
    others ``outputs``; each is a list of rows of ``Value`` (one row per sample). As in
    notebook 4, the loss is the sum over a sample's outputs, averaged over the samples.
    Binary cross-entropy takes the logarithms of the probabilities as they are: unlike
    nnlib's, which clips them, a probability of exactly 0 or 1 gives an infinite loss.

    Parameters
    ----------
    name : str
        A name of ``losses.LOSSES``.
    logits, outputs : list of list of Value
        The output layer's weighted sums ``Z`` and activations ``A``, shape (N, C).
    targets : array_like, shape (N, C)

    Returns
    -------
    Value
    """
    targets = as_float_array(targets, "targets", ndim=2)
    n = len(targets)
    if name == "mse":
        terms = [(a - y) ** 2 for row, ys in zip(outputs, targets) for a, y in zip(row, ys)]
    elif name == "binary_cross_entropy":
        terms = [-(y * a.log() + (1.0 - y) * (1.0 - a).log())
                 for row, ys in zip(outputs, targets) for a, y in zip(row, ys)]
    elif name == "sigmoid_cross_entropy":
        # y softplus(-z) + (1 - y) softplus(z), softplus(z) = log(1 + e^z) in the stable form
        # relu(z) + log(1 + e^-|z|) of notebook 4 (|z| = relu(z) + relu(-z))
        terms = [y * _softplus(-z) + (1.0 - y) * _softplus(z)
                 for row, ys in zip(logits, targets) for z, y in zip(row, ys)]
    elif name == "softmax_cross_entropy":
        terms = []
        for row, ys in zip(logits, targets):
            top = max(z.data for z in row)
            log_total = _sum([(z - top).exp() for z in row]).log()
            terms += [y * (log_total - (z - top)) for z, y in zip(row, ys)]
    else:
        raise unknown_name_error("loss", name, LOSSES)
    return _sum(terms) / n


def _softplus(z):
    """``log(1 + e^z)`` of a ``Value``, with no overflow for large ``|z|``."""
    return z.relu() + ((-(z.relu() + (-z).relu())).exp() + 1.0).log()


def _sum(values):
    """The sum of a list of ``Value``s, added in pairs: a graph of depth log2(len)."""
    values = list(values)
    while len(values) > 1:
        values = [values[i] + values[i + 1] if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


class Gradients(NamedTuple):
    """What the network functions return; unpacks as ``dW, db`` like ``backpropagation``."""

    dW: list
    db: list


def scalar_gradients(X, Y, weights, biases, activations, loss):
    """``backpropagation``'s gradients, computed by the scalar engine (``Value``).

    Make a ``Value`` of every weight and bias, compute the loss of the batch with them, one
    number at a time (for every sample and layer, ``z_j = sum_k W_jk a_k + b_j`` and
    ``value_activation`` of the row; then ``value_loss``), call ``backward()`` on it, and
    read each weight's and bias's ``grad``.

    Parameters
    ----------
    X, Y, weights, biases, activations, loss
        As in ``backprop.backpropagation``.

    Returns
    -------
    Gradients
        ``(dW, db)``: lists of arrays shaped like ``weights`` and ``biases``, as
        ``backpropagation`` returns.
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    loss_function = get_loss(loss)
    check_loss_fits(loss_function, funcs[-1])
    Y = as_float_array(Y, "Y", ndim=2)
    if Y.shape != (len(X), len(biases[-1])):
        raise ValueError(f"Y has shape {Y.shape} but the network's output has shape "
                         f"{(len(X), len(biases[-1]))}; they must be the same")
    ### BEGIN SOLUTION Exercise 9.5: implement scalar_gradients
    W = [[[Value(w) for w in row] for row in matrix] for matrix in weights]
    b = [[Value(v) for v in vector] for vector in biases]
    logits, outputs = [], []
    for x in X:
        a = [Value(v) for v in x]
        for W_layer, b_layer, name in zip(W, b, activations):
            z = [_sum([w * v for w, v in zip(row, a)]) + bias
                 for row, bias in zip(W_layer, b_layer)]
            a = value_activation(name, z)
        logits.append(z)
        outputs.append(a)
    total = value_loss(loss_function.name, logits, outputs, Y)
    total.backward()
    dW = [np.array([[w.grad for w in row] for row in matrix]) for matrix in W]
    db = [np.array([v.grad for v in vector]) for vector in b]
    return Gradients(dW, db)
    ### END SOLUTION


def tensor_activation(name, Z):
    """An element-wise activation of notebook 2 applied to a ``Tensor`` (provided).

    Softmax is not element-wise: the array engine has it only inside the loss
    ``softmax_cross_entropy``.
    """
    if name in ("sigmoid", "tanh", "relu"):
        return getattr(Z, name)()
    if name == "identity":
        return Z
    if name == "leaky_relu":
        return LEAKY_ALPHA * Z + (1.0 - LEAKY_ALPHA) * Z.relu()
    elementwise = ", ".join(n for n, a in ACTIVATIONS.items() if a.elementwise)
    raise ValueError(f"the array engine has no activation {name!r}; it has {elementwise} "
                     f"(softmax only within the loss softmax_cross_entropy)")


TENSOR_LOSSES = ("mse", "softmax_cross_entropy")


def tensor_gradients(X, Y, weights, biases, activations, loss):
    """``backpropagation``'s gradients, computed by the array engine (``Tensor``).

    The same computation as ``scalar_gradients`` with one ``Tensor`` per weight matrix and
    bias vector and one per layer's batch of values: ``Z = A @ W.T + b`` (a ``Tensor`` has
    no transpose: make the ``Tensor`` of ``W.T`` and take its gradient's transpose), then
    ``tensor_activation``; the loss is ``((A - Y) ** 2).sum() / N`` for ``"mse"``, and
    ``Z.softmax_cross_entropy(Y)`` of the last layer's ``Z`` for
    ``"softmax_cross_entropy"``.

    Parameters
    ----------
    X, Y, weights, biases, activations, loss
        As in ``backprop.backpropagation``, with a loss of ``TENSOR_LOSSES``.

    Returns
    -------
    Gradients
    """
    X, weights, biases, funcs = check_network(X, weights, biases, activations)
    loss_function = get_loss(loss)
    check_loss_fits(loss_function, funcs[-1])
    if loss_function.name not in TENSOR_LOSSES:
        raise ValueError(f"the array engine has the losses {', '.join(TENSOR_LOSSES)}, "
                         f"not {loss_function.name!r}")
    Y = as_float_array(Y, "Y", ndim=2)
    if Y.shape != (len(X), len(biases[-1])):
        raise ValueError(f"Y has shape {Y.shape} but the network's output has shape "
                         f"{(len(X), len(biases[-1]))}; they must be the same")
    ### BEGIN SOLUTION Exercise 9.9: implement tensor_gradients
    W_T = [Tensor(W.T) for W in weights]
    b = [Tensor(v) for v in biases]
    A = Tensor(X)
    for layer, (W, bias, name) in enumerate(zip(W_T, b, activations), start=1):
        Z = A @ W + bias
        if layer < len(weights) or loss_function.name == "mse":
            A = tensor_activation(name, Z)
    total = (((A - Y) ** 2).sum() / len(X) if loss_function.name == "mse"
             else Z.softmax_cross_entropy(Y))
    total.backward()
    return Gradients([W.grad.T for W in W_T], [v.grad for v in b])
    ### END SOLUTION


__all__ = ["ARRAY_OPS", "Gradients", "Graph", "OPS", "TENSOR_LOSSES", "Tensor", "Value",
           "array_vjp", "backward_pass", "chain_rule", "local_derivatives", "scalar_gradients",
           "tensor_activation", "tensor_gradients", "topological_order", "unbroadcast",
           "value_activation", "value_loss"]
