"""Feedback for students with nbgrader's generate_feedback, hidden tests removed."""

from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from .course import Course, load_api, load_config
from .preprocessors import HideTestCode


def generate_feedback(course_dir, assignment=None, student=None):
    """Write ``feedback/<student>/<assignment>/*.html`` for graded submissions.

    Returns
    -------
    list of (str, bool, str)
        Per assignment: its name, whether nbgrader succeeded, and its log.
    """
    config = load_config(course_dir)
    config.GenerateFeedback.preprocessors = [GetGrades, HideTestCode, CSSHTMLHeaderPreprocessor]
    api = load_api(course_dir, config)
    autograded = Path(api.coursedir.root) / api.coursedir.autograded_directory
    results = []
    for name in Course(course_dir).assignments:
        if assignment not in (None, name) or not any(autograded.glob(f"*/{name}")):
            continue
        result = api.generate_feedback(name, student, force=True)
        results.append((name, result["success"], result.get("log", "")))
    return results
