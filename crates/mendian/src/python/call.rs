//! How an accelerated Python call runs: the client object is taken from the UniFFI-generated
//! Python object, the blocking form runs the core's future on the caller's thread with the
//! GIL released (`runtime::blocking`), and the asyncio form runs it on the accelerator's own
//! I/O thread, then hands the outcome to its event loop (`waker`: queued, the answer lifted
//! on the loop's thread; through `loop.call_soon_threadsafe` for a loop that cannot watch a
//! socket). On a loop of `mendian.new_event_loop()` the asyncio form runs on the loop's own
//! thread instead, driven by the loop's selector (`selector`), and so it does on a standard
//! loop on Linux, driven by the loop's turns and ticks (`waker`).
//! Errors become the very `MendianError` objects UniFFI raises.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;

use super::convert::{type_name, Class, ToPy};
use super::pending::Pending;
use super::waker::{start_on_loop_thread, Done, Finished, Lift, Waker};
use crate::error::MendianError;
use crate::runtime::shared::{per_process, Pid};

/// The Python function that turns a `MendianError` written by UniFFI's own converter into the
/// exception object (set by `install`).
pub(crate) static LIFT_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A client object of the core, held by its Python object (attribute `_mendian_client`) so
/// that later calls reach it without going through UniFFI.
#[pyclass(module = "mendian._accel", frozen)]
pub struct Held(Holder);

enum Holder {
    Wxa(Arc<crate::wxa::WxaClient>),
    Top(Arc<crate::top::TopClient>),
    Wechatpay(Arc<crate::wechatpay::WechatpayClient>),
}

/// The client types the accelerator calls.
pub trait Client: Sized + Send + Sync + 'static {
    /// `client`, to keep on its Python object.
    fn hold(client: Arc<Self>) -> Held;
    /// The client kept in `h`, if it is one of this type.
    fn held(h: &Held) -> Option<Arc<Self>>;
}

macro_rules! client {
    ($t:ty, $v:ident) => {
        impl Client for $t {
            fn hold(client: Arc<Self>) -> Held {
                Held(Holder::$v(client))
            }
            fn held(h: &Held) -> Option<Arc<Self>> {
                match &h.0 {
                    Holder::$v(c) => Some(c.clone()),
                    _ => None,
                }
            }
        }
    };
}

client!(crate::wxa::WxaClient, Wxa);
client!(crate::top::TopClient, Top);
client!(crate::wechatpay::WechatpayClient, Wechatpay);

