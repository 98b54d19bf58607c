"""Fixtures shared by the Python suite: a running emulator (``mendian.testing``, started from
the binary that `cargo xtask test` built, MENDIAN_EMULATOR_BIN) and a redis-server."""

import os
import subprocess

import pytest

# The suite runs on the fixture the package ships to its users.
from mendian.testing import Emulator


@pytest.fixture(scope="session")
def emulator():
    if not os.environ.get("MENDIAN_EMULATOR_BIN"):
        pytest.fail("MENDIAN_EMULATOR_BIN is not set: run the suite through `cargo xtask test`")
    emu = Emulator()
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
