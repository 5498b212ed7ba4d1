"""Does the wire format carry plain data exactly, and refuse everything else?"""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder import wire

leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
    st.text(max_size=8),
    hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)),
    st.builds(np.float64, st.floats(allow_nan=False)))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=8)


@given(values)
def test_plain_data_comes_back_the_same(value):
    """Is every mix of numbers, arrays, text, lists, tuples and dicts rebuilt exactly, types
    and dtypes included, after a trip through JSON?"""
    back = wire.decode(json.loads(json.dumps(wire.encode(value))))
    assert wire.same(value, back)


class Subclass(np.ndarray):
    """An array subclass, which can redefine comparisons."""


@pytest.mark.parametrize("value", [np.zeros(2).view(Subclass), np.array(["a"]),
                                   np.array([object()]), {1: 2.0}, object(), len, range(3)])
def test_what_is_not_plain_data_cannot_be_sent(value):
    """Are subclasses, arrays of text or objects, non-str keys and arbitrary objects refused?"""
    with pytest.raises(wire.Unencodable):
        wire.encode(value)


@pytest.mark.parametrize("message", [
    {"a": "not base64!"}, {"a": "AAAA"}, [1, 2], "text", {"l": "x"}, {"f": "losses.mse"},
    {"ref": [0]}, {"cb": 0}, {"s": 1}, {"x": 1}, {"dict": [[1, 2]]},
    wire.encode(np.array([1.0])) | {"extra": 1}])
def test_forged_messages_are_garbled(message):
    """Is every message that is not exactly of the format refused (names, references and
    callbacks too, where the receiver did not offer to resolve them)?"""
    with pytest.raises(wire.Garbled):
        wire.decode(message)


def test_an_array_of_objects_saved_with_pickle_is_refused():
    """Does a forged npy of Python objects fail to load instead of unpickling?"""
    import base64
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    forged = {"a": base64.b64encode(buffer.getvalue()).decode()}
    with pytest.raises(wire.Garbled, match="unreadable"):
        wire.decode(forged)


def test_references_point_into_the_arguments():
    """Does a returned argument travel as its place among the arguments, and come back as it?"""
    x = np.zeros(2)
    arguments = [[[1.0], x], {}]
    places = wire.refs(arguments)
    encoded = wire.encode(x, ref_of=lambda v: places.get(id(v)))
    assert encoded == {"ref": [0, 1]}
    assert wire.decode(encoded, ref=lambda path: wire.follow(arguments, path)) is x
    with pytest.raises(wire.Garbled):
        wire.follow(arguments, [0, 5])


# ---------------------------------------------------------------- exceptions, as text


class Loud(ValueError):
    """An error whose message cannot be shown: asking for it ends the process."""

    def __str__(self):
        raise SystemExit("asked for my message")


def test_an_error_travels_as_names_and_text():
    """Does an exception cross as its name, its classes by module and name, and its message,
    through JSON, and come back the same?"""
    sent = json.loads(json.dumps(wire.error_of(Loud())))
    assert wire.read_error(sent) == (
        "Loud", [(__name__, "Loud"), ("builtins", "ValueError"), ("builtins", "Exception"),
                 ("builtins", "BaseException"), ("builtins", "object")],
        "(a message that could not be shown)")


def test_an_error_of_strange_names_still_makes_a_reply():
    """Is an error whose class's module is not text and whose name is long and full of
    escapes sent anyway, with those names made safe?"""
    kind = type("\x1b[2J" + "N" * 1000, (Exception,), {"__module__": 5})
    reply = wire.error_of(kind("message"))
    assert reply["module"] == "" and reply["bases"][0][0] == ""
    assert reply["type"].startswith("\\x1b[2JNNN") and len(reply["type"]) <= wire.MAX_NAME
    assert reply["message"] == "message"


@pytest.mark.parametrize("reply", [
    {}, {"type": 1, "bases": {"a": 1}, "message": None},
    {"type": "", "bases": [["a"], ["a", "b", "c"], [1, "b"], "a.b"], "message": 3},
])
def test_a_forged_error_reads_as_nothing_known(reply):
    """Does a reply that is not of the format read as an unknown type with no classes?"""
    name, bases, message = wire.read_error(reply)
    assert name == "?" and bases == [] and message == ""
