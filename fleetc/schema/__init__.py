"""The fleet spec ``fleetc.io/v1alpha1``: models, generators, semantic rules and validation.

Entry point: :func:`fleetc.schema.validate.validate_tree`.
"""
