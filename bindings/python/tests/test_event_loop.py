"""``mendian.new_event_loop()`` and ``mendian.run()``: the loop's asyncio calls run on the loop's
own thread and give the same answers and errors as on a standard loop; the loop stays a full
asyncio loop (timers, streams, subprocesses, signal handlers, other threads, cancellation);
and it refuses what it cannot do with a clear error."""

import asyncio
import contextvars
import os
import selectors
import signal
import sys
import threading
import time

import pytest

import mendian
from test_top import client as top_client, doc_worker
from test_wxa import BackendTokenProvider, add_fault, client as wxa_client, timed_client

REQUEST = mendian.GetStoreListRequest(offset=0, limit=1)


class ThreadLogger(mendian.MendianLogger):
    """Notes the thread each exchange is logged on: the thread that ran it."""

    def __init__(self):
        self.threads = []

    def log(self, exchange):
        self.threads.append(threading.get_ident())


def standard_run(coro):
    """``coro`` on a standard asyncio loop, whatever the event loop policy."""
    loop = asyncio.SelectorEventLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def test_calls_run_on_the_loops_own_thread(fresh):
    wx = wxa_client(fresh)
    wx.get_store_list(REQUEST)  # token fetched
    logger = ThreadLogger()
    mendian.set_mendian_logger(logger, mendian.LogLevel.INFO)
    try:
        mendian.run(wx.get_store_list_async(REQUEST))
        on_mendian_loop = list(logger.threads)
        logger.threads.clear()
        standard_run(wx.get_store_list_async(REQUEST))
        on_standard_loop = list(logger.threads)
    finally:
        mendian.set_mendian_logger(None, mendian.LogLevel.INFO)
    assert on_mendian_loop == [threading.get_ident()]
    if sys.platform == "linux" and os.environ.get("MENDIAN_PYTHON_LOOP_THREAD", "1") != "0":
        assert on_standard_loop == [threading.get_ident()], "a standard loop on Linux runs its calls on its own thread too"
    else:
        assert len(on_standard_loop) == 1 and on_standard_loop[0] != threading.get_ident(), "elsewhere on the SDK's I/O thread"


def test_a_standard_loops_call_sends_its_request_as_it_starts(fresh):
    # Not at the loop's next turn or tick: with the loop's thread held right after the call
    # starts (no turn, no tick can run), the emulator still receives the request.
    wx = wxa_client(fresh)
    wx.get_store_list(REQUEST)
    fresh.admin("DELETE", "/requests")
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 200})

    def received():
        return [r for r in fresh.admin("GET", "/requests?platform=wxa") if r["endpoint"] == "get_store_list"]

    async def start_then_hold_the_thread():
        call = asyncio.ensure_future(wx.get_store_list_async(REQUEST))
        await asyncio.sleep(0)  # the task starts the call
        deadline = time.monotonic() + 3
        while not received() and time.monotonic() < deadline:
            time.sleep(0.02)  # blocks the loop
        seen = len(received())
        await call
        return seen

    assert standard_run(start_then_hold_the_thread()) == 1


def test_an_idle_standard_loop_does_not_spin(fresh):
    # The runtime's descriptor the loop watches is quiet once the runtime has looked at it,
    # and the ticks stop with the last call.
    wx = wxa_client(fresh)

    async def idle_after_calls():
        await asyncio.gather(*(wx.get_store_list_async(REQUEST) for _ in range(20)))
        started = time.process_time()
        await asyncio.sleep(0.5)
        return time.process_time() - started

    assert standard_run(idle_after_calls()) < 0.1, "a loop with nothing to do sleeps"


def test_timeouts_fire_on_time_on_every_loop(fresh):
    # On a standard loop the calls' timers ring no descriptor: the loop's ticks run them.
    slow = timed_client(fresh, 300)
    slow.get_store_list(REQUEST)  # token cached
    for run in (standard_run, mendian.run):
        add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 3000})

        async def timed():
            started = time.monotonic()
            with pytest.raises(mendian.MendianError.Timeout):
                await slow.get_store_list_async(REQUEST)
            return time.monotonic() - started

        took = run(timed())
        assert 0.29 <= took < 0.8, (run.__name__, took)


class CountingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The platform's selector, counting the loop's passes through it."""

    def __init__(self):
        super().__init__()
        self.passes = 0

    def select(self, timeout=None):
        self.passes += 1
        return super().select(timeout)


def test_a_call_resumes_its_task_in_the_loop_pass_that_finishes_it(fresh):
    # The call's future runs its done callbacks where the loop's own callback resolves it, so
    # one call one at a time costs one pass through the selector, not two (an asyncio future
    # hands them to `call_soon`, for the next pass).
    wx = wxa_client(fresh)
    wx.get_store_list(REQUEST)
    selector = CountingSelector()
    loop = asyncio.SelectorEventLoop(selector)

    async def one_at_a_time(n):
        for _ in range(n):
            assert (await wx.get_store_list_async(REQUEST)).total_count == 0

    try:
        loop.run_until_complete(one_at_a_time(5))
        before = selector.passes
        loop.run_until_complete(one_at_a_time(40))
        passes = selector.passes - before
    finally:
        loop.close()
    assert passes < 60, f"{passes} passes through the selector for 40 calls"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_an_answer_that_arrives_during_its_calls_first_turn_does_not_wait_for_the_tick():
    # With the emulator on the same CPU, sending the request lets the emulator preempt this
    # thread and answer before the call's first turn takes its last look at the sockets, which
    # then takes the answer: the descriptor the loop watches stays quiet, and without another
    # turn right away the answer waited for the loop's tick (5 ms) on most calls.
    from mendian.testing import Emulator

    emu = Emulator()
    here = os.sched_getaffinity(0)
    cpu = min(here)
    try:
        for tid in os.listdir(f"/proc/{emu._proc.pid}/task"):
            os.sched_setaffinity(int(tid), {cpu})
        os.sched_setaffinity(0, {cpu})
        wx = wxa_client(emu)
        wx.get_store_list(REQUEST)
        selector = CountingSelector()
        waits = []
        select = selector.select

        def timed_select(timeout=None):
            started = time.monotonic()
            try:
                return select(timeout)
            finally:
                waits.append(time.monotonic() - started)

        selector.select = timed_select  # type: ignore[method-assign]
        loop = asyncio.SelectorEventLoop(selector)

        async def one_at_a_time(n):
            for _ in range(n):
                await wx.get_store_list_async(REQUEST)

        try:
            loop.run_until_complete(one_at_a_time(10))
            waits.clear()
            loop.run_until_complete(one_at_a_time(100))
        finally:
            loop.close()
    finally:
        os.sched_setaffinity(0, here)
        emu.stop()
    stalls = [w for w in waits if w >= 0.004]
    assert len(stalls) <= 5, f"{len(stalls)} of 100 calls waited {sum(stalls):.3f} s for the tick"


def test_context_variables_follow_each_task_across_calls(fresh):
    # Each task resumes in its own context, also when its call's future resumes it in place.
    wx = wxa_client(fresh)
    wx.get_store_list(REQUEST)
    var: "contextvars.ContextVar[int]" = contextvars.ContextVar("var")

    async def task(i):
        var.set(i)
        seen = []
        for _ in range(5):
            await wx.get_store_list_async(REQUEST)
            seen.append(var.get())
        return seen

    async def main():
        return await asyncio.gather(*(task(i) for i in range(10)))

    for run in (standard_run, mendian.run):
        assert run(main()) == [[i] * 5 for i in range(10)], run.__name__


def test_a_call_is_a_future_asyncio_accepts(fresh):
    # What asyncio's helpers do with an awaited call: shield it, time it out (which cancels
    # it), gather it with its error.
    wx = wxa_client(fresh)
    wx.get_store_list(REQUEST)

    async def main():
        page = await asyncio.shield(wx.get_store_list_async(REQUEST))
        add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 3000})
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(wx.get_store_list_async(REQUEST), 0.2)
        timed_out = time.monotonic() - started
        bad = mendian.GetStoreListRequest(offset=0, limit=51)
        outcomes = await asyncio.gather(wx.get_store_list_async(bad), wx.get_store_list_async(REQUEST),
                                        return_exceptions=True)
        return page, timed_out, outcomes

    for run in (standard_run, mendian.run):
        page, timed_out, (error, ok) = run(main())
        assert page.total_count == 0 and timed_out < 1.5, (run.__name__, timed_out)
        assert isinstance(error, mendian.MendianError.InvalidArgument) and "limit" in str(error), error
        assert ok.total_count == 0


def test_a_standard_loop_that_moves_to_another_thread_keeps_working(fresh):
    # Its calls from the other thread go through the SDK's I/O thread.
    loop = asyncio.SelectorEventLoop()
    try:
        calls_here_there_and_here(wxa_client(fresh), loop)
    finally:
        loop.close()


def calls_here_there_and_here(wx, loop):
    """A call on `loop` from this thread, one from another thread, one from this thread again."""
    assert loop.run_until_complete(wx.get_store_list_async(REQUEST)).total_count == 0
    out = []
    thread = threading.Thread(target=lambda: out.append(loop.run_until_complete(wx.get_store_list_async(REQUEST))))
    thread.start()
    thread.join(10)
    assert len(out) == 1 and out[0].total_count == 0
    assert loop.run_until_complete(wx.get_store_list_async(REQUEST)).total_count == 0


def test_answers_and_errors_are_those_of_a_standard_loop(fresh):
    wx, top = wxa_client(fresh), top_client(fresh)
    top.worker_create(mendian.WorkerCreateRequest(worker_dto=doc_worker()))

    async def calls():
        page = await wx.get_store_list_async(REQUEST)
        updated = await top.worker_update_async(mendian.WorkerUpdateRequest(worker=doc_worker()))
        errors = []
        for bad in (mendian.GetStoreListRequest(offset=0, limit=51), mendian.GetStoreListRequest(offset="0", limit=1)):
            try:
                await wx.get_store_list_async(bad)
            except Exception as e:  # noqa: BLE001
                errors.append((type(e), str(e)))
        add_fault(fresh, "POST /wxa/get_store_list", {"type": "wxa_errcode", "errcode": 45009, "errmsg": ""})
        try:
            await wx.get_store_list_async(REQUEST)
        except mendian.MendianError.Api as e:
            errors.append((type(e), e.code))
        return page, updated, errors

    fresh.admin("DELETE", "/requests")
    ours = mendian.run(calls())
    sent_ours = [r["endpoint"] for r in fresh.admin("GET", "/requests") if r["endpoint"] in ("get_store_list", "worker_update")]
    fresh.admin("DELETE", "/requests")
    standard = standard_run(calls())
    sent_standard = [r["endpoint"] for r in fresh.admin("GET", "/requests") if r["endpoint"] in ("get_store_list", "worker_update")]
    assert ours == standard
    assert ours[2][0][0] is mendian.MendianError.InvalidArgument and "limit" in ours[2][0][1]
    assert ours[2][1][0] is TypeError and "request.offset" in ours[2][1][1]
    assert ours[2][2] == (mendian.MendianError.Api, "45009")
    assert sent_ours == sent_standard == ["get_store_list", "worker_update", "get_store_list"], "bad requests are never sent"


def test_many_calls_at_once_and_python_callbacks_on_the_loop(fresh):
    seen = []

    class Provider(BackendTokenProvider):
        async def fetch_token(self, force_refresh):
            seen.append((asyncio.get_running_loop(), threading.get_ident()))
            await asyncio.sleep(0.01)
            return await super().fetch_token(force_refresh)

    wx = wxa_client(fresh, provider=Provider(fresh))

    async def many():
        limits = [1 + i % 50 for i in range(300)]
        answers = await asyncio.gather(*(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=n)) for n in limits))
        return asyncio.get_running_loop(), threading.get_ident(), answers

    running, thread, answers = mendian.run(many())
    assert len(answers) == 300 and all(a.total_count == 0 for a in answers)
    assert seen == [(running, thread)], "the async token provider ran once, on the loop that awaits the calls"


def test_timers_streams_and_subprocesses_keep_working_during_calls(fresh):
    wx = wxa_client(fresh)
    wx.get_store_list(REQUEST)
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 400})

    async def echo(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    async def main():
        loop = asyncio.get_running_loop()
        started = loop.time()
        fired = []
        loop.call_later(0.1, lambda: fired.append(loop.time() - started))
        slow = asyncio.ensure_future(wx.get_store_list_async(REQUEST))
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping\n")
        line = await reader.readline()
        writer.close()
        server.close()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "print('child')", stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        await asyncio.sleep(0.15)
        timer_done_before_call = not slow.done()
        page = await slow
        return fired, line, out, timer_done_before_call, page, loop.time() - started

    fired, line, out, timer_first, page, took = mendian.run(main())
    assert line == b"ping\n" and out.strip() == b"child"
    assert len(fired) == 1 and 0.09 <= fired[0] < 0.35, fired
    assert timer_first and page.total_count == 0 and 0.35 < took < 3


def test_a_cancelled_call_is_dropped_at_once(fresh):
    wx = wxa_client(fresh)
    wx.get_store_list(REQUEST)
    add_fault(fresh, "POST /wxa/get_store_list", {"type": "delay", "millis": 5000})

    async def cancelled():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(wx.get_store_list_async(REQUEST), 0.3)
        return await wx.get_store_list_async(REQUEST)

    started = time.monotonic()
    page = mendian.run(cancelled())
    assert page.total_count == 0 and time.monotonic() - started < 2, "cancelling does not wait for the server"


def test_a_signal_handler_runs_while_the_loop_waits():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")

    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, handler)
    loop = mendian.new_event_loop()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        started = time.monotonic()
        with pytest.raises(Interrupted):
            loop.run_until_complete(asyncio.sleep(10))
        assert time.monotonic() - started < 1, "a Python signal handler runs within the signal check interval"

        # asyncio's own handlers (add_signal_handler) as well.
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, got.set_result, "usr1")
        loop.call_later(0.05, os.kill, os.getpid(), signal.SIGUSR1)
        assert loop.run_until_complete(asyncio.wait_for(got, 5)) == "usr1"
        loop.remove_signal_handler(signal.SIGUSR1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        loop.close()


def test_a_loop_in_another_thread(fresh):
    wx = wxa_client(fresh)
    loop = mendian.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="their-loop")
    thread.start()
    try:
        pages = [asyncio.run_coroutine_threadsafe(wx.get_store_list_async(REQUEST), loop).result(10) for _ in range(3)]
        assert all(p.total_count == 0 for p in pages)
        # The loop's own thread wakes for work handed over from here.
        assert asyncio.run_coroutine_threadsafe(asyncio.sleep(0, "woke"), loop).result(5) == "woke"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert not thread.is_alive()


def test_a_loop_moves_between_threads_and_closes_cleanly(fresh):
    loop = mendian.new_event_loop()
    calls_here_there_and_here(wxa_client(fresh), loop)
    loop.close()
    loop.close()  # twice is fine, as for any loop
    never = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="closed"):
        loop.run_until_complete(never)
    never.close()


def test_run_returns_the_result_and_cancels_what_is_left():
    left = []

    async def main():
        async def forever():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                left.append("cancelled")
                raise

        asyncio.ensure_future(forever())
        await asyncio.sleep(0)
        return 42

    assert mendian.run(main()) == 42 and left == ["cancelled"]
    # The same without asyncio.Runner (Python 3.9 and 3.10), tested on any version.
    from mendian._loop import _run_without_runner

    left.clear()
    assert _run_without_runner(main(), None) == 42 and left == ["cancelled"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_makes_its_own_loop(fresh):
    wx = wxa_client(fresh)
    loop = mendian.new_event_loop()
    assert loop.run_until_complete(wx.get_store_list_async(REQUEST)).total_count == 0
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, never return into pytest
        code = 1
        try:
            try:
                loop.run_until_complete(asyncio.sleep(0))
                message = "the inherited loop ran"
            except RuntimeError as e:
                message = str(e)
            page = mendian.run(wx.get_store_list_async(REQUEST))
            os.write(write, f"{message}|{page.total_count}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as r:
        report = r.read()
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, report
    message, total = report.split("|")
    assert "before the process forked" in message and "new_event_loop" in message, message
    assert total == "0"
    assert loop.run_until_complete(wx.get_store_list_async(REQUEST)).total_count == 0, "the parent's loop goes on"
    loop.close()


def test_without_the_accelerator_the_loop_says_why():
    import subprocess

    code = "import mendian\ntry:\n    mendian.new_event_loop()\nexcept RuntimeError as e:\n    print(e)\n"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "MENDIAN_PYTHON_ACCEL": "0"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "accelerator" in out.stdout and "MENDIAN_PYTHON_ACCEL=0" in out.stdout, out.stdout
