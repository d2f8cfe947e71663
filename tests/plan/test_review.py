"""A reviewer's PR comment on a real git history (issue 11, "The diff"): what the comment must say, and say once.

Every test reads a branch of :func:`tests.plan.history.build_history` (one git repository per module, real git,
real CLI): the top table carries the decision, each change names its spec line, class revisions show their own
change, a broken base still says what the head holds, destructive changes can fail CI, and nothing depends on
Python's hash seed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fleetc.plan.formats import markdown
from fleetc.plan.formats.common import LEGEND
from fleetc.plan.formats.text import WIDTH
from fleetc.plan.report import compare
from fleetc.plan.sides import open_fleet
from tests.builders import position
from tests.plan.history import History, build_history, history_fleet
from tests.plan.support import FleetRepo, run, top


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The history, built once for the module (tests only read it)."""
    return build_history(tmp_path_factory.mktemp("history"))


def _diff(history: History, base: str, head: str, *options: str, command: str = "diff") -> tuple[int, str]:
    result = run(command, str(history.repo.fleet), "--base", base, "--head", head, *options)
    return result.exit_code, result.stdout


def _row(comment: str, headline: str) -> list[str]:
    """The cells of the top table's row whose change starts with ``headline``."""
    line = next(line for line in top(comment).splitlines() if line.startswith(f"| {headline}"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def _file_line(history: History, branch: str, file: str, needle: str, after: str = "") -> int:
    text = subprocess.run(
        ["git", "-C", str(history.root), "show", f"{branch}:fleet/{file}"], capture_output=True, text=True, check=True
    ).stdout
    return position(text, needle, after=after)[0]


# --- Determinism ---------------------------------------------------------------------------------------------------


_EVERY_OUTPUT = """
import json, sys
from click.testing import CliRunner
from fleetc.cli.main import cli
base, head = sys.argv[1:3]
outputs = {}
for command in ("diff", "plan"):
    for output in ("json", "markdown", "text"):
        args = [command, "fleet", "--base", base, "--head", head, "--format", output]
        outputs[f"{command} {output}"] = CliRunner().invoke(cli, args).stdout
print(json.dumps(outputs))
"""


@pytest.mark.parametrize(("base", "head"), [("main", "scale"), ("marked", "deletion")])
def test_the_whole_output_is_the_same_under_every_hash_seed(history: History, base: str, head: str) -> None:
    """Each hash seed is a fresh interpreter running the CLI for diff and plan in every format."""
    runs = []
    for seed in ("0", "1", "2", "3", "4"):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLEETC_", "COLUMNS", "FORCE_COLOR"))}
        done = subprocess.run(
            [sys.executable, "-c", _EVERY_OUTPUT, base, head],
            cwd=history.root,
            env={**env, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout))
    assert all(output for output in runs[0].values())
    for key in runs[0]:
        assert len({run[key] for run in runs}) == 1, f"{key} depends on the hash seed"


# --- Class revisions -----------------------------------------------------------------------------------------------


def test_revisions_that_changed_the_same_way_list_the_change_once_for_all_of_them(history: History) -> None:
    _, comment = _diff(history, "main", "template", "--format", "markdown")

    block = comment[comment.index("Class revisions and what changed in them (2)") :]
    assert block.index("**The same change in 2 revisions**") < block.index("standard-aws-eu: revision")
    assert block.index("standard-local: revision") < block.index("the change:")
    # two pool bootstraps and the control plane's init and join configurations, once each
    assert block.count("kubeletExtraArgs[name=max-pods]") == 4
    text = _diff(history, "main", "template")[1]
    assert "  the same change in 2 revisions:" in text


def test_revisions_that_changed_differently_each_show_their_own_change(history: History, tmp_path: Path) -> None:
    subprocess.run(["git", "clone", "-q", str(history.root), str(tmp_path / "clone")], check=True)
    repo = FleetRepo(tmp_path / "clone", history_fleet())
    repo.builder.set("ClusterClass", "standard", "spec.kubeadm", {"kubelet": {"extraArgs": {"max-pods": "200"}}})
    repo.builder.set("Provider", "aws-eu", "spec.sizes.large", "m7i.2xlarge")
    repo.write()

    comment = run("diff", str(repo.fleet), "--base", "HEAD", "--format", "markdown").stdout

    block = comment[comment.index("Class revisions and what changed in them") :]
    aws, local = block.index("**standard-aws-eu: revision"), block.index("**standard-local: revision")
    assert "The same change" not in block
    first, second = sorted([aws, local])
    assert "instanceType" in block[aws : (second if aws == first else len(block))]
    assert "instanceType" not in block[local : (second if local == first else block.index("</details>", local))]
    assert block[local:].count("max-pods") >= 1 and block[aws:].count("max-pods") >= 1


# --- The top table carries the decision ----------------------------------------------------------------------------


def test_deleted_clusters_show_the_machines_destroyed_and_created_ones_the_machines_created(history: History) -> None:
    _, comment = _diff(history, "marked", "deletion", "--format", "markdown")

    assert _row(comment, "**DECOMMISSIONED")[3:] == ["6 deleted", "10 deleted"]  # eu-7, eu-8: 3 + 5 machines each
    assert _row(comment, "created at v1.34.2 (standard-local)")[3:] == ["3 created", "5 created"]
    assert _row(comment, "orphaned")[3:] == ["3 keep running", "5 keep running"]


def test_a_scale_row_says_which_pool_scales_from_what_to_what(history: History) -> None:
    _, comment = _diff(history, "main", "scale", "--format", "markdown")

    row = _row(comment, "scale")
    assert row[0] == "scale general 3 → 5, spread-eu-west-1a 1 → 2, spread-eu-west-1b 1 → 2"
    assert row[3:] == ["—", "—"]  # a scale replaces no machine


def test_a_wave_move_says_so_in_the_table(history: History) -> None:
    _, comment = _diff(history, "main", "wave-move", "--format", "markdown")

    assert _row(comment, "moves from wave broad to canary")[1:3] == ["1", "canary: `eu-3`"]
    assert "| metadata only |" not in top(comment)


def test_a_change_that_comes_from_a_provider_is_attributed_to_the_provider(history: History) -> None:
    _, comment = _diff(history, "main", "provider", "--format", "markdown")

    row = _row(comment, "provider aws-eu change: rolls pool general")
    assert row[1] == "8" and row[3:] == ["—", "24 replaced"]
    assert "class standard" not in top(comment)


def test_a_class_change_is_still_attributed_to_the_class(history: History) -> None:
    _, comment = _diff(history, "main", "template", "--format", "markdown")

    assert _row(comment, "template change in class standard: rolls control plane, pool general, pool spread")


def test_a_refused_update_counts_no_machine_rolls(history: History) -> None:
    code, comment = _diff(history, "main", "refused", "--format", "markdown")
    data = json.loads(_diff(history, "main", "refused", "--format", "json")[1])

    assert code == 1  # the policy error
    row = _row(comment, "Kubernetes v1.34.2 → v1.33.6 (refused by CAPI")
    assert row[3:] == ["—", "—"]
    [cluster] = data["clusters"]
    assert cluster["machines"]["controlPlaneReplaced"] == 0
    assert cluster["machines"]["workersReplaced"] == {"min": 0, "max": 0}


# --- Destructive change is a decision ------------------------------------------------------------------------------


def test_fail_on_destructive_exits_1_when_clusters_would_be_deleted(history: History) -> None:
    assert _diff(history, "marked", "deletion")[0] == 0
    assert _diff(history, "marked", "deletion", "--fail-on", "destructive")[0] == 1
    assert _diff(history, "marked", "deletion", "--fail-on", "destructive", command="plan")[0] == 1


def test_fail_on_destructive_passes_changes_that_delete_nothing(history: History) -> None:
    for branch in ("template", "scale", "failure-domains", "wave-move", "marked"):
        assert _diff(history, "main", branch, "--fail-on", "destructive")[0] == 0, branch


def test_fail_on_destructive_exits_1_when_a_worker_pool_would_be_deleted(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "edge", "spec.workers", {"other": {"size": "medium", "replicas": 1}})
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--fail-on", "destructive", "--format", "markdown")

    assert result.exit_code == 1, result.output
    assert "**Worker pools removed**" in result.stdout
    assert "2 deleted" in _row(result.stdout, "**worker pool removed: apps")[4]  # edge-1's 2 machines of pool apps


def test_the_truncation_note_says_where_the_complete_list_is(history: History) -> None:
    root = history.repo.fleet
    report = compare(open_fleet("base", root, "main", "fleet"), open_fleet("head", root, "template", "fleet"))

    comment = markdown.render(report, limit=2_500)

    assert "**Truncated" in comment
    assert "--format text` (or" not in comment and "one `--format text` away" not in comment
    assert "The complete list is the same command's `--format json` output" in comment
    assert "`--format text` folds long lists too" in comment


# --- The reviewer's path back to the spec --------------------------------------------------------------------------


def test_a_provider_change_names_the_provider_line(history: History) -> None:
    _, text = _diff(history, "main", "provider")
    line = _file_line(history, "provider", "providers.yaml", "large: m7i.2xlarge")

    assert f"spec: fleet/providers.yaml:{line} (provider aws-eu spec.sizes.large)" in text


def test_a_cluster_edit_names_the_cluster_line_and_a_channel_bump_the_channel_line(history: History) -> None:
    _, text = _diff(history, "main", "scale")
    data = json.loads(_diff(history, "main", "scale", "--format", "json")[1])
    line = _file_line(history, "scale", "clusters.yaml", "general:", after="name: eu-2")

    assert f"spec: fleet/clusters.yaml:{line} (cluster eu-2 spec.workers.general)" in text
    [cluster] = data["clusters"]
    assert cluster["causes"] == [
        {"what": "cluster eu-2", "file": "fleet/clusters.yaml", "line": line, "field": "spec.workers.general"}
    ]


def test_a_channel_bump_names_the_channel_line_in_fleet_yaml(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.write()
    line = position((repo.fleet / "fleet.yaml").read_text(), "stable: v1.35.0")[0]

    comment = run("diff", "fleet", "--base", "HEAD", "--format", "markdown").stdout

    assert f"- spec: `fleet/fleet.yaml:{line} (channel stable)`" in comment


def test_a_removed_cluster_names_its_line_in_the_base(history: History) -> None:
    _, comment = _diff(history, "marked", "deletion", "--format", "markdown")
    line = _file_line(history, "marked", "clusters.yaml", "name: eu-7") - 3  # the document starts at apiVersion

    assert f"`fleet/clusters.yaml:{line} (cluster eu-7, removed: its line in the base revision)`" in comment


# --- A broken base -------------------------------------------------------------------------------------------------


def test_a_broken_base_does_not_block_the_head_that_fixes_it(history: History) -> None:
    code, text = _diff(history, "broken", "fixed")
    data = json.loads(_diff(history, "broken", "fixed", "--format", "json")[1])

    assert code == 0
    assert "base (broken:fleet) failed to validate" in text
    assert "The head (fixed:fleet) is valid: it loads, validates and compiles, with 12 clusters." in text
    assert "waves: canary 2, broad 10" in text
    assert "classes (on provider): edge-local 2, standard-aws-eu 8, standard-local 2" in text
    assert (data["base"]["ok"], data["head"]["ok"]) == (False, True)
    assert data["headContents"]["waves"] == {"canary": 2, "broad": 10}


def test_a_broken_base_says_the_head_is_valid_in_the_pr_comment(history: History) -> None:
    _, comment = _diff(history, "broken", "fixed", "--format", "markdown")

    assert "**The head (fixed:fleet) is valid" in comment
    assert comment.index("failed to validate") < comment.index("is valid")


def test_a_broken_head_still_fails_and_fail_on_destructive_fails_when_deletions_cannot_be_told(
    history: History,
) -> None:
    assert _diff(history, "main", "broken")[0] == 1
    assert _diff(history, "broken", "fixed", "--fail-on", "destructive")[0] == 1


# --- Failure domains -----------------------------------------------------------------------------------------------


def test_new_failure_domains_replace_worker_machines_rather_than_remove_a_pool(history: History) -> None:
    _, comment = _diff(history, "main", "failure-domains", "--format", "markdown")
    data = json.loads(_diff(history, "main", "failure-domains", "--format", "json")[1])

    row = _row(comment, "pool spread moves to other failure domains: its machines are replaced")
    assert row[1] == "8" and row[3:] == ["—", "8 replaced"]  # spread-eu-west-1a held 1 machine per cluster
    assert "pool removed" not in comment and "Worker pools removed" not in comment
    # the zones also reach CAPA's subnets (AWSCluster network): that part is a reconfiguration, not a replacement
    assert all(c["effects"] == ["replace", "reconfigure"] and c["poolsRemoved"] == [] for c in data["clusters"])
    assert _diff(history, "main", "failure-domains", "--fail-on", "destructive")[0] == 0


# --- Layout: wrapping, one footnote, hashes below, short SHAs ------------------------------------------------------


def test_long_name_lists_wrap_in_text(repo: FleetRepo) -> None:
    for n in range(12):
        repo.add_cluster(f"a-rather-long-cluster-name-number-{n:02}")
    repo.commit("many")
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.write()

    text = run("diff", "fleet", "--base", "HEAD").stdout

    listing = [line for line in text.splitlines() if "a-rather-long-cluster-name" in line]
    assert len(listing) > 1
    assert max(len(line) for line in listing) <= WIDTH


@pytest.mark.parametrize("command", ["diff", "plan"])
def test_the_footnote_appears_once(history: History, command: str) -> None:
    _, comment = _diff(history, "main", "template", "--format", "markdown", command=command)

    assert comment.count("<sub>") == 1
    assert comment.count(LEGEND) == 1
    assert comment.rstrip().endswith("</sub>")


def test_revision_hashes_come_below_the_per_cluster_information(history: History) -> None:
    _, comment = _diff(history, "marked", "deletion", "--format", "markdown")
    _, template = _diff(history, "main", "template", "--format", "markdown")

    hashes = re.compile(r"\b[0-9a-f]{6} → [0-9a-f]{6}\b|-[0-9a-f]{6}\)")
    assert not hashes.search(top(comment)) and not hashes.search(top(template))
    per_cluster = template.index("<summary><b>template change in class standard")
    assert per_cluster < template.index("revision ")


def test_titles_use_short_shas_and_the_footnote_the_full_ones(history: History) -> None:
    base, head = history.commits["base"], history.commits["template"]

    _, comment = _diff(history, base, head, "--format", "markdown")
    _, text = _diff(history, base, head)

    title = comment.splitlines()[1]
    assert title == f"### fleetc diff: `{base[:12]}:fleet` → `{head[:12]}:fleet`"
    assert text.splitlines()[0] == f"fleetc diff: {base[:12]}:fleet → {head[:12]}:fleet"
    assert f"base `{base}:fleet`, head `{head}:fleet`" in comment
