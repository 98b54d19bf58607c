//! The process's shared Tokio runtime (`mendian-io`, one worker) and what keeps the SDK usable
//! in a forked child.
//!
//! - The async methods exported to Kotlin, Swift and Python use it ([`run_call`]): the call is
//!   polled by the foreign side, on its thread, with this runtime as its context, so it signs,
//!   writes its request and reads its answer there, and this runtime's thread only watches the
//!   sockets and timers and wakes the call when its answer arrives (see [`super::pool`]).
//!   (A call a foreign event loop that waits in mendian asks for runs on the loop's thread's
//!   own runtime instead: see [`super::blocking::run_next_call_here`].)
//!   Dropping the foreign future (a cancelled coroutine or task) drops the call, which drops
//!   its connection. Rust callers await the client methods on their own runtime instead.
//! - Work that must outlive one call runs here too (the Redis store's connection tasks).
//!
//! A process that forks after using the SDK (Python's `multiprocessing` on Linux, gunicorn or
//! celery prefork) copies the runtimes and connection pools but none of their threads, and its
//! sockets and epoll instances are shared with the parent. So every runtime and pool is tagged
//! with the process that made it ([`Pid`]); in a child it is replaced by a fresh one at its
//! next use. The parent's is left alone (leaked, never dropped): dropping it would deregister
//! the parent's sockets from the epoll instance both processes share, or wait for threads
//! that do not exist in the child.
//!
//! The process id is a system call (`getpid`; glibc stopped caching it in 2.25), and a call
//! checks it several times. Where the host runs a hook in every child it forks, it says so
//! ([`fork_hook_installed`]) and the id is cached until the hook ([`forked`]) clears it: the
//! Python package registers one with `os.register_at_fork`, which `os.fork`, `multiprocessing`
//! and the servers that fork Python processes run. Elsewhere every check asks the kernel.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use super::blocking::KEPT_TIMER;
use crate::error::MendianError;

/// Worker threads of the shared runtime. One: with two, every task woken while a worker is busy
/// (the call, its connection's task) wakes the other worker to steal it, and the two trade
/// futex wake-ups on every call. Measured from a foreign-style caller (a thread that spawns the
/// call and parks until woken), one call at a time, 8 alternating rounds: one worker 87–120 µs
/// of CPU per `get_store_list`, two workers 122–162 µs, a current-thread runtime on a thread of
/// its own 127–180 µs. The calls' work is I/O and a little parsing; one thread carries
/// thousands of calls at once.
const WORKERS: usize = 1;

/// The process something was made in, to tell a forked child's copy from the parent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pid(u32);

/// Whether every forked child runs [`forked`] before anything else of the SDK.
static FORK_HOOKED: AtomicBool = AtomicBool::new(false);
/// This process's id once read while [`FORK_HOOKED`], 0 before.
static CACHED_PID: AtomicU32 = AtomicU32::new(0);

/// Says that the host runs [`forked`] in every child it forks, first thing: the process id is
/// cached from now on.
pub fn fork_hook_installed() {
    FORK_HOOKED.store(true, Ordering::SeqCst);
}

/// Run in a forked child, before any other use of the SDK: the child is another process.
pub fn forked() {
    CACHED_PID.store(0, Ordering::SeqCst);
}

impl Pid {
    /// This process.
    pub fn current() -> Pid {
        if !FORK_HOOKED.load(Ordering::Relaxed) {
            return Pid(std::process::id());
        }
        match CACHED_PID.load(Ordering::Relaxed) {
            0 => {
                let pid = std::process::id();
                CACHED_PID.store(pid, Ordering::Relaxed);
                Pid(pid)
            }
            pid => Pid(pid),
        }
    }

    /// Another process than this one: what a forked child sees of its parent's values.
    #[cfg(test)]
    pub(crate) fn of_another_process() -> Pid {
        Pid(Pid::current().0.wrapping_add(1))
    }

    /// Whether this is the current process (false in a child forked after it was taken).
    pub fn is_current(self) -> bool {
        self == Pid::current()
    }
}

