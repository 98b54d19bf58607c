"""The ``mendian`` console script the wheel installs: the same command line as the Rust
binary, run as a user would (a subprocess found next to this interpreter), against the
emulator fixture the package ships."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import mendian.cli


def _script() -> str:
    # The console script lives next to the interpreter of the virtualenv the wheel is in.
    found = shutil.which("mendian", path=os.path.dirname(sys.executable))
    assert found, "the wheel did not install the `mendian` console script"
    return found


def run(*args, env=None, stdin=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MENDIAN_")}
    clean.update(env or {})
    return subprocess.run([_script(), *args], capture_output=True, text=True, env=clean, input=stdin, timeout=60)


def test_help_and_version():
    r = run("--help")
    assert r.returncode == 0
    assert "wechatpay download-certificates" in r.stdout and "wxa verify-push" in r.stdout
    assert run("--version").stdout == f"mendian {mendian.__version__}\n"
    assert run().returncode == 2
    r = run("wxa", "token", "--app-secret", "s3cr3t")
    assert r.returncode == 2 and "--app-secret-file" in r.stderr and "s3cr3t" not in r.stderr


def test_endpoints_agree_with_the_catalog():
    listed = json.loads(run("endpoints", "--json").stdout)
    assert [e["id"] for e in listed] == [e.id for e in mendian.endpoints()]


def test_validate_reads_standard_input():
    assert run("validate", "get_store_list", "-", stdin='{"offset": 0, "limit": 10}').returncode == 0
    r = run("validate", "get_store_list", "-", "--json", stdin='{"offset": 0, "limit": 51}')
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"]["kind"] == "InvalidArgument"
    assert "`limit`" in json.loads(r.stdout)["error"]["message"]


def test_token_and_certificates_from_the_emulator(mendian_emulator_fresh, tmp_path):
    p = mendian_emulator_fresh.profile
    secret = tmp_path / "secret"
    secret.write_text(p["wxa_secret"])
    r = run("wxa", "token", "--appid", p["wxa_appid"], "--app-secret-file", str(secret), "--base-url", p["wxa_base_url"])
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip()) > 0 and "valid for" in r.stderr
    assert p["wxa_secret"] not in r.stdout + r.stderr

    env = {
        "MENDIAN_WECHATPAY_MCHID": p["wechatpay_mchid"],
        "MENDIAN_WECHATPAY_MERCHANT_SERIAL_NO": p["wechatpay_merchant_serial_no"],
        "MENDIAN_WECHATPAY_PRIVATE_KEY": p["wechatpay_merchant_private_key_pem"],
        "MENDIAN_WECHATPAY_APIV3_KEY": p["wechatpay_apiv3_key"],
    }
    r = run("wechatpay", "download-certificates", "--base-url", p["wechatpay_base_url"], "--out", str(tmp_path), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    [cert] = json.loads(r.stdout)
    assert cert["serial_no"] == p["wechatpay_platform_serial_no"]
    assert (tmp_path / f"{cert['serial_no']}.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    for secret_value in (p["wechatpay_apiv3_key"], "PRIVATE KEY"):
        assert secret_value not in r.stdout + r.stderr


def test_main_returns_the_exit_code_in_process(capfd):
    assert mendian.cli.main(["describe-error", "update_guide", "PARAM_ERROR"]) == 0
    assert "PARAM_ERROR (HTTP 400)" in capfd.readouterr().out
    assert mendian.cli.main(["describe-error", "update_guide", "NOPE"]) == 1
