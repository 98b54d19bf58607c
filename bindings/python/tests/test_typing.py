"""The package is typed for `mypy --strict`: `py.typed`, the generated bindings' annotations,
and the generated stub that declares MendianError's variants (`mendian/_error_types.pyi`)."""

import os
import subprocess
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typed")


def mypy(name, tmp_path):
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is not installed in this venv (`cargo xtask test` installs it)")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-color-output", "--cache-dir", str(tmp_path), os.path.join(HERE, name)],
        capture_output=True, text=True, timeout=300,
    )


def test_a_typed_app_passes_mypy_strict(tmp_path):
    r = mypy("sample.py", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_wrong_use_of_an_error_member_is_caught(tmp_path):
    r = mypy("wrong.py", tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'Incompatible return value type (got "int | None", expected "str")' in r.stdout, r.stdout
    assert "Found 1 error" in r.stdout, r.stdout
