"""Real upstream software for tests: binaries and CRDs built or fetched from Go modules pinned in ``pins.toml``.

``build`` compiles kube-apiserver, etcd and CAPI's managers into a cache outside the repository, ``crds`` finds CRD
folders in the module cache, ``apiserver`` runs etcd and kube-apiserver on loopback, ``reference`` is the one way
tests locate reference data, and ``plugin`` holds the pytest fixtures (loaded by ``tests/conftest.py``).
"""
