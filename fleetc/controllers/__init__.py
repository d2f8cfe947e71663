"""The controller runtime and rollouts. Not built yet: see issue 5.

Imports only :mod:`fleetc.plan` and below.
"""
