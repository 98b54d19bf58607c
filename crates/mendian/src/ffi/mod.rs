//! The FFI surface: what Kotlin, Swift and Python can call.
//!
//! The per-endpoint methods of the three clients (`WxaClient::add_store`,
//! `TopClient::worker_update`, …) and the `validate_<endpoint>_request` functions are
//! generated into [`generated`], one file per family, each a one-line call into the
//! hand-written client's generic `call`. The records and enums they take and return are the
//! model's own (`crate::generated`), exported with UniFFI derives rather than copied into
//! wrapper types: copying would double the generated code and add a conversion to every
//! call without changing what crosses the boundary.

#[allow(missing_docs)]
pub mod generated;
