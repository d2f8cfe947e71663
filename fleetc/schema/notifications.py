"""Notification receivers (``fleet.yaml`` ``spec.notifications``): who hears about a rollout, and of what.

A receiver is a generic webhook (a versioned JSON body, :mod:`fleetc.engine.notify`) or a Slack-compatible incoming
webhook. Its URL is usually a secret, so the spec never holds it: ``urlFrom`` names an environment variable of the
process that runs the rollout, or a key of a Kubernetes Secret in the rollout's namespace (management cluster only).
Callers: :class:`fleetc.schema.fleet.FleetSpec`; the rollout carries it (:class:`fleetc.rollout.model.RolloutSpec`)
to the sender.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from fleetc.schema.base import SpecModel
from fleetc.schema.types import Duration, Name, shown

MAX_RETRIES = 10
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

NotifiedEvent = Literal["Halted", "WaveCompleted", "ApprovalNeeded", "Completed"]
NOTIFIED_EVENTS: tuple[NotifiedEvent, ...] = ("Halted", "WaveCompleted", "ApprovalNeeded", "Completed")
"""The rollout timeline events a receiver can subscribe to (all of them by default)."""


def check_env_name(value: str) -> str:
    """An environment variable name."""
    if not _ENV.match(value):
        raise ValueError(f"'{shown(value)}' is not an environment variable name (letters, digits, _)")
    return value


EnvName = Annotated[str, AfterValidator(check_env_name), WithJsonSchema({"type": "string", "pattern": _ENV.pattern})]


class SecretKeyRef(SpecModel):
    """A key of a Secret in the rollout's namespace on the management cluster."""

    name: Name
    key: str = Field(min_length=1, max_length=253)


class UrlSource(SpecModel):
    """Where a receiver's URL comes from: exactly one of ``env`` and ``secretKeyRef``."""

    env: EnvName | None = Field(default=None, description="An environment variable holding the URL.")
    secret_key_ref: SecretKeyRef | None = Field(default=None, description="A Secret key holding the URL.")

    @model_validator(mode="after")
    def _exactly_one(self) -> UrlSource:
        if (self.env is None) == (self.secret_key_ref is None):
            raise ValueError("set exactly one of env and secretKeyRef")
        return self

    def describe(self) -> str:
        """Where the URL comes from, never the URL: ``env FLEETC_HOOK`` or ``secret ops/url``."""
        if self.env is not None:
            return f"env {self.env}"
        assert self.secret_key_ref is not None
        return f"secret {self.secret_key_ref.name}/{self.secret_key_ref.key}"


class Receiver(SpecModel):
    """One destination of notifications."""

    name: Name
    type: Literal["webhook", "slack"] = Field(
        default="webhook", description="webhook: fleetc's JSON body (version 1); slack: an incoming webhook."
    )
    url_from: UrlSource = Field(description="Where the URL comes from (it is never written in the spec).")
    events: list[NotifiedEvent] = Field(
        default_factory=lambda: list(NOTIFIED_EVENTS), min_length=1, description="Which events it hears about."
    )


class NotificationPolicy(SpecModel):
    """Receivers, and how hard to try: a delivery never blocks nor fails the rollout."""

    receivers: list[Receiver] = Field(min_length=1)
    timeout: Duration = Field(default=10, description="How long one delivery attempt may take.")
    retries: int = Field(default=3, ge=0, le=MAX_RETRIES, description="Further attempts after a failed one.")

    @model_validator(mode="after")
    def _unique(self) -> NotificationPolicy:
        names = [r.name for r in self.receivers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"receivers: {', '.join(twice)} defined twice")
        if not int(self.timeout):
            raise ValueError("timeout: must be more than 0s")
        return self
