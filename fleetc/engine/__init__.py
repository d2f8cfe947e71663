"""Engines: what composes stores, fleetc's rollout controller and the simulated CAPI plane into a running system.

:mod:`fleetc.engine.local` runs a rollout on the embedded, simulated management plane (``fleetc simulate`` and
``fleetc apply --local``). The CLI is the only caller.
"""
