"""Benchmark: how long each explorer takes to follow a control, per change.

For every explorer of ``nnlib.widgets`` the benchmark moves each control
through a few values, round after round, and times every change (CPU time
of the kernel's process, which a busy machine disturbs less than the clock on
the wall) in three parts: the view function (computing with nnlib), the draw (updating the
figure's artists, with what the Explorer does around it) and a full render
of the figure with the Agg canvas (``figure.canvas.draw()``, what ipympl runs
before it sends the picture). It prints the median over the changes, in
milliseconds, and the median of the first round alone ("cold"), when every
value is new and nothing is cached yet.

With ``--before REV``, the same measurement runs first on the explorers of
that git revision (``solutions/nnlib`` as it was, imported as a package of
its own), so that the table compares before and after within one run:

    .venv/bin/python bench/widgets.py --before f0b8d48
    .venv/bin/python bench/widgets.py --only playground approximation --rounds 2

Not a test: timings on a shared machine are noisy, so compare them only within
one run.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import import_module
from pathlib import Path

os.environ["MPLBACKEND"] = "Agg"
os.environ.pop("NBGRADER_EXECUTION", None)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "solutions"))  # the reference nnlib, not the student copy

import matplotlib.pyplot as plt  # noqa: E402

from autograder.release import import_library  # noqa: E402

# explorer: (module, factory, keyword arguments as the notebook passes them,
#            {control: values to visit, round after round})
EXPLORERS = {
    "boundary": ("perceptron", "boundary_explorer", dict(gate="and"), {
        "w1": [0.5, 1.5, -1.0, 1.0, 2.0], "w2": [0.5, 1.5, -1.0, 1.0, 2.0],
        "b": [-0.5, -2.0, 1.0, -1.5, 0.0], "gate": ["or", "xor", "and"]}),
    "perceptron training": ("perceptron", "training_explorer", dict(gate="or", epoch=1), {
        "epoch": [2, 5, 10, 15, 1], "learning_rate": [0.5, 1.5, 0.2, 1.0, 2.0],
        "gate": ["and", "xor", "or"]}),
    "activation": ("activations", "activation_explorer", dict(activation="sigmoid"), {
        "activation": ["tanh", "relu", "leaky_relu", "sigmoid"],
        "alpha": [0.1, 0.3, 0.05, 0.01, 0.2]}),
    "depth": ("activations", "depth_explorer", dict(activation="sigmoid", depth=10), {
        "activation": ["tanh", "relu", "leaky_relu", "sigmoid"],
        "depth": [5, 20, 30, 1, 10], "active_side": [True, False],
        "seed": [1, 2, 3, 0]}),
    "xor network": ("network", "xor_network_explorer", {}, {
        name: [2.0, -3.0, 6.0, 1.0] for name in
        ("w1_00", "w1_01", "b1_0", "w1_10", "w1_11", "b1_1", "w2_00", "w2_01", "b2_0")}),
    "init": ("network", "init_explorer", dict(method="xavier", activation="tanh", depth=10), {
        "method": ["he", "small", "large", "xavier"],
        "activation": ["relu", "sigmoid", "tanh"], "depth": [5, 20, 30, 1, 10]}),
    "loss": ("losses", "loss_explorer", dict(target=1.0, prediction=0.2), {
        "target": [0.0, 1.0], "prediction": [0.5, 0.1, 0.9, 0.01, 0.2]}),
    "graph": ("backprop", "graph_explorer", dict(x=1.0, target=0.0), {
        "x": [0.5, -1.5, 2.0, 1.0], "target": [1.0, -0.5, 0.0],
        "w1": [2.0, -1.0, 1.0], "w2": [1.0, 0.5, -0.5], "v1": [0.5, -2.0, 1.5],
        "v2": [1.0, 2.0, -1.0]}),
    "complexity": ("backprop", "complexity_explorer", dict(vary="width"), {
        "vary": ["depth", "width"]}),
    "descent": ("training", "descent_explorer", dict(learning_rate=0.05, steps=50), {
        "learning_rate": [0.01, 0.1, 0.16, 0.001, 0.05], "steps": [10, 80, 100, 0, 50]}),
    "playground": ("training", "playground_explorer",
                   dict(dataset="moons", hidden_units=8, activation="tanh",
                        learning_rate=0.5, epochs=100), {
        "dataset": ["circles", "xor", "moons"], "activation": ["relu", "sigmoid", "tanh"],
        "hidden_units": [4, 16, 8], "hidden_layers": [2, 1],
        "learning_rate": [0.1, 1.0, 0.5], "epochs": [50, 200, 100],
        "noise": [0.0, 2.0, 1.0], "batch_size": [16, 200, 64, 32]}),
    "approximation": ("approximation", "approximation_explorer",
                      dict(kind="bumps", hidden_units=3), {
        "kind": ["sine", "step", "abs", "bumps"], "hidden_units": [1, 10, 30, 3]}),
}


def measure(library, name, rounds):
    """Time every change of every control of one explorer.

    Returns
    -------
    dict of str to list of (view, draw, render) seconds, by control, with the
    first round's changes first; ``"cold"`` counts how many changes per
    control belong to the first round.
    """
    module, factory, kwargs, moves = EXPLORERS[name]
    explorer = getattr(import_module(f"{library}.widgets.{module}"), factory)(**kwargs)
    spent = {"view": 0.0}
    view = explorer.view

    def timed_view(*args, **values):
        start = time.process_time()
        try:
            return view(*args, **values)
        finally:
            spent["view"] += time.process_time() - start

    explorer.view = timed_view
    timings, cold = {}, {}
    for control, values in moves.items():
        if control not in explorer.controls:
            continue
        timings[control] = []
        for round_ in range(rounds):
            for value in values:
                if explorer.controls[control].value == value:
                    continue
                spent["view"] = 0.0
                start = time.process_time()
                explorer.controls[control].value = value
                drawn = time.process_time()
                explorer.figure.canvas.draw()
                rendered = time.process_time()
                timings[control].append((spent["view"], drawn - start - spent["view"],
                                         rendered - drawn))
            if round_ == 0:
                cold[control] = len(timings[control])
    plt.close(explorer.figure)
    return timings, cold


def summary(timings, cold):
    """Median view, draw, render and total (ms) over all changes; cold total; worst control."""
    changes = [t for control in timings for t in timings[control]]
    first = [t for control in timings for t in timings[control][:cold[control]]]
    ms = lambda values: 1e3 * statistics.median(values)  # noqa: E731
    totals = {control: ms([sum(t) for t in ts]) for control, ts in timings.items() if ts}
    worst = max(totals, key=totals.get)
    return (ms([t[0] for t in changes]), ms([t[1] for t in changes]),
            ms([t[2] for t in changes]), ms([sum(t) for t in changes]),
            ms([sum(t) for t in first]), f"{worst} {totals[worst]:.0f}")


def library_at(revision, folder):
    """``solutions/nnlib`` at a git revision, imported as the package ``nnlib_before``."""
    archive = subprocess.run(["git", "archive", revision, "solutions/nnlib"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    import_library(Path(folder) / "solutions" / "nnlib", "nnlib_before")
    return "nnlib_before"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV",
                        help="also measure the explorers of this git revision")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each control visits its values (default 3, about 15 "
                             "changes per explorer and control group)")
    parser.add_argument("--only", nargs="*", choices=sorted(EXPLORERS), metavar="EXPLORER")
    args = parser.parse_args()
    libraries = [("after", "nnlib")]
    assert import_module("nnlib").__file__.startswith(str(ROOT / "solutions"))
    with tempfile.TemporaryDirectory() as folder:
        if args.before:
            libraries.insert(0, (f"before ({args.before})", library_at(args.before, folder)))
        header = (f"{'explorer':<20} {'version':<18} {'view':>7} {'draw':>7} {'render':>7} "
                  f"{'total':>7} {'cold':>7}  slowest control (total)")
        print("CPU milliseconds per change, median over the changes; cold: the first round only")
        print(header)
        print("-" * len(header))
        for name in args.only or EXPLORERS:
            for label, library in libraries:
                row = summary(*measure(library, name, args.rounds))
                print(f"{name:<20} {label:<18} "
                      + " ".join(f"{value:7.1f}" for value in row[:5]) + f"  {row[5]}",
                      flush=True)


if __name__ == "__main__":
    main()
