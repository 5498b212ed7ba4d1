"""Command line: ``python -m autograder <command>``.

Commands
--------
release
    Regenerate the student library ``nnlib/`` from ``solutions/nnlib`` and the
    student notebooks ``notebooks/`` from ``solutions/NN_*.ipynb``.
release --check
    Exit with status 1, listing the stale files, if either is out of date.
course DIR [--solutions PATH] [--db-url URL] [--exchange PATH]
    Build (or refresh) an nbgrader course in DIR: one assignment per notebook,
    each with the nnlib it needs, released by nbgrader with solutions stripped,
    and DIR/grading/ with what grading needs (the reference library, which
    module each assignment grades). Grading reads only DIR: rebuild after
    changing solutions/, and the change reaches grading. The gradebook is SQLite in
    DIR unless --db-url names a database (e.g. postgresql://grader@dbhost/nncourse),
    and nbgrader's exchange is DIR/exchange unless --exchange names a shared folder;
    a rebuild keeps the ones the course names.
hub start [--dir DIR] [--port N] [--instructor NAME] [--students NAME,...]
hub stop [--dir DIR]
    Start a JupyterHub on this machine (as root, loopback only) for a class: Unix
    accounts, a shared exchange, the course in the instructor's home; stop it and
    remove all it made. See the README, "Running a class on JupyterHub".
grade DIR [--parallel N | --scheduler ADDRESS [--shared-course] [--recorders N]]
          [--assignment A] [--student S] [-o PATH] [--cell-timeout S ...]
    Autograde every submission under DIR/submitted (only what changed since
    the last run), then write DIR/grades.csv (nbgrader's export format),
    DIR/grades_by_cell.csv and print a summary. The grading limits have an
    option each (see `grade --help`).
feedback DIR [--assignment A] [--student S]
    Write nbgrader feedback HTML for graded submissions, in which each test
    cell shows only its name, pass or fail, and a hint.
execute [NOTEBOOK ...]
    Re-run the master notebooks in solutions/ (all by default) and save them
    with their outputs, printing the time each took.
renumber
    Number each master notebook's exercises and questions 1, 2, 3... in the order
    of their headings, and rewrite every reference to them (the library's solution
    regions, links, tests, the README); then run `release`. To insert an exercise,
    write its heading (any number) and its solution region, then renumber.
"""

import argparse
import sys
import time
from pathlib import Path

