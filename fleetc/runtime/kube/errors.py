"""The errors of the Kubernetes store, each saying what a person needs to act on it.

Until the project's error tree (``fleetc.core.errors``) has them, they are defined here as :class:`FleetcError`
subclasses; ``exit_code`` is the CLI exit code they call for (4: the target cannot be reached). Callers:
:mod:`fleetc.runtime.kube.api` raises them; the CLI prints them.
"""

from __future__ import annotations

from fleetc.core.errors import FleetcError
from fleetc.runtime.store import StoreError

EXIT_UNREACHABLE = 4


class KubeConfigError(FleetcError):
    """No usable kubeconfig, context or in-cluster configuration."""

    exit_code = 2


class TargetUnreachableError(FleetcError):
    """The API server could not be reached (connection refused, no route, TLS failure, timeouts)."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"cannot reach the Kubernetes API server at {server}: {reason}")
        self.server = server


class ServerError(StoreError):
    """The API server kept answering 429 or 5xx after every retry."""


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


def policy_rule(verb: str, group: str, resource: str) -> str:
    """A ready-to-paste RBAC PolicyRule (YAML list item) allowing ``verb`` on ``group``/``resource``."""
    return f'- apiGroups: ["{group}"]\n  resources: ["{resource}"]\n  verbs: ["{verb}"]'
