//! `ThreadLoop`: what a foreign single-threaded event loop needs to run mendian's async calls on
//! its own thread (the Kotlin bindings' `runMendianLoop` is built on it). While the loop's
//! thread has nothing to run it waits here, inside mendian, and that wait drives the calls the
//! thread started: they are sent, read and decoded on this thread, and their completion
//! resumes the waiting coroutine from this thread too (see `runtime::blocking::mark_loop`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;

use crate::error::MendianError;
use crate::runtime::blocking;

/// The waits of a foreign event loop that owns one thread (the Kotlin bindings'
/// `runMendianLoop` uses it; applications do not need it directly). Made on the loop's thread,
/// it marks that thread until [`ThreadLoop::end`]: the async calls the thread starts meanwhile
/// run on the thread itself, whenever the loop waits in [`ThreadLoop::wait_for_work`].
#[derive(Debug, uniffi::Object)]
pub struct ThreadLoop {
    owner: ThreadId,
    running: Arc<AtomicBool>,
    wake: tokio::sync::Notify,
}

#[uniffi::export]
impl ThreadLoop {
    /// Marks the calling thread as this loop's thread (loops may nest; the innermost counts).
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(ThreadLoop {
            owner: std::thread::current().id(),
            running: blocking::mark_loop(),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// Runs the thread's calls until [`ThreadLoop::wake`] is called: from another thread, or
    /// from code the calls resume on this thread (a finished call's continuation). Returns at
    /// once if `wake` was called since the last wait. Fails with `InvalidArgument` on another
    /// thread than the loop's, after [`ThreadLoop::end`], or from inside a Tokio runtime.
    pub fn wait_for_work(&self) -> Result<(), MendianError> {
        self.check_owner("wait_for_work")?;
        if !self.running.load(Ordering::Acquire) {
            return Err(MendianError::invalid("ThreadLoop", "wait_for_work after end: the loop has ended"));
        }
        blocking::run(async {
            self.wake.notified().await;
            Ok(())
        })
    }

    /// Ends the current or next [`ThreadLoop::wait_for_work`]; callable from any thread.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Unmarks the thread (an enclosing loop, if any, counts again) and gives the calls of the
    /// thread one turn, so that a call cancelled at the end is dropped, with its connection, at
    /// once. Calls still running stay on the thread's runtime: they progress whenever the
    /// thread next waits in mendian (a blocking call, another loop). Ending twice does nothing
    /// more; fails with `InvalidArgument` on another thread than the loop's.
    pub fn end(&self) -> Result<(), MendianError> {
        self.check_owner("end")?;
        if self.running.swap(false, Ordering::AcqRel) && tokio::runtime::Handle::try_current().is_err() {
            blocking::run_ready()?;
        }
        Ok(())
    }
}

impl ThreadLoop {
    fn check_owner(&self, what: &str) -> Result<(), MendianError> {
        if std::thread::current().id() != self.owner {
            return Err(MendianError::invalid(
                "ThreadLoop",
                format!("{what} called on another thread than the one that made the loop"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    #[test]
    fn calls_started_on_the_loop_thread_run_there_while_it_waits() {
        let lp = ThreadLoop::new();
        assert!(blocking::runs_loop());
        let here = std::thread::current().id();
        // What an exported async method does: spawn through the shared runtime's entry point.
        let call = crate::runtime::shared::spawn(async move { Ok(std::thread::current().id()) });
        let mut call = Box::pin(call);
        let woke = Arc::new(Woken(std::sync::atomic::AtomicUsize::new(0), lp.clone()));
        let waker = std::task::Waker::from(woke.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(call.as_mut().poll(&mut cx).is_pending(), "nothing runs before the loop waits");
        lp.wait_for_work().unwrap();
        assert_eq!(woke.0.load(Ordering::SeqCst), 1, "the finished call woke its waiter once");
        match call.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(Ok(id)) => assert_eq!(id, here, "ran on the loop's thread"),
            other => panic!("{other:?}"),
        }
        lp.end().unwrap();
        lp.end().unwrap();
        assert!(!blocking::runs_loop());
        assert!(lp.wait_for_work().is_err(), "no wait after end");
    }

    #[test]
    fn a_wake_from_another_thread_ends_the_wait_and_other_threads_are_refused() {
        let lp = ThreadLoop::new();
        let other = lp.clone();
        let refused = std::thread::spawn(move || {
            let r = (other.wait_for_work(), other.end());
            other.wake();
            r
        })
        .join()
        .unwrap();
        assert!(matches!(refused.0, Err(MendianError::InvalidArgument { .. })));
        assert!(matches!(refused.1, Err(MendianError::InvalidArgument { .. })));
        lp.wait_for_work().unwrap();
        // Not a loop thread any more once the loop is dropped, even without `end`.
        drop(lp);
        assert!(!blocking::runs_loop());
        let other_thread = std::thread::spawn(blocking::runs_loop).join().unwrap();
        assert!(!other_thread);
    }

    #[test]
    fn loops_nest() {
        let outer = ThreadLoop::new();
        let inner = ThreadLoop::new();
        inner.end().unwrap();
        assert!(blocking::runs_loop(), "the enclosing loop counts again");
        outer.end().unwrap();
        assert!(!blocking::runs_loop());
    }

    /// Counts wakes and ends the loop's wait, as the Kotlin continuation does.
    struct Woken(std::sync::atomic::AtomicUsize, Arc<ThreadLoop>);
    impl std::task::Wake for Woken {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.wake();
        }
    }
}
