"""Two whole PR comments, pinned as golden files: a template change and a deletion, from the real git history.

``tests/golden/pr-comment/template.md`` is ``fleetc diff --base main --head template --format markdown`` (class
standard gets a kubelet argument: two class revisions change the same way, ten clusters roll);
``tests/golden/pr-comment/deletion.md`` is ``--base marked --head deletion`` (two marked clusters are
decommissioned, one unmarked cluster is orphaned, one is created). ``pytest tests/plan --update-golden`` rewrites
them after an intended change of output; read the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.history import History, build_history
from tests.plan.support import run

GOLDEN = Path(__file__).parents[1] / "golden" / "pr-comment"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The history, built once for the module."""
    return build_history(tmp_path_factory.mktemp("history"))


@pytest.mark.parametrize(
    ("name", "base", "head", "exit_code"),
    [
        pytest.param("template.md", "main", "template", 0, id="template-change"),
        pytest.param("deletion.md", "marked", "deletion", 1, id="deletion"),
    ],
)
def test_the_whole_comment_matches_the_golden_file(
    history: History, update_golden: bool, name: str, base: str, head: str, exit_code: int
) -> None:
    result = run(
        "diff",
        str(history.repo.fleet),
        "--base",
        base,
        "--head",
        head,
        "--format",
        "markdown",
        "--fail-on",
        "destructive",
    )

    assert result.exit_code == exit_code, result.output
    expected = GOLDEN / name
    if update_golden:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == expected.read_text(encoding="utf-8")
