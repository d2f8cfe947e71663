"""Helpers for testing fleetc and the fleets it builds: synthetic fleets of any size, for load tests.

:mod:`fleetc.testing.synthetic` writes a realistic fleet of N clusters (mixed providers, classes, waves and
channels) that validates, so a benchmark, a test or a user's own load test can generate one instead of keeping a
large fixture. This package is the top layer: nothing else in fleetc imports it (import-linter enforces it).
"""
