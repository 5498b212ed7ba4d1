"""The benchmarks' one table: every benchmark module returns ``Row``s, ``make bench`` prints
them together and writes ``bench/results.md``.

A row is one measured figure beside its target. Absolute times vary on shared machines, so
a row's ``measured`` is a ratio wherever a side-by-side comparison exists (``"0.42x
scikit-learn"``), and ``met`` says whether the target holds (None where there is no target).
"""

from dataclasses import dataclass


@dataclass
class Row:
    group: str      # e.g. "training", "scaling", "course"
    what: str       # e.g. "nnlib time / scikit-learn time, per epoch"
    measured: str   # e.g. "0.42x"
    target: str = ""    # e.g. "<= 0.5x"; empty when there is none
    met: bool | None = None
    note: str = ""  # what bounds it, where a target is missed; or detail


def markdown(rows):
    """The rows as one markdown table, grouped in the order they come."""
    lines = ["| group | what | measured | target | met | note |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(f"| {row.group} | {row.what} | {row.measured} | {row.target} | {met} | "
                     f"{row.note} |")
    return "\n".join(lines)


def ratio(value, limit):
    """``value`` as "1.23x", with a third decimal where two would round onto ``limit``
    (so that "0.50x" never stands for a 0.503 that misses a 0.5 target)."""
    shown = f"{value:.2f}"
    if value != limit and float(shown) == limit:
        shown = f"{value:.3f}"
    return f"{shown}x"
