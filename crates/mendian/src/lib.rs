//! mendian: one Rust core for managing stores and service staff on WeChat Pay (支付即服务
//! smartguide), WeChat store mini-programs (门店小程序) and Tmall's service center (TOP
//! `tmall.servicecenter.worker.*`), exposed through UniFFI to Kotlin, Swift and Python.
//!
//! # How the crate is organised
//!
//! - [`generated`] is written by `cargo xtask codegen` from `spec/*.toml`: every request and
//!   response record, enum, validation rule, endpoint descriptor and error table. It is never
//!   edited by hand.
//! - [`spec`] is the hand-written support the generated code calls: descriptor types,
//!   validation rules, serde helpers for wire quirks.
//! - [`error`] holds [`MendianError`], the only error type that crosses the FFI.
//! - [`catalog`] exposes what the spec knows (endpoints, error meanings) to every language.
//!
//! Every exported function returns `Result<_, MendianError>`: a Rust panic never reaches
//! Kotlin, Swift or Python as anything but a catchable error.

uniffi::setup_scaffolding!();

pub mod catalog;
pub mod crypto;
pub mod error;
pub mod ffi;
#[allow(missing_docs)]
pub mod generated;
pub mod runtime;
pub mod schema;
pub mod top;
pub mod wechatpay;
pub mod wxa;

pub use error::{MendianError, Platform};
pub use runtime::transport;
pub use runtime::ClientOptions;
pub use schema::{Request, Validate};

/// The SDK version, as sent in `User-Agent` headers (`mendian/<version>`).
#[uniffi::export]
pub fn mendian_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
