"""The ``Explorer``: sliders driving a view function and a draw function."""

import base64
import contextlib
import itertools
import os
import re
import struct
import threading
import traceback
import zlib
from io import BytesIO
from pathlib import Path

import contourpy
import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

_EXERCISE = re.compile(r"(Exercise [\d.]+): implement (\w+)")
# The explorers' axes: titles at a fixed height (else matplotlib measures the tick
# labels on every draw to keep clear of them).
STYLE = {"axes.titley": 1.0}
# Held while a figure is computed or drawn. matplotlib is not thread-safe, and ipykernel 7
# may run widget messages (a slider's change, the page asking for a picture) on a subshell
# thread while the main thread runs a cell: two threads drawing one figure share its
# renderer, and each wipes what the other drew.
DRAWING = threading.RLock()
# The CSS class of the box of an explorer that trains (one given ``busy``).
TRAINS_CLASS = "nn-explorer-trains"
# A live figure's pixels per inch of figsize, whatever the notebook's matplotlib settings.
SCREEN_DPI = 100
# Saved pictures (the PNG beside the live figure): 1.5 times the pixels of the
# figure on screen, sharp on high-density screens.
PNG_DPI = 150
# The widest figure, in inches: 820 px at SCREEN_DPI fit the 848-px output area of a
# 1280-px-wide JupyterLab with the file browser open.
FIGURE_WIDTH = 8.2


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


def missing_function(error):
    """The stub a view is waiting for, e.g. ``"perceptron_predict (Exercise 1.2)"``.

    Parameters
    ----------
    error : NotImplementedError
    """
    match = _EXERCISE.search(str(error))
    return f"{match.group(2)} ({match.group(1)})" if match else "code not written yet"


class Stubs:
    """Catches the stubs' ``NotImplementedError`` so that a view returns what it could compute.

    Use one instance as a context manager around each part of a view that
    needs a function the student may not have written yet; the part is
    skipped, and the first such error is kept in ``error`` (None when every
    part ran). A view returns it as ``missing``, so that the explorer draws
    the rest and says what is missing.

    Examples
    --------
    >>> stubs, regions = Stubs(), None
    >>> with stubs:
    ...     raise NotImplementedError("Exercise 1.2: implement perceptron_predict")
    >>> missing_function(stubs.error)
    'perceptron_predict (Exercise 1.2)'
    """

    def __init__(self):
        self.error = None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if isinstance(error, NotImplementedError):
            self.error = self.error or error
            return True
        return False


def static(artist):
    """Mark an artist of an explorer's figure as never changing, and return it.

    It is then drawn once with the ticks (see ``Backdrop``) rather than on
    every redraw; for legends and labels outside the data, or under it.
    """
    figure = artist.get_figure(root=True)
    next(a for a in figure.artists if isinstance(a, Backdrop)).add(artist)
    return artist


def artists(ax):
    """The artists an explorer's draw function made on ``ax``, by name.

    Empty on the first draw, when the draw function makes them; later draws
    update them (``set_data``, ``set_offsets``, ``set_text``, ...) instead of
    clearing the axes and drawing everything again, which is several times
    slower.
    """
    return ax.__dict__.setdefault("_explorer_artists", {})


