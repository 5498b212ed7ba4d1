"""Checks shared by the explorers' tests: what a control does to the picture."""

import numpy as np


def picture(explorer):
    """The figure as the screen shows it: its pixels after a full draw (Agg)."""
    explorer.figure.canvas.draw()
    return np.asarray(explorer.figure.canvas.buffer_rgba()).copy()


def assert_every_control_matters(explorer, new_values):
    """Does moving each control change the picture, or is the control disabled?

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
        assert not np.array_equal(picture(explorer), before), (
            f"moving {name} from {old!r} to {value!r} left the figure as it was")


def status_names(explorer, exercise):
    """Does the status line name the exercise, and still show a figure?"""
    return exercise in explorer.status.value and explorer.widget is not None
