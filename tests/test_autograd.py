"""Tests for nnlib.autograd: reverse-mode automatic differentiation on a graph (notebook 9)."""

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from numpy.testing import assert_allclose, assert_array_equal

from nnlib import network
from nnlib.activations import ACTIVATIONS
from nnlib.autograd import (
    ARRAY_OPS,
    OPS,
    TENSOR_LOSSES,
    Graph,
    Tensor,
    Value,
    array_vjp,
    backward_pass,
    chain_rule,
    local_derivatives,
    scalar_gradients,
    tensor_activation,
    tensor_gradients,
    topological_order,
    unbroadcast,
    value_activation,
    value_loss,
)
from nnlib.backprop import backpropagation, loss_value
from nnlib.gradcheck import _numerical_gradient as numerical_gradient
from nnlib.gradcheck import check_gradient
from nnlib.losses import LOSSES

SCALAR_OPS = [op for op in OPS if op not in ARRAY_OPS]
HIDDEN = [name for name, activation in ACTIVATIONS.items() if activation.elementwise]
# every (hidden activation, output activation, loss) the course allows: Loss.fits decides
COMBINATIONS = [(hidden, output, loss) for loss, fitting in LOSSES.items()
                for output in ACTIVATIONS if fitting.fits(output) for hidden in HIDDEN]
# the array engine: element-wise activations, or the one its loss folds in (softmax)
TENSOR_COMBINATIONS = [(hidden, output, loss) for hidden, output, loss in COMBINATIONS
                       if loss in TENSOR_LOSSES and (ACTIVATIONS[output].elementwise
                                                     or LOSSES[loss].output_activation == output)]


def targets_for(loss, n_samples, n_out, rng):
    """Targets a loss accepts: one-hot rows for a softmax loss, 0/1 for the other
    cross-entropies (a bounded prediction range or a folded sigmoid), real numbers for mse."""
    loss = LOSSES[loss]
    if loss.output_activation == "softmax":
        return np.eye(n_out)[rng.integers(0, n_out, size=n_samples)]
    if loss.output_activation is not None or np.isfinite(loss.prediction_range).any():
        return rng.integers(0, 2, size=(n_samples, n_out)).astype(float)
    return rng.normal(size=(n_samples, n_out))


def small_network(hidden, output, loss, seed=0, sizes=(3, 4, 3, 2), n_samples=4):
    """A small random network (two hidden layers), a batch and targets suited to ``loss``."""
    rng = np.random.default_rng(seed)
    weights, _ = network.init_params(list(sizes), seed=seed)
    biases = [rng.normal(scale=0.5, size=n) for n in sizes[1:]]
    X = rng.normal(size=(n_samples, sizes[0]))
    Y = targets_for(loss, n_samples, sizes[-1], rng)
    return X, Y, weights, biases, [hidden] * (len(sizes) - 2) + [output]


def ancestors(parents, root):
    """The nodes ``root`` depends on, itself included (the set, not an order)."""
    reached, todo = set(), [root]
    while todo:
        node = todo.pop()
        if node not in reached:
            reached.add(node)
            todo.extend(parents[node])
    return reached


def assert_topological(order, parents, root):
    """Is ``order`` every node the root depends on, once each, each after its inputs?"""
    assert sorted(order) == sorted(ancestors(parents, root)), order
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(position[p] < position[node] for p in parents[node]), (node, order)
    assert order[-1] == root


# ---------------------------------------------------------------- local_derivatives


@pytest.mark.parametrize(("op", "inputs", "output", "attribute", "expected"), [
    ("add", (2.0, -3.0), -1.0, None, (1.0, 1.0)),
    ("mul", (2.0, -3.0), -6.0, None, (-3.0, 2.0)),       # d(ab)/da = b, d(ab)/db = a
    ("pow", (3.0,), 9.0, 2.0, (6.0,)),                   # 2 * 3^1
    ("pow", (2.0,), 0.5, -1.0, (-0.25,)),                # -1 * 2^-2
    ("pow", (4.0,), 2.0, 0.5, (0.25,)),                  # 0.5 * 4^-0.5 = 0.5 / 2
    ("exp", (math.log(2.0),), 2.0, None, (2.0,)),        # e^z itself
    ("log", (4.0,), math.log(4.0), None, (0.25,)),       # 1 / 4
    ("tanh", (math.log(2.0),), 0.6, None, (0.64,)),      # tanh(ln 2) = 1.5/2.5; 1 - 0.36
    ("sigmoid", (math.log(3.0),), 0.75, None, (0.1875,)),  # 0.75 * 0.25
    ("relu", (2.0,), 2.0, None, (1.0,)),
    ("relu", (-2.0,), 0.0, None, (0.0,)),
    ("relu", (0.0,), 0.0, None, (0.0,)),                 # the kink: 0, as relu_derivative
])
def test_local_derivatives_hand_worked(op, inputs, output, attribute, expected):
    """Does each scalar operation give the derivatives worked out by hand?"""
    got = local_derivatives(op, inputs, output, attribute)
    assert isinstance(got, tuple) and len(got) == len(expected)
    assert_allclose(got, expected, rtol=1e-12, atol=0)


# points inside every operation's domain (log needs a > 0), away from relu's kink
POINTS = [(0.7, -1.3), (1.9, 0.4)]


