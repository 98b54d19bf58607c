//! Exports the hand-written part of the TOP surface: the [`TopClient`] constructor and
//! [`top_app_secret_signer`]. Each is a thin call into [`crate::top`], which re-exports
//! `top_app_secret_signer` for Rust callers. (The per-endpoint methods are in
//! `ffi::generated::top`.)

// `MendianError` is the one error type that crosses the FFI; it is large by design.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use crate::error::MendianError;
use crate::top::{TopAppSecretSigner, TopClient, TopConfig, TopSigner};

#[uniffi::export]
impl TopClient {
    /// This client with `timeout_ms` per HTTP exchange instead of the configured one, for
    /// the calls made through it (`client.with_timeout(500).get_store_list(…)`). It shares
    /// everything else with this client: credentials, caches, the connection pool. Fails with
    /// `InvalidArgument` for 0.
    pub fn with_timeout(&self, timeout_ms: u64) -> Result<Arc<Self>, MendianError> {
        if timeout_ms == 0 {
            return Err(MendianError::invalid("timeout_ms", "must be at least 1 ms"));
        }
        Ok(self.timed(std::time::Duration::from_millis(timeout_ms)))
    }

    /// A client with this configuration and signer (for example a `TopAppSecretSigner`, or
    /// your own signer that asks your server).
    #[uniffi::constructor]
    pub fn new(config: TopConfig, signer: Arc<dyn TopSigner>) -> Result<Arc<Self>, MendianError> {
        TopClient::create(config, signer)
    }
}

/// The built-in [`TopSigner`] for an app secret held by this process. Prefer a signer of
/// your own on a phone, so the secret stays on your server. Fails if the secret is empty.
#[uniffi::export]
pub fn top_app_secret_signer(app_secret: String) -> Result<Arc<dyn TopSigner>, MendianError> {
    Ok(TopAppSecretSigner::new(app_secret)?)
}
