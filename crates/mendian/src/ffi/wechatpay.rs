//! Exports the hand-written part of the WeChat Pay surface: the [`WechatpayClient`]
//! constructor, [`WechatpayClient::verify_notification`] and [`wechatpay_pem_signer`]. Each
//! is a thin call into [`crate::wechatpay`], which re-exports `wechatpay_pem_signer` for Rust
//! callers. (The per-endpoint methods are in `ffi::generated::wechatpay`.)

// `MendianError` is the one error type that crosses the FFI; it is large by design.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::MendianError;
use crate::wechatpay::{
    PemMerchantSigner, WechatpayClient, WechatpayConfig, WechatpayMerchantSigner, WechatpayNotification,
    WechatpayPlatformCertificate,
};

impl WechatpayClient {
    /// Verifies and decrypts an APIv3 notification from its HTTP headers (any case) and raw
    /// body. Fails with `Signature` if it is not signed by WeChat Pay, `Credentials` if the
    /// APIv3 key is not configured.
    pub async fn verify_notification(
        &self,
        headers: HashMap<String, String>,
        body: String,
    ) -> Result<WechatpayNotification, MendianError> {
        self.notification(headers, body).await
    }

    /// Downloads the platform certificates now (`GET /v3/certificates`), verifies the
    /// list's signature, decrypts each certificate with the APIv3 key and returns them; the
    /// client also trusts them from then on. For apps that keep or pin the certificates (the
    /// client downloads and refreshes them on its own otherwise). Fails with `Credentials`
    /// without an APIv3 key, `Signature` when the list is not signed by one of the
    /// certificates it carries.
    pub async fn download_platform_certificates(&self) -> Result<Vec<WechatpayPlatformCertificate>, MendianError> {
        self.platform_certificates().await
    }
}

/// The async methods run on the SDK's shared runtime (see `runtime::shared`); Rust callers
/// await the methods above.
#[uniffi::export]
impl WechatpayClient {
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

    /// A client with this configuration and merchant signer (for example
    /// `wechatpay_pem_signer(pem)`, or your own keystore-backed signer).
    #[uniffi::constructor]
    pub fn new(config: WechatpayConfig, signer: Arc<dyn WechatpayMerchantSigner>) -> Result<Arc<Self>, MendianError> {
        WechatpayClient::create(config, signer)
    }

    /// Verifies and decrypts an APIv3 notification from its HTTP headers (any case) and raw
    /// body. Fails with `Signature` if it is not signed by WeChat Pay, `Credentials` if the
    /// APIv3 key is not configured.
    #[doc(hidden)]
    #[uniffi::method(name = "verify_notification")]
    pub async fn verify_notification_foreign(
        self: Arc<Self>,
        headers: HashMap<String, String>,
        body: String,
    ) -> Result<WechatpayNotification, MendianError> {
        crate::runtime::shared::run_call(async move { self.verify_notification(headers, body).await }).await
    }

    /// Downloads the platform certificates now (`GET /v3/certificates`), verifies the
    /// list's signature, decrypts each certificate with the APIv3 key and returns them; the
    /// client also trusts them from then on. For apps that keep or pin the certificates (the
    /// client downloads and refreshes them on its own otherwise). Fails with `Credentials`
    /// without an APIv3 key, `Signature` when the list is not signed by one of the
    /// certificates it carries.
    #[doc(hidden)]
    #[uniffi::method(name = "download_platform_certificates")]
    pub async fn download_platform_certificates_foreign(self: Arc<Self>) -> Result<Vec<WechatpayPlatformCertificate>, MendianError> {
        crate::runtime::shared::run_call(async move { self.download_platform_certificates().await }).await
    }

    /// Blocking form of [`Self::download_platform_certificates`].
    pub fn download_platform_certificates_blocking(&self) -> Result<Vec<WechatpayPlatformCertificate>, MendianError> {
        crate::runtime::blocking::run(self.download_platform_certificates())
    }

    /// Blocking form of [`Self::verify_notification`] (it may download platform
    /// certificates, so it can wait on the network).
    pub fn verify_notification_blocking(
        &self,
        headers: HashMap<String, String>,
        body: String,
    ) -> Result<WechatpayNotification, MendianError> {
        crate::runtime::blocking::run(self.verify_notification(headers, body))
    }
}

/// The built-in [`WechatpayMerchantSigner`] for a merchant private key PEM (PKCS#8 or
/// PKCS#1). On a phone, prefer a signer of your own backed by a keystore or your server.
#[uniffi::export]
pub fn wechatpay_pem_signer(private_key_pem: String) -> Result<Arc<dyn WechatpayMerchantSigner>, MendianError> {
    Ok(Arc::new(PemMerchantSigner::new(&private_key_pem)?))
}
