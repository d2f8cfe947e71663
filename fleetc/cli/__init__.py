"""The ``fleetc`` command line: parse options, call the library, format, map errors to exit codes.

Exit codes (``docs/design.md`` §7): 0 ok; 1 findings; 2 usage error; 3 rollout halted; 4 could not reach or write
to the target; 5 rollout unfinished; 130 interrupted (Ctrl-C). Errors map to codes by their class
(:mod:`fleetc.core.errors`, :mod:`fleetc.cli.errors`). ``-o json|yaml`` documents: :mod:`fleetc.cli.output`.
"""

from fleetc.cli.main import main

__all__ = ["main"]
