"""The start of every sandboxed kernel: ipykernel, with the output it sends bounded.

The sandbox runs this file's text ahead of nothing else but the audit hook
(``sandbox.python_command``), as ``__main__``, where it launches the kernel; importing it
only defines what it uses. A cell that prints without end would otherwise pile its text up
in the kernel, between two sends, faster than the grader can take it, until the
submission's memory runs out: a different flag on a quiet machine (``output-cut``) and a
loaded one (``out-of-memory``). Here each stream keeps ``KERNEL_KEEPS`` characters per
request and drops the rest as it is written, which costs the loop nothing; the grader keeps
``GRADER_KEEPS`` of what arrives (``preprocessors.ResilientExecute``), fewer, so it always
sees more than it keeps and reports the cut on its own channel. So a student who prints
without end sees the first ``GRADER_KEEPS`` characters and a line saying the rest was cut;
the instructor sees ``output-cut``, on any machine.
"""

import sys

from ipykernel import kernelapp
from ipykernel.iostream import OutStream

GRADER_KEEPS = 1_000_000  # characters of output the grader keeps per cell
KERNEL_KEEPS = 2 * GRADER_KEEPS  # characters each stream of the kernel sends per request


class BoundedOutStream(OutStream):
    """ipykernel's ``OutStream`` that sends at most ``KERNEL_KEEPS`` characters per request
    (per cell) and drops the rest as it is written."""

    _request = None
    _sent = 0

    def write(self, string):
        if not isinstance(string, str):
            return super().write(string)  # ipykernel's own TypeError
        request = (self.parent_header or {}).get("msg_id")
        if request != self._request:
            self._request, self._sent = request, 0
        room = KERNEL_KEEPS - self._sent
        self._sent += len(string)
        if room > 0:
            super().write(string[:room])
        return len(string)


def main():
    """Launch the kernel with its output bounded (the arguments are ipykernel's)."""
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # as ipykernel_launcher does; IPython puts the working folder back
    sys.argv.append(f"--IPKernelApp.outstream_class={__name__}.BoundedOutStream")
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
