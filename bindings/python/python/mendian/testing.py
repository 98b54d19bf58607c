"""Test your app against mendian's emulator: a local, stateful stand-in for the WeChat Pay,
门店小程序 and TOP gateways, started on a free loopback port.

``Emulator()`` starts the ``mendian-emulator`` binary (``binary=``, else the
``MENDIAN_EMULATOR_BIN`` environment variable, else ``mendian-emulator`` on ``PATH``) and reads
its connection profile: base URLs to point the clients at, and the test credentials it
accepts. With pytest, the ``mendian_emulator`` fixture (registered by this package as a pytest
plugin) does this once per session; ``mendian_emulator_fresh`` also resets its state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from typing import Any, Dict, List, Optional

__all__ = ["Emulator", "find_emulator", "EmulatorNotFound"]


class EmulatorNotFound(RuntimeError):
    """No ``mendian-emulator`` binary could be found."""


def find_emulator(binary: Optional[str] = None) -> str:
    """The emulator binary to start: ``binary``, else ``MENDIAN_EMULATOR_BIN``, else
    ``mendian-emulator`` on ``PATH``."""
    candidate = binary or os.environ.get("MENDIAN_EMULATOR_BIN") or shutil.which("mendian-emulator")
    if not candidate:
        raise EmulatorNotFound(
            "mendian-emulator was not found: set MENDIAN_EMULATOR_BIN to its path, or put it on PATH "
            "(from a clone: `cargo build --release -p mendian-emulator`)"
        )
    if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        raise EmulatorNotFound(f"{candidate} is not an executable file")
    return candidate


class Emulator:
    """A running emulator process and its connection profile (``profile``: a dict with
    ``wechatpay_base_url``, ``wxa_base_url``, ``top_gateway_url``, ``admin_url`` and the test
    credentials). Stop it with :meth:`stop`, or use it as a context manager."""

    def __init__(self, binary: Optional[str] = None, host: str = "127.0.0.1", port: int = 0) -> None:
        path = find_emulator(binary)
        self._proc = subprocess.Popen(
            [path, "--host", host, "--port", str(port)], stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait(timeout=10)
            raise RuntimeError(f"{path} exited with {code} before printing its connection profile")
        self.profile: Dict[str, Any] = json.loads(line)

    def __repr__(self) -> str:
        # The profile holds test keys; show where it listens, not what it accepts.
        return f"Emulator(admin_url={self.profile.get('admin_url')!r}, running={self.running})"

    @property
    def running(self) -> bool:
        """Whether the process is still running."""
        return self._proc.poll() is None

    def admin(self, method: str, route: str, body: Any = None) -> Any:
        """Calls the admin API (``route`` such as ``/reset`` or ``/requests``) and returns the
        decoded JSON answer (``None`` for an empty one)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.profile["admin_url"] + route, data=data, method=method)
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def reset(self) -> None:
        """Forgets every store, guide, worker, token, fault and recorded request."""
        self.admin("POST", "/reset")

    def requests(self) -> List[Dict[str, Any]]:
        """The platform requests received so far (secrets redacted)."""
        return self.admin("GET", "/requests")

    def stop(self) -> None:
        """Stops the process (waits up to 10 s)."""
        if self.running:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
