"""Compiling the validated fleet into CAPI v1beta2 manifests (the Flux source). Not built yet: see issue 3.

Imports only :mod:`fleetc.schema` and below.
"""
