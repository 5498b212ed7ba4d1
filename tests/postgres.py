"""A throw-away PostgreSQL server on loopback, for the tests that grade into one.

``make test`` installs Debian's ``postgresql`` package (``make postgres``); this module
starts a server of its own from it: a fresh data directory in a temporary folder, trust
authentication on 127.0.0.1 only, a free port, no fsync (nothing in it outlives the tests).
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user the
package creates. ``Server.database()`` makes an empty database and returns its SQLAlchemy
URL, which is all nbgrader needs (``course DIR --db-url URL``).
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "nncourse"  # the database superuser initdb makes; no password, loopback only


def binaries():
    """The folder of ``initdb`` and ``pg_ctl``: the newest Debian server, or one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable():
    """Why no server can be started here (None when one can)."""
    if binaries() is None:
        return ("PostgreSQL is not installed: `make test` installs Debian's postgresql "
                "package as root (make postgres); elsewhere install it by hand")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the server as"
    return None


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A PostgreSQL server in a temporary folder, running until ``stop()``."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="nn-course-postgres-"))
        self.data, self.log = self.folder / "data", self.folder / "server.log"
        self.port = _free_port()
        self.count = 0
        self._as = []
        if os.geteuid() == 0:  # postgres will not run as root: its own user runs it
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}",
                        "--init-groups", "--"]
        bindir = binaries()
        self._run(bindir / "initdb", "-D", self.data, "-U", USER, "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._pg_ctl = bindir / "pg_ctl"
        self._run(self._pg_ctl, "-D", self.data, "-l", self.log, "-o", options, "-w",
                  "-t", "60", "start")

    def _run(self, *argv):
        result = subprocess.run([*self._as, *map(str, argv)], capture_output=True, text=True,
                                cwd=self.folder)
        if result.returncode:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{Path(str(argv[0])).name} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}{log}")

    def url(self, database="postgres"):
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self):
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg

        self.count += 1
        name = f"gradebook_{self.count}"
        connection = psycopg.connect(self.url(), autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {name}")
        finally:
            connection.close()
        return self.url(name)

    def stop(self):
        try:
            self._run(self._pg_ctl, "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
