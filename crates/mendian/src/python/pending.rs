//! The awaitable an accelerated asyncio-form call returns: a future that asyncio's `Task`
//! accepts as it accepts its own (the future protocol: `_asyncio_future_blocking`,
//! `get_loop`, `add_done_callback`, `cancel`, `result`, …), resolved by the accelerator on the
//! loop's thread.
//!
//! Why not `loop.create_future()`: an asyncio future always hands its done callbacks to
//! `loop.call_soon`, so the task that awaits a call resumes only in the loop's next iteration,
//! one more pass through the loop's selector for every call. When this future is resolved by
//! a callback the loop itself is running (the accelerator's reader, tick or wake-up callback,
//! never inside a task's step) it runs its done callbacks right there, as an eager task
//! does, and the awaiting task resumes in the same iteration. Anywhere else (resolved inside
//! a task's step, or by `mendian.new_event_loop()`'s selector, or cancelled) the callbacks go
//! through `call_soon`, as an asyncio future's do.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use pyo3::{PyTraverseError, PyVisit};

/// `asyncio.CancelledError` and `asyncio.InvalidStateError`.
static CANCELLED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static INVALID_STATE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn asyncio_error<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || py.import("asyncio").and_then(|m| m.getattr(name)).map(Bound::unbind))
        .map(|c| c.bind(py).clone())
}

/// Where a call's outcome stands.
enum Outcome {
    Waiting,
    Value(Py<PyAny>),
    Error(PyErr),
    Cancelled(Option<Py<PyAny>>),
}

struct State {
    outcome: Outcome,
    /// Done callbacks with their `contextvars.Context` (`None`: the current one).
    callbacks: Vec<(Py<PyAny>, Option<Py<PyAny>>)>,
    /// Whether the awaiting coroutine has been handed this future once (`__next__`).
    yielded: bool,
}

/// A running accelerated call, awaited by the coroutine of the asyncio-form method.
/// `cancel()` stops the Rust call: nothing more is sent, an exchange in flight is dropped with
/// its connection.
#[pyclass(module = "mendian._accel", frozen)]
pub struct Pending {
    event_loop: Py<PyAny>,
    state: Mutex<State>,
    blocking: AtomicBool,
    abort: OnceLock<tokio::task::AbortHandle>,
    /// Whether the call runs on the loop's own thread (then a cancel drops it right away).
    on_loop: AtomicBool,
}

impl Pending {
    /// A waiting call of `event_loop`.
    pub(crate) fn new(event_loop: Py<PyAny>) -> Self {
        Self {
            event_loop,
            state: Mutex::new(State { outcome: Outcome::Waiting, callbacks: Vec::new(), yielded: false }),
            blocking: AtomicBool::new(false),
            abort: OnceLock::new(),
            on_loop: AtomicBool::new(false),
        }
    }

