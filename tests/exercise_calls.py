"""Which exercises a notebook calls: a profiler that a test installs in the notebook's kernel.

``record(nnlib)`` in a cell after the setup, ``recorded()`` in the last one: the labels
(``"Exercise 3.1"``) of every exercise function called in between, directly or through
other nnlib code.
"""

import json
import re
import sys
import threading
from pathlib import Path

_seen = set()


def record(package):
    """Start recording calls to the exercise functions of ``package`` (the reference)."""
    codes = {}
    # a solution region's label (nbgrader's delimiter, then the library's stub label)
    region = re.compile(f"BEGIN SOLUTION {package._exercises.LABEL.pattern}")
    for path in Path(package.__file__).parent.glob("*.py"):
        for number, index, function in region.findall(path.read_text()):
            label = f"Exercise {number}.{index}"
            module = __import__(f"{package.__name__}.{path.stem}", fromlist=[function])
            codes[getattr(module, function).__code__] = label

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            _seen.add(codes[frame.f_code])

    sys.setprofile(profile)
    threading.setprofile(profile)


def recorded():
    """Stop recording; the labels seen, as a JSON list."""
    sys.setprofile(None)
    threading.setprofile(None)
    return json.dumps(sorted(_seen))
