"""Command line: ``python -m autograder <command>``.

Commands
--------
release
    Regenerate the student library ``nnlib/`` from ``solutions/nnlib`` and the
    student notebooks ``notebooks/`` from ``solutions/NN_*.ipynb``.
release --check
    Exit with status 1, listing the stale files, if either is out of date.
"""

import argparse
import sys

from . import release


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    release_parser = commands.add_parser("release", help="regenerate the student copy")
    release_parser.add_argument("--check", action="store_true",
                                help="only report whether the student copy is stale")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
