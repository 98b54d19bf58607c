//! How a finished asyncio-form call reaches its event loop: the I/O thread queues the outcome
//! and writes one byte to a socket the loop watches (`loop.add_reader`, registered once per
//! loop by the package), without taking the GIL; the loop then drains the queue on its own
//! thread, lifting each answer and resolving its future. One wake-up serves every call that
//! finished meanwhile. Loops that cannot watch a socket (Windows' proactor loop) get `None`
//! from the package, and each of their calls is resolved through `call_soon_threadsafe`
//! instead ([`Finished`]), by the same code.

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
    #[cfg(unix)]
    read: std::os::unix::net::UnixStream,
    #[cfg(unix)]
    write: std::os::unix::net::UnixStream,
}

impl Shared {
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

    #[cfg(unix)]
    fn wake(&self) {
        use std::io::Write;
        // A full socket already holds a wake-up.
        let _ = (&self.write).write(&[1]);
    }

    #[cfg(not(unix))]
    fn wake(&self) {}
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
            Ok(Self(Arc::new(Shared { queue: Mutex::new(Vec::new()), read, write })))
        }
        #[cfg(not(unix))]
        {
            Err(pyo3::exceptions::PyNotImplementedError::new_err("no wake-up socket on this platform"))
        }
    }

    /// The descriptor the loop watches for reading.
    fn fileno(&self) -> i64 {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            i64::from(self.0.read.as_raw_fd())
        }
        #[cfg(not(unix))]
        {
            -1
        }
    }

    /// Run by the loop when the socket is readable: resolves every queued call whose future is
    /// not done (a cancelled one is skipped).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        #[cfg(unix)]
        {
            use std::io::Read;
            // One read: a wake-up is written only when the queue was empty, so there is
            // rarely more than a byte; anything left keeps the socket readable for later.
            let mut buf = [0u8; 256];
            let _ = (&self.0.read).read(&mut buf);
        }
        let done = std::mem::take(&mut *self.0.queue.lock().unwrap_or_else(|p| p.into_inner()));
        // Every call is resolved even if one fails to be; the first failure is raised after
        // (the loop reports it), never left to strand the calls behind it.
        let mut first_error = None;
        for d in done {
            if let Err(e) = resolve(py, d) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
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
