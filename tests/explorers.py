"""Checks shared by the explorers' tests: what a control does to the picture."""

import numpy as np

from nnlib.widgets._explorer import Backdrop


def picture(explorer):
    """The figure as the screen shows it: its pixels after a full draw (Agg)."""
    explorer.figure.canvas.draw()
    return np.asarray(explorer.figure.canvas.buffer_rgba()).copy()


def fresh_picture(explorer):
    """The figure drawn without the kept pictures of its ticks and labels (``Backdrop``)."""
    backdrop = next(a for a in explorer.figure.artists if isinstance(a, Backdrop))
    kept, backdrop._pictures = backdrop._pictures, {}
    try:
        return picture(explorer)
    finally:
        backdrop._pictures = kept


def assert_every_control_matters(explorer, new_values):
    """Does moving each control change the picture, or is the control disabled? And is the
    picture drawn with the kept pictures of ticks and labels the one drawn from scratch?

    Parameters
    ----------
    new_values : dict of str to object
        For every control of the explorer, a value different from its current one.
    """
    assert set(new_values) == set(explorer.controls), "give a new value for every control"
    for name, value in new_values.items():
        control = explorer.controls[name]
        if control.disabled:
            continue
        before = picture(explorer)
        old = control.value
        control.value = value
        after = picture(explorer)
        assert not np.array_equal(after, before), (
            f"moving {name} from {old!r} to {value!r} left the figure as it was")
        assert np.array_equal(after, fresh_picture(explorer)), (
            f"after moving {name} to {value!r}, the figure drawn with kept pictures of its "
            "ticks and labels differs from one drawn from scratch")


def status_names(explorer, exercise):
    """Does the status line name the exercise, and still show a figure?"""
    return exercise in explorer.status.value and explorer.widget is not None