@pytest.mark.parametrize("op", SCALAR_OPS)
@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("exponent", [3.0, -1.5])
def test_local_derivatives_agree_with_central_differences_of_the_forward(op, point, exponent):
    """For every scalar operation of OPS, is each local derivative the central difference of
    the operation's own forward, to 1e-8?"""
    arity, forward = OPS[op]
    inputs = point[:arity]
    output = forward(*inputs, exponent)
    got = local_derivatives(op, inputs, output, exponent)
    numerical = numerical_gradient(lambda v: forward(*v, exponent), np.array(inputs))
    assert_allclose(got, numerical, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("op", SCALAR_OPS)
def test_local_derivatives_work_entry_by_entry_on_arrays(op):
    """Given arrays of one shape, is every entry the derivative at that entry's numbers?"""
    rng = np.random.default_rng(91)
    arity, forward = OPS[op]
    inputs = tuple(rng.uniform(0.2, 2.0, size=(2, 3)) * rng.choice([-1, 1], size=(2, 3))
                   for _ in range(arity))
    if op == "log":
        inputs = tuple(np.abs(a) for a in inputs)
    output = forward(*inputs, 2.0)
    got = local_derivatives(op, inputs, output, 2.0)
    for index in np.ndindex(2, 3):
        numbers = tuple(a[index] for a in inputs)
        one = local_derivatives(op, numbers, forward(*numbers, 2.0), 2.0)
        for array, number in zip(got, one):
            assert np.broadcast_to(array, (2, 3))[index] == pytest.approx(number, rel=1e-14)


def test_relu_derivative_is_0_at_0_in_arrays_too():
    """Is relu's derivative 0 at 0, 1 above and 0 below, entry by entry?"""
    z = np.array([-1.0, 0.0, 2.0])
    (got,) = local_derivatives("relu", (z,), np.maximum(z, 0.0))
    assert_array_equal(got, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("op", ["sqrt", "input"])
def test_an_unknown_operation_lists_the_scalar_ones(op):
    """Is an unknown operation refused, naming every scalar operation?"""
    with pytest.raises(ValueError, match=f"unknown scalar operation '{op}'") as error:
        local_derivatives(op, (1.0,), 1.0)
    message = str(error.value)
    assert all(f"'{name}'" in message for name in SCALAR_OPS)
    assert not any(f"'{name}'" in message.split(";")[1] for name in ARRAY_OPS)


# ---------------------------------------------------------------- topological_order


def test_topological_order_docstring_example():
    """Is [(1, 2), (2,), ()] from node 0 ordered [2, 1, 0], the only valid order?"""
    assert topological_order([(1, 2), (2,), ()], 0) == [2, 1, 0]


def test_a_diamond_lists_the_shared_node_once_before_both_users():
    """Node 0 uses 1 and 2, which both use 3: is 3 listed once, first, and 0 last?"""
    order = topological_order([(1, 2), (3,), (3,), ()], 0)
    assert len(order) == 4
    assert order[0] == 3 and order[-1] == 0 and sorted(order[1:3]) == [1, 2]


def test_the_same_parent_twice_is_listed_once():
    """For x * x (node 0 uses node 1 twice), is the order [1, 0]?"""
    assert topological_order([(1, 1), ()], 0) == [1, 0]


def test_nodes_the_root_does_not_depend_on_are_left_out():
    """Are a node that uses the root (2) and a node apart (3) both left out?"""
    assert topological_order([(1,), (), (0,), ()], 0) == [1, 0]
    assert topological_order([(), (0,)], 0) == [0]  # a leaf root is its own order


def test_an_order_is_right_whatever_order_the_nodes_are_listed_in():
    """With the root listed first and its inputs after it (as Value.graph() lists them), and
    with the nodes shuffled, is every node still after its inputs?"""
    # listed from the root: 0 = 1 + 2, 1 = 2 * 3, 2 = 3 + 4, leaves 3 and 4
    parents = [(1, 2), (2, 3), (3, 4), (), ()]
    order = topological_order(parents, 0)
    assert_topological(order, parents, 0)
    assert order[:3] in ([3, 4, 2], [4, 3, 2]) and order[3:] == [1, 0]
    # listed in no order: 1 = 3 + 2 (the root), 3 = 2 + 0, 2 = 0 * 4, leaves 0 and 4
    shuffled = [(), (3, 2), (0, 4), (2, 0), ()]
    assert_topological(topological_order(shuffled, 1), shuffled, 1)


def test_the_graph_a_value_records_is_ordered():
    """Value.graph() lists the root first and c = a * b before c * 2, which uses it: is the
    order still every node after its inputs?"""
    a, b = Value(2.0), Value(5.0)
    c = a * b
    graph, nodes = (c + c * 2.0).graph()
    # breadth first from the root: 0 = c + 2c, 1 = c, 2 = 2c, 3 = a, 4 = b, 5 = the 2
    assert graph.parents == [(1, 2), (3, 4), (1, 5), (), (), ()]
    order = topological_order(graph.parents, graph.root)
    assert_topological(order, graph.parents, graph.root)
    assert order.index(2) < order.index(0) and order.index(1) < order.index(2)


def test_a_chain_deeper_than_the_recursion_limit_is_ordered():
    """Is a chain of more nodes than Python's recursion limit ordered, leaf first?"""
    n = sys.getrecursionlimit() + 100
    parents = [(i + 1,) for i in range(n - 1)] + [()]
    assert topological_order(parents, 0) == list(range(n - 1, -1, -1))


def test_a_root_outside_the_graph_is_refused():
    """Is root 3 of a graph of 3 nodes refused, naming the valid range?"""
    with pytest.raises(ValueError, match="must be an integer from 0 to 2, got 3"):
        topological_order([(), (), ()], 3)


@pytest.mark.parametrize("op", ARRAY_OPS)
def test_an_array_operation_is_sent_to_array_vjp(op):
    """Is an array operation refused by local_derivatives, saying whose rule it is?"""
    with pytest.raises(ValueError, match=f"'{op}' is an array operation: its rule is array_vjp"):
        local_derivatives(op, (1.0,), 1.0)


@pytest.mark.parametrize("parents", [[(-1,), ()], [(2,), ()]])
def test_an_input_outside_the_graph_is_refused(parents):
    """Is an input index outside the graph (negative, or too large) refused, not wrapped?"""
    with pytest.raises(ValueError, match="must be an integer from 0 to 1"):
        topological_order(parents, 0)


@st.composite
def dags(draw, max_nodes=12):
    """``(parents, root)`` of a random DAG whose nodes are labelled in a random order: the node
    made at step i takes up to 3 inputs (repeats allowed) among those made before it."""
    n = draw(st.integers(1, max_nodes))
    made = [draw(st.lists(st.integers(0, i - 1), max_size=3)) if i else [] for i in range(n)]
    labels = draw(st.permutations(range(n)))
    parents = [()] * n
    for step, inputs in enumerate(made):
        parents[labels[step]] = tuple(labels[i] for i in inputs)
    return parents, labels[draw(st.integers(0, n - 1))]


@settings(max_examples=200)
@given(dags())
def test_every_node_comes_after_its_inputs_in_random_graphs(graph):
    """In random DAGs listed in any order, is every node the root depends on listed once,
    after all of its inputs, with the root last, and nothing else listed?"""
    parents, root = graph
    assert_topological(topological_order(parents, root), parents, root)


# ---------------------------------------------------------------- backward_pass


def test_backward_pass_hand_worked_a_times_b_plus_a():
    """micrograd's classic a*b + a at a = 2, b = -3: do the two uses of a add up to -2?"""
    # nodes: 0 = a, 1 = b, 2 = a * b = -6, 3 = (a * b) + a = -4
    # da = b (through the product) + 1 (through the sum) = -3 + 1 = -2;  db = a = 2
    graph = Graph(ops=["input", "input", "mul", "add"], parents=[(), (), (0, 1), (2, 0)],
                  values=[2.0, -3.0, -6.0, -4.0], attributes=[None] * 4, root=3)
    assert_allclose(backward_pass(graph), [-2.0, 2.0, 1.0, 1.0], rtol=0, atol=1e-15)


def test_backward_pass_hand_worked_a_tanh_neuron():
    """For tanh(x w + b) with x w + b = ln 2, is every gradient 0.64 times the other factor?"""
    # tanh(ln 2) = 0.6, so d tanh / dn = 1 - 0.36 = 0.64
    # dx = 0.64 * w = 0.64 * 0.5 = 0.32;  dw = 0.64 * x = 1.28;  db = 0.64
    x, w, b = Value(2.0), Value(0.5), Value(math.log(2.0) - 1.0)
    out = (x * w + b).tanh()
    assert out.data == pytest.approx(0.6, rel=1e-14)
    out.backward()
    assert_allclose([x.grad, w.grad, b.grad, out.grad], [0.32, 1.28, 0.64, 1.0], rtol=1e-12)


def test_backward_pass_micrograd_sanity_check():
    """micrograd's own test at x = -4: is y = -20 and dy/dx = 46?"""
    # z = 2x + 2 + x = -10;  q = relu(z) + z x = 0 + 40;  h = relu(z z) = 100
    # y = h + q + q x = 100 + 40 - 160 = -20
    # dz/dx = 3; dh/dx = 2z * 3 = -60; dq/dx = (z x)' = 3x + z = -22 (relu'(-10) = 0)
    # dy/dx = dh/dx + (1 + x) dq/dx + q = -60 + (-3)(-22) + 40 = 46
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == pytest.approx(46.0, rel=1e-14)


def test_backward_pass_follows_the_topological_order_not_the_listing():
    """Listed so that going through the list, backwards or forwards, would pass on c's
    gradient before m has added its share: is da still 8a = 16?"""
    # 0 = a = 2;  3 = c = a * a = 4;  2 = k = 3;  1 = m = c * k = 12;  4 = f = c + m = 16
    # f = 4 a^2: df/da = 8a = 16;  dc = 1 + k = 4;  dk = c = 4;  dm = 1
    graph = Graph(ops=["input", "mul", "input", "mul", "add"],
                  parents=[(), (3, 2), (), (0, 0), (3, 1)],
                  values=[2.0, 12.0, 3.0, 4.0, 16.0], attributes=[None] * 5, root=4)
    assert_allclose(backward_pass(graph), [16.0, 1.0, 4.0, 4.0, 1.0], rtol=0, atol=1e-14)


def test_a_node_used_by_the_root_and_deeper_gets_both_shares():
    """f = c + 2c with c = a * b (Value.graph() lists c before 2c): is da = 3b?"""
    # a = 2, b = 5: c = 10, f = 30; df/dc = 1 + 2 = 3; da = 3 b = 15, db = 3 a = 6
    a, b = Value(2.0), Value(5.0)
    c = a * b
    f = c + c * 2.0
    f.backward()
    assert (a.grad, b.grad, c.grad) == (15.0, 6.0, 3.0)


def test_nodes_the_root_does_not_reach_get_zero_of_their_shape():
    """Do a node using the root and an unrelated array node get 0, of their own shapes?"""
    # 0 = x = 3;  1 = x^2 = 9 (the root);  2 = tanh(root);  3 = an array leaf apart
    graph = Graph(ops=["input", "pow", "tanh", "input"], parents=[(), (0,), (1,), ()],
                  values=[3.0, 9.0, np.tanh(9.0), np.ones((2, 2))],
                  attributes=[None, 2.0, None, None], root=1)
    grads = backward_pass(graph)
    assert grads[0] == 6.0 and grads[1] == 1.0 and grads[2] == 0.0  # 2x = 6
    assert_array_equal(grads[3], np.zeros((2, 2)))


def test_backward_pass_leaves_the_graph_as_it_was():
    """Are the graph's values unchanged after a backward pass over arrays?"""
    values = [np.array([1.0, -2.0]), np.array([3.0, 4.0]), np.array([3.0, -8.0])]
    graph = Graph(["input", "input", "mul"], [(), (), (0, 1)], values, [None] * 3, 2)
    backward_pass(graph)
    assert [v.tolist() for v in graph.values] == [[1.0, -2.0], [3.0, 4.0], [3.0, -8.0]]


def test_a_graph_whose_lists_differ_in_length_is_refused():
    """With 3 ops but 2 values, is the error saying how many of each it got?"""
    graph = Graph(["input", "input", "add"], [(), (), (0, 1)], [1.0, 2.0], [None] * 3, 2)
    with pytest.raises(ValueError, match="3 ops, 3 parents, 2 values and 3 attributes"):
        backward_pass(graph)
    with pytest.raises(TypeError, match="graph must be a Graph, got dict"):
        backward_pass({"ops": []})


# Random expressions over three inputs, built with Value's operators. Every operation keeps its
# values moderate (a denominator is 1 + b^2, a logarithm's argument 1 + a^2), so that central
# differences are accurate to ~1e-9 everywhere; relu is left out (a kink at an input of 0).
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.0 + b * b),   # b * b: one node used twice
    "rsub": lambda a, b: 2.0 - a * b,
}
UNARY = {
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "exp": lambda a: a.tanh().exp(),
    "log": lambda a: (1.0 + a ** 2).log(),
    "pow": lambda a: (1.0 + a * a) ** -1.5,
    "neg": lambda a: -a,
    "rtruediv": lambda a: 3.0 / (2.0 + a.sigmoid()),
}
leaves = st.one_of(st.tuples(st.just("x"), st.integers(0, 2)),
                   st.tuples(st.just("c"), st.floats(-2.0, 2.0)))
expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(st.tuples(st.sampled_from(sorted(BINARY)), inner, inner),
                            st.tuples(st.sampled_from(sorted(UNARY)), inner)),
    max_leaves=8)


def evaluate(expression, xs):
    """The ``Value`` of an expression of ``expressions``, with ``xs`` its inputs."""
    kind, *rest = expression
    if kind == "x":
        return xs[rest[0]]
    if kind == "c":
        return Value(rest[0])
    if kind in BINARY:
        return BINARY[kind](evaluate(rest[0], xs), evaluate(rest[1], xs))
    return UNARY[kind](evaluate(rest[0], xs))


@settings(max_examples=150)
@given(expressions, st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_backward_agrees_with_central_differences_on_random_expressions(expression, point):
    """For random expressions built with Value, is every input's grad the central difference
    of the expression's value, to 1e-7 (an input left out of the expression: 0)?"""
    xs = [Value(x) for x in point]
    root = evaluate(expression, xs) + 0.0  # + 0.0: the root is a node even for a bare input
    root.backward()
    grads = [0.0 if x.grad is None else x.grad for x in xs]
    numerical = numerical_gradient(lambda v: evaluate(expression, [Value(x) for x in v]).data,
                                   np.array(point))
    assert_allclose(grads, numerical, rtol=1e-7, atol=1e-8, err_msg=f"grads of {expression}")


# ---------------------------------------------------------------- Value


@pytest.mark.parametrize(("make", "expected"), [
    (lambda a, b: a + b, 5.0),        # 2 + 3
    (lambda a, b: a - b, -1.0),       # 2 - 3
    (lambda a, b: a * b, 6.0),
    (lambda a, b: a / b, 2.0 / 3.0),
    (lambda a, b: a ** 3, 8.0),
    (lambda a, b: -a, -2.0),
    (lambda a, b: 1 + a, 3.0),        # radd
    (lambda a, b: 4 * b, 12.0),       # rmul
    (lambda a, b: 10 - b, 7.0),       # rsub
    (lambda a, b: 6 / b, 2.0),        # rtruediv
    (lambda a, b: a - 0.5, 1.5),      # a number mixed in
    (lambda a, b: b / 4, 0.75),
    (lambda a, b: (a * 0.0).exp(), 1.0),
    (lambda a, b: (b * 0.0 + math.e).log(), 1.0),
    (lambda a, b: (a * 0.0 + math.log(2.0)).tanh(), 0.6),
    (lambda a, b: (a * 0.0 + math.log(3.0)).sigmoid(), 0.75),
    (lambda a, b: (-a).relu(), 0.0),
    (lambda a, b: b.relu(), 3.0),
])
def test_value_operators_compute_the_right_number(make, expected):
    """At a = 2, b = 3, does each operator of Value give the number worked out by hand?"""
    got = make(Value(2.0), Value(3.0))
    assert isinstance(got, Value) and isinstance(got.data, float)
    assert got.data == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(("make", "da", "db"), [
    (lambda a, b: a + b, 1.0, 1.0),
    (lambda a, b: a - b, 1.0, -1.0),
    (lambda a, b: a * b, 3.0, 2.0),
    (lambda a, b: a / b, 1.0 / 3.0, -2.0 / 9.0),   # 1/b;  -a/b^2
    (lambda a, b: a ** 3 + b, 12.0, 1.0),          # 3 a^2
    (lambda a, b: -a * b, -3.0, -2.0),
    (lambda a, b: 5 - a * b, -3.0, -2.0),
    (lambda a, b: 6 / a + b, -1.5, 1.0),           # -6/a^2 = -6/4
    (lambda a, b: 1 + a + 2 * b, 1.0, 2.0),
    (lambda a, b: a.exp() * b, 3.0 * math.exp(2.0), math.exp(2.0)),
    (lambda a, b: a.log() + b.log(), 0.5, 1.0 / 3.0),
    (lambda a, b: (a - b).relu() + (b - a).relu(), -1.0, 1.0),   # |a - b| with b > a
])
def test_value_grads_after_backward(make, da, db):
    """At a = 2, b = 3, does backward() set the grads worked out by hand?"""
    a, b = Value(2.0), Value(3.0)
    out = make(a, b)
    out.backward()
    assert out.grad == 1.0
    assert_allclose([a.grad, b.grad], [da, db], rtol=1e-12)
    assert isinstance(a.grad, float)


@pytest.mark.parametrize(("method", "z", "dz"), [
    ("tanh", math.log(2.0), 0.64),       # 1 - 0.6^2
    ("sigmoid", math.log(3.0), 0.1875),  # 0.75 * 0.25
    ("relu", 0.0, 0.0),
    ("relu", 1.5, 1.0),
])
def test_value_activation_grads(method, z, dz):
    """Does each activation method pass the slope worked out by hand?"""
    x = Value(z)
    getattr(x, method)().backward()
    assert x.grad == pytest.approx(dz, rel=1e-12, abs=0)


def test_value_mixed_with_numbers_as_in_the_docstring():
    """Is Value(2) * Value(3) + 1 a Value of 7 whose graph has the 1 as a leaf of its own?"""
    a, b = Value(2.0), Value(3.0)
    out = a * b + 1
    graph, nodes = out.graph()
    assert out.data == 7.0
    assert graph.ops.count("input") == 3 and sorted(graph.ops) == ["add", "input", "input",
                                                                   "input", "mul"]
    assert nodes[0] is out and graph.root == 0
    out.backward()
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_a_second_backward_sets_the_grads_again_not_twice():
    """Does calling backward() twice leave the same grads (set, not added up)?"""
    a, b = Value(2.0), Value(-3.0)
    out = a * b + a
    out.backward()
    out.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)


