//! How a finished asyncio-form call reaches its event loop: the I/O thread queues the outcome
//! and writes one byte to a socket the loop watches (`loop.add_reader`, registered once per
//! loop by the package), without taking the GIL; the loop then drains the queue on its own
//! thread, lifting each answer and resolving its future. One wake-up serves every call that
//! finished meanwhile. Loops that cannot watch a socket (Windows' proactor loop) get `None`
//! from the package, and each of their calls is resolved through `call_soon_threadsafe`
//! instead ([`Finished`]), by the same code. A loop of `mendian.new_event_loop()` has a queue
//! without a socket: its calls run on its own thread, and its selector (`python::selector`)
//! waits for the queue itself.
//!
//! On Linux a standard loop's calls also run on the loop's own thread, with no I/O thread in
//! between ([`Waker::attach`]): the loop watches the epoll instance of its thread's runtime
//! (`runtime::poll_fd`), readable whenever one of the calls' sockets is, and gives the runtime
//! a turn when it is ([`Waker::drive`]); the calls that finish in that turn are resolved right
//! there, without the wake-up byte. The runtime's timers (a call's timeout, a retry's pause)
//! ring no descriptor, so while calls are in flight the loop also gives it a turn on a tick
//! ([`Waker::tick`]): [`TICK`] after a call last moved, twice as long after each tick that
//! found nothing to do, up to [`LONGEST_TICK`]. So a timer fires at most that much late, and
//! a call waiting 50 ms for a distant server costs three ticks, not ten. The tick is a
//! `timerfd` the loop watches like the other descriptors, armed from Rust: an asyncio timer
//! (`call_later`) would add a timer object per tick and the timer bookkeeping to every
//! iteration of the loop while one is pending.
//!
//! Calls finished in a callback the loop runs ([`Waker::drive`], [`Waker::tick`],
//! [`Waker::drain`], [`Finished`]) resume their tasks right there (`python::pending`).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use super::pending::Pending;

/// How to build a finished call's outcome, with the GIL: its answer or its exception.
pub(crate) type Lift = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send>;

/// A finished call: its future and its outcome.
pub(crate) struct Done {
    pub future: Py<Pending>,
    pub outcome: Lift,
}

/// One event loop's queue of finished calls and its wake-up socket.
#[pyclass(module = "mendian._accel", frozen)]
pub struct Waker(pub(crate) Arc<Shared>);

pub(crate) struct Shared {
    queue: Mutex<Vec<Done>>,
    wake: Wake,
    /// Where a standard loop runs its calls itself (set by [`Waker::attach`]).
    loop_thread: OnceLock<LoopThread>,
    /// Calls running on the loop's thread, for a standard loop (see [`Flight`]).
    in_flight: AtomicUsize,
    /// Whether a [`Waker::tick`] is scheduled.
    tick_pending: AtomicBool,
    /// The next tick's interval, in milliseconds.
    tick_ms: AtomicU64,
    /// The loop thread's count of call polls at the last tick (`call::polls`).
    polls_at_tick: AtomicU64,
    /// Whether a [`Waker::drive`] is scheduled (`call_soon`) for calls started meanwhile.
    drive_soon: AtomicBool,
}

/// How long a turn may run after its calls' last step before its last look may have taken an
/// answer that arrived meanwhile (a server on loopback answers in tens of microseconds; a
/// thread preempted by the server's as it sends resumes later than that). Such a turn gets
/// one more right away ([`again_if_slow`]), so the answer does not wait for the tick: in a
/// release build a call's first turn takes 15–30 µs after its request is handed over, and
/// about a fifth of them were preempted in one run, each answer then waiting 5 ms.
pub(crate) const SLOW_TURN: Duration = Duration::from_micros(30);

/// How soon after a call last moved a standard loop with calls in flight on its thread gives
/// their runtime a turn whatever happened, for its timers.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// The longest interval between two ticks: a call that has not moved for a while (a slow
/// server) gets ticks this far apart, and a timer of its fires at most this much late.
pub(crate) const LONGEST_TICK: Duration = Duration::from_millis(80);

/// The thread a standard loop runs its calls on, the descriptor it watches for them, and its
/// tick.
struct LoopThread {
    thread: ThreadId,
    fd: i32,
    tick: Ticker,
}

