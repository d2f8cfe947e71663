"""Infrastructure providers: one module per provider type, all behind :class:`~.base.InfraProvider`.

Modules are independent of each other (an import-linter contract). The registry finds a provider's module
by its type name (``dev-inmemory`` → ``fleetc.render.providers.dev_inmemory``), so adding a provider is a
new module here plus its settings model in :mod:`fleetc.schema.provider`.
"""
