"""Reading fleet sources: source trees (folder, git revision, memory), YAML with positions, discovery.

Callers: :mod:`fleetc.schema.validate` lists a fleet's files with :func:`fleetc.load.loader.fleet_files` and reads
them with :func:`fleetc.load.loader.read_files`.
"""