from . import course, feedback, grade, notebooks, release, report, settings
from .inert import shown


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    release_parser = commands.add_parser("release", help="regenerate the student copy")
    release_parser.add_argument("--check", action="store_true",
                                help="only report whether the student copy is stale")
    execute_parser = commands.add_parser("execute", help="re-run and save master notebooks")
    execute_parser.add_argument("notebooks", nargs="*", help="default: solutions/NN_*.ipynb")
    commands.add_parser("renumber", help="number the exercises in heading order")
    course_parser = commands.add_parser("course", help="build an nbgrader course directory")
    course_parser.add_argument("directory", type=Path)
    course_parser.add_argument("--solutions", type=Path, default=release.SOURCE_NOTEBOOKS,
                               help="the master copy: notebooks and nnlib/ (default: this "
                               "repository's solutions/)")
    course_parser.add_argument("--db-url", default=None,
                               help="the gradebook's SQLAlchemy URL, e.g. postgresql://"
                               "grader@dbhost/nncourse (default: the one the course already "
                               "names, else SQLite in DIR; \"\" goes back to SQLite)")
    course_parser.add_argument("--exchange", default=None, metavar="PATH",
                               help="nbgrader's exchange folder, shared with the students "
                               "(default: the one the course already names, else DIR/exchange; "
                               "\"\" goes back to DIR/exchange)")
    grade_parser = commands.add_parser("grade", help="autograde the submissions of a course")
    grade_parser.add_argument("directory", type=Path)
    grade_parser.add_argument("--parallel", type=int, default=None, metavar="N",
                              help="submissions graded at a time, each by a grading process "
                              "of its own (default: number of cores)")
    grade_parser.add_argument("--assignment", help="only this assignment")
    grade_parser.add_argument("--student", help="only this student")
    settings.add_options(grade_parser)
    grade_parser.add_argument("--force", action="store_true",
                              help="regrade submissions already graded")
    grade_parser.add_argument("-o", "--output", type=Path,
                              help="where to write grades.csv (default DIR/grades.csv)")
    grade_parser.add_argument("--scheduler", metavar="ADDRESS",
                              help="grade on the Dask cluster whose scheduler listens there "
                              "(e.g. tcp://10.0.0.5:8786); --parallel is then unused: "
                              "the cluster's Dask workers grade")
    grade_parser.add_argument("--recorders", type=int, default=1, metavar="N",
                              help="with --scheduler and a gradebook on a database server: "
                              "processes recording results at once (default 1)")
    grade_parser.add_argument("--shared-course", action="store_true",
                              help="with --scheduler: the Dask workers see DIR at the same path, "
                              "so send them its path rather than the packed course")
    feedback_parser = commands.add_parser("feedback", help="feedback HTML without test code")
    feedback_parser.add_argument("directory", type=Path)
    feedback_parser.add_argument("--assignment", help="only this assignment")
    feedback_parser.add_argument("--student", help="only this student")
    hub_parser = commands.add_parser("hub", help="a class on a JupyterHub on this machine")
    hub_parser.add_argument("action", choices=("start", "stop"))
    hub_parser.add_argument("--dir", type=Path, default=None,
                            help="where the hub keeps its state, exchange and logs (default "
                            "/srv/nn-course-hub)")
    hub_parser.add_argument("--port", type=int, default=None,
                            help="the hub's port on 127.0.0.1 (default: a free one)")
    hub_parser.add_argument("--instructor", default="instructor", help="the instructor's account")
    hub_parser.add_argument("--students", default="student1,student2",
                            help="the students' accounts, comma-separated")
    args = parser.parse_args(argv)
    grade.quiet_gradebook()  # course, grade and feedback all write the gradebook
    try:
        return run(args)
    except course.CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run(args):
    """Carry out the parsed command."""

    if args.command == "release":
        if args.check:
            from . import exercises

            stale = [f"nnlib/{path}" for path in release.stale_files()]
            stale += [f"notebooks/{name}" for name in release.stale_notebooks()]
            for path in stale:
                print(f"stale: {path}")
            print("student copy is up to date" if not stale else "run `make release`")
            disagree = exercises.problems()
            for problem in disagree:
                print(f"exercises: {problem}")
            return 1 if stale or disagree else 0
        for path in release.release_library() + release.release_notebooks():
            print(f"wrote {path.relative_to(release.ROOT)}")
    elif args.command == "renumber":
        from . import exercises

        changed = exercises.renumber()
        for path in changed:
            print(f"renumbered {path}")
        print("run `make release`" if changed else "the exercises are numbered in order")
    elif args.command == "course":
        start = time.monotonic()
        print(f"building {len(course.assignments(args.solutions))} assignments in "
              f"{args.directory}", flush=True)

        def show(done, total, name):
            print(f"[{done}/{total}] {name}: source/ and release/ ready "
                  f"({time.monotonic() - start:.0f} s)", flush=True)

        names = course.build_course(args.directory, args.solutions, progress=show,
                                    db_url=args.db_url, exchange=args.exchange)
        print(f"course ready in {args.directory}: {len(names)} assignments")
    elif args.command == "grade":
        from . import enclosure, sandbox

        sandbox.warn_if_unsandboxed()
        enclosure.warn_if_unbounded(settings.from_options(args))
        if args.scheduler:
            from . import cluster

            outcomes = cluster.grade_on_cluster(
                args.directory, args.scheduler, args.assignment, args.student,
                settings.from_options(args), force=args.force, shared=args.shared_course,
                recorders=args.recorders)
        else:
            outcomes = grade.grade_course(args.directory, args.parallel, args.assignment,
                                          args.student, settings.from_options(args),
                                          force=args.force)
        grades = report.export_grades(args.directory,
                                      args.output or args.directory / "grades.csv")
        cells = report.export_cells(args.directory, args.directory / "grades_by_cell.csv")
        print(report.format_summary(report.summarize(outcomes), outcomes))
        print(f"\nwrote {grades} and {cells}")
        return 0
    elif args.command == "feedback":
        failed = False
        for name, success, log in feedback.generate_feedback(args.directory, args.assignment,
                                                             args.student):
            print(f"{name}: {'feedback written' if success else 'failed'}")
            if not success:
                failed = True
                print("\n".join(shown(line) for line in log.splitlines()))
        return 1 if failed else 0
    elif args.command == "hub":
        from . import hub

        directory = args.dir or hub.DEFAULT_DIR
        try:
            if args.action == "stop":
                state = hub.stop(directory)
                print(f"hub stopped; removed {directory} and the accounts "
                      f"{', '.join(state['created']) or '(none were made)'}")
                return 0
            state = hub.start(directory, args.port, args.instructor,
                              [name for name in args.students.split(",") if name])
        except hub.HubError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"JupyterHub runs at {state['url']} (loopback only)\n"
              f"  instructor: {state['instructor']}, students: {', '.join(state['students'])}\n"
              f"  password (all accounts): in {state['password_file']}\n"
              f"  course: {state['course']}, exchange: {state['exchange']}\n"
              f"  stop it: python -m autograder hub stop --dir {directory}")
        return 0
    elif args.command == "execute":
        paths = args.notebooks or release.notebooks_in()
        total, failed = 0.0, False
        for path, seconds, found in notebooks.execute_in_place(paths):
            total += seconds
            print(f"{path.name}: {seconds:.1f} s" + "".join(f"\n  {p}" for p in found))
            failed = failed or bool(found)
        print(f"total: {total:.1f} s")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
