"""The output tree as data: relative path → bytes, with a ``kustomization.yaml`` in every folder.

::

    kustomization.yaml            classes + clusters (what ``kubectl kustomize OUT`` builds)
    namespaces/                   the management namespaces
    addons/addons.yaml            add-ons: a ConfigMap and a ClusterResourceSet each (included by classes/)
    classes/<revision>/class.yaml a ClusterClass revision and its templates (includes ../namespaces)
    revisions/                    the class revisions alone (what Flux prunes after the last wave)
    clusters/<name>/cluster.yaml  one CAPI Cluster
    waves/<wave>/                 the clusters of one rollout wave (what each Flux Kustomization applies)
    flux/                         one Flux Kustomization per wave, chained by dependsOn

Pure: :mod:`fleetc.render.output` writes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from fleetc.core.keys import Manifest
from fleetc.render.emit import dump, dump_all
from fleetc.render.rendered import RenderedSet

KUSTOMIZATION = "kustomization.yaml"
_FILE_OF_FOLDER = {
    "namespaces": "namespaces.yaml",
    "addons": "addons.yaml",
    "classes": "class.yaml",
    "clusters": "cluster.yaml",
}


def kustomization(resources: Iterable[str]) -> bytes:
    """A kustomization.yaml listing ``resources`` in order."""
    document = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": list(resources),
    }
    return dump(document).encode()


def _object_files(rendered: RenderedSet) -> dict[str, list[Manifest]]:
    by_file: dict[str, list[Manifest]] = defaultdict(list)
    for key in rendered:
        obj = rendered.objects[key]
        top = obj.folder.split("/", 1)[0]
        by_file[f"{obj.folder}/{_FILE_OF_FOLDER[top]}"].append(obj.manifest)
    return by_file


def _ordered(manifests: list[Manifest]) -> list[Manifest]:
    # A ClusterClass after its templates, so a reader meets what it references first.
    return sorted(manifests, key=lambda m: m["kind"] == "ClusterClass")


def tree_files(rendered: RenderedSet, flux: list[Manifest]) -> dict[str, bytes]:
    """Every file of the output tree."""
    files: dict[str, bytes] = {}
    folders = []
    leaf_kustomizations = {name: kustomization([name]) for name in _FILE_OF_FOLDER.values()}
    for path, manifests in _object_files(rendered).items():
        folder, name = path.rsplit("/", 1)
        files[path] = dump_all(_ordered(manifests)).encode()
        files[f"{folder}/{KUSTOMIZATION}"] = leaf_kustomizations[name]
        folders.append(folder)
    classes = sorted(f.split("/")[1] for f in folders if f.startswith("classes/"))
    clusters = sorted(f.split("/")[1] for f in folders if f.startswith("clusters/"))
    addons = ["../addons"] if "addons" in folders else []
    files[f"classes/{KUSTOMIZATION}"] = kustomization(["../namespaces", *addons, *classes])
    files[f"clusters/{KUSTOMIZATION}"] = kustomization(clusters)
    files[f"revisions/{KUSTOMIZATION}"] = kustomization(f"../classes/{c}" for c in classes)
    for wave in rendered.waves:
        files[f"waves/{wave.wave.name}/{KUSTOMIZATION}"] = kustomization(f"../../clusters/{c}" for c in wave.clusters)
    files[KUSTOMIZATION] = kustomization(["classes", "clusters"])
    if flux:
        for manifest in flux:
            files[f"flux/{manifest['metadata']['name']}.yaml"] = dump(manifest).encode()
        files[f"flux/{KUSTOMIZATION}"] = kustomization(f"{m['metadata']['name']}.yaml" for m in flux)
    return dict(sorted(files.items()))
