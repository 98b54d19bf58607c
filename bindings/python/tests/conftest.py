"""Fixtures shared by the Python suite: a running emulator (``mendian.testing``: the debug
binary named by MENDIAN_EMULATOR_BIN, or the `mendian-emulator` command the emulator wheel
installs) and a redis-server; with MENDIAN_TEST_EVENT_LOOP=mendian, every ``asyncio.run`` on a
loop of ``mendian.new_event_loop()``."""

import os
import subprocess

import pytest

# The suite runs on the fixture the package ships to its users.
from mendian.testing import Emulator, EmulatorNotFound

if os.environ.get("MENDIAN_TEST_EVENT_LOOP") == "mendian":
    # Every asyncio.run of the suite on a loop of mendian.new_event_loop() (`cargo xtask test`
    # runs the packaged wheel's suite this way, the debug wheel's on standard loops).
    import asyncio

    import mendian

    class _MendianLoops(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self):
            return mendian.new_event_loop()

    asyncio.set_event_loop_policy(_MendianLoops())


@pytest.fixture(scope="session")
def emulator():
    # MENDIAN_EMULATOR_BIN (the debug build) or the `mendian-emulator` command the emulator
    # wheel installed (the release run).
    try:
        emu = Emulator()
    except EmulatorNotFound as e:
        pytest.fail(f"{e} (run the suite through `cargo xtask test`)")
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
