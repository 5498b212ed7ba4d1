"""Headless tests of the notebook 01 explorers: set a control, check what is shown."""

import numpy as np
import pytest
from explorers import assert_every_control_matters, picture
from numpy.testing import assert_allclose

from nnlib.widgets import friendly_message
from nnlib.widgets._explorer import PNG_DPI
from nnlib.widgets.perceptron import boundary_explorer, perceptron_view, training_explorer


def test_perceptron_view_marks_the_misclassified_inputs():
    """Does the view count the inputs on the wrong side of the boundary?"""
    # w = (1, 1), b = -1.5: only (1, 1) scores above 0 -> exactly AND
    assert perceptron_view(1.0, 1.0, -1.5, "and")["n_wrong"] == 0
    # the same perceptron on OR gets (0, 1) and (1, 0) wrong
    view = perceptron_view(1.0, 1.0, -1.5, "or")
    assert view["wrong"].tolist() == [False, True, True, False]


def test_moving_the_bias_moves_the_line_and_the_count():
    """Does a bias slider move the drawn boundary and update the title?"""
    explorer = boundary_explorer()
    line = explorer.axes[0].lines[0]
    before = np.array(line.get_ydata())
    explorer.controls["b"].value = -0.5
    after = np.array(explorer.axes[0].lines[0].get_ydata())
    # the line is x2 = -(x1 + b): b from -1.5 to -0.5 lowers it by 1
    assert_allclose(after - before, [-1.0, -1.0])
    # on AND, (0, 1) and (1, 0) now score 0.5 > 0 but their target is 0
    assert explorer.view_data["wrong"].tolist() == [False, True, True, False]
    assert "2 of 4 misclassified" in explorer.axes[0].get_title()


def test_xor_always_has_a_mistake():
    """Does every slider setting leave at least one XOR input misclassified?"""
    explorer = boundary_explorer(gate="xor")
    for w1 in (-2.0, -0.5, 1.0, 2.0):
        for b in (-2.0, -0.3, 0.4, 1.5):
            explorer.set(w1=w1, b=b)
            assert explorer.view_data["n_wrong"] >= 1


def test_training_replay_moves_epoch_by_epoch():
    """Does the epoch slider replay training until OR is learned?"""
    explorer = training_explorer(gate="or", epoch=1)
    assert not explorer.view_data["converged"]
    bars = explorer.axes[1].collections[0]
    heights = lambda: [path.vertices[:, 1].max() for path in bars.get_paths()]  # noqa: E731
    assert sum(h > 0 for h in heights()) == 1
    explorer.controls["epoch"].value = 10
    assert explorer.view_data["converged"]
    assert explorer.view_data["n_wrong"] == 0
    assert heights() == explorer.view_data["mistakes"]
    assert explorer.axes[1].get_title() == "converged"


def test_the_learning_rate_scales_the_weights_shown_not_the_line():
    """From w = 0, does the rate scale w and b (shown in the corner) and leave the line?"""
    explorer = training_explorer(gate="and", epoch=3, learning_rate=1.0)
    line = np.array(explorer.axes[0].lines[0].get_xydata())
    w, b = explorer.view_data["w"], explorer.view_data["b"]
    explorer.controls["learning_rate"].value = 0.5
    assert_allclose(explorer.view_data["w"], 0.5 * w)
    assert explorer.view_data["b"] == pytest.approx(0.5 * b)
    assert_allclose(explorer.axes[0].lines[0].get_xydata(), line)
    corner = explorer.axes[0].texts[-1].get_text()
    assert f"b = {0.5 * b:.3g}" in corner and "learning rate 0.5 scales them" in corner


def test_every_control_of_the_boundary_explorer_changes_the_figure():
    """Do w1, w2, b and the gate each change the picture?"""
    assert_every_control_matters(boundary_explorer(),
                                 dict(w1=0.5, w2=-1.0, b=0.3, gate="xor"))


def test_every_control_of_the_training_explorer_changes_the_figure():
    """Do the gate, the epoch and the learning rate each change the picture?"""
    assert_every_control_matters(training_explorer(gate="or", epoch=1),
                                 dict(gate="and", epoch=4, learning_rate=0.3))


def test_the_labels_fit_in_the_figure():
    """Are the axis labels and the legend inside the figure (not clipped)?"""
    explorer = boundary_explorer()
    picture(explorer)
    renderer = explorer.figure.canvas.get_renderer()
    box = explorer.figure.bbox
    ax = explorer.axes[0]
    for artist in (ax.xaxis.label, ax.yaxis.label, ax.get_legend(), ax.title):
        extent = artist.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1


