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

A network with layer sizes ``[n_0, n_1, ..., n_K]`` (``n_0 = D``, ``n_K = C``;
the notes call the number of layers ``L``, which here is only the loss) has, for
every layer ``l = 1..K``, a weight matrix ``W`` of shape ``(n_l, n_{l-1})`` and
a bias vector ``b`` of shape ``(n_l,)``. These are the shapes of the notes,
where one sample is a column vector ``a`` and a layer computes ``z = W a + b``.
For a batch we stack the samples as the rows of ``A`` (shape ``(N, n_{l-1})``);
the layer then gives ``Z`` of shape ``(N, n_l)`` whose row ``i`` is exactly the
notes' ``z`` for sample ``i`` (Exercise 3.2 derives the product). Gradients have
the shape of what they differentiate: ``dW`` is ``(n_l, n_{l-1})`` like ``W``.

Every function returns new arrays (inputs are never modified) in float64.
"""

from pathlib import Path

from . import (
    activations,
    autograd,
    backprop,
    datasets,
    gradcheck,
    losses,
    network,
    optimization,
    perceptron,
    testing,
    training,
)
from ._exercises import ExerciseNotDone, this_notebook

__all__ = [
    "ExerciseNotDone",
    "activations",
    "autograd",
    "backprop",
    "datasets",
    "gradcheck",
    "losses",
    "network",
    "optimization",
    "perceptron",
    "testing",
    "this_notebook",
    "training",
]


# Spelled in two parts so that this line is not itself taken for a marker.
_SOLUTION_MARKER = "### BEGIN" + " SOLUTION"


def library_kind():
    """``"reference"`` if this nnlib still holds the solutions, else ``"student"``."""
    here = Path(__file__).parent
    has_solutions = any(_SOLUTION_MARKER in path.read_text() for path in here.glob("*.py"))
    return "reference" if has_solutions else "student"


def check_setup():
    """Say which nnlib this kernel imported, and stop if it is not the one you edit.

    A folder with its own ``nnlib/`` (``solutions/``, or an assignment folder)
    must use that copy. Anywhere else the kernel uses the installed copy,
    which must be the student copy: the one whose files you edit.

    Raises
    ------
    RuntimeError
        When the kernel imported another copy, with how to fix it.
    """
    kind, where = library_kind(), Path(__file__).resolve().parent
    local = Path.cwd().resolve() / "nnlib"
    if local.is_dir() and local != where:
        problem = f"this folder has its own nnlib/ ({local}), but the kernel imported {where}"
    elif not local.is_dir() and kind != "student":
        problem = f"the kernel imported the reference solutions ({where}), not your copy"
    else:
        print(f"nnlib: the {kind} copy in {where}")
        return
    raise RuntimeError(f"{problem}. Hint: start JupyterLab with `make lab` in the course "
                       f"folder, open this notebook from there, and restart the kernel.")
