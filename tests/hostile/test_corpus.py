"""The hostile-input corpus (issue 15): untrusted input and concurrent use, one parametrized table.

Each case runs the real CLI in subprocesses, each bounded by a timeout, and says what must hold: no data lost,
no hang, no secret echoed, no traceback, output that fleetc reads back, diagnostics that cannot be forged.
Case ids are ``class/name``; the classes are those of the issue: ``data-loss``, ``secrets``, ``hangs``,
``tracebacks``, ``read-back``, ``misleading``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.corpus_support import (
    SECONDS,
    cluster_doc,
    example,
    fleetc,
    store_matrix,
    tree_bytes,
)
from tests.loading.support import commit_all, git
from tests.render.support import crd_folders

Case = Callable[[Path], None]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = function
        return function

    return register


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _no_hidden_leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".fleetc-" in p.name)


# ---------------------------------------------------------------------------------------------------- data loss


@case("data-loss/staging-of-a-live-process-is-kept")
def _(tmp: Path) -> None:
    example(tmp)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        staging = _write(tmp / f".out.fleetc-new-{sleeper.pid}" / "half-written.yaml", "a: 1\n").parent
        run = fleetc(tmp, "build", "fleet", "--out-dir", "out", "--flux-path", "./out")
        assert run.code == 0, run.output
        assert (staging / "half-written.yaml").read_text() == "a: 1\n"
    finally:
        sleeper.kill()
        sleeper.wait()


@case("data-loss/concurrent-builds-into-one-folder")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "stores.yaml", store_matrix(400))
    reference = fleetc(tmp, "build", "fleet", "--out-dir", "ref", "--flux-path", "./out")
    assert reference.code == 0, reference.output
    expected = tree_bytes(tmp / "ref")
    for _ in range(2):
        shutil.rmtree(tmp / "out", ignore_errors=True)
        command = [sys.executable, "-m", "fleetc", "build", "fleet", "--out-dir", "out", "--flux-path", "./out"]
        builds = [subprocess.Popen(command, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
        outcomes = [(b.communicate(timeout=3 * SECONDS)[1].decode(), b.returncode) for b in builds]
        for stderr, code in outcomes:
            assert code in (0, 1, 4) and "Traceback" not in stderr, stderr
        assert any(code == 0 for _, code in outcomes)
        assert tree_bytes(tmp / "out") == expected
        assert _no_hidden_leftovers(tmp) == []


@case("data-loss/builds-queue-behind-the-folder-lock")
def _(tmp: Path) -> None:
    """Two builds certainly overlap: the test holds the lock they need, starts both, then lets them go."""
    import fcntl

    example(tmp)
    reference = fleetc(tmp, "build", "fleet", "--out-dir", "ref", "--flux-path", "./out")
    assert reference.code == 0, reference.output
    expected = tree_bytes(tmp / "ref")
    command = [sys.executable, "-m", "fleetc", "build", "fleet", "--out-dir", "out", "--flux-path", "./out"]
    holder = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        builds = [subprocess.Popen(command, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        time.sleep(3)  # long enough for both to render and reach the lock; neither may have written yet
        assert [b.poll() for b in builds] == [None, None]
        assert not (tmp / "out").exists() and _no_hidden_leftovers(tmp) == []
    finally:
        os.close(holder)
    outcomes = [(b.communicate(timeout=3 * SECONDS)[1].decode(), b.returncode) for b in builds]
    assert [code for _, code in outcomes] == [0, 0], outcomes
    assert tree_bytes(tmp / "out") == expected
    assert _no_hidden_leftovers(tmp) == []


@case("data-loss/glob-star-output-spares-siblings")
def _(tmp: Path) -> None:
    example(tmp)
    old = _write(tmp / ".other.fleetc-old-1" / "keep.yaml", "keep: me\n")
    new = _write(tmp / ".other.fleetc-new-1" / "keep.yaml", "keep: me\n")
    run = fleetc(tmp, "build", "fleet", "--out-dir", "*", "--flux-path", "./out")
    assert run.code == 0, run.output
    assert old.read_text() == new.read_text() == "keep: me\n"
    assert (tmp / "*" / ".fleetc-output").is_file()


@case("data-loss/glob-class-output-spares-siblings")
def _(tmp: Path) -> None:
    example(tmp)
    old = _write(tmp / ".out.fleetc-old-1" / "keep.yaml", "keep: me\n")
    run = fleetc(tmp, "build", "fleet", "--out-dir", "ou[t]", "--flux-path", "./out")
    assert run.code == 0, run.output
    assert old.read_text() == "keep: me\n"
    assert not (tmp / "ou[t]" / "keep.yaml").exists()


_KILLER = """
import os, signal, sys
count = int(sys.argv[1])
seen = 0
WATCHED = {"os.rename", "os.symlink", "os.remove", "os.rmdir", "shutil.rmtree", "ctypes.dlsym", "ctypes.call_function"}
def hook(event, args):
    global seen
    if event in WATCHED and os.environ.get("ARMED") == "1":
        seen += 1
        if seen == count:
            os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
