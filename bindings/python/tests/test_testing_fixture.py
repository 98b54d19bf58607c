"""The emulator fixture the package ships (``mendian.testing`` and its pytest plugin), used as
an app's own test suite would use it."""

import os

import pytest

import mendian
from mendian.testing import Emulator, EmulatorNotFound, find_emulator


def test_the_plugin_fixture_points_clients_at_the_emulator(mendian_emulator_fresh):
    profile = mendian_emulator_fresh.profile
    options = mendian.ClientOptions(base_url=profile["wxa_base_url"], backup_base_url="")
    wx = mendian.WxaClient(
        mendian.WxaConfig(appid=profile["wxa_appid"], options=options),
        mendian.wxa_stable_token_provider(profile["wxa_appid"], profile["wxa_secret"], profile["wxa_base_url"]),
        mendian.wxa_memory_token_store(),
    )
    page = wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=10))
    assert page.total_count == 0
    assert [r["endpoint"] for r in mendian_emulator_fresh.requests()][-1] == "get_store_list"


def test_repr_shows_where_it_listens_not_the_test_keys(mendian_emulator):
    shown = repr(mendian_emulator)
    assert mendian_emulator.profile["admin_url"] in shown
    assert mendian_emulator.profile["wechatpay_apiv3_key"] not in shown


def test_the_binary_comes_from_the_environment_or_path(monkeypatch):
    # `cargo xtask test` runs the suite once with MENDIAN_EMULATOR_BIN (debug build) and once
    # with only the emulator wheel's `mendian-emulator` command on PATH (release).
    found = find_emulator()
    assert found == os.environ.get("MENDIAN_EMULATOR_BIN", found)
    assert os.path.basename(found) == "mendian-emulator"


def test_a_missing_binary_is_named(monkeypatch, tmp_path):
    monkeypatch.delenv("MENDIAN_EMULATOR_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EmulatorNotFound, match="MENDIAN_EMULATOR_BIN"):
        find_emulator()
    with pytest.raises(EmulatorNotFound, match="not an executable"):
        find_emulator(str(tmp_path / "nope"))


def test_a_second_emulator_on_its_own_port_and_stopped_by_the_context_manager():
    with Emulator() as emu:
        assert emu.running
        emu.reset()
    assert not emu.running
