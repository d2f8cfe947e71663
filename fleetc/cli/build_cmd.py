"""``fleetc build``: compile the fleet and write (or check) the Flux-ready output tree.

The output folder is ``--out-dir DIR``; ``-o``/``--output`` names the report's format (text, json, yaml), as in
kubectl. ``-o DIR`` (the old spelling) still works when DIR is not a format name, with a deprecation warning on
stderr; so does ``--out DIR``.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import click
from rich.console import Console

from fleetc.cli.errors import handle_errors
from fleetc.cli.output import FORMATS, emit, machine, show_warnings
from fleetc.cli.targets import open_tree, resolve_targets
from fleetc.core.errors import ExitCode, InvalidFleetError, OptionError
from fleetc.render.build import build as build_tree
from fleetc.render.flux import FluxOptions
from fleetc.render.output import check_stale, write_tree
from fleetc.schema.validate import validate_tree

STALE_SHOWN = 20


@click.command()
@click.argument("root", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--out-dir", type=click.Path(file_okay=False), help="Output folder (replaced whole).")
@click.option(
    "-o",
    "--output",
    "output",
    default="text",
    show_default=True,
    metavar="[text|json|yaml]",
    help="Report format (docs/output.md). A value that is not a format is taken as --out-dir (deprecated).",
)
@click.option("--out", "old_out", type=click.Path(file_okay=False), hidden=True)
@click.option("--cluster", "clusters", multiple=True, help="Only this cluster and what it needs (repeatable).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when --out-dir is not what a build would write.")
@click.option("--flux-source", default="GitRepository/flux-system", show_default=True, help="KIND/NAME of the source.")
@click.option(
    "--flux-path",
    help="Path of --out-dir inside the Flux source (default: relative to the git root; required outside git).",
)
@click.option("--flux-namespace", default="flux-system", show_default=True, help="Namespace of the Kustomizations.")
@click.option("--flux-interval", default="10m", show_default=True, help="How often Flux reconciles each one.")
@click.option("--flux-retry-interval", help="How soon Flux retries a failed one (default: the interval).")
@handle_errors
def build(
    root: str | None,
    out_dir: str | None,
    output: str,
    old_out: str | None,
    clusters: tuple[str, ...],
    check: bool,
    flux_source: str,
    flux_path: str | None,
    flux_namespace: str,
    flux_interval: str,
    flux_retry_interval: str | None,
) -> None:
    """Compile the fleet into CAPI v1beta2 manifests and Flux Kustomizations under --out-dir."""
    out, output = _out_and_format(out_dir, output, old_out)
    out_path = Path(out)
    options = _flux_options(
        flux_source,
        flux_path or _path_in_repo(out_path),
        namespace=flux_namespace,
        interval=flux_interval,
        retry_interval=flux_retry_interval,
    )
    cwd = Path.cwd()
    fleet_root = resolve_targets([root] if root else [], cwd).roots[0]
    result = validate_tree(open_tree(fleet_root, cwd, None))
    if not result.ok or result.fleet is None:
        for diagnostic in result.diagnostics:
            click.echo(str(diagnostic))
        raise InvalidFleetError(f"{fleet_root}: the fleet is not valid; nothing built")
    show_warnings(result.diagnostics)
    unknown = sorted(set(clusters) - set(result.fleet.clusters))
    if unknown:
        raise click.BadParameter(f"no cluster {', '.join(unknown)} in the fleet", param_hint="--cluster")
    built = build_tree(result.fleet, flux=options, only=set(clusters) or None)
    kinds = dict(sorted(Counter(key.kind for key in built.rendered.objects).items()))
    if check:
        _report_staleness(built.files, out_path, output, kinds)
        return
    write_tree(built.files, out_path, protected=fleet_root)
    if machine(output):
        emit(_payload(out, len(built.files), kinds), output)
        return
    summary = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    Console(highlight=False, soft_wrap=True).print(f"{out}: wrote {len(built.files)} files ({summary})", markup=False)


def _out_and_format(out_dir: str | None, output: str, old_out: str | None) -> tuple[str, str]:
    """The output folder and the report format, from --out-dir, -o and the deprecated spellings."""
    if output not in FORMATS and out_dir is not None:
        raise click.BadParameter(f"{output!r} is not one of text, json, yaml", param_hint="'-o' / '--output'")
    if output not in FORMATS:  # the old ``-o DIR``
        click.echo(f"fleetc: warning: -o {output} is deprecated for the output folder: use --out-dir {output} (-o now "
                   "names the report format: text, json or yaml)", err=True)  # fmt: skip
        old_out, output = old_out or output, "text"
    elif old_out is not None:
        click.echo(f"fleetc: warning: --out is deprecated: use --out-dir {old_out}", err=True)
    if out_dir is not None and old_out is not None and out_dir != old_out:
        raise click.UsageError(f"two output folders: --out-dir {out_dir} and --out {old_out}")
    chosen = out_dir or old_out
    if chosen is None:
        hint = f" (-o {output} names the report format; a folder named {output}: --out-dir {output})"
        raise click.UsageError(f"Missing option '--out-dir'.{hint if output != 'text' else ''}")
    return chosen, output


def _payload(out: str, files: int, kinds: dict[str, int], **check: object) -> dict[str, object]:
    """The ``BuildReport`` document."""
    return {"kind": "BuildReport", "version": 1, "outDir": out, "files": files, "objects": kinds, **check}


def _flux_options(source: str, path: str, *, namespace: str, interval: str, retry_interval: str | None) -> FluxOptions:
    kind, _, name = source.partition("/")
    if not kind or not name or "/" in name:
        raise click.BadParameter("expected KIND/NAME, e.g. GitRepository/flux-system", param_hint="--flux-source")
    try:
        return FluxOptions(
            source_kind=kind,
            source_name=name,
            path=path,
            namespace=namespace,
            interval=interval,
            retry_interval=retry_interval,
        )
    except OptionError as exc:
        message = str(exc)
        hint = next((flag for word, flag in _FLUX_FLAGS if message.startswith(word)), "--flux-source")
        raise click.BadParameter(message, param_hint=hint) from None


_FLUX_FLAGS = (
    ("Flux retry interval", "--flux-retry-interval"),
    ("Flux interval", "--flux-interval"),
    ("Flux namespace", "--flux-namespace"),
)
"""The start of a :class:`~fleetc.render.flux.FluxOptions` error → the flag it is about."""


def _path_in_repo(out: Path) -> str:
    resolved = out.resolve()
    for parent in (resolved, *resolved.parents):
        if os.path.exists(parent / ".git"):  # False, not an error, for a name longer than the system allows
            relative = resolved.relative_to(parent).as_posix()
            return f"./{relative}" if relative != "." else "./"
    raise OptionError(
        f"{out} is not inside a git repository, so the path Flux reads it from is unknown; "
        "give it with --flux-path (OUT's path inside the Flux source, such as ./clusters/prod)"
    )


def _report_staleness(files: dict[str, bytes], out: Path, output: str, kinds: dict[str, int]) -> None:
    staleness = check_stale(files, out)
    if machine(output):
        lists = {"missing": list(staleness.missing), "changed": list(staleness.changed), "extra": list(staleness.extra)}
        emit(_payload(str(out), len(files), kinds, check={"stale": staleness.stale, **lists}), output)
        if staleness.stale:
            sys.exit(ExitCode.FINDINGS)
        return
    if not staleness.stale:
        click.echo(f"{out}: up to date ({len(files)} files)")
        return
    for label, paths in (("missing", staleness.missing), ("changed", staleness.changed), ("extra", staleness.extra)):
        for path in paths[:STALE_SHOWN]:
            click.echo(f"{out}/{path}: {label}")
        if len(paths) > STALE_SHOWN:
            click.echo(f"... and {len(paths) - STALE_SHOWN} more {label}")
    click.echo(f"{out}: stale; run fleetc build to update it")
    sys.exit(ExitCode.FINDINGS)
