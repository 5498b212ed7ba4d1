"""Shared test set-up: figures are drawn off-screen."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def student_nnlib(tmp_path_factory):
    """The student library, every exercise stubbed, imported as a package of its own."""
    from libraries import released_library

    return released_library(tmp_path_factory.mktemp("student") / "nnlib", "stubbed_nnlib")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test opened (explorers keep theirs open for the notebook)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
