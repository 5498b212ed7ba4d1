"""What does an instructor see in the terminal: progress, the summary and real problems only?"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_grading import ASSIGNMENT, SETTINGS, make_submission

from autograder import course

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

# What nbgrader, SQLAlchemy and the kernels would print if let through.
NOISE = ["SAWarning", "without encryption", "[GenerateAssignmentApp]", "[AutogradeApp]"]


def _run(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A course built by `python -m autograder course`, and what that command printed."""
    course_dir = tmp_path_factory.mktemp("course")
    return course_dir, _run("course", course_dir)


def test_course_prints_a_progress_line_per_assignment(built):
    """Does `course` print one numbered progress line per assignment, and no library logging?"""
    course_dir, result = built
    assert result.returncode == 0, result.stderr
    names = [name for name, _, _ in course.assignments()]
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    expected = [f"[{i}/{len(names)}] {name}: " for i, name in enumerate(names, 1)]
    assert [line[:len(prefix)] for line, prefix in zip(lines, expected)] == expected, (
        f"expected a progress line per assignment, got:\n{result.stdout}")
    assert all(re.search(r"\(\d+ s\)$", line) for line in lines), result.stdout
    noise = [word for word in NOISE if word in result.stdout + result.stderr]
    assert not noise and not result.stderr.strip(), (
        f"`course` printed {noise or 'on stderr'}:\n{result.stderr[-3000:]}")


def test_grade_prints_no_library_warnings(built):
    """Does `grade` of one submission print its progress and summary, but no SAWarning
    from nbgrader's gradebook and no kernel transport warning?"""
    course_dir, _ = built
    make_submission(course_dir, "alice")
    result = _run("grade", course_dir, "--parallel", 1, "--cell-timeout", SETTINGS.cell_timeout,
                  "--submission-timeout", SETTINGS.submission_timeout)
    assert result.returncode == 0, result.stderr
    assert ASSIGNMENT in result.stdout and "1/1 graded" in result.stderr, (
        f"no summary or progress:\n{result.stdout}\n{result.stderr}")
    noise = [word for word in NOISE if word in result.stderr]
    assert not noise, f"`grade` printed {noise} on stderr:\n{result.stderr[-3000:]}"
