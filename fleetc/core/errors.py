"""Every exception fleetc expects, in one tree, each class carrying the exit code the CLI gives it.

Expected failures are :class:`FleetcError`\\ s: the CLI (:func:`fleetc.cli.errors.handle_errors`) prints their
message on one line, without a traceback, and exits with the class's :attr:`FleetcError.exit_code` (``--debug``
shows the traceback). Anything else is a bug and keeps its traceback. Exit 3 (rollout halted) and 5 (rollout
unfinished: paused, or stopped progressing) are results, not errors: no class carries them. The CLI contract is in
``docs/design.md`` ("CLI contract").

::

    FleetcError                  1  base of every expected failure
    ├── InvalidFleetError        1  the fleet has validation errors (printed before); nothing built or rolled out
    ├── CompileError             1  an object cannot be compiled; names its kind/name and, if known, file:line
    ├── DeletionNotAllowedError  1  a rollout would delete decommissioned clusters and ``--allow-delete`` is not given
    ├── StoreError               1  a store operation failed (also: a state file that is not one)
    │   ├── NotFound             1  no such object
    │   ├── AlreadyExists        1  create of an object that exists
    │   ├── Conflict             1  update with a stale resourceVersion
    │   ├── FieldConflict        1  a server-side apply would take fields another field manager owns
    │   ├── ForbiddenError       1  RBAC denied a request (names verb, resource, namespace and the missing rule)
    │   ├── NamespaceTerminating 1  a write into a namespace being deleted (no RBAC rule would help)
    │   ├── Rejected             1  the API server refused an object as invalid (CRD schema, CEL rules: ``causes``)
    │   └── ServerError          4  the API server kept answering 429/5xx after every retry (unwritable target)
    ├── TerminalError            1  a reconcile failed for good: the runtime does not retry it
    ├── TransientError           1  a reconcile failed for now: the runtime retries it (after ``delay``)
    │   └── ProviderAPIError     1  an infrastructure provider's API refused or timed out
    ├── UsageError               2  the command cannot do what it was asked, as asked
    │   ├── SourceError          2  a source tree cannot be read (missing folder, unknown git revision)
    │   │   └── UnreadableError  2  a listed file cannot be read (permissions, a partial clone's missing object)
    │   ├── FleetNotFoundError   2  no fleet root (a folder with fleet.yaml) where one was asked for
    │   ├── UnknownWaveError     2  a command names a wave the rollout does not have (``rollout approve WAVE``)
    │   ├── OptionError          2  an option's value is malformed (``--flux-source``, ``--speed``…)
    │   │   └── FaultsError      2  a fault flag or fault file of the simulated provider is malformed
    │   ├── OutputError          2  OUT is not a folder fleetc may replace (not written by fleetc, the fleet…)
    │   ├── KubeConfigError      2  no usable kubeconfig, context or in-cluster configuration
    │   └── NoRolloutError       2  the state holds no rollout (or several) to show or change
    └── TargetError              4  fleetc could not reach or write to its target
        ├── TargetWriteError     4  the output folder or the state file cannot be written
        ├── ClaimLostError       4  an apply could not renew its claim on the rollout it carries out
        └── TargetUnreachableError 4  the Kubernetes API server cannot be reached (names its URL)
"""

from __future__ import annotations

import enum
from typing import ClassVar

from fleetc.core.diagnostics import SourceLocation


class ExitCode(enum.IntEnum):
    """The CLI contract's exit codes."""

    OK = 0
    FINDINGS = 1
    """Validation errors, a stale build (``--check``), or changes with ``--exit-code``."""
    USAGE = 2
    HALTED = 3
    """The rollout halted (a result, not an error)."""
    TARGET = 4
    """fleetc could not reach or write to the target (output folder, state file, Kubernetes API server)."""
    UNFINISHED = 5
    """The rollout neither completed nor halted: it is paused, or it stopped progressing (a result, not an error)."""


class FleetcError(Exception):
    """Base of every error fleetc expects and reports without a traceback."""

    exit_code: ClassVar[ExitCode] = ExitCode.FINDINGS


class InvalidFleetError(FleetcError):
    """The fleet has validation errors, so a command that needs a valid fleet did nothing."""


class CompileError(FleetcError):
    """An object of the fleet cannot be compiled; the message names it (``Provider aws-eu``) and where it is written.

    Compiling a validated fleet does not fail; this is raised when validation let something through that the
    compiler cannot render. ``location`` is None where the raiser does not know the spec file (the providers get
    documents, not their origin); :meth:`located` adds it.
    """

    def __init__(self, kind: str, name: str, problem: str, location: SourceLocation | None = None) -> None:
        where = f"{location}: " if location is not None else ""
        super().__init__(f"{where}{kind} {name}: {problem}")
        self.kind, self.name, self.problem, self.location = kind, name, problem, location

    def located(self, location: SourceLocation) -> CompileError:
        """The same error, pointing at ``location`` (kept when one is already known)."""
        return self if self.location is not None else CompileError(self.kind, self.name, self.problem, location)


