"""The smoke test of the benchmarks: each runs once on tiny sizes, so that none rots.

No timing is asserted (the machine is shared and noisy); only that every benchmark of
``make bench`` still runs and gives well-formed rows.
"""

import importlib

import pytest

from bench import report, run

# Benchmarks whose tiny run still starts kernels and JupyterLab (the rest are quick).
STARTS_KERNELS = {"course"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow)
                                  if name in STARTS_KERNELS else name for name in run.MODULES])
def test_each_benchmark_runs_on_tiny_sizes(name):
    """Does the benchmark run on tiny sizes and give rows with a measured figure each?"""
    rows = importlib.import_module(f"bench.{name}").results(tiny=True)
    assert rows, f"bench/{name}.py gave no rows"
    for row in rows:
        assert isinstance(row, report.Row) and row.group and row.what and row.measured, row
        assert row.met in (True, False, None), row
    assert "| group |" in report.markdown(rows)


@pytest.mark.parametrize(("value", "limit", "shown"), [
    (0.5034, 0.5, "0.503x"),   # two decimals would say 0.50x beside a missed 0.5 target
    (0.4996, 0.5, "0.500x"),
    (0.5, 0.5, "0.50x"),
    (0.66, 0.5, "0.66x"),
    (2.07, 2.0, "2.07x"),
])
def test_a_ratio_never_rounds_onto_its_limit(value, limit, shown):
    """Does a ratio show a third decimal exactly where two would hide the side of the limit?"""
    assert report.ratio(value, limit) == shown
