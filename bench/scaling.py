"""Benchmark: how nnlib's reference forward and backward passes scale against the notes'
O(L n^2), and how much memory a training run takes against the notes' count.

Time. A network of L layers of width n (``[n] * (L + 1)``, ReLU, then an identity output
with the mse loss) runs ``network.forward_pass`` and ``backprop.backpropagation`` on a batch
of N = 64 samples, first as n grows at L = 4, then as L grows at n = 256. Times are CPU
seconds with numpy's BLAS on one thread, so that they count the work, not the waiting; each
point repeats its call until it fills 50 ms, after one untimed call (the first call after
other sizes pays for fresh pages), the sweeps over the sizes are repeated and the least time
of a point counts (noise on a shared machine only adds). Fitted: the exponent of
n by log-log least squares over the large-n points, and the exponent of L, each with the
standard error of the slope and the range of the exponents fitted sweep by sweep. The same
matrix products in bare numpy, timed beside them, show what the arithmetic alone does; the
time per multiply-add and the local exponent between neighbouring widths show where
per-call overhead hides the n^2.

Memory. The peak resident memory (``ru_maxrss``) of a forked process that trains, less that
of a forked process that does everything but train, against the notes' count of float64 numbers:
weights and biases, as many gradients, and the forward pass's cached ``A`` and ``Z`` for one
batch (``N * (n_0 + 2 * (n_1 + ... + n_L))``). tracemalloc's peak of the same training, in
this process, counts only numpy's allocations.

    .venv/bin/python bench/scaling.py            # the full run (one to two minutes)
    .venv/bin/python bench/scaling.py --tiny     # one sweep on tiny sizes (smoke test)

Not a test: timings on a shared machine are noisy, so compare them only within one run.
"""

import argparse
import linecache
import os
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.release import REFERENCE_LIBRARY, import_library  # noqa: E402
from bench import report  # noqa: E402

EXPONENT_TOLERANCE = 0.2    # a fitted exponent within this of the notes' meets the target
MEMORY_TARGET = 2.0         # peak / predicted within this factor meets the target
OVERHEAD_EXPONENT = 1.5     # a local exponent of n below this: overhead hides the n^2


@dataclass
class Sizes:
    widths: tuple = (16, 32, 64, 128, 256, 512, 1024, 2048)
    depth: int = 4              # L of the width sweep
    fit_from: int = 256         # the exponent of n is fitted over n >= fit_from
    depths: tuple = (1, 2, 4, 8, 16, 32)
    width: int = 256            # n of the depth sweep
    batch: int = 64
    sweeps: int = 5
    min_seconds: float = 0.05   # CPU time that one measurement fills, calls repeated
    # (n, L, N) of the training runs whose memory is measured: weights dominate the first
    # two, the cached activations of a large batch the last two
    memory: tuple = ((512, 4, 64), (1024, 4, 64), (256, 4, 1024), (256, 4, 4096))


TINY = Sizes(widths=(8, 16, 32), depth=2, fit_from=8, depths=(1, 2, 3), width=16, batch=8,
             sweeps=1, min_seconds=0.002, memory=((64, 2, 16),))


# ---------------------------------------------------------------- the networks


def network(nnlib, width, depth, batch, seed=0):
    """A network of ``depth`` layers of ``width`` units and a batch for it:
    ``(X, Y, weights, biases, activations)``, X and Y of shape (batch, width)."""
    weights, biases = nnlib.network.init_params([width] * (depth + 1), method="he", seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, width))
    Y = rng.normal(size=(batch, width))
    return X, Y, weights, biases, ["relu"] * (depth - 1) + ["identity"]


def multiply_adds(width, depth, batch):
    """Multiply-adds of the products of one forward pass and of one backward pass (which
    runs the forward pass again, then ``dW = delta^T A`` per layer and ``delta W`` for every
    layer but the first)."""
    forward = batch * depth * width ** 2
    return {"forward": forward, "backward": forward + (2 * depth - 1) * batch * width ** 2}


def bare_forward(X, weights):
    """The forward pass's matrix products alone, in numpy."""
    A = X
    for W in weights:
        A = A @ W.T
    return A


