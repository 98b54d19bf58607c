//! Blocking calls: the generated `*_blocking` methods run the same future as the async
//! ones, entirely on the calling thread: each thread that makes blocking calls gets its own
//! current-thread Tokio runtime, and the HTTP transport gives it connections of its own
//! ([`on_caller_thread`]), so no call hops between threads. A blocking call honours the
//! client's timeouts and deadline exactly as the async form does, because it is the same
//! future. In a forked child a thread's runtime and connections are replaced at its next
//! blocking call (see [`super::shared`]). A thread's runtime also carries tasks started on it
//! ([`spawn_here`]), which run whenever the thread is inside [`run`]: the Python accelerator's
//! `mendian.new_event_loop()` runs its asyncio calls this way, and so does Kotlin's
//! `runMendianLoop`, call by call ([`run_next_call_here`]).

use std::cell::{Cell, RefCell};
use std::future::Future;

use super::shared::{per_process, Pid};
use crate::error::MendianError;

thread_local! {
    /// This thread's runtime for blocking calls, built on its first one (and again in a
    /// forked child).
    static CALLER: RefCell<Option<(Pid, Here)>> = const { RefCell::new(None) };
    /// Whether this thread is inside [`run`].
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
    /// Whether the next async call this thread starts runs on its own runtime (see
    /// [`run_next_call_here`]).
    static NEXT_CALL_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Asks that the next async call started on this thread (the next [`super::shared::run_call`],
/// which every exported async method makes when first polled) run on this thread's own runtime
/// ([`spawn_here`]) instead of the shared one. For a foreign event loop that waits in [`run`]
/// (Kotlin's `runMendianLoop`): it asks for each call a coroutine of the loop starts, so the call
/// progresses while the loop waits and wakes it, on this thread, when done. One call only: a
/// call nobody asked for (a `runBlocking` inside the loop, whose thread would not wait in
/// mendian) keeps the shared runtime.
pub fn run_next_call_here() {
    NEXT_CALL_HERE.with(|c| c.set(true));
}

/// Whether the async call being started was asked to run here ([`run_next_call_here`]); the
/// request is used up.
pub fn take_next_call_here() -> bool {
    NEXT_CALL_HERE.with(|c| c.replace(false))
}

/// Whether the current code runs inside a blocking call on its caller's thread: the transport
/// then uses this thread's own connections (a connection belongs to the runtime that opened
/// it, and this one runs only while its thread is in a call).
pub fn on_caller_thread() -> bool {
    IN_CALL.with(Cell::get)
}

/// A thread's runtime for blocking calls.
struct Here {
    rt: tokio::runtime::Runtime,
    /// The epoll descriptor of its I/O driver, once looked for.
    poll_fd: Option<Option<std::os::fd::RawFd>>,
    /// Whether [`keep_a_timer_here`] started its timer on this runtime.
    timer_kept: bool,
}

/// Runs `call` to completion on the calling thread.
///
/// Fails with `InvalidArgument` (nothing sent) when called from inside a Tokio runtime,
/// where blocking would stall the runtime's own thread: use the async method there.
pub fn run<T>(call: impl Future<Output = Result<T, MendianError>>) -> Result<T, MendianError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(MendianError::invalid(
            "blocking call",
            "made from inside a Tokio runtime, where it would block the runtime's thread: await the async method instead",
        ));
    }
    CALLER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rt = caller_runtime(&mut slot)?;
        IN_CALL.with(|c| c.set(true));
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                IN_CALL.with(|c| c.set(false));
            }
        }
        let _leave = Leave;
        rt.block_on(call)
    })
}

/// This thread's runtime, built on first use (and again in a forked child).
fn caller_runtime(slot: &mut Option<(Pid, Here)>) -> Result<&mut tokio::runtime::Runtime, MendianError> {
    here(slot).map(|h| &mut h.rt)
}

fn here(slot: &mut Option<(Pid, Here)>) -> Result<&mut Here, MendianError> {
    per_process(slot, || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok::<_, std::io::Error>(Here { rt, poll_fd: None, timer_kept: false })
    })
    .map_err(|e| MendianError::Network { reason: format!("cannot start the I/O runtime for blocking calls: {e}") })
}

