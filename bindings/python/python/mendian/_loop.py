"""``mendian.new_event_loop()`` and ``mendian.run()``: an asyncio event loop whose waits also run
mendian's calls.

On a standard loop, an ``await client.get_store_list_async(request)`` runs on the loop's own
thread on Linux, the loop watching the thread's Rust runtime from its own selector and calling
into it for each turn (elsewhere, on the SDK's I/O thread, back through a wake-up socket). On
this loop the selector's ``select()`` waits in that runtime itself
(``mendian._accel.Reactor``), where the call's sockets, the loop's own descriptors (through the
platform's epoll or kqueue, watched as one more descriptor) and the timeout are all watched at
once: no turn to ask for, and a finished call's task runs in the same loop iteration.
Everything else is the standard ``asyncio.SelectorEventLoop``: streams, subprocesses, signal
handlers, executors.
"""

import asyncio
import os
import select
import selectors
import sys
from typing import Any, Coroutine, Mapping, Optional, TypeVar

_T = TypeVar("_T")


class _Selector(selectors.BaseSelector):
    """The platform's selector (epoll, kqueue) on a polling instance owned by the Rust side,
    whose ``select`` waits there."""

    def __init__(self) -> None:
        accel = getattr(sys.modules["mendian"], "_accel", None)
        if accel is None:
            raise RuntimeError(
                "mendian.new_event_loop() needs the wheel's accelerator, which is not loaded "
                "(MENDIAN_PYTHON_ACCEL=0, or a library built without it)"
            )
        if not hasattr(accel, "Reactor"):
            raise NotImplementedError(f"mendian.new_event_loop() needs epoll or kqueue (Linux, macOS), not available on {sys.platform}")
        reactor = accel.Reactor()
        inner = selectors.DefaultSelector()
        try:
            shared = _polling_object(inner, reactor.fileno())
        except BaseException:
            inner.close()
            reactor.close()
            raise
        # The loop's descriptors go on the Rust side's instance (a duplicate of its descriptor
        # shares the registrations): that instance is what the wait watches.
        inner._selector.close()  # type: ignore[attr-defined]
        inner._selector = shared  # type: ignore[attr-defined]
        self._inner = inner
        self._mendian_reactor = reactor

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: Optional[float] = None) -> "list[tuple[selectors.SelectorKey, int]]":
        return self._mendian_reactor.select(timeout, self._inner.select)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._mendian_reactor.close()
        self._inner.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()


def _polling_object(inner: selectors.BaseSelector, fd: int) -> Any:
    """The platform selector's polling object, on a duplicate of ``fd``."""
    epoll = getattr(selectors, "EpollSelector", None)
    kqueue = getattr(selectors, "KqueueSelector", None)
    if epoll is not None and isinstance(inner, epoll):
        return select.epoll.fromfd(os.dup(fd))
    if kqueue is not None and isinstance(inner, kqueue):
        return select.kqueue.fromfd(os.dup(fd))  # type: ignore[attr-defined]
    raise NotImplementedError(f"mendian.new_event_loop() needs epoll or kqueue; this platform's selector is {type(inner).__name__}")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new asyncio event loop whose waits run mendian's asyncio calls on its own thread, the
    cheapest way to await them (``cargo xtask bench --python`` measures it next to a standard
    loop).
    Use it as any loop (``asyncio.Runner(loop_factory=mendian.new_event_loop)``, or
    ``mendian.run(main())``); everything other than mendian's calls behaves as on
    ``asyncio.SelectorEventLoop``. Linux and macOS (epoll, kqueue)."""
    return asyncio.SelectorEventLoop(_Selector())


def run(main: "Coroutine[Any, Any, _T]", *, debug: Optional[bool] = None) -> _T:
    """``asyncio.run(main)`` on a loop of :func:`new_event_loop`."""
    if sys.version_info >= (3, 11):
        with asyncio.Runner(debug=debug, loop_factory=new_event_loop) as runner:
            return runner.run(main)
    return _run_without_runner(main, debug)


def _run_without_runner(main: "Coroutine[Any, Any, _T]", debug: Optional[bool]) -> _T:
    """What ``asyncio.run`` does on Python 3.9 and 3.10, which have no ``asyncio.Runner``."""
    loop = new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        if debug is not None:
            loop.set_debug(debug)
        return loop.run_until_complete(main)
    finally:
        try:
            _cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """What ``asyncio.run`` does with the tasks still pending when ``main`` returns."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if not pending:
        return
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    for task in pending:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler({"message": "unhandled exception during mendian.run() shutdown", "exception": task.exception(), "task": task})
