"""The bottom layer: value types every other layer shares (source locations, diagnostics, errors).

Nothing here does I/O or imports another fleetc layer.
"""
