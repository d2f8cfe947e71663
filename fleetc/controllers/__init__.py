"""The controller runtime, the simulated management plane and rollouts.

``store`` (Kubernetes-like object store) < ``runtime`` (queue, reconcilers, manager, clocks) < ``sim``
(simulated CAPI controllers and infrastructure) and ``rollout`` (waves, gates, halting). Imports only
:mod:`fleetc.plan` and below.
"""
