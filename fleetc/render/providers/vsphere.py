"""VMware vSphere through CAPV v1.16 (``VSphereClusterTemplate``/``VSphereMachineTemplate``, infrastructure v1beta2).

CAPV v1.16.1's CRDs serve ``v1beta2`` (storage) and a deprecated ``v1beta1``; this module emits ``v1beta2``,
as CAPV's own ``clusterclass-template.yaml`` does.

vSphere has no load balancer, so each cluster brings its control-plane address (``controlPlaneEndpoint`` in
the fleet). It travels as CAPV's example does: a ClusterClass variable set on each Cluster and JSON patches
that copy it into the VSphereCluster and into a kube-vip static pod on the control-plane machines, which
holds the address by ARP. Unlike the example (which takes the whole kube-vip manifest as a variable),
the manifest is part of the class and only the address and port vary; kube-vip's LoadBalancer-service mode
is left off. The server, thumbprint and identity are fixed per Provider, so they are written into the
template instead of patched in. Kubelets use ``cloud-provider: external`` (vSphere's cloud controller manager)
and machines get the example's ``preKubeadmCommands`` (hostname and ``/etc/hosts``, then the scripts in
``/etc/pre-kubeadm-commands``, where kube-vip's kubeadm v1.29+ workaround lives).
"""

from __future__ import annotations

import json

from fleetc.contract.vocabulary import BOOTSTRAP_API as BOOTSTRAP
from fleetc.contract.vocabulary import CONTROL_PLANE_API as CONTROL_PLANE
from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest, spec_of
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import ProviderDocument, VSphereSettings, VSphereSpec

API_VERSION = infrastructure_api("v1beta2")
ENDPOINT_VARIABLE = "controlPlaneEndpoint"
VERSION_PLACEHOLDER = "{version}"
KUBEADM = "/spec/template/spec/kubeadmConfigSpec"
NODE_NAME = "{{ local_hostname }}"
DEPLOYMENT_ZONE_LABEL = "fleetc.io/deployment-zone"
"""The label each listed VSphereDeploymentZone carries, valued with its own name (see ``docs/spec.md``)."""

PRE_KUBEADM_COMMANDS = (
    'hostnamectl set-hostname "{{ ds.meta_data.hostname }}"',
    'echo "::1         ipv6-localhost ipv6-loopback localhost6 localhost6.localdomain6" >/etc/hosts',
    'echo "127.0.0.1   {{ ds.meta_data.hostname }} {{ local_hostname }} localhost localhost.localdomain '
    'localhost4 localhost4.localdomain4" >>/etc/hosts',
    "mkdir -p /etc/pre-kubeadm-commands",
    "for script in $(find /etc/pre-kubeadm-commands/ -name '*.sh' -type f | sort); "
    'do echo "Running script $script"; "$script"; done',
)
"""CAPV's example ``preKubeadmCommands``, the same on control-plane and worker machines."""

KUBE_VIP_PREPARE = """#!/bin/bash

# Copyright 2020 The Kubernetes Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

set -e

# Configure the workaround required for kubeadm init with kube-vip:
# xref: https://github.com/kube-vip/kube-vip/issues/684

# Nothing to do for kubernetes < v1.29
KUBEADM_MINOR="$(kubeadm version -o short | cut -d '.' -f 2)"
if [[ "$KUBEADM_MINOR" -lt "29" ]]; then
  exit 0
fi

IS_KUBEADM_INIT="false"

# cloud-init kubeadm init
if [[ -f /run/kubeadm/kubeadm.yaml ]]; then
  IS_KUBEADM_INIT="true"
fi

# ignition kubeadm init
if [[ -f /etc/kubeadm.sh ]] && grep -q -e "kubeadm init" /etc/kubeadm.sh; then
  IS_KUBEADM_INIT="true"
fi

if [[ "$IS_KUBEADM_INIT" == "true" ]]; then
  sed -i 's#path: /etc/kubernetes/admin.conf#path: /etc/kubernetes/super-admin.conf#' \\
    /etc/kubernetes/manifests/kube-vip.yaml
fi
"""
"""CAPV v1.16.1's ``50-kube-vip-prepare.sh``: the first control-plane node's kube-vip uses super-admin.conf."""