def bare_backward(X, weights):
    """The backward pass's matrix products alone: forward, then dW and delta per layer."""
    cache = [X]
    for W in weights:
        cache.append(cache[-1] @ W.T)
    delta = cache[-1]
    gradients = []
    for i in range(len(weights) - 1, -1, -1):
        gradients.append(delta.T @ cache[i])
        if i > 0:
            delta = delta @ weights[i]
    return gradients


def passes(nnlib, X, Y, weights, biases, activations):
    """name -> zero-argument callable: nnlib's two passes, the bare products of each, and
    the validation each pass runs first (``network.check_network``, which copies the
    weights), where this nnlib has it."""
    found = {
        "forward": lambda: nnlib.network.forward_pass(X, weights, biases, activations),
        "backward": lambda: nnlib.backprop.backpropagation(X, Y, weights, biases, activations,
                                                           "mse"),
        "forward, numpy products": lambda: bare_forward(X, weights),
        "backward, numpy products": lambda: bare_backward(X, weights),
    }
    check = getattr(nnlib.network, "check_network", None)
    if check is not None:
        found["validation"] = lambda: check(X, weights, biases, activations)
    return found


def outside(least, name, first, widths):
    """The share of the pass's time spent outside its matrix products, at ``widths[first]``
    and at the largest width, as text."""
    shares = [1 - p / t for p, t in zip(least[f"{name}, numpy products"], least[name])]
    i = widths.index(first)
    return f"{shares[i]:.0%} at n = {first}, {shares[-1]:.0%} at n = {widths[-1]}"


def validation_note(times, widths, name):
    """Where the validation was timed: one call's share of the pass at the largest width
    (a pass may validate more than once: a backpropagation that runs the checked forward
    pass validates twice)."""
    if "validation" not in times:
        return ""
    share = min(times["validation"][-1]) / min(times[name][-1])
    return f"; one check_network call alone at n = {widths[-1]}: {share:.0%} of the pass"


# ---------------------------------------------------------------- timing


def calls_to_fill(run, seconds):
    """How many calls of ``run`` fill ``seconds`` of CPU time (a power of 2)."""
    calls = 1
    while True:
        start = time.process_time()
        for _ in range(calls):
            run()
        if time.process_time() - start >= seconds or calls >= 2 ** 16:
            return calls
        calls *= 2


def cpu_seconds_per_call(run, calls):
    """CPU seconds per call, after one call untimed: the first call after other sizes ran
    pays for the allocator mapping fresh pages for its large arrays (a backward pass at
    n = 2048 took 400 to 760 ms on its first call and 250 to 300 ms on the next, measured);
    a training loop pays that once, and whichever pass ran first would pay it here."""
    run()
    start = time.process_time()
    for _ in range(calls):
        run()
    return (time.process_time() - start) / calls


def sweep_times(nnlib, shapes, sizes):
    """CPU seconds per call, ``times[name][i][s]`` for shape i and sweep s.

    ``shapes`` lists (width, depth); every sweep visits all shapes in turn, so slow spells
    of a shared machine spread over the shapes instead of falling on one.
    """
    cases = [passes(nnlib, *network(nnlib, n, L, sizes.batch)) for n, L in shapes]
    calls = [{name: calls_to_fill(run, sizes.min_seconds) for name, run in case.items()}
             for case in cases]
    times = {name: [[] for _ in shapes] for name in cases[0]}
    for _ in range(sizes.sweeps):
        for i, case in enumerate(cases):
            for name, run in case.items():
                times[name][i].append(cpu_seconds_per_call(run, calls[i][name]))
    return times


def fit_exponent(x, t):
    """Slope of log t against log x by least squares, and its standard error
    (``nan`` with fewer than three points)."""
    u, v = np.log(np.asarray(x, float)), np.log(np.asarray(t, float))
    slope, intercept = np.polyfit(u, v, 1)
    if len(u) < 3:
        return float(slope), float("nan")
    residuals = v - (slope * u + intercept)
    variance = residuals @ residuals / (len(u) - 2)
    return float(slope), float(np.sqrt(variance / np.sum((u - u.mean()) ** 2)))


