"""Benchmark: nnlib's reference ``train_network`` against scikit-learn, PyTorch and a
minimal numpy loop, side by side in one run.

The task is the capstone's: the 8x8 digits, a 64-128-10 network (ReLU, then softmax with
cross-entropy), mini-batches of 32, learning rate 0.1, plain gradient descent (no momentum,
no weight decay), 1,400 training digits and the rest held out. Each contender trains the
same network for the same epochs; the rounds alternate between contenders, and the median
round counts. Printed: seconds per epoch, the ratio to nnlib, held-out accuracy, and the
GFLOP/s of each against numpy's matrix-multiply rate on the same shapes.

    .venv/bin/python bench/training.py            # the full race
    .venv/bin/python bench/training.py --tiny     # one quick round on small sizes (smoke test)

Not a test: timings on a shared machine are noisy, so compare them only within one run.
"""

import argparse
import functools
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.release import REFERENCE_LIBRARY, import_library  # noqa: E402
from bench import report  # noqa: E402
from bench.report import Row  # noqa: E402


@dataclass
class Task:
    hidden: int = 128
    batch_size: int = 32
    learning_rate: float = 0.1
    epochs: int = 30
    train: int = 1400
    seed: int = 0


def digits(task):
    """Training and held-out digits: X scaled to [0, 1], labels, one-hot training targets."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X, y = data.data / 16.0, data.target
    order = np.random.default_rng(task.seed).permutation(len(y))
    X, y = X[order], y[order]
    Y = np.eye(10)[y]
    return X[:task.train], Y[:task.train], y[:task.train], X[task.train:], y[task.train:]


def flops_per_epoch(task, n_in=64, n_out=10):
    """Floating-point operations of the five matrix products of one epoch (2 per multiply-add):
    two forward (X W1^T, A1 W2^T), three backward (dW2, dA1, dW1)."""
    per_sample = n_in * task.hidden + 3 * task.hidden * n_out + task.hidden * n_in
    return 2.0 * per_sample * task.train


# ---------------------------------------------------------------- the contenders


def run_nnlib(nnlib, task, X, Y, X_test, y_test):
    result = nnlib.training.train_network(
        X, Y, [X.shape[1], task.hidden, Y.shape[1]], ["relu", "softmax"],
        loss="softmax_cross_entropy", learning_rate=task.learning_rate, epochs=task.epochs,
        batch_size=task.batch_size, init="he", seed=task.seed)
    scores = nnlib.network.forward_pass(X_test, result.weights, result.biases,
                                        ["relu", "softmax"])
    return float(np.mean(scores.argmax(axis=1) == y_test))


def run_sklearn(task, X, y, X_test, y_test):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(task.hidden,), activation="relu", solver="sgd",
                          learning_rate="constant", learning_rate_init=task.learning_rate,
                          momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                          batch_size=task.batch_size, max_iter=task.epochs, shuffle=True,
                          tol=0.0, n_iter_no_change=task.epochs + 1, random_state=task.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return float(np.mean(model.predict(X_test) == y_test))


def loop_init(task, n_in, n_out):
    """The minimal loop's parameters, He-initialized: [W1, b1, W2, b2]."""
    rng = np.random.default_rng(task.seed)
    return [rng.normal(0.0, np.sqrt(2.0 / n_in), size=(task.hidden, n_in)), np.zeros(task.hidden),
            rng.normal(0.0, np.sqrt(2.0 / task.hidden), size=(n_out, task.hidden)),
            np.zeros(n_out)], rng


def loop_forward(x, W1, b1, W2, b2):
    """Two products forward: the hidden ReLUs, the logits and their softmax."""
    a1 = np.maximum(x @ W1.T + b1, 0.0)
    z2 = a1 @ W2.T + b2
    p = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return a1, z2, p


def loop_loss(z2, t):
    """The batch's cross-entropy from its logits: what a loss history costs (the race's loop
    keeps none; ``batch_profile`` times it)."""
    top = z2.max(axis=1, keepdims=True)
    log_sum_exp = top[:, 0] + np.log(np.exp(z2 - top).sum(axis=1))
    return float(np.sum(log_sum_exp - (t * z2).sum(axis=1))) / len(t)


def loop_backward(x, t, a1, p, W2):
    """Three products backward: the gradients of W1, b1, W2, b2 (in that order)."""
    d2 = (p - t) / len(t)
    d1 = (d2 @ W2) * (a1 > 0)
    return d1.T @ x, d1.sum(axis=0), d2.T @ a1, d2.sum(axis=0)


def loop_update(params, grads, rate):
    """The step, in place."""
    for param, grad in zip(params, grads):
        param -= rate * grad