KUBE_VIP_POD = """apiVersion: v1
kind: Pod
metadata:
  name: kube-vip
  namespace: kube-system
spec:
  containers:
  - args:
    - manager
    env:
    - name: vip_arp
      value: "true"
    - name: port
      value: "{{{{ .{variable}.port }}}}"
    - name: vip_interface
      value: ""
    - name: vip_cidr
      value: "32"
    - name: cp_enable
      value: "true"
    - name: cp_namespace
      value: kube-system
    - name: vip_ddns
      value: "false"
    - name: vip_leaderelection
      value: "true"
    - name: vip_leasename
      value: plndr-cp-lock
    - name: vip_leaseduration
      value: "15"
    - name: vip_renewdeadline
      value: "10"
    - name: vip_retryperiod
      value: "2"
    - name: address
      value: "{{{{ .{variable}.host }}}}"
    - name: prometheus_server
      value: :2112
    image: {image}
    imagePullPolicy: IfNotPresent
    name: kube-vip
    resources: {{}}
    securityContext:
      capabilities:
        add:
        - NET_ADMIN
        - NET_RAW
    volumeMounts:
    - mountPath: /etc/kubernetes/admin.conf
      name: kubeconfig
    - mountPath: /etc/hosts
      name: etchosts
  hostNetwork: true
  volumes:
  - hostPath:
      path: /etc/kubernetes/admin.conf
    name: kubeconfig
  - hostPath:
      path: /etc/kube-vip.hosts
      type: File
    name: etchosts
"""
"""CAPV's kube-vip static pod (control-plane VIP by ARP; its ``/etc/hosts`` comes from a file, CAPV's
workaround for kube-vip#692), as a Go template of the endpoint variable."""


class VSphere:
    """VMs cloned from a template in a vCenter, each cluster's API address held by kube-vip."""

    kinds = InfraKinds(API_VERSION, "VSphereClusterTemplate", "VSphereMachineTemplate")
    spec_type = VSphereSpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """vCenter, its thumbprint and the identity; the endpoint is patched in per cluster.

        With failure domains listed, control-plane machines go to those VSphereDeploymentZones only: the
        selector matches zones labelled ``fleetc.io/deployment-zone: <their name>`` with a listed name (CAPV
        selects zones by label, and an empty selector would take every zone of the management cluster).
        """
        spec = spec_of(provider, VSphereSpec)
        cluster: Manifest = {
            "server": spec.settings.server,
            "identityRef": {"kind": spec.credentials_ref.kind, "name": spec.credentials_ref.name},
        }
        if spec.settings.thumbprint is not None:
            cluster["thumbprint"] = spec.settings.thumbprint
        if spec.failure_domains:
            zones = sorted(spec.failure_domains)
            cluster["failureDomainSelector"] = {
                "matchExpressions": [{"key": DEPLOYMENT_ZONE_LABEL, "operator": "In", "values": zones}]
            }
        return cluster

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """Where to clone the VM and from what, with the CPUs, memory and disk of its machine type."""
        settings = spec_of(provider, VSphereSpec).settings
        hardware = settings.machine_type(machine.machine_type or "")
        if hardware is None:
            raise CompileError("Provider", provider.metadata.name, f"has no machine type for this {machine.role}")
        vm: Manifest = {
            "server": settings.server,
            "datacenter": settings.datacenter,
            "datastore": settings.datastore,
            "template": settings.template,
            "network": {"devices": [{"networkName": settings.network, "dhcp4": True}]},
            "numCPUs": hardware.num_cpus,
            "memoryMiB": hardware.memory_mib,
            "diskGiB": hardware.disk_gib,
            "os": "Linux",
            "powerOffMode": "trySoft",
        }
        optional = {
            "thumbprint": settings.thumbprint,
            "folder": settings.folder,
            "resourcePool": settings.resource_pool,
        }
        vm.update({key: value for key, value in optional.items() if value is not None})
        return vm

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """The endpoint variable and its patches, kube-vip, CAPV's node set-up, SSH keys, versioned templates."""
        settings = spec_of(provider, VSphereSpec).settings
        patches = [_endpoint_patch(), _node_setup_patch()]
        if settings.kube_vip:
            patches.append(_kube_vip_patch(settings.kube_vip_image))
        if settings.ssh_authorized_keys:
            patches.append(_ssh_patch(settings.ssh_authorized_keys))
        if VERSION_PLACEHOLDER in settings.template:
            patches.append(_template_version_patch(settings))
        return ClassExtras(
            variables=[_endpoint_variable()], patches=patches, kubelet_args={"cloud-provider": "external"}
        )

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """The cluster's control-plane endpoint (validation requires one on vSphere)."""
        endpoint = cluster.spec.control_plane_endpoint
        if endpoint is None:
            raise CompileError("Cluster", cluster.metadata.name, "on vSphere has no controlPlaneEndpoint")
        return [{"name": ENDPOINT_VARIABLE, "value": {"host": endpoint.host, "port": endpoint.port}}]


