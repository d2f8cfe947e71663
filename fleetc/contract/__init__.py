"""CAPI's contract, in one place: what fleetc knows of Cluster API v1.14 (v1beta2) objects.

Like CAPI's own ``internal/contract``, this package is the single home of:

- :mod:`~fleetc.contract.vocabulary`: API groups and versions, kinds, labels, annotations and finalizers;
- :mod:`~fleetc.contract.versions`: the one Kubernetes version parser, its ordering, the never-downgrade and
  version-skew rules;
- :mod:`~fleetc.contract.upgrades`: the steps CAPI takes from one version to another (ClusterClass
  ``kubernetesVersions``);
- :mod:`~fleetc.contract.topology`: read-only accessors for a Cluster's ``spec.topology`` and a ClusterClass;
- :mod:`~fleetc.contract.objects`: typed shapes and accessors of the CAPI objects fleetc reads (metadata, the
  workload cluster an object belongs to, ``status`` fields of the gates, the simulator and ``fleetc status``);
- :mod:`~fleetc.contract.conditions` and :mod:`~fleetc.contract.timestamps`: ``metav1.Condition`` lists and
  ``metav1.Time`` text.

The layer sits directly above :mod:`fleetc.core`: render, plan, runtime, rollout, the simulator and the CLI import
it; it imports nothing of fleetc but the core. Everything here is pure and cheap (the simulator calls it on hot
paths): plain data in, plain data out, no pydantic.
"""