/// `value` made in this process, or a new one from `make` when it was made in another (the
/// parent of a fork), in which case the old one is leaked, not dropped (see the module note).
pub fn per_process<T, E>(slot: &mut Option<(Pid, T)>, make: impl FnOnce() -> Result<T, E>) -> Result<&mut T, E> {
    let fresh = matches!(slot, Some((pid, _)) if pid.is_current());
    if !fresh {
        if let Some((_, inherited)) = slot.take() {
            std::mem::forget(inherited);
        }
        *slot = Some((Pid::current(), make()?));
    }
    Ok(&mut slot.as_mut().expect("just set").1)
}

/// The shared runtime, and whether its kept timer runs (see [`keep_a_timer`]).
struct Shared {
    rt: tokio::runtime::Runtime,
    ticking: Arc<AtomicBool>,
}

/// The shared runtime's handle and its kept timer's flag (started on first use, restarted
/// in a forked child).
fn shared() -> Result<(tokio::runtime::Handle, Arc<AtomicBool>), MendianError> {
    static RUNTIME: Mutex<Option<(Pid, Shared)>> = Mutex::new(None);
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    let shared = per_process(&mut slot, || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(WORKERS).thread_name("mendian-io").enable_all().build()?;
        Ok::<_, std::io::Error>(Shared { rt, ticking: Arc::default() })
    })
    .map_err(|e| MendianError::Network { reason: format!("cannot start the SDK's I/O runtime: {e}") })?;
    Ok((shared.rt.handle().clone(), shared.ticking.clone()))
}

/// The shared runtime's handle (started on first use, restarted in a forked child).
pub fn handle() -> Result<tokio::runtime::Handle, MendianError> {
    shared().map(|(handle, _)| handle)
}

/// Runs `call` as a foreign async call: polled where the foreign side polls it, inside the
/// shared runtime's context (its sockets and timers belong to that runtime, whose thread wakes
/// the call when one is ready). Dropping the returned future drops the call and closes its
/// connection. A call a foreign event loop asked for ([`super::blocking::run_next_call_here`])
/// runs on that loop's thread's runtime instead.
pub async fn run_call<T, F>(call: F) -> Result<T, MendianError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, MendianError>> + Send + 'static,
{
    if super::blocking::take_next_call_here() {
        return run_on_loop(call).await;
    }
    let (handle, ticking) = shared()?;
    keep_a_timer(&handle, &ticking);
    InContext { handle, call: Some(Box::pin(call)) }.await
}

/// `call` as a task of this thread's own runtime, which the foreign loop drives while it
/// waits in mendian; dropping the returned future aborts it. A panic in the call resumes here.
async fn run_on_loop<T, F>(call: F) -> Result<T, MendianError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, MendianError>> + Send + 'static,
{
    /// Aborts the task when the waiting side goes away.
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(super::blocking::spawn_here(call)?);
    match (&mut task.0).await {
        Ok(outcome) => outcome,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(MendianError::Network { reason: format!("the call's task ended early: {e}") }),
    }
}

/// A future polled, and dropped, inside a runtime's context.
struct InContext<F> {
    handle: tokio::runtime::Handle,
    call: Option<Pin<Box<F>>>,
}

impl<F: Future> Future for InContext<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _context = this.handle.enter();
        let Some(call) = this.call.as_mut() else { return Poll::Pending };
        let outcome = call.as_mut().poll(cx);
        if outcome.is_ready() {
            this.call = None;
        }
        outcome
    }
}

impl<F> Drop for InContext<F> {
    fn drop(&mut self) {
        let _context = self.handle.enter();
        self.call = None;
    }
}

/// How many rings with no new call before the kept timer stops: an idle app (a phone's) has
/// no thread waking for nothing.
const KEPT_TIMER_IDLE_RINGS: u32 = 4;

