"""Run notebooks in a fresh kernel, for authors and for the tests."""

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .sandbox import UnixSocketKernelManager

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas():
    """Give the kernels started from now on one BLAS thread each (unless already set).

    Notebooks are run several at a time on few cores; a multi-threaded BLAS
    in each kernel then fights for the same cores and runs several times
    slower than one thread per kernel.
    """
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def execute(path, cwd=None, allow_errors=False, timeout=120):
    """Run a notebook top to bottom in a new kernel started in ``cwd``.

    Parameters
    ----------
    path : path-like
        The notebook.
    cwd : path-like, optional
        The kernel's working directory (which decides the nnlib it
        imports); the notebook's folder by default.
    allow_errors : bool, default False
        Keep going after a cell raises (the error is recorded in its output).
    timeout : int, default 120
        Seconds allowed per cell.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook (not saved).
    """
    single_threaded_blas()
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("widgets", None)
    NotebookClient(notebook, km=UnixSocketKernelManager(kernel_name="python3"),
                   timeout=timeout, allow_errors=allow_errors, store_widget_state=False,
                   resources={"metadata": {"path": str(cwd or path.parent)}}).execute()
    return notebook


def problems(notebook):
    """Errors and stderr output of an executed notebook, as readable strings."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {cell.get('id')}: {output.ename}: {output.evalue}")
            elif output.get("name") == "stderr":
                found.append(f"cell {cell.get('id')}: stderr: {output.text.strip()}")
    return found


def execute_in_place(paths):
    """Re-run the master notebooks and save them with their outputs.

    Returns
    -------
    list of (Path, float, list of str)
        Each notebook, the seconds it took and its problems (empty when clean).
    """
    report = []
    for path in paths:
        start = time.perf_counter()
        notebook = execute(path)
        seconds = time.perf_counter() - start
        nbformat.write(notebook, path)
        report.append((Path(path), seconds, problems(notebook)))
    return report
