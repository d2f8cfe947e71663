"""The command-line fault flags of ``fleetc simulate`` and ``fleetc apply --local``, parsed into fault entries.

Called through :meth:`fleetc.sim.faults.Faults.from_flags` by :mod:`fleetc.cli.rollout_cmds`. Every flag may repeat;
``CLUSTER`` and ``POOL`` accept globs. A trailing ``@QUALIFIER`` (repeatable: ``@upgrade@v1.35.0``) limits a fault to
part of the rollout (:class:`fleetc.sim.faults.Scope`): ``@create``, ``@upgrade``, ``@vX.Y.Z`` (a version) or
``@REVISION`` (a ClusterClass revision). ``--provider-errors`` is the exception: its ``@`` names the cluster.

==========================================================  ====================================================
``--fail-control-plane CLUSTER[@Q]``                        control-plane machines never get a Node
``--fail-pool CLUSTER/POOL[=N][@Q]``                        a pool's machines (its first N) never get a Node
``--slow-boot CLUSTER[/POOL]=FACTORx|DURATION[@Q]``         slower boots
``--provider-errors FROM+FOR[@CLUSTER]``                    provider API errors for a while
``--fail-node CLUSTER[/POOL][=N][+AFTER][@Q]``              a joined Node stops reporting (NotReady) AFTER
``--delete-node CLUSTER[/POOL][=N][+AFTER][@Q]``            a joined Node is deleted AFTER
``--block-drain CLUSTER[/POOL][=N][+FOR][@Q]``              a PodDisruptionBudget blocks the drain (for FOR)
``--stuck-volumes CLUSTER[/POOL][=N][+FOR][@Q]``            a volume stays attached after the drain (for FOR)
``--slow-delete CLUSTER[/POOL]=DURATION[@Q]``               infrastructure deletion takes DURATION
==========================================================  ====================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError

from fleetc.core.errors import FaultsError
from fleetc.schema.types import parse_duration
from fleetc.sim.faults import (
    BlockedDrain,
    ControlPlaneNeverReady,
    FailingPool,
    HeldDeletion,
    NodeFailure,
    ProviderErrors,
    SlowBoot,
    SlowDeletion,
    StuckVolumes,
)
from fleetc.sim.infra import NodeState

Held = TypeVar("Held", bound=HeldDeletion)

SYNTAX = {
    "fail_control_plane": "CLUSTER[@create|@upgrade|@vX.Y.Z|@REVISION]",
    "fail_pool": "CLUSTER/POOL[=N][@QUALIFIER]",
    "slow_boot": "CLUSTER[/POOL]=FACTORx|DURATION[@QUALIFIER]",
    "provider_errors": "FROM+FOR[@CLUSTER]",
    "fail_node": "CLUSTER[/POOL][=N][+AFTER][@QUALIFIER]",
    "delete_node": "CLUSTER[/POOL][=N][+AFTER][@QUALIFIER]",
    "block_drain": "CLUSTER[/POOL][=N][+FOR][@QUALIFIER]",
    "stuck_volumes": "CLUSTER[/POOL][=N][+FOR][@QUALIFIER]",
    "slow_delete": "CLUSTER[/POOL]=DURATION[@QUALIFIER]",
}
"""The syntax of each flag (keyword → metavar), for help texts and errors."""


def qualifiers(parts: Sequence[str]) -> dict[str, Any]:
    """``create``, ``upgrade``, ``vX.Y.Z`` and class revision names as :class:`~fleetc.sim.faults.Scope` fields."""
    scope: dict[str, Any] = {}
    for part in parts:
        if not part:
            raise ValueError("an empty @ qualifier")
        if part in ("create", "upgrade"):
            scope[f"on_{part}"] = True
        elif re.fullmatch(r"v\d+\.\d+\.\d+", part):
            scope["version"] = part
        else:
            scope["class_revision"] = part
    return scope


def _split(value: str) -> tuple[str, dict[str, Any]]:
    head, *rest = value.split("@")
    return head, qualifiers(rest)


def _target(text: str, *, pool_required: bool = False) -> dict[str, Any]:
    cluster, _, pool = text.partition("/")
    if not cluster or (pool_required and not pool):
        raise ValueError(f"{text!r} names no cluster{'/pool' if pool_required else ''}")
    return {"cluster": cluster, **({"pool": pool} if pool else {})}


def _count(text: str) -> dict[str, Any]:
    if not text:
        return {}
    if not text.isdigit() or text == "0":
        raise ValueError(f"{text!r} is not a number of machines (1 or more)")
    return {"machines": int(text)}


def control_plane_flag(value: str) -> ControlPlaneNeverReady:
    """``CLUSTER``, ``CLUSTER@create``, ``CLUSTER@upgrade``, ``CLUSTER@v1.35.0`` or ``CLUSTER@<class revision>``."""
    head, scope = _split(value)
    return ControlPlaneNeverReady(**_target(head), **scope)


def pool_flag(value: str) -> FailingPool:
    """``CLUSTER/POOL`` or ``CLUSTER/POOL=N`` (only the pool's first N machines in each cluster fail), with
    qualifiers."""
    head, scope = _split(value)
    target, _, count = head.partition("=")
    return FailingPool(**_target(target, pool_required=True), **_count(count), **scope)


def slow_boot_flag(value: str) -> SlowBoot:
    """``CLUSTER[/POOL]=3x`` (a factor) or ``CLUSTER[/POOL]=20m`` (a fixed boot time), with qualifiers."""
    head, scope = _split(value)
    target, _, amount = head.partition("=")
    cluster, _, pool = target.partition("/")
    where: dict[str, Any] = {"cluster": cluster or "*", "pool": pool or "*", **scope}
    if amount.endswith("x"):
        return SlowBoot(**where, factor=float(amount[:-1]))
    return SlowBoot(**where, duration=parse_duration(amount))


def provider_errors_flag(value: str) -> ProviderErrors:
    """``FROM+FOR`` or ``FROM+FOR@CLUSTER`` (``10m+30m``: failing from 10 minutes in, for 30 minutes)."""
    window, _, cluster = value.partition("@")
    start, _, length = window.partition("+")
    return ProviderErrors(start=parse_duration(start), length=parse_duration(length), cluster=cluster or "*")


def _node_parts(value: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    head, scope = _split(value)
    left, _, duration = head.partition("+")
    target, _, count = left.partition("=")
    return {**_target(target), **_count(count)}, duration, scope


def node_failure_flag(value: str, state: NodeState = "NotReady") -> NodeFailure:
    """``CLUSTER[/POOL][=N][+AFTER]``: the Nodes (the first N) go ``state`` AFTER (default 0s) after joining."""
    where, after, scope = _node_parts(value)
    return NodeFailure(**where, after=parse_duration(after) if after else 0, state=state, **scope)


def held_deletion_flag(value: str, kind: type[Held]) -> Held:
    """``CLUSTER[/POOL][=N][+FOR]``: a deletion stage of ``kind`` waits (on the first N) for FOR (default: always)."""
    where, length, scope = _node_parts(value)
    return kind(**where, length=parse_duration(length) if length else None, **scope)


def blocked_drain_flag(value: str) -> BlockedDrain:
    """``CLUSTER[/POOL][=N][+FOR]``: a PodDisruptionBudget blocks draining (the first N) for FOR (default: always)."""
    return held_deletion_flag(value, BlockedDrain)


def slow_delete_flag(value: str) -> SlowDeletion:
    """``CLUSTER[/POOL]=DURATION``: deleting the infrastructure takes DURATION."""
    head, scope = _split(value)
    target, _, duration = head.partition("=")
    return SlowDeletion(**_target(target), duration=parse_duration(duration), **scope)


PARSERS: Mapping[str, tuple[str, Callable[[str], Any]]] = {
    "fail_control_plane": ("control_plane_never_ready", control_plane_flag),
    "fail_pool": ("failing_pools", pool_flag),
    "slow_boot": ("slow_boots", slow_boot_flag),
    "provider_errors": ("provider_errors", provider_errors_flag),
    "fail_node": ("node_failures", node_failure_flag),
    "delete_node": ("node_failures", lambda value: node_failure_flag(value, "Deleted")),
    "block_drain": ("blocked_drains", blocked_drain_flag),
    "stuck_volumes": ("stuck_volumes", lambda value: held_deletion_flag(value, StuckVolumes)),
    "slow_delete": ("slow_deletions", slow_delete_flag),
}


def faults_from_flags(flags: Mapping[str, Sequence[str]]) -> dict[str, list[Any]]:
    """The fault lists (by :class:`~fleetc.sim.faults.Faults` field) the flag values ask for."""
    lists: dict[str, list[Any]] = {}
    for flag, values in flags.items():
        if flag not in PARSERS:
            raise TypeError(f"unknown fault flag {flag!r}")
        field, parse = PARSERS[flag]
        for value in values:
            try:
                entry = parse(value)
            except (ValueError, ValidationError) as exc:
                problem = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                option = "--" + flag.replace("_", "-")
                raise FaultsError(f"{option} {value!r}: expected {SYNTAX[flag]} ({problem})") from None
            lists.setdefault(field, []).append(entry)
    return lists
