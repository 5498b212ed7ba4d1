"""Shared test set-up: figures are drawn off-screen."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import importlib.util  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def student_nnlib(tmp_path_factory):
    """The student library, every exercise stubbed, imported as a package of its own."""
    from autograder import release

    folder = tmp_path_factory.mktemp("student") / "nnlib"
    release.release_library(release.REFERENCE_LIBRARY, folder)
    spec = importlib.util.spec_from_file_location(
        "stubbed_nnlib", folder / "__init__.py", submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["stubbed_nnlib"] = package
    spec.loader.exec_module(package)
    return package


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test opened (explorers keep theirs open for the notebook)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
