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


class RedisServer:
    """A redis-server (MENDIAN_REDIS_SERVER, which `cargo xtask test` sets) on a free loopback
    port, keeping nothing on disk."""

    def __init__(self, binary):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.binary = binary
        self.url = f"redis://127.0.0.1:{self.port}/"
        self.start()

    def start(self):
        import socket
        import time

        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not listen on {self.port}")
                time.sleep(0.02)

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def redis_server():
    binary = os.environ.get("MENDIAN_REDIS_SERVER")
    if not binary:
        pytest.fail("MENDIAN_REDIS_SERVER is not set: run the suite through `cargo xtask test`")
    server = RedisServer(binary)
    yield server
    server.stop()
