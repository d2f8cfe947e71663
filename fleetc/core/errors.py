"""The exception hierarchy. Expected failures are ``FleetcError``s; the CLI prints them without a traceback.

::

    FleetcError
    ├── SourceError        a source tree cannot be read (missing folder, unknown git revision)
    └── FleetNotFoundError no fleet root (a folder with fleet.yaml) where one was asked for
"""

from __future__ import annotations


class FleetcError(Exception):
    """Base of every error fleetc expects and reports without a traceback."""


class SourceError(FleetcError):
    """A source tree (folder, git revision) cannot be opened or read."""


class FleetNotFoundError(FleetcError):
    """No fleet root was found where one was expected."""
