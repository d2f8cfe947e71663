"""Reading fleet sources: source trees (folder, git revision, memory), YAML with positions, discovery.

Callers: ``fleetc.schema.validate`` loads a whole fleet through :func:`fleetc.load.loader.load_tree`.
"""