@dataclass
class Fit:
    exponent: float
    error: float        # standard error of the slope, fitted over the least times
    low: float          # least and greatest exponent fitted sweep by sweep
    high: float


def fit(x, per_point, keep):
    """Fit the exponent over the points where ``keep`` holds, from the least time of each
    point, and sweep by sweep for the range."""
    x = [xi for xi, k in zip(x, keep) if k]
    per_point = [p for p, k in zip(per_point, keep) if k]
    exponent, error = fit_exponent(x, [min(p) for p in per_point])
    by_sweep = [fit_exponent(x, [p[s] for p in per_point])[0]
                for s in range(len(per_point[0]))]
    return Fit(exponent, error, min(by_sweep), max(by_sweep))


def shown(result):
    error = "" if np.isnan(result.error) else f" +- {result.error:.2f}"
    return f"{result.exponent:.2f}{error}"


def local_exponents(x, t):
    """Exponent between each point and the next: ``log(t2 / t1) / log(x2 / x1)``."""
    return [float(np.log(t2 / t1) / np.log(x2 / x1))
            for x1, x2, t1, t2 in zip(x, x[1:], t, t[1:])]


# ---------------------------------------------------------------- width and depth


def width_rows(nnlib, sizes):
    """Rows for the exponent of n, the overhead at small n, and the detail table."""
    times = sweep_times(nnlib, [(n, sizes.depth) for n in sizes.widths], sizes)
    least = {name: [min(p) for p in per_point] for name, per_point in times.items()}
    large = [n >= sizes.fit_from for n in sizes.widths]
    fitted_from = min(n for n, k in zip(sizes.widths, large) if k)
    rows = []
    for name in ("forward", "backward"):
        result = fit(sizes.widths, times[name], large)
        bare = fit(sizes.widths, times[f"{name}, numpy products"], large)
        rows.append(report.Row(
            "scaling", f"{name} pass: time exponent in n (n >= {fitted_from}, L = "
            f"{sizes.depth}, N = {sizes.batch})", shown(result),
            f"2 +- {EXPONENT_TOLERANCE} (the notes' O(L n^2))",
            abs(result.exponent - 2) <= EXPONENT_TOLERANCE,
            f"{result.low:.2f} to {result.high:.2f} over {sizes.sweeps} sweeps; "
            f"numpy's products alone {shown(bare)}; time outside the products "
            f"{outside(least, name, fitted_from, sizes.widths)}"
            f"{validation_note(times, sizes.widths, name)}"))
    for name in ("forward", "backward"):
        local = local_exponents(sizes.widths, least[name])
        # a segment from widths[i] to widths[i + 1] that grows slower than n^1.5
        hidden = [sizes.widths[i + 1] for i, e in enumerate(local) if e < OVERHEAD_EXPONENT]
        ratio = least[name][0] / least[f"{name}, numpy products"][0]
        per_mac = [t / multiply_adds(n, sizes.depth, sizes.batch)[name] * 1e9
                   for n, t in zip(sizes.widths, least[name])]
        rows.append(report.Row(
            "scaling", f"{name} pass: widths where per-call overhead hides the n^2 (local "
            f"exponent < {OVERHEAD_EXPONENT})", f"n <= {max(hidden)}" if hidden else "none",
            note=f"{per_mac[0]:.2f} ns per multiply-add at n = {sizes.widths[0]}, "
            f"{min(per_mac):.2f} at best; at n = {sizes.widths[0]} a call takes "
            f"{least[name][0] * 1e6:.0f} us, {ratio:.0f}x numpy's products alone"))
    return rows, width_table(sizes, least)


