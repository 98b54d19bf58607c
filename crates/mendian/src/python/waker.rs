//! How a finished asyncio-form call reaches its event loop: the I/O thread queues the outcome
//! and writes one byte to a socket the loop watches (`loop.add_reader`, registered once per
//! loop by the package), without taking the GIL; the loop then drains the queue on its own
//! thread, lifting each answer and resolving its future. One wake-up serves every call that
//! finished meanwhile. Loops that cannot watch a socket (Windows' proactor loop) get `None`
//! from the package, and each of their calls is resolved through `call_soon_threadsafe`
//! instead ([`Finished`]), by the same code. A loop of `mendian.new_event_loop()` has a queue
//! without a socket: its calls run on its own thread, and its selector (`python::selector`)
//! waits for the queue itself.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

/// How to build a finished call's outcome, with the GIL: its answer or its exception.
pub(crate) type Lift = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send>;

/// A finished call: its future and its outcome.
pub(crate) struct Done {
    pub future: Py<PyAny>,
    pub outcome: Lift,
}

/// One event loop's queue of finished calls and its wake-up socket.
#[pyclass(module = "mendian._accel", frozen)]
pub struct Waker(pub(crate) Arc<Shared>);

pub(crate) struct Shared {
    queue: Mutex<Vec<Done>>,
    wake: Wake,
}

/// How the loop learns that a call finished.
enum Wake {
    /// A byte on a socket pair the loop watches.
    #[cfg(unix)]
    Socket { read: std::os::unix::net::UnixStream, write: std::os::unix::net::UnixStream },
    /// The loop's selector waits for this itself, on the loop's thread, where the calls run.
    Selector(tokio::sync::Notify),
}

impl Shared {
    /// A queue for the selector of `mendian.new_event_loop()`.
    pub(crate) fn for_selector() -> Self {
        Self { queue: Mutex::new(Vec::new()), wake: Wake::Selector(tokio::sync::Notify::new()) }
    }

    /// Whether this loop's calls run on the loop's own thread (its selector drives them).
    pub(crate) fn runs_on_loop(&self) -> bool {
        matches!(self.wake, Wake::Selector(_))
    }

    /// What the selector of `mendian.new_event_loop()` waits on (`None` for a socket queue).
    pub(crate) fn notify(&self) -> Option<&tokio::sync::Notify> {
        match &self.wake {
            Wake::Selector(n) => Some(n),
            #[cfg(unix)]
            Wake::Socket { .. } => None,
        }
    }

    /// Takes every queued call.
    pub(crate) fn take(&self) -> Vec<Done> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Queues `done` and wakes the loop unless a wake-up is already pending.
    pub(crate) fn push(&self, done: Done) {
        let was_empty = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let empty = q.is_empty();
            q.push(done);
            empty
        };
        if was_empty {
            self.wake();
        }
    }

    fn wake(&self) {
        match &self.wake {
            #[cfg(unix)]
            Wake::Socket { write, .. } => {
                use std::io::Write;
                // A full socket already holds a wake-up.
                let _ = (&*write).write(&[1]);
            }
            Wake::Selector(n) => n.notify_one(),
        }
    }
}

#[pymethods]
impl Waker {
    /// A new queue with its socket pair (non-blocking).
    #[new]
    fn new() -> PyResult<Self> {
        #[cfg(unix)]
        {
            let (read, write) = std::os::unix::net::UnixStream::pair()?;
            read.set_nonblocking(true)?;
            write.set_nonblocking(true)?;
            Ok(Self(Arc::new(Shared { queue: Mutex::new(Vec::new()), wake: Wake::Socket { read, write } })))
        }
        #[cfg(not(unix))]
        {
            Err(pyo3::exceptions::PyNotImplementedError::new_err("no wake-up socket on this platform"))
        }
    }

    /// The descriptor the loop watches for reading.
    fn fileno(&self) -> i64 {
        match &self.0.wake {
            #[cfg(unix)]
            Wake::Socket { read, .. } => {
                use std::os::fd::AsRawFd;
                i64::from(read.as_raw_fd())
            }
            Wake::Selector(_) => -1,
        }
    }

    /// Run by the loop when the socket is readable: resolves every queued call whose future is
    /// not done (a cancelled one is skipped).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        #[cfg(unix)]
        if let Wake::Socket { read, .. } = &self.0.wake {
            use std::io::Read;
            // One read: a wake-up is written only when the queue was empty, so there is
            // rarely more than a byte; anything left keeps the socket readable for later.
            let mut buf = [0u8; 256];
            let _ = (&*read).read(&mut buf);
        }
        resolve_all(py, self.0.take())
    }
}

/// Resolves every call of `done`, even if one fails to be; the first failure is raised after
/// (the loop reports it), never left to strand the calls behind it.
pub(crate) fn resolve_all(py: Python<'_>, done: Vec<Done>) -> PyResult<()> {
    let mut first_error = None;
    for d in done {
        if let Err(e) = resolve(py, d) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// One finished call of a loop without a waker: `loop.call_soon_threadsafe(finished)` resolves
/// it on the loop's thread, as `drain` would.
#[pyclass(module = "mendian._accel")]
pub struct Finished(Mutex<Option<Done>>);

impl Finished {
    pub(crate) fn new(done: Done) -> Self {
        Self(Mutex::new(Some(done)))
    }
}

#[pymethods]
impl Finished {
    /// Resolves the call (once).
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(done) => resolve(py, done),
            None => Ok(()),
        }
    }
}

/// Sets the outcome of one finished call on its future, unless the future is done (cancelled).
fn resolve(py: Python<'_>, d: Done) -> PyResult<()> {
    let future = d.future.bind(py);
    if future.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    match (d.outcome)(py) {
        Ok(v) => future.call_method1(pyo3::intern!(py, "set_result"), (v,))?,
        Err(e) => future.call_method1(pyo3::intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
}