/// Calls started through [`run_call`], for the kept timer to see whether any came lately.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Keeps a timer set on the shared runtime while calls come: a call's timeout, set from the
/// foreign thread, is later than that timer, so Tokio does not wake the runtime's thread to
/// move its next wake-up earlier (a write to its wake-up descriptor and a thread switch per
/// call, when no timer is set). Stops after [`KEPT_TIMER_IDLE_RINGS`] rings with no call.
fn keep_a_timer(handle: &tokio::runtime::Handle, ticking: &Arc<AtomicBool>) {
    CALLS.fetch_add(1, Ordering::SeqCst);
    if ticking.swap(true, Ordering::SeqCst) {
        return;
    }
    let ticking = ticking.clone();
    handle.spawn(async move {
        let mut seen = CALLS.load(Ordering::SeqCst);
        let mut idle = 0;
        loop {
            tokio::time::sleep(KEPT_TIMER).await;
            let now = CALLS.load(Ordering::SeqCst);
            idle = if now == seen { idle + 1 } else { 0 };
            seen = now;
            if idle < KEPT_TIMER_IDLE_RINGS {
                continue;
            }
            ticking.store(false, Ordering::SeqCst);
            // A call that came meanwhile saw the timer still running: keep it for that one.
            if CALLS.load(Ordering::SeqCst) == seen || ticking.swap(true, Ordering::SeqCst) {
                return;
            }
            idle = 0;
        }
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_value_is_kept_in_its_process_and_replaced_in_another() {
        let mut slot = Some((Pid::current(), 1));
        assert_eq!(*per_process(&mut slot, || Ok::<_, ()>(2)).unwrap(), 1);
        // What a forked child sees: a value made by another process.
        let mut slot = Some((Pid(Pid::current().0.wrapping_add(1)), 1));
        assert_eq!(*per_process(&mut slot, || Ok::<_, ()>(2)).unwrap(), 2);
        assert_eq!(slot.unwrap().0, Pid::current());
        let mut empty: Option<(Pid, i32)> = None;
        assert_eq!(per_process(&mut empty, || Err::<i32, _>("no")), Err("no"));
    }

    #[test]
    fn a_foreign_call_runs_where_it_is_polled_in_the_shared_runtime_and_is_dropped_with_it() {
        let here = std::thread::current().id();
        let (thread, slept) = block_on_here(run_call(async {
            // A timer works: the shared runtime is the call's context.
            tokio::time::sleep(Duration::from_millis(1)).await;
            Ok((std::thread::current().id(), tokio::runtime::Handle::current().metrics().num_workers()))
        }))
        .unwrap();
        assert_eq!((thread, slept), (here, WORKERS));
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let (dropped_tx, dropped) = std::sync::mpsc::channel::<()>();
        struct Dropped(std::sync::mpsc::Sender<()>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let waiting = run_call(async move {
            let _flag = Dropped(dropped_tx);
            let _ = started_tx.send(());
            std::future::pending::<Result<(), MendianError>>().await
        });
        // Poll once (the call starts), then drop the waiting side.
        let mut waiting = Box::pin(waiting);
        assert!(waiting.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())).is_pending());
        started.recv_timeout(std::time::Duration::from_secs(5)).expect("the call started");
        drop(waiting);
        dropped.recv_timeout(std::time::Duration::from_secs(5)).expect("the call was dropped");
    }

    #[test]
    fn the_process_id_is_cached_only_under_a_fork_hook() {
        let id = std::process::id();
        assert_eq!(Pid::current(), Pid(id));
        fork_hook_installed();
        assert!(Pid(id).is_current());
        assert_eq!(CACHED_PID.load(Ordering::SeqCst), id, "cached once a hook clears it in children");
        forked();
        assert_eq!(CACHED_PID.load(Ordering::SeqCst), 0, "a child reads its own id");
        assert_eq!(Pid::current(), Pid(id));
        assert!(!Pid(id.wrapping_add(1)).is_current());
    }

    /// Drives a future on this thread without a Tokio runtime, as a foreign executor does.
    fn block_on_here<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let thread = std::thread::current();
        let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(thread)));
        let mut cx = std::task::Context::from_waker(&waker);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
}
