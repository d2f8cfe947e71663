"""What the compiler cannot render raises a ``CompileError`` naming the object and the spec line it is written at.

Validation keeps these out of a valid fleet, so the tests validate a fleet, then break the validated model the way
a validation gap would (a provider size with no machine type), and compile it.
"""

from __future__ import annotations

import pytest

from fleetc.core.errors import CompileError, ExitCode
from fleetc.render.compile import compile_fleet
from fleetc.render.providers.aws import PROVIDER as AWS
from fleetc.render.providers.base import MachineRequest
from fleetc.schema.provider import AwsSpec
from tests.builders import FleetBuilder, assert_valid, position


def test_a_provider_without_a_machine_type_names_the_provider_and_its_line() -> None:
    builder = FleetBuilder.minimal()
    result = builder.validate()
    assert_valid(result)
    assert result.fleet is not None
    provider = result.fleet.providers["aws-eu"].document
    assert isinstance(provider.spec, AwsSpec)
    del provider.spec.sizes["large"]  # the size the class's worker pool asks for
    with pytest.raises(CompileError) as raised:
        compile_fleet(result.fleet)
    line, _ = position(builder.text("providers.yaml"), "apiVersion")  # aws-eu is the first document
    error = raised.value
    assert (error.kind, error.name) == ("Provider", "aws-eu")
    assert error.location is not None and (error.location.path, error.location.line) == ("fleet/providers.yaml", line)
    assert str(error) == f"{error.location}: Provider aws-eu: maps no instance type for this worker"
    assert error.exit_code is ExitCode.FINDINGS


def test_without_a_known_spec_line_the_error_still_names_the_object() -> None:
    fleet = FleetBuilder.minimal().validate().fleet
    assert fleet is not None
    document = fleet.providers["aws-eu"].document
    with pytest.raises(CompileError, match=r"^Provider aws-eu: maps no instance type for this worker$"):
        AWS.machine_template_spec(document, MachineRequest("worker", None, "general"))
