"""The Python package around the generated bindings: the language it reports, both call
forms on every client, type information."""

import inspect
import pathlib

import mendian


def test_python_is_the_default_language():
    assert mendian.ClientOptions().language == "python"
    assert mendian.WxaConfig(appid="wx1").options.language == "python"


def test_every_client_method_has_a_blocking_and_an_asyncio_form():
    for cls in (mendian.WechatpayClient, mendian.WxaClient, mendian.TopClient):
        for name, fn in inspect.getmembers(cls, inspect.iscoroutinefunction):
            assert name.endswith("_async"), f"{cls.__name__}.{name}: coroutines end in _async"
            plain = getattr(cls, name[: -len("_async")], None)
            assert plain is not None and not inspect.iscoroutinefunction(plain), f"{cls.__name__}.{name} has no blocking twin"


def test_the_package_is_typed():
    assert (pathlib.Path(mendian.__file__).parent / "py.typed").exists()


def test_version_agrees_with_the_package_metadata():
    import importlib.metadata

    import mendian

    assert mendian.__version__ == mendian.mendian_version() == importlib.metadata.version("mendian")


def test_importing_raises_no_warning():
    # Generated docstrings once held `\J` (an invalid escape): a warning on import, an
    # error for users who run with -W error.
    import subprocess
    import sys

    subprocess.run([sys.executable, "-W", "error", "-c", "import mendian, mendian.testing"], check=True)
