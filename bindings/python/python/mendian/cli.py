"""The ``mendian`` command line (installed as the ``mendian`` console script): the same program
as the Rust binary, run in this process by the core library. ``mendian --help`` lists the
commands; ``main(["endpoints", "--json"])`` runs one from Python and returns its exit code."""

from __future__ import annotations

import sys
from typing import List, Optional

from ._ffi import mendian as _generated

__all__ = ["main"]


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command line with ``argv`` (default: ``sys.argv[1:]``) and returns the exit
    code; as the console script, exits with it."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Output written from Python so far must come before the core's own writes.
    sys.stdout.flush()
    sys.stderr.flush()
    code = int(_generated.mendian_cli(args))
    if argv is None:
        sys.exit(code)
    return code