def _endpoint_variable() -> Manifest:
    schema = {
        "type": "object",
        "description": "The cluster's API address (kube-vip holds it on a control-plane machine).",
        "required": ["host", "port"],
        "properties": {
            "host": {"type": "string", "minLength": 1, "maxLength": 512},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 6443},
        },
    }
    return {"name": ENDPOINT_VARIABLE, "required": True, "schema": {"openAPIV3Schema": schema}}


def _selector(api_version: str, kind: str, match: Manifest) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "matchResources": match}


def _control_plane(json_patches: list[Manifest]) -> Manifest:
    selector = _selector(CONTROL_PLANE, "KubeadmControlPlaneTemplate", {"controlPlane": True})
    return {"selector": selector, "jsonPatches": json_patches}


def _workers(json_patches: list[Manifest]) -> Manifest:
    selector = _selector(BOOTSTRAP, "KubeadmConfigTemplate", {"machineDeploymentClass": {"names": ["*"]}})
    return {"selector": selector, "jsonPatches": json_patches}


def _endpoint_patch() -> Manifest:
    """The endpoint into the VSphereCluster; API servers bind to its port, since the VIP lands on a node."""
    port = f"{{{{ .{ENDPOINT_VARIABLE}.port }}}}"
    infrastructure = {
        "selector": _selector(API_VERSION, "VSphereClusterTemplate", {"infrastructureCluster": True}),
        "jsonPatches": [
            {
                "op": "add",
                "path": "/spec/template/spec/controlPlaneEndpoint",
                "valueFrom": {"variable": ENDPOINT_VARIABLE},
            }
        ],
    }
    bind_port = _control_plane(
        [
            {
                "op": "add",
                "path": f"{KUBEADM}/initConfiguration/localAPIEndpoint",
                "valueFrom": {"template": f"bindPort: {port}"},
            },
            {
                "op": "add",
                "path": f"{KUBEADM}/joinConfiguration/controlPlane",
                "valueFrom": {"template": f"localAPIEndpoint:\n  bindPort: {port}"},
            },
        ]
    )
    return {
        "name": ENDPOINT_VARIABLE,
        "description": "The cluster's control-plane endpoint, from the Cluster's variable.",
        "definitions": [infrastructure, bind_port],
    }