def test_a_value_exponent_is_refused():
    """Is a ** Value(2) a TypeError saying the exponent must be a constant number?"""
    with pytest.raises(TypeError, match="only a constant number can be an exponent, got Value"):
        Value(3.0) ** Value(2.0)


def test_a_value_of_a_value_is_refused():
    """Is Value(Value(1)) a TypeError?"""
    with pytest.raises(TypeError, match="takes a number, not a Value"):
        Value(Value(1.0))


# ---------------------------------------------------------------- value_activation, value_loss


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_value_activation_is_the_registry_activation(name):
    """For every activation, is value_activation of a row the registry's function of it?"""
    row = np.array([0.3, -1.2, 2.0])
    got = [v.data for v in value_activation(name, [Value(z) for z in row])]
    assert_allclose(got, ACTIVATIONS[name](row[None, :])[0], rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_value_loss_is_the_registry_loss(loss):
    """For every loss, with an output activation it fits, is value_loss the registry's loss?"""
    rng = np.random.default_rng(7)
    output = next(name for name in ACTIVATIONS if LOSSES[loss].fits(name))
    Z, Y = rng.normal(size=(3, 4)), targets_for(loss, 3, 4, rng)
    logits = [[Value(z) for z in row] for row in Z]
    outputs = [value_activation(output, row) for row in logits]
    got = value_loss(loss, logits, outputs, Y).data
    expected = LOSSES[loss](Z if LOSSES[loss].takes_logits else ACTIVATIONS[output](Z), Y)
    assert got == pytest.approx(expected, rel=1e-12)


def test_unknown_activation_and_loss_names_are_refused():
    """Do value_activation and value_loss list the registry's names for an unknown one?"""
    with pytest.raises(ValueError, match="unknown activation 'swish'.*'identity'"):
        value_activation("swish", [Value(1.0)])
    with pytest.raises(ValueError, match="unknown loss 'hinge'.*'mse'"):
        value_loss("hinge", [[Value(1.0)]], [[Value(1.0)]], [[1.0]])


# ---------------------------------------------------------------- scalar_gradients


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBINATIONS)
def test_scalar_gradients_equal_backpropagation(hidden, output, loss):
    """For every hidden activation, output activation and loss that fit, are the scalar
    engine's gradients backpropagation's, to 1e-10?"""
    X, Y, weights, biases, names = small_network(hidden, output, loss)
    dW, db = scalar_gradients(X, Y, weights, biases, names, loss)
    dW_matrix, db_matrix = backpropagation(X, Y, weights, biases, names, loss)
    for got, expected in zip(dW + db, dW_matrix + db_matrix):
        assert got.shape == expected.shape and got.dtype == np.float64
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("output", "loss"), sorted({(o, loss) for _, o, loss in COMBINATIONS}))
def test_scalar_gradients_agree_with_a_numerical_gradient_of_the_loss(output, loss):
    """Are the scalar engine's gradients central differences of loss_value, to 1e-7?"""
    X, Y, weights, biases, names = small_network("tanh", output, loss, seed=3)
    dW, db = scalar_gradients(X, Y, weights, biases, names, loss)
    for i in range(len(weights)):
        numerical_dW = numerical_gradient(lambda W, i=i: loss_value(
            X, Y, weights[:i] + [W] + weights[i + 1:], biases, names, loss), weights[i])
        numerical_db = numerical_gradient(lambda b, i=i: loss_value(
            X, Y, weights, biases[:i] + [b] + biases[i + 1:], names, loss), biases[i])
        check_gradient(dW[i], numerical_dW, f"dW of layer {i + 1}")
        check_gradient(db[i], numerical_db, f"db of layer {i + 1}")