def run_numpy(task, X, Y, X_test, y_test):
    """The minimal loop: two products forward, three backward, updates in place."""
    params, rng = loop_init(task, X.shape[1], Y.shape[1])
    for _ in range(task.epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), task.batch_size):
            batch = order[start:start + task.batch_size]
            x, t = X[batch], Y[batch]
            a1, _, p = loop_forward(x, *params)
            loop_update(params, loop_backward(x, t, a1, p, params[2]), task.learning_rate)
    W1, b1, W2, b2 = params
    scores = np.maximum(X_test @ W1.T + b1, 0.0) @ W2.T + b2
    return float(np.mean(scores.argmax(axis=1) == y_test))


def run_torch(task, X, y, X_test, y_test):
    import torch

    torch.manual_seed(task.seed)
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], task.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(task.hidden, 10)).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=task.learning_rate)
    loss_of = torch.nn.CrossEntropyLoss()
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y).long()
    generator = torch.Generator().manual_seed(task.seed)
    for _ in range(task.epochs):
        order = torch.randperm(len(labels), generator=generator)
        for start in range(0, len(labels), task.batch_size):
            batch = order[start:start + task.batch_size]
            optimizer.zero_grad()
            loss_of(model(inputs[batch]), labels[batch]).backward()
            optimizer.step()
    with torch.no_grad():
        predicted = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return float(np.mean(predicted == y_test))


def matmul_rate(task, X, repeats=3):
    """Seconds for one epoch's five matrix products alone, at the training's shapes (best of)."""
    rng = np.random.default_rng(0)
    W1, W2 = rng.normal(size=(task.hidden, X.shape[1])), rng.normal(size=(10, task.hidden))
    batches = [X[s:s + task.batch_size] for s in range(0, len(X), task.batch_size)]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for x in batches:
            a1 = x @ W1.T
            z2 = a1 @ W2.T
            _ = z2.T @ a1, z2 @ W2, a1.T @ x
        best = min(best, time.perf_counter() - start)
    return best


def contenders(task):
    """name -> callable(X, Y, y, X_test, y_test) -> accuracy; PyTorch only where installed."""
    nnlib = reference()
    found = {
        "nnlib": lambda X, Y, y, Xt, yt: run_nnlib(nnlib, task, X, Y, Xt, yt),
        "scikit-learn": lambda X, Y, y, Xt, yt: run_sklearn(task, X, y, Xt, yt),
        "numpy loop": lambda X, Y, y, Xt, yt: run_numpy(task, X, Y, Xt, yt),
    }
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed: skipped (make bench-torch installs it, a CPU build)")
    else:
        found["PyTorch"] = lambda X, Y, y, Xt, yt: run_torch(task, X, y, Xt, yt)
    return found


def race(task, rounds):
    """Rows of (name, seconds per epoch, ratio to nnlib, accuracy, GFLOP/s, fraction of the
    matrix-multiply rate), rounds alternating between contenders, medians kept."""
    X, Y, y, X_test, y_test = digits(task)
    runs = contenders(task)
    times = {name: [] for name in runs}
    accuracy = {}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            accuracy[name] = run(X, Y, y, X_test, y_test)
            times[name].append((time.perf_counter() - start) / task.epochs)
    flops = flops_per_epoch(task)
    matmul = matmul_rate(task, X)
    per_epoch = {name: statistics.median(t) for name, t in times.items()}
    rows = [(name, seconds, seconds / per_epoch["nnlib"], accuracy[name], flops / seconds / 1e9,
             matmul / seconds) for name, seconds in per_epoch.items()]
    rows.append(("matrix products alone", matmul, matmul / per_epoch["nnlib"], None,
                 flops / matmul / 1e9, 1.0))
    return rows


def table(rows):
    lines = ["| contender | s / epoch | time / nnlib | held-out accuracy | GFLOP/s | "
             "of the matmul rate |", "|---|---|---|---|---|---|"]
    for name, seconds, ratio, accuracy, gflops, fraction in rows:
        shown = "" if accuracy is None else f"{accuracy:.1%}"
        lines.append(f"| {name} | {seconds * 1e3:.1f} ms | {ratio:.2f}x | {shown} | "
                     f"{gflops:.2f} | {fraction:.0%} |")
    return "\n".join(lines)


@functools.cache
def reference():
    """nnlib's reference library, imported once as ``nnlib_reference``."""
    return import_library(REFERENCE_LIBRARY, "nnlib_reference")