def width_table(sizes, least):
    lines = ["| n | forward | backward | forward ns / multiply-add | backward ns / multiply-add "
             "| local exponent fwd, bwd | numpy products fwd, bwd | outside the products fwd, "
             "bwd | check_network |", "|---|---|---|---|---|---|---|---|---|"]
    local = {name: local_exponents(sizes.widths, t) + [float("nan")]
             for name, t in least.items()}
    for i, n in enumerate(sizes.widths):
        macs = multiply_adds(n, sizes.depth, sizes.batch)
        f, b = least["forward"][i], least["backward"][i]
        check = f"{least['validation'][i] * 1e3:.3f} ms" if "validation" in least else ""
        pf, pb = least["forward, numpy products"][i], least["backward, numpy products"][i]
        lines.append(
            f"| {n} | {f * 1e3:.3f} ms | {b * 1e3:.3f} ms | {f / macs['forward'] * 1e9:.3f} | "
            f"{b / macs['backward'] * 1e9:.3f} | {local['forward'][i]:.2f}, "
            f"{local['backward'][i]:.2f} | {pf * 1e3:.3f} ms, {pb * 1e3:.3f} ms | "
            f"{1 - pf / f:.0%}, {1 - pb / b:.0%} | {check} |")
    return "\n".join(lines)


def depth_rows(nnlib, sizes):
    """Rows for the exponent of L, and the detail table."""
    times = sweep_times(nnlib, [(sizes.width, L) for L in sizes.depths], sizes)
    rows = []
    for name in ("forward", "backward"):
        result = fit(sizes.depths, times[name], [True] * len(sizes.depths))
        bare = fit(sizes.depths, times[f"{name}, numpy products"], [True] * len(sizes.depths))
        rows.append(report.Row(
            "scaling", f"{name} pass: time exponent in L (L = {sizes.depths[0]}.."
            f"{sizes.depths[-1]}, n = {sizes.width}, N = {sizes.batch})", shown(result),
            f"1 +- {EXPONENT_TOLERANCE} (the notes' O(L n^2))",
            abs(result.exponent - 1) <= EXPONENT_TOLERANCE,
            f"{result.low:.2f} to {result.high:.2f} over {sizes.sweeps} sweeps; "
            f"numpy's products alone {shown(bare)}"))
    lines = ["| L | forward | backward | numpy products fwd, bwd |", "|---|---|---|---|"]
    for i, L in enumerate(sizes.depths):
        least = {name: min(p[i]) * 1e3 for name, p in times.items()}
        lines.append(f"| {L} | {least['forward']:.3f} ms | {least['backward']:.3f} ms | "
                     f"{least['forward, numpy products']:.3f} ms, "
                     f"{least['backward, numpy products']:.3f} ms |")
    return rows, "\n".join(lines)


# ---------------------------------------------------------------- memory


def predicted_numbers(width, depth, batch):
    """The notes' count of float64 numbers a training step holds: weights and biases, as
    many gradients, and the cached ``A[0..L]`` and ``Z[1..L]`` of one batch."""
    sizes = [width] * (depth + 1)
    parameters = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    cache = batch * (sum(sizes) + sum(sizes[1:]))
    return {"weights": parameters, "gradients": parameters, "activations": cache}


def training_data(width, batch, seed=0):
    """Two batches of inputs and targets, both of shape (2 * batch, width)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2 * batch, width)), rng.normal(size=(2 * batch, width))


def train(nnlib, X, Y, width, depth, batch):
    """One epoch of two steps (the update included) on a network of the benchmark's shape."""
    return nnlib.training.train_network(
        X, Y, [width] * (depth + 1), ["relu"] * (depth - 1) + ["identity"], loss="mse",
        learning_rate=1e-3, epochs=1, batch_size=batch, init="he", seed=0)


