"""A PyYAML loader that reads as YAML 1.2 does (editors, and fleetc's own reader): dates stay text.

``rotateAfter: 2026-12-01`` and ``expires: 2027-06-30`` are strings to fleetc and to a JSON Schema validator in an
editor; PyYAML's YAML 1.1 resolver would turn them into ``datetime.date``. Used by the schema tests."""

from __future__ import annotations

import yaml


class Yaml12Loader(yaml.SafeLoader):
    """:class:`yaml.SafeLoader` without the YAML 1.1 timestamp resolver."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
