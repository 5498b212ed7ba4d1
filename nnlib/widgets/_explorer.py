"""The ``Explorer``: sliders driving a view function and a draw function."""

import base64
import os
import re
import traceback
from io import BytesIO
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

_EXERCISE = re.compile(r"(Exercise [\d.]+): implement (\w+)")


def friendly_message(error):
    """Turn a stub's ``NotImplementedError`` into advice for the student.

    Parameters
    ----------
    error : NotImplementedError
        E.g. ``NotImplementedError("Exercise 2.1: implement sigmoid")``
        raised in ``nnlib/activations.py``.

    Returns
    -------
    str
        E.g. ``"implement sigmoid in nnlib/activations.py first (Exercise 2.1)"``.
    """
    frames = traceback.extract_tb(error.__traceback__)
    files = [Path(f.filename) for f in frames if Path(f.filename).parent.name == "nnlib"]
    where = f" in nnlib/{files[-1].name}" if files else ""
    match = _EXERCISE.search(str(error))
    if match:
        exercise, function = match.groups()
        return f"implement {function}{where} first ({exercise})"
    return f"this needs code you have not written yet{where}: {error}"


class Explorer:
    """A matplotlib figure whose content follows a set of ipywidgets controls.

    Parameters
    ----------
    view : callable
        ``view(**values) -> dict``, called with one keyword per control.
    draw : callable
        ``draw(axes, view_dict)``: draws on the (cleared) list of axes.
    controls : dict of str to ipywidgets.ValueWidget
        The sliders, dropdowns, ... by the keyword they set.
    ncols, nrows : int
        The grid of axes.
    figsize : tuple of float
    projections : list of str or None, optional
        One matplotlib projection per axes (e.g. ``"3d"``).

    Attributes
    ----------
    view_data : dict or None
        What ``view`` returned for the current values; None when it raised
        ``NotImplementedError`` (then ``status`` says what to implement).
    status : ipywidgets.HTML
        A message line under the controls.
    figure : matplotlib.figure.Figure
    """

    def __init__(self, view, draw, controls, ncols=1, nrows=1, figsize=(6.0, 4.0),
                 projections=None):
        self.view, self.draw = view, draw
        self.controls = dict(controls)
        self.status = widgets.HTML()
        self.view_data = None
        self._output = None
        if os.environ.get("NBGRADER_EXECUTION") == "autograde":
            # nobody sees figures while nbgrader grades: skip the work
            self.figure, self.axes = None, []
            self.status.value = "(figures are not drawn during autograding)"
            return
        # shown as part of self.widget, not on its own; a notebook may hold many
        # explorers, so no warning about the number of open figures
        with plt.ioff(), plt.rc_context({"figure.max_open_warning": 0}):
            self.figure = plt.figure(figsize=figsize)
        projections = projections or [None] * (ncols * nrows)
        self.axes = [self.figure.add_subplot(nrows, ncols, i + 1, projection=p)
                     for i, p in enumerate(projections)]
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()

    def values(self):
        """The current value of every control, by keyword."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values):
        """Set several controls at once (one update per control)."""
        for name, value in values.items():
            self.controls[name].value = value

    def update(self, change=None):
        """Recompute the view for the current values and redraw the figure."""
        try:
            data = self.view(**self.values())
        except NotImplementedError as error:
            self.view_data = None
            self.status.value = f"<b>To see this figure:</b> {friendly_message(error)}."
            for ax in self.axes:
                ax.clear()
                ax.set_axis_off()
            self.axes[0].text(0.5, 0.5, friendly_message(error), ha="center", va="center",
                              wrap=True, transform=self.axes[0].transAxes)
            self._refresh()
        else:
            self.status.value = ""
            self.show(data)

    def show(self, data, now=False):
        """Draw a view dict on the figure.

        Parameters
        ----------
        data : dict
            What the view function returned.
        now : bool
            Send the picture at once, even while the kernel is busy (for
            animations drawn during a long computation).
        """
        self.view_data = data
        for ax in self.axes:
            ax.clear()
            ax.set_axis_on()
        self.draw(self.axes, data)
        if now and isinstance(self.figure.canvas, widgets.DOMWidget):
            self.figure.canvas.draw()  # draw_idle waits until the kernel is idle
        else:
            self._refresh()

    def _refresh(self):
        canvas = self.figure.canvas
        if isinstance(canvas, widgets.DOMWidget):  # ipympl: the canvas is a live widget
            canvas.draw_idle()
        elif self._output is not None:  # any other backend: redisplay a static image
            with self._output:
                self._output.clear_output(wait=True)
                display_figure(self.figure)

    @property
    def widget(self):
        """The controls, the status line and the figure in one box."""
        if self.figure is None:
            return widgets.VBox([self.status])
        canvas = self.figure.canvas
        if not isinstance(canvas, widgets.DOMWidget):
            if self._output is None:
                self._output = widgets.Output()
                self._refresh()
            canvas = self._output
        return widgets.VBox([widgets.HBox(list(self.controls.values()),
                                          layout=widgets.Layout(flex_flow="row wrap")),
                             self.status, canvas])

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if self.figure is None:
            return bundle
        # for pages shown without a kernel (JupyterLab prefers the widget)
        bundle["image/png"] = base64.b64encode(_png(self.figure)).decode("ascii")
        return bundle


def display_figure(figure):
    """Show a figure as a static image (used when ipympl is not active)."""
    from IPython.display import Image, display

    display(Image(_png(figure)))


def _png(figure):
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    return buffer.getvalue()


def slider(value, low, high, step, description, integer=False):
    """A labelled float (or, with ``integer=True``, int) slider that updates while dragged."""
    kind = widgets.IntSlider if integer else widgets.FloatSlider
    return kind(value=value, min=low, max=high, step=step, description=description,
                continuous_update=True, style={"description_width": "initial"})


def grid(low, high, resolution=101):
    """Points of a square grid, for decision regions.

    Returns
    -------
    xx, yy : ndarray, shape (resolution, resolution)
    points : ndarray, shape (resolution**2, 2)
    """
    axis = np.linspace(low, high, resolution)
    xx, yy = np.meshgrid(axis, axis)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])