/// The epoll descriptor of this thread's runtime (see [`super::poll_fd`]), which is readable
/// whenever a task started here ([`spawn_here`]) may progress: an event loop of this thread
/// that watches it and calls [`run_ready`] when it is readable runs those tasks without
/// waiting in [`run`]. Looked for once per runtime; `None` where it cannot be found (another
/// system; a runtime that cannot start).
#[cfg(unix)]
pub fn poll_fd_here() -> Option<std::os::fd::RawFd> {
    CALLER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let here = here(&mut slot).ok()?;
        *here.poll_fd.get_or_insert_with(|| super::poll_fd::of(&here.rt))
    })
}

/// How often the timer of [`keep_a_timer_here`] rings: well under any call's timeout.
pub(crate) const KEPT_TIMER: std::time::Duration = std::time::Duration::from_millis(500);

/// Keeps a timer set on this thread's runtime, for tasks started here that the thread's event
/// loop runs turn by turn ([`run_ready`]). A turn that finds no timer set leaves the runtime
/// with no next wake-up, and the next call's timeout, set in its first step, then writes to the
/// runtime's wake-up descriptor (Tokio does that for a timer earlier than the next wake-up):
/// one system call per call, and the loop's selector seeing the runtime's descriptor readable
/// for nothing. With a timer that rings every [`KEPT_TIMER`], the next wake-up is at most
/// that far, earlier than any call's timeout. The timer costs a step of a task every
/// [`KEPT_TIMER`] while the runtime turns, none while it does not; started once per runtime.
pub fn keep_a_timer_here() -> Result<(), MendianError> {
    let start = CALLER.with(|cell| {
        let mut slot = cell.borrow_mut();
        here(&mut slot).map(|h| !std::mem::replace(&mut h.timer_kept, true))
    })?;
    if start {
        spawn_here(async {
            loop {
                tokio::time::sleep(KEPT_TIMER).await;
            }
        })?;
    }
    Ok(())
}

/// Starts `task` on this thread's runtime, the one its blocking calls run on. The task makes
/// progress only while the thread is inside [`run`]: in a blocking call, or while an event loop
/// of this thread waits for its next event in `run` (the Python accelerator's selector). Its
/// exchanges use this thread's own connections, as a blocking call's do.
pub fn spawn_here<T, F>(task: F) -> Result<tokio::task::JoinHandle<T>, MendianError>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    if on_caller_thread() {
        // Inside `run` on this thread: the current runtime is this thread's own.
        return Ok(tokio::runtime::Handle::current().spawn(task));
    }
    CALLER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rt = caller_runtime(&mut slot)?;
        if tokio::runtime::Handle::try_current().is_ok() {
            return Ok(rt.spawn(task));
        }
        // Spawned from inside the runtime's own context, the task goes straight onto its queue.
        // From outside, Tokio also writes to the runtime's wake-up descriptor: a system call
        // per call, and one more turn of the next wait to read it back.
        Ok(rt.block_on(async { tokio::runtime::Handle::current().spawn(task) }))
    })
}

/// Starts `task` on this thread's runtime ([`spawn_here`]) and runs its first step right
/// away, with every task already queued: for an event loop that does not wait in [`run`], so
/// that the task's first step (sending its request) is not left for the loop's next turn.
/// Then the runtime looks at its sockets and runs what that woke: an answer that came in
/// while the request was being sent (the server preempted this thread to answer) is taken
/// here, not left to a look that would wake its task too late for this turn.
pub fn start_here<T, F>(task: F) -> Result<tokio::task::JoinHandle<T>, MendianError>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    if on_caller_thread() {
        return spawn_here(task);
    }
    run(async {
        let here = tokio::runtime::Handle::current();
        let handle = here.spawn(task);
        // A task queued behind it (the queue is first in, first out): once that one has run, so
        // has the task's first step. A `yield_now` would also turn the I/O driver first.
        let _ = here.spawn(async {}).await;
        tokio::task::yield_now().await;
        Ok(handle)
    })
}

