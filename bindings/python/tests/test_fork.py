"""A process forked after using mendian (``multiprocessing`` on Linux, gunicorn or celery
prefork) can go on using the clients it inherited: every form of call works in the child,
on runtimes and connections of its own, and the parent is undisturbed. Before, the child's
asyncio calls waited forever on I/O threads that exist only in the parent."""

import asyncio
import multiprocessing
import os
import sys

import pytest

import mendian

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="fork is a Linux matter")

DEADLINE_S = 20  # a child that hangs fails the test instead of the suite


def wxa_client(emu, store=None):
    p = emu.profile
    options = mendian.ClientOptions(base_url=p["wxa_base_url"], backup_base_url="", timeout_ms=5000)
    return mendian.WxaClient(
        mendian.WxaConfig(appid=p["wxa_appid"], options=options),
        mendian.wxa_stable_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"]),
        store,
    )


def every_form(wx):
    """One call in each form the package offers; their answers, in order."""
    request = mendian.GetStoreListRequest(offset=0, limit=10)
    uniffi_async = mendian.WxaClient.get_store_list_async.__wrapped__

    async def asyncio_forms():
        return [
            (await wx.get_store_list_async(request)).total_count,  # the accelerator's I/O thread
            (await uniffi_async(wx, request)).total_count,  # UniFFI's async, on the shared runtime
            len(await wx.access_token_async()),  # a hand-written async method
        ]

    return [wx.get_store_list(request).total_count, *asyncio.run(asyncio_forms())]


def in_child(wx, out):
    try:
        out.send(("ok", every_form(wx)))
    except BaseException as e:  # reported to the parent, which fails the test
        out.send(("error", f"{type(e).__name__}: {e}"))


def run_in_forked_child(wx):
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=in_child, args=(wx, send))
    child.start()
    try:
        assert receive.poll(DEADLINE_S), "the forked child's calls did not finish"
        return receive.recv()
    finally:
        child.join(DEADLINE_S)
        if child.is_alive():
            child.kill()


def test_a_forked_child_can_call_in_every_form_and_the_parent_goes_on(fresh):
    wx = wxa_client(fresh)
    before = every_form(wx)  # the parent's runtimes, threads and pooled connections exist now
    assert before[0] == before[1] == before[2] and before[3] > 0
    assert run_in_forked_child(wx) == ("ok", before)
    # Twice: a child of a process that already replaced nothing, and the parent again after.
    assert run_in_forked_child(wx) == ("ok", before)
    assert every_form(wx) == before


def test_a_forked_child_reaches_the_redis_token_store_on_its_own_connection(fresh, redis_server):
    wx = wxa_client(fresh, mendian.wxa_redis_token_store(redis_server.url, "fork-test:"))
    token = wx.access_token()  # the parent's Redis connection is open
    status, answers = run_in_forked_child(wx)
    assert status == "ok", answers
    assert answers[3] == len(token)
    assert wx.access_token() == token
