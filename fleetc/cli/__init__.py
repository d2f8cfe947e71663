"""The ``fleetc`` command line: parse options, call the library, format, map errors to exit codes.

Exit codes (``docs/design.md`` §7): 0 ok; 1 findings; 2 usage error; 3 rollout halted; 4 could not reach or write
to the target. Errors map to codes by their class (:mod:`fleetc.core.errors`, :mod:`fleetc.cli.errors`).
"""

from fleetc.cli.main import main

__all__ = ["main"]