    /// Ties the running Rust call to this future, for `cancel()`.
    pub(crate) fn started(&self, abort: tokio::task::AbortHandle, on_loop: bool) {
        self.on_loop.store(on_loop, Ordering::Relaxed);
        let _ = self.abort.set(abort);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the outcome is set (or the call cancelled).
    pub(crate) fn is_done(&self) -> bool {
        !matches!(self.lock().outcome, Outcome::Waiting)
    }

    /// Sets the call's outcome (unless it is done already: cancelled) and runs its done
    /// callbacks: right here when `eager` (the caller is a callback the loop runs, not a task's
    /// step), else through `loop.call_soon`. Every callback runs even if one fails; the first
    /// failure is returned (the loop reports it).
    pub(crate) fn finish(slf: &Bound<'_, Self>, outcome: PyResult<Bound<'_, PyAny>>, eager: bool) -> PyResult<()> {
        let callbacks = {
            let mut state = slf.get().lock();
            if !matches!(state.outcome, Outcome::Waiting) {
                return Ok(());
            }
            state.outcome = match outcome {
                Ok(v) => Outcome::Value(v.unbind()),
                Err(e) => Outcome::Error(e),
            };
            std::mem::take(&mut state.callbacks)
        };
        Self::run_callbacks(slf, callbacks, eager)
    }

    fn run_callbacks(
        slf: &Bound<'_, Self>,
        callbacks: Vec<(Py<PyAny>, Option<Py<PyAny>>)>,
        eager: bool,
    ) -> PyResult<()> {
        let py = slf.py();
        let mut first_error = None;
        for (callback, context) in callbacks {
            let ran = if eager {
                match context {
                    Some(ctx) => ctx.bind(py).call_method1(pyo3::intern!(py, "run"), (callback, slf)),
                    None => callback.bind(py).call1((slf,)),
                }
            } else {
                schedule(
                    slf.get().event_loop.bind(py),
                    callback.bind(py),
                    slf.as_any(),
                    context.as_ref().map(|c| c.bind(py)),
                )
            };
            if let Err(e) = ran {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn cancelled_error(py: Python<'_>, msg: Option<&Py<PyAny>>) -> PyResult<PyErr> {
        let class = asyncio_error(py, &CANCELLED, "CancelledError")?;
        let exc = match msg {
            Some(m) => class.call1((m.clone_ref(py),))?,
            None => class.call0()?,
        };
        Ok(PyErr::from_value(exc))
    }
}

/// `event_loop.call_soon(callback, arg, context=context)`.
fn schedule<'py>(
    event_loop: &Bound<'py, PyAny>,
    callback: &Bound<'py, PyAny>,
    arg: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = event_loop.py();
    let kwargs = PyDict::new(py);
    if let Some(ctx) = context {
        kwargs.set_item(pyo3::intern!(py, "context"), ctx)?;
    }
    event_loop.call_method(pyo3::intern!(py, "call_soon"), (callback, arg), Some(&kwargs))
}

#[pymethods]
impl Pending {
    /// Part of asyncio's future protocol: set while the awaiting task is to wait for it.
    #[getter(_asyncio_future_blocking)]
    fn get_blocking(&self) -> bool {
        self.blocking.load(Ordering::Relaxed)
    }

    #[setter(_asyncio_future_blocking)]
    fn set_blocking(&self, value: bool) {
        self.blocking.store(value, Ordering::Relaxed);
    }

    /// The event loop the call belongs to.
    fn get_loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.event_loop.clone_ref(py)
    }

    /// Whether the call finished (or was cancelled).
    fn done(&self) -> bool {
        self.is_done()
    }

    /// Whether the call was cancelled.
    fn cancelled(&self) -> bool {
        matches!(self.lock().outcome, Outcome::Cancelled(_))
    }

    /// The call's answer; raises its error, `CancelledError` if cancelled, or
    /// `InvalidStateError` while it runs.
    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.lock().outcome {
            Outcome::Value(v) => Ok(v.clone_ref(py)),
            Outcome::Error(e) => Err(e.clone_ref(py)),
            Outcome::Cancelled(msg) => Err(Self::cancelled_error(py, msg.as_ref())?),
            Outcome::Waiting => Err(PyErr::from_value(
                asyncio_error(py, &INVALID_STATE, "InvalidStateError")?.call1(("Result is not ready.",))?,
            )),
        }
    }

    /// The call's error (`None` after an answer); raises as `result()` does when cancelled or
    /// still running.
    fn exception(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match &self.lock().outcome {
            Outcome::Value(_) => Ok(None),
            Outcome::Error(e) => Ok(Some(e.value(py).clone().into_any().unbind())),
            Outcome::Cancelled(msg) => Err(Self::cancelled_error(py, msg.as_ref())?),
            Outcome::Waiting => Err(PyErr::from_value(
                asyncio_error(py, &INVALID_STATE, "InvalidStateError")?.call1(("Exception is not set.",))?,
            )),
        }
    }

    /// Runs `fn(self)` once the call is done (through `loop.call_soon`, in `context`).
    #[pyo3(signature = (r#fn, *, context = None))]
    fn add_done_callback(slf: &Bound<'_, Self>, r#fn: Py<PyAny>, context: Option<Py<PyAny>>) -> PyResult<()> {
        let py = slf.py();
        {
            let mut state = slf.get().lock();
            if matches!(state.outcome, Outcome::Waiting) {
                state.callbacks.push((r#fn, context));
                return Ok(());
            }
        }
        schedule(slf.get().event_loop.bind(py), r#fn.bind(py), slf.as_any(), context.as_ref().map(|c| c.bind(py)))?;
        Ok(())
    }

    /// Removes every registration of `fn`; returns how many there were.
    #[pyo3(signature = (r#fn))]
    fn remove_done_callback(&self, py: Python<'_>, r#fn: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut state = self.lock();
        let before = state.callbacks.len();
        let mut kept = Vec::with_capacity(before);
        for (cb, ctx) in std::mem::take(&mut state.callbacks) {
            if cb.bind(py).eq(r#fn)? {
                continue;
            }
            kept.push((cb, ctx));
        }
        state.callbacks = kept;
        Ok(before - state.callbacks.len())
    }

    /// Stops the call (nothing more is sent; an exchange in flight is dropped) and marks it
    /// cancelled; `False` if it was done already. A call on the loop's own thread is dropped
    /// right here, not at the loop's next wait, which may never come (a loop closed after
    /// cancelling its tasks).
    #[pyo3(signature = (msg = None))]
    fn cancel(slf: &Bound<'_, Self>, msg: Option<Py<PyAny>>) -> PyResult<bool> {
        let py = slf.py();
        let this = slf.get();
        let callbacks = {
            let mut state = this.lock();
            if !matches!(state.outcome, Outcome::Waiting) {
                return Ok(false);
            }
            state.outcome = Outcome::Cancelled(msg);
            std::mem::take(&mut state.callbacks)
        };
        if let Some(abort) = this.abort.get() {
            abort.abort();
            if this.on_loop.load(Ordering::Relaxed) {
                // Outside a call of this thread only (a cancel from inside one has nothing to add).
                let _ = py.detach(crate::runtime::blocking::run_ready);
            }
        }
        Self::run_callbacks(slf, callbacks, false)?;
        Ok(true)
    }

    fn __await__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// The await protocol, as asyncio's future does it: hands itself to the task once (to wait
    /// for it), then returns the answer or raises the error.
    fn __next__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let this = slf.get();
        let mut state = this.lock();
        match &state.outcome {
            Outcome::Waiting if !state.yielded => {
                state.yielded = true;
                this.blocking.store(true, Ordering::Relaxed);
                Ok(slf.clone())
            }
            Outcome::Waiting => Err(PyRuntimeError::new_err("await wasn't used with future")),
            Outcome::Value(v) => Err(PyStopIteration::new_err((v.clone_ref(py),))),
            Outcome::Error(e) => Err(e.clone_ref(py)),
            Outcome::Cancelled(msg) => Err(Self::cancelled_error(py, msg.as_ref())?),
        }
    }

    fn __repr__(&self) -> String {
        let state = match self.lock().outcome {
            Outcome::Waiting => "pending",
            Outcome::Value(_) | Outcome::Error(_) => "finished",
            Outcome::Cancelled(_) => "cancelled",
        };
        format!("<mendian call {state}>")
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.event_loop)?;
        if let Ok(state) = self.state.try_lock() {
            for (cb, ctx) in &state.callbacks {
                visit.call(cb)?;
                if let Some(c) = ctx {
                    visit.call(c)?;
                }
            }
            if let Outcome::Value(v) = &state.outcome {
                visit.call(v)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        if let Ok(mut state) = self.state.try_lock() {
            state.callbacks.clear();
        }
    }
}
