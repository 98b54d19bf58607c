"""A fleet of servers sharing one access token through Redis: separate OS processes (each a
Python interpreter with the wheel, fleet_worker.py) against one emulator and one real
redis-server. The emulator counts every token request, so "exactly one fetch" is checked
where the platform would see it."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import mendian

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fleet_worker.py")


def token_fetches(emu):
    return emu.admin("GET", "/wxa")["token_fetches"]


def list_calls(emu):
    return sum(1 for r in emu.admin("GET", "/requests?platform=wxa") if r["endpoint"] == "get_store_list")


class Worker:
    """One fleet_worker.py process."""

    def __init__(self, emu, redis, *extra):
        self.proc = subprocess.Popen(
            [sys.executable, WORKER, "--profile", json.dumps(emu.profile), "--redis", redis.url, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def expect(self, wanted):
        line = self.proc.stdout.readline().strip()
        assert line == wanted, f"worker said {line!r}, expected {wanted!r}"

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self):
        line = self.proc.stdout.readline()
        assert line, "the worker died"
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def fleet(emu, redis, n, *extra):
    workers = [Worker(emu, redis, *extra) for _ in range(n)]
    for w in workers:
        w.expect("ready")
    return workers


def run_round(workers):
    """Every worker starts its batch at once; returns their results."""
    for w in workers:
        w.go()
    return [w.result() for w in workers]


def test_four_processes_fetch_one_token_and_one_refresh_after_it_expires(fresh, redis_server):
    workers = fleet(fresh, redis_server, 4, "--calls", "50")
    try:
        first = run_round(workers)
        assert all(r["ok"] == 50 for r in first), first
        assert token_fetches(fresh) == 1
        # The token expires at the platform: the 200 calls in flight see 42001, invalidate the
        # failed token fleet-wide and exactly one process fetches the next one.
        fresh.admin("POST", "/faults", {"route": "*", "kind": {"type": "wxa_expire_tokens"}, "times": 1})
        second = run_round(workers)
        assert all(r["ok"] == 50 for r in second), second
        assert token_fetches(fresh) == 2
    finally:
        for w in workers:
            w.close()


def test_the_classic_provider_does_not_churn_across_a_fleet(fresh, redis_server):
    """Each classic cgi-bin/token fetch invalidates the previous token: a fleet that fetched
    more than once would see 40001 and repeat calls. 1,000 calls from 4 processes."""
    workers = fleet(fresh, redis_server, 4, "--calls", "50", "--provider", "classic")
    try:
        for _ in range(5):
            results = run_round(workers)
            assert all(r["ok"] == 50 for r in results), results
        assert token_fetches(fresh) == 1
        # No call was repeated after a 40001: the emulator saw exactly 1,000 list calls.
        assert list_calls(fresh) == 1000
    finally:
        for w in workers:
            w.close()


def test_a_process_killed_while_holding_the_lock_delays_the_fleet_only_until_the_lock_expires(fresh, redis_server):
    ttl_ms = 1500
    holder = Worker(fresh, redis_server, "--calls", "1", "--provider", "hang", "--lock-ttl-ms", str(ttl_ms))
    holder.expect("ready")
    holder.go()
    holder.expect("fetching")
    # It holds the fleet's refresh lock and dies without releasing it.
    holder.proc.send_signal(signal.SIGKILL)
    holder.proc.wait()
    killed_at = time.monotonic()
    [other] = fleet(fresh, redis_server, 1, "--calls", "50", "--lock-ttl-ms", str(ttl_ms))
    try:
        [result] = run_round([other])
        waited = time.monotonic() - killed_at
        assert result["ok"] == 50, result
        assert token_fetches(fresh) == 1
        # The survivor refreshed once the dead holder's lock expired, not before, not much later.
        assert waited < 2 * ttl_ms / 1000 + 1.0, waited
        assert result["seconds"] > 0.2, result
    finally:
        other.close()


def client(emu, store):
    p = emu.profile
    provider = mendian.wxa_stable_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"])
    config = mendian.WxaConfig(appid=p["wxa_appid"], options=mendian.ClientOptions(base_url=p["wxa_base_url"], backup_base_url=""))
    return mendian.WxaClient(config, provider, store)


def test_calls_continue_while_redis_restarts_then_share_again(fresh, redis_server):
    wx = client(fresh, mendian.wxa_redis_token_store(redis_server.url, "restart-test:"))
    request = mendian.GetStoreListRequest(offset=0, limit=1)
    wx.get_store_list(request)
    redis_server.stop()
    for _ in range(10):
        wx.get_store_list(request)
    redis_server.restart()
    wx.get_store_list(request)
    # The token is in Redis again: another server reads it instead of fetching.
    other = client(fresh, mendian.wxa_redis_token_store(redis_server.url, "restart-test:"))
    other.get_store_list(request)
    assert token_fetches(fresh) == 2  # the first fetch, and one after Redis came back empty


def test_redis_down_with_no_token_is_a_clear_network_error(fresh, redis_server):
    redis_server.stop()
    wx = client(fresh, mendian.wxa_redis_token_store(redis_server.url, "down-test:"))
    with pytest.raises(mendian.MendianError.Network) as e:
        wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1))
    assert "Redis" in str(e.value)
    assert token_fetches(fresh) == 0


def test_two_appids_in_one_redis_never_see_each_others_tokens(redis_server):
    store = mendian.wxa_redis_token_store(redis_server.url, "appids-test:")
    later = int(time.time()) + 7200

    async def flow():
        await store.save("wx_first", mendian.WxaStoredToken(access_token="first-token", expires_at=later))
        await store.save("wx_second", mendian.WxaStoredToken(access_token="second-token", expires_at=later))
        a = await store.load("wx_first")
        b = await store.load("wx_second")
        await store.invalidate("wx_second", "first-token")
        still = await store.load("wx_second")
        return a, b, still

    a, b, still = asyncio.run(flow())
    assert (a.access_token, b.access_token, still.access_token) == ("first-token", "second-token", "second-token")


def test_options_and_errors_never_show_the_password(redis_server):
    options = mendian.WxaRedisStoreOptions(password="hunter2-secret")
    assert "hunter2-secret" not in str(options) and "hunter2-secret" not in repr(options)
    with pytest.raises(mendian.MendianError.InvalidArgument) as e:
        mendian.wxa_redis_token_store("http://:hunter2-secret@127.0.0.1/", "x:")
    assert "hunter2-secret" not in str(e.value) and "url" in str(e.value)
