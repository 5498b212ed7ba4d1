"""Interactive figures for the notebooks (provided code, not an exercise).

Every explorer is built in three layers, so that what it shows can be
tested without a screen:

1. a *view* function with keyword defaults (e.g. ``perceptron_view(w1=1.0,
   w2=1.0, b=-1.5, gate="and")``) computes everything with nnlib and returns
   a plain dict; it draws nothing;
2. a *draw* function takes matplotlib axes and that dict, and only draws;
3. an ``Explorer`` connects sliders to both: moving a slider calls the view
   function with the sliders' values and redraws the same figure.

When an nnlib function the view needs is not implemented yet, the explorer
says which one to implement instead of showing a traceback.

Import the explorers from the submodule of their notebook, e.g.
``from nnlib.widgets.perceptron import boundary_explorer``.
"""

from ._explorer import Explorer, friendly_message

__all__ = ["Explorer", "friendly_message"]