def test_scalar_gradients_hand_worked_single_neuron():
    """Does one identity neuron with the mse give notebook 5's hand-worked gradients?"""
    # z = 0.5*1 - 0.5*2 + 0.25 = -0.25; dL/dz = 2 (z - y) / N = 2 * (-1.25) = -2.5
    # dW = -2.5 * x = [-2.5, -5.0];  db = -2.5
    dW, db = scalar_gradients([[1.0, 2.0]], [[1.0]], [np.array([[0.5, -0.5]])],
                              [np.array([0.25])], ["identity"], "mse")
    assert_allclose(dW[0], [[-2.5, -5.0]], rtol=1e-14)
    assert_allclose(db[0], [-2.5], rtol=1e-14)


def test_scalar_gradients_refuse_a_loss_that_does_not_fit_and_a_wrong_target():
    """Is softmax cross-entropy with a sigmoid output refused, and a target of the wrong
    shape named with both shapes?"""
    X, Y, weights, biases, _ = small_network("relu", "softmax", "softmax_cross_entropy")
    with pytest.raises(ValueError, match="'softmax_cross_entropy' needs 'softmax'.*got 'sigmoid'"):
        scalar_gradients(X, Y, weights, biases, ["relu", "relu", "sigmoid"],
                         "softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"Y has shape \(4, 1\) but the network's output has "
                                         r"shape \(4, 2\)"):
        scalar_gradients(X, Y[:, :1], weights, biases, ["relu", "relu", "softmax"],
                         "softmax_cross_entropy")