class Backdrop(Artist):
    """The axes' ticks and labels, drawn once and then copied: the slow part of a redraw.

    Rendering the tick labels of a figure takes most of the time a redraw
    takes, yet a slider seldom changes them. A Backdrop, added to the figure
    behind everything, marks the axes' ``xaxis`` and ``yaxis`` as animated
    (matplotlib then leaves them out of a draw on screen, and still saves
    them in a file), draws them itself, keeps the picture of each axes' ticks
    and labels and, while that axes' limits, labels, position and size stay
    the same, copies its picture instead of drawing them again. So a control
    that changes one axes' limits redraws the ticks of that axes only. It
    keeps the pictures of the last ``KEPT`` states of each axes, so that a
    control going back and forth between a few limits (a dropdown, a steps
    slider) is drawn once per state. If the pictures of two axes would
    overlap, it keeps one picture of the whole figure instead. Anything else
    is drawn as usual.
    """

    KEPT = 8  # pictures per axes (each choice of a dropdown): up to 1 MB each

    def __init__(self, axes):
        super().__init__()
        self.set_zorder(-1e9)
        self.set_in_layout(False)
        self._axes = list(axes)
        self._static = []
        # (group, state) -> (picture, region), the most recently used last; a group is
        # an axes' index, or None for all of them together
        self._pictures = {}
        self._apart = True  # one picture per axes (False once two of them overlapped)

    def add(self, artist):
        """Draw ``artist`` here too, with the ticks: it must never change nor cover data."""
        artist.set_animated(True)
        self._static.append(artist)
        self._pictures.clear()

    def _state(self, group, renderer):
        """What the picture of a group of axes depends on."""
        state = [renderer.width, renderer.height, self.get_figure(root=True).dpi]
        for ax in group:
            ax.apply_aspect()
            state.append((ax.axison, ax.get_visible(), ax.get_position().bounds,
                          ax.viewLim.bounds, ax.get_xscale(), ax.get_yscale(),
                          ax.get_xlabel(), ax.get_ylabel()))
        return tuple(state)

    @staticmethod
    def _pixels(renderer):
        """The renderer's pixels, one uint32 each (a view, not a copy)."""
        return np.asarray(renderer.buffer_rgba()).view(np.uint32)[..., 0]

    def _changed(self, renderer, before):
        """The box of the pixels that differ from ``before``, in whole display pixels, or None.

        Measured rather than computed from the artists' extents, which leave
        out a legend's markers, say.
        """
        changed = self._pixels(renderer) != before
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if not rows.size:
            return None
        height = changed.shape[0]  # rows count down from the top, display y up from the bottom
        return Bbox([[cols[0], height - rows[-1] - 1], [cols[-1] + 1, height - rows[0]]])

    def draw(self, renderer):
        figure = self.get_figure(root=True)
        for ax in self._axes:
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_animated(True)
            # the white of the axes is the figure's: without it, the static artists
            # in the axes stay visible
            ax.patch.set_visible(False)
        if figure.canvas.is_saving():  # the axes draw their own ticks into a file
            return
        self._static = [artist for artist in self._static if artist.axes in self._axes]
        copies = hasattr(renderer, "copy_from_bbox")
        groups = (dict(enumerate([ax] for ax in self._axes)) if self._apart
                  else {None: self._axes})
        keys = {index: (index, self._state(group, renderer)) for index, group in groups.items()}
        missed, regions = [], []
        for index, key in keys.items():  # first the kept pictures, then draw over them
            kept = self._pictures.pop(key, None) if copies else None
            if kept is None:
                missed.append(index)
                continue
            self._pictures[key] = kept
            if kept[1] is not None:  # else this group draws nothing
                renderer.restore_region(kept[0])
                regions.append(kept[1])
        for index in missed:
            group = groups[index]
            before = self._pixels(renderer).copy() if copies and index is not None else None
            for ax in group:
                if ax.axison and ax.get_visible():
                    ax.xaxis.draw(renderer)
                    ax.yaxis.draw(renderer)
            for artist in self._static:
                if artist.get_visible() and artist.axes in group:  # not cleared away
                    artist.draw(renderer)
            if copies:
                region = figure.bbox if before is None else self._changed(renderer, before)
                picture = None if region is None else renderer.copy_from_bbox(region)
                self._pictures[keys[index]] = (picture, region)
                if region is not None:
                    regions.append(region)
        if any(a.overlaps(b) for a, b in itertools.combinations(regions, 2)):
            # a picture holds some of another axes' ticks: keep whole pictures from now
            self._apart = False
            self._pictures.clear()
        for index in groups:
            mine = [key for key in self._pictures if key[0] == index]
            for key in mine[:-self.KEPT]:
                del self._pictures[key]


