"""Output formats of a diff or plan report: ``text`` (terminal), ``markdown`` (PR comment), ``json`` (tools).

Each module turns a :class:`~fleetc.plan.report.DiffReport` into a string (or styled lines) and nothing else.
"""
