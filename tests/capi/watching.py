"""``kubectl get --watch`` of one resource in one namespace of the test API server, each event handed to a callback.

A context manager: the watch runs (a ``kubectl`` subprocess and a reader thread) inside the ``with`` block; the
first events are the objects that exist when it starts (``ADDED``). Used by :class:`tests.capi.fidelity.MachineWatch`
(recording Machines) and :class:`tests.capi.lifecycle.SlowBoot` (injecting a fault into new DevMachines).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.upstream.apiserver import KubeApi

OnEvent = Callable[[str, dict[str, Any]], None]
"""Called with the event type (``ADDED``, ``MODIFIED``, ``DELETED``) and the object."""


class KubectlWatch:
    """Watch ``resource`` in ``namespace``; ``on_event`` runs on the reader thread, in the order events arrive."""

    def __init__(self, api: KubeApi, namespace: str, resource: str, on_event: OnEvent) -> None:
        self.api, self.namespace, self.resource, self.on_event = api, namespace, resource, on_event
        self.errors: list[BaseException] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> KubectlWatch:
        api = self.api
        command = [api.kubectl_binary, "--kubeconfig", str(api.kubeconfig), "--context", api.context, "get",
                   self.resource, "-n", self.namespace, "--watch", "--output-watch-events", "-o", "json"]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=api.env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        decoder, buffer = json.JSONDecoder(), ""
        for line in self._process.stdout:
            buffer += line
            try:
                event, end = decoder.raw_decode(buffer.lstrip())
            except json.JSONDecodeError:
                continue
            buffer = buffer.lstrip()[end:]
            try:
                self.on_event(event["type"], event["object"])
            except Exception as exc:  # reported by __exit__, after the watch stopped
                self.errors.append(exc)

    def __exit__(self, *exc: object) -> None:
        time.sleep(1)  # the last events in flight
        assert self._process is not None and self._reader is not None
        self._process.terminate()
        self._process.wait(timeout=10)
        self._reader.join(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        assert not self.errors, self.errors