def test_before_the_exercises_the_points_and_the_line_are_drawn(student_nnlib):
    """Over the stubbed library, does the boundary explorer draw the gate and the line?"""
    from importlib import import_module

    widgets = import_module(f"{student_nnlib.__name__}.widgets.perceptron")
    explorer = widgets.boundary_explorer()
    assert "implement perceptron_predict in nnlib/perceptron.py first (Exercise 1.2)" in (
        explorer.status.value)
    ax = explorer.axes[0]
    # the line w1 x1 + w2 x2 + b = 0 with w = (1, 1), b = -1.5: x2 = 1.5 - x1
    assert_allclose(ax.lines[0].get_xdata() + ax.lines[0].get_ydata(), [1.5, 1.5])
    assert sum(len(c.get_offsets()) for c in ax.collections) == 4  # the four inputs
    assert not ax.images[0].get_visible()  # the regions wait for perceptron_predict
    assert "perceptron_predict (Exercise 1.2)" in ax.get_title()
    before = picture(explorer)
    explorer.controls["b"].value = -0.5  # the line still follows its sliders
    assert not np.array_equal(picture(explorer), before)
    training = widgets.training_explorer()
    assert "(Exercise 1." in training.status.value
    assert "perceptron_train" in training.axes[1].get_title() or (
        "perceptron_predict" in training.axes[1].get_title())
    assert explorer.widget is not None  # it still displays


def test_friendly_message_without_an_exercise_label():
    """Does a NotImplementedError without a label still read sensibly?"""
    try:
        raise NotImplementedError("not yet")
    except NotImplementedError as error:
        assert friendly_message(error).endswith("not yet")


@pytest.mark.parametrize("gate", ["and", "or", "xor"])
def test_explorer_renders_as_a_widget_with_a_static_image(gate):
    """Does the explorer give a widget bundle plus a PNG for pages without a kernel?"""
    explorer = boundary_explorer(gate=gate)
    bundle, metadata = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert len(bundle["image/png"]) > 1000
    # drawn at 1.5 times the screen's pixels, shown at the screen's size
    assert PNG_DPI == 1.5 * explorer.figure.dpi
    assert metadata["image/png"]["width"] == round(explorer.figure.get_figwidth() * 100)


def test_explorers_skip_all_work_during_autograding(monkeypatch):
    """Does an explorer compute and draw nothing while nbgrader autogrades?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    explorer = boundary_explorer()
    assert explorer.figure is None and explorer.view_data is None
    assert "not drawn during autograding" in explorer.status.value
    assert "image/png" not in explorer._repr_mimebundle_()


def test_the_live_canvas_is_bare_and_sends_whole_pictures():
    """Under ipympl, is the explorer's canvas ipympl's, without the "Figure 1" header, footer,
    resize handle or toolbar, and is every picture it sends whole (not only what changed)?"""
    import os
    import subprocess
    import sys
    from pathlib import Path

    program = ("from ipympl.backend_nbagg import Canvas\n"
               "from nnlib.widgets.perceptron import boundary_explorer\n"
               "explorer = boundary_explorer()\n"
               "canvas = explorer.figure.canvas\n"
               "canvas.draw()\n"
               "explorer.set(w1=0.5)\n"
               "canvas.draw()\n"
               "print(isinstance(canvas, Canvas), canvas.header_visible, canvas.footer_visible,"
               " canvas.resizable, canvas.toolbar_visible, canvas._current_image_mode)\n")
    solutions = Path(__file__).resolve().parents[1] / "solutions"
    environment = {**os.environ, "MPLBACKEND": "module://ipympl.backend_nbagg"}
    shown = subprocess.run([sys.executable, "-c", program], cwd=solutions, env=environment,
                           capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["True", "False", "False", "False", "False", "full"], (
        "expected an ipympl canvas, no header, footer, resize handle or toolbar, and the "
        f"second picture sent whole ('full'); got {shown.split()}")


@pytest.mark.parametrize("channels", [3, 4])
def test_frames_decode_to_the_pixels_they_were_made_of(channels):
    """Does Pillow read a frame (``frame_png``) back as the very pixels it was made of?"""
    import io

    import PIL.Image

    from nnlib.widgets._explorer import frame_png

    explorer = boundary_explorer()
    drawn = picture(explorer)
    noise = np.random.default_rng(0).integers(0, 256, size=(17, 33, 4), dtype=np.uint8)
    for pixels in (drawn[..., :channels], noise[..., :channels]):
        decoded = np.asarray(PIL.Image.open(io.BytesIO(frame_png(pixels))))
        assert decoded.shape == pixels.shape and np.array_equal(decoded, pixels), (
            f"a {pixels.shape} frame read back as {decoded.shape} with other pixels")


def test_an_explorer_waits_while_another_thread_draws():
    """ipykernel 7 may run a widget's message on a subshell thread while a cell runs: does an
    update wait for the drawing lock, so that two threads never draw one figure at once?"""
    import threading

    from nnlib.widgets._explorer import DRAWING

    explorer = boundary_explorer()
    done = threading.Event()

    def move():
        explorer.controls["w1"].value = 0.5
        done.set()

    with DRAWING:
        worker = threading.Thread(target=move)
        worker.start()
        assert not done.wait(0.3), "the update ran while another thread held the drawing lock"
    worker.join(10)
    assert done.is_set() and explorer.view_data["w"][0] == 0.5
