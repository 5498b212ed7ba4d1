"""Command line: ``python -m autograder <command>``.

Commands
--------
release
    Regenerate the student library ``nnlib/`` from ``solutions/nnlib`` and the
    student notebooks ``notebooks/`` from ``solutions/NN_*.ipynb``.
release --check
    Exit with status 1, listing the stale files, if either is out of date.
execute [NOTEBOOK ...]
    Re-run the master notebooks in solutions/ (all by default) and save them
    with their outputs, printing the time each took.
"""

import argparse
import sys

from . import notebooks, release


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    release_parser = commands.add_parser("release", help="regenerate the student copy")
    release_parser.add_argument("--check", action="store_true",
                                help="only report whether the student copy is stale")
    execute_parser = commands.add_parser("execute", help="re-run and save master notebooks")
    execute_parser.add_argument("notebooks", nargs="*", help="default: solutions/NN_*.ipynb")
    args = parser.parse_args(argv)

    if args.command == "release":
        if args.check:
            stale = [f"nnlib/{path}" for path in release.stale_files()]
            stale += [f"notebooks/{name}" for name in release.stale_notebooks()]
            for path in stale:
                print(f"stale: {path}")
            print("student copy is up to date" if not stale else "run `make release`")
            return 1 if stale else 0
        for path in release.release_library() + release.release_notebooks():
            print(f"wrote {path.relative_to(release.ROOT)}")
    elif args.command == "execute":
        paths = args.notebooks or sorted(release.SOURCE_NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
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