def _live():
    """True in a Jupyter kernel, or under ipympl: the figure is then an ipympl canvas."""
    from IPython import get_ipython

    backend = matplotlib.get_backend().lower()
    return (getattr(get_ipython(), "kernel", None) is not None
            or "ipympl" in backend or backend == "widget")


_FIGURE_NUMBERS = itertools.count(1)


def _live_canvas(figure):
    """Put ``figure`` on an ``ExplorerCanvas``, with ipympl's figure manager."""
    # importing ipympl makes it pyplot's backend: the notebook's other figures would become
    # widgets instead of pictures (%matplotlib inline); choose the backend again
    backend = matplotlib.get_backend()
    from ._canvas import ExplorerCanvas, FigureManager

    if matplotlib.get_backend() != backend:
        matplotlib.use(backend)
    canvas = ExplorerCanvas(figure)
    FigureManager(canvas, next(_FIGURE_NUMBERS))
    canvas.header_visible = canvas.footer_visible = canvas.resizable = False
    canvas.toolbar_visible = False


def new_figure(figsize):
    """An explorer's figure, outside pyplot: on ipympl's canvas when live, else Agg's.

    The live canvas shows no "Figure N" header, footer, resize handle or
    toolbar (which would cover the figure's left edge): its controls are the
    explorer's.
    """
    if figsize[0] > FIGURE_WIDTH:
        raise ValueError(f"a figure {figsize[0]} inches wide does not fit the notebook: "
                         f"at most FIGURE_WIDTH = {FIGURE_WIDTH}")
    figure = Figure(figsize=figsize, dpi=SCREEN_DPI)
    if _live():
        _live_canvas(figure)
    else:
        FigureCanvasAgg(figure)
    return figure


