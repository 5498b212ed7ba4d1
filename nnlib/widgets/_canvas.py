"""The explorers' live canvas: ipympl's, sending whole pictures (imported when first needed)."""

import time

import numpy as np
from ipympl.backend_nbagg import Canvas, FigureManager

from ._explorer import DRAWING, frame_png

__all__ = ["ExplorerCanvas", "FigureManager"]


class ExplorerCanvas(Canvas):
    """ipympl's canvas, sending every picture whole, and at once when it can.

    ipympl sends a picture when the page asks for one (``draw_idle`` asks the
    page, which answers "draw"), and sends only the pixels that changed since
    the last. A change then waits a round trip through the page (20 to 50 ms),
    and a picture the page drops (it replaces an image it has not yet
    decoded) leaves a hole that the next, partial, picture does not fill:
    the gaps a fast animation left. Here every picture is whole, so any but
    the last may be dropped; and a change draws at once unless a picture
    left less than ``PACE`` seconds ago, when it asks the page as ipympl does,
    so that a drag draws as fast as the page takes pictures.
    """

    PACE = 0.1
    _sent_at = -np.inf

    def draw_idle(self):
        # syncing_data_url: no page has shown the canvas yet (ipympl then keeps the picture
        # as a data URL, which a page cannot load): wait until one asks
        if not self.syncing_data_url and time.monotonic() - self._sent_at > self.PACE:
            self.draw()
        else:
            super().draw_idle()

    def draw(self):
        with DRAWING:  # the page's requests may come on another thread than the slider's
            super().draw()
        self._sent_at = time.monotonic()

    def get_diff_image(self):
        """The picture as a PNG, whole, or None if it was sent already.

        webagg's method, for whole pictures only, encoded as the explorers'
        other frames are (``frame_png``).
        """
        if not self._png_is_old:
            return None
        self.set_image_mode("full")  # tells the page when it changes
        pixels = np.asarray(self.get_renderer().buffer_rgba())
        self._last_buff = pixels.view(np.uint32).squeeze(2).copy()  # ipympl's data URL
        self._png_is_old = self._force_full = False
        return frame_png(pixels)

