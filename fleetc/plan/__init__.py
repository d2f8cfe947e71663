"""Diff and plan between two compiled revisions. Not built yet: see issue 4.

Imports only :mod:`fleetc.render` and below.
"""
