"""Fixtures shared by the Python suite: a running emulator started from the binary that
`cargo xtask test` built (MENDIAN_EMULATOR_BIN), and a tiny client for its admin API."""

import json
import os
import subprocess
import urllib.request

import pytest


class Emulator:
    """A running mendian-emulator process and its connection profile."""

    def __init__(self, binary):
        self.proc = subprocess.Popen([binary], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{binary} exited without printing its profile")
        self.profile = json.loads(line)

    def admin(self, method, route, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.profile["admin_url"] + route, data=data, method=method)
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def emulator():
    binary = os.environ.get("MENDIAN_EMULATOR_BIN")
    if not binary:
        pytest.fail("MENDIAN_EMULATOR_BIN is not set: run the suite through `cargo xtask test`")
    emu = Emulator(binary)
    yield emu
    emu.stop()


@pytest.fixture
def fresh(emulator):
    emulator.admin("POST", "/reset")
    return emulator
