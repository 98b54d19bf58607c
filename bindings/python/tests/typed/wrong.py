"""Checked with `mypy --strict` by test_typing.py, which expects exactly the error below: proof
that the variants' member types reach the type checker."""

import mendian


def status(e: Exception) -> str:
    if isinstance(e, mendian.MendianError.Api):
        return e.http_status  # an Optional[int], not a str
    return ""