# ---------------------------------------------------------------- unbroadcast


def test_unbroadcast_docstring_examples():
    """Is ones (4, 3) summed to (3,) [4, 4, 4], and to (4, 1) a column of 3s?"""
    assert_array_equal(unbroadcast(np.ones((4, 3)), (3,)), [4.0, 4.0, 4.0])
    assert_array_equal(unbroadcast(np.ones((4, 3)), (4, 1)), [[3.0], [3.0], [3.0], [3.0]])


def test_unbroadcast_hand_worked():
    """Summing a (2, 3) gradient to (3,), (1, 3) and (2, 3): column sums, kept, unchanged?"""
    grad = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    assert_array_equal(unbroadcast(grad, (3,)), [11.0, 22.0, 33.0])       # 1 + 10, ...
    assert_array_equal(unbroadcast(grad, (1, 3)), [[11.0, 22.0, 33.0]])
    assert_array_equal(unbroadcast(grad, (2, 3)), grad)
    # ones of (5, 2, 4, 3) to (2, 1, 3): each entry stands for 5 * 4 = 20 copies
    assert_array_equal(unbroadcast(np.ones((5, 2, 4, 3)), (2, 1, 3)), np.full((2, 1, 3), 20.0))


def test_unbroadcast_to_a_number_sums_everything_and_gives_a_float():
    """Is a (2, 3) gradient summed to shape () the float 0 + 1 + ... + 5 = 15?"""
    got = unbroadcast(np.arange(6.0).reshape(2, 3), ())
    assert got == 15.0 and type(got) is float
    assert type(unbroadcast(2.5, ())) is float and unbroadcast(2.5, ()) == 2.5


