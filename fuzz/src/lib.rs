//! The fuzz targets of mendian: one function per parser family that reads bytes from outside
//! (a push to the merchant's server, an API answer, a key or certificate file, a WeChat Pay
//! notification). Each takes the raw fuzz input, drives mendian's public API with it and
//! checks what must hold whatever the input (a round trip, a signature that cannot be forged,
//! a decrypted text equal to what was encrypted); a broken property panics, like a crash.
//!
//! The AFL++ binaries in `src/bin/` call these functions (`cargo xtask fuzz`), and
//! `tests/corpus.rs` replays every file under `corpus/<target>/` through them as an ordinary
//! test, so seeds and fixed crashes stay fixed without any instrumentation.
//!
//! Inputs are bytes; where a target needs more than one value, [`input`] splits them (a
//! selector byte, then lines), so seeds stay readable text.

mod answers;
mod block_on;
mod fixtures;
pub mod input;
mod keys;
mod notification;
mod wxa_push;

pub use answers::{top_answer, wechatpay_answer, wxa_answer};
pub use keys::{der, pem};
pub use notification::wechatpay_notification;
pub use wxa_push::{wxa_push_decrypt, wxa_push_xml};

/// What a harness made of an input: whether mendian accepted it (the success path ran to the
/// end) or refused it with an error. Either is fine for the fuzzer; the corpus test uses it to
/// check that the seeds reach the success path of every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// mendian parsed, verified or decrypted the input.
    Accepted,
    /// mendian returned an error for it.
    Rejected,
}

impl Outcome {
    fn of<T, E>(r: &Result<T, E>) -> Outcome {
        if r.is_ok() {
            Outcome::Accepted
        } else {
            Outcome::Rejected
        }
    }
}

/// A fuzz target: its name (the binary, and the folder under `corpus/`) and its harness.
pub type Target = (&'static str, fn(&[u8]) -> Outcome);

/// Every fuzz target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    ("wxa_push_xml", wxa_push_xml),
    ("wxa_push_decrypt", wxa_push_decrypt),
    ("wechatpay_answer", wechatpay_answer),
    ("wechatpay_notification", wechatpay_notification),
    ("wxa_answer", wxa_answer),
    ("top_answer", top_answer),
    ("der", der),
    ("pem", pem),
];
