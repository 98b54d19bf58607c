//! The FFI surface: what Kotlin, Swift and Python can call. Every `#[uniffi::export]`d
//! function, constructor and method lives here; the core modules (`wechatpay`, `wxa`, `top`,
//! `catalog`, …) are plain Rust.
//!
//! - Generated ([`generated`], by `cargo xtask codegen`, never edited by hand): the
//!   per-endpoint methods of the three clients (`WxaClient::add_store`,
//!   `TopClient::worker_update`, …) and the `validate_<endpoint>_request` functions, one file
//!   per family, each a one-line call into the hand-written client's generic `call`.
//! - Hand-written, one file per area, each a thin call into the core: [`catalog`] (the SDK
//!   version and the spec catalog), `cli` (the command line, with the `cli` feature), [`log`] (the logger setter), [`top`] (the `TopClient` constructor, the app-secret
//!   signer), [`wechatpay`] (the `WechatpayClient` constructor, notification verification,
//!   the PEM signer) and [`wxa`] (the `WxaClient` constructor and token methods, the district
//!   tree, the token providers and store, the push receiver and push crypto), and
//!   [`thread_loop`] (what the Kotlin bindings' `runMendianLoop` waits in). The core
//!   modules re-export these functions under their old paths for Rust callers
//!   (`mendian::wxa::wxa_district_tree`, `mendian::top::top_app_secret_signer`, …).
//!
//! What stays in the core: the UniFFI derives on records, enums, objects and the error
//! (`#[derive(uniffi::Record)]`, …) and `#[uniffi::export(with_foreign)]` on the traits that
//! Kotlin, Swift and Python implement (`TopSigner`, `WechatpayMerchantSigner`,
//! `WxaTokenProvider`, `WxaTokenStore`): both are type-level markers that must sit on the
//! definition. The records and enums the methods take and return are the model's own
//! (`crate::generated`), exported with UniFFI derives rather than copied into wrapper types:
//! copying would double the generated code and add a conversion to every call without
//! changing what crosses the boundary.

pub mod catalog;
#[cfg(feature = "cli")]
pub mod cli;
#[allow(missing_docs)]
pub mod generated;
pub mod log;
pub mod thread_loop;
pub mod top;
pub mod wechatpay;
pub mod wxa;
