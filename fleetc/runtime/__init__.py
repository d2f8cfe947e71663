"""The controller runtime every controller of fleetc runs on, simulated or real.

:mod:`~fleetc.runtime.store` (a Kubernetes-like object store) < :mod:`~fleetc.runtime.manager` (work queue,
level-triggered reconcilers, per-key backoff) with :mod:`~fleetc.runtime.clock` (real and virtual clocks).
Above it sit fleetc's own rollout controller (:mod:`fleetc.rollout`) and the simulated CAPI plane
(:mod:`fleetc.sim`), which know nothing of each other. Imports only :mod:`fleetc.plan` and below.
"""
