//! `ThreadLoop`: what a foreign single-threaded event loop needs to run mendian's async calls on
//! its own thread (the Kotlin bindings' `runMendianLoop` is built on it). The loop asks, call by
//! call, that a call its coroutines start run on its thread; while it has nothing to run it
//! waits here, inside mendian, and that wait drives those calls: they are sent, read and decoded
//! on the loop's thread, and their completion resumes the waiting coroutine from that thread too
//! (see `runtime::blocking::run_next_call_here`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;

use crate::error::MendianError;
use crate::runtime::blocking;

/// The waits of a foreign event loop that owns one thread (the Kotlin bindings'
/// `runMendianLoop` uses it; applications do not need it directly). The thread that makes it
/// is the loop's thread: calls it asks for ([`ThreadLoop::run_next_call_here`]) run there,
/// whenever the loop waits in [`ThreadLoop::wait_for_work`].
#[derive(Debug, uniffi::Object)]
pub struct ThreadLoop {
    owner: ThreadId,
    running: AtomicBool,
    wake: tokio::sync::Notify,
}

#[uniffi::export]
impl ThreadLoop {
    /// A loop on the calling thread.
    #[uniffi::constructor]
    pub fn new() -> Self {
        ThreadLoop { owner: std::thread::current().id(), running: AtomicBool::new(true), wake: tokio::sync::Notify::new() }
    }

    /// Runs the next async call this thread starts (the next exported async method it polls)
    /// on this thread, driven by the loop's waits, instead of on the SDK's shared runtime. The
    /// loop asks this for each call one of its coroutines makes; any other call on the thread
    /// (made by a `runBlocking` inside the loop, which would not wait in mendian) keeps the
    /// shared runtime. Does nothing on another thread than the loop's, or after
    /// [`ThreadLoop::end`].
    pub fn run_next_call_here(&self) {
        if std::thread::current().id() == self.owner && self.running.load(Ordering::Acquire) {
            blocking::run_next_call_here();
        }
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

    /// Ends the loop and gives the calls of the thread one turn, so that a call cancelled at
    /// the end is dropped, with its connection, at once. Calls still running stay on the
    /// thread's runtime: they progress whenever the thread next waits in mendian (a blocking
    /// call, another loop). Ending twice does nothing more; fails with `InvalidArgument` on
    /// another thread than the loop's.
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
    use std::sync::Arc;

    use super::*;

    /// What an exported async method does when first polled: go through the shared runtime's
    /// entry point. The call yields once, then names its thread and its runtime's flavor.
    /// Returns the pinned call, pending, and its wake counter.
    fn start_call(
        lp: &Arc<ThreadLoop>,
    ) -> (std::pin::Pin<Box<impl Future<Output = Result<String, MendianError>>>>, Arc<Woken>) {
        let call = crate::runtime::shared::run_call(async move {
            tokio::task::yield_now().await;
            let flavor = tokio::runtime::Handle::current().runtime_flavor();
            Ok(format!("{}/{flavor:?}", std::thread::current().name().unwrap_or("unnamed")))
        });
        let mut call = Box::pin(call);
        let woke = Arc::new(Woken(std::sync::atomic::AtomicUsize::new(0), lp.clone()));
        let waker = std::task::Waker::from(woke.clone());
        assert!(call.as_mut().poll(&mut std::task::Context::from_waker(&waker)).is_pending());
        (call, woke)
    }

    fn finish(call: &mut std::pin::Pin<Box<impl Future<Output = Result<String, MendianError>>>>) -> String {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match call.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(Ok(name)) => name,
            other => panic!("{:?}", other.map(|r| r.map(|_| ()))),
        }
    }

    #[test]
    fn a_call_the_loop_asks_for_runs_on_its_thread_while_it_waits() {
        std::thread::Builder::new()
            .name("the-loop".into())
            .spawn(|| {
                let lp = Arc::new(ThreadLoop::new());
                lp.run_next_call_here();
                let (mut call, woke) = start_call(&lp);
                lp.wait_for_work().unwrap();
                assert_eq!(woke.0.load(Ordering::SeqCst), 1, "the finished call woke its waiter once");
                assert_eq!(finish(&mut call), "the-loop/CurrentThread", "ran on the loop's thread, on its runtime");

                // Not asked for (a `runBlocking` inside the loop): where it is polled, in the
                // shared runtime's context, as usual.
                let (mut other, woke) = start_call(&lp);
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while woke.0.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                assert_eq!(finish(&mut other), "the-loop/MultiThread", "a call nobody asked for");
                lp.end().unwrap();
                lp.end().unwrap();
                assert!(lp.wait_for_work().is_err(), "no wait after end");
                lp.run_next_call_here();
                assert!(!blocking::take_next_call_here(), "nothing is asked for after end");
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn a_wake_from_another_thread_ends_the_wait_and_other_threads_are_refused() {
        let lp = Arc::new(ThreadLoop::new());
        let other = lp.clone();
        let (refused, asked) = std::thread::spawn(move || {
            let r = (other.wait_for_work(), other.end());
            other.run_next_call_here();
            let asked = blocking::take_next_call_here();
            other.wake();
            (r, asked)
        })
        .join()
        .unwrap();
        assert!(matches!(refused.0, Err(MendianError::InvalidArgument { .. })));
        assert!(matches!(refused.1, Err(MendianError::InvalidArgument { .. })));
        assert!(!asked, "another thread cannot ask for its calls to run on the loop");
        lp.wait_for_work().unwrap();
        lp.end().unwrap();
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
