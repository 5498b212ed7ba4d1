"""Results of a grading run: nbgrader's CSV export, a per-cell CSV, a summary."""

import collections
import csv
import statistics
from pathlib import Path

from nbgrader.plugins import CsvExportPlugin

from .course import open_gradebook
from .grade import load_outcome

PER_CELL_FIELDS = ["assignment", "student", "notebook", "cell", "score", "max_score",
                   "auto_score", "manual_score", "needs_manual_grade", "nbgrader_passed",
                   "trusted_visible_passed", "trusted_passed"]


def export_grades(course_dir, path):
    """Write nbgrader's own CSV export (one row per student and assignment)."""
    with open_gradebook(course_dir) as gradebook:
        CsvExportPlugin(to=str(path)).export(gradebook)
    return Path(path)


def export_cells(course_dir, path):
    """Write one row per graded cell of every submission, with both verdicts on its tests.

    ``nbgrader_passed`` is what the tests said inside the student's kernel,
    ``trusted_visible_passed`` what the trusted run of those same visible tests said, and
    ``trusted_passed`` what the trusted run of the whole cell, hidden tests included, said
    (all three empty for written answers).
    """
    rows = []
    with open_gradebook(course_dir) as gradebook:
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                outcome = load_outcome(course_dir, assignment.name, submission.student_id)
                verdicts = outcome.verdicts if outcome else {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        verdict = verdicts.get(grade.name, {})
                        rows.append({
                            "assignment": assignment.name, "student": submission.student_id,
                            "notebook": notebook.name, "cell": grade.name,
                            "score": grade.score, "max_score": grade.max_score,
                            "auto_score": grade.auto_score, "manual_score": grade.manual_score,
                            "needs_manual_grade": grade.needs_manual_grade,
                            "nbgrader_passed": _yes_no(verdict.get("nbgrader")),
                            "trusted_visible_passed": _yes_no(verdict.get("trusted_visible")),
                            "trusted_passed": _yes_no(verdict.get("trusted"))})
    rows.sort(key=lambda r: (r["assignment"], r["student"], r["notebook"], r["cell"]))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PER_CELL_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def _yes_no(value):
    return "" if value is None else ("yes" if value else "no")


def summarize(outcomes):
    """Per assignment: submissions, mean, median, failures and flagged submissions.

    Returns
    -------
    list of dict
    """
    by_assignment = {}
    for outcome in outcomes:
        by_assignment.setdefault(outcome.assignment, []).append(outcome)
    table = []
    for name in sorted(by_assignment):
        group = by_assignment[name]
        scores = [o.score for o in group]
        table.append({
            "assignment": name, "submissions": len(group),
            "mean": round(statistics.fmean(scores), 2), "median": statistics.median(scores),
            "max_score": max(o.max_score for o in group),
            "failures": sum(o.status != "graded" for o in group),
            "flagged": sum(bool(o.flags) for o in group)})
    return table


def format_summary(table, outcomes):
    """The summary table, then every failed or flagged submission with its reasons."""
    header = f"{'assignment':<22}{'subs':>5}{'mean':>8}{'median':>8}{'max':>6}{'failed':>8}" \
             f"{'flagged':>9}"
    lines = [header, "-" * len(header)]
    for row in table:
        lines.append(f"{row['assignment']:<22}{row['submissions']:>5}{row['mean']:>8}"
                     f"{row['median']:>8}{row['max_score']:>6}{row['failures']:>8}"
                     f"{row['flagged']:>9}")
    noted = [o for o in outcomes if o.status != "graded" or o.flags]
    if noted:
        lines.append("")
        lines.append("Failed or flagged submissions:")
        for o in noted:
            lines.append(f"- {o.student} / {o.assignment}: {o.status}, {o.score}/{o.max_score}"
                         f" [{', '.join(o.flags)}]")
            lines.extend(f"    {problem}" for problem in o.problems)
    workers = collections.Counter(o.worker for o in outcomes if o.worker)
    if workers:
        lines.append("")
        lines.append("Graded on a cluster, submissions per worker (this run and earlier ones):")
        lines.extend(f"- {worker}: {count}" for worker, count in sorted(workers.items()))
    return "\n".join(lines)