/// The tick of a standard loop: a `timerfd` the loop watches, armed for [`Waker::tick`].
struct Ticker(#[cfg(target_os = "linux")] std::fs::File);

impl Ticker {
    /// A disarmed timer (non-blocking, closed on `exec`).
    #[cfg(target_os = "linux")]
    fn new() -> std::io::Result<Self> {
        use rustix::time::{timerfd_create, TimerfdClockId, TimerfdFlags};
        let fd = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC)?;
        Ok(Self(std::fs::File::from(fd)))
    }

    #[cfg(not(target_os = "linux"))]
    fn new() -> std::io::Result<Self> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no timerfd here"))
    }

    #[cfg(target_os = "linux")]
    fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }

    #[cfg(not(target_os = "linux"))]
    fn fd(&self) -> i32 {
        -1
    }

    /// Rings once, `after` from now (replacing any earlier arming).
    fn arm(&self, after: Duration) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use rustix::time::{timerfd_settime, Itimerspec, TimerfdTimerFlags, Timespec};
            let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
            // A zero value would disarm it.
            let value = Timespec { tv_sec: after.as_secs() as _, tv_nsec: after.subsec_nanos().max(1) as _ };
            timerfd_settime(&self.0, TimerfdTimerFlags::empty(), &Itimerspec { it_interval: zero, it_value: value })?;
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = after;
            Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no timerfd here"))
        }
    }

    /// Takes the ring, so the loop sees the descriptor readable again only at the next one.
    fn take(&self) {
        #[cfg(target_os = "linux")]
        {
            use std::io::Read;
            let _ = (&self.0).read(&mut [0u8; 8]);
        }
    }
}

thread_local! {
    /// The queue whose loop is giving its runtime a turn on this thread ([`Waker::drive`]),
    /// by address: a call of that loop that finishes meanwhile needs no wake-up byte.
    static DRIVING: Cell<usize> = const { Cell::new(0) };
}

/// A call running on a standard loop's thread: counted while it lives (finished, or dropped
/// when aborted), so the loop's ticks stop when none is left.
struct Flight(Arc<Shared>);

