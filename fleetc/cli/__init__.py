"""The ``fleetc`` command line: parse options, call the library, format, map errors to exit codes.

Exit codes (design §7): 0 ok; 1 findings; 2 usage error; 3 rollout halted; 4 target unreachable.
"""

from fleetc.cli.main import main

__all__ = ["main"]
