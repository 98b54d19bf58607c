"""The token cache when a Python provider misbehaves: a failing provider is called once for
all its waiters, a hung one or one that asks its own client for a token fails in bounded
time (no stalled process, no deadlock)."""

import asyncio
import time

import pytest

import mendian


def client(provider, host, ttl_ms=10_000):
    cfg = mendian.WxaConfig(appid="wx-py-token-failures", token_lock_ttl_ms=ttl_ms,
                            options=mendian.ClientOptions(base_url=f"http://{host}.invalid", backup_base_url=""))
    return mendian.WxaClient(cfg, provider)


class FailingProvider(mendian.WxaTokenProvider):
    def __init__(self):
        self.calls = 0

    async def fetch_token(self, force_refresh):
        self.calls += 1
        await asyncio.sleep(0.05)
        raise RuntimeError("our backend is down")


class HungProvider(mendian.WxaTokenProvider):
    def __init__(self):
        self.calls = 0

    async def fetch_token(self, force_refresh):
        self.calls += 1
        await asyncio.sleep(3600)


class ReentrantProvider(mendian.WxaTokenProvider):
    client = None

    async def fetch_token(self, force_refresh):
        token = await self.client.access_token_async()
        return mendian.WxaAccessToken(access_token=token, expires_in=7200)


def test_a_failing_provider_is_called_once_for_200_waiters():
    p = FailingProvider()
    wx = client(p, "py-failing")

    async def run():
        return await asyncio.gather(*(wx.access_token_async() for _ in range(200)), return_exceptions=True)

    results = asyncio.run(run())
    assert p.calls == 1
    assert all(isinstance(r, mendian.MendianError.Callback) for r in results), results[:3]


def test_a_hung_provider_fails_in_bounded_time():
    p = HungProvider()
    wx = client(p, "py-hung", ttl_ms=300)
    started = time.monotonic()
    with pytest.raises(mendian.MendianError.Callback, match="did not answer within 300 ms"):
        wx.access_token()                      # the blocking form
    assert time.monotonic() - started < 3
    assert p.calls == 1


def test_a_provider_that_asks_its_own_client_fails_instead_of_deadlocking():
    p = ReentrantProvider()
    wx = client(p, "py-reentrant", ttl_ms=300)
    p.client = wx
    started = time.monotonic()
    with pytest.raises(mendian.MendianError.Callback, match="waits for itself"):
        asyncio.run(asyncio.wait_for(wx.access_token_async(), 10))
    assert time.monotonic() - started < 3
