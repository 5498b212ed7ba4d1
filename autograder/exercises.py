"""The course's exercises, as the master notebooks number them, and renumbering them.

A notebook's headings number its exercises and written questions, in order: ``### Exercise
3.2: ...``, ``### Exercise 8.7 and 8.8: ...``, ``### Question 1.7: ...``. Those headings are
the one definition of the numbers. Everything else that names an exercise (the solution
regions of the modules, ``### BEGIN SOLUTION Exercise 3.2: implement init_params``, the
stubs made from them, links between notebooks, tests, the README) refers to them.

``python -m autograder renumber`` makes the numbers of each notebook run 1, 2, 3... in
heading order, and rewrites every reference to the old numbers: an exercise is inserted by
writing its heading (with any number) in the master notebook and its solution region in the
module, then renumbering. ``problems`` lists what disagrees (``release --check`` prints it).
"""

import re
from pathlib import Path

from . import release

# A reference to exercises or questions: the word, then one number or a list of them, joined
# by commas, "and", "to" or a dash; words may be joined by dashes (a heading's link anchor).
_SEP = r"[\s-]+"
_LIST = rf"(?:\s*,\s*|{_SEP}and{_SEP}|{_SEP}to{_SEP}|[\s-]*–[\s-]*)"
REFERENCE = re.compile(rf"\b(?:[Ee]xercise|[Qq]uestion)s?{_SEP}\d+\.\d+(?:{_LIST}\d+\.\d+)*")
NUMBER = re.compile(r"(\d+)\.(\d+)")
HEADING = re.compile(r"^#{1,6} .*$", re.MULTILINE)
# A solution region's label in a module: the exercise and the function it implements.
MODULE_LABEL = release.REGION_LABEL
# Where references to exercises may be, beside the master notebooks and the reference library
# (the student copies are made from those by ``release``).
REFERRING = ("tests", "autograder", "bench", "README.md")


def notebook_number(path):
    """The course number of a notebook file (``06_gradient_descent.ipynb`` -> 6)."""
    return int(Path(path).name[:2])


def headings(path):
    """The numbers ``(n, k)`` of the exercises and questions that the headings of the
    notebook at ``path`` name, in order (each once), and which are questions."""
    import nbformat

    numbers, questions = [], set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for heading in HEADING.findall(cell.source):
            for reference in REFERENCE.finditer(heading):
                for found in NUMBER.finditer(reference.group()):
                    number = (int(found.group(1)), int(found.group(2)))
                    if number not in numbers:
                        numbers.append(number)
                    if reference.group().lower().startswith("question"):
                        questions.add(number)
    return numbers, questions


def module_labels(solutions=release.SOURCE_NOTEBOOKS):
    """``{(n, k): (module, function)}`` of every solution region of the reference library."""
    found = {}
    for path in sorted((Path(solutions) / "nnlib").glob("*.py")):
        for n, k, function in MODULE_LABEL.findall(path.read_text()):
            found[(int(n), int(k))] = (path.stem, function)
    return found


def problems(solutions=release.SOURCE_NOTEBOOKS):
    """What disagrees between the headings and the modules: numbers out of order or with
    gaps, a heading of another notebook's number, a module's label no heading names, or one
    that a question's heading names. An empty list when all agree."""
    found, labels = [], module_labels(solutions)
    named = set()
    for path in release.notebooks_in(solutions):
        number = notebook_number(path)
        numbers, questions = headings(path)
        named |= set(numbers)
        if any(n != number for n, _ in numbers):
            found.append(f"{path.name}: a heading numbers an exercise of another notebook: "
                         f"{sorted(f'{n}.{k}' for n, k in numbers if n != number)}")
        expected = [(number, k) for k in range(1, len(numbers) + 1)]
        if numbers != expected:
            found.append(f"{path.name}: the exercises and questions are numbered "
                         f"{', '.join(f'{n}.{k}' for n, k in numbers)}, expected "
                         f"{', '.join(f'{n}.{k}' for n, k in expected)} (python -m autograder "
                         "renumber)")
        for number_ in sorted(questions & set(labels)):
            found.append(f"Exercise {number_[0]}.{number_[1]} in nnlib/{labels[number_][0]}.py "
                         f"is a question in {path.name}")
    for (n, k), (module, function) in sorted(labels.items()):
        if (n, k) not in named:
            found.append(f"nnlib/{module}.py: 'Exercise {n}.{k}: implement {function}' names "
                         "no exercise heading of its notebook")
    return found


def renumbering(solutions=release.SOURCE_NOTEBOOKS):
    """``{(n, old k): (n, new k)}`` that makes every notebook's numbers run 1, 2, 3... in
    heading order (only the numbers that change)."""
    mapping = {}
    for path in release.notebooks_in(solutions):
        numbers, _ = headings(path)
        number = notebook_number(path)
        for index, old in enumerate(n for n in numbers if n[0] == number):
            if old != (number, index + 1):
                mapping[old] = (number, index + 1)
    return mapping


def renumbered(text, mapping):
    """``text`` with every number in a reference to exercises or questions mapped (all at
    once, so that 3.2 -> 3.3 and 3.3 -> 3.4 do not chain)."""
    def number(found):
        n, k = mapping.get((int(found.group(1)), int(found.group(2))),
                           (int(found.group(1)), int(found.group(2))))
        return f"{n}.{k}"

    return REFERENCE.sub(lambda reference: NUMBER.sub(number, reference.group()), text)


def renumber(root=release.ROOT, solutions=None):
    """Renumber the exercises of the course in ``root`` (see ``renumbering``) in the master
    notebooks and library and everywhere they are referred to (``REFERRING``); return the
    files changed, relative to ``root``. Run ``release`` afterwards for the student copies."""
    root = Path(root)
    solutions = Path(solutions) if solutions else root / "solutions"
    mapping = renumbering(solutions)
    if not mapping:
        return []
    files = list(release.notebooks_in(solutions)) + sorted(solutions.rglob("*.py"))
    for name in REFERRING:
        path = root / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
    changed = []
    for path in files:
        text = path.read_text()
        new = renumbered(text, mapping)
        if new != text:
            path.write_text(new)
            changed.append(str(path.relative_to(root)))
    return changed