/// Gives every task of this thread's runtime that can make progress a turn, without waiting:
/// the tasks already woken run (an aborted one is dropped, closing its connection), the
/// runtime looks at its sockets and timers, and the tasks that woke run.
pub fn run_ready() -> Result<(), MendianError> {
    run(async {
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_outside_a_runtime_and_refuses_inside_one() {
        assert_eq!(run(async { Ok(7) }).unwrap(), 7);
        let inner = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let refused = inner.block_on(async { run(async { Ok(1) }) });
        assert!(matches!(refused, Err(MendianError::InvalidArgument { ref field, .. }) if field == "blocking call"), "{refused:?}");
    }

    #[test]
    fn a_task_started_here_runs_only_inside_run_on_this_thread() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (abort_tx, aborted) = std::sync::mpsc::channel::<()>();
        struct Dropped(std::sync::mpsc::Sender<()>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let thread = std::thread::current().id();
        spawn_here(async move {
            let _ = tx.send((std::thread::current().id(), on_caller_thread()));
        })
        .unwrap();
        let forever = spawn_here(async move {
            let _flag = Dropped(abort_tx);
            std::future::pending::<()>().await
        })
        .unwrap();
        assert!(rx.try_recv().is_err(), "nothing runs outside `run`");
        run_ready().unwrap();
        assert_eq!(rx.try_recv().unwrap(), (thread, true), "ran here, with this thread's connections");
        assert!(aborted.try_recv().is_err());
        forever.abort();
        run_ready().unwrap();
        aborted.try_recv().expect("an aborted task is dropped at the next turn");
        // Started from inside `run`, on the same runtime.
        let inner = run(async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            spawn_here(async move {
                let _ = tx.send(7);
            })?;
            Ok(rx.await.unwrap())
        });
        assert_eq!(inner.unwrap(), 7);
    }

    /// A timer set by a task's step after a turn that found no timer writes to the runtime's
    /// wake-up descriptor; with [`keep_a_timer_here`] it does not.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_kept_timer_spares_each_new_timeout_a_wake_up_write() {
        // Write system calls made by this thread so far.
        fn writes() -> u64 {
            let io = std::fs::read_to_string("/proc/thread-self/io").unwrap();
            io.lines().find_map(|l| l.strip_prefix("syscw: ")).unwrap().trim().parse().unwrap()
        }
        let with_a_timeout = || {
            let task = spawn_here(async { tokio::time::sleep(std::time::Duration::from_secs(10)).await }).unwrap();
            let before = writes();
            run_ready().unwrap();
            let written = writes() - before;
            task.abort();
            run_ready().unwrap();
            written
        };
        run_ready().unwrap();
        assert_eq!(with_a_timeout(), 1, "no timer was set: the new one wakes the runtime");
        keep_a_timer_here().unwrap();
        run_ready().unwrap();
        assert_eq!(with_a_timeout(), 0);
        assert_eq!(with_a_timeout(), 0);
    }

    /// Names of this process's threads.
    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .map(|d| d.flatten().filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok()).map(|n| n.trim().to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_blocking_exchange_stays_on_the_callers_thread_and_reuses_its_connection() {
        use std::io::{BufRead, BufReader, Write};
        use std::time::Duration;

        use crate::runtime::transport::{HttpRequest, Transport};

        // A keep-alive HTTP server on loopback that counts the connections it accepts.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/ping", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut stream = stream;
                    loop {
                        let mut line = String::new();
                        // Read one request's head.
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        if stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let t = Transport::new(Duration::from_secs(5), "test").unwrap();
        let get = || HttpRequest { method: "GET", url: url.clone(), headers: Vec::new(), body: Vec::new() };
        for _ in 0..3 {
            let r = run(async {
                assert!(on_caller_thread());
                t.send(get()).await
            })
            .unwrap();
            assert_eq!((r.status, r.body.as_slice()), (200, b"ok".as_slice()));
        }
        assert!(!on_caller_thread(), "only inside a call");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "the thread's connection is kept and reused");
        // Each test runs in its own process under nextest: no I/O worker was started.
        assert!(!thread_names().iter().any(|n| n.starts_with("mendian-io")), "{:?}", thread_names());
        // A thread that made blocking calls ends cleanly: its runtime and its connections are
        // dropped with its thread-locals (a panic there would abort the process).
        let t = std::sync::Arc::new(t);
        for _ in 0..4 {
            let (t, get) = (t.clone(), get());
            std::thread::spawn(move || run(async { t.send(get).await }).map(|r| r.status)).join().unwrap().unwrap();
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 5, "each thread opened its own connection");
    }
}