class Explorer:
    """A matplotlib figure whose content follows a set of ipywidgets controls.

    Parameters
    ----------
    view : callable
        ``view(**values) -> dict``, called with one keyword per control. A
        view that could compute only part of its picture, because a stub
        raised ``NotImplementedError``, returns that error as ``missing``.
    draw : callable
        ``draw(axes, view_dict)``: draws on the list of axes. The axes are
        not cleared between draws: it makes its artists on the first draw
        (see ``artists``) and updates them later.
    controls : dict of str to ipywidgets.ValueWidget
        The sliders, dropdowns, ... by the keyword they set.
    ncols, nrows : int
        The grid of axes.
    figsize : tuple of float
        In inches of 100 px; at most ``FIGURE_WIDTH`` wide.
    projections : list of str or None, optional
        One matplotlib projection per axes (e.g. ``"3d"``).
    mosaic : list of list of str, optional
        Instead of the grid: a layout for ``Figure.subplot_mosaic``, in which
        an axes may span several cells, e.g. ``[["map", "loss"], ["units",
        "units"]]``; the axes are then in the order their names first appear.
    height_ratios : list of float, optional
        The relative heights of the mosaic's rows.
    active : callable, optional
        ``active(**values) -> set of str``: the controls that change the
        figure for these values; the others are disabled. Default: all.
    busy : str, optional
        For a view that trains (its sliders act on release): what the status
        line says while it computes, e.g. ``"training..."``.

    Attributes
    ----------
    view_data : dict or None
        What ``view`` returned for the current values; None when it raised
        ``NotImplementedError`` (then ``status`` says what to implement).
    status : ipywidgets.HTML
        A message line under the controls: what is still to implement.
    figure : matplotlib.figure.Figure
    """

    def __init__(self, view, draw, controls, ncols=1, nrows=1, figsize=(6.0, 4.0),
                 projections=None, active=None, mosaic=None, height_ratios=None, busy=None):
        self.view, self.draw, self.active, self.busy = view, draw, active, busy
        self.controls = dict(controls)
        self.status = widgets.HTML()
        self.view_data = None
        self._output = None
        self._laid_out = False
        if os.environ.get("NBGRADER_EXECUTION") == "autograde":
            # nobody sees figures while nbgrader grades: skip the work
            self.figure, self.axes = None, []
            self.status.value = "(figures are not drawn during autograding)"
            return
        self.figure = new_figure(figsize)  # shown as part of self.widget, not on its own
        projections = projections or [None] * (ncols * nrows)
        with plt.rc_context(STYLE):
            if mosaic is None:
                self.axes = [self.figure.add_subplot(nrows, ncols, i + 1, projection=p)
                             for i, p in enumerate(projections)]
            else:
                named = self.figure.subplot_mosaic(mosaic, height_ratios=height_ratios)
                order = dict.fromkeys(name for row in mosaic for name in row)
                self.axes = [named[name] for name in order]
        self.figure.add_artist(Backdrop(self.axes))
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()
        if not busy:  # (a view that trains would train every choice)
            for name, control in self.controls.items():
                for choice in _other_choices(control):
                    self.prepare(**{name: choice})

    def values(self):
        """The current value of every control, by keyword."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values):
        """Set several controls at once (one update per control)."""
        for name, value in values.items():
            self.controls[name].value = value

    def prepare(self, **values):
        """Compute and draw these values now, without showing them, so that they show fast.

        The view's caches and the kept pictures of the ticks (``Backdrop``) then
        hold them; the other controls keep their values. The explorer draws
        every choice of its dropdowns so when it is made. An error is left for
        when the values are chosen, which shows it.
        """
        if self.figure is None or self.view_data is None:
            return
        with DRAWING:
            shown = self.view_data
            try:
                self.draw(self.axes, self.view(**{**self.values(), **values}))
                FigureCanvasAgg.draw(self.figure.canvas)  # not sent to the page
            except Exception:  # any error of the student's code: shown when chosen
                pass
            finally:
                self.draw(self.axes, shown)

    def update(self, change=None):
        """Recompute the view for the current values and redraw the figure."""
        with DRAWING:
            self._update()

    def _update(self):
        values = self.values()
        if self.active is not None:
            active = self.active(**values)
            for name, control in self.controls.items():
                control.disabled = name not in active
        if self.busy and self.figure is not None:
            self.status.value = f"<i>{self.busy}</i>"  # sent now, before the view computes
        try:
            data = self.view(**values)
        except NotImplementedError as error:
            self.view_data = None
            self.status.value = f"<b>To see this figure:</b> {friendly_message(error)}."
            for ax in self.axes:
                ax.clear()
                artists(ax).clear()
                ax.set_axis_off()
            self.axes[0].text(0.5, 0.5, friendly_message(error), ha="center", va="center",
                              wrap=True, transform=self.axes[0].transAxes)
            self._refresh()
            self._laid_out = False
        else:
            missing = data.get("missing")
            self.status.value = "" if missing is None else (
                f"<b>To see the whole figure:</b> {friendly_message(missing)}; "
                "meanwhile it shows what works without it.")
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
        with DRAWING:
            self._show(data, now)

    def _show(self, data, now):
        self.view_data = data
        if not self._laid_out:  # the first picture, or the first after a message
            with plt.rc_context(STYLE):
                for ax in self.axes:
                    ax.clear()
                    artists(ax).clear()
                    ax.set_axis_on()
        self.draw(self.axes, data)
        if not self._laid_out:
            # once: the labels inside the figure (tight_layout on every draw would
            # cost as much as the drawing)
            self.figure.tight_layout()
            self._laid_out = True
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
        box = widgets.VBox([widgets.HBox(list(self.controls.values()),
                                         layout=widgets.Layout(flex_flow="row wrap")),
                            self.status, canvas])
        if self.busy:
            box.add_class(TRAINS_CLASS)  # the page can tell an explorer that trains
        return box

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if self.figure is None:
            return bundle
        # for pages shown without a kernel (JupyterLab prefers the widget): a sharp
        # picture at 1.5 times the pixels, shown at the live figure's size
        bundle["image/png"] = base64.b64encode(_png(self.figure)).decode("ascii")
        width = round(self.figure.get_figwidth() * self.figure.dpi)
        return bundle, {"image/png": {"width": width}}


def _other_choices(control):
    """The values a dropdown offers besides its current one (none for other controls)."""
    if not isinstance(control, widgets.Dropdown):
        return []
    values = [option[1] if isinstance(option, tuple) else option for option in control.options]
    return [value for value in values if value != control.value]


def display_figure(figure):
    """Show a figure as a static image (used when ipympl is not active)."""
    from IPython.display import Image, display

    display(Image(_png(figure)))


def frame_png(pixels):
    """A frame drawn often (``buffer_rgba()`` of a drawn canvas) as PNG, made for speed.

    The rows go unfiltered (PNG's filter type 0) to zlib's fastest level:
    half the time of Pillow's encoder, which tries a filter on every row,
    for a few percent more bytes; the page decodes it no slower.
    """
    pixels = np.asarray(pixels, dtype=np.uint8)
    height, width, channels = pixels.shape
    rows = np.zeros((height, 1 + width * channels), np.uint8)  # each row: its filter, 0
    rows[:, 1:] = pixels.reshape(height, -1)
    color = {3: 2, 4: 6}[channels]  # PNG's colour types: RGB, RGBA
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"".join([b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
                     _chunk(b"IDAT", zlib.compress(rows, 1)), _chunk(b"IEND", b"")])


def _chunk(kind, data):
    """A PNG chunk: its length, its type, the data and their CRC."""
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))))


def _png(figure):
    buffer = BytesIO()
    with DRAWING:
        figure.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


def slider(value, low, high, step, description, integer=False):
    """A labelled float (or, with ``integer=True``, int) slider that updates while dragged."""
    kind = widgets.IntSlider if integer else widgets.FloatSlider
    return kind(value=value, min=low, max=high, step=step, description=description,
                continuous_update=True, style={"description_width": "initial"})


# A log slider's values in each decade: round numbers, 1.11 to 1.33 times apart (0.14 and
# 0.16 stand either side of the descent explorer's limit).
LADDER = (1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 4, 5, 6, 8)


def log_slider(value, low, high, description):
    """A slider over round values from ``10**low`` to ``10**high``, ``LADDER`` in each decade.

    ``value`` is among them even if it is not round; the readout writes each
    value as ``as_readout`` does, so a title that uses it agrees.
    """
    values = {float(f"{mantissa}e{power}") for power in range(low, high) for mantissa in LADDER}
    values = sorted(values | {float(f"1e{high}"), float(value)})
    return widgets.SelectionSlider(options=[(as_readout(v), v) for v in values],
                                   value=float(value), description=description,
                                   continuous_update=True, style={"description_width": "initial"})


def as_readout(value):
    """A log slider's value as its readout shows it, e.g. ``0.05`` or ``0.001``."""
    return f"{value:g}"


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


# ---------------------------------------------------------------- shared by several explorers


def round_up(value):
    """The smallest of 1, 2 or 5 times a power of 10 that is at least ``value``.

    For an axis that should change seldom. An int for an int; 1 when ``value <= 0``.
    """
    if not value > 0:
        return 1
    power = 10.0 ** np.floor(np.log10(value))
    found = next(m * power for m in (1, 2, 5, 10) if m * power >= value * (1 - 1e-12))
    return int(round(found)) if isinstance(value, (int, np.integer)) else float(found)


def decision_boundary(xx, yy, probability):
    """The pieces of the line where ``probability`` crosses 0.5, as (K, 2) point arrays."""
    return contourpy.contour_generator(xx, yy, probability).lines(0.5)


def decision_shade(probability):
    """A decision map's colours, ``(R, R, 3)`` bytes: blue for 0, red for 1, pale.

    The colour map's colour mixed with 55 % white, opaque: it looks like the
    colour at alpha 0.45 on the white figure, and draws in half the time.
    """
    colours = matplotlib.colormaps["RdBu_r"](probability)[..., :3]
    return np.round(255.0 * (1.0 - 0.45 * (1.0 - colours))).astype(np.uint8)


def one_blas_thread():
    """A context in which numpy's matrix products run on one thread.

    Small products run fastest on one thread, on a busy machine by far, and timings then
    count operations, not how well the products spread over cores. Without threadpoolctl
    (installed with scikit-learn), nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
