"""Feedback for students with nbgrader's generate_feedback: hidden tests removed, what the
student wrote shown inert (``pages``), and nothing but the HTML pages."""

import copy
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config

from .course import Course, load_api, load_config
from .pages import INERT_PAGES
from .preprocessors import HideTestCode


def generate_feedback(course_dir, assignment=None, student=None):
    """Write ``feedback/<student>/<assignment>/*.html`` for graded submissions.

    Only the HTML pages: nbgrader would copy every other file of the graded folder
    beside them, following links; here it copies nothing (``CourseDirectory.ignore``
    matches every name).

    Returns
    -------
    list of (str, bool, str)
        Per assignment: its name, whether nbgrader succeeded, and its log.
    """
    config = load_config(course_dir)
    config.merge(Config({"HTMLExporter": copy.deepcopy(INERT_PAGES)}))
    config.GenerateFeedback.preprocessors = [GetGrades, HideTestCode, CSSHTMLHeaderPreprocessor]
    config.CourseDirectory.ignore = ["*", ".*"]
    api = load_api(course_dir, config)
    autograded = Path(api.coursedir.root) / api.coursedir.autograded_directory
    results = []
    for name in Course(course_dir).assignments:
        if assignment not in (None, name) or not any(autograded.glob(f"*/{name}")):
            continue
        result = api.generate_feedback(name, student, force=True)
        results.append((name, result["success"], result.get("log", "")))
    return results
