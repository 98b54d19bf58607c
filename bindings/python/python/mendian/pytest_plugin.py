"""pytest fixtures for apps built on mendian (registered through the ``pytest11`` entry
point, so installing the wheel is enough):

- ``mendian_emulator``: one emulator for the test session (see :mod:`mendian.testing`);
- ``mendian_emulator_fresh``: the same emulator, reset before the test.

Without an emulator binary the fixtures fail the test with the reason; tests that do not use
them are unaffected.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from .testing import Emulator, EmulatorNotFound


@pytest.fixture(scope="session")
def mendian_emulator() -> Iterator[Emulator]:
    """A running emulator shared by the session."""
    try:
        emulator = Emulator()
    except EmulatorNotFound as e:
        pytest.fail(str(e))
    yield emulator
    emulator.stop()


@pytest.fixture
def mendian_emulator_fresh(mendian_emulator: Emulator) -> Emulator:
    """The session's emulator, reset (no stores, tokens, faults or recorded requests)."""
    mendian_emulator.reset()
    return mendian_emulator
