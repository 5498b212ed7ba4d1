"""nnlib: a small numpy neural-network library, written one exercise at a time.

Shape convention
----------------
Samples are rows. Everywhere in nnlib the letters mean:

=====  ===========================================================
``N``  number of samples in a batch (the notes' ``m``)
``D``  number of input features
``H``  number of units in a hidden layer
``C``  number of outputs (classes, or regression targets)
=====  ===========================================================

A network with layer sizes ``[n_0, n_1, ..., n_L]`` (``n_0 = D``, ``n_L = C``)
has, for every layer ``l = 1..L``, a weight matrix ``W`` of shape
``(n_l, n_{l-1})`` and a bias vector ``b`` of shape ``(n_l,)``. These are the
shapes of the notes, where one sample is a column vector ``a`` and a layer
computes ``z = W a + b``. For a batch we stack the samples as the rows of
``A`` (shape ``(N, n_{l-1})``), and the same layer becomes::

    Z = A @ W.T + b        # (N, n_{l-1}) @ (n_{l-1}, n_l) + (n_l,) -> (N, n_l)

Row ``i`` of ``Z`` is exactly the notes' ``z`` for sample ``i``. Gradients have
the shape of what they differentiate: ``dW`` is ``(n_l, n_{l-1})`` like ``W``.

Every function returns new arrays (inputs are never modified) in float64.
"""

from pathlib import Path

from . import (
    activations,
    backprop,
    datasets,
    gradcheck,
    losses,
    network,
    perceptron,
    testing,
    training,
)

__all__ = [
    "activations",
    "backprop",
    "datasets",
    "gradcheck",
    "losses",
    "network",
    "perceptron",
    "testing",
    "training",
]


# Spelled in two parts so that this line is not itself taken for a marker.
_SOLUTION_MARKER = "### BEGIN" + " SOLUTION"


def library_kind():
    """``"reference"`` if this nnlib still holds the solutions, else ``"student"``."""
    here = Path(__file__).parent
    has_solutions = any(_SOLUTION_MARKER in path.read_text() for path in here.glob("*.py"))
    return "reference" if has_solutions else "student"


def check_setup(expected):
    """Say which nnlib this kernel imported; stop if it is not the ``expected`` one.

    Parameters
    ----------
    expected : {"student", "reference"}
        The student notebooks expect the student copy, whose files you edit;
        the worked solutions expect the reference library.

    Raises
    ------
    RuntimeError
        When the kernel imported the other copy, with how to fix it.
    """
    kind, where = library_kind(), Path(__file__).parent
    if kind != expected:
        raise RuntimeError(
            f"expected the {expected} nnlib, but this kernel imported the {kind} copy from "
            f"{where}. Hint: start JupyterLab with `make lab` in the course folder and open "
            f"this notebook from {'notebooks/' if expected == 'student' else 'solutions/'}."
        )
    print(f"nnlib: the {kind} copy in {where}")
