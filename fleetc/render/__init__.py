"""Compiling the validated fleet into CAPI v1beta2 manifests (the Flux source).

:func:`fleetc.render.build.build` is the pipeline (compile, Flux objects, files);
:func:`fleetc.render.output.write_tree` writes the tree. Imports only :mod:`fleetc.schema` and below.
"""