def peak_rss(nnlib, width, depth, batch, trains):
    """Peak resident memory, in bytes, of a forked copy of this process that makes the data
    and then trains (or not). A fork starts from this process's resident pages, not its
    peak, and costs no second start-up of Python and its imports."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read)
            X, Y = training_data(width, batch)
            if trains:
                with threadpool_limits(limits=1, user_api="blas"):
                    train(nnlib, X, Y, width, depth, batch)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
            os.write(write, str(peak).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"the forked training (n = {width}, L = {depth}, N = {batch}) "
                           f"failed with status {status}")
    return int(text)


def traced_peak(nnlib, width, depth, batch):
    """tracemalloc's peak of the training alone, in bytes (numpy reports its buffers)."""
    X, Y = training_data(width, batch)
    tracemalloc.start()
    try:
        train(nnlib, X, Y, width, depth, batch)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def peak_holders(nnlib, width, depth, batch, top=6):
    """What holds the memory at the training's peak: [(MiB, "file:line  code")], the
    ``top`` lines whose allocations are alive in a tracemalloc snapshot taken whenever the
    traced memory reaches a new high (checked at every call and return, so a peak inside one
    numpy expression is seen at the nearest call). An allocation made by the shared checks
    (``_checks.as_float_array``'s copy) is named by the line that asked for it."""
    X, Y = training_data(width, batch)
    high = {"bytes": 0, "snapshot": None}

    def watch(frame, event, arg):
        current = tracemalloc.get_traced_memory()[0]
        if current > high["bytes"]:
            high.update(bytes=current, snapshot=tracemalloc.take_snapshot())

    tracemalloc.start(2)
    sys.setprofile(watch)
    try:
        train(nnlib, X, Y, width, depth, batch)
    finally:
        sys.setprofile(None)
        tracemalloc.stop()
    by_line = {}
    for trace in high["snapshot"].traces:
        frames = list(reversed(trace.traceback))  # the most recent call first
        frame = next((f for f in frames if Path(f.filename).name != "_checks.py"), frames[0])
        key = (frame.filename, frame.lineno)
        by_line[key] = by_line.get(key, 0) + trace.size
    found = []
    for (filename, lineno), size in sorted(by_line.items(), key=lambda item: -item[1])[:top]:
        code = linecache.getline(filename, lineno).strip()
        found.append((size / 2 ** 20, f"{Path(filename).name}:{lineno}  {code}"))
    return found


def memory_rows(nnlib, sizes):
    rows = []
    lines = ["| n | L | N | predicted | of which weights, gradients, activations | peak RSS - "
             "idle | ratio | tracemalloc peak | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    train(nnlib, np.ones((4, 2)), np.ones((4, 2)), 2, 2, 2)    # every code path loaded
    for width, depth, batch in sizes.memory:
        counts = predicted_numbers(width, depth, batch)
        predicted = 8 * sum(counts.values())
        measured = (peak_rss(nnlib, width, depth, batch, True)
                    - peak_rss(nnlib, width, depth, batch, False))
        traced = traced_peak(nnlib, width, depth, batch)
        ratio = measured / predicted
        rows.append(report.Row(
            "scaling", f"training memory: peak RSS / predicted (n = {width}, L = {depth}, "
            f"N = {batch})", report.ratio(ratio, MEMORY_TARGET), f"<= {MEMORY_TARGET:g}x",
            ratio <= MEMORY_TARGET,
            f"{measured / 2 ** 20:.1f} MiB against {predicted / 2 ** 20:.1f} MiB of float64 "
            f"weights, gradients and cached activations; tracemalloc {traced / predicted:.2f}x."
            " Alive at the peak: " + "; ".join(
                f"{mib:.1f} MiB from {where}"
                for mib, where in peak_holders(nnlib, width, depth, batch))))
        share = ", ".join(f"{8 * c / 2 ** 20:.1f}" for c in counts.values())
        lines.append(f"| {width} | {depth} | {batch} | {predicted / 2 ** 20:.1f} MiB | {share} "
                     f"MiB | {measured / 2 ** 20:.1f} MiB | {ratio:.2f}x | "
                     f"{traced / 2 ** 20:.1f} MiB | {traced / predicted:.2f}x |")
    return rows, "\n".join(lines)


# ---------------------------------------------------------------- the benchmark


def measure(tiny=False):
    """Rows and the detail tables (width, depth, memory) as markdown."""
    sizes = TINY if tiny else Sizes()
    nnlib = import_library(REFERENCE_LIBRARY, "nnlib_reference")
    memory, memory_detail = memory_rows(nnlib, sizes)   # first: the fork copies a small heap
    with threadpool_limits(limits=1, user_api="blas"):
        widths, width_detail = width_rows(nnlib, sizes)
        depths, depth_detail = depth_rows(nnlib, sizes)
    return widths + depths + memory, [width_detail, depth_detail, memory_detail]


def results(tiny=False):
    return measure(tiny)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="one sweep on tiny sizes")
    args = parser.parse_args(argv)
    rows, details = measure(args.tiny)
    for detail in details:
        print(detail, end="\n\n")
    print(report.markdown(rows))
    return rows


if __name__ == "__main__":
    main()
