"""Every benchmark, side by side in one run: one table of ratios, printed and written to
``bench/results.md`` (``make bench``).

    .venv/bin/python bench/run.py           # everything (several minutes)
    .venv/bin/python bench/run.py --tiny    # each benchmark once on tiny sizes (seconds)

Each module of ``MODULES`` gives its rows through ``results(tiny)`` (``bench/report.py``).
Not a test: timings on a shared machine are noisy, so compare them only within one run.
"""

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import markdown  # noqa: E402

MODULES = ("training", "scaling", "course", "cluster")
RESULTS = ROOT / "bench" / "results.md"


def collect(tiny=False, only=MODULES):
    """The rows of every benchmark in ``only``, in order."""
    rows = []
    for name in only:
        module = importlib.import_module(f"bench.{name}")
        start = time.perf_counter()
        found = module.results(tiny=tiny)
        print(f"bench/{name}.py: {len(found)} rows in {time.perf_counter() - start:.0f} s",
              flush=True)
        rows.extend(found)
    return rows


def machine():
    return (f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy "
            f"{np.__version__}, {platform.system()} {platform.machine()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="each benchmark once, tiny sizes")
    parser.add_argument("--only", nargs="*", choices=MODULES, default=list(MODULES))
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="where to write the table (default bench/results.md)")
    args = parser.parse_args(argv)
    rows = collect(args.tiny, args.only)
    table = markdown(rows)
    print(table)
    missed = [row for row in rows if row.met is False]
    text = (f"# Benchmark results\n\nWritten by `make bench` on {time.strftime('%Y-%m-%d')} "
            f"({machine()}). Ratios are measured side by side in one run; absolute times vary "
            f"on a shared machine.\n\n{table}\n\n"
            f"{len(rows) - len(missed)} of {len(rows)} rows meet their target or have none; "
            f"missed: {', '.join(row.what for row in missed) or 'none'}.\n")
    if not args.tiny:
        args.output.write_text(text)
        print(f"wrote {args.output}")
    return rows


if __name__ == "__main__":
    main()