from fleetc.render import output
write_tree = output.write_tree
def armed(*args, **kwargs):
    os.environ["ARMED"] = "1"
    return write_tree(*args, **kwargs)
output.write_tree = armed
import fleetc.cli.build_cmd as build_cmd
build_cmd.write_tree = armed
sys.argv = ["fleetc", *sys.argv[2:]]
from fleetc.cli.main import main
main()
"""


@case("data-loss/sigkill-at-every-step-of-the-swap")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    assert fleetc(tmp, "build", "fleet", "--out-dir", "v1", "--flux-path", "./out").code == 0
    prod = fleet / "clusters" / "prod.yaml"
    prod.write_text(prod.read_text().replace("replicas: 5", "replicas: 3"))
    assert fleetc(tmp, "build", "fleet", "--out-dir", "v2", "--flux-path", "./out").code == 0
    old, new = tree_bytes(tmp / "v1"), tree_bytes(tmp / "v2")
    assert old != new
    killed = 0
    for step in range(1, 40):
        shutil.rmtree(tmp / "out", ignore_errors=True)
        shutil.copytree(tmp / "v1", tmp / "out")
        done = subprocess.run(
            [sys.executable, "-c", _KILLER, str(step), "build", "fleet", "--out-dir", "out", "--flux-path", "./out"],
            cwd=tmp,
            capture_output=True,
            timeout=SECONDS,
            check=False,
        )
        at_out = tree_bytes(tmp / "out") if (tmp / "out").is_dir() else {}
        assert at_out in (old, new), f"after a kill at step {step}, out holds neither tree"
        if done.returncode != -signal.SIGKILL:
            assert done.returncode == 0, done.stderr.decode()
            break
        killed += 1
        recovered = fleetc(tmp, "build", "fleet", "--out-dir", "out", "--flux-path", "./out")
        assert recovered.code == 0, recovered.output
        assert tree_bytes(tmp / "out") == new and _no_hidden_leftovers(tmp) == []
    assert killed >= 2


@case("data-loss/output-inside-the-fleet-is-refused")
def _(tmp: Path) -> None:
    example(tmp)
    run = fleetc(tmp, "build", "fleet", "--out-dir", "fleet/out", "--flux-path", "./out")
    assert run.clean and run.code != 0, run.output
    assert not (tmp / "fleet" / "out").exists()
    assert fleetc(tmp, "validate", "fleet").code == 0


@case("data-loss/output-symlink-is-followed")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    (tmp / "real").mkdir()
    (tmp / "link").symlink_to("real")
    for replicas in ("5", "3"):
        prod = fleet / "clusters" / "prod.yaml"
        prod.write_text(re.sub(r"replicas: \d", f"replicas: {replicas}", prod.read_text(), count=1))
        run = fleetc(tmp, "build", "fleet", "--out-dir", "link", "--flux-path", "./out")
        assert run.code == 0, run.output
        assert (tmp / "link").is_symlink() and os.readlink(tmp / "link") == "real"
        assert (tmp / "real" / ".fleetc-output").is_file()
        assert f"replicas: {replicas}" in (tmp / "real" / "clusters" / "eu-prod-1" / "cluster.yaml").read_text()
    assert sorted(p.name for p in tmp.iterdir()) == ["fleet", "link", "real"]


# ------------------------------------------------------------------------------------------------------ secrets

_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
_GITHUB_TOKEN = "ghp_R7tq2Lk9ZxW4mN8bV3cY6pH1sD5fG0jKa2Qe"
_AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def _secret_not_echoed(tmp: Path, secret: str, *extra: str) -> None:
    run = fleetc(tmp, "validate", "fleet", *extra)
    assert run.clean and run.code == 1, run.output
    assert "fleet/providers/aws.yaml" in run.output or "fleet/clusters" in run.output, run.output
    for start in range(0, len(secret) - 8):
        assert secret[start : start + 8] not in run.output, run.output


def _credentials_name(tmp: Path, value: str) -> None:
    aws = example(tmp) / "providers" / "aws.yaml"
    aws.write_text(aws.read_text().replace("name: fleet-prod}", f'name: "{value}"}}', 1))


@case("secrets/high-entropy-credentials-name")
def _(tmp: Path) -> None:
    _credentials_name(tmp, _AWS_SECRET)
    _secret_not_echoed(tmp, _AWS_SECRET)


@case("secrets/token-in-credentials-name-json")
def _(tmp: Path) -> None:
    _credentials_name(tmp, _GITHUB_TOKEN)
    _secret_not_echoed(tmp, _GITHUB_TOKEN, "--format", "json")


@case("secrets/low-entropy-credentials-name")
def _(tmp: Path) -> None:
    _credentials_name(tmp, "Hunter2!Hunter2!")
    _secret_not_echoed(tmp, "Hunter2!Hunter2!")


@case("secrets/key-id-in-any-field")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(
        fleet / "clusters" / "x.yaml", cluster_doc("x").replace("provider: local-docker", f"provider: {_AWS_KEY_ID}")
    )
    _secret_not_echoed(tmp, _AWS_KEY_ID, "--format", "github")


@case("secrets/base64-in-a-label-value")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    secret = "q8Xz+Tb9/Lm3Kp0Rw7Vn2Yc5Ua1Hd4Ge6Jf=="
    _write(fleet / "clusters" / "x.yaml", cluster_doc("x", labels=f'{{ring: broad, token: "{secret}"}}'))
    _secret_not_echoed(tmp, secret)


# -------------------------------------------------------------------------------------------------------- hangs


def _fleet_file(fleet: Path, old: str, new: str) -> None:
    path = fleet / "fleet.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _quick_error(tmp: Path, *args: str, pattern: str, limit: float = SECONDS) -> None:
    run = fleetc(tmp, *args, timeout=limit)
    assert run.clean and run.code == 1, run.output[-2000:]
    assert re.search(pattern, run.output), run.output[-2000:]
    assert len(run.output.splitlines()) < 50, run.output[-2000:]


@case("hangs/huge-minor-in-the-catalogue")
def _(tmp: Path) -> None:
    _fleet_file(example(tmp), "v1.35.0]", "v1.35.0, v1.999999999.0]")
    _quick_error(tmp, "validate", "fleet", pattern=r"fleet\.yaml:\d+:\d+: spec\.versions\.catalogue")


@case("hangs/100000-failure-domains")
def _(tmp: Path) -> None:
    aws = example(tmp) / "providers" / "aws.yaml"
    domains = ", ".join(f"z{i}" for i in range(100_000))
    aws.write_text(aws.read_text().replace("[eu-west-1a,", f"[{domains}, z7, eu-west-1a,", 1))
    _quick_error(tmp, "validate", "fleet", pattern=r"failure domain 'z7' is listed twice")


@case("hangs/typo-in-a-template-of-10000-clusters")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "stores.yaml", store_matrix(10_000).replace("class: edge", "class: egde"))
    _quick_error(tmp, "validate", "fleet", pattern=r"no ClusterClass 'egde' \(did you mean 'edge'\?\).*9999 more")


@case("hangs/50001-matrix-values")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "stores.yaml", store_matrix(50_001))
    _quick_error(tmp, "validate", "fleet", pattern=r"50,001 clusters.*50,000", limit=20)


@case("hangs/six-cluster-sets-of-50000")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    (fleet / "clusters" / "stores.yaml").unlink()
    for index in range(6):
        values = ", ".join(f'"{i}"' for i in range(250))
        _write(
            fleet / "clusters" / f"set{index}.yaml",
            "apiVersion: fleetc.io/v1alpha1\nkind: ClusterSet\nmetadata:\n"
            f"  name: set{index}\nspec:\n  matrix:\n    a: [{values}]\n    b: [{', '.join(values.split(', ')[:200])}]\n"
            f"  template:\n    metadata:\n      name: s{index}-${{a}}-${{b}}\n      labels: {{ring: broad}}\n"
            "    spec: {class: edge, provider: local-docker}\n",
        )
    _quick_error(tmp, "validate", "fleet", pattern=r"50,000", limit=20)


@case("hangs/huge-soak")
def _(tmp: Path) -> None:
    _fleet_file(example(tmp), "soak: 30m", "soak: 99999999999999999999h")
    _quick_error(tmp, "validate", "fleet", pattern=r"fleet\.yaml:\d+:\d+: spec\.rollout\.waves\[0\]\.soak")
    run = fleetc(tmp, "simulate", "fleet")
    assert run.clean and run.code == 1, run.output[-2000:]


@case("hangs/5000-digit-deadline")
def _(tmp: Path) -> None:
    _fleet_file(example(tmp), "controlPlaneDeadline: 20m", f"controlPlaneDeadline: {'9' * 5000}h")
    _quick_error(tmp, "validate", "fleet", pattern=r"controlPlaneDeadline")


# --------------------------------------------------------------------------------------------------- tracebacks


def _located(tmp: Path, file: str, *args: str, code: int = 1) -> str:
    run = fleetc(tmp, "validate", "fleet", *args)
    assert run.clean and run.code == code, run.output[-3000:]
    assert re.search(rf"^{re.escape(file)}:\d+:\d+:", run.output, re.M), run.output[-3000:]
    return run.output


def _tagged(value: str) -> Case:
    def run(tmp: Path) -> None:
        fleet = example(tmp)
        _write(fleet / "clusters" / "x.yaml", cluster_doc("x", f"  controlPlane: {{replicas: {value}}}\n"))
        _located(tmp, "fleet/clusters/x.yaml")

    return run


for _value in ("!!int abc", "!!bool maybe", "!!float abc", '!!int ""', "!!null x", "!!int 0x"):
    CASES[f"tracebacks/tag {_value}"] = _tagged(_value)


@case("tracebacks/5000-digit-integer")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "x.yaml", cluster_doc("x", f"  controlPlane: {{replicas: {'1' * 5000}}}\n"))
    _located(tmp, "fleet/clusters/x.yaml")


@case("tracebacks/5000-digit-minor")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "x.yaml", cluster_doc("x", f"  version: v1.{'3' * 5000}.0\n"))
    _fleet_file(fleet, "v1.35.0]", f"v1.35.0, v1.{'4' * 5000}.0]")
    _located(tmp, "fleet/clusters/x.yaml")


def _git_fleet(tmp: Path) -> Path:
    fleet = example(tmp)
    commit_all(tmp, "one")
    return fleet


for _revision in ("@{-1}", "HEAD@{99}", "HEAD^{tree}", "HEAD:fleet"):

    def _revision_case(tmp: Path, revision: str = _revision) -> None:
        _git_fleet(tmp)
        run = fleetc(tmp, "validate", "fleet", "--rev", revision)
        assert run.clean and run.code == 2, run.output
        assert revision in run.output

    CASES[f"tracebacks/revision {_revision}"] = _revision_case


@case("tracebacks/fleet-folder-is-a-symlink-in-git")
def _(tmp: Path) -> None:
    real = example(tmp, "real")
    (tmp / "fleet").symlink_to("real")
    commit_all(tmp, "linked")
    (tmp / "fleet").unlink()
    shutil.copytree(real, tmp / "fleet")
    commit_all(tmp, "copied")
    run = fleetc(tmp, "validate", "fleet", "--rev", "HEAD~1")
    assert run.clean and run.code in (1, 2), run.output
    assert "symlink" in run.output


@case("tracebacks/unreadable-file")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    (fleet / "clusters" / "prod.yaml").chmod(0)
    run = fleetc(tmp, "validate", "fleet", modes_bite=True)
    assert run.clean and run.code == 1, run.output
    assert re.search(r"^fleet/clusters/prod\.yaml: .*(permission|read)", run.output, re.M | re.I), run.output


@case("tracebacks/unreadable-folder")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    (fleet / "providers").chmod(0)
    run = fleetc(tmp, "validate", "fleet", modes_bite=True)
    assert run.clean and run.code == 1, run.output
    assert re.search(r"^fleet/providers: .*(permission|read)", run.output, re.M | re.I), run.output


@case("tracebacks/unwritable-output-parent")
def _(tmp: Path) -> None:
    example(tmp)
    (tmp / "locked").mkdir(mode=0o555)
    run = fleetc(tmp, "build", "fleet", "--out-dir", "locked/out", "--flux-path", "./out", modes_bite=True)
    assert run.clean and run.code not in (0, 2), run.output
    assert "locked/out" in run.output


@case("tracebacks/output-parent-is-a-file")
def _(tmp: Path) -> None:
    example(tmp)
    _write(tmp / "file", "x\n")
    run = fleetc(tmp, "build", "fleet", "--out-dir", "file/out", "--flux-path", "./out")
    assert run.clean and run.code not in (0, 2), run.output
    assert "file/out" in run.output


for _system in ("/proc/fleetc-out", "/sys/fleetc-out", "/proc/self/fleetc-out"):

    def _system_case(tmp: Path, out: str = _system) -> None:
        example(tmp)
        run = fleetc(tmp, "build", "fleet", "--out-dir", out, "--flux-path", "./out")
        assert run.clean and run.code != 0, run.output
        assert out in run.output

    CASES[f"tracebacks/output {_system}"] = _system_case


@case("tracebacks/output-name-too-long")
def _(tmp: Path) -> None:
    example(tmp)
    run = fleetc(tmp, "build", "fleet", "--out-dir", "o" * 300, "--flux-path", "./out")
    assert run.clean and run.code != 0, run.output


@case("tracebacks/invalid-utf8-file-name-strict-io")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    (fleet / "clusters" / os.fsdecode(b"bad-\xff.yaml")).write_text("kind: [\n")
    run = fleetc(tmp, "validate", "fleet", env={"PYTHONIOENCODING": "utf-8:strict"})
    assert run.clean and run.code == 1, run.output
    assert re.search(r"^fleet/clusters/bad-.*\.yaml:\d+:\d+: ", run.stdout, re.M), run.output


@case("tracebacks/c-locale")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _fleet_file(fleet, "v1.35.0]", "v1.35.0, v1.37.0]")
    _fleet_file(fleet, "chainedUpgrades: true", "chainedUpgrades: false")
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    for args in (("validate", "fleet", "--summary"), ("validate", "fleet", "--format", "github")):
        run = fleetc(tmp, *args, env=env)
        assert run.clean and run.code == 0, run.output
        assert "v1.31" in run.output and "v1.36" in run.output


@case("tracebacks/partial-clone-without-its-promisor")
def _(tmp: Path) -> None:
    source = tmp / "source"
    fleet = example(source)
    commit_all(source, "one")
    prod = fleet / "clusters" / "prod.yaml"
    prod.write_text(prod.read_text().replace("replicas: 5", "replicas: 3"))
    commit_all(source, "two")
    git(source, "config", "uploadpack.allowFilter", "true")
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{source}", str(tmp / "clone")],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(source)
    run = fleetc(tmp / "clone", "validate", "fleet", "--rev", "HEAD~1", env={"GIT_TERMINAL_PROMPT": "0"})
    assert run.clean and run.code in (1, 2), run.output
    assert "prod.yaml" in run.output or "HEAD~1" in run.output, run.output


@case("tracebacks/path-longer-than-path-max")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    deep = os.open(fleet / "clusters", os.O_RDONLY)
    try:
        for _ in range(20):
            os.mkdir("d" * 250, dir_fd=deep)
            inner = os.open("d" * 250, os.O_RDONLY, dir_fd=deep)
            os.close(deep)
            deep = inner
        fd = os.open("x.yaml", os.O_WRONLY | os.O_CREAT, dir_fd=deep)
        os.write(fd, cluster_doc("deep").encode())
        os.close(fd)
    finally:
        os.close(deep)
    run = fleetc(tmp, "validate", "fleet")
    assert run.clean and run.code == 1, run.output[-2000:]
    assert "fleet/clusters/dddd" in run.output


# ---------------------------------------------------------------------------------------------------- read-back


def _reads_back(tmp: Path) -> None:
    built = fleetc(tmp, "build", "fleet", "--out-dir", "out", "--flux-path", "./out")
    assert built.code == 0, built.output
    same = fleetc(tmp, "diff", "out", "out", "--exit-code")
    assert same.clean and same.code == 0, same.output
    crds = [arg for folder in crd_folders() for arg in ("--crds", str(folder))]
    checked = fleetc(tmp, "validate", "--rendered", "out", *crds)
    assert checked.clean and checked.code == 0, checked.output[-2000:]


def _variable_value(value: str) -> Case:
    def run(tmp: Path) -> None:
        fleet = example(tmp)
        spec = f"  class: standard\n  provider: local-sim\n  variables: {{imageRepository: {value}}}\n"
        _write(fleet / "clusters" / "x.yaml", cluster_doc("x").split("  class:")[0] + spec)
        _reads_back(tmp)

    return run


@case("read-back/vip-with-a-trailing-colon")
def _(tmp: Path) -> None:
    stores = example(tmp) / "clusters" / "stores.yaml"
    stores.write_text(stores.read_text().replace("vip: 10.20.1.10}", 'vip: "10.20.1.10:"}'))
    _reads_back(tmp)


for _label, _text in {
    "ends-with-colon": '"mirror.example.com:"',
    "colon-then-tab": '"a:\\tb"',
    "delete-character": '"reg\\x7fistry"',
    "c1-control": '"reg\\x85istry"',
    "line-separator": '"reg\\u2028istry"',
    "byte-order-mark": '"\\ufeffregistry"',
    "hash-after-tab": '"a\\t#b"',
    "leading-percent": '"%x"',
    "question-colon": '"? a"',
}.items():
    CASES[f"read-back/variable {_label}"] = _variable_value(_text)


# --------------------------------------------------------------------------------------------------- misleading

_FORGED = "fleet/fleet.yaml:1:1: forged"


def _not_forged(run_output: str) -> None:
    assert not re.search(r"^fleet/fleet\.yaml:1:1: forged", run_output, re.M), run_output
    assert "\x1b" not in run_output and "\x07" not in run_output, repr(run_output)


@case("misleading/newline-in-a-key")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "x.yaml", cluster_doc("x", f'  "replcas\\n{_FORGED}": 1\n'))
    run = fleetc(tmp, "validate", "fleet")
    assert run.clean and run.code == 1, run.output
    _not_forged(run.output)
    assert "fleet/clusters/x.yaml" in run.output


@case("misleading/newline-in-a-file-name")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    (fleet / "clusters" / "a\nevil.yaml:1:1: forged.yaml").write_text("kind: [\n")
    run = fleetc(tmp, "validate", "fleet")
    assert run.clean and run.code == 1, run.output
    assert not re.search(r"^evil\.yaml:1:1: forged", run.output, re.M), run.output
    assert "fleet/clusters/a\\nevil.yaml:1:1: forged.yaml:" in run.output, run.output


@case("misleading/newline-and-escapes-in-an-error-message")
def _(tmp: Path) -> None:
    example(tmp)
    run = fleetc(tmp, "apply", "fleet", "--kubeconfig", f"missing\x1b[31m\n{_FORGED}")
    assert run.clean and run.code == 2, run.output
    _not_forged(run.output)
    assert "missing\\x1b[31m\\nfleet/fleet.yaml:1:1: forged" in run.output, run.output


@case("misleading/terminal-escapes-in-a-key")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "x.yaml", cluster_doc("x", '  "\\e]0;pwned\\a\\e[2Jreplcas": 1\n'))
    run = fleetc(tmp, "validate", "fleet", "--format", "github")
    assert run.clean and run.code == 1, run.output
    _not_forged(run.output)


@case("misleading/terminal-escapes-in-a-value")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    _write(fleet / "clusters" / "x.yaml", cluster_doc("x").replace("class: edge", 'class: "\\e[31medge"'))
    run = fleetc(tmp, "validate", "fleet")
    assert run.clean and run.code == 1, run.output
    _not_forged(run.output)


for _tag in ("!Ref edge", "!!python/name:os.system edge", "!!binary ZWRnZQ==", "!Sub [edge]", "!!set {edge: null}"):

    def _tag_case(tmp: Path, tag: str = _tag) -> None:
        fleet = example(tmp)
        _write(fleet / "clusters" / "x.yaml", cluster_doc("x").replace("class: edge", f"class: {tag}"))
        output = _located(tmp, "fleet/clusters/x.yaml")
        assert "tag" in output

    CASES[f"misleading/custom tag {_tag.split()[0]}"] = _tag_case


@case("misleading/wave-selecting-nothing")
def _(tmp: Path) -> None:
    fleet = example(tmp)
    extra = textwrap.indent("- name: late\n  selector:\n    matchLabels: {ring: canery}\n  maxConcurrent: 1\n", " " * 6)
    path = fleet / "fleet.yaml"
    path.write_text(path.read_text() + extra)
    run = fleetc(tmp, "validate", "fleet")
    assert run.clean and run.code == 0, run.output
    assert re.search(r"^fleet/fleet\.yaml:\d+:\d+: warning: spec\.rollout\.waves\[3\].*late", run.output, re.M)


for _field, _spec in {
    "control-plane": "  controlPlane: {replicas: 100000000000000000001}\n",
    "pool": "  workers: {apps: {replicas: 100000000000000000000}}\n",
    "autoscaling": "  workers: {apps: {autoscaling: {min: 1, max: 100000000000000000000}}}\n",
}.items():

    def _replicas_case(tmp: Path, spec: str = _spec) -> None:
        fleet = example(tmp)
        _write(fleet / "clusters" / "x.yaml", cluster_doc("x", spec))
        output = _located(tmp, "fleet/clusters/x.yaml")
        assert "2147483647" in output or "2,147,483,647" in output, output

    CASES[f"misleading/replicas {_field}"] = _replicas_case


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_case(name: str, tmp_path: Path) -> None:
    CASES[name](tmp_path)
