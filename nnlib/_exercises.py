"""The error a stub raises until its exercise is done (provided code, not an exercise).

Every stub of the student copy raises ``ExerciseNotDone("Exercise 2.1: implement
sigmoid")``. It is a ``NotImplementedError``, so code that catches those (the
explorers, the tests) keeps working, and its message stays the label. In a
notebook it shows as one short line (two when one would be long) instead of a
traceback through nnlib::

    Exercise 2.1 is not done yet: implement `sigmoid` in nnlib/activations.py.

A notebook's setup cell says which notebook it is (``this_notebook(6)``), so that
an exercise of an earlier notebook is named as one::

    Exercise 3.1 (notebook 3) is not done yet; this notebook needs it.
    Implement `init_params` in nnlib/network.py.
"""

import re
import traceback
from pathlib import Path

# A stub's label: the exercise's notebook and number, and the function it implements (the
# solution regions of the reference library carry it too; autograder.exercises reads it).
LABEL = re.compile(r"Exercise (\d+)\.(\d+): implement (\w+)")
# nbgrader's Validate cuts lines at 83 characters; a longer message takes two lines.
VALIDATE_WIDTH = 83
_current = {"notebook": None}


def this_notebook(number):
    """Say which notebook the kernel runs, for the messages of earlier exercises.

    Parameters
    ----------
    number : int
        The notebook's number (6 for ``06_gradient_descent``).
    """
    _current["notebook"] = int(number)


class ExerciseNotDone(NotImplementedError):
    """A stub, or a notebook answer, that the student has not written yet.

    Parameters
    ----------
    message : str
        The stub's label, e.g. ``"Exercise 2.1: implement sigmoid"``, or advice
        such as ``"set w_and in the exercise cell above, then run this cell"``.
    """

    def short_message(self):
        """The line a notebook shows for this error (two when one would be too long)."""
        match = LABEL.fullmatch(str(self))
        if not match:
            return f"Not done yet: {self}."
        number, _, function = match.groups()
        exercise = str(self).split(":")[0]
        frames = traceback.extract_tb(self.__traceback__)
        files = [Path(f.filename) for f in frames if Path(f.filename).parent.name == "nnlib"]
        where = f" in nnlib/{files[-1].name}" if files else ""
        current = _current["notebook"]
        head = f"{exercise} is not done yet"
        if current is not None and int(number) != current:
            head = f"{exercise} (notebook {int(number)}) is not done yet; this notebook needs it"
        one_line = f"{head}: implement `{function}`{where}."
        if len(one_line) <= VALIDATE_WIDTH:
            return one_line
        return f"{head}.\nImplement `{function}`{where}."

    def _render_traceback_(self):
        """What IPython shows instead of the traceback: the short message."""
        return self.short_message().splitlines()