impl Drop for Flight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
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
        Self::with(Wake::Selector(tokio::sync::Notify::new()))
    }

    fn with(wake: Wake) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            wake,
            loop_thread: OnceLock::new(),
            in_flight: AtomicUsize::new(0),
            tick_pending: AtomicBool::new(false),
            tick_ms: AtomicU64::new(TICK.as_millis() as u64),
            polls_at_tick: AtomicU64::new(0),
            drive_soon: AtomicBool::new(false),
        }
    }

    /// Whether a call started now runs on this thread, the loop's own: always under the
    /// selector of `mendian.new_event_loop()`; for a standard loop, when [`Waker::attach`]
    /// set it up on this very thread and its runtime is still the one watched (not replaced
    /// in a forked child). Elsewhere the call runs on the I/O thread.
    pub(crate) fn runs_on_loop(&self) -> bool {
        match &self.wake {
            Wake::Selector(_) => true,
            #[cfg(unix)]
            Wake::Socket { .. } => self.loop_thread.get().is_some_and(|t| {
                t.thread == std::thread::current().id() && crate::runtime::blocking::poll_fd_here() == Some(t.fd)
            }),
        }
    }

    /// Whether this is a standard loop's queue (with a wake-up socket), not the selector's of
    /// `mendian.new_event_loop()`.
    pub(crate) fn is_standard(&self) -> bool {
        !matches!(self.wake, Wake::Selector(_))
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
        // Inside its loop's turn on this thread the queue is resolved right after.
        if was_empty && DRIVING.with(Cell::get) != self as *const Self as usize {
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
            Ok(Self(Arc::new(Shared::with(Wake::Socket { read, write }))))
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

    /// Makes `event_loop` (a standard loop, running on this thread) watch this queue's socket,
    /// and, where it can (`on_loop_thread`, Linux), the epoll instance of this thread's
    /// runtime, so that its calls run on this thread (see the module note).
    #[pyo3(signature = (event_loop, on_loop_thread))]
    fn attach(slf: &Bound<'_, Self>, event_loop: &Bound<'_, PyAny>, on_loop_thread: bool) -> PyResult<()> {
        let py = slf.py();
        event_loop.call_method1(pyo3::intern!(py, "add_reader"), (slf.get().fileno(), slf.getattr("drain")?))?;
        #[cfg(unix)]
        if on_loop_thread {
            // A loop that will not watch both keeps its calls on the I/O thread.
            let watch = |fd: i32, name: &str| {
                slf.getattr(name)
                    .and_then(|f| event_loop.call_method1(pyo3::intern!(py, "add_reader"), (fd, f, event_loop)))
                    .is_ok()
            };
            let Some(fd) = crate::runtime::blocking::poll_fd_here() else { return Ok(()) };
            let Ok(tick) = Ticker::new() else { return Ok(()) };
            if !watch(tick.fd(), "tick") {
                return Ok(());
            }
            if !watch(fd, "drive") {
                let _ = event_loop.call_method1(pyo3::intern!(py, "remove_reader"), (tick.fd(),));
                return Ok(());
            }
            let _ = slf.get().0.loop_thread.set(LoopThread { thread: std::thread::current().id(), fd, tick });
            // Without it each call's first step would write to the runtime's wake-up descriptor.
            let _ = crate::runtime::blocking::keep_a_timer_here();
        }
        Ok(())
    }

    /// Run by a standard loop (`event_loop`) when its thread's runtime may have work: gives the
    /// calls running on this thread a turn, without waiting, and resolves those that finished.
    ///
    /// A turn ends with a look at the runtime's sockets, and the tasks that look wakes (an
    /// answer that arrived meanwhile) run only at the next turn, while the descriptor the loop
    /// watches no longer says so. So when the turn moved a call and calls are left, the loop is
    /// asked for one more turn soon (`call_soon`); the turn that moves none ends the chain.
    /// Without it, the last answers of an `asyncio.gather` waited for the next tick.
    ///
    /// The calls that finished resume their tasks right here (see `python::pending`); the
    /// calls those tasks start meanwhile have turns of their own, so the follow-up is decided
    /// before.
    fn drive(slf: &Bound<'_, Self>, event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
        let shared = &slf.get().0;
        shared.drive_soon.store(false, Ordering::Relaxed);
        let ((), turned) = turn(slf.py(), shared, crate::runtime::blocking::run_ready)?;
        let turned = again_if_slow(slf.py(), shared, turned)?;
        let resolved = resolve_all(slf.py(), shared.take(), true);
        if turned.moved {
            ask_drive(slf, event_loop)?;
        }
        resolved
    }

    /// Run by a standard loop when its tick rings, while calls run on its thread: a turn for their timers,
    /// then the next tick if any call is left, [`TICK`] later if a call moved since the last
    /// tick, else twice the last interval (at most [`LONGEST_TICK`]).
    fn tick(slf: &Bound<'_, Self>, event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
        let shared = &slf.get().0;
        if let Some(t) = shared.loop_thread.get() {
            t.tick.take();
        }
        shared.tick_pending.store(false, Ordering::Relaxed);
        let driven = Self::drive(slf, event_loop);
        let polls = super::call::polls();
        let moved = shared.polls_at_tick.swap(polls, Ordering::Relaxed) != polls;
        let last = shared.tick_ms.load(Ordering::Relaxed);
        let next = if moved { TICK.as_millis() as u64 } else { (last * 2).min(LONGEST_TICK.as_millis() as u64) };
        shared.tick_ms.store(next, Ordering::Relaxed);
        if shared.in_flight.load(Ordering::Relaxed) > 0 && !shared.tick_pending.swap(true, Ordering::Relaxed) {
            schedule_tick(shared)?;
        }
        driven
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
        resolve_all(py, self.0.take(), true)
    }
}

/// Starts `task` on this thread's runtime for the standard loop `event_loop` of `waker` (see
/// the module note), counted while it lives, with a tick scheduled if none is. Alone in flight,
/// it gets its first turn (its request is sent) right away; with other calls in flight (an
/// `asyncio.gather`), one turn soon (`call_soon`) serves every call started meanwhile.
pub(crate) fn start_on_loop_thread(
    waker: &Bound<'_, Waker>,
    event_loop: &Bound<'_, PyAny>,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) -> PyResult<tokio::task::AbortHandle> {
    let py = waker.py();
    let shared = &waker.get().0;
    let alone = shared.in_flight.fetch_add(1, Ordering::Relaxed) == 0;
    let flight = Flight(shared.clone());
    let task = async move {
        let _flight = flight;
        task.await
    };
    let abort = if alone {
        let (handle, turned) = turn(py, shared, || crate::runtime::blocking::start_here(task))?;
        // The answer may be in already (the thread was preempted right after sending, say).
        let again = again_if_slow(py, shared, Turned { moved: false, ..turned });
        // Inside a task's step: the calls finished meanwhile resume theirs through `call_soon`.
        let resolved = resolve_all(py, shared.take(), false);
        again.and(resolved).inspect_err(|_| handle.abort())?;
        handle.abort_handle()
    } else {
        let handle = crate::runtime::blocking::spawn_here(task).map_err(|e| super::call::error(py, e))?;
        ask_drive(waker, event_loop).inspect_err(|_| handle.abort())?;
        handle.abort_handle()
    };
    if !shared.tick_pending.swap(true, Ordering::Relaxed) {
        // A new chain of ticks starts short.
        shared.tick_ms.store(TICK.as_millis() as u64, Ordering::Relaxed);
        schedule_tick(shared).inspect_err(|_| {
            abort.abort();
            shared.tick_pending.store(false, Ordering::Relaxed);
        })?;
    }
    Ok(abort)
}

/// Runs `work` (a turn of this thread's runtime) for the standard loop of `shared`, the GIL
/// released; the calls that finish are left in its queue. Also says what the turn may have
/// left for the next one ([`Turned`]).
fn turn<R: Send>(
    py: Python<'_>,
    shared: &Arc<Shared>,
    work: impl FnOnce() -> Result<R, crate::error::MendianError> + Send,
) -> PyResult<(R, Turned)> {
    let polls = super::call::polls();
    let started = Instant::now();
    let before = DRIVING.with(|d| d.replace(Arc::as_ptr(shared) as usize));
    let turned = py.detach(work);
    DRIVING.with(|d| d.set(before));
    let turned = turned.map_err(|e| super::call::error(py, e))?;
    let ended = Instant::now();
    let moved = super::call::polls() != polls;
    // Since the turn started, or, if it moved a call, since that call last wrote something to
    // its connection.
    let since = if moved { super::call::last_poll().unwrap_or(started) } else { started };
    let left = shared.in_flight.load(Ordering::Relaxed) > 0;
    Ok((turned, Turned { moved: moved && left, slow: left && ended.saturating_duration_since(since) > SLOW_TURN }))
}

/// One more turn, right away, after a `slow` turn that did not move a call (see [`SLOW_TURN`]):
/// it runs what that turn's last look woke. Cheaper than a pass of the loop.
fn again_if_slow(py: Python<'_>, shared: &Arc<Shared>, turned: Turned) -> PyResult<Turned> {
    if turned.slow && !turned.moved {
        return Ok(turn(py, shared, crate::runtime::blocking::run_ready)?.1);
    }
    Ok(turned)
}

/// What a turn may have left for the next one (see [`Waker::drive`]), with calls left in flight.
#[derive(Clone, Copy)]
struct Turned {
    /// It moved a call: a task woken by its last look waits for the next turn.
    moved: bool,
    /// It ran long enough after its calls' last step (or from its start) for an answer to
    /// arrive meanwhile and be taken by its last look: the descriptor the loop watches will
    /// not say so.
    slow: bool,
}

/// Has `event_loop` call [`Waker::drive`] soon (`call_soon`), unless that is asked already.
fn ask_drive(waker: &Bound<'_, Waker>, event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = waker.py();
    let shared = &waker.get().0;
    if shared.drive_soon.swap(true, Ordering::Relaxed) {
        return Ok(());
    }
    event_loop
        .call_method1(pyo3::intern!(py, "call_soon"), (waker.getattr("drive")?, event_loop))
        .inspect_err(|_| shared.drive_soon.store(false, Ordering::Relaxed))?;
    Ok(())
}

/// Arms the loop's tick ([`Waker::tick`]) for the queue's current interval.
fn schedule_tick(shared: &Shared) -> PyResult<()> {
    let after = Duration::from_millis(shared.tick_ms.load(Ordering::Relaxed));
    match shared.loop_thread.get() {
        Some(t) => t.tick.arm(after).map_err(PyErr::from),
        None => Ok(()),
    }
}

/// Resolves every call of `done`, even if one fails to be; the first failure is raised after
/// (the loop reports it), never left to strand the calls behind it. `eager`: the caller is a
/// callback the loop runs, not a task's step, so the tasks awaiting these calls resume right
/// here (see `python::pending`).
pub(crate) fn resolve_all(py: Python<'_>, done: Vec<Done>, eager: bool) -> PyResult<()> {
    let mut first_error = None;
    for d in done {
        if let Err(e) = resolve(py, d, eager) {
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
            Some(done) => resolve(py, done, true),
            None => Ok(()),
        }
    }
}

/// Sets the outcome of one finished call on its future, unless the future is done (cancelled).
fn resolve(py: Python<'_>, d: Done, eager: bool) -> PyResult<()> {
    let future = d.future.bind(py);
    if future.get().is_done() {
        return Ok(());
    }
    Pending::finish(future, (d.outcome)(py), eager)
}
