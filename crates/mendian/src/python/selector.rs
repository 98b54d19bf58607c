//! The waiting half of `mendian.new_event_loop()`: an asyncio selector whose `select()` waits
//! in the Rust runtime of the loop's own thread, so the loop's accelerated calls run right
//! there, between its events, instead of on the I/O thread and back (two thread hand-offs a
//! call).
//!
//! The package's selector keeps the platform's own (epoll, kqueue) for the loop's file
//! descriptors, but on an instance this module owns ([`Reactor::fileno`], a `mio::Poll`): the
//! package's selector uses a duplicate of its descriptor. That instance becomes readable
//! whenever one of the loop's descriptors is ready, so the runtime watches it like a socket
//! (`AsyncFd`, which owns it: registered as long as it is open), next to the calls' own
//! sockets and timers. One wait then ends at whichever comes first: a descriptor of the loop,
//! a finished call (the loop's queue, [`Shared::notify`]), or the timeout. The finished calls
//! are resolved right after, with the GIL, and the loop's callbacks run in the same iteration.
//!
//! A wait on the main thread wakes every 50 ms to run Python's signal handlers
//! (`KeyboardInterrupt`), as the platform's `select` would on `EINTR`.

use std::future::Future;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::call::error;
use super::waker::{resolve_all, Shared, Waker};
use crate::error::MendianError;
use crate::runtime::blocking;
use crate::runtime::shared::Pid;

/// How often a wait on the main thread returns to run Python's signal handlers.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// The longest wait asked for (asyncio never asks for more than a day).
const LONGEST_WAIT: Duration = Duration::from_secs(86_400);

/// The Rust side of one loop's selector: its queue of finished calls, and the polling instance
/// the loop's descriptors are registered with, watched from the thread that runs the loop.
#[pyclass(module = "mendian._accel", frozen)]
pub struct Reactor {
    waker: Py<Waker>,
    fd: RawFd,
    state: Mutex<State>,
    /// Whether the last `select` returned descriptors (they may still be ready).
    look_again: AtomicBool,
}

/// Where the polling instance is.
enum State {
    /// Not watched yet (before the loop's first `select`).
    Idle(mio::Poll),
    /// Watched by one thread's runtime.
    Watched(Arc<Watch>),
    /// Between two threads, or closed.
    Gone,
}

/// The polling instance, registered with one thread's runtime.
struct Watch {
    fd: AsyncFd<mio::Poll>,
    thread: ThreadId,
    pid: Pid,
    main_thread: bool,
}

/// Why a wait ended.
enum Woke {
    /// A descriptor of the loop may be ready.
    Descriptor,
    /// A call finished, or the time is up.
    Other,
    /// Time to run the signal handlers; the wait goes on after, if they raise nothing.
    CheckSignals,
}

#[pymethods]
impl Reactor {
    /// A new polling instance and queue.
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        use std::os::fd::AsRawFd;
        let poll = mio::Poll::new()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot create the event loop's polling instance: {e}")))?;
        Ok(Self {
            waker: Py::new(py, Waker(Arc::new(Shared::for_selector())))?,
            fd: poll.as_raw_fd(),
            state: Mutex::new(State::Idle(poll)),
            look_again: AtomicBool::new(true),
        })
    }

    /// The polling instance's descriptor (epoll on Linux, kqueue on macOS): the package's
    /// selector registers the loop's descriptors on a duplicate of it.
    fn fileno(&self) -> RawFd {
        self.fd
    }

    /// The loop's queue of finished calls: the package hands it to every asyncio-form call
    /// made on the loop, which then runs on the loop's thread.
    fn waker(&self, py: Python<'_>) -> Py<Waker> {
        self.waker.clone_ref(py)
    }

    /// What `selector.select(timeout)` returns: `poll(0)` (the platform selector's `select`,
    /// not waiting) once something is ready or `timeout` seconds have passed (`None`: no
    /// limit); meanwhile the loop thread's calls run, and those that finish are resolved.
    #[pyo3(signature = (timeout, poll))]
    fn select<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
        poll: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let watch = self.watch(py)?;
        let shared = self.waker.get().0.clone();
        let notify = shared.notify().expect("a selector's queue has no socket");
        // Look at the loop's descriptors only when one may be ready: some were at the last
        // look (level-triggered: what the loop left unread is still there), or one became
        // ready since (the instance's wake-up, forgotten before the look, so that one
        // becoming ready after it wakes the wait below). Otherwise nothing can be.
        let woken = match watch.fd.poll_read_ready(&mut Context::from_waker(std::task::Waker::noop())) {
            Poll::Ready(Ok(mut guard)) => {
                guard.clear_ready();
                true
            }
            _ => false,
        };
        let mut ready = None;
        if self.look_again.swap(false, Ordering::Relaxed) || woken {
            ready = Some(poll.call1((0,))?).filter(|r| r.is_truthy().unwrap_or(true));
        }
        let limit = match timeout {
            None => Some(LONGEST_WAIT),
            Some(t) if t > 0.0 => Some(Duration::try_from_secs_f64(t).unwrap_or(LONGEST_WAIT).min(LONGEST_WAIT)),
            // Zero, negative or NaN: no wait.
            Some(_) => None,
        };
        match limit {
            Some(limit) if ready.is_none() => {
                let deadline = tokio::time::Instant::now() + limit;
                let woke = loop {
                    let until = if watch.main_thread {
                        deadline.min(tokio::time::Instant::now() + SIGNAL_CHECK)
                    } else {
                        deadline
                    };
                    let woke = py
                        .detach(|| blocking::run(async { Ok(wait(&watch.fd, notify, until, deadline).await) }))
                        .map_err(|e| error(py, e))?;
                    match woke {
                        Woke::CheckSignals => py.check_signals()?,
                        other => break other,
                    }
                };
                resolve_all(py, shared.take(), true)?;
                if let Woke::Descriptor = woke {
                    ready = Some(poll.call1((0,))?);
                }
            }
            _ => {
                // Something is ready already: the calls still get their turn, without waiting.
                py.detach(blocking::run_ready).map_err(|e| error(py, e))?;
                resolve_all(py, shared.take(), true)?;
            }
        }
        let ready = match ready {
            Some(r) => r,
            None => PyList::empty(py).into_any(),
        };
        self.look_again.store(ready.is_truthy()?, Ordering::Relaxed);
        Ok(ready)
    }

    /// Stops watching the polling instance and closes this side's descriptor.
    fn close(&self) {
        let old = std::mem::replace(&mut *self.state.lock().unwrap_or_else(PoisonError::into_inner), State::Gone);
        if let State::Watched(watch) = old {
            forget_if_inherited(watch);
        }
    }
}