/// The Rust object behind a UniFFI-generated Python object of class `class`. The first call
/// takes a handle from UniFFI (`_uniffi_clone_handle`, a strong reference of its own) and
/// keeps it on the Python object, so it lives exactly as long as that object.
pub fn client<T: Client>(obj: &Bound<'_, PyAny>, class: &Class) -> PyResult<Arc<T>>
where
    Arc<T>: uniffi::Lift<crate::UniFfiTag, FfiType = uniffi::Handle>,
{
    let py = obj.py();
    let key = pyo3::intern!(py, "_mendian_client");
    if let Ok(held) = obj.getattr(key) {
        if let Some(c) = held.cast::<Held>().ok().and_then(|h| T::held(h.get())) {
            return Ok(c);
        }
    }
    if !class.holds(obj)? {
        return Err(PyTypeError::new_err(format!("expected {}, not {}", class.path(), type_name(obj))));
    }
    let raw: u64 = obj.call_method0(pyo3::intern!(py, "_uniffi_clone_handle"))?.extract()?;
    let client = <Arc<T> as uniffi::Lift<crate::UniFfiTag>>::try_lift(uniffi::Handle::from_raw_unchecked(raw))
        .map_err(|e| PyTypeError::new_err(format!("{}: {e}", class.path())))?;
    obj.setattr(key, Bound::new(py, T::hold(client.clone()))?)?;
    Ok(client)
}

/// `e` as the exception UniFFI raises for it (`MendianError.InvalidArgument`, …).
pub fn error(py: Python<'_>, e: MendianError) -> PyErr {
    let mut buf = Vec::new();
    <MendianError as uniffi::Lower<crate::UniFfiTag>>::write(e, &mut buf);
    let lifted = LIFT_ERROR
        .get(py)
        .ok_or_else(|| PyTypeError::new_err("the mendian accelerator is not installed"))
        .and_then(|f| f.bind(py).call1((PyBytes::new(py, &buf),)));
    match lifted {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// Runs a call to completion on the calling thread, the GIL released while it runs.
pub fn blocking<T: ToPy + Send>(py: Python<'_>, call: impl FnOnce() -> Result<T, MendianError> + Send) -> PyResult<Py<PyAny>> {
    match py.detach(call) {
        Ok(v) => v.to_py(py).map(Bound::unbind),
        Err(e) => Err(error(py, e)),
    }
}

/// Starts `call` on the accelerator's I/O thread, or on this thread when `waker` belongs to a
/// loop of `mendian.new_event_loop()` (or to a standard loop on Linux); returns the future
/// its outcome resolves (unless it is cancelled first): through `waker`, the loop's queue,
/// or, for a loop without one, through `call_soon_threadsafe`.
pub fn start<T, F>(
    py: Python<'_>,
    event_loop: Bound<'_, PyAny>,
    waker: Option<Bound<'_, Waker>>,
    call: F,
) -> PyResult<Py<Pending>>
where
    T: ToPy + Send + 'static,
    F: Future<Output = Result<T, MendianError>> + Send + 'static,
{
    let shared = waker.as_ref().map(|w| w.get().0.clone());
    let on_loop = shared.as_ref().is_some_and(|w| w.runs_on_loop());
    let event_loop_here = event_loop.clone();
    let event_loop = event_loop.unbind();
    let pending = Py::new(py, Pending::new(event_loop.clone_ref(py)))?;
    let future = pending.clone_ref(py);
    let inner = OnLoop { event_loop: Arc::new(event_loop.clone_ref(py)), call: Box::pin(call) };
    let task = async move {
        let outcome = inner.await;
        let outcome = lift_later(outcome);
        match shared {
            Some(waker) => waker.push(Done { future, outcome }),
            None => Python::attach(|py| {
                // A closed loop has no one waiting: nothing to resolve.
                if let Ok(finished) = Bound::new(py, Finished::new(Done { future, outcome })) {
                    let _ = event_loop.bind(py).call_method1(pyo3::intern!(py, "call_soon_threadsafe"), (finished,));
                }
            }),
        }
    };
    // On the loop's own thread (under `mendian.new_event_loop()`, driven by its selector; on a
    // standard loop on Linux, by its turns and ticks): no hand-off to another thread and back.
    let abort = match waker.filter(|_| on_loop) {
        Some(waker) if waker.get().0.is_standard() => start_on_loop_thread(&waker, &event_loop_here, task)?,
        Some(_) => crate::runtime::blocking::spawn_here(task).map_err(|e| error(py, e))?.abort_handle(),
        None => runtime().map_err(|e| error(py, e))?.spawn(task).abort_handle(),
    };
    pending.get().started(abort, on_loop);
    Ok(pending)
}

/// `outcome`, to be lifted (or turned into its exception) where the GIL is held.
fn lift_later<T: ToPy + Send + 'static>(outcome: Result<T, MendianError>) -> Lift {
    Box::new(move |py| outcome.map_err(|e| error(py, e)).and_then(|v| v.to_py(py)))
}

/// The runtime of the asyncio-form calls: a current-thread runtime driven by one thread of its
/// own, `mendian-asyncio`, which keeps a Python thread state for its whole life. A Tokio
/// worker would get a fresh thread state each time it resolves a future (CPython creates
/// one on entry and frees it on exit: a 16 KiB `mmap`/`munmap` pair, the `munmap` a TLB
/// shootdown across cores), which measured as the largest single cost of an asyncio call.
///
/// Started on first use, and again in a forked child (see `runtime::shared`).
fn runtime() -> Result<tokio::runtime::Handle, MendianError> {
    static HANDLE: std::sync::Mutex<Option<(Pid, tokio::runtime::Handle)>> = std::sync::Mutex::new(None);
    let mut slot = HANDLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    per_process(&mut slot, || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("mendian-asyncio".into())
            .spawn(move || Python::attach(|py| py.detach(|| rt.block_on(std::future::pending::<()>()))))
            .map_err(|e| e.to_string())?;
        Ok(handle)
    })
    .cloned()
    .map_err(|e: String| MendianError::Network { reason: format!("cannot start the I/O thread for asyncio calls: {e}") })
}

thread_local! {
    /// The event loop of the asyncio call being polled on this thread, if any.
    static CURRENT_LOOP: RefCell<Option<Arc<Py<PyAny>>>> = const { RefCell::new(None) };
    /// How many times an asyncio call was polled on this thread (see [`polls`]).
    static POLLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// When an asyncio call's last poll on this thread ended (see [`last_poll`]).
    static LAST_POLL: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
}

/// When an asyncio call's last poll on this thread ended: a call writes its request to its
/// connection in a poll.
pub(crate) fn last_poll() -> Option<std::time::Instant> {
    LAST_POLL.with(std::cell::Cell::get)
}

/// How many times an asyncio call was polled on this thread so far: a turn of the runtime that
/// leaves it unchanged moved no call.
pub(crate) fn polls() -> u64 {
    POLLS.with(std::cell::Cell::get)
}

/// A call's future that names its caller's event loop while it is polled, so an `async def`
/// callback written in Python (a token provider, a signer, a token store) runs on the loop
/// that awaits the call, as with UniFFI's own asyncio path.
struct OnLoop<F> {
    event_loop: Arc<Py<PyAny>>,
    call: Pin<Box<F>>,
}

impl<F: Future> Future for OnLoop<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        POLLS.with(|p| p.set(p.get().wrapping_add(1)));
        let previous = CURRENT_LOOP.with(|c| c.replace(Some(self.event_loop.clone())));
        let out = self.call.as_mut().poll(cx);
        CURRENT_LOOP.with(|c| *c.borrow_mut() = previous);
        LAST_POLL.with(|l| l.set(Some(std::time::Instant::now())));
        out
    }
}

/// The event loop of the asyncio-form call running on this thread (`None` elsewhere).
#[pyfunction]
pub fn current_loop(py: Python<'_>) -> Option<Py<PyAny>> {
    CURRENT_LOOP.with(|c| c.borrow().as_ref().map(|l| l.clone_ref(py)))
}