@settings(max_examples=100)
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
def test_unbroadcast_counts_the_copies_of_each_input(shapes):
    """For random shapes broadcast together, is the gradient of sum(a + b), summed back to a's
    and b's shapes, the number of copies numpy made of each entry?"""
    result = np.ones(shapes.result_shape)  # d sum / d (a + b), entry by entry
    a, b = (Tensor(np.zeros(shape)) for shape in shapes.input_shapes)
    (a + b).sum().backward()  # the engine, which sums through unbroadcast, agrees
    for shape, tensor in zip(shapes.input_shapes, (a, b)):
        copies = np.full(shape, result.size / math.prod(shape))
        got = unbroadcast(result, shape)
        assert np.shape(got) == shape and np.shape(tensor.grad) == shape
        assert_array_equal(got, copies)
        assert_array_equal(tensor.grad, copies)


# ---------------------------------------------------------------- array_vjp


def test_array_vjp_hand_worked():
    """For [[1, 2]] @ [[3], [4]] and a gradient of [[1]], is dA = [[3, 4]] and dB = [[1], [2]]?
    For the sum of a (2, 2) with a gradient of 3, is every entry's gradient 3?"""
    A, B = np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])
    dA, dB = array_vjp("matmul", np.array([[1.0]]), (A, B), A @ B)   # G B^T, A^T G
    assert_array_equal(dA, [[3.0, 4.0]])
    assert_array_equal(dB, [[1.0], [2.0]])
    (dS,) = array_vjp("sum", 3.0, (np.ones((2, 2)),), 4.0)
    assert_array_equal(dS, np.full((2, 2), 3.0))


def test_array_vjp_of_matmul_agrees_with_central_differences():
    """Are dA and dB the central differences of sum((A @ B) * G), to 1e-9?"""
    rng = np.random.default_rng(97)
    A, B, G = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    dA, dB = array_vjp("matmul", G, (A, B), A @ B)
    check_gradient(dA, numerical_gradient(lambda a: np.sum((a @ B) * G), A), "dA", 1e-9)
    check_gradient(dB, numerical_gradient(lambda b: np.sum((A @ b) * G), B), "dB", 1e-9)


@pytest.mark.parametrize("op", ["sum", "softmax_cross_entropy"])
@pytest.mark.parametrize("grad", [1.0, -2.5])
def test_array_vjp_of_the_number_ops_agrees_with_central_differences(op, grad):
    """For sum and the loss, is the gradient of grad * OPS[op] by central differences?"""
    rng = np.random.default_rng(98)
    A = rng.normal(scale=2.0, size=(5, 3))
    Y = np.eye(3)[rng.integers(0, 3, size=5)]
    _, forward = OPS[op]
    (dA,) = array_vjp(op, grad, (A,), forward(A, Y), Y)
    check_gradient(dA, numerical_gradient(lambda a: grad * forward(a, Y), A), f"d{op}")


def test_the_loss_op_is_the_registry_softmax_cross_entropy():
    """Is OPS' softmax_cross_entropy the loss of notebook 4, even for logits near 1e4?"""
    Z = np.array([[1e4, 1e4 + math.log(3.0), 0.0], [0.2, -0.4, 1.1]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    _, forward = OPS["softmax_cross_entropy"]
    assert forward(Z, Y) == pytest.approx(LOSSES["softmax_cross_entropy"](Z, Y), rel=1e-12)


def test_array_vjp_refuses_a_scalar_operation_listing_the_array_ones():
    """Is array_vjp('add', ...) refused, naming matmul, softmax_cross_entropy and sum?"""
    with pytest.raises(ValueError, match="unknown array operation 'add'; the known ones are: "
                                         "'matmul', 'softmax_cross_entropy', 'sum'"):
        array_vjp("add", 1.0, (1.0, 1.0), 2.0)


def test_chain_rule_sums_a_broadcast_input_back_to_its_shape():
    """For Z * b with b of shape (3,) repeated on 2 rows, is b's gradient sum_i G_i * Z_i?"""
    Z, b = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([1.0, 0.5, -1.0])
    G = np.ones((2, 3))
    dZ, db = chain_rule("mul", G, (Z, b), Z * b)
    assert_array_equal(dZ, np.broadcast_to(b, (2, 3)))
    assert_array_equal(db, [5.0, 7.0, 9.0])  # 1 + 4, 2 + 5, 3 + 6


# ---------------------------------------------------------------- Tensor, tensor_gradients


def test_tensor_operators_compute_the_arrays():
    """Do @, + with broadcasting, ** and sum() give numpy's arrays, and the loss notebook 4's?"""
    A, B, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [-1.0]]), np.array([0.5])
    Z = Tensor(A) @ Tensor(B) + b                 # [[1 - 2], [3 - 4]] + 0.5
    assert_array_equal(Z.data, [[-0.5], [-0.5]])
    assert Z.shape == (2, 1)
    assert float((Z ** 2).sum().data) == 0.5      # 0.25 + 0.25
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    loss = Tensor(A).softmax_cross_entropy(Y)
    assert float(loss.data) == pytest.approx(LOSSES["softmax_cross_entropy"](A, Y), rel=1e-14)
    with pytest.raises(ValueError, match=r"targets have shape \(2, 1\) but the logits have "
                                         r"shape \(2, 2\)"):
        Tensor(A).softmax_cross_entropy(Y[:, :1])


