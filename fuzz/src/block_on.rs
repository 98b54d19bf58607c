//! Running mendian's async verification to completion on the fuzzing thread. The calls the
//! harnesses make never wait on I/O (the fixtures avoid every path that downloads
//! certificates), so one poll finishes them; a call that does wait is a harness bug and
//! panics, rather than silently fuzzing nothing.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The output of `f`, which must complete without waiting.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("harness bug: the call waited on I/O (a fixture reached the network)"),
    }
}
