"""The provider registry: one implementation per provider type of the schema, found by its spec class."""

from __future__ import annotations

import pytest

from fleetc.core.errors import CompileError
from fleetc.render.providers.base import spec_of
from fleetc.render.providers.registry import IMPLEMENTATIONS, provider_for
from fleetc.schema.provider import PROVIDER_SPECS, PROVIDER_TYPES, AwsSpec, ProviderDocument, type_name


def test_every_schema_type_has_exactly_one_implementation() -> None:
    implemented = [type_name(p.spec_type) for p in IMPLEMENTATIONS]
    assert sorted(implemented) == sorted(PROVIDER_TYPES)
    assert len(set(implemented)) == len(implemented)


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
def test_a_type_name_finds_the_implementation_of_its_spec(provider_type: str) -> None:
    assert provider_for(provider_type).spec_type is PROVIDER_SPECS[provider_type]


def test_an_unknown_type_is_not_found() -> None:
    with pytest.raises(KeyError):
        provider_for("dev_inmemory")  # a module name, not a type name


def test_spec_of_narrows_to_the_implementation_type_and_refuses_another() -> None:
    document = ProviderDocument.model_validate(
        {"metadata": {"name": "local"}, "spec": {"type": "dev-inmemory"}}, strict=False
    )
    assert spec_of(document, PROVIDER_SPECS["dev-inmemory"]) is document.spec
    with pytest.raises(CompileError, match="Provider local: is dev-inmemory, not aws"):
        spec_of(document, AwsSpec)
