"""Infrastructure providers: one module per provider type, all behind :class:`~.base.InfraProvider`.

Modules are independent of each other (an import-linter contract); :mod:`.registry` lists them explicitly and
finds one by the spec class it implements, so adding a provider is its spec model in :mod:`fleetc.schema.provider`
(the one list of provider types), a new module here and its line in the registry.
"""
