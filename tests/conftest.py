"""Shared pytest configuration for the whole suite.

``--update-golden`` makes golden-file tests (``tests/cli/test_golden.py``) rewrite their expected files from the
current output instead of comparing against them; review the diff before committing it.

The fixtures ``reference`` (upstream CRDs and ``tests/fixtures``), ``kube_api`` (a real etcd + kube-apiserver) and
``kube_namespace`` come from ``tests/upstream/plugin.py``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.upstream.plugin"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the expected output files of golden tests instead of comparing against them.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))
