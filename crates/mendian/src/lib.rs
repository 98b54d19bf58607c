//! mendian: one Rust core for managing stores and service staff on WeChat Pay (支付即服务
//! smartguide), WeChat store mini-programs (门店小程序) and Tmall's service center (TOP
//! `tmall.servicecenter.worker.*`), exposed through UniFFI to Kotlin, Swift and Python.
//!
//! # How the crate is organised
//!
//! Layers that only point down:
//!
//! - [`ffi`]: the exported surface. `ffi::generated` holds one method per endpoint on each
//!   client and the `validate_<endpoint>_request` functions, generated from `spec/`; the
//!   hand-written `ffi::{catalog, top, wechatpay, wxa}` hold the other exported functions,
//!   constructors and methods, each a thin call into the modules below.
//! - [`wechatpay`], [`wxa`], [`top`]: what differs per platform (signing, trust, tokens,
//!   envelopes, push crypto). Each client implements [`runtime::Protocol`].
//! - [`runtime`]: the one call engine: [`ClientOptions`], failover, the retry policy and its
//!   backoff, the call deadline, the transport, encoders, error constructors, the clock.
//! - [`generated`]: the model written by `cargo xtask codegen` from `spec/*.toml`, one
//!   folder per family (types, requests, events, errors, descriptors). It imports nothing
//!   from the clients and is never edited by hand.
//! - [`schema`]: what the model is built from: descriptor types, validation rules, serde
//!   helpers for wire quirks.
//! - [`error`] holds [`MendianError`], the only error type that crosses the FFI;
//!   [`catalog`] exposes what the spec knows to every language; [`crypto`] the RSA/AES
//!   backends; `cli` (feature `cli`) is the `mendian` command line.
//!
//! A request field travels `spec/` → `generated/<family>/requests.rs` (record + checks) and
//! `descriptors.rs` (where it goes) → `ffi::generated` (the exported method) → the
//! platform client's `call` (validate, lay out) → [`runtime::Engine::execute`] (build,
//! send, read, classify, repeat).
//!
//! Every exported function returns `Result<_, MendianError>`: a Rust panic never reaches
//! Kotlin, Swift or Python as anything but a catchable error.

uniffi::setup_scaffolding!();

pub mod catalog;
#[cfg(feature = "cli")]
#[allow(clippy::result_large_err)]
pub mod cli;
pub mod crypto;
pub mod error;
pub mod ffi;
#[allow(missing_docs)]
pub mod generated;
#[cfg(feature = "python")]
pub mod python;
pub mod runtime;
pub mod schema;
pub mod secret;
pub mod top;
pub mod wechatpay;
pub mod wxa;

pub use error::{MendianError, Platform};
pub use ffi::catalog::mendian_version;
pub use runtime::transport;
pub use runtime::ClientOptions;
pub use runtime::TlsRoots;
pub use schema::{Request, Validate};

/// The Python wheel's allocator for the Rust side (feature `python`, which only the wheel
/// enables: a Rust program using this crate keeps its own). In a profile of blocking TOP
/// `worker_update` calls from Python, glibc's `malloc`, `free` and fast-bin consolidation took
/// about 8 % of the process's samples; with mimalloc the same calls measured about 3 % less CPU
/// (alternating runs, same machine).
#[cfg(feature = "python")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