def _node_setup_patch() -> Manifest:
    """Node names and ``preKubeadmCommands`` (kubelet args guarantee ``nodeRegistration`` exists)."""
    name = "nodeRegistration/name"
    commands = list(PRE_KUBEADM_COMMANDS)
    return {
        "name": "vsphereNodeSetup",
        "description": "CAPV's hostname, /etc/hosts and pre-kubeadm scripts; Nodes named after the VM.",
        "definitions": [
            _control_plane(
                [
                    {"op": "add", "path": f"{KUBEADM}/initConfiguration/{name}", "value": NODE_NAME},
                    {"op": "add", "path": f"{KUBEADM}/joinConfiguration/{name}", "value": NODE_NAME},
                    {"op": "add", "path": f"{KUBEADM}/preKubeadmCommands", "value": commands},
                ]
            ),
            _workers(
                [
                    {"op": "add", "path": f"/spec/template/spec/joinConfiguration/{name}", "value": NODE_NAME},
                    {"op": "add", "path": "/spec/template/spec/preKubeadmCommands", "value": list(commands)},
                ]
            ),
        ],
    }


def _kube_vip_patch(image: str) -> Manifest:
    """kube-vip's static pod, its hosts file and the kubeadm v1.29+ workaround on control-plane machines."""
    static_files = [
        {
            "path": "/etc/kube-vip.hosts",
            "owner": "root:root",
            "permissions": "0644",
            "content": "127.0.0.1 localhost kubernetes",
        },
        {
            "path": "/etc/pre-kubeadm-commands/50-kube-vip-prepare.sh",
            "owner": "root:root",
            "permissions": "0700",
            "content": KUBE_VIP_PREPARE,
        },
    ]
    pod = KUBE_VIP_POD.format(variable=ENDPOINT_VARIABLE, image=image)
    manifest = 'path: /etc/kubernetes/manifests/kube-vip.yaml\nowner: root:root\npermissions: "0644"\ncontent: |\n'
    manifest += "".join(f"  {line}\n" if line else "\n" for line in pod.splitlines())
    return {
        "name": "kubeVip",
        "description": "kube-vip holds the control-plane endpoint address on one control-plane machine.",
        "definitions": [
            _control_plane(
                [
                    {"op": "add", "path": f"{KUBEADM}/files", "value": static_files},
                    {"op": "add", "path": f"{KUBEADM}/files/-", "valueFrom": {"template": manifest}},
                ]
            )
        ],
    }


def _ssh_patch(keys: list[str]) -> Manifest:
    users = [{"name": "capv", "sshAuthorizedKeys": list(keys), "sudo": "ALL=(ALL) NOPASSWD:ALL"}]
    return {
        "name": "sshAuthorizedKeys",
        "description": "The 'capv' user with the provider's SSH keys on every machine.",
        "definitions": [
            _control_plane([{"op": "add", "path": f"{KUBEADM}/users", "value": users}]),
            _workers([{"op": "add", "path": "/spec/template/spec/users", "value": users}]),
        ],
    }


def _template_version_patch(settings: VSphereSettings) -> Manifest:
    """Clone each machine from the template of its own Kubernetes version (``{version}`` in the name)."""

    def clone_from(version: str) -> Manifest:
        template = json.dumps(settings.template).replace(VERSION_PLACEHOLDER, f"{{{{ .{version} }}}}")
        return {"op": "replace", "path": "/spec/template/spec/template", "valueFrom": {"template": template}}

    machines = _selector(API_VERSION, "VSphereMachineTemplate", {"controlPlane": True})
    workers = _selector(API_VERSION, "VSphereMachineTemplate", {"machineDeploymentClass": {"names": ["*"]}})
    return {
        "name": "vsphereTemplateVersion",
        "description": "The VM template built for the machine's Kubernetes version.",
        "definitions": [
            {"selector": machines, "jsonPatches": [clone_from("builtin.controlPlane.version")]},
            {"selector": workers, "jsonPatches": [clone_from("builtin.machineDeployment.version")]},
        ],
    }


PROVIDER = VSphere()
