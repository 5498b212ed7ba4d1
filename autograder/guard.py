"""The audit hook every sandboxed Python runs first (PEP 578).

It reports what the sandbox is there to stop: opening files outside the allowed places,
sqlite databases, network connections, new processes and signals. ``SANDBOX_ALLOWED``
lists the allowed places (``:``-separated); ``SANDBOX_EVENTS`` is the file descriptor to
report on, one line per kind of event, each starting with ``[sandbox] ``. The sandbox
runs this file's text ahead of the program (``sandbox.python_command``), where
``__name__`` is ``"__main__"``; importing it does nothing. Student code can silence the
reports, never the sandbox itself.
"""


def _install_guard():
    import os
    import sys

    roots = [r.rstrip("/") + "/" for r in os.environ.pop("SANDBOX_ALLOWED", "").split(":") if r]
    out = os.dup(int(os.environ.pop("SANDBOX_EVENTS", "2")))
    seen = set()

    def report(text):
        if text not in seen and len(seen) < 40:
            seen.add(text)
            try:
                os.write(out, ("[sandbox] " + text + "\n").encode("utf-8", "replace"))
            except OSError:
                pass

    def outside(event, path):
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(path, str) and path:
            full = os.path.normpath(os.path.join(os.getcwd(), path))
            if not any((full + "/").startswith(root) for root in roots):
                report(event + " " + full)

    def hook(event, args):
        if event in ("open", "sqlite3.connect"):
            outside(event, args[0])
        elif event in ("socket.connect", "socket.sendto", "socket.bind"):
            report(f"{event} {args[1]!r}"[:300])
        elif event == "subprocess.Popen" and args[0] == "uname":
            pass  # platform.processor(), called as IPython starts
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
            report(f"{event} {args[0]!r} {args[1]!r}"[:300])
        elif event in ("os.fork", "os.forkpty", "os.kill", "os.killpg"):
            report(event)

    sys.addaudithook(hook)


if __name__ == "__main__":
    _install_guard()
    del _install_guard