class DeletionNotAllowedError(FleetcError):
    """A rollout would delete clusters marked for decommissioning, and deleting was not allowed (``--allow-delete``).

    Raised before anything is written; the message names the clusters and how to proceed."""


class StoreError(FleetcError):
    """A store operation failed."""


class NotFound(StoreError):
    """The object does not exist."""


class AlreadyExists(StoreError):
    """Create of an object that already exists."""


class Conflict(StoreError):
    """Update with a stale ``resourceVersion`` (optimistic concurrency)."""


class FieldConflict(StoreError):
    """A server-side apply would change fields that another field manager owns (``force`` takes them over)."""

    def __init__(self, key: object, conflicts: list[tuple[str, str]]) -> None:
        self.key, self.conflicts = key, conflicts
        listed = "; ".join(f"{field} is owned by field manager {manager!r}" for manager, field in conflicts)
        super().__init__(f"{key}: apply conflicts: {listed} (apply with --force-conflicts to take them over)")


class ForbiddenError(StoreError):
    """RBAC denied a request: names the verb, the resource, the namespace and the rule that would allow it."""

    def __init__(self, verb: str, group: str, resource: str, namespace: str, said: str) -> None:
        self.verb, self.group, self.resource, self.namespace = verb, group, resource, namespace
        self.rule = policy_rule(verb, group, resource)
        where = f'in namespace "{namespace}"' if namespace else "cluster-wide"
        holder = f'a Role in namespace "{namespace}"' if namespace else "a ClusterRole"
        shown = f"{resource}.{group}" if group else resource
        super().__init__(
            f'forbidden: cannot {verb} "{shown}" {where} ({said.strip()}).\n'
            f"Missing RBAC rule (add it to {holder} bound to this user):\n{self.rule}"
        )


class NamespaceTerminating(StoreError):
    """The API server refused to create or change an object because its namespace is being deleted (HTTP 403 with
    cause ``NamespaceTerminating``): no RBAC rule would help; the namespace and what is in it are going away."""

    def __init__(self, where: str, namespace: str) -> None:
        self.namespace = namespace
        super().__init__(f'{where}: namespace "{namespace}" is being deleted: nothing new can be written in it')


def policy_rule(verb: str, group: str, resource: str) -> str:
    """A ready-to-paste RBAC PolicyRule (YAML list item) allowing ``verb`` on ``group``/``resource``."""
    return f'- apiGroups: ["{group}"]\n  resources: ["{resource}"]\n  verbs: ["{verb}"]'


class Rejected(StoreError):
    """The API server refused an object as invalid (HTTP 422: CRD schema, CEL rules, admission); ``causes`` holds
    one ``field: message`` line per reason it gave."""

    def __init__(self, message: str, causes: list[str] | None = None) -> None:
        super().__init__(message)
        self.message, self.causes = message, causes or []


class ServerError(StoreError):
    """The API server kept answering 429 or 5xx after every retry: the target cannot be written now (exit 4)."""

    exit_code: ClassVar[ExitCode] = ExitCode.TARGET


class TerminalError(FleetcError):
    """A reconcile failure that retrying cannot fix; the runtime records it and does not requeue."""


class TransientError(FleetcError):
    """A reconcile failure worth retrying, optionally after ``delay`` seconds instead of the backoff."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class ProviderAPIError(TransientError):
    """An infrastructure provider's API refused or timed out; the runtime retries with backoff."""


class UsageError(FleetcError):
    """The command cannot do what it was asked, as asked (an argument, an option or the place it runs from)."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class SourceError(UsageError):
    """A source tree (folder, git revision) cannot be opened or read."""


class UnreadableError(SourceError):
    """A file a tree listed cannot be read (permissions, a git object missing from a partial clone)."""


class FleetNotFoundError(UsageError):
    """No fleet root was found where one was expected."""


class UnknownWaveError(UsageError):
    """A command names a wave the rollout does not have (``fleetc rollout approve WAVE``)."""


class OptionError(UsageError):
    """An option's value is malformed; the message names the option and what it expects."""


class FaultsError(OptionError):
    """A fault flag or fault file of the simulated in-memory provider is malformed."""


class OutputError(UsageError):
    """OUT cannot be written safely (it holds files fleetc did not write, it would hold the fleet, paths escape it)."""


class KubeConfigError(UsageError):
    """No usable kubeconfig, context or in-cluster configuration."""


class NoRolloutError(UsageError):
    """The state holds no rollout to show or change (or several)."""


class TargetError(FleetcError):
    """fleetc could not reach or write to its target."""

    exit_code: ClassVar[ExitCode] = ExitCode.TARGET


class TargetWriteError(TargetError):
    """The output folder or the state file cannot be written (permissions, a full disk, a read-only mount)."""


class ClaimLostError(TargetError):
    """A ``fleetc apply`` lost its claim on the rollout it carried out (not renewed in time): it must stop acting."""


class TargetUnreachableError(TargetError):
    """The Kubernetes API server at ``server`` cannot be reached."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"cannot reach the Kubernetes API server at {server}: {reason}")
        self.server, self.reason = server, reason