def batch_profile(task, repeats=200):
    """Where one batch's time goes, side by side: {part: (nnlib, the minimal loop)} in
    microseconds (best of three), for the forward pass, the loss of the batch, backpropagation
    (whose forward pass is the one already made) and the update, each measured the way a
    training run calls it. The loop's loss is what it would cost; its race keeps none."""
    nnlib = reference()
    checks, network, backprop = nnlib._checks, nnlib.network, nnlib.backprop
    rng = np.random.default_rng(task.seed)
    X = rng.normal(size=(task.batch_size, 64))
    Y = np.eye(10)[rng.integers(0, 10, task.batch_size)]
    weights, biases = network.init_params([64, task.hidden, 10], method="he", seed=task.seed)
    names, loss = ["relu", "softmax"], "softmax_cross_entropy"
    gradients = backprop.backpropagation(X, Y, weights, biases, names, loss)
    params = [weights[0], biases[0], weights[1], biases[1]]
    a1, z2, p = loop_forward(X, *params)
    grads = loop_backward(X, Y, a1, p, params[2])

    def best(step):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeats):
                step()
            times.append((time.perf_counter() - start) / repeats * 1e6)
        return min(times)

    @checks.checked_run
    def profile():
        checks.inputs_checked()
        forward = network.forward_pass_with_cache.__wrapped__  # the pass itself, unshared
        network.forward_pass_with_cache(X, weights, biases, names)  # what backprop will reuse
        found = {
            "forward": best(lambda: forward(X, weights, biases, names)),
            "loss": best(lambda: nnlib.losses.get_loss(loss)(
                forward(X, weights, biases, names)[1].Z[-1], Y)),
            "backprop": best(lambda: backprop.backpropagation(X, Y, weights, biases, names,
                                                              loss)),
            # new arrays, as the exercise asks: the inputs stay as they were
            "update": best(lambda: nnlib.training.gradient_descent_update(
                weights, biases, gradients, task.learning_rate)),
        }
        found["loss"] -= found["forward"]  # the loss above ran on a fresh forward pass
        return found

    ours = profile()
    loop = {
        "forward": best(lambda: loop_forward(X, *params)),
        "loss": best(lambda: loop_loss(z2, Y)),
        "backprop": best(lambda: loop_backward(X, Y, a1, p, params[2])),
        "update": best(lambda: loop_update([q.copy() for q in params], grads, 0.0)),
    }
    loop["update"] -= best(lambda: [q.copy() for q in params])  # the copies keep params as is
    return {part: (ours[part], loop[part]) for part in ours}


def results(tiny=False, rounds=3):
    """The race's rows for the one table (``bench/report.py``)."""
    task = Task(epochs=2, train=200) if tiny else Task()
    rows = race(task, 1 if tiny else rounds)
    by_name = {row[0]: row for row in rows}
    nnlib = by_name["nnlib"]
    found = []
    for rival, target, limit in [("scikit-learn", "<= 0.5x", 0.5), ("PyTorch", "<= 0.5x", 0.5),
                                 ("numpy loop", "<= 1.25x", 1.25)]:
        if rival not in by_name:
            found.append(Row("training", f"nnlib time / {rival} time, per epoch", "not run",
                             target, None, f"{rival} is not installed: make bench-torch"))
            continue
        ratio = nnlib[1] / by_name[rival][1]
        note = f"{nnlib[1] * 1e3:.1f} ms against {by_name[rival][1] * 1e3:.1f} ms"
        if rival == "numpy loop" and ratio > limit:
            batches = -(-task.train // task.batch_size)
            parts = batch_profile(task, repeats=20 if tiny else 200)
            note += (f"; per batch of {task.batch_size}, nnlib {nnlib[1] / batches * 1e6:.0f}"
                     f" us against the loop's {by_name[rival][1] / batches * 1e6:.0f} us. Each"
                     " part measured alone, nnlib / the loop: "
                     + ", ".join(f"{name} {ours:.0f} / {theirs:.0f} us"
                                 for name, (ours, theirs) in parts.items())
                     + " (the race's loop keeps no loss; the figure is what one would cost)."
                     " What bounds nnlib is the number of small numpy calls, each a few us at"
                     " these shapes, not arithmetic: a loss history; the softmax made again"
                     " for the loss and for its derivative (each a separate exercise); a copy"
                     " of each input to an activation or loss (a student's function may write"
                     " into it); new arrays for each update; and the checks of every call")
        found.append(Row("training", f"nnlib time / {rival} time, per epoch",
                         report.ratio(ratio, limit), target, ratio <= limit, note))
    found.append(Row("training", "nnlib's held-out accuracy", f"{nnlib[3]:.1%}", ">= 96%",
                     None if tiny else nnlib[3] >= 0.96,
                     "tiny run: too short to judge" if tiny else ""))
    found.append(Row("training", "nnlib's GFLOP/s / numpy's matrix-product rate, same shapes",
                     f"{nnlib[5]:.0%}", "", None, f"{nnlib[4]:.2f} GFLOP/s"))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per contender (median)")
    parser.add_argument("--tiny", action="store_true", help="one round of 2 epochs on 200 digits")
    args = parser.parse_args(argv)
    task = Task(epochs=2, train=200) if args.tiny else Task()
    rounds = 1 if args.tiny else args.rounds
    print(f"digits, 64-{task.hidden}-10, batch {task.batch_size}, rate {task.learning_rate}, "
          f"{task.epochs} epochs, {task.train} training digits, median of {rounds} round(s)")
    rows = race(task, rounds)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