def test_a_broadcast_bias_gets_the_gradient_summed_over_the_samples():
    """In sum((X @ W + b) * G), is db the column sums of G, dW = X^T G and dX = G W^T?"""
    rng = np.random.default_rng(99)
    X, W, b = Tensor(rng.normal(size=(4, 3))), Tensor(rng.normal(size=(3, 2))), Tensor([1.0, -1.0])
    G = np.arange(8.0).reshape(4, 2)
    ((X @ W + b) * G).sum().backward()
    assert_array_equal(b.grad, [12.0, 16.0])  # 0 + 2 + 4 + 6, 1 + 3 + 5 + 7
    assert_allclose(W.grad, X.data.T @ G, rtol=1e-14)
    assert_allclose(X.grad, G @ W.data.T, rtol=1e-14)


@pytest.mark.parametrize("name", HIDDEN)
def test_tensor_activation_is_the_registry_activation(name):
    """For every element-wise activation, is tensor_activation the registry's function?"""
    Z = np.array([[0.3, -1.2], [2.0, -0.1]])
    assert_allclose(tensor_activation(name, Tensor(Z)).data, ACTIVATIONS[name](Z),
                    rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize(("hidden", "output", "loss"), TENSOR_COMBINATIONS)
def test_tensor_gradients_equal_backpropagation(hidden, output, loss):
    """For every combination the array engine has, are its gradients backpropagation's, to
    1e-10?"""
    X, Y, weights, biases, names = small_network(hidden, output, loss, seed=5)
    dW, db = tensor_gradients(X, Y, weights, biases, names, loss)
    dW_matrix, db_matrix = backpropagation(X, Y, weights, biases, names, loss)
    for got, expected in zip(dW + db, dW_matrix + db_matrix):
        assert got.shape == expected.shape
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss", [loss for loss in LOSSES if loss not in TENSOR_LOSSES])
def test_tensor_gradients_refuse_a_loss_they_do_not_have(loss):
    """Is a loss outside TENSOR_LOSSES refused, naming the ones the array engine has?"""
    X, Y, weights, biases, names = small_network("tanh", "sigmoid", loss)
    with pytest.raises(ValueError, match=f"has the losses {', '.join(TENSOR_LOSSES)}, "
                                         f"not '{loss}'"):
        tensor_gradients(X, Y, weights, biases, names, loss)


@pytest.mark.parametrize("names", [["softmax", "tanh", "identity"], ["tanh", "tanh", "softmax"]])
def test_tensor_gradients_refuse_softmax_outside_the_loss(names):
    """Is softmax in a hidden layer, or before the mse, refused, naming every element-wise
    activation of the registry?"""
    X, Y, weights, biases, _ = small_network("tanh", "identity", "mse")
    with pytest.raises(ValueError, match="the array engine has no activation 'softmax'") as error:
        tensor_gradients(X, Y, weights, biases, names, "mse")
    assert all(name in str(error.value) for name in HIDDEN)


# ---------------------------------------------------------------- edges that once differed


def test_leaky_relu_at_zero_has_the_slope_of_notebook_2():
    """At z = 0 exactly, does the scalar engine's leaky ReLU have leaky_relu_derivative's slope
    alpha, so that both engines agree with backpropagation there too?"""
    X, Y = np.array([[1.0]]), np.array([[1.0]])
    weights, biases = [np.array([[0.0]])], [np.array([0.0])]
    expected = backpropagation(X, Y, weights, biases, ["leaky_relu"], "mse")
    # z = 0, output 0: dL/dz = 2 (0 - 1) * alpha = -0.02, and dW = dL/dz * x = -0.02
    assert expected[0][0][0, 0] == pytest.approx(-0.02, rel=1e-12)
    for gradients in (scalar_gradients, tensor_gradients):
        got = gradients(X, Y, weights, biases, ["leaky_relu"], "mse")
        assert got[0][0][0, 0] == pytest.approx(-0.02, rel=1e-12)
        assert got[1][0][0] == pytest.approx(-0.02, rel=1e-12)


def test_sigmoid_cross_entropy_of_a_huge_logit_stays_finite():
    """With a logit of -800, does the scalar engine's sigmoid cross-entropy give
    backpropagation's gradient instead of overflowing?"""
    X, Y = np.array([[1.0]]), np.array([[1.0]])
    weights, biases = [np.array([[-800.0]])], [np.array([0.0])]
    expected = backpropagation(X, Y, weights, biases, ["sigmoid"], "sigmoid_cross_entropy")
    got = scalar_gradients(X, Y, weights, biases, ["sigmoid"], "sigmoid_cross_entropy")
    # p = sigmoid(-800) = 0 to double precision: dL/dz = p - y = -1
    assert got[0][0][0, 0] == pytest.approx(-1.0) == expected[0][0][0, 0]


@pytest.mark.parametrize(("grad_shape", "shape"), [((4, 3), (2, 6)), ((3,), (1, 3)),
                                                   ((4, 3), (4,))])
def test_unbroadcast_refuses_a_shape_that_could_not_have_been_broadcast(grad_shape, shape):
    """Is a shape that numpy could not have broadcast to the gradient's refused, naming both?"""
    with pytest.raises(ValueError, match=r"cannot come from broadcasting an input of shape"):
        unbroadcast(np.ones(grad_shape), shape)


def test_an_array_on_the_left_of_a_tensor_makes_a_tensor():
    """Does ``array - Tensor`` record a Tensor (not an object array of Tensors)?"""
    difference = np.ones((2, 2)) - Tensor(np.full((2, 2), 3.0))
    assert isinstance(difference, Tensor)
    np.testing.assert_array_equal(difference.data, np.full((2, 2), -2.0))
