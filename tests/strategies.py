"""Hypothesis strategies shared by the test modules."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)

# Any array of moderate values, in any small shape.
float_arrays = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=6),
                      elements=finite)


@st.composite
def batches(draw, max_samples=6, max_outputs=4, elements=finite):
    """A 2-D batch of shape (N, C)."""
    n = draw(st.integers(1, max_samples))
    c = draw(st.integers(1, max_outputs))
    return draw(arrays(np.float64, (n, c), elements=elements))


@st.composite
def batch_pairs(draw, elements=finite):
    """Two arrays of the same 2-D shape (prediction, target)."""
    first = draw(batches(elements=elements))
    second = draw(arrays(np.float64, first.shape, elements=elements))
    return first, second


probabilities = st.floats(min_value=0.0, max_value=1.0)