impl Reactor {
    /// The polling instance's registration with this thread's runtime: made on the loop's first
    /// `select`, and again when the loop runs on another thread.
    fn watch(&self, py: Python<'_>) -> PyResult<Arc<Watch>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let here = std::thread::current().id();
        let poll = match std::mem::replace(&mut *state, State::Gone) {
            State::Idle(poll) => poll,
            State::Watched(w) if w.thread == here && w.pid.is_current() => {
                *state = State::Watched(w.clone());
                return Ok(w);
            }
            State::Watched(w) if !w.pid.is_current() => {
                forget_if_inherited(w);
                return Err(PyRuntimeError::new_err(
                    "this event loop was made before the process forked: make a new one in the child (mendian.new_event_loop())",
                ));
            }
            State::Watched(w) => match Arc::try_unwrap(w) {
                // Moved to this thread: taken from the other thread's runtime.
                Ok(w) => w.fd.into_inner(),
                Err(w) => {
                    *state = State::Watched(w);
                    return Err(PyRuntimeError::new_err("this event loop is waiting in another thread"));
                }
            },
            State::Gone => return Err(PyRuntimeError::new_err("the selector is closed")),
        };
        #[allow(deprecated)] // `with_interest` is deprecated for borrowed descriptors; this one owns its own.
        let registered = blocking::run(async move {
            AsyncFd::with_interest(poll, Interest::READABLE).map_err(|e| MendianError::Network {
                reason: format!("cannot watch the event loop's polling instance: {e}"),
            })
        })
        .map_err(|e| error(py, e))?;
        let threading = py.import("threading")?;
        let main_thread =
            threading.call_method0("main_thread")?.getattr("ident")?.eq(threading.call_method0("get_ident")?)?;
        let watch = Arc::new(Watch { fd: registered, thread: here, pid: Pid::current(), main_thread });
        *state = State::Watched(watch.clone());
        Ok(watch)
    }
}

/// Drops a registration, except one made by the parent of a fork: dropping that would remove
/// the descriptor from the epoll instance the parent still uses (see `runtime::shared`).
fn forget_if_inherited(watch: Arc<Watch>) {
    if !watch.pid.is_current() {
        std::mem::forget(watch);
    }
}

/// Runs the thread's calls until the loop has something to do: a descriptor is ready, a call
/// finished, or `deadline` passed; or until `until` (before the deadline: a signal check).
async fn wait(
    fd: &AsyncFd<mio::Poll>,
    notify: &tokio::sync::Notify,
    until: tokio::time::Instant,
    deadline: tokio::time::Instant,
) -> Woke {
    let finished = notify.notified();
    let sleep = tokio::time::sleep_until(until);
    let mut finished = std::pin::pin!(finished);
    let mut sleep = std::pin::pin!(sleep);
    std::future::poll_fn(|cx| {
        if fd.poll_read_ready(cx).is_ready() {
            return Poll::Ready(Woke::Descriptor);
        }
        if finished.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Woke::Other);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(if until >= deadline { Woke::Other } else { Woke::CheckSignals });
        }
        Poll::Pending
    })
    .await
}
