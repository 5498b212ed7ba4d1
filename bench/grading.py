"""Benchmark: stock serial `nbgrader autograde` against `python -m autograder grade`.

Builds one course, fills it with a synthetic class (every student submits every
assignment: most complete, some with their own module left unwritten, all
honest), copies it, then grades one copy with stock nbgrader (one
`nbgrader autograde ASSIGNMENT` per assignment, one submission at a time) and
the other with the autograder. Prints both times, their ratio and whether the
scores agree.

    .venv/bin/python bench/grading.py --students 20 --parallel 2

Not a test: timings on a shared machine are noisy, so compare them only within
one run.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import nbformat
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import course, release  # noqa: E402
from autograder.notebooks import single_threaded_blas  # noqa: E402


def fill_answers(folder, source_notebook):
    """Put the reference answers into the notebook's solution cells."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(source_notebook, as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    path = folder / source_notebook.name
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(notebook, path)


def make_class(course_dir, students):
    """Every student submits every assignment; every third leaves the module unwritten."""
    for index in range(students):
        student = f"student{index:02d}"
        for name, notebook, module in course.assignments():
            folder = course_dir / "submitted" / student / name
            shutil.copytree(course_dir / "release" / name, folder)
            fill_answers(folder, notebook)
            if module and index % 3 != 2:
                text = release.drop_markers((release.REFERENCE_LIBRARY / f"{module}.py")
                                            .read_text())
                (folder / "nnlib" / f"{module}.py").write_text(text)


def phase_seconds(course_dir, student):
    """Grade each of ``student``'s submissions once more, serially in this process, through
    the one task and the one record path, timing each phase: ``({phase: seconds in all},
    submissions)``. Phases: the scratch copy, intake, the kernel's start, the rest of
    nbgrader's autograde (cells and nbgrader's own work), the trusted run, combining and
    flagging, reading the scratch gradebook, and recording into the course."""
    import contextlib

    from autograder import grade, record, task
    from autograder.intake import read_submission
    from autograder.preprocessors import ResilientExecute
    from autograder.settings import Settings

    spent = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    setup_kernel = ResilientExecute.setup_kernel

    @contextlib.contextmanager
    def kernel_started(self, **kwargs):
        start = time.perf_counter()
        with setup_kernel(self, **kwargs):
            spent["kernel start"] = spent.get("kernel start", 0.0) + time.perf_counter() - start
            yield

    names = {"stage": "intake", "autograde": "autograde", "verify": "trusted run",
             "combine": "combine and flag", "flag": "combine and flag"}
    grade.quiet_gradebook()
    settings, submitted = Settings(), Path(course_dir) / "submitted"
    assignments = sorted(p.name for p in (submitted / student).iterdir())
    bundle = task.prepare(course_dir, assignments)
    with mock.patch.object(grade, "STEPS", tuple(timed(names[s.__name__], s)
                                                 for s in grade.STEPS)), \
            mock.patch.object(task, "scratch_course", timed("scratch copy", task.scratch_course)), \
            mock.patch.object(task, "gradebook_entry",
                              timed("scratch gradebook read", task.gradebook_entry)), \
            mock.patch.object(ResilientExecute, "setup_kernel", kernel_started):
        for name in assignments:
            submission = read_submission(submitted / student / name, root=submitted)
            result = task.grade_task(bundle, name, student, submission, "bench", settings)
            timed("recording", record.record)(course_dir, result)
    spent["autograde"] -= spent.get("kernel start", 0.0)
    spent["nbgrader's autograde, kernel start aside"] = spent.pop("autograde")
    return spent, len(assignments)


def scores(course_dir):
    api = course.load_api(course_dir)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        return {(a.name, s.student_id): s.score for a in gradebook.assignments
                for s in gradebook.assignment_submissions(a.name)}


def timed(command, cwd):
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{command[:3]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    single_threaded_blas()  # the same BLAS setting for both graders' kernels
    release.put_venv_on_path()
    with tempfile.TemporaryDirectory() as tmp:
        stock_dir, ours_dir = Path(tmp) / "stock", Path(tmp) / "ours"
        names = course.build_course(stock_dir)
        make_class(stock_dir, args.students)
        shutil.copytree(stock_dir, ours_dir)
        course.write_config(ours_dir)  # its own paths and gradebook
        (ours_dir / "gradebook.db").unlink()
        shutil.copy(stock_dir / "gradebook.db", ours_dir / "gradebook.db")
        total = args.students * len(names)
        print(f"{args.students} students x {len(names)} assignments = {total} submissions")

        nbgrader = str(Path(sys.executable).parent / "nbgrader")
        stock = sum(timed([nbgrader, "autograde", name], stock_dir) for name in names)
        print(f"stock nbgrader autograde, serial: {stock:7.1f} s "
              f"({stock / total:.2f} s per submission)")
        ours = timed([sys.executable, "-m", "autograder", "grade", str(ours_dir),
                      "--parallel", str(args.parallel)], ROOT)
        print(f"autograder grade, {args.parallel} at a time:  {ours:7.1f} s "
              f"({ours / total:.2f} s per submission)")
        print(f"ratio: {stock / ours:.2f}x faster")

        stock_scores, our_scores = scores(stock_dir), scores(ours_dir)
        differ = sorted(k for k in stock_scores if stock_scores[k] != our_scores.get(k))
        print(f"scores of honest submissions agree: {'yes' if not differ else 'NO'} "
              f"({len(stock_scores)} compared)")
        for key in differ[:10]:
            print(f"  {key}: stock {stock_scores[key]}, autograder {our_scores.get(key)}")


if __name__ == "__main__":
    main()
